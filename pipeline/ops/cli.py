"""`newsmon` command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import PROJECT_ROOT, ConfigError, Settings, install_log_masking, load_seeds, load_settings, mask_url
from .console import RichReporter, console, err, print_summary

if TYPE_CHECKING:
    from ..context import Pipeline
    from ..run import RunSummary

app = typer.Typer(
    help="newsmon: poll news feeds, extract, tag, attribute statements, index and alert.", no_args_is_help=True
)
es_app = typer.Typer(help="Local Elasticsearch and index setup.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality evaluations against labelled data.", no_args_is_help=True)
train_app = typer.Typer(help="Build the shipped models from ../shared data.", no_args_is_help=True)
airflow_app = typer.Typer(help="Run the Airflow DAGs locally.", no_args_is_help=True)
kibana_app = typer.Typer(help="Kibana data views, saved searches and dashboard.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alert rules (seeds/alerts.yaml): list them, try one out.", no_args_is_help=True)


# `newsmon run --once` exit codes (README "Exit codes"); the worst problem of the run decides.
EXIT_OK = 0
EXIT_CONFIG = 1  # settings or seeds invalid, or nothing to work on (a fresh prefix): the message says what to run
EXIT_ES = 3  # Elasticsearch unreachable or refusing writes: the run stopped
EXIT_SMTP = 4  # alert emails could not be sent: they stay pending for the next run
EXIT_PARTIAL = 5  # some feeds or pages failed (the run went on; pages are retried with backoff)


def run_exit_code(summary: RunSummary) -> int:
    if summary.alerts.error or summary.digest.error:
        return EXIT_SMTP
    if summary.poll.failed or summary.poll.failures or summary.process.failed or summary.process.retry_later:
        return EXIT_PARTIAL
    return EXIT_OK


def _setup_logging(level: str) -> None:
    """pipeline/ logs through `logging`; print its records on stderr through rich (no markup: a feed
    title or URL is printed as it is), secrets masked."""
    import logging

    from rich.logging import RichHandler

    from ..logs import RedactSecrets

    handler = RichHandler(console=err, markup=False, show_path=False, rich_tracebacks=False, log_time_format="%H:%M:%S")
    handler.addFilter(RedactSecrets())
    root = logging.getLogger("pipeline")
    root.handlers = [handler]
    root.setLevel(level.upper())


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        console.print(f"newsmon {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str = typer.Option(
        "warning",
        "--log-level",
        envvar="NEWSMON_LOG_LEVEL",
        help="What the stages log on stderr: debug, info, warning (failures) or error.",
    ),
) -> None:
    """newsmon: poll news feeds, extract, tag, attribute statements, index and alert."""
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        _fail(f"--log-level {log_level!r}: use debug, info, warning or error")
    _setup_logging(log_level)
    install_log_masking()


app.add_typer(es_app, name="es")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(airflow_app, name="airflow")
app.add_typer(kibana_app, name="kibana")
app.add_typer(alerts_app, name="alerts")

ES_SCRIPT = PROJECT_ROOT / "infra" / "elasticsearch.sh"


def _fail(message: str, code: int = 1) -> NoReturn:
    # Messages carry URLs, titles and server text: never read them as markup, never show a password.
    err.print(f"[bold red]error:[/] {escape(mask_url(message))}", highlight=False, soft_wrap=True)  # paths unbroken
    raise typer.Exit(code)


def _settings(seeds_dir: Path | None = None, **overrides: Any) -> Settings:
    if seeds_dir is not None:
        overrides["seeds_dir"] = seeds_dir
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        _fail(str(exc))


def _open(settings: Settings, setup: bool = True) -> Pipeline:
    from ..run import open_pipeline
    from ..store.client import EsUnavailable

    try:
        p = open_pipeline(settings, setup=setup)
    except ConfigError as exc:
        _fail(str(exc))
    except EsUnavailable as exc:
        _fail(str(exc), EXIT_ES)
    if not setup:
        _require_indices(p)
    return p


def _require_indices(p: Pipeline) -> None:
    """A fresh prefix or deleted indices: say what to run instead of failing on the first query."""
    from ..store.mappings import INDICES

    missing = [k for k in INDICES if not p.es.indices.exists_alias(name=p.idx(k))]
    if missing:
        prefix, url = p.settings.index_prefix, p.settings.es_url
        p.close()
        _fail(
            f"no newsmon indices for prefix '{prefix}' at {url} (missing: {', '.join(p.idx(k) for k in missing)}). "
            "Run `newsmon es setup` to create them, then `newsmon run --once` to fill them "
            "(or check NEWSMON_INDEX_PREFIX)."
        )


@app.command()
def run(
    once: bool = typer.Option(False, "--once", help="Run the whole pipeline once over all feeds and exit."),
    seeds: Path | None = typer.Option(None, help="Seeds folder (default: NEWSMON_SEEDS_DIR or ./seeds)."),
    only_due: bool = typer.Option(False, help="Poll only feeds whose poll interval has passed."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Poll feeds, fetch and enrich new articles, index them and send alerts.

    Exit codes of --once: 0 all went well; 1 bad settings or seeds; 3 Elasticsearch failed (the run
    stopped); 4 alert emails could not be sent (they stay pending); 5 some feeds or pages failed.
    """
    from ..run import run_once
    from ..store.client import EsUnavailable

    settings = _settings(seeds)
    p = _open(settings)
    try:
        while True:
            with Progress(
                TextColumn("{task.description:>8}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                disable=json_out,
                transient=False,
            ) as progress:
                try:
                    summary = run_once(p, RichReporter(progress), only_due=only_due or not once)
                except EsUnavailable as exc:
                    if once:
                        _fail(str(exc), EXIT_ES)
                    err.print(f"[bold red]error:[/] {escape(str(exc))}; trying again at the next tick")
                    time.sleep(60 * p.seeds.poll_schedule_minutes)
                    continue
            if json_out:
                print(summary.model_dump_json())
            else:
                print_summary(summary)
            if once:
                code = run_exit_code(summary)
                if code:
                    raise typer.Exit(code)
                break
            time.sleep(60 * p.seeds.poll_schedule_minutes)
    finally:
        p.close()


@app.command()
def search(
    query: str = typer.Argument(
        "", help='Words to search for (simple query syntax: "a phrase", -not, a|b); empty: the newest.'
    ),
    size: int = typer.Option(5, min=1, max=1000, help="How many hits to show."),
    statements: bool = typer.Option(False, "--statements", help="Search statements instead of articles."),
    since: str | None = typer.Option(None, help="Only what was published since: 7d, 24h, 2w, or a date 2026-11-01."),
    outlet: str | None = typer.Option(None, help="Only this outlet (as in feeds.yaml)."),
    topic: str | None = typer.Option(None, help="Only this topic or subtopic id (topics.yaml), e.g. work_visas."),
    speaker: str | None = typer.Option(
        None, help="Statements by this person; articles mentioning this tracked figure (id, name or alias)."
    ),
    new_only: bool = typer.Option(
        False, "--new-only", help="Statements: first sightings only. Articles: leave out near-duplicates."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON line: the query and every hit."),
) -> None:
    """Search articles (or statements) by relevance, newer first among equals, with highlighted snippets.

    Word forms ("deported" for "deportation") are found where Elasticsearch has the english analyzer
    (see `newsmon status`); spellings such as H-1B / H1B / H-1B visa are always one term. Among
    statements every new one ranks before every repeat.
    """
    import json

    from ..store.search import Filters, SearchError, search_articles, search_statements
    from .console import render_hit

    settings = _settings()
    filters = Filters(since=since, outlet=outlet, topic=topic, speaker=speaker, new_only=new_only)
    p = _open(settings, setup=False)
    with p:
        try:
            hits = (search_statements if statements else search_articles)(p, query, size, filters)
        except SearchError as exc:
            _fail(str(exc))
    if json_out:
        kind = "statements" if statements else "articles"
        print(json.dumps({"query": query, "kind": kind, "filters": vars(filters), "hits": [h.to_json() for h in hits]}))
        return
    if not hits:
        console.print(f"no hits for '{query}'", highlight=False, markup=False)
        if _nothing_indexed(settings):
            err.print("nothing is indexed yet: run `newsmon run --once` to poll the feeds", highlight=False)
    for h in hits:
        console.print(render_hit(h), highlight=False)
        console.print()


def _nothing_indexed(settings: Settings) -> bool:
    from ..store.client import connect, count

    try:
        es = connect(settings)
        try:
            return count(es, f"{settings.index_prefix}-articles") == 0
        finally:
            es.close()
    except Exception:  # noqa: BLE001 - only a hint
        return False


@app.command()
def status() -> None:
    """Feed health, index counts and the last run."""
    from .status import status_report

    settings = _settings()
    p = _open(settings, setup=False)
    with p:
        report = status_report(p)
    console.print(report, highlight=False)


@app.command()
def demo(
    port: int = typer.Option(8765, help="Port of the local demo feed server."),
) -> None:
    """Run the built-in demo: local feeds -> Elasticsearch -> alert emails, and show the results."""
    from .demo import run_demo

    sys.exit(run_demo(console, port=port))


@app.command("check-seeds")
def check_seeds(
    seeds: Path | None = typer.Argument(None, help="Seeds folder (default: NEWSMON_SEEDS_DIR or ./seeds, as `run`)."),
) -> None:
    """Validate the seed files and print what they hold."""
    folder = seeds or _settings().seeds_dir
    try:
        s = load_seeds(folder)
    except ConfigError as exc:
        _fail(str(exc))
    console.print(
        f"{folder}: {len(s.feeds)} feeds, {len(s.figures)} figures, {len(s.topics)} topics, "
        f"{len(s.alerts)} alert rules: OK",
        highlight=False,
        markup=False,
    )


# ------------------------------------------------------------------ es


def _es_script(*args: str) -> None:
    rc = subprocess.call(["bash", str(ES_SCRIPT), *args])
    if rc:
        raise typer.Exit(rc)


@es_app.command("setup")
def es_setup() -> None:
    """Create the indices and aliases (idempotent; moves aliases when a mapping version changes)."""
    from ..store.client import EsUnavailable, connect, setup_indices

    settings = _settings()
    try:
        es = connect(settings)
        actions = setup_indices(es, settings.index_prefix)
    except EsUnavailable as exc:
        _fail(str(exc))
    for a in actions:
        console.print(f"  {a}")
    console.print(
        f"indices ready at {mask_url(settings.es_url)} (prefix '{settings.index_prefix}')",
        markup=False,
        highlight=False,
    )


@es_app.command("start")
def es_start(
    port: int = typer.Option(9200, help="HTTP port on 127.0.0.1."),
    secure: bool = typer.Option(False, help="Enable security with a generated password for 'elastic'."),
    name: str = typer.Option("local", help="Instance name (data lives in var/es/NAME)."),
) -> None:
    """Download (once) and start a local single-node Elasticsearch."""
    _es_script("start", "--port", str(port), "--name", name, *(["--secure"] if secure else []))


@es_app.command("stop")
def es_stop(name: str = typer.Option("local", help="Instance name.")) -> None:
    """Stop a local Elasticsearch started by `newsmon es start`."""
    _es_script("stop", "--name", name)


@es_app.command("status")
def es_status() -> None:
    """Show local Elasticsearch instances."""
    _es_script("status")


# ------------------------------------------------------------------ alerts


@alerts_app.command("list")
def alerts_list(
    seeds: Path | None = typer.Option(None, help="Seeds folder (default: NEWSMON_SEEDS_DIR or ./seeds)."),
) -> None:
    """The alert rules: what each matches, its filters, schedule, throttle, quiet hours and recipients."""
    from rich.table import Table

    settings = _settings(seeds)
    try:
        rules = load_seeds(settings.seeds_dir).alerts
    except ConfigError as exc:
        _fail(str(exc))
    table = Table(title=f"alert rules in {settings.seeds_dir / 'alerts.yaml'}", show_lines=True)
    for col in ("rule", "matches", "only", "when", "recipients"):
        table.add_column(col, overflow="fold")
    for r in rules:
        matches = ("keywords: " + ", ".join(r.keywords)) if r.kind == "keyword" else "new statements by "
        if r.kind == "statement":
            matches += "any tracked figure" if "*" in r.figures else ", ".join(r.figures)
        only = [f"topic {r.topic}"] if r.topic else []
        only += [f"outlets {', '.join(r.outlets)}"] if r.outlets else []
        only += [f"languages {', '.join(r.languages)}"] if r.languages else []
        when = ["daily digest" if r.schedule == "daily" else "immediately"]
        when += [f"at most {r.throttle}/hour"] if r.throttle else []
        when += [f"quiet {r.quiet_hours} {r.timezone}"] if r.quiet_hours else []
        cells = (r.name, matches, "\n".join(only) or "-", "\n".join(when), "\n".join(r.recipients))
        table.add_row(*(escape(c) for c in cells))
    console.print(table)


@alerts_app.command("test")
def alerts_test(
    rule_name: str = typer.Argument(..., metavar="RULE", help="The rule's name (see `newsmon alerts list`)."),
    since: str = typer.Option("7d", help="Look at what was first seen since: 7d, 24h, or a date 2026-11-01."),
    html_file: Path | None = typer.Option(None, "--html", help="Also write the email's HTML to this file."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON line: the rule, the hits and the email."),
) -> None:
    """Show what RULE would have mailed for what was indexed since --since. Nothing is recorded or sent."""
    import json

    from ..alerts.mail import compose_alert
    from ..alerts.preview import preview_hits
    from ..alerts.schedule import next_digest
    from ..store.search import SearchError, parse_since

    settings = _settings()
    p = _open(settings, setup=False)
    with p:
        rule = next((r for r in p.seeds.alerts if r.name == rule_name), None)
        if rule is None:
            _fail(
                f"no rule '{rule_name}' in {settings.seeds_dir / 'alerts.yaml'}; rules: "
                + ", ".join(r.name for r in p.seeds.alerts)
            )
        try:
            start = parse_since(since)
        except SearchError as exc:
            _fail(str(exc))
        hits, more = preview_hits(p, rule, start)
    alert = compose_alert(rule, hits) if hits else None
    if rule.schedule == "daily":
        how = f"in the daily digest (NEWSMON_DIGEST_CRON '{settings.digest_cron}', next {next_digest(settings.digest_cron, datetime.now(UTC)):%Y-%m-%d %H:%M} UTC)"
    else:
        how = "as they come"
    how += f", at most {rule.throttle} emails an hour" if rule.throttle else ""
    how += f", none in quiet hours {rule.quiet_hours} {rule.timezone}" if rule.quiet_hours else ""
    if html_file and alert:
        html_file.write_text(alert.html, encoding="utf-8")
    if json_out:
        print(
            json.dumps(
                {
                    "rule": rule.name,
                    "since": start,
                    "hits": [h.model_dump(mode="json") for h in hits],
                    "more": more,
                    "sent": how,
                    "email": alert.model_dump(mode="json") if alert else None,
                }
            )
        )
        return
    found = f"{len(hits)}{'+' if more else ''} hit{'s' if len(hits) != 1 else ''}"
    console.print(
        f"rule [bold]{rule.name}[/]: {found} since {start} — would be mailed {how}. Nothing was sent.", highlight=False
    )
    if alert is None:
        return
    console.print(f"\n[bold]To:[/] {escape(', '.join(alert.recipients))}", highlight=False)
    console.print(f"[bold]Subject:[/] {escape(alert.subject)}\n", highlight=False)
    console.print(alert.body, highlight=False, markup=False)
    if html_file:
        console.print(f"\nHTML version written to {html_file}", highlight=False, markup=False)


# ------------------------------------------------------------------ kibana


@kibana_app.command("setup")
def kibana_setup(
    url: str | None = typer.Option(None, help="Kibana base URL (default: NEWSMON_KIBANA_URL, http://127.0.0.1:5601)."),
    space: str | None = typer.Option(None, help="Kibana space id (default: the default space)."),
) -> None:
    """Import newsmon's data views, saved searches and dashboard into Kibana (idempotent)."""
    from ..config import secret
    from .kibana import KibanaClient, KibanaError, setup_kibana

    settings = _settings()
    user = settings.kibana_user or settings.es_user
    password = secret(settings.kibana_password) if settings.kibana_user else secret(settings.es_password)
    target = url or settings.kibana_url
    try:
        with KibanaClient(
            target,
            user=user,
            password=password,
            api_key=secret(settings.kibana_api_key) or None,
            verify=settings.es_ca_certs or settings.es_verify_certs,
        ) as client:
            result = setup_kibana(client, space=space, index_prefix=settings.index_prefix)
    except KibanaError as exc:
        _fail(str(exc))
    for kind, oid, title in result.objects:
        console.print(f"  {kind:<14} {oid:<38} {title}")
    where = f"space '{space}'" if space else "the default space"
    console.print(f"imported {result.imported} saved objects into Kibana {result.kibana_version} at {target} ({where})")


# ------------------------------------------------------------------ eval


@eval_app.command("extraction")
def eval_extraction(
    directory: Path = typer.Argument(..., help="Folder with html/<id>.html and ground-truth.json."),
    json_out: bool = typer.Option(False, "--json", help="End with one JSON line."),
    baseline: str | None = typer.Option(
        None, help="Also time and score a baseline group: 'trafilatura' (default and favor_precision)."
    ),
    split: str = typer.Option(
        "test", help="Which fixed half of the pages: 'dev' (for looking at failures), 'test' (for reporting) or 'all'."
    ),
    dump: Path | None = typer.Option(None, help="Write one JSON line per page with the extractor's output."),
    worst: int = typer.Option(0, help="List the N pages with the lowest word F1."),
) -> None:
    """Score the extractor on a benchmark folder (shingle F1 and WCXB word F1)."""
    from ..evaluation.extraction import run_extraction_eval

    if not directory.is_dir():
        _fail(f"{directory}: not a folder")
    if split not in ("all", "dev", "test"):
        _fail(f"--split {split}: use all, dev or test")
    run_extraction_eval(directory, json_out=json_out, baseline=baseline, split=split, dump=dump, worst=worst)


@train_app.command("statements")
def train_statements(
    directory: Path = typer.Argument(..., help="PolNeAR train folder (text/, attributions/)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the model (default: the shipped one)."),
) -> None:
    """Train the statement sequence model (CRF) on PolNeAR train; writes the model and its provenance."""
    from ..statements import model

    if not directory.is_dir():
        _fail(f"{directory}: not a folder")
    info = model.train(directory, out or model.DATA)
    print(json.dumps({k: v for k, v in info.items() if k != "cue_words"}))


@eval_app.command("statements")
def eval_statements(
    directory: Path | None = typer.Argument(None, help="PolNeAR-format folder (text/, attributions/)."),
    seed: Path | None = typer.Option(
        None, "--seed", help="Check the gold statements of a seed-article folder instead."
    ),
    json_out: bool = typer.Option(False, "--json", help="End with one JSON line."),
    dump: Path | None = typer.Option(None, "--dump", help="Write one JSON line per article: the stored records."),
    labels: Path | None = typer.Option(None, "--labels", help="Score hand labels of real pages (JSON lines)."),
) -> None:
    """Score the statement records the pipeline stores (PolNeAR folder, seed article or real-page labels)."""
    from ..evaluation import statements as ev

    if seed is not None:
        result = ev.run_seed_check(seed, json_out=json_out, dump=dump)
        if not result.get("ok", True):
            raise typer.Exit(1)
        return
    if labels is not None:
        from ..evaluation import statement_labels

        statement_labels.run_labels_eval(labels, json_out=json_out, dump=dump)
        return
    if directory is None or not directory.is_dir():
        _fail("give a PolNeAR-format folder, --seed FOLDER or --labels FILE")
    ev.run_statements_eval(directory, json_out=json_out, dump=dump)


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@eval_app.command("topics", context_settings=_PASS_THROUGH, add_help_option=False)
def eval_topics(ctx: typer.Context) -> None:
    """Immigration-policy tagging: P/R/F1 and speed (FILE [--cv K] [--title-only] [--json] [--dump F]; --help)."""
    from ..evaluation.topics import main as topics_main

    sys.exit(topics_main(list(ctx.args)))


@train_app.command("topics", context_settings=_PASS_THROUGH, add_help_option=False)
def train_topics(ctx: typer.Context) -> None:
    """Retrain the immigration-policy model from labelled articles (FILE [--out PATH]; --help)."""
    from ..tag.train import main as train_main

    sys.exit(train_main(list(ctx.args)))


# ------------------------------------------------------------------ airflow


PROFILE_HELP = (
    "local: airflow standalone on SQLite; cluster: Postgres, Redis, CeleryExecutor, two workers (infra/README.md)."
)


@airflow_app.command("up")
def airflow_up(profile: str = typer.Option("local", help=PROFILE_HELP)) -> None:
    """Start Airflow (scheduler, API server, DAG processor, triggerer) with the local services."""
    if profile == "cluster":
        from .airflow_cluster import main as cluster

        sys.exit(cluster(["up"]))
    if profile != "local":
        _fail(f"unknown --profile {profile!r}: local or cluster")
    from .airflow_local import airflow_up as up

    sys.exit(up(PROJECT_ROOT))


@airflow_app.command("down")
def airflow_down(profile: str = typer.Option("local", help=PROFILE_HELP)) -> None:
    """Stop every Airflow process started by `newsmon airflow up`."""
    if profile == "cluster":
        from .airflow_cluster import main as cluster

        sys.exit(cluster(["down"]))
    from .airflow_local import airflow_down as down

    sys.exit(down(PROJECT_ROOT))


@airflow_app.command("clean")
def airflow_clean(
    days: int | None = typer.Option(None, help="keep this many days (default NEWSMON_AIRFLOW_RETENTION_DAYS, 30)"),
    every_hours: float = typer.Option(0, help="repeat every N hours (the housekeeper `up` starts); 0: once"),
) -> None:
    """Remove Airflow metadata (DAG runs, task instances, XComs, ...) older than the retention (`airflow db clean`)."""
    from .airflow_local import airflow_clean as clean

    sys.exit(clean(PROJECT_ROOT, days=days or _settings().airflow_retention_days, every_hours=every_hours))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
