"""The alert log in Elasticsearch: hits are queued once (by deterministic id) and mailed once."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..records import AlertHit, Article, Statement, TopicLabel
from ..store import client as ix
from .mail import SmtpUnavailable, compose_alert, send_email
from .rules import match_keyword_rule, match_statement_rule
from .schedule import THROTTLE_WINDOW, hold_reason

if TYPE_CHECKING:
    from ..context import Pipeline

log = logging.getLogger("newsmon.alerts")


def _article_from_doc(doc: dict) -> Article:
    return Article(
        url=doc.get("url") or "",
        canonical_url=doc.get("canonical_url") or "",
        title=doc.get("title") or "",
        text=doc.get("body") or "",
        topics=[TopicLabel.model_validate(t) for t in doc.get("topics") or []],
    )


def _statements_of(p: Pipeline, article_ids: list[str]) -> dict[str, list[tuple[str, Statement]]]:
    out: dict[str, list[tuple[str, Statement]]] = defaultdict(list)
    if not article_ids:
        return out
    resp = p.es.search(index=p.idx("statements"), size=10000, query={"terms": {"article_id": article_ids}})
    for h in resp["hits"]["hits"]:
        d = h["_source"]
        out[d["article_id"]].append(
            (
                h["_id"],
                Statement(
                    speaker_id=d.get("speaker_id"),
                    speaker_name=d["speaker_name"],
                    speaker_mention=d.get("speaker_mention") or "",
                    text=d["text"],
                    kind=d["kind"],
                    start=d.get("start") or 0,
                    end=d.get("end") or 0,
                    repeat_of=d.get("repeat_of"),
                ),
            )
        )
    for lst in out.values():
        lst.sort(key=lambda pair: pair[1].start)
    return out


def queue_hits(p: Pipeline, article_ids: list[str], schedule: str | None = None) -> int:
    """Match the rules against these indexed articles and record new hits as pending."""
    rules = [r for r in p.seeds.alerts if schedule is None or r.schedule == schedule]
    if not article_ids or not rules:
        return 0
    articles = ix.get_docs(p.es, p.idx("articles"), article_ids)
    statements = _statements_of(p, list(articles))
    hits: list[tuple[AlertHit, str, list[str]]] = []
    for article_id, doc in articles.items():
        if doc.get("duplicate_of"):
            continue  # the same story elsewhere already alerted
        article = _article_from_doc(doc)
        for rule in rules:
            if rule.kind == "keyword":
                hit = match_keyword_rule(rule, article, article_id)
                found = [hit] if hit else []
            else:
                found = match_statement_rule(rule, article, article_id, statements.get(article_id, []))
            hits += [(h, rule.schedule, rule.recipients) for h in found]
    now = datetime.now(UTC).isoformat()
    docs = [
        (
            h.alert_id,
            {
                "alert_id": h.alert_id,
                "rule": h.rule,
                "schedule": sched,
                "recipients": recipients,
                "ref_id": h.ref_id,
                "article_id": h.article_id,
                "title": h.title,
                "url": h.url,
                "speaker": h.speaker,
                "kind": h.kind,
                "text": h.text,
                "status": "pending",
                "created_at": now,
                "attempts": 0,
            },
        )
        for h, sched, recipients in hits
    ]
    if not docs:
        return 0
    written = ix.bulk_write(p.es, p.idx("alerts"), docs, op="create", refresh="wait_for")
    if written.failed:
        raise ix.EsUnavailable(f"could not record alert hits: {written.failed}")
    return len(written.created)


def emails_last_hour(p: Pipeline, rule_names: list[str], now: datetime) -> dict[str, int]:
    """Emails each rule sent in the throttle window before `now` (the hits of one email share its `email_id`)."""
    if not rule_names:
        return {}
    resp = p.es.search(
        index=p.idx("alerts"),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"terms": {"rule": rule_names}},
                    {"term": {"status": "sent"}},
                    {"range": {"sent_at": {"gt": (now - THROTTLE_WINDOW).isoformat(), "lte": now.isoformat()}}},
                ]
            }
        },
        aggs={
            "rules": {
                "terms": {"field": "rule", "size": len(rule_names)},
                "aggs": {"emails": {"cardinality": {"field": "email_id"}}},
            }
        },
    )
    return {b["key"]: int(b["emails"]["value"]) for b in resp["aggregations"]["rules"]["buckets"]}


def send_pending(
    p: Pipeline, schedule: str = "immediate", *, before: datetime | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """One email per rule with every pending hit of that rule; hits are marked sent only after delivery.

    `before`: only hits recorded before this time (a digest slot carries the hits recorded before it).
    A rule in its quiet hours or over its throttle sends nothing now: its hits stay pending with the
    reason (`hold_reason`) and go into its next email, which says how many waited.
    """
    now = now or datetime.now(UTC)
    filters: list[dict[str, Any]] = [{"term": {"status": "pending"}}, {"term": {"schedule": schedule}}]
    if before is not None:
        filters.append({"range": {"created_at": {"lt": before.isoformat()}}})
    resp = p.es.search(
        index=p.idx("alerts"),
        size=10000,
        query={"bool": {"filter": filters}},
        sort=[{"created_at": "asc"}, {"alert_id": "asc"}],
    )
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for h in resp["hits"]["hits"]:
        by_rule[h["_source"]["rule"]].append(h["_source"])
    rules = {r.name: r for r in p.seeds.alerts}
    throttled = [name for name in by_rule if (r := rules.get(name)) is not None and r.throttle is not None]
    sent_recently = emails_last_hour(p, throttled, now)
    summary: dict[str, Any] = {"emails_sent": 0, "hits_sent": 0, "pending": 0, "held": 0, "failed": 0, "error": None}
    updates: list[tuple[str, dict]] = []
    for rule_name, docs in by_rule.items():
        rule = rules.get(rule_name)
        if rule is None:  # the rule was removed from alerts.yaml: do not mail, keep a trace
            updates += [(d["alert_id"], {"status": "dropped"}) for d in docs]
            continue
        if summary["error"]:  # the server is down: don't hammer it for every rule
            summary["pending"] += len(docs)
            continue
        reason = hold_reason(rule, now, sent_recently.get(rule_name, 0))
        if reason is not None:
            log.info("alert rule %s: %d hit(s) held back (%s)", rule_name, len(docs), reason)
            summary["held"] += len(docs)
            updates += [(d["alert_id"], {"hold_reason": reason}) for d in docs if d.get("hold_reason") != reason]
            continue
        hits = [
            AlertHit(
                rule=rule_name,
                ref_id=d["ref_id"],
                article_id=d["article_id"],
                title=d.get("title") or "",
                url=d.get("url") or "",
                speaker=d.get("speaker"),
                kind=d.get("kind"),
                text=d.get("text") or "",
            )
            for d in docs
        ]
        alert = compose_alert(rule, hits, held_back=sum(1 for d in docs if d.get("hold_reason")))
        try:
            send_email(alert, p.settings)
        except SmtpUnavailable as exc:
            summary["error"] = str(exc)
            summary["failed"] += 1
            summary["pending"] += len(docs)
            updates += [
                (d["alert_id"], {"attempts": int(d.get("attempts") or 0) + 1, "last_error": str(exc)}) for d in docs
            ]
            continue
        summary["emails_sent"] += 1
        summary["hits_sent"] += len(docs)
        email = {"status": "sent", "sent_at": now.isoformat(), "email_id": uuid.uuid4().hex}
        updates += [(d["alert_id"], {**email, "last_error": None, "hold_reason": None}) for d in docs]
    if updates:
        ix.bulk_write(p.es, p.idx("alerts"), updates, op="update", refresh="wait_for")
    return summary
