"""Start and stop a local Airflow for newsmon (``newsmon airflow up|down``).

This module never imports Airflow: it runs the ``airflow`` executable installed next to the
current Python (the project's venv) with an environment built here. Airflow's home is a runtime
folder inside the project (``var/airflow``), examples are off, the API binds to 127.0.0.1 and
parallelism is sized for a 2-core machine.

``start_airflow`` (``newsmon airflow up``) first checks everything it needs (``preflight``: the
ports, Elasticsearch, SMTP, the seeds) and starts nothing when something is wrong. It then starts
the four components itself (``airflow scheduler``, ``dag-processor``, ``triggerer``, ``api-server``),
each in its own session, rather than ``airflow standalone``: so the scheduler and triggerer run with
``--skip-serve-logs`` and no log server listens on 0.0.0.0:8793/8794 (the API server reads the task
logs from the shared log folder). Every process started carries ``NEWSMON_AIRFLOW_TAG`` in its
environment, which its children (task processes, in process groups of their own) inherit. If a step
fails, everything started so far is stopped again. ``stop_airflow`` (``newsmon airflow down``) stops
the recorded components, all their descendants and any process still carrying the tag, and reports
what it stopped. The Elasticsearch and SMTP connections are stored in Airflow's metastore
(``airflow connections import``), where the UI can edit them.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ..config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 8080
FETCH_POOL = "newsmon_fetch"  # the pool the DAGs use to limit concurrent fetches
FETCH_POOL_SLOTS = 2
STATE_FILE = "newsmon-airflow.json"  # pid, pgid, port: inside AIRFLOW_HOME


# Popen objects of the processes this Python process started, by pid, so that stop_airflow can
# collect them (a still-running Popen that is garbage-collected warns).
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


ES_CONN_ID = "newsmon_es"  # the ids the DAGs read (dags/_newsmon_common.py)
SMTP_CONN_ID = "newsmon_smtp"


def connection_definitions(settings: Settings) -> dict[str, dict[str, Any]]:
    """newsmon_es / newsmon_smtp built from newsmon's settings, in the providers' own field meanings:
    Elasticsearch's Schema is the scheme (http/https); SMTP's extras disable_ssl/disable_tls say
    whether the hook uses implicit TLS or STARTTLS."""
    from pipeline.config import secret

    u = urlsplit(settings.es_url)
    es_extra: dict[str, Any] = {}
    if settings.es_ca_certs:
        es_extra["ca_certs"] = settings.es_ca_certs
    if not settings.es_verify_certs:
        es_extra["verify_certs"] = False
    smtp_extra: dict[str, Any] = {
        "disable_ssl": not settings.smtp_ssl,
        "disable_tls": not settings.smtp_starttls,
        "from_email": settings.mail_from,
        "timeout": int(settings.smtp_timeout_s),
    }
    if not settings.smtp_verify_certs:
        smtp_extra["ssl_context"] = "none"
    return {
        ES_CONN_ID: {
            "conn_type": "elasticsearch",
            "description": "newsmon: the Elasticsearch cluster (Schema = http or https)",
            "host": u.hostname or "127.0.0.1",
            "port": u.port or 9200,
            "schema": u.scheme or "http",
            "login": settings.es_user,
            "password": secret(settings.es_password) or None,
            "extra": json.dumps(es_extra),
        },
        SMTP_CONN_ID: {
            "conn_type": "smtp",
            "description": "newsmon: the mail server for alerts and task-failure notices",
            "host": settings.smtp_host,
            "port": settings.smtp_port,
            "login": settings.smtp_user,
            "password": secret(settings.smtp_password) or None,
            "extra": json.dumps(smtp_extra),
        },
    }


def ensure_connections(env: dict[str, str], settings: Settings, echo: Callable[[str], None] = print) -> None:
    """Store newsmon_es / newsmon_smtp in Airflow's metastore when they are not there yet.

    ``airflow connections import`` without --overwrite: a connection edited in the UI (or with
    ``airflow connections add``) is kept as it is. The file holding the passwords exists only for
    the import (mode 600) and passwords never appear on a command line.
    """
    home = Path(env["AIRFLOW_HOME"])
    path = home / f".newsmon-connections-{os.getpid()}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(connection_definitions(settings), fh)
        _run(["connections", "import", str(path)], env)
    finally:
        path.unlink(missing_ok=True)
    for conn_id in (ES_CONN_ID, SMTP_CONN_ID):
        var = f"AIRFLOW_CONN_{conn_id.upper()}"
        if var in env:
            echo(f"warning: {var} is set in the environment and shadows the '{conn_id}' connection edited in the UI")


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


# Airflow imports airflow_local_settings (from $AIRFLOW_HOME/config) in each of its processes at start.
# Task processes are forked from the scheduler's executor workers (LocalExecutor) or a Celery worker:
# when those have imported the library, a task does not import it again, which is about half a second
# of every task's start-up, and an alert passes through six such tasks on its way.
LOCAL_SETTINGS = '''"""Written by `newsmon airflow up` (pipeline/ops/airflow_local.py): the processes that fork
task processes import the newsmon library once, so that each task starts without importing it."""

import sys

if {"scheduler", "worker"} & set(sys.argv[1:3]):
    import pipeline.run  # noqa: F401
'''


def write_local_settings(home: Path | str) -> Path:
    """$AIRFLOW_HOME/config/airflow_local_settings.py: preload the library where tasks fork (LOCAL_SETTINGS)."""
    path = Path(home) / "config" / "airflow_local_settings.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != LOCAL_SETTINGS:
        path.write_text(LOCAL_SETTINGS)
    return path


def init_airflow(env: dict[str, str], pool_slots: int = FETCH_POOL_SLOTS) -> None:
    """Create or upgrade the metadata DB, the fetch pool, the admin password and the local settings. Idempotent."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    write_local_settings(env["AIRFLOW_HOME"])
    if env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        ensure_admin_password(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    _run(["db", "migrate"], env)
    _run(["pools", "set", FETCH_POOL, str(pool_slots), "newsmon: concurrent feed/page fetches"], env)


# ------------------------------------------------------------------ housekeeping

# Run history that grows with every poll (288 runs a day at 5 minutes); DAG definitions are left alone.
CLEAN_TABLES = (
    "dag_run",
    "task_instance",
    "task_instance_history",
    "task_reschedule",
    "xcom",
    "log",
    "job",
    "asset_event",
    "callback",
    "import_error",
)


def clean_metadata(env: dict[str, str], days: int, now: float | None = None) -> str:
    """`airflow db clean` of the run history older than ``days``, without archive tables. Returns its output.

    It needs the metadata database, which Airflow 3 forbids inside task processes, so it runs from
    here (`newsmon airflow clean`, the housekeeper `up` starts, a cron line) and not as a DAG task.
    """
    from datetime import UTC, datetime, timedelta

    before = datetime.fromtimestamp(now if now is not None else time.time(), UTC) - timedelta(days=days)
    args = [
        "db",
        "clean",
        "--clean-before-timestamp",
        before.isoformat(),
        "--tables",
        ",".join(CLEAN_TABLES),
        "--skip-archive",
        "--error-on-cleanup-failure",
        "--yes",
    ]
    proc = subprocess.run(
        [airflow_bin(), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise AirflowCtlError(f"'airflow db clean' failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def airflow_clean(
    project_root: Path | str | None = None,
    *,
    days: int = 30,
    every_hours: float = 0,
    home: Path | str | None = None,
) -> int:
    """`newsmon airflow clean`: once, or every ``every_hours`` until stopped. Returns the exit code.

    With AIRFLOW_HOME or a database set in the environment (the housekeeper, a Docker service, a cron
    line on an Airflow host) that Airflow is cleaned; otherwise the local one of `newsmon airflow up`.
    """
    if home is None and (os.environ.get("AIRFLOW_HOME") or os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")):
        env = dict(os.environ)
    else:
        env = full_env(project_root=project_root, home=home)
    if every_hours:  # the housekeeper: let the components start before the first pass (SQLite: one writer)
        time.sleep(min(every_hours * 3600, 600))
    while True:
        try:
            clean_metadata(env, days)
            print(
                f"{time.strftime('%Y-%m-%d %H:%M:%S')} removed Airflow run history older than {days} days", flush=True
            )
        except AirflowCtlError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            if not every_hours:
                return 1
        if not every_hours:
            return 0
        time.sleep(every_hours * 3600)


# ------------------------------------------------------------------ up / down

# The components `up` starts, in this order. The API server comes first and is waited for: task
# processes report to its execution API, and a task the scheduler started before it answered fails
# its first try. The scheduler and the triggerer would each start a log server on all interfaces
# (8793, 8794); on one machine the API server reads the log files directly.
COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
API_FIRST_TIMEOUT_S = 120.0
TAG_VAR = "NEWSMON_AIRFLOW_TAG"  # in the environment of every process `up` starts, and their children


def _state_path(home: Path) -> Path:
    return home / STATE_FILE


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads(_state_path(home).read_text())
    except (OSError, ValueError):
        return None


def _write_state(home: Path, state: dict) -> None:
    _state_path(home).write_text(json.dumps(state, indent=2))


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


def _port_bindable(port: int) -> bool:
    """Nothing listens on this port, on any interface (Airflow's own servers bind 0.0.0.0 or 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _is_local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


def airflow_ports(env: dict[str, str]) -> dict[str, int]:
    """The TCP ports the components will listen on, by what listens."""
    ports = {"API server": int(env["AIRFLOW__API__PORT"])}
    if env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "").lower() in ("1", "true"):
        ports["scheduler health check"] = int(env.get("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", "8974"))
    return ports


def preflight(root: Path, env: dict[str, str], settings: Settings, *, smtp_sink: bool) -> dict[str, Any]:
    """Check everything `up` needs before it starts anything. Raises one AirflowCtlError listing every
    problem; returns what the start will have to do (start the local ES, start a mail sink)."""
    from pipeline.config import ConfigError, load_seeds

    problems: list[str] = []
    plan: dict[str, Any] = {"start_es": False, "start_smtp_sink": False}
    try:
        airflow_bin()
    except AirflowCtlError as exc:
        problems.append(str(exc))
    for what, port in airflow_ports(env).items():
        if not _port_bindable(port):
            hint = " (choose another with NEWSMON_AIRFLOW_PORT)" if what == "API server" else ""
            problems.append(f"port {port} for the {what} is already in use{hint}")
    u = urlsplit(settings.es_url)
    es_host, es_port = u.hostname or "127.0.0.1", u.port or 9200
    if not _port_open(es_host, es_port):
        if _is_local(es_host) and (root / "infra" / "elasticsearch.sh").exists():
            plan["start_es"] = True
        else:
            problems.append(f"Elasticsearch does not answer at {u.scheme}://{es_host}:{es_port} (NEWSMON_ES_URL)")
    if not _port_open(settings.smtp_host, settings.smtp_port):
        if smtp_sink and _is_local(settings.smtp_host):
            plan["start_smtp_sink"] = True
        else:
            problems.append(
                f"no SMTP server answers at {settings.smtp_host}:{settings.smtp_port} (NEWSMON_SMTP_HOST/PORT); "
                "alerts could not be sent"
            )
    try:
        load_seeds(settings.seeds_dir)
    except ConfigError as exc:
        problems.append(f"the seeds in {settings.seeds_dir} are invalid: {exc}")
    home = Path(env["AIRFLOW_HOME"])
    try:
        home.mkdir(parents=True, exist_ok=True)
        if not os.access(home, os.W_OK):
            raise PermissionError(f"{home} is not writable")
    except OSError as exc:
        problems.append(f"Airflow home {home}: {exc}")
    if problems:
        raise AirflowCtlError("Airflow was not started:\n  - " + "\n  - ".join(problems))
    return plan


def _proc_info(proc: subprocess.Popen) -> dict[str, Any]:
    import psutil

    try:
        created = psutil.Process(proc.pid).create_time()
    except psutil.Error:
        created = None
    return {"pid": proc.pid, "create_time": created}


def _spawn(name: str, cmd: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        log.write(f"\n==== {name}: {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no terminal signal reaches it; `down` finds it by pid and tag
        )
    _STARTED.setdefault(proc.pid, []).append(proc)
    return proc


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
    """Check, then start Airflow's components and wait until they are healthy.

    Returns the state: the component and sink pids, the tag, port, url, log file and the admin
    password file. With ``smtp_sink`` and a local SMTP address where nothing listens, a local mail
    catcher is started too. Any failure after the checks stops everything started so far.
    """
    import uuid

    root = Path(project_root or PROJECT_ROOT).resolve()
    home_dir = Path(home).resolve() if home else airflow_home(root)
    port = int(port or os.environ.get("NEWSMON_AIRFLOW_PORT") or DEFAULT_PORT)
    state = _read_state(home_dir)
    if state and _alive_processes(state):
        echo(f"Airflow is already running: {state['url']}")
        return state

    if settings is None:
        from pipeline.config import load_settings

        settings = load_settings()
    tag = uuid.uuid4().hex
    env = full_env({**(extra_env or {}), TAG_VAR: tag}, project_root=root, home=home_dir, port=port)
    plan = preflight(root, env, settings, smtp_sink=smtp_sink)

    log_path = home_dir / "airflow.log"
    state = {
        "tag": tag,
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "home": str(home_dir),
        "log": str(log_path),
        "password_file": env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"],
        "components": {},
        "smtp_sink": None,
        "started_es": False,
        "started": time.time(),
    }
    echo(f"Airflow home: {home_dir}")
    try:
        if plan["start_es"]:
            _start_local_es(root, settings.es_url, echo)
            state["started_es"] = True
        init_airflow(env)
        ensure_connections(env, settings, echo)
        if plan["start_smtp_sink"]:
            state["smtp_sink"] = _start_smtp_sink(root, home_dir, settings, env, echo)
        for name, args in COMPONENTS.items():
            proc = _spawn(name, [airflow_bin(), *args], env, log_path, home_dir)
            state["components"][name] = _proc_info(proc)
            _write_state(home_dir, state)  # written as it grows: `down` can stop a half-started Airflow
            if name == "api-server":
                wait_for_api(port, functools.partial(_exit_code, proc.pid), min(timeout, API_FIRST_TIMEOUT_S), log_path)
        # Daily `airflow db clean` of the run history (settings.airflow_retention_days).
        housekeeper = [sys.executable, "-m", "pipeline.ops.cli", "airflow", "clean"]
        housekeeper += ["--days", str(settings.airflow_retention_days), "--every-hours", "24"]
        proc = _spawn("housekeeper", housekeeper, env, home_dir / "housekeeper.log", home_dir)
        state["components"]["housekeeper"] = _proc_info(proc)
        _write_state(home_dir, state)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, info in state["components"].items():
                code = _exit_code(info["pid"])
                if code is not None:
                    raise AirflowCtlError(f"airflow {name} exited with code {code}; see {log_path}")
            if is_healthy(health(port)):
                state["ready_after_s"] = round(time.time() - state["started"], 1)
                _write_state(home_dir, state)
                echo(f"Airflow is up after {state['ready_after_s']} s: {state['url']}")
                echo(f"Log in as 'admin'; the generated password is in {state['password_file']}")
                echo(f"Logs: {log_path}. Stop everything with: newsmon airflow down")
                return state
            time.sleep(1)
        raise AirflowCtlError(f"Airflow was not healthy within {timeout:.0f} s; see {log_path}")
    except BaseException as exc:
        echo(f"starting Airflow failed ({type(exc).__name__}: {exc}); stopping what was started")
        _stop_state(home_dir, state, grace=10.0, echo=echo)
        raise


def wait_for_api(port: int, exit_code: Callable[[], int | None], timeout: float, log_path: Path) -> None:
    """Wait until the API server answers its health endpoint (the other parts may still be down);
    exit_code: the API server process's exit code once it has exited, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = exit_code()
        if code is not None:
            raise AirflowCtlError(f"airflow api-server exited with code {code}; see {log_path}")
        if health(port) is not None:
            return
        time.sleep(0.5)
    raise AirflowCtlError(
        f"the Airflow API server did not answer on port {port} within {timeout:.0f} s; see {log_path}"
    )


def _exit_code(pid: int) -> int | None:
    """The exit code of a child we started, once it exited (None while it runs)."""
    for proc in _STARTED.get(pid, []):
        code = proc.poll()
        if code is not None:
            return code
    return None


def _start_smtp_sink(
    root: Path, home_dir: Path, settings: Settings, env: dict[str, str], echo: Callable[[str], None]
) -> dict[str, Any]:
    catcher = root / "infra" / "mailcatcher.py"
    mail_dir = Path(settings.state_dir) / "mail"
    if catcher.exists():  # stores each mail as .eml: `python infra/mailcatcher.py list`
        cmd = [sys.executable, str(catcher), "serve", "--port", str(settings.smtp_port), "--dir", str(mail_dir)]
        where = f"{mail_dir} (python infra/mailcatcher.py list --dir {mail_dir})"
    else:  # prints each mail to the log
        cmd = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{settings.smtp_port}"]
        where = str(home_dir / "smtp-sink.log")
    # Its own session, like the components: joining another session's process group is not allowed.
    proc = _spawn("smtp-sink", cmd, env, home_dir / "smtp-sink.log", home_dir)
    deadline = time.monotonic() + 15
    while not _port_open("127.0.0.1", settings.smtp_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AirflowCtlError(f"the local mail catcher did not start; see {home_dir / 'smtp-sink.log'}")
        time.sleep(0.2)
    echo(f"Local mail catcher on 127.0.0.1:{settings.smtp_port}; mails go to {where}")
    return _proc_info(proc)


def _start_local_es(root: Path, es_url: str, echo: Callable[[str], None]) -> None:
    """Start the project's local Elasticsearch (infra/elasticsearch.sh) where nothing answers at the local
    ``es_url``. `up` stops it again only when a later step fails; `down` leaves it running (shared)."""
    u = urlsplit(es_url)
    es_port = u.port or 9200
    echo(f"Starting the local Elasticsearch on port {es_port} (infra/elasticsearch.sh start) ...")
    proc = subprocess.run(
        ["bash", str(root / "infra" / "elasticsearch.sh"), "start", "--port", str(es_port)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise AirflowCtlError(f"could not start the local Elasticsearch:\n{tail}")


def _same_process(info: dict[str, Any]) -> Any:
    """The psutil.Process of a recorded pid, if it is still the process we started (not a reused pid)."""
    import psutil

    try:
        proc = psutil.Process(int(info["pid"]))
        if info.get("create_time") is not None and abs(proc.create_time() - float(info["create_time"])) > 1.0:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def _alive_processes(state: dict) -> list[Any]:
    """Every live process that belongs to this Airflow: the recorded components and sink, all their
    descendants (task processes sit in process groups of their own), and any process carrying the tag
    in its environment (orphans whose parent died, re-parented to init)."""
    import psutil

    found: dict[int, Any] = {}
    roots = list(state.get("components", {}).values())
    if state.get("smtp_sink"):
        roots.append(state["smtp_sink"])
    for info in roots:
        proc = _same_process(info)
        if proc is None:
            continue
        found[proc.pid] = proc
        try:
            for child in proc.children(recursive=True):
                found[child.pid] = child
        except psutil.Error:
            pass
    tag = state.get("tag")
    if tag:
        me = os.getpid()
        for proc in psutil.process_iter():
            if proc.pid in found or proc.pid == me:
                continue
            try:
                if proc.environ().get(TAG_VAR) == tag and proc.status() != psutil.STATUS_ZOMBIE:
                    found[proc.pid] = proc
            except psutil.Error:  # other users' processes, or gone meanwhile
                continue
    return list(found.values())


def _describe(proc: Any) -> str:
    import psutil

    try:
        cmd = " ".join(proc.cmdline()[:4]) or proc.name()
    except psutil.Error:
        cmd = "?"
    return f"{proc.pid} ({cmd[:80]})"


def _stop_state(home_dir: Path, state: dict, grace: float, echo: Callable[[str], None]) -> bool:
    """TERM every process of this Airflow, KILL what is left after ``grace`` seconds, and say what stopped."""
    import psutil

    procs = _alive_processes(state)
    if not procs:
        _state_path(home_dir).unlink(missing_ok=True)
        return True
    names = {int(i["pid"]): n for n, i in state.get("components", {}).items()}
    if state.get("smtp_sink"):
        names[int(state["smtp_sink"]["pid"])] = "smtp-sink"
    described = {p.pid: _describe(p) for p in procs}  # while they still have a command line
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(alive, timeout=5)
    for pid in list(_STARTED):  # collect our own children (a still-running Popen that is collected warns)
        for p in _STARTED.pop(pid):
            p.poll()
    # Late children (a task started while we were stopping): one more sweep by tag.
    late = _alive_processes(state)
    for proc in late:
        try:
            proc.kill()
        except psutil.Error:
            pass
    _, late_alive = psutil.wait_procs(late, timeout=5)
    survivors = list(alive) + list(late_alive)
    survivors = [p for p in survivors if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    components = sorted(f"{names[p.pid]} {p.pid}" for p in procs if p.pid in names)
    others = sorted(described.get(p.pid) or _describe(p) for p in procs + late if p.pid not in names)
    echo(f"stopped {len(procs) + len(late)} process(es): " + ", ".join(components))
    if others:
        echo(f"  and {len(others)} more (workers, task processes): " + "; ".join(others))
    if survivors:
        echo("some processes did not stop: " + ", ".join(str(p.pid) for p in survivors))
        return False
    if state.get("started_es"):
        subprocess.run(
            ["bash", str(PROJECT_ROOT / "infra" / "elasticsearch.sh"), "stop"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )
    _state_path(home_dir).unlink(missing_ok=True)
    return True


def stop_airflow(
    project_root: Path | str | None = None,
    *,
    home: Path | str | None = None,
    grace: float = 30.0,
    echo: Callable[[str], None] = print,
) -> bool:
    """Stop every process that ``start_airflow`` started, task processes included. True if all stopped."""
    home_dir = Path(home).resolve() if home else airflow_home(project_root)
    state = _read_state(home_dir)
    if not state:
        echo("Airflow is not running (no state file).")
        return True
    if not _alive_processes(state):
        echo("Airflow was not running any more.")
        _state_path(home_dir).unlink(missing_ok=True)
        return True
    state["started_es"] = False  # `down` leaves the shared Elasticsearch alone
    stopped = _stop_state(home_dir, state, grace, echo)
    if stopped:
        freed = [f"{port}" for port in (int(state["port"]),) if _port_bindable(port)]
        echo("Airflow stopped" + (f"; port {', '.join(freed)} is free again." if freed else "."))
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
    if not state or not _alive_processes(state):
        return None
    state["health"] = health(int(state["port"]))
    return state
