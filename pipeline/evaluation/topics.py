"""Evaluate the topic tagger on a labelled JSONL set (one article per line).

Each line needs ``title``, ``content_original`` (or ``text``) and ``is_immigration``; ``ID``,
``source`` and ``topic`` are shown in the error list when present. The tagger is scored on the
``immigration_policy`` topic: precision, recall and F1 of "assigned" against ``is_immigration``.

    python -m pipeline.evaluation.topics /path/to/allsides-dev.jsonl [--json] [--seeds DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pipeline.config import ConfigError, Topic, load_seeds
from pipeline.tag import score_article

TOPIC_ID = "immigration_policy"


def _load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {n}: not valid JSON ({exc})") from exc
    return rows


def evaluate_topics(path: Path | str, topics: list[Topic], topic_id: str = TOPIC_ID, n_errors: int = 20) -> dict:
    """Precision, recall and F1 of ``topic_id`` against the ``is_immigration`` labels in ``path``.

    ``worst_errors`` lists the false positives with the highest scores and the false negatives with
    the lowest, most confident mistakes first, each with its title, score and evidence.
    """
    path = Path(path)
    topic = next((t for t in topics if t.id == topic_id), None)
    if topic is None:
        raise ValueError(f"no topic '{topic_id}' in the topics given")
    rows = _load(path)
    scored = []
    start = time.perf_counter()
    for row in rows:
        scores = score_article(row.get("title", ""), row.get("content_original") or row.get("text", ""), topics)
        scored.append(scores[topic_id])
    elapsed = time.perf_counter() - start

    tp = fp = fn = tn = 0
    errors = []
    for row, (score, evidence) in zip(rows, scored, strict=True):
        gold = bool(row.get("is_immigration"))
        pred = score >= topic.threshold
        if pred and gold:
            tp += 1
        elif pred and not gold:
            fp += 1
        elif gold:
            fn += 1
        else:
            tn += 1
        if pred != gold:
            errors.append(
                {
                    "kind": "false_positive" if pred else "false_negative",
                    "id": row.get("ID", ""),
                    "title": (row.get("title") or "").strip(),
                    "source": row.get("source", ""),
                    "gold_topic": row.get("topic", ""),
                    "score": score,
                    "margin": round(abs(score - topic.threshold), 3),
                    "evidence": evidence,
                }
            )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors.sort(key=lambda e: -e["margin"])
    return {
        "path": str(path),
        "topic": topic_id,
        "threshold": topic.threshold,
        "n": len(rows),
        "positives": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "seconds": round(elapsed, 3),
        "articles_per_s": round(len(rows) / elapsed, 1) if elapsed > 0 else None,
        "worst_errors": errors[:n_errors],
    }


def format_report(result: dict) -> str:
    lines = [
        f"Topic '{result['topic']}' on {result['path']}",
        f"  articles {result['n']}, labelled positive {result['positives']}, threshold {result['threshold']}",
        f"  precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}"
        f"  (tp {result['tp']}, fp {result['fp']}, fn {result['fn']})",
        f"  speed {result['articles_per_s']} articles/s ({result['seconds']} s)",
        f"  worst {len(result['worst_errors'])} errors (most confident first):",
    ]
    for e in result["worst_errors"]:
        kind = "FP" if e["kind"] == "false_positive" else "FN"
        ev = ", ".join(e["evidence"][:4]) or "-"
        lines.append(f"    {kind} score {e['score']:6.2f}  [{e['gold_topic']}] {e['title'][:90]}  <- {ev}")
    return "\n".join(lines)


def print_report(result: dict, json_out: bool = False) -> None:
    """Print the readable report; with ``json_out``, end with the whole result as one JSON line."""
    print(format_report(result))
    if json_out:
        print(json.dumps(result, ensure_ascii=False, separators=(",", ":")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsmon eval topics", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="labelled JSONL file (e.g. ../shared/eval/topics/allsides-dev.jsonl)")
    parser.add_argument("--json", action="store_true", help="end with the result as one JSON line")
    parser.add_argument("--seeds", type=Path, default=None, help="seeds folder (default: the project's seeds/)")
    parser.add_argument("--errors", type=int, default=20, help="how many worst errors to list")
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"{args.path}: file not found", file=sys.stderr)
        return 2
    try:
        seeds = load_seeds(args.seeds)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = evaluate_topics(args.path, seeds.topics, n_errors=args.errors)
    print_report(result, json_out=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
