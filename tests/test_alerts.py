"""Alerts over a real SMTP server: one email per rule, repeats never mailed, SMTP outages survived.
Also: an Elasticsearch outage leaves every item unprocessed."""

from __future__ import annotations

import shutil

import pytest
import yaml
from conftest import REPO, free_port, rss

from pipeline.alerts.mail import compose_alert
from pipeline.alerts.rules import keyword_pattern, match_keyword_rule
from pipeline.config import AlertRule, load_seeds
from pipeline.records import AlertHit, Article
from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items, run_once
from pipeline.store import client as ix

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}"><meta property="article:published_time" content="2026-11-20T10:00:00Z">
<meta name="author" content="Sam Reporter"></head><body><header><nav><a href="/">Home</a></nav></header>
<article><h1>{title}</h1>{paras}</article><footer>Copyright The Test Times</footer></body></html>"""


def page(url: str, title: str, paragraphs: list[str]) -> str:
    return PAGE.format(url=url, title=title, paras="".join(f"<p>{p}</p>" for p in paragraphs))


QUOTE = "We are going to fix the H-1B program so that it serves American workers first"
STORY_A = [
    "The White House on Thursday outlined new limits on the H-1B visa program for skilled foreign workers, the latest step in its immigration agenda.",
    f"“{QUOTE},” President Donald Trump said at a press conference in Washington.",
    "Employers that sponsor skilled workers on work visas would have to pay a higher wage floor under the plan, officials said, and the annual visa cap would not change.",
    "Business groups said the change would hurt hiring of engineers, while critics of the program welcomed it as overdue reform of the visa system.",
]
STORY_B = [
    "Technology companies reacted with alarm on Friday to a plan that would raise the wage floor for H-1B visa holders, the skilled-worker visas many of them depend on.",
    f"Trump defended the plan. “{QUOTE},” he said on Thursday, repeating a line from his press conference.",
    "Lawyers who handle employment-based immigration cases said the rule could face legal challenges once it is published, and that the visa lottery would go ahead as planned.",
    "The Department of Homeland Security did not say when the change to the work visa rules would take effect for employers and their foreign workers.",
]


def make_seeds(tmp_path, feed_url: str, alerts: list[dict]):
    d = tmp_path / "seeds"
    d.mkdir()
    shutil.copy(REPO / "seeds" / "figures.yaml", d)
    shutil.copy(REPO / "seeds" / "topics.yaml", d)
    (d / "feeds.yaml").write_text(
        yaml.safe_dump(
            {"feeds": [{"id": "t", "name": "T", "url": feed_url, "outlet": "Test Times", "poll_interval_minutes": 5}]}
        )
    )
    (d / "alerts.yaml").write_text(yaml.safe_dump({"alerts": alerts}))
    return load_seeds(d)


RULES = [
    {"name": "figures", "kind": "statement", "figures": ["donald-trump"], "recipients": ["desk@news.example"]},
    {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["visa-desk@news.example"]},
    {
        "name": "digest",
        "kind": "keyword",
        "keywords": ["visa"],
        "recipients": ["weekly@news.example"],
        "schedule": "daily",
    },
]


def serve_two_stories(site):
    a = site.add("/a.html", page(site.url("/a.html"), "White House moves to tighten H-1B rules", STORY_A))
    b = site.add("/b.html", page(site.url("/b.html"), "Tech firms alarmed by H-1B wage plan", STORY_B))
    return site.add("/feed.xml", rss([("A", a), ("B", b)]), content_type="application/rss+xml")


@pytest.mark.es
def test_repeated_statement_alerts_once_and_one_email_per_rule(
    tmp_path, site, smtp_server, es_url, index_prefix, make_settings
):
    seeds = make_seeds(tmp_path, serve_two_stories(site), RULES)
    settings = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp_server.port)
    with open_pipeline(settings, seeds) as p:
        run = run_once(p)
        assert run.process.articles == 2
        # The same quote in two outlets: one first sighting, one repeat.
        stmts = p.es.search(
            index=p.idx("statements"), query={"match_phrase": {"text": "serves American workers first"}}
        )["hits"]["hits"]
        assert len(stmts) == 2
        firsts = [s for s in stmts if s["_source"]["repeat_of"] is None]
        repeats = [s for s in stmts if s["_source"]["repeat_of"] is not None]
        assert len(firsts) == 1 and len(repeats) == 1
        assert repeats[0]["_source"]["repeat_of"] == firsts[0]["_id"]
        assert run.alerts.emails_sent == 2  # 'figures' and 'h1b'; 'digest' waits for its schedule

    mails = smtp_server.wait_for(2)
    by_rule = {m["X-Newsmon-Rule"]: m for m in mails}
    assert set(by_rule) == {"figures", "h1b"}
    figure_body = by_rule["figures"].get_body(preferencelist=("plain",)).get_content()
    assert figure_body.count("serves American workers first") == 1
    assert "Donald Trump" in by_rule["figures"]["Subject"]
    assert by_rule["h1b"]["To"] == "visa-desk@news.example"

    with open_pipeline(settings, seeds) as p:
        again = run_once(p)
        assert again.alerts.emails_sent == 0
        from pipeline.run import send_pending_alerts

        digest = send_pending_alerts(p, "daily")
        assert digest.emails_sent == 1 and digest.hits_sent == 2
        assert send_pending_alerts(p, "daily").emails_sent == 0
    assert len(smtp_server.wait_for(3)) == 3


@pytest.mark.es
def test_smtp_down_keeps_alerts_pending_until_next_run(
    tmp_path, site, smtp_server, es_url, index_prefix, make_settings
):
    seeds = make_seeds(tmp_path, serve_two_stories(site), RULES[:1])
    down = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=free_port(), smtp_timeout_s=2)
    with open_pipeline(down, seeds) as p:
        run = run_once(p)
        assert run.alerts.emails_sent == 0 and run.alerts.failed == 1 and run.alerts.pending == 1
        assert f"127.0.0.1:{down.smtp_port}" in run.alerts.error
        assert ix.count(p.es, p.idx("alerts"), {"term": {"status": "pending"}}) == 1
    up = make_settings(es_url=es_url, index_prefix=index_prefix, smtp_port=smtp_server.port)
    with open_pipeline(up, seeds) as p:
        run = run_once(p)
        assert run.alerts.emails_sent == 1
        assert ix.count(p.es, p.idx("alerts"), {"term": {"status": "sent"}}) == 1
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.es
def test_es_outage_marks_no_item_processed(tmp_path, site, es_url, index_prefix, make_settings):
    seeds = make_seeds(tmp_path, serve_two_stories(site), RULES[:1])
    good = make_settings(es_url=es_url, index_prefix=index_prefix)
    with open_pipeline(good, seeds) as p:
        assert poll_feeds(p, ["t"]).new_items == 2
        ids = pending_items(p)
        assert len(ids) == 2

    dead_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ix.EsUnavailable) as exc:
        open_pipeline(make_settings(es_url=dead_url, index_prefix=index_prefix), seeds)
    assert dead_url in str(exc.value)

    # The node goes away between opening the pipeline and writing: nothing may be marked done.
    with open_pipeline(good, seeds) as p:
        from elasticsearch import Elasticsearch

        p.es = Elasticsearch(dead_url, max_retries=0, request_timeout=2)
        with pytest.raises(Exception) as exc:
            process_items(p, ids)
        assert dead_url.split("//")[1] in str(exc.value)
    with open_pipeline(good, seeds) as p:
        assert sorted(pending_items(p)) == sorted(ids)
        assert ix.count(p.es, p.idx("articles")) == 0


def test_keyword_rule_hits_exactly_where_its_pattern_does():
    """The cheap test a text passes before the pattern runs never hides a hit, odd letter cases included."""
    rule = AlertRule(name="k", kind="keyword", keywords=["Asylum ban", "H-1B", "Kids"], recipients=["a@b.example"])
    texts = [
        "nothing here",
        "an ASYLUM BAN was announced",
        "an a\u017fylum ban (long s)",
        "the \u212aids (Kelvin sign) were there",
        "H-1B",
        "xh-1b",
        "h-1bs",
        "The asylum bans",
        "\u0130\u0131 and an asylum  ban",
        "KIDS",
    ]
    pattern = keyword_pattern(rule)
    for text in texts:
        art = Article(url="http://x.test/a", canonical_url="http://x.test/a", title="", text=text)
        hit = match_keyword_rule(rule, art, "id")
        assert (hit is not None) == bool(pattern.search(text)), text
    hits = [match_keyword_rule(rule, Article(url="u", canonical_url="u", title="", text=t), "i") for t in texts]
    assert sum(h is not None for h in hits) == 5  # not a comparison of two empty answers


def test_keyword_rule_matching_and_email_text():
    rule = AlertRule(name="h1b", kind="keyword", keywords=["H-1B", "work visa"], recipients=["a@b.example"])
    art = Article(
        url="http://x.test/a",
        canonical_url="http://x.test/a",
        title="Budget vote",
        text="The council passed the H-1B-free budget.\nNo visas here.",
    )
    hit = match_keyword_rule(rule, art, "id1")
    assert hit is not None and "H-1B" in hit.text
    assert (
        match_keyword_rule(rule, art.model_copy(update={"text": "Nothing relevant.", "title": "Weather"}), "id2")
        is None
    )
    # word boundaries: "work visas" must not match "work visa" inside another word
    assert (
        match_keyword_rule(rule, art.model_copy(update={"text": "the networkvisa is odd", "title": "x"}), "id3") is None
    )
    alert = compose_alert(
        rule,
        [hit, AlertHit(rule="h1b", ref_id="id9", article_id="id9", title="Other", url="http://x.test/b", text="snip")],
    )
    assert alert.subject.startswith("[newsmon] h1b: ") and alert.subject.endswith(" (+1 more)")
    assert "http://x.test/a" in alert.body and "http://x.test/b" in alert.body
