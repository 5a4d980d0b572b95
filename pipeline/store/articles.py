"""Writing a batch of enriched articles: their documents, their statements, and what earlier sightings decide.

In: enriched Articles, in the order their items were taken. Out: article and statement documents in
Elasticsearch, each article marked as a near-duplicate of an earlier one and each statement linked to
its first sighting in another article (`repeat_of`).

A batch costs a constant number of requests, however many articles and statements it holds:
one mget (existing articles and statements), one msearch (near-duplicate candidates per fingerprint
and novelty candidates per statement, by speaker and time window), and one chunked bulk write. The
decisions inside the batch are then made in memory, article by article in batch order, exactly as
if each article had been stored alone after the ones before it (tests/test_store_batch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import dedupe
from ..records import Article, Statement, stable_id
from ..statements import novelty
from . import client as ix
from .search_fields import article_search_fields, statement_search_fields

if TYPE_CHECKING:
    from ..context import Pipeline

DUPLICATE_WINDOW = "now-14d"  # re-publications come within days of each other
DUPLICATE_CANDIDATES = 200
NOVELTY_CANDIDATES = 20


@dataclass
class StoreOutcome:
    article_id: str = ""
    duplicate: bool = False
    tagged: bool = False
    statements: int = 0
    new_statements: int = 0
    error: str | None = None  # set when Elasticsearch refused this article's documents (the others went in)
    also_created: list[str] = field(default_factory=list)  # ids of its `also_write` documents that are new
    also_failed: bool = False  # one of its `also_write` documents was refused


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
        "is_immigration_policy": article.is_immigration_policy,
        "topic_score": article.topic_score,
        "topic_evidence": article.topic_evidence,
        "topic_model": article.topic_model,
        "people": article.people,
        "statement_count": len(article.statements),
        "simhash": dedupe.to_signed(article.simhash) if article.simhash is not None else None,
        "simhash_bands": dedupe.bands(article.simhash) if article.simhash is not None else [],
        "duplicate_of": article.duplicate_of,
        "word_count": len(article.text.split()),
        **article_search_fields(article.title, article.description, article.text),
    }


def statement_doc(s: Statement, sid: str, article: Article, article_id: str, first_seen: str, timestamp: str) -> dict:
    return {
        "@timestamp": timestamp,
        "statement_id": sid,
        "key": s.key,
        "speaker_id": s.speaker_id,
        "speaker_name": s.speaker_name,
        "speaker_mention": s.speaker_mention,
        "speaker_kind": s.speaker_kind,
        "speaker_title": s.speaker_title,
        "mention_start": s.mention_start,
        "mention_end": s.mention_end,
        "tracked": s.speaker_id is not None,
        "text": s.text,
        "kind": s.kind,
        "cue": s.cue,
        "start": s.start,
        "end": s.end,
        "fragments": [list(f) for f in s.fragments],
        "article_id": article_id,
        "article_url": article.canonical_url,
        "article_title": article.title,
        "outlet": article.outlet or article.site_name,
        "first_seen": first_seen,
        "repeat_of": s.repeat_of,
        "is_new": s.repeat_of is None,
        **statement_search_fields(s.text, (t.label for t in article.topics)),
    }


# ------------------------------------------------------------------ what is looked up


def duplicate_query(article_id: str, fingerprint: int) -> dict[str, Any]:
    """Earlier articles sharing a SimHash band with this one (by pigeonhole, every near-duplicate does)."""
    return {
        "size": DUPLICATE_CANDIDATES,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [
                    {"terms": {"simhash_bands": dedupe.bands(fingerprint)}},
                    {"range": {"first_seen": {"gte": DUPLICATE_WINDOW}}},
                ],
                "must_not": [{"term": {"article_id": article_id}}],
            }
        },
        "_source": {"includes": ["article_id", "simhash", "first_seen", "duplicate_of"]},
        "sort": [{"first_seen": "asc"}, {"article_id": "asc"}],
    }


def novelty_query(s: Statement, article_id: str, window_days: int) -> dict[str, Any]:
    """Earlier statements by the same speaker, from articles of the last window_days, that may say the same."""
    speaker = (
        {"term": {"speaker_id": s.speaker_id}} if s.speaker_id else {"term": {"speaker_name.keyword": s.speaker_name}}
    )
    return {
        "size": NOVELTY_CANDIDATES,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [speaker, {"range": {"@timestamp": {"gte": f"now-{window_days}d"}}}],
                "must_not": [{"term": {"article_id": article_id}}],
                "should": [{"term": {"key": s.key}}, *_shared_words(s)],
                "minimum_should_match": 1,
            }
        },
        "_source": {"includes": ["statement_id", "key", "text", "first_seen", "repeat_of", "article_id"]},
    }


def _shared_words(s: Statement) -> list[dict[str, Any]]:
    """The text clause of the novelty search: a few words, as many of which as every near-repeat must share
    (a search of the whole text costs the cluster a term lookup per word), the whole text when those cannot
    be told."""
    shared = novelty.words_a_repeat_shares(s.text)
    if shared is None:
        return [{"match": {"text": s.text}}]
    if not shared.words:
        return []
    return [{"match": {"text": {"query": " ".join(shared.words), "minimum_should_match": shared.at_least}}}]


def repeats(s: Statement, earlier: dict) -> bool:
    """Does statement s (same speaker) say again what the earlier statement document said?

    The one place where novelty's rule is applied to stored candidates (pipeline.statements.novelty owns it).
    """
    return bool(earlier["key"] == s.key or novelty.is_near_repeat(s.text, earlier["text"]))


def _speaker(d: dict) -> str:
    return str(d["speaker_id"] or d["speaker_name"])


# ------------------------------------------------------------------ the batch


@dataclass
class _Plan:
    """One article of the batch, with what the index told us about it."""

    article: Article
    article_id: str
    statement_ids: list[str]
    dup_hits: list[dict] = field(default_factory=list)
    novelty_hits: dict[int, list[dict]] = field(default_factory=dict)  # statement index -> candidate docs


@dataclass
class BatchMemory:
    """What a batch has decided so far and the index may not show yet: pass the same one to the
    store_articles calls of consecutive chunks, and they decide as one batch."""

    statements: dict[str, list[dict]] = field(default_factory=dict)  # speaker -> statement documents, in order
    written: dict[str, tuple[str, dict[str, dict]]] = field(default_factory=dict)  # article_id -> first_seen, docs
    statement_ids: dict[str, set[str]] = field(default_factory=dict)  # article_id -> every statement id written
    # Indexes, so that a batch of thousands compares each article with its few candidates rather than with
    # everything before it: (speaker, key or word) -> statement documents; SimHash band -> originals
    # (id, simhash, first_seen).
    _by_key: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    _by_word: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    _by_band: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)

    def remember_statement(self, doc: dict) -> None:
        speaker = _speaker(doc)
        self.statements.setdefault(speaker, []).append(doc)
        self._by_key.setdefault((speaker, doc["key"]), []).append(doc)
        for word in novelty.word_set(doc["text"]):
            self._by_word.setdefault((speaker, word), []).append(doc)

    def statement_candidates(self, speaker: str, s: Statement) -> list[dict]:
        """The speaker's statements so far that `repeats` may accept for s: same key, or holding as many of
        the words as every near-repeat does (novelty.words_a_repeat_shares); all of them when those cannot
        be told."""
        shared = novelty.words_a_repeat_shares(s.text)
        if shared is None:
            return list(self.statements.get(speaker, []))
        found = {id(d): d for d in self._by_key.get((speaker, s.key), [])}
        held: dict[int, int] = {}
        for word in shared.words:
            for d in self._by_word.get((speaker, word), []):
                held[id(d)] = held.get(id(d), 0) + 1
                if held[id(d)] == shared.at_least:
                    found[id(d)] = d
        return list(found.values())

    def remember_fingerprint(self, article_id: str, simhash: int, first_seen: str) -> None:
        entry = (article_id, simhash, first_seen)
        for band in dedupe.bands(simhash):
            self._by_band.setdefault(band, []).append(entry)

    def fingerprint_candidates(self, simhash: int) -> list[tuple[str, int, str]]:
        """Originals sharing a band with this fingerprint: every near-duplicate does (the pigeonhole rule
        the index search relies on too)."""
        found = {e[0]: e for band in dedupe.bands(simhash) for e in self._by_band.get(band, [])}
        return list(found.values())


# Documents derived from an article as it is stored (its id, its document, its statements' documents by id),
# written in the same bulk request: the alert hits (pipeline.alerts.log.hit_actions).
AlsoWrite = Callable[[str, dict[str, Any], dict[str, dict[str, Any]]], list[ix.Action]]


def store_articles(
    p: Pipeline,
    articles: list[Article],
    *,
    now: datetime | None = None,
    memory: BatchMemory | None = None,
    also_write: AlsoWrite | None = None,
) -> list[StoreOutcome]:
    """Index a batch of enriched articles and their statements; one outcome per article, in order.

    Near-duplicates and first sightings are decided against the index and against the articles
    before each one in the batch (and in earlier chunks that shared `memory`). A document Elasticsearch refuses (a 4xx) fails its article alone
    (outcome.error); an unreachable or overloaded node raises EsUnavailable, and nothing is marked.
    """
    if not articles:
        return []
    now = now or datetime.now(UTC)
    plans = [_Plan(a, a.article_id, statement_ids(a.article_id, a.statements)) for a in articles]
    existing, known = _existing(p, plans)
    _candidates(p, plans, existing, known)

    memory = memory if memory is not None else BatchMemory()
    outcomes: list[StoreOutcome] = []
    actions: list[ix.Action] = []
    docs_of: dict[str, list[str]] = {}  # article_id -> ids of the documents written for it
    also_of: list[list[str]] = []  # per plan: ids of its also_write documents
    for plan in plans:
        outcome, first_seen, docs = _decide(plan, existing, known, memory, now)
        outcomes.append(outcome)
        aid = plan.article_id
        doc = article_doc(plan.article, aid, first_seen, now)
        actions.append(ix.Action(p.idx("articles"), aid, doc))
        actions += [ix.Action(p.idx("statements"), sid, d) for sid, d in docs.items()]
        docs_of[aid] = [aid, *docs]
        also = also_write(aid, doc, docs) if also_write else []
        actions += also
        also_of.append([a.id for a in also])
    actions += [ix.Action(p.idx("statements"), sid, op="delete") for sid in _stale(p, plans, existing, memory)]

    written = ix.bulk_actions(p.es, actions)
    if written.failed:
        overloaded = {i: r for i, r in written.failed.items() if written.status[i] in ix.RETRY_STATUSES}
        if overloaded:
            raise ix.EsUnavailable(f"Elasticsearch did not take {len(overloaded)} document(s): {overloaded}")
        for outcome, plan in zip(outcomes, plans, strict=True):
            bad = [written.failed[i] for i in docs_of[plan.article_id] if i in written.failed]
            if bad:
                outcome.error = f"article {plan.article.canonical_url} was not indexed: {bad[0]}"
    created = set(written.created)
    for outcome, ids in zip(outcomes, also_of, strict=True):
        outcome.also_created = [i for i in ids if i in created]
        outcome.also_failed = any(i in written.failed for i in ids)
    return outcomes


def _existing(p: Pipeline, plans: list[_Plan]) -> tuple[dict[str, dict], dict[str, dict]]:
    """One mget: articles already indexed (a re-processed page) and their statements, by id."""
    refs = [(p.idx("articles"), plan.article_id) for plan in plans]
    refs += [(p.idx("statements"), sid) for plan in plans for sid in plan.statement_ids]
    found = ix.get_many(p.es, refs)
    articles = {doc_id: src for (index, doc_id), src in found.items() if index == p.idx("articles")}
    statements = {doc_id: src for (index, doc_id), src in found.items() if index == p.idx("statements")}
    return articles, statements


def _needs_lookup(plan: _Plan, existing: dict[str, dict], known: dict[str, dict]) -> list[int]:
    """Statements whose first sighting must be looked up: not already decided, not a repeat inside the article."""
    out = []
    for i, (sid, s) in enumerate(zip(plan.statement_ids, plan.article.statements, strict=True)):
        prior = known.get(sid) if plan.article_id in existing else None
        if prior is None and not s.repeat_of:
            out.append(i)
    return out


def _candidates(p: Pipeline, plans: list[_Plan], existing: dict[str, dict], known: dict[str, dict]) -> None:
    """One msearch: near-duplicate candidates per fingerprint and novelty candidates per statement."""
    window = p.settings.novelty_window_days
    searches: list[tuple[str, dict[str, Any]]] = []
    slots: list[tuple[_Plan, int | None]] = []  # None: the duplicate search; i: statement i's novelty search
    for plan in plans:
        if plan.article.simhash is not None:
            searches.append((p.idx("articles"), duplicate_query(plan.article_id, plan.article.simhash)))
            slots.append((plan, None))
        for i in _needs_lookup(plan, existing, known):
            searches.append((p.idx("statements"), novelty_query(plan.article.statements[i], plan.article_id, window)))
            slots.append((plan, i))
    for (plan, slot), hits in zip(slots, ix.multi_search(p.es, searches), strict=True):
        sources = [h["_source"] for h in hits]
        if slot is None:
            plan.dup_hits = sources
        else:
            plan.novelty_hits[slot] = sources


def _duplicate_of(plan: _Plan, memory: BatchMemory) -> str | None:
    """The original this article re-publishes: the earliest-seen near-duplicate (index or batch), if any."""
    fingerprint = plan.article.simhash
    if fingerprint is None:
        return None
    found: list[tuple[str, str, str]] = []  # (first_seen, article_id, the original it stands for)
    for other_id, other, first_seen in memory.fingerprint_candidates(fingerprint):
        if other_id != plan.article_id and dedupe.is_near_duplicate(fingerprint, other):
            found.append((first_seen, other_id, other_id))
    for src in plan.dup_hits:
        if src.get("simhash") is not None and dedupe.is_near_duplicate(fingerprint, dedupe.from_signed(src["simhash"])):
            found.append((src["first_seen"], src["article_id"], src.get("duplicate_of") or src["article_id"]))
    return min(found)[2] if found else None


def _earlier_sighting(plan: _Plan, i: int, memory: BatchMemory) -> dict | None:
    """The first sighting of statement i in another article (the index or earlier in this batch), if any."""
    s = plan.article.statements[i]
    speaker = s.speaker_id or s.speaker_name
    candidates = list(plan.novelty_hits.get(i, []))
    candidates += [d for d in memory.statement_candidates(speaker, s) if d["article_id"] != plan.article_id]
    matches = [c for c in candidates if repeats(s, c)]
    # the earliest; sightings at the same instant (one batch) in id order, so any batch split decides alike
    return min(matches, key=lambda c: (c["first_seen"], c["statement_id"])) if matches else None


def _decide(
    plan: _Plan, existing: dict[str, dict], known: dict[str, dict], memory: BatchMemory, now: datetime
) -> tuple[StoreOutcome, str, dict[str, dict]]:
    """Decide one article against the index and the batch so far: its outcome, first_seen and statement docs."""
    article, aid = plan.article, plan.article_id
    earlier = memory.written.get(aid)  # the same page twice in one batch: the first copy is "existing"
    if earlier is not None:
        first_seen, prior_docs = earlier
    else:
        first_seen = existing[aid]["first_seen"] if aid in existing else now.isoformat()
        prior_docs = {sid: known[sid] for sid in plan.statement_ids if sid in known} if aid in existing else {}
    article.duplicate_of = _duplicate_of(plan, memory)

    key_to_id: dict[str, str] = {}
    for sid, s in zip(plan.statement_ids, article.statements, strict=True):
        key_to_id.setdefault(s.key, sid)
    timestamp = article.published.isoformat() if article.published else first_seen
    docs: dict[str, dict] = {}
    new_count = 0
    for i, (sid, s) in enumerate(zip(plan.statement_ids, article.statements, strict=True)):
        prior = prior_docs.get(sid)
        if prior:  # reprocessing: keep what novelty decided the first time
            s.repeat_of, s_first = prior.get("repeat_of"), prior["first_seen"]
        elif s.repeat_of:  # repeat inside this article: its earlier statement's first sighting (decided above)
            target = docs.get(key_to_id.get(s.repeat_of, ""))
            if target is None:
                s.repeat_of, s_first = key_to_id.get(s.repeat_of, s.repeat_of), first_seen
            else:
                s.repeat_of, s_first = target["repeat_of"] or target["statement_id"], target["first_seen"]
        else:
            sighting = _earlier_sighting(plan, i, memory)
            s_first = first_seen
            if sighting:
                s.repeat_of = sighting.get("repeat_of") or sighting["statement_id"]
                s_first = sighting["first_seen"]
        new_count += s.repeat_of is None
        docs[sid] = statement_doc(s, sid, article, aid, s_first, timestamp)

    for doc in docs.values():
        memory.remember_statement(doc)
    memory.written[aid] = (first_seen, docs)
    memory.statement_ids.setdefault(aid, set()).update(docs)
    if article.simhash is not None and article.duplicate_of is None:
        memory.remember_fingerprint(aid, article.simhash, first_seen)
    outcome = StoreOutcome(
        article_id=aid,
        duplicate=article.duplicate_of is not None,
        tagged=article.is_immigration,
        statements=len(docs),
        new_statements=new_count,
    )
    return outcome, first_seen, docs


def _stale(p: Pipeline, plans: list[_Plan], existing: dict[str, dict], memory: BatchMemory) -> list[str]:
    """Statements of re-processed articles that the new version no longer contains (one search, only then)."""
    reprocessed = sorted({plan.article_id for plan in plans if plan.article_id in existing})
    keep = {sid for _, docs in memory.written.values() for sid in docs}
    # the same page twice in one batch: the first copy's statements are stale if the second dropped them
    earlier_copies = {sid for plan in plans for sid in memory.statement_ids.get(plan.article_id, ())}
    stale = sorted(earlier_copies - keep)
    if reprocessed:
        resp = p.es.search(
            index=p.idx("statements"),
            size=10000,
            query={"terms": {"article_id": reprocessed}},
            source=False,
        )
        stale += [h["_id"] for h in resp["hits"]["hits"] if h["_id"] not in keep]
    return stale
