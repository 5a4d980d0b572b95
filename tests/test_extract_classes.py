"""Class and id names: CSS layout utilities are not boilerplate names, and the fast token flags equal
the plain case-folding regex searches on every class and id token of the dev pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.evaluation.extraction import split_of
from pipeline.extract import classes
from pipeline.extract.body import extract_article

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
EVAL_DIRS = [SHARED / "eval" / "extraction", SHARED / "eval" / "extraction-wcxb"]


def _reference_flags(token: str) -> int:
    """The plain rule: case-folding searches, the negative names looked for outside layout utilities."""
    social, neg, junk, popup, pos, weak = classes._PATTERNS
    named = classes._LAYOUT.sub(" ", token)
    flags = (
        (1 if social.search(token) else 0)
        | (2 if neg.search(named) else 0)
        | (4 if junk.search(token) else 0)
        | (8 if popup.search(token) else 0)
        | (16 if pos.search(token) else 0)
    )
    if flags & 2 and neg.search(weak.sub(" ", named)):
        flags |= 64
    return flags


_ATTR = re.compile(r"""\b(?:class|id)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def test_fast_token_flags_equal_the_reference_on_made_up_tokens() -> None:
    tokens = [
        "Article-Body", "SIDEBAR", "zox-post-body", "x-post", "twitter-tweet", "HoverCard", "sr-only",
        "promo-card", "card", "related-widget", "ad", "ads-slot", "head", "ſidebar", "İnfo-box", "Kommentar",
        "VISUALLY_HIDDEN", "entry-content", "tooltip-popup", "widget-comment", "Border-Bottom",
        "pc-paddingBottom-16", "bottom-bar", "BOTTOM-0", "ad-border-bottom",
    ]  # fmt: skip
    for token in tokens:
        assert classes._compute_token_flags(token) == _reference_flags(token), token


def test_fast_token_flags_equal_the_reference_on_every_dev_page_token() -> None:
    dirs = [d for d in EVAL_DIRS if (d / "html").is_dir()]
    if not dirs:
        pytest.skip(f"shared extraction eval sets not found under {SHARED / 'eval'}")
    tokens: set[str] = set()
    for d in dirs:
        for path in (d / "html").glob("*.html"):
            if split_of(path.stem) == "dev":
                for m in _ATTR.finditer(path.read_text(encoding="utf-8", errors="replace")):
                    tokens.update(m.group(1).split())
    assert len(tokens) > 10_000
    wrong = [t for t in tokens if classes._compute_token_flags(t) != _reference_flags(t)]
    assert not wrong, wrong[:20]


def test_css_layout_utilities_naming_bottom_do_not_make_a_box_boilerplate() -> None:
    # "Spacing_module_spacingTightbottom" and "pc-paddingBottom-16" say how a box is drawn, not what it
    # holds; "bottom-bar" or "page-bottom" still name a site's furniture.
    details = "".join(
        f"<div class='Spacing_module_spacingTightbottom__e229 pc-paddingBottom-16'><ul>"
        f"<li>Stop {i}: a morning walk through the old town and lunch by the harbour of island {i}.</li>"
        f"<li>Trip details {i}: eight days, ten meals and seven nights in family-run hotels.</li></ul></div>"
        f"<p>Day {i} of the tour ends with a boat trip along the coast, with time to swim before dinner "
        f"and a guide who knows the history of every lighthouse on the way back to port.</p>"
        for i in range(4)
    )
    html = f"<html><head><title>Tours</title></head><body><article><h1>Tours</h1>{details}</article></body></html>"
    art = extract_article(html, "https://example.test/tours")
    for i in range(4):
        assert f"Stop {i}: a morning walk" in art.text and f"Trip details {i}" in art.text
    for token in ("pc-paddingBottom-16", "border-bottom", "bottom-0", "margin-bottom"):
        assert classes.attr_flags(token) == 0, token
    for token in ("bottom-bar", "page-bottom", "story-below"):
        assert classes.attr_flags(token) & 2, token


def test_block_text_normalising_skips_its_patterns_only_where_they_change_nothing():
    """norm() takes a short cut on ASCII text: on random strings of every kind of space, invisible
    character and control character it gives exactly what the two patterns give."""
    import random

    from pipeline.extract import blocks
    from pipeline.extract.page import _CONTROL, decode_page

    def reference(text: str) -> str:
        return blocks._SPACES.sub(" ", blocks._INVISIBLE.sub("", text).replace("\n", " ")).strip()

    alphabet = ["a", "B", " ", "  ", "\t", "\r", "\n", "\f", "\v", "\u00a0", "\u2009", "\u200b", "\u00ad", "é", "x"]
    rng = random.Random(5)
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in range(5000)]
    assert [blocks.norm(s) for s in samples] == [reference(s) for s in samples]
    assert sum(s.isascii() for s in samples) > 100  # both paths are exercised
    for s in ("plain text", "a\x07b\x1fc\x7fd", "tab\tand\nnew line\r"):
        assert decode_page(s, None) == _CONTROL.sub("", s)
    assert decode_page(b"<p>bell\x07</p>", "text/html; charset=utf-8") == "<p>bell</p>"
