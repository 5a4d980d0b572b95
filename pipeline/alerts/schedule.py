"""When a rule may mail: the digest schedule, quiet hours and the throttle. Pure functions of the time.

Digests are stateless: the digest at slot S (the latest time of `NEWSMON_DIGEST_CRON` that has
passed) carries the pending digest hits recorded before S. Whoever sends first after S, the Airflow
DAG's cron run or `newsmon run`, sends them; hits recorded after S wait for the next slot. So both
callers need nothing but the clock and the same setting to agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from croniter import croniter

from ..config import AlertRule

THROTTLE_WINDOW = timedelta(hours=1)


def digest_slot(cron: str, now: datetime) -> datetime:
    """The latest digest time at or before `now` (UTC)."""
    # croniter's get_prev is strictly before its start: start just after now, so `now` itself counts.
    return croniter(cron, now.astimezone(UTC) + timedelta(seconds=1)).get_prev(datetime)


def next_digest(cron: str, now: datetime) -> datetime:
    """The first digest time after `now` (UTC)."""
    return croniter(cron, now.astimezone(UTC)).get_next(datetime)


def hold_reason(rule: AlertRule, now: datetime, emails_last_hour: int = 0) -> str | None:
    """Why the rule may not send an email now (quiet hours, throttle), or None when it may."""
    until = rule.quiet_until(now)
    if until is not None:
        return f"quiet hours until {until.strftime('%H:%M')} {rule.timezone}"
    if rule.throttle is not None and emails_last_hour >= rule.throttle:
        return f"throttle: {emails_last_hour} email{'s' if emails_last_hour != 1 else ''} in the last hour"
    return None
