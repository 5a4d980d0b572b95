"""The CPU-bound stages (feed parsing; extract, tag, statements, fingerprint) on worker processes.

Work goes in as small references and bytes (an item's id and fields, a page's bytes) and comes out
as records (FeedItems, an enriched Article), so nothing large is shared and a worker needs no client.
Seeds are sent once per worker, when it starts.

`CpuPool(seeds, workers=0)` runs everything in the calling process (the Airflow task default: Airflow
already runs several tasks at once); `workers=N` starts N processes on first use. One page that
breaks a stage fails alone: its exception comes back through its future.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .config import FeedConfig, Seeds
from .enrich import prepare_article
from .fetch import FetchedPage
from .poll import ParsedFeed, parse_feed
from .records import Article

log = logging.getLogger(__name__)

__all__ = ["BrokenProcessPool", "CpuPool", "default_workers"]

_SEEDS: Seeds | None = None  # in a worker process: the seeds it was started with


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker(seeds: Seeds) -> None:
    global _SEEDS
    _SEEDS = seeds


def _enrich(item: dict[str, Any], page: FetchedPage, feed: FeedConfig | None) -> tuple[Article | None, str | None]:
    assert _SEEDS is not None, "worker started without seeds"
    return prepare_article(item, page, feed, _SEEDS)


def _ready() -> int:
    return os.getpid()


def _parse(feed: FeedConfig, content: bytes, base_url: str, content_type: str, truncated: bool) -> ParsedFeed:
    return parse_feed(feed, content, base_url, content_type, truncated)


TASK_PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe (/proc/sys/fs/pipe-max-size)
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named in the fcntl module only from Python 3.10 on Linux


def _widen_task_pipe(executor: ProcessPoolExecutor) -> None:
    """Let the pipe that carries tasks to the workers hold a whole page or more (64 KiB by default).

    A page is about 200 KiB: through a 64 KiB pipe, this process's feeder thread must keep writing while
    a worker reads the next page, and when that thread waits for the interpreter lock (fetch threads,
    storing) the worker sits idle. With room for the queued page, the worker finds it whole. Best effort:
    on other systems, or where the pool's internals differ, the pipe stays as it is.
    """
    try:
        import fcntl

        writer = executor._call_queue._writer  # type: ignore[attr-defined]
        fcntl.fcntl(writer.fileno(), _F_SETPIPE_SZ, TASK_PIPE_BYTES)
    except (AttributeError, ImportError, OSError) as exc:
        log.debug("task pipe left at its default size: %s", exc)


class _InProcess(Executor):
    """The same interface, run at submit time in the caller's process."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            fut.set_exception(exc)
        return fut


class CpuPool:
    """Enrichment and feed parsing, in this process (workers=0) or on worker processes."""

    def __init__(self, seeds: Seeds, workers: int = 0):
        self.seeds = seeds
        self.workers = max(0, workers)
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.workers == 0:
                self._executor = _InProcess()
            else:
                # forkserver: workers start from a clean process with the stages imported once, never
                # from a copy of this one (its HTTP and Elasticsearch clients, threads and locks).
                method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
                ctx = multiprocessing.get_context(method)
                if method == "forkserver":
                    ctx.set_forkserver_preload(["pipeline.cpu"])
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self.seeds,)
                )
                _widen_task_pipe(self._executor)
                log.info("started %d enrichment worker processes (%s)", self.workers, method)
        return self._executor

    def start(self) -> None:
        """Start the worker processes now and wait until each one is up (the pool otherwise starts them on
        first use): a long-running caller pays the start-up once, before its first feed or page."""
        pool = self._pool()
        if self.workers:
            # The pool adds a process per task while none is idle, so one task each brings them all up.
            wait([pool.submit(_ready) for _ in range(self.workers)])

    def enrich(
        self, item: dict[str, Any], page: FetchedPage, feed: FeedConfig | None
    ) -> Future[tuple[Article | None, str | None]]:
        """Extract and enrich one fetched page: (article, None), or (None, why it was skipped)."""
        if self.workers == 0:
            return self._pool().submit(prepare_article, item, page, feed, self.seeds)
        return self._submit(_enrich, item, page, feed)

    def parse_feed(
        self, feed: FeedConfig, content: bytes, base_url: str, content_type: str, truncated: bool = False
    ) -> Future[ParsedFeed]:
        return self._submit(_parse, feed, content, base_url, content_type, truncated)

    def _submit(self, fn: Any, *args: Any) -> Future:
        try:
            return self._pool().submit(fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool for this and later work.
            log.warning("an enrichment worker process died; starting new ones")
            self.close()
            return self._pool().submit(fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> CpuPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
