"""Enrichment: a fetched page becomes an enriched Article.

In: a fetched page (bytes, final URL, content type) with its queue item and feed. Out: an Article
with main text and metadata, immigration-policy topics, tracked people mentioned, statements (repeats
inside the article already linked) and a SimHash fingerprint, or the reason the page was skipped.
Pure: no I/O; `pipeline.store.articles` writes the result.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from . import dedupe
from .config import FeedConfig, Seeds
from .extract import extract_article
from .fetch import FetchedPage
from .records import Article
from .statements.attribute import attribute_statements
from .statements.novelty import mark_repeats_within
from .tag import decide_topics, mentioned_figures
from .urls import canonicalize_url

# Hard caps on the text each stage reads (characters). The longest real articles are under 100,000
# characters; past these a page is junk or an attack, and every stage stays within seconds.
MAX_TAG_CHARS = 500_000  # also the most of an article's text that is kept and indexed (Elasticsearch
# refuses to highlight a field longer than 1,000,000 characters, which would break every search hitting it)
MAX_STATEMENT_CHARS = 200_000


def enrich_article(article: Article, seeds: Seeds) -> Article:
    """Topics, people mentioned, statements (with repeats inside the article linked) and SimHash."""
    article = article.model_copy()
    text = article.text[:MAX_TAG_CHARS]
    decision = decide_topics(article.title, text, seeds.topics)
    article.topics = decision.labels
    article.is_immigration_policy = decision.is_immigration_policy
    article.topic_score = decision.score
    article.topic_evidence = decision.sentences
    article.topic_model = decision.model_version
    article.people = mentioned_figures(f"{article.title}\n{text}", seeds.figures)
    statements = attribute_statements(article.text[:MAX_STATEMENT_CHARS], seeds.figures)  # each with its key
    mark_repeats_within(statements)
    article.statements = statements
    article.simhash = dedupe.simhash(text)
    return article


def prose_problem(text: str) -> str | None:
    """Why text does not read like prose (None when it does): few words, giant "words", one word
    over and over, or a tiny vocabulary repeated."""
    words = text[:MAX_TAG_CHARS].split()
    if len(words) < 30:
        return f"only {len(words)} words"
    chars = sum(len(w) for w in words)
    if sum(len(w) for w in words if len(w) > 40) > 0.2 * chars:
        return "most of it is runs of characters longer than any word"
    sample = [w.lower() for w in words[:20_000]]
    top = Counter(sample).most_common(1)[0]
    if len(sample) >= 100 and top[1] > 0.3 * len(sample):
        return f"'{top[0][:20]}' makes up {100 * top[1] // len(sample)}% of the words"
    if len(sample) >= 2000 and len(set(sample)) < 0.03 * len(sample):
        return f"{len(sample)} words with only {len(set(sample))} different ones"
    return None


def prepare_article(
    item: dict[str, Any], page: FetchedPage, feed: FeedConfig | None, seeds: Seeds
) -> tuple[Article | None, str | None]:
    """Extract and enrich one fetched page: (article, None), or (None, why it was skipped)."""
    article = extract_article(
        page.content,
        page.url,
        content_type=page.content_type,
        feed_id=item["feed_id"],
        outlet=feed.outlet if feed else "",
    )
    if article.not_article_reason:
        return None, f"not an article: {article.not_article_reason}"
    if not article.text.strip():
        return None, "no text could be extracted"
    if page.truncated and (problem := prose_problem(article.text)):
        # An endless or padded page cut at the size cap: only indexed when what came out reads like an article.
        return None, f"cut off at the size cap and its text is not an article: {problem}"
    article.text = article.text[:MAX_TAG_CHARS]
    article.canonical_url = canonicalize_url(article.canonical_url or page.url)
    if article.published is None and item.get("published"):
        article.published = datetime.fromisoformat(item["published"])
    if not article.language and feed:
        article.language = feed.language
    return enrich_article(article, seeds), None
