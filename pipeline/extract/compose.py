"""The main text: container chosen, teasers and boilerplate lines dropped, posts signed; or the JSON-LD body."""

from __future__ import annotations

import unicodedata
from html import unescape

from pipeline.extract.blocks import WORD, norm, word_key
from pipeline.extract.container import select_container
from pipeline.extract.lines import keep_block, linked_entries, section_titles, trim_edges
from pipeline.extract.page import TAG_RE
from pipeline.extract.posts import post_lines
from pipeline.extract.tail import cut_tail
from pipeline.extract.teasers import cut_dated_teasers, cut_teasers, drop_second_copy
from pipeline.extract.walker import Walker


def compose(w: Walker, title: str, orgs: list[str] | None = None, authors: list[str] | None = None) -> str:
    title_key = word_key(title)
    w.title_key = title_key
    start, end = select_container(w)
    # teaser and comment headings are looked for before keep_block, which drops such lines
    story = cut_dated_teasers(cut_teasers(w.blocks[start:end]))
    # a linked section title and a linked entry of a list of text are both kept although link-dense
    linked = [t or e for t, e in zip(section_titles(story), linked_entries(story), strict=True)]
    kept = [b for b, keep_link in zip(story, linked, strict=True) if keep_block(b, title_key, keep_link)]
    kept = trim_edges(kept)
    if orgs or authors:
        kept = trim_edges(cut_tail(kept, orgs or [], authors or []))
    kept = drop_second_copy(kept)
    lines: list[str] = []
    i = 0
    while i < len(kept):
        b = kept[i]
        if b.post:
            j = i
            while j < len(kept) and kept[j].post:
                j += 1
            lines.extend(post_lines(kept[i:j]))
            i = j
            continue
        lines.append(b.text)
        i += 1
    return unicodedata.normalize("NFC", "\n".join(lines))


_LD_MIN_WORDS = 100


def prefer_ld_body(body_text: str, ld_body: str) -> str:
    """The JSON-LD articleBody when the page's HTML shows much less of it (a script-rendered page whose
    story sits only in its markup); otherwise the text found in the HTML, which keeps the paragraphs."""
    if not ld_body:
        return body_text
    ld_words = len(WORD.findall(ld_body))
    if ld_words < _LD_MIN_WORDS or len(WORD.findall(body_text)) >= 0.5 * ld_words:
        return body_text
    if "<" in ld_body:  # some sites put HTML in it
        ld_body = TAG_RE.sub(" ", ld_body)
    ld_body = unescape(ld_body)
    lines = (norm(line) for line in ld_body.replace("\r", "\n").split("\n"))
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))
