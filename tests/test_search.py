"""Search on both distributions: the demo articles, stored by the pipeline's own store function, searched
through `newsmon search`.

- minimal distribution (the node on 9200: no `english` analyzer): exact word forms, spellings unified;
- full-distribution path (a node with the `english` analyzer: tests/conftest.py `english_es_url`,
  infra/es-english.sh): stemmed subfields, so "deported" finds "deportation" and "green cards" finds
  "green card".
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import REPO
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from pipeline.config import load_seeds, load_settings
from pipeline.enrich import enrich_article
from pipeline.ops.cli import app
from pipeline.records import Article
from pipeline.run import open_pipeline
from pipeline.store import client as ix
from pipeline.store.articles import store_articles
from pipeline.store.mappings import INDICES
from pipeline.store.search import Filters, search_articles, search_statements
from pipeline.store.spellings import normalise_query, spelling_terms

pytestmark = pytest.mark.es

OUTLETS = {"harbor-courier": "The Harbor Courier", "metro-wire": "Metro Wire Service"}
SEEDS = load_seeds(REPO / "seeds")


def demo_articles() -> list[dict]:
    spec = importlib.util.spec_from_file_location("demo_articles", REPO / "infra" / "demo" / "articles.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARTICLES


def to_article(a: dict, *, published: datetime | None = None) -> Article:
    url = f"http://demo.test/{a['outlet']}/{a['slug']}.html"
    return Article(
        url=url,
        canonical_url=url,
        feed_id=f"demo-{a['outlet']}",
        outlet=OUTLETS[a["outlet"]],
        title=a["headline"],
        text="\n".join(a["paragraphs"]),
        description=a["description"],
        published=published or datetime.fromisoformat(a["published"]),
        language="en",
    )


def index_articles(p, articles: list[Article]) -> None:
    store_articles(p, [enrich_article(article, SEEDS) for article in articles])
    p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")


def open_index(url: str, prefix: str, stemming: bool | None = None):
    settings = load_settings(es_url=url, index_prefix=prefix)
    p = open_pipeline(settings, SEEDS, setup=False)
    ix.setup_indices(p.es, prefix, stemming=stemming)
    return p


def titles(hits) -> set[str]:
    return {h.title for h in hits}


def count(p, query: str) -> int:
    return len(search_articles(p, query, size=50))


def demo_index(url: str):
    """The twelve demo articles, stored under a fresh prefix on the node at `url`; removed afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    p = open_index(url, prefix)
    index_articles(p, [to_article(a) for a in demo_articles()])
    yield p
    p.es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    p.close()


@pytest.fixture(scope="module")
def minimal(es_url):
    yield from demo_index(es_url)


@pytest.fixture(scope="module")
def english(english_es_url):
    yield from demo_index(english_es_url)


# ------------------------------------------------------------------ spellings (pure)


def test_spellings_are_one_term():
    for written in ["H-1B", "H1B", "h1b", "H 1B", "H\u20111B", "H-1B visa", "H-1B visas", "H1B visas", "H-1Bs"]:
        assert normalise_query(written) == "H1B", written
        assert spelling_terms(f"the {written} program") == "H1B H-1B", written
    assert normalise_query("H-1B visa holders and EB-5 investors") == "H1B holders and EB5 investors"
    assert spelling_terms("H-2A and H-2B workers") == "H2A H-2A H2B H-2B"
    for other in ["CH-1B", "AH1B", "F1 racing", "the visa lottery", "H-1"]:
        assert spelling_terms(other) == "", other


# ------------------------------------------------------------------ minimal distribution


def test_minimal_node_keeps_todays_fields_and_status_says_so(minimal):
    mapping = minimal.es.indices.get_mapping(index=minimal.idx("articles"))
    ((name, body),) = mapping.items()
    assert name == f"{minimal.settings.index_prefix}-articles-v{INDICES['articles'][0]}"
    assert "fields" not in body["mappings"]["properties"]["body"]
    assert "exact word forms only" in ix.word_forms_status(minimal.es, minimal.settings.index_prefix)


def test_minimal_node_exact_forms_and_unified_spellings(minimal):
    assert count(minimal, "deportation") == 2
    assert count(minimal, "deported") == 0  # no stemmer on this distribution (status says so)
    assert count(minimal, "green card") == 2
    # H-1B: two stories spell it with a hyphen; whatever the query's spelling, both are found.
    h1b = titles(search_articles(minimal, "H-1B", size=50))
    assert len(h1b) == 2
    for q in ["H1B", "h1b", "H-1B visa", "H1B visas", "H 1B"]:
        assert titles(search_articles(minimal, q, size=50)) == h1b, q


