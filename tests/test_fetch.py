"""fetch: robots.txt, per-host pacing, content types, caps."""

from __future__ import annotations

import time

import pytest
from conftest import REPO, free_port

from pipeline.fetch import RobotsCache, fetch_page
from pipeline.net import FetchError, HostPacer, HttpClient


def test_robots_disallow_is_respected(site, make_settings):
    http = HttpClient(make_settings())
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/private/a.html", "<html><p>secret</p></html>")
    site.add("/public/a.html", "<html><p>hello</p></html>")
    robots = RobotsCache(http)
    with pytest.raises(FetchError, match="robots.txt"):
        fetch_page(site.url("/private/a.html"), http, robots)
    page = fetch_page(site.url("/public/a.html"), http, robots)
    assert b"hello" in page.content
    assert site.hits("/private/a.html") == 0
    assert site.hits("/robots.txt") == 1  # cached per host
    http.close()


def test_missing_robots_allows_everything(site, make_settings):
    http = HttpClient(make_settings())
    site.add("/a.html", "<html><p>hi</p></html>")
    assert fetch_page(site.url("/a.html"), http, RobotsCache(http)).content
    http.close()


def test_non_html_is_rejected(site, make_settings):
    http = HttpClient(make_settings())
    site.add("/x.pdf", b"%PDF-1.4", content_type="application/pdf")
    with pytest.raises(FetchError, match="not a web page"):
        fetch_page(site.url("/x.pdf"), http, None)
    site.add("/gone.html", "", status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_page(site.url("/gone.html"), http, None)
    http.close()


def test_page_size_cap(site, make_settings):
    http = HttpClient(make_settings(max_page_bytes=50_000))
    site.add("/huge.html", b"<html><body>" + b"<p>word</p>" * 100_000)
    page = fetch_page(site.url("/huge.html"), http, None)
    assert page.truncated and len(page.content) == 50_000
    http.close()


def test_host_pacer_spaces_requests_per_host():
    pacer = HostPacer(0.2)
    t0 = time.monotonic()
    for _ in range(3):
        pacer.wait("http://a.test/x")
    assert time.monotonic() - t0 >= 0.38  # two gaps of 0.2 s
    t1 = time.monotonic()
    pacer.wait("http://b.test/x")  # another host is not held back by a.test
    assert time.monotonic() - t1 < 0.19


def test_fetch_uses_pacing(site, make_settings):
    http = HttpClient(make_settings(host_delay_s=0.15))
    site.add("/p.html", "<html><p>x</p></html>")
    t0 = time.monotonic()
    for _ in range(3):
        fetch_page(site.url("/p.html"), http, None)
    assert time.monotonic() - t0 >= 0.3
    http.close()


# ------------------------------------------------------------------ RFC 9309


def _clock(start):
    now = [start]
    return now, (lambda: now[0])


def test_robots_5xx_or_unreachable_means_disallow_for_a_while_and_4xx_means_allow(site, make_settings):
    from datetime import UTC, datetime, timedelta

    from pipeline.fetch import ROBOTS_RETRY, RobotsUnavailable

    http = HttpClient(make_settings())
    site.add("/robots.txt", "", status=503)
    site.add("/a.html", "<html><p>a</p></html>")
    now, clock = _clock(datetime(2026, 1, 1, tzinfo=UTC))
    robots = RobotsCache(http, clock=clock)
    with pytest.raises(RobotsUnavailable, match="unreachable") as info:
        fetch_page(site.url("/a.html"), http, robots)
    assert info.value.retry_at == now[0] + ROBOTS_RETRY
    assert site.hits("/a.html") == 0  # nothing fetched while robots.txt is down
    with pytest.raises(RobotsUnavailable):
        fetch_page(site.url("/a.html"), http, robots)
    assert site.hits("/robots.txt") == 1  # the disallow is remembered, not re-asked at every page
    # after the wait, robots.txt is asked again; a 404 now means "no restrictions"
    site.add("/robots.txt", "", status=404)
    now[0] += ROBOTS_RETRY + timedelta(seconds=1)
    assert b"<p>a</p>" in fetch_page(site.url("/a.html"), http, robots).content
    assert site.hits("/robots.txt") == 2

    # unreachable (nothing listens): disallow too
    dead = RobotsCache(http, clock=clock)
    with pytest.raises(RobotsUnavailable):
        fetch_page(f"http://127.0.0.1:{free_port()}/x.html", http, dead)
    http.close()


def test_robots_cached_24h_and_fetched_once_per_host_across_threads(site, make_settings):
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime, timedelta

    http = HttpClient(make_settings())
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain", delay_s=0.3)
    now, clock = _clock(datetime(2026, 1, 1, tzinfo=UTC))
    robots = RobotsCache(http, clock=clock)
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(robots.allowed, [site.url(f"/p{i}.html") for i in range(16)]))
    assert all(verdicts)
    assert site.hits("/robots.txt") == 1  # 16 pages on 8 threads: one robots.txt request
    now[0] += timedelta(hours=23)
    assert not robots.allowed(site.url("/private/x"))
    assert site.hits("/robots.txt") == 1
    now[0] += timedelta(hours=1, seconds=1)  # older than 24 h: asked again
    assert robots.allowed(site.url("/p.html"))
    assert site.hits("/robots.txt") == 2
    http.close()


