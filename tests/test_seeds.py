"""The seed files a new install starts with: they load, and broken copies fail with clear messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.config import DEFAULT_SEEDS_DIR, ConfigError, load_seeds

SEED_FILES = ("feeds.yaml", "figures.yaml", "topics.yaml", "alerts.yaml")


@pytest.fixture(scope="module")
def seeds():
    return load_seeds(DEFAULT_SEEDS_DIR)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    for name in SEED_FILES:
        shutil.copy(DEFAULT_SEEDS_DIR / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, key: str, edit) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc[key])
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_real_seeds_load(seeds):
    assert seeds.poll_schedule_minutes == 5
    assert len(seeds.feeds) >= 40
    assert len(seeds.figures) >= 30
    assert [t.id for t in seeds.topics] == ["immigration_policy"]
    assert len(seeds.alerts) >= 4


def test_feeds_are_distinct_and_polled_sensibly(seeds):
    urls = [f.url for f in seeds.feeds]
    assert len(set(urls)) == len(urls), "the same feed URL is listed twice"
    assert len({f.outlet for f in seeds.feeds}) >= 30
    for feed in seeds.feeds:
        assert 5 <= feed.poll_interval_minutes <= 60, feed.id
        assert feed.tags, feed.id
        assert feed.url.startswith(("https://", "http://"))


def test_figures_include_the_seed_article_people(seeds):
    names = {f.name for f in seeds.figures}
    for person in (
        "Donald Trump",
        "Elon Musk",
        "Vivek Ramaswamy",
        "JD Vance",
        "Steve Bannon",
        "Joe Biden",
        "Kamala Harris",
        "Alejandro Mayorkas",
    ):
        assert person in names
    trump = seeds.figure("donald-trump")
    assert "@realDonaldTrump" in trump.aliases and "President-elect Trump" in trump.aliases
    vance = seeds.figure("jd-vance")
    assert "J.D. Vance" in vance.aliases


def test_topic_has_the_expected_subtopics(seeds):
    topic = seeds.topics[0]
    assert topic.name == "Immigration policy"
    assert {s.id for s in topic.subtopics} == {
        "work_visas",
        "asylum_refugees",
        "border_enforcement",
        "deportation",
        "daca",
        "citizenship",
        "legal_immigration_levels",
        "detention",
        "sanctuary",
        "legalization",
        "travel_ban",
    }
    assert topic.description
    for sub in topic.subtopics:
        assert sub.keywords and sub.description, sub.id


def test_topic_without_description_or_with_a_score_threshold_above_one(seeds_copy: Path):
    def edit(topics):
        del topics[0]["subtopics"][1]["description"]
        topics[0]["threshold"] = 4.5  # the old phrase-score scale

    _edit(seeds_copy / "topics.yaml", "topics", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "topics.yaml" in msg and "subtopics.1.description" in msg and "required" in msg
    assert "field 'threshold'" in msg and "less than 1" in msg


def test_alert_examples_cover_every_kind(seeds):
    rules = {r.name: r for r in seeds.alerts}
    assert rules["tracked-figure-statements"].figures == ["*"]
    assert any(r.kind == "statement" and r.figures != ["*"] for r in seeds.alerts)
    assert any(r.kind == "keyword" and "H-1B" in r.keywords for r in seeds.alerts)
    assert any(r.topic for r in seeds.alerts)
    assert any(r.schedule == "daily" for r in seeds.alerts)


def test_broken_feed_names_file_entry_and_field(seeds_copy: Path):
    def edit(feeds):
        feeds[2]["url"] = "feeds.example.com/rss"  # no scheme
        del feeds[4]["outlet"]

    _edit(seeds_copy / "feeds.yaml", "feeds", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "feeds.yaml" in msg
    assert "entry 3 ('nyt-world')" in msg and "field 'url'" in msg and "http" in msg
    assert "entry 5" in msg and "field 'outlet'" in msg and "required" in msg


def test_misspelt_figure_field_is_reported(seeds_copy: Path):
    def edit(figures):
        figures[0]["alias"] = figures[0].pop("aliases")

    _edit(seeds_copy / "figures.yaml", "figures", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "figures.yaml" in msg and "entry 1 ('donald-trump')" in msg
    assert "field 'alias'" in msg and "not a known field" in msg


def test_bad_keyword_weight_in_topics(seeds_copy: Path):
    def edit(topics):
        topics[0]["keywords"]["immigration"] = "lots"

    _edit(seeds_copy / "topics.yaml", "topics", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "topics.yaml" in msg and "immigration_policy" in msg and "keywords.immigration" in msg


def test_alert_with_unknown_figure_fails_clearly(seeds_copy: Path):
    def edit(alerts):
        alerts[1]["figures"] = ["donald-trump", "nobody-we-track"]

    _edit(seeds_copy / "alerts.yaml", "alerts", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "alerts.yaml" in msg and "entry 2" in msg and "field 'figures'" in msg
    assert "nobody-we-track" in msg and "donald-trump" not in msg.split("unknown figure id(s)")[1]


def test_alert_with_bad_email_fails_clearly(seeds_copy: Path):
    def edit(alerts):
        alerts[0]["recipients"] = ["editors at newsroom"]

    _edit(seeds_copy / "alerts.yaml", "alerts", edit)
    with pytest.raises(ConfigError) as info:
        load_seeds(seeds_copy)
    msg = str(info.value)
    assert "alerts.yaml" in msg and "tracked-figure-statements" in msg and "recipients" in msg
    assert "not an email address" in msg


def test_invalid_yaml_names_the_file(seeds_copy: Path):
    (seeds_copy / "topics.yaml").write_text("topics:\n  - id: x\n   name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"topics\.yaml: not valid YAML"):
        load_seeds(seeds_copy)
