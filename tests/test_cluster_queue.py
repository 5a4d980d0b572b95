"""The batch queue bench/cluster.py's worker slots share: every batch is taken once, by one slot."""

from __future__ import annotations

import json
import threading

from pipeline.ops.cluster import claim_batch


def test_slots_racing_for_batches_take_each_exactly_once(tmp_path):
    batches = [[f"feed-{n}-{k}" for k in range(3)] for n in range(60)]
    for n, batch in enumerate(batches):
        (tmp_path / f"{n:05d}.json").write_text(json.dumps(batch))
    taken: list[list[str]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def slot() -> None:
        start.wait()
        while (batch := claim_batch(tmp_path)) is not None:
            with lock:
                taken.append(batch)

    threads = [threading.Thread(target=slot) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(tuple, taken)) == sorted(map(tuple, batches))
    assert claim_batch(tmp_path) is None  # nothing left, and claimed files are not offered again
