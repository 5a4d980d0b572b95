"""Evaluate the immigration-policy decision on labelled articles.

Reads AllSides JSONL (``ID, title, content_original, is_immigration``) or a CAP-style CSV
(``title, summary, majortopic``; 9 = immigration). Scores precision, recall and F1 of
``is_immigration_policy``, and speed.

* ``--title-only`` scores titles alone; ``--lede-only`` title and first sentence (a feed summary).
* ``--cv K`` cross-validates: the model is trained (calibration and threshold included) on K-1
  folds and scores the held-out fold, so dev figures are never figures on training data.
  ``--fold-seed N`` deals the items into other folds (default 1): a gain that vanishes on another
  split was split noise.
* ``--base-rate R`` weighs the negatives so that positives make up R of the stream (what sampling
  negatives to that rate gives on average), e.g. 0.01 for a general news stream.
* ``--subtopics FILE`` also scores subtopics against hand labels (micro-F1).
* ``--any-keyword`` scores the baseline the issue measured on headlines: an item is an
  immigration-policy story when any phrase of the topic in seeds/topics.yaml occurs in it.

    newsmon eval topics ../shared/eval/topics/allsides-dev.jsonl --cv 5 [--title-only] [--json] [--dump FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, Topic, load_seeds
from pipeline.tag import IMMIGRATION_TOPIC, TopicModel, decide_topics, load_model
from pipeline.tag.rules import score_article, squash
from pipeline.tag.train import HelpFormatter, LabelledItem, featurized_views, fold_of, load_labelled, train_model, view


def _view_of(title_only: bool, lede_only: bool) -> str:
    return "title" if title_only else "short" if lede_only else "full"


def predict(
    items: Sequence[LabelledItem], topics: list[Topic], model: TopicModel | None, length_view: str
) -> tuple[list[dict[str, Any]], float]:
    """One prediction per item, and the CPU seconds the tagging took: `decide_topics`, the very call
    `enrich.prepare_article` makes for every article (tagging is single-threaded, so items per CPU
    second is the rate per core, whatever else the machine is running)."""
    out = []
    start = time.process_time()
    for item in items:
        title, text = view(item, length_view)  # type: ignore[arg-type]
        d = decide_topics(title, text, topics, model)
        subs = {lab.label: lab.score for lab in d.labels if lab.parent == IMMIGRATION_TOPIC}
        top = next((lab for lab in d.labels if lab.label == IMMIGRATION_TOPIC), None)
        out.append(
            {
                "ID": item.id,
                "is_immigration_policy": d.is_immigration_policy,
                "score": d.score,
                "subtopics": subs,
                "evidence": top.evidence[:5] if top else [],
                "model_version": d.model_version,
            }
        )
    return out, time.process_time() - start


def keyword_predictions(
    items: Sequence[LabelledItem], topics: list[Topic], length_view: str
) -> tuple[list[dict[str, Any]], float]:
    """The "any immigration keyword" baseline: positive when any of the topic's phrases occurs."""
    topic = _immigration_topic(topics)
    out = []
    start = time.process_time()
    for item in items:
        title, text = view(item, length_view)  # type: ignore[arg-type]
        phrase_score, terms = score_article(title, text, [topic])[topic.id]
        out.append(
            {
                "ID": item.id,
                "is_immigration_policy": bool(terms),
                "score": round(squash(phrase_score), 4),
                "subtopics": {},
                "evidence": terms[:5],
                "model_version": "any-keyword",
            }
        )
    return out, time.process_time() - start


def cross_validate(
    items: Sequence[LabelledItem], topics: list[Topic], k: int, length_view: str, fold_seed: int = 1
) -> tuple[list[dict[str, Any]], float]:
    """Predictions for every item by a model trained without the item's fold. Another ``fold_seed``
    deals the items into other folds: a change whose gain vanishes then was split noise."""
    topic = _immigration_topic(topics)
    folds = fold_of(items, k, seed=fold_seed)
    preds: list[dict[str, Any]] = [{} for _ in items]
    seconds = 0.0
    views = featurized_views(items, topic)  # once: a fold's training reads its rows
    for fold in range(k):
        train_idx = [i for i, f in enumerate(folds) if f != fold]
        test_idx = [i for i, f in enumerate(folds) if f == fold]
        model = train_model(items, topic, views=views, subset=train_idx)
        fold_preds, s = predict([items[i] for i in test_idx], topics, model, length_view)
        seconds += s
        for i, p in zip(test_idx, fold_preds, strict=True):
            p["fold"] = fold
            preds[i] = p
    return preds, seconds


