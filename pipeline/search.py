"""Read side: search hits with highlighted snippets, and a status report."""

from __future__ import annotations

from dataclasses import dataclass

from . import index as ix


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


def search_articles(p, query: str, size: int = 5) -> list[Hit]:
    resp = p.es.search(
        index=p.idx("articles"),
        size=size,
        query={"simple_query_string": {"query": query, "fields": ["title^3", "body", "description"], "default_operator": "and"}},
        highlight={"fields": {"body": {"fragment_size": 160, "number_of_fragments": 2}, "title": {"number_of_fragments": 0}}},
        source=["title", "canonical_url", "published", "outlet", "topic_labels"],
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


def search_statements(p, query: str, size: int = 5) -> list[Hit]:
    resp = p.es.search(
        index=p.idx("statements"),
        size=size,
        query={"simple_query_string": {"query": query, "fields": ["text", "speaker_name^2"], "default_operator": "and"}},
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


def status_report(p) -> str:
    from .run import feed_states

    lines = [f"Elasticsearch: {p.settings.es_url} (prefix '{p.settings.index_prefix}')", ""]
    lines.append("[bold]Index counts[/]")
    for kind in ("articles", "statements", "items", "alerts", "feeds", "runs"):
        try:
            n = ix.count(p.es, p.idx(kind))
        except Exception:  # noqa: BLE001 - a missing index is reported, not fatal
            n = "missing (run `newsmon es setup`)"
        lines.append(f"  {kind:<11} {n}")
    pending = ix.count(p.es, p.idx("items"), {"term": {"status": "pending"}})
    alerts_pending = ix.count(p.es, p.idx("alerts"), {"term": {"status": "pending"}})
    lines.append(f"  pending items {pending}, pending alerts {alerts_pending}")
    lines += ["", "[bold]Feeds[/]"]
    states = feed_states(p)
    ok = sum(1 for f in p.seeds.feeds if (st := states.get(f.id)) and st.last_status in ("ok", "not_modified"))
    lines.append(f"  {len(p.seeds.feeds)} configured, {ok} healthy, {len(p.seeds.feeds) - ok} failing or never polled")
    for f in p.seeds.feeds:
        st = states.get(f.id)
        if st is None:
            lines.append(f"  [dim]{f.id:<28} never polled[/]")
        elif st.last_status == "failed":
            lines.append(f"  [red]{f.id:<28} failed x{st.consecutive_errors}: {st.last_error}[/]")
    resp = p.es.search(index=p.idx("runs"), size=1, sort=[{"started": "desc"}])
    lines += ["", "[bold]Last run[/]"]
    if resp["hits"]["hits"]:
        r = resp["hits"]["hits"][0]["_source"]
        s = r["summary"]
        lines.append(
            f"  {r['started']} → {r['finished']}: {s['poll']['polled']} feeds polled ({s['poll']['failed']} failed), "
            f"{s['process']['articles']} new articles, {s['process']['statements']} statements, "
            f"{s['alerts']['emails_sent']} alert emails"
        )
    else:
        lines.append("  none yet")
    return "\n".join(lines)
