"""Reported speech, sentence by sentence: 'X said (that) CLAUSE', 'CLAUSE, X said', 'According to X,
CLAUSE' by rule (find_indirect), then what the sequence model tags in the words the rules left
(find_modelled; pipeline.statements.model)."""

from __future__ import annotations

import re

from pipeline.statements.cues import CUE_RE, INDIRECT_ONLY_THAT, NON_INDIRECT, OBJECT_VERBS, find_cues
from pipeline.statements.found import Found, ParaSpans
from pipeline.statements.speakers import (
    AGENT_NOUN,
    PERSON_PRONOUNS,
    ROLE_NOUNS,
    Mention,
    mention_after,
    name_before,
    subject_before,
)
from pipeline.statements.tracker import Tracker

_THAT_CLAUSE_START = re.compile(
    r"(?:that\s+)?(?=(?:he|she|they|it|we|i|you|there|the|a|an|his|her|their|its|this|these|those|"
    r"our|no|some|many|most|all|[A-Z][\w'’.-]*|\d)\b)"
)
_DATELINE = re.compile(r"[A-Z][A-Z .,'’-]{2,40}(?:\s*\([^)]{1,30}\))?\s*[—–-]{1,2}\s*")
_PRONOUN_CLAUSE = re.compile(
    r"(?:he|she|they|we|i|it|there)\s+(?:was|were|is|are|would|will|had|has|have|could|did|does|do)\b"
)
_DATE_ADJUNCT = re.compile(
    r"^\s*(?:on\s+|late\s+|early\s+|last\s+|this\s+|in\s+(?:an?|the|his|her|their|its)\s+(?:interview|statement|speech|post|tweet|"
    r"op-ed|letter|email|radio interview|televised interview|TV interview|release|press release|news release|"
    r"blog post|podcast|filing|report)(?:\s+(?:with|on|to)\s+[\w.'’ -]{1,40}?)?\s*,?\s*)?"
    r"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|week|month|year|night|"
    r"morning|afternoon|evening)\b[\w ]{0,20}?\s*,?\s*)?"
)
_CLAUSE_CUT = re.compile(
    r",\s+(?:[a-z]+ing|according to|as|but|while|which|though|although|even as|citing)\b|;\s|\s[—–]\s"
    r"|\s(?:after|before|amid|during)\s(?!(?:he|she|they|it|we|i|the\s+\w+\s+(?:was|were|had|has)))"
)


_GROUP_COUNTER = [100000]
# what may follow a speaker named after the cue, to the end of the sentence: a descriptor
# ("says Jane Roe, an immunologist at X.", "said Roe, who studies X.")
_APPOSITIVE = r"\s*,\s*(?:a|an|the|who|whose|one|his|her|their|[A-Z][\w.&-]*['’]s|(?!(?:and|or|but|then|which|that)\s)(?:[a-z][\w-]*\s+){1,4}(?:at|of|for|with|in|to))\s"
_APPOSITIVE_OPENER = re.compile(_APPOSITIVE)
_APPOSITIVE_TAIL = re.compile(_APPOSITIVE + r"[^\"“”;:]{0,200}?[.!?]?\s*$")


