"""Logging for the stages: one logger per stage (`pipeline.<stage>`), secrets kept out of the records.

Each stage logs through the standard `logging` module, naming the feed, URL or rule in the message
(and in the record's `feed`, `url` or `rule` attribute), so Airflow shows the reasons in task logs and
the CLI prints them (through rich). Credentials in URLs (`https://user:password@host/`) are masked
before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@:]+:[^/\s@]*@")


def redact(text: str) -> str:
    """`scheme://user:password@host` -> `scheme://***@host`."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


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
