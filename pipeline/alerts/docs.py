"""Index documents back into the records the rules match: what the alert log and the preview read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..records import Article, Statement, TopicLabel


def parse_time(value: Any) -> datetime | None:
    """An index date (ISO 8601, 'Z' or offset) as an aware datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def article_from_doc(doc: dict[str, Any]) -> Article:
    """What the rules look at: text, topics, and the outlet, language and time the filters and emails use."""
    return Article(
        url=doc.get("url") or "",
        canonical_url=doc.get("canonical_url") or "",
        title=doc.get("title") or "",
        text=doc.get("body") or "",
        outlet=doc.get("outlet") or "",
        language=doc.get("language") or "",
        published=parse_time(doc.get("published")) or parse_time(doc.get("first_seen")),
        topics=[TopicLabel.model_validate(t) for t in doc.get("topics") or []],
    )


def statement_from_doc(doc: dict[str, Any]) -> Statement:
    return Statement(
        speaker_id=doc.get("speaker_id"),
        speaker_name=doc["speaker_name"],
        speaker_mention=doc.get("speaker_mention") or "",
        text=doc["text"],
        kind=doc["kind"],
        start=doc.get("start") or 0,
        end=doc.get("end") or 0,
        repeat_of=doc.get("repeat_of"),
    )
