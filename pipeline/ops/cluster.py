"""One worker's share of the work, run as its own process: what a Celery worker's poll or process task does.

    python -m pipeline.ops.cluster poll FEED_ID ...       # poll_feeds over these feeds
    python -m pipeline.ops.cluster process ITEM_ID ...    # process_items over these queue items
    python -m pipeline.ops.cluster split poll|process SIZE   # the host-grouped batches (fanout), one JSON line
    python -m pipeline.ops.cluster serve poll|process QUEUE_DIR   # one task slot: claim batch files until none is left

Settings come from NEWSMON_* as everywhere; workers that run side by side need
NEWSMON_HOST_GATE=elasticsearch so that their per-host pacing is shared. The CPU stages run in
the worker's own process (as in an Airflow task). Prints one JSON line: the summary plus the
wall-clock start and end, which the pacing test and bench/cluster.py read.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from ..context import open_pipeline
from ..fanout import feed_batches, item_batches
from ..run import pending_items, poll_feeds, process_items

# The settings that make several workers one deployment, as tested here (tests/test_cluster.py) and as
# infra/docker-compose.cluster.yml sets them (tests/test_compose.py compares the two).
PROFILE_ENV = {
    "NEWSMON_HOST_GATE": "elasticsearch",  # per-host pacing shared through Elasticsearch
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
}
PROFILE_WORKERS = 2  # Celery workers
PROFILE_ES_NODES = 3  # Elasticsearch nodes, each master-eligible and data


def claim_batch(queue: Path) -> list[str] | None:
    """Take the next batch file from the queue folder, or None when it is empty. The rename is atomic,
    so two slots never take one batch (as a broker hands each mapped task to one worker)."""
    for path in sorted(queue.glob("*.json")):
        mine = path.with_name(f"{path.name}.{os.getpid()}")
        try:
            path.rename(mine)
        except FileNotFoundError:
            continue  # another slot took it
        ids: list[str] = json.loads(mine.read_text())
        return ids
    return None


def serve(kind: str, queue: Path) -> dict[str, float | int]:
    """One task slot of a Celery worker: run batch after batch from the queue, each as its task would."""
    totals: dict[str, float | int] = {"batches": 0}
    with open_pipeline() as p:
        totals["started"] = time.time()  # after imports and setup, as in a warm prefork child
        while (batch := claim_batch(queue)) is not None:
            run = poll_feeds(p, batch, cpu_workers=0) if kind == "poll" else process_items(p, batch, cpu_workers=0)
            totals["batches"] += 1
            for key, value in run.model_dump().items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
        totals["finished"] = time.time()
    return totals


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("poll", "process", "split", "serve"):
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kind, args = argv[0], argv[1:]
    if kind == "serve":
        print(json.dumps({"kind": args[0], **serve(args[0], Path(args[1]))}))
        return 0
    with open_pipeline() as p:
        if kind == "split":
            size = int(args[1])
            if args[0] == "poll":
                batches = feed_batches(p, [f.id for f in p.seeds.feeds if f.enabled], size)
            else:
                batches = item_batches(p, pending_items(p, limit=10000), size)
            print(json.dumps(batches))
            return 0
        t0 = time.time()
        if kind == "poll":
            summary = poll_feeds(p, args, cpu_workers=0).model_dump(mode="json")
        else:
            summary = process_items(p, args, cpu_workers=0).model_dump(mode="json")
        print(json.dumps({"kind": kind, "started": t0, "finished": time.time(), **summary}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
