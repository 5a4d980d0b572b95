"""Statements by people in an article's text: direct quotes, partial quotes, reported speech
and embedded social posts, each attributed to a speaker (a tracked figure when possible).

Quote marks are paired (pipeline.statements.quotes), quote interiors are masked so that sentence
splitting and cue search only look at the reporter's words (cues: pipeline.statements.cues), and the
speaker is the noun phrase beside a speech verb (pipeline.statements.speakers). Pronouns and role nouns
resolve to the right earlier person through an entity tracker (pipeline.statements.tracker). This
module finds quotes and embedded posts and makes the records; reported speech, by rule and by the
sequence model, is in pipeline.statements.reported.

Public entry point: attribute_statements(text, figures) -> list[Statement].
`extract(text, figures, persons_only=...)` returns the richer internal records the evaluation uses.
"""

from __future__ import annotations

import bisect
import re

from pipeline.config import Figure
from pipeline.records import SpeakerKind, Statement
from pipeline.statements.cues import CUE_RE, OBJECT_VERBS
from pipeline.statements.found import Cue, Found, ParaSpans
from pipeline.statements.quotes import Quote, find_quotes, mask_quotes, paragraphs, sentences
from pipeline.statements.reported import find_indirect, find_modelled
from pipeline.statements.speakers import (
    GENERIC_ROLES,
    NONPERSON_ROLES,
    Mention,
    build_alias_index,
    looks_like_org,
    mention_after,
    subject_before,
)
from pipeline.statements.tracker import Entity, Tracker, figure_gender

_SIGNATURE = re.compile(r"^[—–-]{1,2}\s*(?P<name>[^()\n]{2,80}?)\s*\((?P<handle>@\w{1,30})\)\s*(?P<date>.{0,40})$")
# ------------------------------------------------------------------ extraction


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in "\"“”'‘’«»„"):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in ",\"“”'‘’«»„;:"):
        e -= 1
    return s, e


_LEAD = re.compile(r"^[\s,;:—–-]*")
_OPENER = re.compile(r"\s*(?:(?:But|And|So|Then|Later|Still|Now|Instead),?\s+)?")


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
    if men is None and cue not in OBJECT_VERBS:
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
                    ent = Entity(fig.name, fig.id, figure_gender(fig))
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
        para = ParaSpans(out, len(out))  # this paragraph's statements, out[len(out):] as they come
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
            find_indirect(text, masked, s_lo, s_hi, pi, tracker, out, para)
            if use_model:
                find_modelled(text, masked, s_lo, s_hi, pi, tracker, out, para)
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
    if b.kind == a.kind == "indirect":
        return a.cue_pos == b.cue_pos >= 0  # a reported clause around its parenthetical ("X, Roe said, Y")
    if b.kind != "direct" or a.kind != "direct":
        return False
    gap_lo, gap_hi = a.span_end, b.span_start
    for m in CUE_RE.finditer(text, gap_lo, gap_hi):
        if m.start() != head.cue_pos and not _NOUN_BEFORE.search(text, max(gap_lo, m.start() - 12), m.start()):
            return False
    return True


# a word that makes the cue after it a noun: "before Bill Clinton's comments", "in his remarks"
_NOUN_BEFORE = re.compile(r"(?:['’]s|(?:the|his|her|their|its|these|those|our|my|your))\s+$", re.I)


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
