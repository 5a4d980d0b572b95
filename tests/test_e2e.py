"""End to end: `newsmon run --once` over a local feed with the seed article, against the real
Elasticsearch and a real SMTP server. A second run must add nothing and mail nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import REPO, rss, shared_path
from elasticsearch import Elasticsearch

UNRELATED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}"><meta property="article:published_time" content="2024-12-29T08:00:00Z"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p>{p1}</p><p>{p2}</p><p>{p3}</p></article><footer>All rights reserved.</footer></body></html>"""


def unrelated_page(url: str, title: str, topic: str) -> str:
    p1 = f"The {topic} story developed over the weekend as residents across the region watched closely and officials prepared their responses to what came next."
    p2 = f"Local leaders said the {topic} situation would be reviewed at a public meeting on Tuesday, where members of the community can ask questions and offer their views."
    p3 = f"Forecasters and analysts expect more news on the {topic} front in the coming days, and this page will be updated as details become available to reporters."
    return UNRELATED.format(url=url, title=title, p1=p1, p2=p2, p3=p3)


def write_seeds(dest: Path, feed_url: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "seeds" / "figures.yaml", dest / "figures.yaml")
    shutil.copy(REPO / "seeds" / "topics.yaml", dest / "topics.yaml")
    feeds = {
        "poll_schedule_minutes": 1,
        "feeds": [
            {
                "id": "local-test",
                "name": "Local test feed",
                "url": feed_url,
                "outlet": "The Daily Ledger",
                "language": "en",
                "poll_interval_minutes": 5,
                "tags": ["test"],
            }
        ],
    }
    alerts = {
        "alerts": [
            {
                "name": "tracked-figure-statements",
                "kind": "statement",
                "figures": ["*"],
                "recipients": ["editors@newsroom.example"],
            },
        ]
    }
    (dest / "feeds.yaml").write_text(yaml.safe_dump(feeds))
    (dest / "alerts.yaml").write_text(yaml.safe_dump(alerts))
    return dest


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("newsmon")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.ops.cli"]
    return subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.es
def test_seed_article_end_to_end(tmp_path, site, smtp_server, es_url, index_prefix):
    seed_dir = shared_path("fixtures", "seed-article")
    expected = json.loads((seed_dir / "expected.json").read_text())
    meta = expected["metadata"]

    article_url = site.add("/politics/2024/12/30/musk-h1b-war.html", (seed_dir / "article.html").read_bytes())
    others = [
        site.add(
            "/sport/late-goal.html",
            unrelated_page(site.url("/sport/late-goal.html"), "Late goal sends champions top", "football"),
        ),
        site.add(
            "/weather/storm.html",
            unrelated_page(site.url("/weather/storm.html"), "Storm batters coast overnight", "weather"),
        ),
    ]
    feed = rss([("Musk vows war over H-1B visas", article_url), ("Late goal", others[0]), ("Storm", others[1])])
    feed_url = site.add("/feed.xml", feed, content_type="application/rss+xml")
    seeds = write_seeds(tmp_path / "seeds", feed_url)

    env = {
        **os.environ,
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds),
        "NEWSMON_SMTP_HOST": "127.0.0.1",
        "NEWSMON_SMTP_PORT": str(smtp_server.port),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_STATE_DIR": str(tmp_path / "var"),
    }
    first = run_cli(env, "run", "--once", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["poll"]["new_items"] == 3
    assert summary["process"]["articles"] == 3

    es = Elasticsearch(es_url)
    arts = es.search(
        index=f"{index_prefix}-articles", query={"term": {"canonical_url": meta["canonical_url"]}}, size=10
    )
    assert arts["hits"]["total"]["value"] == 1, "the seed article must be indexed exactly once"
    doc = arts["hits"]["hits"][0]["_source"]
    assert doc["title"] == meta["title"]
    assert doc["canonical_url"] == meta["canonical_url"]
    assert doc["authors"] == meta["authors"]
    assert datetime.fromisoformat(doc["published"]) == datetime.fromisoformat(meta["published"].replace("Z", "+00:00"))
    for phrase in expected["body_must_not_contain"]:
        assert phrase not in doc["body"], f"boilerplate leaked into the body: {phrase!r}"
    assert "immigration_policy" in doc["topic_labels"]
    assert "work_visas" in doc["topic_labels"]

    stmts = es.search(index=f"{index_prefix}-statements", query={"term": {"article_id": doc["article_id"]}}, size=100)
    speakers = {h["_source"]["speaker_name"] for h in stmts["hits"]["hits"]}
    assert {"Elon Musk", "Donald Trump", "Vivek Ramaswamy"} <= speakers
    # Statement 11 repeats a sentence of the embedded post (statement 4): linked, not new.
    by_id = {h["_id"]: h["_source"] for h in stmts["hits"]["hits"]}
    repeats = [s for s in by_id.values() if s["repeat_of"]]
    assert len(repeats) == 1 and repeats[0]["speaker_name"] == "Elon Musk"
    assert by_id[repeats[0]["repeat_of"]]["kind"] == "post"

    # The unrelated stories are indexed but not tagged.
    others_tagged = es.search(
        index=f"{index_prefix}-articles", query={"bool": {"must_not": [{"term": {"article_id": doc["article_id"]}}]}}
    )
    assert all("immigration_policy" not in h["_source"]["topic_labels"] for h in others_tagged["hits"]["hits"])

    mails = smtp_server.wait_for(1)
    assert len(mails) == 1, [m["Subject"] for m in mails]
    mail = mails[0]
    assert mail["X-Newsmon-Rule"] == "tracked-figure-statements"
    assert mail["To"] == "editors@newsroom.example"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Elon Musk" in body and "Vivek Ramaswamy" in body and meta["canonical_url"] in body

    counts = {k: es.count(index=f"{index_prefix}-{k}")["count"] for k in ("articles", "statements", "alerts")}

    second = run_cli(env, "run", "--once", "--json")
    assert second.returncode == 0, second.stderr
    summary2 = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary2["poll"]["new_items"] == 0
    assert summary2["alerts"]["emails_sent"] == 0
    es.indices.refresh(index=f"{index_prefix}-*")
    assert {k: es.count(index=f"{index_prefix}-{k}")["count"] for k in counts} == counts
    assert len(smtp_server.messages) == 1, "a second run must not send email again"
    es.close()
