"""Writing an enriched article: its document, its statements, and what earlier sightings decide.

In: an enriched Article. Out: the article and statement documents in Elasticsearch, with the article
marked as a near-duplicate of an earlier one and each statement linked to its first sighting in
another article (`repeat_of`). Reads the index for those earlier sightings; `BatchMemory` holds what
this batch wrote and the index cannot show yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .. import dedupe
from ..records import Article, Statement, stable_id
from ..statements.novelty import is_near_repeat
from . import client as ix
from .search_fields import article_search_fields, statement_search_fields

if TYPE_CHECKING:
    from ..context import Pipeline


@dataclass
class BatchMemory:
    """What this batch wrote and the index cannot show yet (it refreshes at the end of the batch)."""

    statements: list[dict] = field(default_factory=list)
    articles: list[tuple[str, int]] = field(default_factory=list)  # (article_id, simhash)


@dataclass
class StoreOutcome:
    article_id: str = ""
    duplicate: bool = False
    tagged: bool = False
    statements: int = 0
    new_statements: int = 0


def statement_ids(article_id: str, statements: list[Statement]) -> list[str]:
    """Deterministic ids: the same statement in the same article always gets the same id."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for s in statements:
        n = seen.get(s.key, 0)
        seen[s.key] = n + 1
        ids.append(stable_id("statement", article_id, s.key, str(n)))
    return ids


def article_doc(article: Article, article_id: str, first_seen: str, now: datetime) -> dict:
    published = article.published.isoformat() if article.published else None
    return {
        "@timestamp": published or first_seen,
        "article_id": article_id,
        "title": article.title,
        "body": article.text,
        "description": article.description,
        "authors": article.authors,
        "outlet": article.outlet,
        "site_name": article.site_name,
        "feed_id": article.feed_id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "language": article.language,
        "image": article.image,
        "published": published,
        "modified": article.modified.isoformat() if article.modified else None,
        "first_seen": first_seen,
        "indexed_at": now.isoformat(),
        "topics": [t.model_dump() for t in article.topics],
        "topic_labels": [t.label for t in article.topics],
        "people": article.people,
        "statement_count": len(article.statements),
        "simhash": dedupe.to_signed(article.simhash) if article.simhash is not None else None,
        "simhash_bands": dedupe.bands(article.simhash) if article.simhash is not None else [],
        "duplicate_of": article.duplicate_of,
        "word_count": len(article.text.split()),
        **article_search_fields(article.title, article.description, article.text),
    }


def _find_duplicate_article(p: Pipeline, article_id: str, fingerprint: int | None, batch: BatchMemory) -> str | None:
    if fingerprint is None:
        return None
    for other_id, other in batch.articles:
        if other_id != article_id and dedupe.is_near_duplicate(fingerprint, other):
            return other_id
    # Re-publications come within days of each other; the window keeps the candidate list short.
    window = {"range": {"first_seen": {"gte": "now-14d"}}}
    resp = p.es.search(
        index=p.idx("articles"),
        size=200,
        query={
            "bool": {
                "filter": [{"terms": {"simhash_bands": dedupe.bands(fingerprint)}}, window],
                "must_not": [{"term": {"article_id": article_id}}],
            }
        },
        source={"includes": ["article_id", "simhash", "first_seen", "duplicate_of"]},
        sort=[{"first_seen": "asc"}],
    )
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        if src.get("simhash") is not None and dedupe.is_near_duplicate(fingerprint, dedupe.from_signed(src["simhash"])):
            return src.get("duplicate_of") or src["article_id"]
    return None


def _earlier_sighting(p: Pipeline, s: Statement, article_id: str, batch: BatchMemory) -> dict | None:
    """The first sighting of this statement in another article (index or this batch), if any."""
    speaker_filter = (
        {"term": {"speaker_id": s.speaker_id}} if s.speaker_id else {"term": {"speaker_name.keyword": s.speaker_name}}
    )
    resp = p.es.search(
        index=p.idx("statements"),
        size=20,
        query={
            "bool": {
                "filter": [speaker_filter],
                "must_not": [{"term": {"article_id": article_id}}],
                "should": [{"term": {"key": s.key}}, {"match": {"text": s.text}}],
                "minimum_should_match": 1,
            }
        },
        source={"includes": ["statement_id", "key", "text", "first_seen", "repeat_of"]},
    )
    candidates = [h["_source"] for h in resp["hits"]["hits"]]
    candidates += [
        d
        for d in batch.statements
        if d["article_id"] != article_id and (d["speaker_id"] or d["speaker_name"]) == (s.speaker_id or s.speaker_name)
    ]
    matches = [c for c in candidates if c["key"] == s.key or is_near_repeat(c["text"], s.text)]
    if not matches:
        return None
    return min(matches, key=lambda c: c["first_seen"])


