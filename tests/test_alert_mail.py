"""Alert emails people can act on: multipart text + HTML, subject naming the rule and the lead hit, hits
grouped by story and newest first, content escaped, headers that titles cannot break; rule options
(outlet and language filters, quiet hours, time zones) validated on load."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from pipeline.alerts.mail import compose_alert, group_by_story, header_safe, send_email
from pipeline.alerts.rules import match_keyword_rule, match_statement_rule
from pipeline.config import AlertRule, load_settings
from pipeline.records import AlertHit, Article, Statement

HOSTILE = 'Crackdown <script>alert("x")</script> & "more"\r\nBcc: victim@evil.example\r\n\r\n<b>body</b>'


def keyword_rule(**kw) -> AlertRule:
    return AlertRule(name="h1b-watch", kind="keyword", keywords=["H-1B"], recipients=["desk@news.example"], **kw)


def statement_rule(**kw) -> AlertRule:
    return AlertRule(name="figures", kind="statement", figures=["*"], recipients=["desk@news.example"], **kw)


def hit(ref: str, article: str, title: str, when: str, text: str = "", **kw) -> AlertHit:
    return AlertHit(
        rule=kw.pop("rule", "h1b-watch"),
        ref_id=ref,
        article_id=article,
        title=title,
        url=f"https://news.example/{article}",
        text=text,
        outlet=kw.pop("outlet", "Metro Wire Service"),
        published=datetime.fromisoformat(when),
        **kw,
    )


def test_keyword_email_groups_by_story_newest_first_and_marks_the_keyword():
    hits = [
        hit("a1", "a1", "Old story", "2026-11-01T09:00:00+00:00", "…the H-1B lottery…", outlet="Harbor Courier"),
        hit("a3", "a3", "Newest story", "2026-11-20T15:30:00+00:00", "…new H-1B fees…"),
        hit("a2", "a2", "Middle story", "2026-11-10T12:00:00+00:00", "…H-1B wage rule…"),
    ]
    alert = compose_alert(keyword_rule(), hits)
    assert alert.subject == "[newsmon] h1b-watch: Newest story (+2 more)"
    text = alert.body
    assert text.index("Newest story") < text.index("Middle story") < text.index("Old story")
    assert "Harbor Courier · 2026-11-01 09:00 UTC" in text
    assert "https://news.example/a1" in text and "…the *H-1B* lottery…" in text
    assert '<a href="https://news.example/a3">Newest story</a>' in alert.html
    assert "<mark>H-1B</mark> fees" in alert.html
    assert alert.hit_ids == [h.alert_id for h in hits]


def test_statement_email_names_speaker_and_first_sighting_in_the_rules_time_zone():
    rule = statement_rule(timezone="America/New_York")
    common = dict(rule="figures", kind="direct", outlet="Harbor Courier")
    hits = [
        hit("s1", "a1", "Senate plan", "2026-11-09T12:30:00+00:00", "It is arithmetic", speaker="Chuck Schumer",
            first_seen=datetime(2026, 11, 9, 12, 31, tzinfo=UTC), **common),
        hit("s2", "a1", "Senate plan", "2026-11-09T12:30:00+00:00", "puts American workers first", speaker="JD Vance",
            first_seen=datetime(2026, 11, 9, 12, 31, tzinfo=UTC), **{**common, "kind": "partial"}),
    ]  # fmt: skip
    alert = compose_alert(rule, hits)
    assert alert.subject == "[newsmon] figures: Chuck Schumer: “It is arithmetic” (+1 more)"
    assert "2 new statements in 1 story" in alert.body
    assert "- Chuck Schumer (direct), first seen 2026-11-09 07:31 EST:" in alert.body
    assert "“puts American workers first”" in alert.body
    assert "<b>JD Vance</b>" in alert.html and "first seen 2026-11-09 07:31 EST" in alert.html


def test_everything_is_escaped_and_the_subject_is_one_line():
    hits = [hit("a1", "a1", HOSTILE, "2026-11-20T15:30:00+00:00", 'H-1B <img src=x onerror="boom()">')]
    hits.append(hit("a2", "a2", "javascript link", "2026-11-19T15:30:00+00:00", "H-1B"))
    hits[1].url = "javascript:alert(1)"
    alert = compose_alert(keyword_rule(), hits)
    assert "\r" not in alert.subject and "\n" not in alert.subject
    assert alert.subject.startswith('[newsmon] h1b-watch: Crackdown <script>alert("x")</script> & "more" Bcc: victim')
    assert "<script>" not in alert.html and "<img" not in alert.html and "<b>body</b>" not in alert.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in alert.html
    assert "&lt;img src=x onerror=&quot;boom()&quot;&gt;" in alert.html
    assert 'href="javascript' not in alert.html  # only http(s) links become links
    # Nothing in the HTML comes from content unescaped: strip our own tags and no '<' is left.
    ours = r"</?(html|head|meta|title|body|p|b|br|span|div|h3|a|mark)\b[^>]*>|<!DOCTYPE html>"
    assert "<" not in re.sub(ours, "", alert.html)
    assert header_safe("a\r\nb\x00c\u2028d\te") == "a b c d e"


def test_held_back_hits_are_announced():
    alert = compose_alert(
        keyword_rule(throttle=2), [hit("a1", "a1", "T", "2026-11-20T15:30:00+00:00", "H-1B")], held_back=1
    )
    assert "1 of them waited for this email (at most 2 emails an hour)" in alert.body


def test_group_by_story_tolerates_missing_and_naive_times():
    hits = [
        hit("a1", "a1", "naive", "2026-11-20T15:30:00", "x"),
        AlertHit(rule="r", ref_id="a2", article_id="a2", title="no time", url="u", text="x"),
        hit("a3", "a3", "aware", "2026-11-21T15:30:00+00:00", "x"),
    ]
    assert [s.title for s in group_by_story(hits)] == ["aware", "naive", "no time"]


# ------------------------------------------------------------------ rule options


def test_outlet_and_language_filters():
    article = Article(url="u", canonical_url="u", title="H-1B", text="H-1B fees rise.", outlet="Metro Wire Service",
                      language="en-US")  # fmt: skip
    statement = ("s1", Statement(speaker_id="donald-trump", speaker_name="Donald Trump", speaker_mention="Trump",
                                 text="We will fix it", kind="direct", start=0, end=10))  # fmt: skip
    assert match_keyword_rule(keyword_rule(outlets=["metro wire service"]), article, "a") is not None
    assert match_keyword_rule(keyword_rule(outlets=["Harbor Courier"]), article, "a") is None
    assert match_keyword_rule(keyword_rule(languages=["en"]), article, "a") is not None
    assert match_keyword_rule(keyword_rule(languages=["es"]), article, "a") is None
    assert match_statement_rule(statement_rule(languages=["es"]), article, "a", [statement]) == []
    (found,) = match_statement_rule(statement_rule(outlets=["Metro Wire Service"]), article, "a", [statement])
    assert found.outlet == "Metro Wire Service" and found.language == "en-US"


def test_quiet_hours_across_midnight_in_the_rules_time_zone():
    rule = statement_rule(quiet_hours="22:00-07:00", timezone="America/New_York")
    evening = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)  # 22:30 in New York
    morning = datetime(2026, 11, 20, 11, 59, tzinfo=UTC)  # 06:59
    day = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 07:00
    assert rule.quiet_until(evening) == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert rule.quiet_until(morning) == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert rule.quiet_until(day) is None
    lunch = statement_rule(quiet_hours="12:00-13:30")
    assert lunch.quiet_until(datetime(2026, 11, 20, 12, 10, tzinfo=UTC)) == datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    assert lunch.quiet_until(datetime(2026, 11, 20, 13, 30, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"quiet_hours": "10pm-7am"}, "HH:MM-HH:MM"),
        ({"quiet_hours": "07:00-07:00"}, "two different times"),
        ({"timezone": "Mars/Olympus"}, "is not a time zone name"),
        ({"throttle": 0}, "greater than or equal to 1"),
        ({"languages": ["English"]}, "is not a language code"),
    ],
)
def test_rule_options_are_validated(bad, message):
    with pytest.raises(ValidationError) as exc:
        statement_rule(**bad)
    assert message in str(exc.value)


# ------------------------------------------------------------------ over a real SMTP server


def test_hostile_title_cannot_inject_a_header(smtp_server):
    alert = compose_alert(keyword_rule(), [hit("a1", "a1", HOSTILE, "2026-11-20T15:30:00+00:00", "the H-1B <b>x</b>")])
    settings = load_settings(smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    send_email(alert, settings)
    (msg,) = smtp_server.wait_for(1)
    assert msg["Bcc"] is None and msg.get_all("Bcc") is None
    assert msg["To"] == "desk@news.example"
    subject = " ".join(str(msg["Subject"]).split())
    assert subject.startswith('[newsmon] h1b-watch: Crackdown <script>alert("x")</script> & "more" Bcc: victim')
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    assert plain.get_content_type() == "text/plain" and rich.get_content_type() == "text/html"
    page = rich.get_content()
    assert "&lt;script&gt;" in page and "<script>" not in page and "<mark>H-1B</mark>" in page
    assert html.unescape("&lt;b&gt;x&lt;/b&gt;") in html.unescape(page)
    assert "Crackdown" in plain.get_content()
    # The envelope went to the rule's recipient only.
    assert smtp_server.envelopes[-1] == ["desk@news.example"]


def test_digest_slots_and_holds():
    from pipeline.alerts.schedule import digest_slot, hold_reason, next_digest

    at = datetime(2026, 11, 26, 8, 15, tzinfo=UTC)
    assert digest_slot("0 7 * * *", at) == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    assert digest_slot("0 7 * * *", datetime(2026, 11, 26, 7, 0, tzinfo=UTC)) == datetime(
        2026, 11, 26, 7, 0, tzinfo=UTC
    )
    assert digest_slot("0 7 * * *", datetime(2026, 11, 26, 6, 59, tzinfo=UTC)) == datetime(
        2026, 11, 25, 7, 0, tzinfo=UTC
    )
    assert next_digest("0 7 * * *", at) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    rule = statement_rule(throttle=2, quiet_hours="22:00-07:00", timezone="Europe/Berlin")
    assert hold_reason(rule, datetime(2026, 11, 26, 22, 30, tzinfo=UTC)) == "quiet hours until 07:00 Europe/Berlin"
    assert hold_reason(rule, at, emails_last_hour=1) is None
    assert hold_reason(rule, at, emails_last_hour=2) == "throttle: 2 emails in the last hour"
    assert hold_reason(statement_rule(), at, emails_last_hour=50) is None


def test_a_bad_digest_cron_is_named():
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError, match="NEWSMON_DIGEST_CRON.*not a cron expression"):
        load_settings(digest_cron="every morning")
