"""The one HTTP client every stage uses: capped, time-boxed, redirect-checked.

Redirects are followed by hand so that every hop is checked against private and loopback
addresses (a feed must not be able to make us fetch from the internal network).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from .config import Settings


class FetchError(Exception):
    """A request failed; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RefusedAddress(FetchError):
    """The URL (or a redirect) points at a private, loopback or otherwise internal address."""


@dataclass
class Response:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]
    content: bytes
    truncated: bool = False  # cut off at the size cap or the total time limit
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def _is_internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None and _is_internal(ip.ipv4_mapped))
    )


class AddressPolicy:
    """Decides whether a host may be contacted. Internal addresses need an explicit allowance."""

    def __init__(self, allow: list[str]):
        self.allow_hosts: set[str] = set()
        self.allow_nets: list[ipaddress._BaseNetwork] = []
        for entry in allow:
            try:
                self.allow_nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allow_hosts.add(entry.lower())

    def _allowed_ip(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return not _is_internal(ip) or any(ip in net for net in self.allow_nets)

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported scheme '{parts.scheme}' (only http and https are fetched)")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchError(url, "no host in URL")
        if host in self.allow_hosts:
            return
        try:
            addrs = {ipaddress.ip_address(host)}
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, parts.port or 0, proto=socket.IPPROTO_TCP)
            except OSError as exc:
                raise FetchError(url, f"cannot resolve host '{host}': {exc}") from exc
            addrs = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
        bad = sorted(str(ip) for ip in addrs if not self._allowed_ip(ip))
        if bad:
            raise RefusedAddress(
                url,
                f"refused: host '{host}' resolves to internal address {', '.join(bad)} "
                "(add it to NEWSMON_ALLOW_PRIVATE only for tests or a local demo)",
            )


class HostPacer:
    """Keeps a minimum gap between two requests to the same host, across threads."""

    def __init__(self, delay_s: float):
        self.delay_s = delay_s
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> None:
        if self.delay_s <= 0:
            return
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + self.delay_s
        if slot > now:
            time.sleep(slot - now)


class HttpClient:
    """Small wrapper over httpx that no stage can misuse."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.policy = AddressPolicy(settings.allow_private)
        self.pacer = HostPacer(settings.host_delay_s)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.http_timeout_s),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,  # never route through a proxy from the environment
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, max_bytes: int, headers: dict[str, str] | None = None, pace: bool = False) -> Response:
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            self.policy.check(current)
            if pace:
                self.pacer.wait(current)
            resp = self._get_once(current, max_bytes, headers or {})
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                redirects.append(current)
                current = urljoin(current, resp.headers["location"])
                continue
            resp.redirects = redirects
            return resp
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects")

    def _get_once(self, url: str, max_bytes: int, headers: dict[str, str]) -> Response:
        deadline = time.monotonic() + self.settings.http_total_timeout_s
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                # iter_bytes yields decompressed data, so the cap also stops gzip bombs.
                for chunk in r.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= max_bytes or time.monotonic() > deadline:
                        truncated = True
                        break
                body = b"".join(chunks)[:max_bytes]
                return Response(
                    url=url,
                    status=r.status_code,
                    headers={k.lower(): v for k, v in r.headers.items()},
                    content=body,
                    truncated=truncated,
                )
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
