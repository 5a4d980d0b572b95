"""Typed records that flow between the stages.

FeedItem -> Article -> (enriched) Article with topics and statements -> index documents -> Alert.
Every stage takes and returns these; none of them knows about Airflow or Elasticsearch.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


def stable_id(*parts: str) -> str:
    """Deterministic document id: the same inputs always give the same id, so re-indexing overwrites."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


class FeedItem(BaseModel):
    """One entry of a feed, as the poller saw it."""

    feed_id: str
    url: str
    title: str = ""
    summary: str = ""
    published: datetime | None = None
    guid: str = ""

    @property
    def item_id(self) -> str:
        return stable_id("item", self.feed_id, self.guid or self.url)


class TopicLabel(BaseModel):
    """A topic or subtopic assigned to an article, with the words that earned it."""

    label: str  # e.g. "immigration_policy" or "work_visas"
    parent: str | None = None  # subtopics name their topic
    score: float
    evidence: list[str] = Field(default_factory=list)


# stance: a position, intention or belief attributed without a speech verb ("Cotton wants to cut ...",
# "Trump seemed to back ..."), found by the sequence model; stored and searchable, never alerted on
StatementKind = Literal["direct", "indirect", "partial", "post", "stance"]
# who a statement is by: a person, an organisation (outlet, agency, party, document) or unknown
# (an unresolved pronoun, "officials")
SpeakerKind = Literal["person", "organization", "unknown"]


class Statement(BaseModel):
    """Something a person said (or posted), found in an article's text."""

    speaker_id: str | None = None  # canonical figure id when the speaker is tracked
    speaker_name: str  # canonical name when tracked, else the name as written
    speaker_mention: str  # the name, pronoun or role noun the statement was attributed through
    speaker_kind: SpeakerKind = "person"
    speaker_title: str = ""  # title or office written with the name ("Homeland Security Secretary")
    mention_start: int | None = None
    mention_end: int | None = None
    text: str
    kind: StatementKind
    cue: str = ""  # the speech verb, e.g. "said", "added", "told"
    start: int  # character offsets of the statement text in Article.text
    end: int
    # an interrupted quote ('"A," he said, "B."') is one statement: its pieces' offsets, in order
    fragments: list[tuple[int, int]] = Field(default_factory=list)
    # Filled by the novelty check (dedupe stage):
    key: str = ""  # speaker + normalised text
    repeat_of: str | None = None  # id of the first sighting when this is a repeat


class Article(BaseModel):
    """A fetched page cleaned to its main text and metadata, enriched downstream."""

    url: str  # the URL we fetched (after redirects)
    canonical_url: str
    feed_id: str = ""
    outlet: str = ""
    title: str = ""
    text: str = ""  # main text, paragraphs separated by "\n"
    authors: list[str] = Field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    site_name: str = ""
    language: str = ""
    description: str = ""
    image: str = ""
    not_article_reason: str | None = None  # set when the page is a section front, paywall stub, ...
    # enrichment
    topics: list[TopicLabel] = Field(default_factory=list)
    is_immigration_policy: bool = False
    topic_score: float = 0.0  # immigration-policy score, 0..1, calibrated (pipeline/tag/model.py)
    topic_evidence: list[str] = Field(default_factory=list)  # the sentences that drove the decision
    topic_model: str = ""  # version of the model that decided ("rules" when none)
    people: list[str] = Field(default_factory=list)  # canonical names of tracked figures mentioned
    statements: list[Statement] = Field(default_factory=list)
    simhash: int | None = None
    duplicate_of: str | None = None

    @property
    def article_id(self) -> str:
        return stable_id("article", self.canonical_url)

    @property
    def is_immigration(self) -> bool:
        return self.is_immigration_policy or any(t.label == "immigration_policy" for t in self.topics)


class FeedState(BaseModel):
    """What we remember about a feed between polls."""

    feed_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_polled: datetime | None = None
    last_success: datetime | None = None
    last_status: str = "never"  # ok | truncated (read, but cut off) | not_modified | failed | never
    last_error: str | None = None
    consecutive_errors: int = 0
    next_poll: datetime | None = None
    items_seen: int = 0


class AlertHit(BaseModel):
    """One thing that matched an alert rule: an article (keyword rule) or a new statement (figure rule)."""

    rule: str
    ref_id: str  # article or statement id
    article_id: str
    title: str
    url: str
    speaker: str | None = None
    kind: str | None = None  # statement kind for statement rules
    text: str = ""  # the statement, or the snippet that matched
    outlet: str = ""
    language: str = ""
    published: datetime | None = None  # the article's published time (first seen when unknown)
    first_seen: datetime | None = None  # statements: when newsmon first saw the statement anywhere

    @property
    def alert_id(self) -> str:
        return stable_id("alert", self.rule, self.ref_id)


class Alert(BaseModel):
    """One email: hits of one rule, as plain text and as HTML."""

    rule: str
    recipients: list[str]
    subject: str
    body: str  # text/plain
    hit_ids: list[str]
    html: str = ""  # text/html alternative
