"""robots.txt verdicts in Elasticsearch (`<prefix>-robots`), so every worker and every Airflow task
shares one copy per site and a site's robots.txt is fetched once a day, not once per process."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, TransportError

from . import client as ix

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
        ops = [ix.Action(self.index, origin, doc), ix.Action(self.index, f"lease:{origin}", op="delete")]
        try:
            written = ix.bulk_actions(self.es, ops, retries=0)  # one try, as put and release make
        except ix.EsUnavailable as exc:
            log.warning("robots cache %s: could not store %s: %s", self.index, origin, exc)
            return
        for doc_id, reason in written.failed.items():
            log.warning("robots cache %s: could not write %s: %s", self.index, doc_id, reason)

    def put(self, origin: str, doc: dict[str, Any]) -> None:
        try:
            self.es.index(index=self.index, id=origin, document=doc)
        except (ApiError, TransportError) as exc:
            log.warning("robots cache %s: could not store %s: %s", self.index, origin, exc)
