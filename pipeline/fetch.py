"""Fetch article pages politely: robots.txt, per-host pacing, size cap, checked redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from protego import Protego

from .net import FetchError, HttpClient, RefusedAddress, Response
from .schedule import retry_after_seconds

ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL = timedelta(hours=24)  # RFC 9309 2.4: a cached robots.txt should not be used longer than a day
ROBOTS_LEASE = timedelta(seconds=90)  # a worker fetching robots.txt for everyone; longer than one request may take
ROBOTS_RETRY = timedelta(minutes=30)  # how long an unreachable robots.txt means "disallow" before we ask again
# A batch's read of the shared verdicts stands in for each site's own read for this long; later, a
# site asks the store again, since another worker may have fetched its robots.txt meanwhile.
PREFETCH_FRESH_S = 30.0


class HttpStatusError(FetchError):
    """The server answered with an error status; retry_after is its Retry-After in seconds, if it sent one."""

    def __init__(self, url: str, status: int, retry_after: float | None = None):
        # 4xx other than 429 (and 408, a timeout) will not change on a retry: the item fails at once.
        super().__init__(url, f"HTTP {status}", permanent=400 <= status < 500 and status not in (408, 429))
        self.status = status
        self.retry_after = retry_after


class RobotsDisallowed(FetchError):
    """The site's robots.txt forbids this URL to our user agent (final: the item is not retried)."""


class RobotsUnavailable(FetchError):
    """The site's robots.txt answered 5xx (or 429) or could not be reached: RFC 9309 says assume
    complete disallow. Temporary: retry_at says when robots.txt is asked for again."""

    def __init__(self, url: str, reason: str, retry_at: datetime):
        super().__init__(url, reason)
        self.retry_at = retry_at


class RobotsStore(Protocol):
    """Where verdicts are shared between workers and tasks (pipeline.store.robots.EsRobotsStore)."""

    def get(self, origin: str) -> dict[str, Any] | None: ...

    def get_many(self, origins: list[str]) -> dict[str, dict[str, Any]]: ...

    def put(self, origin: str, doc: dict[str, Any]) -> None: ...

    def settle(self, origin: str, doc: dict[str, Any]) -> None: ...

    def claim(self, origin: str, ttl: timedelta) -> bool: ...

    def release(self, origin: str) -> None: ...


