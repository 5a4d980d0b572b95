"""Article extraction stage: page bytes -> :class:`pipeline.records.Article` (main text + metadata).

The extractor works on an lxml tree in one pass, one module per concern:

1. decode the bytes (:mod:`.decode`), cap the size, parse (:mod:`.page`);
2. read metadata before anything is removed (:mod:`.meta`);
3. strip non-text elements (scripts, styles, forms controls, media) in C (:mod:`.walker`);
4. walk the tree once, cutting it into text *blocks* (:mod:`.blocks`; runs of inline text between
   block-level boundaries) and recording for every element the contiguous range of blocks it holds
   (:mod:`.walker`; class and id names are read by :mod:`.classes`);
5. weight every block (:mod:`.container`): long, sentence-like, link-poor blocks are content (positive
   weight), link lists and blocks inside boilerplate containers (navigation, share bars, related links,
   comments, newsletter boxes...) are negative. A container is boilerplate by its class name only when it
   holds a small share of the page's prose, and class names are ignored altogether when they would
   leave under a fifth of it (stories split into sibling "widget", "card" or "label-hidden" boxes); a box
   named only by weak names (card, widget, promo, callout) that holds two long paragraphs is story text
   (a product card in a buying guide, a recipe card); a hidden box is boilerplate unless it is a folded
   panel (accordion, tab, FAQ answer) that a click opens; CSS layout utilities
   ("border-bottom", "pc-paddingBottom-16") say nothing about a box's content and count for nothing;
6. the main container is the element whose block range has the largest total weight (a maximum-sum
   subtree, computed with prefix sums), so an article split by an ad box is still kept whole;
7. drop teaser lists under headings such as "More from Jane Doe", "Latest News" or "Latest posts by
   Jane Doe", a trailing run of dated teaser cards with no heading over them, and a comment thread or
   sources list after a "33 Comments" or "Article Sources" heading (:mod:`.teasers`), then output the
   container's blocks that pass per-block filters (:mod:`.lines`: link lists go, but a linked heading
   over prose of its own container stays, and so do the linked name of an entry in a list of text (a
   directory, a reading list) and a few links announced by a line such as "Where to buy:"), cut "About <company>" sections and author bios at the end, by full or
   first name or under a job-title label such as "Senior Staff Writer" (:mod:`.tail`), drop a second copy of a run of paragraphs (:mod:`.teasers`), one
   paragraph per line, NFC (:mod:`.compose`);
8. when the page's JSON-LD ``articleBody`` holds more than twice the words found in the HTML (a
   script-rendered page), that body is the text (:mod:`.compose`);
9. decide whether the page is an article at all (:mod:`.not_article`);
10. when the text holds under 0.6 of the page's prose (a story split over several boxes, or shown by a
    script from a hidden box), trafilatura is asked for a second opinion, taken only when it holds
    newsmon's words and much more (:mod:`.second_opinion`); about one page in twenty.

Every step is linear in the page's size. Which rules generalise is measured with
``newsmon eval extraction --split test`` (see :mod:`pipeline.evaluation.extraction`).

Embedded social posts (twitter/X, Instagram, Threads, Mastodon, TikTok, Facebook blockquotes) are kept,
their text followed by a signature line that starts with "— " (e.g. "— Elon Musk (@elonmusk) December
29, 2024"; :mod:`.posts`); :func:`find_posts` finds them again in an Article's text.
"""

from __future__ import annotations

from pipeline.extract.compose import compose, prefer_ld_body
from pipeline.extract.meta import PageMeta, extract_metadata
from pipeline.extract.not_article import not_article_reason
from pipeline.extract.page import MAX_HTML_BYTES, SCRIPT_RE, TAG_RE, WRAPPER_TAGS, decode_page, looks_binary, parse_html
from pipeline.extract.posts import POST_SIGNATURE, find_posts
from pipeline.extract.second_opinion import needs_second_opinion, second_opinion
from pipeline.extract.tail import org_names
from pipeline.extract.walker import count_prose_chars, extract_blocks, visible_text
from pipeline.records import Article
from pipeline.urls import canonicalize_url

__all__ = ["extract_article", "find_posts", "MAX_HTML_BYTES", "POST_SIGNATURE"]


def extract_article(
    html: bytes | str,
    url: str,
    *,
    content_type: str | None = None,
    feed_id: str = "",
    outlet: str = "",
) -> Article:
    """Extract the main text and metadata of one fetched page. Never raises on bad input."""
    if looks_binary(html, content_type):
        return Article(
            url=url,
            canonical_url=canonicalize_url(url) or url,
            feed_id=feed_id,
            outlet=outlet,
            not_article_reason="not_html",
        )
    text_html = decode_page(html or b"", content_type)
    meta = PageMeta()
    body_text = ""
    page_words = link_words = 0
    page_text = ""
    prose_chars = 0
    doc = parse_html(text_html) if text_html.strip() else None
    if doc is not None:
        try:
            meta = extract_metadata(doc, url)
        except (ValueError, TypeError, RecursionError):
            meta = PageMeta()
        w, page_words, link_words = extract_blocks(doc)
        orgs = org_names(meta.site_name, url)
        body_text = compose(w, meta.title, orgs, meta.authors)
        page_text = visible_text(w)
        prose_chars = count_prose_chars(w)
    if len(body_text) < 200 and text_html:
        # libxml2 gives up below ~256 levels of nesting; if the page clearly had more text than we
        # saw, flatten the wrapper tags and parse again.
        visible = TAG_RE.sub(" ", SCRIPT_RE.sub(" ", text_html[:MAX_HTML_BYTES]))
        if len(visible.split()) > 2 * page_words + 5:
            flat = parse_html(WRAPPER_TAGS.sub(" ", text_html))
            if flat is not None:
                w2, pw2, lw2 = extract_blocks(flat)
                alt = compose(w2, meta.title, org_names(meta.site_name, url), meta.authors)
                if len(alt) > len(body_text):
                    body_text, page_words, link_words = alt, pw2, lw2
                    page_text = visible_text(w2)
                    prose_chars = count_prose_chars(w2)
    html_text = body_text
    body_text = prefer_ld_body(body_text, meta.ld_article_body)
    if not meta.canonical_url:
        meta.canonical_url = canonicalize_url(url)
    reason = not_article_reason(body_text, page_text, meta, page_words, link_words)
    # An article whose text came from the HTML but holds little of the page's prose: ask trafilatura.
    if reason is None and body_text is html_text and needs_second_opinion(body_text, prose_chars):
        body_text = second_opinion(text_html, url, body_text)
    return Article(
        url=url,
        canonical_url=meta.canonical_url or url,
        feed_id=feed_id,
        outlet=outlet,
        title=meta.title,
        text=body_text,
        authors=meta.authors,
        published=meta.published,
        modified=meta.modified,
        site_name=meta.site_name,
        language=meta.language,
        description=meta.description,
        image=meta.image,
        not_article_reason=reason,
    )
