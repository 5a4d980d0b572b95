"""newsmon_process: fetch, extract, enrich and index the pending items, in mapped batches.

Scheduled on the ``newsmon://items/new`` asset. Emits ``newsmon://articles/indexed`` (extra: count
and article ids) and ``newsmon://statements/indexed`` (extra: count) when something new was indexed,
also when some batches failed: the announce tasks run once every batch is done, and a failed batch
may have indexed part of its articles, so its event says ``failed_batches`` and the alert DAG finds
them by its watermark. Items are taken from the queue (due ones, a few per host), so a rerun finds
nothing left to do and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from _newsmon_common import (
    ARTICLES_INDEXED,
    DEFAULT_ARGS,
    FETCH_POOL,
    ITEM_BATCH,
    MAX_EVENT_IDS,
    MAX_PENDING,
    NEW_ITEMS,
    START_DATE,
    STATEMENTS_INDEXED,
)
from airflow.sdk import TriggerRule, dag, task


@dag(
    dag_id="newsmon_process",
    schedule=[NEW_ITEMS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(minutes=60),
    tags=["newsmon"],
    doc_md=__doc__,
)
def newsmon_process():
    @task(execution_timeout=timedelta(minutes=2))
    def pending_batches() -> list[list[str]]:
        """Ids of the items waiting for processing, split into batches."""
        from _newsmon_common import newsmon_pipeline

        from pipeline.fanout import item_batches
        from pipeline.run import pending_items

        with newsmon_pipeline() as p:
            # grouped by host: two workers never fetch from one site at once (pipeline/fanout.py)
            return item_batches(p, pending_items(p, limit=MAX_PENDING), ITEM_BATCH)

    @task(pool=FETCH_POOL, execution_timeout=timedelta(minutes=20), multiple_outputs=False)
    def process(item_ids: list[str]) -> dict:
        """Fetch, extract, enrich and index one batch. Returns counts and article ids only."""
        from _newsmon_common import TASK_CPU_WORKERS, newsmon_pipeline

        from pipeline.run import process_items

        with newsmon_pipeline() as p:
            s = process_items(p, item_ids, cpu_workers=TASK_CPU_WORKERS)
        return {
            "articles": s.articles,
            "tagged": s.tagged,
            "statements": s.statements,
            "new_statements": s.new_statements,
            "skipped": s.skipped,
            "failed": s.failed,
            "article_ids": list(s.article_ids),
        }

    # ALL_DONE: a failed batch must not hide the others' articles from the alert DAG.
    @task(outlets=[ARTICLES_INDEXED], execution_timeout=timedelta(minutes=1), trigger_rule=TriggerRule.ALL_DONE)
    def announce_articles(batches, results, outlet_events=None) -> int:
        from _newsmon_common import finished_results
        from airflow.sdk.exceptions import AirflowSkipException

        done = finished_results(results)
        failed = len(batches or []) - len(done)
        ids = sorted({a for r in done for a in r["article_ids"]})
        if not ids and not failed:
            raise AirflowSkipException("no newly indexed articles: no asset event")
        extra = {"count": len(ids), "article_ids": ids[:MAX_EVENT_IDS]}
        if len(ids) > MAX_EVENT_IDS:
            extra["truncated"] = True
        if failed:
            extra["failed_batches"] = failed
        outlet_events[ARTICLES_INDEXED].extra = extra
        return len(ids)

    @task(outlets=[STATEMENTS_INDEXED], execution_timeout=timedelta(minutes=1), trigger_rule=TriggerRule.ALL_DONE)
    def announce_statements(results, outlet_events=None) -> int:
        from _newsmon_common import finished_results
        from airflow.sdk.exceptions import AirflowSkipException

        new = sum(r["new_statements"] for r in finished_results(results))
        if not new:
            raise AirflowSkipException("no new statements: no asset event")
        outlet_events[STATEMENTS_INDEXED].extra = {"count": new}
        return new

    batches = pending_batches()
    results = process.expand(item_ids=batches)
    announce_articles(batches, results)
    announce_statements(results)


newsmon_process()
