"""`newsmon kibana setup`: import newsmon's data views, saved searches and dashboard into Kibana.

The objects live in `kibana_saved_objects.ndjson` beside this module (the format Kibana's export
writes). They go in through Kibana's saved objects import API,
`POST [/s/<space>]/api/saved_objects/_import?overwrite=true`, as a multipart upload with the
`kbn-xsrf` header. Fixed ids plus `overwrite=true` make a second run replace, not duplicate.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

SAVED_OBJECTS = Path(__file__).with_name("kibana_saved_objects.ndjson")
DEFAULT_PREFIX = "newsmon"
# The objects were written for Kibana 9.2 (the stack version of infra/docker-compose.yml). Kibana
# imports objects from its own or an older version only, so an older Kibana refuses them.
MIN_KIBANA = (9, 0)


class KibanaError(Exception):
    """Kibana could not be reached or refused the import; the message says what to do."""


@dataclass
class ImportResult:
    kibana_version: str
    space: str | None
    imported: int
    objects: list[tuple[str, str, str]] = field(default_factory=list)  # (type, id, title)


def load_saved_objects(index_prefix: str = DEFAULT_PREFIX, path: Path = SAVED_OBJECTS) -> list[dict[str, Any]]:
    """The saved objects, with the data views pointed at this installation's index aliases."""
    objects = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if index_prefix != DEFAULT_PREFIX:
        for obj in objects:
            if obj["type"] == "index-pattern":
                title = obj["attributes"]["title"]
                obj["attributes"]["title"] = index_prefix + title.removeprefix(DEFAULT_PREFIX)
    return objects


def to_ndjson(objects: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects).encode("utf-8")


def _space_path(space: str | None) -> str:
    return f"/s/{space}" if space else ""


def _describe(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


class KibanaClient:
    """The three Kibana endpoints setup needs, with errors that name the URL and the fix."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        verify: bool | str = True,
    ):
        self.url = url.rstrip("/")
        headers = {"kbn-xsrf": "newsmon"}  # Kibana refuses state-changing calls without it (CSRF guard)
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        auth = (user, password or "") if user and not api_key else None
        self.http = httpx.Client(headers=headers, auth=auth, timeout=timeout_s, verify=verify)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> KibanaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.url + path
        try:
            resp = self.http.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            raise KibanaError(
                f"nothing is listening at {self.url} ({exc}). Start Kibana (docker compose -f "
                "infra/docker-compose.yml up -d kibana) or pass --url / set NEWSMON_KIBANA_URL."
            ) from exc
        except httpx.TimeoutException as exc:
            raise KibanaError(f"Kibana at {self.url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise KibanaError(f"Kibana at {self.url} failed: {type(exc).__name__}: {exc}") from exc
        if resp.status_code == 401:
            raise KibanaError(
                f"Kibana at {self.url} rejected the credentials (HTTP 401: {_describe(resp)}); set "
                "NEWSMON_KIBANA_USER and NEWSMON_KIBANA_PASSWORD (or NEWSMON_KIBANA_API_KEY)."
            )
        if resp.status_code == 403:
            raise KibanaError(
                f"Kibana at {self.url} answered 403 for {path}: the user may not manage saved objects "
                f"there ({_describe(resp)}); use a user with the 'Saved Objects Management' privilege."
            )
        return resp

    def version(self) -> str:
        resp = self._request("GET", "/api/status")
        if resp.status_code == 503:
            raise KibanaError(f"Kibana at {self.url} is still starting (HTTP 503); try again in a minute")
        if resp.status_code != 200:
            raise KibanaError(
                f"Kibana at {self.url} answered HTTP {resp.status_code} on /api/status: {_describe(resp)}"
            )
        try:
            number = resp.json()["version"]["number"]
        except (ValueError, KeyError, TypeError) as exc:
            raise KibanaError(f"{self.url}/api/status did not answer like Kibana (no version.number)") from exc
        return str(number)

    def check_space(self, space: str) -> None:
        resp = self._request("GET", f"/api/spaces/space/{space}")
        if resp.status_code == 404:
            raise KibanaError(f"Kibana at {self.url} has no space '{space}'; create it first, or leave out --space")
        if resp.status_code != 200:
            raise KibanaError(f"Kibana at {self.url} answered HTTP {resp.status_code} for space '{space}'")

    def import_objects(self, ndjson: bytes, space: str | None) -> dict[str, Any]:
        path = f"{_space_path(space)}/api/saved_objects/_import"
        # The route checks the file name: only a .ndjson upload is accepted.
        files = {"file": ("newsmon.ndjson", ndjson, "application/ndjson")}
        resp = self._request("POST", path, params={"overwrite": "true"}, files=files)
        if resp.status_code != 200 and "more recent version" in resp.text:
            raise KibanaError(f"Kibana at {self.url} is older than these saved objects: {_describe(resp)}")
        if resp.status_code != 200:
            raise KibanaError(f"Kibana at {self.url} refused the import (HTTP {resp.status_code}): {_describe(resp)}")
        body = resp.json()
        if not isinstance(body, dict):
            raise KibanaError(f"Kibana at {self.url} answered the import with {body!r}")
        return body


def _errors_text(errors: list[dict[str, Any]]) -> str:
    lines = []
    for e in errors:
        err = e.get("error") or {}
        kind = err.get("type", "error")
        detail = err.get("message") or err.get("reason") or ""
        if kind == "missing_references":
            detail = "missing " + ", ".join(f"{r.get('type')} {r.get('id')}" for r in err.get("references", []))
        lines.append(f"{e.get('type')} '{e.get('id')}' ({e.get('title') or ''}): {kind} {detail}".rstrip())
    return "\n  ".join(lines)


def setup_kibana(client: KibanaClient, *, space: str | None = None, index_prefix: str = DEFAULT_PREFIX) -> ImportResult:
    """Import the saved objects. Idempotent: the same ids are overwritten on every run."""
    version = client.version()
    parts = _version_tuple(version)
    if parts[:2] < MIN_KIBANA:
        raise KibanaError(
            f"Kibana at {client.url} is version {version}; newsmon's saved objects need Kibana "
            f"{'.'.join(map(str, MIN_KIBANA))} or newer (they were written for 9.2). Upgrade Kibana."
        )
    if space:
        client.check_space(space)
    objects = load_saved_objects(index_prefix)
    body = client.import_objects(to_ndjson(objects), space)
    if not body.get("success"):
        raise KibanaError(
            f"Kibana at {client.url} imported {body.get('successCount', 0)} of {len(objects)} objects:\n  "
            + _errors_text(body.get("errors") or [])
        )
    log.info("imported %d saved objects into Kibana %s at %s", body.get("successCount", 0), version, client.url)
    return ImportResult(
        kibana_version=version,
        space=space,
        imported=int(body.get("successCount") or 0),
        objects=[(o["type"], o["id"], o["attributes"].get("title", "")) for o in objects],
    )
