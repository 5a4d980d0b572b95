"""Start and stop a local Airflow for newsmon (``newsmon airflow up|down``).

This module never imports Airflow: it runs the ``airflow`` executable installed next to the
current Python (the project's venv) with an environment built here. Airflow's home is a runtime
folder inside the project (``var/airflow``), examples are off, the API binds to 127.0.0.1 and
parallelism is sized for a 2-core machine.

``start_airflow`` (``newsmon airflow up``) starts ``airflow standalone`` (scheduler, DAG processor,
API server, triggerer) as the leader of a new process group and records its pid/pgid;
``stop_airflow`` (``newsmon airflow down``) signals that whole group, because TERM to the parent
alone leaves its children running. ``airflow_up``/``airflow_down`` wrap them for the CLI and
return exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from ..config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 8080
FETCH_POOL = "newsmon_fetch"  # the pool the DAGs use to limit concurrent fetches
FETCH_POOL_SLOTS = 2
STATE_FILE = "newsmon-airflow.json"  # pid, pgid, port: inside AIRFLOW_HOME


# Popen objects of the processes this Python process started, by process group, so that
# stop_airflow can collect them (a still-running Popen that is garbage-collected warns).
_STARTED: dict[int, list[subprocess.Popen]] = {}


class AirflowCtlError(RuntimeError):
    """Airflow could not be started or stopped; the message says why."""


# ------------------------------------------------------------------ environment


def airflow_bin() -> str:
    """The ``airflow`` executable of the running venv (else the one on PATH)."""
    candidate = Path(sys.executable).parent / "airflow"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("airflow")
    if not found:
        raise AirflowCtlError(
            "the 'airflow' command is not installed in this environment; "
            "install it with: pip install -r requirements/airflow.lock"
        )
    return found


def airflow_home(project_root: Path | str | None = None) -> Path:
    return Path(project_root or PROJECT_ROOT).resolve() / "var" / "airflow"


def _conn_uri(scheme: str, host: str, port: int | None, user: str | None, password: str | None) -> str:
    auth = ""
    if user:
        auth = quote(user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        auth += "@"
    return f"{scheme}://{auth}{host}" + (f":{port}" if port else "")


def connection_env(settings: Settings | None = None) -> dict[str, str]:
    """AIRFLOW_CONN_NEWSMON_ES / _SMTP built from newsmon's own settings (NEWSMON_* variables).

    Connections already defined in the environment win. Passwords travel only in these
    variables (never on a command line); Airflow masks them in task logs.
    """
    from pipeline.config import load_settings, secret

    if settings is None:
        settings = load_settings()

    env: dict[str, str] = {}
    if "AIRFLOW_CONN_NEWSMON_ES" not in os.environ:
        u = urlsplit(settings.es_url)
        env["AIRFLOW_CONN_NEWSMON_ES"] = _conn_uri(
            u.scheme or "http",
            u.hostname or "127.0.0.1",
            u.port or 9200,
            settings.es_user,
            secret(settings.es_password) or None,
        )
    if "AIRFLOW_CONN_NEWSMON_SMTP" not in os.environ:
        env["AIRFLOW_CONN_NEWSMON_SMTP"] = _conn_uri(
            "smtp", settings.smtp_host, settings.smtp_port, settings.smtp_user, secret(settings.smtp_password) or None
        )
    return env


def airflow_env(
    project_root: Path | str | None = None,
    *,
    home: Path | str | None = None,
    port: int = DEFAULT_PORT,
    parallelism: int = 4,
) -> dict[str, str]:
    """The AIRFLOW__* settings newsmon runs Airflow with (merge them over os.environ)."""
    root = Path(project_root or PROJECT_ROOT).resolve()
    home_dir = Path(home).resolve() if home else airflow_home(root)
    api = f"http://127.0.0.1:{port}"
    pythonpath = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "AIRFLOW_HOME": str(home_dir),
        "PYTHONPATH": pythonpath,
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home_dir / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # unattended: the DAGs run once parsed
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),  # 2 cores: 4 task processes at most
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism),
        "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": str(parallelism),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "True",
        "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            home_dir / "simple_auth_manager_passwords.json.generated"
        ),
        "AIRFLOW__CORE__HIDE_SENSITIVE_VAR_CONN_FIELDS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
        "AIRFLOW__SCHEDULER__CATCHUP_BY_DEFAULT": "False",
        "AIRFLOW__TRIGGERER__CAPACITY": "50",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home_dir / "logs"),
        "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(home_dir / "logs" / "dag_processor"),
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home_dir / 'airflow.db'}",
        "AIRFLOW__DATABASE__CHECK_MIGRATIONS": "True",
    }


def full_env(extra: dict[str, str] | None = None, **kwargs: Any) -> dict[str, str]:
    """os.environ + airflow_env(**kwargs) + extra."""
    env = dict(os.environ)
    env.update(airflow_env(**kwargs))
    # `airflow standalone` starts its components as `airflow ...` found on PATH: use this venv's.
    bindir = str(Path(airflow_bin()).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    env.update(extra or {})
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> None:
    proc = subprocess.run(
        [airflow_bin(), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise AirflowCtlError(f"'airflow {' '.join(args)}' failed (exit {proc.returncode}):\n{tail}")


def ensure_admin_password(path: Path | str) -> Path:
    """Write the UI admin password file (mode 600) if it is missing.

    Airflow's simple auth manager prints a password it generates itself into its log; a password
    we generate here never reaches a log. The file is the one `up` points to.
    """
    path = Path(path)
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"admin": secrets.token_urlsafe(12)}) + "\n")
    return path


def init_airflow(env: dict[str, str]) -> None:
    """Create or upgrade the metadata DB, the fetch pool and the admin password. Idempotent."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    if env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        ensure_admin_password(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    _run(["db", "migrate"], env)
    _run(["pools", "set", FETCH_POOL, str(FETCH_POOL_SLOTS), "newsmon: concurrent feed/page fetches"], env)


