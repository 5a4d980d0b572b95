"""`newsmon status`: index counts, feed health and the last run, as rich markup."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.markup import escape

from ..alerts.schedule import next_digest
from ..config import mask_url
from ..context import Pipeline
from ..itemqueue import due_query, failure_reasons, fetch_health
from ..run import feed_states
from ..store import client as ix


def _when(value: datetime | str | None) -> str:
    if not value:
        return "-"
    t = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    no_hold = {"bool": {"must_not": {"exists": {"field": "hold_reason"}}}}
    to_send = ix.count(
        p.es,
        p.idx("alerts"),
        {"bool": {"filter": [pending, {"term": {"schedule": "immediate"}}, no_hold, not_failed]}},
    )
    # more than one pass sends (alert_max_emails_per_pass), or a pass is mailing them now
    text = f"{to_send} waiting to be sent, "
    text += f"{digest} waiting for the daily digest ({next_digest(p.settings.digest_cron, datetime.now(UTC)):%Y-%m-%d %H:%M} UTC)"
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
    due = ix.count(p.es, p.idx("items"), due_query(datetime.now(UTC)))
    lines.append(f"  pending items {pending} ({due} due now, {pending - due} waiting for a retry)")
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
        if not f.enabled:
            lines.append(f"  [dim]{f.id:<28} disabled[/]")
        elif st is None:
            lines.append(f"  [dim]{f.id:<28} never polled[/]")
        elif st.last_status == "truncated":
            lines.append(f"  [yellow]{f.id:<28} cut off: {escape(st.last_error or '')}[/]")
        elif st.last_status == "failed":
            lines.append(
                f"  [red]{f.id:<28} failed x{st.consecutive_errors}, last success {_when(st.last_success)}, "
                f"next poll {_when(st.next_poll)}: {escape(st.last_error or '')}[/]"
            )
        else:
            lines.append(f"  {f.id:<28} {st.last_status}, polled {_when(st.last_polled)}, next {_when(st.next_poll)}")
    lines += ["", "[bold]Article fetches per host (last 24 h)[/]"]
    health = fetch_health(p)
    if not health:
        lines.append("  none yet")
    for h in health:
        row = f"  {h.host:<28} {h.attempts} fetched, {h.errors} failed ({h.error_rate:.0%})"
        if h.waiting:
            row += f", {h.waiting} waiting, next attempt {_when(h.next_attempt_at)}"
        if h.errors:
            row += f"; last error {_when(h.last_error_at)}: {escape(h.last_error or '')}"
        lines.append(f"[red]{row}[/]" if h.error_rate >= 0.5 else row)
    gave_up = failure_reasons(p, limit=5)
    if gave_up:
        lines += ["", "[bold]Items failed for good (latest)[/]"]
        lines += [f"  {_when(when)} {escape(url)}: {escape(why)}" for url, when, why in gave_up]
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
