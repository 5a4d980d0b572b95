"""newsmon_maintenance: daily feed health report (dead or failing feeds), retention and rollover."""

from __future__ import annotations

from datetime import timedelta

from _newsmon_common import DEFAULT_ARGS, START_DATE
from airflow.sdk import dag, task


@dag(
    dag_id="newsmon_maintenance",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=1),
    tags=["newsmon"],
    doc_md=__doc__,
)
def newsmon_maintenance():
    @task(execution_timeout=timedelta(minutes=30), multiple_outputs=False)
    def maintain() -> dict:
        """Feed health + retention/rollover. The report goes to the task log; XCom keeps it small."""
        import json
        import logging

        from _newsmon_common import newsmon_pipeline

        from pipeline.run import maintain as run_maintenance

        with newsmon_pipeline() as p:
            report = run_maintenance(p)
        logging.getLogger("newsmon.maintenance").info("maintenance report: %s", json.dumps(report, default=str))
        return _small(report)

    maintain()


def _small(report: dict) -> dict:
    """Keep ids and counts only: lists of feed ids stay, anything long is reduced to its length."""
    out: dict = {}
    for key, value in (report or {}).items():
        if isinstance(value, (int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, str):
            out[key] = value[:200]
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value) and len(value) <= 200:
            out[key] = list(value)
        elif isinstance(value, dict) and all(isinstance(v, (int, float, bool)) for v in value.values()):
            out[key] = dict(value)
        else:
            out[key] = len(value) if hasattr(value, "__len__") else str(value)[:200]
    return out


newsmon_maintenance()