# ------------------------------------------------------------------ up / down


def _state_path(home: Path) -> Path:
    return home / STATE_FILE


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads(_state_path(home).read_text())
    except (OSError, ValueError):
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health(port: int, timeout: float = 2.0) -> dict | None:
    """The API server's /api/v2/monitor/health document, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=timeout) as r:
            return json.loads(r.read().decode())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def is_healthy(doc: dict | None) -> bool:
    if not doc:
        return False
    parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    return all((doc.get(k) or {}).get("status") == "healthy" for k in parts)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start_airflow(
    project_root: Path | str | None = None,
    *,
    home: Path | str | None = None,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    settings: Settings | None = None,
    timeout: float = 180.0,
    smtp_sink: bool = True,
    echo: Callable[[str], None] = print,
) -> dict:
    """Start Airflow (``airflow standalone``) in its own process group and wait until it is healthy.

    Returns the state: pid, pgid, port, url, log file and the admin password file. The
    Elasticsearch and SMTP connections come from newsmon's settings unless AIRFLOW_CONN_NEWSMON_*
    are already set. With ``smtp_sink`` and a local SMTP address where nothing listens, a local
    mail sink (aiosmtpd, printing mails to the log) joins the same process group.
    """
    root = Path(project_root or PROJECT_ROOT).resolve()
    home_dir = Path(home).resolve() if home else airflow_home(root)
    port = int(port or os.environ.get("NEWSMON_AIRFLOW_PORT") or DEFAULT_PORT)
    state = _read_state(home_dir)
    if state and _group_alive(state["pgid"]):
        echo(f"Airflow is already running (pid {state['pid']}): {state['url']}")
        return state
    if _port_open("127.0.0.1", port):
        raise AirflowCtlError(f"port {port} on 127.0.0.1 is already in use; choose another with NEWSMON_AIRFLOW_PORT")

    if settings is None:
        from pipeline.config import load_settings

        settings = load_settings()
    env = full_env({**connection_env(settings), **(extra_env or {})}, project_root=root, home=home_dir, port=port)
    home_dir.mkdir(parents=True, exist_ok=True)
    echo(f"Airflow home: {home_dir}")
    # Where the DAGs will find Elasticsearch: the connection if one is set, else newsmon's setting.
    _ensure_local_es(root, env.get("AIRFLOW_CONN_NEWSMON_ES") or settings.es_url, echo)
    init_airflow(env)

    log_path = home_dir / "standalone.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [airflow_bin(), "standalone"],
        env=env,
        cwd=str(home_dir),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own session and process group: `down` signals the whole group
    )
    log.close()
    pgid = os.getpgid(proc.pid)
    _STARTED.setdefault(pgid, []).append(proc)
    sink_pid = None
    if (
        smtp_sink
        and settings.smtp_host in ("127.0.0.1", "localhost")
        and not _port_open("127.0.0.1", settings.smtp_port)
    ):
        catcher = root / "infra" / "mailcatcher.py"
        mail_dir = Path(settings.state_dir) / "mail"
        if catcher.exists():  # stores each mail as .eml: `python infra/mailcatcher.py list`
            cmd = [sys.executable, str(catcher), "serve", "--port", str(settings.smtp_port), "--dir", str(mail_dir)]
            where = f"{mail_dir} (python infra/mailcatcher.py list --dir {mail_dir})"
        else:  # prints each mail to the log
            cmd = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{settings.smtp_port}"]
            where = str(home_dir / "smtp-sink.log")
        sink_log = open(home_dir / "smtp-sink.log", "ab")
        sink = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=sink_log,
            stderr=subprocess.STDOUT,
            process_group=pgid,  # same group as Airflow: `down` stops it too
        )
        sink_log.close()
        sink_pid = sink.pid
        _STARTED[pgid].append(sink)
        echo(f"Local mail catcher on 127.0.0.1:{settings.smtp_port}; mails go to {where}")

    url = f"http://127.0.0.1:{port}"
    state = {
        "pid": proc.pid,
        "pgid": pgid,
        "port": port,
        "url": url,
        "home": str(home_dir),
        "log": str(log_path),
        "password_file": env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"],
        "smtp_sink_pid": sink_pid,
        "started": time.time(),
    }
    _state_path(home_dir).write_text(json.dumps(state, indent=2))

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _kill_group(pgid)
            _state_path(home_dir).unlink(missing_ok=True)
            raise AirflowCtlError(f"airflow standalone exited with code {proc.returncode}; see {log_path}")
        if is_healthy(health(port)):
            state["ready_after_s"] = round(time.time() - state["started"], 1)
            _state_path(home_dir).write_text(json.dumps(state, indent=2))
            echo(f"Airflow is up after {state['ready_after_s']} s: {url}")
            echo(f"Log in as 'admin'; the generated password is in {state['password_file']}")
            echo(f"Logs: {log_path}. Stop everything with: newsmon airflow down")
            return state
        time.sleep(1)
    _kill_group(pgid)
    _state_path(home_dir).unlink(missing_ok=True)
    raise AirflowCtlError(f"Airflow was not healthy within {timeout:.0f} s; see {log_path}")


def _reap(pgid: int) -> None:
    """Collect exited children of ours in that group (zombies would look alive to killpg)."""
    for proc in _STARTED.get(pgid, []):
        proc.poll()
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _ensure_local_es(root: Path, es_url: str, echo: Callable[[str], None]) -> None:
    """Start the project's local Elasticsearch (infra/elasticsearch.sh) when ``es_url`` points to
    this machine and nothing answers there. It is shared infrastructure, not part of Airflow's
    process group: `infra/elasticsearch.sh stop` stops it."""
    u = urlsplit(es_url if "://" in es_url else f"http://{es_url}")
    host, es_port = u.hostname or "127.0.0.1", u.port or 9200
    shown = f"{u.scheme}://{host}:{es_port}"  # never the credentials
    if _port_open(host, es_port):
        return
    script = root / "infra" / "elasticsearch.sh"
    if host not in ("127.0.0.1", "localhost") or not script.exists():
        echo(f"warning: Elasticsearch does not answer at {shown}; the DAG tasks will retry until it does")
        return
    echo(f"Starting the local Elasticsearch on port {es_port} (infra/elasticsearch.sh start) ...")
    proc = subprocess.run(
        ["bash", str(script), "start", "--port", str(es_port)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise AirflowCtlError(f"could not start the local Elasticsearch:\n{tail}")


def _kill_group(pgid: int, grace: float = 30.0) -> bool:
    """TERM the whole process group, then KILL what is left after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pgid)
        if not _group_alive(pgid):
            return True
        time.sleep(0.3)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    time.sleep(0.5)
    _reap(pgid)
    return not _group_alive(pgid)


