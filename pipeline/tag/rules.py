"""Topic rules: the weighted phrase lists of seeds/topics.yaml, matched and scored. No I/O.

The phrase scores are the subtopic decision, a feature of the immigration-policy model
(`model.py`), and the whole decision for topics without a trained model.

Topics (seeds/topics.yaml) are weighted phrase lists. How a phrase is matched:

* case-insensitive, on word boundaries ("ice" never matches inside "police");
* a space or hyphen in a phrase matches any run of spaces/hyphens, or none for a hyphen
  ("H-1B" matches "H1B", "H-1B" and "H 1B"; "green card" matches "green-card");
* a phrase ending in a letter also matches its plural ("-s"/"-es");
* a trailing "*" matches any word ending ("deport*" matches deport, deported, deportations);
* a phrase written as one capitalised acronym (ICE, DACA, TPS) matches only in capitals.

Scoring, for one topic or subtopic:

* each phrase counts with a saturating weight: 1 for the first occurrence in the body, then
  +1/2, +1/4, ... (never more than 2), so one phrase repeated 20 times cannot carry a story alone;
* a phrase in the title adds TITLE_WEIGHT on top (titles say what a story is about);
* the sum is divided by a gentle length factor (sqrt of the length in units of LENGTH_UNIT words,
  never below 1), so long articles that mention a topic in passing do not outscore short ones
  that are about it.

`squash` maps a phrase score onto 0..1; `decide.py` compares that with the thresholds. Negative
weights are allowed and subtract (use them sparingly, for phrases that signal another kind of story).

When phrases overlap, the longest match wins ("illegal immigration" is one match, not also
"immigration"); a topic that lists only the shorter phrase is still credited with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pipeline.config import Topic

TITLE_WEIGHT = 2.0  # a phrase in the title counts this much on top of the body
SATURATION = 0.5  # each further body occurrence of a phrase adds this fraction of the previous one
LENGTH_UNIT = 400  # words; texts longer than this are scaled down by sqrt(words / LENGTH_UNIT)
MAX_EVIDENCE = 5
RULE_SCALE = 3.0  # a phrase score of 3 (one strong phrase in the headline) squashes to 0.63

_WORD = re.compile(r"\w+")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,6}$")


# ---------------------------------------------------------------- phrase compilation


def phrase_pattern(phrase: str) -> str:
    """Regex source (without boundaries) for one configured phrase."""
    raw = phrase.strip()
    if _ACRONYM.match(raw):  # ICE, DACA, TPS: only in capitals, so "ice" and "tps" do not count
        return "(?-i:" + re.escape(raw) + r"(?:s)?)"
    p = raw.lower()
    wildcard = p.endswith("*")
    if wildcard:
        p = p[:-1].rstrip()
    out: list[str] = []
    for ch in p:
        if ch == " ":
            out.append(r"[\s\-]+")
        elif ch == "-":
            out.append(r"[\s\-]?")
        elif ch in "'’":
            out.append(r"['’]")
        else:
            out.append(re.escape(ch))
    src = "".join(out)
    if wildcard:
        src += r"\w*"
    elif p and p[-1].isalpha():
        src += r"(?:e?s)?"
    return src


def _normal(phrase: str) -> str:
    phrase = " ".join(phrase.strip().split())
    return phrase if _ACRONYM.match(phrase) else phrase.lower()


T = TypeVar("T")


class _PhraseIndex(Generic[T]):
    """Finds phrases fast: candidate phrases are looked up by the word they start with, and only
    those are tried at that position (one pass over the words instead of one regex per phrase).

    Matches never overlap; at each position the longest candidate wins.
    """

    def __init__(self, entries: Sequence[tuple[str, str, bool, T, bool]]) -> None:
        # entries: (first-word key, anchored regex source, case-insensitive?, payload, is a prefix?)
        self.by_word: dict[str, list[tuple[re.Pattern[str], T]]] = {}
        self.by_prefix: dict[str, list[tuple[re.Pattern[str], T]]] = {}
        for key, src, ignore_case, payload, is_prefix in entries:
            rx = re.compile(src + r"(?!\w)", re.IGNORECASE if ignore_case else 0)
            target = self.by_prefix if is_prefix else self.by_word
            bucket = target.setdefault(key, [])
            if all(r.pattern != rx.pattern or r.flags != rx.flags for r, _ in bucket):
                bucket.append((rx, payload))
        self.prefixes = tuple(sorted(self.by_prefix))

    def finditer(self, text: str, fold_case: bool = True) -> Iterator[tuple[int, int, T]]:
        """Yield (start, end, payload) for each non-overlapping match."""
        scan = text.lower() if fold_case else text
        if len(scan) != len(text):  # rare: lower-casing changed offsets (e.g. "İ"); fold word by word
            starts: Iterable[tuple[int, str]] = ((m.start(), m.group().lower()) for m in _WORD.finditer(text))
        else:
            starts = self._candidate_starts(scan)
        by_word, by_prefix, prefixes = self.by_word, self.by_prefix, self.prefixes
        pos_min = 0
        for start, w in starts:
            cands = by_word.get(w)
            if prefixes and w.startswith(prefixes):
                cands = list(cands or ())
                for pre in prefixes:
                    if w.startswith(pre):
                        cands.extend(by_prefix[pre])
            if not cands or start < pos_min:
                continue
            best_end, best_payload = -1, cands[0][1]
            for rx, payload in cands:
                hit = rx.match(text, start)
                if hit and hit.end() > best_end:
                    best_end, best_payload = hit.end(), payload
            if best_end > 0:
                yield start, best_end, best_payload
                pos_min = best_end

    def _candidate_starts(self, scan: str) -> list[tuple[int, str]]:
        """(position, word) of every whole word of ``scan`` that can start a phrase, in text order.

        The same words a scan word by word would try, found faster: the text's distinct words are
        collected in C, only the few that can start a phrase are looked for (str.find), and an
        occurrence counts when it is a whole word (no word character on either side)."""
        by_word, prefixes = self.by_word, self.prefixes
        vocab = set(_WORD.findall(scan))
        found = [w for w in vocab if w in by_word or (prefixes and w.startswith(prefixes))]
        out: list[tuple[int, str]] = []
        end_of_text = len(scan)
        for w in found:
            n = len(w)
            i = scan.find(w)
            while i >= 0:
                after = i + n
                if (i == 0 or not _is_word_char(scan[i - 1])) and (
                    after >= end_of_text or not _is_word_char(scan[after])
                ):
                    out.append((i, w))
                i = scan.find(w, after)  # w is all word characters: no whole-word match starts inside it
        out.sort()
        return out


def _is_word_char(ch: str) -> bool:
    """What \\w matches (str.isalnum is the same Unicode test the re module uses, plus "_")."""
    return ch.isalnum() or ch == "_"


def _first_words(phrase: str) -> set[str]:
    """Words (as \\w+ finds them, lower-cased) a text could start a match of this phrase with."""
    p = phrase.strip().rstrip("*").strip()
    out = set()
    for variant in (p, p.replace("-", ""), p.replace("-", " ")):
        words = _WORD.findall(variant)
        if words:
            out.add(words[0].lower())
    return out


@dataclass
class _Owner:
    id: str
    parent: str | None


@dataclass
class _Compiled:
    index: _PhraseIndex[str]
    # phrase key matched -> list of (owner index, credited phrase key, weight)
    credits: dict[str, list[tuple[int, str, float]]] = field(default_factory=dict)
    owners: list[_Owner] = field(default_factory=list)
    topics: list[tuple[int, list[int]]] = field(default_factory=list)  # topic owner -> subtopic owners
    display: dict[str, str] = field(default_factory=dict)  # phrase key -> phrase as written in the seeds


_CACHE: dict[tuple, _Compiled] = {}


def _cache_key(topics: list[Topic]) -> tuple:
    return tuple(
        (
            t.id,
            tuple(sorted(t.keywords.items())),
            tuple((s.id, tuple(sorted(s.keywords.items()))) for s in t.subtopics),
        )
        for t in topics
    )


def _compile(topics: list[Topic]) -> _Compiled:
    key = _cache_key(topics)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit

    owners: list[_Owner] = []
    owner_phrases: list[dict[str, float]] = []
    display: dict[str, str] = {}
    structure: list[tuple[int, list[int]]] = []
    for t in topics:
        ti = len(owners)
        owners.append(_Owner(t.id, None))
        owner_phrases.append({_normal(k): w for k, w in t.keywords.items()})
        subs = []
        for s in t.subtopics:
            subs.append(len(owners))
            owners.append(_Owner(s.id, t.id))
            owner_phrases.append({_normal(k): w for k, w in s.keywords.items()})
        for k in [*t.keywords, *(k for s in t.subtopics for k in s.keywords)]:
            display.setdefault(_normal(k), " ".join(k.split()))
        structure.append((ti, subs))

    phrases = sorted({p for ph in owner_phrases for p in ph}, key=lambda p: (-len(p), p))
    singles = {p: re.compile(r"(?<!\w)" + phrase_pattern(p) + r"(?!\w)") for p in phrases}

    credits: dict[str, list[tuple[int, str, float]]] = {}
    for p in phrases:
        sample = p.rstrip("*").strip()
        entries = []
        for oi, ph in enumerate(owner_phrases):
            if p in ph:
                entries.append((oi, p, ph[p]))
                continue
            # a shorter phrase of this owner inside the longer match still counts for it
            inside = [q for q in ph if q != p and len(q) < len(p) and singles[q].search(sample)]
            if inside:
                q = max(inside, key=len)
                entries.append((oi, q, ph[q]))
        credits[p] = entries

    index_entries: list[tuple[str, str, bool, str, bool]] = []
    for p in phrases:
        src = phrase_pattern(p)
        acronym = bool(_ACRONYM.match(p))
        wildcard = p.endswith("*")
        single_word = len(_WORD.findall(p.rstrip("*").replace("-", ""))) == 1
        for w in _first_words(p):
            if wildcard and single_word:
                index_entries.append((w, src, not acronym, p, True))
            else:
                index_entries.append((w, src, not acronym, p, False))
                if single_word and not acronym:  # plural forms start with a different word
                    index_entries.append((w + "s", src, True, p, False))
                    index_entries.append((w + "es", src, True, p, False))
                elif single_word:
                    index_entries.append((w + "s", src, False, p, False))

    compiled = _Compiled(
        index=_PhraseIndex(index_entries), credits=credits, owners=owners, topics=structure, display=display
    )
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = compiled
    return compiled


def _count(c: _Compiled, text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    if not text:
        return counts
    for _, _, k in c.index.finditer(text):
        counts[k] = counts.get(k, 0) + 1
    return counts


def _saturate(n: int) -> float:
    # 1, 1.5, 1.75, ... -> 2
    return (1.0 - SATURATION**n) / (1.0 - SATURATION) if n > 0 else 0.0


def length_factor(title: str, text: str) -> float:
    """What a phrase score is divided by: sqrt of the words of title and text in LENGTH_UNITs, at least 1."""
    n_words = len(_WORD.findall(text or "")) + len(_WORD.findall(title or ""))
    return max(1.0, math.sqrt(n_words / LENGTH_UNIT))


def score_article(title: str, text: str, topics: list[Topic]) -> dict[str, tuple[float, list[str]]]:
    """Score of every topic and subtopic (assigned or not), with its evidence phrases."""
    return score_article_with_length(title, text, topics)[0]


def score_article_with_length(
    title: str, text: str, topics: list[Topic]
) -> tuple[dict[str, tuple[float, list[str]]], float]:
    """`score_article`, and the length factor its scores were divided by (`length_factor`), for a
    caller that needs the score before the division too (features.py's ``r:raw``)."""
    c = _compile(topics)
    title_counts = _count(c, title or "")
    body_counts = _count(c, text or "")
    divisor = length_factor(title, text)

    # per owner: credited phrase -> (title hits, body hits, weight)
    per_owner: list[dict[str, list]] = [dict() for _ in c.owners]
    for counts, slot in ((title_counts, 0), (body_counts, 1)):
        for k, n in counts.items():
            for oi, credited, w in c.credits.get(k, ()):
                rec = per_owner[oi].setdefault(credited, [0, 0, w])
                rec[slot] += n

    out: dict[str, tuple[float, list[str]]] = {}
    for oi, owner in enumerate(c.owners):
        contribs = []
        for phrase, (t_hits, b_hits, w) in per_owner[oi].items():
            value = w * (_saturate(b_hits) + (TITLE_WEIGHT if t_hits else 0.0))
            contribs.append((value, phrase))
        raw = sum(v for v, _ in contribs)
        contribs.sort(key=lambda x: (-x[0], x[1]))
        evidence = [c.display.get(p, p) for v, p in contribs if v > 0][:MAX_EVIDENCE]
        out[owner.id] = (round(raw / divisor, 3), evidence)
    return out, divisor


def squash(score: float) -> float:
    """A phrase score (0 and up) on a 0..1 scale: 1 - exp(-score / RULE_SCALE)."""
    return 1.0 - math.exp(-max(score, 0.0) / RULE_SCALE)
