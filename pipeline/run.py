"""The pipeline's entry points: poll, process, alert, maintain, and run_once that chains them.

The CLI and the Airflow DAGs call these functions and nothing else; they pass ids and counts,
never article bodies. All state (feed validators, the item queue, alert log) lives in
Elasticsearch, so any worker can pick up where another stopped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from .alerts import log as alert_log
from .alerts.schedule import digest_slot
from .batch import ItemBatch, ProcessSummary
from .config import FeedConfig
from .context import Pipeline, open_pipeline
from .itemqueue import due_items, new_item_doc
from .logs import stage_logger
from .poll import ParsedFeed, PollResult, is_due, poll_feed
from .progress import Reporter
from .records import FeedState
from .schedule import HostScheduler, host_of_url, retry_after_of
from .store import client as ix

# re-exported: the DAGs and the CLI open pipelines and read summaries through here
__all__ = ["Pipeline", "ProcessSummary", "open_pipeline"]

log = stage_logger(__name__)
poll_log = stage_logger("pipeline.poll")  # poll_feeds lives here; its records name the feed


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
    warnings: dict[str, str] = Field(default_factory=dict)  # feed id -> what of it was not read


@ix.es_errors
def feed_states(p: Pipeline) -> dict[str, FeedState]:
    resp = p.es.search(index=p.idx("feeds"), size=10000, query={"match_all": {}})
    return {h["_id"]: FeedState.model_validate(h["_source"]) for h in resp["hits"]["hits"]}


@ix.es_errors
def due_feeds(p: Pipeline, now: datetime | None = None) -> list[str]:
    now = now or _now()
    states = feed_states(p)
    return [f.id for f in p.seeds.feeds if f.enabled and is_due(states.get(f.id), now)]


@ix.es_errors
def poll_feeds(
    p: Pipeline, feed_ids: list[str], reporter: Reporter | None = None, *, cpu_workers: int | None = None
) -> PollSummary:
    """Poll the given feeds; store their new items as pending. One bad feed never stops the others.

    Requests are paced per host (pipeline.schedule) and feeds are parsed on the CPU pool. The batch
    writes its new items in one chunked bulk, then the feeds' states in another: a feed whose items
    could not be stored keeps its old state, so it is polled again rather than skipped.
    cpu_workers: as for process_items.
    """
    reporter = reporter or Reporter()
    by_id = {f.id: f for f in p.seeds.feeds}
    unknown = [fid for fid in feed_ids if fid not in by_id]
    if unknown:
        raise ValueError(f"unknown feed id(s): {', '.join(unknown)}; see feeds.yaml")
    feed_ids = list(dict.fromkeys(feed_ids))
    states = {fid: FeedState.model_validate(doc) for fid, doc in ix.get_docs(p.es, p.idx("feeds"), feed_ids).items()}
    summary = PollSummary()
    reporter.start("poll", len(feed_ids))
    now = _now()
    cpu = p.cpu(cpu_workers)

    def parse(feed: FeedConfig, content: bytes, base_url: str, content_type: str, truncated: bool) -> ParsedFeed:
        return cpu.parse_feed(feed, content, base_url, content_type, truncated).result()

    def one(fid: str) -> PollResult:
        return poll_feed(by_id[fid], states.get(fid), p.http, now, parse=parse)

    scheduler: HostScheduler[str, PollResult] = HostScheduler(
        p.settings.fetch_workers, p.gate, delay_for=lambda _: p.settings.host_delay_s, hold_for=retry_after_of
    )
    results: dict[str, PollResult] = {}
    item_feed: dict[str, str] = {}
    # New items go to Elasticsearch while the other feeds are still being polled.
    with ix.BulkStream(p.es) as new_items:
        for fid, res in scheduler.run(feed_ids, host_of=lambda fid: host_of_url(by_id[fid].url), call=one):
            if isinstance(res, BaseException):  # poll_feed reports feed problems; this is a bug: fail the feed alone
                error = f"feed '{fid}': polling failed: {type(res).__name__}: {res}"
                res = PollResult(state=states.get(fid) or FeedState(feed_id=fid, url=by_id[fid].url), status="failed")
                res.error = error
            results[fid] = res
            for item in res.items:
                item_id = item.item_id
                item_feed[item_id] = fid
                new_items.put(ix.Action(p.idx("items"), item_id, new_item_doc(item, now), "create"))
            reporter.advance("poll")
    written = new_items.result
    unstored = {item_feed[i] for i in written.failed}
    if any(s in ix.RETRY_STATUSES for s in written.status.values()):
        raise ix.EsUnavailable(f"could not store new items of {len(unstored)} feed(s): {written.failed}")
    for fid in feed_ids:
        res = results[fid]
        summary.polled += 1
        if res.status == "failed":
            summary.failed += 1
            summary.failures[fid] = res.error or "failed"
            poll_log.warning("feed %s failed: %s", fid, res.error, extra={"feed": fid, "url": by_id[fid].url})
            reporter.note(f"feed failed: {res.error}")
        elif res.status == "not_modified":
            summary.not_modified += 1
        else:
            summary.ok += 1
        if res.warning:  # read, but cut off or with item links skipped
            summary.warnings[fid] = res.warning
            reporter.note(res.warning)
        if fid in unstored:
            summary.failures[fid] = f"feed '{fid}': its new items could not be stored: {written.failed}"
            poll_log.error("%s", summary.failures[fid], extra={"feed": fid, "url": by_id[fid].url})
    summary.new_items = len(written.created)
    ix.bulk_write(
        p.es,
        p.idx("feeds"),
        [(fid, results[fid].state.model_dump(mode="json")) for fid in feed_ids if fid not in unstored],
    )
    p.es.indices.refresh(index=f"{p.idx('items')},{p.idx('feeds')}")
    return summary


# ------------------------------------------------------------------ process


@ix.es_errors
def pending_items(
    p: Pipeline,
    limit: int = 500,
    *,
    per_host: int | None = None,
    exclude: list[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Ids of the pending items that are due (not waiting out a backoff), oldest first, at most
    `per_host` (settings.queue_per_host) of one host; `exclude`: ids this caller already took."""
    return due_items(p, limit, per_host=per_host, exclude=exclude, now=now)


