"""A polite scheduler that does not block: requests queued per host, run by the first free worker.

Each host gets at most one request at a time, and the next one starts no sooner than its delay after
the previous one finished (the larger of the configured delay and the site's robots.txt Crawl-delay;
longer after a 429 or 503 with Retry-After). A worker never waits on a busy host while another
host's request is ready: it takes the next host whose delay has passed. Among those, the task that
comes first in the order given goes first.

Who may send to a host is asked of a `HostGate`. `LocalGate` keeps that state in this process; a
gate shared by several workers (issue 16) keeps it elsewhere behind the same two calls.

    scheduler = HostScheduler(workers=8, gate=LocalGate(), delay_for=lambda host: 1.0)
    for task, result in scheduler.run(tasks, host_of=lambda t: host(t.url), call=fetch):
        ...  # in completion order; result is the return value or the exception raised
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Generic, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
R = TypeVar("R")

MAX_HOLD_S = 6 * 3600.0  # a Retry-After longer than this is treated as this


def host_of_url(url: str) -> str:
    """The politeness key of a URL: its host name, lower-cased (every port of a host counts as one site)."""
    return (urlsplit(url).hostname or "").lower()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_HOLD_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_HOLD_S)


def retry_after_of(outcome: object) -> float | None:
    """The Retry-After (seconds) an outcome carries (fetch.HttpStatusError, poll.PollResult), if any."""
    return getattr(outcome, "retry_after", None)


class HostGate(Protocol):
    """Who may send the next request to a host, and when."""

    def try_acquire(self, host: str, delay_s: float) -> float:
        """0.0: the host is yours, send now. Otherwise the epoch time (time.time()) to ask again."""
        ...

    def release(self, host: str, hold_s: float = 0.0) -> None:
        """The response has been read. hold_s: keep the host closed this much longer than its delay (Retry-After)."""
        ...


class LocalGate:
    """HostGate for one process: per host, busy or the time the last request finished."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._free_at: dict[str, float] = {}  # host -> last request's end + hold
        self._delay: dict[str, float] = {}

    def try_acquire(self, host: str, delay_s: float) -> float:
        with self._lock:
            now = self._clock()
            if host in self._busy:
                return now + 0.05  # another caller in this process has it; its release wakes our scheduler
            ready = self._free_at.get(host, 0.0) + max(delay_s, 0.0)
            if ready > now:
                return ready
            self._busy.add(host)
            return 0.0

    def release(self, host: str, hold_s: float = 0.0) -> None:
        with self._lock:
            self._busy.discard(host)
            self._free_at[host] = self._clock() + max(hold_s, 0.0)


class HostDeferred(Exception):
    """A task not run: its host is closed (Retry-After) for longer than the caller wants to wait."""

    def __init__(self, host: str, until: float):
        super().__init__(f"{host} asked us to wait until {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(until))}")
        self.host = host
        self.until = until  # epoch seconds


class Running:
    """A dispatch in progress (HostScheduler.start)."""

    def __init__(self, stop: threading.Event, thread: threading.Thread):
        self._stop, self._thread = stop, thread

    def stop(self) -> None:
        """Send no new requests; return once those in flight have finished."""
        self._stop.set()
        self._thread.join()


