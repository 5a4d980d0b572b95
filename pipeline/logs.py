"""Logging for the stages: one logger per stage (`pipeline.<stage>`), secrets kept out of the records.

Each stage logs through the standard `logging` module, naming the feed, URL or rule in the message
(and in the record's `feed`, `url` or `rule` attribute), so Airflow shows the reasons in task logs and
the CLI prints them (through rich). Credentials in URLs (`https://user:password@host/`) are masked
before any handler sees the record.
"""

from __future__ import annotations

import logging

from .config import mask_url as redact  # `scheme://user:password@host` -> `scheme://user:***@host`


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        for attr in ("url", "feed_url"):
            value = getattr(record, attr, None)
            if isinstance(value, str):
                setattr(record, attr, redact(value))
        return True


_FILTER = RedactSecrets()


def stage_logger(name: str) -> logging.Logger:
    """The logger of a stage (its module name), with secrets masked in every record it creates."""
    log = logging.getLogger(name)
    if _FILTER not in log.filters:
        log.addFilter(_FILTER)
    return log
