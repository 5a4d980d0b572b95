"""Alert latency under the real Airflow scheduler: new feed item -> alert email in the inbox.

Starts Airflow (its four components via pipeline.ops.airflow_local, the same as `newsmon airflow up`)
with a 1-minute poll schedule over a local feed server, a local SMTP server and the local
Elasticsearch, with the default politeness (1 s between two requests to a site, robots.txt read).
Then, N times: waits a random 0-60 s, so that each item lands at a random phase of the poll cycle
(a fresh random seed per run, recorded in the results; --seed replays one), adds one new item to
the feed, and measures the time until the email for it arrives. Each sample is split at the tick of
the poll run that actually fetched the item (found by the item's discovered_at time in the index):
the wait for that tick, and the pipeline after it (tick -> email).

    .venv/bin/python bench/alert_latency.py --samples 20
    -> bench/results/alert_latency-<date>.json (never over an earlier file; --out to choose)

Goal: p95 <= 65 s with a 1-minute poll. Needs Elasticsearch at NEWSMON_ES_URL (default
http://127.0.0.1:9200). Everything listens on 127.0.0.1 only, and everything started here is
stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = (
    "harbor council budget ferry library river bridge market school teacher nurse farmer storm "
    "coast rail station museum garden festival league stadium season mayor county district court "
    "judge jury permit zoning housing rent tenant landlord water sewer power grid solar wind "
    "battery factory warehouse port crane cargo truck driver union contract wage pension tax levy "
    "bond vote ballot precinct turnout survey poll analyst economist forecast rainfall drought "
    "wildfire smoke air quality clinic hospital vaccine doctor patient insurance premium claim "
    "startup founder investor venture capital loan bank credit card fraud police officer patrol "
    "arrest charge trial verdict appeal ruling statute ordinance hearing testimony witness record "
    "archive history heritage landmark tourism hotel restaurant chef menu recipe harvest orchard "
    "vineyard fishery salmon trout quota license inspector audit report review committee panel"
).split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def paragraph(rng: random.Random, n: int = 45) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


class FeedSite:
    """A feed whose items are added while the benchmark runs, and their article pages."""

    def __init__(self):
        self.items: list[dict] = []
        self.pages: dict[str, bytes] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/robots.txt":
                    body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
                elif path == "/feed.xml":
                    body, ctype = site.feed(), "application/rss+xml"
                elif path in site.pages:
                    body, ctype = site.pages[path], "text/html; charset=utf-8"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def feed(self) -> bytes:
        with self.lock:
            entries = "".join(
                f"<item><title>{i['title']}</title><link>{i['url']}</link><guid>{i['url']}</guid>"
                f"<pubDate>{i['pub']}</pubDate></item>"
                for i in reversed(self.items)
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Latency bench</title>'
            f"<link>{self.base}/</link><description>bench</description>{entries}</channel></rss>"
        ).encode()

    def add_article(self, probe: str, rng: random.Random) -> str:
        path = f"/news/{probe}.html"
        url = self.base + path
        title = f"Latency probe {probe}: {' '.join(rng.choice(WORDS) for _ in range(5))}"
        paras = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(5))
        now = datetime.now(UTC)
        html = (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="canonical" href="{url}"><meta property="article:published_time" content="{now.isoformat()}">'
            f'</head><body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{paras}</article>'
            "<footer>All rights reserved.</footer></body></html>"
        )
        with self.lock:
            self.pages[path] = html.encode()
            self.items.append({"title": title, "url": url, "pub": now.strftime("%a, %d %b %Y %H:%M:%S GMT")})
        return url

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[float, str]] = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = message_from_bytes(envelope.content, policy=policy.default)
                inbox.messages.append((time.time(), msg.as_string()))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for(self, needle: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, text in list(self.messages):
                if needle in text:
                    return t
            time.sleep(0.2)
        return None

    def close(self):
        self.controller.stop()


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace(" ", "T"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def dag_runs(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute(
            "select dag_id, run_type, state, run_after, queued_at, start_date, end_date from dag_run order by id"
        ).fetchall()
    finally:
        con.close()
    keys = ("dag_id", "run_type", "state", "run_after", "queued_at", "start_date", "end_date")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def fetching_poll(runs: list[dict], discovered: float) -> dict | None:
    """The poll run that stored the item: the last one that started before its discovered_at time."""
    polls = [r for r in runs if r["dag_id"] == "newsmon_poll" and (_ts(r["start_date"]) or 1e18) <= discovered]
    return max(polls, key=lambda r: _ts(r["start_date"]) or 0.0) if polls else None


def discovered_at(es, prefix: str, url: str) -> float | None:
    """When the poller stored the item (the items index keeps it)."""
    hits = es.search(index=f"{prefix}-items", query={"term": {"url": url}}, size=1)["hits"]["hits"]
    return _ts(hits[0]["_source"].get("discovered_at")) if hits else None


def free_name(path: Path) -> Path:
    """path, or path-2, path-3 ... so that a committed result is never overwritten."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=240, help="per sample, seconds")
    ap.add_argument("--seed", type=int, help="replay the arrival phases of an earlier run (default: a new seed)")
    ap.add_argument("--out", type=Path, help="results file (default bench/results/alert_latency-<date>.json)")
    ap.add_argument("--keep-home", action="store_true", help="keep the Airflow home (logs) afterwards")
    args = ap.parse_args()

    from elasticsearch import Elasticsearch

    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import start_airflow, stop_airflow

    es_url = os.environ.get("NEWSMON_ES_URL", "http://127.0.0.1:9200")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    out = args.out or free_name(REPO / "bench" / "results" / f"alert_latency-{datetime.now(UTC):%Y-%m-%d}.json")
    work = Path(tempfile.mkdtemp(prefix="newsmon-latency-"))
    prefix = f"bench-lat-{uuid.uuid4().hex[:8]}"
    site, inbox = FeedSite(), Inbox()

    seeds = work / "seeds"
    seeds.mkdir()
    shutil.copy(REPO / "seeds" / "figures.yaml", seeds / "figures.yaml")
    shutil.copy(REPO / "seeds" / "topics.yaml", seeds / "topics.yaml")
    import yaml

    (seeds / "feeds.yaml").write_text(
        yaml.safe_dump(
            {
                "poll_schedule_minutes": 1,
                "feeds": [
                    {
                        "id": "latency-bench",
                        "name": "Latency bench",
                        "url": site.base + "/feed.xml",
                        "outlet": "Bench Gazette",
                        "poll_interval_minutes": 1,
                    }
                ],
            }
        )
    )
    (seeds / "alerts.yaml").write_text(
        yaml.safe_dump(
            {
                "alerts": [
                    {
                        "name": "latency-probe",
                        "kind": "keyword",
                        "keywords": ["latency probe"],
                        "recipients": ["bench@newsroom.example"],
                        "schedule": "immediate",
                    }
                ],
            }
        )
    )
    # `up` stores the newsmon_es / newsmon_smtp connections in the metastore from these settings.
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        os.environ.pop(var, None)
    os.environ.update(
        {
            "NEWSMON_SMTP_HOST": "127.0.0.1",
            "NEWSMON_SMTP_PORT": str(inbox.port),
            "NEWSMON_ES_URL": es_url,
            "NEWSMON_INDEX_PREFIX": prefix,
            "NEWSMON_SEEDS_DIR": str(seeds),
            "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
            "NEWSMON_STATE_DIR": str(work / "var"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        }
    )
    home = work / "airflow"
    samples: list[dict] = []
    state = None
    t_start = time.time()
    try:
        state = start_airflow(REPO, home=home, port=free_port(), settings=load_settings(), smtp_sink=False, timeout=180)
        # Warm-up: let the first poll run (of an empty feed) finish.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(r["dag_id"] == "newsmon_poll" and r["state"] == "success" for r in dag_runs(home / "airflow.db")):
                break
            time.sleep(1)
        es_probe = Elasticsearch(es_url)
        for i in range(args.samples):
            time.sleep(rng.uniform(0, 60))
            probe = f"p{i:02d}x{uuid.uuid4().hex[:8]}"
            t0 = time.time()
            url = site.add_article(probe, rng)
            t_mail = inbox.wait_for(probe, args.timeout)
            sample = {"probe": probe, "added_at": t0, "latency_s": None if t_mail is None else round(t_mail - t0, 2)}
            found = discovered_at(es_probe, prefix, url) if t_mail is not None else None
            poll = fetching_poll(dag_runs(home / "airflow.db"), found) if found is not None else None
            if poll is not None and t_mail is not None:
                tick = _ts(poll["run_after"]) or _ts(poll["start_date"])
                start = max(tick, t0)  # a late run whose tick came before the item still fetched it
                sample["tick_at"] = tick
                sample["poll_started_at"] = _ts(poll["start_date"])
                sample["discovered_at"] = found
                sample["wait_for_tick_s"] = round(start - t0, 2)
                sample["pipeline_after_tick_s"] = round(t_mail - start, 2)
            samples.append(sample)
            print(f"sample {i + 1}/{args.samples}: {sample}", flush=True)
        es_probe.close()
        runs = dag_runs(home / "airflow.db")
    finally:
        if state is not None:
            stop_airflow(home=home, grace=30)
        inbox.close()
        site.close()
        es = Elasticsearch(es_url)
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.close()
        if args.keep_home:
            print(f"Airflow home kept: {home}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    lat = [s["latency_s"] for s in samples if s["latency_s"] is not None]
    pipe = [s["pipeline_after_tick_s"] for s in samples if s.get("pipeline_after_tick_s") is not None]
    wait = [s["wait_for_tick_s"] for s in samples if s.get("wait_for_tick_s") is not None]
    missed = sum(1 for s in samples if s["latency_s"] is None)
    summary = {
        "what": "seconds from a new item appearing in a local feed to its alert email arriving",
        "setup": {
            "poll_schedule": "every 1 minute (cron * * * * *)",
            "airflow": "airflow 3.3.2 scheduler, dag-processor, triggerer, api-server (newsmon airflow up), LocalExecutor, SQLite, parallelism 4",
            "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}",
            "arrivals": "one item at a time, after a random 0-60 s pause (uniform phase vs. the poll tick)",
            "politeness": "on: 1 s between two requests to a site, robots.txt read (the defaults)",
            "airflow_healthy_after_s": state.get("ready_after_s") if state else None,
        },
        "samples": len(samples),
        "seed": seed,
        "missed": missed,
        "latency_s": {
            "p50": percentile(lat, 50) if lat else None,
            "p95": percentile(lat, 95) if lat else None,
            "max": max(lat) if lat else None,
            "mean": round(sum(lat) / len(lat), 2) if lat else None,
        },
        # tick of the poll run that fetched the item -> email: the part Airflow and newsmon spend
        "pipeline_after_tick_s": {
            "p50": percentile(pipe, 50) if pipe else None,
            "p95": percentile(pipe, 95) if pipe else None,
            "max": max(pipe) if pipe else None,
        },
        "wait_for_tick_s": {
            "p50": percentile(wait, 50) if wait else None,
            "p95": percentile(wait, 95) if wait else None,
            "max": max(wait) if wait else None,
        },
        "goal_p95_s": 65,
        "meets_goal": bool(lat) and missed == 0 and percentile(lat, 95) <= 65,
        "dag_runs": {d: sum(1 for r in runs if r["dag_id"] == d) for d in sorted({r["dag_id"] for r in runs})},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(time.time() - t_start, 1),
        "raw": samples,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    keys = ("samples", "seed", "missed", "latency_s", "pipeline_after_tick_s", "wait_for_tick_s", "meets_goal")
    print(json.dumps({k: summary[k] for k in keys}, indent=2))
    print(f"written to {out}")
    return 0 if summary["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
