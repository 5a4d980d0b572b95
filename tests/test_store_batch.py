"""Storing a batch: a constant number of Elasticsearch requests, and the same decisions (near-duplicates,
first sightings, re-processed pages, one page twice) as storing the articles one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import shared_path
from test_alerts import STORY_A, STORY_B

from pipeline.config import load_seeds
from pipeline.enrich import enrich_article
from pipeline.records import Article
from pipeline.run import open_pipeline
from pipeline.store.articles import store_articles

pytestmark = pytest.mark.es

NOW = datetime.now(UTC).replace(microsecond=0)
NEW_QUOTE = "Nobody will cross our southern border without papers while I am in charge of this country"


def article(url: str, title: str, paragraphs: list[str], hours_ago: float, seeds) -> Article:
    raw = Article(
        url=url,
        canonical_url=url,
        feed_id="f",
        outlet=url.split("/")[2],
        title=title,
        text="\n".join(paragraphs),
        published=NOW - timedelta(hours=hours_ago),
        language="en",
    )
    return enrich_article(raw, seeds)


def trump_said(texts: list[str], host: str, hours_ago: float, seeds) -> list[Article]:
    """One article per text, each quoting Trump saying it."""
    said = "“{},” Trump said on Friday."
    return [
        article(f"https://{host}/{i}", f"{host} {i}", [said.format(t)], hours_ago, seeds) for i, t in enumerate(texts)
    ]


def batch(seeds) -> tuple[list[Article], list[Article]]:
    """(articles already in the index, the batch): every decision the store makes appears at least once."""
    seed = (shared_path("fixtures", "seed-article") / "article.txt").read_text(encoding="utf-8")
    paras = [p for p in seed.split("\n") if p.strip()]
    wire = STORY_B + ["Reporting by the wire desk."]
    earlier = [
        article("https://a.example/h1b", "White House moves to tighten H-1B rules", STORY_A, 30, seeds),
        article("https://c.example/old", "Tech firms alarmed", STORY_B[:2] + STORY_A[2:], 20, seeds),
    ]
    later = [
        article("https://s.example/seed", "The seed story", paras, 5, seeds),  # in-article repeat (#11 of #4)
        article("https://t.example/seed-copy", "The seed story", paras + ["Reporting by the wire desk."], 4, seeds),
        article("https://b.example/wire", "Tech firms alarmed", STORY_B, 3, seeds),  # quote first seen in A
        article("https://d.example/wire-copy", "Tech firms alarmed", wire, 2, seeds),  # near-duplicate of the previous
        article("https://e.example/half", "Part of the seed story", paras[len(paras) // 2 :], 1, seeds),
        # re-processed: in the index already, now with one paragraph fewer (its dropped statement must go)
        article("https://c.example/old", "Tech firms alarmed", STORY_B[:1] + STORY_A[2:], 20, seeds),
        # one page twice in the batch, changed in between
        article("https://s.example/seed", "The seed story", paras[:-3], 5, seeds),
        article("https://f.example/new", "A new quote", [f"“{NEW_QUOTE},” Trump said on Friday."] * 2, 0, seeds),
    ]
    return earlier, later


def stored(p) -> tuple[dict, dict]:
    p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
    arts = {
        h["_id"]: {k: h["_source"][k] for k in ("duplicate_of", "first_seen", "statement_count")}
        for h in p.es.search(index=p.idx("articles"), size=1000)["hits"]["hits"]
    }
    stmts = {
        h["_id"]: {k: h["_source"][k] for k in ("article_id", "repeat_of", "is_new", "first_seen", "key")}
        for h in p.es.search(index=p.idx("statements"), size=1000)["hits"]["hits"]
    }
    return arts, stmts


def test_a_batch_decides_as_one_by_one(es_url, make_settings):
    seeds = load_seeds()
    results = []
    for one_by_one in (False, True):
        settings = make_settings(es_url=es_url, index_prefix=f"t-batch-{int(one_by_one)}-{NOW.timestamp():.0f}")
        with open_pipeline(settings, seeds) as p:
            try:
                earlier, later = batch(seeds)
                for a in earlier:
                    store_articles(p, [a], now=NOW - timedelta(days=1))
                    p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
                if one_by_one:
                    for a in later:
                        outcomes = store_articles(p, [a], now=NOW)
                        p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
                        results.append(outcomes)
                else:
                    results.append(store_articles(p, later, now=NOW))
                results.append(stored(p))
            finally:
                p.es.options(ignore_status=404).indices.delete(
                    index=f"{settings.index_prefix}-*", expand_wildcards="all"
                )
    batched_outcomes, batched_docs, *single = results
    single_outcomes = [o for outs in single[:-1] for o in outs]
    single_docs = single[-1]
    assert [vars(o) for o in batched_outcomes] == [vars(o) for o in single_outcomes]
    for kind in (0, 1):
        a, b = batched_docs[kind], single_docs[kind]
        diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        assert not diff, diff
    arts, stmts = batched_docs
    # and the decisions are the ones expected, so the comparison is not between two empty answers
    assert sum(1 for a in arts.values() if a["duplicate_of"]) == 2
    repeats = [s for s in stmts.values() if s["repeat_of"]]
    assert len(repeats) >= 10 and any(s["is_new"] for s in stmts.values())
    # repeat_of names a first sighting, never a repeat (a first sighting the changed seed page dropped is gone)
    targets = [stmts[s["repeat_of"]] for s in repeats if s["repeat_of"] in stmts]
    assert len(targets) >= 10 and all(t["repeat_of"] is None for t in targets)
    outcomes = batched_outcomes
    assert outcomes[3].duplicate and outcomes[1].duplicate and not outcomes[0].duplicate
    assert outcomes[-1].new_statements >= 1


class CountingTransport:
    """Counts the HTTP requests an Elasticsearch client sends, by endpoint."""

    def __init__(self, es):
        self.paths: list[str] = []
        real = es.transport.perform_request

        def perform(method, target, **kw):
            self.paths.append(target.split("?")[0].rsplit("/", 1)[-1])
            return real(method, target, **kw)

        es.transport.perform_request = perform


def test_a_batch_costs_a_constant_number_of_requests(es_url, index_prefix, make_settings):
    seeds = load_seeds()
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        earlier, later = batch(seeds)
        store_articles(p, earlier)
        p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
        counter = CountingTransport(p.es)
        outcomes = store_articles(p, later * 4)  # 32 articles, about 150 statements
        assert len(outcomes) == 32 and sum(o.statements for o in outcomes) > 100
        # mget, msearch, the search for a re-processed page's old statements, one bulk
        assert sorted(counter.paths) == ["_bulk", "_mget", "_msearch", "_search"], counter.paths


ORIGINAL = "We will deport one million people in the first year, and we will not stop until the job is done"
REPEATS = [
    "We will deport one million people in the first year",  # trimmed
    "We will deport one million people … we will not stop until the job is done",  # an ellipsis cut
    "we will DEPORT one million people, in the first year!",  # case and punctuation
    "We will deport one million people in the first year, and we won't stop until the job is done",  # a contraction
    "We will remove one million people in the first year",  # a word swapped
]
NEW = [
    "We will deport two million people in the first year",  # a changed number
    "We will not deport one million people in the first year",  # an added negation
]


def test_the_index_lookup_finds_every_repeat_among_many_statements_by_the_speaker(es_url, index_prefix, make_settings):
    # The novelty search leaves out statements lacking more words than a repeat may lack: it must still find
    # every kind of repeat is_near_repeat allows, however many other statements the speaker made.
    seeds = load_seeds()
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        others = trump_said(
            [f"We will deport people {i} times, the job {i}" for i in range(30)], "o.example", 40, seeds
        )
        (first,) = trump_said([ORIGINAL], "a.example", 30, seeds)
        store_articles(p, [*others, first], now=NOW - timedelta(days=1))
        p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
        for later in trump_said(REPEATS + NEW, "b.example", 1, seeds):
            assert len(later.statements) == 1, later.text
            store_articles(p, [later], now=NOW)  # alone and after a refresh: the decision comes from the index
        _, stmts = stored(p)
    first_id = next(sid for sid, s in stmts.items() if s["article_id"] == first.article_id)
    by_text = {s["key"]: s for s in stmts.values()}
    assert len(by_text) >= 31 + len(REPEATS + NEW) - 1
    repeats = {sid: s for sid, s in stmts.items() if s["repeat_of"]}
    assert len(repeats) == len(REPEATS) and all(s["repeat_of"] == first_id for s in repeats.values())


def test_the_index_lookup_finds_a_repeat_that_many_closer_looking_statements_would_crowd_out(
    es_url, index_prefix, make_settings
):
    # Thirty short statements by the speaker packed with the repeat's longest words outscore the original it
    # repeats, but hold too few of its words to be repeats: the search must not return only them.
    seeds = load_seeds()
    with open_pipeline(make_settings(es_url=es_url, index_prefix=index_prefix), seeds) as p:
        (first,) = trump_said([ORIGINAL], "a.example", 40, seeds)
        crowd = trump_said([f"Million, million, deport, people {i}" for i in range(30)], "o.example", 30, seeds)
        store_articles(p, [first, *crowd], now=NOW - timedelta(days=1))
        p.es.indices.refresh(index=f"{p.idx('articles')},{p.idx('statements')}")
        (later,) = trump_said([REPEATS[0]], "b.example", 1, seeds)
        store_articles(p, [later], now=NOW)  # alone and after a refresh: the decision comes from the index
        _, stmts = stored(p)
    first_id = next(sid for sid, s in stmts.items() if s["article_id"] == first.article_id)
    (repeat,) = [s for s in stmts.values() if s["article_id"] == later.article_id]
    crowd_ids = {a.article_id for a in crowd}
    assert sum(1 for s in stmts.values() if s["article_id"] in crowd_ids) == 30
    assert repeat["repeat_of"] == first_id


def test_the_batch_memory_finds_the_same_repeats_and_duplicates_as_a_full_scan():
    """Within a batch, each statement is compared only with the earlier ones sharing its key or holding as
    many of its few search words as every near-repeat does, and each fingerprint with those sharing a band: the same matches as comparing
    with everything before it."""
    import random

    from pipeline import dedupe
    from pipeline.records import Statement
    from pipeline.statements.novelty import is_near_repeat, statement_key
    from pipeline.store.articles import BatchMemory, repeats

    rng = random.Random(11)
    texts = [ORIGINAL, *REPEATS, *NEW, *[f"We will deport people {i} times, the job {i}" for i in range(40)]]
    texts += ["We did it.", "We did it!", "Yes.", "I’m, you’re, we’ll, they’d, it’s, can’t, don’t, won’t"]
    vocabulary = [f"{a}{b}" for a in ("bor", "vis", "cour", "tar", "wag", "lab", "pol", "ref") for b in "aeiouyxz"]
    texts += [" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(8, 25))) for _ in range(100)]
    memory = BatchMemory()
    docs = []
    for n, text in enumerate(texts * 2):
        speaker = rng.choice(["donald-trump", "jd-vance"])
        doc = {
            "statement_id": f"s{n}",
            "article_id": f"a{n}",
            "speaker_id": speaker,
            "speaker_name": "",
            "key": statement_key(speaker, text),
            "text": text,
            "first_seen": f"2026-01-01T00:00:{n % 60:02d}",
        }
        memory.remember_statement(doc)
        docs.append(doc)
    # the hardest repeats: words the earlier text lacks, longer than any of its own, as many as may be added
    long = ["unquestionably", "extraordinarily", "fundamentally", "categorically", "wholeheartedly", "emphatically"]
    hard = []
    for k in range(1, len(long) + 1):
        words = ORIGINAL.split()
        for j, at in enumerate([2, 6, 12, 16, 18, 19][:k]):  # words swapped, spread out, no number or negation
            words[at] = long[j]
        hard.append(" ".join(words))
    assert sum(is_near_repeat(h, ORIGINAL) for h in hard) == 4
    compared = found = 0
    for text in texts + hard:
        for speaker in ("donald-trump", "jd-vance"):
            s = Statement(
                speaker_id=speaker,
                speaker_name="",
                speaker_mention="",
                text=text,
                kind="direct",
                start=0,
                end=len(text),
            )
            s.key = statement_key(speaker, text)
            full = {d["statement_id"] for d in docs if d["speaker_id"] == speaker and repeats(s, d)}
            fast = {d["statement_id"] for d in memory.statement_candidates(speaker, s) if repeats(s, d)}
            assert fast == full, text
            compared += len(memory.statement_candidates(speaker, s))
            found += len(full)
    # the same answers, from far fewer texts than the speaker's statements so far
    assert found > 200 and compared < 0.5 * len(texts) * len(docs)

    prints = [rng.getrandbits(64) for _ in range(300)]
    prints += [p ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for p in prints[:100]]  # near-duplicates
    # near-duplicates as far off as allowed: one bit changed in every band but one (any one)
    starts = [0, 11, 22, 33, 44, 54]
    prints += [p ^ sum(1 << b for j, b in enumerate(starts) if j != n % 6) for n, p in enumerate(prints[:60])]
    originals = [(f"a{n}", fp) for n, fp in enumerate(prints[:200])]
    for article_id, fp in originals:
        memory.remember_fingerprint(article_id, fp, "2026-01-01")
    for fp in prints:
        full_dups = {a for a, other in originals if dedupe.is_near_duplicate(fp, other)}
        fast_dups = {a for a, other, _ in memory.fingerprint_candidates(fp) if dedupe.is_near_duplicate(fp, other)}
        assert fast_dups == full_dups and (fp not in prints[:200] or full_dups)
