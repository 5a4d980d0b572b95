"""Training the immigration-policy model (``newsmon train topics FILE``).

Data: labelled articles, read by `load_labelled` (AllSides JSONL or a CAP-style CSV). Only the
AllSides dev file (../shared/eval/topics/allsides-dev.jsonl) and data newsmon writes itself may be
used; docs/topics.md records the provenance of the shipped model.

Each article is seen in three views, so the model learns to decide a headline alone as well as a
full story: title only, title plus first sentence, and the whole text. The weights are a logistic
regression (scikit-learn, L2) over `features.py`; features seen in fewer than MIN_DF views are
dropped, which keeps the file small. Calibration per length class and the threshold come from
held-out folds of the training data (CAL_FOLDS), never from the data the weights were fitted on.
The threshold is the one with the best F1 at THRESHOLD_BASE_RATE, averaged over short and full
texts. Deterministic: the same file always gives the same model (and version).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import Topic

from .features import LENGTH_CLASSES, LengthClass, featurize, first_sentence, split_parts
from .model import TopicModel

log = logging.getLogger(__name__)

C = 10.0  # inverse L2 strength: 10 ranked better than 2 in cross-validation (F1 at the best threshold)
MIN_DF = 3
MIN_WEIGHT = 0.02  # smaller weights are left out of the file: they barely move a score
CAL_FOLDS = 3
BASE_RATE = 0.03  # immigration-policy stories in a general news stream: the calibration target
THRESHOLD_BASE_RATE = 0.02
SEED = 0
CAP_IMMIGRATION = "9"  # Comparative Agendas Project major topic code


@dataclass(frozen=True)
class LabelledItem:
    id: str
    title: str
    text: str
    label: bool
    gold_topic: str = ""
    source: str = ""


def load_labelled(path: Path) -> list[LabelledItem]:
    """AllSides JSONL (``ID, title, content_original, is_immigration``) or CAP CSV (``title, summary, majortopic``)."""
    if path.suffix.lower() == ".csv":
        return _load_cap_csv(path)
    items = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {n}: not valid JSON ({exc})") from exc
            if "is_immigration" not in row:
                raise ValueError(f"{path}, line {n}: no 'is_immigration' field")
            items.append(
                LabelledItem(
                    id=str(row.get("ID") or n),
                    title=row.get("title") or "",
                    text=row.get("content_original") or row.get("text") or "",
                    label=bool(row["is_immigration"]),
                    gold_topic=str(row.get("topic") or ""),
                    source=str(row.get("source") or ""),
                )
            )
    return items


def _load_cap_csv(path: Path) -> list[LabelledItem]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"title", "summary", "majortopic"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}: CSV needs columns title, summary, majortopic; missing {', '.join(sorted(missing))}"
            )
        items = []
        for n, row in enumerate(reader, 2):
            major = (row.get("majortopic") or "").strip()
            major = major[:-2] if major.endswith(".0") else major
            items.append(
                LabelledItem(
                    id=str(row.get("id") or row.get("ID") or n),
                    title=row.get("title") or "",
                    text=row.get("summary") or "",
                    label=major == CAP_IMMIGRATION,
                    gold_topic=major,
                )
            )
    return items


def view(item: LabelledItem, length_class: LengthClass) -> tuple[str, str]:
    """(title, text) of one view of an article: the title alone, title and first sentence, or all."""
    if length_class == "title":
        return item.title, ""
    if length_class == "short":
        return item.title, first_sentence(item.text)
    return item.title, item.text


def fold_of(items: Sequence[LabelledItem], k: int, seed: int = SEED) -> list[int]:
    """Stratified fold number per item, deterministic: positives and negatives dealt out in id-hash order."""
    import hashlib

    def key(i: int) -> str:
        return hashlib.sha256(f"{seed}:{items[i].id}:{i}".encode()).hexdigest()

    folds = [0] * len(items)
    for label in (True, False):
        idx = sorted((i for i, it in enumerate(items) if it.label == label), key=key)
        for n, i in enumerate(idx):
            folds[i] = n % k
    return folds


class _Views:
    """The featurized views of a set of articles as one sparse matrix, built once and shared by all fits."""

    def __init__(self, items: Sequence[LabelledItem], topic: Topic) -> None:
        from scipy.sparse import csr_matrix

        self.labels: list[bool] = []
        self.owner: list[int] = []
        self.length_class: list[LengthClass] = []
        columns: dict[str, int] = {}
        indptr, indices, values = [0], [], []
        for i, item in enumerate(items):
            for lc in LENGTH_CLASSES:
                title, text = view(item, lc)
                if lc != "title" and not text.strip():
                    continue
                parts = split_parts(title, text)
                for k, v in featurize(parts, topic).items():
                    indices.append(columns.setdefault(k, len(columns)))
                    values.append(v)
                indptr.append(len(indices))
                self.labels.append(item.label)
                self.owner.append(i)
                self.length_class.append(parts.length_class)
        self.names = sorted(columns, key=columns.__getitem__)
        self.matrix = csr_matrix((values, indices, indptr), shape=(len(indptr) - 1, len(columns)))
        self.always_kept = [j for j, n in enumerate(self.names) if not n.startswith(("w:", "t:", "h:"))]

    def fit(self, rows: list[int]) -> tuple[dict[str, float], float]:
        """Weights and intercept of a logistic regression on these rows (features in >= MIN_DF of them)."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = self.matrix[rows]
        df = np.asarray((x != 0).sum(axis=0)).ravel()
        df[self.always_kept] = MIN_DF
        cols = np.flatnonzero(df >= MIN_DF)
        lr = LogisticRegression(C=C, max_iter=2000)
        lr.fit(x[:, cols], [self.labels[j] for j in rows])
        weights = {
            self.names[c]: round(float(w), 5) for c, w in zip(cols, lr.coef_[0], strict=True) if abs(w) >= MIN_WEIGHT
        }
        return weights, round(float(lr.intercept_[0]), 5)

    def raw(self, weights: dict[str, float], intercept: float, row: int) -> float:
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        cols, vals = self.matrix.indices[start:end], self.matrix.data[start:end]
        return intercept + sum(float(v) * weights.get(self.names[c], 0.0) for c, v in zip(cols, vals, strict=True))


