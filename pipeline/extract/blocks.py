"""Text blocks (runs of inline text between block-level boundaries) and the tag sets that cut them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# fmt: off
STRIP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "video", "audio", "source", "track", "picture", "img", "button", "select", "textarea", "input",
    "option", "optgroup", "datalist", "map", "dialog", "head", "link", "meta",
)
# fmt: on
BLOCK_TAGS = frozenset(
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table tr td th "
    "tbody thead tfoot caption blockquote pre figure figcaption form fieldset legend address hr center details "
    "summary menu body html dir hgroup".split()
)
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Block tags that hold text rather than other blocks; the others are containers (see Block.group).
LEAF_BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li dt dd tr td th caption pre figcaption legend address hr center summary blockquote".split()
)
# Classes on these say nothing about boilerplate (rows styled "oddrow player-12", "team-card"...).
NO_CLASS_BOILER = frozenset(
    ("body", "html", "tr", "td", "th", "tbody", "thead", "tfoot", "x-cell", "h1", "h2", "h3", "h4", "h5", "h6")
)
# A data table (no block structure inside its cells) is read row by row: its cells become inline
# elements of this tag, separated by a space, and each <tr> is one block.
CELL = "x-cell"
TABLE_STRUCTURE = frozenset(
    "table div p ul ol dl h1 h2 h3 h4 h5 h6 blockquote section article main header footer aside nav pre form "
    "figure".split()
)
# Tags whose content is never article text.
BOILER_TAGS = frozenset(("nav", "aside", "footer", "figcaption", "form", "menu", "dialog", "address"))
_END_PUNCT = re.compile(r"[.!?…:;\"”’'»)\]。！？」』）]\s*$")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
WORD = re.compile(r"\w+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


@dataclass(slots=True)
class Block:
    text: str
    link_len: int
    tag: str  # nearest block-level ancestor tag
    boiler: bool  # inside a boilerplate container
    post: bool = False  # part of an embedded social post
    heading: bool = False
    group: int = 0  # serial of the nearest enclosing container (div, section, ul...)
    after_rule: bool = False  # first block after an <hr>


def norm(text: str) -> str:
    """Invisible characters dropped, runs of spaces made one space, ends stripped."""
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
        return _SPACES.sub(" ", text.replace("\n", " ")).strip()
    # ASCII text (most blocks): the patterns' only ASCII characters are these, so skip them when absent
    text = text.replace("\n", " ")
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


def is_sentence_like(b: Block) -> bool:
    return bool(_END_PUNCT.search(b.text))


def word_key(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))
