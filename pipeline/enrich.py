"""Enrichment: a fetched page becomes an enriched Article.

In: a fetched page (bytes, final URL, content type) with its queue item and feed. Out: an Article
with main text and metadata, immigration-policy topics, tracked people mentioned, statements (repeats
inside the article already linked) and a SimHash fingerprint, or the reason the page was skipped.
Pure: no I/O; `pipeline.store.articles` writes the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import dedupe
from .config import FeedConfig, Seeds
from .extract import extract_article
from .fetch import FetchedPage
from .records import Article
from .statements.attribute import attribute_statements
from .statements.novelty import mark_repeats_within, statement_key
from .tag import decide_topics, mentioned_figures
from .urls import canonicalize_url


def enrich_article(article: Article, seeds: Seeds) -> Article:
    """Topics, people mentioned, statements (with repeats inside the article linked) and SimHash."""
    article = article.model_copy()
    decision = decide_topics(article.title, article.text, seeds.topics)
    article.topics = decision.labels
    article.is_immigration_policy = decision.is_immigration_policy
    article.topic_score = decision.score
    article.topic_evidence = decision.sentences
    article.topic_model = decision.model_version
    article.people = mentioned_figures(f"{article.title}\n{article.text}", seeds.figures)
    statements = attribute_statements(article.text, seeds.figures)
    for s in statements:
        s.key = statement_key(s.speaker_id or s.speaker_name, s.text)
    mark_repeats_within(statements)
    article.statements = statements
    article.simhash = dedupe.simhash(article.text)
    return article


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
    article.canonical_url = canonicalize_url(article.canonical_url or page.url)
    if article.published is None and item.get("published"):
        article.published = datetime.fromisoformat(item["published"])
    if not article.language and feed:
        article.language = feed.language
    return enrich_article(article, seeds), None
