"""Bounded bytes and seconds: bombs, trickling servers, endless pages and feeds, permanent errors."""

from __future__ import annotations

import gzip
import os
import re
import time
import zlib
from pathlib import Path

import pytest

from pipeline.config import FeedConfig, load_seeds
from pipeline.enrich import prepare_article
from pipeline.fetch import FetchedPage, HttpStatusError, fetch_page
from pipeline.net import FetchError, HttpClient
from pipeline.poll import poll_feed

from .server import HostileServer, send

MB = 1024 * 1024
MAX_FEED_ENTRIES = 20_000  # pipeline.poll.MAX_FEED_ENTRIES (checked below)


def rss_mb() -> int:
    m = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(m.group(1)) // 1024 if m else 0


def peak_mb() -> int:
    m = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(m.group(1)) // 1024 if m else 0


def fresh_peak() -> int:
    """Reset the peak RSS to now (Linux) and return the RSS it starts from."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("cannot reset the peak RSS here (/proc/self/clear_refs)")
    return rss_mb()


def gzip_of_zeros(size: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MB)
    return b"".join(z.compress(block) for _ in range(size // MB)) + z.flush()


@pytest.fixture(scope="module")
def bombs():
    inner = gzip_of_zeros(256 * MB)
    return {"single": inner, "double": gzip.compress(inner, 9)}


@pytest.fixture
def server():
    s = HostileServer()
    yield s
    s.close()


@pytest.fixture
def http(make_settings):
    client = HttpClient(make_settings(max_page_bytes=MB, max_feed_bytes=MB, http_timeout_s=1.0))
    yield client
    client.close()


def feed_config(url: str) -> FeedConfig:
    return FeedConfig(id="hostile", name="Hostile", url=url, outlet="Hostile")


@pytest.mark.parametrize("kind", ["double", "single"])
def test_gzip_bomb_stops_at_the_cap_in_bounded_memory(kind, bombs, server, http):
    body = bombs[kind]
    encoding = "gzip, gzip" if kind == "double" else "gzip"
    server.add("/bomb", lambda h: send(h, 200, body, Content_Encoding=encoding))
    base = fresh_peak()
    resp = http.get(server.url("/bomb"), max_bytes=MB)
    assert resp.truncated and len(resp.content) == MB
    assert peak_mb() - base < 64, f"{len(body)} bytes of {kind} gzip took {peak_mb() - base} MB"


def test_unknown_or_stacked_encodings_fail_the_item_at_once(server, http):
    server.add("/br", lambda h: send(h, 200, b"abc", Content_Encoding="br"))
    server.add("/deep", lambda h: send(h, 200, b"abc", Content_Encoding="gzip, gzip, gzip, gzip"))
    server.add("/liar", lambda h: send(h, 200, b"not gzip at all", Content_Encoding="gzip"))
    for path in ("/br", "/deep", "/liar"):
        with pytest.raises(FetchError) as err:
            http.get(server.url(path), max_bytes=MB)
        assert err.value.permanent


def test_headers_trickled_byte_by_byte_are_cut_off(server, http):
    def trickle(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        end = time.monotonic() + 8
        while time.monotonic() < end:
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(0.1)

    server.add("/slow-headers", trickle)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="headers"):
        http.get(server.url("/slow-headers"), max_bytes=MB)
    assert time.monotonic() - t0 < 3, "headers must arrive within http_timeout_s (1 s here)"


def test_trickled_body_is_cut_at_the_total_deadline(server, make_settings):
    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        while True:
            h.wfile.write(b"<p>slow</p>\n")
            h.wfile.flush()
            time.sleep(0.05)

    server.add("/slowloris", trickle)
    http = HttpClient(make_settings(http_timeout_s=1.0, http_total_timeout_s=1.5))
    try:
        t0 = time.monotonic()
        resp = http.get(server.url("/slowloris"), max_bytes=MB)
        assert resp.truncated and time.monotonic() - t0 < 3
    finally:
        http.close()


def endless(chunk: bytes, head: bytes = b""):
    def respond(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.end_headers()
        h.wfile.write(head)
        while True:
            h.wfile.write(chunk)

    return respond


def test_endless_page_cut_at_the_cap_is_not_an_article(server, http):
    head = b"<html><head><title>Endless</title></head><body><article><h1>Endless</h1>"
    server.add("/endless", endless(b"<p>" + b"xxx " * 16384 + b"</p>\n", head))
    page = fetch_page(server.url("/endless"), http, None, pace=False)
    assert page.truncated
    article, skipped = prepare_article({"feed_id": "hostile"}, page, None, load_seeds())
    assert article is None and "cut off" in (skipped or "")


def test_real_article_cut_at_the_cap_is_still_indexed(server, http):
    seed = Path(os.environ.get("NEWSMON_SHARED", Path(__file__).resolve().parents[3] / "shared"))
    html = seed / "fixtures" / "seed-article" / "article.html"
    if not html.exists():
        pytest.skip(f"{html} is absent (../shared)")
    server.add("/long", endless(b"<!-- padding -->" * 4096, html.read_bytes()))
    page = fetch_page(server.url("/long"), http, None, pace=False)
    assert page.truncated
    article, skipped = prepare_article({"feed_id": "hostile"}, page, None, load_seeds())
    assert article is not None, skipped
    whole = FetchedPage(url=page.url, content=html.read_bytes(), content_type="text/html", truncated=False)
    expected, _ = prepare_article({"feed_id": "hostile"}, whole, None, load_seeds())
    assert expected is not None and len(expected.statements) >= 12
    assert [s.text for s in article.statements] == [s.text for s in expected.statements]


def test_binary_and_deeply_nested_pages_never_crash(server, http):
    server.add("/png", lambda h: send(h, 200, b"\x89PNG\r\n" + os.urandom(4096), ctype="image/png"))
    with pytest.raises(FetchError) as err:
        fetch_page(server.url("/png"), http, None, pace=False)
    assert err.value.permanent
    seeds = load_seeds()
    for content in (os.urandom(200_000), b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000):
        page = FetchedPage(url="http://x.test/a", content=content, content_type="text/html", truncated=False)
        article, skipped = prepare_article({"feed_id": "hostile"}, page, None, seeds)
        assert article is not None or skipped


def tiny_entries_feed(size: int) -> bytes:
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://a.test/</link>'
    entry = b"<item><link>http://a.test/%d</link></item>"
    n = (size - len(head)) // len(entry % 1_000_000)
    return head + b"".join(entry % (1_000_000 + i) for i in range(n)) + b"</channel></rss>"


def test_feed_of_tiny_entries_is_parsed_in_bounded_memory(server, make_settings):
    import pipeline.poll

    assert getattr(pipeline.poll, "MAX_FEED_ENTRIES", None) == MAX_FEED_ENTRIES
    body = tiny_entries_feed(10 * MB)
    server.add("/tiny.xml", lambda h: send(h, 200, body, ctype="application/rss+xml"))
    http = HttpClient(make_settings(max_feed_bytes=12 * MB))
    try:
        base = fresh_peak()
        res = poll_feed(feed_config(server.url("/tiny.xml")), None, http)
    finally:
        http.close()
    assert res.status == "ok" and len(res.items) == MAX_FEED_ENTRIES
    assert res.warning and f"first {MAX_FEED_ENTRIES}" in res.warning and "'hostile'" in res.warning
    assert res.state.last_status == "truncated"
    assert peak_mb() - base < 300, f"a 10 MB feed of tiny entries took {peak_mb() - base} MB"


def test_feed_cut_at_the_size_cap_is_reported_and_keeps_its_whole_items(server, make_settings):
    items = "".join(
        f"<item><title>Story {i}</title><link>http://a.test/{i}</link><description>{'words ' * 20}</description></item>"
        for i in range(200)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    server.add("/big.xml", lambda h: send(h, 200, body, ctype="application/rss+xml"))
    http = HttpClient(make_settings(max_feed_bytes=len(body) // 2))
    try:
        res = poll_feed(feed_config(server.url("/big.xml")), None, http)
    finally:
        http.close()
    assert res.status == "ok" and 50 < len(res.items) < 200
    assert res.state.last_status == "truncated" and res.warning and "cut off" in res.warning
    assert "cut off" in (res.state.last_error or "")


def test_a_feed_of_20000_items_is_read_whole(server, make_settings):
    items = "".join(
        f"<item><title>Story {i}</title><link>http://a.test/{i}</link><guid>http://a.test/{i}</guid></item>"
        for i in range(20_000)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    server.add("/20k.xml", lambda h: send(h, 200, body, ctype="application/rss+xml"))
    http = HttpClient(make_settings())
    try:
        res = poll_feed(feed_config(server.url("/20k.xml")), None, http)
    finally:
        http.close()
    assert res.status == "ok" and len(res.items) == 20_000 and res.warning is None


@pytest.mark.parametrize(
    ("status", "permanent"), [(404, True), (410, True), (403, True), (429, False), (503, False), (500, False)]
)
def test_status_errors_permanent_or_not(status, permanent, server, http):
    server.add("/s", lambda h: send(h, status, b"no", Retry_After="1"))
    with pytest.raises(HttpStatusError) as err:
        fetch_page(server.url("/s"), http, None, pace=False)
    assert err.value.permanent is permanent


def test_redirect_loop_is_permanent(server, http):
    server.add("/a", lambda h: send(h, 302, b"", Location="/b"))
    server.add("/b", lambda h: send(h, 302, b"", Location="/a"))
    with pytest.raises(FetchError, match="loop") as err:
        fetch_page(server.url("/a"), http, None, pace=False)
    assert err.value.permanent
    assert server.hits.count("/a") == 1
