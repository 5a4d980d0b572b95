"""The Elasticsearch edge: connect, set up versioned indices behind aliases, bulk-write with retries."""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from elastic_transport.client_utils import DEFAULT
from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError, helpers
from elasticsearch import ConnectionError as EsConnectionError

from ..config import Settings, mask_url, secret
from .mappings import INDICES, KIND_SETTINGS, SETTINGS, STEMMED, index_name, mapping_for, settings_for
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
        settings.es_url.split(","),  # several nodes: requests go round them, and a dead node is skipped
        basic_auth=auth,
        ca_certs=settings.es_ca_certs or DEFAULT,
        verify_certs=settings.es_verify_certs,
        request_timeout=30,
        retry_on_timeout=True,
        max_retries=2,
    )
    check(es, mask_url(settings.es_url))  # errors name the node, never its password
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
            try:
                es.indices.create(index=target, settings=settings_for(kind), mappings=mapping_for(kind, stemming))
                actions.append(f"created {target}")
            except BadRequestError as exc:  # a worker starting at the same moment created it first
                if exc.error != "resource_already_exists_exception":
                    raise
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
    actions += _ensure_dynamic_settings(es, prefix)
    # Another worker may have created an index a moment ago: wait until its primaries can answer.
    es.cluster.health(index=",".join(alias(prefix, k) for k in INDICES), wait_for_status="yellow", timeout="30s")
    es.indices.refresh(index=",".join(alias(prefix, k) for k in INDICES))
    return actions


def _ensure_dynamic_settings(es: Elasticsearch, prefix: str) -> list[str]:
    """Indices created before a dynamic setting was added get it now: replicas that expand with the
    cluster (every kind) and each kind's own settings (KIND_SETTINGS). One read covers all of them."""
    current = es.indices.get_settings(index=",".join(alias(prefix, k) for k in INDICES), flat_settings=True)
    done = []
    for index, got in sorted(current.items()):
        kind = next(k for k in INDICES if index.startswith(f"{alias(prefix, k)}-v"))  # see index_name
        wanted = {"index.auto_expand_replicas": SETTINGS["auto_expand_replicas"], **KIND_SETTINGS.get(kind, {})}
        have = got.get("settings", {})
        stale = {k: v for k, v in wanted.items() if have.get(k) != v}
        if stale:
            es.indices.put_settings(index=index, settings=stale)
            done.append(f"settings of {index}: {stale}")
    return done


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
    status: dict[str, int] = field(default_factory=dict)  # doc id -> HTTP status, for the failed ones
    seq: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> (_seq_no, _primary_term) written


