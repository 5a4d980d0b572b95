"""newsmon_poll: poll the feeds that are due, in mapped batches; announce new items as an asset event.

Schedule: every ``poll_schedule_minutes`` (seeds/feeds.yaml, default 5). One active run at most,
no catch-up. The ``newsmon://items/new`` event is emitted when new items arrived, or when none did
but queued items are due again (a retry whose backoff ended): its extra carries the count of new
items and ``due_retries``. Heavy imports happen inside the tasks, never at parse time.
"""

from __future__ import annotations

from datetime import timedelta

from _newsmon_common import DEFAULT_ARGS, FEED_BATCH, FETCH_POOL, NEW_ITEMS, START_DATE, poll_timetable
from airflow.sdk import dag, task


@dag(
    dag_id="newsmon_poll",
    schedule=poll_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(minutes=30),
    tags=["newsmon"],
    doc_md=__doc__,
)
def newsmon_poll():
    @task(execution_timeout=timedelta(minutes=2))
    def due_batches() -> list[list[str]]:
        """Feed ids whose next poll time has come, split into batches (ids only).

        A poll sets the feed's next poll on the schedule's grid (pipeline.poll.next_slot), so no
        look-ahead is needed: however late a poll ran, its feed is due at the next tick.
        """
        from _newsmon_common import newsmon_pipeline

        from pipeline.fanout import feed_batches
        from pipeline.run import due_feeds

        with newsmon_pipeline() as p:
            # grouped by host: two workers never poll one site at once (pipeline/fanout.py)
            return feed_batches(p, due_feeds(p), FEED_BATCH)

    @task(pool=FETCH_POOL, execution_timeout=timedelta(minutes=10), multiple_outputs=False)
    def poll(feed_ids: list[str]) -> dict:
        """Poll one batch of feeds; new items are stored as pending. Returns counts only."""
        from _newsmon_common import TASK_CPU_WORKERS, newsmon_pipeline

        from pipeline.run import poll_feeds

        with newsmon_pipeline() as p:
            s = poll_feeds(p, feed_ids, cpu_workers=TASK_CPU_WORKERS)
        return {
            "polled": s.polled,
            "not_modified": s.not_modified,
            "failed": s.failed,
            "new_items": s.new_items,
            "failed_feeds": sorted(s.failures),
        }

    @task(outlets=[NEW_ITEMS], execution_timeout=timedelta(minutes=1))
    def announce(results, outlet_events=None) -> int:
        """Emit ``newsmon://items/new`` with the count, or skip (no event) when nothing is new or due."""
        from airflow.sdk.exceptions import AirflowSkipException

        results = list(results)
        new_items = sum(r["new_items"] for r in results)
        due = 0
        if not new_items:  # retries whose backoff ended must not wait for some feed to publish
            from _newsmon_common import newsmon_pipeline

            from pipeline.itemqueue import count_due

            with newsmon_pipeline() as p:
                due = count_due(p)
            if not due:
                raise AirflowSkipException("no new items and no retry due: no asset event")
        outlet_events[NEW_ITEMS].extra = {
            "count": new_items,
            "due_retries": due,
            "feeds_polled": sum(r["polled"] for r in results),
            "feeds_failed": sum(r["failed"] for r in results),
        }
        return new_items

    announce(poll.expand(feed_ids=due_batches()))


newsmon_poll()
