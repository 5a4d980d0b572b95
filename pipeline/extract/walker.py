"""One walk over a cleaned tree: its blocks and, for every block-level element, the range of blocks it holds.

Boilerplate and social-post containers are recorded as block ranges too; whether they really are
boilerplate is decided afterwards (:func:`pipeline.extract.container.resolve_boiler`).
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.blocks import (
    BLOCK_TAGS,
    BOILER_TAGS,
    CELL,
    CJK,
    HEADINGS,
    LEAF_BLOCKS,
    NO_CLASS_BOILER,
    STRIP_TAGS,
    TABLE_STRUCTURE,
    Block,
    norm,
)
from pipeline.extract.classes import HIDDEN_STYLE, WEAK, attr_flags, attr_text, folded, shows_link
from pipeline.extract.second_opinion import is_prose_block

_MARK = "\x01"  # an inline element boundary, resolved when a block is flushed
# Inline element boundaries next to CJK text become a space ("ソフト<a>KeePass</a>の" -> "ソフト KeePass の").
_CJK_CLASS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_CJK_MARK = re.compile(rf"(?<=[{_CJK_CLASS}])\x01+(?=[^\s\x01])|(?<=[^\s\x01])\x01+(?=[{_CJK_CLASS}])")


class Walker:
    """Cuts a cleaned tree into blocks and records each element's block range.

    Boilerplate and social-post containers are recorded as block ranges too; whether a boilerplate
    range really is boilerplate is decided after the walk (see :mod:`pipeline.extract.container`), because a
    site may put a class like "has-sidebar" on the wrapper of the whole article.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.ranges: list[tuple[object, int, int]] = []  # (element, start, end) of block-level elements
        self.boiler_ranges: list[tuple[int, int, str]] = []  # (start, end, kind)
        self.post_ranges: list[tuple[int, int]] = []
        self._buf: list[str] = []
        self._link_len = 0
        self.title_key = ""
        self._groups: list[int] = [0]
        self._serial = 0
        self._rule = False

    def flush(self, tag: str) -> None:
        if not self._buf:
            return
        raw = "".join(self._buf)
        if _MARK in raw:
            if CJK.search(raw):
                raw = _CJK_MARK.sub(" ", raw)
            raw = raw.replace(_MARK, "")
        self._buf = []
        link_len = self._link_len
        self._link_len = 0
        text = norm(raw)
        if text:
            self.blocks.append(
                Block(text, min(link_len, len(text)), tag, False, False, tag in HEADINGS, self._groups[-1], self._rule)
            )
            self._rule = False

    def walk(self, root: HtmlElement) -> None:
        block_stack: list[str] = [root.tag if isinstance(root.tag, str) else "div"]
        link_depth = 0
        skip_depth = 0
        open_: list[tuple] = []
        buf = self._buf
        for event, el in etree.iterwalk(root, events=("start", "end")):
            tag = el.tag
            if not isinstance(tag, str):
                if event == "end" and el.tail and not skip_depth:
                    buf.append(el.tail)
                    if link_depth:
                        self._link_len += len(el.tail)
                continue
            if event == "start":
                is_block = tag in BLOCK_TAGS
                if is_block or tag == "br":
                    self.flush(block_stack[-1])
                    buf = self._buf
                elif tag == CELL:
                    if buf:
                        buf.append(" ")
                elif buf:
                    buf.append(_MARK)
                attrs = attr_text(el)
                kind = ""
                flags = attr_flags(attrs) if attrs else 0
                if flags & 1 and tag in ("blockquote", "div", "section", "figure", "aside"):
                    kind = "post"
                elif tag in BOILER_TAGS:
                    kind = "tag"
                elif tag == "header":
                    kind = "header"
                elif flags & 2 and tag not in NO_CLASS_BOILER:
                    kind = "weak" if flags & WEAK else "class"
                elif el.get("hidden") is not None or el.get("aria-hidden") == "true":
                    kind = "hidden"
                else:
                    st = el.get("style")
                    if st and HIDDEN_STYLE.search(st):
                        kind = "hidden"
                if kind == "hidden" and is_block and folded(el):
                    kind = ""
                if is_block:
                    block_stack.append(tag)
                    if tag not in LEAF_BLOCKS:
                        self._serial += 1
                        self._groups.append(self._serial)
                    elif tag == "hr":
                        self._rule = True
                if tag == "a":
                    link_depth += 1
                skip = not is_block and (
                    kind == "hidden" or (kind == "class" and flags & 4 and not (flags & 8 and shows_link(el)))
                )
                if skip:
                    skip_depth += 1
                open_.append((len(self.blocks), is_block, kind, tag == "a", skip))
                if el.text and not skip_depth:
                    buf.append(el.text)
                    if link_depth:
                        self._link_len += len(el.text)
            else:
                start, is_block, kind, is_link, skip = open_.pop()
                if skip:
                    skip_depth -= 1
                if is_block:
                    self.flush(block_stack[-1])
                    buf = self._buf
                    block_stack.pop()
                    if tag not in LEAF_BLOCKS:
                        self._groups.pop()
                end = len(self.blocks)
                if end > start:
                    if is_block:
                        self.ranges.append((el, start, end))
                    if kind == "post":
                        self.post_ranges.append((start, end))
                    elif kind:
                        self.boiler_ranges.append((start, end, kind))
                if is_link:
                    link_depth -= 1
                if not is_block and not skip_depth:
                    buf.append(_MARK)
                if el.tail and not skip_depth:
                    buf.append(el.tail)
                    if link_depth:
                        self._link_len += len(el.tail)
        self.flush(block_stack[-1] if block_stack else "div")


def _flatten_data_tables(root: HtmlElement) -> None:
    """Make the cells of data tables inline, so that each row is one block ("1 Kyle Busch 5040 5")."""
    for table in root.iter("table"):
        cells = []
        for el in table.iter():
            tag = el.tag
            if el is table or not isinstance(tag, str):
                continue
            if tag in TABLE_STRUCTURE:
                break
            if tag == "td" or tag == "th":
                cells.append(el)
        else:
            for el in cells:
                el.tag = CELL


def extract_blocks(doc: HtmlElement) -> tuple[Walker, int, int]:
    etree.strip_elements(doc, *STRIP_TAGS, with_tail=False)
    _flatten_data_tables(doc)
    body = doc.find("body")
    root = body if body is not None else doc
    w = Walker()
    w.walk(root)
    page_words = 0
    link_words = 0
    for b in w.blocks:
        n = len(b.text)
        page_words += n
        link_words += b.link_len
    return w, page_words // 6, link_words // 6


def count_prose_chars(w: Walker) -> int:
    """Characters of prose on the whole page, boilerplate boxes included (see :mod:`.second_opinion`)."""
    return sum(len(b.text) for b in w.blocks if is_prose_block(b.text, b.link_len))


def visible_text(w: Walker) -> str:
    out = []
    n = 0
    for b in w.blocks:
        out.append(b.text)
        n += len(b.text)
        if n > 20000:
            break
    return "\n".join(out)
