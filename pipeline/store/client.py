"""The Elasticsearch edge: connect, set up versioned indices behind aliases, bulk-write with retries."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from elastic_transport.client_utils import DEFAULT
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch import ConnectionError as EsConnectionError

from ..config import Settings, secret
from .mappings import INDICES, SETTINGS, STEMMED, index_name, mapping_for
from .search_fields import fill_search_fields

if TYPE_CHECKING:
    from ..context import Pipeline

log = logging.getLogger(__name__)

P = TypeVar("P", bound="Pipeline")
Params = ParamSpec("Params")
R = TypeVar("R")

RETRY_STATUSES = {429, 500, 502, 503, 504}


class EsUnavailable(Exception):
    """Elasticsearch could not be reached or refused us; the message names the URL."""


def client_url(es: Elasticsearch) -> str:
    try:
        return ", ".join(node.base_url for node in es.transport.node_pool.all())
    except AttributeError:  # a wrapped or fake client
        return "the configured Elasticsearch"


def es_errors(func: Callable[Concatenate[P, Params], R]) -> Callable[Concatenate[P, Params], R]:
    """Turn low-level client errors inside a pipeline entry point into EsUnavailable naming the node."""

    @functools.wraps(func)
    def wrapper(p: P, *args: Params.args, **kwargs: Params.kwargs) -> R:
        try:
            return func(p, *args, **kwargs)
        except EsConnectionError as exc:
            raise EsUnavailable(f"Elasticsearch at {client_url(p.es)} is unreachable: {exc.message}") from exc
        except ApiError as exc:
            raise EsUnavailable(
                f"Elasticsearch at {client_url(p.es)} answered HTTP {exc.meta.status}: {exc.message}"
            ) from exc

    return wrapper


def alias(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def connect(settings: Settings) -> Elasticsearch:
    auth = (settings.es_user, secret(settings.es_password)) if settings.es_user else None
    es = Elasticsearch(
        settings.es_url,
        basic_auth=auth,
        ca_certs=settings.es_ca_certs or DEFAULT,
        verify_certs=settings.es_verify_certs,
        request_timeout=30,
        retry_on_timeout=True,
        max_retries=2,
    )
    check(es, settings.es_url)
    return es


def check(es: Elasticsearch, url: str) -> dict:
    """Fail early, with the URL, when the cluster is down, unauthorised or red."""
    try:
        health = es.cluster.health(timeout="10s")
    except EsConnectionError as exc:
        raise EsUnavailable(
            f"Elasticsearch at {url} is unreachable ({exc.message}). Start it with `newsmon es start` "
            "or set NEWSMON_ES_URL."
        ) from exc
    except ApiError as exc:
        if exc.meta.status == 401:
            raise EsUnavailable(
                f"Elasticsearch at {url} rejected the credentials (HTTP 401); set NEWSMON_ES_USER and NEWSMON_ES_PASSWORD."
            ) from exc
        raise EsUnavailable(f"Elasticsearch at {url} answered HTTP {exc.meta.status}: {exc.message}") from exc
    except TransportError as exc:
        raise EsUnavailable(f"Elasticsearch at {url} failed: {exc}") from exc
    if health.get("status") == "red":
        raise EsUnavailable(f"Elasticsearch at {url} is red; check its logs")
    return dict(health)


def _current_target(es: Elasticsearch, name: str) -> str | None:
    if not es.indices.exists_alias(name=name):
        return None
    return next(iter(es.indices.get_alias(name=name).keys()))


def has_english_analyzer(es: Elasticsearch) -> bool:
    """Whether the cluster knows the `english` analyzer (the full distribution's analysis-common module)."""
    try:
        resp = es.indices.analyze(analyzer="english", text="deported")
    except ApiError as exc:
        if exc.meta.status == 400:  # "failed to find global analyzer [english]"
            return False
        if exc.meta.status == 403:
            log.warning(
                "not allowed to ask %s for the english analyzer (HTTP 403); indexing without stemming", client_url(es)
            )
            return False
        raise
    return [t["token"] for t in resp["tokens"]] == ["deport"]


def word_forms_status(es: Elasticsearch, prefix: str) -> str:
    """One line for `newsmon status`: whether searches find other word forms, and why not."""
    stemmed = []
    for kind in STEMMED:
        try:
            mapping = es.indices.get_mapping(index=alias(prefix, kind))
        except ApiError:
            continue
        props = next(iter(mapping.values()))["mappings"]["properties"]
        if all("stemmed" in props.get(f, {}).get("fields", {}) for f in STEMMED[kind]):
            stemmed.append(kind)
    if stemmed:
        return f"word forms found (english stemming on {', '.join(stemmed)}); H-1B/H1B spellings unified"
    if has_english_analyzer(es):
        return "the english analyzer is available but the indices predate it: run `newsmon es setup` to add stemming"
    return (
        "exact word forms only: this Elasticsearch has no english analyzer (the minimal distribution lacks the "
        "analysis-common module), so 'deported' does not find 'deportation'; H-1B/H1B spellings are still unified"
    )


def setup_indices(es: Elasticsearch, prefix: str, *, stemming: bool | None = None) -> list[str]:
    """Create missing indices and move aliases to new mapping versions. Safe to run any number of times.

    `stemming`: add stemmed subfields; by default, when the cluster has the `english` analyzer.
    Documents copied into a new version get their search fields recomputed (`search_fields`).
    """
    if stemming is None:
        stemming = has_english_analyzer(es)
    actions: list[str] = []
    for kind in INDICES:
        name = alias(prefix, kind)
        target = index_name(name, kind, stemming)
        current = _current_target(es, name)
        if current == target:
            continue
        if es.indices.exists(index=name) and current is None:
            raise EsUnavailable(f"an index (not an alias) called '{name}' exists; remove or rename it first")
        if not es.indices.exists(index=target):
            es.indices.create(index=target, settings=SETTINGS, mappings=mapping_for(kind, stemming))
            actions.append(f"created {target}")
        if current:
            _copy_documents(
                es, current, target, functools.partial(fill_search_fields, es, alias(prefix, "articles"), kind)
            )
            es.indices.update_aliases(
                actions=[{"remove": {"index": current, "alias": name}}, {"add": {"index": target, "alias": name}}]
            )
            actions.append(f"moved alias {name}: {current} -> {target}")
        else:
            es.indices.put_alias(index=target, name=name)
            actions.append(f"alias {name} -> {target}")
    es.indices.refresh(index=",".join(alias(prefix, k) for k in INDICES))
    return actions


def _copy_documents(
    es: Elasticsearch, source: str, target: str, derive: Callable[[list[dict]], None] | None = None
) -> None:
    # The minimal distribution has neither the _reindex API nor data streams (which
    # helpers.reindex probes), so copy with scroll + bulk.
    hits: list[dict] = []

    def flush() -> None:
        if derive:
            derive([h["_source"] for h in hits])
        batch: list[dict] = []
        for hit in hits:
            batch += [{"index": {"_index": target, "_id": hit["_id"]}}, hit["_source"]]
        _bulk_or_raise(es, batch, target)
        hits.clear()

    for hit in helpers.scan(es, index=source, query={"query": {"match_all": {}}}, size=500):
        hits.append(hit)
        if len(hits) >= 500:
            flush()
    if hits:
        flush()
    es.indices.refresh(index=target)


def _bulk_or_raise(es: Elasticsearch, operations: list[dict], target: str) -> None:
    resp = es.bulk(operations=operations)
    if resp.get("errors"):
        bad = next(i for i in resp["items"] if next(iter(i.values())).get("error"))
        raise EsUnavailable(f"copying documents into {target} failed (mapping change not compatible?): {bad}")


@dataclass
class BulkResult:
    ok: int = 0
    created: list[str] = field(default_factory=list)  # ids that did not exist before
    failed: dict[str, str] = field(default_factory=dict)  # doc id -> reason


def bulk_write(
    es: Elasticsearch,
    index: str,
    docs: Iterable[tuple[str, dict[str, Any]]],
    *,
    op: str = "index",
    retries: int = 4,
    backoff_s: float = 0.5,
    refresh: bool | str = False,
) -> BulkResult:
    """Write documents by id. Retries items that got 429 or 5xx; reports the rest per document.

    op='create' never overwrites: an existing id counts as ok-but-skipped (reported under 'exists').
    """
    pending = {doc_id: doc for doc_id, doc in docs}
    result = BulkResult()
    attempt = 0
    while pending:
        body: list[dict] = []
        for doc_id, doc in pending.items():
            body.append({op: {"_index": index, "_id": doc_id}})
            body.append(doc if op != "update" else {"doc": doc, "doc_as_upsert": True})
        try:
            resp = es.bulk(operations=body, refresh=refresh)
        except EsConnectionError as exc:
            raise EsUnavailable(f"Elasticsearch is unreachable while writing to {index}: {exc.message}") from exc
        except ApiError as exc:
            if exc.meta.status in RETRY_STATUSES and attempt < retries:
                attempt += 1
                time.sleep(backoff_s * 2 ** (attempt - 1))
                continue
            raise EsUnavailable(f"bulk write to {index} failed: HTTP {exc.meta.status} {exc.message}") from exc
        retry: dict[str, dict] = {}
        for item in resp["items"]:
            ((action, info),) = item.items()
            doc_id, status = info["_id"], info["status"]
            if status < 300 or (op == "create" and status == 409):
                result.ok += 1
                if status == 201:
                    result.created.append(doc_id)
            elif status in RETRY_STATUSES and attempt < retries:
                retry[doc_id] = pending[doc_id]
            else:
                err = info.get("error", {})
                result.failed[doc_id] = f"HTTP {status}: {err.get('type', '')} {err.get('reason', '')}".strip()
        pending = retry
        if pending:
            attempt += 1
            time.sleep(backoff_s * 2 ** (attempt - 1))
    return result


def get_docs(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, dict]:
    if not ids:
        return {}
    resp = es.mget(index=index, ids=ids)
    return {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}


def count(es: Elasticsearch, index: str, query: dict | None = None) -> int:
    return int(es.count(index=index, query=query or {"match_all": {}})["count"])
