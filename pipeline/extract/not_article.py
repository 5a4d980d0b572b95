"""Why a page is not an article: empty, consent wall, paywall stub, video page, section front, too short."""

from __future__ import annotations

import re

from pipeline.extract.blocks import WORD
from pipeline.extract.meta import PageMeta

_CONSENT = re.compile(
    r"\b(?:cookies?|consent|privacy (?:policy|settings|preferences)|accept all|reject all|manage (?:options|preferences|settings)|"
    r"personal data|partners|gdpr|legitimate interest)\b",
    re.IGNORECASE,
)
# "Subscribe now to keep reading and get access to the full archive." is the newsletter box that a common
# WordPress plugin (Jetpack) puts at the end of every post of a blog, hidden until the reader scrolls: not a
# paywall (on the WCXB dev half it made a 281-word post a "paywall").
_PAYWALL = re.compile(
    r"subscribe (?:now |today )?to (?:continue|read|keep reading(?! and get access to the full archive)|unlock)|subscribers? only|for subscribers|"
    r"already a (?:subscriber|member)|to continue reading|continue reading with|sign in to (?:continue|read)|"
    r"log in to (?:continue|read)|create a free account|this (?:article|content|story) is (?:for|available to|exclusive to) (?:subscribers|members|premium)|"
    r"unlock (?:this|full) (?:article|story|access)|start your (?:free )?trial|premium (?:article|content)|"
    r"you have reached your (?:free )?(?:article )?limit|remaining free articles?",
    re.IGNORECASE,
)


def not_article_reason(text: str, page_text: str, meta: PageMeta, page_words: int, link_words: int) -> str | None:
    """Why this page is not an article (section front, consent wall, paywall stub, video page), or None."""
    words = len(WORD.findall(text))
    if page_words == 0 and words == 0:
        return "empty"
    low = page_text[:20000]
    if words < 250 and len(_CONSENT.findall(text[:5000])) >= 3:
        return "consent_wall"
    if words < 60 and len(_CONSENT.findall(low)) >= 3:
        return "consent_wall"
    if words < 300 and (_PAYWALL.search(low) or meta.accessible_for_free is False and words < 150):
        return "paywall"
    if words < 150 and (
        meta.og_type.startswith("video")
        or (
            "videoobject" in meta.ld_types
            and not any(t.endswith("article") or t == "blogposting" for t in meta.ld_types)
        )
    ):
        return "video"
    article_like = (
        meta.og_type == "article"
        or meta.published is not None
        or any(t.endswith("article") or t in ("blogposting", "report") for t in meta.ld_types)
    )
    if page_words and link_words / page_words > 0.4 and (words < 40 or (words < 150 and not article_like)):
        return "section_front"
    if words == 0:
        return "no_main_text"
    if words < 40:
        return "too_short"
    return None