def find_indirect(
    text: str,
    masked: str,
    s_lo: int,
    s_hi: int,
    pi: int,
    tracker: Tracker,
    out: list[Found],
    para: ParaSpans,
) -> None:
    # direct quotes already claimed this sentence's cue?
    claimed = para.overlapping(s_lo, s_hi)
    found = tracker.cues_between(s_lo, s_hi)  # the sentence's speech verbs, from the whole text's
    if found is None:
        low = tracker.masked_lower
        found = [
            (s_lo + m.start(), s_lo + m.end(), m.group())
            for m in find_cues(masked[s_lo:s_hi], low[s_lo:s_hi] if low is not None else None)
        ]
    for cs, ce, words in found:
        cue = words.lower()
        if any(
            f.kind in ("direct", "partial")
            and f.mention is not None
            and (abs(cs - f.span_end) < 80 or abs(f.span_start - ce) < 60)
            and f.cue == cue
            # a partial quote deep in the clause ('told US media that its forces will remain "for years"')
            # leaves the clause to reported speech, which then takes the partial in
            and not (f.kind == "partial" and f.span_start > ce and len(masked[ce : f.span_start].split()) >= 3)
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
        if cue in NON_INDIRECT and cue not in ("told", "tells", "tell"):
            continue
        men = subject_before(masked, s_lo, cs)
        if men is None and _COORDINATED.search(masked, max(s_lo, cs - 12), cs):
            # "He describes X as "exciting," but cautions that ...": the subject of the first verb
            men = _sentence_subject(masked, s_lo, cs)
        if men is not None and _as_clause(text, masked, s_lo, s_hi, cue, ce, men, pi, tracker, out, para):
            continue
        if men is not None and _preposed(text, masked, s_lo, s_hi, cue, ce, men, pi, tracker, out, para):
            continue
        # post-posed: "CLAUSE, X said." / "CLAUSE, said X."
        before = masked[s_lo:cs]
        if not re.search(r",\s*(?:\S+\s+){0,8}$", before) and not re.search(r",\s*$", before):
            continue
        comma = before.rfind(",")
        if comma < 0:
            continue
        lead = subject_before(masked, s_lo, cs)
        if (
            lead is not None
            and lead.kind == "name"
            and masked[s_lo : lead.outer_start].rstrip().endswith(",")
            and _APPOSITIVE_OPENER.match(masked, lead.end)
        ):
            # "CLAUSE, Jane Roe, a chemist at X, said.": the clause ends before the name, not the apposition
            comma = masked.rindex(",", s_lo, lead.outer_start) - s_lo
        if CUE_RE.search(before[:comma]) and not re.search(r"\bthat\b", before[:comma]):
            pass
        men2 = subject_before(masked, s_lo + comma + 1, cs)
        if men2 is None or men2.outer_start - (s_lo + comma + 1) > 2:
            men2 = mention_after(masked, ce + 1, s_hi)
            if men2 is None or masked[s_lo + comma + 1 : cs].strip():
                continue
        # "The cell, Roe said, is always sensing ...", "Apps, says Roe, can teach ...": the clause goes on
        split_at = men2.end if men2.start > ce else ce
        if _APPOSITIVE_OPENER.match(masked, split_at):
            # "This system, says Roe, an immunologist at the University of California, San Francisco, helps
            # direct ...": the clause goes on at the first ", <verb>" after the apposition
            pm = _CLAUSE_GOES_ON.search(masked, split_at, s_hi) if men2.start > ce else None
        else:
            pm = _PARENTHESIS_END.match(masked, split_at, s_hi)
        if pm is not None and len(masked[pm.end() : s_hi].split()) >= 3 and masked[s_lo : s_lo + comma].strip():
            _add_split(text, (s_lo, s_lo + comma), (pm.end(), s_hi), men2, cue, cs, pi, tracker, out, s_lo)
            continue
        after_cue = masked[ce:s_hi]
        if not re.match(r"^[\s\w,.'’-]{0,60}[.!?]?\s*$", after_cue) and not (
            men2.start > ce and _APPOSITIVE_TAIL.match(masked, men2.end, s_hi)
        ):
            continue  # "CLAUSE, says Jane Roe, an immunologist at X." may run longer
        cstart, cend = s_lo, s_lo + comma
        body = masked[cstart:cend]
        if "qqq" in body and not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}\s", body.replace("q", "")):
            continue  # that was a direct quote
        _add_indirect(text, masked, cstart, cend, men2, cue, pi, tracker, out, para, cut=False, sent_lo=s_lo)


