"""Article extraction stage: page bytes -> :class:`pipeline.records.Article` (main text + metadata).

The extractor works on an lxml tree in one pass:

1. decode the bytes (:mod:`pipeline.extract.decode`), cap the size, parse;
2. read metadata before anything is removed (:mod:`pipeline.extract.meta`);
3. strip non-text elements (scripts, styles, forms controls, media) in C;
4. walk the tree once, cutting it into text *blocks* (runs of inline text between block-level
   boundaries) and recording for every element the contiguous range of blocks it holds;
5. weight every block: long, sentence-like, link-poor blocks are content (positive weight), link
   lists and blocks inside boilerplate containers (navigation, share bars, related links, comments,
   newsletter boxes...) are negative. A container is boilerplate by its class name only when it
   holds a small share of the page's prose, and class names are ignored altogether when they would
   leave under a fifth of it (stories split into sibling "widget", "card" or "label-hidden" boxes);
6. the main container is the element whose block range has the largest total weight (a maximum-sum
   subtree, computed with prefix sums), so an article split by an ad box is still kept whole;
7. drop teaser lists under headings such as "More from Jane Doe" or "Latest News" and a comment
   thread after a "33 Comments" heading, then output the container's blocks that pass per-block
   filters (link lists go, but a linked heading over prose of its own container stays; a second copy
   of a run of paragraphs goes), one paragraph per line, NFC;
8. when the page's JSON-LD ``articleBody`` holds more than twice the words found in the HTML (a
   script-rendered page), that body is the text;
9. when the text holds under 0.6 of the page's prose (a story split over several boxes, or shown by a
   script from a hidden box), trafilatura is asked for a second opinion, taken only when it holds
   newsmon's words and much more (:mod:`pipeline.extract.second_opinion`); about one page in twenty.

Every step is linear in the page's size. Which rules generalise is measured with
``newsmon eval extraction --split test`` (see :mod:`pipeline.evaluation.extraction`).

Embedded social posts (twitter/X, Instagram, Threads, Mastodon, TikTok, Facebook blockquotes) are kept,
their text followed by a signature line that starts with "— " (e.g. "— Elon Musk (@elonmusk) December
29, 2024"); :func:`find_posts` finds them again in an Article's text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.decode import decode_html
from pipeline.extract.meta import PageMeta, extract_metadata
from pipeline.extract.second_opinion import is_prose_block, needs_second_opinion, second_opinion
from pipeline.records import Article
from pipeline.urls import canonicalize_url

_LINK_DENSE = 0.8  # a block with more link text than this is a link list
_KADANE_RATIO = 1.5  # a contiguous block run beats the best element only when clearly better
MAX_HTML_BYTES = 5 * 1024 * 1024  # same as Settings.max_page_bytes

__all__ = ["extract_article", "find_posts", "MAX_HTML_BYTES", "POST_SIGNATURE"]

# ------------------------------------------------------------------ element classes

# fmt: off
_STRIP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "video", "audio", "source", "track", "picture", "img", "button", "select", "textarea", "input",
    "option", "optgroup", "datalist", "map", "dialog", "head", "link", "meta",
)
# fmt: on
_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table tr td th "
    "tbody thead tfoot caption blockquote pre figure figcaption form fieldset legend address hr center details "
    "summary menu body html dir hgroup".split()
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Block tags that hold text rather than other blocks; the others are containers (see _Block.group).
_LEAF_BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li dt dd tr td th caption pre figcaption legend address hr center summary blockquote".split()
)
# Classes on these say nothing about boilerplate (rows styled "oddrow player-12", "team-card"...).
_NO_CLASS_BOILER = frozenset(
    ("body", "html", "tr", "td", "th", "tbody", "thead", "tfoot", "x-cell", "h1", "h2", "h3", "h4", "h5", "h6")
)
# A data table (no block structure inside its cells) is read row by row: its cells become inline
# elements of this tag, separated by a space, and each <tr> is one block.
_CELL = "x-cell"
_TABLE_STRUCTURE = frozenset(
    "table div p ul ol dl h1 h2 h3 h4 h5 h6 blockquote section article main header footer aside nav pre form "
    "figure".split()
)
# Tags whose content is never article text.
_BOILER_TAGS = frozenset(("nav", "aside", "footer", "figcaption", "form", "menu", "dialog", "address"))

_NEG = re.compile(
    r"comment|disqus|share|sharing|social|related|recommend|newsletter|subscri|promo|advert|sponsor|"
    r"(?:^|[\s_-])ads?(?:$|[\s_-])|adslot|ad-slot|adunit|ad-unit|dfp|gpt-|sidebar|side-bar|widget|footer|masthead|"
    r"breadcrumb|cookie|consent|gdpr|popup|pop-up|modal|overlay|signup|sign-up|byline|by-line|author|dateline|"
    r"timestamp|publish-date|tags|tag-list|taglist|keyword|toolbar|print|e-?mail|outbrain|taboola|zergnet|"
    r"most-?read|most-?popular|trending|read-?more|more-stories|also-?read|next-?article|pagination|pager|"
    r"login|paywall|caption|credit|skip|jump|(?:^|[\s_-])toc(?:$|[\s_-])|(?:^|[\s_-])nav|menu|header|hidden|"
    r"sr-only|visually-?hidden|screen-?reader|rating|poll|survey|player|carousel|slideshow|gallery|banner|"
    r"teaser|card|tooltip|rollover|hovercard|rail|offscreen|follow|donate|partner|meta-?data|post-?meta|article-?meta|entry-?meta|"
    r"(?:^|[\s_-])meta(?:$|[\s_-])|label|disclaimer|copyright|legal|bio(?:$|[\s_-])|avatar|profile|callout|"
    r"inline-?link|more-?link|see-?also|list-?link|below|bottom|feedback|error|alert|notification|nocontent|hide",
    re.IGNORECASE,
)
_POS = re.compile(
    r"article-?body|articlebody|article__body|article-?content|article-?text|story-?body|storybody|story-?content|"
    r"post-?content|post-?body|entry-?content|entry-?body|main-?content|content-?body|body-?text|rich-?text|"
    r"paywall-?content|article__content|td-post-content|field-?body|(?:^|\s)prose(?:$|\s)|text-?content|"
    r"articletext|story-?text|post-?entry|single-?content",
    re.IGNORECASE,
)
_SOCIAL_CLASS = re.compile(
    r"twitter-tweet|twitter-video|instagram-media|tiktok-embed|text-post-media|threads-(?:embed|post)|mastodon-embed|"
    r"fb-xfbml|fb-post|bluesky-embed|reddit-embed|x-post|embedded-post|social-embed",
    re.IGNORECASE,
)
_INLINE_JUNK = re.compile(r"rollover|hovercard|tooltip|sr-only|visually-?hidden|screen-?reader|offscreen", re.I)
_POPUP = re.compile(r"rollover|hovercard|tooltip", re.I)  # a popup wrapped around the link that shows it
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

_BOILER_LINE = re.compile(
    r"^(?:advertisement|advertising|sponsored(?: content)?|ad|story continues below|continue reading|read more|"
    r"read more:.*|related(?: articles| stories| content)?:?.*|see also:?.*|share(?: this)?(?: article| story)?:?|"
    r"share on .*|follow us.*|sign up.*|subscribe.*|click here.*|tap here.*|scroll (?:down|to continue).*|"
    r"image:? .*|photo:? .*|getty images|ap photo.*|reuters|(?:photo|image|video) credit:?.*|watch:? .*|"
    r"listen to (?:this|the) (?:article|story).*|(?:\d+ )?min(?:ute)?s? read|print|email|comments?(?: \(\d+\))?|"
    r"copyright .*|© .*|all rights reserved.*|loading.*|toggle .*|close|menu|search|skip to .*|"
    r"this (?:article|story) (?:was|is) (?:originally )?published.*|recommended(?: for you)?|most read|"
    r"most popular|trending(?: now)?|you may also like|more from .*|more on this.*|next article|previous article|"
    r"back to top|opens in new window|updated:? .*|published:? .*|posted:? .*|by [a-z .,'-]{2,60}|"
    r"we use cookies.*|accept(?: all)?(?: cookies)?|we value your privacy.*|don'?t miss:?|advert|report|"
    r"(?:also )?read(?: more)?: .{0,100}|more: .{0,100}|top stories|related coverage|featured|sponsored links?)$",
    re.IGNORECASE,
)
_CAPTION_LINE = re.compile(
    r"\((?:image|photo|picture|pic|pictured|credit|photograph|foto)s?(?: credit)?\s*:[^)]*\)\s*$|^image (?:copyright|caption)\b",
    re.IGNORECASE,
)
_SOCIAL_PLUG = re.compile(
    r"^(?:follow|like|join) (?:us|him|her|them|[\w. ]{2,40}) on (?:twitter|facebook|instagram|x|youtube|linkedin|tiktok)|"
    r"^listen to .{0,40} live\b|^join our .{0,60}(?:forum|newsletter|community)|"
    r"^follow (?:\w+[’']s )?(?:full |complete |all |latest |more )?coverage of\b",
    re.IGNORECASE,
)
# Membership / donation pitches, which can run to a long paragraph.
_PITCH = re.compile(
    r"^if you (?:enjoyed|liked|value|appreciate|found) (?:this|our|reading) (?:article|story|post|piece|journalism|reporting|content)",
    re.IGNORECASE,
)
# Reporter contact lines and newsletter plugs ("Jane Doe may be reached at jd@example.com. Follow her on ...").
_CONTACT_LINE = re.compile(
    r"\b(?:may|can) be (?:reached|contacted) (?:at|on|by|via)\b|\b(?:subscribe to|sign up for) (?!this\b).{0,40}newsletters?\b|"
    r"\bget the latest .{0,50}\b(?:in|to) your inbox\b",
    re.IGNORECASE,
)
_COOKIE_TEXT = re.compile(
    r"\bcookies?\b.{0,200}\b(?:consent|browser|website|privacy|experience|opt[- ]out|third[- ]party|necessary)\b|"
    r"\b(?:consent|browser|website|privacy|experience|opt[- ]out|third[- ]party)\b.{0,200}\bcookies?\b",
    re.IGNORECASE | re.DOTALL,
)
_END_PUNCT = re.compile(r"[.!?…:;\"”’'»)\]。！？」』）]\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

POST_SIGNATURE = re.compile(r"^— .{1,120}?(?:\(@[\w.]{1,40}\)|@[\w.]{1,40}).*$", re.MULTILINE)


# ------------------------------------------------------------------ blocks


@dataclass(slots=True)
class _Block:
    text: str
    link_len: int
    tag: str  # nearest block-level ancestor tag
    boiler: bool  # inside a boilerplate container
    post: bool = False  # part of an embedded social post
    heading: bool = False
    group: int = 0  # serial of the nearest enclosing container (div, section, ul...)
    after_rule: bool = False  # first block after an <hr>


def _norm(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text.replace("\n", " "))
    return text.strip()


_FLAG_CACHE: dict[str, int] = {}
_TOKEN_FLAGS: dict[str, int] = {}
_POS_FLAG = 16


def _token_flags(token: str) -> int:
    """Flags of one class or id token: 1 social, 2 negative, 4 inline junk, 8 popup, 16 positive."""
    flags = _TOKEN_FLAGS.get(token)
    if flags is None:
        flags = (
            (1 if _SOCIAL_CLASS.search(token) else 0)
            | (2 if _NEG.search(token) else 0)
            | (4 if _INLINE_JUNK.search(token) else 0)
            | (8 if _POPUP.search(token) else 0)
            | (_POS_FLAG if _POS.search(token) else 0)
        )
        if len(_TOKEN_FLAGS) > 100_000:
            _TOKEN_FLAGS.clear()
        _TOKEN_FLAGS[token] = flags
    return flags


def _attr_flags(attrs: str) -> int:
    """Bit flags for a class+id string: 1 social post, 2 boilerplate, 4 inline junk, 8 popup (cached per string).

    The patterns never span whitespace, so a string's flags are those of its tokens combined; tokens
    repeat far more across pages than whole class strings do, which keeps the regexes off the hot path.
    """
    flags = _FLAG_CACHE.get(attrs)
    if flags is None:
        any_flags = 0
        for token in attrs.split():
            any_flags |= _token_flags(token)
        flags = any_flags & 1
        if any_flags & 2 and not any_flags & _POS_FLAG:
            flags |= 2 | (any_flags & 4)
            if any_flags & 4:
                flags |= any_flags & 8
        if len(_FLAG_CACHE) > 100_000:
            _FLAG_CACHE.clear()
        _FLAG_CACHE[attrs] = flags
    return flags


def _attr_text(el: HtmlElement) -> str:
    c = el.get("class")
    i = el.get("id")
    if c and i:
        return c + " " + i
    return c or i or ""


_MARK = "\x01"  # an inline element boundary, resolved when a block is flushed
# Inline element boundaries next to CJK text become a space ("ソフト<a>KeePass</a>の" -> "ソフト KeePass の").
_CJK_CLASS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_CJK_MARK = re.compile(rf"(?<=[{_CJK_CLASS}])\x01+(?=[^\s\x01])|(?<=[^\s\x01])\x01+(?=[{_CJK_CLASS}])")


def _shows_link(el: HtmlElement) -> bool:
    """A popup wrapper (hovercard, rollover) whose visible part is the link it starts with, or a link itself."""
    if el.tag == "a":
        return True
    if el.text and el.text.strip():
        return False
    children = list(el)
    if not children or children[0].tag != "a":
        return False
    # the wrapper holds the link and, after it, the popup panel itself
    return any(_POPUP.search(_attr_text(c)) for c in children[1:] if isinstance(c.tag, str))


class _Walker:
    """Cuts a cleaned tree into blocks and records each element's block range.

    Boilerplate and social-post containers are recorded as block ranges too; whether a boilerplate
    range really is boilerplate is decided after the walk (see :func:`_resolve_boiler`), because a
    site may put a class like "has-sidebar" on the wrapper of the whole article.
    """

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
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
            if _CJK.search(raw):
                raw = _CJK_MARK.sub(" ", raw)
            raw = raw.replace(_MARK, "")
        self._buf = []
        link_len = self._link_len
        self._link_len = 0
        text = _norm(raw)
        if text:
            self.blocks.append(
                _Block(
                    text, min(link_len, len(text)), tag, False, False, tag in _HEADINGS, self._groups[-1], self._rule
                )
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
                is_block = tag in _BLOCK_TAGS
                if is_block or tag == "br":
                    self.flush(block_stack[-1])
                    buf = self._buf
                elif tag == _CELL:
                    if buf:
                        buf.append(" ")
                elif buf:
                    buf.append(_MARK)
                attrs = _attr_text(el)
                kind = ""
                flags = _attr_flags(attrs) if attrs else 0
                if flags & 1 and tag in ("blockquote", "div", "section", "figure", "aside"):
                    kind = "post"
                elif tag in _BOILER_TAGS:
                    kind = "tag"
                elif tag == "header":
                    kind = "header"
                elif flags & 2 and tag not in _NO_CLASS_BOILER:
                    kind = "class"
                elif el.get("hidden") is not None or el.get("aria-hidden") == "true":
                    kind = "hidden"
                else:
                    st = el.get("style")
                    if st and _HIDDEN_STYLE.search(st):
                        kind = "hidden"
                if is_block:
                    block_stack.append(tag)
                    if tag not in _LEAF_BLOCKS:
                        self._serial += 1
                        self._groups.append(self._serial)
                    elif tag == "hr":
                        self._rule = True
                if tag == "a":
                    link_depth += 1
                skip = not is_block and (
                    kind == "hidden" or (kind == "class" and flags & 4 and not (flags & 8 and _shows_link(el)))
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
                    if tag not in _LEAF_BLOCKS:
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


# ------------------------------------------------------------------ scoring


def _is_sentence_like(b: _Block) -> bool:
    return bool(_END_PUNCT.search(b.text))


def _weight(b: _Block) -> float:
    n = len(b.text)
    if b.post:
        return n * 0.5
    if b.boiler:
        return -n * 0.5 - 5
    link = b.link_len / n if n else 0.0
    if link > 0.5:
        return -n * link
    if b.heading:
        return 0.0
    words = len(_WORD.findall(b.text))
    if b.tag == "tr" and n < 100 and not (words >= 10 and _is_sentence_like(b)):
        return 0.0  # a data-table row: neutral, kept when the table sits inside the story
    if _CJK.search(b.text):
        words = max(words, n // 2)
    if n >= 100 or (words >= 10 and _is_sentence_like(b)):
        return n * (1 - link) * (1.0 if b.tag in ("p", "blockquote", "pre", "li", "dd", "td") else 0.8)
    if words >= 5 and _is_sentence_like(b):
        return n * (1 - link) * 0.5
    return -3.0


def _link_dense(b: _Block) -> bool:
    n = len(b.text)
    return n > 0 and b.link_len / n > _LINK_DENSE and n < 400


def _section_titles(story: list[_Block]) -> list[bool]:
    """Which blocks are headings over a section of prose: the next paragraph of prose after the heading
    sits in the same container (a linked heading in a list box of its own is a teaser)."""
    out = [False] * len(story)
    next_group = -1  # container of the next paragraph of prose, scanning backwards
    for i in range(len(story) - 1, -1, -1):
        b = story[i]
        if b.heading:
            out[i] = b.group == next_group
        elif not b.boiler and _is_prose(b):
            next_group = b.group
    return out


def _keep(b: _Block, title_key: str, section_title: bool = False) -> bool:
    """Whether a block of the main container is story text. ``section_title``: a heading with more prose
    after it, which may be a link ("1. Harvard Business School" in a ranking, a product reviewed)."""
    if b.post:
        return True
    if b.boiler:
        return False
    n = len(b.text)
    if b.tag == "h1":
        return False
    if title_key and b.heading and _key(b.text) == title_key:
        return False
    if _link_dense(b) and not section_title:  # a link list, unless a linked section title
        return False
    if n < 120 and (_BOILER_LINE.match(b.text) or _BOILER_LINE.match(b.text.rstrip(" .:…!>»→"))):
        return False
    if n < 250 and (_CAPTION_LINE.search(b.text) or _SOCIAL_PLUG.search(b.text)):
        return False
    if n < 300 and _CONTACT_LINE.search(b.text):
        return False
    if n < 800 and _PITCH.match(b.text):
        return False
    return True


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _resolve_boiler(w: _Walker) -> list[float]:
    """Mark blocks inside boilerplate containers; returns the final block weights.

    A boilerplate-looking container (by tag or class) that holds a large share of the page's
    paragraph weight is the article wrapper after all and is not marked; a <header> is kept when
    it holds a real paragraph.
    """
    blocks = w.blocks
    for start, end in w.post_ranges:
        for i in range(start, end):
            blocks[i].post = True
    raw = [_weight(b) for b in blocks]
    pos_prefix = [0.0]
    acc = 0.0
    for x in raw:
        acc += x if x > 0 else 0.0
        pos_prefix.append(acc)
    total = acc
    # Ranges are marked through a difference array, so nesting costs nothing (O(blocks + ranges)).
    by_class = [0] * (len(blocks) + 1)
    by_other = [0] * (len(blocks) + 1)
    for start, end, kind in w.boiler_ranges:
        inside = pos_prefix[end] - pos_prefix[start]
        if kind == "header":
            if any(raw[i] > 150 for i in range(start, min(end, start + 400))):
                continue
        elif kind != "hidden" and total > 0 and inside > 0.4 * total:
            continue
        elif kind == "hidden" and total > 0 and inside > 0.6 * total:
            continue
        marks = by_class if kind == "class" else by_other
        marks[start] += 1
        marks[end] -= 1
    # Class names are weak evidence: when they would leave less than a fifth of the page's paragraph
    # weight (the story split into sibling "widget"/"card"/"field--label-hidden" boxes), ignore them.
    kept = 0.0
    c = o = 0
    for i, x in enumerate(raw):
        c += by_class[i]
        o += by_other[i]
        if x > 0 and not c and not o:
            kept += x
    use_class = total <= 0 or kept >= 0.2 * total
    c = o = 0
    for i, b in enumerate(blocks):
        c += by_class[i]
        o += by_other[i]
        if (o or (c and use_class)) and not b.post:
            b.boiler = True
    weights = [_weight(b) for b in blocks]
    for i, b in enumerate(blocks):
        if weights[i] > 0 and not b.post and _COOKIE_TEXT.search(b.text):
            b.boiler = True
            weights[i] = _weight(b)
    # The story starts right after its headline: paragraphs just below the title count double,
    # teasers above it half.
    if w.title_key:
        t = -1
        for i, b in enumerate(blocks):
            if b.heading and not b.boiler:
                k = _key(b.text)
                if k == w.title_key or (len(k) >= 10 and (k in w.title_key or w.title_key in k)):
                    t = i
                    break
        if t < 0:
            t = next((i for i, b in enumerate(blocks) if b.tag == "h1" and not b.boiler), -1)
        if t >= 0:
            for i in range(t):
                if weights[i] > 0 and not blocks[i].post:
                    weights[i] *= 0.5
            seen = 0
            for i in range(t + 1, min(len(blocks), t + 12)):
                if weights[i] > 0:
                    weights[i] *= 2
                    seen += 1
                    if seen >= 3:
                        break
    return weights


def _select(w: _Walker) -> tuple[int, int]:
    blocks = w.blocks
    if not blocks:
        return 0, 0
    # protected boilerplate containers (headers, positive-class elements that also look negative):
    # boilerplate only when they hold no real paragraph.
    weights = _resolve_boiler(w)
    prefix = [0.0]
    acc = 0.0
    for x in weights:
        acc += x
        prefix.append(acc)
    best = None
    best_score = float("-inf")
    for _el, start, end in w.ranges:
        score = prefix[end] - prefix[start]
        # prefer the deeper (smaller) element on ties
        if score > best_score + 1e-9 or (abs(score - best_score) <= 1e-9 and best and end - start < best[1] - best[0]):
            best_score = score
            best = (start, end)
    if best is None or best_score <= 0:
        return 0, len(blocks)
    if len(weights) > 1:
        # the best contiguous run of blocks (Kadane); element ranges are such runs, so this is
        # never worse, and it can take two sibling paragraphs without their noisy parent.
        run_best = float("-inf")
        run_start = 0
        acc = 0.0
        kb = best
        for i, x in enumerate(weights):
            if acc <= 0:
                acc = 0.0
                run_start = i
            acc += x
            if acc > run_best:
                run_best = acc
                kb = (run_start, i + 1)
        if run_best > _KADANE_RATIO * best_score:
            return kb
    return best


def _trim(kept: list[_Block]) -> list[_Block]:
    """Drop short non-sentence lines at the edges (bylines, datelines, tag lists)."""

    def weak(b: _Block) -> bool:
        return not b.post and len(b.text) < 60 and not _is_sentence_like(b) and not b.heading

    i, j = 0, len(kept)
    while i < j and weak(kept[i]):
        i += 1
    while j > i and (weak(kept[j - 1]) or (kept[j - 1].heading and not kept[j - 1].post)):
        j -= 1
    return kept[i:j]


# ------------------------------------------------------------------ social posts


def _post_lines(blocks: list[_Block]) -> list[str]:
    """Lines of one embedded post: its paragraphs, then the signature line starting with "— "."""
    lines = [b.text for b in blocks]
    if not lines:
        return lines
    # The signature is the last line that names the author; normalise its dash.
    last = lines[-1]
    if len(lines) >= 2 and len(last) < 200:
        last = re.sub(r"^[\s\-–—―]+", "", last)
        lines[-1] = "— " + last
    return lines


def find_posts(text: str) -> list[tuple[int, int, str]]:
    """Embedded social posts in an Article text: (start, end, signature) of each post's body.

    The body is the paragraph(s) just before a signature line ("— Name (@handle) date"); only the
    paragraph immediately above the signature is returned, which is how posts are embedded.
    """
    out = []
    for m in POST_SIGNATURE.finditer(text):
        end = m.start() - 1
        if end <= 0:
            continue
        start = text.rfind("\n", 0, end) + 1
        out.append((start, end, m.group(0)))
    return out


# ------------------------------------------------------------------ not-article detection

_CONSENT = re.compile(
    r"\b(?:cookies?|consent|privacy (?:policy|settings|preferences)|accept all|reject all|manage (?:options|preferences|settings)|"
    r"personal data|partners|gdpr|legitimate interest)\b",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"subscribe (?:now |today )?to (?:continue|read|keep reading|unlock)|subscribers? only|for subscribers|"
    r"already a (?:subscriber|member)|to continue reading|continue reading with|sign in to (?:continue|read)|"
    r"log in to (?:continue|read)|create a free account|this (?:article|content|story) is (?:for|available to|exclusive to) (?:subscribers|members|premium)|"
    r"unlock (?:this|full) (?:article|story|access)|start your (?:free )?trial|premium (?:article|content)|"
    r"you have reached your (?:free )?(?:article )?limit|remaining free articles?",
    re.IGNORECASE,
)


def _not_article_reason(text: str, page_text: str, meta: PageMeta, page_words: int, link_words: int) -> str | None:
    """Why this page is not an article (section front, consent wall, paywall stub, video page), or None."""
    words = len(_WORD.findall(text))
    if page_words == 0 and words == 0:
        return "empty"
    low = page_text[:20000]
    if words < 250 and len(_CONSENT.findall(text[:5000])) >= 3:
        return "consent_wall"
    if words < 60 and len(_CONSENT.findall(low)) >= 3:
        return "consent_wall"
    if words < 300 and (_PAYWALL.search(low) or meta.accessible_for_free is False and words < 150):
        return "paywall"
    if words < 150 and (
        meta.og_type.startswith("video")
        or (
            "videoobject" in meta.ld_types
            and not any(t.endswith("article") or t == "blogposting" for t in meta.ld_types)
        )
    ):
        return "video"
    article_like = (
        meta.og_type == "article"
        or meta.published is not None
        or any(t.endswith("article") or t in ("blogposting", "report") for t in meta.ld_types)
    )
    if page_words and link_words / page_words > 0.4 and (words < 40 or (words < 150 and not article_like)):
        return "section_front"
    if words == 0:
        return "no_main_text"
    if words < 40:
        return "too_short"
    return None


# ------------------------------------------------------------------ entry point

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False)
_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_WRAPPER_TAGS = re.compile(
    r"</?(?:div|span|section|article|main|font|b|i|em|strong|u|small|big|center|table|tbody|tr|td|th|ul|ol|"
    r"dl|dd|dt|header|footer|aside|nav|figure|label|abbr|cite|code|q|s|sub|sup|mark|del|ins|var|kbd|samp)\b[^>]*>",
    re.IGNORECASE,
)


_BINARY_TYPES = re.compile(r"^\s*(?:image|audio|video|font)/|application/(?:pdf|zip|octet-stream|gzip|x-)", re.I)


def _looks_binary(html: bytes | str, content_type: str | None) -> bool:
    """Images, PDFs, archives: many control bytes in the first 4 KB, or a binary Content-Type."""
    if content_type and _BINARY_TYPES.search(content_type):
        return True
    sample = html[:4096]
    if not sample:
        return False
    if isinstance(sample, str):
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    else:
        sample = bytes(sample)
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM
            return False
        controls = sum(1 for ch in sample if ch < 32 and ch not in (9, 10, 13, 12))
    return controls > max(8, len(sample) // 50)


def _parse(html: str) -> HtmlElement | None:
    try:
        doc = lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None
    return doc


def _to_text(html: bytes | str, content_type: str | None) -> str:
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html[:MAX_HTML_BYTES])
        text, _enc = decode_html(data, content_type)
    else:
        text = html if len(html) <= MAX_HTML_BYTES else html[:MAX_HTML_BYTES]
    text = _CONTROL.sub("", text.replace("\x00", ""))
    # A page cut mid-tag: drop the dangling "<...".
    lt = text.rfind("<", max(0, len(text) - 4096))
    if lt != -1 and text.find(">", lt) == -1:
        text = text[:lt]
    return text


def _prose_chars(w: _Walker) -> int:
    """Characters of prose on the whole page, boilerplate boxes included (see :mod:`.second_opinion`)."""
    return sum(len(b.text) for b in w.blocks if is_prose_block(b.text, b.link_len))


def _page_text(w: _Walker) -> str:
    out = []
    n = 0
    for b in w.blocks:
        out.append(b.text)
        n += len(b.text)
        if n > 20000:
            break
    return "\n".join(out)


def _flatten_data_tables(root: HtmlElement) -> None:
    """Make the cells of data tables inline, so that each row is one block ("1 Kyle Busch 5040 5")."""
    for table in root.iter("table"):
        cells = []
        for el in table.iter():
            tag = el.tag
            if el is table or not isinstance(tag, str):
                continue
            if tag in _TABLE_STRUCTURE:
                break
            if tag == "td" or tag == "th":
                cells.append(el)
        else:
            for el in cells:
                el.tag = _CELL


def _extract_blocks(doc: HtmlElement) -> tuple[_Walker, int, int]:
    etree.strip_elements(doc, *_STRIP_TAGS, with_tail=False)
    _flatten_data_tables(doc)
    body = doc.find("body")
    root = body if body is not None else doc
    w = _Walker()
    w.walk(root)
    page_words = 0
    link_words = 0
    for b in w.blocks:
        n = len(b.text)
        page_words += n
        link_words += b.link_len
    return w, page_words // 6, link_words // 6


_ABOUT_HEADING = re.compile(r"^about\s+(?:us|the authors?|([A-Z0-9][^.!?]{1,60}?))\s*:?$", re.IGNORECASE)
_ORG_SUFFIX = r"(?:,?\s+(?:inc|ltd|llc|plc|ag|sa|se|nv|corp|corporation|group|gmbh|co)\.?)?"
_COMPANY_VERB = (
    r"(?:[’']s)?(?:\s*\([^)]{1,60}\))?" + _ORG_SUFFIX + r",?\s+(?:is|are)\s+(?:a|an|the|one of|headquartered|based|"
    r"listed|committed|dedicated|focused|traded|privately)\b"
)
_BIO_VERB = re.compile(
    r"^(?:[’']s?\s+(?:book|latest|new|novel)\b|\s+(?:is|was|has been|covers|writes|reports)\b)", re.IGNORECASE
)


def _org_names(site_name: str, url: str) -> list[str]:
    """Lower-case names the publishing organisation goes by: site name (without a TLD) and host label."""
    names = []
    for value in (site_name, urlsplit(url).hostname or ""):
        value = value.strip().lower().removeprefix("www.")
        if not value:
            continue
        names.append(value)
        if re.fullmatch(r"[\w-]+(?:\.[\w-]+)+", value):
            labels = value.split(".")
            core = (
                labels[-3]
                if len(labels) >= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov")
                else labels[-2]
            )
            names.append(core)
    return [n for n in dict.fromkeys(names) if len(n) >= 3]


_FOUNDED = re.compile(r"^(?:founded in \d{4},\s*)?(?:the )?", re.IGNORECASE)
_COMPANY_VERB_RE = re.compile(_COMPANY_VERB, re.IGNORECASE)


def _describes_org(text: str, orgs: list[str]) -> bool:
    """The paragraph describes the publisher: "(Founded in 1990, )(the )Acme is a global provider of..."."""
    head = _FOUNDED.match(text)
    at = head.end() if head else 0
    low = text[at : at + 200].lower()
    return any(low.startswith(o) and _COMPANY_VERB_RE.match(text, at + len(o)) for o in orgs)


def _separated(kept: list[_Block], i: int) -> bool:
    """Block i starts a section of its own: after an <hr>, or in another container than the story before it."""
    return kept[i].after_rule or (i > 0 and kept[i].group != kept[i - 1].group)


def _cut_tail(kept: list[_Block], orgs: list[str], authors: list[str]) -> list[_Block]:
    """Drop press-release "About <company>" sections and author bio lines at the end of the story.

    Only the last few blocks in the second half of the text are looked at:
    - when it starts a section of its own (after an <hr>, or in another container than the story
      before it; text inside the story's own container is kept as published), an "About X" heading (X a name that the next paragraph starts with, the publisher, "us" or "the
      author") or a paragraph describing the publisher ("Acme is a global provider of...", "Founded in
      1990, Acme is...") ends the story: it and everything after it go;
    - a short paragraph starting with an author's name ("Jane Doe is a reporter...", "Jane Doe's book...")
      is a bio and goes.
    """
    n = len(kept)
    if n < 3:
        return kept
    lo = max(n // 2, n - 6)
    for i in range(lo, n):
        b = kept[i]
        if b.post:
            continue
        text = b.text
        if len(text) < 80:
            m = _ABOUT_HEADING.match(text)
            if m:
                name = m.group(1)
                nxt = kept[i + 1].text if i + 1 < n else ""
                if _separated(kept, i) and (
                    name is None
                    or name.lower() in orgs
                    or (name[0].isupper() and nxt.startswith(name.split()[0]) and len(name.split()[0]) >= 3)
                ):
                    return kept[:i]
        if orgs and len(text) < 1500 and _describes_org(text, orgs) and _separated(kept, i):
            return kept[:i]
    if authors:
        lo = max(n // 2, n - 3)
        out = kept[:lo]
        for b in kept[lo:]:
            if (
                not b.post
                and len(b.text) < 400
                and any(
                    len(a.split()) >= 2 and b.text.startswith(a) and _BIO_VERB.match(b.text[len(a) :]) for a in authors
                )
            ):
                continue
            out.append(b)
        return out
    return kept


# Headings that open a list of teasers ("More from Jane Doe", "Latest News", "You may also like")...
_TEASER_HEADING = re.compile(
    r"^(?:more (?:from|on|in|about|by|stories|news|articles|posts|like this)\b.{0,60}|"
    r"latest(?: news| stories| articles| posts| videos)?|related(?: articles?| stories| posts| news| content| reading| coverage)?|"
    r"read (?:next|this next)\b.{0,40}|(?:you|we think you) (?:may|might|will|would) (?:also )?(?:like|enjoy|love|be interested).{0,40}|"
    r"recommended(?: for you| reading| stories| articles)?|most (?:popular|read|viewed|shared|recent)(?: stories| articles| posts)?|"
    r"trending(?: now| stories| articles)?|top stories|popular (?:stories|articles|posts|now)|what to read next|"
    r"editor'?s picks|in other news|around the web|from (?:our|the) partners|up next|keep reading)\s*[:.!]?$",
    re.IGNORECASE,
)
# ... and headings that open the comment thread.
_COMMENTS_HEADING = re.compile(
    r"^(?:\d+ (?:comments?|responses|replies)|comments?(?: \(\d+\))?|leave a (?:reply|comment)|"
    r"join the (?:conversation|discussion)|(?:post|add|write) a comment)\s*[:.!]?$",
    re.IGNORECASE,
)


def _is_prose(b: _Block) -> bool:
    return len(b.text) >= 150 and b.link_len < 0.3 * len(b.text) and _is_sentence_like(b)


def _cut_teasers(kept: list[_Block]) -> list[_Block]:
    """Drop teaser lists (a short heading such as "More from Jane Doe" or "Latest News" and the items under
    it, up to the next paragraph of prose) and, once the story has had some prose, a comment thread (from
    a heading such as "33 Comments" or "Leave a Reply" to the end)."""
    n = len(kept)
    out: list[_Block] = []
    prose = 0  # characters of prose before the current block
    i = 0
    while i < n:
        b = kept[i]
        if not b.post and not b.boiler and len(b.text) < 70:
            if prose >= 1000 and _COMMENTS_HEADING.match(b.text):
                break
            if _TEASER_HEADING.match(b.text):
                i += 1
                while i < n and not kept[i].post and not _is_prose(kept[i]):
                    i += 1
                continue
        if not b.boiler and _is_prose(b):
            prose += len(b.text)
        out.append(b)
        i += 1
    return out


_REPEAT_MIN_CHARS = 150


def _drop_second_copy(kept: list[_Block]) -> list[_Block]:
    """Drop long paragraphs that repeat, in the same order, a run of two or more met earlier: a second
    copy of the story (desktop and mobile layouts). A single repeated line (a meal plan naming the same
    dish twice, a pull quote) is kept."""
    first: dict[str, int] = {}
    copy_of = [-1] * len(kept)
    for i, b in enumerate(kept):
        if len(b.text) >= _REPEAT_MIN_CHARS and not b.post:
            j = first.setdefault(b.text, i)
            if j != i:
                copy_of[i] = j
    n = len(kept)

    def in_run(i: int) -> bool:
        j = copy_of[i]
        return j >= 0 and (
            (i + 1 < n and copy_of[i + 1] == j + 1) or (i > 0 and copy_of[i - 1] >= 0 and copy_of[i - 1] == j - 1)
        )

    return [b for i, b in enumerate(kept) if not in_run(i)]


def _compose(w: _Walker, title: str, orgs: list[str] | None = None, authors: list[str] | None = None) -> str:
    title_key = _key(title)
    w.title_key = title_key
    start, end = _select(w)
    # teaser and comment headings are looked for before _keep, which drops such lines
    story = _cut_teasers(w.blocks[start:end])
    kept = [b for b, titles in zip(story, _section_titles(story), strict=True) if _keep(b, title_key, titles)]
    kept = _trim(kept)
    if orgs or authors:
        kept = _trim(_cut_tail(kept, orgs or [], authors or []))
    kept = _drop_second_copy(kept)
    lines: list[str] = []
    i = 0
    while i < len(kept):
        b = kept[i]
        if b.post:
            j = i
            while j < len(kept) and kept[j].post:
                j += 1
            lines.extend(_post_lines(kept[i:j]))
            i = j
            continue
        lines.append(b.text)
        i += 1
    return unicodedata.normalize("NFC", "\n".join(lines))


_LD_MIN_WORDS = 100


def _prefer_ld_body(body_text: str, ld_body: str) -> str:
    """The JSON-LD articleBody when the page's HTML shows much less of it (a script-rendered page whose
    story sits only in its markup); otherwise the text found in the HTML, which keeps the paragraphs."""
    if not ld_body:
        return body_text
    ld_words = len(_WORD.findall(ld_body))
    if ld_words < _LD_MIN_WORDS or len(_WORD.findall(body_text)) >= 0.5 * ld_words:
        return body_text
    if "<" in ld_body:  # some sites put HTML in it
        ld_body = _TAG_RE.sub(" ", ld_body)
    ld_body = unescape(ld_body)
    lines = (_norm(line) for line in ld_body.replace("\r", "\n").split("\n"))
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


def extract_article(
    html: bytes | str,
    url: str,
    *,
    content_type: str | None = None,
    feed_id: str = "",
    outlet: str = "",
) -> Article:
    """Extract the main text and metadata of one fetched page. Never raises on bad input."""
    if _looks_binary(html, content_type):
        return Article(
            url=url,
            canonical_url=canonicalize_url(url) or url,
            feed_id=feed_id,
            outlet=outlet,
            not_article_reason="not_html",
        )
    text_html = _to_text(html or b"", content_type)
    meta = PageMeta()
    body_text = ""
    page_words = link_words = 0
    page_text = ""
    prose_chars = 0
    doc = _parse(text_html) if text_html.strip() else None
    if doc is not None:
        try:
            meta = extract_metadata(doc, url)
        except (ValueError, TypeError, RecursionError):
            meta = PageMeta()
        w, page_words, link_words = _extract_blocks(doc)
        orgs = _org_names(meta.site_name, url)
        body_text = _compose(w, meta.title, orgs, meta.authors)
        page_text = _page_text(w)
        prose_chars = _prose_chars(w)
    if len(body_text) < 200 and text_html:
        # libxml2 gives up below ~256 levels of nesting; if the page clearly had more text than we
        # saw, flatten the wrapper tags and parse again.
        visible = _TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", text_html[:MAX_HTML_BYTES]))
        if len(visible.split()) > 2 * page_words + 5:
            flat = _parse(_WRAPPER_TAGS.sub(" ", text_html))
            if flat is not None:
                w2, pw2, lw2 = _extract_blocks(flat)
                alt = _compose(w2, meta.title, _org_names(meta.site_name, url), meta.authors)
                if len(alt) > len(body_text):
                    body_text, page_words, link_words = alt, pw2, lw2
                    page_text = _page_text(w2)
                    prose_chars = _prose_chars(w2)
    html_text = body_text
    body_text = _prefer_ld_body(body_text, meta.ld_article_body)
    if not meta.canonical_url:
        meta.canonical_url = canonicalize_url(url)
    reason = _not_article_reason(body_text, page_text, meta, page_words, link_words)
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
