"""Class and id names that mark boilerplate, story bodies, social posts and hidden text.

The patterns never span whitespace, so a class string's flags are those of its tokens, cached per
token and per string. A new ASCII token is lower-cased and matched by case-sensitive copies of the
patterns, which CPython's engine runs about four times faster than case-folding ones (the flags are the
same on every class and id token of the dev pages; a test checks it).
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

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
    r"fb-xfbml|fb-post|bluesky-embed|reddit-embed|(?<![\w-])x-post|embedded-post|social-embed",
    re.IGNORECASE,
)
_INLINE_JUNK = re.compile(r"rollover|hovercard|tooltip|sr-only|visually-?hidden|screen-?reader|offscreen", re.I)
_POPUP = re.compile(r"rollover|hovercard|tooltip", re.I)  # a popup wrapped around the link that shows it
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


# Names of page-builder boxes that hold boilerplate as often as parts of a story (a product card in a
# buying guide, a recipe card, a promo box with a paragraph of its own): weak evidence, see WEAK.
_WEAK_NEG = re.compile(r"widget|card|promo|callout", re.IGNORECASE)
WEAK = 32  # attr_flags bit: boilerplate by weak names only

# CSS layout utilities name where a box sits or how it is drawn ("pc-paddingBottom-16", "border-bottom",
# "bottom-0", "spacingTightbottom"), not what it holds; "bottom" and "below" count only outside them.
_LAYOUT = re.compile(
    r"(?:padding|margin|border|spacing[a-z]*|align|position|float|inset|shape|arrow|edge|line)[-_]?(?:bottom|below)|"
    r"(?:^|[-_])bottom[-_]?\d+(?=$|[-_])",
    re.IGNORECASE,
)

_FLAG_CACHE: dict[str, int] = {}
_TOKEN_FLAGS: dict[str, int] = {}
_POS_FLAG = 16


def _lower_patterns(*patterns: re.Pattern[str]) -> tuple[re.Pattern[str], ...]:
    """The same patterns without IGNORECASE, for lower-cased ASCII tokens: about 4x faster in CPython's
    engine, which tries every alternative at every position and folds case on each comparison."""
    return tuple(re.compile(p.pattern) for p in patterns)


_PATTERNS = (_SOCIAL_CLASS, _NEG, _INLINE_JUNK, _POPUP, _POS, _WEAK_NEG)
_ASCII_PATTERNS = _lower_patterns(*_PATTERNS)


def _compute_token_flags(token: str) -> int:
    if token.isascii():  # ASCII lower-casing is exact; other scripts keep the case-folding patterns
        token = token.lower()
        social, neg, junk, popup, pos, weak = _ASCII_PATTERNS
    else:
        social, neg, junk, popup, pos, weak = _PATTERNS
    flags = (1 if social.search(token) else 0) | (_POS_FLAG if pos.search(token) else 0)
    named = _LAYOUT.sub(" ", token) if "bottom" in token or "below" in token or not token.isascii() else token
    if neg.search(named):  # the inline-junk and popup names are all negative names too
        flags |= 2 | (4 if junk.search(token) else 0) | (8 if popup.search(token) else 0)
        if neg.search(weak.sub(" ", named)):
            flags |= 64
    return flags


def _token_flags(token: str) -> int:
    """Flags of one class or id token: 1 social, 2 negative, 4 inline junk, 8 popup, 16 positive, 64 strong negative."""
    flags = _TOKEN_FLAGS.get(token)
    if flags is None:
        flags = _compute_token_flags(token)
        if len(_TOKEN_FLAGS) > 100_000:
            _TOKEN_FLAGS.clear()
        _TOKEN_FLAGS[token] = flags
    return flags


def attr_flags(attrs: str) -> int:
    """Bit flags for a class+id string: 1 social post, 2 boilerplate, 4 inline junk, 8 popup, 32 (WEAK)
    boilerplate by weak names only (cached per string).

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
            if not any_flags & 64:
                flags |= WEAK
            if any_flags & 4:
                flags |= any_flags & 8
        if len(_FLAG_CACHE) > 100_000:
            _FLAG_CACHE.clear()
        _FLAG_CACHE[attrs] = flags
    return flags


def attr_text(el: HtmlElement) -> str:
    c = el.get("class")
    i = el.get("id")
    if c and i:
        return c + " " + i
    return c or i or ""


def shows_link(el: HtmlElement) -> bool:
    """A popup wrapper (hovercard, rollover) whose visible part is the link it starts with, or a link itself."""
    if el.tag == "a":
        return True
    if el.text and el.text.strip():
        return False
    children = list(el)
    if not children or children[0].tag != "a":
        return False
    # the wrapper holds the link and, after it, the popup panel itself
    return any(_POPUP.search(attr_text(c)) for c in children[1:] if isinstance(c.tag, str))


# Hidden boxes that a click unfolds (accordion panels, tabs, FAQ answers) hold page text, not boilerplate.
_FOLDED = re.compile(r"accordion|collaps|tab-?pane|tab-?panel|faq|toggle|expand|disclosure", re.IGNORECASE)


def folded(el: HtmlElement) -> bool:
    """A hidden element that is a folded panel: role tabpanel/region, or a panel-like class on it or its parent."""
    if el.get("role") in ("tabpanel", "region"):
        return True
    if _FOLDED.search(attr_text(el)):
        return True
    parent = el.getparent()
    return parent is not None and bool(_FOLDED.search(attr_text(parent)))