# the end of a parenthetical attribution, with the clause going on after it: not 'adding that', 'but',
# a quote or another speech verb
_PARENTHESIS_END = re.compile(
    r"(?:\s+(?:on|last|this|in|at)\s+[\w ]{1,20}?)?\s*,\s+"
    r"(?!(?:[a-z]+ing|and|but|or|while|which|who|as|though|although|according|citing|then|so)\b)(?=[a-z])"
)


def _add_split(
    text: str,
    first: tuple[int, int],
    second: tuple[int, int],
    men: Mention,
    cue: str,
    cs: int,
    pi: int,
    tracker: Tracker,
    out: list[Found],
    sent_lo: int,
) -> None:
    """One reported statement in two pieces around its parenthetical attribution, as one record."""
    if CUE_RE.search(text, second[0], second[1]):
        return  # the second piece has a speech verb of its own: not one statement
    ent = tracker.resolve(men, men.start, sent_lo)
    if ent is None and men.kind == "name":
        return
    _GROUP_COUNTER[0] += 1
    for s, e in (first, second):
        while s < e and text[s] in " ,":
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in ".,;:!?"):
            e -= 1
        out.append(Found("indirect", s, e, s, e, men, ent, cue, _GROUP_COUNTER[0], pi, cue_pos=cs))
    tracker.note_speaker(men.start, ent)


_CLAUSE_GOES_ON = re.compile(
    r",\s+(?=(?:is|are|was|were|has|have|had|will|would|can|could|may|might|should|must|does|did|"
    r"[a-z]{3,}(?<!ss)s|[a-z]{3,}ed)\s)"
)
_COORDINATED_CUE = re.compile(r",?\s+(?:but|and)\s+(?:also\s+|then\s+|later\s+)?" + CUE_RE.pattern + r"\s+that\b", re.I)
_COORDINATED = re.compile(r"(?:,\s*|\s)(?:but|and)\s+(?:also\s+|then\s+|later\s+)?$")


def _sentence_subject(masked: str, s_lo: int, cs: int) -> Mention | None:
    """The name or pronoun opening the sentence, when its verb comes right after it ('Roe said ... and')."""
    men = mention_after(masked, s_lo, cs)
    if men is None or men.kind not in ("name", "pronoun") or masked[s_lo : men.outer_start].strip():
        return None
    vm = re.match(r"\s+(?:also\s+|then\s+)?[a-z]+\b", masked[men.end : cs])
    return men if vm else None


_AS_BEFORE = re.compile(r"(?:^|,)\s*as\s*$", re.I)
_AS_ADJUNCT = re.compile(r"[^,.;:!?\"“”]{0,60}?,\s*")


def _as_clause(
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
    para: ParaSpans,
) -> bool:
    """'As X notes, CLAUSE.' and 'CLAUSE, as X said.': the clause is what X said."""
    start = men.outer_start
    am = _AS_BEFORE.search(masked, s_lo, start)
    if am is None or cue in NON_INDIRECT:
        return False
    cm = _AS_ADJUNCT.match(masked, ce, s_hi)  # "(For example,) as Roe wrote in her book, CLAUSE."
    if cm is not None and len(masked[cm.end() : s_hi].split()) >= 3:
        _add_indirect(text, masked, cm.end(), s_hi, men, cue, pi, tracker, out, para, cut=False, sent_lo=s_lo)
        return True
    # "CLAUSE, as X said.": only when nothing but an adjunct follows the verb
    if masked[s_lo : am.start()].strip() and re.match(r"[^,;:\"“”]{0,40}[.!?]?\s*$", masked[ce:s_hi]):
        _add_indirect(text, masked, s_lo, am.start(), men, cue, pi, tracker, out, para, cut=False, sent_lo=s_lo)
        return True
    return False


# a short prepositional adjunct between a speech verb and its that-clause
_ADJUNCT_THAT = re.compile(
    r"\s*(?:after|before|in|on|at|during|from|via|through|with|to)\s+"
    r"(?:[\w'’.&-]+\s+){0,6}?that\s"
)
_ADDRESSEE_THEN_THAT = re.compile(
    r"\s+(?P<obj>[\w'’-]+)(?:\s+(?:[^.;:!?\"“”]|\.(?=\s*\d)){0,90}?)?\s(?=that\s)"  # "on Oct. 31 that"
)