def featurized_views(items: Sequence[LabelledItem], topic: Topic) -> _Views:
    """All views of all items, featurized once (for `train_model` on subsets)."""
    return _Views(items, topic)


def _platt(scores: list[float], labels: list[bool]) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit([[s] for s in scores], labels)
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def f1_at_base_rate(scores: list[float], labels: list[bool], threshold: float, base_rate: float) -> float:
    """F1 with negatives weighted so that positives make up ``base_rate`` of the stream."""
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return 0.0
    w = (1 - base_rate) / base_rate * pos / neg
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if y and s >= threshold)
    fp = w * sum(1 for s, y in zip(scores, labels, strict=True) if not y and s >= threshold)
    if not tp:
        return 0.0
    p, r = tp / (tp + fp), tp / pos
    return 2 * p * r / (p + r)


def train_model(
    items: Sequence[LabelledItem],
    topic: Topic,
    provenance: dict[str, Any] | None = None,
    views: _Views | None = None,
    subset: Sequence[int] | None = None,
) -> TopicModel:
    """Fit weights on the items (or on ``subset`` of them, with ``views`` of all items already
    featurized, as cross-validation does); calibration and threshold from CAL_FOLDS held-out folds."""
    if subset is not None:
        items = [items[i] for i in subset]
    if len({it.label for it in items}) < 2:
        raise ValueError("training needs both positive and negative articles")
    if views is None or subset is None:
        views, subset = _Views(items, topic), range(len(items))
    inner = dict(zip(subset, fold_of(items, CAL_FOLDS), strict=True))  # item index in views -> fold
    rows = [j for j, o in enumerate(views.owner) if o in inner]
    held_out: dict[int, float] = {}
    for k in range(CAL_FOLDS):
        weights, intercept = views.fit([j for j in rows if inner[views.owner[j]] != k])
        for j in rows:
            if inner[views.owner[j]] == k:
                held_out[j] = views.raw(weights, intercept, j)
    weights, intercept = views.fit(rows)

    prior = sum(it.label for it in items) / len(items)
    shift = _logit(BASE_RATE) - _logit(prior)
    calibration: dict[str, tuple[float, float]] = {}
    calibrated: dict[str, tuple[list[float], list[bool]]] = {}
    for lc in LENGTH_CLASSES:
        idx = [j for j in rows if views.length_class[j] == lc]
        if len({views.labels[j] for j in idx}) < 2:
            raise ValueError(f"training data has no positive or no negative {lc} texts to calibrate on")
        slope, offset = _platt([held_out[j] for j in idx], [views.labels[j] for j in idx])
        calibration[lc] = (round(slope, 5), round(offset + shift, 5))
        probs = [1 / (1 + math.exp(-max(-30.0, min(30.0, slope * held_out[j] + offset + shift)))) for j in idx]
        calibrated[lc] = (probs, [views.labels[j] for j in idx])

    candidates = [round(0.05 * i, 2) for i in range(1, 20)]
    threshold = max(
        candidates,
        key=lambda t: sum(f1_at_base_rate(*calibrated[lc], t, THRESHOLD_BASE_RATE) for lc in ("short", "full")),
    )
    info = dict(provenance or {})
    info.update(
        {
            "items": len(items),
            "positives": sum(it.label for it in items),
            "method": f"logistic regression (scikit-learn, C={C}, min_df={MIN_DF}) over features.py; "
            f"Platt calibration per length class on {CAL_FOLDS} held-out folds",
            "threshold_rule": f"best mean F1 of short and full texts at a {THRESHOLD_BASE_RATE:.0%} base rate",
        }
    )
    log.info("trained topic model: %d weights, threshold %.2f", len(weights), threshold)
    return TopicModel(
        topic=topic.id,
        weights=weights,
        intercept=intercept,
        calibration=calibration,
        threshold=threshold,
        base_rate=BASE_RATE,
        provenance=info,
    )


