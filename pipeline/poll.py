"""Poll one feed: conditional GET, parse with feedparser, return new items and the feed's next state."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import feedparser
from dateutil import parser as dateparser

from .config import FeedConfig
from .net import FetchError, HttpClient
from .records import FeedItem, FeedState
from .schedule import retry_after_seconds

MAX_BACKOFF = timedelta(hours=24)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_slot(now: datetime, interval: timedelta) -> datetime:
    """The first point of the feed's interval grid (counted from the Unix epoch, UTC) after ``now``.

    Scheduled polls run on that grid too (every N minutes on the clock), so a poll that started
    late still makes its feed due at the next tick: the next poll is set by the schedule, not by
    the moment this poll happened to run.
    """
    slots = (now - _EPOCH) // interval
    return _EPOCH + (slots + 1) * interval


@dataclass
class PollResult:
    state: FeedState
    items: list[FeedItem] = field(default_factory=list)
    status: str = "ok"  # ok | not_modified | failed
    error: str | None = None
    retry_after: float | None = None  # seconds, when the server said when to come back (429, 503)


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            return datetime.fromtimestamp(calendar.timegm(st), tz=UTC)
    for key in ("published", "updated", "created", "dc_date"):
        raw = entry.get(key)
        if raw:
            try:
                dt = dateparser.parse(raw)
            except (ValueError, OverflowError):
                continue
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            return dt.astimezone(UTC)
    return None


def parse_feed(feed: FeedConfig, content: bytes, base_url: str, content_type: str = "") -> list[FeedItem]:
    """Turn feed bytes into items. Raises ValueError naming the feed when nothing usable is in it."""
    parsed = feedparser.parse(content, response_headers={"content-type": content_type} if content_type else None)
    # feedparser flags many harmless quirks (a wrong declared charset, say) as 'bozo'; a feed
    # fails only when nothing usable came out: no entries and no recognised feed format.
    if not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        detail = f"malformed: {problem}" if problem else "not an RSS or Atom feed"
        raise ValueError(f"feed '{feed.id}' ({feed.url}) is {detail}")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            # Some feeds put the link only in the guid.
            guid = entry.get("id") or ""
            link = guid if guid.startswith(("http://", "https://")) else ""
        if not link:
            continue
        link = urljoin(base_url, link)
        if not link.startswith(("http://", "https://")) or link in seen:
            continue
        seen.add(link)
        items.append(
            FeedItem(
                feed_id=feed.id,
                url=link,
                title=(entry.get("title") or "").strip(),
                summary=(entry.get("summary") or "")[:2000],
                published=_entry_time(entry),
                guid=(entry.get("id") or "").strip(),
            )
        )
    return items


FeedParser = Callable[[FeedConfig, bytes, str, str], list[FeedItem]]


def poll_feed(
    feed: FeedConfig,
    state: FeedState | None,
    http: HttpClient,
    now: datetime | None = None,
    parse: FeedParser = parse_feed,
) -> PollResult:
    """Fetch and parse one feed. Never raises for feed problems: they come back as status 'failed'.

    parse: parse_feed, or a stand-in that runs it elsewhere (pipeline.cpu, on a worker process)."""
    now = now or datetime.now(UTC)
    state = (state or FeedState(feed_id=feed.id, url=feed.url)).model_copy()
    if state.url != feed.url:  # the feed moved in seeds: forget validators of the old address
        state.url, state.etag, state.last_modified = feed.url, None, None
    state.last_polled = now
    interval = timedelta(minutes=feed.poll_interval_minutes)

    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified

    def failed(reason: str) -> PollResult:
        state.last_status, state.last_error = "failed", reason
        state.consecutive_errors += 1
        backoff = min(interval * (2 ** min(state.consecutive_errors - 1, 8)), MAX_BACKOFF)
        state.next_poll = now + backoff
        return PollResult(state=state, status="failed", error=reason)

    try:
        resp = http.get(feed.url, max_bytes=http.settings.max_feed_bytes, headers=headers)
    except FetchError as exc:
        return failed(f"feed '{feed.id}': {exc}")

    if resp.status == 304:
        state.last_status, state.last_error = "not_modified", None
        state.consecutive_errors = 0
        state.last_success = now
        state.next_poll = next_slot(now, interval)
        return PollResult(state=state, status="not_modified")
    if resp.status >= 400:
        result = failed(f"feed '{feed.id}': {feed.url} answered HTTP {resp.status}")
        result.retry_after = retry_after_seconds(resp.headers.get("retry-after"))
        return result

    try:
        items = parse(feed, resp.content, resp.url, resp.content_type)
    except ValueError as exc:
        suffix = " (response cut off at the size cap)" if resp.truncated else ""
        return failed(f"{exc}{suffix}")

    state.etag = resp.headers.get("etag")
    state.last_modified = resp.headers.get("last-modified")
    state.last_status, state.last_error = "ok", None
    state.consecutive_errors = 0
    state.last_success = now
    state.next_poll = next_slot(now, interval)
    state.items_seen += len(items)
    return PollResult(state=state, items=items, status="ok")


def is_due(state: FeedState | None, now: datetime) -> bool:
    return state is None or state.next_poll is None or state.next_poll <= now
