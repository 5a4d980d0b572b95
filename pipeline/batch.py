"""Processing queue items: fetch politely, enrich on the CPU pool, store in chunks as they are ready.

In: pending items (id -> item document). Out: their articles and statements indexed, and each item
marked processed, skipped, failed or pending again (retry later), with the reason.

The three stages overlap, and all three work in store order: items sorted by published time, cut
into chunks of `store_every`. The scheduler fetches pages per host (pipeline.schedule), earliest
first as far as politeness allows; fetched pages go to the CPU pool earliest first, up to
POOL_WINDOW_PER_WORKER per worker at a time; whenever the next chunk is all enriched, it is stored together (pipeline.store.articles:
a constant number of Elasticsearch requests) and marked, while the pool enriches the next one.
Fetching pauses while MAX_WAITING_PAGES pages wait for the pool, so one call may take thousands of
items. The decisions of later chunks see the earlier ones through one BatchMemory, so the whole run
decides as if the articles had been stored one by one in item order. In the last stretch (all fetched,
the rest in the pool), the enriched start of the next chunk is stored as it grows, so little is left
to store after the last page.
"""

from __future__ import annotations

import heapq
import queue
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .alerts import log as alert_log
from .cpu import CpuPool
from .fetch import FetchedPage, RobotsDisallowed, RobotsUnavailable, fetch_page
from .itemqueue import after_failure, parse_time
from .logs import stage_logger
from .net import FetchError
from .progress import Reporter
from .records import Article
from .schedule import HostDeferred, HostScheduler, host_of_url, retry_after_of
from .store import client as ix
from .store.articles import BatchMemory, store_articles

if TYPE_CHECKING:
    from .context import Pipeline

log = stage_logger(__name__)

Enriched = tuple[Article | None, str | None]
# A host closed longer than this (Retry-After) has its remaining items put back, due when it reopens.
MAX_HOST_WAIT_S = 60.0
# Fetched pages waiting for the CPU pool, at most: fetching pauses beyond this, so memory stays bounded
# however many items one call takes.
MAX_WAITING_PAGES = 50
# Pages handed to the pool per worker: enough to keep it busy (a couple of seconds) while this process
# stores a chunk, which takes longer as the index grows; the pool still works in store order.
POOL_WINDOW_PER_WORKER = 64
# In the last stretch of a batch, the enriched start of the next chunk is stored once it holds this many
# articles (pipeline.batch.ItemBatch._store_ready_part).
TAIL_PART = 10


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
    alert_hits: int = 0  # new alert hits recorded as the articles were stored
    alerts_recorded: list[str] = Field(default_factory=list)  # articles whose hits were all recorded then


def _iso() -> str:
    return datetime.now(UTC).isoformat()


def _ok() -> dict[str, Any]:
    """The fields of an attempt that fetched the page (for fetch health per host)."""
    return {"last_attempt_at": _iso(), "last_attempt_ok": True, "next_attempt_at": None}


def published_order(items: dict[str, dict[str, Any]]) -> list[str]:
    """Item ids by published time (discovery time when the feed gave none), then id: when an original
    and its re-report arrive in one batch, the original is stored first and the re-report is its repeat."""

    def when(item_id: str) -> tuple[datetime, str]:
        item = items[item_id]
        for field in ("published", "discovered_at"):
            try:
                t = datetime.fromisoformat(str(item.get(field)))
            except ValueError:
                continue
            return (t if t.tzinfo else t.replace(tzinfo=UTC)), item_id
        return datetime.max.replace(tzinfo=UTC), item_id

    return sorted(items, key=when)


