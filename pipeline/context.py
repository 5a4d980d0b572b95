"""The outside world of one run or task: settings, seeds, the Elasticsearch client and the HTTP client.

`open_pipeline` opens them once; every function that reads or writes state takes the resulting
`Pipeline`, so a test can point it at a local node and a local HTTP server.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from .config import Seeds, Settings, load_seeds, load_settings
from .cpu import CpuPool, default_workers
from .fetch import RobotsCache
from .net import HttpClient
from .schedule import HostGate, LocalGate
from .store import client as ix
from .store.hostgate import EsHostGate
from .store.robots import EsRobotsStore


class Pipeline:
    """Everything a stage needs to talk to the outside world, opened once per run or task."""

    def __init__(self, settings: Settings, seeds: Seeds, es: Elasticsearch, http: HttpClient):
        self.settings = settings
        self.seeds = seeds
        self.es = es
        self.http = http
        # robots.txt verdicts shared with every other worker and task through the index
        self.robots = RobotsCache(http, EsRobotsStore(es, self.idx("robots")))
        self.gate: HostGate = LocalGate()  # who may send to a host next; shared by every stage of this pipeline
        self._cpu: CpuPool | None = None

    def idx(self, kind: str) -> str:
        return ix.alias(self.settings.index_prefix, kind)

    def cpu(self, workers: int | None = None) -> CpuPool:
        """The CPU stages' pool, started on first use and kept until close(). workers: settings.cpu_workers
        when None (itself None: one per core); a different count replaces the pool."""
        if workers is None:
            workers = self.settings.cpu_workers if self.settings.cpu_workers is not None else default_workers()
        if self._cpu is None or self._cpu.workers != workers:
            if self._cpu is not None:
                self._cpu.close()
            self._cpu = CpuPool(self.seeds, workers)
        return self._cpu

    def close(self) -> None:
        if self._cpu is not None:
            self._cpu.close()
        self.http.close()
        self.es.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_pipeline(settings: Settings | None = None, seeds: Seeds | None = None, *, setup: bool = True) -> Pipeline:
    settings = settings or load_settings()
    seeds = seeds or load_seeds(settings.seeds_dir)
    es = ix.connect(settings)
    if setup:
        ix.setup_indices(es, settings.index_prefix)
    p = Pipeline(settings, seeds, es, HttpClient(settings))
    if settings.host_gate == "elasticsearch":
        # A lease outlives any call made under it: robots.txt and the page, each within the total limit.
        p.gate = EsHostGate(es, settings.index_prefix, lease_s=2 * settings.http_total_timeout_s + 10.0)
    return p
