"""Shared fixtures: the real local Elasticsearch, a real SMTP server, and a local HTTP server for feeds and pages.

Elasticsearch is started through infra/elasticsearch.sh when it is not already running, so
`pytest` alone is enough on a machine where the project is set up.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ES_SCRIPT = REPO / "infra" / "elasticsearch.sh"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared fixtures are not beside this clone (../shared)")
    return path


# ------------------------------------------------------------------ Elasticsearch


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _ensure_es(name: str, port: int, secure: bool) -> None:
    if _port_open(port):
        return
    args = ["bash", str(ES_SCRIPT), "start", "--name", name, "--port", str(port)] + (["--secure"] if secure else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"could not start Elasticsearch '{name}' on port {port}:\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def es_url() -> str:
    port = int(os.environ.get("NEWSMON_TEST_ES_PORT", "9200"))
    _ensure_es("local", port, secure=False)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def secure_es() -> tuple[str, str]:
    """(url, password) of a security-enabled node."""
    port = int(os.environ.get("NEWSMON_TEST_SECURE_ES_PORT", "9201"))
    _ensure_es("secure", port, secure=True)
    pw = subprocess.run(
        ["bash", str(ES_SCRIPT), "password", "--name", "secure"], capture_output=True, text=True, check=True
    )
    return f"http://127.0.0.1:{port}", pw.stdout.strip()


@pytest.fixture(scope="session")
def english_es_url() -> str:
    """A node with the `english` analyzer (the full distribution's search path), on a copy of the minimal
    distribution with a stand-in plugin: infra/es-english.sh. Started when not running, like the others."""
    from elasticsearch import Elasticsearch

    port = int(os.environ.get("NEWSMON_TEST_ENGLISH_ES_PORT", "9202"))
    if not _port_open(port):
        proc = subprocess.run(
            ["bash", str(REPO / "infra" / "es-english.sh"), "start", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            pytest.fail(f"could not start the english-analyzer node on port {port}:\n{proc.stdout}\n{proc.stderr}")
    url = f"http://127.0.0.1:{port}"
    es = Elasticsearch(url)
    try:
        tokens = es.indices.analyze(analyzer="english", text="deported")["tokens"]
    finally:
        es.close()
    assert [t["token"] for t in tokens] == ["deport"], f"the node on {url} has no working english analyzer"
    return url


@pytest.fixture
def index_prefix(es_url):
    """A fresh index prefix per test; its indices are deleted afterwards."""
    from elasticsearch import Elasticsearch

    prefix = f"t-{uuid.uuid4().hex[:10]}"
    yield prefix
    es = Elasticsearch(es_url)
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    es.close()


# ------------------------------------------------------------------ SMTP


@dataclass
class SmtpCatcher:
    host: str
    port: int
    messages: list = field(default_factory=list)
    envelopes: list = field(default_factory=list)  # the recipients of each message, as the server was told

    def wait_for(self, n: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    catcher = SmtpCatcher("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = message_from_bytes(envelope.content, policy=policy.default)
            catcher.envelopes.append(list(envelope.rcpt_tos))
            catcher.messages.append(msg)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    catcher.port = port
    yield catcher
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ HTTP


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    etag: bool = True
    gzip: bool = False
    delay_s: float = 0.0  # before the first byte
    trickle: bool = False  # send forever, slowly (an endless response)
    endless: bool = False  # send forever, fast


class LocalSite:
    """Serves registered routes from 127.0.0.1 and logs every request."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests.append((self.path, dict(self.headers)))
                route = site.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                tag = '"' + hashlib.md5(route.body).hexdigest() + '"'
                if route.etag and self.headers.get("If-None-Match") == tag:
                    self.send_response(304)
                    self.send_header("ETag", tag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", tag)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.trickle or route.endless:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        self.wfile.write(route.body)
                        for _ in range(100000):
                            self.wfile.write(b"<p>" + b"x" * (64 if route.trickle else 65536) + b"</p>\n")
                            self.wfile.flush()
                            if route.trickle:
                                time.sleep(0.05)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                body = gzip.compress(route.body) if route.gzip else route.body
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that hang up on purpose (size caps, timeouts) are expected here

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **kw) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **kw)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers={"Location": location}, etag=False)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p.split("?")[0] == path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = LocalSite()
    yield s
    s.close()


def rss(items: list[tuple[str, str]], title: str = "Test feed") -> str:
    """A small RSS 2.0 document; items are (title, link)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Mon, 30 Dec 2024 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, (t, link) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title><link>http://example.test/</link><description>t</description>{entries}</channel></rss>'


@pytest.fixture
def make_settings(tmp_path):
    """Settings for a test: local addresses allowed, no politeness delay, a small page cap."""
    from pipeline.config import load_settings

    def make(**kw):
        defaults = dict(
            allow_private=["127.0.0.1"],
            host_delay_s=0.0,
            http_timeout_s=3.0,
            http_total_timeout_s=5.0,
            state_dir=tmp_path / "var",
        )
        defaults.update(kw)
        return load_settings(**defaults)

    return make


# ------------------------------------------------------------------ the cluster tests


def pytest_collection_modifyitems(config, items):
    """Tests marked `cluster` start three Elasticsearch nodes and a Celery deployment (minutes): they run
    only when asked for, with `-m cluster` (or a -m expression naming it) or NEWSMON_TEST_CLUSTER=1."""
    if "cluster" in (config.getoption("-m") or "") or os.environ.get("NEWSMON_TEST_CLUSTER") == "1":
        return
    skip = pytest.mark.skip(reason="cluster test: run with -m cluster or NEWSMON_TEST_CLUSTER=1")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(skip)
