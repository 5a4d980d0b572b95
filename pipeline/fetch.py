"""Fetch article pages politely: robots.txt, per-host pacing, size cap, checked redirects."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from .net import FetchError, HttpClient, Response
from .schedule import retry_after_seconds

ROBOTS_MAX_BYTES = 512 * 1024


class HttpStatusError(FetchError):
    """The server answered with an error status; retry_after is its Retry-After in seconds, if it sent one."""

    def __init__(self, url: str, status: int, retry_after: float | None = None):
        # 4xx other than 429 (and 408, a timeout) will not change on a retry: the item fails at once.
        super().__init__(url, f"HTTP {status}", permanent=400 <= status < 500 and status not in (408, 429))
        self.status = status
        self.retry_after = retry_after


class RobotsCache:
    """robots.txt per scheme+host, fetched once per run."""

    def __init__(self, http: HttpClient):
        self.http = http
        self._rules: dict[str, Protego | None] = {}
        self._crawl_delay: dict[str, float] = {}  # host -> Crawl-delay for our user agent
        self._lock = threading.Lock()

    def crawl_delay(self, host: str) -> float:
        """The Crawl-delay a host's robots.txt asks of us (0 when it sets none or was not read yet)."""
        with self._lock:
            return self._crawl_delay.get(host, 0.0)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            known = origin in self._rules
            rules = self._rules.get(origin)
        if not known:
            rules = self._load(origin)
            delay = rules.crawl_delay(self.http.settings.user_agent) if rules is not None else None
            with self._lock:
                self._rules[origin] = rules
                if delay:
                    self._crawl_delay[(parts.hostname or "").lower()] = float(delay)
        return rules is None or rules.can_fetch(url, self.http.settings.user_agent)

    def _load(self, origin: str) -> Protego | None:
        try:
            resp = self.http.get(f"{origin}/robots.txt", max_bytes=ROBOTS_MAX_BYTES, pace=True)
        except FetchError:
            return None  # unreachable robots.txt: the page fetch will report the real problem
        if resp.status >= 400 or not resp.content:
            return None  # no robots.txt means no restrictions
        return Protego.parse(resp.content.decode("utf-8", errors="replace"))


@dataclass
class FetchedPage:
    url: str
    content: bytes
    content_type: str
    truncated: bool


def fetch_page(url: str, http: HttpClient, robots: RobotsCache | None, *, pace: bool = True) -> FetchedPage:
    """Download one article page. Raises FetchError naming the URL when it cannot or may not be fetched.

    pace=False when the caller paces requests per host itself (pipeline.schedule.HostScheduler)."""
    if robots is not None and http.settings.respect_robots and not robots.allowed(url):
        raise FetchError(url, "disallowed by robots.txt")
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
