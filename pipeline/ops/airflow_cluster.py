"""The distributed profile on one machine: what a scaled-out deployment runs, every part on 127.0.0.1.

    python -m pipeline.ops.airflow_cluster up   [--home DIR] [--port 8080] [--workers 2]
    python -m pipeline.ops.airflow_cluster down [--home DIR]

`up` starts PostgreSQL (Airflow's metadata database; Debian's postgresql), Redis (the Celery broker;
Debian's redis-server), then Airflow 3 with the CeleryExecutor: API server, scheduler, DAG processor,
triggerer and `--workers` Celery workers, each component in a process group of its own (so one
can be killed alone, as the fault test does). The newsmon settings that make the workers one
deployment are `cluster.PROFILE_ENV` (the same as infra/docker-compose.cluster.yml). Elasticsearch is
whatever NEWSMON_ES_URL names: `infra/elasticsearch.sh cluster start` gives three local nodes.

Like `airflow_local`, this never imports Airflow; it runs the venv's `airflow` executable.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .airflow_local import (
    ES_CONN_ID,
    PROJECT_ROOT,
    AirflowCtlError,
    _port_open,
    _run,
    airflow_bin,
    connection_definitions,
    full_env,
    health,
    init_airflow,
    is_healthy,
    wait_for_api,
)
from .cluster import PROFILE_ENV, PROFILE_WORKERS

STATE_FILE = "newsmon-cluster.json"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise AirflowCtlError(f"PostgreSQL's {name} is not installed (apt-get install -y postgresql)")
    return found[-1]


def _as_pg_user(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package creates the user "postgres".
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _check(args: list[str], what: str, timeout: float = 120) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise AirflowCtlError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def start_postgres(home: Path, port: int) -> dict[str, Any]:
    data, run, log = home / "pgdata", home / "pgrun", home / "postgres.log"
    run.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chmod(home, 0o755)  # the postgres user must reach its folders
        shutil.chown(run, "postgres")
        log.touch()
        shutil.chown(log, "postgres")
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        _check(
            _as_pg_user([_pg_bin("initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"]), "initdb"
        )
    opts = f"-p {port} -k {run} -c listen_addresses=127.0.0.1 -c max_connections=200"
    _check(_as_pg_user([_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]), "pg_ctl start")
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "-d", "postgres", "-tAc",
         "SELECT 1 FROM pg_database WHERE datname = 'airflow'"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if exists.stdout.strip() != "1":
        _check(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "-d", "postgres", "-c",
                "CREATE DATABASE airflow"], "create database airflow")  # fmt: skip
    return {"port": port, "data": str(data)}


def stop_postgres(home: Path) -> None:
    data = home / "pgdata"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_pg_user([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )


def _spawn(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group each: one component can be stopped or killed alone
        )  # fmt: skip


def profile_env(home: Path, port: int, pg_port: int, redis_port: int) -> dict[str, str]:
    pg = f"postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow"
    return {
        **PROFILE_ENV,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow",
        # every component signs and checks task tokens with one secret
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        # a task whose worker died is failed (and retried) after this long without a heartbeat
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
        "AIRFLOW__CORE__PARALLELISM": "8",
    }


def fetch_pool_slots(env: dict[str, str], workers: int) -> int:
    """The newsmon_fetch pool for the profile: workers x their Celery concurrency."""
    return workers * int(env.get("AIRFLOW__CELERY__WORKER_CONCURRENCY", "2"))


def import_connections(env: dict[str, str]) -> None:
    """newsmon_es / newsmon_smtp into Airflow's metastore from newsmon's settings (as `newsmon airflow up`
    does), the Elasticsearch one naming every node of NEWSMON_ES_URL: a list of full URLs in Host is
    taken as it is (dags/_newsmon_common.es_overrides). The file exists only for the import (mode 600)."""
    from pipeline.config import load_settings

    settings = load_settings()
    defs = connection_definitions(settings.model_copy(update={"es_url": settings.es_url.split(",")[0]}))
    if "," in settings.es_url:
        defs[ES_CONN_ID]["host"] = settings.es_url
    path = Path(env["AIRFLOW_HOME"]) / f".newsmon-connections-{os.getpid()}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(defs, fh)
        _run(["connections", "import", str(path)], env)
    finally:
        path.unlink(missing_ok=True)


def start_cluster(
    home: Path, *, port: int = 8080, workers: int = PROFILE_WORKERS, extra_env: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:  # fmt: skip
    """Start the whole profile and wait until Airflow reports every component healthy."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    if _port_open("127.0.0.1", port):
        raise AirflowCtlError(f"port {port} on 127.0.0.1 is already in use")
    redis_bin = shutil.which("redis-server")
    if not redis_bin:
        raise AirflowCtlError("redis-server is not installed (apt-get install -y redis-server)")
    pg_port = free_port()
    state: dict[str, Any] = {"home": str(home), "port": port, "groups": {}, "started": time.time()}
    state_path = home / STATE_FILE

    def save() -> None:
        state_path.write_text(json.dumps(state, indent=2))

    state["postgres"] = start_postgres(home, pg_port)
    save()
    try:
        return _start_rest(home, state, save, port, workers, pg_port, extra_env, timeout)
    except BaseException:
        stop_cluster(home)
        raise


