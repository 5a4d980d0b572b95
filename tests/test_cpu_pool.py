"""The CPU stages on worker processes: the same records as in-process, one bad page fails alone,
a dead worker is replaced."""

from __future__ import annotations

import os
import sys
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta

import pytest
from conftest import rss, shared_path
from test_alerts import STORY_A, STORY_B, page

from pipeline.config import load_seeds
from pipeline.cpu import CpuPool
from pipeline.fetch import FetchedPage
from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items


def fetched(url: str, html: str) -> FetchedPage:
    return FetchedPage(url=url, content=html.encode(), content_type="text/html; charset=utf-8", truncated=False)


def test_workers_return_the_same_records_as_in_process():
    seeds = load_seeds()
    seed_html = (shared_path("fixtures", "seed-article") / "article.html").read_text(encoding="utf-8")
    pages = [
        fetched("https://a.example/a", page("https://a.example/a", "H-1B rules", STORY_A)),
        fetched("https://b.example/b", page("https://b.example/b", "Tech firms", STORY_B)),
        fetched("https://s.example/seed", seed_html),
        fetched("https://n.example/nav", "<html><body><nav>Home</nav></body></html>"),
    ]
    item = {"feed_id": "f", "published": None}
    with CpuPool(seeds, 0) as inline, CpuPool(seeds, 2) as pool:
        here = [inline.enrich(item, pg, None).result() for pg in pages]
        there = [f.result() for f in [pool.enrich(item, pg, None) for pg in pages]]
    assert there == here
    assert sum(a is not None for a, _ in here) == 3 and here[2][0].statements  # not a comparison of empty answers


def test_an_error_in_a_worker_comes_back_with_its_page_only():
    with CpuPool(load_seeds(), 2) as pool:
        bad = pool.enrich({}, fetched("https://x.example/", "<p>x</p>"), None)  # no feed_id: KeyError in the worker
        good = pool.enrich(
            {"feed_id": "f"}, fetched("https://a.example/a", page("https://a.example/a", "T", STORY_A)), None
        )
        assert isinstance(bad.exception(), KeyError)
        assert good.result()[0] is not None


def test_start_brings_every_worker_up_before_the_first_page():
    with CpuPool(load_seeds(), 2) as pool:
        pool.start()
        processes = pool._executor._processes  # type: ignore[union-attr]
        assert len(processes) == 2 and all(p.is_alive() for p in processes.values())
        pids = set(processes)
        assert pool.enrich(
            {"feed_id": "f"}, fetched("https://a.example/a", page("https://a.example/a", "T", STORY_A)), None
        ).result()[0]
        assert set(pool._executor._processes) == pids  # type: ignore[union-attr]  # no process started late
    with CpuPool(load_seeds(), 0) as inline:
        inline.start()  # in-process: nothing to start, and no error


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are a Linux setting")
def test_the_pipe_to_the_workers_holds_a_whole_page():
    import fcntl

    from pipeline.cpu import TASK_PIPE_BYTES

    with CpuPool(load_seeds(), 1) as pool:
        pool.start()
        writer = pool._executor._call_queue._writer  # type: ignore[union-attr]
        assert fcntl.fcntl(writer.fileno(), 1032, 0) >= TASK_PIPE_BYTES  # F_GETPIPE_SZ; the default is 64 KiB
        big = fetched("https://a.example/a", page("https://a.example/a", "T", STORY_A) + " " * 300_000)
        assert pool.enrich({"feed_id": "f"}, big, None).result()[0] is not None


def test_a_dead_worker_is_replaced():
    with CpuPool(load_seeds(), 1) as pool:
        died = pool._submit(os._exit, 3)
        with pytest.raises(BrokenProcessPool):
            died.result()
        again = pool.enrich(
            {"feed_id": "f"}, fetched("https://a.example/a", page("https://a.example/a", "T", STORY_A)), None
        )
        assert again.result()[0] is not None


