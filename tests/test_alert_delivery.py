"""Rule options over a real SMTP server: a throttled rule mails the right number of emails and
carries what it held back; quiet hours hold; `newsmon run` sends the daily digest when it is due,
as the DAG does; `status` tells digest hits, held hits and failed sends apart."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import rss
from test_alerts import STORY_A, STORY_B, make_seeds, page

from pipeline.run import open_pipeline, run_once, send_due_digest, send_pending_alerts
from pipeline.store import client as ix

pytestmark = pytest.mark.es


def _serve(site, stories: list[tuple[str, str, list[str]]]) -> str:
    items = [(title, site.add(path, page(site.url(path), title, paras))) for path, title, paras in stories]
    return site.add("/feed.xml", rss(items), content_type="application/rss+xml")


A = ("/a.html", "White House moves to tighten H-1B rules", STORY_A)
B = ("/b.html", "Tech firms alarmed by H-1B wage plan", STORY_B)
C = (
    "/c.html",
    "Universities warn of H-1B fee for researchers",
    [
        "University leaders said on Monday that a proposed fee on H-1B visa petitions would make it harder to hire foreign researchers and lecturers.",
        "The fee would apply to new petitions for skilled workers, and college associations said they would ask Congress for an exemption from it.",
        "Officials at the Department of Labor did not answer questions about when the visa rule would be published in the Federal Register.",
    ],
)


def test_throttled_rule_mails_the_right_number_and_carries_what_waited(
    tmp_path, site, smtp_server, es_url, index_prefix, make_settings
):
    rule = {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["desk@news.example"], "throttle": 1}
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp_server.port)

    seeds = make_seeds(tmp_path, _serve(site, [A]), [rule])
    with open_pipeline(settings, seeds) as p:
        first = run_once(p)
    assert first.alerts.emails_sent == 1
    assert len(smtp_server.wait_for(1)) == 1

    # Two more stories within the hour: the rule has used its one email, so both wait.
    _serve(site, [A, B, C])
    with open_pipeline(settings, seeds) as p:
        second = run_once(p)
        assert second.alert_hits == 2 and second.alerts.emails_sent == 0 and second.alerts.held == 2
        held = ix.count(p.es, p.idx("alerts"), {"exists": {"field": "hold_reason"}})
        assert held == 2
        # another pass inside the hour still sends nothing
        assert send_pending_alerts(p).emails_sent == 0
        later = datetime.now(UTC) + timedelta(minutes=61)
        after_the_hour = send_pending_alerts(p, now=later)
        assert after_the_hour.emails_sent == 1 and after_the_hour.hits_sent == 2
        assert send_pending_alerts(p, now=later + timedelta(minutes=1)).emails_sent == 0

    mails = smtp_server.wait_for(3, timeout=2)
    assert len(mails) == 2, [m["Subject"] for m in mails]
    body = mails[1].get_body(preferencelist=("plain",)).get_content()
    assert "2 of them waited for this email (at most 1 email an hour)" in body
    assert "Tech firms alarmed" in body and "Universities warn" in body


def test_quiet_hours_hold_until_they_end(tmp_path, site, smtp_server, es_url, index_prefix, make_settings):
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    rule = {
        "name": "night",
        "kind": "keyword",
        "keywords": ["H-1B"],
        "recipients": ["desk@news.example"],
        "quiet_hours": f"{start}-{end}",
    }
    seeds = make_seeds(tmp_path, _serve(site, [A]), [rule])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp_server.port)
    with open_pipeline(settings, seeds) as p:
        run = run_once(p)
        assert run.alerts.emails_sent == 0 and run.alerts.held == 1
        assert send_pending_alerts(p, now=now + timedelta(hours=1, minutes=5)).emails_sent == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_newsmon_run_sends_the_digest_when_due_and_status_tells_backlogs_apart(
    tmp_path, site, smtp_server, es_url, index_prefix
):
    rules = [
        {"name": "digest", "kind": "keyword", "keywords": ["visa"], "recipients": ["d@x.example"], "schedule": "daily"}
    ]
    make_seeds(tmp_path, _serve(site, [A, B]), rules)
    env = {
        **os.environ,
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(tmp_path / "seeds"),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_SMTP_PORT": str(smtp_server.port),
        "NEWSMON_DIGEST_CRON": "0 7 * * *",
        "COLUMNS": "200",
    }
    exe = str(Path(sys.executable).with_name("newsmon"))

    def newsmon(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=180)

    first = newsmon("run", "--once")
    assert first.returncode == 0, first.stderr
    status = newsmon("status")
    assert "2 waiting for the daily digest" in status.stdout and "0 failed to send" in status.stdout, status.stdout
    assert smtp_server.wait_for(1, timeout=1) == []  # recorded after today's slot: waits for the next one

    # A day passes: the hits were recorded before the latest slot, so the next run mails the digest.
    from elasticsearch import Elasticsearch

    es = Elasticsearch(es_url)
    yesterday = (datetime.now(UTC) - timedelta(days=1, hours=1)).isoformat()
    ids = [h["_id"] for h in es.search(index=f"{index_prefix}-alerts", size=100)["hits"]["hits"]]
    assert len(ids) == 2
    ops = [op for i in ids for op in ({"update": {"_id": i}}, {"doc": {"created_at": yesterday}})]
    es.bulk(index=f"{index_prefix}-alerts", operations=ops, refresh=True)  # (no _update_by_query in the minimal zip)
    es.close()
    second = newsmon("run", "--once")
    assert second.returncode == 0, second.stderr
    assert "daily digest emails sent" in second.stdout
    mails = smtp_server.wait_for(1)
    assert len(mails) == 1 and mails[0]["X-Newsmon-Rule"] == "digest"
    assert newsmon("run", "--once").returncode == 0
    assert len(smtp_server.wait_for(2, timeout=1)) == 1  # sent once
    assert "0 waiting for the daily digest" in newsmon("status").stdout


def test_the_dag_and_run_share_one_digest_function(tmp_path, site, smtp_server, es_url, index_prefix, make_settings):
    rules = [
        {"name": "digest", "kind": "keyword", "keywords": ["visa"], "recipients": ["d@x.example"], "schedule": "daily"}
    ]
    seeds = make_seeds(tmp_path, _serve(site, [A]), rules)
    settings = make_settings(
        es_url=es_url, index_prefix=index_prefix, smtp_port=smtp_server.port, digest_cron="0 7 * * *"
    )
    with open_pipeline(settings, seeds) as p:
        assert run_once(p).digest.emails_sent == 0
        tomorrow_8am = (datetime.now(UTC) + timedelta(days=1)).replace(hour=8, minute=0)
        sent = send_due_digest(p, now=tomorrow_8am)
        assert sent.emails_sent == 1 and sent.hits_sent == 1
        assert send_due_digest(p, now=tomorrow_8am).emails_sent == 0
    dag_text = Path(__file__).resolve().parents[1].joinpath("dags", "newsmon_alert.py").read_text()
    assert "send_due_digest(p)" in dag_text
