"""`newsmon eval extraction`: both metrics, the fixed split, the trafilatura baselines, --json and --dump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluation.extraction import (
    load_dataset,
    paired_bootstrap,
    run_extraction_eval,
    score_page,
    split_of,
    word_scores,
)


def test_word_metric_definition():
    assert word_scores("", "") == (1.0, 1.0, 1.0)
    assert word_scores("text", "") == (0.0, 0.0, 0.0)
    assert word_scores("", "gold words") == (0.0, 0.0, 0.0)
    # lower-cased bag of words: order does not matter, counts do
    p, r, f = word_scores("The cat the", "the CAT sat")
    assert (p, r) == (2 / 3, 2 / 3) and abs(f - 2 / 3) < 1e-12


def test_split_is_fixed_and_covers_every_page():
    ids = [f"{i:04d}" for i in range(200)]
    dev = {i for i in ids if split_of(i) == "dev"}
    assert 70 < len(dev) < 130  # about half
    assert {i for i in ids if split_of(i) == "test"} == set(ids) - dev
    assert split_of("0001") == split_of("0001")


def test_paired_bootstrap_interval_brackets_the_difference():
    ours = [score_page(str(i), "a b c d e f", "a b c d e f") for i in range(30)]
    theirs = [score_page(str(i), "a b c d x y" if i % 3 else "a b c d e f", "a b c d e f") for i in range(30)]
    ci = paired_bootstrap(ours, theirs, rounds=200)
    assert 0 < ci["word_f1"][0] <= ci["word_f1"][1]
    assert 0 < ci["shingle_f1"][0] <= ci["shingle_f1"][1]


def _dataset(tmp_path: Path) -> Path:
    story = " ".join(
        f"Sentence {i} says that the council approved the new budget for buses after a long debate." for i in range(8)
    )
    (tmp_path / "html").mkdir(parents=True)
    gold = {}
    for i in range(6):
        page_id = f"p{i}"
        html = (
            f"<html><head><title>Budget {i}</title></head><body><nav><a href='/'>Home</a> <a href='/x'>News</a></nav>"
            f"<article><h1>Budget {i}</h1><p>{story}</p></article><footer>Contact us</footer></body></html>"
        )
        (tmp_path / "html" / f"{page_id}.html").write_text(html, encoding="utf-8")
        gold[page_id] = {"articleBody": story, "url": f"https://example.test/{page_id}"}
    (tmp_path / "ground-truth.json").write_text(json.dumps(gold), encoding="utf-8")
    return tmp_path


def test_eval_json_summary_and_dump(tmp_path: Path):
    pytest.importorskip("trafilatura")
    d = _dataset(tmp_path / "set")
    lines: list[str] = []
    dump = tmp_path / "dump.jsonl"
    run_extraction_eval(d, json_out=True, baseline="trafilatura", split="all", dump=dump, worst=3, echo=lines.append)
    summary = json.loads(lines[-1])
    for metric in ("shingle", "word"):
        assert set(summary[metric]) == {"precision", "recall", "f1"}
        assert summary[metric]["f1"] > 0.9
    assert summary["pages"] == 6 and summary["pages_per_s"] > 0
    assert set(summary["baselines"]) == {"trafilatura", "trafilatura-precision"}
    for b in summary["baselines"].values():
        assert b["pages"] == 6 and len(b["diff_ci95"]["word_f1"]) == 2
    rows = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(6)]
    assert set(rows[0]) == {"id", "text", "title", "authors", "published", "not_article_reason"}
    assert rows[0]["title"] == "Budget 0" and "council approved" in rows[0]["text"]


def test_split_restricts_the_pages(tmp_path: Path):
    d = _dataset(tmp_path)
    dev = [p.page_id for p in load_dataset(d, "dev")]
    test = [p.page_id for p in load_dataset(d, "test")]
    assert sorted(dev + test) == [f"p{i}" for i in range(6)] and not set(dev) & set(test)
    with pytest.raises(ValueError, match="split"):
        load_dataset(d, "train")


def test_cli_runs_the_eval_and_names_a_bad_split(tmp_path: Path):
    from typer.testing import CliRunner

    from pipeline.ops.cli import app

    d = _dataset(tmp_path / "set")
    ok = CliRunner().invoke(app, ["eval", "extraction", str(d), "--split", "all", "--json"])
    assert ok.exit_code == 0, ok.output
    last = json.loads(ok.output.strip().splitlines()[-1])
    assert last["pages"] == 6 and set(last) >= {"shingle", "word", "pages", "pages_per_s"}
    bad = CliRunner().invoke(app, ["eval", "extraction", str(d), "--split", "train"])
    assert bad.exit_code != 0 and "--split train" in bad.output
