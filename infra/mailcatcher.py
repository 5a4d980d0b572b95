#!/usr/bin/env python3
"""A local SMTP catcher for the newsmon demo and tests.

    python infra/mailcatcher.py start [--port 2525] [--dir var/mail]
    python infra/mailcatcher.py stop  [--port 2525]
    python infra/mailcatcher.py list  [--dir var/mail] [--json]
    python infra/mailcatcher.py clear [--dir var/mail]
    python infra/mailcatcher.py serve [--port 2525] [--dir var/mail]   (foreground)

Every message received on 127.0.0.1:<port> is stored as one .eml file in the
mail dir; nothing is ever relayed. AUTH is accepted with any credentials and
without TLS so that a client configured with a user name still gets through.
The default state dir is $NEWSMON_STATE_DIR or <repo>/var.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HOST = "127.0.0.1"  # never listen beyond this machine
REPO_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("NEWSMON_STATE_DIR") or REPO_DIR / "var")
DEFAULT_PORT = 2525
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


def say(msg: str) -> None:
    print(f"[mail] {msg}", flush=True)


def fail(msg: str) -> int:
    print(f"[mail] ERROR: {msg}", file=sys.stderr, flush=True)
    return 1


def pid_file(port: int) -> Path:
    # One pid file per port, so a test catcher can run beside the demo one.
    return STATE_DIR / f"mailcatcher-{port}.pid"


def log_file(port: int) -> Path:
    return STATE_DIR / f"mailcatcher-{port}.log"


def read_pid(port: int) -> int | None:
    """The pid in the pid file if that process is still alive."""
    try:
        pid = int(pid_file(port).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return pid


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def smtp_greets(port: int) -> bool:
    """True when an SMTP server (ours or not) answers 220 on the port."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as s:
            banner = s.recv(512)
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            return banner.startswith(b"220")
    except OSError:
        return False


# ---------------------------------------------------------------- server


