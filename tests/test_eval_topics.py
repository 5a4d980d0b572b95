"""The topic evaluation command (pipeline/evaluation/topics.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_SEEDS_DIR, load_seeds
from pipeline.evaluation.topics import evaluate_topics, main
from pipeline.tag.train import load_labelled

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV_SET = SHARED / "eval" / "topics" / "allsides-dev.jsonl"
SUBTOPIC_LABELS = Path(__file__).resolve().parent / "data" / "topic_subtopics.json"


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
    result, preds = evaluate_topics(_write(tmp_path / "mini.jsonl", ROWS), topics)
    assert (result["items"], result["tp"], result["fp"], result["fn"]) == (3, 1, 0, 1)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["items_per_s"] > 0
    [err] = result["worst_errors"]
    assert err["kind"] == "false_negative" and err["title"] == "A quiet day" and "score" in err
    assert [p["ID"] for p in preds] == ["a", "b", "c"]


def test_base_rate_weighs_false_positives(tmp_path: Path, topics):
    rows = [*ROWS, {**ROWS[0], "ID": "d", "is_immigration": False, "topic": "politics"}]
    path = _write(tmp_path / "mini.jsonl", rows)
    plain, _ = evaluate_topics(path, topics)
    rare, _ = evaluate_topics(path, topics, base_rate=0.01)
    assert plain["precision"] == 0.5  # one true, one false positive
    # at a 1% base rate each negative stands for 99 * (2 positives / 2 negatives) of them
    assert rare["precision"] == pytest.approx(1 / (1 + 99), abs=1e-3)


def test_main_json_line_and_dump(tmp_path: Path, capsys):
    path = _write(tmp_path / "mini.jsonl", ROWS)
    dump = tmp_path / "dump.jsonl"
    assert main([str(path), "--json", "--dump", str(dump)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(last) == {"precision", "recall", "f1", "items", "items_per_s"} and last["items"] == 3
    lines = [json.loads(x) for x in dump.read_text().splitlines()]
    assert [set(x) for x in lines] == [{"ID", "is_immigration_policy", "score", "subtopics"}] * 3
    assert lines[0]["is_immigration_policy"] is True and "border_enforcement" in lines[0]["subtopics"]
    assert lines[1] == {"ID": "b", "is_immigration_policy": False, "score": lines[1]["score"], "subtopics": {}}


def test_title_only_reads_titles(tmp_path: Path, capsys):
    rows = [{**ROWS[0], "content_original": "Nothing much happened."}, ROWS[1]]
    path = _write(tmp_path / "mini.jsonl", rows)
    assert main([str(path), "--title-only", "--json"]) == 0
    out = capsys.readouterr().out
    assert "(title text" in out and json.loads(out.strip().splitlines()[-1])["recall"] == 1.0


def test_any_keyword_baseline(tmp_path: Path, topics, capsys):
    # the "any immigration keyword" rule: one phrase of seeds/topics.yaml is enough, none is a no
    rows = [
        {**ROWS[1], "ID": "m", "title": "Local cafe hires a migrant as head chef"},  # a mere mention: still a yes
        *ROWS,
    ]
    result, preds = evaluate_topics(_write(tmp_path / "mini.jsonl", rows), topics, any_keyword=True, cv=5)
    assert [p["is_immigration_policy"] for p in preds] == [True, True, False, False]
    assert (result["tp"], result["fp"], result["fn"], result["cv"]) == (1, 1, 1, 0)
    assert preds[0]["model_version"] == "any-keyword" and "migrant" in preds[0]["evidence"]
    assert main([str(tmp_path / "mini.jsonl"), "--any-keyword", "--lede-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["precision"] == 0.5


def test_cap_csv(tmp_path: Path, topics):
    path = tmp_path / "cap.csv"
    path.write_text(
        "title,summary,majortopic\n"
        '"Dole pulls bill on immigration","The Senate leader withdrew the bill limiting legal immigration.",9\n'
        '"Yankees win opener","A late homer decided it.",29\n'
        '"Budget talks stall","Negotiators left without a deal on spending.",1\n',
        encoding="utf-8",
    )
    items = load_labelled(path)
    assert [it.label for it in items] == [True, False, False] and items[0].text.startswith("The Senate")
    result, _ = evaluate_topics(path, topics)
    assert (result["tp"], result["fp"], result["fn"]) == (1, 0, 0)


def test_cap_csv_needs_its_columns(tmp_path: Path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("headline,code\nx,9\n", encoding="utf-8")
    assert main([str(path)]) == 2
    assert "missing majortopic, summary, title" in capsys.readouterr().err


def test_cross_validation_trains_without_the_scored_fold(tmp_path: Path, topics, capsys):
    from test_topic_model import _toy_items

    rows = [
        {"ID": it.id, "title": it.title, "content_original": it.text, "is_immigration": it.label}
        for it in _toy_items(60)
    ]
    path = _write(tmp_path / "toy.jsonl", rows)
    dump = tmp_path / "cv.jsonl"
    assert main([str(path), "--cv", "3", "--json", "--dump", str(dump)]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validated" in out
    assert json.loads(out.strip().splitlines()[-1])["f1"] >= 0.9  # the toy classes are easy to tell apart
    assert len(dump.read_text().splitlines()) == 60


def test_fold_seed_deals_other_folds(tmp_path: Path, topics, capsys):
    from test_topic_model import _toy_items

    from pipeline.evaluation.topics import cross_validate

    items = _toy_items(60)
    splits = []
    for seed in (1, 2):
        preds, _ = cross_validate(items, topics, 3, "full", fold_seed=seed)
        splits.append({frozenset(p["ID"] for p in preds if p["fold"] == k) for k in range(3)})
    assert splits[0].isdisjoint(splits[1])  # other folds, not the same ones renumbered
    rows = [{"ID": it.id, "title": it.title, "content_original": it.text, "is_immigration": it.label} for it in items]
    path = _write(tmp_path / "toy.jsonl", rows)
    assert main([str(path), "--cv", "3", "--fold-seed", "2", "--json"]) == 0
    assert "3-fold cross-validated (fold seed 2)" in capsys.readouterr().out


def test_main_missing_file(tmp_path: Path, capsys):
    assert main([str(tmp_path / "nope.jsonl")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_subtopics_on_hand_labels(tmp_path: Path, topics):
    # Subtopics are phrases only; the topic gate here is the shipped model, which saw these articles in
    # training. The cross-validated figure (docs/topics.md) comes from `--cv 5 --subtopics`.
    if not DEV_SET.exists():
        pytest.skip(f"topic dev set not found at {DEV_SET} (the ../shared folder beside the repository)")
    labels = json.loads(SUBTOPIC_LABELS.read_text())["labels"]
    assert len(labels) >= 60
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [r for r in rows if r["ID"] in labels]
    assert len(picked) == len(labels)
    result, _ = evaluate_topics(_write(tmp_path / "s.jsonl", picked), topics, subtopic_labels=SUBTOPIC_LABELS)
    assert result["subtopics"]["items"] == len(labels)
    assert result["subtopics"]["micro_f1"] >= 0.80, result["subtopics"]


FEEDS = SHARED / "fixtures" / "feeds" / "real-news"


def _feeds_bench():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "topics_feeds.py"
    spec = importlib.util.spec_from_file_location("topics_feeds", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_feed_headlines_beat_the_keyword_rule(tmp_path: Path, capsys):
    # real feed headlines with a sentence of summary, a general stream at ~1.6% (bench/topics_feeds.py):
    # the owner's headline set is scored like this, and there a keyword rule got F1 0.60
    if not FEEDS.exists():
        pytest.skip(f"shared data not found at {FEEDS} (the ../shared folder beside the repository)")
    bench = _feeds_bench()
    dump = tmp_path / "feeds.jsonl"
    assert bench.main(["--json", "--dump", str(dump)]) == 0
    model = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert bench.main(["--json", "--any-keyword"]) == 0
    keyword = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(model) == {"precision", "recall", "f1", "items", "items_per_s"} and model["items"] > 700
    rows = [json.loads(x) for x in dump.read_text().splitlines()]
    assert len(rows) == model["items"] and set(rows[0]) == {"ID", "is_immigration_policy", "score", "subtopics"}
    assert model["f1"] >= keyword["f1"] + 0.15 and model["f1"] >= 0.75, (model, keyword)


def test_feed_labels_name_items_of_the_feeds(tmp_path: Path, capsys):
    if not FEEDS.exists():
        pytest.skip(f"shared data not found at {FEEDS} (the ../shared folder beside the repository)")
    labels = json.loads((Path(__file__).parent / "data" / "feed_headline_labels.json").read_text())
    stale = tmp_path / "labels.json"
    stale.write_text(json.dumps({**labels, "immigration": {**labels["immigration"], "https://example.org/x": ""}}))
    assert _feeds_bench().main(["--labels", str(stale)]) == 2
    assert "https://example.org/x" in capsys.readouterr().err
