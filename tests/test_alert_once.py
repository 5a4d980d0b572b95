"""Alert delivery that cannot miss and does not double, counted at a real SMTP server (aiosmtpd):
a crash between indexing and queueing, two senders at once, kill -9 while mailing, a failed "sent"
write, a slow acknowledgement, and a backlog larger than one email."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
import yaml
from conftest import REPO, rss
from es_proxy import EsFaultProxy
from test_alerts import STORY_A, page

from pipeline.config import load_seeds
from pipeline.run import open_pipeline, poll_feeds, process_items, run_once, send_pending_alerts
from pipeline.store import client as ix

pytestmark = pytest.mark.es


class SlowSmtp:
    """A real SMTP server that keeps every message it receives and waits `delays[n]` seconds before
    acknowledging the n-th one (after it has arrived): a slow server, or a window to kill the sender in."""

    def __init__(self, delays: dict[int, float] | None = None, default_delay: float = 0.0):
        from aiosmtpd.controller import Controller

        self.delays = delays or {}
        self.default_delay = default_delay
        self.messages: list = []
        self.lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with outer.lock:
                    outer.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                    n = len(outer.messages)
                await asyncio.sleep(outer.delays.get(n, outer.default_delay))
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def rules(self) -> Counter:
        return Counter(m["X-Newsmon-Rule"] for m in self.messages)

    def hit_counts(self) -> Counter:
        """How many emails carried each hit (by its story link)."""
        urls: Counter = Counter()
        for m in self.messages:
            body = m.get_body(preferencelist=("plain",)).get_content()
            urls.update(re.findall(r"^   (http://news\.example/\w+)\r?$", body, flags=re.M))
        return urls

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self):
        self.controller.stop()


@pytest.fixture
def slow_smtp():
    servers = []

    def make(**kw) -> SlowSmtp:
        servers.append(SlowSmtp(**kw))
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def write_seeds(tmp_path, feed_url: str, rules: list[str]) -> object:
    d = tmp_path / "seeds"
    d.mkdir(exist_ok=True)
    for name in ("figures.yaml", "topics.yaml"):
        (d / name).write_text((REPO / "seeds" / name).read_text())
    (d / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"id": "t", "name": "T", "url": feed_url, "outlet": "Test Times"}]})
    )
    alerts = [{"name": r, "kind": "keyword", "keywords": ["H-1B"], "recipients": [f"{r}@news.example"]} for r in rules]
    (d / "alerts.yaml").write_text(yaml.safe_dump({"alerts": alerts}))
    return d


def add_pending_hits(p, rule: str, n: int, schedule: str = "immediate") -> list[str]:
    """n pending hits of `rule`, written as the alert log writes them (the fields every version reads)."""
    now = datetime.now(UTC).isoformat()
    docs = []
    for i in range(n):
        aid = uuid.uuid4().hex
        docs.append(
            (
                aid,
                {
                    "alert_id": aid,
                    "rule": rule,
                    "schedule": schedule,
                    "recipients": [f"{rule}@news.example"],
                    "ref_id": f"ref-{aid}",
                    "article_id": f"art-{aid}",
                    "title": f"Story {i} about H-1B visas",
                    "url": f"http://news.example/{aid}",
                    "text": f"snippet {i} on H-1B",
                    "status": "pending",
                    "created_at": now,
                    "attempts": 0,
                },
            )
        )
    res = ix.bulk_write(p.es, p.idx("alerts"), docs, op="create", refresh=True)
    assert not res.failed
    return [d[0] for d in docs]


def statuses(p) -> Counter:
    p.es.indices.refresh(index=p.idx("alerts"))
    hits = p.es.search(index=p.idx("alerts"), size=1000, query={"match_all": {}})["hits"]["hits"]
    return Counter(h["_source"]["status"] for h in hits)


def empty_feed(site) -> str:
    return site.add("/feed.xml", rss([]), content_type="application/rss+xml")


# ------------------------------------------------------------------ finding hits: the watermark


def test_a_crash_between_indexing_and_queueing_loses_no_hit(
    tmp_path, site, slow_smtp, es_url, index_prefix, make_settings
):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    feed = site.add("/feed.xml", rss([("A", a)]), content_type="application/rss+xml")
    smtp = slow_smtp()
    seeds = load_seeds(write_seeds(tmp_path, feed, ["h1b"]))
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp.port)
    with open_pipeline(settings, seeds) as p:
        # What run_once does up to the point where it would send, then "crash".
        assert poll_feeds(p, ["t"]).new_items == 1
        ids = [h["_id"] for h in p.es.search(index=p.idx("items"), query={"match_all": {}})["hits"]["hits"]]
        done = process_items(p, ids)
        # The hit was recorded in the same request as the article ...
        assert done.articles == 1 and done.alert_hits == 1 and statuses(p) == Counter({"pending": 1})
        # ... and should that record be lost (or the article come from a writer that records none), the
        # next pass finds the hit in the index all the same.
        for hit in p.es.search(index=p.idx("alerts"), query={"match_all": {}})["hits"]["hits"]:
            p.es.delete(index=p.idx("alerts"), id=hit["_id"], refresh=True)
    with open_pipeline(settings, seeds) as p:
        run = run_once(p)  # nothing new to poll or process: the hit comes from the index
        assert run.alert_hits == 1 and run.alerts.emails_sent == 1
        assert run_once(p).alerts.emails_sent == 0
    smtp.wait_for(1)
    time.sleep(0.3)
    assert smtp.rules() == Counter({"h1b": 1})


def test_hits_recorded_at_store_are_the_ones_the_index_pass_finds(tmp_path, site, es_url, index_prefix, make_settings):
    """process_items records each article's hits from the documents it writes; the watermark pass, run on
    the stored documents after those records are gone, finds exactly the same ones (keyword and statement
    rules, a repeated quote, a duplicate story, the repo's own rules with topic filters)."""
    from conftest import shared_path
    from test_alerts import STORY_B

    from pipeline.alerts import log as alert_log

    seed = shared_path("fixtures", "seed-article", "article.html").read_bytes()
    urls = [
        site.add("/seed.html", seed),
        site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A)),
        site.add("/b.html", page(site.url("/b.html"), "Tech firms alarmed by H-1B wage plan", STORY_B)),
        site.add("/a-copy.html", page(site.url("/a-copy.html"), "White House moves to tighten H-1B rules", STORY_A)),
    ]
    feed = site.add("/feed.xml", rss([(f"S{i}", u) for i, u in enumerate(urls)]), content_type="application/rss+xml")
    d = write_seeds(tmp_path, feed, ["h1b"])
    repo_rules = yaml.safe_load((REPO / "seeds" / "alerts.yaml").read_text())["alerts"]
    mine = yaml.safe_load((d / "alerts.yaml").read_text())["alerts"]
    (d / "alerts.yaml").write_text(yaml.safe_dump({"alerts": repo_rules + mine}))
    seeds = load_seeds(d)
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        assert poll_feeds(p, ["t"]).new_items == 4
        ids = [h["_id"] for h in p.es.search(index=p.idx("items"), query={"match_all": {}})["hits"]["hits"]]
        done = process_items(p, ids)
        assert done.articles == 4 and done.duplicates >= 1 and sorted(done.alerts_recorded) == sorted(done.article_ids)

        def recorded() -> dict[str, tuple]:
            p.es.indices.refresh(index=p.idx("alerts"))
            found = p.es.search(index=p.idx("alerts"), size=1000, query={"match_all": {}})["hits"]["hits"]
            fields = (
                "rule",
                "schedule",
                "recipients",
                "ref_id",
                "article_id",
                "title",
                "url",
                "speaker",
                "kind",
                "text",
            )
            return {h["_id"]: tuple(str(h["_source"].get(f)) for f in fields) for h in found}

        at_store = recorded()
        assert done.alert_hits == len(at_store)
        rules = Counter(v[0] for v in at_store.values())
        assert rules["h1b"] == 3 and rules["any-figure-statements"] >= 3 and rules["h1b-debate-voices"] >= 1, rules
        for alert_id in at_store:
            p.es.delete(index=p.idx("alerts"), id=alert_id)
        assert alert_log.queue_since_watermark(p) == len(at_store)
        assert recorded() == at_store
        # and a pass that leaves out the articles whose hits were recorded at store finds none of them
        for alert_id in at_store:
            p.es.delete(index=p.idx("alerts"), id=alert_id)
        p.es.delete(index=p.idx("cursors"), id=alert_log.CURSOR, refresh=True)
        assert alert_log.queue_since_watermark(p, recorded=done.alerts_recorded) == 0


