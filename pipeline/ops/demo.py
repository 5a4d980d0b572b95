"""The built-in demo: the project's own demo feeds, served locally, through the whole pipeline.

It starts what it needs (Elasticsearch, a mail catcher, the demo feed server), runs the main
job twice (the second run shows that nothing is indexed or mailed twice) and prints the summary,
three searches and the alert emails that arrived.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import PROJECT_ROOT, load_seeds, load_settings

DEMO = PROJECT_ROOT / "infra" / "demo"
SEARCHES = ["H-1B visas", "asylum", "border"]


def _step(console: Console, cmd: list[str]) -> None:
    console.print(f"[dim]$ {' '.join(cmd)}[/]")
    rc = subprocess.call(cmd)
    if rc:
        raise SystemExit(f"demo: step failed ({rc}): {' '.join(cmd)}")


def prepare_seeds(dest: Path) -> None:
    """Demo feeds and alert rules, with the real figures and topics."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("feeds.yaml", "alerts.yaml"):
        shutil.copy(DEMO / "seeds" / name, dest / name)
    for name in ("figures.yaml", "topics.yaml"):
        shutil.copy(PROJECT_ROOT / "seeds" / name, dest / name)


def run_demo(console: Console, port: int = 8765, smtp_port: int = 2525) -> int:
    from ..run import open_pipeline, run_once
    from ..store.search import search_articles
    from .console import RichReporter, print_summary, render_hit

    base = load_settings()
    state = base.state_dir
    seeds_dir = state / "demo-seeds"
    mail_dir = state / "demo-mail"
    prepare_seeds(seeds_dir)

    py = sys.executable
    _step(
        console,
        ["bash", str(PROJECT_ROOT / "infra" / "elasticsearch.sh"), "start", "--name", "local", "--port", "9200"],
    )
    _step(
        console,
        [py, str(PROJECT_ROOT / "infra" / "mailcatcher.py"), "start", "--port", str(smtp_port), "--dir", str(mail_dir)],
    )
    _step(console, [py, str(PROJECT_ROOT / "infra" / "mailcatcher.py"), "clear", "--dir", str(mail_dir)])
    _step(console, [py, str(DEMO / "serve.py"), "start", "--port", str(port)])

    settings = load_settings(
        es_url=base.es_url,
        index_prefix="newsmon-demo",
        seeds_dir=seeds_dir,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        allow_private=["127.0.0.1"],  # the demo feeds live on this machine
        host_delay_s=0.1,
    )
    seeds = load_seeds(seeds_dir)
    with open_pipeline(settings, seeds, setup=False) as p:
        # A fresh demo every time: drop the demo indices, then create them.
        p.es.options(ignore_status=404).indices.delete(index="newsmon-demo-*", expand_wildcards="all")
        from ..store.client import setup_indices

        setup_indices(p.es, "newsmon-demo")
        console.rule("[bold]newsmon run --once (demo feeds)")
        with Progress(
            TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            first = run_once(p, RichReporter(progress))
        print_summary(first)

        console.rule("[bold]Three searches")
        for q in SEARCHES:
            console.print(f'[bold cyan]newsmon search "{q}"[/]')
            hits = search_articles(p, q, size=1)
            for h in hits:
                console.print(render_hit(h), highlight=False)
            if not hits:
                console.print("  no hits")
            console.print()

        console.rule("[bold]Second run (nothing new expected)")
        second = run_once(p)
        console.print(
            f"new items {second.poll.new_items}, not modified {second.poll.not_modified}, "
            f"articles {second.process.articles}, alert emails {second.alerts.emails_sent}"
        )

    console.rule("[bold]Alert emails received by the local SMTP catcher")
    subprocess.call([py, str(PROJECT_ROOT / "infra" / "mailcatcher.py"), "list", "--dir", str(mail_dir)])
    console.print(
        "\nElasticsearch: http://127.0.0.1:9200 (aliases newsmon-demo-articles, newsmon-demo-statements)\n"
        f"Demo feeds: http://127.0.0.1:{port}/feeds/  ·  stop everything with: bash infra/stop-local.sh"
    )
    ok = first.process.articles > 0 and first.alerts.emails_sent > 0 and second.alerts.emails_sent == 0
    return 0 if ok else 1