def _addressee(word: str) -> bool:
    """Can this word head the addressee of 'told' ('reporters', 'investors', 'him', 'CNN')?"""
    low = word.lower()
    return (
        word[:1].isupper()
        or low in ("him", "her", "them", "us", "me", "media", "press", "audience", "crowd", "congress", "parliament")
        or low in ROLE_NOUNS
        or bool(AGENT_NOUN.fullmatch(low.removesuffix("s")))
    )


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
    para: ParaSpans,
) -> bool:
    """'X said (that) CLAUSE' / 'X told Y (that) CLAUSE'. False when the sentence may instead be
    post-posed ('CLAUSE, X said on Monday.'), so the caller tries that reading."""
    start = men.outer_start
    done = not masked[s_lo:start].rstrip().endswith(",")
    # "X said (that) CLAUSE" / "X told Y (that) CLAUSE"
    after = ce
    rest = masked[after:s_hi]
    if cue in OBJECT_VERBS:
        om = re.match(
            r"\s+(?:(?:the|a|an|his|her|their)\s+)?(?:[A-Z][\w.'’&-]*\s+){0,5}?(?:[A-Z][\w.'’&-]*|reporters|"
            r"him|her|them|us|me|supporters|voters|lawmakers|the\s+\w+|an?\s+\w+(?:\s+\w+)?|\w+)(?=\s+that\b|\s*,|\s+(?:he|she|they|it|we|i|the)\b)",
            rest,
        )
        if om:
            rest_off = om.end()
        else:
            # "told reporters at a press conference that", "told investors of Acme, its parent, on Monday that"
            tm = _ADDRESSEE_THEN_THAT.match(rest)
            ok = tm is not None and any(_addressee(w) for w in rest[: tm.end()].split()[:2])  # "local media"
            rest_off = tm.end() if tm is not None and ok else 0
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
    if cue in OBJECT_VERBS and not rest_off and cue in ("told", "tells", "tell"):
        return done
    if not tail2.startswith("that "):
        am = _ADJUNCT_THAT.match(tail2)  # "said after the game that", "wrote in a blog post that"
        if am is not None:
            lead += am.end() - 5
            tail2 = tail2[am.end() - 5 :]
    has_that = tail2.startswith("that ")
    if cue in INDIRECT_ONLY_THAT and not has_that:
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


def find_modelled(
    text: str, masked: str, s_lo: int, s_hi: int, pi: int, tracker: Tracker, out: list[Found], para: ParaSpans
) -> None:
    """Attributions the rules missed in this sentence, from the sequence model (pipeline.statements.model)."""
    from pipeline.statements.model import tag_sentence

    if not _has_free_words(text, para.overlapping(s_lo, s_hi), s_lo, s_hi):
        return  # every content the model could tag would overlap the rules' statements: skip the tagging
    for t in tag_sentence(text, masked, s_lo, s_hi, tracker.text_lower):
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
        if cs <= men.start < ce:
            continue  # "..., says Jane Roe, a chemist at X": the tagged content is the speaker, not what was said
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
    head = mention_after(masked, ss, se)
    if head is not None and head.kind in ("name", "handle") and re.match(r"\s*,", masked[head.end : se]):
        return head  # "Roe, who will chair the board,": the name, not its apposition
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
    para: ParaSpans,
    cut: bool,
    sent_lo: int | None = None,
) -> None:
    if cut:
        cm = _CLAUSE_CUT.search(masked, cstart, cend)
        if cm and len(masked[cstart : cm.start()].split()) >= 4:
            cend = cm.start()
        km = _COORDINATED_CUE.search(masked, cstart, cend)  # "the plan was sound and added that ..."
        if km and len(masked[cstart : km.start()].split()) >= 3:
            cend = km.start()
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