def _immigration_topic(topics: list[Topic]) -> Topic:
    topic = next((t for t in topics if t.id == IMMIGRATION_TOPIC), None)
    if topic is None:
        raise ValueError(f"no topic '{IMMIGRATION_TOPIC}' in topics.yaml")
    return topic


def score(
    items: Sequence[LabelledItem], preds: list[dict[str, Any]], base_rate: float | None = None, n_errors: int = 20
) -> dict[str, Any]:
    """Precision, recall, F1 (negatives weighted to ``base_rate`` when given) and the worst errors."""
    tp = fp = fn = 0
    errors = []
    for item, p in zip(items, preds, strict=True):
        pred = p["is_immigration_policy"]
        tp += pred and item.label
        fp += pred and not item.label
        fn += (not pred) and item.label
        if pred != item.label:
            errors.append(
                {
                    "kind": "false_positive" if pred else "false_negative",
                    "id": item.id,
                    "title": item.title.strip(),
                    "source": item.source,
                    "gold_topic": item.gold_topic,
                    "score": p["score"],
                    "evidence": p.get("evidence", []),
                }
            )
    positives = sum(it.label for it in items)
    negatives = len(items) - positives
    weight = 1.0
    if base_rate is not None and positives and negatives:
        weight = (1 - base_rate) / base_rate * positives / negatives
    wfp = fp * weight
    precision = tp / (tp + wfp) if tp + wfp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # most confident first: a false positive at 0.99 is worse than one at 0.6
    errors.sort(key=lambda e: -(e["score"] if e["kind"] == "false_positive" else 1 - e["score"]))
    return {
        "items": len(items),
        "positives": positives,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "base_rate": base_rate,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "worst_errors": errors[:n_errors],
    }


def subtopic_scores(labels: dict[str, list[str]], preds: list[dict[str, Any]]) -> dict[str, Any]:
    """Micro precision, recall and F1 of predicted subtopics on the hand-labelled items."""
    by_id = {p["ID"]: p for p in preds}
    tp = fp = fn = 0
    missing = [i for i in labels if i not in by_id]
    for item_id, gold in labels.items():
        if item_id not in by_id:
            continue
        got = set(by_id[item_id]["subtopics"])
        tp += len(got & set(gold))
        fp += len(got - set(gold))
        fn += len(set(gold) - got)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "items": len(labels) - len(missing),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "micro_f1": round(f1, 4),
    }


