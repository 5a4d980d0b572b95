"""The work queue of feed items in Elasticsearch: what is due, oldest first, a few per host; backoff after failures.

An item is `pending` until it is processed, skipped or fails for good. A page that cannot be fetched
stays pending with `next_attempt_at` pushed back (BACKOFF, or the server's Retry-After when that is
longer), so the queue never stops at items it has just tried, and one dead site waits without holding
up the others. It fails for good once `Settings.item_retry_hours` have passed since its first failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .logs import stage_logger
from .records import FeedItem
from .schedule import host_of_url

if TYPE_CHECKING:
    from .context import Pipeline

log = stage_logger(__name__)

# Delay before the 1st, 2nd, 3rd and every later retry of a page.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))


def new_item_doc(item: FeedItem, now: datetime) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "feed_id": item.feed_id,
        "url": item.url,
        "host": host_of_url(item.url),  # the politeness key
        "title": item.title,
        "published": item.published.isoformat() if item.published else None,
        "discovered_at": now.isoformat(),
        "next_attempt_at": now.isoformat(),
        "status": "pending",
        "attempts": 0,
    }


def retry_delay(failures: int, retry_after_s: float | None = None) -> timedelta:
    """How long to wait after the n-th failure (1-based): BACKOFF, or Retry-After when it asks for longer."""
    delay = BACKOFF[min(max(failures, 1), len(BACKOFF)) - 1]
    if retry_after_s is not None:
        delay = max(delay, timedelta(seconds=retry_after_s))
    return delay


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def after_failure(
    item: dict[str, Any],
    reason: str,
    now: datetime,
    retry_window: timedelta,
    *,
    retry_after_s: float | None = None,
    permanent: bool = False,
) -> dict[str, Any]:
    """The item's new fields after a failed attempt: pending again at its next attempt, or failed for good
    (permanent, or its retry window since the first failure is spent). The reason says which."""
    attempts = int(item.get("attempts") or 0) + 1
    first = parse_time(item.get("first_failed_at")) or now
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now.isoformat(),
        "last_attempt_ok": False,
        "first_failed_at": first.isoformat(),
    }
    if permanent:
        return {**fields, "status": "failed", "error": reason, "next_attempt_at": None}
    if now - first >= retry_window:
        hours = retry_window.total_seconds() / 3600
        why = f"{reason} (gave up after {attempts} attempts over {hours:g} h)"
        return {**fields, "status": "failed", "error": why, "next_attempt_at": None}
    nxt = now + retry_delay(attempts, retry_after_s)
    return {**fields, "status": "pending", "error": reason, "next_attempt_at": nxt.isoformat()}


def due_query(now: datetime, exclude: list[str] | None = None) -> dict[str, Any]:
    """Pending items whose next attempt is due (items without one, from before backoff existed, are due)."""
    due = {
        "bool": {
            "should": [
                {"range": {"next_attempt_at": {"lte": now.isoformat()}}},
                {"bool": {"must_not": {"exists": {"field": "next_attempt_at"}}}},
            ],
            "minimum_should_match": 1,
        }
    }
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"status": "pending"}}, due]}}
    if exclude:
        query["bool"]["must_not"] = [{"ids": {"values": list(exclude)}}]
    return query


def count_due(p: Pipeline, now: datetime | None = None) -> int:
    """How many pending items are due now: new ones, and retries whose backoff has ended."""
    return int(p.es.count(index=p.idx("items"), query=due_query(now or datetime.now(UTC)))["count"])


def due_items(
    p: Pipeline,
    limit: int = 500,
    *,
    per_host: int | None = None,
    now: datetime | None = None,
    exclude: list[str] | None = None,
) -> list[str]:
    """Ids of due items, oldest first, at most `per_host` of any one host (settings.queue_per_host)."""
    now = now or datetime.now(UTC)
    per_host = per_host or p.settings.queue_per_host
    sort = [{"discovered_at": "asc"}, {"item_id": "asc"}]
    resp = p.es.search(
        index=p.idx("items"),
        size=limit,  # groups: one per host, the hosts with the oldest due item first
        query=due_query(now, exclude),
        sort=sort,
        source=False,
        collapse={"field": "host", "inner_hits": {"name": "due", "size": min(per_host, limit), "sort": sort}},
    )
    found: list[tuple[list[Any], str]] = []
    for group in resp["hits"]["hits"]:
        for h in group["inner_hits"]["due"]["hits"]["hits"]:
            found.append((h["sort"], h["_id"]))
    found.sort()
    return [item_id for _, item_id in found[:limit]]


@dataclass
class HostHealth:
    """Article fetches of one host over the window: attempts, failed attempts, the latest error, the next retry."""

    host: str
    attempts: int
    errors: int
    last_error: str | None
    last_error_at: str | None
    next_attempt_at: str | None
    waiting: int  # items pending a retry

    @property
    def error_rate(self) -> float:
        return self.errors / self.attempts if self.attempts else 0.0


def fetch_health(p: Pipeline, now: datetime | None = None, window: timedelta = timedelta(hours=24)) -> list[HostHealth]:
    """Per host, the items attempted within the window: how many failed, the latest error, the next retry.
    Worst error rate first."""
    now = now or datetime.now(UTC)
    since = (now - window).isoformat()
    resp = p.es.search(
        index=p.idx("items"),
        size=0,
        query={"range": {"last_attempt_at": {"gte": since}}},
        aggs={
            "hosts": {
                "terms": {"field": "host", "size": 200},
                "aggs": {
                    "errors": {
                        "filter": {"term": {"last_attempt_ok": False}},
                        "aggs": {
                            "latest": {
                                "top_hits": {
                                    "size": 1,
                                    "sort": [{"last_attempt_at": "desc"}],
                                    "_source": ["error", "last_attempt_at"],
                                }
                            }
                        },
                    },
                    "waiting": {
                        "filter": {"bool": {"filter": [{"term": {"status": "pending"}}]}},
                        "aggs": {"next": {"min": {"field": "next_attempt_at"}}},
                    },
                },
            }
        },
    )
    out = []
    for b in resp["aggregations"]["hosts"]["buckets"]:
        latest = b["errors"]["latest"]["hits"]["hits"]
        src = latest[0]["_source"] if latest else {}
        nxt = b["waiting"]["next"].get("value_as_string")
        out.append(
            HostHealth(
                host=b["key"],
                attempts=b["doc_count"],
                errors=b["errors"]["doc_count"],
                last_error=src.get("error"),
                last_error_at=src.get("last_attempt_at"),
                next_attempt_at=nxt,
                waiting=b["waiting"]["doc_count"],
            )
        )
    out.sort(key=lambda h: (-h.error_rate, -h.errors, h.host))
    return out


def failure_reasons(p: Pipeline, limit: int = 10) -> list[tuple[str, str, str]]:
    """The latest items that failed for good: (url, when, why)."""
    resp = p.es.search(
        index=p.idx("items"),
        size=limit,
        query={"term": {"status": "failed"}},
        sort=[{"last_attempt_at": {"order": "desc", "missing": "_last"}}],
        source_includes=["url", "error", "last_attempt_at"],
    )
    return [
        (h["_source"].get("url", ""), h["_source"].get("last_attempt_at") or "", h["_source"].get("error") or "")
        for h in resp["hits"]["hits"]
    ]
