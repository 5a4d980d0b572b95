"""The trafilatura second opinion: asked only when newsmon's text holds little of the page's prose,
taken only when it holds newsmon's words, is much longer and does not repeat itself."""

from __future__ import annotations

import pytest

import pipeline.extract.body as body
from pipeline.extract.body import extract_article
from pipeline.extract.second_opinion import needs_second_opinion, prefer

pytest.importorskip("trafilatura")

_SUBJECTS = [
    "housing", "buses", "schools", "parks", "libraries", "roads",
    "water pipes", "street lights", "clinics", "bike lanes", "youth clubs", "museums",
]  # fmt: skip
_VERBS = [
    "argued", "insisted", "warned", "noted", "explained", "complained",
    "suggested", "claimed", "admitted", "promised", "recalled", "estimated",
]  # fmt: skip
PARAS = [
    f"Councillor number {i} {_VERBS[i]} that spending on {_SUBJECTS[i]} had been neglected since {1990 + i}, "
    f"and asked the board to find {i * 7 + 3} million more before the spring vote on {_SUBJECTS[(i + 5) % 12]}."
    for i in range(12)
]


def _page(inside_cards: list[str]) -> str:
    """Three paragraphs in the article, the rest each in a box whose class name looks like a teaser card."""
    return (
        "<html><head><title>Council agrees budget</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>Council agrees budget</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAS[:3])
        + "".join(f"<div class='story-card'><p>{p}</p></div>" for p in inside_cards)
        + "</article><footer>Copyright Example News</footer></body></html>"
    )


def test_story_split_into_card_boxes_is_completed_by_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    html = _page(PARAS[3:]).encode()
    url = "https://news.example.test/council-budget"
    art = extract_article(html, url)
    assert art.not_article_reason is None
    for p in PARAS:
        assert p in art.text
    # without the second opinion newsmon keeps only the paragraphs outside the card boxes
    monkeypatch.setattr(body, "needs_second_opinion", lambda text, prose: False)
    alone = extract_article(html, url)
    assert PARAS[0] in alone.text and PARAS[5] not in alone.text


def test_repeated_banner_text_is_not_taken() -> None:
    banner = [
        f"Free standard shipping on orders over {n} euros. For more information on shipping rates and timelines, "
        "please visit our international page."
        for n in range(30, 60)
    ]
    ours = PARAS[0]
    assert prefer(ours, "\n".join([ours, *PARAS[1:]]))
    assert not prefer(ours, "\n".join([ours, *banner]))


def test_other_story_or_little_more_is_not_taken() -> None:
    ours = "\n".join(PARAS[:4])
    assert not prefer(ours, "\n".join(PARAS[:6]))  # not MIN_GROWTH times as long
    other = [f"Forecasters expect {w} across the northern hills by day {d}." for d, w in enumerate(_SUBJECTS * 3)]
    assert not prefer(ours, "\n".join(other))  # a different text
    assert prefer(ours, "\n".join(PARAS))


def test_gate_on_share_of_page_prose() -> None:
    assert needs_second_opinion("x" * 100, 1000)
    assert not needs_second_opinion("x" * 900, 1000)
    assert not needs_second_opinion("", 0)
