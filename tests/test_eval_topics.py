"""The topic evaluation command (pipeline/evaluation/topics.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_SEEDS_DIR, load_seeds
from pipeline.evaluation.topics import evaluate_topics, main

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "topics" / "allsides-dev.jsonl"


@pytest.fixture(scope="module")
def topics():
    return load_seeds(DEFAULT_SEEDS_DIR).topics


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


ROWS = [
    {
        "ID": "a",
        "topic": "immigration",
        "is_immigration": True,
        "source": "X",
        "title": "House passes immigration bill on border security",
        "content_original": "The immigration bill funds border security and speeds deportation of illegal immigrants.",
    },
    {
        "ID": "b",
        "topic": "sports",
        "is_immigration": False,
        "source": "Y",
        "title": "Rangers win in overtime",
        "content_original": "Fans spilled onto the ice.",
    },
    {
        "ID": "c",
        "topic": "immigration",
        "is_immigration": True,
        "source": "Z",
        "title": "A quiet day",
        "content_original": "Nothing much happened.",
    },
]


def test_counts_and_errors(tmp_path: Path, topics):
    result = evaluate_topics(_write(tmp_path / "mini.jsonl", ROWS), topics)
    assert (result["n"], result["tp"], result["fp"], result["fn"]) == (3, 1, 0, 1)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["articles_per_s"] > 0
    [err] = result["worst_errors"]
    assert err["kind"] == "false_negative" and err["title"] == "A quiet day" and "score" in err


def test_main_prints_json(tmp_path: Path, capsys):
    path = _write(tmp_path / "mini.jsonl", ROWS)
    assert main([str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["n"] == 3 and "worst_errors" in out


def test_main_missing_file(tmp_path: Path, capsys):
    assert main([str(tmp_path / "nope.jsonl")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_dev_set_quality(topics):
    if not DEV_SET.exists():
        pytest.skip(f"topic dev set not found at {DEV_SET} (the ../shared folder beside the repository)")
    result = evaluate_topics(DEV_SET, topics)
    assert result["n"] == 2974 and result["positives"] == 918
    assert result["f1"] >= 0.85, result
    assert result["precision"] >= 0.8 and result["recall"] >= 0.8
    assert len(result["worst_errors"]) == 20
