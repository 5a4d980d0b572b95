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
    """Settings overrides from the ``newsmon_es`` connection, read the Elasticsearch provider's way.

    Fields as the provider's connection form defines them: Host, Port (default 9200), Schema = the
    URL scheme (``http``, the default, or ``https``; never a path), Login and Password; extras
    ``verify_certs`` and ``ca_certs``. The URI form is ``elasticsearch://user:pass@host:9200/https``.
    A full URL typed into Host (``https://es.example.org:9243``) is taken as it is.
    """
    out: dict[str, Any] = {}
    extra = conn.extra_dejson or {}
    host = (conn.host or "").strip().rstrip("/")
    if host:
        if "://" in host:
            url = host
        else:
            scheme = (conn.schema or "").strip().strip("/").lower()
            if not scheme:  # the URI forms http://... and https://... carry the scheme as the type
                scheme = "https" if (conn.conn_type or "").lower() == "https" else "http"
            if scheme not in ("http", "https"):
                raise ValueError(
                    f"Airflow connection '{conn.conn_id}': Schema must be http or https (the provider's "
                    f"meaning of the field), not '{conn.schema}'"
                )
            url = f"{scheme}://{host}:{conn.port or 9200}"
        out["es_url"] = url
    if conn.login:
        out["es_user"] = conn.login
    if conn.password:
        out["es_password"] = conn.password
    if "verify_certs" in extra:
        out["es_verify_certs"] = str(extra["verify_certs"]).lower() in ("1", "true", "yes")
    if extra.get("ca_certs"):
        out["es_ca_certs"] = extra["ca_certs"]
    return out


def smtp_overrides(conn) -> dict[str, Any]:
    """Settings overrides from the ``newsmon_smtp`` connection, read through the provider's ``SmtpHook``.

    The hook gives the fields their provider meaning: implicit TLS unless the extra ``disable_ssl`` is
    true, STARTTLS unless ``disable_tls`` is true, ``timeout`` (30 s), ``from_email`` and
    ``ssl_context`` (``none`` skips certificate checks). The hook only interprets the connection here;
    newsmon's own client sends (pipeline.alerts.mail), since pipeline/ never imports Airflow.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    hook = SmtpHook(smtp_conn_id=conn.conn_id)
    hook.smtp_connection = conn  # the hook reads every field through this connection
    out: dict[str, Any] = {
        "smtp_ssl": hook.use_ssl,
        "smtp_starttls": hook.smtp_starttls and not hook.use_ssl,  # STARTTLS inside TLS is meaningless
        "smtp_timeout_s": float(hook.timeout),
        "smtp_verify_certs": hook.ssl_context != "none",
    }
    if hook.host:
        out["smtp_host"] = hook.host
    if conn.port:
        out["smtp_port"] = int(conn.port)
    else:  # smtplib's defaults for the mode the hook chose
        out["smtp_port"] = 465 if hook.use_ssl else 25
    if hook.smtp_user:
        out["smtp_user"] = hook.smtp_user
    if hook.smtp_password:
        out["smtp_password"] = hook.smtp_password
    if hook.from_email:
        out["mail_from"] = hook.from_email
    return out


def connection_overrides() -> dict[str, Any]:
    """Overrides from the ``newsmon_es`` / ``newsmon_smtp`` Airflow connections that are defined.

    Connection passwords are registered with Airflow's secrets masker when the connection is
    fetched, so they are redacted from task logs; nothing here logs them.
    """
    import logging

    log = logging.getLogger("newsmon.connections")
    out: dict[str, Any] = {}
    es = _get_connection(ES_CONN_ID)
    if es is not None:
        out.update(es_overrides(es))
        log.info("Elasticsearch from Airflow connection '%s': %s", ES_CONN_ID, out.get("es_url", "(no host)"))
    else:
        log.info("no Airflow connection '%s': Elasticsearch from NEWSMON_ES_URL", ES_CONN_ID)
    smtp = _get_connection(SMTP_CONN_ID)
    if smtp is not None:
        out.update(smtp_overrides(smtp))
        log.info("SMTP from Airflow connection '%s': %s:%s", SMTP_CONN_ID, out.get("smtp_host"), out.get("smtp_port"))
    else:
        log.info("no Airflow connection '%s': SMTP from NEWSMON_SMTP_*", SMTP_CONN_ID)
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


def finished_results(results: Any) -> list[dict]:
    """The results of the mapped batches that finished; a failed batch has none (None, or absent)."""
    out = []
    for r in results or []:
        if isinstance(r, dict):
            out.append(r)
    return out


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
