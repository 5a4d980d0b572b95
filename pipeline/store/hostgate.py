"""A `HostGate` kept in Elasticsearch, so that per-host pacing holds across workers and machines.

One document per host in `<prefix>-hostgate` (created on first use): who holds the host now
(`owner`, until `lease_until`) and when its last request finished plus any Retry-After hold
(`free_at`). Every change is a compare-and-set on the document's `_seq_no`/`_primary_term`
(or a create-only write for a host never seen), so two workers that read the same free host
cannot both take it: one write wins, the other gets a version conflict and asks again later.

A worker killed while it holds a host leaves a lease; it runs out after `lease_s` (longer than
the HTTP client's total time limit, so a live request always finishes inside its lease).

Times are `time.time()` of the workers' clocks: on several machines keep them in sync (NTP);
a skew of k seconds shortens or lengthens one host's gap by k.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from elasticsearch import ApiError, BadRequestError, ConflictError, Elasticsearch, NotFoundError, TransportError

log = logging.getLogger(__name__)

MAPPING = {
    "dynamic": "strict",
    "properties": {
        "host": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "lease_until": {"type": "double"},
        "free_at": {"type": "double"},
    },
}
SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "refresh_interval": "-1"}
RETRY_BUSY_S = 0.2  # another worker holds the host: ask again this soon (its release is not pushed to us)


def gate_index(prefix: str) -> str:
    return f"{prefix}-hostgate"


def ensure_index(es: Elasticsearch, index: str) -> None:
    """Create the gate's index unless it exists (several workers may race to create it)."""
    if not es.indices.exists(index=index):
        try:
            es.indices.create(index=index, settings=SETTINGS, mappings=MAPPING)
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    # created a moment ago by another worker: wait until its primary can answer
    es.cluster.health(index=index, wait_for_status="yellow", timeout="30s")


class EsHostGate:
    """HostGate over one Elasticsearch document per host; safe across threads, processes and machines."""

    def __init__(
        self,
        es: Elasticsearch,
        prefix: str,
        *,
        lease_s: float = 90.0,
        clock: Callable[[], float] = time.time,
        owner: str | None = None,
    ):
        self.es = es
        self.index = gate_index(prefix)
        self.lease_s = lease_s
        self.owner = owner or uuid.uuid4().hex
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, int]] = {}  # host -> (seq_no, primary_term) of our acquiring write
        ensure_index(es, self.index)

    def _doc_id(self, host: str) -> str:
        return host or "_no_host"

    def try_acquire(self, host: str, delay_s: float) -> float:
        now = self._clock()
        doc_id = self._doc_id(host)
        mine = {"host": host, "owner": self.owner, "lease_until": now + self.lease_s}
        try:
            cur = self.es.get(index=self.index, id=doc_id)
        except ApiError as exc:
            if exc.meta.status == 503:  # the gate's shard is starting or failing over: not now
                log.info("host %s: host gate unavailable for a moment (%s)", host, exc.error)
                return now + RETRY_BUSY_S
            if not isinstance(exc, NotFoundError):
                raise
            try:
                resp = self.es.index(index=self.index, id=doc_id, document={**mine, "free_at": 0.0}, op_type="create")
            except ConflictError:
                return now + 0.05  # another worker created it a moment ago
            self._remember(host, resp)
            return 0.0
        src: dict[str, Any] = cur["_source"]
        # Our own lease on a host we do not know we hold: a write of ours whose answer was lost. Take it again.
        ours_lost = src.get("owner") == self.owner and host not in self._held
        if src.get("owner") and float(src.get("lease_until") or 0.0) > now and not ours_lost:
            return now + RETRY_BUSY_S
        ready = float(src.get("free_at") or 0.0) + max(delay_s, 0.0)
        if ready > now:
            return ready
        try:
            resp = self.es.index(
                index=self.index,
                id=doc_id,
                document={**mine, "free_at": float(src.get("free_at") or 0.0)},
                if_seq_no=cur["_seq_no"],
                if_primary_term=cur["_primary_term"],
            )
        except ConflictError:
            return now + 0.05  # another worker took it between our read and our write
        if src.get("owner") and src.get("owner") != self.owner:
            log.warning("host %s: took over the expired lease of worker %s", host, src["owner"])
        self._remember(host, resp)
        return 0.0

    def release(self, host: str, hold_s: float = 0.0) -> None:
        with self._lock:
            version = self._held.pop(host, None)
        if version is None:
            return
        doc = {"host": host, "owner": None, "lease_until": 0.0, "free_at": self._clock() + max(hold_s, 0.0)}
        try:
            try:
                self.es.index(
                    index=self.index,
                    id=self._doc_id(host),
                    document=doc,
                    if_seq_no=version[0],
                    if_primary_term=version[1],
                )
            except ConflictError:
                # A new primary (failover) changes the term; the document may still be ours. Read and check.
                cur = self.es.get(index=self.index, id=self._doc_id(host))
                if cur["_source"].get("owner") != self.owner:
                    # Our lease ran out and another worker took the host: its document is not ours to change.
                    log.warning("host %s: lease of worker %s ran out before the request ended", host, self.owner)
                    return
                self.es.index(
                    index=self.index, id=self._doc_id(host), document=doc,
                    if_seq_no=cur["_seq_no"], if_primary_term=cur["_primary_term"],
                )  # fmt: skip
        except (ApiError, TransportError) as exc:
            # Not fatal to the batch: the host stays closed until the lease runs out, which errs on the polite side.
            log.warning("host %s: could not release it (%s); it reopens when the lease ends", host, exc)

    def _remember(self, host: str, resp: Any) -> None:
        with self._lock:
            self._held[host] = (int(resp["_seq_no"]), int(resp["_primary_term"]))
