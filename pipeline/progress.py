"""Progress reporting hook. Stages call it; the CLI shows it, Airflow tasks log it, tests ignore it."""

from __future__ import annotations


class Reporter:
    """Does nothing. Subclass to show progress (see cli.RichReporter)."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, stage: str, n: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass
