"""Speech and stance verbs: the cues that introduce a statement, and how each may be used.

CUE_RE finds them in the masked text (quote interiors hidden); the sets say which verbs take only a
that-clause ("believes that"), which never introduce reported speech ("called", "asked") and which
take an addressee before their clause ("told reporters that").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.statements.model import trie_pattern

SPEECH_VERBS = (
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
    "acknowledging|cautioning|vowing|pledging|arguing|warns|according to|"
    # less common speech verbs of feature and science writing ("Vaughan speculates that", "cautions that",
    # "comments Johnston"): present and past forms both
    "speculates|cautions|comments|commented|observes|stresses|stressed|emphasizes|emphasises|emphasised|"
    "remarks|surmised|surmises|theorized|theorizes|theorised|posits|posited|opined|opines|muses|"
    "laments|concludes|elaborated|underscored|underscores|reckons|reckoned|confided|confides|retorts|"
    "recommends|recommended|advises|advised|boasts|brags|affirms|clarifies|testifies|assures|reminds|informs|"
    "exclaims|pleads|scoffs"
)


CUE_RE = re.compile(r"\b(" + trie_pattern(sorted(set(SPEECH_VERBS.split("|")))) + r")\b", re.I)
# The same, case-sensitive, for lower-cased text: a case-blind pattern cannot skip ahead by its first
# letters, and whole-article cue scans took three times as long with it.
CUE_LOWER = re.compile(CUE_RE.pattern)


def lower_same_length(s: str) -> str | None:
    """s in lower case when that keeps every offset, as it does unless s has a letter such as 'İ'."""
    low = s.lower()
    return low if len(low) == len(s) else None


def find_cues(masked: str, lowered: str | None) -> Iterator[re.Match[str]]:
    """CUE_RE's matches in masked, found in its lower-cased copy when there is one (same offsets)."""
    return CUE_LOWER.finditer(lowered) if lowered is not None else CUE_RE.finditer(masked)


# Verbs that introduce reported speech ("X said (that) ...") — mental-state verbs included
# because PolNeAR's attributions cover beliefs too.
# fmt: off
INDIRECT_ONLY_THAT = {
    "believes", "believed", "thinks", "thought", "feels", "felt", "hopes", "hoped", "worries", "worried",
    "fears", "feared", "knows", "knew", "found", "finds", "showed", "shows", "believe", "think", "fear", "hope",
    "revealed", "reveals", "indicated", "indicates", "estimated", "estimates", "agree", "agrees", "agreed",
    "reported", "reports", "report", "posted", "posts", "wrote", "writes", "write", "testified", "testify",
    "recommends", "recommended", "advises", "advised", "remarks", "comments", "testifies",
}
# fmt: on
# fmt: off
NON_INDIRECT = {
    "asked", "asks", "ask", "called", "calls", "calling", "dubbed", "labeled", "labelled", "branded", "termed",
    "critiqued", "criticized", "criticised", "blasted", "slammed", "praised", "touted", "hailed", "decried",
    "denounced", "accused", "accuses", "mocked", "described", "describes", "describing", "shouted", "yelled",
    "yells", "chanted", "chanting", "read", "reads", "offered", "demanded", "continued", "continues",
    "went on", "put it", "texted", "emailed", "answered", "joked", "jokes", "quipped", "quips", "snapped",
    "mused", "scoffed", "fumed", "thundered", "teased", "retorted", "whispered", "exclaimed", "tell",
    "telling", "tells", "told", "exclaims", "scoffs",
}
# fmt: on
OBJECT_VERBS = {
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
    "assures",
    "reminds",
    "informs",
}
