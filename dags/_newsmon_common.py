"""Shared pieces of the newsmon DAGs: assets, task defaults, connections.

Parse-time rule: this module is imported by every DAG file whenever the DAG processor parses
them, so at top level it imports only the standard library and ``airflow.sdk``. Anything
heavy (the pipeline, Elasticsearch, HTTP clients) is imported inside the functions that the
tasks call at run time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ assets (defined once, here)

NEW_ITEMS = Asset("newsmon://items/new", group="newsmon")
ARTICLES_INDEXED = Asset("newsmon://articles/indexed", group="newsmon")
STATEMENTS_INDEXED = Asset("newsmon://statements/indexed", group="newsmon")

# ------------------------------------------------------------------ sizing

FETCH_POOL = "newsmon_fetch"  # created by `newsmon airflow up` (pipeline/ops/airflow_local.py)
FETCH_POOL_SLOTS = 2  # sized for 2 cores; both poll and process batches fetch over HTTP
FEED_BATCH = int(os.environ.get("NEWSMON_FEED_BATCH", "10"))  # feeds per mapped poll task
ITEM_BATCH = int(os.environ.get("NEWSMON_ITEM_BATCH", "25"))  # items per mapped process task
MAX_PENDING = int(os.environ.get("NEWSMON_MAX_PENDING", "500"))  # items taken by one process run
MAX_EVENT_IDS = 500  # article ids carried in one asset event's extra
# Processes for a task's CPU stages (parsing, enrichment). 0: in the task's own process, since Airflow
# already runs FETCH_POOL_SLOTS tasks side by side; a worker with cores to spare may raise it.
TASK_CPU_WORKERS = int(os.environ.get("NEWSMON_TASK_CPU_WORKERS", "0"))

START_DATE = datetime(2025, 1, 1, tzinfo=UTC)

ES_CONN_ID = "newsmon_es"
SMTP_CONN_ID = "newsmon_smtp"


def _failure_callback(context: Any) -> None:
    """Task-level failure notice by email, only when NEWSMON_OPS_EMAIL names a recipient.

    Task-level (not DAG-level) because the DAG-level SmtpNotifier does not work under dag.test().
    """
    to = os.environ.get("NEWSMON_OPS_EMAIL")
    if not to:
        return
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    ti = context.get("ti")
    SmtpNotifier(
        smtp_conn_id=SMTP_CONN_ID,
        from_email=os.environ.get("NEWSMON_MAIL_FROM", "newsmon@localhost"),
        to=to,
        subject=f"[newsmon] task failed: {getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}",
        html_content=(
            f"Task {getattr(ti, 'task_id', '?')} of {getattr(ti, 'dag_id', '?')} failed "
            f"(run {getattr(ti, 'run_id', '?')}, try {getattr(ti, 'try_number', '?')}). See the Airflow logs."
        ),
    )(context)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newsmon",
    "retries": 3,
    "retry_delay": timedelta(seconds=15),
    "retry_exponential_backoff": 2.0,  # 15 s, 30 s, 60 s ...
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=5),
    "on_failure_callback": _failure_callback,
}


# ------------------------------------------------------------------ parse-time settings (cheap)


def seeds_dir() -> Path:
    return Path(os.environ.get("NEWSMON_SEEDS_DIR") or PROJECT_ROOT / "seeds")


def poll_schedule_minutes() -> int:
    """``poll_schedule_minutes`` from seeds/feeds.yaml, read with yaml only (default 5)."""
    try:
        import yaml

        doc = yaml.safe_load((seeds_dir() / "feeds.yaml").read_text(encoding="utf-8")) or {}
        minutes = int(doc.get("poll_schedule_minutes", 5))
    except (OSError, ValueError, TypeError, AttributeError, ImportError):
        return 5
    except Exception:  # yaml.YAMLError: a broken seed file must not break DAG parsing
        return 5
    return max(1, minutes)


def poll_timetable():
    """Cron for divisors of 60 (runs on the clock: :00, :05, ...), a fixed interval otherwise."""
    minutes = poll_schedule_minutes()
    if 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    return timedelta(minutes=minutes)


def due_slack() -> timedelta:
    """How far ahead the poll DAG looks for due feeds: half of its own period."""
    return timedelta(minutes=poll_schedule_minutes()) / 2


def digest_cron() -> str:
    """When the daily digest rules are sent (UTC); NEWSMON_DIGEST_CRON overrides."""
    return os.environ.get("NEWSMON_DIGEST_CRON", "0 7 * * *")


# ------------------------------------------------------------------ run-time: connections -> settings


def _get_connection(conn_id: str):
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def es_overrides(conn) -> dict[str, Any]:
    """Settings overrides from an Elasticsearch connection.

    Accepted forms: ``AIRFLOW_CONN_NEWSMON_ES='http://user:pass@host:9200'`` (or https://), or
    ``elasticsearch://user:pass@host:9200?scheme=https``, or the JSON form with the same fields.
    """
    out: dict[str, Any] = {}
    host = (conn.host or "").strip()
    if host:
        if "://" in host:
            url = host.rstrip("/")
        else:
            extra = conn.extra_dejson or {}
            scheme = extra.get("scheme") or ("https" if (conn.conn_type or "").lower() == "https" else "http")
            url = f"{scheme}://{host}:{conn.port or 9200}"
            if conn.schema:
                url += "/" + conn.schema.strip("/")
        out["es_url"] = url
    if conn.login:
        out["es_user"] = conn.login
    if conn.password:
        out["es_password"] = conn.password
    return out


def smtp_overrides(conn) -> dict[str, Any]:
    """Settings overrides from an SMTP connection (``smtp://user:pass@host:587?starttls=true``)."""
    out: dict[str, Any] = {}
    if conn.host:
        out["smtp_host"] = conn.host
    if conn.port:
        out["smtp_port"] = int(conn.port)
    if conn.login:
        out["smtp_user"] = conn.login
    if conn.password:
        out["smtp_password"] = conn.password
    extra = conn.extra_dejson or {}
    if "starttls" in extra:
        out["smtp_starttls"] = str(extra["starttls"]).lower() in ("1", "true", "yes")
    if extra.get("from_email"):
        out["mail_from"] = extra["from_email"]
    return out


def connection_overrides() -> dict[str, Any]:
    """Overrides from the ``newsmon_es`` / ``newsmon_smtp`` Airflow connections that are defined.

    Connection passwords are registered with Airflow's secrets masker when the connection is
    fetched, so they are redacted from task logs; nothing here logs them.
    """
    out: dict[str, Any] = {}
    es = _get_connection(ES_CONN_ID)
    if es is not None:
        out.update(es_overrides(es))
    smtp = _get_connection(SMTP_CONN_ID)
    if smtp is not None:
        out.update(smtp_overrides(smtp))
    return out


def airflow_settings():
    """newsmon Settings: NEWSMON_* environment, overridden by the Airflow connections if defined."""
    from pipeline.config import load_settings

    return load_settings(**connection_overrides())


@contextmanager
def newsmon_pipeline() -> Iterator[Any]:
    """Open the pipeline (ES client, HTTP client, seeds) for one task, and close it afterwards."""
    from pipeline.run import open_pipeline

    p = open_pipeline(airflow_settings())
    try:
        yield p
    finally:
        p.close()


def batched(ids: list[str], size: int) -> list[list[str]]:
    size = max(1, size)
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def article_ids_from_events(triggering_asset_events: Any) -> list[str] | None:
    """Article ids carried by the triggering ``articles/indexed`` events; None when there are none."""
    if not triggering_asset_events:
        return None
    ids: list[str] = []
    try:
        events = triggering_asset_events[ARTICLES_INDEXED]
    except KeyError:
        return None
    for event in events:
        extra = event.extra or {}
        if extra.get("truncated"):
            return None  # too many to carry: let the pipeline look at everything pending
        ids.extend(str(i) for i in extra.get("article_ids") or [])
    return sorted(set(ids)) or None