def _start_rest(
    home: Path, state: dict[str, Any], save: Any, port: int, workers: int, pg_port: int,
    extra_env: dict[str, str] | None, timeout: float,
) -> dict[str, Any]:  # fmt: skip
    redis_bin = shutil.which("redis-server") or "redis-server"
    redis_port = free_port()
    redis = _spawn(
        [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ), home / "redis.log", home,
    )  # fmt: skip
    state["groups"]["redis"] = redis.pid
    save()
    env = full_env({**profile_env(home, port, pg_port, redis_port), **(extra_env or {})},
                   project_root=PROJECT_ROOT, home=home, port=port)  # fmt: skip
    # Every worker's task slots may fetch at once (each batch is one site group, paced through the
    # host gate); a pool of one machine's size would leave the second worker idle.
    init_airflow(env, pool_slots=fetch_pool_slots(env, workers))
    import_connections(env)
    api = _spawn([airflow_bin(), "api-server"], env, home / "api-server.log", home)
    state["groups"]["api-server"] = api.pid
    save()
    # tasks report to the API server's execution API: a task scheduled before it answers fails its first try
    wait_for_api(port, api.poll, timeout, home / "api-server.log")  # start_cluster stops everything on failure
    for name, args in (
        ("scheduler", ["scheduler"]),
        ("dag-processor", ["dag-processor"]),
        ("triggerer", ["triggerer"]),
    ):
        state["groups"][name] = _spawn([airflow_bin(), *args], env, home / f"{name}.log", home).pid
    for n in range(1, workers + 1):
        wenv = {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}  # two workers, one machine
        args = [airflow_bin(), "celery", "worker", "--celery-hostname", f"worker{n}@%h", "--concurrency",
                env.get("AIRFLOW__CELERY__WORKER_CONCURRENCY", "2")]  # fmt: skip
        state["groups"][f"worker{n}"] = _spawn(args, wenv, home / f"worker{n}.log", home).pid
    save()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = [n for n in range(1, workers + 1) if b" ready." in (home / f"worker{n}.log").read_bytes()]
        if is_healthy(health(port)) and len(ready) == workers:
            state["ready_after_s"] = round(time.time() - state["started"], 1)
            save()
            return state
        dead = [name for name, pid in state["groups"].items() if not _alive(pid)]
        if dead:
            stop_cluster(home)
            raise AirflowCtlError(f"{', '.join(dead)} exited during start-up; see the logs in {home}")
        time.sleep(1)
    stop_cluster(home)
    raise AirflowCtlError(f"the cluster profile was not healthy within {timeout:.0f} s; see the logs in {home}")


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_component(home: Path, name: str, sig: int = signal.SIGKILL) -> None:
    """Signal one component's whole process group (a Celery worker and its task processes, say)."""
    state = json.loads((home / STATE_FILE).read_text())
    os.killpg(int(state["groups"][name]), sig)


def stop_cluster(home: Path, grace: float = 20.0) -> None:
    """TERM every component's group, KILL what is left after `grace`, then stop PostgreSQL."""
    path = home / STATE_FILE
    if not path.exists():
        return
    state = json.loads(path.read_text())
    groups = [int(g) for g in state["groups"].values()]
    for g in groups:
        if _alive(g):
            os.killpg(g, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(g) for g in groups):
        time.sleep(0.3)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
    for g in groups:
        if _alive(g):
            os.killpg(g, signal.SIGKILL)
    stop_postgres(home)
    path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.ops.airflow_cluster", description=__doc__)
    ap.add_argument("command", choices=["up", "down"])
    ap.add_argument("--home", type=Path, default=PROJECT_ROOT / "var" / "airflow-cluster")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--workers", type=int, default=PROFILE_WORKERS)
    args = ap.parse_args(argv)
    if args.command == "down":
        stop_cluster(args.home)
        print("cluster profile stopped")
        return 0
    try:
        state = start_cluster(args.home, port=args.port, workers=args.workers)
    except AirflowCtlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"cluster profile up after {state['ready_after_s']} s: http://127.0.0.1:{args.port} (logs in {args.home})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
