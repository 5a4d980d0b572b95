"""Is a statement new? Identity keys and near-duplicate detection.

A statement's identity is its speaker plus its normalised text (quote marks, whitespace, case
and trailing punctuation folded). A near-repeat is the same quote trimmed, cut with an
ellipsis, lightly edited, or one sentence of an earlier, longer statement (such as a post),
by the same speaker. Only first sightings may trigger "new statement" alerts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from difflib import SequenceMatcher

from pipeline.records import Statement

_QUOTES = str.maketrans({c: "" for c in '"“”„‟«»‹›`'} | {"‘": "'", "’": "'", "′": "'"})
_ELLIPSIS = re.compile(r"\s*(?:\.\s?\.\s?\.|…)\s*")
_WORD = re.compile(r"[\w']+")


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


def _words(text: str) -> list[str]:
    """Normalised words with contractions spelled out, for near-repeat comparison."""
    t = normalise_statement(text)
    for rx, rep in _CONTRACTIONS:
        t = rx.sub(rep, t)
    return _WORD.findall(t)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[\"“‘'A-Z0-9])", text.strip())
    return [p for p in parts if p.strip()]


def _contains_seq(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    if n == 0 or n > len(hay):
        return False
    first = needle[0]
    for i in range(len(hay) - n + 1):
        if hay[i] == first and hay[i : i + n] == needle:
            return True
    return False


def is_near_repeat(a_text: str, b_text: str, min_words: int = 5) -> bool:
    """True when a and b are the same statement up to trimming, an ellipsis cut, light edits,
    or when one is a sentence (or run of sentences) of the other. Speaker is checked by the caller."""
    na, nb = normalise_statement(a_text), normalise_statement(b_text)
    if not na or not nb:
        return False
    if na == nb:
        return True
    wa, wb = _words(a_text), _words(b_text)
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(short) < min_words:
        return False
    # trimmed / one sentence of the other: the shorter is a contiguous run of the longer
    if _contains_seq(long_, short):
        return True
    # cut with an ellipsis: every piece appears, in order
    short_text = a_text if len(wa) <= len(wb) else b_text
    long_words = long_
    pieces = [p for p in _ELLIPSIS.split(short_text) if p.strip()]
    if len(pieces) > 1:
        pos = 0
        ok = True
        for piece in pieces:
            pw = _words(piece)
            if not pw:
                continue
            found = -1
            for i in range(pos, len(long_words) - len(pw) + 1):
                if long_words[i : i + len(pw)] == pw:
                    found = i
                    break
            if found < 0:
                ok = False
                break
            pos = found + len(pw)
        if ok:
            return True
    # lightly edited: high word-level similarity, against the whole or against a sentence window
    if _similar(short, long_):
        return True
    if len(long_) > len(short) * 1.5:
        long_text = b_text if len(wa) <= len(wb) else a_text
        sents = [_words(s) for s in _sentences(long_text)]
        for i in range(len(sents)):
            acc: list[str] = []
            for j in range(i, len(sents)):
                acc = acc + sents[j]
                if len(acc) >= len(short) * 0.7 and _similar(short, acc):
                    return True
                if len(acc) > len(short) * 1.4:
                    break
    return False


def _similar(a: list[str], b: list[str]) -> bool:
    if not a or not b:
        return False
    ratio = min(len(a), len(b)) / max(len(a), len(b))
    if ratio < 0.6:
        return False
    sm = SequenceMatcher(None, a, b, autojunk=False)
    if sm.ratio() >= 0.85:
        return True
    # a trimmed and lightly edited quote: most of the shorter one's words appear in order
    matched = sum(bl.size for bl in sm.get_matching_blocks())
    return matched >= 0.85 * len(a) and len(a) <= len(b) and ratio >= 0.6


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

    Order is article order; the first sighting of a statement keeps repeat_of None.
    """
    seen: list[Statement] = []
    for s in statements:
        if not s.key:
            s.key = statement_key(s.speaker_id or s.speaker_name, s.text)
        first = find_repeat(s, seen)
        if first is not None:
            s.repeat_of = first.repeat_of or first.key
        else:
            seen.append(s)
