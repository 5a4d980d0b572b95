"""The DAGs for real: dag.test() of poll -> process -> alert against the real Elasticsearch and a
real SMTP server, then the real scheduler + API server + DAG processor + triggerer showing that
newsmon_process and newsmon_alert are started by asset events alone.

Both use a local feed that serves the seed article (../shared/fixtures/seed-article), index it,
and send exactly one alert; running again indexes nothing new and sends nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import pytest
from airflow_support import (
    AIRFLOW_WARNING_FILTERS,
    DAGS,
    REPO,
    configure_airflow_env,
    ensure_db,
    free_port,
    serve_seed_article,
    write_seeds,
)
from conftest import shared_path

configure_airflow_env()  # before anything imports airflow

pytestmark = [pytest.mark.airflow, pytest.mark.es] + [pytest.mark.filterwarnings(f) for f in AIRFLOW_WARNING_FILTERS]

SECRET = "s3cr3t-" + uuid.uuid4().hex[:12]  # the ES connection's password: must never reach a log
ASSET_TRIGGER_TIMEOUT_S = 240  # first 1-minute tick + poll + process + alert, with slack for a slow CI


def _newsmon_env(es_url: str, index_prefix: str, seeds: Path, smtp_port: int, state_dir: Path) -> dict[str, str]:
    host_port = es_url.split("://", 1)[1]
    return {
        # Elasticsearch and SMTP come from the Airflow connections; the NEWSMON_* values for them are
        # deliberately wrong, so the test fails if the DAGs fall back to them.
        "AIRFLOW_CONN_NEWSMON_ES": f"http://newsmon:{SECRET}@{host_port}",
        # A plain SMTP server: the provider's SMTP connection uses implicit TLS unless told otherwise.
        "AIRFLOW_CONN_NEWSMON_SMTP": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp_port,
                "extra": {"disable_ssl": True, "disable_tls": True},
            }
        ),
        "NEWSMON_ES_URL": "http://127.0.0.1:1",
        "NEWSMON_SMTP_PORT": "1",
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_STATE_DIR": str(state_dir),
    }


def _counts(es_url: str, prefix: str) -> dict[str, int]:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(es_url)
    try:
        es.indices.refresh(index=f"{prefix}-*")
        return {k: es.count(index=f"{prefix}-{k}")["count"] for k in ("items", "articles", "statements", "alerts")}
    finally:
        es.close()


def _asset_events(uri: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset_id = select(AssetModel.id).where(AssetModel.uri == uri).scalar_subquery()
        rows = session.scalars(select(AssetEvent).where(AssetEvent.asset_id == asset_id).order_by(AssetEvent.id)).all()
        return [dict(r.extra or {}) for r in rows]


def _states(dr) -> dict[str, str]:
    out = {}
    for ti in dr.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[key] = str(getattr(ti.state, "value", ti.state))
    return out


@pytest.fixture
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    ensure_db()
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag


def test_dag_test_chain_indexes_and_alerts_once(
    tmp_path, site, smtp_server, es_url, index_prefix, dagbag, monkeypatch, capfd
):
    feed_url, _ = serve_seed_article(site, shared_path("fixtures", "seed-article"))
    seeds = write_seeds(tmp_path / "seeds", feed_url)
    for k, v in _newsmon_env(es_url, index_prefix, seeds, smtp_server.port, tmp_path / "var").items():
        monkeypatch.setenv(k, v)
    poll, process, alert = (dagbag.get_dag(d) for d in ("newsmon_poll", "newsmon_process", "newsmon_alert"))
    timings = {}

    def run(dag, **kw):
        t0 = time.perf_counter()
        dr = dag.test(**kw)
        timings.setdefault(dag.dag_id, []).append(round(time.perf_counter() - t0, 1))
        assert str(getattr(dr.state, "value", dr.state)) == "success", (dag.dag_id, _states(dr))
        return _states(dr)

    # ---- first pass: the seed article is new
    states = run(poll)
    assert states["announce"] == "success", states
    assert _asset_events("newsmon://items/new")[-1]["count"] == 1

    states = run(process)
    assert states["announce_articles"] == "success" and states["announce_statements"] == "success", states
    event = _asset_events("newsmon://articles/indexed")[-1]
    assert event["count"] == 1 and len(event["article_ids"]) == 1
    assert _asset_events("newsmon://statements/indexed")[-1]["count"] >= 3

    # dag.test() does not trigger asset-scheduled DAGs: run the alert DAG with the event's ids.
    run(alert, run_conf={"article_ids": event["article_ids"]})
    mails = smtp_server.wait_for(1, timeout=10)
    assert len(mails) == 1, [m["Subject"] for m in mails]
    assert mails[0]["X-Newsmon-Rule"] == "tracked-figure-statements"
    counts = _counts(es_url, index_prefix)
    assert counts["articles"] == 1 and counts["alerts"] >= 1, counts

    # ---- second pass: nothing new, nothing indexed, nothing sent
    n_items_events = len(_asset_events("newsmon://items/new"))
    n_article_events = len(_asset_events("newsmon://articles/indexed"))
    states = run(poll)
    assert states["announce"] == "skipped", states
    states = run(process)
    assert states["announce_articles"] == "skipped", states
    run(alert, run_conf={"article_ids": event["article_ids"]})
    assert len(_asset_events("newsmon://items/new")) == n_items_events, "no new items: no asset event"
    assert len(_asset_events("newsmon://articles/indexed")) == n_article_events
    assert _counts(es_url, index_prefix) == counts
    time.sleep(1)
    assert len(smtp_server.messages) == 1, "a rerun must not send email again"

    out, err = capfd.readouterr()
    assert SECRET not in out + err, "the ES connection password reached the output"
    print(f"\ndag.test() durations (s): {timings}")


def _dag_runs(db: Path) -> list[tuple[str, str, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("select dag_id, run_type, state from dag_run order by id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def test_scheduler_runs_process_and_alert_on_asset_events(tmp_path, site, smtp_server, es_url, index_prefix):
    """`up` stores the connections in the metastore (none in the environment): the tasks reach ES and
    SMTP through them although the NEWSMON_* values in the environment are wrong. No log server
    listens (8793/8794), and `down` leaves no process and no port behind."""
    from pipeline.config import load_settings
    from pipeline.ops.airflow_local import _alive_processes, _port_bindable, airflow_status, start_airflow, stop_airflow

    feed_url, _ = serve_seed_article(site, shared_path("fixtures", "seed-article"))
    seeds = write_seeds(tmp_path / "seeds", feed_url, poll_minutes=1)
    home = tmp_path / "airflow"
    env = _newsmon_env(es_url, index_prefix, seeds, smtp_server.port, tmp_path / "var")
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        env.pop(var)
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(free_port())
    # The connections `up` stores: built from these settings (the ES password rides along, unused by
    # the plain test node, and must reach no log).
    up_settings = load_settings(
        es_url=es_url,
        es_user="newsmon",
        es_password=SECRET,
        smtp_port=smtp_server.port,
        seeds_dir=seeds,
        index_prefix=index_prefix,
    )
    # start_airflow passes os.environ on to Airflow: the test's NEWSMON_* must be there too.
    saved = {k: os.environ.get(k) for k in [*env, "AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"]}
    os.environ.update(env)
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        os.environ.pop(var, None)
    t_start = time.monotonic()
    state = None
    api_port = free_port()
    try:
        state = start_airflow(REPO, home=home, port=api_port, settings=up_settings, smtp_sink=False, timeout=120)
        t_healthy = time.monotonic() - t_start
        import psutil

        listening = set()
        for proc in _alive_processes(state):
            try:
                listening |= {c.laddr for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                pass
        assert listening == {("127.0.0.1", api_port)}, f"only the API server listens, on 127.0.0.1: {listening}"
        deadline = time.monotonic() + ASSET_TRIGGER_TIMEOUT_S
        while time.monotonic() < deadline and not smtp_server.messages:
            time.sleep(1)
        t_mail = time.monotonic() - t_start
        runs = _dag_runs(home / "airflow.db")
        print(f"\nhealthy after {t_healthy:.1f} s; first alert email {t_mail:.1f} s after start; dag runs: {runs}")
        assert smtp_server.messages, f"no alert email within {ASSET_TRIGGER_TIMEOUT_S} s; runs: {runs}; logs in {home}"
        by_dag = {}
        for dag_id, run_type, run_state in runs:
            by_dag.setdefault(dag_id, []).append((run_type, run_state))
        assert ("scheduled", "success") in by_dag.get("newsmon_poll", []), by_dag
        assert ("asset_triggered", "success") in by_dag.get("newsmon_process", []), by_dag
        # The alert run may still be finishing (marking hits sent) right after the email arrived.
        for _ in range(30):
            if ("asset_triggered", "success") in by_dag.get("newsmon_alert", []):
                break
            time.sleep(1)
            by_dag = {}
            for dag_id, run_type, run_state in _dag_runs(home / "airflow.db"):
                by_dag.setdefault(dag_id, []).append((run_type, run_state))
        assert ("asset_triggered", "success") in by_dag.get("newsmon_alert", []), by_dag
        assert not any(rt == "manual" for v in by_dag.values() for rt, _ in v), "nothing was triggered by hand"
        assert len(smtp_server.messages) == 1
        counts = _counts(es_url, index_prefix)
        assert counts["articles"] == 1

        # The next 1-minute tick polls again unattended: nothing new, so no asset event, no
        # process or alert run, nothing indexed and nothing mailed.
        def polls_done() -> int:
            return sum(1 for d, _, st in _dag_runs(home / "airflow.db") if d == "newsmon_poll" and st == "success")

        first_polls = polls_done()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and polls_done() <= first_polls:
            time.sleep(1)
        assert polls_done() > first_polls, "the poll DAG did not run again on its schedule"
        runs = _dag_runs(home / "airflow.db")
        assert sum(1 for d, rt, _ in runs if d == "newsmon_process") == 1, runs
        assert sum(1 for d, rt, _ in runs if d == "newsmon_alert" and rt == "asset_triggered") == 1, runs
        assert _counts(es_url, index_prefix) == counts
        assert len(smtp_server.messages) == 1
        print(f"second poll tick done {time.monotonic() - t_start:.1f} s after start; nothing new")

        admin_pw = next(iter(json.loads(Path(state["password_file"]).read_text()).values()))
        logs = [p for p in (home / "logs").rglob("*") if p.is_file()] + [Path(state["log"])]
        assert len(logs) > 5
        leaked = [str(p) for p in logs if SECRET in p.read_text(errors="replace")]
        assert not leaked, f"the ES password reached these logs: {leaked}"
        leaked = [str(p) for p in logs if admin_pw in p.read_text(errors="replace")]
        assert not leaked, f"the UI admin password reached these logs: {leaked}"
    finally:
        if state is not None:
            assert stop_airflow(home=home, grace=30)
            pids = [int(i["pid"]) for i in state["components"].values()]
            import psutil

            alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
            assert not alive, f"components survived `down`: {alive}"
            assert not _alive_processes(state), "a process of this Airflow (task, worker) survived `down`"
            assert _port_bindable(api_port), f"port {api_port} still held after `down`"
            assert airflow_status(home=home) is None
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_up_stops_what_it_started_when_a_later_step_fails(tmp_path, es_url, smtp_server, monkeypatch):
    """The components are running when the wait for health fails: every one of them is stopped again,
    by PID, and the API port is free."""
    import psutil

    from pipeline.config import load_settings
    from pipeline.ops import airflow_local as ctl

    home = tmp_path / "airflow"
    api_port = free_port()
    seen: dict = {}

    def failing_health(doc):
        state = json.loads((home / ctl.STATE_FILE).read_text())
        if len(state["components"]) == len(ctl.COMPONENTS) + 1:  # everything started, housekeeper too
            seen.update(state)
            raise RuntimeError("injected failure after start")
        return False

    monkeypatch.setattr(ctl, "is_healthy", failing_health)
    settings = load_settings(es_url=es_url, smtp_port=smtp_server.port, seeds_dir=REPO / "seeds")
    with pytest.raises(RuntimeError, match="injected"):
        ctl.start_airflow(REPO, home=home, port=api_port, settings=settings, smtp_sink=False, timeout=120, echo=print)
    pids = [int(i["pid"]) for i in seen["components"].values()]
    assert len(pids) == 5
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running after the failed start: {alive}"
    assert not ctl._alive_processes(seen)
    assert ctl._port_bindable(api_port)
    assert not (home / ctl.STATE_FILE).exists()


def test_a_connection_edited_with_the_cli_is_used_by_the_next_task_run(
    tmp_path, es_url, secure_es, index_prefix, dagbag, monkeypatch
):
    """newsmon_es lives in the metastore. `airflow connections` moves it from the plain node to the secure
    node (login + password, provider fields): the next maintenance run writes to the secure node."""
    import subprocess
    import sys

    from elasticsearch import Elasticsearch

    secure_url, secure_pw = secure_es
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEWSMON_ES_URL", "http://127.0.0.1:1")  # the fallback would fail: only the connection works
    monkeypatch.setenv("NEWSMON_INDEX_PREFIX", index_prefix)
    monkeypatch.setenv("NEWSMON_SEEDS_DIR", str(REPO / "seeds"))
    airflow = str(Path(sys.executable).parent / "airflow")

    def cli(*args: str) -> None:
        out = subprocess.run([airflow, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ))
        assert out.returncode == 0, out.stdout + out.stderr

    plain_port = int(es_url.rsplit(":", 1)[1])
    secure_port = int(secure_url.rsplit(":", 1)[1])
    subprocess.run([airflow, "connections", "delete", "newsmon_es"], capture_output=True, env=dict(os.environ))
    cli(
        "connections", "add", "newsmon_es", "--conn-type", "elasticsearch", "--conn-host", "127.0.0.1",
        "--conn-port", str(plain_port), "--conn-schema", "http",
    )  # fmt: skip
    maintenance = dagbag.get_dag("newsmon_maintenance")
    plain = Elasticsearch(es_url)
    secure = Elasticsearch(secure_url, basic_auth=("elastic", secure_pw))
    try:
        dr = maintenance.test()
        assert str(getattr(dr.state, "value", dr.state)) == "success", _states(dr)
        assert plain.indices.exists_alias(name=f"{index_prefix}-items")
        assert not secure.indices.exists_alias(name=f"{index_prefix}-items")

        # the edit: another node, with credentials (what a user does in the UI or with the CLI)
        cli("connections", "delete", "newsmon_es")
        cli(
            "connections", "add", "newsmon_es", "--conn-type", "elasticsearch", "--conn-host", "127.0.0.1",
            "--conn-port", str(secure_port), "--conn-schema", "http", "--conn-login", "elastic",
            "--conn-password", secure_pw,
        )  # fmt: skip
        dr = maintenance.test()
        assert str(getattr(dr.state, "value", dr.state)) == "success", _states(dr)
        assert secure.indices.exists_alias(name=f"{index_prefix}-items"), (
            "the next run did not use the edited connection"
        )
    finally:
        secure.options(ignore_status=404).indices.delete(index=f"{index_prefix}-*", expand_wildcards="all")
        subprocess.run([airflow, "connections", "delete", "newsmon_es"], capture_output=True, env=dict(os.environ))
        plain.close()
        secure.close()


def test_airflow_clean_removes_old_run_history(es_url, index_prefix, dagbag, monkeypatch):
    """`newsmon airflow clean` (airflow db clean): the run history older than the cut-off leaves the
    metadata database; younger runs stay."""
    from pipeline.ops.airflow_local import clean_metadata

    monkeypatch.setenv("NEWSMON_ES_URL", es_url)
    monkeypatch.setenv("NEWSMON_INDEX_PREFIX", index_prefix)
    monkeypatch.setenv("NEWSMON_SEEDS_DIR", str(REPO / "seeds"))
    for var in ("AIRFLOW_CONN_NEWSMON_ES", "AIRFLOW_CONN_NEWSMON_SMTP"):
        monkeypatch.delenv(var, raising=False)
    dr = dagbag.get_dag("newsmon_maintenance").test()
    assert str(getattr(dr.state, "value", dr.state)) == "success", _states(dr)
    db = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"

    def rows(table: str) -> int:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(f"select count(*) from {table}").fetchone()[0]
        finally:
            con.close()

    before = (rows("dag_run"), rows("task_instance"))
    assert before[0] >= 1 and before[1] >= 1
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    clean_metadata(env, days=30)  # everything here is minutes old: nothing goes
    assert (rows("dag_run"), rows("task_instance")) == before
    clean_metadata(env, days=0, now=time.time() + 60)  # cut-off after the runs: they go
    assert (rows("dag_run"), rows("task_instance")) == (0, 0), "old run history was not removed"
