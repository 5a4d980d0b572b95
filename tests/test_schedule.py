"""The polite scheduler: one request at a time per host, the delay between them, Crawl-delay and Retry-After
honoured, and no worker left waiting on one host while another host's work is ready."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import rss
from test_alerts import STORY_A, page

from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items
from pipeline.schedule import HostScheduler, LocalGate, host_of_url, retry_after_seconds
from pipeline.store import client as ix


class Calls:
    """Records when each call to each host started and ended."""

    def __init__(self, duration: float = 0.01, hold: dict[str, float] | None = None):
        self.duration, self.hold = duration, hold or {}
        self.log: list[tuple[str, str, float, float]] = []  # (host, task, start, end)
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.overlap = False

    def __call__(self, task: str) -> str:
        host = task.split("/")[0]
        with self.lock:
            self.in_flight[host] = self.in_flight.get(host, 0) + 1
            self.overlap |= self.in_flight[host] > 1
        start = time.time()
        time.sleep(self.duration)
        end = time.time()
        with self.lock:
            self.in_flight[host] -= 1
            self.log.append((host, task, start, end))
        return task

    def gaps(self, host: str) -> list[float]:
        """Seconds from the end of each call to this host to the start of the next."""
        calls = sorted((s, e) for h, _, s, e in self.log if h == host)
        return [b[0] - a[1] for a, b in zip(calls, calls[1:], strict=False)]


def tasks(hosts: str, per_host: int) -> list[str]:
    return [f"{h}/{i}" for i in range(per_host) for h in hosts]


def test_one_request_at_a_time_per_host_and_the_delay_between():
    calls = Calls(duration=0.02)
    scheduler: HostScheduler[str, str] = HostScheduler(8, LocalGate(), delay_for=lambda h: 0.15)
    done = [t for t, _ in scheduler.run(tasks("ab", 4), host_of=lambda t: t[0], call=calls)]
    assert sorted(done) == sorted(tasks("ab", 4))
    assert not calls.overlap
    for host in "ab":
        assert min(calls.gaps(host)) >= 0.15


def test_a_worker_never_waits_on_one_host_while_another_is_ready():
    # One worker, two hosts with a long delay: a blocking scheduler runs a,a,a then b,b,b (5 waits);
    # this one alternates, so both hosts' waits overlap.
    calls = Calls(duration=0.0)
    scheduler: HostScheduler[str, str] = HostScheduler(1, LocalGate(), delay_for=lambda h: 0.3)
    t0 = time.time()
    order = [t[0] for t, _ in scheduler.run(["a/0", "a/1", "a/2", "b/0", "b/1", "b/2"], lambda t: t[0], calls)]
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert time.time() - t0 < 5 * 0.3  # two waits of 0.3 s each, not five


def test_per_host_delay_and_retry_after_hold():
    calls = Calls(duration=0.0)
    # host a asks for 0.4 s (a Crawl-delay); after its first answer it says Retry-After 0.5 s
    holds = iter([0.5])
    scheduler: HostScheduler[str, str] = HostScheduler(
        4,
        LocalGate(),
        delay_for=lambda h: 0.4 if h == "a" else 0.0,
        hold_for=lambda result: next(holds, None) if str(result).startswith("a") else None,
    )
    list(scheduler.run(tasks("ab", 3), host_of=lambda t: t[0], call=calls))
    gaps = calls.gaps("a")
    assert gaps[0] >= 0.9 and gaps[1] >= 0.4  # delay + hold, then the delay alone
    assert max(calls.gaps("b")) < 0.3


def test_closing_early_sends_nothing_more():
    calls = Calls(duration=0.05)
    scheduler: HostScheduler[str, str] = HostScheduler(2, LocalGate(), delay_for=lambda h: 0.0)
    run = scheduler.run(tasks("abcd", 5), host_of=lambda t: t[0], call=calls)
    next(run)
    run.close()  # returns once the calls in flight are done
    closed = time.time()
    sent = len(calls.log)
    time.sleep(0.2)
    assert len(calls.log) == sent < 10  # of 20
    assert max(start for _, _, start, _ in calls.log) < closed


def test_tasks_run_in_the_order_given_as_far_as_politeness_allows():
    # One worker, no delay: after a host's call, its next task waits its turn by rank, not behind every other
    # host (a caller that stores results in this order, as process_items does, then waits least).
    calls = Calls(duration=0.0)
    scheduler: HostScheduler[str, str] = HostScheduler(1, LocalGate(), delay_for=lambda h: 0.0)
    given = ["a/1", "b/1", "b/2", "a/2", "c/1", "a/3"]
    done = [t for t, _ in scheduler.run(given, host_of=lambda t: t[0], call=calls)]
    assert done == given


def test_admit_holds_back_new_requests_until_the_caller_catches_up():
    # Back-pressure: while the caller has 2 results it has not taken, no request starts.
    results: list[str] = []
    taken = 0
    most_waiting = 0
    lock = threading.Lock()
    finished = threading.Event()

    def waiting() -> int:
        with lock:
            return len(results) - taken

    def emit(result: tuple[str, str | BaseException]) -> None:
        nonlocal most_waiting
        with lock:
            results.append(str(result[1]))
            most_waiting = max(most_waiting, len(results) - taken)

    scheduler: HostScheduler[str, str] = HostScheduler(1, LocalGate(), delay_for=lambda h: 0.0)
    running = scheduler.start(
        tasks("abcd", 5),
        lambda t: t[0],
        Calls(duration=0.0),
        emit,
        lambda _: finished.set(),
        admit=lambda: waiting() < 2,
    )
    try:
        while not finished.is_set() or waiting():
            time.sleep(0.01)
            with lock:
                taken = min(taken + 1, len(results))
    finally:
        running.stop()
    assert sorted(results) == sorted(tasks("abcd", 5))
    assert most_waiting <= 2  # one worker: the one call admitted while one result waited


def test_waiting_out_a_delay_does_not_spin():
    # Nothing running, the next request due in 0.6 s: the dispatcher sleeps rather than polling in a loop.
    scheduler: HostScheduler[str, str] = HostScheduler(4, LocalGate(), delay_for=lambda h: 0.6)
    cpu0 = time.process_time()
    done = [t for t, _ in scheduler.run(["a/1", "a/2"], host_of=lambda t: t[0], call=Calls(duration=0.0))]
    assert done == ["a/1", "a/2"]
    assert time.process_time() - cpu0 < 0.2  # a busy loop would use most of the 0.6 s


def test_retry_after_header_forms():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("99999999") == 6 * 3600  # capped
    assert host_of_url("HTTP://News.Example:8080/a") == "news.example"


# ------------------------------------------------------------------ against a real local site


def timed_site(site):
    """Record the server-side arrival time of every request on the LocalSite."""
    times: list[tuple[str, float]] = []
    real = site.server.RequestHandlerClass.do_GET

    def do_get(handler):
        times.append((handler.path, time.time()))
        real(handler)

    site.server.RequestHandlerClass.do_GET = do_get
    return times


@pytest.mark.es
def test_pages_honour_crawl_delay_and_retry_after(tmp_path, site, es_url, index_prefix, make_settings):
    from test_run import seeds_with

    times = timed_site(site)
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 0.6\n", content_type="text/plain")
    links = [site.add(f"/p{i}.html", page(site.url(f"/p{i}.html"), f"Story {i}", STORY_A)) for i in range(3)]
    busy = site.add("/busy.html", "slow down", status=503, headers={"Retry-After": "2"})
    feed = site.add(
        "/f.xml", rss([(f"s{i}", u) for i, u in enumerate([busy, *links])]), content_type="application/rss+xml"
    )
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, host_delay_s=0.0), seeds) as p:
        poll_feeds(p, ["f"])
        ids = pending_items(p)
        urls = {i: d["url"] for i, d in ix.get_docs(p.es, p.idx("items"), ids).items()}
        ids.sort(key=lambda i: urls[i] != busy)  # the 503 first, so a page follows it
        result = process_items(p, ids, cpu_workers=0)
    assert result.articles == 3 and result.retry_later == 1
    pages = [t for path, t in times if path.endswith(".html")]
    gaps = [b - a for a, b in zip(pages, pages[1:], strict=False)]
    assert len(pages) == 4 and min(gaps) >= 0.6  # Crawl-delay between every two pages
    assert gaps[0] >= 2.0  # the 503's Retry-After before the next page


@pytest.mark.es
def test_feed_polling_is_paced_per_host(tmp_path, site, es_url, index_prefix, make_settings):
    from test_run import seeds_with

    times = timed_site(site)
    feeds = [
        {
            "id": f"f{i}",
            "url": site.add(f"/f{i}.xml", rss([("a", site.url(f"/{i}.html"))]), content_type="application/rss+xml"),
        }
        for i in range(4)
    ]
    seeds = seeds_with(tmp_path, feeds)
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, host_delay_s=0.4), seeds) as p:
        summary = poll_feeds(p, [f["id"] for f in feeds])
    assert summary.ok == 4 and summary.new_items == 4
    polls = [t for path, t in times if path.endswith(".xml")]
    assert len(polls) == 4 and min(b - a for a, b in zip(polls, polls[1:], strict=False)) >= 0.4
