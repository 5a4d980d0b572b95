"""Read side: search hits with highlighted snippets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import Pipeline


@dataclass
class Hit:
    title: str
    url: str
    published: str
    snippets: list[str]
    extra: str = ""

    def render(self) -> str:
        head = f"[bold]{self.title}[/]  [dim]{self.published[:10]}[/]"
        if self.extra:
            head += f"  {self.extra}"
        lines = [head, f"  [blue]{self.url}[/]"]
        lines += [f"  … {s} …" for s in self.snippets]
        return "\n".join(lines)


def _hl(text: str) -> str:
    # Elasticsearch marks hits with <em>; show them in bold, and escape rich's own markup first.
    text = text.replace("[", r"\[").replace("\n", " ")
    return text.replace("<em>", "[bold yellow]").replace("</em>", "[/]")


def search_articles(p: Pipeline, query: str, size: int = 5) -> list[Hit]:
    resp = p.es.search(
        index=p.idx("articles"),
        size=size,
        query={
            "simple_query_string": {
                "query": query,
                "fields": ["title^3", "body", "description"],
                "default_operator": "and",
            }
        },
        highlight={
            "fields": {"body": {"fragment_size": 160, "number_of_fragments": 2}, "title": {"number_of_fragments": 0}}
        },
        source={"includes": ["title", "canonical_url", "published", "outlet", "topic_labels"]},
    )
    hits = []
    for h in resp["hits"]["hits"]:
        s, hl = h["_source"], h.get("highlight", {})
        labels = ", ".join(s.get("topic_labels") or [])
        hits.append(
            Hit(
                title=_hl(hl.get("title", [s.get("title") or ""])[0]),
                url=s.get("canonical_url") or "",
                published=s.get("published") or "",
                snippets=[_hl(f) for f in hl.get("body", [])],
                extra=f"[dim]{s.get('outlet') or ''}{' · ' + labels if labels else ''}[/]",
            )
        )
    return hits


def search_statements(p: Pipeline, query: str, size: int = 5) -> list[Hit]:
    resp = p.es.search(
        index=p.idx("statements"),
        size=size,
        query={
            "simple_query_string": {"query": query, "fields": ["text", "speaker_name^2"], "default_operator": "and"}
        },
        highlight={"fields": {"text": {"number_of_fragments": 0}}},
    )
    hits = []
    for h in resp["hits"]["hits"]:
        s, hl = h["_source"], h.get("highlight", {})
        flag = "new" if s.get("is_new") else "repeat"
        hits.append(
            Hit(
                title=f"{s['speaker_name']} ({s['kind']}, {flag})",
                url=s.get("article_url") or "",
                published=s.get("@timestamp") or "",
                snippets=[_hl(hl.get("text", [s["text"]])[0])],
            )
        )
    return hits
