"""Soak test: N minutes unattended under the real Airflow scheduler, with sites that misbehave.

    .venv/bin/python bench/soak.py --minutes 30
    -> bench/results/soak-<date>.json and soak-<date>.md (never over earlier results; --out DIR)

What it starts, all on loopback and all stopped at the end:
- four local sites, each on its own address (so per-host politeness and backoff see four hosts),
  whose feeds gain a new article every `--every` seconds (120) until the last `--drain` minutes:
  * good  127.0.0.31  answers at once; it also serves `wire.xml`, a feed whose links point at `down`,
                      and `members.xml`, whose links robots.txt disallows
  * down  127.0.0.32  nothing listens: connection refused (its own feed and every wire article)
  * slow  127.0.0.33  the first request for each article stalls longer than the per-read timeout
                      (NEWSMON_HTTP_TIMEOUT_S=4, the stall is 7 s); later ones trickle the page in
                      chunks 1.5 s apart (slow but within the timeout); its feed trickles too
  * busy  127.0.0.34  articles answer 503 with `Retry-After: 420` for the first `--busy` minutes (6),
                      then normally; the feed and robots.txt always answer
- an aiosmtpd server that keeps every message;
- Airflow's scheduler, DAG processor, triggerer and API server, started by the same code as
  `newsmon airflow up` (pipeline.ops.airflow_local.start_airflow) with a throw-away AIRFLOW_HOME,
  the connections stored in the metastore, a 1-minute poll schedule (seeds `poll_schedule_minutes: 1`);
- a fresh index prefix on the Elasticsearch at NEWSMON_ES_URL (default http://127.0.0.1:9200),
  deleted at the end (--keep-index keeps it).

Defaults otherwise (1 s between two requests to a host, robots.txt obeyed, a 24 h retry window).
The good host's robots.txt disallows /private/, and its `members.xml` feed links there: those items
fail for good at once (the "failed" column). The dead host's robots.txt is unreachable, so RFC 9309
means "disallow" for 30 min: its items wait (pending, next_attempt_at) rather than fail. The busy
site's Retry-After (7 min) is longer than the first backoff (5 min), so its items show it honoured.

At the end it stops Airflow (`newsmon airflow down`'s code), checks that no process and no port of it
is left, and counts: items by site and status (processed, pending with next_attempt_at, failed with
the reason; retried = items that failed at least once), articles and statements (and duplicates),
alert hits in the index against the emails received (each hit mailed exactly once: every sent hit's
email_id is a received Message-ID, no article in two emails of one rule, no hit left pending), and
the Airflow task-log lines that named each failure. Exit code 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alert_latency import free_name  # noqa: E402 - results never overwrite an earlier run

HOSTS = {"good": "127.0.0.31", "down": "127.0.0.32", "slow": "127.0.0.33", "busy": "127.0.0.34"}
READ_TIMEOUT_S = 4.0  # NEWSMON_HTTP_TIMEOUT_S for the run
STALL_S = 7.0  # the slow site's first answer per article: longer than the read timeout
TRICKLE_GAP_S = 1.5  # the slow site's later answers: chunks this far apart (below the read timeout)
RETRY_AFTER_S = 420

WORDS = (
    "council budget river harbor school teacher museum festival bridge railway farmer market weather storm "
    "hospital nurse court judge mayor senator election ballot library theater orchestra airport runway "
    "factory worker union strike tourism hotel restaurant chef garden park stadium league coach season "
    "police officer firefighter volunteer charity donation research university student scholarship "
    "energy solar wind pipeline harvest drought flood insurance housing rent mortgage bank interest"
).split()
SPEAKERS = ("Stephen Miller", "Tom Homan", "JD Vance")
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}"><meta property="article:published_time" content="{when}"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p>The administration on {day} outlined changes to the H-1B visa program for skilled foreign workers,
a move employers in {place} said would reshape hiring for the {season} season.</p>
<p>"{quote}," {speaker} said at a briefing on Thursday about the H-1B rules.</p>
{paras}</article><footer>All rights reserved.</footer></body></html>"""


