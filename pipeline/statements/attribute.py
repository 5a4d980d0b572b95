"""Statements by people in an article's text: direct quotes, partial quotes, reported speech
and embedded social posts, each attributed to a speaker (a tracked figure when possible).

Rule-based and dependency-free: quote marks are paired (pipeline.statements.quotes), quote interiors are
masked so that sentence splitting and cue search only look at the reporter's words, and the
speaker is the noun phrase beside a speech verb (pipeline.statements.speakers). Pronouns and role nouns
resolve to the right earlier person through a small entity tracker.

Public entry point: attribute_statements(text, figures) -> list[Statement].
`extract(text, figures, persons_only=...)` returns the richer internal records the evaluation uses.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from pipeline.config import Figure
from pipeline.records import SpeakerKind, Statement
from pipeline.statements.model import trie_pattern
from pipeline.statements.quotes import Quote, find_quotes, mask_quotes, paragraphs, sentences
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
    build_alias_index,
    ends_sentence,
    looks_like_org,
    mention_after,
    name_before,
    norm_name,
    split_title,
    strip_titles,
    subject_before,
    surname_first,
    tokens_in,
    trim_name,
)

# ------------------------------------------------------------------ lexicons

_SPEECH = (
    "said|says|say|saying|told|tells|tell|telling|added|adds|adding|wrote|writes|writing|asked|asks|"
    "answered|replied|replies|responded|responds|argued|argues|arguing|claimed|claims|insisted|insists|"
    "warned|warns|warning|declared|declares|announced|announces|tweeted|tweets|posted|posts|continued|continues|"
    "recalled|recalls|acknowledged|acknowledges|admitted|admits|conceded|concedes|explained|explains|"
    "explaining|noted|notes|noting|stated|states|suggested|suggests|suggesting|predicted|predicts|promised|promises|"
    "vowed|vows|pledged|pledges|complained|complains|joked|jokes|quipped|quips|remarked|observed|emphasized|"
    "stressed|urged|urges|cautioned|countered|counters|contended|contends|maintained|maintains|testified|"
    "reported|reports|clarified|confirmed|confirms|denied|denies|agreed|agrees|echoed|shouted|yelled|yells|"
    "chanted|chanting|exclaimed|mused|boasted|bragged|lamented|scoffed|snapped|fumed|pleaded|whispered|"
    "concluded|offered|demanded|retorted|teased|thundered|mocked|described|describes|describing|called|calls|calling|"
    "dubbed|labeled|labelled|branded|termed|critiqued|criticized|criticised|blasted|slammed|praised|touted|"
    "hailed|decried|denounced|accused|accuses|charged|alleged|alleges|wondered|texted|emailed|reads|read|"
    "insisting|adds|asserted|asserts|contending|claiming|tweeting|writing|telling|stating|predicting|"
    "recounted|recounts|pointed out|points out|went on|put it|affirmed|reiterated|reiterates|believes|"
    "believed|thinks|thought|feels|felt|hopes|hoped|worries|worried|fears|feared|knows|knew|"
    "revealed|reveals|indicated|indicates|estimated|estimates|speculated|hinted|assured|reminded|informed|"
    "found|finds|showed|shows|concluded|argue|claim|believe|think|warn|note|insist|contend|agree|"
    "acknowledge|admit|predict|suggest|explain|urge|write|announce|deny|maintain|complain|fear|hope|"
    "ask|recall|declare|testify|emphasize|stress|confirm|report|allege|assert|interjected|interjects|"
    "interrupted|signalled|signaled|signals|signalling|signaling|objected|protested|threatened|"
    "acknowledging|cautioning|vowing|pledging|arguing|warns|according to"
)


CUE_RE = re.compile(r"\b(" + trie_pattern(sorted(set(_SPEECH.split("|")))) + r")\b", re.I)
# Verbs that introduce reported speech ("X said (that) ...") — mental-state verbs included
# because PolNeAR's attributions cover beliefs too.
# fmt: off
_INDIRECT_ONLY_THAT = {
    "believes", "believed", "thinks", "thought", "feels", "felt", "hopes", "hoped", "worries", "worried",
    "fears", "feared", "knows", "knew", "found", "finds", "showed", "shows", "believe", "think", "fear", "hope",
    "revealed", "reveals", "indicated", "indicates", "estimated", "estimates", "agree", "agrees", "agreed",
    "reported", "reports", "report", "posted", "posts", "wrote", "writes", "write", "testified", "testify",
}
# fmt: on
# fmt: off
_NON_INDIRECT = {
    "asked", "asks", "ask", "called", "calls", "calling", "dubbed", "labeled", "labelled", "branded", "termed",
    "critiqued", "criticized", "criticised", "blasted", "slammed", "praised", "touted", "hailed", "decried",
    "denounced", "accused", "accuses", "mocked", "described", "describes", "describing", "shouted", "yelled",
    "yells", "chanted", "chanting", "read", "reads", "offered", "demanded", "continued", "continues",
    "went on", "put it", "texted", "emailed", "answered", "joked", "jokes", "quipped", "quips", "snapped",
    "mused", "scoffed", "fumed", "thundered", "teased", "retorted", "whispered", "exclaimed", "tell",
    "telling", "tells", "told",
}
# fmt: on
_OBJECT_VERBS = {
    "told",
    "tells",
    "tell",
    "telling",
    "assured",
    "reminded",
    "informed",
    "warned",
    "warns",
    "urged",
    "urges",
    "promised",
    "promises",
}
_THAT_CLAUSE_START = re.compile(
    r"(?:that\s+)?(?=(?:he|she|they|it|we|i|you|there|the|a|an|his|her|their|its|this|these|those|"
    r"our|no|some|many|most|all|[A-Z][\w'’.-]*|\d)\b)"
)
_DATELINE = re.compile(r"[A-Z][A-Z .,'’-]{2,40}(?:\s*\([^)]{1,30}\))?\s*[—–-]{1,2}\s*")
_PRONOUN_CLAUSE = re.compile(
    r"(?:he|she|they|we|i|it|there)\s+(?:was|were|is|are|would|will|had|has|have|could|did|does|do)\b"
)
_DATE_ADJUNCT = re.compile(
    r"^\s*(?:on\s+|late\s+|early\s+|last\s+|this\s+|in\s+an?\s+(?:interview|statement|speech|post|tweet|"
    r"op-ed|letter|email|radio interview|televised interview|TV interview)(?:\s+(?:with|on|to)\s+[\w.'’ -]{1,40}?)?\s*,?\s*)?"
    r"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|week|month|year|night|"
    r"morning|afternoon|evening)\b[\w ]{0,20}?\s*,?\s*)?"
)
_SIGNATURE = re.compile(r"^[—–-]{1,2}\s*(?P<name>[^()\n]{2,80}?)\s*\((?P<handle>@\w{1,30})\)\s*(?P<date>.{0,40})$")
_CLAUSE_CUT = re.compile(
    r",\s+(?:[a-z]+ing|according to|as|but|while|which|though|although|even as|citing)\b|;\s|\s[—–]\s"
    r"|\s(?:after|before|amid|during)\s(?!(?:he|she|they|it|we|i|the\s+\w+\s+(?:was|were|had|has)))"
)


_HONORIFIC = re.compile(r"(?i)(mrs|ms|miss|mr)\.?$")
_FEMALE_HONORIFIC = re.compile(r"(?i)(mrs|ms|miss)\.?\s")
_MALE_HONORIFIC = re.compile(r"(?i)mr\.?\s")
_ROLE_WORDS_BEFORE = re.compile(r"((?:[a-z][a-z-]+\s+){1,5})$")
_APPOSITION = re.compile(r",\s+(?:a|an|the|who is)\s+([^,.;]{2,70}?)[,.]")


@dataclass
class Entity:
    name: str  # canonical name (tracked) or full name as written
    figure_id: str | None
    gender: str = ""  # "f", "m" or ""
    is_person: bool = True


@dataclass
class Found:
    kind: str
    start: int  # statement text (quote marks excluded)
    end: int
    span_start: int  # evaluation span (quote marks included)
    span_end: int
    mention: Mention | None
    entity: Entity | None
    cue: str = ""
    group: int = 0
    para: int = 0
    cue_pos: int = -1
    extra_spans: list[tuple[int, int]] = field(default_factory=list)


# ------------------------------------------------------------------ entity tracking


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
        self._prepass()

    _CAPSEQ = re.compile(
        r"(?:@\w+)|\b(?:(?:[A-Z][\w'’.-]*|de|van|von|der|da|del|bin|al)\s+){0,6}[A-Z][\w'’-]*(?:\s+(?:Jr|Sr)\.?)?"
    )

    def _prepass(self) -> None:
        masked = self.masked
        # words written in lower case somewhere, and capitalised words seen mid-sentence (so names):
        # "Physician" or "Such" opening a sentence is a common word, "Lynn" is not
        self.lower_words = set(re.findall(r"\b[a-z][a-z'’-]+\b", masked))
        self.mid_caps = set(re.findall(r"(?<=[a-z,] )[A-Z][\w'’-]+", masked))
        for m in self._CAPSEQ.finditer(masked):
            toks = tokens_in(masked, m.start(), m.end())
            segments: list[list[tuple[int, int, str]]] = [[]]
            for t in toks:  # "the Chiefs. Lynn": two mentions, never one name across a sentence
                segments[-1].append(t)
                if ends_sentence(t[2]):
                    segments.append([])
            for seg in segments:
                self._register(trim_name(seg))
        # subjects of speech verbs ("Michael Sims said his company ..."), so that a "he said" after a
        # reported-speech sentence finds that speaker even before reported speech is attributed
        for cm in CUE_RE.finditer(masked):
            men = subject_before(masked, max(0, cm.start() - 150), cm.start())
            if men is not None and men.kind == "name":
                ent = self._resolve_name(men.text, men.start, title=men.title)
                if ent is not None and ent.is_person:
                    self.said_by.append((men.start, ent))
        self.history.sort(key=lambda c: c[0])
        self.said_by.sort(key=lambda c: c[0])

    def _register(self, seg: list[tuple[int, int, str]]) -> None:
        if not seg:
            return
        masked = self.masked
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
        self.history.append((s, ent))
        if ent.figure_id:
            self.present.add(ent.figure_id)
        if not ent.is_person:
            return
        if len(ent.name.split()) >= 2:
            self.by_surname.setdefault(norm_name(ent.name).split()[-1], []).append((s, ent))
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
                return Entity(idx.figures[fid].name, fid, _figure_gender(idx.figures[fid]))
            if _HONORIFIC.match(title.split()[-1]):
                name = f"{title.split()[-1]} {name}"  # keep the honorific for gender
        ids = idx.lookup_exact(name)
        if len(ids) > 1:
            ids = {i for i in ids if i in self.present} or ids
        if len(ids) == 1:
            fid = next(iter(ids))
            f = idx.figures[fid]
            return Entity(f.name, fid, _figure_gender(f))
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
            fids = idx.surname.get(w, set())
            if len(fids) > 1:
                fids = {i for i in fids if i in self.present}
            if len(fids) == 1:
                fid = next(iter(fids))
                f = idx.figures[fid]
                return Entity(f.name, fid, _figure_gender(f))
            lids = {i for i in idx.lastname.get(w, set()) if i in self.present}
            if len(lids) == 1:
                fid = next(iter(lids))
                f = idx.figures[fid]
                return Entity(f.name, fid, _figure_gender(f))
            if looks_like_org(bare) or len(w) < 2:
                return Entity(bare, None, "", is_person=False)
            if w in self.lower_words and bare not in self.mid_caps and not gender:
                return None  # a common word opening a sentence or heading ("Physician", "Save")
            if name != bare or gender:
                return Entity(bare, None, gender)
            # single capitalised word, never seen with a first name: keep as written
            return Entity(bare, None, gender, is_person=not looks_like_org(name))
        if looks_like_org(name):
            return Entity(name, None, "", is_person=False)
        # "Van Der Beek" after "James Van Der Beek": the fuller name the article gave
        key = norm_name(bare)
        for _, ent in reversed(self.by_surname.get(key.split()[-1], [])):
            if ent.name != bare and norm_name(ent.name).endswith(" " + key):
                return ent
        return Entity(bare, None, gender)

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
                    return Entity(f.name, fid, _figure_gender(f))
            # "the billionaire said" right after someone spoke: that speaker
            want = "f" if head in FEMALE_ROLES else ""
            for p, ent in reversed(self.speakers):
                if p < pos and pos - p < 1500 and ent.is_person and (not want or ent.gender != "m"):
                    return ent
            return None
        return None

    def note_speaker(self, pos: int, ent: Entity | None) -> None:
        if ent is not None and ent.is_person:
            bisect.insort(self.speakers, (pos, ent), key=lambda c: c[0])

    @staticmethod
    def _before(entries: list[tuple[int, Entity]], pos: int, window: int) -> list[tuple[int, Entity]]:
        """The entries (sorted by position) in [pos - window, pos): a bisection, so resolving stays linear."""
        hi = bisect.bisect_left(entries, pos, key=lambda c: c[0])
        lo = bisect.bisect_left(entries, pos - window, key=lambda c: c[0])
        return entries[lo:hi]


def _figure_gender(f: Figure) -> str:
    for a in f.aliases:
        if _FEMALE_HONORIFIC.match(a):
            return "f"
        if _MALE_HONORIFIC.match(a):
            return "m"
    return ""


# ------------------------------------------------------------------ extraction


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in "\"“”'‘’«»„"):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in ",\"“”'‘’«»„;:"):
        e -= 1
    return s, e


_LEAD = re.compile(r"^[\s,;:—–-]*")
_OPENER = re.compile(r"\s*(?:(?:But|And|So|Then|Later|Still|Now|Instead),?\s+)?")
# (cue verb, cue start, cue end, speaker mention)
Cue = tuple[str, int, int, Mention]


def _find_cue_after(masked: str, lo: int, hi: int) -> Cue | None:
    """After a quote: ', said X' / ', X said' / ', he added' / ', according to X'."""
    seg = masked[lo:hi]
    m_lead = _LEAD.match(seg)
    lead = m_lead.end() if m_lead else 0
    if lead == len(seg):
        return None
    # inverted: cue first
    m = CUE_RE.match(seg, lead)
    if m is None:
        m2 = re.match(r"(?:also|later|then|further|again)\s+", seg[lead:])
        if m2:
            m = CUE_RE.match(seg, lead + m2.end())
    if m is not None:
        men = mention_after(masked, lo + m.end() + (1 if seg[m.end() : m.end() + 1] == " " else 0), hi)
        if men is not None:
            return m.group().lower(), lo + m.start(), lo + m.end(), men
        return None
    # subject first: nearest cue within a few words
    for m in CUE_RE.finditer(seg, lead):
        if m.start() - lead > 140:
            break
        between = seg[lead : m.start()]
        if re.search(r"[!?;]\s|(?<!\b[A-Z])(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr))(?<!\b(?:Mrs|Sen|Rep|Gov|Gen))\.\s", between):
            break
        men = subject_before(masked, lo + lead, lo + m.start())
        if men is not None:
            gap = masked[lo + lead : men.start]
            # '"...," Senate minority leader Harry Reid told reporters': titles before the name
            if men.start - (lo + lead) <= 2 or (
                len(gap.split()) <= 5 and not re.search(r"[,;:()]", gap) and not CUE_RE.search(gap)
            ):
                return m.group().lower(), lo + m.start(), lo + m.end(), men
        if len(between.split()) > 14:
            break
    return None


def _find_cue_before(masked: str, lo: int, hi: int) -> Cue | None:
    """Before a quote, in the same sentence: 'X said, ', 'X told reporters: ', 'According to X, '."""
    seg = masked[lo:hi]
    best = None
    for m in CUE_RE.finditer(seg):
        best = m
    if best is None:
        return None
    cs, ce = lo + best.start(), lo + best.end()
    cue = best.group().lower()
    if cue == "according to":
        men = mention_after(masked, ce + 1, hi)
        if men is not None:
            return cue, cs, ce, men
        return None
    men = subject_before(masked, lo, cs)
    if men is None and cue not in _OBJECT_VERBS:
        # 'Said Trump: "..."'; never 'told reporters' (the addressee is not the speaker)
        men = mention_after(masked, ce + 1, hi)
        if men is not None and men.start > ce + 2:
            men = None
    if men is None:
        return None
    return cue, cs, ce, men


def _subject_of_sentence(masked: str, lo: int, hi: int) -> Cue | None:
    """'Clinton has since apologized for what happened:' -> (verb, Clinton)."""
    seg = masked[lo:hi]
    m = _OPENER.match(seg)
    start = lo + (m.end() if m else 0)
    men = mention_after(masked, start, hi)
    if men is None or men.kind == "role" and men.head in NONPERSON_ROLES:
        return None
    vm = re.match(
        r"\s*(?:,[^,]{1,80},\s*)?(?:(?:has|had|have|also|then|later|once|again|since)\s+){0,3}([a-z]+(?:ed|s))\b",
        masked[men.end : hi],
    )
    if not vm:
        return None
    return vm.group(1), men.end + vm.start(1), men.end + vm.end(1), men


def _post_start(text: str, masked: str, paras: list, last: int, taken: set[int], author: str) -> int:
    """First paragraph of an embedded post whose last paragraph is `last`: a post keeps its lines
    (text, then a link line), while the article's own words about it stop the walk back: a speech
    verb, the author's name, a line ending with ':' or a long paragraph of prose."""
    surname = author.split()[-1].lower() if author.split() else ""
    first, total = last, paras[last].end - paras[last].start
    while first > 0 and last - first < 5 and first - 1 not in taken:
        p = paras[first - 1]
        line = text[p.start : p.end]
        total += len(line)
        if (
            len(line) > 200
            or total > 700
            or line.rstrip().endswith(":")
            or _SIGNATURE.match(line)
            or CUE_RE.search(masked[p.start : p.end])
            or (surname and surname in line.lower())
        ):
            break
        first -= 1
    return first


