"""`newsmon alerts test RULE --since 7d`: what the rule would have mailed, over the demo articles as the
pipeline stores them; nothing is recorded and nothing is sent."""

from __future__ import annotations

import json

import pytest
from test_search import demo_index
from typer.testing import CliRunner

from pipeline.ops.cli import app

pytestmark = pytest.mark.es


@pytest.fixture(scope="module")
def demo(es_url):
    yield from demo_index(es_url)


@pytest.fixture
def env(demo, smtp_server, monkeypatch):
    monkeypatch.setenv("NEWSMON_ES_URL", demo.settings.es_url)
    monkeypatch.setenv("NEWSMON_INDEX_PREFIX", demo.settings.index_prefix)
    monkeypatch.setenv("NEWSMON_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("NEWSMON_SMTP_PORT", str(smtp_server.port))
    return demo


def new_tracked_statements(p) -> list[dict]:
    resp = p.es.search(
        index=p.idx("statements"),
        size=100,
        # stances ("wants to ...", kind stance) are stored but never alerted on
        query={
            "bool": {
                "filter": [{"exists": {"field": "speaker_id"}}, {"term": {"is_new": True}}],
                "must_not": [{"term": {"kind": "stance"}}],
            }
        },
    )
    return [h["_source"] for h in resp["hits"]["hits"]]


def test_statement_rule_preview_sends_and_records_nothing(env, smtp_server, tmp_path):
    out = CliRunner().invoke(app, ["alerts", "test", "any-figure-statements", "--since", "7d", "--json",
                                   "--html", str(tmp_path / "mail.html")])  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.output.splitlines()[-1])
    expected = new_tracked_statements(env)
    assert len(expected) >= 5
    assert sorted(h["text"] for h in result["hits"]) == sorted(s["text"] for s in expected)
    # The Schumer quote both outlets carry is one hit: the repeat is not mailed.
    assert sum("arithmetic" in h["text"] for h in result["hits"]) == 1
    assert result["email"]["subject"].startswith("[newsmon] any-figure-statements: ")
    assert "at most 6 emails an hour" in result["sent"] and "quiet hours 23:00-06:00" in result["sent"]
    assert "Chuck Schumer" in (tmp_path / "mail.html").read_text()
    assert env.es.count(index=env.idx("alerts"))["count"] == 0
    assert smtp_server.messages == []


def test_keyword_rule_preview_prints_the_email(env, smtp_server):
    out = CliRunner().invoke(app, ["alerts", "test", "work-visa-keywords", "--since", "30d"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "rule work-visa-keywords: 2 hits since now-30d" in out.output and "Nothing was sent." in out.output
    assert "Subject: [newsmon] work-visa-keywords: " in out.output
    assert "Tech employers weigh stricter H-1B rules in Senate visa package" in out.output
    assert "*H-1B*" in out.output
    assert smtp_server.messages == []


def test_digest_rule_preview_names_the_schedule_and_unknown_rules_are_named(env):
    out = CliRunner().invoke(app, ["alerts", "test", "tracked-figure-statements", "--json"])
    assert out.exit_code == 0, out.output
    assert "daily digest (NEWSMON_DIGEST_CRON '0 7 * * *'" in json.loads(out.output)["sent"]
    bad = CliRunner().invoke(app, ["alerts", "test", "no-such-rule"])
    assert bad.exit_code == 1 and "no rule 'no-such-rule'" in bad.output and "work-visa-keywords" in bad.output
