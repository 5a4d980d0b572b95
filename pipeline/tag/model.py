"""The immigration-policy model: a linear model over `features.py`, stored as a small JSON file.

The file (``models/immigration_policy.json.gz``) holds the weights, a calibration and a decision
threshold per length class, with its provenance; `train.py` writes it (``newsmon train
topics FILE``) and the same data always gives the same file, so its version (a hash of the
content) says exactly which model tagged an article. Scoring needs no library: a dot product.

Calibration: per length class (title only, short, full) the raw score is mapped to a probability
by Platt scaling fitted on held-out folds with the negatives weighted so that positives make up
``base_rate`` (the share of immigration-policy stories in a general news stream). A score of 0.8
thus means about 80% of such articles are immigration-policy stories in such a stream.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import mul
from pathlib import Path
from typing import Any

from pipeline.config import Topic

from .features import LENGTH_CLASSES, TextParts, featurize, tokens

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "immigration_policy.json.gz"
MAX_TERMS = 8
MAX_SENTENCES = 2
MAX_SENTENCES_READ = 30  # evidence is looked for in the opening sentences, where a story says what it is
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


class ModelError(ValueError):
    """A model file that cannot be read."""


@dataclass(frozen=True)
class TopicModel:
    topic: str
    weights: dict[str, float]
    intercept: float
    calibration: dict[str, tuple[float, float]]  # length class -> (slope, offset) on the raw score
    thresholds: dict[str, float]  # length class -> decision threshold on the calibrated score
    base_rate: float
    provenance: dict[str, Any] = field(default_factory=dict)
    version: str = ""

    def raw_score(self, feats: dict[str, float]) -> float:
        # map() keeps the loop in C: this dot product is a good part of the tagging time
        return self.intercept + sum(map(mul, feats.values(), map(self.weights.get, feats, repeat(0.0))))

    def probability(self, raw: float, length_class: str) -> float:
        slope, offset = self.calibration[length_class]
        z = max(-30.0, min(30.0, slope * raw + offset))
        return 1.0 / (1.0 + math.exp(-z))

    def score(
        self, parts: TextParts, topic: Topic | None, phrase_score: float | None = None, divisor: float | None = None
    ) -> tuple[float, dict[str, float]]:
        """Calibrated probability of the topic, and the features it was computed from (``phrase_score``,
        ``divisor``: as `features.featurize` takes them)."""
        feats = featurize(parts, topic, phrase_score, divisor)
        return self.probability(self.raw_score(feats), parts.length_class), feats

    def terms(self, feats: dict[str, float]) -> list[str]:
        """Words and word pairs that pushed the score up most."""
        w = self.weights
        contrib = ((v * w[k], k) for k, v in feats.items() if k in w and k[:2] in ("w:", "t:", "h:"))
        out: list[str] = []
        for value, key in heapq.nlargest(3 * MAX_TERMS, contrib):  # the same word in w:, t: and h:
            if value <= 0 or len(out) >= MAX_TERMS:
                break
            if key[2:] not in out:
                out.append(key[2:])
        return out

    def sentences(self, parts: TextParts) -> list[str]:
        """The body sentences (or the title) whose words carry the most weight for the topic."""
        w = self.weights
        ranked: list[tuple[float, int, str]] = []
        for i, m in enumerate(_SENTENCE.finditer(parts.body)):
            if i >= MAX_SENTENCES_READ:
                break
            sentence = " ".join(m.group().split())
            words = tokens(sentence)
            value = sum(w.get("w:" + t, 0.0) for t in words)
            value += sum(w.get(f"w:{a} {b}", 0.0) for a, b in zip(words, words[1:], strict=False))
            if value > 0:
                ranked.append((value, i, sentence))
        best = sorted(ranked, key=lambda x: (-x[0], x[1]))[:MAX_SENTENCES]
        if not best and parts.title:
            return [parts.title]
        return [s for _, _, s in sorted(best, key=lambda x: x[1])]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 2,
            "topic": self.topic,
            "thresholds": dict(sorted(self.thresholds.items())),
            "base_rate": self.base_rate,
            "intercept": self.intercept,
            "calibration": {k: list(v) for k, v in sorted(self.calibration.items())},
            "provenance": self.provenance,
            "weights": dict(sorted(self.weights.items())),
        }


def model_bytes(model: TopicModel) -> bytes:
    """The file content: gzip of sorted JSON with a fixed time stamp, so equal models give equal bytes."""
    text = json.dumps(model.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def content_version(data: bytes) -> str:
    return "lr-" + hashlib.sha256(data).hexdigest()[:12]


def save_model(model: TopicModel, path: Path) -> str:
    """Write the model file; returns its version."""
    data = model_bytes(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return content_version(data)


def parse_model(data: bytes, source: str = "model") -> TopicModel:
    try:
        raw = json.loads(gzip.decompress(data).decode("utf-8"))
        calibration = {k: (float(v[0]), float(v[1])) for k, v in raw["calibration"].items()}
        missing = [c for c in LENGTH_CLASSES if c not in calibration]
        if missing:
            raise ModelError(f"{source}: no calibration for length class(es) {', '.join(missing)}")
        if "thresholds" in raw:
            thresholds = {k: float(v) for k, v in raw["thresholds"].items()}
        else:  # format 1: one threshold for every length class
            thresholds = dict.fromkeys(LENGTH_CLASSES, float(raw["threshold"]))
        missing = [c for c in LENGTH_CLASSES if c not in thresholds]
        if missing:
            raise ModelError(f"{source}: no threshold for length class(es) {', '.join(missing)}")
        return TopicModel(
            topic=str(raw["topic"]),
            weights={str(k): float(v) for k, v in raw["weights"].items()},
            intercept=float(raw["intercept"]),
            calibration=calibration,
            thresholds=thresholds,
            base_rate=float(raw["base_rate"]),
            provenance=dict(raw.get("provenance") or {}),
            version=content_version(data),
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{source}: not a newsmon topic model ({exc})") from exc


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL) -> TopicModel | None:
    """The model in ``path``, or None when there is none (topics then fall back to their phrase rules)."""
    if not path.exists():
        log.warning("no topic model at %s: topics are decided by the seeds' phrases alone", path)
        return None
    return parse_model(path.read_bytes(), str(path))
