"""The alert log in Elasticsearch: hits are recorded once (by deterministic id) as their article is
stored, found again by a watermark, claimed with a lease, and each email's hits are marked sent right
after the server accepted it.

Recording. pipeline.batch matches each article as it stores it (`hits_at_store`, on the documents it
writes) and puts the records in the same bulk request (`hit_actions`).

Finding. A pass matches the rules against every article indexed since the last pass (the `alerts`
cursor, minus OVERLAP for documents written just before it and made visible just after) and records
the hits with `create`, so a document seen twice is recorded once. Statements are written with their
article, so the article's `indexed_at` covers them. The ids an Airflow asset event carries are only a
hint: a crash between indexing and queueing, or a process batch that failed after indexing, loses
nothing, because the next pass reads the index.

Sending. A sender claims pending hits by writing its lease (owner, expiry) with optimistic
concurrency (if_seq_no/if_primary_term): of two senders only one wins each hit. It renews the lease of
an email's hits just before mailing them, and after the SMTP server accepted the email it appends
their ids to a local journal and marks them sent. A crash after the server accepted an email and
before the journal line leaves the hits pending under a lease that expires: they are mailed again
(at least once, never lost). A failed "sent" write is retried, and the journal lets the next pass
record it without mailing again.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from elasticsearch import ConflictError, NotFoundError

from ..logs import stage_logger
from ..records import AlertHit
from ..store import client as ix
from .docs import article_from_doc, statement_from_doc
from .mail import SmtpUnavailable, compose_alert, send_email
from .rules import match_keyword_rule, match_statement_rule
from .schedule import THROTTLE_WINDOW, hold_reason

if TYPE_CHECKING:
    from ..config import AlertRule
    from ..context import Pipeline

log = stage_logger(__name__)

CURSOR = "alerts"
# A pass looks this far behind the last one: an article stamped `indexed_at` just before a pass may
# become searchable only after it (a slow bulk, a refresh). Hits are recorded by id, so looking twice is free.
OVERLAP = timedelta(minutes=10)
# With no cursor yet (a new install, or an upgrade from before the watermark), look back this far:
# hits already recorded keep their ids, so nothing already mailed is mailed again.
FIRST_LOOKBACK = timedelta(days=1)
PAGE = 200
SENT_WRITE_RETRIES = 6
SENT_WRITE_BACKOFF_S = 0.5  # doubled per retry: about half a minute in all
JOURNAL = "alerts-sent.jsonl"

Match = tuple[AlertHit, str, list[str]]  # hit, schedule, recipients


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- finding hits


def _statements_of(p: Pipeline, article_ids: list[str]) -> dict[str, list[tuple[str, Any]]]:
    """The statements of these articles that a statement rule can match: first sightings by a tracked
    figure, stances aside (match_statement_rule's own test, asked of the index so the others are not read)."""
    out: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    if not article_ids:
        return out
    query = {
        "bool": {
            "filter": [{"terms": {"article_id": article_ids}}, {"exists": {"field": "speaker_id"}}],
            "must_not": [{"exists": {"field": "repeat_of"}}, {"term": {"kind": "stance"}}],
        }
    }
    resp = p.es.search(index=p.idx("statements"), size=10000, query=query)
    for h in resp["hits"]["hits"]:
        out[h["_source"]["article_id"]].append((h["_id"], statement_from_doc(h["_source"])))
    for lst in out.values():
        lst.sort(key=lambda pair: pair[1].start)
    return out


def _match_article(
    article_id: str, doc: dict[str, Any], statements: list[tuple[str, Any]], rules: list[AlertRule]
) -> list[Match]:
    """The hits of one stored article (its document and its statements' documents, as read or written)."""
    if doc.get("duplicate_of"):
        return []  # the same story elsewhere already alerted
    article = article_from_doc(doc)
    hits: list[Match] = []
    for rule in rules:
        if rule.kind == "keyword":
            hit = match_keyword_rule(rule, article, article_id)
            found = [hit] if hit else []
        else:
            found = match_statement_rule(rule, article, article_id, statements)
        hits += [(h, rule.schedule, rule.recipients) for h in found]
    return hits


def _match(p: Pipeline, articles: dict[str, dict[str, Any]], rules: list[AlertRule]) -> list[Match]:
    statements = _statements_of(p, list(articles)) if any(r.kind != "keyword" for r in rules) else {}
    return [m for aid, doc in articles.items() for m in _match_article(aid, doc, statements.get(aid, []), rules)]


def _hit_doc(h: AlertHit, schedule: str, recipients: list[str], now: str) -> dict[str, Any]:
    return {
        "alert_id": h.alert_id,
        "rule": h.rule,
        "schedule": schedule,
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
    }


def log_queued(hits: list[Match], created: set[str] | list[str]) -> None:
    for h, _, _ in hits:
        if h.alert_id in created:
            log.info("alert hit queued: rule %s, %s", h.rule, h.url, extra={"rule": h.rule, "url": h.url})


def _record(p: Pipeline, hits: list[Match]) -> int:
    now = _now().isoformat()
    docs = [(h.alert_id, _hit_doc(h, sched, recipients, now)) for h, sched, recipients in hits]
    if not docs:
        return 0
    written = ix.bulk_write(p.es, p.idx("alerts"), docs, op="create")
    if written.failed:
        raise ix.EsUnavailable(f"could not record alert hits: {written.failed}")
    log_queued(hits, set(written.created))
    return len(written.created)


def hits_at_store(p: Pipeline, article_id: str, doc: dict[str, Any], statements: dict[str, dict]) -> list[Match]:
    """The hits of an article as it is being stored, from the very documents written (the same test the
    watermark pass applies to them once indexed): their records go into the same bulk request."""
    rules = list(p.seeds.alerts)
    if not rules:
        return []
    mine = sorted(((sid, statement_from_doc(d)) for sid, d in statements.items()), key=lambda pair: pair[1].start)
    return _match_article(article_id, doc, mine, rules)


def hit_actions(p: Pipeline, hits: list[Match]) -> list[ix.Action]:
    """Bulk 'create' operations recording these hits as pending (an existing record is left as it is)."""
    now = _now().isoformat()
    return [ix.Action(p.idx("alerts"), h.alert_id, _hit_doc(h, s, r, now), op="create") for h, s, r in hits]


def queue_hits(p: Pipeline, article_ids: list[str], schedule: str | None = None) -> int:
    """Match the rules against these indexed articles and record new hits as pending."""
    rules = [r for r in p.seeds.alerts if schedule is None or r.schedule == schedule]
    if not article_ids or not rules:
        return 0
    new = _record(p, _match(p, ix.get_docs(p.es, p.idx("articles"), article_ids), rules))
    if new:
        _visible(p)
    return new


def _visible(p: Pipeline) -> None:
    """Make newly recorded hits visible to the senders now: one refresh per pass, not a wait per page."""
    p.es.indices.refresh(index=p.idx("alerts"))


def read_cursor(p: Pipeline, name: str) -> datetime | None:
    try:
        doc = p.es.get(index=p.idx("cursors"), id=name)
    except NotFoundError:
        return None
    return datetime.fromisoformat(doc["_source"]["at"].replace("Z", "+00:00"))


def advance_cursor(p: Pipeline, name: str, at: datetime) -> None:
    """Move the cursor forward to `at`, never back (two passes at once: the later start wins)."""
    index = p.idx("cursors")
    body = {"name": name, "at": at.isoformat(), "updated_at": _now().isoformat()}
    for _ in range(10):
        try:
            doc = p.es.get(index=index, id=name)
        except NotFoundError:
            try:
                p.es.create(index=index, id=name, document=body, refresh=True)
                return
            except ConflictError:
                continue
        current = datetime.fromisoformat(doc["_source"]["at"].replace("Z", "+00:00"))
        if current >= at:
            return
        try:
            p.es.index(
                index=index,
                id=name,
                document=body,
                if_seq_no=doc["_seq_no"],
                if_primary_term=doc["_primary_term"],
                refresh=True,
            )
            return
        except ConflictError:
            continue
    raise ix.EsUnavailable(f"could not move the '{name}' cursor in {index}: too many concurrent writers")


# At most this many ids are left out of a pass by id (see queue_since_watermark's `recorded`); a longer
# list is not worth its request size, and the pass then looks at those articles again (harmlessly).
MAX_SKIPPED = 10_000


def queue_since_watermark(p: Pipeline, now: datetime | None = None, recorded: list[str] | None = None) -> int:
    """Record the hits of every article indexed since the last pass (all rules); returns how many are new.
    recorded: articles whose hits were recorded as they were stored (pipeline.batch), left out."""
    start = now or _now()
    last = read_cursor(p, CURSOR)
    since = (last - OVERLAP) if last else start - FIRST_LOOKBACK
    rules = list(p.seeds.alerts)
    new = 0
    if rules:
        after: list[Any] | None = None
        query: dict[str, Any] = {"range": {"indexed_at": {"gte": since.isoformat()}}}
        if recorded and len(recorded) <= MAX_SKIPPED:
            query = {"bool": {"filter": [query], "must_not": [{"ids": {"values": recorded}}]}}
        while True:
            extra: dict[str, Any] = {"search_after": after} if after else {}
            resp = p.es.search(
                index=p.idx("articles"),
                size=PAGE,
                query=query,
                sort=[{"indexed_at": "asc"}, {"article_id": "asc"}],
                source_excludes=["spellings", "simhash_bands"],
                **extra,
            )
            page = resp["hits"]["hits"]
            if not page:
                break
            new += _record(p, _match(p, {h["_id"]: h["_source"] for h in page}, rules))
            after = page[-1]["sort"]
        if new:
            _visible(p)
    advance_cursor(p, CURSOR, start)
    log.info("alert pass over articles indexed since %s: %d new hit(s)", since.isoformat(), new)
    return new


# ---------------------------------------------------------------- sending


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Claimed:
    """A hit this sender holds: its document and the version its lease was written at."""

    def __init__(self, doc: dict[str, Any], seq: tuple[int, int]):
        self.doc, self.seq = doc, seq

    @property
    def id(self) -> str:
        return str(self.doc["alert_id"])


def _overloaded(res: ix.BulkResult, what: str) -> None:
    bad = {i: r for i, r in res.failed.items() if res.status.get(i) != 409 and res.status.get(i) != 404}
    if bad:
        raise ix.EsUnavailable(f"{what}: {bad}")


def _lease(p: Pipeline, held: list[_Claimed], owner: str | None, until: datetime | None) -> list[_Claimed]:
    """Write owner and expiry on hits at the version we know (409: another sender has them now).
    Returns the hits still ours, at their new version."""
    if not held:
        return []
    fields = {"lease_owner": owner, "lease_until": until.isoformat() if until else None}
    res = ix.bulk_actions(
        p.es, (ix.Action(p.idx("alerts"), c.id, fields, "update", seq=c.seq, upsert=False) for c in held)
    )
    _overloaded(res, "could not lease alert hits")
    return [_Claimed({**c.doc, **fields}, res.seq[c.id]) for c in held if c.id in res.seq]


def _claim(
    p: Pipeline, schedule: str, owner: str, limit: int, *, before: datetime | None, skip: list[str]
) -> list[_Claimed]:
    """Lease up to `limit` pending hits nobody holds (oldest first), leaving out the rules in `skip`."""
    now = _now()  # leases run on the real clock, whatever time a caller simulates
    free = {
        "bool": {
            "should": [
                {"range": {"lease_until": {"lt": now.isoformat()}}},
                {"bool": {"must_not": {"exists": {"field": "lease_until"}}}},
            ],
            "minimum_should_match": 1,
        }
    }
    filters: list[dict[str, Any]] = [{"term": {"status": "pending"}}, {"term": {"schedule": schedule}}, free]
    if before is not None:
        filters.append({"range": {"created_at": {"lt": before.isoformat()}}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if skip:
        query["bool"]["must_not"] = [{"terms": {"rule": skip}}]
    resp = p.es.search(
        index=p.idx("alerts"),
        size=limit,
        query=query,
        sort=[{"created_at": "asc"}, {"alert_id": "asc"}],
        seq_no_primary_term=True,
    )
    found = [_Claimed(h["_source"], (h["_seq_no"], h["_primary_term"])) for h in resp["hits"]["hits"]]
    return _lease(p, found, owner, now + timedelta(seconds=p.settings.alert_lease_s))


def _hits_of(docs: list[dict[str, Any]]) -> list[AlertHit]:
    return [
        AlertHit(
            rule=d["rule"],
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


def _journal(p: Pipeline) -> Path:
    return Path(p.settings.state_dir) / JOURNAL


def _write_journal(p: Pipeline, ids: list[str], message_id: str, sent_at: str) -> None:
    """Remember, locally and at once, that these hits were mailed: the 'sent' write may fail next."""
    path = _journal(p)
    line = json.dumps({"index": p.idx("alerts"), "ids": ids, "message_id": message_id, "sent_at": sent_at})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:  # the index write below is the record; the journal only backs it up
        log.warning("could not write the alert journal %s: %s", path, exc)


def _mark_sent(p: Pipeline, index: str, ids: list[str], message_id: str, sent_at: str) -> ix.BulkResult:
    fields = {
        "status": "sent",
        "sent_at": sent_at,
        "email_id": message_id,
        "last_error": None,
        "hold_reason": None,
        "lease_owner": None,
        "lease_until": None,
    }
    return ix.bulk_actions(
        p.es,
        (ix.Action(index, i, fields, "update", upsert=False) for i in ids),
        retries=SENT_WRITE_RETRIES,
        backoff_s=SENT_WRITE_BACKOFF_S,
    )


def reconcile_journal(p: Pipeline) -> int:
    """Mark sent what the journal says was mailed (a 'sent' write that failed, a crash after the journal
    line). Raises EsUnavailable, and keeps the journal, when the index still refuses."""
    path = _journal(p)
    if not path.exists():
        return 0
    taken = path.with_name(f"{JOURNAL}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    try:
        path.rename(taken)  # atomic: of two passes at once, one reconciles
    except FileNotFoundError:
        return 0
    lines = [ln for ln in taken.read_text(encoding="utf-8").splitlines() if ln.strip()]
    marked, keep = 0, []
    for ln in lines:
        entry = json.loads(ln)
        res = _mark_sent(p, entry["index"], entry["ids"], entry["message_id"], entry["sent_at"])
        if any(s not in (404, 409) for s in res.status.values()):
            keep.append(ln)
        else:
            marked += res.ok
    if keep:
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(keep) + "\n")
    taken.unlink()
    if keep:
        raise ix.EsUnavailable(f"could not record {len(keep)} sent alert email(s) from {path}; kept for the next pass")
    if marked:
        log.warning(
            "recorded %d alert hit(s) as sent from the journal %s (their 'sent' write had failed)", marked, path
        )
    return marked


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


def _pending_by_rule(p: Pipeline, schedule: str, before: datetime | None) -> dict[str, int]:
    filters: list[dict[str, Any]] = [{"term": {"status": "pending"}}, {"term": {"schedule": schedule}}]
    if before is not None:
        filters.append({"range": {"created_at": {"lt": before.isoformat()}}})
    resp = p.es.search(
        index=p.idx("alerts"),
        size=0,
        query={"bool": {"filter": filters}},
        aggs={"rules": {"terms": {"field": "rule", "size": 10000}}},
    )
    return {b["key"]: int(b["doc_count"]) for b in resp["aggregations"]["rules"]["buckets"]}


class _Pass:
    """One send_pending call: its owner, clock, limits and tallies."""

    def __init__(self, p: Pipeline, schedule: str, owner: str, now: datetime, before: datetime | None):
        self.p, self.schedule, self.owner, self.now, self.before = p, schedule, owner, now, before
        self.rules = {r.name: r for r in p.seeds.alerts}
        self.summary: dict[str, Any] = {
            "emails_sent": 0,
            "hits_sent": 0,
            "pending": 0,
            "held": 0,
            "failed": 0,
            "error": None,
        }
        self.held_rules: dict[str, str] = {}  # rule -> why it may not mail now
        throttled = [r.name for r in p.seeds.alerts if r.throttle is not None]
        self.sent_recently = emails_last_hour(p, throttled, now)

    def budget_left(self) -> bool:
        return self.summary["emails_sent"] < self.p.settings.alert_max_emails_per_pass and not self.summary["error"]


def send_pending(
    p: Pipeline,
    schedule: str = "immediate",
    *,
    before: datetime | None = None,
    now: datetime | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Mail the pending hits of this schedule: one email per rule and at most alert_max_hits_per_email hits,
    at most alert_max_emails_per_pass emails; `pending` in the summary is what remains to send.

    `before`: only hits recorded before this time (a digest slot carries the hits recorded before it).
    A rule in its quiet hours or over its throttle sends nothing now: its hits stay pending with the
    reason (`hold_reason`, counted in `held`) and go into its next email, which says how many waited.
    """
    settings = p.settings
    run = _Pass(p, schedule, owner or new_owner(), now or _now(), before)
    reconcile_journal(p)
    per_email = settings.alert_max_hits_per_email
    while run.budget_left():
        claimed = _claim(p, schedule, run.owner, per_email * 4, before=before, skip=list(run.held_rules))
        if not claimed:
            break
        by_rule: dict[str, list[_Claimed]] = defaultdict(list)
        for c in claimed:
            by_rule[c.doc["rule"]].append(c)
        emails = [(name, hs[i : i + per_email]) for name, hs in by_rule.items() for i in range(0, len(hs), per_email)]
        for n, (rule_name, chunk) in enumerate(emails):
            if not run.budget_left():
                _lease(p, [c for _, rest in emails[n:] for c in rest], None, None)  # let others have them now
                break
            _send_one(run, rule_name, chunk)
    p.es.indices.refresh(index=p.idx("alerts"))  # so that the counts below, and `status`, see this pass
    left = _pending_by_rule(p, schedule, before)
    run.summary["held"] = sum(n for rule, n in left.items() if rule in run.held_rules)
    run.summary["pending"] = sum(n for rule, n in left.items() if rule not in run.held_rules)
    if run.summary["pending"]:
        log.info("%d %s alert hit(s) still to send after this pass", run.summary["pending"], schedule)
    return run.summary


def _send_one(run: _Pass, rule_name: str, chunk: list[_Claimed]) -> None:
    p, summary, rule = run.p, run.summary, run.rules.get(rule_name)
    if rule is None:  # the rule was removed from alerts.yaml: do not mail, keep a trace
        ix.bulk_actions(
            p.es, (ix.Action(p.idx("alerts"), c.id, {"status": "dropped"}, "update", upsert=False) for c in chunk)
        )
        log.warning("%d hit(s) of rule %s dropped: the rule is no longer in alerts.yaml", len(chunk), rule_name)
        return
    reason = run.held_rules.get(rule_name) or hold_reason(rule, run.now, run.sent_recently.get(rule_name, 0))
    if reason is not None:
        if rule_name not in run.held_rules:
            log.info("alert rule %s: hits held back (%s)", rule_name, reason, extra={"rule": rule_name})
        run.held_rules[rule_name] = reason
        fields = {"hold_reason": reason, "lease_owner": None, "lease_until": None}
        ix.bulk_actions(
            p.es, (ix.Action(p.idx("alerts"), c.id, fields, "update", seq=c.seq, upsert=False) for c in chunk)
        )
        return
    # Renewed just before mailing, so a slow server cannot outlast the lease; a hit another sender
    # took meanwhile (our lease ran out) is left to it.
    chunk = _lease(p, chunk, run.owner, _now() + timedelta(seconds=p.settings.alert_lease_s))
    if not chunk:
        return
    alert = compose_alert(
        rule, _hits_of([c.doc for c in chunk]), held_back=sum(1 for c in chunk if c.doc.get("hold_reason"))
    )
    try:
        message_id = send_email(alert, p.settings)
    except SmtpUnavailable as exc:
        summary["error"] = str(exc)
        summary["failed"] += 1
        log.error("alert email for rule %s not sent: %s", rule_name, exc, extra={"rule": rule_name})
        fields = {"last_error": str(exc), "lease_owner": None, "lease_until": None}
        ix.bulk_actions(
            p.es,
            (
                ix.Action(
                    p.idx("alerts"),
                    c.id,
                    {**fields, "attempts": int(c.doc.get("attempts") or 0) + 1},
                    "update",
                    seq=c.seq,
                    upsert=False,
                )
                for c in chunk
            ),
        )
        return
    sent_at = run.now.isoformat()
    run.sent_recently[rule_name] = run.sent_recently.get(rule_name, 0) + 1
    ids = [c.id for c in chunk]
    _write_journal(p, ids, message_id, sent_at)
    summary["emails_sent"] += 1
    summary["hits_sent"] += len(chunk)
    log.info(
        "alert email for rule %s sent: %d hit(s), %s", rule_name, len(chunk), message_id, extra={"rule": rule_name}
    )
    res = _mark_sent(p, p.idx("alerts"), ids, message_id, sent_at)
    if res.failed:
        summary["error"] = (
            f"alert email {message_id} (rule {rule_name}) was sent but Elasticsearch did not record it: "
            f"{next(iter(res.failed.values()))}; {_journal(p)} keeps it, the next pass records it"
        )
        log.error("%s", summary["error"], extra={"rule": rule_name})
        raise ix.EsUnavailable(summary["error"])