class ItemBatch:
    """One process_items call: the items, what became of each, and the chunks still to store."""

    def __init__(
        self, p: Pipeline, items: dict[str, dict[str, Any]], cpu: CpuPool, reporter: Reporter, store_every: int
    ):
        self.p, self.items, self.cpu, self.reporter = p, items, cpu, reporter
        self.feeds = {f.id: f for f in p.seeds.feeds}
        self.summary = ProcessSummary(items=len(items))
        order = published_order(items)
        size = max(1, store_every)
        self.chunks = [order[i : i + size] for i in range(0, len(order), size)]
        self.updates: dict[str, dict[str, Any]] = {}  # item id -> its new fields, until its chunk is marked
        self.enriching: dict[str, Future[Enriched]] = {}
        self.pages: dict[str, FetchedPage] = {}  # kept until enriched, to retry alone if a worker dies
        self.memory = BatchMemory()
        self.hits: dict[str, list[alert_log.Match]] = {}  # article id -> its alert hits, until its chunk is stored
        self.position = {item_id: n for n, item_id in enumerate(order)}
        self.waiting: list[tuple[int, str]] = []  # heap of fetched pages not yet in the pool, by store order
        self.in_flight: set[str] = set()  # in the pool, not finished
        self.pool_window = POOL_WINDOW_PER_WORKER * max(1, cpu.workers)
        # fetched pages and finished enrichments, from the scheduler's and the pool's threads
        self.events: queue.SimpleQueue[tuple[str, str, Any]] = queue.SimpleQueue()

    def run(self) -> ProcessSummary:
        p = self.p
        if p.settings.respect_robots:  # one read of the shared robots.txt verdicts for all the batch's sites
            p.robots.prefetch(item["url"] for item in self.items.values())
        scheduler: HostScheduler[str, FetchedPage] = HostScheduler(
            p.settings.fetch_workers,
            p.gate,
            delay_for=lambda host: max(p.settings.host_delay_s, p.robots.crawl_delay(host)),
            hold_for=retry_after_of,
            max_wait_s=MAX_HOST_WAIT_S,
        )
        fetching = scheduler.start(
            list(self.position),  # store order: each host's pages in the order their chunks are stored
            host_of=lambda i: host_of_url(self.items[i]["url"]),
            call=self._fetch,
            emit=lambda result: self.events.put(("fetched", *result)),
            finished=lambda exc: self.events.put(("all fetched", "", exc)),
            # Back-pressure: pages wait in memory only until the CPU pool can take them.
            admit=lambda: len(self.waiting) < MAX_WAITING_PAGES,
        )
        try:
            self._loop()
        finally:
            fetching.stop()  # on an error: send no more requests
        while self.chunks:
            self._store(self.chunks.pop(0))
        p.es.indices.refresh(index=",".join(p.idx(k) for k in ("items", "articles", "statements", "alerts")))
        return self.summary

    def _loop(self) -> None:
        """Handle fetched pages and finished enrichments as they come, storing each chunk once it is ready."""
        all_fetched = False
        while not (all_fetched and not self.waiting and not self.in_flight):
            kind, item_id, value = self.events.get()
            if kind == "fetched":
                self._fetched(item_id, value)
            elif kind == "enriched":
                self.in_flight.discard(item_id)
            else:  # the scheduler is done: every item was emitted, or it failed
                if value is not None:
                    raise value
                all_fetched = True
            self._feed_pool()
            while self.chunks and self._ready(self.chunks[0]):
                self._store(self.chunks.pop(0))
            if all_fetched and not self.waiting:
                self._store_ready_part()

    def _store_ready_part(self) -> None:
        """In the last stretch (everything fetched, the rest in the pool), store the enriched start of the
        next chunk while the pool finishes the remainder: what is left to store once the pool is done,
        after the last page, is then a few articles, not a whole chunk."""
        head = self.chunks[0] if self.chunks else []
        ready = next((n for n, i in enumerate(head) if not self._ready([i])), len(head))
        if TAIL_PART <= ready < len(head):
            self.chunks[0] = head[ready:]
            self._store(head[:ready])

    def _feed_pool(self) -> None:
        """Hand waiting pages to the CPU pool, earliest in store order first, up to pool_window at a time:
        the pool works in the order the chunks are stored, so storing one overlaps with enriching the next."""
        while self.waiting and len(self.in_flight) < self.pool_window:
            _, item_id = heapq.heappop(self.waiting)
            item = self.items[item_id]
            future = self.cpu.enrich(item, self.pages[item_id], self.feeds.get(item["feed_id"]))
            self.enriching[item_id] = future
            self.in_flight.add(item_id)
            future.add_done_callback(partial(self._enrichment_done, item_id))

    def _enrichment_done(self, item_id: str, _: Future[Enriched]) -> None:
        self.events.put(("enriched", item_id, None))

    # ---------------------------------------------------------------- the stages

    def _fetch(self, item_id: str) -> FetchedPage:
        return fetch_page(self.items[item_id]["url"], self.p.http, self.p.robots, pace=False)

    def _retry_or_fail(
        self, item_id: str, reason: str, *, retry_after_s: float | None = None, permanent: bool = False
    ) -> None:
        """A failed attempt: pending again after its backoff, or failed for good when the window is spent."""
        fields = after_failure(
            self.items[item_id],
            reason,
            datetime.now(UTC),
            timedelta(hours=self.p.settings.item_retry_hours),
            retry_after_s=retry_after_s,
            permanent=permanent,
        )
        status, error = fields.pop("status"), fields.pop("error")
        when = f", next attempt {fields['next_attempt_at']}" if status == "pending" else ""
        self._fail(item_id, error, status, note=f"{error}{when}", **fields)

    def _fetched(self, item_id: str, page: FetchedPage | BaseException) -> None:
        item = self.items[item_id]
        if isinstance(page, HostDeferred):  # not an attempt: back in the queue, due when the host reopens
            until = datetime.fromtimestamp(page.until, UTC)
            due = max(until, parse_time(item.get("next_attempt_at")) or until)
            reason = f"{item['url']}: not fetched, {page}"
            error = item.get("error") or reason  # keep the last real error for status
            self._fail(item_id, reason, "pending", error=error, next_attempt_at=due.isoformat())
        elif isinstance(page, FetchError):
            # permanent: refused address, robots.txt disallow, 4xx other than 429, not a web page, redirect loop
            permanent = page.permanent or isinstance(page, RobotsDisallowed)
            wait = retry_after_of(page)
            if isinstance(page, RobotsUnavailable):  # disallow until robots.txt is asked for again
                wait = max(wait or 0.0, (page.retry_at - datetime.now(UTC)).total_seconds())
            reason = f"feed '{item['feed_id']}': fetch failed: {page}"
            self._retry_or_fail(item_id, reason, retry_after_s=wait, permanent=permanent)
        elif isinstance(page, BaseException):
            self._fail(
                item_id, f"feed '{item['feed_id']}': fetching {item['url']} failed: {type(page).__name__}: {page}"
            )
        else:
            self.pages[item_id] = page
            heapq.heappush(self.waiting, (self.position[item_id], item_id))

    def _ready(self, chunk: list[str]) -> bool:
        """Every item of the chunk has failed to fetch or been enriched."""
        return all(i in self.updates or (i in self.enriching and self.enriching[i].done()) for i in chunk)

    def _enriched(self, item_id: str) -> Article | None:
        """The item's enriched article; None when it was skipped or failed (recorded in updates)."""
        item = self.items[item_id]
        try:
            try:
                article, skipped = self.enriching.pop(item_id).result()
            except BrokenProcessPool:
                # A worker died while this page was in the pool, maybe not because of it: once more, alone.
                article, skipped = self.cpu.enrich(item, self.pages[item_id], self.feeds.get(item["feed_id"])).result()
        except BrokenProcessPool as exc:
            # It kills its worker when alone too: it backs off and runs out of time like a page that cannot be fetched.
            self._retry_or_fail(item_id, f"processing {item['url']} was cut short: a worker process died ({exc})")
            return None
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the batch
            reason = f"feed '{item['feed_id']}': processing {item['url']} failed: {type(exc).__name__}: {exc}"
            self._fail(item_id, reason, processed_at=_iso())
            return None
        finally:
            self.pages.pop(item_id, None)
        if article is None:
            self.summary.skipped += 1
            self.updates[item_id] = {"status": "skipped", "error": skipped, "processed_at": _iso(), **_ok()}
            self.reporter.advance("process")
        return article

    def _store(self, chunk: list[str]) -> None:
        """Store a chunk's articles (in item order), then mark its items. Raises EsUnavailable when the
        index is the problem, leaving the chunk's items pending."""
        articles = [(i, a) for i in chunk if i not in self.updates and (a := self._enriched(i)) is not None]
        outcomes = store_articles(
            self.p,
            [a for _, a in articles],
            memory=self.memory,
            also_write=self._alert_hits if self.p.seeds.alerts else None,
        )
        for (item_id, _), outcome in zip(articles, outcomes, strict=True):
            alert_log.log_queued(self.hits.pop(outcome.article_id, []), outcome.also_created)
            s = self.summary
            s.alert_hits += len(outcome.also_created)
            if outcome.error:
                self._fail(item_id, outcome.error, processed_at=_iso())
                continue
            if not outcome.also_failed:
                s.alerts_recorded.append(outcome.article_id)
            s.articles += 1
            s.duplicates += outcome.duplicate
            s.tagged += outcome.tagged
            s.statements += outcome.statements
            s.new_statements += outcome.new_statements
            s.article_ids.append(outcome.article_id)
            done = {"status": "processed", "article_id": outcome.article_id, "processed_at": _iso(), "error": None}
            done.update(_ok())
            self.updates[item_id] = done
            self.reporter.advance("process")
        # Items are marked only after their article and statements were written (store_articles raised otherwise).
        marks = [(i, self.updates.pop(i)) for i in chunk if i in self.updates]
        res = ix.bulk_write(self.p.es, self.p.idx("items"), marks, op="update")
        if res.failed:
            raise ix.EsUnavailable(f"could not mark items processed: {res.failed}")

    def _alert_hits(
        self, article_id: str, doc: dict[str, Any], statements: dict[str, dict[str, Any]]
    ) -> list[ix.Action]:
        """The article's alert hits, recorded in the same request as the article (pipeline.alerts.log)."""
        self.hits[article_id] = hits = alert_log.hits_at_store(self.p, article_id, doc, statements)
        return alert_log.hit_actions(self.p, hits)

    def _fail(self, item_id: str, reason: str, status: str = "failed", note: str | None = None, **fields: Any) -> None:
        s = self.summary
        s.failed += status == "failed"
        s.retry_later += status == "pending"
        s.failures[self.items[item_id]["url"]] = reason
        log.warning("%s", note or reason, extra={"url": self.items[item_id]["url"], "item_id": item_id})
        self.reporter.note(note or reason)
        self.updates[item_id] = {"status": status, "error": str(fields.pop("error", reason)), **fields}
        self.reporter.advance("process")
