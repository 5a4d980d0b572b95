"""Extraction: a fetched page becomes an Article with its main text and metadata.

In: the page's bytes, final URL and Content-Type. Out: an `Article` (title, text, authors, published
and modified times, canonical URL, language, site name, description, image), with
`not_article_reason` set for section fronts, live pages and paywall stubs.
`decode` turns bytes into text, `meta` reads the metadata (JSON-LD, OpenGraph, meta tags, `<time>`),
`body` finds the main text (its steps live in `page`, `walker`, `blocks`, `classes`, `container`,
`lines`, `teasers`, `tail`, `posts`, `compose` and `not_article`), asking trafilatura for a second
opinion (`second_opinion`) on pages where its container holds little of the page's prose.
"""

from .body import extract_article

__all__ = ["extract_article"]
