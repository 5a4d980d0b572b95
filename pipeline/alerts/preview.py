"""`newsmon alerts test`: what a rule would have matched lately, through the rule matching the alert log
uses, without recording or mailing anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..config import AlertRule
from ..records import AlertHit
from ..store import client as ix
from .docs import article_from_doc, parse_time, statement_from_doc
from .rules import match_keyword_rule, match_statement_rule

if TYPE_CHECKING:
    from ..context import Pipeline

PAGE = 500


def _since(p: Pipeline, kind: str, id_field: str, query: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Pages of documents, oldest first sighting first."""
    after: list[Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        resp = p.es.search(
            index=p.idx(kind), size=PAGE, query=query, sort=[{"first_seen": "asc"}, {id_field: "asc"}], **kwargs
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        yield hits
        after = hits[-1]["sort"]


def preview_hits(p: Pipeline, rule: AlertRule, since: str, limit: int = 1000) -> tuple[list[AlertHit], bool]:
    """The hits `rule` finds among articles (keyword rules) or statements (statement rules) first seen
    since `since` (an Elasticsearch date), at most `limit`; and whether there were more."""
    window = {"range": {"first_seen": {"gte": since}}}
    hits: list[AlertHit] = []
    if rule.kind == "keyword":
        query = {"bool": {"filter": [window], "must_not": [{"exists": {"field": "duplicate_of"}}]}}
        for page in _since(p, "articles", "article_id", query):
            for h in page:
                hit = match_keyword_rule(rule, article_from_doc(h["_source"]), h["_id"])
                if hit:
                    hits.append(hit)
                    if len(hits) > limit:
                        return hits[:limit], True
        return hits, False
    # Statement rules mail first sightings only, by tracked figures.
    query = {
        "bool": {
            "filter": [window, {"exists": {"field": "speaker_id"}}],
            "must_not": [{"exists": {"field": "repeat_of"}}],
        }
    }
    for page in _since(p, "statements", "statement_id", query):
        articles = ix.get_docs(p.es, p.idx("articles"), sorted({h["_source"]["article_id"] for h in page}))
        for h in page:
            doc = articles.get(h["_source"]["article_id"])
            if doc is None or doc.get("duplicate_of"):
                continue
            pair = [(h["_id"], statement_from_doc(h["_source"]))]
            for hit in match_statement_rule(rule, article_from_doc(doc), h["_source"]["article_id"], pair):
                hit.first_seen = parse_time(h["_source"].get("first_seen"))
                hits.append(hit)
                if len(hits) > limit:
                    return hits[:limit], True
    return hits, False
