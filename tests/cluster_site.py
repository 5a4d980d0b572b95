"""Local sites on several loopback addresses (127.0.0.x), for the cluster tests.

Each host serves RSS feeds and article pages and logs the arrival time of every request, so a test
can check per-host pacing at the server. Pages are generated: each has its own random text (no two
are near-duplicates) and one statement by a tracked figure in words of its own.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = (
    "council budget river harbor school bridge winter market railway county farmers storm museum library "
    "hospital court tunnel festival orchard airport factory village district election ferry stadium canal "
    "coast mountain valley forest highway garden theater clinic station island desert prairie lake castle "
    "tower quarry mill bakery archive gallery pier lighthouse vineyard ranch meadow glacier canyon reef"
).split()
VERBS = "reviewed announced delayed approved rejected expanded reduced debated inspected reopened".split()

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}"><meta property="article:published_time" content="2026-12-0{day}T08:00:00Z"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{paras}</article>
<footer>All rights reserved.</footer></body></html>"""


def sentence(rng: random.Random, n: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words.insert(2, rng.choice(VERBS))
    return " ".join(words).capitalize()


def article_page(url: str, i: int) -> tuple[str, str]:
    """(html, the statement's words) of page i."""
    rng = random.Random(i)
    quote = f"{sentence(rng, 12)} and number {i} stays on the table for everyone"
    paras = [f"<p>{sentence(rng)}. {sentence(rng)}. {sentence(rng)}.</p>" for _ in range(4)]
    paras.insert(2, f'<p>"{quote}," Donald Trump said on Monday at the White House.</p>')
    title = f"Report {i}: {sentence(rng, 5)}"
    return PAGE.format(title=title, url=url, day=1 + i % 9, paras="".join(paras)), quote


def rss(links: list[str], title: str) -> str:
    items = "".join(
        f"<item><title>Story {i}</title><link>{u}</link><guid>{u}</guid>"
        f"<pubDate>Mon, 0{1 + i % 7} Dec 2026 08:00:00 GMT</pubDate></item>"
        for i, u in enumerate(links)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.test/</link><description>t</description>{items}</channel></rss>"
    )


class MultiHostSite:
    """One HTTP server per loopback address; routes per (host, path); arrival times per host."""

    def __init__(self, addresses: list[str]):
        self.routes: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.times: dict[str, list[float]] = defaultdict(list)  # host -> request arrival times
        self.agents: dict[str, list[str]] = defaultdict(list)  # host -> User-Agent of each request
        self.paths: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        self.base: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host = self.server.server_address[0]
                with site.lock:
                    site.times[host].append(time.time())
                    site.agents[host].append(self.headers.get("User-Agent", ""))
                    site.paths.append((host, self.path))
                body, ctype = site.routes.get((host, self.path.split("?")[0]), (b"", ""))
                self.send_response(200 if ctype else 404)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for addr in addresses:
            server = ThreadingHTTPServer((addr, 0), Handler)
            server.daemon_threads = True
            self.servers.append(server)
            self.base[addr] = f"http://{addr}:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def add(self, addr: str, path: str, body: str, ctype: str) -> str:
        self.routes[(addr, path)] = (body.encode("utf-8"), ctype)
        return self.base[addr] + path

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def min_gaps(times: dict[str, list[float]]) -> dict[str, float]:
    """Per host, the shortest time between two consecutive request arrivals."""
    out = {}
    for host, ts in times.items():
        ts = sorted(ts)
        if len(ts) > 1:
            out[host] = min(b - a for a, b in zip(ts, ts[1:], strict=False))
    return out
