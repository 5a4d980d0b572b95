"""newsmon_alert: match alert rules and send the emails.

Immediate rules run on every ``newsmon://articles/indexed`` event (for the article ids it carries);
daily digest rules run on a cron schedule (``NEWSMON_DIGEST_CRON``, default 07:00 UTC). Hits are
recorded as pending before sending and marked sent after, so a rerun sends nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from _newsmon_common import ARTICLES_INDEXED, DEFAULT_ARGS, START_DATE, digest_cron


@dag(
    dag_id="newsmon_alert",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(digest_cron(), timezone="UTC"),
        assets=ARTICLES_INDEXED,
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(minutes=30),
    tags=["newsmon"],
    doc_md=__doc__,
)
def newsmon_alert():
    @task(execution_timeout=timedelta(minutes=2))
    def queue(triggering_asset_events=None, dag_run=None) -> dict:
        """Record the new rule hits as pending. Returns {schedule: hits}.

        Asset-triggered (or manual) runs handle immediate rules; the cron run handles the daily
        digest and also picks up any immediate hit still pending.
        """
        from pipeline.run import queue_alerts

        from _newsmon_common import article_ids_from_events, newsmon_pipeline

        ids = article_ids_from_events(triggering_asset_events)
        schedules = ["immediate"]
        if dag_run is not None and str(getattr(dag_run, "run_type", "")).endswith("scheduled"):
            schedules.append("daily")
        with newsmon_pipeline() as p:
            return {s: queue_alerts(p, ids if s == "immediate" else None, schedule=s) for s in schedules}

    @task(execution_timeout=timedelta(minutes=5))
    def send(queued: dict) -> dict:
        """Send the pending hits, one email per recipient and schedule. Returns counts."""
        from pipeline.run import send_pending_alerts

        from _newsmon_common import newsmon_pipeline

        out = {}
        with newsmon_pipeline() as p:
            for schedule in queued:
                s = send_pending_alerts(p, schedule=schedule)
                out[schedule] = {
                    "emails_sent": s.emails_sent,
                    "hits_sent": s.hits_sent,
                    "pending": s.pending,
                    "failed": s.failed,
                }
        failed = sum(v["failed"] for v in out.values())
        if failed:
            raise RuntimeError(f"{failed} alert email(s) could not be sent; they stay pending for the retry")
        return out

    send(queue())


newsmon_alert()
