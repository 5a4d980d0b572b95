"""One benchmark measurement, run in its own process by bench/run.py (so its peak memory is its own).

    python bench/work.py NAME < PARAMS_JSON   -> prints one JSON line: the figures, peak_rss_mb, es_requests

Measurements: poll_baseline, poll_newsmon, enrich_pages, enrich_pool, statements_seed, index, e2e,
enrich_alone, politeness. Each talks only to loopback (the bench sites, the local Elasticsearch).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import resource
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# BENCH_CODE: measure another checkout's pipeline/ with this harness (the "before" figures of a change)
CODE = Path(os.environ.get("BENCH_CODE") or REPO)
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(HERE))

ALLOW = ["127.0.0.0/8"]


# ------------------------------------------------------------------ helpers


WORKER_PEAK_MB = 0.0  # the largest CPU worker process seen, read before the pool closes


def peak_rss_mb() -> dict[str, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_rss_mb": round(me, 1), "worker_peak_rss_mb": round(WORKER_PEAK_MB, 1)}


def _worker_pids(pool: Any) -> list[int]:
    executor = getattr(pool, "_executor", None)
    return [proc.pid for proc in (getattr(executor, "_processes", None) or {}).values()]


def note_worker_peaks(pool: Any) -> None:
    """Peak RSS (VmHWM) of a CpuPool's worker processes: they are the forkserver's children, not ours."""
    global WORKER_PEAK_MB
    for pid in _worker_pids(pool):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                WORKER_PEAK_MB = max(WORKER_PEAK_MB, int(line.split()[1]) / 1024)


def workers_cpu_s(pool: Any) -> float:
    """CPU seconds (user + system) the pool's worker processes have used so far."""
    total = 0.0
    for pid in _worker_pids(pool):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def node_cpu_s(es: Any) -> float:
    """CPU seconds the Elasticsearch node(s) have used so far (node stats, so it works on any node)."""
    stats = es.nodes.stats(metric="process")["nodes"]
    return sum(n["process"]["cpu"]["total_in_millis"] for n in stats.values()) / 1000


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def supports(func: Any, param: str) -> bool:
    import inspect

    return param in inspect.signature(func).parameters


def start_workers(p: Any, workers: int | None) -> None:
    """Start a pipeline's CPU workers before the clock starts, as a long-running process has them."""
    if hasattr(p, "cpu"):
        p.cpu(workers).start()


class RequestCounter:
    """Counts the HTTP requests an Elasticsearch client sends (retries included), by endpoint."""

    def __init__(self, es: Any):
        self.count = 0
        self.by_endpoint: dict[str, int] = {}
        self.seconds_by_endpoint: dict[str, float] = {}  # wall time waiting on each kind of request
        real = es.transport.perform_request

        def perform(method: str, target: str, **kw: Any) -> Any:
            self.count += 1
            name = target.split("?")[0].rsplit("/", 1)[-1]
            name = name if name.startswith("_") else method
            self.by_endpoint[name] = self.by_endpoint.get(name, 0) + 1
            t0 = time.perf_counter()
            try:
                return real(method, target, **kw)
            finally:
                dt = time.perf_counter() - t0
                self.seconds_by_endpoint[name] = self.seconds_by_endpoint.get(name, 0.0) + dt

        es.transport.perform_request = perform


def settings(prefix: str, **kw: Any) -> Any:
    from pipeline.config import load_settings

    return load_settings(
        es_url=os.environ.get("NEWSMON_ES_URL", "http://127.0.0.1:9200"),
        index_prefix=prefix,
        allow_private=ALLOW,
        state_dir=Path(os.environ.get("BENCH_TMP", "/tmp")) / "newsmon-bench-var",
        **kw,
    )


def seeds_for(feed_urls: list[str], prefix: str = "f") -> Any:
    from pipeline.config import FeedConfig, load_seeds

    base = load_seeds(CODE / "seeds")
    feeds = [
        FeedConfig(id=f"{prefix}{i}", name=f"Feed {i}", url=u, outlet=f"Outlet {i}") for i, u in enumerate(feed_urls)
    ]
    return base.model_copy(update={"feeds": feeds})


def drop(es: Any, prefix: str) -> None:
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")


def fetch_all(urls: list[str]) -> list[bytes]:
    import httpx

    with httpx.Client(timeout=30, trust_env=False) as c, ThreadPoolExecutor(8) as ex:
        return list(ex.map(lambda u: c.get(u).content, urls))


# ------------------------------------------------------------------ polling


def poll_baseline(feeds: list[str]) -> dict[str, Any]:
    """A plain 16-thread httpx + feedparser loop: a first pass, then a pass with If-None-Match (304s)."""
    import feedparser
    import httpx

    etags: dict[str, str] = {}
    entries = 0
    with httpx.Client(timeout=30, trust_env=False, limits=httpx.Limits(max_connections=64)) as client:

        def one(url: str) -> int:
            headers = {"If-None-Match": etags[url]} if url in etags else {}
            r = client.get(url, headers=headers)
            if r.status_code == 304:
                return 0
            if "etag" in r.headers:
                etags[url] = r.headers["etag"]
            return len(feedparser.parse(r.content).entries)

        out: dict[str, Any] = {}
        for name in ("first", "not_modified"):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(16) as ex:
                n = sum(ex.map(one, feeds))
            dt = time.perf_counter() - t0
            entries = entries or n
            out[name] = {"seconds": dt, "feeds_per_s": len(feeds) / dt}
    out["entries"] = entries
    return out


def poll_newsmon(feeds: list[str], host_delay_s: float = 1.0, cpu_workers: int | None = None) -> dict[str, Any]:
    """newsmon's poll_feeds over the same feeds: a first pass (items stored), then a pass of 304s."""
    from pipeline.run import open_pipeline, poll_feeds

    prefix = f"bench-poll-{uuid.uuid4().hex[:8]}"
    seeds = seeds_for(feeds)
    out: dict[str, Any] = {}
    with open_pipeline(settings(prefix, host_delay_s=host_delay_s, fetch_workers=16), seeds) as p:
        try:
            counter = RequestCounter(p.es)
            ids = [f.id for f in seeds.feeds]
            start_workers(p, cpu_workers)
            kw = {"cpu_workers": cpu_workers} if supports(poll_feeds, "cpu_workers") else {}
            for name in ("first", "not_modified"):
                before = counter.count
                t0 = time.perf_counter()
                s = poll_feeds(p, ids, **kw)
                dt = time.perf_counter() - t0
                out[name] = {
                    "seconds": dt,
                    "feeds_per_s": len(ids) / dt,
                    "new_items": s.new_items,
                    "not_modified": s.not_modified,
                    "failed": s.failed,
                    "es_requests": counter.count - before,
                }
            if hasattr(p, "cpu"):
                note_worker_peaks(p.cpu(cpu_workers))
        finally:
            drop(p.es, prefix)
    return out


# ------------------------------------------------------------------ enrichment


def _page_inputs(paths: list[str]) -> list[tuple[Any, dict[str, Any]]]:
    from pipeline.fetch import FetchedPage

    out = []
    for i, path in enumerate(paths):
        url = f"http://127.77.200.{i % 250 + 1}/news/{i}.html"
        page = FetchedPage(url=url, content=Path(path).read_bytes(), content_type="text/html", truncated=False)
        out.append((page, {"feed_id": "f0", "published": None}))
    return out


def enrich_pages(paths: list[str], rounds: int = 2) -> dict[str, Any]:
    """newsmon's enrichment (extract, tag, statements, fingerprint) and trafilatura alone, page by page,
    alternating on each page so that both see the same machine load. One core."""
    import trafilatura

    from pipeline.config import load_seeds
    from pipeline.enrich import prepare_article

    seeds = load_seeds(CODE / "seeds")
    inputs = _page_inputs(paths)
    t_news = t_traf = 0.0
    articles = 0
    for r in range(rounds):
        for page, item in inputs if r % 2 == 0 else reversed(inputs):
            if r % 2 == 0:
                t0 = time.perf_counter()
                article, _ = prepare_article(item, page, None, seeds)
                t1 = time.perf_counter()
                trafilatura.extract(page.content, url=page.url)
                t2 = time.perf_counter()
                t_news, t_traf = t_news + t1 - t0, t_traf + t2 - t1
            else:
                t0 = time.perf_counter()
                trafilatura.extract(page.content, url=page.url)
                t1 = time.perf_counter()
                article, _ = prepare_article(item, page, None, seeds)
                t2 = time.perf_counter()
                t_traf, t_news = t_traf + t1 - t0, t_news + t2 - t1
            articles += article is not None
    n = len(inputs) * rounds
    return {
        "pages": len(inputs),
        "rounds": rounds,
        "articles": articles // rounds,
        "newsmon_per_s": n / t_news,
        "trafilatura_per_s": n / t_traf,
    }


