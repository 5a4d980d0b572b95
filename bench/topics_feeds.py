"""The immigration-policy tag on real feed headlines: a general news stream, not political news only.

Reads the items of the real news feeds in ../shared/fixtures/feeds/real-news (737 items of 14
feeds, 2025-2026, mostly world news) with the poller's own parser, and tags each from its title
and the first sentence of its summary, as a feed item whose page cannot be fetched is tagged.
Gold: tests/data/feed_headline_labels.json (hand labels keyed by item URL; 12 immigration stories,
about 1.6% of the items, close to the 1% base rate of the owner's newspaper headline set; items
labelled 'unclear' are left out). The model never saw these items: it is trained on AllSides only.

    python bench/topics_feeds.py [--title-only] [--any-keyword] [--json] [--dump FILE]

``--any-keyword`` scores the baseline the issue measured on headlines (any phrase of the topic in
seeds/topics.yaml). ``--json`` ends with one summary line, ``--dump FILE`` writes one JSON line per
item, as ``newsmon eval topics`` does; the report also lists F1 at other thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from pipeline.config import FeedConfig, load_seeds
from pipeline.poll import parse_feed
from pipeline.tag import IMMIGRATION_TOPIC, decide_topics, load_model
from pipeline.tag.features import first_sentence
from pipeline.tag.rules import score_article, squash

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT.parent / "shared" / "fixtures" / "feeds" / "real-news"
LABELS = ROOT / "tests" / "data" / "feed_headline_labels.json"
THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def feed_items(folder: Path) -> list[dict[str, str]]:
    """url, feed, title and first sentence of the summary (its text, markup dropped) of every item."""
    out = []
    for path in sorted(folder.glob("*.xml")):
        feed = FeedConfig(id=path.stem.split("__")[0], name=path.stem, url="http://127.0.0.1/feed", outlet="bench")
        for item in parse_feed(feed, path.read_bytes(), "http://127.0.0.1/").items:
            summary = _text(item.summary)
            out.append(
                {
                    "url": item.url,
                    "feed": feed.id,
                    "title": item.title,
                    "lede": first_sentence(" ".join(summary.split())),
                }
            )
    return out


def _text(summary: str) -> str:
    """A summary's text without its markup (a summary of a comment alone, say, has none)."""
    if not summary.strip():
        return ""
    try:
        return str(lxml_html.fromstring(summary).text_content())
    except etree.ParserError:
        return ""


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=Path, default=FEEDS, help=f"feed folder (default {FEEDS})")
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"hand labels (default {LABELS})")
    parser.add_argument("--title-only", action="store_true", help="tag the titles alone")
    parser.add_argument("--any-keyword", action="store_true", help="baseline: any phrase of the topic occurs")
    parser.add_argument("--json", action="store_true", help="end with one summary JSON line")
    parser.add_argument("--dump", type=Path, default=None, help="write one JSON line per item")
    args = parser.parse_args(argv)
    for p in (args.feeds, args.labels):
        if not p.exists():
            print(f"{p}: not found", file=sys.stderr)
            return 2
    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    gold, unclear = set(labels["immigration"]), set(labels["unclear"])
    items = [it for it in feed_items(args.feeds) if it["url"] not in unclear]
    missing = gold - {it["url"] for it in items}
    if missing:
        print(f"{args.labels}: labelled items not in {args.feeds}: {sorted(missing)}", file=sys.stderr)
        return 2
    topics = load_seeds(None).topics
    topic = next(t for t in topics if t.id == IMMIGRATION_TOPIC)
    model = load_model()
    preds: list[dict[str, Any]] = []
    start = time.process_time()
    for it in items:
        text = "" if args.title_only else it["lede"]
        if args.any_keyword:
            phrase_score, terms = score_article(it["title"], text, [topic])[topic.id]
            positive, score, version = bool(terms), round(squash(phrase_score), 4), "any-keyword"
        else:
            d = decide_topics(it["title"], text, topics, model)
            positive, score, version = d.is_immigration_policy, d.score, d.model_version
        preds.append({"ID": it["url"], "is_immigration_policy": positive, "score": score, "subtopics": {}})
    seconds = time.process_time() - start
    y = [it["url"] in gold for it in items]
    tp = sum(p["is_immigration_policy"] and g for p, g in zip(preds, y, strict=True))
    fp = sum(p["is_immigration_policy"] and not g for p, g in zip(preds, y, strict=True))
    p, r, f1 = prf(tp, fp, sum(y) - tp)
    view = "title" if args.title_only else "title + first sentence of the summary"
    print(f"immigration_policy on {len(items)} real feed items ({view}; {version}), {sum(y)} labelled immigration")
    print(f"  precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}  (tp {tp}, fp {fp}, fn {sum(y) - tp})")
    if not args.any_keyword:
        row = []
        for t in THRESHOLDS:
            ttp = sum(pr["score"] >= t and g for pr, g in zip(preds, y, strict=True))
            tfp = sum(pr["score"] >= t and not g for pr, g in zip(preds, y, strict=True))
            row.append(f"{t}: {prf(ttp, tfp, sum(y) - ttp)[2]:.3f}")
        print("  F1 at other thresholds: " + ", ".join(row))
    for pr, it, g in sorted(zip(preds, items, y, strict=True), key=lambda x: -x[0]["score"]):
        if pr["is_immigration_policy"] != g:
            kind = "FP" if pr["is_immigration_policy"] else "FN"
            print(f"    {kind} {pr['score']:.3f} {it['title'][:90]}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(pr, ensure_ascii=False) + "\n" for pr in preds)
    if args.json:
        rate = round(len(items) / seconds, 1) if seconds > 0 else None
        summary = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "items": len(items)}
        print(json.dumps({**summary, "items_per_s": rate}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
