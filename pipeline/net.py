"""The one HTTP client every stage uses: checked addresses, capped bytes, bounded time.

Every connection, redirect hops included, goes through `CheckedBackend`: the host name is resolved
once, every address it resolves to must be global (or allowed in NEWSMON_ALLOW_PRIVATE), and the
socket connects to that checked address while Host and TLS SNI keep the name. Nothing resolves the
name a second time, so a DNS answer that changes in between (rebinding) cannot move the request.
Host names are normalised with IDNA 2008 / UTS 46 before anything else, so the name checked is the
name connected to.

Bodies are decoded here (pipeline.inflate), a bounded piece at a time, so a compression bomb stops
at the size cap; headers must arrive within http_timeout_s and the whole response within
http_total_timeout_s, however slowly a server trickles bytes.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
import idna

from .config import Settings
from .inflate import BoundedDecoder, DecodeError

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Special-purpose blocks that some Python versions still call global: IETF protocol assignments
# (192.0.0.192 is a cloud metadata address), carrier NAT, benchmarking, local-use NAT64.
_NOT_GLOBAL = [
    ipaddress.ip_network(n)
    for n in ("192.0.0.0/24", "100.64.0.0/10", "198.18.0.0/15", "240.0.0.0/4", "64:ff9b:1::/48", "2001::/23")
]


class FetchError(Exception):
    """A request failed; the message names the URL and the reason. permanent: trying again cannot help."""

    def __init__(self, url: str, reason: str, *, permanent: bool = False):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.permanent = permanent


class RefusedAddress(FetchError):
    """The URL (or a redirect) points at a private, loopback or otherwise internal address."""

    def __init__(self, url: str, reason: str):
        super().__init__(url, reason, permanent=True)


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


def is_public(ip: IP) -> bool:
    """A globally routable unicast address, also behind the IPv6 forms that embed an IPv4 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    # is_global leaves out 100.64.0.0/10 (carrier NAT, where cloud metadata services live), 192.0.0.0/24
    # and the rest of the IANA special-purpose registries that is_private misses.
    return ip.is_global and not ip.is_multicast and not any(ip in net for net in _NOT_GLOBAL)


def normalize_host(host: str) -> str:
    """The ASCII form of a host name (IDNA 2008 with UTS 46 mapping), as it goes on the wire.

    Raises ValueError for a name that has none."""
    host = host.rstrip(".").lower() if host not in (".", "") else host
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"'{host}' is not a valid international host name ({exc})") from None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


class AddressPolicy:
    """Decides whether a host may be contacted. Internal addresses need an explicit allowance."""

    def __init__(self, allow: list[str], resolver: Resolver | None = None):
        self.allow_hosts: set[str] = set()
        self.allow_nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.resolver = resolver or system_resolver
        for entry in allow:
            try:
                self.allow_nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allow_hosts.add(normalize_host(entry))

    def allowed_ip(self, ip: IP) -> bool:
        return is_public(ip) or any(ip in net for net in self.allow_nets)

    def normalize(self, url: str) -> str:
        """The URL with its host in wire form; FetchError (permanent) when it cannot be fetched at all."""
        try:
            parts = urlsplit(url)
            port = parts.port
            host = parts.hostname or ""
        except ValueError as exc:  # "Invalid IPv6 URL", a port out of range
            raise FetchError(url, f"not a valid URL ({exc})", permanent=True) from None
        if parts.scheme not in ("http", "https"):
            raise FetchError(
                url, f"unsupported scheme '{parts.scheme}' (only http and https are fetched)", permanent=True
            )
        if not host:
            raise FetchError(url, "no host in URL", permanent=True)
        try:
            wire = normalize_host(host)
        except ValueError as exc:
            raise FetchError(url, str(exc), permanent=True) from None
        if ":" in wire:
            wire = f"[{wire}]"
        netloc = wire if port is None else f"{wire}:{port}"
        if parts.username is not None or parts.password is not None:
            netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for host (wire form), each one checked. Raises RefusedAddress."""
        target = host.strip("[]")
        try:
            literal: IP | None = ipaddress.ip_address(target.split("%")[0])
        except ValueError:
            literal = None
        if literal is not None:
            if not self.allowed_ip(literal):
                raise RefusedAddress(host, f"refused: {literal} is an internal address{_HINT}")
            return [str(literal)]
        name = normalize_host(target)
        try:
            found = self.resolver(name, port)
        except OSError as exc:
            raise FetchError(host, f"cannot resolve host '{name}': {exc}") from exc
        if not found:
            raise FetchError(host, f"host '{name}' has no address")
        if name in self.allow_hosts:
            return found
        ips = [ipaddress.ip_address(a) for a in found]
        bad = sorted({str(ip) for ip in ips if not self.allowed_ip(ip)})
        if bad:
            raise RefusedAddress(host, f"refused: host '{name}' resolves to internal address {', '.join(bad)}{_HINT}")
        return [str(ip) for ip in ips]

    def check(self, url: str) -> None:
        """Raise FetchError/RefusedAddress unless url may be fetched (resolves its host once)."""
        wire = self.normalize(url)
        parts = urlsplit(wire)
        try:
            self.addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except RefusedAddress as exc:
            raise RefusedAddress(url, exc.reason) from None
        except FetchError as exc:
            raise FetchError(url, exc.reason, permanent=exc.permanent) from None


_HINT = " (add it to NEWSMON_ALLOW_PRIVATE only for tests or a local demo)"


class _Deadline(threading.local):
    """The current request's deadline (time.monotonic), per thread: httpx's sync client does its I/O
    in the calling thread, so the stream below can see which request it is serving."""

    at: float | None = None


_deadline = _Deadline()


def _within_deadline(timeout: float | None) -> float | None:
    if _deadline.at is None:
        return timeout
    left = _deadline.at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _within_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _within_deadline(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _within_deadline(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class CheckedBackend(httpcore.NetworkBackend):
    """Resolves once, checks every address, connects to a checked one; Host and SNI keep the name."""

    def __init__(self, policy: AddressPolicy):
        self.policy = policy
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for ip in self.policy.addresses(host, port):
            try:
                stream = self._sync.connect_tcp(ip, port, _within_deadline(timeout), local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
                continue
            return _DeadlineStream(stream)
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying context for every client: loading the CA bundle takes a noticeable fraction of a second."""
    return httpx.create_ssl_context(trust_env=False)