@dataclass
class RobotsVerdict:
    """What one site's robots.txt says, and until when that holds."""

    origin: str
    verdict: str  # rules | allow_all | disallow_all
    expires_at: datetime
    fetched_at: datetime
    body: str = ""
    http_status: int | None = None
    error: str | None = None
    rules: Protego | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.verdict == "rules" and self.rules is None:
            self.rules = Protego.parse(self.body)

    def to_doc(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "verdict": self.verdict,
            "body": self.body,
            "http_status": self.http_status,
            "error": self.error,
            "fetched_at": self.fetched_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RobotsVerdict:
        return cls(
            origin=doc["origin"],
            verdict=doc["verdict"],
            body=doc.get("body") or "",
            http_status=doc.get("http_status"),
            error=doc.get("error"),
            fetched_at=datetime.fromisoformat(doc["fetched_at"]),
            expires_at=datetime.fromisoformat(doc["expires_at"]),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _verdict_of(doc: dict[str, Any] | None) -> RobotsVerdict | None:
    """A stored verdict; None when absent or unreadable (then robots.txt is fetched again)."""
    try:
        return RobotsVerdict.from_doc(doc) if doc else None
    except (KeyError, ValueError, TypeError):
        return None


class RobotsCache:
    """robots.txt per origin (scheme://host:port) under RFC 9309.

    - 2xx: the rules hold for ROBOTS_TTL (24 h); 4xx (robots.txt "unavailable"): everything allowed
      for ROBOTS_TTL; 5xx, 429 or no answer ("unreachable"): everything disallowed for ROBOTS_RETRY
      (or the Retry-After), unless an earlier copy of the rules exists, which then goes on applying.
    - One fetch per origin: concurrent callers wait for the first one's answer (a lock per origin),
      and with a store the verdict is shared by every worker and task (`<prefix>-robots`).
    """

    def __init__(self, http: HttpClient, store: RobotsStore | None = None, clock: Callable[[], datetime] = _utcnow):
        self.http = http
        self.store = store
        self.clock = clock
        self._verdicts: dict[str, RobotsVerdict] = {}
        self._crawl_delay: dict[str, float] = {}  # host -> Crawl-delay for our user agent
        self._origin_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._prefetched: dict[str, tuple[float, dict[str, Any] | None]] = {}  # origin -> (when read, stored doc)

    def prefetch(self, urls: Iterable[str]) -> None:
        """Read the shared verdicts of these URLs' sites in one request, before a batch fetches them:
        a site with a fresh verdict is decided (its Crawl-delay known before its first page), and the
        others skip their own read of the store once."""
        if self.store is None:
            return
        now = self.clock()
        with self._lock:
            wanted = {
                o
                for o in map(_origin, urls)
                if not ((known := self._verdicts.get(o)) is not None and known.expires_at > now)
            }
        if not wanted:
            return
        docs = self.store.get_many(sorted(wanted))
        read_at = time.monotonic()
        for origin in wanted:
            doc = docs.get(origin)
            stored = _verdict_of(doc)
            if stored is not None and stored.expires_at > now:
                self._remember(origin, stored)
            else:
                with self._lock:
                    self._prefetched[origin] = (read_at, doc)

    def crawl_delay(self, host: str) -> float:
        """The Crawl-delay a host's robots.txt asks of us (0 when it sets none or was not read yet)."""
        with self._lock:
            return self._crawl_delay.get(host, 0.0)

    def verdict(self, url: str) -> RobotsVerdict:
        origin = _origin(url)
        with self._lock:
            known = self._verdicts.get(origin)
            if known is not None and known.expires_at > self.clock():
                return known
            origin_lock = self._origin_locks.setdefault(origin, threading.Lock())
        with origin_lock:  # the first caller fetches; the others wait here and reuse its answer
            with self._lock:
                known = self._verdicts.get(origin)
            if known is not None and known.expires_at > self.clock():
                return known
            stored = self._stored(origin)
            if stored is not None and stored.expires_at > self.clock():
                fresh = stored
            elif self.store is None:
                fresh = self._fetch(origin, previous=known or stored)
            else:
                fresh = self._fetch_shared(origin, previous=known or stored)
            self._remember(origin, fresh)
            return fresh

    def _remember(self, origin: str, verdict: RobotsVerdict) -> None:
        delay = verdict.rules.crawl_delay(self.http.settings.user_agent) if verdict.rules is not None else None
        host = (urlsplit(origin).hostname or "").lower()
        with self._lock:
            self._verdicts[origin] = verdict
            if delay:
                self._crawl_delay[host] = float(delay)
            else:
                self._crawl_delay.pop(host, None)

    def check(self, url: str) -> None:
        """Raise RobotsDisallowed or RobotsUnavailable when we may not fetch ``url`` now."""
        v = self.verdict(url)
        if v.verdict == "disallow_all":
            raise RobotsUnavailable(
                url,
                f"robots.txt of {v.origin} is unreachable ({v.error or f'HTTP {v.http_status}'}); "
                f"assuming disallow until {v.expires_at:%Y-%m-%d %H:%M} UTC (RFC 9309)",
                v.expires_at,
            )
        if v.rules is not None and not v.rules.can_fetch(url, self.http.settings.user_agent):
            raise RobotsDisallowed(url, "disallowed by robots.txt")

    def allowed(self, url: str) -> bool:
        try:
            self.check(url)
        except FetchError:
            return False
        return True

    def _stored(self, origin: str) -> RobotsVerdict | None:
        if self.store is None:
            return None
        with self._lock:
            prefetched = self._prefetched.pop(origin, None)
        if prefetched is not None and time.monotonic() - prefetched[0] <= PREFETCH_FRESH_S:
            return _verdict_of(prefetched[1])
        return _verdict_of(self.store.get(origin))

    def _fetch_shared(self, origin: str, previous: RobotsVerdict | None) -> RobotsVerdict:
        """Fetch once for every worker: whoever takes the store's lease fetches and shares the verdict;
        the others wait for it (up to ROBOTS_LEASE, then fetch themselves)."""
        assert self.store is not None
        if self.store.claim(origin, ROBOTS_LEASE):
            try:
                fresh = self._fetch(origin, previous)
            except BaseException:
                self.store.release(origin)  # let the next worker try at once
                raise
            self.store.settle(origin, fresh.to_doc())
            return fresh
        deadline = time.monotonic() + ROBOTS_LEASE.total_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            stored = self._stored(origin)
            if stored is not None and stored.expires_at > self.clock():
                return stored
        fresh = self._fetch(origin, previous)
        self.store.put(origin, fresh.to_doc())
        return fresh

    def _fetch(self, origin: str, previous: RobotsVerdict | None) -> RobotsVerdict:
        now = self.clock()
        status: int | None = None
        try:
            resp = self.http.get(f"{origin}/robots.txt", max_bytes=ROBOTS_MAX_BYTES, pace=True)
        except RefusedAddress:
            raise
        except FetchError as exc:
            error: str | None = exc.reason
            hold = ROBOTS_RETRY
        else:
            status = resp.status
            if 200 <= status < 300:
                body = resp.content.decode("utf-8", errors="replace")
                return RobotsVerdict(origin, "rules", now + ROBOTS_TTL, now, body=body, http_status=status)
            if 400 <= status < 500 and status != 429:
                return RobotsVerdict(origin, "allow_all", now + ROBOTS_TTL, now, http_status=status)
            error = None
            retry = retry_after_seconds(resp.headers.get("retry-after"))
            hold = max(ROBOTS_RETRY, timedelta(seconds=retry)) if retry else ROBOTS_RETRY
        if previous is not None and previous.verdict == "rules":
            # RFC 9309 2.4: while robots.txt is unreachable, an earlier copy may go on being used.
            return RobotsVerdict(
                origin, "rules", now + hold, previous.fetched_at, body=previous.body, http_status=status, error=error
            )
        return RobotsVerdict(origin, "disallow_all", now + hold, now, http_status=status, error=error)


@dataclass
class FetchedPage:
    url: str
    content: bytes
    content_type: str
    truncated: bool


def fetch_page(url: str, http: HttpClient, robots: RobotsCache | None, *, pace: bool = True) -> FetchedPage:
    """Download one article page. Raises FetchError naming the URL when it cannot or may not be fetched.

    pace=False when the caller paces requests per host itself (pipeline.schedule.HostScheduler)."""
    if robots is not None and http.settings.respect_robots:
        http.policy.check(url)  # a refused address is final; do not ask its robots.txt first
        robots.check(url)
    resp: Response = http.get(
        url,
        max_bytes=http.settings.max_page_bytes,
        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
        pace=pace,
    )
    if resp.status >= 400:
        raise HttpStatusError(url, resp.status, retry_after_seconds(resp.headers.get("retry-after")))
    if resp.status != 200:
        raise FetchError(url, f"unexpected HTTP {resp.status}")
    ctype = resp.content_type.lower()
    if ctype and not any(t in ctype for t in ("html", "xml", "text/plain")):
        raise FetchError(url, f"not a web page (Content-Type {resp.content_type})", permanent=True)
    return FetchedPage(url=resp.url, content=resp.content, content_type=resp.content_type, truncated=resp.truncated)
