"""Terminal output shared by the CLI and the demo: progress bars, the run summary, search hits."""

from __future__ import annotations

import html

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from ..config import mask_url
from ..progress import Reporter
from ..run import RunSummary
from ..store.search import Hit

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
        # message names URLs and errors from strangers' servers: shown as text, never as markup
        self.progress.console.print(f"  [yellow]![/] {escape(mask_url(message))}", highlight=False)


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
        ("  alerts pending (not sent)", a.pending),
        ("  alerts held (quiet hours, throttle)", a.held),
        ("daily digest emails sent", run.digest.emails_sent),
    ]
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
    for error in dict.fromkeys(e for e in (a.error, run.digest.error) if e):
        err.print(f"[yellow]alerts not sent:[/] {escape(mask_url(error))} (they stay pending for the next run)")


def _marked(snippet: str) -> str:
    """An escaped snippet with <em> marks as rich markup: matches in bold yellow."""
    parts = snippet.replace("\n", " ").split("<em>")
    out = [escape(html.unescape(parts[0]))]
    for part in parts[1:]:
        hit, _, rest = part.partition("</em>")
        out.append(f"[bold yellow]{escape(html.unescape(hit))}[/]{escape(html.unescape(rest))}")
    return "".join(out)


def render_hit(hit: Hit) -> str:
    when = (hit.published or "")[:10]
    if hit.kind == "statement":
        flag = "new" if hit.is_new else "repeat"
        head = (
            f"[bold]{escape(hit.speaker or '')}[/] ({hit.statement_kind}, {flag})  [dim]{when} {escape(hit.outlet)}[/]"
        )
        lines = [head, f"  {_marked(hit.snippets[0]) if hit.snippets else ''}"]
        lines.append(f"  [dim]in:[/] {escape(hit.title)}  [blue]{escape(hit.url)}[/]")
        return "\n".join(lines)
    topics = ", ".join(hit.topics)
    head = (
        f"[bold]{escape(hit.title)}[/]  [dim]{when} {escape(hit.outlet)}{' · ' + escape(topics) if topics else ''}[/]"
    )
    lines = [head, f"  [blue]{escape(hit.url)}[/]"]
    lines += [f"  … {_marked(s)} …" for s in hit.snippets]
    return "\n".join(lines)