@ix.es_errors
def process_items(
    p: Pipeline,
    item_ids: list[str],
    reporter: Reporter | None = None,
    *,
    cpu_workers: int | None = None,
    store_every: int = 50,
) -> ProcessSummary:
    """Fetch, extract, enrich and index the given items. Items already done are left alone.

    Pages are fetched politely per host and enriched on the CPU pool as they arrive (cpu_workers
    processes; 0: in this process; None: settings.cpu_workers); every `store_every` items are stored
    together and marked while later ones are still on their way (pipeline.batch).
    """
    reporter = reporter or Reporter()
    docs = ix.get_docs(p.es, p.idx("items"), item_ids)
    items = {i: d for i, d in docs.items() if d.get("status") == "pending"}
    # The same batch again after its worker died mid-way (a task retry): what that worker stored was never
    # reported, so its articles are reported now and their alerts get queued (queueing is idempotent).
    earlier = [d["article_id"] for d in docs.values() if d.get("status") == "processed" and d.get("article_id")]
    if not items:
        return ProcessSummary(article_ids=earlier)
    reporter.start("process", len(items))
    summary = ItemBatch(p, items, p.cpu(cpu_workers), reporter, store_every).run()
    summary.article_ids = list(dict.fromkeys(earlier + summary.article_ids))
    return summary


# ------------------------------------------------------------------ alerts


class AlertSummary(BaseModel):
    emails_sent: int = 0
    hits_sent: int = 0
    # still to send after this pass: its email failed (SMTP down), or more than one pass's emails
    pending: int = 0
    held: int = 0  # waiting for a rule's quiet hours to end or its throttle to allow another email
    failed: int = 0
    error: str | None = None


@ix.es_errors
def queue_alerts(
    p: Pipeline, article_ids: list[str] | None = None, schedule: str | None = None, *, recorded: list[str] | None = None
) -> int:
    """Record alert hits as pending: for every article indexed since the last pass (the watermark, all
    rules), and for `article_ids` (a hint, such as an asset event's ids; only `schedule`'s rules when given).
    recorded: articles whose hits were recorded as they were stored, which the pass leaves out.
    Returns how many hits are new."""
    new = alert_log.queue_hits(p, article_ids or [], schedule) if article_ids else 0
    return new + alert_log.queue_since_watermark(p, recorded=recorded)