# ------------------------------------------------------------------ sending: leases and the journal


@pytest.mark.parametrize("trial", range(3))
def test_two_senders_at_once_mail_each_hit_once(trial, tmp_path, site, slow_smtp, es_url, index_prefix, make_settings):
    rules = [f"r{i}" for i in range(6)]
    smtp = slow_smtp(default_delay=0.2)
    seeds = load_seeds(write_seeds(tmp_path, empty_feed(site), rules))
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp.port)
    with open_pipeline(settings, seeds) as p:
        hit_ids = [i for r in rules for i in add_pending_hits(p, r, 2)]
    hit_urls = [f"http://news.example/{i}" for i in hit_ids]
    barrier = threading.Barrier(2)
    results: list = []

    def sender():
        with open_pipeline(settings, seeds) as p:
            barrier.wait()
            results.append(send_pending_alerts(p, "immediate"))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    time.sleep(0.5)
    # Every hit in exactly one email. (The two senders may split a rule's hits between them: two
    # emails for one rule, each with other hits, is not a repeat.)
    assert smtp.hit_counts() == Counter({u: 1 for u in hit_urls}), smtp.hit_counts()
    assert set(smtp.rules()) == set(rules) and len(smtp.messages) <= 12
    assert sum(r.hits_sent for r in results) == 12  # (one may finish while the other still mails)
    with open_pipeline(settings, seeds) as p:
        assert statuses(p) == Counter({"sent": 12})