def test_statement_written_h1b_is_found_by_h_1b(minimal):
    quote = "We will not let the H1B program replace American graduates"
    text = f"“{quote},” Senator Bernie Sanders said on Tuesday about immigration and work visas."
    index_articles(
        minimal,
        [
            Article(
                url="http://demo.test/x/h1b-quote.html",
                canonical_url="http://demo.test/x/h1b-quote.html",
                outlet="Test Times",
                title="Sanders on work visas",
                text=text,
                published=datetime.now(UTC),
            )
        ],
    )
    for q in ["H-1B", "H1B", "H-1B visa"]:
        hits = search_statements(minimal, q, size=20)
        assert quote in {h.snippets[0].replace("<em>", "").replace("</em>", "") for h in hits}, q


def test_filters(minimal):
    harbor = search_articles(minimal, "", size=50, filters=Filters(outlet="the harbor courier"))
    assert len(harbor) == 6 and {h.outlet for h in harbor} == {"The Harbor Courier"}
    visas = search_articles(minimal, "", size=50, filters=Filters(topic="work_visas"))
    assert titles(visas) >= titles(search_articles(minimal, "H-1B", size=50))
    assert all("work_visas" in h.topics for h in visas)
    vance = search_statements(minimal, "", size=50, filters=Filters(speaker="Vice President Vance"))
    assert vance and {h.speaker for h in vance} == {"JD Vance"}
    mentioning = search_articles(minimal, "", size=50, filters=Filters(speaker="jd-vance"))
    assert mentioning and all("JD Vance" in h.title or h.outlet for h in mentioning)
    old = search_articles(minimal, "", size=50, filters=Filters(since="2026-11-15"))
    assert old and all(h.published >= "2026-11-15" for h in old)
    newer_than_now = search_articles(minimal, "", size=50, filters=Filters(since="1h"))
    assert all(h.published >= (datetime.now(UTC) - timedelta(hours=2)).isoformat() for h in newer_than_now)


def test_new_statements_rank_before_repeats(minimal):
    # The Schumer quote is in two stories: one sighting is new, the other a repeat.
    hits = search_statements(minimal, "green card caps arithmetic amnesty", size=10)
    flags = [h.is_new for h in hits]
    assert flags.count(False) >= 1 and flags.count(True) >= 1
    assert flags == sorted(flags, reverse=True)  # every new one before every repeat
    only_new = search_statements(minimal, "green card caps arithmetic amnesty", size=10, filters=Filters(new_only=True))
    assert only_new and all(h.is_new for h in only_new)


def test_recency_boost_between_equally_relevant_stories(minimal):
    now = datetime.now(UTC)
    text = "The Zanzibar visa lottery reopened for applicants from the coastal provinces this week."
    articles = [
        Article(
            url=f"http://demo.test/x/zanzibar-{age}.html",
            canonical_url=f"http://demo.test/x/zanzibar-{age}.html",
            outlet="Test Times",
            title=f"Zanzibar visa lottery ({age} days)",
            text=text,
            published=now - timedelta(days=age),
        )
        for age in (40, 3)
    ]
    index_articles(minimal, articles)
    hits = search_articles(minimal, "Zanzibar lottery", size=5)
    assert [h.title for h in hits[:2]] == ["Zanzibar visa lottery (3 days)", "Zanzibar visa lottery (40 days)"]
    assert hits[0].score > hits[1].score * 1.5


