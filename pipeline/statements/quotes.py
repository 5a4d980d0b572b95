"""Quote-mark spans and sentence boundaries, on plain article text.

Pure functions over strings and character offsets. Handles straight, curly and mixed quote
marks, doubled apostrophes (''like this''), quotes left open at a paragraph break (the
newswire convention for multi-paragraph quotes) and a closing mark with no opening one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN_MARKS = "“„«‟"
CLOSE_MARKS = "”»"
STRAIGHT = '"'
ALL_DOUBLE = OPEN_MARKS + CLOSE_MARKS + STRAIGHT
# characters that may stand before an opening mark
_BEFORE_OPEN = set(" \t\n([{—–-/:;,")
_TRAIL_PUNCT = ".,;:!?"
_FORMAT_CHARS = set("\u202a\u202b\u202c\u202d\u202e\u200e\u200f\u200b\ufeff\u2066\u2067\u2068\u2069")


@dataclass
class Paragraph:
    start: int
    end: int


@dataclass
class Quote:
    start: int  # offset of the opening mark (or of the paragraph when there is none)
    end: int  # offset just after the closing mark (or the paragraph end when left open)
    inner_start: int
    inner_end: int
    opened: bool = True  # has an opening mark
    closed: bool = True  # has a closing mark
    para: int = 0


def paragraphs(text: str) -> list[Paragraph]:
    """Non-empty lines of the text, with offsets (surrounding whitespace trimmed)."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.start(), m.end()
        while s < e and (text[s].isspace() or text[s] in _FORMAT_CHARS):
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append(Paragraph(s, e))
    return out


# Quote marks: '' and `` (doubled) or one of “”„«»‟". Written as one character class first, then what
# must follow that character, so that the regex engine skips ahead to the next candidate mark (a
# choice of alternatives cannot be skipped to); the matches are those of r"''|``|[“”„«»‟\"]".
_MARK_RE = re.compile(r"[\"'`“”„«»‟](?:(?<=')'|(?<=`)`|(?<=[“”„«»‟\"]))")


def _classify(text: str, i: int, j: int, ps: int, pe: int) -> str:
    """'open', 'close' or 'either' for the mark text[i:j] inside paragraph [ps, pe)."""
    mark = text[i:j]
    prev = text[i - 1] if i > ps else " "
    nxt = text[j] if j < pe else " "
    if prev in _FORMAT_CHARS:
        prev = " "
    if mark in OPEN_MARKS or mark == "``":
        # '... Mostly False.“' : an opening mark used to close
        if (prev.isalnum() or prev in _TRAIL_PUNCT) and (nxt.isspace() or j == pe):
            return "close"
        return "open"
    if mark in CLOSE_MARKS:
        # '”Isis declares ...' : a closing mark used to open a paragraph or a quote
        if (prev.isspace() or prev in "([—–") and (nxt.isalnum() or nxt in "‘'"):
            return "open"
        return "close"
    before_open = prev in _BEFORE_OPEN or i == ps
    after_close = nxt.isspace() or nxt in _TRAIL_PUNCT + ")]}—–-'’" or j == pe
    if before_open and not after_close:
        return "open"
    if after_close and not before_open:
        return "close"
    return "either"


def find_quotes(text: str, paras: list[Paragraph] | None = None) -> list[Quote]:
    """All double-quoted spans, paragraph by paragraph."""
    paras = paras if paras is not None else paragraphs(text)
    quotes: list[Quote] = []
    for pi, p in enumerate(paras):
        marks = []
        for m in _MARK_RE.finditer(text, p.start, p.end):
            if m.group() == "''":
                # doubled apostrophes: only a quote mark at a word edge, not inside words
                prev = text[m.start() - 1] if m.start() > p.start else " "
                nxt = text[m.end()] if m.end() < p.end else " "
                if prev.isalnum() and nxt.isalnum():
                    continue
            marks.append((m.start(), m.end(), _classify(text, m.start(), m.end(), p.start, p.end)))
        open_at = None  # (start, end) of the pending opening mark
        for k, (s, e, kind) in enumerate(marks):
            if open_at is None:
                if kind == "close" and k == 0:
                    # closing mark with nothing open: the quote began at the paragraph start
                    if s - p.start > 1:
                        quotes.append(Quote(p.start, e, p.start, s, opened=False, closed=True, para=pi))
                    continue
                if kind in ("open", "either"):
                    open_at = (s, e)
                continue
            # inside a quote
            if kind == "open" and text[s] != STRAIGHT:
                # a second opening mark; treat as a typo for a closing mark when it ends a word
                nxt = text[e] if e < p.end else " "
                if not (nxt.isspace() or nxt in _TRAIL_PUNCT):
                    continue
            if kind == "open" and text[s] == STRAIGHT:
                continue
            os_, oe = open_at
            if s > oe:
                quotes.append(Quote(os_, e, oe, s, para=pi))
            open_at = None
        if open_at is not None:
            os_, oe = open_at
            if p.end - oe > 1:
                quotes.append(Quote(os_, p.end, oe, p.end, opened=True, closed=False, para=pi))
    return quotes


def mask_quotes(text: str, quotes: list[Quote]) -> str:
    """The text with quote interiors replaced by 'q' (same length, so offsets hold).

    The last interior character is kept when it is sentence punctuation, so sentence
    boundaries after a quote ("... them." Next) can still be seen.
    """
    chars = list(text)
    for q in quotes:
        # every interior character but line breaks becomes "q": a slice at a time, not a loop per character
        # (chars keeps text's line breaks where they were, so splitting text's interior finds them)
        chars[q.inner_start : q.inner_end] = "\n".join(
            "q" * len(part) for part in text[q.inner_start : q.inner_end].split("\n")
        )
        last = q.inner_end - 1
        if last >= q.inner_start and text[last] in ".!?,":
            chars[last] = text[last]
    return "".join(chars)


# fmt: off
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "capt", "st", "jr", "sr",
    "prof", "rev", "hon", "pres", "atty", "supt", "cmdr", "adm", "maj", "u.s", "u.n", "u.k", "d.c",
    "inc", "corp", "co", "ltd", "no", "vs", "etc", "jan", "feb", "mar", "apr", "aug", "sept", "sep",
    "oct", "nov", "dec", "a.m", "p.m", "ft", "mt", "e.g", "i.e", "r", "d", "i",
}
# fmt: on

# A sentence end: its full stops, then closing marks, then a capital (or quote, digit, dash) after
# spaces, or the end. Written to start with a plain character class (not a repeat, nor a choice of
# two), so that the regex engine skips ahead to the next [.!?] instead of trying the whole pattern
# at every character; the two ends can only follow the same greedy run of marks, so the matches are
# those of "[.!?]+[...]*(?=\s+[...])|[.!?]+[...]*\s*$".
_BOUNDARY = re.compile(r"[.!?][.!?]*[\"”’'»)]*(?:(?=\s+[\"“‘'«(\[A-Z0-9—–-])|\s*$)")


_WORD_BEFORE = re.compile(r"([\w.]+)$")


def sentences(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside [start, end) of the masked text (quotes already masked)."""
    out = []
    s = start
    for m in _BOUNDARY.finditer(masked, start, end):
        p = m.start()
        # abbreviation or initial before the dot?
        if masked[p] == ".":
            w = _WORD_BEFORE.search(masked, max(start, p - 12), p)
            word = w.group(1).lower() if w else ""
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        e = m.end()
        if e - s > 0:
            out.append((s, e))
        s = e
        while s < end and masked[s].isspace():
            s += 1
    if s < end:
        out.append((s, end))
    return out
