"""Is a statement new? Identity keys and near-duplicate detection.

A statement's identity is its speaker plus its normalised text (quote marks, whitespace, case
and trailing punctuation folded). A near-repeat is the same quote trimmed, cut with an
ellipsis, lightly edited, or one sentence of an earlier, longer statement (such as a post),
by the same speaker. Only first sightings may trigger "new statement" alerts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from difflib import SequenceMatcher
from typing import NamedTuple

from pipeline.records import Statement

_QUOTES = str.maketrans({c: "" for c in '"“”„‟«»‹›`'} | {"‘": "'", "’": "'", "′": "'"})
_ELLIPSIS = re.compile(r"\s*(?:\.\s?\.\s?\.|…)\s*")
_WORD = re.compile(r"[\w']+")


@functools.lru_cache(maxsize=8192)
def normalise_statement(text: str) -> str:
    """Fold quote marks, whitespace, case and trailing punctuation."""
    t = unicodedata.normalize("NFKC", text)
    t = t.translate(_QUOTES)
    t = re.sub(r"\s+", " ", t).strip().lower()
    t = t.strip(" '")
    t = re.sub(r"[\s.,;:!?'\-–—]+$", "", t)
    return t.strip(" '")


def statement_key(speaker: str, text: str) -> str:
    """Stable key: speaker (figure id or name) + normalised text, hashed."""
    sp = re.sub(r"\s+", " ", (speaker or "").strip().lower())
    raw = f"{sp}\x1f{normalise_statement(text)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


_CONTRACTIONS = [
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'d\b"), " would"),
]


_ELLIPSIS_MARK = "\x00"  # stands for an ellipsis among the words: what the reporter cut


@functools.lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """Normalised words with contractions spelled out, an ellipsis kept as a mark (cached: a statement
    is compared with every earlier one by its speaker)."""
    t = _ELLIPSIS.sub(f" {_ELLIPSIS_MARK} ", normalise_statement(text))
    for rx, rep in _CONTRACTIONS:
        t = rx.sub(rep, t)
    return tuple(re.findall(r"[\w']+|\x00", t))


_NEGATIONS = {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "nowhere"}
_NUMBER_WORDS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion", "trillion", "half",
    "dozen", "first", "second", "third", "percent",
}  # fmt: skip
MAX_REWORDED_RUN = 2  # words in a row of the later text that the earlier one may lack (light rewording)
MAX_REWORDED_SHARE = 0.2


def _meaningful(w: str) -> bool:
    """A word whose change changes what was said: a negation or a number."""
    return w in _NEGATIONS or w in _NUMBER_WORDS or any(c.isdigit() for c in w)


def is_near_repeat(text: str, earlier: str, min_words: int = 5) -> bool:
    """Does `text` say again what `earlier` said? Only when its content is contained in it.

    Allowed: trimming, an ellipsis cut, quote-mark, case and punctuation edits, contractions, and
    light rewording (a word or two swapped). Not allowed: a changed or dropped number, an added or
    removed negation, or content the earlier text lacks (an added sentence). The speaker is checked
    by the caller. Texts shorter than `min_words` words repeat only when identical once normalised.
    """
    na, nb = normalise_statement(text), normalise_statement(earlier)
    if not na or not nb:
        return False
    if na == nb:
        return True
    new, old = _words(text), _words(earlier)
    content = [w for w in new if w != _ELLIPSIS_MARK]
    if len(content) < min_words or len(content) > len(old) + MAX_REWORDED_RUN:
        return False
    old_words = set(old)
    if sum(w not in old_words for w in content) > MAX_REWORDED_SHARE * len(content):
        return False  # most words must be there at all: a cheap test before aligning
    sm = SequenceMatcher(None, new, old, autojunk=False)
    unmatched = 0
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        added = [w for w in new[i1:i2] if w != _ELLIPSIS_MARK]
        dropped = old[j1:j2]
        cut = _ELLIPSIS_MARK in new[i1:i2] or i1 == 0 or i2 == len(new)  # an ellipsis or a trimmed end
        if len(added) > MAX_REWORDED_RUN or any(_meaningful(w) for w in added):
            return False  # new content, or a changed number or negation
        if not cut and any(_meaningful(w) for w in dropped):
            return False  # "will not deport" -> "will deport": a dropped negation or number
        if not cut and len(dropped) > MAX_REWORDED_RUN + len(added):
            return False  # words dropped from the middle with no ellipsis: not the same sentence
        unmatched += len(added)
    return unmatched <= MAX_REWORDED_SHARE * len(content)


def word_set(text: str) -> frozenset[str]:
    """The words `is_near_repeat` looks for in an earlier text (for indexing earlier statements by word)."""
    return frozenset(_words(text))


# Words a search engine's standard analyzer may not index as they stand in `_words`: its English stopwords,
# and what spelling out a contraction produces or leaves behind ("won't" is one indexed word, "will not" here).
_UNSEARCHABLE = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with can have would am do does did were has had could should must might need "
    "you she we who what where how why here let".split()
)
_SEARCHABLE = re.compile(r"[a-z]{3,}")


class SharedWords(NamedTuple):
    """Words to search an earlier text by, and how many of them every near-repeat's earlier text holds."""

    words: list[str]
    at_least: int


