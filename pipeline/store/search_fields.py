"""Fields that exist only to be searched, derived from the rest of a document.

`store.articles` adds them when it writes an article or statement; `client.setup_indices` adds them
to documents it copies into a new mapping version, so older documents are found the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch

from .spellings import spelling_terms


def article_search_fields(title: str, description: str, body: str) -> dict[str, Any]:
    return {"spellings": spelling_terms(title, description, body)}


def statement_search_fields(text: str, topic_labels: Iterable[str]) -> dict[str, Any]:
    return {"spellings": spelling_terms(text), "topic_labels": list(topic_labels)}


def fill_search_fields(es: Elasticsearch, articles_index: str, kind: str, sources: list[dict]) -> None:
    """Recompute the search fields of documents copied into a new index (in place)."""
    if kind == "articles":
        for src in sources:
            src.update(
                article_search_fields(src.get("title") or "", src.get("description") or "", src.get("body") or "")
            )
    elif kind == "items":
        for src in sources:  # items of mapping v1 have no host: the per-host cap needs one
            if not src.get("host"):
                src["host"] = (urlsplit(src.get("url") or "").hostname or "").lower()
    elif kind == "statements":
        ids = sorted({src["article_id"] for src in sources if src.get("article_id")})
        labels: dict[str, list[str]] = {}
        if ids:
            resp = es.mget(index=articles_index, ids=ids, source_includes=["topic_labels"])
            labels = {d["_id"]: d["_source"].get("topic_labels") or [] for d in resp["docs"] if d.get("found")}
        for src in sources:
            src.update(statement_search_fields(src.get("text") or "", labels.get(src.get("article_id") or "", [])))
