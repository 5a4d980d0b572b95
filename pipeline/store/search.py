"""Read side: search articles or statements, with filters, a recency boost and highlighted snippets.

Word forms: the query runs over each text field and its `.stemmed` subfield (present where the
cluster has the `english` analyzer; a field that is not mapped simply matches nothing), and over
the `spellings` field after `spellings.normalise_query` ("H-1B visa" -> "H1B"). Relevance is
multiplied by a decay on the published time, so of two equally good hits the newer comes first;
for statements every new statement (first sighting) ranks before every repeat.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..config import Figure, Seeds
from .spellings import normalise_query, spelling_terms

if TYPE_CHECKING:
    from ..context import Pipeline

ARTICLE_FIELDS = [
    "title^3",
    "title.stemmed^3",
    "description^1.5",
    "description.stemmed^1.5",
    "body",
    "body.stemmed",
    "spellings^2",
]
STATEMENT_FIELDS = ["text^2", "text.stemmed^2", "speaker_name", "article_title", "article_title.stemmed", "spellings^2"]
# Relevance halves for every 30 days of age (exponential: old stories fade but never vanish); the first day is free.
RECENCY = {"origin": "now", "offset": "1d", "scale": "30d", "decay": 0.5}


class SearchError(ValueError):
    """A search option is wrong; the message names it."""


@dataclass
class Filters:
    since: str | None = None  # "7d", "24h", "2026-11-01"
    outlet: str | None = None
    topic: str | None = None  # topic or subtopic id
    speaker: str | None = None  # figure id, name or alias (or any speaker name, for statements)
    new_only: bool = False  # statements: first sightings; articles: not a near-duplicate


@dataclass
class Hit:
    kind: str  # article | statement
    id: str
    title: str
    url: str
    published: str
    outlet: str
    score: float
    snippets: list[str] = field(default_factory=list)  # HTML-escaped text, matches in <em>...</em>
    topics: list[str] = field(default_factory=list)
    speaker: str | None = None
    statement_kind: str | None = None
    is_new: bool | None = None
    first_seen: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_SINCE = re.compile(r"^(\d+)\s*([mhdwy])$")


def parse_since(value: str) -> str:
    """'7d', '24h', '30m', '2w', '1y' or a date ('2026-11-01') as an Elasticsearch date."""
    value = value.strip()
    m = _SINCE.match(value.lower())
    if m:
        n, unit = m.groups()
        return f"now-{n}{unit}"  # Elasticsearch date math: m minutes, h, d, w, y
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise SearchError(
            f"--since '{value}': give an age such as 7d, 24h, 30m, 2w, 1y, or a date such as 2026-11-01"
        ) from None


def resolve_figure(seeds: Seeds, value: str) -> Figure | None:
    """A tracked figure by id, canonical name or alias (case-insensitive)."""
    wanted = value.strip().casefold()
    for fig in seeds.figures:
        if wanted in {fig.id, fig.name.casefold(), *(a.casefold() for a in fig.aliases)}:
            return fig
    return None


def _filters(seeds: Seeds, kind: str, f: Filters) -> tuple[list[dict], list[dict]]:
    must: list[dict] = []
    must_not: list[dict] = []
    if f.since:
        must.append({"range": {"@timestamp": {"gte": parse_since(f.since)}}})
    if f.outlet:
        must.append({"term": {"outlet": {"value": f.outlet.strip(), "case_insensitive": True}}})
    if f.topic:
        known = {t.id for t in seeds.topics} | {s.id for t in seeds.topics for s in t.subtopics}
        if f.topic not in known:
            raise SearchError(f"--topic '{f.topic}' is not a topic id; known: {', '.join(sorted(known))}")
        must.append({"term": {"topic_labels": f.topic}})
    if f.speaker:
        figure = resolve_figure(seeds, f.speaker)
        if kind == "statements":
            must.append(
                {"term": {"speaker_id": figure.id}} if figure else {"match_phrase": {"speaker_name": f.speaker.strip()}}
            )
        elif figure is None:
            raise SearchError(f"--speaker '{f.speaker}' is not a tracked figure (seeds/figures.yaml)")
        else:
            must.append({"term": {"people": figure.name}})
    if f.new_only:
        if kind == "statements":
            must.append({"term": {"is_new": True}})
        else:
            must_not.append({"exists": {"field": "duplicate_of"}})
    return must, must_not


def _query(text: str, fields: list[str], must: list[dict], must_not: list[dict]) -> dict:
    match: dict = (
        {"simple_query_string": {"query": normalise_query(text), "fields": fields, "default_operator": "and"}}
        if text.strip()
        else {"match_all": {}}
    )
    return {
        "function_score": {
            "query": {"bool": {"must": [match], "filter": must, "must_not": must_not}},
            "functions": [{"exp": {"@timestamp": RECENCY}}],
            "boost_mode": "multiply",
        }
    }


def _highlight(text: str, fields: dict[str, dict]) -> dict:
    """Highlight every spelling of what was asked: the words as typed and as normalised."""
    wanted = " ".join(filter(None, [text, normalise_query(text), spelling_terms(text)]))
    names = list(fields)
    return {
        "encoder": "html",  # snippets are escaped text with <em> marks, safe to put in HTML
        "fields": fields,
        "highlight_query": {"simple_query_string": {"query": wanted, "fields": names, "default_operator": "or"}},
    }


_ADJACENT_MARKS = re.compile(r"</em>([\s\-\u2010-\u2014]?)<em>")


def _snippets(hl: dict[str, list[str]], *names: str) -> list[str]:
    for name in names:  # the exact field first; the stemmed one finds other word forms
        if hl.get(name):
            # "<em>H</em>-<em>1B</em>" -> "<em>H-1B</em>": one mark per phrase, as a reader sees it
            return [_ADJACENT_MARKS.sub(r"\1", fragment) for fragment in hl[name]]
    return []


def search_articles(p: Pipeline, query: str, size: int = 5, filters: Filters | None = None) -> list[Hit]:
    must, must_not = _filters(p.seeds, "articles", filters or Filters())
    body_hl = {"fragment_size": 160, "number_of_fragments": 2}
    resp = p.es.search(
        index=p.idx("articles"),
        size=size,
        query=_query(query, ARTICLE_FIELDS, must, must_not),
        highlight=_highlight(query, {"body": body_hl, "body.stemmed": body_hl, "description": {}})
        if query.strip()
        else None,
        source={"includes": ["title", "canonical_url", "published", "@timestamp", "outlet", "topic_labels", "body"]},
    )
    hits = []
    for h in resp["hits"]["hits"]:
        s, hl = h["_source"], h.get("highlight", {})
        snippets = _snippets(hl, "body", "body.stemmed", "description")
        if not snippets:
            snippets = [_escape(_lead(s.get("body") or ""))]
        hits.append(
            Hit(
                kind="article",
                id=h["_id"],
                title=s.get("title") or "",
                url=s.get("canonical_url") or "",
                published=s.get("published") or s.get("@timestamp") or "",
                outlet=s.get("outlet") or "",
                score=round(float(h["_score"] or 0.0), 4),
                snippets=snippets,
                topics=s.get("topic_labels") or [],
            )
        )
    return hits


def search_statements(p: Pipeline, query: str, size: int = 5, filters: Filters | None = None) -> list[Hit]:
    must, must_not = _filters(p.seeds, "statements", filters or Filters())
    whole = {"number_of_fragments": 0}
    resp = p.es.search(
        index=p.idx("statements"),
        size=size,
        query=_query(query, STATEMENT_FIELDS, must, must_not),
        # New statements first, whatever their score; then relevance (with recency), then the newest.
        sort=[{"is_new": "desc"}, "_score", {"first_seen": "desc"}],
        highlight=_highlight(query, {"text": whole, "text.stemmed": whole}) if query.strip() else None,
    )
    hits = []
    for h in resp["hits"]["hits"]:
        s, hl = h["_source"], h.get("highlight", {})
        hits.append(
            Hit(
                kind="statement",
                id=h["_id"],
                title=s.get("article_title") or "",
                url=s.get("article_url") or "",
                published=s.get("@timestamp") or "",
                outlet=s.get("outlet") or "",
                score=round(float(h["_score"] or 0.0), 4),
                snippets=_snippets(hl, "text", "text.stemmed") or [_escape(s.get("text") or "")],
                topics=s.get("topic_labels") or [],
                speaker=s.get("speaker_name"),
                statement_kind=s.get("kind"),
                is_new=bool(s.get("is_new")),
                first_seen=s.get("first_seen"),
            )
        )
    return hits


def _lead(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