def enrich_only(paths: list[str], mode: str) -> dict[str, Any]:
    """One pass of one mode, for its peak memory: 'newsmon' or 'trafilatura'."""
    inputs = _page_inputs(paths)
    t0 = time.perf_counter()
    if mode == "trafilatura":
        import trafilatura

        for page, _ in inputs:
            trafilatura.extract(page.content, url=page.url)
    else:
        from pipeline.config import load_seeds
        from pipeline.enrich import prepare_article

        seeds = load_seeds(CODE / "seeds")
        for page, item in inputs:
            prepare_article(item, page, None, seeds)
    return {"per_s": len(inputs) / (time.perf_counter() - t0)}


def enrich_pool(paths: list[str], workers: int = 2, rounds: int = 2) -> dict[str, Any]:
    """Pages/s on `workers` processes against one, alternating rounds; both through the same pool code."""
    from pipeline.config import load_seeds
    from pipeline.cpu import CpuPool

    seeds = load_seeds(CODE / "seeds")
    inputs = _page_inputs(paths)
    times = {1: 0.0, workers: 0.0}
    with CpuPool(seeds, 1) as one, CpuPool(seeds, workers) as many:
        for pool in (one, many):  # start both pools and warm their workers
            [f.result() for f in [pool.enrich(item, page, None) for page, item in inputs[: 2 * pool.workers]]]
        for r in range(rounds):
            for pool in (one, many) if r % 2 == 0 else (many, one):
                t0 = time.perf_counter()
                [f.result() for f in [pool.enrich(item, page, None) for page, item in inputs]]
                times[pool.workers] += time.perf_counter() - t0
        note_worker_peaks(many)
    n = len(inputs) * rounds
    return {"workers": workers, "one_per_s": n / times[1], "many_per_s": n / times[workers]}


def statements_seed(repeats: int = 50) -> dict[str, Any]:
    """attribute_statements on the seed article (the figure that was a timed unit test), interleaved with
    trafilatura on the seed page as the machine-speed reference."""
    import trafilatura

    from pipeline.config import load_seeds
    from pipeline.statements.attribute import attribute_statements

    seed = REPO.parent / "shared" / "fixtures" / "seed-article"
    text = (seed / "article.txt").read_text(encoding="utf-8")
    html = (seed / "article.html").read_bytes()
    figures = load_seeds(CODE / "seeds").figures
    n_statements = len(attribute_statements(text, figures))
    t_st = t_tr = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        attribute_statements(text, figures)
        t1 = time.perf_counter()
        trafilatura.extract(html)
        t2 = time.perf_counter()
        t_st, t_tr = t_st + t1 - t0, t_tr + t2 - t1
    return {"statements": n_statements, "per_s": repeats / t_st, "trafilatura_per_s": repeats / t_tr}


# ------------------------------------------------------------------ indexing


def corpus_articles(paths: list[str], cache: str) -> dict[str, Any]:
    """Enrich the corpus once and keep the Articles (for indexing and the older-articles preload)."""
    from pipeline.config import load_seeds
    from pipeline.enrich import prepare_article

    seeds = load_seeds(CODE / "seeds")
    articles = [a for page, item in _page_inputs(paths) if (a := prepare_article(item, page, None, seeds)[0])]
    Path(cache).write_bytes(pickle.dumps(articles))
    return {"articles": len(articles)}


def _article_docs(cache: str, n: int) -> list[tuple[str, dict[str, Any]]]:
    from pipeline.store.articles import article_doc

    articles = pickle.loads(Path(cache).read_bytes())
    now = datetime.now(UTC)
    docs = []
    for i in range(n):
        a = articles[i % len(articles)]
        doc = article_doc(a, f"bench-{i}", now.isoformat(), now)
        doc["article_id"] = f"bench-{i}"
        docs.append((f"bench-{i}", doc))
    return docs


