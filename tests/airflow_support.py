"""Helpers for the Airflow tests: a throw-away AIRFLOW_HOME, its DB, and a local feed with the seed article.

Airflow reads its configuration once, at first import, so ``configure_airflow_env()`` must run
before anything imports ``airflow``; the test modules call it at import time.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"
DAG_IDS = {"newsmon_poll", "newsmon_process", "newsmon_alert", "newsmon_maintenance"}
# Warnings raised inside Airflow itself (dag.test() uses starlette's TestClient): not ours to fix.
AIRFLOW_WARNING_FILTERS = [
    "ignore:Using `httpx` with `starlette.testclient` is deprecated",
    "ignore::DeprecationWarning:starlette.*",
    "ignore::DeprecationWarning:fastapi.*",
    "ignore:Could not import graphviz",
    "ignore:GitWildMatchPattern:DeprecationWarning",  # Airflow's .airflowignore glob matcher
]

_home: Path | None = None
_db_ready = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure_airflow_env() -> Path:
    """Point this process's Airflow at a temporary home (removed at exit). Idempotent."""
    global _home
    if _home is not None:
        return _home
    from pipeline.ops.airflow_local import airflow_env

    _home = Path(tempfile.mkdtemp(prefix="newsmon-airflow-test-"))
    atexit.register(shutil.rmtree, _home, True)
    for key, value in airflow_env(REPO, home=_home, port=free_port()).items():
        if key.startswith("AIRFLOW"):
            os.environ[key] = value
    # One Fernet key for this process and the `airflow` commands it runs: a connection password the CLI
    # encrypts must be readable here (Airflow would otherwise read the key from an airflow.cfg that
    # `db migrate` writes only after this process has loaded its configuration).
    from cryptography.fernet import Fernet

    os.environ["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    os.environ["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
    os.environ["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
    # The DAG processor and the task runner put the DAG folder on sys.path; an in-process DagBag does not.
    if str(DAGS) not in sys.path:
        sys.path.append(str(DAGS))
    return _home


def ensure_db() -> None:
    """`airflow db migrate` and the fetch pool, once per test session."""
    global _db_ready
    if _db_ready:
        return
    from pipeline.ops.airflow_local import init_airflow

    configure_airflow_env()
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    init_airflow(env)
    _db_ready = True


def write_seeds(dest: Path, feed_url: str, poll_minutes: int = 1) -> Path:
    """Seeds for one local feed polled every minute, with the project's figures and topics and one
    statement rule (the seed article has statements by tracked figures)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "seeds" / "figures.yaml", dest / "figures.yaml")
    shutil.copy(REPO / "seeds" / "topics.yaml", dest / "topics.yaml")
    feeds = {
        "poll_schedule_minutes": poll_minutes,
        "feeds": [
            {
                "id": "local-test",
                "name": "Local test feed",
                "url": feed_url,
                "outlet": "The Daily Ledger",
                "language": "en",
                "poll_interval_minutes": 1,
                "tags": ["test"],
            }
        ],
    }
    alerts = {
        "alerts": [
            {
                "name": "tracked-figure-statements",
                "kind": "statement",
                "figures": ["*"],
                "recipients": ["editors@newsroom.example"],
            }
        ]
    }
    (dest / "feeds.yaml").write_text(yaml.safe_dump(feeds))
    (dest / "alerts.yaml").write_text(yaml.safe_dump(alerts))
    return dest


def serve_seed_article(site, seed_dir: Path) -> tuple[str, str]:
    """Register the seed article, robots.txt and a feed listing it on the conftest LocalSite."""
    from conftest import rss

    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    article_url = site.add("/politics/2024/12/30/musk-h1b-war.html", (seed_dir / "article.html").read_bytes())
    feed_url = site.add(
        "/feed.xml", rss([("Musk vows war over H-1B visas", article_url)]), content_type="application/rss+xml"
    )
    return feed_url, article_url
