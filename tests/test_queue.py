"""The work queue always moves: backoff with Retry-After, due items only, a few per host, and an item
fails for good only once its retry window is spent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import free_port, rss
from test_alerts import STORY_A, page
from test_run import seeds_with

from pipeline.itemqueue import BACKOFF, after_failure, count_due, retry_delay
from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items, run_once
from pipeline.store import client as ix


def test_backoff_is_5m_30m_2h_12h_and_retry_after_can_lengthen_it():
    assert [retry_delay(n) for n in range(1, 7)] == [
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
        timedelta(hours=12),
        timedelta(hours=12),
    ]
    assert retry_delay(1, retry_after_s=3 * 3600) == timedelta(hours=3)
    assert retry_delay(3, retry_after_s=60) == BACKOFF[2]  # a short Retry-After never shortens the backoff


def test_an_item_fails_for_good_only_after_its_window():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    window = timedelta(hours=24)
    item: dict = {"url": "http://x.test/a", "attempts": 0}
    t = now
    for n in range(1, 5):  # four failures: 0, 5 min, 35 min, 2 h 35 min, then 14 h 35 min in
        item.update(after_failure(item, "HTTP 503", t, window))
        assert item["status"] == "pending" and item["attempts"] == n
        nxt = datetime.fromisoformat(item["next_attempt_at"])
        assert nxt - t == BACKOFF[n - 1]
        t = nxt
    item.update(after_failure(item, "HTTP 503", t, window))
    assert item["status"] == "pending"  # 14 h 35 min after the first failure: still within the day
    t = datetime.fromisoformat(item["next_attempt_at"])
    item.update(after_failure(item, "HTTP 503", t, window))
    assert item["status"] == "failed" and item["next_attempt_at"] is None
    assert "HTTP 503" in item["error"] and "gave up after 6 attempts over 24 h" in item["error"]
    robots = after_failure({"attempts": 0}, "disallowed by robots.txt", now, window, permanent=True)
    assert robots["status"] == "failed" and robots["error"] == "disallowed by robots.txt"


@pytest.mark.es
def test_a_dead_site_at_the_head_of_the_queue_holds_up_nothing(tmp_path, site, es_url, index_prefix, make_settings):
    dead = f"http://127.0.0.2:{free_port()}"  # nothing listens there: every fetch is refused
    dead_feed = site.add(
        "/dead.xml", rss([(f"D{i}", f"{dead}/d{i}.html") for i in range(60)]), content_type="application/rss+xml"
    )
    good = [
        site.add(f"/g{i}.html", page(site.url(f"/g{i}.html"), f"Story {i} on H-1B visas", STORY_A[i:] + STORY_A[:i]))
        for i in range(3)
    ]
    good_feed = site.add(
        "/good.xml", rss([(f"G{i}", u) for i, u in enumerate(good)]), content_type="application/rss+xml"
    )
    seeds = seeds_with(tmp_path, [{"id": "dead", "url": dead_feed}, {"id": "good", "url": good_feed}])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, allow_private=["127.0.0.0/8"], queue_per_host=10)
    with open_pipeline(settings, seeds) as p:
        assert poll_feeds(p, ["dead"]).new_items == 60  # discovered first: the head of the queue
        assert poll_feeds(p, ["good"]).new_items == 3
        head = pending_items(p, limit=50)
        # at most 10 of the dead host in one batch, and the good site's items in the same batch
        assert len(head) == 13
        run = run_once(p, batch_size=5)
        assert run.process.articles == 3, run.process
        assert run.process.retry_later == 60 and run.process.failed == 0
        items = p.es.search(index=p.idx("items"), size=100, query={"term": {"host": "127.0.0.2"}})["hits"]["hits"]
        assert {h["_source"]["status"] for h in items} == {"pending"}
        now = datetime.now(UTC)
        waits = [datetime.fromisoformat(h["_source"]["next_attempt_at"]) - now for h in items]
        # 5 min of backoff, or longer: its robots.txt is unreachable too, which RFC 9309 reads as
        # "disallow everything" for a while (30 min), and the items wait that out
        assert all(timedelta(minutes=4) < w <= timedelta(minutes=30) for w in waits), waits
        # Not due yet: the next run takes none of them; once the wait is over, a batch takes them again.
        assert pending_items(p) == []
        assert len(pending_items(p, limit=500, now=now + max(waits) + timedelta(seconds=1))) == 10
        # What the poll DAG's announce counts to start a process run when no feed brought anything new.
        assert count_due(p) == 0
        assert count_due(p, now + max(waits) + timedelta(seconds=1)) == 60


@pytest.mark.es
def test_retry_after_is_honoured_and_an_outage_shorter_than_the_window_loses_nothing(
    tmp_path, site, es_url, index_prefix, make_settings
):
    url = site.add("/a.html", "busy", status=503, headers={"Retry-After": "7200"})
    feed = site.add("/feed.xml", rss([("A", url)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix)
    with open_pipeline(settings, seeds) as p:
        poll_feeds(p, ["f"])
        (item_id,) = pending_items(p)
    for n in range(4):  # four failed attempts in a row, in four runs (a caller that ignores the backoff)
        with open_pipeline(settings, seeds) as p:
            s = process_items(p, [item_id])
            assert s.retry_later == 1 and s.failed == 0, s
            if n == 3:  # the same run again: the host is closed for 2 h, so the item is put back at once
                t0 = time.monotonic()
                s = process_items(p, [item_id])
                assert time.monotonic() - t0 < 10 and s.retry_later == 1, s
                assert "asked us to wait" in s.failures[url], s
    with open_pipeline(settings, seeds) as p:
        doc = p.es.get(index=p.idx("items"), id=item_id)["_source"]
        assert doc["status"] == "pending" and doc["attempts"] == 4 and "HTTP 503" in doc["error"]
        wait = datetime.fromisoformat(doc["next_attempt_at"]) - datetime.now(UTC)
        assert timedelta(hours=11, minutes=59) < wait <= timedelta(hours=12)  # 4th failure: 12 h > Retry-After 2 h
        site.add("/a.html", page(url, "Back up: H-1B story", STORY_A))  # the site recovers
        assert process_items(p, [item_id]).articles == 1
        assert p.es.get(index=p.idx("items"), id=item_id)["_source"]["status"] == "processed"


@pytest.mark.es
def test_an_item_fails_for_good_when_its_window_is_spent_and_says_why(
    tmp_path, site, es_url, index_prefix, make_settings
):
    url = site.add("/a.html", "busy", status=503, headers={"Retry-After": "120"})
    feed = site.add("/feed.xml", rss([("A", url)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "f", "url": feed}])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, item_retry_hours=2)
    with open_pipeline(settings, seeds) as p:
        poll_feeds(p, ["f"])
        (item_id,) = pending_items(p)
        process_items(p, [item_id])
        doc = p.es.get(index=p.idx("items"), id=item_id)["_source"]
        wait = datetime.fromisoformat(doc["next_attempt_at"]) - datetime.now(UTC)
        assert timedelta(minutes=4) < wait <= timedelta(minutes=5)  # Retry-After 2 min < the 5 min backoff
        earlier = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
        p.es.update(
            index=p.idx("items"), id=item_id, doc={"first_failed_at": earlier, "next_attempt_at": earlier}, refresh=True
        )
        assert pending_items(p) == [item_id]
    with open_pipeline(settings, seeds) as p:  # a later run (this one keeps the host closed for 2 min)
        run = run_once(p)
        assert run.process.failed == 1 and run.process.retry_later == 0
        assert "gave up after 2 attempts over 2 h" in run.process.failures[url]
        doc = p.es.get(index=p.idx("items"), id=item_id)["_source"]
        assert doc["status"] == "failed" and "HTTP 503" in doc["error"]
        assert ix.count(p.es, p.idx("items"), {"term": {"status": "pending"}}) == 0
