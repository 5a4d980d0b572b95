"""Teaser lists, comment threads and second copies of the story inside the main container."""

from __future__ import annotations

import re

from pipeline.extract.blocks import Block
from pipeline.extract.lines import is_prose

# Headings that open a list of teasers ("More from Jane Doe", "Latest News", "You may also like")...
_TEASER_HEADING = re.compile(
    r"^(?:more (?:from|on|in|about|by|stories|news|articles|posts|like this)\b.{0,60}|"
    r"latest(?: news| stories| articles| posts| videos)?|related(?: blog)?(?: articles?| stories| posts| news| content| reading| coverage)?|"
    r"read (?:next|this next)\b.{0,40}|(?:you|we think you) (?:may|might|will|would) (?:also )?(?:like|enjoy|love|be interested).{0,40}|"
    r"recommended(?: for you| reading| stories| articles)?|most (?:popular|read|viewed|shared|recent)(?: stories| articles| posts)?|"
    r"trending(?: now| stories| articles)?|top stories|popular (?:stories|articles|posts|now)|what to read next|"
    r"editor'?s picks|in other news|around the web|from (?:our|the) partners|up next|keep reading|"
    r"recent (?:posts|articles|stories)\b.{0,40}|latest (?:posts|articles|stories) (?:by|from) .{1,60})\s*[:.!]?$",
    re.IGNORECASE,
)
# ... and headings that open the comment thread.
_COMMENTS_HEADING = re.compile(
    r"^(?:\d+ (?:comments?|responses|replies)|comments?(?: \(\d+\))?|leave a (?:reply|comment)|"
    r"join the (?:conversation|discussion)|(?:post|add|write) a comment)\s*[:.!]?$",
    re.IGNORECASE,
)
# ... and headings that open the list of sources at the end of the story.
_SOURCES_HEADING = re.compile(
    r"^(?:references|(?:view )?(?:article )?sources|bibliography|citations|works cited|footnotes|"
    r"sources (?:and|&) references|references (?:and|&) sources|"
    r"how we (?:reviewed|sourced|fact[- ]checked) this (?:article|story|post))\s*[:.]?$",
    re.IGNORECASE,
)


def cut_teasers(kept: list[Block]) -> list[Block]:
    """Drop teaser lists (a short heading such as "More from Jane Doe" or "Latest News" and the items under
    it, up to the next paragraph of prose that is not the excerpt under a linked title) and, once the story has had some prose, a comment thread (from
    a heading such as "33 Comments" or "Leave a Reply" to the end)."""
    n = len(kept)
    out: list[Block] = []
    prose = 0  # characters of prose before the current block
    i = 0
    while i < n:
        b = kept[i]
        if not b.post and not b.boiler and len(b.text) < 70:
            if prose >= 1000 and (_COMMENTS_HEADING.match(b.text) or _SOURCES_HEADING.match(b.text)):
                break
            if _TEASER_HEADING.match(b.text):
                i += 1
                card = -1  # container of the last linked title: a teaser card whose excerpt goes too
                while i < n and not kept[i].post and (not is_prose(kept[i]) or kept[i].group == card):
                    if kept[i].heading and kept[i].link_len > 0.5 * len(kept[i].text):
                        card = kept[i].group
                    i += 1
                continue
        if not b.boiler and is_prose(b):
            prose += len(b.text)
        out.append(b)
        i += 1
    return out


# A bare date line, as teaser cards show under or over their linked title.
_DATE_LINE = re.compile(
    r"^(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|"
    r"\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,? \d{4}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d+ (?:minutes?|hours?|days?|weeks?|months?) ago)$",
    re.IGNORECASE,
)
_CARD_REACH = 2  # blocks between a card's linked title and its date
_CARD_GAP = 10  # blocks from one dated card's title to the next: room for two cards without a date between
_DATED_CARDS_MIN = 3
_TAIL_PROSE_MAX = 2  # paragraphs after the last dated title: its excerpt and one more card's
_TITLE_MIN_CHARS = 20  # shorter linked headings are section labels ("Blog", "News")


def _linked_title(b: Block) -> bool:
    return b.heading and not b.post and len(b.text) >= _TITLE_MIN_CHARS and b.link_len > 0.5 * len(b.text)


def cut_dated_teasers(kept: list[Block]) -> list[Block]:
    """Cut a trailing run of teaser cards that has no heading of its own: three or more linked titles with
    a bare date beside them ("Dec 19, 2025" over or under the title), each within a few blocks of the
    next, that run to the end of the story (at most two paragraphs after the last), once the
    story has had some prose. A dated linked title is how a site lists its other stories; the story's own
    title is not a link. Single related-story cards inside the story are left to the other rules."""
    dated: list[int] = []
    prose = 0
    for i, b in enumerate(kept):
        if not b.boiler and is_prose(b):
            prose += len(b.text)
        if prose < 1000 or not _linked_title(b):
            continue
        near = kept[max(0, i - _CARD_REACH) : i + _CARD_REACH + 1]
        if any(len(x.text) <= 30 and _DATE_LINE.match(x.text) for x in near):
            dated.append(i)
    if len(dated) < _DATED_CARDS_MIN:
        return kept
    if sum(1 for b in kept[dated[-1] + 1 :] if not b.boiler and is_prose(b)) > _TAIL_PROSE_MAX:
        return kept
    first = len(dated) - 1  # the run of cards that ends the story, walking back
    while first > 0 and dated[first] - dated[first - 1] <= _CARD_GAP:
        first -= 1
    if len(dated) - first < _DATED_CARDS_MIN:
        return kept
    title = start = dated[first]
    # the card's label and date lines over its title go with it
    while start > 0 and title - start < _CARD_REACH and not is_prose(kept[start - 1]) and not kept[start - 1].heading:
        start -= 1
    return kept[:start]


_REPEAT_MIN_CHARS = 150
_REPEAT_SHORT_CHARS = 60  # shorter paragraphs count as a copy only in a run of _REPEAT_SHORT_RUN or more
_REPEAT_SHORT_RUN = 3


def drop_second_copy(kept: list[Block]) -> list[Block]:
    """Drop paragraphs that repeat, in the same order, a run met earlier: a second copy of the story
    (desktop and mobile layouts). A run is two or more long paragraphs, or three or more of any length
    but short lines. A single repeated line (a meal plan naming the same dish twice, a pull quote) is kept."""
    first: dict[str, int] = {}
    n = len(kept)
    copy_of = [-1] * n
    for i, b in enumerate(kept):
        if len(b.text) >= _REPEAT_SHORT_CHARS and not b.post:
            j = first.setdefault(b.text, i)
            if j != i:
                copy_of[i] = j
    drop = [False] * n
    i = 0
    while i < n:
        if copy_of[i] < 0:
            i += 1
            continue
        j = i + 1
        while j < n and copy_of[j] >= 0 and copy_of[j] == copy_of[j - 1] + 1:
            j += 1
        run = range(i, j)
        if len(run) >= _REPEAT_SHORT_RUN or (
            len(run) >= 2 and all(len(kept[k].text) >= _REPEAT_MIN_CHARS for k in run)
        ):
            for k in run:
                drop[k] = True
        i = j
    return [b for i, b in enumerate(kept) if not drop[i]]
