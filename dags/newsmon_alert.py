"""newsmon_alert: match alert rules against newly indexed articles and send the emails.

* On every ``newsmon://articles/indexed`` event: the rules are matched against every article
  indexed since the last alert pass (a watermark kept in the index; the ids the event carries are
  only a hint), so nothing a failed process batch or a crash left behind is missed; immediate hits
  are mailed at once, digest ("daily") hits stay pending.
* On a cron schedule (``NEWSMON_DIGEST_CRON``, default 07:00 UTC): the digest is mailed (the
  pending digest hits recorded before that slot), and any immediate hit still pending after an SMTP
  outage. Every pass sends a digest that is due (``pipeline.run.send_due_digest``, which
  ``newsmon run`` calls too), so whichever passes first after a slot sends it.
* Manually: trigger with ``{"article_ids": [...]}`` to match given articles, ``{"digest": true}``
  to send the digest now.

Hits are recorded with deterministic ids, claimed with a lease before sending and marked sent
right after each email was accepted, so a rerun, or a ``newsmon run`` at the same time, queues
nothing twice and mails nothing twice (a crash while mailing: at least once; docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from datetime import timedelta

from _newsmon_common import ARTICLES_INDEXED, DEFAULT_ARGS, START_DATE, digest_cron
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task


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
    params={
        "article_ids": Param([], type="array", description="manual runs: article ids to match"),
        "digest": Param(False, type="boolean", description="manual runs: also send the daily digest"),
    },
    tags=["newsmon"],
    doc_md=__doc__,
)
def newsmon_alert():
    @task(execution_timeout=timedelta(minutes=2))
    def queue(triggering_asset_events=None, params=None) -> int:
        """Match every rule against what was indexed since the last pass (and the hinted articles);
        record new hits as pending. Returns the count."""
        from _newsmon_common import article_ids_from_events, newsmon_pipeline

        from pipeline.run import queue_alerts

        ids = article_ids_from_events(triggering_asset_events) or list((params or {}).get("article_ids") or [])
        with newsmon_pipeline() as p:
            return queue_alerts(p, ids, schedule=None)

    @task(execution_timeout=timedelta(minutes=5), multiple_outputs=False)
    def send(queued: int, params=None) -> dict:
        """Mail the pending hits (one email per rule). Returns counts per schedule."""
        from _newsmon_common import newsmon_pipeline

        from pipeline.run import send_due_digest, send_pending_alerts

        out = {}
        with newsmon_pipeline() as p:
            # The digest that is due (hits recorded before the latest NEWSMON_DIGEST_CRON slot) goes out on
            # every pass, as in `newsmon run`; a manual run with digest=true sends every digest hit now.
            sent = {
                "immediate": send_pending_alerts(p, schedule="immediate"),
                "daily": send_pending_alerts(p, schedule="daily")
                if (params or {}).get("digest")
                else send_due_digest(p),
            }
            for schedule, s in sent.items():
                out[schedule] = {
                    "emails_sent": s.emails_sent,
                    "hits_sent": s.hits_sent,
                    "pending": s.pending,
                    "failed": s.failed,
                }
                if s.error:
                    # The hits stay pending: the retry (exponential backoff) sends them, and only them.
                    raise RuntimeError(f"{schedule} alerts not sent: {s.error} ({s.pending} pending)")
        return out

    send(queue())


newsmon_alert()