def index(cache: str, docs: int, mode: str) -> dict[str, Any]:
    """Article documents/s into a fresh index: newsmon's bulk_write, or elasticsearch.helpers.bulk."""
    from elasticsearch import helpers

    from pipeline.store import client as ix

    prefix = f"bench-ix-{uuid.uuid4().hex[:8]}"
    payload = _article_docs(cache, docs)
    es = ix.connect(settings(prefix))
    try:
        ix.setup_indices(es, prefix)
        index_name = f"{prefix}-articles"
        counter = RequestCounter(es)
        t0 = time.perf_counter()
        if mode == "newsmon":
            res = ix.bulk_write(es, index_name, payload)
            ok, failed = res.ok, len(res.failed)
        else:
            ok, errors = helpers.bulk(es, ({"_index": index_name, "_id": i, "_source": d} for i, d in payload))
            failed = len(errors) if isinstance(errors, list) else errors
        dt = time.perf_counter() - t0
        return {"docs": docs, "ok": ok, "failed": failed, "docs_per_s": docs / dt, "requests": counter.count}
    finally:
        drop(es, prefix)
        es.close()


# ------------------------------------------------------------------ end to end


def preload_older(p: Any, cache: str, n: int, seed: int = 14) -> int:
    """n older articles with statements by the same speakers (other words), first seen over the last
    90 days (steady state under the 90-day retention): what novelty and near-duplicate lookups wade through."""
    from pipeline.records import stable_id
    from pipeline.statements.novelty import statement_key
    from pipeline.store import client as ix
    from pipeline.store.articles import article_doc, statement_doc, statement_ids

    rng = random.Random(seed)
    articles = pickle.loads(Path(cache).read_bytes())
    vocabulary = sorted({w for a in articles for w in a.text.split()[:400]})
    now = datetime.now(UTC)
    actions = []
    for i in range(n):
        a = articles[i % len(articles)].model_copy(deep=True)
        seen = now - timedelta(days=rng.uniform(0.5, 90))
        a.canonical_url = f"https://older.example/{i}"
        a.published = seen
        a.simhash = rng.getrandbits(64)
        words = a.text.split()
        a.text = " ".join(rng.choice(vocabulary) if rng.random() < 0.5 else w for w in words[:300])
        for s in a.statements:
            s.text = " ".join(rng.choice(vocabulary) if rng.random() < 0.5 else w for w in s.text.split())
            s.key = statement_key(s.speaker_id or s.speaker_name, s.text)
            s.repeat_of = None
        aid = stable_id("article", a.canonical_url)
        actions.append(ix.Action(p.idx("articles"), aid, article_doc(a, aid, seen.isoformat(), seen)))
        for sid, s in zip(statement_ids(aid, a.statements), a.statements, strict=True):
            doc = statement_doc(s, sid, a, aid, seen.isoformat(), seen.isoformat())
            actions.append(ix.Action(p.idx("statements"), sid, doc))
    res = ix.bulk_actions(p.es, actions)
    if res.failed:
        raise SystemExit(f"preload failed: {list(res.failed.items())[:3]}")
    p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
    return len(actions)


def e2e(
    feeds: list[str],
    cpu_workers: int = 1,
    older: int = 0,
    cache: str = "",
    batch_size: int = 50,
    profile: str = "",
) -> dict[str, Any]:
    """run_once over the local sites (poll, fetch politely, enrich, store, alert), from an empty queue.
    profile: write a cProfile of run_once there (and its top functions into the result)."""
    from pipeline.run import open_pipeline, run_once

    prefix = f"bench-e2e-{uuid.uuid4().hex[:8]}"
    seeds = seeds_for(feeds)
    with open_pipeline(settings(prefix, cpu_workers=cpu_workers), seeds) as p:
        try:
            preloaded = preload_older(p, cache, older) if older else 0
            start_workers(p, None)
            ncpu0 = node_cpu_s(p.es)  # before the counter, which counts only the run's requests
            counter = RequestCounter(p.es)
            profiler = None
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            pool = p.cpu() if hasattr(p, "cpu") else None
            cpu0, wcpu0 = own_cpu_s(), workers_cpu_s(pool)
            t0 = time.perf_counter()
            run = run_once(p, batch_size=batch_size)
            dt = time.perf_counter() - t0
            requests, by_endpoint, waits = counter.count, dict(counter.by_endpoint), dict(counter.seconds_by_endpoint)
            out: dict[str, Any] = {
                "main_cpu_s": own_cpu_s() - cpu0,
                "workers_cpu_s": workers_cpu_s(pool) - wcpu0,
                "node_cpu_s": node_cpu_s(p.es) - ncpu0,  # the Elasticsearch node's share of the work
            }
            if profiler is not None:
                profiler.disable()
                out["profile_top"] = profile_top(profiler, profile)
            if hasattr(p, "cpu"):
                note_worker_peaks(p.cpu())
            n = run.process.articles
            return out | {
                "articles": n,
                "items": run.process.items,
                "failed": run.process.failed,
                "seconds": dt,
                "articles_per_s": n / dt,
                "es_requests": requests,
                "es_requests_per_article": requests / max(n, 1),
                "es_by_endpoint": by_endpoint,
                "es_seconds_by_endpoint": {k: round(v, 3) for k, v in waits.items()},
                "older_docs": preloaded,
                "statements": run.process.statements,
                "duplicates": run.process.duplicates,
            }
        finally:
            drop(p.es, prefix)