class HostScheduler(Generic[T, R]):
    """Runs calls on `workers` threads, one at a time per host, each host paced by the gate.

    max_wait_s: a host that may not be asked again for longer than this (a long Retry-After) gets its
    remaining tasks handed back as HostDeferred instead of holding up the whole run."""

    def __init__(
        self,
        workers: int,
        gate: HostGate,
        delay_for: Callable[[str], float],
        hold_for: Callable[[R | BaseException], float | None] | None = None,
        max_wait_s: float | None = None,
    ):
        self.max_wait_s = max_wait_s
        self.workers = max(1, workers)
        self.gate = gate
        self.delay_for = delay_for  # seconds between two requests to this host (config, Crawl-delay)
        self.hold_for = hold_for or (lambda _: None)  # extra seconds after this outcome (Retry-After)

    def run(
        self, tasks: Iterable[T], host_of: Callable[[T], str], call: Callable[[T], R]
    ) -> Generator[tuple[T, R | BaseException], None, None]:
        """Yield (task, result or exception) as each call finishes, in completion order.

        Requests are dispatched from a thread of their own, so a caller that takes its time over a
        result (enriching a page, say) never holds up the next host's request. Closing the iterator
        early stops sending new requests and waits for the ones in flight.
        """
        results: queue.SimpleQueue[tuple[T, R | BaseException] | None] = queue.SimpleQueue()
        failure: list[BaseException] = []

        def finished(exc: BaseException | None) -> None:
            if exc is not None:
                failure.append(exc)
            results.put(None)

        running = self.start(tasks, host_of, call, emit=results.put, finished=finished)
        try:
            while (item := results.get()) is not None:
                yield item
            if failure:
                raise failure[0]
        finally:
            running.stop()

    def start(
        self,
        tasks: Iterable[T],
        host_of: Callable[[T], str],
        call: Callable[[T], R],
        emit: Callable[[tuple[T, R | BaseException]], None],
        finished: Callable[[BaseException | None], None],
        admit: Callable[[], bool] | None = None,
    ) -> Running:
        """Dispatch the tasks on a thread of their own: emit((task, result or exception)) as each call
        finishes, then finished(None), or finished(exc) when the dispatcher itself failed.

        admit: asked before each request; while it says no, no new request starts (back-pressure from a
        caller whose results pile up). Running.stop() stops new requests and waits for those in flight."""
        stop = threading.Event()

        def dispatch() -> None:
            failure: BaseException | None = None
            try:
                self._dispatch(tasks, host_of, call, emit, stop, admit or (lambda: True))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                failure = exc
            finally:
                finished(failure)

        thread = threading.Thread(target=dispatch, name="host-scheduler", daemon=True)
        thread.start()
        return Running(stop, thread)

    def _dispatch(
        self,
        tasks: Iterable[T],
        host_of: Callable[[T], str],
        call: Callable[[T], R],
        emit: Callable[[tuple[T, R | BaseException]], None],
        stop: threading.Event,
        admit: Callable[[], bool],
    ) -> None:
        queues: dict[str, deque[tuple[int, T]]] = {}
        for rank, task in enumerate(tasks):
            queues.setdefault(host_of(task), deque()).append((rank, task))
        order = itertools.count()
        # Hosts whose delay has passed, by the rank of their next task: the tasks run in the order given
        # as far as politeness allows (a caller that handles results in that order waits least).
        ready: list[tuple[int, str]] = [(q[0][0], host) for host, q in queues.items()]
        heapq.heapify(ready)
        later: list[tuple[float, int, str]] = []  # hosts to ask the gate about again, by when
        running: dict[Future, tuple[str, T]] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="host") as pool:
            while ((ready or later) and not stop.is_set()) or running:
                now = time.time()
                while later and later[0][0] <= now:
                    _, _, host = heapq.heappop(later)
                    heapq.heappush(ready, (queues[host][0][0], host))
                admitted = True
                while ready and len(running) < self.workers and not stop.is_set():
                    if not (admitted := admit()):
                        break
                    _, host = heapq.heappop(ready)
                    again = self.gate.try_acquire(host, self.delay_for(host))
                    if again and self.max_wait_s is not None and again - now > self.max_wait_s:
                        while queues[host]:
                            emit((queues[host].popleft()[1], HostDeferred(host, again)))
                        continue
                    if again:
                        heapq.heappush(later, (again, next(order), host))
                        continue
                    _, task = queues[host].popleft()
                    running[pool.submit(call, task)] = (host, task)
                timeout = 0.1  # wake now and then to notice a stop
                if len(running) < self.workers:
                    if later:
                        timeout = min(timeout, max(0.0, later[0][0] - time.time()))
                    if ready and not admitted:  # ask again soon: the caller frees room as it works
                        timeout = min(timeout, 0.02)
                if not running:  # wait() returns at once on no futures: sleep instead of spinning
                    stop.wait(timeout)
                    continue
                done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
                for fut in done:
                    host, task = running.pop(fut)
                    exc = fut.exception()
                    result: R | BaseException = exc if exc is not None else fut.result()
                    self.gate.release(host, self.hold_for(result) or 0.0)
                    if queues[host]:
                        heapq.heappush(ready, (queues[host][0][0], host))
                    emit((task, result))