KILL_SCRIPT = """
import sys
from pipeline.ops.cli import app
sys.argv = ["newsmon", "run", "--once"]
app()
"""


def test_kill_9_while_mailing_loses_nothing_and_resends_only_the_unacknowledged_email(
    tmp_path, site, slow_smtp, es_url, index_prefix, make_settings
):
    rules = ["first", "second", "third"]
    smtp = slow_smtp(delays={3: 60.0})  # the third email arrives, and its acknowledgement never does
    seeds_dir = write_seeds(tmp_path, empty_feed(site), rules)
    seeds = load_seeds(seeds_dir)
    lease_s = 4.0
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp.port, alert_lease_s=lease_s)
    with open_pipeline(settings, seeds) as p:
        for r in rules:
            add_pending_hits(p, r, 1)
    env = {
        **os.environ,
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds_dir),
        "NEWSMON_SMTP_PORT": str(smtp.port),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_STATE_DIR": str(settings.state_dir),
        "NEWSMON_ALERT_LEASE_S": str(lease_s),
        "NEWSMON_CPU_WORKERS": "0",
    }
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT], env=env, cwd=tmp_path)
    try:
        smtp.wait_for(3, timeout=60)
        assert len(smtp.messages) == 3, f"the run did not get to its third email: {smtp.rules()}"
        killed_rule = smtp.messages[2]["X-Newsmon-Rule"]
        time.sleep(0.3)  # the sender is waiting for the third acknowledgement
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    smtp.delays = {}
    with open_pipeline(settings, seeds) as p:
        # At once: the unacknowledged email's hit is still leased by the dead run; the two others were recorded.
        again = send_pending_alerts(p, "immediate")
        assert again.emails_sent == 0 and again.pending == 1
        time.sleep(lease_s + 0.5)
        # The lease ran out: the one email the dead run never heard back about is sent again (at least once).
        later = send_pending_alerts(p, "immediate")
        assert later.emails_sent == 1 and later.pending == 0
        assert statuses(p) == Counter({"sent": 3})
    time.sleep(0.3)
    counts = smtp.rules()
    assert counts == Counter({**{r: 1 for r in rules}, killed_rule: 2}), counts