def test_cli_search_json_and_errors(minimal, monkeypatch):
    monkeypatch.setenv("NEWSMON_ES_URL", minimal.settings.es_url)
    monkeypatch.setenv("NEWSMON_INDEX_PREFIX", minimal.settings.index_prefix)
    runner = CliRunner()
    out = runner.invoke(app, ["search", "H1B", "--json", "--size", "10", "--outlet", "Metro Wire Service"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["kind"] == "articles" and result["filters"]["outlet"] == "Metro Wire Service"
    assert [h["outlet"] for h in result["hits"]] == ["Metro Wire Service"]
    assert "<em>H-1B</em>" in " ".join(result["hits"][0]["snippets"])
    st = runner.invoke(app, ["search", "--statements", "--new-only", "--speaker", "donald-trump", "--json"])
    assert st.exit_code == 0, st.output
    assert all(h["is_new"] and h["speaker"] == "Donald Trump" for h in json.loads(st.output)["hits"])
    text = runner.invoke(app, ["search", "deportation flights", "--since", "2026-11-01"])
    assert text.exit_code == 0 and "Deportation flights from Southern California" in text.output
    for bad, msg in [
        (["--since", "last week"], "--since 'last week'"),
        (["--topic", "visas"], "--topic 'visas' is not a topic id"),
        (["--speaker", "Nobody Known"], "--speaker 'Nobody Known' is not a tracked figure"),
    ]:
        res = runner.invoke(app, ["search", "x", *bad])
        assert res.exit_code == 1 and msg in res.output, res.output


# ------------------------------------------------------------------ full-distribution path


def test_full_path_adds_stemmed_subfields_and_status_says_so(english):
    prefix = english.settings.index_prefix
    for kind, fields in [("articles", ["title", "description", "body"]), ("statements", ["text", "article_title"])]:
        ((name, body),) = english.es.indices.get_mapping(index=english.idx(kind)).items()
        assert name == f"{prefix}-{kind}-v{INDICES[kind][0]}-en"
        for f in fields:
            assert body["mappings"]["properties"][f]["fields"]["stemmed"]["analyzer"] == "english"
    assert ix.word_forms_status(english.es, prefix).startswith("word forms found (english stemming on articles")


def test_full_path_finds_word_forms(english):
    deportation = titles(search_articles(english, "deportation", size=50))
    assert len(deportation) == 2
    assert titles(search_articles(english, "deported", size=50)) >= deportation
    assert titles(search_articles(english, "deport", size=50)) >= deportation
    green = titles(search_articles(english, "green card", size=50))
    assert len(green) == 2
    assert titles(search_articles(english, "green cards", size=50)) == green
    h1b = titles(search_articles(english, "H-1B", size=50))
    assert titles(search_articles(english, "H1B visas", size=50)) == h1b and len(h1b) == 2
    # The snippet marks the word as written in the story, found through its stem.
    hit = next(h for h in search_articles(english, "deported", size=50) if "Deportation flights" in h.title)
    assert any("<em>deportation</em>" in s.lower() for s in hit.snippets), hit.snippets


def test_setup_moves_the_alias_when_the_cluster_gains_the_english_analyzer(english_es_url):
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    es = Elasticsearch(english_es_url)
    try:
        p = open_index(english_es_url, prefix, stemming=False)  # as on a cluster without the analyzer
        index_articles(p, [to_article(a) for a in demo_articles()[:3]])
        assert count(p, "deported") == 0
        actions = ix.setup_indices(es, prefix)  # the analyzer is there now
        v = INDICES["articles"][0]
        assert f"moved alias {prefix}-articles: {prefix}-articles-v{v} -> {prefix}-articles-v{v}-en" in actions
        assert count(p, "deported") == 1  # the copied documents are searchable by stem
        assert count(p, "H1B") == 1  # and keep their spellings
        p.close()
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.close()


def test_documents_copied_into_a_new_version_get_their_search_fields(es_url, index_prefix, monkeypatch):
    from pipeline.store import mappings

    es = Elasticsearch(es_url)
    ix.setup_indices(es, index_prefix)
    # Documents as an older version wrote them: no spellings, statements without topics.
    ix.bulk_write(
        es,
        f"{index_prefix}-articles",
        [
            (
                "a1",
                {
                    "article_id": "a1",
                    "title": "New H-1B fees",
                    "body": "The H1B fee rises.",
                    "topic_labels": ["work_visas"],
                },
            )
        ],
        refresh=True,
    )
    ix.bulk_write(
        es,
        f"{index_prefix}-statements",
        [("s1", {"statement_id": "s1", "article_id": "a1", "text": "H-1B visas are a scam", "speaker_name": "X"})],
        refresh=True,
    )
    for kind in ("articles", "statements"):
        version, mapping = mappings.INDICES[kind]
        monkeypatch.setitem(mappings.INDICES, kind, (version + 1, mapping))
    ix.setup_indices(es, index_prefix)
    article = es.get(index=f"{index_prefix}-articles", id="a1")["_source"]
    statement = es.get(index=f"{index_prefix}-statements", id="s1")["_source"]
    assert article["spellings"] == "H1B H-1B"
    assert statement["spellings"] == "H1B H-1B" and statement["topic_labels"] == ["work_visas"]
    es.close()