def load_subtopic_labels(path: Path) -> dict[str, list[str]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    labels = raw.get("labels", raw)
    return {str(k): list(v) for k, v in labels.items()}


def evaluate_topics(
    path: Path | str,
    topics: list[Topic],
    *,
    cv: int = 0,
    length_view: str = "full",
    base_rate: float | None = None,
    model: TopicModel | None = None,
    subtopic_labels: Path | None = None,
    n_errors: int = 20,
    any_keyword: bool = False,
    fold_seed: int = 1,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The summary and the per-item predictions."""
    path = Path(path)
    items = load_labelled(path)
    if any_keyword:  # nothing is trained, so there is nothing to cross-validate
        preds, seconds = keyword_predictions(items, topics, length_view)
        cv = 0
    elif cv:
        preds, seconds = cross_validate(items, topics, cv, length_view, fold_seed)
    else:
        preds, seconds = predict(items, topics, model if model is not None else load_model(), length_view)
    result = score(items, preds, base_rate, n_errors)
    result.update(
        {
            "path": str(path),
            "view": length_view,
            "cv": cv,
            "fold_seed": fold_seed if cv else None,
            "model_version": "cross-validated" if cv else (preds[0]["model_version"] if preds else ""),
            "seconds": round(seconds, 3),
            "items_per_s": round(len(items) / seconds, 1) if seconds > 0 else None,
        }
    )
    if subtopic_labels is not None:
        result["subtopics"] = subtopic_scores(load_subtopic_labels(subtopic_labels), preds)
    return result, preds


def format_report(r: dict[str, Any]) -> str:
    how = f"{r['cv']}-fold cross-validated (fold seed {r['fold_seed']})" if r["cv"] else f"model {r['model_version']}"
    rate = f", negatives weighted to a {r['base_rate']:.1%} base rate" if r["base_rate"] else ""
    lines = [
        f"immigration_policy on {r['path']} ({r['view']} text, {how}{rate})",
        f"  items {r['items']}, labelled positive {r['positives']}",
        f"  precision {r['precision']:.3f}  recall {r['recall']:.3f}  F1 {r['f1']:.3f}"
        f"  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})",
        f"  speed {r['items_per_s']} items/s per core ({r['seconds']} CPU s tagging)",
    ]
    if "subtopics" in r:
        s = r["subtopics"]
        lines.append(
            f"  subtopics on {s['items']} hand-labelled items: micro P {s['precision']:.3f} R {s['recall']:.3f}"
            f" F1 {s['micro_f1']:.3f} (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})"
        )
    lines.append(f"  worst {len(r['worst_errors'])} errors (most confident first):")
    for e in r["worst_errors"]:
        kind = "FP" if e["kind"] == "false_positive" else "FN"
        ev = ", ".join(e["evidence"][:4]) or "-"
        lines.append(f"    {kind} {e['score']:.3f} {e['id']} [{e['gold_topic']}] {e['title'][:80]}  <- {ev}")
    return "\n".join(lines)


def summary_line(r: dict[str, Any]) -> str:
    keys = ("precision", "recall", "f1", "items", "items_per_s")
    extra = {"subtopic_micro_f1": r["subtopics"]["micro_f1"]} if "subtopics" in r else {}
    return json.dumps({**{k: r[k] for k in keys}, **extra}, separators=(",", ":"))


def write_dump(path: Path, preds: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for p in preds:
            row = {k: p[k] for k in ("ID", "is_immigration_policy", "score", "subtopics")}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="newsmon eval topics", description=__doc__.splitlines()[0], formatter_class=HelpFormatter
    )
    parser.add_argument("path", type=Path, help="AllSides JSONL or CAP CSV (title,summary,majortopic)")
    parser.add_argument("--json", action="store_true", help="end with one summary JSON line")
    parser.add_argument("--dump", type=Path, default=None, help="write one JSON line per item")
    parser.add_argument("--title-only", action="store_true", help="score titles alone")
    parser.add_argument("--lede-only", action="store_true", help="score title and first sentence")
    parser.add_argument("--cv", type=int, default=0, help="K-fold cross-validation (train on K-1 folds)")
    parser.add_argument(
        "--fold-seed", type=int, default=1, help="with --cv: how items are dealt into folds (default 1)"
    )
    parser.add_argument("--base-rate", type=float, default=None, help="weigh negatives to this share of positives")
    parser.add_argument("--subtopics", type=Path, default=None, help="hand labels of subtopics (JSON, keyed by ID)")
    parser.add_argument("--seeds", type=Path, default=None, help="seeds folder (default: the project's seeds/)")
    parser.add_argument("--errors", type=int, default=20, help="how many worst errors to list")
    parser.add_argument(
        "--any-keyword", action="store_true", help="baseline: positive when any of the topic's phrases occurs"
    )
    args = parser.parse_args(argv)
    for p in (args.path, args.subtopics):
        if p is not None and not p.exists():
            print(f"{p}: file not found", file=sys.stderr)
            return 2
    if args.cv == 1 or args.cv < 0:
        print("--cv needs 2 or more folds", file=sys.stderr)
        return 2
    if args.base_rate is not None and not 0 < args.base_rate < 1:
        print("--base-rate must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        seeds = load_seeds(args.seeds)
        result, preds = evaluate_topics(
            args.path,
            seeds.topics,
            cv=args.cv,
            length_view=_view_of(args.title_only, args.lede_only),
            base_rate=args.base_rate,
            subtopic_labels=args.subtopics,
            n_errors=args.errors,
            any_keyword=args.any_keyword,
            fold_seed=args.fold_seed,
        )
    except (ConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(format_report(result))
    if args.dump:
        write_dump(args.dump, preds)
    if args.json:
        print(summary_line(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
