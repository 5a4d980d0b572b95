"""robots.txt verdicts in Elasticsearch (`<prefix>-robots`), so every worker and every Airflow task
shares one copy per site and a site's robots.txt is fetched once a day, not once per process."""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

log = logging.getLogger(__name__)


class EsRobotsStore:
    """get/put of one document per origin. Errors are logged and ignored: the cache is an optimisation,
    and the caller then fetches robots.txt itself."""

    def __init__(self, es: Elasticsearch, index: str):
        self.es = es
        self.index = index

    def get(self, origin: str) -> dict[str, Any] | None:
        try:
            resp = self.es.options(ignore_status=404).get(index=self.index, id=origin)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not read %s: %s", self.index, origin, exc)
            return None
        return dict(resp["_source"]) if resp.get("found") else None

    def put(self, origin: str, doc: dict[str, Any]) -> None:
        try:
            self.es.index(index=self.index, id=origin, document=doc)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not store %s: %s", self.index, origin, exc)
