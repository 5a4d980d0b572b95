"""One worker against two: polling and processing throughput with per-host pacing shared by the workers.

    python bench/cluster.py                 # 200 feeds and 200 real pages on 20 sites, 1 s per site
    python bench/cluster.py --quick         # 40 feeds and 40 pages (proves it runs)
    python bench/cluster.py --json          # one JSON summary line at the end

A worker is modelled as deployed: AIRFLOW__CELERY__WORKER_CONCURRENCY (2) task slots, each a process
(`python -m pipeline.ops.cluster serve`, like a Celery prefork child) that takes the next
host-grouped batch (pipeline/fanout.py, the DAGs' batch sizes) from a shared queue when it is free,
with NEWSMON_HOST_GATE=elasticsearch and enrichment in the slot's own process as in an Airflow task.
The fetch pool is workers x concurrency slots (what `newsmon airflow up --profile cluster` creates),
so two workers run twice the batches at once; per-site pacing still holds across all slots.
Throughput is items over the span from the first slot's start (after its imports and pipeline
setup) to the last one's end.
Sites are 127.77.x.y addresses (bench/sites.py); needs Elasticsearch (NEWSMON_ES_URL) and ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from sites import Sites  # noqa: E402
from work import drop, seeds_for  # noqa: E402

from pipeline.ops.cluster import PROFILE_ENV  # noqa: E402

HOSTS = 20
CONCURRENCY = int(PROFILE_ENV["AIRFLOW__CELERY__WORKER_CONCURRENCY"])  # task slots per worker, as deployed
# Batch sizes: the DAGs' defaults (dags/_newsmon_common.py FEED_BATCH, ITEM_BATCH)
FEED_BATCH = 10
ITEM_BATCH = 25


def log(msg: str) -> None:
    print(f"[cluster-bench] {msg}", file=sys.stderr, flush=True)


def write_seeds(dest: Path, feed_urls: list[str]) -> Path:
    import yaml

    seeds = seeds_for(feed_urls)
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("figures.yaml", "topics.yaml", "alerts.yaml"):
        (dest / name).write_text((REPO / "seeds" / name).read_text())
    feeds = [f.model_dump(mode="json", include={"id", "name", "url", "outlet"}) for f in seeds.feeds]
    (dest / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    return dest


def env_for(prefix: str, seeds: Path, delay: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(
        NEWSMON_ES_URL=os.environ.get("NEWSMON_ES_URL", "http://127.0.0.1:9200"),
        NEWSMON_INDEX_PREFIX=prefix,
        NEWSMON_SEEDS_DIR=str(seeds),
        NEWSMON_ALLOW_PRIVATE="127.0.0.0/8",
        NEWSMON_HOST_GATE="elasticsearch",
        NEWSMON_HOST_DELAY_S=str(delay),
        NEWSMON_STATE_DIR=str(seeds.parent / "var"),
        PYTHONPATH=str(REPO),
    )
    return env


def run_workers(env: dict[str, str], kind: str, batches: list[list[str]], workers: int, tmp: Path) -> dict[str, Any]:
    """Run the host-grouped batches on `workers` Celery-like workers of CONCURRENCY task slots each.

    As deployed, every batch is one mapped task, and a worker runs CONCURRENCY of them at a time
    (the fetch pool has workers x concurrency slots); a free slot takes the next batch. Here each slot
    is a process (`pipeline.ops.cluster serve`, a prefork child) that claims batch files from a queue
    folder until none is left."""
    queue = Path(tempfile.mkdtemp(prefix=f"queue-{kind}-", dir=tmp))
    for n, batch in enumerate(batches):
        (queue / f"{n:05d}.json").write_text(json.dumps(batch))
    slots = workers * CONCURRENCY
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pipeline.ops.cluster", "serve", kind, str(queue)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(slots)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"a {kind} slot failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    span = max(r["finished"] for r in results) - min(r["started"] for r in results)
    n = sum(r.get("polled" if kind == "poll" else "items", 0) for r in results)
    return {
        "workers": workers,
        "slots": slots,
        "batches": len(batches),
        "items": n,
        "seconds": round(span, 2),
        "per_s": round(n / span, 2),
    }


def split(env: dict[str, str], kind: str, size: int) -> list[list[str]]:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cluster", "split", kind, str(size)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def one(
    workers: int, feeds: int, pages: int, delay: float, tmp: Path, feed_batch: int, item_batch: int
) -> dict[str, Any]:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(os.environ.get("NEWSMON_ES_URL", "http://127.0.0.1:9200").split(","))
    out: dict[str, Any] = {}
    try:
        # polling: real feeds, feeds/HOSTS per site
        prefix = f"bench-cl-{uuid.uuid4().hex[:8]}"
        with Sites({"kind": "feeds", "feeds": feeds, "feeds_per_host": feeds // HOSTS, "max_entries": 10}) as site:
            env = env_for(prefix, write_seeds(tmp / f"{prefix}-seeds", site.urls["feeds"]), delay)
            out["poll"] = run_workers(env, "poll", split(env, "poll", feed_batch), workers, tmp)
        drop(es, prefix)
        # processing: real pages, pages/HOSTS per site, polled first (not timed)
        prefix = f"bench-cl-{uuid.uuid4().hex[:8]}"
        with Sites({"kind": "pages", "pages": pages, "pages_per_host": pages // HOSTS}) as site:
            env = env_for(prefix, write_seeds(tmp / f"{prefix}-seeds", site.urls["feeds"]), delay)
            run_workers(env, "poll", split(env, "poll", max(1, pages)), 1, tmp)
            time.sleep(delay)  # the feed requests' delay passes before the pages start
            out["process"] = run_workers(env, "process", split(env, "process", item_batch), workers, tmp)
        drop(es, prefix)
    finally:
        es.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--delay", type=float, default=1.0, help="seconds between two requests to one site")
    ap.add_argument("--feed-batch", type=int, default=FEED_BATCH, help="feeds per poll task (the DAG's default)")
    ap.add_argument("--item-batch", type=int, default=ITEM_BATCH, help="items per process task (the DAG's default)")
    ap.add_argument("--json", action="store_true", help="print one JSON summary line at the end")
    args = ap.parse_args()
    feeds, pages = (40, 40) if args.quick else (args.feeds, args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for workers in (1, 2):
            log(f"{workers} worker(s): {feeds} feeds, {pages} pages on {HOSTS} sites, {args.delay} s per site")
            runs[workers] = one(workers, feeds, pages, args.delay, Path(tmp), args.feed_batch, args.item_batch)
            log(json.dumps(runs[workers]))
    summary = {
        "hosts": HOSTS,
        "feeds": feeds,
        "pages": pages,
        "delay_s": args.delay,
        "slots_per_worker": CONCURRENCY,
        "feed_batch": args.feed_batch,
        "item_batch": args.item_batch,
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "one_worker": runs[1],
        "two_workers": runs[2],
        "poll_ratio": round(runs[2]["poll"]["per_s"] / runs[1]["poll"]["per_s"], 2),
        "process_ratio": round(runs[2]["process"]["per_s"] / runs[1]["process"]["per_s"], 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