# One bulk request carries at most this many documents or bytes: far below Elasticsearch's
# http.max_content_length (100 MB), so 20,000 articles in one call go out as many requests, not a 413.
CHUNK_DOCS = 500
CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Action:
    """One bulk operation on one document: op is index, create, update (partial doc) or delete.

    seq: (if_seq_no, if_primary_term), written only if the document is still at that version
    (optimistic concurrency: a 409 otherwise). upsert: an update creates a missing document.
    """

    index: str
    id: str
    doc: dict[str, Any] | None = None
    op: str = "index"
    seq: tuple[int, int] | None = None
    upsert: bool = True

    def expand(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        meta: dict[str, Any] = {"_index": self.index, "_id": self.id}
        if self.seq is not None:
            meta["if_seq_no"], meta["if_primary_term"] = self.seq
        header = {self.op: meta}
        if self.op == "delete":
            return header, None
        if self.op == "update":
            return header, {"doc": self.doc, "doc_as_upsert": self.upsert}
        return header, self.doc


def bulk_actions(
    es: Elasticsearch,
    actions: Iterable[Action],
    *,
    retries: int = 4,
    backoff_s: float = 0.5,
    refresh: bool | str = False,
    chunk_docs: int = CHUNK_DOCS,
    chunk_bytes: int = CHUNK_BYTES,
) -> BulkResult:
    """Write many documents, to any indices, in requests of at most chunk_docs documents and chunk_bytes.

    Documents that got 429 or 5xx (alone, or because the whole request did) are retried with
    exponential backoff; what still fails is reported per document. 'create' on an existing id
    counts as ok but not created. Raises EsUnavailable when the node cannot be reached at all.
    """
    result = BulkResult()
    stream = helpers.streaming_bulk(
        es,
        actions,  # type: ignore[arg-type]  # Action.expand turns each into its header and body
        expand_action_callback=Action.expand,  # type: ignore[arg-type]
        chunk_size=chunk_docs,
        max_chunk_bytes=chunk_bytes,
        raise_on_error=False,
        raise_on_exception=False,  # a whole request answered 5xx counts as every document failing: retried
        max_retries=retries,
        initial_backoff=backoff_s,
        max_backoff=30,
        retry_on_status=tuple(RETRY_STATUSES),
        refresh=refresh,
    )
    try:
        for ok, item in stream:
            ((op, info),) = item.items()
            doc_id, status = info.get("_id", ""), info.get("status", 500)
            if ok or (op == "create" and status == 409) or (op == "delete" and status == 404):
                result.ok += 1
                if status == 201:
                    result.created.append(doc_id)
                if ok and "_seq_no" in info:
                    result.seq[doc_id] = (int(info["_seq_no"]), int(info["_primary_term"]))
            else:
                err = info.get("error", {})
                if isinstance(err, dict):
                    err = f"{err.get('type', '')} {err.get('reason', '')}".strip()
                result.failed[doc_id] = f"HTTP {status}: {err}".strip()
                result.status[doc_id] = status
    except EsConnectionError as exc:
        raise EsUnavailable(
            f"Elasticsearch at {client_url(es)} is unreachable during a bulk write: {exc.message}"
        ) from exc
    except TransportError as exc:
        raise EsUnavailable(f"bulk write to Elasticsearch at {client_url(es)} failed: {exc}") from exc
    return result


class BulkStream:
    """bulk_actions in a thread of its own, fed while the caller works: writes overlap with, say, polling.

        with BulkStream(es) as stream:
            stream.put(Action(...))   # as documents come
        stream.result                 # the BulkResult, once the block has ended

    An error of the writer (EsUnavailable) is raised when the block ends.
    """

    _END = object()

    def __init__(self, es: Elasticsearch, **kwargs: Any):
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self.result = BulkResult()

        def write() -> None:
            try:
                self.result = bulk_actions(es, iter(self._queue.get, self._END), **kwargs)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread at close
                self._error = exc
                while self._queue.get() is not self._END:  # let put() go on until the caller is done
                    pass

        self._thread = threading.Thread(target=write, name="bulk-stream", daemon=True)
        self._thread.start()

    def put(self, action: Action) -> None:
        self._queue.put(action)

    def close(self) -> BulkResult:
        self._queue.put(self._END)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.result

    def __enter__(self) -> BulkStream:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:  # the caller failed: finish quietly, its exception is the one that matters
            self._queue.put(self._END)
            self._thread.join()


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
    """Write documents by id into one index (see bulk_actions)."""
    return bulk_actions(
        es,
        (Action(index, doc_id, doc, op) for doc_id, doc in docs),
        retries=retries,
        backoff_s=backoff_s,
        refresh=refresh,
    )


def get_docs(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, dict]:
    if not ids:
        return {}
    resp = es.mget(index=index, ids=ids)
    return {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}


def get_many(es: Elasticsearch, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Documents from several indices in one mget: (index alias, id) -> source, for those that exist."""
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return {}
    resp = es.mget(docs=[{"_index": index, "_id": doc_id} for index, doc_id in wanted])
    # mget answers in request order, with the concrete index name (not the alias) in each doc.
    return {ref: d["_source"] for ref, d in zip(wanted, resp["docs"], strict=True) if d.get("found")}


MSEARCH_MAX = 1000  # searches per msearch request


def multi_search(es: Elasticsearch, searches: list[tuple[str, dict[str, Any]]]) -> list[list[dict]]:
    """Run many searches in one msearch request (per MSEARCH_MAX): the hits of each, in order.

    A failed search raises EsUnavailable: a decision made without its candidates would be wrong.
    """
    out: list[list[dict]] = []
    for start in range(0, len(searches), MSEARCH_MAX):
        part = searches[start : start + MSEARCH_MAX]
        body: list[dict[str, Any]] = []
        for index, search in part:
            body += [{"index": index}, search]
        resp = es.msearch(searches=body)
        for (index, _), answer in zip(part, resp["responses"], strict=True):
            if "error" in answer:
                err = answer["error"]
                reason = err.get("reason") if isinstance(err, dict) else err
                raise EsUnavailable(f"a search on {index} failed (HTTP {answer.get('status', '?')}): {reason}")
            out.append(answer["hits"]["hits"])
    return out


def count(es: Elasticsearch, index: str, query: dict | None = None) -> int:
    return int(es.count(index=index, query=query or {"match_all": {}})["count"])
