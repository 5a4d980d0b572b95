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


def drop_second_copy(kept: list[Block]) -> list[Block]:
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
