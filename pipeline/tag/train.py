"""Training the immigration-policy model (``newsmon train topics FILE``).

Data: labelled articles, read by `load_labelled` (AllSides JSONL or a CAP-style CSV). Only the
AllSides dev file (../shared/eval/topics/allsides-dev.jsonl) and data newsmon writes itself may be
used; docs/topics.md records the provenance of the shipped model.

Each article is seen in three views, so the model learns to decide a headline alone as well as a
full story: title only, title plus first sentence, and the whole text. The training set is split
into CAL_FOLDS folds; on each split a logistic regression (scikit-learn, L2, word features scaled by
naive-Bayes ratios) over `features.py` is fitted and scores the held-out fold, and the model is the
average of those fold models. Features seen in fewer than MIN_DF views are dropped, which keeps the
file small. The held-out scores give the calibration per length class (Platt scaling with negatives
weighted to BASE_RATE) and each length class's threshold (the best held-out F1 at that class's
THRESHOLD_BASE_RATES), so neither comes from data the weights were fitted on. Deterministic: the
same file always gives the same model (and version).
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

C = 30.0  # inverse L2 strength: 10 ranked better than 2, and 30 a little better than 10 over three fold splits
NB_ALPHA = 1.0  # add-one smoothing of the naive-Bayes ratios that scale the word features
MIN_DF = 3
MIN_WEIGHT = 0.02  # smaller weights are left out of the file: they barely move a score
CAL_FOLDS = 3
BASE_RATE = 0.03  # immigration-policy stories in a general news stream: the calibration target
# The base rate each length class's threshold is chosen for (the best held-out F1 at that rate; None:
# the training data's own share of positives). A full page at that natural rate: AllSides-style full
# texts are scored at it, and with a whole story to read a low threshold costs little precision at
# lower rates (docs/topics.md). A short item (headline and a sentence or two) at 5% *of political
# news*: the AllSides negatives are all political stories, so a threshold fitted at 1% of them (0.5)
# is far too strict for a general stream: on real feed headlines at about 1.6% it kept 3 of 12
# immigration stories, below a plain keyword rule (bench/topics_feeds.py). Titles alone at 3%.
THRESHOLD_BASE_RATES: dict[LengthClass, float | None] = {"title": 0.03, "short": 0.05, "full": None}
# Low thresholds are candidates too: calibrated at 3%, a full text's best threshold at its natural
# rate lies at 0.01-0.05.
THRESHOLD_CANDIDATES = (0.01, 0.02, 0.03, 0.04, *(round(0.05 * i, 2) for i in range(1, 20)))
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
        """Weights and intercept of a logistic regression on these rows (features in >= MIN_DF of them).

        Word features are first scaled by their naive-Bayes log-count ratio (NB-LR): a word that is
        far more common in one class starts with a larger value, so the L2 penalty holds it back less
        than a word seen evenly in both. The scale is folded into the stored weights, so scoring is the
        same dot product over the same features.
        """
        import numpy as np
        from scipy.sparse import diags
        from sklearn.linear_model import LogisticRegression

        x = self.matrix[rows]
        y = np.array([self.labels[j] for j in rows])
        df = np.asarray((x != 0).sum(axis=0)).ravel()
        df[self.always_kept] = MIN_DF
        cols = np.flatnonzero(df >= MIN_DF)
        x = x[:, cols]
        present = (x != 0).astype(float)
        pos = NB_ALPHA + np.asarray(present[y].sum(axis=0)).ravel()
        neg = NB_ALPHA + np.asarray(present[~y].sum(axis=0)).ravel()
        scale = np.abs(np.log((pos / pos.sum()) / (neg / neg.sum())))
        scale[np.isin(cols, self.always_kept)] = 1.0  # phrase scores and length biases keep their scale
        lr = LogisticRegression(C=C, max_iter=2000)
        lr.fit(x @ diags(scale), y)
        weights = {
            self.names[c]: round(float(w), 5)
            for c, w in zip(cols, lr.coef_[0] * scale, strict=True)
            if abs(w) >= MIN_WEIGHT
        }
        return weights, round(float(lr.intercept_[0]), 5)

    def raw(self, weights: dict[str, float], intercept: float, row: int) -> float:
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        cols, vals = self.matrix.indices[start:end], self.matrix.data[start:end]
        return intercept + sum(float(v) * weights.get(self.names[c], 0.0) for c, v in zip(cols, vals, strict=True))


def featurized_views(items: Sequence[LabelledItem], topic: Topic) -> _Views:
    """All views of all items, featurized once (for `train_model` on subsets)."""
    return _Views(items, topic)


def _platt(scores: list[float], labels: list[bool], base_rate: float) -> tuple[float, float]:
    """Slope and offset of a sigmoid on the raw score, fitted with the negatives weighted so that
    positives make up ``base_rate``: calibrated at that rate directly. (Fitting at the training
    prior and moving the offset to the base rate assumes a sigmoid fits both ends; on AllSides it left
    the scores too sure: of the full texts scored 0.6-0.8, under half were positives at 3%.)"""
    from sklearn.linear_model import LogisticRegression

    pos = sum(labels)
    neg_weight = (1 - base_rate) / base_rate * pos / (len(labels) - pos)
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit([[s] for s in scores], labels, sample_weight=[1.0 if y else neg_weight for y in labels])
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def f1_at_base_rate(scores: list[float], labels: list[bool], threshold: float, base_rate: float | None) -> float:
    """F1 with negatives weighted so that positives make up ``base_rate`` of the stream (None: as they come)."""
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return 0.0
    w = 1.0 if base_rate is None else (1 - base_rate) / base_rate * pos / neg
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if y and s >= threshold)
    fp = w * sum(1 for s, y in zip(scores, labels, strict=True) if not y and s >= threshold)
    if not tp:
        return 0.0
    p, r = tp / (tp + fp), tp / pos
    return 2 * p * r / (p + r)


def _average(weights: list[dict[str, float]], intercepts: list[float]) -> tuple[dict[str, float], float]:
    total: dict[str, float] = {}
    for w in weights:
        for name, value in w.items():
            total[name] = total.get(name, 0.0) + value
    n = len(weights)
    averaged = {name: round(v / n, 5) for name, v in sorted(total.items()) if abs(v / n) >= MIN_WEIGHT}
    return averaged, round(sum(intercepts) / n, 5)


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
    fold_weights: list[dict[str, float]] = []
    fold_intercepts: list[float] = []
    for k in range(CAL_FOLDS):
        weights, intercept = views.fit([j for j in rows if inner[views.owner[j]] != k])
        fold_weights.append(weights)
        fold_intercepts.append(intercept)
        for j in rows:
            if inner[views.owner[j]] == k:
                held_out[j] = views.raw(weights, intercept, j)
    # The model is the average of the fold models, not a refit on all rows: a refit sees more data and
    # scores more extremely than the fold models the calibration and threshold were fitted on.
    weights, intercept = _average(fold_weights, fold_intercepts)

    calibration: dict[str, tuple[float, float]] = {}
    calibrated: dict[str, tuple[list[float], list[bool]]] = {}
    for lc in LENGTH_CLASSES:
        idx = [j for j in rows if views.length_class[j] == lc]
        if len({views.labels[j] for j in idx}) < 2:
            raise ValueError(f"training data has no positive or no negative {lc} texts to calibrate on")
        slope, offset = _platt([held_out[j] for j in idx], [views.labels[j] for j in idx], BASE_RATE)
        calibration[lc] = (round(slope, 5), round(offset, 5))
        probs = [1 / (1 + math.exp(-max(-30.0, min(30.0, slope * held_out[j] + offset)))) for j in idx]
        calibrated[lc] = (probs, [views.labels[j] for j in idx])

    thresholds: dict[str, float] = {}
    for lc in LENGTH_CLASSES:
        probs, labels = calibrated[lc]
        rate = THRESHOLD_BASE_RATES[lc]
        thresholds[lc] = max(THRESHOLD_CANDIDATES, key=lambda t: f1_at_base_rate(probs, labels, t, rate))
    info = dict(provenance or {})
    info.update(
        {
            "items": len(items),
            "positives": sum(it.label for it in items),
            "method": f"average of {CAL_FOLDS} fold logistic regressions (scikit-learn, C={C}, "
            f"min_df={MIN_DF}) over features.py, word features scaled by naive-Bayes log-count ratios; "
            f"Platt calibration per length class on the held-out folds, negatives weighted to {BASE_RATE:.0%}",
            "threshold_rule": "per length class, best F1 on held-out folds at a base rate of "
            + ", ".join(f"{'natural' if r is None else f'{r:.0%}'} ({lc})" for lc, r in THRESHOLD_BASE_RATES.items()),
        }
    )
    log.info("trained topic model: %d weights, thresholds %s", len(weights), thresholds)
    return TopicModel(
        topic=topic.id,
        weights=weights,
        intercept=intercept,
        calibration=calibration,
        thresholds=thresholds,
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
        f"thresholds {model.thresholds}, trained on {len(items)} articles of {args.path.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
