"""The pipeline entry points against the real Elasticsearch: bad feeds, refused links, near-duplicates,
maintenance, and the CLI's search and status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, free_port, rss
from test_alerts import STORY_A, page

from pipeline.config import load_seeds
from pipeline.run import (
    due_feeds,
    feed_states,
    maintain,
    open_pipeline,
    pending_items,
    poll_feeds,
    process_items,
    run_once,
)
from pipeline.store import client as ix

pytestmark = pytest.mark.es


def seeds_with(tmp_path, feeds: list[dict], alerts: list[dict] | None = None):
    d = tmp_path / "seeds"
    d.mkdir(exist_ok=True)
    for name in ("figures.yaml", "topics.yaml"):
        (d / name).write_text((REPO / "seeds" / name).read_text())
    (d / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"name": f["id"], "outlet": f["id"], **f} for f in feeds]}))
    (d / "alerts.yaml").write_text(
        yaml.safe_dump(
            {
                "alerts": alerts
                or [{"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["x@y.example"]}]
            }
        )
    )
    return load_seeds(d)


def test_bad_feeds_fail_with_reasons_and_others_go_on(tmp_path, site, es_url, index_prefix, make_settings):
    good = site.add("/good.xml", rss([("A", site.url("/a.html"))]), content_type="application/rss+xml")
    bad = site.add("/bad.xml", "<<< not xml at all", content_type="text/html")
    gone = f"http://127.0.0.1:{free_port()}/feed.xml"
    seeds = seeds_with(tmp_path, [{"id": "bad", "url": bad}, {"id": "gone", "url": gone}, {"id": "good", "url": good}])
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        summary = poll_feeds(p, ["bad", "gone", "good"])
        assert summary.polled == 3 and summary.ok == 1 and summary.failed == 2 and summary.new_items == 1
        assert "malformed" in summary.failures["bad"] and bad in summary.failures["bad"]
        assert gone in summary.failures["gone"]
        states = feed_states(p)
        assert states["bad"].last_status == "failed" and states["bad"].consecutive_errors == 1
        assert states["good"].last_status == "ok"
        # failed feeds back off; the good one waits its interval: nothing is due right now
        assert due_feeds(p) == []


def test_item_link_to_private_address_is_refused(tmp_path, site, es_url, index_prefix, make_settings):
    feed = site.add(
        "/f.xml",
        rss([("internal", "http://192.168.7.7/admin"), ("ok", site.url("/a.html"))]),
        content_type="application/rss+xml",
    )
    site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        poll_feeds(p, ["f"])
        result = process_items(p, pending_items(p))
        assert result.articles == 1 and result.failed == 1
        assert "refused" in result.failures["http://192.168.7.7/admin"]
        items = p.es.search(index=p.idx("items"), query={"term": {"url": "http://192.168.7.7/admin"}})["hits"]["hits"]
        assert items[0]["_source"]["status"] == "failed"
        assert "192.168.7.7" in items[0]["_source"]["error"]


def test_same_story_at_two_urls_is_a_near_duplicate(tmp_path, site, es_url, index_prefix, make_settings):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    # the wire copy: same text, another site, a trailing line added
    b = site.add(
        "/wire/b.html",
        page(
            site.url("/wire/b.html"),
            "White House moves to tighten H-1B rules",
            STORY_A + ["Reporting by the wire desk."],
        ),
    )
    seeds = seeds_with(
        tmp_path,
        [{"id": "f", "url": site.add("/f.xml", rss([("a", a), ("b", b)]), content_type="application/rss+xml")}],
    )
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        run = run_once(p)
        assert run.process.articles == 2 and run.process.duplicates == 1
        docs = {h["_source"]["url"]: h["_source"] for h in p.es.search(index=p.idx("articles"))["hits"]["hits"]}
        # whichever was processed first is the original; the other points at it
        original, copy = sorted(docs.values(), key=lambda d: d["duplicate_of"] is not None)
        assert original["duplicate_of"] is None
        assert copy["duplicate_of"] == original["article_id"]
        assert run.alert_hits == 1  # the keyword rule fires for the story once


def test_processing_twice_changes_nothing(tmp_path, site, es_url, index_prefix, make_settings):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    seeds = seeds_with(
        tmp_path, [{"id": "f", "url": site.add("/f.xml", rss([("a", a)]), content_type="application/rss+xml")}]
    )
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        poll_feeds(p, ["f"])
        ids = pending_items(p)
        first = process_items(p, ids)
        assert first.articles == 1
        again = process_items(p, ids)  # a retried task with the same ids
        assert again.items == 0 and again.articles == 0
        # and forcing a reprocess of the article overwrites by id
        p.es.update(index=p.idx("items"), id=ids[0], doc={"status": "pending"}, refresh=True)
        process_items(p, ids)
        assert ix.count(p.es, p.idx("articles")) == 1
        n_statements = ix.count(p.es, p.idx("statements"))
        assert n_statements >= 1
        stmts = p.es.search(index=p.idx("statements"))["hits"]["hits"]
        assert all(s["_source"]["repeat_of"] is None for s in stmts)  # reprocessing is not a repeat sighting


def test_maintain_reports_feed_health(tmp_path, site, es_url, index_prefix, make_settings):
    bad = site.add("/bad.xml", "nope", status=500)
    good = site.add("/good.xml", rss([]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "bad", "url": bad}, {"id": "good", "url": good}, {"id": "new", "url": good}])
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        poll_feeds(p, ["bad", "good"])
        report = maintain(p)
        assert report["dead"] == ["bad"] and report["never_polled"] == ["new"]


def test_cli_search_and_status(tmp_path, site, es_url, index_prefix, make_settings, smtp_server):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    seeds_with(tmp_path, [{"id": "f", "url": site.add("/f.xml", rss([("a", a)]), content_type="application/rss+xml")}])
    env = {
        **os.environ,
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds_dir := tmp_path / "seeds"),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_SMTP_PORT": str(smtp_server.port),
        "COLUMNS": "200",
    }
    exe = str(Path(sys.executable).with_name("newsmon"))
    run = subprocess.run([exe, "run", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "feeds polled" in run.stdout and "tagged immigration policy" in run.stdout
    found = subprocess.run([exe, "search", "wage floor"], env=env, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert "White House moves to tighten H-1B rules" in found.stdout and "wage" in found.stdout
    st = subprocess.run([exe, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert st.returncode == 0, st.stderr
    assert "articles    1" in st.stdout and "1 new articles" in st.stdout
    down = subprocess.run(
        [exe, "run", "--once"],
        env={**env, "NEWSMON_ES_URL": f"http://127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 3 and "unreachable" in down.stderr and "NEWSMON_ES_URL" in down.stderr
    bad_seed = seeds_dir / "feeds.yaml"
    bad_seed.write_text(bad_seed.read_text().replace("url:", "adress:"))
    broken = subprocess.run([exe, "run", "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1 and "feeds.yaml" in broken.stderr and "url" in broken.stderr


def test_a_page_that_breaks_enrichment_fails_alone(tmp_path, site, es_url, index_prefix, make_settings, monkeypatch):
    good = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    boom = site.add("/boom.html", page(site.url("/boom.html"), "A page that trips a bug", ["Some words here. " * 30]))
    seeds = seeds_with(
        tmp_path,
        [
            {
                "id": "f",
                "url": site.add("/f.xml", rss([("a", good), ("boom", boom)]), content_type="application/rss+xml"),
            }
        ],
    )
    import pipeline.enrich as enrich

    real = enrich.attribute_statements

    def flaky(text, figures):
        if "trips a bug" in text or "Some words here" in text:
            raise RuntimeError("simulated bug")
        return real(text, figures)

    monkeypatch.setattr(enrich, "attribute_statements", flaky)
    # in-process enrichment: the patched function is not in worker processes (test_cpu_pool.py covers those)
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, cpu_workers=0), seeds) as p:
        poll_feeds(p, ["f"])
        result = process_items(p, pending_items(p))
        assert result.articles == 1 and result.failed == 1
        assert "simulated bug" in result.failures[boom] and boom in result.failures[boom]
        assert pending_items(p) == []


def test_retention_of_items_and_alerts_is_configurable(tmp_path, site, es_url, index_prefix, make_settings):
    """NEWSMON_RETENTION_ITEMS_DAYS / _ALERTS_DAYS: finished items older than 7 days go, sent alerts of the
    same age stay (30 days); pending items and alerts are never removed."""
    from datetime import UTC, datetime, timedelta

    good = site.add("/good.xml", rss([]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "good", "url": good}])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, retention_items_days=7, retention_alerts_days=30)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old = (now - timedelta(days=10)).isoformat()
    with open_pipeline(settings, seeds) as p:
        docs = {
            ("items", "done"): {"item_id": "done", "feed_id": "good", "status": "processed", "discovered_at": old},
            ("items", "waiting"): {"item_id": "waiting", "feed_id": "good", "status": "pending", "discovered_at": old},
            ("alerts", "mailed"): {"alert_id": "mailed", "rule": "h1b", "status": "sent", "created_at": old},
        }
        for (kind, doc_id), doc in docs.items():
            p.es.index(index=p.idx(kind), id=doc_id, document=doc, refresh=True)
        report = maintain(p, now=now)
        left = {(k, i) for (k, i) in docs if p.es.exists(index=p.idx(k), id=i)}
        assert left == {("items", "waiting"), ("alerts", "mailed")}, left
        assert report["removed"] == 1
        report = maintain(p, now=now + timedelta(days=21))  # 31 days old: now the sent alert goes too
        assert not p.es.exists(index=p.idx("alerts"), id="mailed")


def test_the_last_chunk_is_stored_in_parts_as_the_pool_finishes_it(
    tmp_path, site, es_url, index_prefix, make_settings, monkeypatch
):
    """Once every page is fetched, the enriched start of the last chunk is stored while the pool is still
    on a slow page, so that only the rest waits for it (not the whole chunk)."""
    import threading
    import time
    from concurrent.futures import Future

    import pipeline.batch as batch
    from pipeline.cpu import CpuPool

    urls = [
        site.add(f"/s{i}.html", page(site.url(f"/s{i}.html"), f"Story number {i}", [STORY_A[0]] * 3)) for i in range(14)
    ]
    feed = site.add("/f.xml", rss([(f"s{i}", u) for i, u in enumerate(urls)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    stored: list[tuple[int, float]] = []
    real_store = batch.ItemBatch._store

    def store(self, chunk):
        real_store(self, chunk)
        stored.append((len(chunk), time.monotonic()))

    monkeypatch.setattr(batch.ItemBatch, "_store", store)
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix, cpu_workers=0), seeds) as p:
        poll_feeds(p, ["f"])
        ids = pending_items(p)
        docs = ix.get_docs(p.es, p.idx("items"), ids)
        slow_url = docs[batch.published_order({i: docs[i] for i in ids})[12]]["url"]
        real_enrich = CpuPool.enrich
        finished: list[float] = []

        def enrich(self, item, fetched, feed):
            """The 13th page in store order takes 1.5 s in the pool (the others are done at once)."""
            done = real_enrich(self, item, fetched, feed)
            if item["url"] != slow_url:
                return done
            later: Future = Future()

            def finish():
                finished.append(time.monotonic())
                later.set_result(done.result())

            threading.Timer(1.5, finish).start()
            return later

        monkeypatch.setattr(CpuPool, "enrich", enrich)
        result = process_items(p, ids, store_every=50)
    assert result.articles == 14
    sizes = [n for n, _ in stored]
    assert sum(sizes) == 14 and len(sizes) >= 2 and sizes[0] >= batch.TAIL_PART, sizes
    assert stored[0][1] < finished[0]  # the first part went in while the slow page was still in the pool
    assert stored[-1][0] <= 14 - batch.TAIL_PART