def test_a_failed_sent_write_is_recorded_later_not_mailed_again(
    tmp_path, site, slow_smtp, es_url, index_prefix, make_settings, monkeypatch
):
    from pipeline.alerts import log as alert_log

    monkeypatch.setattr(alert_log, "SENT_WRITE_BACKOFF_S", 0.01, raising=False)
    rules = ["one", "two"]
    smtp = slow_smtp()
    seeds = load_seeds(write_seeds(tmp_path, empty_feed(site), rules))
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp.port, alert_lease_s=1.0)
    proxy = EsFaultProxy(es_url)
    try:
        with open_pipeline(settings, seeds) as p:
            for r in rules:
                add_pending_hits(p, r, 1)
        with open_pipeline(settings, seeds) as p:
            from elasticsearch import Elasticsearch

            p.es.close()
            p.es = Elasticsearch(proxy.url, max_retries=0)
            # Every write that records a hit as sent fails; everything else reaches Elasticsearch.
            proxy.fail_when = lambda method, path, body: path.startswith("/_bulk") and b'"sent_at"' in body
            try:
                first = send_pending_alerts(p, "immediate")
                error = first.error
            except ix.EsUnavailable as exc:
                error = str(exc)
            assert error and "sent" in error, error
            assert proxy.failed >= 1
        smtp.wait_for(1)
        n_first = len(smtp.messages)
        assert n_first == 1, "the sender must stop when it cannot record what it sent"
        time.sleep(1.5)  # longer than the lease: only the record of the send can stop a second email
        proxy.fail_when = None
        with open_pipeline(settings, seeds) as p:
            second = send_pending_alerts(p, "immediate")
            assert statuses(p) == Counter({"sent": 2})
        assert second.emails_sent == 1  # the rule the first pass never got to
        time.sleep(0.3)
        assert smtp.rules() == Counter({"one": 1, "two": 1}), smtp.rules()
    finally:
        proxy.close()


def test_a_slow_acknowledgement_is_not_mailed_again(tmp_path, site, slow_smtp, es_url, index_prefix, make_settings):
    smtp = slow_smtp(default_delay=2.5)  # slower to acknowledge than the 1 s command timeout below
    seeds = load_seeds(write_seeds(tmp_path, empty_feed(site), ["slow"]))
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp.port, smtp_timeout_s=1.0)
    with open_pipeline(settings, seeds) as p:
        add_pending_hits(p, "slow", 2)
        first = send_pending_alerts(p, "immediate")
        second = send_pending_alerts(p, "immediate")
        assert (first.emails_sent, first.error, first.pending) == (1, None, 0)
        assert second.emails_sent == 0
    time.sleep(0.5)
    assert smtp.rules() == Counter({"slow": 1})


def test_a_backlog_goes_out_in_bounded_emails_and_what_remains_is_reported(
    tmp_path, site, slow_smtp, es_url, index_prefix, make_settings
):
    from pipeline.ops.status import status_report

    smtp = slow_smtp()
    seeds = load_seeds(write_seeds(tmp_path, empty_feed(site), ["big"]))
    settings = make_settings(
        es_url=es_url,
        index_prefix=index_prefix,
        smtp_port=smtp.port,
        alert_max_hits_per_email=10,
        alert_max_emails_per_pass=3,
    )
    with open_pipeline(settings, seeds) as p:
        add_pending_hits(p, "big", 45)
        first = send_pending_alerts(p, "immediate")
        assert (first.emails_sent, first.hits_sent, first.pending) == (3, 30, 15)
        report = status_report(p)
        assert "15 waiting to be sent" in report, report
        second = send_pending_alerts(p, "immediate")
        assert (second.emails_sent, second.hits_sent, second.pending) == (2, 15, 0)
    smtp.wait_for(5)
    time.sleep(0.3)
    sizes = sorted(len(m.get_body(preferencelist=("plain",)).get_content().split("\n== ")) - 1 for m in smtp.messages)
    assert sizes == [5, 10, 10, 10, 10], sizes