class _CheckedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through CheckedBackend."""

    def __init__(self, backend: CheckedBackend):  # httpx's __init__ would only build a pool to throw away
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
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

    def __init__(self, settings: Settings, resolver: Resolver | None = None):
        self.settings = settings
        self.policy = AddressPolicy(settings.allow_private, resolver)
        self.pacer = HostPacer(settings.host_delay_s)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.http_timeout_s),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,  # never route through a proxy from the environment
            transport=_CheckedTransport(CheckedBackend(self.policy)),
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, max_bytes: int, headers: dict[str, str] | None = None, pace: bool = False) -> Response:
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            current = self.policy.normalize(current)  # addresses are checked when connecting (CheckedBackend)
            if current in redirects:
                raise FetchError(url, f"redirect loop: redirects back to {current}", permanent=True)
            if pace:
                self.pacer.wait(current)
            resp = self._get_once(current, max_bytes, headers or {})
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                redirects.append(current)
                try:
                    current = urljoin(current, resp.headers["location"])
                except ValueError as exc:
                    raise FetchError(current, f"redirect to an invalid URL ({exc})", permanent=True) from None
                continue
            resp.redirects = redirects
            return resp
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects", permanent=True)

    def _get_once(self, url: str, max_bytes: int, headers: dict[str, str]) -> Response:
        start = time.monotonic()
        total = start + self.settings.http_total_timeout_s
        # Headers must be complete within http_timeout_s: a server trickling header bytes is cut off.
        _deadline.at = min(total, start + self.settings.http_timeout_s)
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                _deadline.at = total
                body, truncated = self._read_body(url, r, max_bytes, total)
                return Response(
                    url=url,
                    status=r.status_code,
                    headers={k.lower(): v for k, v in r.headers.items()},
                    content=body,
                    truncated=truncated,
                )
        except RefusedAddress as exc:  # raised by CheckedBackend, which knows only the host
            raise RefusedAddress(url, exc.reason) from None
        except FetchError as exc:
            raise FetchError(url, exc.reason, permanent=exc.permanent) from None
        except httpx.TimeoutException as exc:
            phase = "headers" if _deadline.at != total else "response"
            raise FetchError(url, f"timed out waiting for the {phase} ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"not a valid URL ({exc})", permanent=True) from None
        finally:
            _deadline.at = None

    @staticmethod
    def _read_body(url: str, r: httpx.Response, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
        """Up to max_bytes of decoded body, and whether it was cut (size cap or total time)."""
        try:
            decoder = BoundedDecoder(r.headers.get("content-encoding", ""))
        except DecodeError as exc:
            raise FetchError(url, str(exc), permanent=True) from None
        chunks: list[bytes] = []
        size = 0
        raw_size = 0
        try:
            for raw in r.iter_raw():
                raw_size += len(raw)
                decoder.feed(raw)
                while piece := decoder.read():
                    chunks.append(piece)
                    size += len(piece)
                    if size >= max_bytes:
                        return b"".join(chunks)[:max_bytes], True
                if raw_size >= max_bytes:  # compressed bytes that decode to little are capped too
                    return b"".join(chunks), True
        except DecodeError as exc:
            raise FetchError(url, str(exc), permanent=True) from None
        except httpx.TimeoutException:
            if time.monotonic() < deadline:
                raise
            return b"".join(chunks), True  # cut off at the total time limit
        return b"".join(chunks), False