def stop_airflow(
    project_root: Path | str | None = None,
    *,
    home: Path | str | None = None,
    grace: float = 30.0,
    echo: Callable[[str], None] = print,
) -> bool:
    """Stop every process that ``start_airflow`` started (the whole process group). True if stopped."""
    home_dir = Path(home).resolve() if home else airflow_home(project_root)
    state = _read_state(home_dir)
    if not state:
        echo("Airflow is not running (no state file).")
        return True
    pgid = int(state["pgid"])
    if not _group_alive(pgid):
        echo("Airflow was not running any more.")
        _state_path(home_dir).unlink(missing_ok=True)
        return True
    stopped = _kill_group(pgid, grace)
    if stopped:
        _STARTED.pop(pgid, None)
    if stopped:
        _state_path(home_dir).unlink(missing_ok=True)
        echo(f"Airflow stopped (process group {pgid}).")
    else:
        echo(f"some processes of group {pgid} did not stop; see `ps -g {pgid}`")
    return stopped


def airflow_up(project_root: Path | str | None = None, **kwargs: Any) -> int:
    """`newsmon airflow up`: start Airflow and print its address. Returns the exit code."""
    try:
        start_airflow(project_root, **kwargs)
    except AirflowCtlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def airflow_down(project_root: Path | str | None = None, **kwargs: Any) -> int:
    """`newsmon airflow down`: stop every process `up` started. Returns the exit code."""
    return 0 if stop_airflow(project_root, **kwargs) else 1


def airflow_status(project_root: Path | str | None = None, *, home: Path | str | None = None) -> dict | None:
    """The state of a running Airflow started by ``start_airflow`` with its health, or None."""
    home_dir = Path(home).resolve() if home else airflow_home(project_root)
    state = _read_state(home_dir)
    if not state or not _group_alive(int(state["pgid"])):
        return None
    state["health"] = health(int(state["port"]))
    return state
