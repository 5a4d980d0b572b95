"""Per-block filters inside the main container: link lists, boilerplate lines, captions, plugs, pitches."""

from __future__ import annotations

import re

from pipeline.extract.blocks import Block, is_sentence_like, word_key

_LINK_DENSE = 0.8  # a block with more link text than this is a link list

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
    r"\((?:image|photo|picture|pic|pictured|credit|photograph|foto)s?(?: credit)?\s*:[^)]*\)\s*$|^image (?:copyright|caption)\b|"
    # a bare photo credit: "Getty Images / Jane Doe", "Shutterstock via Acme"
    r"^(?:(?:photo|image)s?(?: credit)?:?\s*)?(?:getty images|shutterstock|istock(?:photo)?|alamy|unsplash|pexels)"
    r"(?:\s*[/|]\s*[^.!?]{0,80}|\s+(?:via|for|plus)\s+[^.!?]{0,60})?$",
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


def is_prose(b: Block) -> bool:
    return len(b.text) >= 150 and b.link_len < 0.3 * len(b.text) and is_sentence_like(b)


def _link_dense(b: Block) -> bool:
    n = len(b.text)
    return n > 0 and b.link_len / n > _LINK_DENSE and n < 400


def section_titles(story: list[Block]) -> list[bool]:
    """Which blocks are headings over a section of prose: the next paragraph of prose after the heading
    sits in the same container (a linked heading in a list box of its own is a teaser)."""
    out = [False] * len(story)
    next_group = -1  # container of the next paragraph of prose, scanning backwards
    for i in range(len(story) - 1, -1, -1):
        b = story[i]
        if b.heading:
            out[i] = b.group == next_group
        elif not b.boiler and is_prose(b):
            next_group = b.group
    return out


_ENTRY_TAGS = frozenset(("li", "dt", "dd"))
_ENTRY_LIST_MIN = 4  # items in a list before its link share says anything
_ENTRY_LIST_MAX_LINK = 0.35  # a list with less link text than this is a list of text, not of links
_LINK_RUN = 3  # this many link-dense blocks in a row are a list of links
_INTRO_RUN_MAX = 6  # links announced by a line ending in ":" are story text up to this many


def linked_entries(story: list[Block]) -> list[bool]:
    """Which link-dense blocks are the linked names of entries in a list of text (a directory of clinics
    with address and phone under each linked name, a reading list with its authors): list items whose
    list holds little link text overall, and not in a run of three or more link-dense blocks (a list
    of links, such as teasers, whatever surrounds it)."""
    text: dict[int, int] = {}
    links: dict[int, int] = {}
    count: dict[int, int] = {}
    for b in story:
        if b.tag in _ENTRY_TAGS and not b.boiler:
            text[b.group] = text.get(b.group, 0) + len(b.text)
            links[b.group] = links.get(b.group, 0) + b.link_len
            count[b.group] = count.get(b.group, 0) + 1
    text_lists = {g for g, n in count.items() if n >= _ENTRY_LIST_MIN and links[g] < _ENTRY_LIST_MAX_LINK * text[g]}
    out = [b.tag in _ENTRY_TAGS and b.group in text_lists and _link_dense(b) for b in story]
    dense = [_link_dense(b) for b in story]
    i = 0
    while i < len(story):
        j = i
        while j < len(story) and dense[j]:
            j += 1
        if j - i >= _LINK_RUN:
            out[i:j] = [False] * (j - i)
        if j > i and j - i <= _INTRO_RUN_MAX and i > 0 and j < len(story) and _introduces(story[i - 1]):
            # "Buying options:" over a few links, with the story going on after them
            out[i:j] = [not b.boiler for b in story[i:j]]
        i = max(j, i + 1)
    return out


# An intro that points elsewhere ("More:", "Related stories:", "Read also:") heads links to other stories.
_ELSEWHERE = re.compile(r"\b(?:more|related|also|read|see|other|latest|popular|recommended|trending)\b", re.IGNORECASE)


def _introduces(b: Block) -> bool:
    """A short line of two or more words that announces what follows ("Top picks:", "Where to buy:"),
    not other stories ("More:", "Related coverage:")."""
    return (
        not b.boiler
        and len(b.text) < 120
        and b.text.endswith(":")
        and len(b.text.split()) >= 2
        and not _link_dense(b)
        and not _ELSEWHERE.search(b.text)
    )


def keep_block(b: Block, title_key: str, section_title: bool = False) -> bool:
    """Whether a block of the main container is story text. ``section_title``: a heading with more prose
    after it, which may be a link ("1. Harvard Business School" in a ranking, a product reviewed)."""
    if b.post:
        return True
    if b.boiler:
        return False
    n = len(b.text)
    if b.tag == "h1":
        return False
    if title_key and b.heading and word_key(b.text) == title_key:
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


def trim_edges(kept: list[Block]) -> list[Block]:
    """Drop short non-sentence lines at the edges (bylines, datelines, tag lists)."""

    def weak(b: Block) -> bool:
        return not b.post and len(b.text) < 60 and not is_sentence_like(b) and not b.heading and b.tag != "tr"

    i, j = 0, len(kept)
    while i < j and weak(kept[i]):
        i += 1
    while j > i and (weak(kept[j - 1]) or (kept[j - 1].heading and not kept[j - 1].post)):
        j -= 1
    return kept[i:j]
