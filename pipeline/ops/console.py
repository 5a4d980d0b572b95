"""Terminal output shared by the CLI and the demo: progress bars and the run summary."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from ..progress import Reporter
from ..run import RunSummary

console = Console()
err = Console(stderr=True)


class RichReporter(Reporter):
    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def start(self, stage: str, total: int) -> None:
        if stage in self.tasks:
            self.progress.update(self.tasks[stage], total=(self.progress.tasks[self.tasks[stage]].total or 0) + total)
        else:
            self.tasks[stage] = self.progress.add_task(stage, total=total)

    def advance(self, stage: str, n: int = 1) -> None:
        self.progress.advance(self.tasks[stage], n)

    def note(self, message: str) -> None:
        self.progress.console.print(f"  [yellow]![/] {message}", highlight=False)


def print_summary(run: RunSummary) -> None:
    t = Table(title="newsmon run summary", show_header=False)
    p, pr, a = run.poll, run.process, run.alerts
    rows = [
        ("feeds polled", p.polled),
        ("  not modified", p.not_modified),
        ("  failed", p.failed),
        ("new items", p.new_items),
        ("new articles", pr.articles),
        ("  near-duplicates", pr.duplicates),
        ("  skipped (not articles)", pr.skipped),
        ("  fetch failures", pr.failed + pr.retry_later),
        ("tagged immigration policy", pr.tagged),
        ("statements", pr.statements),
        ("  new (first sightings)", pr.new_statements),
        ("alert hits queued", run.alert_hits),
        ("alert emails sent", a.emails_sent),
        ("  alerts pending", a.pending),
    ]
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
    if a.error:
        err.print(f"[yellow]alerts not sent:[/] {a.error} (they stay pending for the next run)")
