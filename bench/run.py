"""newsmon's benchmark suite: every figure a ratio against a baseline measured in the same run.

    python bench/run.py            # the full suite (about an hour with the latency samples)
    python bench/run.py --quick    # small sizes, one round each: proves the suite works (CI runs this)
    python bench/run.py --only polling,e2e --out /tmp/bench

Writes bench/results/<date>.json (never over an earlier file: <date>-2.json, ...), the same as a
Markdown table (<date>.md) and a plot of throughput against load (<date>.png).

Sections (each measurement runs in a process of its own, so its peak memory is its own; baseline and
newsmon runs alternate A B B A so that drifting machine load falls on both):
- polling: feeds/s at 100, 1,000 and 5,000 local feeds (2 per site, real feeds cut to 25 entries),
  first pass and 304 pass, against a plain 16-thread httpx + feedparser loop. Politeness on (1 s per site).
- enrichment: articles/s per core (extract, tag, statements, fingerprint) against trafilatura alone
  on the same real pages, page by page; two worker processes against one; statements on the seed article.
- indexing: article documents/s, newsmon's bulk_write against elasticsearch.helpers.bulk.
- e2e: `run_once` over 600 real pages on 200 sites (batch size 50, one enrichment process) against
  enrichment alone of the same pages in one process, with Elasticsearch requests per article counted.
- growth: the same end to end with 0 and 20,000 older articles (statements by the same speakers) indexed.
- politeness: 59 pages on 3 sites at 1 s per site: newsmon's scheduler against the blocking pacer.
- latency: feed item -> alert email under the real Airflow scheduler (bench/alert_latency.py).

Needs the local Elasticsearch (NEWSMON_ES_URL, default http://127.0.0.1:9200) and ../shared.
Nothing listens outside loopback: the sites are 127.77.x.y addresses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from sites import Sites, corpus_pages  # noqa: E402

FULL = {
    "poll_sizes": [100, 1000, 5000],
    "poll_rounds": 2,
    "enrich_pages": 91,
    "enrich_rounds": 2,
    "statements_repeats": 50,
    "index_docs": 20000,
    "index_rounds": 2,
    "e2e_pages": 600,
    # Four rounds (A B B A A B B A) for the two ratios with targets closest to the machine's noise.
    "e2e_rounds": 4,
    "older": 20000,
    "growth_rounds": 4,
    "politeness_pages": 59,
    "latency_samples": 20,
}
QUICK = {
    "poll_sizes": [50, 200],
    "poll_rounds": 1,
    "enrich_pages": 12,
    "enrich_rounds": 1,
    "statements_repeats": 10,
    "index_docs": 2000,
    "index_rounds": 1,
    "e2e_pages": 24,
    "e2e_rounds": 1,
    "older": 1000,
    "growth_rounds": 1,
    "politeness_pages": 12,
    "latency_samples": 1,
}
SECTIONS = ["polling", "enrichment", "indexing", "e2e", "growth", "politeness", "latency"]


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def work(name: str, **params: Any) -> dict[str, Any]:
    """Run one measurement in a fresh process; its figures come back as the RESULT line."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "work.py"), name],
        input=json.dumps(params),
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench step {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def alternate(rounds: int, a: Any, b: Any) -> tuple[list[Any], list[Any]]:
    """Run a() and b() `rounds` times each in the order A B B A A B ... and return both lists."""
    ra: list[Any] = []
    rb: list[Any] = []
    for r in range(rounds):
        for which in "ab" if r % 2 == 0 else "ba":
            (ra if which == "a" else rb).append(a() if which == "a" else b())
    return ra, rb


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# ------------------------------------------------------------------ sections


def polling(cfg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"feeds_per_site": 2, "max_entries_per_feed": 25, "host_delay_s": 1.0, "sizes": {}}
    for n in cfg["poll_sizes"]:
        with Sites({"kind": "feeds", "feeds": n, "feeds_per_host": 2, "max_entries": 25}) as site:
            feeds = site.urls["feeds"]
            log(f"polling {n} feeds on {len(site.urls['hosts'])} sites")
            base, news = alternate(
                cfg["poll_rounds"],
                lambda feeds=feeds: work("poll_baseline", feeds=feeds),
                lambda feeds=feeds: work("poll_newsmon", feeds=feeds),
            )
        row: dict[str, Any] = {"runs": {"baseline": base, "newsmon": news}}
        for phase in ("first", "not_modified"):
            b = mean([r[phase]["feeds_per_s"] for r in base])
            m = mean([r[phase]["feeds_per_s"] for r in news])
            row[phase] = {"newsmon_feeds_per_s": m, "baseline_feeds_per_s": b, "ratio": ratio(m, b)}
        row["es_requests_first"] = news[0]["first"]["es_requests"]
        row["es_requests_304"] = news[0]["not_modified"]["es_requests"]
        row["new_items"] = news[0]["first"]["new_items"]
        row["peak_rss_mb"] = {
            "newsmon": max(r["peak_rss_mb"] for r in news),
            "baseline": max(r["peak_rss_mb"] for r in base),
        }
        row["worker_peak_rss_mb"] = max(r["worker_peak_rss_mb"] for r in news)
        out["sizes"][str(n)] = row
        log(f"  first {row['first']['ratio']:.2f}x, 304 {row['not_modified']['ratio']:.2f}x")
    return out


def enrichment(cfg: dict[str, Any]) -> dict[str, Any]:
    pages = [str(p) for p in corpus_pages(cfg["enrich_pages"])]
    log(f"enrichment: {len(pages)} real pages, newsmon and trafilatura alternating per page")
    per_core = work("enrich_pages", paths=pages, rounds=cfg["enrich_rounds"])
    log(f"  per core {per_core['newsmon_per_s']:.1f}/s vs trafilatura {per_core['trafilatura_per_s']:.1f}/s")
    pool = work("enrich_pool", paths=pages, workers=2, rounds=cfg["enrich_rounds"])
    log(f"  two workers {pool['many_per_s']:.1f}/s vs one {pool['one_per_s']:.1f}/s")
    mem_news = work("enrich_only", paths=pages, mode="newsmon")
    mem_traf = work("enrich_only", paths=pages, mode="trafilatura")
    seed = work("statements_seed", repeats=cfg["statements_repeats"])
    log(f"  statements on the seed article {seed['per_s']:.0f}/s")
    return {
        "pages": len(pages),
        "per_core": {**per_core, "ratio": ratio(per_core["newsmon_per_s"], per_core["trafilatura_per_s"])},
        "two_cores": {**pool, "ratio": ratio(pool["many_per_s"], pool["one_per_s"])},
        "statements_seed": {**seed, "ratio_to_trafilatura": ratio(seed["per_s"], seed["trafilatura_per_s"])},
        "peak_rss_mb": {"newsmon": mem_news["peak_rss_mb"], "trafilatura": mem_traf["peak_rss_mb"]},
        "worker_peak_rss_mb": pool["worker_peak_rss_mb"],
    }


def indexing(cfg: dict[str, Any], cache: str) -> dict[str, Any]:
    n = cfg["index_docs"]
    log(f"indexing {n} article documents: bulk_write and helpers.bulk alternating")
    news, base = alternate(
        cfg["index_rounds"],
        lambda: work("index", cache=cache, docs=n, mode="newsmon"),
        lambda: work("index", cache=cache, docs=n, mode="helpers.bulk"),
    )
    m, b = mean([r["docs_per_s"] for r in news]), mean([r["docs_per_s"] for r in base])
    log(f"  {m:.0f} vs {b:.0f} docs/s")
    return {
        "docs": n,
        "newsmon_docs_per_s": m,
        "baseline_docs_per_s": b,
        "ratio": ratio(m, b),
        "failed": sum(r["failed"] for r in news),
        "requests": {"newsmon": news[0]["requests"], "helpers.bulk": base[0]["requests"]},
        "peak_rss_mb": {
            "newsmon": max(r["peak_rss_mb"] for r in news),
            "helpers.bulk": max(r["peak_rss_mb"] for r in base),
        },
        "runs": {"newsmon": news, "helpers.bulk": base},
    }


def e2e(cfg: dict[str, Any], profile: Path | None = None) -> dict[str, Any]:
    with Sites({"kind": "pages", "pages": cfg["e2e_pages"], "pages_per_host": 3}) as site:
        feeds, pages = site.urls["feeds"], site.urls["pages"]
        log(f"end to end: {len(pages)} pages on {len(feeds)} sites, run_once vs enrichment alone")
        news, base = alternate(
            cfg["e2e_rounds"],
            lambda: work("e2e", feeds=feeds, cpu_workers=1),
            lambda: work("enrich_alone", pages=pages),
        )
        two = work("e2e", feeds=feeds, cpu_workers=2)
        profiled = None
        if profile is not None:
            log(f"  profiling run_once with enrichment in-process -> {profile}")
            profiled = work("e2e", feeds=feeds, cpu_workers=0, profile=str(profile))
    m, b = mean([r["articles_per_s"] for r in news]), mean([r["articles_per_s"] for r in base])
    log(f"  {m:.1f} vs {b:.1f} articles/s; {news[0]['es_requests_per_article']:.2f} ES requests/article")
    return {
        "pages": len(pages),
        "sites": len(feeds),
        "batch_size": 50,
        "cpu_workers": 1,
        "newsmon_articles_per_s": m,
        "enrichment_alone_per_s": b,
        "ratio": ratio(m, b),
        "es_requests_per_article": mean([r["es_requests_per_article"] for r in news]),
        "es_by_endpoint": news[0]["es_by_endpoint"],
        "two_workers_articles_per_s": two["articles_per_s"],
        "two_workers_ratio": ratio(two["articles_per_s"], b),
        "peak_rss_mb": {
            "newsmon": max(r["peak_rss_mb"] for r in news),
            "enrichment_alone": max(r["peak_rss_mb"] for r in base),
        },
        "worker_peak_rss_mb": max(r["worker_peak_rss_mb"] for r in news),
        "runs": {"newsmon": news, "enrichment_alone": base, "two_workers": two},
        "profile_top": profiled["profile_top"] if profiled else None,
    }


def growth(cfg: dict[str, Any], cache: str) -> dict[str, Any]:
    older = cfg["older"]
    with Sites({"kind": "pages", "pages": cfg["e2e_pages"], "pages_per_host": 3}) as site:
        feeds = site.urls["feeds"]
        log(f"growth: end to end with 0 and {older} older articles indexed")
        empty, full = alternate(
            cfg["growth_rounds"],
            lambda: work("e2e", feeds=feeds, cpu_workers=1),
            lambda: work("e2e", feeds=feeds, cpu_workers=1, older=older, cache=cache),
        )
    a, b = mean([r["articles_per_s"] for r in empty]), mean([r["articles_per_s"] for r in full])
    log(f"  {b:.1f} vs {a:.1f} articles/s")
    return {
        "older_articles": older,
        "older_docs": full[0]["older_docs"],
        "empty_articles_per_s": a,
        "older_articles_per_s": b,
        "ratio": ratio(b, a),
        "es_requests_per_article": {
            "empty": empty[0]["es_requests_per_article"],
            "older": full[0]["es_requests_per_article"],
        },
        "peak_rss_mb": {"empty": max(r["peak_rss_mb"] for r in empty), "older": max(r["peak_rss_mb"] for r in full)},
        # where the older articles cost: the node's CPU, and the wait on the lookups (msearch) and writes (bulk)
        "per_run_mean": {
            name: {
                "node_cpu_s": mean([r["node_cpu_s"] for r in runs]),
                "main_cpu_s": mean([r["main_cpu_s"] for r in runs]),
                "workers_cpu_s": mean([r["workers_cpu_s"] for r in runs]),
                "msearch_wait_s": mean([r["es_seconds_by_endpoint"].get("_msearch", 0.0) for r in runs]),
                "bulk_wait_s": mean([r["es_seconds_by_endpoint"].get("_bulk", 0.0) for r in runs]),
            }
            for name, runs in (("empty", empty), ("older", full))
        },
        "runs": {"empty": empty, "older": full},
    }


def politeness(cfg: dict[str, Any]) -> dict[str, Any]:
    n = cfg["politeness_pages"]
    per_host = -(-n // 3)
    out: dict[str, Any] = {"pages": n, "sites": 3, "delay_s": 1.0}
    for mode in ("newsmon", "blocking"):
        with Sites({"kind": "pages", "pages": n, "pages_per_host": per_host}) as site:
            log(f"politeness: {n} pages on 3 sites at 1 s per site ({mode})")
            res = work("politeness", feeds=site.urls["feeds"], mode=mode)
            times = sorted(t for ts in site.stats()["page_times"].values() for t in ts)
        # each page holds its site for one delay: n pages in (first to last request + one delay)
        fetch_rate = len(times) / (times[-1] - times[0] + 1.0) if times else float("nan")
        out[mode] = {**res, "fetch_pages_per_s": fetch_rate, "page_requests": len(times)}
        log(f"  {fetch_rate:.2f} pages/s at the servers, {res['pages_per_s']:.2f}/s for the whole batch")
    out["possible_pages_per_s"] = 3.0
    out["ratio"] = ratio(out["newsmon"]["fetch_pages_per_s"], out["possible_pages_per_s"])
    out["ratio_to_blocking"] = ratio(out["newsmon"]["fetch_pages_per_s"], out["blocking"]["fetch_pages_per_s"])
    return out


def latency(cfg: dict[str, Any], out_dir: Path, stamp: str) -> dict[str, Any]:
    samples = cfg["latency_samples"]
    dest = out_dir / f"{stamp}-latency.json"
    log(f"latency: {samples} sample(s) under the real Airflow scheduler (bench/alert_latency.py)")
    proc = subprocess.run(
        [sys.executable, str(HERE / "alert_latency.py"), "--samples", str(samples), "--out", str(dest)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if not dest.exists():
        raise RuntimeError(f"alert_latency.py wrote nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(dest.read_text())
    return {
        k: data[k] for k in ("samples", "missed", "seed", "latency_s", "pipeline_after_tick_s", "wait_for_tick_s")
    } | {"file": dest.name}


# ------------------------------------------------------------------ report


def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 14, with its value from this run and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float, op: str, goal: float, judged: bool = True) -> None:
        met = (value >= goal if op == ">=" else value <= goal) if judged else None
        rows.append({"target": name, "value": value, "goal": f"{op} {goal}", "met": met})

    if "e2e" in s:
        add("end to end / enrichment alone", s["e2e"]["ratio"], ">=", 0.85)
        add("Elasticsearch requests per article (batch 50)", s["e2e"]["es_requests_per_article"], "<=", 1.5)
    if "growth" in s:
        add(f"end to end with {s['growth']['older_articles']} older articles / empty", s["growth"]["ratio"], ">=", 0.9)
    if "polling" in s:
        biggest = max(s["polling"]["sizes"], key=int)
        row = s["polling"]["sizes"][biggest]
        add(f"polling first pass / 16-thread loop ({biggest} feeds)", row["first"]["ratio"], ">=", 1.0)
        add(f"polling 304 pass / 16-thread loop ({biggest} feeds)", row["not_modified"]["ratio"], ">=", 0.8)
    if "enrichment" in s:
        e = s["enrichment"]
        add("enrichment per core / trafilatura alone", e["per_core"]["ratio"], ">=", 1.0)
        add("enrichment two processes / one", e["two_cores"]["ratio"], ">=", 1.7)
        add("statements on the seed article, articles/s", e["statements_seed"]["per_s"], ">=", 100)
    if "politeness" in s:
        add("politeness: 3 sites at 1 s, pages/s", s["politeness"]["newsmon"]["fetch_pages_per_s"], ">=", 2.8)
    if "latency" in s and s["latency"]["latency_s"].get("p95") is not None:
        enough = s["latency"]["samples"] >= 20 and not s["latency"]["missed"]
        add("latency p95 with a 1-minute poll, s", s["latency"]["latency_s"]["p95"], "<=", 65, judged=enough)
    return rows


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return "" if v is None else str(v)


def markdown(result: dict[str, Any]) -> str:
    s = result["sections"]
    rows: list[str] = []

    def row(label: str, new: Any, base: Any = "", rat: Any = None, mem: str = "") -> None:
        rows.append(f"| {label} | {fmt(new)} | {fmt(base)} | {fmt(rat) + 'x' if rat is not None else ''} | {mem} |")

    def mb(a: float, b: float | None = None, worker: float | None = None) -> str:
        text = f"{a:.0f}" + (f" (+{worker:.0f}/worker)" if worker else "")
        return text + (f" / {b:.0f}" if b is not None else "")

    for n, r in s.get("polling", {}).get("sizes", {}).items():
        mem = mb(r["peak_rss_mb"]["newsmon"], r["peak_rss_mb"]["baseline"], r["worker_peak_rss_mb"])
        for phase, label in (("first", "first pass"), ("not_modified", "304 pass")):
            x = r[phase]
            row(
                f"polling {n} feeds, {label}, feeds/s (vs 16-thread httpx+feedparser)",
                x["newsmon_feeds_per_s"],
                x["baseline_feeds_per_s"],
                x["ratio"],
                mem,
            )
    if "enrichment" in s:
        e = s["enrichment"]
        pc, tc, st = e["per_core"], e["two_cores"], e["statements_seed"]
        mem = mb(e["peak_rss_mb"]["newsmon"], e["peak_rss_mb"]["trafilatura"])
        row(
            f"enrichment, articles/s per core (vs trafilatura alone), {e['pages']} real pages",
            pc["newsmon_per_s"],
            pc["trafilatura_per_s"],
            pc["ratio"],
            mem,
        )
        row(
            "enrichment, 2 processes (vs 1), articles/s",
            tc["many_per_s"],
            tc["one_per_s"],
            tc["ratio"],
            f"{e['worker_peak_rss_mb']:.0f}/worker",
        )
        row(
            "statements on the seed article, articles/s (vs trafilatura on its page)",
            st["per_s"],
            st["trafilatura_per_s"],
            st["ratio_to_trafilatura"],
        )
    if "indexing" in s:
        x = s["indexing"]
        mem = mb(x["peak_rss_mb"]["newsmon"], x["peak_rss_mb"]["helpers.bulk"])
        row(
            f"indexing {x['docs']} articles, docs/s (vs helpers.bulk)",
            x["newsmon_docs_per_s"],
            x["baseline_docs_per_s"],
            x["ratio"],
            mem,
        )
    if "e2e" in s:
        x = s["e2e"]
        mem = mb(x["peak_rss_mb"]["newsmon"], x["peak_rss_mb"]["enrichment_alone"], x["worker_peak_rss_mb"])
        label = f"end to end, articles/s (vs enrichment alone, 1 process), {x['pages']} pages on {x['sites']} sites"
        row(label, x["newsmon_articles_per_s"], x["enrichment_alone_per_s"], x["ratio"], mem)
        row("end to end, Elasticsearch requests per article (batch 50)", x["es_requests_per_article"])
        label = "end to end with 2 enrichment processes, articles/s (vs enrichment alone, 1 process)"
        row(label, x["two_workers_articles_per_s"], x["enrichment_alone_per_s"], x["two_workers_ratio"])
    if "growth" in s:
        x = s["growth"]
        mem = mb(x["peak_rss_mb"]["older"], x["peak_rss_mb"]["empty"])
        label = f"end to end with {x['older_articles']} older articles, articles/s (vs empty index)"
        row(label, x["older_articles_per_s"], x["empty_articles_per_s"], x["ratio"], mem)
        if "per_run_mean" in x:
            o, e = x["per_run_mean"]["older"], x["per_run_mean"]["empty"]
            row("… Elasticsearch node CPU s per run (vs empty index)", o["node_cpu_s"], e["node_cpu_s"])
            row(
                "… wait on the batch lookups (msearch) s per run (vs empty index)",
                o["msearch_wait_s"],
                e["msearch_wait_s"],
            )
    if "politeness" in s:
        x = s["politeness"]
        label = f"politeness, {x['pages']} pages on 3 sites at 1 s, pages/s (vs 3 possible)"
        row(label, x["newsmon"]["fetch_pages_per_s"], x["possible_pages_per_s"], x["ratio"])
        row(
            "… the blocking pacer it replaces, pages/s (newsmon vs it)",
            x["blocking"]["fetch_pages_per_s"],
            "",
            x["ratio_to_blocking"],
        )
    if "latency" in s:
        x = s["latency"]
        lat, pipe = x["latency_s"], x["pipeline_after_tick_s"]
        label = f"latency feed item -> email, 1-minute poll, {x['samples']} samples (seed {x['seed']}): p50 / p95 s"
        row(label, f"{fmt(lat.get('p50'))} / {fmt(lat.get('p95'))}")
        row("… of which pipeline after the tick: p50 / p95 s", f"{fmt(pipe.get('p50'))} / {fmt(pipe.get('p95'))}")
    profile = s.get("e2e", {}).get("profile_top")
    if profile:
        rows_p = [
            f"| {r['share'] * 100:.1f}% | {r['tottime_s']:.2f} | {r['calls']} | `{r['function']}` |" for r in profile
        ]
        profile_lines = [
            "",
            "run_once profile (enrichment in-process), top 10 by own time:",
            "",
            "| share | own s | calls | function |",
            "|---|---|---|---|",
            *rows_p,
        ]
    else:
        profile_lines = []
    m = result["machine"]
    lines = [
        f"# newsmon benchmark, {result['started']}",
        "",
        f"Command: `{result['command']}` · commit {result['commit']} · {m['cores']} cores · "
        f"load average {m['load_before']} before, {m['load_after']} after · {result['wall_s']:.0f} s",
        "",
        "| figure | newsmon | baseline | ratio | peak RSS MB (newsmon / baseline) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "| target | value | goal | met |",
        "|---|---|---|---|",
    ]
    for t in result["targets"]:
        met = {True: "yes", False: "**no**", None: "not judged (fewer than 20 samples)"}[t["met"]]
        lines.append(f"| {t['target']} | {fmt(t['value'])} | {t['goal']} | {met} |")
    lines += profile_lines
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], dest: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["sections"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    if "polling" in s:
        ax = axes[0]
        sizes = sorted(s["polling"]["sizes"], key=int)
        x = [int(n) for n in sizes]
        for phase, style in (("first", "-"), ("not_modified", "--")):
            ax.plot(
                x,
                [s["polling"]["sizes"][n][phase]["newsmon_feeds_per_s"] for n in sizes],
                "o" + style,
                label=f"newsmon {phase}",
            )
            ax.plot(
                x,
                [s["polling"]["sizes"][n][phase]["baseline_feeds_per_s"] for n in sizes],
                "s" + style,
                label=f"16-thread loop {phase}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("feeds polled")
        ax.set_ylabel("feeds/s")
        ax.set_title("Polling throughput against load")
        ax.legend(fontsize=7)
    if "growth" in s or "e2e" in s:
        ax = axes[1]
        if "growth" in s:
            g = s["growth"]
            ax.plot(
                [0, g["older_articles"]],
                [g["empty_articles_per_s"], g["older_articles_per_s"]],
                "o-",
                label="end to end",
            )
        if "e2e" in s:
            ax.axhline(s["e2e"]["enrichment_alone_per_s"], ls="--", color="grey", label="enrichment alone (1 process)")
        ax.set_xlabel("older articles in the index")
        ax.set_ylabel("articles/s")
        ax.set_title("End to end against index size")
        ax.legend(fontsize=7)
    ax = axes[2]
    bars: list[tuple[str, float]] = []
    if "enrichment" in s:
        e = s["enrichment"]
        bars += [
            ("trafilatura", e["per_core"]["trafilatura_per_s"]),
            ("newsmon 1 core", e["per_core"]["newsmon_per_s"]),
            ("1 worker", e["two_cores"]["one_per_s"]),
            ("2 workers", e["two_cores"]["many_per_s"]),
        ]
    if "e2e" in s:
        bars.append(("end to end", s["e2e"]["newsmon_articles_per_s"]))
    if bars:
        ax.bar([b[0] for b in bars], [b[1] for b in bars])
        ax.set_ylabel("articles/s")
        ax.set_title("Enrichment")
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"newsmon bench {result['started']} (load {result['machine']['load_before']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(dest, dpi=110)
    plt.close(fig)


def out_stem(out_dir: Path, stamp: str) -> Path:
    """bench/results/<date>, or <date>-2, -3 ... when an earlier run of the day is there: never overwrite."""
    stem, n = out_dir / stamp, 1
    while any(stem.with_suffix(ext).exists() for ext in (".json", ".md", ".png")):
        n += 1
        stem = out_dir / f"{stamp}-{n}"
    return stem


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, one round each (what CI runs)")
    ap.add_argument("--only", default="", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out")
    ap.add_argument(
        "--out", type=Path, default=HERE / "results", help="directory for the results (default bench/results)"
    )
    ap.add_argument("--latency-samples", type=int, help="samples for the latency section (full: 20, quick: 1)")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="e2e: also profile one run_once with enrichment in-process (<stem>-e2e.pstats, top 10 in the table). "
        "BENCH_CODE=<other checkout> measures that checkout's pipeline/ with this harness.",
    )
    args = ap.parse_args()

    cfg = dict(QUICK if args.quick else FULL)
    if args.latency_samples is not None:
        cfg["latency_samples"] = args.latency_samples
    chosen = [s for s in SECTIONS if (not args.only or s in args.only.split(",")) and s not in args.skip.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    stem = out_stem(args.out, started.strftime("%Y-%m-%d"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    code = os.environ.get("BENCH_CODE")
    result: dict[str, Any] = {
        "command": ("BENCH_CODE=" + code + " " if code else "") + "python bench/run.py " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "config": cfg,
        "started": started.isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in os.getloadavg()],
        },
        "sections": {},
    }
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        os.environ["BENCH_TMP"] = tmp
        cache = str(Path(tmp) / "articles.pickle")
        if {"indexing", "growth"} & set(chosen):
            pages = [str(p) for p in corpus_pages(max(cfg["enrich_pages"], 40))]
            log(f"enriching {len(pages)} pages once for the indexing and growth documents")
            work("corpus_articles", paths=pages, cache=cache)
        for name in chosen:
            started_section = time.time()
            if name == "polling":
                section = polling(cfg)
            elif name == "enrichment":
                section = enrichment(cfg)
            elif name == "indexing":
                section = indexing(cfg, cache)
            elif name == "e2e":
                section = e2e(cfg, stem.with_name(stem.name + "-e2e.pstats") if args.profile else None)
            elif name == "growth":
                section = growth(cfg, cache)
            elif name == "politeness":
                section = politeness(cfg)
            else:
                if cfg["latency_samples"] < 1:
                    continue
                section = latency(cfg, args.out, stem.name)
            section["seconds"] = round(time.time() - started_section, 1)
            result["sections"][name] = section
    result["wall_s"] = time.time() - t0
    result["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = targets(result["sections"])
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(result))
    plot(result, stem.with_suffix(".png"))
    print(markdown(result))
    log(f"written {stem}.json, .md and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
