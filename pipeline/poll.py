"""Poll one feed: conditional GET, parse with feedparser, return new items and the feed's next state."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import feedparser
from dateutil import parser as dateparser

from .config import FeedConfig, url_problem
from .net import FetchError, HttpClient
from .records import FeedItem, FeedState
from .schedule import retry_after_seconds

MAX_BACKOFF = timedelta(hours=24)
# feedparser holds every entry as a dict of dicts (a few KB each): a 10 MB feed of tiny entries took
# 739 MB. Entries after this many are not parsed, and the feed is reported cut.
MAX_FEED_ENTRIES = 20_000
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]", re.IGNORECASE)
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>", re.IGNORECASE)
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?(rss|feed|RDF)[\s>]", re.IGNORECASE)
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
    warning: str | None = None  # polled, but not all of it was read: cut off, or item links skipped


@dataclass
class ParsedFeed:
    items: list[FeedItem]
    skipped_links: list[str] = field(default_factory=list)  # item links that are not fetchable URLs
    cut: bool = False  # only the first MAX_FEED_ENTRIES entries (or the entries before a cut-off) were read


def bound_feed(content: bytes, truncated: bool = False) -> tuple[bytes, bool]:
    """The feed up to its MAX_FEED_ENTRIES-th entry, or up to its last whole entry when the response
    was cut off, closed so that the strict parser can still read it; and whether anything was left out."""
    starts = []
    for i, m in enumerate(_ENTRY_START.finditer(content)):
        starts.append(m.start())
        if i == MAX_FEED_ENTRIES:
            break
    if len(starts) <= MAX_FEED_ENTRIES and not (truncated and starts):
        return content, False
    cut_at = starts[-1]
    if len(starts) <= MAX_FEED_ENTRIES:  # cut off: keep the last entry too when its end tag arrived
        end = _ENTRY_END.search(content, cut_at)
        cut_at = end.end() if end else cut_at
    root = _ROOT.search(content, 0, starts[0])
    closers = b""
    if root:
        prefix, name = root.group(1) or b"", root.group(2).lower()
        closers = b"</channel></rss>" if name == b"rss" else b"</" + prefix + root.group(2) + b">"
    return content[:cut_at] + closers, True


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


def parse_feed(
    feed: FeedConfig, content: bytes, base_url: str, content_type: str = "", truncated: bool = False
) -> ParsedFeed:
    """Turn feed bytes into items. Raises ValueError naming the feed when nothing usable is in it.

    An item whose link is not a fetchable URL is skipped alone (and listed), never the whole feed."""
    content, cut = bound_feed(content, truncated)
    parsed = feedparser.parse(content, response_headers={"content-type": content_type} if content_type else None)
    # feedparser flags many harmless quirks (a wrong declared charset, say) as 'bozo'; a feed
    # fails only when nothing usable came out: no entries and no recognised feed format.
    if not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        detail = f"malformed: {problem}" if problem else "not an RSS or Atom feed"
        raise ValueError(f"feed '{feed.id}' ({feed.url}) is {detail}")
    items: list[FeedItem] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            # Some feeds put the link only in the guid.
            guid = entry.get("id") or ""
            link = guid if guid.startswith(("http://", "https://")) else ""
        if not link:
            continue
        try:
            link = urljoin(base_url, link)
        except ValueError:  # "Invalid IPv6 URL" and the like: this item only
            skipped.append(link)
            continue
        if not link.startswith(("http://", "https://")) or link in seen:
            continue
        if url_problem(link):
            skipped.append(link)
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
    return ParsedFeed(items=items, skipped_links=skipped, cut=cut)


FeedParser = Callable[[FeedConfig, bytes, str, str, bool], ParsedFeed]


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
        parsed = parse(feed, resp.content, resp.url, resp.content_type, resp.truncated)
    except ValueError as exc:
        suffix = " (response cut off at the size cap)" if resp.truncated else ""
        return failed(f"{exc}{suffix}")
    items = parsed.items
    warnings = []
    if resp.truncated:
        warnings.append(
            f"the response was cut off at {len(resp.content)} bytes (size cap or time limit); items after the cut were not read"
        )
    elif parsed.cut:
        warnings.append(f"only its first {MAX_FEED_ENTRIES} entries were read")
    if parsed.skipped_links:
        first = parsed.skipped_links[0][:200]
        warnings.append(
            f"{len(parsed.skipped_links)} item link(s) are not valid URLs and were skipped (first: {first!r})"
        )
    warning = f"feed '{feed.id}' ({feed.url}): " + "; ".join(warnings) if warnings else None

    state.etag = resp.headers.get("etag")
    state.last_modified = resp.headers.get("last-modified")
    # A cut-off feed is read (its items are good) but reported so, in the run's notes and `newsmon status`.
    state.last_status = "truncated" if resp.truncated or parsed.cut else "ok"
    state.last_error = warning
    state.consecutive_errors = 0
    state.last_success = now
    state.next_poll = next_slot(now, interval)
    state.items_seen += len(items)
    return PollResult(state=state, items=items, status="ok", warning=warning)


def is_due(state: FeedState | None, now: datetime) -> bool:
    return state is None or state.next_poll is None or state.next_poll <= now
