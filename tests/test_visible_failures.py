"""Failures are visible: stage logs name the feed or URL (no secrets), `run --once` exits non-zero
with a documented code, `status` shows feed and per-host fetch health, a fresh prefix gets a hint
instead of a traceback, and check-seeds reads the folder `run` reads."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port, rss
from test_alerts import STORY_A, page
from test_run import seeds_with
from typer.testing import CliRunner

from pipeline.ops.cli import app
from pipeline.run import open_pipeline, run_once

EXE = str(Path(sys.executable).with_name("newsmon"))


def _env(es_url, index_prefix, seeds_dir, smtp_port) -> dict:
    return {
        **os.environ,
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds_dir),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_SMTP_PORT": str(smtp_port),
        "NEWSMON_SMTP_TIMEOUT_S": "2",
        "NEWSMON_CPU_WORKERS": "0",
        "COLUMNS": "200",
    }


def _run(env) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "run", "--once"], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.es
def test_run_once_exit_codes_say_what_failed(tmp_path, site, smtp_server, es_url, index_prefix):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    good = site.add("/f.xml", rss([("a", a)]), content_type="application/rss+xml")
    seeds_with(tmp_path, [{"id": "good", "url": good}])
    env = _env(es_url, index_prefix, tmp_path / "seeds", free_port())  # nothing listens on the SMTP port
    smtp_down = _run(env)
    assert smtp_down.returncode == 4, smtp_down.stderr
    assert "alerts not sent" in smtp_down.stderr and "127.0.0.1" in smtp_down.stderr

    env["NEWSMON_SMTP_PORT"] = str(smtp_server.port)
    gone = f"http://127.0.0.1:{free_port()}/feed.xml"
    seeds_with(tmp_path, [{"id": "good", "url": good}, {"id": "gone", "url": gone}])
    feed_down = _run(env)
    assert feed_down.returncode == 5, feed_down.stderr
    assert "feed gone failed" in feed_down.stderr and gone in feed_down.stderr  # the stage's log line
    assert len(smtp_server.wait_for(1)) == 1  # the pending alert went out on this run

    seeds_with(tmp_path, [{"id": "good", "url": good}])
    assert _run(env).returncode == 0
    es_down = _run({**env, "NEWSMON_ES_URL": f"http://127.0.0.1:{free_port()}"})
    assert es_down.returncode == 3 and "unreachable" in es_down.stderr
    assert "Traceback" not in smtp_down.stderr + feed_down.stderr + es_down.stderr


@pytest.mark.es
def test_status_shows_feed_health_and_article_fetch_health_per_host(
    tmp_path, site, es_url, index_prefix, make_settings
):
    from pipeline.ops.status import status_report

    dead = f"http://127.0.0.2:{free_port()}"
    good = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    feed = site.add("/f.xml", rss([("a", good), ("d1", f"{dead}/d1.html"), ("d2", f"{dead}/d2.html")]))
    seeds = seeds_with(tmp_path, [{"id": "mixed", "url": feed}, {"id": "gone", "url": f"{dead}/feed.xml"}])
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, allow_private=["127.0.0.0/8"])
    with open_pipeline(settings, seeds) as p:
        run = run_once(p)
        assert run.process.articles == 1 and run.process.retry_later == 2
        report = status_report(p)
    print(report)
    assert "1 healthy" in report  # the feed that answers; 'gone' is listed as failing with its error
    gone_line = next(line for line in report.splitlines() if "gone   " in line)
    assert "failed x1" in gone_line and "127.0.0.2" in gone_line
    dead_line = next(line for line in report.splitlines() if line.lstrip("[red] ").startswith("127.0.0.2"))
    assert "2 fetched, 2 failed (100%)" in dead_line and "2 waiting, next attempt" in dead_line
    assert "last error" in dead_line and "/d" in dead_line
    good_line = next(line for line in report.splitlines() if line.strip().startswith("127.0.0.1 "))
    assert "1 fetched, 0 failed (0%)" in good_line
    assert "pending items 2 (0 due now, 2 waiting for a retry)" in report


@pytest.mark.es
def test_every_command_on_a_fresh_prefix_says_what_to_run(tmp_path, es_url, monkeypatch):
    seeds = seeds_with(tmp_path, [{"id": "f", "url": "http://127.0.0.1:9/feed.xml"}])
    assert seeds.alerts
    prefix = f"fresh-{os.getpid()}-{free_port()}"
    monkeypatch.setenv("NEWSMON_ES_URL", es_url)
    monkeypatch.setenv("NEWSMON_INDEX_PREFIX", prefix)
    monkeypatch.setenv("NEWSMON_SEEDS_DIR", str(tmp_path / "seeds"))
    runner = CliRunner()
    try:
        for cmd in (["status"], ["search", "visa"], ["search", "--statements", "border"], ["alerts", "test", "h1b"]):
            result = runner.invoke(app, cmd)
            assert result.exit_code == 1, (cmd, result.output)
            assert isinstance(result.exception, SystemExit), (cmd, result.exception)
            assert "newsmon es setup" in result.output and prefix in result.output, (cmd, result.output)
        assert runner.invoke(app, ["es", "setup"]).exit_code == 0
        empty = runner.invoke(app, ["search", "visa"])
        assert empty.exit_code == 0 and "newsmon run --once" in empty.output, empty.output
        status = runner.invoke(app, ["status"])
        assert status.exit_code == 0 and "never polled" in status.output, status.output
    finally:
        from elasticsearch import Elasticsearch

        es = Elasticsearch(es_url)
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.close()


def test_check_seeds_reads_the_folder_run_reads(tmp_path, monkeypatch):
    seeds_with(tmp_path, [{"id": "f", "url": "http://127.0.0.1:9/feed.xml"}])
    monkeypatch.setenv("NEWSMON_SEEDS_DIR", str(tmp_path / "seeds"))
    ok = CliRunner().invoke(app, ["check-seeds"])
    assert ok.exit_code == 0 and "1 feeds" in ok.output and str(tmp_path) in ok.output.replace("\n", ""), ok.output
    feeds = tmp_path / "seeds" / "feeds.yaml"
    feeds.write_text(feeds.read_text().replace("url:", "adress:"))
    broken = CliRunner().invoke(app, ["check-seeds"])
    assert broken.exit_code == 1 and "feeds.yaml" in broken.output, broken.output


@pytest.mark.es
def test_stage_logs_name_the_feed_and_url_and_hide_credentials(
    tmp_path, site, es_url, index_prefix, make_settings, caplog
):
    port = free_port()
    secret_feed = f"http://newsmon:s3cr3t-pw@127.0.0.1:{port}/feed.xml"  # credentials in a feed URL
    dead_page = f"http://127.0.0.1:{free_port()}/gone.html"
    feed = site.add("/f.xml", rss([("gone", dead_page)]), content_type="application/rss+xml")
    seeds = seeds_with(tmp_path, [{"id": "private", "url": secret_feed}, {"id": "public", "url": feed}])
    with caplog.at_level(logging.INFO, logger="pipeline"):
        with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
            run_once(p)
    records = [r for r in caplog.records if r.name.startswith("pipeline.")]
    feed_rec = next(r for r in records if r.name == "pipeline.poll" and getattr(r, "feed", None) == "private")
    assert "private" in feed_rec.getMessage() and f"127.0.0.1:{port}" in feed_rec.getMessage()
    page_rec = next(r for r in records if r.name == "pipeline.batch")
    assert page_rec.levelno == logging.WARNING and getattr(page_rec, "url", None) == dead_page
    assert dead_page in page_rec.getMessage() and "next attempt" in page_rec.getMessage()
    run_rec = next(r for r in records if r.name == "pipeline.run")
    assert "1 to retry" in run_rec.getMessage()
    leaked = [
        r.getMessage() for r in records if "s3cr3t-pw" in r.getMessage() or "s3cr3t-pw" in str(getattr(r, "url", ""))
    ]
    assert not leaked, leaked