def profile_top(profiler: Any, dest: str, n: int = 10) -> list[dict[str, Any]]:
    """Save the profile and return its top n functions by own time."""
    import pstats

    profiler.dump_stats(dest)
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({func})",
                "calls": calls,
                "tottime_s": tottime,
                "cumtime_s": cumtime,
            }
        )
    total = sum(r["tottime_s"] for r in rows)
    rows.sort(key=lambda r: -r["tottime_s"])
    for r in rows:
        r["share"] = r["tottime_s"] / total if total else 0.0
    return rows[:n]


def enrich_alone(pages: list[str]) -> dict[str, Any]:
    """The same pages' enrichment in one process, fetched beforehand: what end to end is compared with."""
    from pipeline.config import load_seeds
    from pipeline.enrich import prepare_article
    from pipeline.fetch import FetchedPage

    seeds = load_seeds(CODE / "seeds")
    bodies = fetch_all(pages)
    t0, cpu0 = time.perf_counter(), own_cpu_s()
    n = 0
    for url, body in zip(pages, bodies, strict=True):
        page = FetchedPage(url=url, content=body, content_type="text/html; charset=utf-8", truncated=False)
        n += prepare_article({"feed_id": "f0", "published": None}, page, None, seeds)[0] is not None
    dt = time.perf_counter() - t0
    return {"articles": n, "seconds": dt, "articles_per_s": n / dt, "cpu_s": own_cpu_s() - cpu0}


# ------------------------------------------------------------------ politeness


def politeness(feeds: list[str], mode: str, delay: float = 1.0) -> dict[str, Any]:
    """Fetch every page of the sites with the per-host delay: newsmon's scheduler ('newsmon', through
    process_items), or the earlier blocking design ('blocking': a thread pool whose workers sleep in
    HostPacer.wait before each request). Page arrival times are read at the server."""
    from pipeline.fetch import fetch_page
    from pipeline.run import open_pipeline, pending_items, poll_feeds, process_items

    prefix = f"bench-pol-{uuid.uuid4().hex[:8]}"
    seeds = seeds_for(feeds)
    with open_pipeline(settings(prefix, host_delay_s=delay, fetch_workers=4), seeds) as p:
        try:
            kw = {"cpu_workers": 0} if supports(process_items, "cpu_workers") else {}
            poll_feeds(p, [f.id for f in seeds.feeds], **kw)
            ids = pending_items(p)
            time.sleep(delay)  # the feed requests' delay passes before the pages start
            t0 = time.perf_counter()
            if mode == "newsmon":
                s = process_items(p, ids, **kw)
                pages = s.articles + s.skipped + s.failed
            else:
                from pipeline.store import client as ix

                urls = [d["url"] for d in ix.get_docs(p.es, p.idx("items"), ids).values()]
                with ThreadPoolExecutor(p.settings.fetch_workers) as ex:
                    pages = len(list(ex.map(lambda u: fetch_page(u, p.http, p.robots, pace=True), urls)))
            dt = time.perf_counter() - t0
            return {"pages": pages, "seconds": dt, "pages_per_s": pages / dt}
        finally:
            drop(p.es, prefix)


WORK = {
    f.__name__: f
    for f in (
        poll_baseline,
        poll_newsmon,
        enrich_pages,
        enrich_only,
        enrich_pool,
        statements_seed,
        corpus_articles,
        index,
        e2e,
        enrich_alone,
        politeness,
    )
}

if __name__ == "__main__":
    # parameters come on stdin: 5,000 feed URLs do not fit in an argument list
    name, params = sys.argv[1], json.loads(sys.stdin.read())
    started = time.time()
    result = WORK[name](**params)
    result.update(peak_rss_mb())
    result["wall_s"] = round(time.time() - started, 2)
    print("RESULT " + json.dumps(result), flush=True)
