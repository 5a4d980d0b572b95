"""fetch: robots.txt, per-host pacing, content types, caps."""

from __future__ import annotations

import time

import pytest

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
