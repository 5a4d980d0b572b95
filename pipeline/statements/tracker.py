"""Who is who in an article: names, surnames, pronouns and role nouns resolved to people (a tracked
figure when possible) as the article is read. Tracker reads the whole masked text once (every
capitalised name, every subject of a speech verb) before statements are attributed.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from pipeline.config import Figure
from pipeline.statements.cues import find_cues, lower_same_length
from pipeline.statements.speakers import (
    FEMALE_ROLES,
    GENERIC_ROLES,
    NON_NAME_CAPS,
    NONPERSON_ROLES,
    PERSON_PRONOUNS,
    TITLE_ROLE,
    TITLE_WORDS,
    AliasIndex,
    Mention,
    ends_sentence,
    looks_like_org,
    mention_after,
    norm_name,
    place_after_title,
    split_title,
    strip_titles,
    subject_before,
    surname_first,
    tokens_in,
    trim_name,
)

_HONORIFIC = re.compile(r"(?i)(mrs|ms|miss|mr)\.?$")
_FEMALE_HONORIFIC = re.compile(r"(?i)(mrs|ms|miss)\.?\s")
_MALE_HONORIFIC = re.compile(r"(?i)mr\.?\s")
_ROLE_WORDS_BEFORE = re.compile(r"((?:[a-z][a-z-]+\s+){1,5})$")
_TITLE_JOIN = re.compile(r"\s+(?:and|of|on|in|for|at|to|with|from|the)\s+(?:the\s+)?[A-Z]")
_TITLE_JOIN_RUN = re.compile(
    r"\s+(?:and|of|on|in|for|at|to|with|from|the)\s+(?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*"
)
_FEMALE_KIN = {"wife", "daughter", "mother", "sister", "spokeswoman", "businesswoman", "actress", "congresswoman"}
_KIN_BEFORE = re.compile(
    r"\b(wife|husband|son|daughter|mother|father|brother|sister|spokeswoman|spokesman|businesswoman|"
    r"businessman|actress|congresswoman|congressman)\s+$",
    re.I,
)
_NO_IDS: frozenset[str] = frozenset()


def _is_word(ch: str) -> bool:
    """Is ch a word character as the regex \\b sees it (\\w: alphanumeric or underscore)?"""
    return ch.isalnum() or ch == "_"


_LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]+\b")
_MID_CAP = re.compile(r"(?<=[a-z,] )[A-Z][\w'’-]+")
_APPOSITION = re.compile(r",\s+(?:a|an|the|who is)\s+([^,.;]{2,70}?)[,.]")


@dataclass
class Entity:
    name: str  # canonical name (tracked) or full name as written
    figure_id: str | None
    gender: str = ""  # "f", "m" or ""
    is_person: bool = True


class Tracker:
    """Resolves names, surnames, pronouns and role nouns to entities as the article is read."""

    def __init__(self, text: str, masked: str, idx: AliasIndex):
        self.text = text
        self.masked = masked
        self.idx = idx
        self.history: list[tuple[int, Entity]] = []  # person mentions by position
        self.speakers: list[tuple[int, Entity]] = []  # quotes' speakers, by position
        self.said_by: list[tuple[int, Entity]] = []  # subjects of speech verbs, by position
        self.by_surname: dict[str, list[tuple[int, Entity]]] = {}
        self._roles: dict[str, list[tuple[int, Entity]]] | None = None  # built on first use: few articles need it
        self._role_sources: list[tuple[int, int, str, Entity]] = []  # (name start, name end, title, person)
        self.present: set[str] = set()
        self.kin_gender: dict[str, str] = {}  # name -> "f"/"m" from "his wife Lena", "her son Sam"
        # lower-cased copies for cue search (None when lower-casing would move offsets)
        self.text_lower = lower_same_length(text)
        self.masked_lower = lower_same_length(masked)
        self._prepass()

    _CAPSEQ = re.compile(
        r"(?:@\w+)|\b(?:(?:[A-Z][\w'’.-]*|de|van|von|der|da|del|bin|al)\s+){0,6}[A-Z][\w'’-]*(?:\s+(?:Jr|Sr)\.?)?"
    )

    def _prepass(self) -> None:
        masked = self.masked
        work_end = -1  # end of the last title of a work seen
        for m in self._CAPSEQ.finditer(masked):
            toks = tokens_in(masked, m.start(), m.end())
            if len(toks) == 1:
                segments = [toks]  # most matches: one capitalised word
            else:
                segments = [[]]
                for t in toks:  # "the Chiefs. Lynn": two mentions, never one name across a sentence
                    if segments[-1] and "\n" in masked[segments[-1][-1][1] : t[0]]:
                        segments.append([])  # nor across a paragraph break (a heading above a name)
                    segments[-1].append(t)
                    if ends_sentence(t[2]):
                        segments.append([])
            for seg in segments:
                if not seg:
                    continue  # (registering no tokens registers nothing)
                if seg[0][0] < work_end or self._title_of_work(seg):
                    # the rest of the title too: "the Gardener on Call", "The Captain and Me"
                    work_end = max(work_end, seg[-1][1])
                    while jm := _TITLE_JOIN_RUN.match(masked, work_end):
                        work_end = jm.end()
                    continue
                self._register(trim_name(seg))
        # subjects of speech verbs ("Michael Sims said his company ..."), so that a "he said" after a
        # reported-speech sentence finds that speaker even before reported speech is attributed
        # the speech verbs of the whole text, kept for cues_between (found once, not again per sentence)
        self._cues = list(find_cues(masked, self.masked_lower))
        self._cue_starts = [cm.start() for cm in self._cues]
        for cm in self._cues:
            men = subject_before(masked, max(0, cm.start() - 150), cm.start())
            if men is None and masked[max(0, cm.start() - 2) : cm.start()] == ", ":
                men = mention_after(masked, cm.end() + 1, cm.end() + 120)  # "..., said Mary E. Lovely, an economist."
            if men is not None and men.kind == "name":
                ent = self._resolve_name(men.text, men.start, title=men.title)
                if ent is not None and ent.is_person:
                    self._kin_gender(ent, men.start)
                    self.said_by.append((men.start, ent))
        self.history.sort(key=lambda c: c[0])
        self.said_by.sort(key=lambda c: c[0])

    def cues_between(self, lo: int, hi: int) -> list[tuple[int, int, str]] | None:
        """(start, end, words) of the speech verbs that find_cues finds in masked[lo:hi] on its own (a
        slice), read from the whole text's, or None when the two may differ and the caller must search
        the slice. They differ only at an edge: a word cut by lo or hi (a slice's edge is a word
        boundary, the text's is not there) or a match of the whole text across an edge ("according |
        to"). Elsewhere both searches see the same characters from the same place, so match alike."""
        low = self.masked_lower
        if low is None:
            return None  # the cues came from the case-blind search of masked: the caller searches the slice
        if 0 < lo < len(low) and _is_word(low[lo - 1]) and _is_word(low[lo]):
            return None
        if 0 < hi < len(low) and _is_word(low[hi - 1]) and _is_word(low[hi]):
            return None
        starts = self._cue_starts
        i = bisect.bisect_left(starts, lo)
        if i and self._cues[i - 1].end() > lo:
            return None  # a match from before lo runs into the slice
        out = []
        for cm in self._cues[i : bisect.bisect_left(starts, hi, lo=i)]:
            if cm.end() > hi:
                return None  # a match runs past hi
            out.append((cm.start(), cm.end(), cm.group()))
        return out

    # words written in lower case somewhere, and capitalised words seen mid-sentence (so names):
    # "Physician" or "Such" opening a sentence is a common word, "Lynn" is not. Read for few single
    # capitalised words (in under a third of articles), so each set is built on first use.
    @functools.cached_property
    def lower_words(self) -> set[str]:
        return set(_LOWER_WORD.findall(self.masked))

    @functools.cached_property
    def mid_caps(self) -> set[str]:
        return set(_MID_CAP.findall(self.masked))

    def _kin_gender(self, ent: Entity, start: int) -> None:
        """'his wife Lena', 'her brother Sam': the word before a name says whether a later he or she fits."""
        if not ent.gender and ent.is_person and ent.figure_id is None:
            km = _KIN_BEFORE.search(self.masked, max(0, start - 20), start)
            if km:
                ent.gender = "f" if km.group(1).lower() in _FEMALE_KIN else "m"
                self.kin_gender[ent.name] = ent.gender  # later mentions of the name are new entities

    def _title_of_work(self, seg: list[tuple[int, int, str]]) -> bool:
        """'the Physician on FIRE' (a blog), 'The Captain and Me' (an album): capitalised words after 'the'
        joined to more capitalised words by a small word are the title of a work, not a person."""
        masked = self.masked
        after_the = seg[0][2] in ("The", "the") or masked[max(0, seg[0][0] - 4) : seg[0][0]].lower() == "the "
        if not after_the or not _TITLE_JOIN.match(masked, seg[-1][1]):
            return False
        name = masked[seg[0][0] : seg[-1][1]]
        return not self.idx.lookup_exact(re.sub(r"^[Tt]he\s+", "", name))

    def _register(self, seg: list[tuple[int, int, str]]) -> None:
        if not seg:
            return
        masked = self.masked
        if place_after_title(masked, seg):
            seg = seg[1:]
        title, name = split_title(seg)
        if not name:
            return
        s, e = name[0][0], name[-1][1]
        text = masked[s:e].rstrip(".")
        if text.endswith(("'s", "’s")):
            text = text[:-2]
        title_text = masked[title[0][0] : title[-1][1]] if title else ""
        ent = self._resolve_name(text, s, title=title_text)
        if ent is None:
            return
        self._kin_gender(ent, s)
        self.history.append((s, ent))
        if ent.figure_id:
            self.present.add(ent.figure_id)
        if not ent.is_person:
            return
        if len(ent.name.split()) >= 2:
            self.by_surname.setdefault(_surname(ent.name), []).append((s, ent))
            if surname_first(ent.name.split()):  # "Xi Jinping": a later "Xi" is him
                self.by_surname.setdefault(norm_name(ent.name).split()[0], []).append((s, ent))
        self._role_sources.append((s, e, title_text, ent))

    @property
    def roles(self) -> dict[str, list[tuple[int, Entity]]]:
        """Role word -> the people written with it, by position: "Sen." (senator), "deputy chief of staff",
        "the billionaire". Read only to resolve a role noun ("the senator said"), so built on first use."""
        if self._roles is None:
            self._roles = {}
            for s, e, title_text, ent in self._role_sources:
                words = [w.lower().rstrip(".") for w in title_text.split()]
                pm = _ROLE_WORDS_BEFORE.search(self.masked, max(0, s - 60), s)
                if pm:
                    words += pm.group(1).split()
                # apposition: "Steve Bannon, a longtime Trump confidante," -> role noun table
                am = _APPOSITION.match(self.masked, e, e + 90)
                if am:
                    words += re.findall(r"[a-z-]+", am.group(1).lower())
                for w in words:
                    self._roles.setdefault(TITLE_ROLE.get(w, w), []).append((s, ent))
        return self._roles

    def _resolve_name(self, name: str, pos: int, title: str = "") -> Entity | None:
        idx = self.idx
        if title:
            ids = idx.lookup_exact(f"{title} {name}")  # "Secretary Noem", "Border czar Tom Homan"
            if len(ids) == 1:
                fid = next(iter(ids))
                return Entity(idx.figures[fid].name, fid, figure_gender(idx.figures[fid]))
            if _HONORIFIC.match(title.split()[-1]):
                name = f"{title.split()[-1]} {name}"  # keep the honorific for gender
        ids = idx.lookup_exact(name)
        if len(ids) > 1:
            ids = {i for i in ids if i in self.present} or ids
        if len(ids) == 1:
            fid = next(iter(ids))
            f = idx.figures[fid]
            return Entity(f.name, fid, figure_gender(f))
        bare = strip_titles(name)
        words = bare.split()
        gender = "f" if _FEMALE_HONORIFIC.match(name) else ("m" if _MALE_HONORIFIC.match(name) else "")
        if not words:
            return None
        if len(words) == 1:
            w = norm_name(words[0])
            if w.lower() in TITLE_WORDS or w in NON_NAME_CAPS:
                return None
            # a full name with this surname earlier (or later) in the article
            cands = self.by_surname.get(w)
            if cands:  # in text order: the last one at or before pos, by bisection (issue 10)
                i = bisect.bisect_right(cands, pos, key=lambda c: c[0])
                return cands[i - 1][1] if i else cands[-1][1]
            fids = idx.surname.get(w, _NO_IDS)
            if len(fids) > 1:
                fids = {i for i in fids if i in self.present}
            if len(fids) == 1:
                fid = next(iter(fids))
                f = idx.figures[fid]
                return Entity(f.name, fid, figure_gender(f))
            lids = {i for i in idx.lastname.get(w, _NO_IDS) if i in self.present}
            if len(lids) == 1:
                fid = next(iter(lids))
                f = idx.figures[fid]
                return Entity(f.name, fid, figure_gender(f))
            if looks_like_org(bare) or len(w) < 2:
                return Entity(bare, None, "", is_person=False)
            if w in self.lower_words and bare not in self.mid_caps and not gender:
                return None  # a common word opening a sentence or heading ("Physician", "Save")
            if w.endswith("ing") and bare not in self.mid_caps and not gender:
                return None  # a gerund opening a sentence ("Building a business ... , he wrote")
            if name != bare or gender:
                return Entity(bare, None, gender or self.kin_gender.get(bare, ""))
            # single capitalised word, never seen with a first name: keep as written
            return Entity(bare, None, gender or self.kin_gender.get(bare, ""), is_person=not looks_like_org(name))
        if looks_like_org(name):
            return Entity(name, None, "", is_person=False)
        # "Van Der Beek" after "James Van Der Beek": the fuller name the article gave
        key = norm_name(bare)
        for _, ent in reversed(self.by_surname.get(key.split()[-1], [])):
            if ent.name != bare and norm_name(ent.name).endswith(" " + key):
                return ent
        return Entity(bare, None, gender or self.kin_gender.get(bare, ""))

    def resolve(self, m: Mention, pos: int, sent_lo: int | None = None) -> Entity | None:
        if m.kind in ("name", "handle"):
            return self._resolve_name(m.text, pos, title=m.title)
        if m.kind == "pronoun":
            if m.head not in PERSON_PRONOUNS or m.head in ("we", "they", "i"):
                return None
            want = "f" if m.head == "she" else "m"
            # 1) a person named earlier in the same sentence; 2) the last speaker nearby (of a quote,
            # or the subject of any speech verb before it); 3) the last person named
            pools = [self._before(self.history, pos, pos - sent_lo)] if sent_lo is not None else []
            if sent_lo is not None:
                # "Netanyahu visited the bloc. '...,' he told settler leaders": the subject of the sentence before
                pools.append(self._previous_subject(sent_lo))
            pools += [
                self._before(self.speakers, pos, 1500) + self._before(self.said_by, pos, 1500),
                self._before(self.history, pos, 3000),
            ]
            for pool in pools:
                for _, ent in sorted(pool, key=lambda c: c[0], reverse=True):
                    if not ent.is_person or ent.gender and ent.gender != want:
                        continue
                    return ent
            return None
        if m.kind == "role":
            head = m.head
            if head in GENERIC_ROLES or head.endswith("s") and head not in ("boss",):
                return None
            words = re.findall(r"[a-z-]+", m.text.lower())
            if head in NONPERSON_ROLES:
                # "the White House said", "the influential daily wrote": an organisation, never a nearby person
                return Entity(m.text, None, "", is_person=False)
            if not re.match(r"(?i)(the|this|that)\b", m.text):
                # "a spokesman", "one official": someone new, not an earlier person
                return None
            for w in [head] + words[::-1]:
                cands = [c for c in self.roles.get(w, []) if c[0] < pos]
                if cands and w not in ("the",):
                    return cands[-1][1]
                fids = {i for i in self.idx.role_words.get(w, set()) if i in self.present}
                if len(fids) == 1:
                    fid = next(iter(fids))
                    f = self.idx.figures[fid]
                    return Entity(f.name, fid, figure_gender(f))
            # "the billionaire said" right after someone spoke: that speaker
            want = "f" if head in FEMALE_ROLES else ""
            for p, ent in reversed(self.speakers):
                if p < pos and pos - p < 1500 and ent.is_person and (not want or ent.gender != "m"):
                    return ent
            return None
        return None

    def _previous_subject(self, sent_lo: int) -> list[tuple[int, Entity]]:
        """The person named first in the sentence before sent_lo, when a name (with its title) opens it."""
        masked = self.masked
        end = sent_lo - 1
        while end > 0 and masked[end - 1].isspace():
            end -= 1
        if end <= 0 or masked[end - 1] not in ".!?\n":
            return []
        floor = max(0, end - 600)  # a sentence is shorter than this; a giant paragraph is not re-read per pronoun
        lo = max(floor, masked.rfind("\n", floor, end - 1) + 1)
        dot = masked.rfind(". ", lo, end - 1)
        while dot > lo:  # the last full stop that ends a sentence, not "Sonya A. Zoghlin"
            word = masked[masked.rfind(" ", lo, dot) + 1 : dot + 1]
            if ends_sentence(word):
                lo = dot + 2
                break
            dot = masked.rfind(". ", lo, dot)
        cands = self._before(self.history, end, end - lo)
        if not cands:
            return []
        pos, ent = cands[0]
        opening = masked[lo:pos]
        words = opening.split()
        if len(words) > 5 or "," in opening or any(not w[:1].isupper() for w in words) or len(ent.name.split()) < 2:
            return []  # the first name is not the subject, or only a bare word ("Washington concluded")
        return [(pos, ent)]

    def note_speaker(self, pos: int, ent: Entity | None) -> None:
        if ent is not None and ent.is_person:
            bisect.insort(self.speakers, (pos, ent), key=lambda c: c[0])

    @staticmethod
    def _before(entries: list[tuple[int, Entity]], pos: int, window: int) -> list[tuple[int, Entity]]:
        """The entries (sorted by position) in [pos - window, pos): a bisection, so resolving stays linear."""
        hi = bisect.bisect_left(entries, pos, key=lambda c: c[0])
        lo = bisect.bisect_left(entries, pos - window, key=lambda c: c[0])
        return entries[lo:hi]


_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _surname(name: str) -> str:
    """The last word of a full name, a generational suffix aside ("Patrick Carlineo Jr." -> "carlineo")."""
    words = norm_name(name).replace(",", " ").split()
    while len(words) > 1 and words[-1].rstrip(".") in _SUFFIXES:
        words.pop()
    return words[-1]


def figure_gender(f: Figure) -> str:
    for a in f.aliases:
        if _FEMALE_HONORIFIC.match(a):
            return "f"
        if _MALE_HONORIFIC.match(a):
            return "m"
    return ""
