"""Many local sites for the benchmarks: one asyncio server process listening on many loopback hosts.

Each site is its own address in 127.77.0.0/16 (127.77.0.1, 127.77.0.2, ...), so per-host politeness
sees many sites, as it would on the web. Only loopback addresses are ever bound.

    with Sites({"kind": "feeds", "feeds": 1000, "feeds_per_host": 2}) as site:
        site.urls      # the feed URLs (or, for kind "pages": {"feeds": [...], "pages": [...]})
        site.stats()   # requests served, 304s, per-host request times

Spec kinds:
- feeds: `feeds` RSS/Atom feeds made from the real feeds in ../shared/fixtures/feeds/real-news
  (at most `max_entries` entries each), `feeds_per_host` per site. ETag + If-None-Match: 304.
- pages: `pages` article pages from ../shared/eval (real news pages), `pages_per_host` per site, each
  site with one feed listing its pages and a robots.txt (with `crawl_delay` when given).

Run directly (`python bench/sites.py SPEC_JSON`) it prints its URL map as one JSON line, then serves
until stdin closes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
NET = "127.77"  # the /16 the sites live in


def host_address(i: int) -> str:
    return f"{NET}.{i // 250}.{i % 250 + 1}"


# ------------------------------------------------------------------ content


def real_feeds(max_entries: int) -> list[tuple[bytes, str]]:
    """(bytes, content type) of the real feeds, each cut to its first max_entries entries."""
    from lxml import etree

    out = []
    for path in sorted((SHARED / "fixtures" / "feeds" / "real-news").glob("*.xml")):
        root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, huge_tree=True))
        entries = [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname in ("item", "entry")]
        for extra in entries[max_entries:]:
            extra.getparent().remove(extra)
        ctype = "application/atom+xml" if etree.QName(root).localname == "feed" else "application/rss+xml"
        out.append((etree.tostring(root, xml_declaration=True, encoding="utf-8"), ctype))
    return out


def corpus_pages(n: int) -> list[Path]:
    """n real article pages: the extraction dev set first, then the WCXB dev pages, in name order."""
    first = sorted((SHARED / "eval" / "extraction" / "html").glob("*.html"))
    more = sorted((SHARED / "eval" / "extraction-wcxb" / "html").glob("*.html"))
    pages = (first + more)[:n]
    if len(pages) < n:
        raise SystemExit(f"only {len(pages)} pages in {SHARED / 'eval'}; asked for {n}")
    return pages


def rss(title: str, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{u}</link><guid>{u}</guid>"
        f"<pubDate>Mon, 30 Nov 2026 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, u in enumerate(links)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.test/</link><description>bench</description>{items}</channel></rss>"
    ).encode()


# ------------------------------------------------------------------ the server


class Route:
    __slots__ = ("body", "ctype", "etag", "status", "headers")

    def __init__(self, body: bytes, ctype: str, status: int = 200, headers: dict[str, str] | None = None):
        self.body, self.ctype, self.status = body, ctype, status
        self.etag = '"' + hashlib.md5(body).hexdigest() + '"'
        self.headers = headers or {}


REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 503: "Service Unavailable"}


class Server:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}  # (host:port, path) -> route
        self.count = 0
        self.not_modified = 0
        self.times: dict[str, list[float]] = defaultdict(list)  # host -> arrival times of page requests

    def handle(self, hostport: str, path: str, headers: dict[str, str]) -> bytes:
        self.count += 1
        route = self.routes.get((hostport, path.split("?")[0]))
        if route is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        if path.endswith(".html"):
            self.times[hostport.split(":")[0]].append(time.time())
        if headers.get("if-none-match") == route.etag:
            self.not_modified += 1
            return f"HTTP/1.1 304 Not Modified\r\nETag: {route.etag}\r\nContent-Length: 0\r\n\r\n".encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in route.headers.items())
        head = (
            f"HTTP/1.1 {route.status} {REASONS.get(route.status, 'OK')}\r\nContent-Type: {route.ctype}\r\n"
            f"ETag: {route.etag}\r\n{extra}Content-Length: {len(route.body)}\r\n\r\n"
        )
        return head.encode() + route.body


class Connection(asyncio.Protocol):
    def __init__(self, server: Server, hostport: str):
        self.server, self.hostport, self.buf = server, hostport, b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            self.transport.write(self.server.handle(self.hostport, parts[1] if len(parts) > 1 else "/", headers))  # type: ignore[attr-defined]
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                return


def build(spec: dict[str, Any]) -> tuple[Server, list[tuple[str, int]], dict[str, Any]]:
    """Routes for a spec, keyed by placeholder host ids; returns the server, the hosts and the URL map."""
    server = Server()
    kind = spec["kind"]
    hosts: list[tuple[str, int]] = []
    urls: dict[str, Any] = {}
    if kind == "feeds":
        sources = real_feeds(spec.get("max_entries", 25))
        per_host = spec.get("feeds_per_host", 2)
        n_hosts = -(-spec["feeds"] // per_host)
        hosts = [(host_address(i), 0) for i in range(n_hosts)]
        urls["feeds"] = [(i // per_host, f"/feeds/{i}.xml", sources[i % len(sources)]) for i in range(spec["feeds"])]
    elif kind == "pages":
        pages = corpus_pages(spec["pages"])
        per_host = spec.get("pages_per_host", 4)
        n_hosts = -(-len(pages) // per_host)
        hosts = [(host_address(i), 0) for i in range(n_hosts)]
        urls["pages"] = [(i // per_host, f"/news/{i}.html", path) for i, path in enumerate(pages)]
    else:
        raise SystemExit(f"unknown site kind {kind!r}")
    return server, hosts, urls


async def serve(spec: dict[str, Any]) -> None:
    server, hosts, plan = build(spec)
    loop = asyncio.get_running_loop()
    bound: list[str] = []
    for addr, _ in hosts:
        holder: dict[str, str] = {}
        srv = await loop.create_server(lambda h=holder: Connection(server, h["hp"]), host=addr, port=0, backlog=512)
        port = srv.sockets[0].getsockname()[1]
        holder["hp"] = f"{addr}:{port}"
        bound.append(f"{addr}:{port}")
    robots = spec.get("robots", "User-agent: *\nAllow: /\n")
    if spec.get("crawl_delay"):
        robots += f"Crawl-delay: {spec['crawl_delay']}\n"
    out: dict[str, Any] = {"hosts": bound}
    for hp in bound:
        server.routes[(hp, "/robots.txt")] = Route(robots.encode(), "text/plain")
    if "feeds" in plan:
        out["feeds"] = []
        for h, path, (body, ctype) in plan["feeds"]:
            server.routes[(bound[h], path)] = Route(body, ctype)
            out["feeds"].append(f"http://{bound[h]}{path}")
    if "pages" in plan:
        out["pages"], per_host_links = [], defaultdict(list)
        for h, path, file in plan["pages"]:
            server.routes[(bound[h], path)] = Route(file.read_bytes(), "text/html; charset=utf-8")
            url = f"http://{bound[h]}{path}"
            out["pages"].append(url)
            per_host_links[h].append(url)
        out["feeds"] = []
        for h, links in sorted(per_host_links.items()):
            server.routes[(bound[h], "/feed.xml")] = Route(rss(f"Site {h}", links), "application/rss+xml")
            out["feeds"].append(f"http://{bound[h]}/feed.xml")
    print(json.dumps(out), flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.strip() == b"stats":
            stats = {"requests": server.count, "not_modified": server.not_modified, "page_times": server.times}
            print(json.dumps(stats), flush=True)


class Sites:
    """The server in a child process (so its CPU is not this process's GIL), stopped on exit."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec

    def __enter__(self) -> Sites:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(self.spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the bench site did not start (spec {self.spec})")
        self.urls = json.loads(line)
        return self

    def stats(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    asyncio.run(serve(json.loads(sys.argv[1])))