def _sentence_of(sents: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(sents, pos, key=lambda se: se[0]) - 1  # spans are in order, apart (issue 10)
    if i >= 0 and sents[i][0] <= pos < sents[i][1]:
        return sents[i]
    return sents[-1] if sents else (pos, pos)


class _ParaSpans:
    """The statements of one paragraph (out[lo:], growing as they are found) by span start: an
    overlap query looks only at spans starting within the longest span's length before its window,
    so a paragraph with thousands of statements stays linear (issue 10; was a scan per sentence)."""

    def __init__(self, out: list[Found], lo: int):
        self.out, self.seen = out, lo
        self.starts: list[int] = []
        self.finds: list[Found] = []
        self.longest = 0

    def overlapping(self, lo: int, hi: int) -> list[Found]:
        while self.seen < len(self.out):
            f = self.out[self.seen]
            self.seen += 1
            i = bisect.bisect_right(self.starts, f.span_start)
            self.starts.insert(i, f.span_start)
            self.finds.insert(i, f)
            self.longest = max(self.longest, f.span_end - f.span_start)
        a = bisect.bisect_left(self.starts, lo - self.longest)
        b = bisect.bisect_left(self.starts, hi)
        return [f for f in self.finds[a:b] if f.span_start < hi and f.span_end > lo]


MAX_SENTENCE = 1500  # characters; real sentences are far shorter, and every cue re-reads its sentence


def _bounded(masked: str, sents: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences longer than MAX_SENTENCE (unpunctuated junk) cut at spaces into pieces that are not,
    so that the work per cue and per modelled sentence stays bounded and the pass linear (issue 10)."""
    out = []
    for lo, hi in sents:
        while hi - lo > MAX_SENTENCE:
            cut = masked.rfind(" ", lo + MAX_SENTENCE // 2, lo + MAX_SENTENCE)
            cut = cut + 1 if cut > lo else lo + MAX_SENTENCE
            out.append((lo, cut))
            lo = cut
        out.append((lo, hi))
    return out


def extract(text: str, figures: list[Figure], persons_only: bool = True, use_model: bool = True) -> list[Found]:
    idx = build_alias_index(figures)
    paras = paragraphs(text)
    quotes = find_quotes(text, paras)
    masked = mask_quotes(text, quotes)
    tracker = Tracker(text, masked, idx)
    out: list[Found] = []
    group = 0

    # embedded social posts: a paragraph followed by a "— Name (@handle) date" line
    post_paras: set[int] = set()
    for pi, p in enumerate(paras):
        m = _SIGNATURE.match(text[p.start : p.end])
        if m and pi > 0:
            body = paras[pi - 1]
            post_paras.update((pi - 1, pi))
            ns, ne = p.start + m.start("name"), p.start + m.end("name")
            men = Mention(ns, ne, text[ns:ne], "name")
            ent = tracker._resolve_name(men.text, ns) if men.text.strip() else None
            if ent is None or ent.figure_id is None:
                hs, he = p.start + m.start("handle"), p.start + m.end("handle")
                ids = idx.lookup_exact(text[hs:he])
                if len(ids) == 1:
                    fig = idx.figures[next(iter(ids))]
                    ent = Entity(fig.name, fig.id, _figure_gender(fig))
            first = _post_start(text, masked, paras, pi - 1, post_paras, ent.name if ent else men.text)
            post_paras.update(range(first, pi))
            s, e = _trim(text, paras[first].start, body.end)
            group += 1
            out.append(Found("post", s, e, paras[first].start, body.end, men, ent, "posted", group, first))

    by_para: dict[int, list[Quote]] = {}
    for q in quotes:
        by_para.setdefault(q.para, []).append(q)

    last_direct: Found | None = None
    for pi, p in enumerate(paras):
        if pi in post_paras:
            continue
        para = _ParaSpans(out, len(out))  # this paragraph's statements, out[len(out):] as they come
        sents = _bounded(masked, sentences(masked, p.start, p.end))
        pqs = by_para.get(pi, [])
        quote_sents: set[tuple[int, int]] = set()
        prev_in_para: Found | None = None
        for qi, q in enumerate(pqs):
            s_lo, s_hi = _sentence_of(sents, q.start)
            if q.end > s_hi:
                s_hi = q.end
            # other quotes of the same sentence bound the frames
            # quotes are in order and apart: the neighbours are the previous and the next one (issue 10)
            prev_q_end = s_lo
            if qi and s_lo < pqs[qi - 1].end <= q.start:
                prev_q_end = pqs[qi - 1].end
            next_q_start = pqs[qi + 1].start if qi + 1 < len(pqs) and pqs[qi + 1].start < s_hi else s_hi
            inner = text[q.inner_start : q.inner_end]
            n_words = len(inner.split())
            ts, te = _trim(text, q.inner_start, q.inner_end)
            if te <= ts:
                continue
            hit = _find_cue_after(masked, q.end, next_q_start)
            if hit is None and next_q_start >= s_hi - 1 and q.end >= s_hi - 2:
                # '"...?" Graham asked.': the splitter ended the sentence at the quote
                nxt = [o.start for o in pqs[qi + 1 :]]
                n_hi = min([_sentence_of(sents, min(s_hi + 1, p.end - 1))[1]] + nxt)
                if n_hi > q.end:
                    hit = _find_cue_after(masked, q.end, n_hi)
            if hit is None:
                hit = _find_cue_before(masked, prev_q_end, q.start)
            if hit is None and masked[prev_q_end : q.start].strip().endswith(":"):
                # 'Clinton has since apologized for what happened: "..."': the sentence's subject
                hit = _subject_of_sentence(masked, prev_q_end if prev_q_end > s_lo else s_lo, q.start)
            if hit is None:
                # '"..." ― Beck Pimentel' (a quote signed with a dash)
                sm = re.match(
                    r"\s*[―—–]\s*([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4})\s*$", masked[q.end : next_q_start]
                )
                if sm:
                    ms = q.end + sm.start(1)
                    hit = ("―", q.end, q.end, Mention(ms, q.end + sm.end(1), sm.group(1), "name"))
            pre = masked[prev_q_end : q.start].strip()
            starts_clause = (
                pre == "" or pre.endswith((":", ",", "—", "–")) and not re.search(r"\b(?:that|as|of)\s*,?$", pre)
            )
            first_char = text[ts] if ts < te else ""
            kind = "direct"
            if not starts_clause or (first_char.islower() and pre != ""):
                kind = "partial"
            if hit is None:
                # continuation: a quote with no cue, after a quote from the same paragraph, or at the
                # start of a paragraph right after one with a direct quote (or a "said:" intro)
                prev = prev_in_para or (last_direct if last_direct is not None and last_direct.para == pi - 1 else None)
                if prev is not None and kind == "direct" and prev.kind in ("direct",):
                    same_group = prev_in_para is not None
                    f = Found(
                        "direct",
                        ts,
                        te,
                        q.start,
                        q.end,
                        prev.mention,
                        prev.entity,
                        prev.cue,
                        prev.group if same_group else group + 1,
                        pi,
                    )
                    if not same_group:
                        group += 1
                    if prev.para != pi and not _was_open(quotes, prev):
                        f.group = group
                    out.append(f)
                    prev_in_para = f
                    last_direct = f
                    quote_sents.add((s_lo, s_hi))
                    continue
                if pi > 0 and kind == "direct" and pre == "":
                    pp = paras[pi - 1]
                    ptxt = masked[pp.start : pp.end].rstrip()
                    if ptxt.endswith(":"):
                        psents = sentences(masked, pp.start, pp.end)
                        ls, le = psents[-1] if psents else (pp.start, pp.end)
                        hit = _find_cue_before(masked, ls, pp.start + len(ptxt) - 1)
                if hit is None:
                    continue
            cue, cs, ce, men = hit
            if prev_in_para is not None and prev_in_para.cue_pos == cs and cs >= 0 and starts_clause:
                # '"A," he said, "B."' (B may go on in lower case): one quote interrupted by its cue
                f = Found(
                    "direct",
                    ts,
                    te,
                    q.start,
                    q.end,
                    prev_in_para.mention,
                    prev_in_para.entity,
                    cue,
                    prev_in_para.group,
                    pi,
                    cue_pos=cs,
                )
                out.append(f)
                prev_in_para = f
                last_direct = f
                continue
            if kind == "partial" and (n_words < 2 or not _partial_ok(text, masked, q, hit)):
                continue
            ent = tracker.resolve(men, men.start, s_lo)
            if ent is None and men.kind == "name":
                continue  # not a name after all ("Physician said" under a heading)
            group += 1
            f = Found(kind, ts, te, q.start, q.end, men, ent, cue, group, pi, cue_pos=cs)
            out.append(f)
            tracker.note_speaker(men.start, ent)
            quote_sents.add((s_lo, s_hi))
            if kind == "direct":
                prev_in_para = f
                last_direct = f
        # multi-paragraph quotes: a quote left open continues in the next paragraph
        # (handled by the continuation rule above, since that paragraph opens with a quote)

        # reported speech, sentence by sentence
        for s_lo, s_hi in sents:
            _indirect(text, masked, s_lo, s_hi, pi, tracker, out, para)
            if use_model:
                _modelled(text, masked, s_lo, s_hi, pi, tracker, out, para)
    for f in out:
        f.group = f.group or 0
    out.sort(key=lambda f: (f.start, f.end))
    # partial quotes inside a reported-speech clause are part of it
    ind: dict[int, list[Found]] = {}
    for f in out:
        if f.kind == "indirect":
            ind.setdefault(f.para, []).append(f)
    out = [
        f
        for f in out
        if not (f.kind == "partial" and any(i.start <= f.start and f.end <= i.end + 2 for i in ind.get(f.para, [])))
    ]
    if persons_only:
        out = [f for f in out if _keep_person(f)]
    return out


def _partial_ok(text: str, masked: str, q: Quote, hit: Cue) -> bool:
    """A partial quote needs its cue close by, and is not a quoted modifier ('"America first" supporters')."""
    cue, cs, ce, men = hit
    if cs > q.end:
        gap = cs - q.end
    else:
        gap = q.start - ce
    if gap > 60:
        return False
    after = masked[q.end : q.end + 30]
    before = masked[max(0, q.start - 20) : q.start]
    if (
        re.match(r"\s+[a-z]+", after)
        and re.search(r"(?:['’]s|\b(?:his|her|their|its|the|a|an|our|my))\s*$", before)
        and not re.match(r"\s+(?:and|or|but|for|to|in|on|at|of|as|that|because|which|who|with|from|by)\b", after)
    ):
        return False
    return True


def _was_open(quotes: list[Quote], f: Found) -> bool:
    for q in quotes:
        if q.start == f.span_start:
            return not q.closed
    return False


_GROUP_COUNTER = [100000]


def _indirect(
    text: str,
    masked: str,
    s_lo: int,
    s_hi: int,
    pi: int,
    tracker: Tracker,
    out: list[Found],
    para: _ParaSpans,
) -> None:
    sent = masked[s_lo:s_hi]
    # direct quotes already claimed this sentence's cue?
    claimed = para.overlapping(s_lo, s_hi)
    for m in CUE_RE.finditer(sent):
        cue = m.group().lower()
        cs, ce = s_lo + m.start(), s_lo + m.end()
        if any(
            f.kind in ("direct", "partial")
            and f.mention is not None
            and (abs(cs - f.span_end) < 80 or abs(f.span_start - ce) < 60)
            and f.cue == cue
            for f in claimed
        ):
            # the cue of a direct quote ("Trump said, "...") is not also reported speech
            continue
        if cue == "according to":
            men = mention_after(masked, ce + 1, s_hi)
            if men is None:
                continue
            before = masked[s_lo:cs].strip()
            if before == "":
                # "According to X, CLAUSE."
                rest = masked[men.end : s_hi]
                cm = re.match(r"[^,]{0,80}?,\s*", rest)
                if not cm:
                    continue
                cstart = men.end + cm.end()
                cend = s_hi
            else:
                cstart, cend = s_lo, cs
            _add_indirect(text, masked, cstart, cend, men, cue, pi, tracker, out, para, cut=False, sent_lo=s_lo)
            continue
        if cue in _NON_INDIRECT and cue not in ("told", "tells", "tell"):
            continue
        men = subject_before(masked, s_lo, cs)
        if men is not None and _preposed(text, masked, s_lo, s_hi, cue, ce, men, pi, tracker, out, para):
            continue
        # post-posed: "CLAUSE, X said." / "CLAUSE, said X."
        before = masked[s_lo:cs]
        if not re.search(r",\s*(?:\S+\s+){0,8}$", before) and not re.search(r",\s*$", before):
            continue
        comma = before.rfind(",")
        if comma < 0:
            continue
        if CUE_RE.search(before[:comma]) and not re.search(r"\bthat\b", before[:comma]):
            pass
        men2 = subject_before(masked, s_lo + comma + 1, cs)
        if men2 is None or (men2.title_start if men2.title else men2.start) - (s_lo + comma + 1) > 2:
            men2 = mention_after(masked, ce + 1, s_hi)
            if men2 is None or masked[s_lo + comma + 1 : cs].strip():
                continue
        after_cue = masked[ce:s_hi]
        if not re.match(r"^[\s\w,.'’-]{0,60}[.!?]?\s*$", after_cue):
            continue
        cstart, cend = s_lo, s_lo + comma
        body = masked[cstart:cend]
        if "qqq" in body and not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}\s", body.replace("q", "")):
            continue  # that was a direct quote
        _add_indirect(text, masked, cstart, cend, men2, cue, pi, tracker, out, para, cut=False, sent_lo=s_lo)


def _preposed(
    text: str,
    masked: str,
    s_lo: int,
    s_hi: int,
    cue: str,
    ce: int,
    men: Mention,
    pi: int,
    tracker: Tracker,
    out: list[Found],
    para: _ParaSpans,
) -> bool:
    """'X said (that) CLAUSE' / 'X told Y (that) CLAUSE'. False when the sentence may instead be
    post-posed ('CLAUSE, X said on Monday.'), so the caller tries that reading."""
    start = men.title_start if men.title else men.start
    done = not masked[s_lo:start].rstrip().endswith(",")
    # "X said (that) CLAUSE" / "X told Y (that) CLAUSE"
    after = ce
    rest = masked[after:s_hi]
    if cue in _OBJECT_VERBS:
        om = re.match(
            r"\s+(?:(?:the|a|an|his|her|their)\s+)?(?:[A-Z][\w.'’&-]*\s+){0,5}?(?:[A-Z][\w.'’&-]*|reporters|"
            r"him|her|them|us|me|supporters|voters|lawmakers|the\s+\w+|an?\s+\w+(?:\s+\w+)?|\w+)(?=\s+that\b|\s*,|\s+(?:he|she|they|it|we|i|the)\b)",
            rest,
        )
        if om:
            rest_off = om.end()
        else:
            rest_off = 0
    else:
        rest_off = 0
    dm = _DATE_ADJUNCT.match(rest[rest_off:])
    if dm:
        rest_off += dm.end()
    tail = rest[rest_off:]
    lead = len(tail) - len(tail.lstrip(" ,"))
    tail2 = tail[lead:]
    if tail2.startswith(('"', "“", "'", "‘", ":")) or tail2 == "":
        return done
    if cue in _OBJECT_VERBS and not rest_off and cue in ("told", "tells", "tell"):
        return done
    has_that = tail2.startswith("that ")
    if cue in _INDIRECT_ONLY_THAT and not has_that:
        return done
    if cue in ("added", "adds", "adding", "add") and not (has_that or _PRONOUN_CLAUSE.match(tail2)):
        return done  # "Ovechkin added a goal", "The team added a late touchdown": not speech
    if not has_that and not _THAT_CLAUSE_START.match(tail2):
        return done
    if not has_that and re.match(r"(?:on|in|at|to|for|with|by|of|about|from)\b", tail2):
        return done
    cstart = after + rest_off + lead + (5 if has_that else 0)
    _add_indirect(text, masked, cstart, s_hi, men, cue, pi, tracker, out, para, cut=True, sent_lo=s_lo)
    return True


_PRONOUN_OR_THAT = re.compile(r"\s*(?:,\s*)?(?:that\b|(?:he|she|they|we|i|it)\b)", re.I)
_SCARE_QUOTE = re.compile(r"[\"“”„«»][^\"“”„«»\s]+[\"“”„«»]")  # one quoted word: "war"
MODEL_MIN_WORDS = 3  # 2 gave the same dev F1 at lower precision


def _modelled(
    text: str, masked: str, s_lo: int, s_hi: int, pi: int, tracker: Tracker, out: list[Found], para: _ParaSpans
) -> None:
    """Attributions the rules missed in this sentence, from the sequence model (pipeline.statements.model)."""
    from pipeline.statements.model import tag_sentence

    if not _has_free_words(text, para.overlapping(s_lo, s_hi), s_lo, s_hi):
        return  # every content the model could tag would overlap the rules' statements: skip the tagging
    for t in tag_sentence(text, masked, s_lo, s_hi):
        cs, ce = t.content
        if len(text[cs:ce].split()) < MODEL_MIN_WORDS:
            continue
        if para.overlapping(cs, ce):
            continue  # the rules have this one
        cue = text[t.cue[0] : t.cue[1]].lower() if t.cue is not None else ""
        sports_add = cue.startswith("add") and t.cue is not None and not _PRONOUN_OR_THAT.match(text, t.cue[1], cs + 1)
        if sports_add or _SCARE_QUOTE.search(text, cs, ce):
            continue  # never around a scare quote the rules turned down ('to go to "war"'), nor "added a touchdown"
        # said, told, believes: reported speech; "wants to", "seemed to back", "called for": a stance
        kind = "indirect" if cue and CUE_RE.fullmatch(cue) else "stance"
        if t.source is not None:
            men = _source_mention(text, masked, *t.source)
        elif t.cue is None:
            continue  # a statement needs a speaker
        else:  # no source tagged: the subject of the tagged cue, as the rules find it
            men = subject_before(masked, s_lo, t.cue[0]) or mention_after(masked, t.cue[1] + 1, s_hi)
        if men is None:
            continue  # a statement needs a speaker
        ent = tracker.resolve(men, men.start, s_lo)
        if ent is None and men.kind == "name":
            continue
        _GROUP_COUNTER[0] += 1
        # not noted as a speaker: a pronoun later on resolves through the rules' speakers only
        out.append(Found(kind, cs, ce, cs, ce, men, ent, cue, _GROUP_COUNTER[0], pi))


def _has_free_words(text: str, taken: list[Found], lo: int, hi: int) -> bool:
    """Does text[lo:hi] hold MODEL_MIN_WORDS words in a row outside the statements taken? A modelled
    content is kept only there, and a stretch's substrings never hold more words than it does."""
    at = lo
    for a, b in sorted((f.span_start, f.span_end) for f in taken):
        if a > at and len(text[at : min(a, hi)].split()) >= MODEL_MIN_WORDS:
            return True
        at = max(at, b)
    return at < hi and len(text[at:hi].split()) >= MODEL_MIN_WORDS


def _source_mention(text: str, masked: str, ss: int, se: int) -> Mention | None:
    """The speaker mention inside a tagged Source span: its name, pronoun or role noun phrase."""
    src = text[ss:se]
    low = src.lower()
    if low in PERSON_PRONOUNS or low in ("he", "she", "it", "they", "we", "i"):
        return Mention(ss, se, src, "pronoun", low)
    men = name_before(masked, ss, se)
    if men is not None:
        return men
    words = src.split()
    if not words:
        return None
    return Mention(ss, se, src, "role", words[-1].lower().strip(".,"))


def _add_indirect(
    text: str,
    masked: str,
    cstart: int,
    cend: int,
    men: Mention,
    cue: str,
    pi: int,
    tracker: Tracker,
    out: list[Found],
    para: _ParaSpans,
    cut: bool,
    sent_lo: int | None = None,
) -> None:
    if cut:
        cm = _CLAUSE_CUT.search(masked, cstart, cend)
        if cm and len(masked[cstart : cm.start()].split()) >= 4:
            cend = cm.start()
    s, e = cstart, cend
    while s < e and text[s] in " ,":
        s += 1
    dm = _DATELINE.match(text, s, e)
    if dm:
        s = dm.end()  # "WASHINGTON (AP) — ": the dateline is not what was said
    while e > s and (text[e - 1].isspace() or text[e - 1] in ".,;:!?"):
        e -= 1
    if len(text[s:e].split()) < 3:
        return
    # a reported-speech clause that is only a direct quote is already covered
    if any(f.kind == "direct" and f.span_start <= s and f.span_end >= e for f in para.overlapping(s, e)):
        return
    if any(f.kind == "indirect" and f.start == s and f.end == e for f in para.overlapping(s, e)):
        return
    ent = tracker.resolve(men, men.start, sent_lo)
    if ent is None and men.kind == "name":
        return
    _GROUP_COUNTER[0] += 1
    out.append(Found("indirect", s, e, s, e, men, ent, cue, _GROUP_COUNTER[0], pi))
    tracker.note_speaker(men.start, ent)


def _keep_person(f: Found) -> bool:
    """Pipeline view: statements by people only (not outlets, polls, documents or anonymous groups)."""
    m = f.mention
    if m is None:
        return False
    if f.entity is not None:
        return f.entity.is_person
    if m.kind == "pronoun":
        return False
    if m.kind == "role":
        return m.head not in GENERIC_ROLES and m.head not in NONPERSON_ROLES and not m.head.endswith("s")
    return not looks_like_org(m.text)


# ------------------------------------------------------------------ public API


def speaker_kind(f: Found) -> SpeakerKind:
    """'person', 'organization' (an outlet, agency, party, document) or 'unknown' (an unresolved pronoun, "officials")."""
    m = f.mention
    if f.entity is not None:
        return "person" if f.entity.is_person else "organization"
    if m is None or m.kind == "pronoun":
        return "unknown"
    if m.kind == "role":
        if m.head in NONPERSON_ROLES:
            return "organization"
        if m.head in GENERIC_ROLES or m.head.endswith("s"):
            return "unknown"
        return "person"
    return "organization" if looks_like_org(m.text) else "person"


def _continues(text: str, head: Found, a: Found, b: Found) -> bool:
    """Is b (grouped with a by extract) the same statement as the record headed by head?

    Yes for a quote cut by its cue ('"A," he said, "B."' or '"A," he said. "B."') and for a quote
    left open across a paragraph break. No when b has a speech verb of its own in between
    ('"A," adding, "B."'): that is a second statement by the same speaker.
    """
    if b.kind != "direct" or a.kind != "direct":
        return False
    gap_lo, gap_hi = a.span_end, b.span_start
    for m in CUE_RE.finditer(text, gap_lo, gap_hi):
        if m.start() != head.cue_pos:
            return False
    return True


def attribute_statements(text: str, figures: list[Figure]) -> list[Statement]:
    """Statements in an article's text (paragraphs separated by "\\n"), attributed to speakers.

    One record per statement: the fragments of an interrupted quote ('"A," he said, "B."') and the
    cue-less continuations of a quote in the same paragraph are one record, whose `fragments` keep
    each piece's offsets. These records are what the statements index stores and what
    `newsmon eval statements` scores.
    """
    from pipeline.statements.novelty import statement_key

    groups: dict[int, list[Found]] = {}
    for f in extract(text, figures, persons_only=False):
        if f.mention is not None:
            groups.setdefault(f.group, []).append(f)
    records: list[list[Found]] = []
    for group in groups.values():
        group.sort(key=lambda f: f.start)
        records.append([group[0]])
        for f in group[1:]:
            if _continues(text, records[-1][0], records[-1][-1], f):
                records[-1].append(f)
            else:
                records.append([f])
    out = []
    for parts in records:
        head = parts[0]
        ent, m = head.entity, head.mention
        assert m is not None
        kind = speaker_kind(head)
        name = ent.name if ent is not None else m.text
        st = Statement(
            speaker_id=ent.figure_id if ent is not None else None,
            speaker_name=name,
            speaker_mention=m.text,
            speaker_kind=kind,
            speaker_title=m.title,
            mention_start=m.start,
            mention_end=m.end,
            text=" ".join(text[f.start : f.end] for f in parts),
            kind=head.kind,
            cue=head.cue,
            start=parts[0].start,
            end=parts[-1].end,
            fragments=[(f.start, f.end) for f in parts] if len(parts) > 1 else [],
        )
        st.key = statement_key(st.speaker_id or st.speaker_name, st.text)
        out.append(st)
    out.sort(key=lambda s: (s.start, s.end))
    return out