class CatchHandler:
    """aiosmtpd handler: one .eml file per message, written atomically."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        with self._lock:
            name = f"{stamp}-{os.getpid()}-{next(self._seq):05d}.eml"
        # The envelope is not in the message itself (think Bcc), so keep it
        # in headers that `list` and the tests can read back.
        head = (
            f"X-Mailcatcher-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Mailcatcher-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Mailcatcher-Peer: {session.peer[0] if session.peer else '?'}\r\n"
        ).encode()
        body = envelope.original_content or envelope.content
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        tmp = self.mail_dir / f".{name}.tmp"
        tmp.write_bytes(head + body)
        tmp.replace(self.mail_dir / name)  # readers never see half a message
        print(f"[mail] stored {name} from {envelope.mail_from} to {envelope.rcpt_tos}", flush=True)
        return "250 Message accepted for delivery"


def _accept_any_login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=True)


def serve(port: int, mail_dir: Path) -> int:
    import warnings

    from aiosmtpd.controller import Controller

    # aiosmtpd warns about its own use of login_data when AUTH succeeds.
    warnings.filterwarnings("ignore", message="Session.login_data")
    mail_dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(
        CatchHandler(mail_dir),
        hostname=HOST,
        port=port,
        authenticator=_accept_any_login,
        auth_require_tls=False,
    )
    try:
        controller.start()
    except Exception as exc:  # noqa: BLE001 - report any bind/start problem plainly
        return fail(f"cannot listen on {HOST}:{port}: {exc}")
    say(f"listening on {HOST}:{port}, storing messages in {mail_dir} (pid {os.getpid()})")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    controller.stop()
    say("stopped")
    return 0


# ---------------------------------------------------------------- commands


def running_dir(port: int) -> str:
    try:
        return pid_file(port).read_text().splitlines()[1]
    except (OSError, IndexError):
        return "?"


def cmd_start(port: int, mail_dir: Path) -> int:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        return fail(f"aiosmtpd is not installed for {sys.executable}; run it with the project venv (.venv/bin/python)")
    pid = read_pid(port)
    if pid and smtp_greets(port):
        say(f"already running on {HOST}:{port} (pid {pid}), messages in {running_dir(port)}")
        return 0
    if pid:
        # Alive but silent: probably still starting; wait for it below.
        say(f"pid {pid} exists but does not answer yet; waiting")
    elif port_open(port):
        return fail(f"port {port} on {HOST} is already used by another program; choose another with --port")

    if not pid:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        mail_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_file(port), "ab")
        # A new session and no inherited terminal: the catcher outlives the
        # shell (or CI step) that started it.
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port), "--dir", str(mail_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=str(REPO_DIR),
        )
        log.close()
        pid = proc.pid
        pid_file(port).write_text(f"{pid}\n{mail_dir}\n")

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if smtp_greets(port):
            say(f"started on {HOST}:{port} (pid {pid}); messages go to {mail_dir}")
            say(f"export NEWSMON_SMTP_HOST={HOST} NEWSMON_SMTP_PORT={port}")
            return 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            pid_file(port).unlink(missing_ok=True)
            tail = log_file(port).read_text(errors="replace").splitlines()[-10:]
            return fail("the catcher exited during startup:\n  " + "\n  ".join(tail))
        time.sleep(0.1)
    return fail(f"no SMTP greeting on {HOST}:{port} after {START_TIMEOUT_S:.0f}s; see {log_file(port)}")


def cmd_stop(port: int) -> int:
    pid = read_pid(port)
    if not pid:
        pid_file(port).unlink(missing_ok=True)
        say(f"not running on port {port}")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pid_file(port).unlink(missing_ok=True)
    say(f"stopped (pid {pid})")
    return 0


def _text_body(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeDecodeError):
        text = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def read_messages(mail_dir: Path) -> list[dict]:
    out = []
    for path in sorted(mail_dir.glob("*.eml")):
        with open(path, "rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        out.append(
            {
                "file": str(path),
                "from": str(msg.get("From", "") or msg.get("X-Mailcatcher-Envelope-From", "")),
                "to": str(msg.get("To", "")),
                "envelope_to": str(msg.get("X-Mailcatcher-Envelope-To", "")),
                "subject": str(msg.get("Subject", "")),
                "date": str(msg.get("Date", "")),
                "body": _text_body(msg),
            }
        )
    return out


def cmd_list(mail_dir: Path, as_json: bool) -> int:
    messages = read_messages(mail_dir) if mail_dir.is_dir() else []
    if as_json:
        print(json.dumps(messages, indent=2, ensure_ascii=False))
        return 0
    if not messages:
        say(f"no messages in {mail_dir}")
        return 0
    for i, m in enumerate(messages, 1):
        print(f"=== {i}/{len(messages)}  {Path(m['file']).name}")
        print(f"From:    {m['from']}")
        print(f"To:      {m['to'] or m['envelope_to']}")
        print(f"Subject: {m['subject']}")
        print(f"Date:    {m['date']}")
        print()
        print(m["body"])
        print()
    return 0


def cmd_clear(mail_dir: Path) -> int:
    n = 0
    for path in mail_dir.glob("*.eml"):
        path.unlink(missing_ok=True)
        n += 1
    say(f"removed {n} message(s) from {mail_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Local SMTP catcher (127.0.0.1 only) storing .eml files.")
    ap.add_argument("command", choices=["start", "stop", "list", "clear", "serve"])
    ap.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"SMTP port (default {DEFAULT_PORT})")
    ap.add_argument("--dir", type=Path, default=STATE_DIR / "mail", help="where .eml files go (default <state>/mail)")
    ap.add_argument("--json", action="store_true", help="list: print JSON instead of text")
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        return fail("--port must be between 1 and 65535")
    mail_dir = args.dir.resolve()

    if args.command == "start":
        return cmd_start(args.port, mail_dir)
    if args.command == "stop":
        return cmd_stop(args.port)
    if args.command == "list":
        return cmd_list(mail_dir, args.json)
    if args.command == "clear":
        return cmd_clear(mail_dir)
    return serve(args.port, mail_dir)


if __name__ == "__main__":
    sys.exit(main())