def free_port(addr: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


class Site:
    """A feed (or two) and its articles on <addr>:<port>. Article n appears at start + (n-1)*every_s,
    until `stop_at`. `mode`: good, slow (stall then trickle) or busy (503 + Retry-After until busy_until)."""

    def __init__(self, name: str, addr: str, mode: str, every_s: float, stop_at: float, busy_until: float = 0.0):
        self.name, self.mode, self.every_s, self.stop_at, self.busy_until = name, mode, every_s, stop_at, busy_until
        self.start = time.time()
        self.wire_base = ""  # good: the dead host the wire feed links to
        self.log: list[tuple[float, str, str]] = []  # (time, path, outcome)
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with site.lock:
                    site.seen[path] += 1
                    nth = site.seen[path]
                outcome = "200"
                try:
                    if path == "/robots.txt":
                        self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
                    elif path == "/feed.xml":
                        body = site.feed(site.base, site.published()).encode()
                        if site.mode == "slow":
                            outcome = "200 trickled"
                            self._trickle(body, "application/rss+xml")
                        else:
                            self._send(200, body, "application/rss+xml")
                    elif path == "/wire.xml" and site.wire_base:
                        self._send(
                            200, site.feed(site.wire_base, site.published(), every=2).encode(), "application/rss+xml"
                        )
                    elif path == "/members.xml" and site.wire_base:
                        body = site.feed(site.base, site.published(), every=3, folder="private").encode()
                        self._send(200, body, "application/rss+xml")
                    elif m := re.fullmatch(r"/(?:a|private)/(\d+)\.html", path):
                        body = site.article(site.base, int(m.group(1))).encode()
                        if site.mode == "busy" and time.time() < site.busy_until:
                            outcome = "503"
                            self._send(503, b"busy, come back later", "text/plain", {"Retry-After": str(RETRY_AFTER_S)})
                        elif site.mode == "slow" and nth == 1:
                            outcome = f"stalled {STALL_S:g} s"
                            time.sleep(STALL_S)
                            self._send(200, body, "text/html; charset=utf-8")
                        elif site.mode == "slow":
                            outcome = "200 trickled"
                            self._trickle(body, "text/html; charset=utf-8")
                        else:
                            self._send(200, body, "text/html; charset=utf-8")
                    else:
                        outcome = "404"
                        self._send(404, b"", "text/plain")
                except (BrokenPipeError, ConnectionResetError):
                    outcome += " (client hung up)"
                with site.lock:
                    site.log.append((time.time(), path, outcome))

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, body: bytes, ctype: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = len(body) // 4 + 1
                for i in range(0, len(body), step):
                    self.wfile.write(body[i : i + step])
                    self.wfile.flush()
                    time.sleep(TRICKLE_GAP_S)

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that give up on the slow site are expected

        self.server = QuietServer((addr, 0), Handler)
        self.base = f"http://{addr}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def published(self) -> int:
        return 1 + int((min(time.time(), self.stop_at) - self.start) // self.every_s)

    def article(self, base: str, n: int) -> str:
        rnd = random.Random(f"{base}-{n}")  # every article different: no near-duplicates to fold together
        paras = "".join(
            "<p>" + " ".join(rnd.choice(WORDS) for _ in range(45)).capitalize() + ".</p>\n" for _ in range(4)
        )
        quote = "We will " + " ".join(rnd.choice(WORDS) for _ in range(9)) + " before the visa rules change"
        return PAGE.format(
            title=f"{self.name.title()} report {n} from {base.split('//')[1]}: new H-1B wage rules",
            url=f"{base}/a/{n}.html",
            when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            day=time.strftime("%A", time.gmtime()),
            place=rnd.choice(WORDS),
            season=rnd.choice(WORDS),
            quote=quote,
            speaker=SPEAKERS[n % len(SPEAKERS)],
            paras=paras,
        )

    def feed(self, base: str, count: int, every: int = 1, folder: str = "a") -> str:
        items = "".join(
            f"<item><title>{self.name} {n}</title><link>{base}/{folder}/{n}.html</link>"
            f"<guid>{base}/{folder}/{n}.html</guid></item>"
            for n in range(1, count + 1, every)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{self.name}</title><link>{base}/</link>'
            f"<description>soak</description>{items}</channel></rss>"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """An aiosmtpd server keeping every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                inbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def write_seeds(dest: Path, feeds: dict[str, str]) -> None:
    import yaml

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("figures.yaml", "topics.yaml"):
        shutil.copy(REPO / "seeds" / name, dest / name)
    feed_list = [
        {"id": fid, "name": fid, "url": url, "outlet": fid.title(), "poll_interval_minutes": 1}
        for fid, url in feeds.items()
    ]
    (dest / "feeds.yaml").write_text(yaml.safe_dump({"poll_schedule_minutes": 1, "feeds": feed_list}))
    rules = [
        {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["desk@news.example"]},
        {"name": "figures", "kind": "statement", "figures": ["*"], "recipients": ["politics@news.example"]},
    ]
    (dest / "alerts.yaml").write_text(yaml.safe_dump({"alerts": rules}))


# ------------------------------------------------------------------ counting


def _all(es: Any, index: str, query: dict | None = None) -> list[dict]:
    from elasticsearch.helpers import scan

    if not es.indices.exists(index=index):
        return []
    return [
        h["_source"] | {"_id": h["_id"]} for h in scan(es, index=index, query={"query": query or {"match_all": {}}})
    ]


def count_items(es: Any, prefix: str) -> dict:
    """Items by feed (wire: articles on the dead host; members: pages robots.txt disallows)."""
    by_site: dict[str, dict] = {}
    for it in _all(es, f"{prefix}-items"):
        site = it.get("feed_id") or "?"
        s = by_site.setdefault(
            site, {"items": 0, "status": Counter(), "retried": 0, "recovered": 0, "pending": [], "failed": []}
        )
        s["items"] += 1
        s["status"][it["status"]] += 1
        failed_once = bool(it.get("first_failed_at")) or int(it.get("attempts") or 0) > 0
        s["retried"] += failed_once
        s["recovered"] += failed_once and it["status"] == "processed"
        if it["status"] == "pending":
            s["pending"].append(
                {
                    "url": it["url"],
                    "attempts": it.get("attempts"),
                    "next_attempt_at": it.get("next_attempt_at"),
                    "error": it.get("error"),
                }
            )
        elif it["status"] == "failed":
            s["failed"].append({"url": it["url"], "attempts": it.get("attempts"), "reason": it.get("error")})
    for s in by_site.values():
        s["status"] = dict(s["status"])
    return by_site


def count_content(es: Any, prefix: str) -> dict:
    arts = _all(es, f"{prefix}-articles")
    stmts = _all(es, f"{prefix}-statements")
    urls = Counter(a.get("canonical_url") or a.get("url") for a in arts)
    texts = Counter((s.get("article_id"), s.get("speaker_id") or s.get("speaker"), s.get("text")) for s in stmts)
    return {
        "articles": len(arts),
        "articles_duplicate_urls": sorted(u for u, n in urls.items() if n > 1),
        "statements": len(stmts),
        "statements_duplicated": sum(n - 1 for n in texts.values() if n > 1),
        "statements_by_speaker": dict(Counter(s.get("speaker") or s.get("speaker_id") for s in stmts)),
    }


def count_alerts(es: Any, prefix: str, messages: list[Any]) -> dict:
    hits = _all(es, f"{prefix}-alerts")
    received: dict[str, dict] = {}
    for m in messages:
        body = m.get_body(preferencelist=("plain",)).get_content()
        received[str(m["Message-ID"]).strip()] = {
            "rule": str(m["X-Newsmon-Rule"]),
            "urls": re.findall(r"^   (http://\S+?)\r?$", body, flags=re.M),
        }
    by_email: dict[str, list[dict]] = defaultdict(list)
    for h in hits:
        if h.get("email_id"):
            by_email[h["email_id"]].append(h)
    mailed_twice: list[str] = []
    per_rule_urls: dict[str, Counter[str]] = defaultdict(Counter)
    for e in received.values():
        per_rule_urls[e["rule"]].update(set(e["urls"]))
    for rule, c in per_rule_urls.items():
        mailed_twice += [f"{rule}: {u}" for u, n in c.items() if n > 1]
    sent = [h for h in hits if h.get("status") == "sent"]
    sent_not_received = [h["_id"] for h in sent if h.get("email_id") not in received]
    received_unrecorded = [mid for mid in received if mid not in by_email]
    # every URL an email lists belongs to a hit recorded as sent in that very email
    mismatched = [
        mid for mid, e in received.items() if mid in by_email and set(e["urls"]) - {h.get("url") for h in by_email[mid]}
    ]
    return {
        "hits": len(hits),
        "hits_by_rule": dict(Counter(h.get("rule") for h in hits)),
        "hits_by_status": dict(Counter(h.get("status") for h in hits)),
        "emails": len(messages),
        "emails_by_rule": dict(Counter(e["rule"] for e in received.values())),
        "hits_in_emails": sum(len(v) for k, v in by_email.items() if k in received),
        "hits_mailed_more_than_once": sorted(mailed_twice),
        "sent_hits_without_received_email": sent_not_received,
        "emails_without_hits_in_index": received_unrecorded,
        "emails_listing_other_hits": mismatched,
        "pending_hits": [h["_id"] for h in hits if h.get("status") == "pending"],
    }


def _readable(raw: str) -> str:
    """A task-log record (Airflow writes JSON lines) as `time level logger: message`."""
    try:
        rec = json.loads(raw)
    except ValueError:
        return raw.strip()
    if not isinstance(rec, dict):
        return raw.strip()
    return f"{rec.get('timestamp', '')} {rec.get('level', '')} {rec.get('logger', '')}: {rec.get('event', '')}"


def log_lines(home: Path, sites: dict[str, str]) -> dict[str, list[str]]:
    """The task-log lines that named each failure: the dead host, the stalled reads, the 503s."""
    patterns = {
        "down": (re.escape(sites["down"].split("//")[1]), r"refused|failed|not fetched"),
        "slow": (re.escape(sites["slow"].split("//")[1]), r"time ?out|timed out|Timeout"),
        "busy": (re.escape(sites["busy"].split("//")[1].split(":")[0]), r"503|Retry-After|asked us to wait"),
    }
    found: dict[str, list[str]] = {k: [] for k in patterns}
    counts: Counter[str] = Counter()
    for path in sorted((home / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime):
        if "dag_id=" not in str(path):
            continue
        for raw in path.read_text(errors="replace").splitlines():
            line = _readable(raw)
            for name, (host, what) in patterns.items():
                if re.search(host, line) and re.search(what, line):
                    counts[name] += 1
                    if len(found[name]) < 4:
                        task = "/".join(
                            p for p in path.relative_to(home / "logs").parts if p.startswith(("dag_id", "task_id"))
                        )
                        found[name].append(f"[{task}] {line[:500]}")
    return {"counts": dict(counts), **found}


def leftovers(state: dict, home: Path) -> dict:
    """Processes of this Airflow still alive after `down` (by tag or home in the command line), and its ports."""
    import psutil

    alive = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            env = proc.environ()
            cmd = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if env.get("NEWSMON_AIRFLOW_TAG") == state.get("tag") or str(home) in cmd:
            alive.append({"pid": proc.info["pid"], "cmd": cmd[:200]})
    ports = [int(state["port"])]
    busy_ports = []
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy_ports.append(port)
    return {"processes": alive, "ports_in_use": busy_ports}


# ------------------------------------------------------------------ report


def markdown(r: dict) -> str:
    lines = [
        f"# Soak run {r['started_at']}: {r['minutes']:g} minutes unattended under the Airflow scheduler",
        "",
        f"Command: `{r['command']}`  ",
        f"Machine: {r['setup']['machine']}. Index prefix `{r['prefix']}`. Checks passed: **{r['ok']}**.",
        "",
        "Sites: " + "; ".join(f"`{k}` {v}" for k, v in r["setup"]["sites"].items()) + ".",
        "",
        "## Items (work queue) by feed",
        "",
        "`wire` (on the good host) links to articles on the dead host; `members` (on the good host) links to "
        "pages its robots.txt disallows; the `down` feed itself is on the dead host.",
        "",
        "| feed | items | processed | pending | failed | retried (failed at least once) | retried, then processed |",
        "|---|---|---|---|---|---|---|",
    ]
    for site, s in sorted(r["items"].items()):
        st = s["status"]
        lines.append(
            f"| {site} | {s['items']} | {st.get('processed', 0)} | {st.get('pending', 0)} | {st.get('failed', 0)} "
            f"| {s['retried']} | {s['recovered']} |"
        )
    for site, s in sorted(r["items"].items()):
        for it in s["pending"][:3]:
            lines.append(
                f"- {site} pending: {it['url']} attempts {it['attempts']}, next attempt {it['next_attempt_at']}: {it['error']}"
            )
        for it in s["failed"][:3]:
            lines.append(f"- {site} failed: {it['url']} attempts {it['attempts']}: {it['reason']}")
    c, a = r["content"], r["alerts"]
    lines += [
        "",
        "## Articles, statements, alerts",
        "",
        f"- articles {c['articles']}, duplicate URLs {len(c['articles_duplicate_urls'])}; statements {c['statements']}, "
        f"duplicated {c['statements_duplicated']}",
        f"- alert hits in the index {a['hits']} ({a['hits_by_rule']}), by status {a['hits_by_status']}",
        f"- emails received {a['emails']} ({a['emails_by_rule']}), carrying {a['hits_in_emails']} hits",
        f"- hits mailed more than once: {len(a['hits_mailed_more_than_once'])}; sent hits whose email never arrived: "
        f"{len(a['sent_hits_without_received_email'])}; emails with no hit recorded: {len(a['emails_without_hits_in_index'])}; "
        f"emails listing other hits: {len(a['emails_listing_other_hits'])}; hits still pending: {len(a['pending_hits'])}",
        "",
        "## Requests the sites saw",
        "",
    ]
    for site, outcomes in r["requests"].items():
        lines.append(f"- {site}: {outcomes}")
    lines += ["", "## Task-log lines that named each failure", ""]
    lg = r["log_lines"]
    for name in ("down", "slow", "busy"):
        lines.append(f"**{name}** ({lg['counts'].get(name, 0)} lines):")
        lines.append("")
        lines += ["```", *lg[name][:3], "```", ""] if lg[name] else ["(none found)", ""]
    lines += [
        "## Airflow",
        "",
        f"- DAG runs: {r['dag_runs']}",
        f"- task instances by state: {r['task_states']}",
        f"- after `down`: processes left {len(r['leftovers']['processes'])}, ports in use {r['leftovers']['ports_in_use']}",
        "",
        "## Checks",
        "",
        *[f"- {k}: {'ok' if v else 'FAILED'}" for k, v in r["checks"].items()],
        "",
    ]
    return "\n".join(lines)


def airflow_db_counts(db: Path) -> tuple[dict, dict]:
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        runs = con.execute("select dag_id, state, count(*) from dag_run group by dag_id, state").fetchall()
        tis = con.execute("select task_id, state, count(*) from task_instance group by task_id, state").fetchall()
    finally:
        con.close()
    dag_runs: dict[str, dict] = defaultdict(dict)
    for dag, state, n in runs:
        dag_runs[dag][state] = n
    task_states: dict[str, dict] = defaultdict(dict)
    for task, state, n in tis:
        task_states[task][str(state)] = n
    return dict(dag_runs), dict(task_states)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long Airflow runs unattended")
    ap.add_argument("--every", type=float, default=120.0, help="seconds between two new articles of a site")
    ap.add_argument("--busy", type=float, default=6.0, help="minutes the busy site answers 503 + Retry-After")
    ap.add_argument("--drain", type=float, default=3.0, help="no new articles in the last N minutes")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for the JSON and Markdown")
    ap.add_argument("--keep-home", action="store_true", help="keep the Airflow home (logs) afterwards")
    ap.add_argument("--keep-index", action="store_true", help="keep the index prefix afterwards")
    args = ap.parse_args()

    from elasticsearch import Elasticsearch

    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import start_airflow, stop_airflow

    es_url = os.environ.get("NEWSMON_ES_URL", "http://127.0.0.1:9200")
    started = datetime.now(UTC)
    stem = f"soak-{started:%Y-%m-%d}"
    out_json = free_name(args.out / f"{stem}.json")
    out_md = out_json.with_suffix(".md")
    prefix = f"soak-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    home = work / "airflow"
    t0 = time.time()
    stop_at = t0 + max(0.0, args.minutes - args.drain) * 60
    good = Site("good", HOSTS["good"], "good", args.every, stop_at)
    slow = Site("slow", HOSTS["slow"], "slow", args.every, stop_at)
    busy = Site("busy", HOSTS["busy"], "busy", args.every, stop_at, busy_until=t0 + args.busy * 60)
    down_base = f"http://{HOSTS['down']}:{free_port(HOSTS['down'])}"  # nothing will listen there
    good.wire_base = down_base
    sites = {"good": good.base, "down": down_base, "slow": slow.base, "busy": busy.base}
    feeds = {
        "good": f"{good.base}/feed.xml",
        "wire": f"{good.base}/wire.xml",  # on the good host, linking to articles on the dead one
        "members": f"{good.base}/members.xml",  # links under /private/, which robots.txt disallows
        "down": f"{down_base}/feed.xml",
        "slow": f"{slow.base}/feed.xml",
        "busy": f"{busy.base}/feed.xml",
    }
    write_seeds(work / "seeds", feeds)
    inbox = Inbox()
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        os.environ.pop(var, None)  # `up` stores the connections in the metastore
    os.environ.update(
        {
            "NEWSMON_ES_URL": es_url,
            "NEWSMON_SMTP_HOST": "127.0.0.1",
            "NEWSMON_SMTP_PORT": str(inbox.port),
            "NEWSMON_INDEX_PREFIX": prefix,
            "NEWSMON_SEEDS_DIR": str(work / "seeds"),
            "NEWSMON_ALLOW_PRIVATE": "127.0.0.0/8",
            "NEWSMON_HTTP_TIMEOUT_S": str(READ_TIMEOUT_S),
            "NEWSMON_LOG_LEVEL": "info",
            "NEWSMON_STATE_DIR": str(work / "var"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        }
    )
    state: dict | None = None
    stopped = False
    result: dict[str, Any] = {}
    try:
        state = start_airflow(REPO, home=home, port=free_port(), settings=load_settings(), smtp_sink=False, timeout=240)
        deadline = t0 + args.minutes * 60
        while time.time() < deadline:
            time.sleep(min(60.0, max(0.0, deadline - time.time())))
            mins = (time.time() - t0) / 60
            reqs = {n: len(s.log) for n, s in (("good", good), ("slow", slow), ("busy", busy))}
            print(f"{mins:5.1f} min: {len(inbox.messages)} emails, requests {reqs}", flush=True)
        dag_runs, task_states = airflow_db_counts(home / "airflow.db")
        stopped = stop_airflow(home=home, grace=30)
        time.sleep(2)
        result["leftovers"] = leftovers(state, home)
        result["dag_runs"], result["task_states"] = dag_runs, task_states
        es = Elasticsearch(es_url)
        es.indices.refresh(index=f"{prefix}-*")
        result["items"] = count_items(es, prefix)
        result["content"] = count_content(es, prefix)
        result["alerts"] = count_alerts(es, prefix, inbox.messages)
        es.close()
        result["log_lines"] = log_lines(home, sites)
    finally:
        if state is not None and not stopped:
            stop_airflow(home=home, grace=30)
        inbox.close()
        for s in (good, slow, busy):
            s.close()
        if not args.keep_index:
            es = Elasticsearch(es_url)
            es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
            es.close()
        if args.keep_home:
            print(f"Airflow home kept: {home}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    result["requests"] = {
        n: dict(Counter(f"{'article' if p.startswith('/a/') else p} {o}" for _, p, o in s.log))
        for n, s in (("good", good), ("slow", slow), ("busy", busy))
    }
    a, c, items = result["alerts"], result["content"], result["items"]
    lg = result["log_lines"]
    checks = {
        "no duplicate articles": not c["articles_duplicate_urls"],
        "no duplicate statements": c["statements_duplicated"] == 0,
        "every hit mailed exactly once": not a["hits_mailed_more_than_once"]
        and not a["sent_hits_without_received_email"]
        and not a["emails_listing_other_hits"]
        and not a["emails_without_hits_in_index"],
        "no hit left pending": not a["pending_hits"],
        "every good-feed item processed": items.get("good", {}).get("status", {}).get("processed", 0)
        == items.get("good", {}).get("items", -1),
        "task logs name the dead host": bool(lg["down"]),
        "task logs name the slow host's timeouts": bool(lg["slow"]),
        "task logs name the busy host's 503": bool(lg["busy"]),
        "nothing left running after down": not result["leftovers"]["processes"]
        and not result["leftovers"]["ports_in_use"],
    }
    result = {
        "what": "unattended soak run under the Airflow scheduler with a dead, a slow and a 503 site",
        "command": "python bench/soak.py " + " ".join(sys.argv[1:]),
        "started_at": started.isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "wall_time_s": round(time.time() - t0, 1),
        "prefix": prefix,
        "setup": {
            "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}",
            "airflow_ready_after_s": state.get("ready_after_s") if state else None,
            "sites": {
                "good": f"{good.base}, feed.xml and wire.xml (wire links to down), a new article every {args.every:g} s",
                "down": f"{down_base}, connection refused",
                "slow": f"{slow.base}, first answer per article stalls {STALL_S:g} s (read timeout {READ_TIMEOUT_S:g} s), "
                f"later answers trickle in 1.5 s steps",
                "busy": f"{busy.base}, 503 Retry-After: {RETRY_AFTER_S} on articles for the first {args.busy:g} min",
            },
            "settings": {
                "poll_schedule_minutes": 1,
                "NEWSMON_HTTP_TIMEOUT_S": READ_TIMEOUT_S,
                "NEWSMON_ITEM_RETRY_HOURS": "24 (default)",
                "new_articles_until_min": max(0.0, args.minutes - args.drain),
            },
        },
        "checks": checks,
        "ok": all(checks.values()),
        **result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    out_md.write_text(markdown(result))
    print(markdown(result))
    print(f"written to {out_json} and {out_md}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
