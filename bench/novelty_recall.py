"""How many repeats the novelty search finds in a crowded index, and what it costs the node.

    python bench/novelty_recall.py [--older 20000] [--rounds 3] [--json]

Indexes the older articles of the growth benchmark (bench/work.py preload_older: the statements of 91
real pages, each copied with half its words swapped, by the same speakers), then looks up the
statements of the 600 end-to-end pages the way store_articles does (msearch, 320 at a time) with:
- shipped: pipeline.store.articles.novelty_query (at least `at_least` of a few longest words);
- one_word: the query before it (any one of the may_lack + 1 longest words);
- wide: the shipped query with 200 candidates instead of 20, which stands for "every repeat there is".
For each: statements for which a candidate passes `repeats` (a repeat found), the node's CPU seconds and
this process's CPU seconds (parsing the candidates and comparing them), mean of the rounds after a
warm-up round. Needs the local Elasticsearch (NEWSMON_ES_URL) and ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import work  # noqa: E402
from sites import corpus_pages  # noqa: E402

from pipeline.statements import novelty  # noqa: E402
from pipeline.store import articles as store  # noqa: E402
from pipeline.store import client as ix  # noqa: E402


def one_word_query(s: Any, article_id: str, window: int) -> dict[str, Any]:
    q = store.novelty_query(s, article_id, window)
    shared = novelty.words_a_repeat_shares(s.text)
    if shared and shared.words:
        may_lack = len(shared.words) - shared.at_least
        q["query"]["bool"]["should"][1] = {"match": {"text": " ".join(shared.words[: may_lack + 1])}}
    return q


def wide_query(s: Any, article_id: str, window: int) -> dict[str, Any]:
    return store.novelty_query(s, article_id, window) | {"size": 200}


QUERIES = {"shipped": store.novelty_query, "one_word": one_word_query, "wide": wide_query}


def lookup(p: Any, statements: list[Any], build: Any) -> dict[str, Any]:
    node0, own0 = work.node_cpu_s(p.es), time.process_time()
    found = 0
    for i in range(0, len(statements), 320):
        chunk = statements[i : i + 320]
        searches = [(p.idx("statements"), build(s, "bench-new", 90)) for s in chunk]
        for s, hits in zip(chunk, ix.multi_search(p.es, searches), strict=True):
            found += any(store.repeats(s, h["_source"]) for h in hits)
    return {"found": found, "node_cpu_s": work.node_cpu_s(p.es) - node0, "own_cpu_s": time.process_time() - own0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--older", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one summary line")
    args = ap.parse_args()
    from pipeline.config import load_seeds
    from pipeline.enrich import prepare_article
    from pipeline.run import open_pipeline

    with tempfile.TemporaryDirectory(prefix="newsmon-novelty-") as tmp:
        os.environ["BENCH_TMP"] = tmp
        cache = str(Path(tmp) / "articles.pickle")
        work.corpus_articles([str(p) for p in corpus_pages(91)], cache)
        seeds = load_seeds(HERE.parent / "seeds")
        pages = [str(p) for p in corpus_pages(600)]
        statements = [
            s
            for page, item in work._page_inputs(pages)
            if (a := prepare_article(item, page, None, seeds)[0])
            for s in a.statements
        ]
        prefix = f"bench-novelty-{uuid.uuid4().hex[:8]}"
        with open_pipeline(work.settings(prefix), work.seeds_for([])) as p:
            try:
                docs = work.preload_older(p, cache, args.older)
                print(f"{docs} older documents indexed; {len(statements)} statements to look up", file=sys.stderr)
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in QUERIES}
                for r in range(args.rounds + 1):  # round 0 warms the node up and is not counted
                    order = list(QUERIES) if r % 2 == 0 else list(reversed(QUERIES))
                    for name in order:
                        res = lookup(p, statements, QUERIES[name])
                        print(f"round {r} {name}: {res}", file=sys.stderr)
                        if r:
                            runs[name].append(res)
            finally:
                work.drop(p.es, prefix)
    out: dict[str, Any] = {"statements": len(statements), "older_docs": docs}
    for name, rs in runs.items():
        out[name] = {
            "repeats_found": rs[0]["found"],
            "node_cpu_s": sum(x["node_cpu_s"] for x in rs) / len(rs),
            "own_cpu_s": sum(x["own_cpu_s"] for x in rs) / len(rs),
        }
    if args.json:
        print(json.dumps(out))
    else:
        for name in QUERIES:
            x = out[name]
            print(
                f"{name:9} repeats found for {x['repeats_found']} statements; node CPU {x['node_cpu_s']:.2f} s, "
                f"own CPU {x['own_cpu_s']:.2f} s per {len(statements)} lookups"
            )


if __name__ == "__main__":
    main()
