"""One worker's share of the work, run as its own process: what a Celery worker's poll or process task does.

    python -m pipeline.ops.cluster poll FEED_ID ...       # poll_feeds over these feeds
    python -m pipeline.ops.cluster process ITEM_ID ...    # process_items over these queue items
    python -m pipeline.ops.cluster split poll|process SIZE   # the host-grouped batches (fanout), one JSON line

Settings come from NEWSMON_* as everywhere; workers that run side by side need
NEWSMON_HOST_GATE=elasticsearch so that their per-host pacing is shared. The CPU stages run in
the worker's own process (as in an Airflow task). Prints one JSON line: the summary plus the
wall-clock start and end, which the pacing test and bench/cluster.py read.
"""

from __future__ import annotations

import json
import logging
import sys
import time

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


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("poll", "process", "split"):
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kind, args = argv[0], argv[1:]
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
