"""robots.txt verdicts in Elasticsearch (`<prefix>-robots`), so every worker and every Airflow task
shares one copy per site and a site's robots.txt is fetched once a day, not once per process."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, TransportError

log = logging.getLogger(__name__)


class EsRobotsStore:
    """get/put of one document per origin. Errors are logged and ignored: the cache is an optimisation,
    and the caller then fetches robots.txt itself."""

    def __init__(self, es: Elasticsearch, index: str):
        self.es = es
        self.index = index

    def get_many(self, origins: list[str]) -> dict[str, dict[str, Any]]:
        """The stored verdicts of many origins in one request (a batch's sites), by origin; absent ones left out."""
        if not origins:
            return {}
        try:
            resp = self.es.mget(index=self.index, ids=origins)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not read %d sites: %s", self.index, len(origins), exc)
            return {}
        return {d["_id"]: dict(d["_source"]) for d in resp["docs"] if d.get("found")}

    def get(self, origin: str) -> dict[str, Any] | None:
        try:
            resp = self.es.options(ignore_status=404).get(index=self.index, id=origin)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not read %s: %s", self.index, origin, exc)
            return None
        return dict(resp["_source"]) if resp.get("found") else None

    def claim(self, origin: str, ttl: timedelta) -> bool:
        """Take the lease to fetch this origin's robots.txt (a document created only if absent, so one
        worker wins). A lease older than ``ttl`` (its holder died) is taken over. True: fetch it yourself."""
        lease_id = f"lease:{origin}"
        now = datetime.now(UTC)
        doc = {
            "origin": origin,
            "verdict": "lease",
            "fetched_at": now.isoformat(),
            "expires_at": (now + ttl).isoformat(),
        }
        for _ in range(2):
            try:
                self.es.create(index=self.index, id=lease_id, document=doc)
                return True
            except ConflictError:
                held = self.es.options(ignore_status=404).get(index=self.index, id=lease_id)
                if not held.get("found"):
                    continue
                if datetime.fromisoformat(held["_source"]["expires_at"]) > now:
                    return False
                try:  # expired: remove exactly that lease (optimistic concurrency), then try again
                    self.es.delete(
                        index=self.index, id=lease_id, if_seq_no=held["_seq_no"], if_primary_term=held["_primary_term"]
                    )
                except (ConflictError, ApiError):
                    return False
            except (ApiError, TransportError) as exc:
                log.warning("robots cache %s: could not take the lease for %s: %s", self.index, origin, exc)
                return True  # no shared lease: fetch it ourselves
        return False

    def release(self, origin: str) -> None:
        try:
            self.es.options(ignore_status=404).delete(index=self.index, id=f"lease:{origin}")
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not release the lease for %s: %s", self.index, origin, exc)

    def settle(self, origin: str, doc: dict[str, Any]) -> None:
        """Store the verdict and end our lease in one request (the lease holder's last step)."""
        ops: list[dict[str, Any]] = [
            {"index": {"_index": self.index, "_id": origin}},
            doc,
            {"delete": {"_index": self.index, "_id": f"lease:{origin}"}},
        ]
        try:
            resp = self.es.bulk(operations=ops)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not store %s: %s", self.index, origin, exc)
            return
        for item in resp["items"]:
            op, result = next(iter(item.items()))
            if result.get("status", 200) >= 300 and not (op == "delete" and result.get("status") == 404):
                log.warning("robots cache %s: could not %s for %s: %s", self.index, op, origin, result.get("error"))

    def put(self, origin: str, doc: dict[str, Any]) -> None:
        try:
            self.es.index(index=self.index, id=origin, document=doc)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not store %s: %s", self.index, origin, exc)
