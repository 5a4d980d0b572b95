"""Precision-recall plot of the immigration-policy decision at realistic base rates (docs/topics-pr.png).

Reads the labelled file and the ``--dump`` files of cross-validated runs of ``newsmon eval topics``
(one per view), and draws precision against recall for each view with the negatives weighted to
1%, 3% and 5% base rates, marking the model's threshold. Needs matplotlib (the bench extra).

    newsmon eval topics DEV --cv 5 --dump /tmp/full.jsonl
    newsmon eval topics DEV --cv 5 --lede-only --dump /tmp/short.jsonl
    newsmon eval topics DEV --cv 5 --title-only --dump /tmp/title.jsonl
    python bench/topics_pr.py DEV full=/tmp/full.jsonl short=/tmp/short.jsonl \
        title=/tmp/title.jsonl --out docs/topics-pr.png

A view is named by its length class, and the dot marks the shipped model's threshold for that class
(or ``--threshold``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.tag import load_model
from pipeline.tag.train import load_labelled

BASE_RATES = (0.01, 0.03, 0.05)
STYLES = {0.01: ":", 0.03: "-", 0.05: "--"}


def curve(scores: list[float], labels: list[bool], base_rate: float) -> tuple[list[float], list[float], list[float]]:
    """(thresholds, precision, recall) with negatives weighted to ``base_rate``."""
    pos = sum(labels)
    neg = len(labels) - pos
    w = (1 - base_rate) / base_rate * pos / neg
    ts, ps, rs = [], [], []
    for t in sorted(set(scores)):
        tp = sum(1 for s, y in zip(scores, labels, strict=True) if y and s >= t)
        fp = sum(1 for s, y in zip(scores, labels, strict=True) if not y and s >= t)
        if tp:
            ts.append(t)
            ps.append(tp / (tp + w * fp))
            rs.append(tp / pos)
    return ts, ps, rs


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("dumps", nargs="+", help="VIEW=DUMP.jsonl")
    parser.add_argument(
        "--threshold", type=float, default=None, help="mark this threshold (default: the model's, per view)"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/topics-pr.png"))
    args = parser.parse_args()
    gold = {it.id: it.label for it in load_labelled(args.data)}
    model = load_model()
    if args.threshold is None and model is None:
        parser.error("no model file to read thresholds from: give --threshold")
    fig, axes = plt.subplots(1, len(args.dumps), figsize=(5 * len(args.dumps), 4.6), sharey=True)
    for ax, spec in zip(axes if len(args.dumps) > 1 else [axes], args.dumps, strict=True):
        name, path = spec.split("=", 1)
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        scores = [float(r["score"]) for r in rows]
        labels = [gold[str(r["ID"])] for r in rows]
        # a view is named by its length class (title, short, full): the model has a threshold per class
        threshold = args.threshold if args.threshold is not None else model.thresholds[name]  # type: ignore[union-attr]
        for rate in BASE_RATES:
            ts, ps, rs = curve(scores, labels, rate)
            ax.plot(rs, ps, STYLES[rate], label=f"base rate {rate:.0%}")
            i = min(range(len(ts)), key=lambda j: abs(ts[j] - threshold))
            ax.plot([rs[i]], [ps[i]], "o", color="black")
            ax.annotate(f"P {ps[i]:.2f} R {rs[i]:.2f}", (rs[i], ps[i]), textcoords="offset points", xytext=(-95, -12))
        ax.set_title(f"{name} text (5-fold CV), dot: threshold {threshold}")
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    (axes[0] if len(args.dumps) > 1 else axes).set_ylabel("precision")
    (axes[0] if len(args.dumps) > 1 else axes).legend(loc="lower left")
    fig.suptitle("immigration_policy on AllSides dev, negatives weighted to realistic base rates")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
