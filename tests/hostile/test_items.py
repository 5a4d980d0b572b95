"""One bad item fails alone: markup in URLs and errors, invalid links, exceptions, permanent errors."""

from __future__ import annotations

import io

import pytest
from elasticsearch import Elasticsearch
from rich.console import Console
from rich.progress import Progress

from pipeline.config import load_seeds
from pipeline.ops.console import RichReporter
from pipeline.poll import poll_feed
from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items

from .server import HostileServer, send
from .support import SEED_ARTICLE, cli_env, run_cli, write_seeds

MARKUP_URL_PATH = "/bad?x=[/]&y=[bold red]"


def rss(items: list[tuple[str, str]]) -> bytes:
    entries = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()


@pytest.fixture
def server():
    s = HostileServer()
    yield s
    s.close()


def article_page():
    if not SEED_ARTICLE.exists():
        pytest.skip(f"{SEED_ARTICLE} is absent (../shared)")
    return SEED_ARTICLE.read_bytes()


def test_reporter_prints_markup_as_text():
    out = io.StringIO()
    with Progress(console=Console(file=out, width=200)) as progress:
        RichReporter(progress).note("fetch failed: http://x.test/a?x=[/]: HTTP 500 [bold]")
    assert "x=[/]" in out.getvalue() and "[bold]" in out.getvalue()


def test_invalid_item_links_are_skipped_one_by_one(server, make_settings):
    from pipeline.config import FeedConfig

    body = rss(
        [
            ("good one", "http://a.test/1"),
            ("broken", "http://[::1/x"),
            ("bad port", "http://a.test:99999/"),
            ("good two", "http://a.test/2"),
        ]
    )
    url = server.add("/feed.xml", lambda h: send(h, 200, body, ctype="application/rss+xml"))
    from pipeline.net import HttpClient

    http = HttpClient(make_settings())
    try:
        res = poll_feed(FeedConfig(id="mixed", name="m", url=url, outlet="m"), None, http)
    finally:
        http.close()
    assert res.status == "ok" and [i.url for i in res.items] == ["http://a.test/1", "http://a.test/2"]
    assert res.warning and "'mixed'" in res.warning and "2 item link(s)" in res.warning


@pytest.mark.es
def test_markup_urls_and_bad_links_never_sink_a_cli_run(tmp_path, server, es_url, index_prefix):
    good = server.add("/story.html", lambda h: send(h, 200, article_page()))
    server.add("/bad", lambda h: send(h, 500, b"boom"))
    items = [("[bold]Good[/] story", good), ("broken", "http://[::1/x"), ("Markup", server.url(MARKUP_URL_PATH))]
    feed = server.add("/feed.xml", lambda h: send(h, 200, rss(items), ctype="application/rss+xml"))
    seeds = write_seeds(tmp_path / "seeds", [{"id": "markup-feed", "url": feed}])
    env = cli_env(
        NEWSMON_ES_URL=es_url,
        NEWSMON_INDEX_PREFIX=index_prefix,
        NEWSMON_SEEDS_DIR=str(seeds),
        NEWSMON_ALLOW_PRIVATE="127.0.0.1",
        NEWSMON_STATE_DIR=str(tmp_path / "var"),
        NEWSMON_SMTP_PORT="1",
    )
    es = Elasticsearch(es_url)
    for run in range(2):  # the failing item stays pending: the next run must survive it too
        if run:  # its backoff has passed (issue 9: next_attempt_at), so the second run tries it again
            pending = es.search(index=f"{index_prefix}-items", size=10, query={"term": {"status": "pending"}})
            ops = [
                op
                for h in pending["hits"]["hits"]
                for op in ({"update": {"_id": h["_id"]}}, {"doc": {"next_attempt_at": "2000-01-01T00:00:00+00:00"}})
            ]
            es.bulk(index=f"{index_prefix}-items", operations=ops, refresh=True)
        res = run_cli(env, "run", "--once")
        # the run goes on to its summary; the documented exit code says what failed: 4, since SMTP
        # (port 1) refused the alert email, which outranks 5 (some pages failed)
        assert res.returncode == 4, res.stderr[-3000:]
        assert "Traceback" not in res.stderr and "MarkupError" not in res.stderr
        assert "newsmon run summary" in res.stdout
        assert "x=[/]" in res.stderr  # the note about the failing item, shown literally
        assert "markup-feed" in res.stderr and "item link" in res.stderr
    try:
        docs = es.search(index=f"{index_prefix}-items", size=10)["hits"]["hits"]
        by_url = {d["_source"]["url"]: d["_source"] for d in docs}
        assert by_url[good]["status"] == "processed"
        bad = by_url[server.url(MARKUP_URL_PATH)]
        assert "HTTP 500" in bad["error"] and bad["attempts"] == 2
    finally:
        es.close()


@pytest.mark.es
def test_an_exception_in_one_item_is_recorded_on_it(tmp_path, server, es_url, index_prefix, make_settings, monkeypatch):
    import pipeline.enrich as enrich

    good = server.add("/story.html", lambda h: send(h, 200, article_page()))
    cursed = server.add("/cursed.html", lambda h: send(h, 200, article_page()))
    feed = server.add(
        "/feed.xml", lambda h: send(h, 200, rss([("a", good), ("b", cursed)]), ctype="application/rss+xml")
    )
    seeds = load_seeds(write_seeds(tmp_path / "seeds", [{"id": "one-bad", "url": feed}]))
    real = enrich.extract_article

    def extract(content, url, **kw):  # a parser bug that only this page triggers
        if url.endswith("/cursed.html"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(content, url, **kw)

    monkeypatch.setattr(enrich, "extract_article", extract)
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, cpu_workers=0), seeds) as p:
        poll_feeds(p, ["one-bad"])
        summary = process_items(p, pending_items(p), cpu_workers=0)
    assert summary.articles == 1 and summary.failed == 1
    reason = summary.failures[cursed]
    assert "'one-bad'" in reason and cursed in reason and "RecursionError" in reason


@pytest.mark.es
def test_permanent_errors_fail_the_item_at_once(tmp_path, server, es_url, index_prefix, make_settings):
    final = {404: "failed", 403: "failed", 410: "failed", 429: "pending", 503: "pending"}
    pages = {}
    for status in final:
        pages[status] = server.add(f"/p{status}.html", lambda h, status=status: send(h, status, b"no"))
    pages["png"] = server.add("/img.html", lambda h: send(h, 200, b"\x89PNG", ctype="image/png"))
    server.add("/loop1", lambda h: send(h, 302, b"", Location="/loop2"))
    server.add("/loop2", lambda h: send(h, 302, b"", Location="/loop1"))
    pages["loop"] = server.url("/loop1")
    final.update({"png": "failed", "loop": "failed"})
    feed = rss([(str(k), url) for k, url in pages.items()])
    feed_url = server.add("/feed.xml", lambda h: send(h, 200, feed, ctype="application/rss+xml"))
    seeds = load_seeds(write_seeds(tmp_path / "seeds", [{"id": "perm", "url": feed_url}]))
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, cpu_workers=0), seeds) as p:
        poll_feeds(p, ["perm"])
        process_items(p, pending_items(p), cpu_workers=0)
        docs = p.es.search(index=p.idx("items"), size=20)["hits"]["hits"]
    got = {d["_source"]["url"]: (d["_source"]["status"], d["_source"]["attempts"]) for d in docs}
    assert got == {pages[k]: (final[k], 1) for k in pages}
