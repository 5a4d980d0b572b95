"""Static HTTP server for the newsmon demo site (built from articles.py into var/demo-site), on 127.0.0.1 only.

    python infra/demo/serve.py start [--port 8765]   # in the background; does nothing if already up
    python infra/demo/serve.py stop  [--port 8765]   # does nothing if not running
    python infra/demo/serve.py status [--port 8765]
    python infra/demo/serve.py run   [--port 8765]   # in the foreground (Ctrl-C to stop)

Standard library only. Feeds (.xml) are served as application/rss+xml; every file gets an
ETag and Last-Modified, and conditional GETs (If-None-Match / If-Modified-Since) get 304 Not
Modified, so the poller's caching can be seen working. The background server's pid is kept
in var/demo-server-<port>.pid and its (quiet) log in var/demo-server-<port>.log under the
repository root.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
VAR_DIR = REPO_ROOT / "var"
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def pid_file(port: int) -> Path:
    return VAR_DIR / f"demo-server-{port}.pid"


def log_file(port: int) -> Path:
    return VAR_DIR / f"demo-server-{port}.log"


class DemoHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus ETags, explicit content types and no access log."""

    server_version = "newsmon-demo/1.0"
    sys_version = ""
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".xml": "application/rss+xml",
        ".txt": "text/plain; charset=utf-8",
        ".css": "text/css; charset=utf-8",
    }
    verbose = False

    def version_string(self):
        return self.server_version

    def send_head(self):
        self._etag = None
        path = self.translate_path(self.path)
        if os.path.isfile(path):
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is not None:
                self._etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
                inm = self.headers.get("If-None-Match")
                if inm is not None:
                    # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
                    tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
                    if "*" in tags or self._etag in tags:
                        self.send_response(HTTPStatus.NOT_MODIFIED)
                        self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
                        self.end_headers()
                        return None
                    # A non-matching ETag means "changed": ignore If-Modified-Since.
                    del self.headers["If-Modified-Since"]
        return super().send_head()

    def end_headers(self):
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", "no-cache")
            self._etag = None
        super().end_headers()

    def list_directory(self, path):
        # No directory listings: a real news site does not have them.
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")
        return None

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        if self.verbose:
            super().log_message(format, *args)

    def log_error(self, format, *args):  # noqa: A002
        # 404s are expected (stylesheets, /favicon.ico); keep the log quiet unless asked.
        if self.verbose:
            super().log_error(format, *args)


def _alive(pid: int) -> bool:
    """True when `pid` is running and is one of our demo servers (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the signal check
    return any(part.endswith(b"serve.py") for part in cmdline)


def _read_pid(port: int) -> int | None:
    try:
        return int(pid_file(port).read_text().strip())
    except (OSError, ValueError):
        return None


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def run(port: int, verbose: bool = False) -> int:
    # The site is generated from articles.py (never committed): build it fresh for this server.
    sys.path.insert(0, str(HERE))
    from build_site import SITE_DIR, build

    print(build(SITE_DIR), flush=True)
    handler = partial(DemoHandler, directory=str(SITE_DIR))
    DemoHandler.verbose = verbose
    try:
        httpd = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        print(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    pid_file(port).write_text(f"{os.getpid()}\n")

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"serving {SITE_DIR} at http://{HOST}:{port}/", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        if _read_pid(port) == os.getpid():
            pid_file(port).unlink(missing_ok=True)
    return 0


def start(port: int) -> int:
    pid = _read_pid(port)
    if pid and _alive(pid):
        print(f"demo server already running (pid {pid}) at http://{HOST}:{port}/")
        return 0
    pid_file(port).unlink(missing_ok=True)
    if _port_open(port):
        print(f"port {port} on {HOST} is already in use by another program", file=sys.stderr)
        return 1
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(log_file(port), "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "run", "--port", str(port)],
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"demo server exited at start-up; see {log_file(port)}", file=sys.stderr)
            return 1
        if _read_pid(port) == proc.pid and _port_open(port):
            print(f"demo server started (pid {proc.pid}) at http://{HOST}:{port}/")
            return 0
        time.sleep(0.1)
    print(f"demo server did not come up within 10 s; see {log_file(port)}", file=sys.stderr)
    return 1


def stop(port: int) -> int:
    pid = _read_pid(port)
    if not pid or not _alive(pid):
        pid_file(port).unlink(missing_ok=True)
        print("demo server not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        print(f"demo server (pid {pid}) did not stop after SIGTERM", file=sys.stderr)
        return 1
    pid_file(port).unlink(missing_ok=True)
    print(f"demo server stopped (pid {pid})")
    return 0


def status(port: int) -> int:
    pid = _read_pid(port)
    if pid and _alive(pid):
        print(f"demo server running (pid {pid}) at http://{HOST}:{port}/")
        return 0
    print("demo server not running")
    return 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the newsmon demo news site on 127.0.0.1.")
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request (run only)")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.port, args.verbose)
    return {"start": start, "stop": stop, "status": status}[args.command](args.port)


if __name__ == "__main__":
    sys.exit(main())