@pytest.mark.es
def test_process_items_on_two_workers_in_chunks_stores_what_one_process_does(tmp_path, site, es_url, make_settings):
    from test_run import seeds_with

    seed_html = (shared_path("fixtures", "seed-article") / "article.html").read_text(encoding="utf-8")
    links = [
        site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A)),
        site.add("/b.html", page(site.url("/b.html"), "Tech firms alarmed by H-1B wage plan", STORY_B)),
        site.add("/seed.html", seed_html),
        site.add("/empty.html", "<html><body></body></html>"),
        site.add("/wire.html", page(site.url("/wire.html"), "H-1B rules", STORY_A + ["Reporting by the wire desk."])),
    ]
    feed = site.add("/f.xml", rss([(f"s{i}", u) for i, u in enumerate(links)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    stored = []
    # one process, one chunk; against two workers, storing every item as soon as it is ready
    for workers, store_every in ((0, 50), (2, 1)):
        prefix = f"t-cpu{workers}-{os.getpid()}"
        with open_pipeline(make_settings(es_url=es_url, index_prefix=prefix), seeds) as p:
            try:
                poll_feeds(p, ["f"])
                summary = process_items(p, sorted(pending_items(p)), cpu_workers=workers, store_every=store_every)
                docs = {}
                for kind in ("articles", "statements"):
                    for h in p.es.search(index=p.idx(kind), size=100)["hits"]["hits"]:
                        docs[h["_id"]] = {
                            k: v for k, v in h["_source"].items() if k not in ("first_seen", "indexed_at", "@timestamp")
                        }
                stored.append((summary.articles, summary.skipped, summary.statements, docs))
            finally:
                p.es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    assert stored[0] == stored[1]
    articles, skipped, statements, docs = stored[0]
    assert articles == 4 and skipped == 1 and statements >= 12
    assert sum(1 for d in docs.values() if d.get("duplicate_of")) == 1  # the wire copy
    assert sum(1 for d in docs.values() if d.get("repeat_of")) >= 3  # B's quote of A, the copy's, the seed's #11


class KillingPool(CpuPool):
    """A pool whose worker dies on one page (as if lxml crashed or the kernel killed it)."""

    def enrich(self, item, page, feed):
        if "boom" in page.url:
            return self._submit(os._exit, 9)
        return super().enrich(item, page, feed)


@pytest.mark.es
def test_a_page_that_kills_its_worker_is_retried_then_failed(tmp_path, site, es_url, index_prefix, make_settings):
    from test_run import seeds_with

    from pipeline.store import client as ix

    good = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    boom = site.add("/boom.html", page(site.url("/boom.html"), "Tech firms alarmed by H-1B wage plan", STORY_B))
    feed = site.add("/f.xml", rss([("a", good), ("boom", boom)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        poll_feeds(p, ["f"], cpu_workers=0)
        p._cpu = KillingPool(seeds, 1)  # what p.cpu(1) hands out from now on
        ids = pending_items(p)
        urls = {i: d["url"] for i, d in ix.get_docs(p.es, p.idx("items"), ids).items()}
        ids.sort(key=lambda i: urls[i] != boom)  # the killer first: the good page waits behind it in the pool
        outcomes = [process_items(p, ids, cpu_workers=1)]
        first = {d["url"]: d for d in ix.get_docs(p.es, p.idx("items"), ids).values()}
        # It backs off like a page that cannot be fetched: not due again at once.
        assert first[boom]["status"] == "pending" and first[boom]["attempts"] == 1
        assert pending_items(p) == []
        # A day later (its retry window spent) it kills its worker again, and now fails for good.
        day_ago = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
        boom_id = next(i for i in ids if urls[i] == boom)
        p.es.update(
            index=p.idx("items"),
            id=boom_id,
            doc={"first_failed_at": day_ago, "next_attempt_at": day_ago},
            refresh=True,
        )
        assert pending_items(p) == [boom_id]
        outcomes.append(process_items(p, [boom_id], cpu_workers=1))
        items = {d["url"]: d for d in ix.get_docs(p.es, p.idx("items"), ids).values()}
    # the good page, in the pool when the worker died or not, is processed at the first attempt
    assert outcomes[0].articles == 1 and items[good]["status"] == "processed"
    assert items[boom]["status"] == "failed" and "worker process died" in items[boom]["error"]
    assert items[boom]["attempts"] == 2 and "gave up after 2 attempts over 24 h" in items[boom]["error"]
    assert [o.retry_later for o in outcomes] == [1, 0] and [o.failed for o in outcomes] == [0, 1]
