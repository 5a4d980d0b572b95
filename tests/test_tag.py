"""Topic tagger and figure mentions (pipeline/tag/)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_SEEDS_DIR, Figure, Subtopic, Topic, load_seeds
from pipeline.tag import (
    decide_topics,
    load_model,
    mentioned_figures,
    phrase_pattern,
    score_article,
    squash,
    tag_article,
)
from pipeline.tag.features import split_parts
from pipeline.tag.rules import _compile

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_ARTICLE = SHARED / "fixtures" / "seed-article"


@pytest.fixture(scope="module")
def seeds():
    return load_seeds(DEFAULT_SEEDS_DIR)


@pytest.fixture(scope="module")
def topics(seeds):
    return seeds.topics


def _labels(result):
    return {lab.label: lab for lab in result}


POLICY_TITLE = "Senate weighs immigration bill as border crossings fall"
POLICY_TEXT = """
The Senate on Tuesday began debate on a sweeping immigration bill that would tighten asylum rules
and fund more Border Patrol agents along the southern border.
Supporters said the measure would reduce illegal immigration and speed up deportation of people who
have no legal claim to stay. Opponents said it abandons asylum seekers fleeing violence.
The bill would also expand the H-1B program and clear part of the green card backlog.
Immigration and Customs Enforcement would receive money for detention beds.
"""

SPORTS_TITLE = "Rangers edge Bruins in overtime thriller"
SPORTS_TEXT = """
The Rangers beat the Bruins 3-2 in overtime on Saturday night. The puck crossed the goal line after
a scramble at the border of the crease, and fans spilled onto the ice to celebrate.
The coach said the team had crossed a line this season. An immigrant from Sweden scored twice.
"""


def test_policy_story_is_tagged_with_evidence(topics):
    decision = decide_topics(POLICY_TITLE, POLICY_TEXT, topics)
    result = _labels(decision.labels)
    assert decision.is_immigration_policy and "immigration_policy" in result
    topic = result["immigration_policy"]
    assert topic.parent is None
    threshold = load_model().thresholds[split_parts(POLICY_TITLE, POLICY_TEXT).length_class]
    assert topic.score == decision.score and threshold <= topic.score <= 1
    assert topic.evidence and len(topic.evidence) <= 8
    assert "immigration bill" in topic.evidence
    assert decision.model_version == load_model().version and decision.model_version.startswith("lr-")
    assert decision.sentences and all(s in " ".join(POLICY_TEXT.split()) for s in decision.sentences)
    assert "border_enforcement" in result
    assert result["border_enforcement"].parent == "immigration_policy"
    assert result["border_enforcement"].evidence


def test_sports_story_is_not_tagged(topics):
    # "ice", "border", "crossed", "immigrant" alone must not make a story about immigration policy
    assert tag_article(SPORTS_TITLE, SPORTS_TEXT, topics) == []


def test_lower_case_ice_is_not_the_agency(topics):
    scores = score_article("", "Ice formed on the roads; ice storms hit Texas.", topics)
    assert scores["immigration_policy"][0] == 0
    scores = score_article("", "ICE agents detained him.", topics)
    assert "ICE" in scores["immigration_policy"][1]


def test_mere_mentions_stay_below_threshold(topics):
    text = (
        "The restaurant was opened by an immigrant family in 1982. Its owner, the son of immigrants, "
        "said the menu has barely changed. Across the border in Canada, a sister restaurant opened."
    )
    assert tag_article("A family restaurant turns 40", text, topics) == []


def _toy_topics() -> list[Topic]:
    # decided by phrases alone (use_model false): scores are 1 - exp(-phrase score / 3)
    return [
        Topic(
            id="immigration_policy",
            name="Immigration policy",
            description="toy",
            threshold=0.6,
            use_model=False,
            keywords={"immigration reform": 3.0, "visa": 1.0, "deport*": 1.0},
            subtopic_threshold=0.45,
            subtopics=[
                Subtopic(id="work_visas", name="Work visas", description="toy", keywords={"H-1B": 3.0, "visa": 0.5}),
                Subtopic(id="deportation", name="Deportation", description="toy", keywords={"deport*": 2.0}),
            ],
        )
    ]


def test_subtopic_not_assigned_without_parent():
    topics = _toy_topics()
    # H-1B alone scores the subtopic but not the parent topic
    text = "The H-1B lottery opened on Monday."
    scores = score_article("", text, topics)
    assert squash(scores["work_visas"][0]) >= topics[0].subtopic_threshold
    assert squash(scores["immigration_policy"][0]) < topics[0].threshold
    assert tag_article("", text, topics) == []
    # with the parent assigned, the subtopic follows
    labels = _labels(tag_article("", text + " Congress took up immigration reform.", topics))
    assert set(labels) == {"immigration_policy", "work_visas"}
    assert labels["work_visas"].evidence[0] == "H-1B"


def test_title_weighs_more_and_repeats_saturate():
    topics = _toy_topics()
    body_only = score_article("", "immigration reform", topics)["immigration_policy"][0]
    in_title = score_article("immigration reform", "", topics)["immigration_policy"][0]
    assert in_title > body_only
    once = score_article("", "visa.", topics)["immigration_policy"][0]
    many = score_article("", "visa. " * 50, topics)["immigration_policy"][0]
    assert once < many <= 2 * once


def test_phrase_variants():
    import re

    def hit(phrase, text):
        return re.search(r"(?<!\w)" + phrase_pattern(phrase) + r"(?!\w)", text, re.I) is not None

    assert hit("H-1B", "the H1B program") and hit("H-1B", "H-1B visas") and hit("H-1B", "h 1b")
    assert hit("green card", "green-card holders")
    assert hit("deport*", "they were deported") and hit("deport*", "deportations rose")
    assert hit("asylum seeker", "asylum seekers")
    assert not hit("ice", "police") and not hit("visa", "visibility")


def test_word_boundaries_and_longest_match():
    topics = [Topic(id="t", name="T", description="toy", keywords={"immigration": 1.0, "illegal immigration": 3.0})]
    score, evidence = score_article("", "Illegal immigration.", topics)["t"]
    assert evidence == ["illegal immigration"] and score == 3.0
    assert score_article("", "Immigrationist views", topics)["t"][0] == 0


def test_phrase_scan_finds_whole_words_only_and_every_occurrence():
    # the scan looks for candidate words with str.find: an occurrence inside a longer word (letters,
    # digits or "_" beside it) is none, and each whole-word occurrence counts, in text order
    topics = [Topic(id="t", name="T", description="toy", keywords={"visa": 1.0, "deport*": 1.0, "ICE": 1.0})]
    index = _compile(topics).index
    text = "visa_x _visa visa2 avisa VISA, visa; Visas deport-deported ICE ice İ visa"
    got = [(text[a:b], payload) for a, b, payload in index.finditer(text)]
    assert got == [
        ("VISA", "visa"),
        ("visa", "visa"),
        ("Visas", "visa"),
        ("deport", "deport*"),
        ("deported", "deport*"),
        ("ICE", "ICE"),
        ("visa", "visa"),
    ]
    # "İ" lower-cases to two characters, which moves every offset: the word-by-word path gives the same
    assert [payload for _, _, payload in index.finditer(text.replace("İ", "I"))] == [p for _, p in got]


# ---------------------------------------------------------------- figures


def _figures() -> list[Figure]:
    return [
        Figure(
            id="donald-trump",
            name="Donald Trump",
            aliases=["Trump", "President Trump", "@realDonaldTrump"],
            role="President",
            affiliation="R",
        ),
        Figure(id="jd-vance", name="JD Vance", aliases=["J.D. Vance", "Vance"], role="VP", affiliation="R"),
        Figure(
            id="bernie-sanders",
            name="Bernie Sanders",
            aliases=["Sanders", "Sen. Sanders"],
            role="Senator",
            affiliation="I",
        ),
        Figure(
            id="sarah-sanders",
            name="Sarah Huckabee Sanders",
            aliases=["Sanders", "Gov. Sanders"],
            role="Governor",
            affiliation="R",
        ),
        Figure(id="elon-musk", name="Elon Musk", aliases=["Musk", "@elonmusk"], role="CEO", affiliation="B"),
    ]


def test_full_names_aliases_and_handles():
    figs = _figures()
    text = "President Trump met J.D. Vance. Later @ElonMusk posted about it."
    assert mentioned_figures(text, figs) == ["Donald Trump", "JD Vance", "Elon Musk"]


def test_unique_surname_counts_alone():
    assert mentioned_figures("Musk said the plan was broken.", _figures()) == ["Elon Musk"]


def test_shared_surname_needs_full_name():
    figs = _figures()
    assert mentioned_figures("Sanders said no.", figs) == []
    text = "Sen. Bernie Sanders spoke first. Later Sanders added that he disagreed."
    assert mentioned_figures(text, figs) == ["Bernie Sanders"]
    assert mentioned_figures("Gov. Sanders signed the bill.", figs) == ["Sarah Huckabee Sanders"]


def test_names_are_case_sensitive_and_whole_words():
    figs = _figures()
    assert mentioned_figures("He played his trump card at the vance-ville muskrat fair.", figs) == []
    assert mentioned_figures("Trumpism is not a person.", figs) == []


def test_real_figures_on_short_text(seeds):
    text = "Vice President-elect JD Vance and Gov. Greg Abbott spoke; Kristi Noem and Mayorkas disagreed."
    assert mentioned_figures(text, seeds.figures) == ["JD Vance", "Greg Abbott", "Kristi Noem", "Alejandro Mayorkas"]


# ---------------------------------------------------------------- the project's seed article


@pytest.fixture(scope="module")
def seed_article():
    if not (SEED_ARTICLE / "article.txt").exists():
        pytest.skip(f"shared data not found at {SEED_ARTICLE} (the ../shared folder beside the repository)")
    expected = json.loads((SEED_ARTICLE / "expected.json").read_text(encoding="utf-8"))
    return expected, (SEED_ARTICLE / "article.txt").read_text(encoding="utf-8")


def test_seed_article_topics(seed_article, topics):
    expected, text = seed_article
    labels = tag_article(expected["metadata"]["title"], text, topics)
    got = _labels(labels)
    assert ("immigration_policy" in got) == expected["topic"]["immigration_policy"]
    subtopics = [lab.label for lab in labels if lab.parent == "immigration_policy"]
    assert subtopics == expected["topic"]["subtopics"]
    assert "H-1B" in got["work_visas"].evidence


def test_seed_article_without_its_title(seed_article, topics):
    # Without its headline the model is less sure of the seed article (AllSides, its training data,
    # has few work-visa stories), but it stays well above unrelated text of its length class (full),
    # reaches the full-text threshold, and its phrases still point at work visas.
    expected, text = seed_article
    untitled = decide_topics("", text, topics)
    assert untitled.is_immigration_policy, untitled.score
    assert [lab.label for lab in untitled.labels if lab.parent][:1] == expected["topic"]["subtopics"][:1]
    assert split_parts("", text).length_class == split_parts(SPORTS_TITLE, SPORTS_TEXT * 3).length_class == "full"
    assert untitled.score > 10 * decide_topics(SPORTS_TITLE, SPORTS_TEXT * 3, topics).score
    phrases = score_article("", text, topics)
    subs = [s.id for s in topics[0].subtopics]
    assert max(subs, key=lambda s: phrases[s][0]) == expected["topic"]["subtopics"][0]


def test_seed_article_people(seed_article, seeds):
    expected, text = seed_article
    assert sorted(mentioned_figures(text, seeds.figures)) == sorted(expected["people_mentioned"])


# ---------------------------------------------------------------- length, calibration, cost


@pytest.mark.parametrize(
    "title",
    [
        "Dole pulls bill on immigration",
        "House votes to let more alien farm workers in",
        "Judge blocks new rules on immigrant detention and deportation",
        "Senate passes bill to tighten asylum rules at the border",
    ],
)
def test_headline_alone_is_decided(topics, title):
    decision = decide_topics(title, "", topics)
    assert decision.is_immigration_policy, (title, decision.score)
    assert decision.sentences == [title]  # a headline alone is its own evidence


@pytest.mark.parametrize(
    "title",
    [
        "Rangers edge Bruins in overtime thriller",
        "Fed holds rates steady as inflation cools",
        "What a government shutdown means for national parks and passports",
    ],
)
def test_unrelated_headline_is_not(topics, title):
    decision = decide_topics(title, "", topics)
    assert not decision.is_immigration_policy and 0 <= decision.score < load_model().thresholds["title"]


def test_new_user_story_on_detention_and_deportation_rules(topics):
    # the story the old fixed threshold missed (issue 12)
    text = (
        "The administration published new rules on Monday that widen the use of immigrant detention and speed "
        "up deportation for people who entered the country without authorization. Advocates said the rules "
        "would keep families in detention for months. Officials said removals would rise next year."
    )
    decision = decide_topics("New rules expand immigrant detention and deportations", text, topics)
    assert decision.is_immigration_policy
    subtopics = [lab.label for lab in decision.labels if lab.parent]
    assert {"detention", "deportation"} <= set(subtopics)


def test_score_is_a_probability_and_length_classes_differ(topics):
    model = load_model()
    assert set(model.calibration) == {"title", "short", "full"}
    assert set(model.thresholds) == {"title", "short", "full"}
    assert 0 < model.base_rate < 0.1 and all(0 < t < 1 for t in model.thresholds.values())
    for title, text in [("", ""), (POLICY_TITLE, ""), (POLICY_TITLE, POLICY_TEXT), (SPORTS_TITLE, SPORTS_TEXT)]:
        assert 0.0 <= decide_topics(title, text, topics).score <= 1.0


def test_each_length_class_has_its_own_threshold(topics):
    # a headline is held to the title threshold, a story to the full-text one
    model = load_model()
    strict_titles = replace(model, thresholds={"title": 1.01, "short": 1.01, "full": 0.0})
    assert not decide_topics(POLICY_TITLE, "", topics, strict_titles).is_immigration_policy
    assert split_parts(SPORTS_TITLE, SPORTS_TEXT * 3).length_class == "full"
    assert decide_topics(SPORTS_TITLE, SPORTS_TEXT * 3, topics, strict_titles).is_immigration_policy
    strict_full = replace(model, thresholds={"title": 0.0, "short": 0.0, "full": 1.01})
    assert decide_topics(SPORTS_TITLE, "", topics, strict_full).is_immigration_policy
    assert not decide_topics(POLICY_TITLE, POLICY_TEXT * 3, topics, strict_full).is_immigration_policy


def test_tagging_cost_is_linear_in_text_length(topics):
    def seconds(text: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            decide_topics(POLICY_TITLE, text, topics)
            best = min(best, time.perf_counter() - start)
        return best

    base = POLICY_TEXT + SPORTS_TEXT  # ~ 150 words; 8x stays under the cap
    seconds(base)  # warm the caches
    assert seconds(base * 8) < 12 * seconds(base)
    # and text beyond the cap costs nothing more
    huge = base * 200
    assert seconds(huge) < 3 * seconds(base * 40)
