"""The immigration-policy model: file format, training, reproducibility (pipeline/tag/model.py, train.py)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_SEEDS_DIR, load_seeds
from pipeline.tag import decide_topics, load_model
from pipeline.tag.model import DEFAULT_MODEL, ModelError, content_version, model_bytes, parse_model
from pipeline.tag.train import LabelledItem, fold_of, train_model

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "topics" / "allsides-dev.jsonl"


@pytest.fixture(scope="module")
def topic():
    return load_seeds(DEFAULT_SEEDS_DIR).topics[0]


def _toy_items(n: int = 120) -> list[LabelledItem]:
    """Synthetic articles written here: immigration stories and others, with overlapping words."""
    rng = random.Random(7)
    pos = ["visa", "asylum", "deportation", "border wall", "green card", "refugee", "migrants", "ICE agents"]
    neg = ["tariff", "election", "senate vote", "wildfire", "quarterback", "inflation", "court ruling", "budget"]
    common = ["The president said", "Lawmakers argued", "Officials announced", "A judge ruled", "Critics warned"]
    items = []
    for i in range(n):
        label = i % 3 == 0
        words = pos if label else neg
        title = f"{rng.choice(common)} on {rng.choice(words)}"
        body = " ".join(f"{rng.choice(common)} that the {rng.choice(words)} plan would change." for _ in range(40))
        items.append(LabelledItem(id=f"x{i}", title=title, text=body, label=label))
    return items


def test_shipped_model_loads_and_is_small():
    model = load_model()
    assert model is not None and model.topic == "immigration_policy"
    assert DEFAULT_MODEL.stat().st_size < 1_000_000
    assert model.version == content_version(DEFAULT_MODEL.read_bytes())
    assert model.provenance["file"] == "allsides-dev.jsonl" and len(model.provenance["sha256"]) == 64
    # writing it back gives the same bytes: the version names the content
    assert model_bytes(model) == DEFAULT_MODEL.read_bytes()


def test_broken_model_file_is_named():
    with pytest.raises(ModelError, match="bad.json.gz: not a newsmon topic model"):
        parse_model(b"not gzip", "bad.json.gz")
    with pytest.raises(ModelError, match="no calibration for length class"):
        parse_model(
            gzip.compress(
                b'{"topic":"t","weights":{},"intercept":0,"calibration":{},"threshold":0.5,"base_rate":0.03}'
            ),
            "m",
        )


def test_format_1_file_has_one_threshold_for_every_length_class():
    raw = (
        b'{"format":1,"topic":"t","weights":{"w:visa":1.5},"intercept":-1,"threshold":0.4,"base_rate":0.03,'
        b'"calibration":{"title":[1,0],"short":[1,0],"full":[1,0]}}'
    )
    model = parse_model(gzip.compress(raw), "old.json.gz")
    assert model.thresholds == {"title": 0.4, "short": 0.4, "full": 0.4}
    with pytest.raises(ModelError, match="m: no threshold for length class"):
        parse_model(gzip.compress(raw.replace(b'"threshold":0.4', b'"thresholds":{"full":0.4}')), "m")


def test_training_is_deterministic_and_learns(topic):
    items = _toy_items()
    a, b = train_model(items, topic), train_model(items, topic)
    assert model_bytes(a) == model_bytes(b)
    a = parse_model(model_bytes(a))
    assert a.version.startswith("lr-")
    pos = decide_topics("Officials announced new asylum rules", "", [topic], a)
    neg = decide_topics("Officials announced a new tariff", "", [topic], a)
    assert pos.score > neg.score


def test_training_needs_both_classes(topic):
    items = [it for it in _toy_items() if it.label]
    with pytest.raises(ValueError, match="both positive and negative"):
        train_model(items, topic)


def test_folds_are_stratified_and_stable():
    items = _toy_items(90)
    folds = fold_of(items, 5)
    assert folds == fold_of(items, 5)
    for k in range(5):
        members = [it for it, f in zip(items, folds, strict=True) if f == k]
        assert 17 <= len(members) <= 19 and sum(it.label for it in members) == 6


@pytest.mark.skipif(not DEV_SET.exists(), reason=f"topic dev set not found at {DEV_SET}")
def test_shipped_model_is_rebuilt_from_the_dev_set(topic):
    # slow-ish (trains on 2,974 articles): the shipped file is exactly what `newsmon train topics` makes
    from pipeline.tag.train import main

    assert main([str(DEV_SET), "--check"]) == 0