@ix.es_errors
def send_pending_alerts(
    p: Pipeline, schedule: str = "immediate", *, before: datetime | None = None, now: datetime | None = None
) -> AlertSummary:
    """Mail the pending hits of one schedule (one email per rule); `before`: only hits recorded before it."""
    return AlertSummary(**alert_log.send_pending(p, schedule, before=before, now=now))


def send_due_digest(p: Pipeline, now: datetime | None = None) -> AlertSummary:
    """The daily digest that is due: the pending digest hits recorded before the latest slot of
    `NEWSMON_DIGEST_CRON`. `newsmon run` and the Airflow DAG both call this, so whichever passes
    first after a slot sends it, and the other finds nothing left."""
    now = now or _now()
    return send_pending_alerts(p, "daily", before=digest_slot(p.settings.digest_cron, now), now=now)


# ------------------------------------------------------------------ maintenance


@ix.es_errors
def maintain(p: Pipeline, *, keep_days: int | None = None, now: datetime | None = None) -> dict:
    """Feed health report, plus retention of the work queue and run summaries (settings.retention_items_days)
    and of sent alerts (settings.retention_alerts_days). keep_days, when given, overrides both."""
    now = now or _now()
    items_days = keep_days or p.settings.retention_items_days
    alerts_days = keep_days or p.settings.retention_alerts_days
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
    items_cutoff = (now - timedelta(days=items_days)).isoformat()
    alerts_cutoff = (now - timedelta(days=alerts_days)).isoformat()
    removed = 0
    for kind, query in (
        (
            "items",
            {
                "bool": {
                    "filter": [
                        {"terms": {"status": ["processed", "skipped", "failed"]}},
                        {"range": {"discovered_at": {"lt": items_cutoff}}},
                    ]
                }
            },
        ),
        (
            "alerts",
            {"bool": {"filter": [{"term": {"status": "sent"}}, {"range": {"created_at": {"lt": alerts_cutoff}}}]}},
        ),
        ("runs", {"range": {"started": {"lt": items_cutoff}}}),
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
    digest: AlertSummary = Field(default_factory=AlertSummary)  # the daily digest, when one was due


BATCHES_PER_CALL = 40


@ix.es_errors
def run_once(
    p: Pipeline, reporter: Reporter | None = None, *, batch_size: int = 50, only_due: bool = False
) -> RunSummary:
    """Poll every enabled feed (or only due ones), process everything pending, send alerts."""
    reporter = reporter or Reporter()
    run = RunSummary(run_id=uuid.uuid4().hex, started=_now())
    feed_ids = due_feeds(p) if only_due else [f.id for f in p.seeds.feeds if f.enabled]
    run.poll = poll_feeds(p, feed_ids, reporter)
    seen: list[str] = []
    while True:
        # Many chunks per call, so that storing one overlaps with fetching and enriching the next and the
        # pool never drains between calls; memory stays bounded (pipeline.batch holds back fetching).
        # Items taken once are not taken again in this run (a retry waits for its backoff anyway).
        batch = pending_items(p, limit=batch_size * BATCHES_PER_CALL, exclude=seen)
        if not batch:
            break
        seen += batch
        part = process_items(p, batch, reporter, store_every=batch_size)
        run.process = _merge(run.process, part)
    # This run's articles had their hits recorded as they were stored; the pass finds those of everything
    # else indexed since the last one (another writer's, any a crash left behind).
    run.alert_hits = run.process.alert_hits + queue_alerts(p, recorded=run.process.alerts_recorded)
    run.alerts = send_pending_alerts(p, "immediate")
    run.digest = send_due_digest(p)
    run.finished = _now()
    pr = run.process
    log.info(
        "run %s: %d feeds polled (%d failed), %d items processed: %d articles, %d failed for good, %d to retry; "
        "%d alert hits queued, %d emails sent, %d alert hits still to send",
        run.run_id,
        run.poll.polled,
        run.poll.failed,
        pr.items,
        pr.articles,
        pr.failed,
        pr.retry_later,
        run.alert_hits,
        run.alerts.emails_sent,
        run.alerts.pending,
    )
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
    out.alert_hits = a.alert_hits + b.alert_hits
    out.alerts_recorded = a.alerts_recorded + b.alerts_recorded
    out.failures = {**a.failures, **b.failures}
    return out
