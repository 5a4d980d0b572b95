"""Alert rules matched against one article: keyword hits and new statements by tracked figures.

In: an AlertRule and an enriched Article (with its statements' ids). Out: AlertHit records.
Pure functions; the alert log (`pipeline.alerts.log`) records the hits and `pipeline.alerts.mail` mails them.
"""

from __future__ import annotations

import functools
import re

from ..config import AlertRule
from ..records import AlertHit, Article, Statement


@functools.lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alts = sorted((re.escape(p.strip()) for p in phrases if p.strip()), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE)


def in_scope(rule: AlertRule, article: Article) -> bool:
    """The rule's topic, outlet and language filters (each one only when the rule sets it)."""
    if rule.topic is not None and not any(t.label == rule.topic for t in article.topics):
        return False
    if rule.outlets and article.outlet.casefold() not in {o.casefold() for o in rule.outlets}:
        return False
    language = article.language.lower().split("-")[0]
    return not rule.languages or any(language == lang.split("-")[0] for lang in rule.languages)


def keyword_pattern(rule: AlertRule) -> re.Pattern[str]:
    """The rule's keywords as one pattern (whole words, any case); also used to highlight them."""
    return _phrase_pattern(tuple(rule.keywords))


def _snippet(text: str, start: int, end: int, width: int = 120) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    return ("…" if a else "") + text[a:b].replace("\n", " ").strip() + ("…" if b < len(text) else "")


def _about(article: Article) -> dict:
    return {"outlet": article.outlet, "language": article.language, "published": article.published}


# Characters outside ASCII that a case-blind pattern matches to ASCII letters (re's IGNORECASE), where
# str.lower() does not: a text holding one gets the pattern itself.
_ODD_CASES = ("\u0130", "\u0131", "\u017f", "\u212a")


@functools.lru_cache(maxsize=256)
def _needles(phrases: tuple[str, ...]) -> tuple[str, ...] | None:
    """The phrases lower-cased, when all are ASCII (None otherwise)."""
    wanted = tuple(p.strip().lower() for p in phrases if p.strip())
    return wanted if all(p.isascii() for p in wanted) else None


def _may_match(needles: tuple[str, ...] | None, text: str) -> bool:
    """False only when the keyword pattern cannot match: no phrase is in the text, case aside. A plain
    substring test is far cheaper than the pattern's word-boundary search, and most articles hold no keyword."""
    if needles is None or any(c in text for c in _ODD_CASES):
        return True
    low = text.lower()
    return any(n in low for n in needles)


def match_keyword_rule(rule: AlertRule, article: Article, article_id: str) -> AlertHit | None:
    if not in_scope(rule, article):
        return None
    pattern = keyword_pattern(rule)
    needles = _needles(tuple(rule.keywords))
    for field_text in (article.title, article.text):
        if not _may_match(needles, field_text or ""):
            continue
        m = pattern.search(field_text or "")
        if m:
            return AlertHit(
                rule=rule.name,
                ref_id=article_id,
                article_id=article_id,
                title=article.title,
                url=article.canonical_url or article.url,
                text=_snippet(field_text, m.start(), m.end()),
                **_about(article),
            )
    return None


def match_statement_rule(
    rule: AlertRule, article: Article, article_id: str, statements: list[tuple[str, Statement]]
) -> list[AlertHit]:
    """Hits for new statements (first sightings only) by the rule's tracked figures."""
    if not in_scope(rule, article):
        return []
    wanted = set(rule.figures)
    hits = []
    for statement_id, s in statements:
        if s.repeat_of or not s.speaker_id or s.kind == "stance":
            continue  # a stance ("wants to ...") is not something the figure said
        if "*" not in wanted and s.speaker_id not in wanted:
            continue
        hits.append(
            AlertHit(
                rule=rule.name,
                ref_id=statement_id,
                article_id=article_id,
                title=article.title,
                url=article.canonical_url or article.url,
                speaker=s.speaker_name,
                kind=s.kind,
                text=s.text,
                **_about(article),
            )
        )
    return hits
