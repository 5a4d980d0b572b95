"""Does a learned decision beat newsmon's hand rules on the body text? Cross-validated on the dev splits.

    .venv/bin/python bench/extraction_learned.py [--data ../shared/eval] [--folds 5]

Reads the ``dev`` split (``newsmon eval extraction --split dev``) of ``extraction-wcxb`` and
``extraction`` (scrapinghub) under ``--data``; the pages stay in ../shared. Every page goes through
:func:`pipeline.extract.extract_article`, instrumented (wrappers around two steps of
:mod:`pipeline.extract.compose`) to record each text block, whether it lies in the chosen container and
whether newsmon kept it. A block is gold when at least half of its 4-word shingles (lower-cased ``\\w+``)
occur in the page's gold text (a block under 4 words: its words occur as a run).

It prints:

1. the failure types in aggregate: the word F1 gained if one kind of error were fixed on every page
   (kept blocks that are not gold: precision; gold blocks not kept: recall; by place and kind);
2. out-of-fold word and shingle F1 differences to newsmon, folds grouped by site (no site in both the
   training and the scored fold), models trained on the dev pages of both sets together, for:
   a. a block filter: drop a kept block whose predicted chance of being gold is under a threshold
      (again with the block's agreement with trafilatura's text as a feature);
   b. a learned tail cut: cut the text at the first boundary in its second half predicted to start
      a run of non-gold blocks;
   c. a per-page choice between newsmon's text and trafilatura's (``fast=True``, as the second opinion
      calls it).

Thresholds are fixed here, not tuned on the scores. Nothing is shipped from this script: it is the
record of an experiment whose out-of-fold gains stayed under +0.001 word F1 (see README "Evaluations").
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

import pipeline.extract.compose as compose_mod
from pipeline.evaluation.extraction import PageScore, load_dataset, score_page, shingle_summary
from pipeline.extract import extract_article

_WORD = re.compile(r"\w+")
_END = re.compile(r"[.!?…:;\"”’'»)\]。！？」』）]\s*$")
_DATE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\b20\d\d\b", re.I)
_TAGS = ("p", "li", "div", "td", "tr", "blockquote", "dd", "h1", "h2", "h3", "h4", "h5", "h6")

# ------------------------------------------------------------------ instrumented extraction

_SEEN: dict[str, Any] = {}
_select, _drop = compose_mod.select_container, compose_mod.drop_second_copy


def _select_spy(w: Any) -> tuple[int, int]:
    _SEEN["w"], _SEEN["range"] = w, _select(w)
    return _SEEN["range"]


def _drop_spy(kept: list[Any]) -> list[Any]:
    _SEEN["kept"] = _drop(kept)
    return _SEEN["kept"]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def _bag(text: str) -> Counter[str]:
    return Counter(_words(text))


def _gold_share(text: str, gold_shingles: set[tuple[str, ...]], gold_run: str) -> float:
    ws = _words(text)
    if not ws:
        return 0.0
    if len(ws) < 4:
        return 1.0 if f" {' '.join(ws)} " in gold_run else 0.0
    grams = [tuple(ws[i : i + 4]) for i in range(len(ws) - 3)]
    return sum(g in gold_shingles for g in grams) / len(grams)


def collect(data: Path) -> list[dict[str, Any]]:
    """One record per dev page: newsmon's text, its blocks (kept or not, gold share) and trafilatura's text."""
    import trafilatura

    compose_mod.select_container, compose_mod.drop_second_copy = _select_spy, _drop_spy
    pages = []
    try:
        for name in ("extraction-wcxb", "extraction"):
            for page in load_dataset(data / name, "dev"):
                _SEEN.clear()
                art = extract_article(page.html, page.url)
                ws = _words(page.truth)
                gold_sh = {tuple(ws[i : i + 4]) for i in range(max(1, len(ws) - 3))}
                gold_run = f" {' '.join(ws)} "
                w, kept_ids = _SEEN.get("w"), {id(b) for b in _SEEN.get("kept", [])}
                start, end = _SEEN.get("range", (0, 0))
                blocks = []
                for i, b in enumerate(w.blocks if w is not None else []):
                    blocks.append(
                        {
                            "b": b,
                            "kept": id(b) in kept_ids,
                            "in_cont": start <= i < end,
                            "gold": _gold_share(b.text, gold_sh, gold_run) >= 0.5,
                        }
                    )
                composed = "\n".join(x["b"].text for x in blocks if x["kept"])
                pages.append(
                    {
                        "set": "wcxb" if name == "extraction-wcxb" else "scrapinghub",
                        "id": page.page_id,
                        "site": page.meta.get("domain") or urlparse(page.url).netloc,
                        "truth": page.truth,
                        "text": art.text or "",
                        "article": art.not_article_reason is None,
                        # the text came from the kept blocks (not JSON-LD, not the second opinion)
                        "from_blocks": _bag(composed) == _bag(art.text or "") and bool(blocks),
                        "blocks": blocks,
                        "title": art.title,
                        "trafilatura": trafilatura.extract(page.html, url=page.url, include_comments=False, fast=True)
                        or "",
                    }
                )
    finally:
        compose_mod.select_container, compose_mod.drop_second_copy = _select, _drop
    return pages


# ------------------------------------------------------------------ scoring helpers


def _f1(pred: Counter[str], gold: Counter[str]) -> float:
    p, t = sum(pred.values()), sum(gold.values())
    if not t:
        return 1.0 if not p else 0.0
    return 2 * sum((pred & gold).values()) / (p + t) if p else 0.0


def compare(pages: list[dict[str, Any]], new_text: dict[int, str]) -> dict[str, str]:
    """Word and shingle F1 difference to newsmon per set, with pages won and lost (by > 0.001 word F1)."""
    out = {}
    for name in ("wcxb", "scrapinghub"):
        base: list[PageScore] = []
        new: list[PageScore] = []
        for i, p in enumerate(pages):
            if p["set"] != name:
                continue
            base.append(score_page(p["id"], p["text"], p["truth"]))
            new.append(score_page(p["id"], new_text[i], p["truth"]) if i in new_text else base[-1])
        d = np.array([a.word_f1 - b.word_f1 for a, b in zip(new, base, strict=True)])
        sh = shingle_summary(new)["f1"] - shingle_summary(base)["f1"]
        out[name] = f"word {d.mean():+.4f} shingle {sh:+.4f} (won {(d > 1e-3).sum()}, lost {(d < -1e-3).sum()})"
    return out


def diagnose(pages: list[dict[str, Any]]) -> None:
    """Word F1 gained, over all pages of a set, by fixing one kind of block error everywhere."""
    for name in ("wcxb", "scrapinghub"):
        sel = [p for p in pages if p["set"] == name]
        gains: Counter[str] = Counter()
        for p in sel:
            if not p["from_blocks"]:
                continue
            blocks, gold = p["blocks"], _bag(p["truth"])
            good = [i for i, x in enumerate(blocks) if x["kept"] and x["gold"]]
            first, last = (good[0], good[-1]) if good else (len(blocks), -1)
            kinds: dict[int, str] = {}
            for i, x in enumerate(blocks):
                b = x["b"]
                kind = "heading" if b.heading else "list/table" if b.tag in ("li", "dd", "dt", "tr") else "text"
                if x["kept"] and not x["gold"]:
                    where = "before story" if i < first else "after story" if i > last else "inside story"
                    kinds[i] = f"precision: kept non-gold {kind}, {where}"
                elif not x["kept"] and x["gold"] and not b.post:
                    where = "outside container" if not x["in_cont"] else "filtered in container"
                    kinds[i] = f"recall: dropped gold {kind}, {where}"
            f0 = _f1(_bag(p["text"]), gold)
            for group in {*kinds.values(), "precision", "recall"}:
                flip = {i for i, k in kinds.items() if k == group or k.startswith(group + ":")}
                text = "\n".join(x["b"].text for i, x in enumerate(blocks) if x["kept"] != (i in flip))
                gains[group] += _f1(_bag(text), gold) - f0
        print(f"{name} dev ({len(sel)} pages): word F1 gained by fixing every error of one kind")
        for group, g in sorted(gains.items(), key=lambda kv: -kv[1]):
            if abs(g) / len(sel) >= 0.0002:
                print(f"  {group:<58} {g / len(sel):+.4f}")


# ------------------------------------------------------------------ learned decisions


def _model() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40, random_state=0
    )


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: list[str], folds: int, weight: np.ndarray | None = None) -> Any:
    pred = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        m = _model()
        m.fit(x[train], y[train], sample_weight=None if weight is None else weight[train])
        pred[test] = m.predict_proba(x[test])[:, 1]
    return pred


def _block_features(p: dict[str, Any]) -> list[list[float]]:
    kept = [x["b"] for x in p["blocks"] if x["kept"]]
    total = sum(len(b.text) for b in kept) or 1
    title = set(_words(p["title"]))
    rows, before = [], 0
    for j, b in enumerate(kept):
        n, prev, nxt = len(b.text), kept[j - 1] if j else None, kept[j + 1] if j + 1 < len(kept) else None
        row = [
            math.log1p(n),
            b.link_len / n,
            float(b.heading),
            float(b.boiler),
            float(bool(_END.search(b.text))),
            j / max(1, len(kept) - 1),
            min(10, len(kept) - 1 - j),
            min(10, j),
            before / total,
            n / total,
            math.log1p(total),
            float(prev is not None and prev.group == b.group),
            float(nxt is not None and nxt.group == b.group),
            float(b.after_rule),
            sum(c.isdigit() for c in b.text) / n,
            float(bool(_DATE.search(b.text))),
            float(b.text.lower().startswith("by ")),
            len(title & set(_words(b.text))) / max(1, len(title)),
            math.log1p(len(prev.text)) if prev else 0.0,
            prev.link_len / len(prev.text) if prev else 0.0,
            math.log1p(len(nxt.text)) if nxt else 0.0,
            nxt.link_len / len(nxt.text) if nxt else 0.0,
            float(p["set"] == "scrapinghub"),
            *(float(b.tag == t) for t in _TAGS),
        ]
        rows.append(row)
        before += n
    return rows


def block_filter(pages: list[dict[str, Any]], folds: int, agreement: bool) -> None:
    """With ``agreement``, each block also gets the share of its shingles found in trafilatura's text (a
    feature that would cost a trafilatura run on every page, so newsmon would be slower than it)."""
    x, y, w, groups, where = [], [], [], [], []
    for i, p in enumerate(pages):
        if not p["from_blocks"]:
            continue
        kept = [k for k in p["blocks"] if k["kept"]]
        ws = _words(p["trafilatura"])
        their_sh, their_run = {tuple(ws[i : i + 4]) for i in range(max(1, len(ws) - 3))}, f" {' '.join(ws)} "
        for j, (row, k) in enumerate(zip(_block_features(p), kept, strict=True)):
            if agreement:
                row.append(_gold_share(k["b"].text, their_sh, their_run))
            x.append(row)
            y.append(int(k["gold"]))
            w.append(len(_WORD.findall(k["b"].text)) + 1)
            groups.append(f"{p['set']}:{p['site']}")
            where.append((i, j))
    xa, ya = np.array(x), np.array(y)
    pred = _out_of_fold(xa, ya, groups, folds, np.array(w, dtype=float))
    print(
        f"a. block filter{' with trafilatura agreement' if agreement else ''}: {len(y)} kept blocks, {int((ya == 0).sum())} not gold, out-of-fold AUC {roc_auc_score(ya, pred):.3f}"
    )
    for threshold in (0.2, 0.5):
        drop: dict[int, set[int]] = {}
        for (i, j), pr in zip(where, pred, strict=True):
            if pr < threshold and not [k for k in pages[i]["blocks"] if k["kept"]][j]["b"].post:
                drop.setdefault(i, set()).add(j)
        new = {}
        for i, js in drop.items():
            kept = [k["b"].text for k in pages[i]["blocks"] if k["kept"]]
            if len(js) < len(kept):
                new[i] = "\n".join(t for j, t in enumerate(kept) if j not in js)
        print(f"   drop under {threshold}: {compare(pages, new)}")


def tail_cut(pages: list[dict[str, Any]], folds: int) -> None:
    x, y, groups, where = [], [], [], []
    for i, p in enumerate(pages):
        kept = [k for k in p["blocks"] if k["kept"]]
        if not p["from_blocks"] or len(kept) < 3:
            continue
        lens = [len(k["b"].text) for k in kept]
        total = sum(lens)
        for j in range(1, len(kept)):
            rest = kept[j:]
            rest_chars = sum(lens[j:])
            if rest_chars > 0.5 * total:
                continue
            b, prev = kept[j]["b"], kept[j - 1]["b"]
            rest_words = [len(_WORD.findall(k["b"].text)) for k in rest]
            bad = sum(n for n, k in zip(rest_words, rest, strict=True) if not k["gold"])
            x.append(
                [
                    rest_chars / total,
                    math.log1p(len(rest)),
                    sum(k["b"].link_len for k in rest) / rest_chars,
                    sum(k["b"].heading for k in rest) / len(rest),
                    sum(bool(_END.search(k["b"].text)) for k in rest) / len(rest),
                    float(b.group != prev.group),
                    float(b.after_rule),
                    float(b.heading),
                    math.log1p(len(b.text)),
                    b.link_len / len(b.text),
                    float(kept[j]["in_cont"]),
                    float(prev.heading),
                    float(bool(_END.search(prev.text))),
                    math.log1p(total),
                    float(p["set"] == "scrapinghub"),
                    *(float(b.tag == t) for t in _TAGS),
                ]
            )
            y.append(int(bad >= 0.8 * sum(rest_words)))
            groups.append(f"{p['set']}:{p['site']}")
            where.append((i, j))
    ya = np.array(y)
    pred = _out_of_fold(np.array(x), ya, groups, folds)
    print(
        f"b. tail cut: {len(y)} boundaries, {int(ya.sum())} start a non-gold tail, out-of-fold AUC {roc_auc_score(ya, pred):.3f}"
    )
    for threshold in (0.5, 0.8):
        cut: dict[int, int] = {}
        for (i, j), pr in zip(where, pred, strict=True):
            if pr > threshold:
                cut[i] = min(cut.get(i, j), j)
        new = {i: "\n".join([k["b"].text for k in pages[i]["blocks"] if k["kept"]][:j]) for i, j in cut.items()}
        print(f"   cut over {threshold}: {compare(pages, new)}")


def page_choice(pages: list[dict[str, Any]], folds: int) -> None:
    x, y, w, groups = [], [], [], []
    for p in pages:
        a, b = _bag(p["text"]), _bag(p["trafilatura"])
        na, nb, shared = sum(a.values()), sum(b.values()), sum((a & b).values())
        blocks = [k["b"] for k in p["blocks"]]
        page_chars = sum(len(k.text) for k in blocks) or 1
        prose = sum(len(k.text) for k in blocks if len(k.text) >= 100 and k.link_len < 0.3 * len(k.text)) or 1
        kept_chars = sum(len(k["b"].text) for k in p["blocks"] if k["kept"])
        x.append(
            [
                math.log1p(na),
                math.log1p(nb),
                shared / max(1, na),
                shared / max(1, nb),
                kept_chars / prose,
                kept_chars / page_chars,
                sum(k.link_len for k in blocks) / page_chars,
                math.log1p(len(blocks)),
                float(p["from_blocks"]),
                float(p["set"] == "scrapinghub"),
            ]
        )
        gold = _bag(p["truth"])
        gain = _f1(b, gold) - _f1(a, gold)
        y.append(int(gain > 0))
        w.append(abs(gain) + 1e-3)
        groups.append(f"{p['set']}:{p['site']}")
    pred = _out_of_fold(np.array(x), np.array(y), groups, folds, np.array(w))
    print(f"c. per-page choice of trafilatura's text: trafilatura better on {sum(y)} of {len(y)} pages")
    for threshold in (0.5, 0.7):
        new = {i: p["trafilatura"] for i, p in enumerate(pages) if pred[i] > threshold and p["article"]}
        print(f"   take over {threshold} ({len(new)} pages): {compare(pages, new)}")
    oracle = {}
    for i, p in enumerate(pages):
        gold = _bag(p["truth"])
        if _f1(_bag(p["trafilatura"]), gold) > _f1(_bag(p["text"]), gold):
            oracle[i] = p["trafilatura"]
    print(f"   oracle (the better text of each page): {compare(pages, oracle)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "eval")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    if not (args.data / "extraction-wcxb").is_dir() or not (args.data / "extraction").is_dir():
        print(f"{args.data}: expected extraction-wcxb/ and extraction/ (see ../shared/README.md)", file=sys.stderr)
        return 2
    pages = collect(args.data)
    diagnose(pages)
    block_filter(pages, args.folds, agreement=False)
    block_filter(pages, args.folds, agreement=True)
    tail_cut(pages, args.folds)
    page_choice(pages, args.folds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