class HelpFormatter(argparse.HelpFormatter):
    """argparse help that starts with "Usage:", like the rest of the newsmon CLI."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix or "Usage: ")


def main(argv: list[str] | None = None) -> int:
    """``newsmon train topics FILE``: train on FILE and write the model file."""
    import hashlib
    import sys

    from pipeline.config import ConfigError, load_seeds

    from .model import DEFAULT_MODEL, content_version, model_bytes

    parser = argparse.ArgumentParser(
        prog="newsmon train topics", description=main.__doc__, formatter_class=HelpFormatter
    )
    parser.add_argument("path", type=Path, help="labelled articles: AllSides JSONL or CAP CSV")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL, help=f"model file (default {DEFAULT_MODEL})")
    parser.add_argument("--seeds", type=Path, default=None, help="seeds folder (default: the project's seeds/)")
    parser.add_argument("--check", action="store_true", help="only check that training reproduces --out exactly")
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"{args.path}: file not found", file=sys.stderr)
        return 2
    try:
        seeds = load_seeds(args.seeds)
        topic = next((t for t in seeds.topics if t.id == "immigration_policy"), None)
        if topic is None:
            raise ValueError("topics.yaml has no 'immigration_policy' topic to train")
        items = load_labelled(args.path)
    except (ConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    provenance = {"file": args.path.name, "sha256": hashlib.sha256(args.path.read_bytes()).hexdigest()}
    model = train_model(items, topic, provenance)
    data = model_bytes(model)
    version = content_version(data)
    if args.check:
        old = args.out.read_bytes() if args.out.exists() else b""
        same = old == data
        print(f"{args.out}: {'reproduced' if same else 'DIFFERS from the rebuild'} ({version})")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(
        f"wrote {args.out} ({len(data) // 1024} KiB, version {version}): {len(model.weights)} weights, "
        f"threshold {model.threshold}, trained on {len(items)} articles of {args.path.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
