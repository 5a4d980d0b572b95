"""Linear-time text stages: 8 times the text must take less than 12 times the time (one process;
CPU time of this process, so that other work on the machine does not count).

Each shape is one that made a stage quadratic: the seed article repeated (many paragraphs and names),
one endless paragraph of quotes, and one unpunctuated run-on sentence full of speech cues."""

from __future__ import annotations

import time

import pytest

from pipeline.config import load_seeds
from pipeline.extract import extract_article
from pipeline.statements.attribute import attribute_statements
from pipeline.tag import decide_topics, mentioned_figures

from .support import SEED_ARTICLE

SMALL = 20_000  # characters; the large run is 8 times this


def _article_text() -> str:
    if not SEED_ARTICLE.exists():
        pytest.skip(f"{SEED_ARTICLE} is absent (../shared)")
    from pipeline.extract import extract_article as ex

    return ex(SEED_ARTICLE.read_bytes(), "https://x.test/a", content_type="text/html", feed_id="f", outlet="o").text


SHAPES = {
    "article": lambda: _article_text() + "\n\n",
    "one_paragraph_of_quotes": lambda: '"We will deport them," he said. "The visas end," Trump said. ',
    "run_on_sentence": lambda: "Trump said the border is closed and Biden said that Miller told reporters ",
}


def _best(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _ratio(make, stage, size: int = SMALL) -> tuple[float, float, float]:
    unit = make()
    small = (unit * (size // len(unit) + 1))[:size]
    large = (unit * (8 * size // len(unit) + 1))[: 8 * size]
    stage(small)  # warm caches (alias index, regexes)
    t_small, t_large = _best(lambda: stage(small)), _best(lambda: stage(large))
    return t_large / max(t_small, 1e-4), t_small, t_large


@pytest.fixture(scope="module")
def seeds():
    return load_seeds()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_statement_extraction_grows_linearly(shape, seeds):
    ratio, small, large = _ratio(SHAPES[shape], lambda t: attribute_statements(t, seeds.figures))
    assert ratio < 12, f"{shape}: 8x text took {ratio:.1f}x the time ({small:.3f} s -> {large:.3f} s)"


@pytest.mark.parametrize("shape", ["article", "run_on_sentence"])
def test_tagging_grows_linearly(shape, seeds):
    def tag(t: str) -> None:
        decide_topics("title", t, seeds.topics)
        mentioned_figures(t, seeds.figures)

    ratio, small, large = _ratio(SHAPES[shape], tag, size=100_000)
    assert ratio < 12, f"{shape}: 8x text took {ratio:.1f}x the time ({small:.3f} s -> {large:.3f} s)"


@pytest.mark.parametrize("shape", ["article", "one_paragraph_of_quotes"])
def test_extraction_grows_linearly(shape):
    def extract(t: str) -> None:
        paras = "".join(f"<p>{p}</p>" for p in t.split("\n\n") if p) if "\n\n" in t else f"<p>{t}</p>"
        html = f"<html><head><title>T</title></head><body><article><h1>T</h1>{paras}</article></body></html>"
        extract_article(html.encode(), "https://x.test/a", content_type="text/html", feed_id="f", outlet="o")

    ratio, small, large = _ratio(SHAPES[shape], extract, size=100_000)
    assert ratio < 12, f"{shape}: 8x text took {ratio:.1f}x the time ({small:.3f} s -> {large:.3f} s)"


def test_a_5_mb_page_is_enriched_within_seconds(seeds):
    from pipeline.enrich import prepare_article
    from pipeline.fetch import FetchedPage

    unit = SHAPES["run_on_sentence"]()
    body = "<p>" + "</p><p>".join([unit * 10] * (5_000_000 // (10 * len(unit)))) + "</p>"
    html = f"<html><head><title>Huge</title></head><body><article><h1>Huge</h1>{body}</article></body></html>"
    page = FetchedPage(url="https://x.test/huge", content=html.encode(), content_type="text/html", truncated=False)
    t0 = time.process_time()
    article, _ = prepare_article({"feed_id": "f"}, page, None, seeds)
    assert time.process_time() - t0 < 20  # about 3.5 s of CPU here
    assert article is not None and len(article.text) <= 500_000  # searchable: highlighting stops at 1,000,000