def store_article(p: Pipeline, article: Article, batch: BatchMemory) -> StoreOutcome:
    """Index one enriched article and its statements, deciding near-duplicates and first sightings
    against the index and this batch. Raises EsUnavailable if the index cannot be written."""
    now = datetime.now(UTC)
    article_id = article.article_id

    existing = ix.get_docs(p.es, p.idx("articles"), [article_id]).get(article_id)
    first_seen = existing["first_seen"] if existing else now.isoformat()
    article.duplicate_of = _find_duplicate_article(p, article_id, article.simhash, batch)

    ids = statement_ids(article_id, article.statements)
    key_to_id: dict[str, str] = {}
    for sid, s in zip(ids, article.statements, strict=True):
        key_to_id.setdefault(s.key, sid)
    # Statements are written after their article, so a new article has none to look up or clean.
    known = ix.get_docs(p.es, p.idx("statements"), ids) if existing else {}
    docs: list[tuple[str, dict]] = []
    new_count = 0
    for sid, s in zip(ids, article.statements, strict=True):
        prior = known.get(sid)
        if prior:  # reprocessing: keep what novelty decided the first time
            s.repeat_of, s_first = prior.get("repeat_of"), prior["first_seen"]
        elif s.repeat_of:  # repeat inside this article: point at the earlier statement's id
            s.repeat_of, s_first = key_to_id.get(s.repeat_of, s.repeat_of), first_seen
        else:
            earlier = _earlier_sighting(p, s, article_id, batch)
            s_first = first_seen
            if earlier:
                s.repeat_of = earlier.get("repeat_of") or earlier["statement_id"]
                s_first = earlier["first_seen"]
        new_count += s.repeat_of is None
        doc = {
            "@timestamp": article.published.isoformat() if article.published else first_seen,
            "statement_id": sid,
            "key": s.key,
            "speaker_id": s.speaker_id,
            "speaker_name": s.speaker_name,
            "speaker_mention": s.speaker_mention,
            "mention_start": s.mention_start,
            "mention_end": s.mention_end,
            "tracked": s.speaker_id is not None,
            "text": s.text,
            "kind": s.kind,
            "cue": s.cue,
            "start": s.start,
            "end": s.end,
            "article_id": article_id,
            "article_url": article.canonical_url,
            "article_title": article.title,
            "outlet": article.outlet or article.site_name,
            "first_seen": s_first,
            "repeat_of": s.repeat_of,
            "is_new": s.repeat_of is None,
            **statement_search_fields(s.text, (t.label for t in article.topics)),
        }
        docs.append((sid, doc))

    written = ix.bulk_write(p.es, p.idx("articles"), [(article_id, article_doc(article, article_id, first_seen, now))])
    if written.failed:
        raise ix.EsUnavailable(f"article {article.canonical_url} was not indexed: {written.failed[article_id]}")
    if docs:
        written = ix.bulk_write(p.es, p.idx("statements"), docs)
        if written.failed:
            raise ix.EsUnavailable(f"statements of {article.canonical_url} were not indexed: {written.failed}")
    if existing:
        _drop_stale_statements(p, article_id, set(ids))
    batch.statements.extend(d for _, d in docs)
    if article.simhash is not None and article.duplicate_of is None:
        batch.articles.append((article_id, article.simhash))
    return StoreOutcome(
        article_id=article_id,
        duplicate=article.duplicate_of is not None,
        tagged=article.is_immigration,
        statements=len(docs),
        new_statements=new_count,
    )


def _drop_stale_statements(p: Pipeline, article_id: str, keep: set[str]) -> None:
    """An updated article may no longer contain a statement; remove the old document."""
    resp = p.es.search(index=p.idx("statements"), size=1000, query={"term": {"article_id": article_id}}, source=False)
    stale = [h["_id"] for h in resp["hits"]["hits"] if h["_id"] not in keep]
    if stale:
        p.es.bulk(operations=[{"delete": {"_index": p.idx("statements"), "_id": i}} for i in stale])
