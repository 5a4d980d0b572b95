"""Splitting poll and process work into batches by host, so that parallel workers do not share a site.

Every feed or item of one host goes into the same batch (unless the host alone holds more than
`HOST_SPLIT` batches' worth), and batches are filled largest host first into the emptiest batch,
so they come out about equally long. Two workers then never wait on the same site: per-host
pacing (`schedule.HostGate`) still holds if they do, but one of them would sit idle meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from .context import Pipeline
from .schedule import host_of_url
from .store import client as ix

HOST_SPLIT = 4  # a host with more than this many batches' worth of work is split into batch-sized pieces


def batches_by_host(ids: list[str], host_of: Callable[[str], str], size: int) -> list[list[str]]:
    """ids in batches of about `size`, no host in two batches (bar very large hosts), order kept within a host."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    groups: dict[str, list[str]] = {}
    for i in dict.fromkeys(ids):
        groups.setdefault(host_of(i), []).append(i)
    pieces: list[list[str]] = []
    for group in groups.values():
        if len(group) > HOST_SPLIT * size:
            pieces += [group[k : k + size] for k in range(0, len(group), size)]
        else:
            pieces.append(group)
    n = max(1, -(-sum(len(g) for g in pieces) // size))
    heap = [(0, b) for b in range(n)]  # (items so far, batch number): the emptiest batch first
    batches: list[list[str]] = [[] for _ in range(n)]
    for piece in sorted(pieces, key=len, reverse=True):
        load, b = heapq.heappop(heap)
        batches[b] += piece
        heapq.heappush(heap, (load + len(piece), b))
    return [b for b in batches if b]


def feed_batches(p: Pipeline, feed_ids: list[str], size: int) -> list[list[str]]:
    """Feed ids in batches by the host of their URL."""
    url = {f.id: f.url for f in p.seeds.feeds}
    return batches_by_host(feed_ids, lambda fid: host_of_url(url.get(fid, "")), size)


@ix.es_errors
def item_batches(p: Pipeline, item_ids: list[str], size: int) -> list[list[str]]:
    """Queue item ids in batches by the host of their article URL (one mget reads the URLs)."""
    docs = ix.get_docs(p.es, p.idx("items"), item_ids)
    return batches_by_host(item_ids, lambda i: host_of_url(docs.get(i, {}).get("url", "")), size)
