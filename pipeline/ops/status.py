"""`newsmon status`: index counts, feed health and the last run, as rich markup."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.markup import escape

from ..alerts.schedule import next_digest
from ..config import mask_url
from ..context import Pipeline
from ..run import feed_states
from ..store import client as ix


def alert_backlog(p: Pipeline) -> str:
    """Pending alert hits told apart: digest hits waiting for their time, hits held by a rule's quiet
    hours or throttle, and hits whose email failed (the only ones that need attention)."""
    pending = {"term": {"status": "pending"}}
    failed = ix.count(p.es, p.idx("alerts"), {"bool": {"filter": [pending, {"exists": {"field": "last_error"}}]}})
    not_failed = {"bool": {"must_not": {"exists": {"field": "last_error"}}}}
    digest = ix.count(
        p.es, p.idx("alerts"), {"bool": {"filter": [pending, {"term": {"schedule": "daily"}}, not_failed]}}
    )
    held = ix.count(
        p.es,
        p.idx("alerts"),
        {
            "bool": {
                "filter": [
                    pending,
                    {"term": {"schedule": "immediate"}},
                    {"exists": {"field": "hold_reason"}},
                    not_failed,
                ]
            }
        },
    )
    text = f"{digest} waiting for the daily digest ({next_digest(p.settings.digest_cron, datetime.now(UTC)):%Y-%m-%d %H:%M} UTC)"
    text += f", {held} held by quiet hours or throttle"
    text += f", [red]{failed} failed to send[/]" if failed else ", 0 failed to send"
    return text


def status_report(p: Pipeline) -> str:
    lines = [f"Elasticsearch: {escape(mask_url(p.settings.es_url))} (prefix '{p.settings.index_prefix}')", ""]
    lines.append("[bold]Index counts[/]")
    for kind in ("articles", "statements", "items", "alerts", "feeds", "runs"):
        try:
            n: int | str = ix.count(p.es, p.idx(kind))
        except Exception:  # noqa: BLE001 - a missing index is reported, not fatal
            n = "missing (run `newsmon es setup`)"
        lines.append(f"  {kind:<11} {n}")
    pending = ix.count(p.es, p.idx("items"), {"term": {"status": "pending"}})
    lines.append(f"  pending items {pending}")
    lines.append(f"  alerts: {alert_backlog(p)}")
    lines.append(f"  search: {ix.word_forms_status(p.es, p.settings.index_prefix)}")
    lines += ["", "[bold]Feeds[/]"]
    states = feed_states(p)
    ok = sum(
        1 for f in p.seeds.feeds if (st := states.get(f.id)) and st.last_status in ("ok", "not_modified", "truncated")
    )
    lines.append(f"  {len(p.seeds.feeds)} configured, {ok} healthy, {len(p.seeds.feeds) - ok} failing or never polled")
    for f in p.seeds.feeds:
        st = states.get(f.id)
        if st is None:
            lines.append(f"  [dim]{f.id:<28} never polled[/]")
        elif st.last_status == "truncated":
            lines.append(f"  [yellow]{f.id:<28} cut off: {escape(st.last_error or '')}[/]")
        elif st.last_status == "failed":
            lines.append(f"  [red]{f.id:<28} failed x{st.consecutive_errors}: {escape(st.last_error or '')}[/]")
    resp = p.es.search(index=p.idx("runs"), size=1, sort=[{"started": "desc"}])
    lines += ["", "[bold]Last run[/]"]
    if resp["hits"]["hits"]:
        r = resp["hits"]["hits"][0]["_source"]
        s = r["summary"]
        lines.append(
            f"  {r['started']} → {r['finished']}: {s['poll']['polled']} feeds polled ({s['poll']['failed']} failed), "
            f"{s['process']['articles']} new articles, {s['process']['statements']} statements, "
            f"{s['alerts']['emails_sent']} alert emails"
        )
    else:
        lines.append("  none yet")
    return "\n".join(lines)
