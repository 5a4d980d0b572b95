"""The pipeline's entry points: poll, process, alert, maintain, and run_once that chains them.

The CLI and the Airflow DAGs call these functions and nothing else; they pass ids and counts,
never article bodies. All state (feed validators, the item queue, alert log) lives in
Elasticsearch, so any worker can pick up where another stopped.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from elasticsearch import ApiError
from elasticsearch import ConnectionError as EsConnectionError
from pydantic import BaseModel, Field

from .alerts import log as alert_log
from .context import Pipeline, open_pipeline
from .enrich import prepare_article
from .fetch import FetchedPage, fetch_page
from .net import FetchError, RefusedAddress
from .poll import PollResult, is_due, poll_feed
from .progress import Reporter
from .records import FeedItem, FeedState
from .store import client as ix
from .store.articles import BatchMemory, store_article

__all__ = ["Pipeline", "open_pipeline"]  # re-exported: the DAGs and the CLI open pipelines through here

MAX_ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ poll


class PollSummary(BaseModel):
    polled: int = 0
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    failures: dict[str, str] = Field(default_factory=dict)


@ix.es_errors
def feed_states(p: Pipeline) -> dict[str, FeedState]:
    resp = p.es.search(index=p.idx("feeds"), size=10000, query={"match_all": {}})
    return {h["_id"]: FeedState.model_validate(h["_source"]) for h in resp["hits"]["hits"]}


@ix.es_errors
def due_feeds(p: Pipeline, now: datetime | None = None) -> list[str]:
    now = now or _now()
    states = feed_states(p)
    return [f.id for f in p.seeds.feeds if f.enabled and is_due(states.get(f.id), now)]


def _item_doc(item: FeedItem, now: datetime) -> dict:
    return {
        "item_id": item.item_id,
        "feed_id": item.feed_id,
        "url": item.url,
        "title": item.title,
        "published": item.published.isoformat() if item.published else None,
        "discovered_at": now.isoformat(),
        "status": "pending",
        "attempts": 0,
    }


@ix.es_errors
def poll_feeds(p: Pipeline, feed_ids: list[str], reporter: Reporter | None = None) -> PollSummary:
    """Poll the given feeds; store their new items as pending. One bad feed never stops the others."""
    reporter = reporter or Reporter()
    by_id = {f.id: f for f in p.seeds.feeds}
    unknown = [fid for fid in feed_ids if fid not in by_id]
    if unknown:
        raise ValueError(f"unknown feed id(s): {', '.join(unknown)}; see feeds.yaml")
    states = feed_states(p)
    summary = PollSummary()
    reporter.start("poll", len(feed_ids))
    now = _now()

    def one(fid: str) -> PollResult:
        return poll_feed(by_id[fid], states.get(fid), p.http, now)

    with ThreadPoolExecutor(max_workers=max(1, p.settings.fetch_workers)) as pool:
        results = list(pool.map(one, feed_ids))
    for fid, res in zip(feed_ids, results, strict=True):
        summary.polled += 1
        if res.status == "failed":
            summary.failed += 1
            summary.failures[fid] = res.error or "failed"
            reporter.note(f"feed failed: {res.error}")
        elif res.status == "not_modified":
            summary.not_modified += 1
        else:
            summary.ok += 1
        if res.items:
            written = ix.bulk_write(
                p.es, p.idx("items"), ((i.item_id, _item_doc(i, now)) for i in res.items), op="create"
            )
            summary.new_items += len(written.created)
        # State last: if the items could not be stored, the feed is polled again rather than skipped.
        ix.bulk_write(p.es, p.idx("feeds"), [(fid, res.state.model_dump(mode="json"))])
        reporter.advance("poll")
    p.es.indices.refresh(index=f"{p.idx('items')},{p.idx('feeds')}")
    return summary


# ------------------------------------------------------------------ process


class ProcessSummary(BaseModel):
    items: int = 0
    articles: int = 0
    duplicates: int = 0
    tagged: int = 0
    statements: int = 0
    new_statements: int = 0
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    article_ids: list[str] = Field(default_factory=list)
    failures: dict[str, str] = Field(default_factory=dict)


@ix.es_errors
def pending_items(p: Pipeline, limit: int = 500) -> list[str]:
    resp = p.es.search(
        index=p.idx("items"),
        size=limit,
        query={"term": {"status": "pending"}},
        sort=[{"discovered_at": "asc"}, {"item_id": "asc"}],
        source=False,
    )
    return [h["_id"] for h in resp["hits"]["hits"]]


@ix.es_errors
def process_items(p: Pipeline, item_ids: list[str], reporter: Reporter | None = None) -> ProcessSummary:
    """Fetch, extract, enrich and index the given items. Items already done are left alone."""
    reporter = reporter or Reporter()
    summary = ProcessSummary()
    items = {i: d for i, d in ix.get_docs(p.es, p.idx("items"), item_ids).items() if d.get("status") == "pending"}
    summary.items = len(items)
    if not items:
        return summary
    feeds = {f.id: f for f in p.seeds.feeds}
    reporter.start("process", len(items))

    def fetch(item_id: str) -> tuple[str, FetchedPage | None, FetchError | None]:
        try:
            return item_id, fetch_page(items[item_id]["url"], p.http, p.robots), None
        except FetchError as exc:
            return item_id, None, exc

    item_updates: list[tuple[str, dict]] = []
    batch = BatchMemory()
    with ThreadPoolExecutor(max_workers=max(1, p.settings.fetch_workers)) as pool:
        fetched = list(pool.map(fetch, list(items)))
    for item_id, page, error in fetched:
        item = items[item_id]
        now = _now()
        if error is not None:
            attempts = int(item.get("attempts") or 0) + 1
            permanent = isinstance(error, RefusedAddress) or attempts >= MAX_ATTEMPTS or "robots.txt" in error.reason
            status = "failed" if permanent else "pending"
            summary.failed += permanent
            summary.retry_later += not permanent
            summary.failures[item["url"]] = error.reason
            reporter.note(f"fetch failed: {error}")
            item_updates.append((item_id, {"status": status, "attempts": attempts, "error": str(error)}))
            reporter.advance("process")
            continue
        assert page is not None  # fetch() returns a page or an error
        feed = feeds.get(item["feed_id"])
        try:
            article, skipped = prepare_article(item, page, feed, p.seeds)
            outcome = store_article(p, article, batch) if article is not None else None
        except (ix.EsUnavailable, ApiError, EsConnectionError):
            raise  # the index is the problem, not the page: stop, leaving items pending
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the batch
            reason = f"processing {item['url']} failed: {type(exc).__name__}: {exc}"
            summary.failed += 1
            summary.failures[item["url"]] = reason
            reporter.note(reason)
            item_updates.append((item_id, {"status": "failed", "error": reason, "processed_at": now.isoformat()}))
            reporter.advance("process")
            continue
        if outcome is None:
            summary.skipped += 1
            item_updates.append((item_id, {"status": "skipped", "error": skipped, "processed_at": now.isoformat()}))
        else:
            summary.articles += 1
            summary.duplicates += outcome.duplicate
            summary.tagged += outcome.tagged
            summary.statements += outcome.statements
            summary.new_statements += outcome.new_statements
            summary.article_ids.append(outcome.article_id)
            item_updates.append(
                (
                    item_id,
                    {
                        "status": "processed",
                        "article_id": outcome.article_id,
                        "processed_at": now.isoformat(),
                        "error": None,
                    },
                )
            )
        reporter.advance("process")
    # Items are marked only after their article and statements were written (store_article raises otherwise).
    res = ix.bulk_write(p.es, p.idx("items"), item_updates, op="update")
    if res.failed:
        raise ix.EsUnavailable(f"could not mark items processed: {res.failed}")
    p.es.indices.refresh(index=",".join(p.idx(k) for k in ("items", "articles", "statements")))
    return summary


# ------------------------------------------------------------------ alerts


class AlertSummary(BaseModel):
    emails_sent: int = 0
    hits_sent: int = 0
    pending: int = 0
    failed: int = 0
    error: str | None = None


@ix.es_errors
def queue_alerts(p: Pipeline, article_ids: list[str] | None = None, schedule: str | None = None) -> int:
    """Record alert hits for the given articles as pending. Returns how many hits are new."""
    return alert_log.queue_hits(p, article_ids or [], schedule)


@ix.es_errors
def send_pending_alerts(p: Pipeline, schedule: str = "immediate") -> AlertSummary:
    return AlertSummary(**alert_log.send_pending(p, schedule))


# ------------------------------------------------------------------ maintenance


@ix.es_errors
def maintain(p: Pipeline, *, keep_days: int = 90, now: datetime | None = None) -> dict:
    """Feed health report, plus retention of the work queue and of sent alerts."""
    now = now or _now()
    states = feed_states(p)
    failing, dead, never = [], [], []
    for f in p.seeds.feeds:
        st = states.get(f.id)
        if st is None or st.last_polled is None:
            never.append(f.id)
        elif st.last_success is None or st.last_success < now - timedelta(days=7):
            dead.append(f.id)
        elif st.consecutive_errors >= 3:
            failing.append(f.id)
    cutoff = (now - timedelta(days=keep_days)).isoformat()
    removed = 0
    for kind, query in (
        (
            "items",
            {
                "bool": {
                    "filter": [
                        {"terms": {"status": ["processed", "skipped", "failed"]}},
                        {"range": {"discovered_at": {"lt": cutoff}}},
                    ]
                }
            },
        ),
        ("alerts", {"bool": {"filter": [{"term": {"status": "sent"}}, {"range": {"created_at": {"lt": cutoff}}}]}}),
        ("runs", {"range": {"started": {"lt": cutoff}}}),
    ):
        ids = [h["_id"] for h in p.es.search(index=p.idx(kind), size=10000, query=query, source=False)["hits"]["hits"]]
        if ids:
            p.es.bulk(operations=[{"delete": {"_index": p.idx(kind), "_id": i}} for i in ids], refresh=True)
            removed += len(ids)
    return {"failing": failing, "dead": dead, "never_polled": never, "removed": removed}


# ------------------------------------------------------------------ the whole thing


class RunSummary(BaseModel):
    run_id: str
    started: datetime
    finished: datetime | None = None
    poll: PollSummary = Field(default_factory=PollSummary)
    process: ProcessSummary = Field(default_factory=ProcessSummary)
    alert_hits: int = 0
    alerts: AlertSummary = Field(default_factory=AlertSummary)


@ix.es_errors
def run_once(
    p: Pipeline, reporter: Reporter | None = None, *, batch_size: int = 50, only_due: bool = False
) -> RunSummary:
    """Poll every enabled feed (or only due ones), process everything pending, send alerts."""
    reporter = reporter or Reporter()
    run = RunSummary(run_id=uuid.uuid4().hex, started=_now())
    feed_ids = due_feeds(p) if only_due else [f.id for f in p.seeds.feeds if f.enabled]
    run.poll = poll_feeds(p, feed_ids, reporter)
    seen: set[str] = set()
    while True:
        batch = [i for i in pending_items(p, limit=batch_size) if i not in seen]
        if not batch:
            break
        seen.update(batch)
        part = process_items(p, batch, reporter)
        run.process = _merge(run.process, part)
        run.alert_hits += queue_alerts(p, part.article_ids)
    run.alerts = send_pending_alerts(p, "immediate")
    run.finished = _now()
    ix.bulk_write(
        p.es,
        p.idx("runs"),
        [
            (
                run.run_id,
                {
                    "run_id": run.run_id,
                    "started": run.started.isoformat(),
                    "finished": run.finished.isoformat(),
                    "summary": run.model_dump(mode="json"),
                },
            )
        ],
        refresh=True,
    )
    return run


def _merge(a: ProcessSummary, b: ProcessSummary) -> ProcessSummary:
    out = a.model_copy(deep=True)
    for name in (
        "items",
        "articles",
        "duplicates",
        "tagged",
        "statements",
        "new_statements",
        "skipped",
        "failed",
        "retry_later",
    ):
        setattr(out, name, getattr(a, name) + getattr(b, name))
    out.article_ids = a.article_ids + b.article_ids
    out.failures = {**a.failures, **b.failures}
    return out
