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
    r"recent (?:posts|articles|stories)\b.{0,40})\s*[:.!]?$",
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
    r"^(?:references|sources|bibliography|citations|works cited|footnotes|sources and references|"
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