def test_robots_shared_by_workers_through_the_index(site, make_settings, es_url, index_prefix):
    """Two pipelines (two workers or two Airflow tasks) share one robots.txt fetch through `<prefix>-robots`."""
    from pipeline.context import open_pipeline

    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n", content_type="text/plain")
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, seeds_dir=REPO / "seeds")
    with open_pipeline(settings) as first, open_pipeline(settings) as second:
        assert first.robots.allowed(site.url("/a.html"))
        assert not second.robots.allowed(site.url("/private/b.html"))
        assert second.robots.crawl_delay("127.0.0.1") == 2.0
        assert site.hits("/robots.txt") == 1
        doc = first.es.get(index=first.idx("robots"), id=site.url("").rstrip("/").lower())["_source"]
        assert doc["verdict"] == "rules" and "Disallow: /private/" in doc["body"]


def test_crawl_delay_paces_the_batch(site, make_settings, es_url, index_prefix):
    """Crawl-delay from robots.txt spaces the page requests to that site (host_delay_s is 0 here)."""
    from pipeline.context import open_pipeline
    from pipeline.fetch import fetch_page as fetch
    from pipeline.schedule import HostScheduler, host_of_url

    site.add("/robots.txt", "User-agent: newsmon\nCrawl-delay: 0.4\n", content_type="text/plain")
    urls = [site.add(f"/c{i}.html", "<html><p>c</p></html>") for i in range(3)]
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, seeds_dir=REPO / "seeds")
    with open_pipeline(settings) as p:
        p.robots.check(urls[0])  # read robots.txt first, as the batch's first request does
        sched = HostScheduler(4, p.gate, delay_for=lambda h: max(p.settings.host_delay_s, p.robots.crawl_delay(h)))
        t0 = time.monotonic()
        out = list(sched.run(urls, host_of=host_of_url, call=lambda u: fetch(u, p.http, p.robots, pace=False)))
        assert len(out) == 3 and time.monotonic() - t0 >= 0.8  # two gaps of 0.4 s


def test_default_user_agent_is_neutral_and_configurable(monkeypatch):
    from pipeline.config import load_settings

    ua = load_settings().user_agent
    assert ua.startswith("newsmon/") and "http" not in ua  # names no address the project does not own
    monkeypatch.setenv("NEWSMON_USER_AGENT", "acme-news-bot/2 (+https://acme.example/bot)")
    assert load_settings().user_agent == "acme-news-bot/2 (+https://acme.example/bot)"


def test_robots_fetched_once_when_two_workers_ask_at_the_same_time(site, make_settings, es_url, index_prefix):
    """Two pipelines (two Airflow tasks, each with its own cache) ask for a cold site at once: a lease in
    `<prefix>-robots` lets one fetch, the other waits for its verdict."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.context import open_pipeline

    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain", delay_s=0.5)
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, seeds_dir=REPO / "seeds")
    with open_pipeline(settings) as first, open_pipeline(settings) as second:
        with ThreadPoolExecutor(4) as pool:
            jobs = [pool.submit(p.robots.allowed, site.url(f"/private/{i}")) for i in range(2) for p in (first, second)]
            assert [j.result() for j in jobs] == [False] * 4
        assert site.hits("/robots.txt") == 1
        assert not first.es.exists(index=first.idx("robots"), id="lease:" + site.url("").rstrip("/").lower())


def test_a_batch_reads_the_shared_robots_verdicts_in_one_request(site, make_settings, es_url, index_prefix):
    """A batch asks the store for all its sites' verdicts at once (mget): a site already read by another
    worker costs no further request, and its Crawl-delay is known before its first page; a new site costs
    its lease and one write (verdict stored and lease ended together), with no read of its own."""
    from test_store_batch import CountingTransport

    from pipeline.context import open_pipeline
    from pipeline.schedule import host_of_url

    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 0.4\nDisallow: /private/\n", content_type="text/plain")
    urls = [site.url("/a.html"), site.url("/private/b.html")]
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, seeds_dir=REPO / "seeds")
    with open_pipeline(settings) as first:
        counter = CountingTransport(first.es)
        first.robots.prefetch(urls)
        assert counter.paths == ["_mget"]
        assert first.robots.allowed(urls[0]) and not first.robots.allowed(urls[1])
        origin = site.url("").rstrip("/").lower()
        assert counter.paths[1:] == ["lease%3A" + origin.replace(":", "%3A").replace("/", "%2F"), "_bulk"]
        assert not first.es.exists(index=first.idx("robots"), id="lease:" + origin)
    with open_pipeline(settings) as second:
        counter = CountingTransport(second.es)
        assert second.robots.crawl_delay(host_of_url(urls[0])) == 0.0
        second.robots.prefetch(urls)
        assert second.robots.crawl_delay(host_of_url(urls[0])) == 0.4  # before any page of the site
        assert second.robots.allowed(urls[0]) and not second.robots.allowed(urls[1])
        assert counter.paths == ["_mget"]
    assert site.hits("/robots.txt") == 1
