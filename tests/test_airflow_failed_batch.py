"""A failed process batch hides no other batch's alerts: dag.test() of process with three mapped
batches, one of which fails, then the alert DAG; the two good articles are mailed once, and the third
once its batch succeeds on a later run."""

from __future__ import annotations

import time

import pytest
import yaml
from airflow_support import AIRFLOW_WARNING_FILTERS, DAGS, REPO, configure_airflow_env, ensure_db
from conftest import rss
from test_alerts import STORY_A, STORY_B, page

configure_airflow_env()  # before anything imports airflow

pytestmark = [pytest.mark.airflow, pytest.mark.es] + [pytest.mark.filterwarnings(f) for f in AIRFLOW_WARNING_FILTERS]

STORY_C = [
    "A federal judge in Texas heard arguments on Monday in a lawsuit over the H-1B lottery, which employers say was changed without notice.",
    "The plaintiffs, a group of staffing companies and two universities, asked the court to pause the new selection rules until the case is decided.",
    "Government lawyers said the agency had followed the required procedure and that the rules would make the lottery fairer to smaller firms.",
    "The judge did not say when she would rule, but scheduled another hearing for the end of the month to hear from economists on both sides.",
]


def _state(x) -> str:
    return str(getattr(x, "value", x))


def _asset_events(uri: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset_id = select(AssetModel.id).where(AssetModel.uri == uri).scalar_subquery()
        rows = session.scalars(select(AssetEvent).where(AssetEvent.asset_id == asset_id).order_by(AssetEvent.id)).all()
        return [dict(r.extra or {}) for r in rows]


def test_a_failed_batch_hides_no_other_batch_from_alerts(
    tmp_path, site, smtp_server, es_url, index_prefix, monkeypatch
):
    import _newsmon_common
    from airflow.dag_processing.dagbag import DagBag
    from test_airflow_e2e import _newsmon_env

    import pipeline.run

    urls = {
        name: site.add(f"/{name}.html", page(site.url(f"/{name}.html"), title, story))
        for name, title, story in (
            ("a", "White House moves to tighten H-1B rules", STORY_A),
            ("b", "Tech firms alarmed by H-1B wage plan", STORY_B),
            ("c", "Judge hears challenge to H-1B lottery changes", STORY_C),
        )
    }
    feed = site.add("/feed.xml", rss([(n.upper(), u) for n, u in urls.items()]), content_type="application/rss+xml")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("figures.yaml", "topics.yaml"):
        (seeds / name).write_text((REPO / "seeds" / name).read_text())
    (seeds / "feeds.yaml").write_text(
        yaml.safe_dump({"poll_schedule_minutes": 1, "feeds": [{"id": "t", "name": "T", "url": feed, "outlet": "T"}]})
    )
    rule = {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["desk@news.example"]}
    (seeds / "alerts.yaml").write_text(yaml.safe_dump({"alerts": [rule]}))
    for k, v in _newsmon_env(es_url, index_prefix, seeds, smtp_server.port, tmp_path / "var").items():
        monkeypatch.setenv(k, v)

    # One item per mapped batch, and the batch holding article c fails (an Elasticsearch outage, say).
    monkeypatch.setattr(_newsmon_common, "ITEM_BATCH", 1)
    # All three pages are on one host, which the fan-out keeps in one batch unless the host is big; split it.
    import pipeline.fanout

    monkeypatch.setattr(pipeline.fanout, "HOST_SPLIT", 0)
    ensure_db()
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    poll, process, alert = (bag.get_dag(d) for d in ("newsmon_poll", "newsmon_process", "newsmon_alert"))
    process.get_task("process").retries = 0

    real_process_items = pipeline.run.process_items

    def failing_for_c(p, item_ids, *args, **kw):
        docs = p.es.mget(index=p.idx("items"), ids=item_ids)["docs"]
        if any(d["_source"]["url"] == urls["c"] for d in docs if d.get("found")):
            raise RuntimeError("injected: this batch fails")
        return real_process_items(p, item_ids, *args, **kw)

    monkeypatch.setattr(pipeline.run, "process_items", failing_for_c)

    def alert_run() -> None:
        # dag.test() does not trigger asset-scheduled DAGs: run the alert DAG as the latest event would.
        events = _asset_events("newsmon://articles/indexed")
        ids = events[-1].get("article_ids", []) if events else []
        dr = alert.test(run_conf={"article_ids": ids})
        assert _state(dr.state) == "success"

    assert _state(poll.test().state) == "success"
    n_events = len(_asset_events("newsmon://articles/indexed"))
    dr = process.test()
    states = {(ti.task_id, ti.map_index): _state(ti.state) for ti in dr.get_task_instances() if ti.task_id == "process"}
    assert sorted(states.values()) == ["failed", "success", "success"], states
    events = _asset_events("newsmon://articles/indexed")
    assert len(events) == n_events + 1, "the good batches' articles were announced despite the failed one"
    assert events[-1]["count"] == 2 and events[-1].get("failed_batches") == 1, events[-1]
    alert_run()
    mails = smtp_server.wait_for(1, timeout=10)
    assert len(mails) == 1
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert urls["a"] in body and urls["b"] in body and urls["c"] not in body

    # The failed batch's item is still pending: the next process run takes it, and only c is mailed.
    monkeypatch.setattr(pipeline.run, "process_items", real_process_items)
    assert _state(process.test().state) == "success"
    alert_run()
    mails = smtp_server.wait_for(2, timeout=10)
    time.sleep(1)
    assert len(smtp_server.messages) == 2
    body = smtp_server.messages[1].get_body(preferencelist=("plain",)).get_content()
    assert urls["c"] in body and urls["a"] not in body and urls["b"] not in body
