"""The DAG files: they load with zero import errors, parse fast, import nothing heavy at top level,
and follow the task rules (retries with backoff, timeouts, the fetch pool, no catch-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from airflow_support import AIRFLOW_WARNING_FILTERS, DAG_IDS, DAGS, configure_airflow_env

configure_airflow_env()  # before anything imports airflow

pytestmark = [pytest.mark.filterwarnings(f) for f in AIRFLOW_WARNING_FILTERS]

DAG_FILES = sorted(p for p in DAGS.glob("newsmon_*.py"))
# Modules that must never be imported when a DAG file is parsed: the pipeline and its clients.
HEAVY = {
    "pipeline",
    "elasticsearch",
    "elastic_transport",
    "feedparser",
    "lxml",
    "trafilatura",
    "selectolax",
    "aiosmtpd",
    "protego",
    "w3lib",
    "pandas",
    "numpy",
    "airflow.providers.elasticsearch",
    "airflow.providers.smtp",
}
PARSE_BUDGET_S = 2.0  # per file, on top of `import airflow.sdk`

_PROBE = r"""
import importlib.util, json, sys, time
sys.path.insert(0, sys.argv[2])
import airflow.sdk  # the baseline every DAG file pays anyway
from airflow.sdk import dag, task, Asset  # noqa: F401  (resolve the lazy attributes)
before = set(sys.modules)
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("dagfile", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "new": sorted(set(sys.modules) - before)}))
"""


def test_dagbag_loads_without_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS), known_pools={"default_pool", "newsmon_fetch"})
    assert bag.import_errors == {}, bag.import_errors
    assert bag.captured_warnings == {}, bag.captured_warnings
    assert set(bag.dag_ids) == DAG_IDS
    print("\nDagBag parse times (Airflow's own stats):")
    for stat in sorted(bag.dagbag_stats, key=lambda s: s.file):
        secs = stat.duration.total_seconds() if isinstance(stat.duration, timedelta) else float(stat.duration)
        print(f"  {stat.file:32s} {secs * 1000:8.1f} ms  dags={stat.dag_num} tasks={stat.task_num}")
    assert not any(s.file.endswith("_newsmon_common.py") for s in bag.dagbag_stats), ".airflowignore skips the helper"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_fast_and_imports_nothing_heavy(path):
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(DAGS)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    heavy = sorted(m for m in result["new"] if m in HEAVY or any(m.startswith(h + ".") for h in HEAVY))
    print(
        f"\n{path.name}: parsed in {result['seconds'] * 1000:.1f} ms (cold process, after `import airflow.sdk`); "
        f"{len(result['new'])} new modules"
    )
    assert heavy == [], f"{path.name} imports heavy modules at top level: {heavy}"
    assert result["seconds"] < PARSE_BUDGET_S


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS), known_pools={"default_pool", "newsmon_fetch"})
    return bag.dags


def test_task_rules(dags):
    for dag in dags.values():
        assert dag.catchup is False, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        for t in dag.tasks:
            where = f"{dag.dag_id}.{t.task_id}"
            assert t.retries >= 2, where
            assert t.retry_exponential_backoff, where
            assert t.max_retry_delay is not None, where
            assert t.execution_timeout is not None and t.execution_timeout <= timedelta(minutes=30), where
            assert not getattr(t, "multiple_outputs", False), f"{where}: one XCom per task, not one per key"
    assert dags["newsmon_poll"].get_task("poll").pool == "newsmon_fetch"
    assert dags["newsmon_process"].get_task("process").pool == "newsmon_fetch"


def _uris(condition) -> list[str]:
    if hasattr(condition, "objects"):  # AssetAll / AssetAny
        return [u for obj in condition.objects for u in _uris(obj)]
    return [condition.uri]


def test_schedules_and_assets(dags):
    from airflow.sdk import AssetOrTimeSchedule

    poll, process, alert, maint = (
        dags[d] for d in ("newsmon_poll", "newsmon_process", "newsmon_alert", "newsmon_maintenance")
    )
    new_items, indexed, statements = "newsmon://items/new", "newsmon://articles/indexed", "newsmon://statements/indexed"

    assert poll.schedule == "*/5 * * * *"  # seeds/feeds.yaml: poll_schedule_minutes: 5
    assert [o.uri for o in poll.get_task("announce").outlets] == [new_items]

    assert _uris(process.timetable.asset_condition) == [new_items]
    assert {o.uri for t in process.tasks for o in t.outlets} == {indexed, statements}

    assert isinstance(alert.schedule, AssetOrTimeSchedule)
    assert _uris(alert.schedule.asset_condition) == [indexed]
    assert alert.schedule.timetable.expression == "0 7 * * *"

    assert maint.schedule == "@daily"


def test_poll_schedule_comes_from_seeds(tmp_path, monkeypatch):
    sys.path.insert(0, str(DAGS))
    try:
        import _newsmon_common as common
    finally:
        sys.path.remove(str(DAGS))
    for minutes, expected in ((1, "* * * * *"), (15, "*/15 * * * *"), (7, timedelta(minutes=7))):
        (tmp_path / "feeds.yaml").write_text(f"poll_schedule_minutes: {minutes}\nfeeds: []\n")
        monkeypatch.setenv("NEWSMON_SEEDS_DIR", str(tmp_path))
        assert common.poll_timetable() == expected
    (tmp_path / "feeds.yaml").write_text("feeds: [unclosed\n")  # a broken file never breaks parsing
    assert common.poll_timetable() == "*/5 * * * *"


def test_connections_are_read_the_providers_way():
    """Elasticsearch: Schema is the scheme, never a path. SMTP: through SmtpHook, so disable_ssl /
    disable_tls mean what they mean in Airflow (implicit TLS and STARTTLS are on unless disabled)."""
    sys.path.insert(0, str(DAGS))
    try:
        import _newsmon_common as common
    finally:
        sys.path.remove(str(DAGS))
    from airflow.sdk import Connection

    from pipeline.config import load_settings

    es = Connection.from_uri("https://elastic:p%40ss@es.internal:9243", conn_id="newsmon_es")
    assert common.es_overrides(es) == {
        "es_url": "https://es.internal:9243",
        "es_user": "elastic",
        "es_password": "p@ss",
    }
    # the provider's own URI form and form fields: Schema = https
    es2 = Connection.from_uri("elasticsearch://elastic:pw@es.example.org:9200/https", conn_id="newsmon_es")
    assert common.es_overrides(es2)["es_url"] == "https://es.example.org:9200"
    es3 = Connection(conn_id="newsmon_es", conn_type="elasticsearch", host="10.0.0.5", port=9201, schema="http")
    assert common.es_overrides(es3) == {"es_url": "http://10.0.0.5:9201"}
    es4 = Connection(conn_id="newsmon_es", conn_type="elasticsearch", host="10.0.0.5", schema="https")
    assert common.es_overrides(es4) == {"es_url": "https://10.0.0.5:9200"}
    with pytest.raises(ValueError, match="Schema must be http or https"):
        common.es_overrides(Connection(conn_id="newsmon_es", conn_type="elasticsearch", host="h", schema="es"))

    # SMTP with the provider's defaults: implicit TLS (port 465 style), no STARTTLS on top of it
    smtp = Connection.from_uri("smtp://mailer:pw@mail.internal:465", conn_id="newsmon_smtp")
    assert common.smtp_overrides(smtp) == {
        "smtp_host": "mail.internal",
        "smtp_port": 465,
        "smtp_user": "mailer",
        "smtp_password": "pw",
        "smtp_ssl": True,
        "smtp_starttls": False,
        "smtp_timeout_s": 30.0,
        "smtp_verify_certs": True,
    }
    # a submission port: disable_ssl, STARTTLS stays on; from_email and timeout from the extras
    sub = Connection(
        conn_id="newsmon_smtp",
        conn_type="smtp",
        host="mail.internal",
        port=587,
        extra=json.dumps({"disable_ssl": True, "from_email": "alerts@newsroom.example", "timeout": 12}),
    )
    o = common.smtp_overrides(sub)
    assert (o["smtp_ssl"], o["smtp_starttls"], o["smtp_timeout_s"], o["mail_from"]) == (
        False,
        True,
        12.0,
        "alerts@newsroom.example",
    )
    # a plain local catcher: both disabled
    plain = Connection(
        conn_id="newsmon_smtp",
        conn_type="smtp",
        host="127.0.0.1",
        port=2525,
        extra=json.dumps({"disable_ssl": True, "disable_tls": True}),
    )
    o = common.smtp_overrides(plain)
    assert (o["smtp_ssl"], o["smtp_starttls"]) == (False, False)
    s = load_settings(**common.es_overrides(es2), **common.smtp_overrides(sub))
    assert s.es_url == "https://es.example.org:9200" and s.smtp_port == 587 and not s.smtp_ssl


def test_up_builds_connections_with_provider_fields():
    """What `newsmon airflow up` stores in the metastore reads back to the same settings."""
    sys.path.insert(0, str(DAGS))
    try:
        import _newsmon_common as common
    finally:
        sys.path.remove(str(DAGS))
    from airflow.sdk import Connection

    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import connection_definitions

    settings = load_settings(
        es_url="https://es.example.org:9243", es_user="newsmon", es_password="x", smtp_host="127.0.0.1", smtp_port=2525
    )
    defs = connection_definitions(settings)
    es = Connection(conn_id="newsmon_es", **{k: v for k, v in defs["newsmon_es"].items() if k != "description"})
    smtp = Connection(conn_id="newsmon_smtp", **{k: v for k, v in defs["newsmon_smtp"].items() if k != "description"})
    assert defs["newsmon_es"]["schema"] == "https" and defs["newsmon_es"]["port"] == 9243
    again = load_settings(**common.es_overrides(es), **common.smtp_overrides(smtp))
    assert again.es_url == settings.es_url and again.es_user == "newsmon"
    # the plain local SMTP of `up` must not be spoken to with TLS (the provider's default)
    assert (again.smtp_ssl, again.smtp_starttls, again.smtp_port) == (False, False, 2525)


def test_the_smtp_connection_up_stores_delivers_through_the_provider(smtp_server, monkeypatch):
    """The failure-mail path (SmtpNotifier → SmtpHook) over the connection `up` builds for a plain local
    server: it must not try implicit TLS (that failed with WRONG_VERSION_NUMBER), and newsmon's own
    mailer, fed by the same connection, delivers too."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    from pipeline.alerts.mail import send_email
    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import connection_definitions
    from pipeline.records import Alert

    sys.path.insert(0, str(DAGS))
    try:
        import _newsmon_common as common
    finally:
        sys.path.remove(str(DAGS))
    defs = connection_definitions(load_settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port))
    monkeypatch.setenv("AIRFLOW_CONN_NEWSMON_SMTP", json.dumps(defs["newsmon_smtp"]))
    with SmtpHook(smtp_conn_id="newsmon_smtp") as hook:
        hook.send_email_smtp(to="ops@newsroom.example", subject="task failed", html_content="<p>x</p>")
    assert smtp_server.wait_for(1)[0]["Subject"] == "task failed"

    conn = SmtpHook.get_connection("newsmon_smtp")
    settings = load_settings(**common.smtp_overrides(conn))
    alert = Alert(rule="r", recipients=["editors@newsroom.example"], subject="alert", body="b", hit_ids=["h"])
    send_email(alert, settings)
    assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["task failed", "alert"]
