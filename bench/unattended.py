"""Thirty minutes unattended under the real Airflow scheduler, with sites that misbehave.

    .venv/bin/python bench/unattended.py [--minutes 30] [--json]

Four local sites, each with its own feed, serve new articles as time passes (one every two minutes
per site): `good` answers at once; `down` refuses connections for the whole run; `slow` waits
10 s before every answer (within the 15 s read timeout); `busy` answers 503 with `Retry-After: 600` for the first ten minutes, then
normally. Airflow (`newsmon airflow` machinery: scheduler, DAG processor, triggerer, API server, a
1-minute poll schedule) runs against a throw-away index prefix and a local SMTP catcher, and nobody
touches anything until the end. Then it prints (and with --json, as the last line) per site the items
processed, waiting for a retry and failed for good, the alerts recorded and sent, how many emails
each hit went out in (every hit exactly once is the goal: no duplicates, none pending), and the task
log lines that reported each failure.

Loopback only; needs the local Elasticsearch (`newsmon es start`) and the airflow extra.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}"><meta property="article:published_time" content="{when}"></head>
<body><article><h1>{title}</h1>
<p>The administration on {day} outlined changes to the H-1B visa program for skilled foreign workers.</p>
{paras}</article></body></html>"""
# Each article's other paragraphs are drawn from these words, seeded by site and number, so no two
# articles are near-duplicates (which would, rightly, not be alerted twice).
WORDS = (
    "council budget river harbor school teacher museum festival bridge railway farmer market weather storm "
    "hospital nurse court judge mayor senator election ballot library theater orchestra airport runway "
    "factory worker union strike tourism hotel restaurant chef garden park stadium league coach season "
    "police officer firefighter volunteer charity donation research university student scholarship "
    "energy solar wind pipeline harvest drought flood insurance housing rent mortgage bank interest"
).split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A feed and its articles on 127.0.0.1:<port>; a new article every `every_s` seconds."""

    def __init__(self, name: str, addr: str, *, delay_s: float = 0.0, busy_until: float = 0.0, every_s: float = 120.0):
        self.name, self.delay_s, self.busy_until, self.every_s = name, delay_s, busy_until, every_s
        self.start = time.time()
        self.requests: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests[self.path.split("?")[0]] += 1
                if site.delay_s:
                    time.sleep(site.delay_s)
                if time.time() < site.busy_until and self.path != "/robots.txt":
                    self._send(503, b"busy", "text/plain", {"Retry-After": "600"})
                elif self.path == "/feed.xml":
                    self._send(200, site.feed().encode(), "application/rss+xml")
                elif self.path == "/robots.txt":
                    self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                elif m := re.fullmatch(r"/a/(\d+)\.html", self.path):
                    self._send(200, site.article(int(m.group(1))).encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"", "text/plain")

            def _send(self, status, body, ctype, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((addr, 0), Handler)  # its own address: its own site for politeness
        self.server.daemon_threads = True
        self.base = f"http://{addr}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def published(self) -> int:
        return 1 + int((time.time() - self.start) // self.every_s)

    def article(self, n: int) -> str:
        title = f"{self.name.title()} report {n}: new H-1B wage rules"
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        day = time.strftime("%A", time.gmtime())
        rnd = random.Random(f"{self.name}-{n}")
        paras = "".join(
            "<p>" + " ".join(rnd.choice(WORDS) for _ in range(45)).capitalize() + ".</p>\n" for _ in range(4)
        )
        return ARTICLE.format(title=title, url=f"{self.base}/a/{n}.html", when=when, day=day, paras=paras)

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{self.name} {n}</title><link>{self.base}/a/{n}.html</link><guid>{self.base}/a/{n}.html</guid></item>"
            for n in range(1, self.published() + 1)
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{self.name}</title><link>{self.base}/</link><description>d</description>{items}</channel></rss>'


def smtp_catcher():
    from aiosmtpd.controller import Controller

    messages: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port, messages


def write_seeds(dest: Path, feeds: dict[str, str]) -> None:
    import yaml

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("figures.yaml", "topics.yaml"):
        shutil.copy(REPO / "seeds" / name, dest / name)
    (dest / "feeds.yaml").write_text(
        yaml.safe_dump(
            {
                "poll_schedule_minutes": 1,
                "feeds": [
                    {"id": name, "name": name, "url": url, "outlet": name.title(), "poll_interval_minutes": 1}
                    for name, url in feeds.items()
                ],
            }
        )
    )
    rule = {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["desk@news.example"]}
    (dest / "alerts.yaml").write_text(yaml.safe_dump({"alerts": [rule]}))


def report(es_url: str, prefix: str, sites: dict[str, str], messages: list, home: Path) -> dict:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(es_url)
    es.indices.refresh(index=f"{prefix}-*")
    out: dict = {"sites": {}, "alerts": {}, "log_lines": {}}
    for name in sites:
        items = es.search(index=f"{prefix}-items", size=1000, query={"term": {"feed_id": name}})["hits"]["hits"]
        statuses = Counter(h["_source"]["status"] for h in items)
        retried = sum(1 for h in items if int(h["_source"].get("attempts") or 0) > 0)
        out["sites"][name] = {"items": len(items), **statuses, "retried": retried}
    alerts = es.search(index=f"{prefix}-alerts", size=10000, query={"match_all": {}})["hits"]["hits"]
    out["alerts"]["recorded"] = len(alerts)
    out["alerts"]["by_status"] = dict(Counter(h["_source"]["status"] for h in alerts))
    urls = Counter()
    for m in messages:
        body = m.get_body(preferencelist=("plain",)).get_content()
        urls.update(re.findall(r"^   (http://\S+?)\r?$", body, flags=re.M))
    out["alerts"]["emails"] = len(messages)
    out["alerts"]["hits_mailed_more_than_once"] = sorted(u for u, n in urls.items() if n > 1)
    out["alerts"]["distinct_hits_mailed"] = len(urls)
    es.close()
    for name, base in sites.items():
        port = base.rsplit(":", 1)[1]
        lines = []
        for path in sorted((home / "logs").rglob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if f":{port}/" in line and ("fail" in line or "wait" in line or "refused" in line):
                    lines.append(line.strip()[:300])
        out["log_lines"][name] = lines[:5]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--es-url", default="http://127.0.0.1:9200")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import os

    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import start_airflow, stop_airflow

    prefix = f"unattended-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="newsmon-unattended-"))
    down_port = free_port()  # nothing listens there
    good, slow = Site("good", "127.0.0.11"), Site("slow", "127.0.0.13", delay_s=10.0)
    busy = Site("busy", "127.0.0.14", busy_until=time.time() + 600)
    sites = {"good": good.base, "down": f"http://127.0.0.12:{down_port}", "slow": slow.base, "busy": busy.base}
    write_seeds(work / "seeds", {name: f"{base}/feed.xml" for name, base in sites.items()})
    controller, smtp_port, messages = smtp_catcher()
    os.environ.update(
        {
            "NEWSMON_ES_URL": args.es_url,
            "NEWSMON_SMTP_PORT": str(smtp_port),
            "NEWSMON_INDEX_PREFIX": prefix,
            "NEWSMON_SEEDS_DIR": str(work / "seeds"),
            "NEWSMON_ALLOW_PRIVATE": "127.0.0.0/8",
            "NEWSMON_HOST_DELAY_S": "1",
            "NEWSMON_STATE_DIR": str(work / "var"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        }
    )
    home = work / "airflow"
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        os.environ.pop(var, None)  # `airflow up` stores the connections, built from these settings
    state = None
    try:
        state = start_airflow(REPO, home=home, port=free_port(), settings=load_settings(), smtp_sink=False, timeout=180)
        deadline = time.time() + args.minutes * 60
        while time.time() < deadline:
            time.sleep(30)
            print(f"{(args.minutes * 60 - (deadline - time.time())) / 60:5.1f} min: {len(messages)} emails", flush=True)
    finally:
        if state is not None:
            stop_airflow(home=home, grace=30)
    result = report(args.es_url, prefix, sites, messages, home)
    result["prefix"], result["minutes"] = prefix, args.minutes
    controller.stop()
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if not result["alerts"]["hits_mailed_more_than_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