# Words asked for beyond the fewest that guarantee one shared word. A speaker with many statements in the
# window has many holding one of those few words, and they can crowd the real repeat out of the search's
# top candidates; asking for at least this many of a few more keeps out texts that cannot be repeats
# (bench/novelty_recall.py: repeats found for 461 of 476 statements instead of 436, same node CPU).
SEARCH_WORDS_BEYOND = 4


def words_a_repeat_shares(text: str, min_words: int = 5) -> SharedWords | None:
    """Words of which every near-repeat's earlier text (`is_near_repeat(text, earlier)`) holds at least
    `at_least`, as a search engine indexes words: the longest searchable ones, SEARCH_WORDS_BEYOND more
    than a repeat may lack (all of them when there are fewer).

    No words when only an identical text repeats it (fewer than `min_words` words: found by its key alone);
    None when there are too few searchable words to say (search with the whole text then).
    """
    content = [w for w in _words(text) if w != _ELLIPSIS_MARK]
    if len(content) < min_words:
        return SharedWords([], 0)
    # is_near_repeat allows at most this many of the words to be missing from the earlier text, so of any
    # n searchable words of this text, an earlier text it repeats holds at least n - may_lack
    may_lack = int(MAX_REWORDED_SHARE * len(content))
    searchable = sorted(
        {w for w in content if _SEARCHABLE.fullmatch(w) and w not in _UNSEARCHABLE}, key=lambda w: (-len(w), w)
    )
    if len(searchable) <= may_lack:
        return None
    words = searchable[: may_lack + SEARCH_WORDS_BEYOND]
    return SharedWords(words, len(words) - may_lack)


def _speaker(s: Statement) -> str:
    return (s.speaker_id or s.speaker_name or "").strip().lower()


def find_repeat(stmt: Statement, earlier: list[Statement]) -> Statement | None:
    """The first earlier statement by the same speaker that this one repeats, if any."""
    sp = _speaker(stmt)
    key = stmt.key or statement_key(stmt.speaker_id or stmt.speaker_name, stmt.text)
    for e in earlier:
        if _speaker(e) != sp:
            continue
        ekey = e.key or statement_key(e.speaker_id or e.speaker_name, e.text)
        if ekey == key or is_near_repeat(stmt.text, e.text):
            return e
    return None


def mark_repeats_within(statements: list[Statement]) -> None:
    """Set key on every statement and repeat_of (the first sighting's key) on repeats, in place.

    Order is article order; the first sighting of a statement keeps repeat_of None, and a repeat
    always names that first sighting (repeats are never compared against, so chains cannot form).
    """
    seen: dict[str, list[Statement]] = {}  # speaker -> first sightings
    for s in statements:
        if not s.key:
            s.key = statement_key(s.speaker_id or s.speaker_name, s.text)
        mine = seen.setdefault(_speaker(s), [])
        first = find_repeat(s, mine)
        if first is not None:
            s.repeat_of = first.repeat_of or first.key
        else:
            mine.append(s)
