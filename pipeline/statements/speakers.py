"""Speaker mentions: finding the noun phrase beside a speech verb, and resolving it to a figure.

Rule-based: capitalised-word sequences for names, small lexicons for pronouns, titles and role
nouns, and an alias index built once per figures list.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pipeline.config import Figure

# fmt: off
PRONOUNS = {"he", "she", "they", "i", "we", "it"}
PERSON_PRONOUNS = {"he", "she", "i", "we", "they"}

TITLE_WORDS = {
    "president", "president-elect", "vice", "vice-president", "former", "sen", "sen.", "senator", "rep", "rep.",
    "representative", "gov", "gov.", "governor", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.",
    "secretary", "speaker", "leader", "attorney", "general", "judge", "justice", "mayor", "gen.", "adm.",
    "chairman", "chairwoman", "chair", "minister", "prime", "candidate", "nominee", "acting", "director",
    "commissioner", "ambassador", "adviser", "advisor", "sir", "lady", "rev.", "reverend", "pope", "king",
    "queen", "prince", "first", "then-candidate", "then-president", "sens.", "reps.", "state", "house",
    "white", "border", "czar", "press", "spokesman", "spokeswoman", "billionaire", "businessman",
    "democratic", "republican", "gop", "presidential", "incoming", "outgoing", "u.s.", "us", "majority",
    "minority", "whip", "host", "anchor", "lt.", "col.", "sgt.", "capt.", "maj.", "deputy", "chief",
    "congressman", "congresswoman", "assemblyman", "assemblywoman", "councilman",
    "councilwoman", "senate", "elect", "republican-nominee", "democratic-nominee",
}
# fmt: on

# capitalised words that start a sentence or clause but are not names
# fmt: off
NON_NAME_CAPS = {
    "the", "a", "an", "in", "on", "at", "but", "and", "or", "yet", "so", "then", "still", "however",
    "meanwhile", "also", "now", "later", "when", "while", "as", "after", "before", "if", "this", "that",
    "these", "those", "for", "with", "without", "by", "from", "to", "of", "since", "because", "although",
    "though", "despite", "during", "earlier", "last", "next", "asked", "speaking", "writing", "instead",
    "indeed", "moreover", "today", "yesterday", "tomorrow", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "here", "there", "his", "her", "their",
    "its", "our", "my", "your", "it", "he", "she", "they", "we", "i", "you", "what", "why", "how",
    "where", "who", "which", "both", "many", "some", "all", "one", "another", "other", "every", "each",
    "no", "not", "even", "only", "just", "perhaps", "maybe", "again", "first", "finally", "separately",
    "additionally", "further", "furthermore", "similarly", "likewise", "nonetheless", "nevertheless",
    "thus", "hence", "therefore", "accordingly", "otherwise", "once", "twice", "rather", "according",
    "read", "update", "watch", "related", "photo", "video", "sources", "officials",
    # headings, captions and sentence-initial words taken for speakers on real pages
    "such", "save", "correction", "corrections", "editor", "editors", "note", "caption", "advertisement",
    "share", "comment", "comments", "subscribe", "listen", "sign", "getty", "images", "file", "credit",
    # object pronouns, capitalised in titles of works ("The Captain and Me"), are never names
    "me", "him", "us", "them", "myself",
}
# fmt: on

# fmt: off
ORG_WORDS = {
    "post", "times", "news", "journal", "department", "agency", "committee", "party", "campaign",
    "house", "congress", "senate", "court", "government", "administration", "inc", "inc.", "corp",
    "corp.", "company", "university", "institute", "center", "centre", "foundation", "council",
    "association", "network", "press", "reuters", "cnn", "fox", "msnbc", "nbc", "abc", "cbs", "bbc",
    "npr", "pbs", "ap", "afp", "tribune", "herald", "gazette", "magazine", "daily", "office", "bureau",
    "service", "commission", "board", "group", "union", "coalition", "organization", "organisation",
    "ministry", "police", "fbi", "cia", "ice", "dhs", "doj", "gop", "dnc", "rnc", "twitter", "facebook",
    "google", "breitbart", "politico", "axios", "bloomberg", "guardian", "telegraph", "examiner",
    "pentagon", "kremlin", "vatican", "army", "navy", "military", "poll", "survey", "study", "report",
    "statement", "democrats", "republicans", "school", "college", "bank", "fund", "trust", "project",
    "policy", "studies", "research", "index", "media", "tv", "radio", "channel", "world", "international",
    "national", "federal", "state", "city", "county", "club", "society", "alliance", "forum", "caucus",
    "nation", "states", "america", "watch", "leaks", "wikileaks", "x", "senators", "command",
    "tumblr", "instagram", "youtube", "tiktok", "reddit", "netflix", "spotify", "rights", "brothers", "band",
}
# fmt: on

# fmt: off
ROLE_NOUNS = {
    "billionaire", "president", "president-elect", "senator", "congressman", "congresswoman", "governor",
    "mayor", "secretary", "spokesman", "spokeswoman", "spokesperson", "official", "officials", "source",
    "sources", "aide", "aides", "adviser", "advisers", "advisor", "advisors", "candidate", "nominee",
    "minister", "ambassador", "chairman", "chairwoman", "chair", "leader", "lawmaker", "lawmakers",
    "analyst", "analysts", "expert", "experts", "critic", "critics", "supporter", "supporters",
    "executive", "businessman", "businesswoman", "mogul", "entrepreneur", "founder", "ceo", "tycoon",
    "democrat", "democrats", "republican", "republicans", "representative", "judge", "justice", "lawyer",
    "attorney", "attorneys", "prosecutor", "prosecutors", "director", "commissioner", "investigators",
    "investigator", "agent", "agents", "witness", "witnesses", "resident", "residents", "voter", "voters",
    "activist", "activists", "organizer", "organizers", "economist", "economists", "strategist",
    "strategists", "pollster", "pollsters", "historian", "professor", "researcher", "researchers",
    "scientist", "scientists", "reporter", "reporters", "host", "anchor", "author", "writer", "columnist",
    "man", "woman", "men", "women", "people", "member", "members", "staffer", "staffers", "veteran",
    "veterans", "mother", "father", "wife", "husband", "daughter", "son", "friend", "friends", "officer",
    "officers", "spokesmen", "representatives", "governors", "senators", "mayors", "insiders", "insider",
    "observers", "diplomat", "diplomats", "manager", "managers", "chief", "head", "counsel", "czar",
    "confidante", "confidant", "ally", "allies", "rival", "rivals", "opponent", "opponents", "operative",
    "operatives", "donor", "donors", "candidates", "congressmen", "leaders", "campaign", "administration",
    "white", "statement", "letter", "report", "poll", "polls", "survey", "study", "studies", "data",
    "document", "documents", "memo", "email", "emails", "complaint", "lawsuit", "ruling", "announcer",
    "protesters", "protester", "students", "student", "workers", "worker", "employees", "employee",
    "americans", "american", "groups", "group", "organization", "company", "firm", "agency", "department",
    "government", "nation", "country", "team", "party", "committee", "court", "police", "authorities",
    "military", "pentagon", "ad", "advertisement", "video", "tweet", "post", "website", "site", "book",
    "article", "paper", "newspaper", "network", "magazine", "outlet", "release", "filing", "records",
    "figures", "numbers", "results", "polling", "estimates", "findings", "evidence", "analysis",
    "observer", "pundit", "pundits", "commentator", "commentators", "presidents", "nominees",
    "administrator", "administrators", "owner", "owners", "chairs", "cofounder", "co-founder",
    "comedian", "actor", "actress", "star", "singer", "player", "coach", "pastor", "bishop", "pope",
    "clerk", "sheriff", "chancellor", "premier", "king", "queen", "prince", "general", "admiral",
    "colonel", "captain", "sergeant", "soldier", "soldiers", "citizen", "citizens", "immigrant",
    "immigrants", "refugee", "refugees", "parent", "parents", "child", "children", "nurse", "doctor",
    "doctors", "physician", "physicians", "teacher", "teachers", "delegate", "delegates", "superdelegates",
    "electors", "everyone", "somebody", "someone", "nobody", "others", "many", "most", "some", "few",
    "staff", "daily", "broadcaster", "tabloid", "ministry", "embassy",
}
# fmt: on
# fmt: off
GENERIC_ROLES = {
    "official", "officials", "source", "sources", "aide", "aides", "analysts", "analyst", "experts", "expert",
    "critics", "critic", "supporters", "people", "man", "woman", "men", "women", "members", "staffers",
    "voters", "residents", "observers", "insiders", "reporters", "lawmakers", "investigators", "agents",
    "protesters", "students", "workers", "employees", "americans", "others", "many", "most", "some", "few",
    "everyone", "someone", "somebody", "nobody", "statement", "letter", "report", "poll", "polls", "survey",
    "study", "studies", "data", "document", "documents", "memo", "email", "emails", "complaint", "lawsuit",
    "ruling", "ad", "advertisement", "video", "tweet", "post", "website", "site", "book", "article", "paper",
    "release", "filing", "records", "figures", "numbers", "results", "polling", "estimates", "findings",
    "evidence", "analysis", "group", "groups", "organization", "company", "firm", "agency", "department",
    "government", "nation", "country", "team", "party", "committee", "court", "police", "authorities",
    "military", "pentagon", "campaign", "administration", "network", "magazine", "newspaper", "outlet",
}
# fmt: on
# fmt: off
NONPERSON_ROLES = {
    "statement", "letter", "report", "poll", "polls", "survey", "study", "studies", "data", "document",
    "documents", "memo", "email", "emails", "complaint", "lawsuit", "ruling", "ad", "advertisement", "video",
    "tweet", "post", "website", "site", "book", "article", "paper", "release", "filing", "records",
    "figures", "numbers", "results", "polling", "estimates", "findings", "evidence", "analysis", "group",
    "groups", "organization", "company", "firm", "agency", "department", "government", "nation",
    "country", "team", "party", "committee", "court", "police", "authorities", "military", "pentagon",
    "campaign", "administration", "network", "magazine", "newspaper", "outlet", "daily", "broadcaster",
    "tabloid", "ministry", "embassy",
}
# fmt: on
# fmt: off
DETERMINERS = {
    "the", "a", "an", "one", "another", "his", "her", "their", "its", "our", "this", "that", "these",
    "those", "some", "many", "several", "two", "three", "four", "other", "most", "few", "both", "each",
    "every", "no", "any", "all", "such",
}
# fmt: on
# fmt: off
FEMALE_ROLES = {"woman", "women", "spokeswoman", "congresswoman", "chairwoman", "businesswoman", "mother",
                "wife", "daughter", "actress", "queen", "mrs.", "ms.", "mrs", "ms"}

_TOKEN = re.compile(r"@\w+|[A-Za-z0-9À-ÿ][\w.'’&À-ÿ-]*|[,;:()—–]")


@dataclass
class Mention:
    start: int
    end: int
    text: str  # for a name: the name only ("Kristi Noem"), its title apart
    kind: str  # "name", "pronoun", "role", "handle"
    head: str = ""  # role noun head / lower pronoun
    title: str = ""  # title, office or descriptor written with the name ("Homeland Security Secretary")
    title_start: int = -1

    @property
    def outer_start(self) -> int:
        """Where the mention begins as written: its title when it has one, else the name."""
        return self.title_start if self.title else self.start


# Words of titles and offices written before a name, in any case ("White House deputy chief of staff",
# "Florida Gov.", "border czar"); a name is what follows the last of them.
# fmt: off
TITLE_LEX = {
    "secretary", "deputy", "chief", "of", "staff", "czar", "border", "press", "policy", "adviser", "advisor",
    "senior", "homeland", "security", "state", "defense", "attorney", "general", "governor", "gov", "sen",
    "senator", "rep", "representative", "congressman", "congresswoman", "president", "vice", "minister",
    "prime", "foreign", "interior", "justice", "treasury", "commerce", "labor", "education", "health",
    "director", "acting", "commissioner", "ambassador", "spokesman", "spokeswoman", "spokesperson", "premier",
    "chancellor",
    "leader", "majority", "minority", "whip", "speaker", "house", "senate", "white", "mayor", "judge",
    "former", "then", "incoming", "outgoing", "ice", "cbp", "dhs", "fbi", "u.s", "us", "federal", "district",
    "ceo", "chairman", "chairwoman", "chair", "founder", "billionaire", "tech", "mr", "mrs", "ms", "dr",
    "gen", "lt", "col", "sgt", "capt", "maj", "adm", "prof", "rev", "the", "democratic", "republican", "gop",
    "national", "executive", "officer", "counsel", "special", "envoy", "strategist", "official",
    "assistant", "associate", "communications", "head", "top", "aide", "lawyer", "immigration",
    "customs", "enforcement", "protection", "department", "agency", "administration", "council",
    "administrator",
}
# fmt: on
_TITLE_ONLY = {w for w in TITLE_LEX if w not in ("of", "the", "u.s", "us", "ice", "cbp", "dhs", "fbi")}
# abbreviated titles -> the role noun they stand for ("the senator" finds "Sen. Alex Padilla")
TITLE_ROLE = {"sen": "senator", "gov": "governor", "rep": "representative", "gen": "general", "atty": "attorney"}


_HYPHENED_TITLE = re.compile(r"[A-Z][a-z]+-[a-z]+")

# Surname-first names: Chinese and Korean names are written family name first ("Xi Jinping", "Moon
# Jae-in"), so a later "Xi said" means Xi Jinping, not someone called "Jinping". A name is taken as
# surname-first only when its first word is a common family name of the language AND the rest has that
# language's shape (pinyin syllables; a Korean given name, hyphened or two short words), so that
# "Lin Wood" or "Lee Zeldin" stay given-name-first.
# fmt: off
CHINESE_SURNAMES = {
    "li", "wang", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
    "guo", "he", "lin", "gao", "luo", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao",
    "peng", "zeng", "xiao", "tian", "dong", "pan", "yuan", "cai", "jiang", "yu", "du", "ye", "cheng", "wei",
    "su", "lu", "ding", "ren", "shen", "yao", "jin", "fu", "zhong", "qian", "wen", "bo", "xi", "mao", "qin",
    "kong", "meng", "bai", "hou", "shi", "yan", "lai", "gu", "xue", "lei", "long", "duan", "hao", "kang",
}
KOREAN_SURNAMES = {
    "kim", "lee", "park", "choi", "jung", "chung", "kang", "cho", "yoon", "jang", "lim", "han", "oh", "seo",
    "shin", "kwon", "hwang", "ahn", "song", "moon", "hong", "yoo", "ko", "ban", "roh", "chun", "yun", "rhee",
}
# fmt: on
_PINYIN = re.compile(
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|iao|ian|uai|uan|ai|ei|ui|ao|ou|iu|ie|ue|er|an|en|in|un|ia|ua|uo|a|o|e|i|u|v))+"
)
_KOREAN_GIVEN = re.compile(r"[A-Z][a-z]{1,5}-[a-z]{1,5}")  # "Jae-in", "Jong-un", "Suk-yeol"


def surname_first(words: list[str]) -> bool:
    """Is this full name written family name first ("Xi Jinping", "Moon Jae-in", "Kim Jong Un")?"""
    if len(words) < 2 or len(words) > 3:
        return False
    first, rest = words[0].lower(), words[1:]
    if first in CHINESE_SURNAMES and len(rest) == 1 and rest[0][:1].isupper():
        given = rest[0].lower().replace("-", "").replace("'", "")
        if _PINYIN.fullmatch(given):
            return True
    if first in KOREAN_SURNAMES:
        if len(rest) == 1 and _KOREAN_GIVEN.fullmatch(rest[0]):
            return True
        if len(rest) == 2 and all(w[:1].isupper() and w[1:].islower() and len(w) <= 4 for w in rest):
            return True
    return False


def _given_name(toks: list[tuple[int, int, str]], i: int) -> bool:
    """A Korean given name after its family name ("Moon Jae-in"), not a hyphened title ("Singer-guitarist")."""
    return i > 0 and toks[i - 1][2].lower() in KOREAN_SURNAMES and bool(_KOREAN_GIVEN.fullmatch(toks[i][2]))


@functools.lru_cache(maxsize=65536)  # a pure test of one word, asked for the same words often
def is_title_word(word: str) -> bool:
    w = word.rstrip(".,")
    return (
        w.lower().replace("’", "'") in TITLE_LEX
        or w.lower().startswith(("then-", "ex-"))
        or (w.isupper() and 2 <= len(w) <= 4 and w.isalpha())  # "Browns DL Sheldon Richardson", "CEO"
        or bool(_HYPHENED_TITLE.fullmatch(w))  # "Singer-guitarist Tom Johnston"
    )


@functools.lru_cache(maxsize=65536)  # a pure test of one word, asked for the same words often
def ends_sentence(word: str) -> bool:
    """A token with a full stop that ends a sentence, not an abbreviation or an initial ('Chiefs.' not 'Gov.')."""
    from pipeline.statements.quotes import ABBREVIATIONS

    if not word.endswith(".") or len(word) < 2:
        return False
    core = word[:-1].lower()
    if core in ABBREVIATIONS or len(core) == 1 or "." in core or core in TITLE_LEX:
        return False
    return True


def split_title(toks: list[tuple[int, int, str]]) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(title tokens, name tokens): the name is the run of capitalised non-title words at the end."""
    k = len(toks)
    while k > 0 and toks[k - 1][2][:1].isupper() and (not is_title_word(toks[k - 1][2]) or _given_name(toks, k - 1)):
        if k < len(toks) and toks[k - 1][2].endswith(("'s", "’s")):
            break  # "NASA's Administrator Jim Bridenstine": the owner's name is part of the title
        k -= 1
    if k == len(toks) or k == 0:
        return [], toks
    title = toks[:k]
    if not any(t[2].lower().rstrip(".") in _TITLE_ONLY or is_title_word(t[2]) and t[2][:1].isupper() for t in title):
        return [], toks  # "Homeland Security Kristi Noem"? not a title we know: keep as written
    return title, toks[k:]


def is_cap(word: str) -> bool:
    return bool(word) and (word[0].isupper() or word[0] == "@") and word.lower() not in ("i",)


@functools.lru_cache(maxsize=65536)  # a pure test of one word, asked for the same words often
def _is_name_token(word: str) -> bool:
    if word[0] == "@":
        return True
    if not word[0].isupper():
        return word.lower() in ("de", "van", "von", "der", "da", "del", "bin", "al", "la", "le", "di", "du")
    return not all(c == "q" for c in word.lower())


def tokens_in(masked: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """(start, end, word) of the tokens of masked[lo:hi], with offsets into masked."""
    return [(*m.span(), m.group()) for m in _TOKEN.finditer(masked, lo, hi)]


def trim_name(toks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop sentence-start function words from the front and possessive/ punctuation at the end."""
    while toks and toks[0][2].lower().rstrip(".") in NON_NAME_CAPS:
        toks = toks[1:]
    while toks and toks[-1][2].lower() in ("de", "van", "von", "der", "da", "del", "bin", "al", "la", "le"):
        toks = toks[:-1]
    return toks


def name_before(masked: str, lo: int, hi: int, toks: list[tuple[int, int, str]] | None = None) -> Mention | None:
    """A mention ending right at hi (name sequence, pronoun or role NP), scanning back to lo.
    `toks`: the tokens of masked[lo:hi] when the caller has them already."""
    if toks is None:
        toks = tokens_in(masked, lo, hi)
    if not toks:
        return None
    last = toks[-1]
    w = last[2]
    if w.lower() in PRONOUNS:
        return Mention(last[0], last[1], w, "pronoun", w.lower())
    if _is_name_token(w) and (w[0].isupper() or w[0] == "@"):
        seq: list[tuple[int, int, str]] = []
        for k in range(len(toks) - 1, -1, -1):
            t = toks[k]
            if seq and ends_sentence(t[2]):
                break  # "The Chargers lost to the Chiefs. Lynn said": not "Chiefs. Lynn"
            if _is_name_token(t[2]) and (t[2][0].isupper() or t[2][0] == "@" or seq):
                seq.insert(0, t)
            elif t[2] == "of" and seq and k > 0 and toks[k - 1][2].lower().rstrip(".") in ORG_WORDS:
                seq.insert(0, t)  # "Department of Homeland Security"
            else:
                break
        while seq and not (seq[0][2][0].isupper() or seq[0][2][0] == "@"):
            seq = seq[1:]
        seq = trim_name(seq)
        if not seq:
            return None
        if len(seq) == 1 and seq[0][2].lower().rstrip(".") in TITLE_WORDS:
            pass
        if seq[-1][2].endswith(("'s", "’s")):
            return None
        if len(seq) >= 3 and all(t[2].isupper() for t in seq):
            return None  # an all-caps heading, not a name
        return _name_mention(masked, toks[: toks.index(seq[0])], seq)
    # role noun phrase: [det] (adj|Cap)* ROLE
    if w.lower() in ROLE_NOUNS:
        i = len(toks) - 1
        j = i
        while j - 1 >= 0 and i - j < 5:
            pw = toks[j - 1][2]
            if pw in ",;:()—–":
                break
            j -= 1
            if pw.lower() in DETERMINERS:
                break
        s = toks[j][0]
        # do not swallow a preceding clause: require determiner or short phrase
        return Mention(s, last[1], masked[s : last[1]], "role", w.lower())
    return None


def _name_mention(masked: str, before: list[tuple[int, int, str]], seq: list[tuple[int, int, str]]) -> Mention | None:
    """A name mention from its tokens, with any title (in the tokens or just before them) kept apart."""
    if place_after_title(masked, seq):
        seq = seq[1:]  # "ambassador to Britain Liu Xiaming": Britain belongs to the title
    title, name = split_title(seq)
    if not title:
        # a lower-case title just before the name: "White House deputy chief of staff Stephen Miller"
        k = len(before)
        while k > 0 and len(before) - k < 8 and is_title_word(before[k - 1][2]) and not ends_sentence(before[k - 1][2]):
            k -= 1
        while k < len(before) and before[k][2].lower() in ("the", "of"):
            k += 1
        cand = before[k:]
        if cand and any(t[2].lower().rstrip(".") in _TITLE_ONLY for t in cand):
            title = cand
    if not name:
        return None
    s, e = name[0][0], name[-1][1]
    txt = masked[s:e]
    if txt.endswith((".", ",")) and not txt.lower().endswith(("jr.", "sr.")):
        txt = txt[:-1]
    if not txt:
        return None
    m = Mention(s, s + len(txt), txt, "handle" if txt.startswith("@") else "name")
    if title:
        m.title = masked[title[0][0] : title[-1][1]]
        m.title_start = title[0][0]
    return m


# "ambassador to Britain Liu Xiaming", "envoy for Syria Ann Roe": the one capitalised word after such an
# office and its preposition is the place, not the first name
_OFFICE_TO = re.compile(
    r"\b(?:ambassador|envoy|minister|secretary|representative|delegate|correspondent|commissioner|consul|"
    r"director|head|chief|emissary|attaché)\s+(?:to|for|of|in|at)\s+$",
    re.I,
)


def place_after_title(masked: str, seq: list[tuple[int, int, str]]) -> bool:
    """Is the first of these three or more capitalised words a place after an office ('ambassador to Britain')?"""
    return len(seq) >= 3 and bool(_OFFICE_TO.search(masked, max(0, seq[0][0] - 40), seq[0][0]))


def _titled_name_after(masked: str, toks: list[tuple[int, int, str]]) -> Mention | None:
    """'said border czar Tom Homan', 'said White House deputy chief of staff Stephen Miller'."""
    seq: list[tuple[int, int, str]] = []
    for t in toks[:12]:
        w = t[2]
        if w in ",;:()—–" or not (_is_name_token(w) and w[:1].isupper() or is_title_word(w)):
            break
        seq.append(t)
        if ends_sentence(w):
            break
    if not seq or seq[0][2].lower() in DETERMINERS:
        return None
    title, name = split_title(seq)
    if not title or not name:
        return None
    return _name_mention(masked, [], seq)


# lower-case words that can never be part of a descriptor before a name ("said certified financial planner
# Eric Roberge"): function words, so that "said on Monday John" or "said that Mary" stay what they were
# fmt: off
_NOT_DESCRIPTOR = {
    "the", "a", "an", "on", "in", "at", "to", "of", "for", "with", "by", "from", "about", "that", "this",
    "and", "or", "but", "as", "if", "when", "while", "after", "before", "since", "then", "also", "later",
    "he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "its", "our", "is", "was", "were",
    "are", "has", "had", "have", "will", "would", "not", "who", "which", "there", "here", "so", "than",
}
# fmt: on
AGENT_NOUN = re.compile(r"[a-z-]{2,}(?:er|or|ist|ian|ant|ent|eon|ee|ary|ate|man|woman|person|author|expert)$")


def _described_name_after(masked: str, toks: list[tuple[int, int, str]]) -> Mention | None:
    """'says certified financial planner Eric Roberge', 'said study author Jane Roe': up to four
    lower-case words ending in a person noun, then a name of two words or more."""
    k = 0
    while k < len(toks) and k < 4 and toks[k][2].isalpha() and toks[k][2].islower():
        if toks[k][2] in _NOT_DESCRIPTOR:
            return None
        k += 1
    if k == 0:
        return None
    head = toks[k - 1][2]
    if head not in ROLE_NOUNS and not AGENT_NOUN.fullmatch(head):
        return None
    seq: list[tuple[int, int, str]] = []
    for t in toks[k : k + 5]:
        if not (_is_name_token(t[2]) and t[2][:1].isupper()) or t[2].lower().rstrip(".") in NON_NAME_CAPS:
            break
        seq.append(t)
        if ends_sentence(t[2]):
            break
    if len(seq) < 2 or seq[-1][2].endswith(("'s", "’s")):
        return None
    m = _name_mention(masked, [], seq)
    if m is not None and not m.title:
        m.title = masked[toks[0][0] : toks[k - 1][1]]
        m.title_start = toks[0][0]
    return m


# words between subject and speech verb that may be skipped
SKIP_BETWEEN = {
    "also",
    "later",
    "then",
    "has",
    "had",
    "have",
    "would",
    "will",
    "previously",
    "once",
    "recently",
    "again",
    "reportedly",
    "repeatedly",
    "further",
    "quickly",
    "simply",
    "just",
    "initially",
    "earlier",
    "often",
    "never",
    "not",
    "did",
    "does",
    "do",
    "subsequently",
    "publicly",
    "privately",
    "flatly",
    "angrily",
    "bluntly",
    "finally",
    "first",
    "even",
    "still",
    "already",
    "is",
    "was",
    "been",
    "yet",
    "famously",
    "told",
    "openly",
    "frequently",
    "emphatically",
    "loudly",
    "quietly",
    "may",
    "might",
    "could",
    "should",
    "can",
    "only",
    "herself",
    "himself",
    "themselves",
    "now",
    "both",
    "separately",
    "directly",
    "explicitly",
    "specifically",
    "sharply",
    "heavily",
    "strongly",
    "widely",
    "falsely",
    "wrongly",
    "correctly",
    "accurately",
    "jokingly",
    "sarcastically",
    "proudly",
}
# fmt: on


SUBJECT_WINDOW = 400  # characters before a verb searched for its subject (25 tokens of apposition fit)


def subject_before(masked: str, lo: int, hi: int) -> Mention | None:
    """The subject of a verb starting at hi: skips adverbs/auxiliaries and an apposition."""
    # The subject sits within a few dozen tokens of its verb: looking further back only made every cue
    # of a long unpunctuated sentence re-read the sentence from its start (quadratic time).
    lo = max(lo, hi - SUBJECT_WINDOW)
    toks = tokens_in(masked, lo, hi)
    n = len(toks)
    while n and toks[n - 1][2].lower() in SKIP_BETWEEN:
        n -= 1
    if not n:
        return None
    # the tokens of masked[lo:x] for a token boundary x are a prefix of these: no need to tokenize again
    end = toks[n - 1][1]
    if toks[n - 1][2] == ",":
        # apposition: "Steve Bannon, a longtime Trump confidante, critiqued"; a name opening the window and
        # followed by a comma wins over a name inside the apposition ("Jeff Roe, head of Chapter & Verse,
        # a design agency, said")
        j = next((i for i, t in enumerate(toks[:n]) if t[2] in ",;:()—–"), n)
        if 0 < j < n - 1 and toks[j][2] == "," and n < 60:
            m0 = name_before(masked, lo, toks[j][0], toks[:j])
            if m0 is not None and m0.kind == "name" and m0.outer_start == toks[0][0]:
                return m0
        k = n - 2
        while k >= 0 and toks[k][2] not in ",;:()—–" and n - k < 25:
            k -= 1
        if k >= 0 and toks[k][2] == ",":
            m = name_before(masked, lo, toks[k][0], toks[:k])
            if m is not None and m.kind in ("name", "pronoun", "handle"):
                return m
        return None
    if toks[n - 1][2] in ";:()—–":
        return None
    return name_before(masked, lo, end, toks[:n])


def mention_after(masked: str, lo: int, hi: int) -> Mention | None:
    """A mention starting at lo (inverted cue: 'said Trump', 'added the senator')."""
    toks = tokens_in(masked, lo, hi)
    if not toks:
        return None
    first = toks[0][2]
    if first.lower() in PRONOUNS and first.lower() != "it":
        return Mention(toks[0][0], toks[0][1], first, "pronoun", first.lower())
    titled = _titled_name_after(masked, toks) or _described_name_after(masked, toks)
    if titled is not None:
        return titled
    if (
        _is_name_token(first)
        and (first[0].isupper() or first[0] == "@")
        and first.lower().rstrip(".") not in NON_NAME_CAPS
    ):
        seq: list[tuple[int, int, str]] = []
        for t in toks:
            if _is_name_token(t[2]) and not (t[2][0].islower() and not seq):
                seq.append(t)
                if ends_sentence(t[2]):
                    break  # "said Lynn. Chiefs fans cheered"
            else:
                break
        while seq and seq[-1][2][0].islower():
            seq.pop()
        if not seq:
            return None
        if seq[-1][2].endswith(("'s", "’s")):
            return None
        return _name_mention(masked, [], seq)
    if first.lower() in DETERMINERS or first.lower() in ROLE_NOUNS:
        # "the senator", "a spokesman for the campaign", "Clinton's campaign manager"
        k = 0
        if first.lower() in DETERMINERS:
            k = 1
        seq_end = None
        head = ""
        for t in toks[k : k + 5]:
            tw = t[2].lower()
            if t[2] in ",;:()—–" or tw in ("for", "of", "at", "with", "who", "in", "on", "that"):
                break
            if tw in ROLE_NOUNS:
                seq_end = t[1]
                head = tw
        if seq_end is not None:
            return Mention(toks[0][0], seq_end, masked[toks[0][0] : seq_end], "role", head)
    return None


# ------------------------------------------------------------------ alias index


_TITLE_PREFIX = re.compile(
    r"^(?:(?:former|then-|acting|incoming|outgoing|us|u\.s\.|gop|democratic|republican|white house|"
    r"vice president(?:-elect)?|president(?:-elect)?|vice|sens?\.?|senator|reps?\.?|representative|govs?\.?|governor|"
    r"mr\.?|mrs\.?|ms\.?|dr\.?|secretary(?: of state)?|speaker|leader|attorney general|"
    r"judge|justice|mayor|gen\.?|chairman|chairwoman|minister|prime minister|candidate|nominee|"
    r"border czar|ambassador|rep\.|press secretary|presidential|house|senate|majority|minority|"
    r"commissioner|director)\s+)+",
    re.I,
)


@functools.lru_cache(maxsize=65536)
def norm_name(s: str) -> str:
    s = s.replace("’", "'").strip().lower()
    s = re.sub(r"\b([a-z])\.\s*(?=[a-z]\.)", r"\1", s)  # j.d. -> jd.
    s = re.sub(r"\b([a-z]{1,2})\.(?=\s)", r"\1", s)
    s = re.sub(r"\s+", " ", s)
    return s.strip(" .,")


@functools.lru_cache(maxsize=65536)
def strip_titles(name: str) -> str:
    out = _TITLE_PREFIX.sub("", name.strip())
    return out or name


@dataclass
class AliasIndex:
    figures: dict[str, Figure]
    exact: dict[str, set[str]] = field(default_factory=dict)  # normalised alias -> ids
    surname: dict[str, set[str]] = field(default_factory=dict)  # bare-surname alias -> ids
    lastname: dict[str, set[str]] = field(default_factory=dict)  # last word of the canonical name -> ids
    role_words: dict[str, set[str]] = field(default_factory=dict)  # role word -> ids
    # mention -> lookup_exact's answer: the index lives as long as its figure list, and the same names
    # come up again and again (every capitalised word of every article is looked up)
    _seen: dict[str, set[str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup_exact(self, mention: str) -> set[str]:
        """The ids of the figures whose name or alias this mention is (titles and middle initials aside)."""
        ids = self._seen.get(mention)
        if ids is None:
            if len(self._seen) > 100_000:
                self._seen.clear()
            ids = self._seen[mention] = self._lookup_exact(mention)
        return ids

    def _lookup_exact(self, mention: str) -> set[str]:
        n = norm_name(mention)
        ids = self.exact.get(n)
        if ids:
            return ids
        if n.startswith("@"):
            return set()
        n2 = norm_name(strip_titles(mention))
        ids = self.exact.get(n2)
        if ids:
            return ids
        # drop middle initials: "Donald J. Trump"
        parts = n2.split()
        if len(parts) >= 3:
            ids = self.exact.get(f"{parts[0]} {parts[-1]}")
            if ids:
                return ids
        return set()


_INDEX_CACHE: dict[tuple, AliasIndex] = {}


def build_alias_index(figures: list[Figure]) -> AliasIndex:
    sig = tuple((f.id, f.name, tuple(f.aliases), f.role) for f in figures)
    hit = _INDEX_CACHE.get(sig)
    if hit is not None:
        return hit
    idx = AliasIndex(figures={f.id: f for f in figures})
    for f in figures:
        names = [f.name, *f.aliases]
        for a in names:
            n = norm_name(a)
            if not n:
                continue
            if " " not in n and not n.startswith("@") and a != f.name:
                # bare surname alias: goes in the surname table (ambiguity checked per article)
                idx.surname.setdefault(n, set()).add(f.id)
                continue
            idx.exact.setdefault(n, set()).add(f.id)
            stripped = norm_name(strip_titles(a))
            if stripped and stripped != n and " " in stripped:
                idx.exact.setdefault(stripped, set()).add(f.id)
        last = norm_name(f.name).split()[-1]
        idx.lastname.setdefault(last, set()).add(f.id)
        role_text = re.sub(r"\b(?:vice|deputy|former|ex-)\s+[a-z-]+", " ", f"{f.role} {f.affiliation}".lower())
        for w in re.findall(r"[a-z-]+", role_text):
            if w in ROLE_NOUNS:
                idx.role_words.setdefault(w, set()).add(f.id)
    if len(_INDEX_CACHE) > 32:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[sig] = idx
    return idx


_POSSESSIVE = re.compile(r"['’]s$")


@functools.lru_cache(maxsize=65536)  # asked of every capitalised name, again and again
def looks_like_org(name: str) -> bool:
    words = name.split()
    if not words:
        return False
    if name.lower().startswith("the "):
        return True
    # a possessive 's comes off, but not the s of "Rights" or "Brothers" (strip(".,'’s") took both)
    if any(_POSSESSIVE.sub("", w.lower().strip(".,")) in ORG_WORDS for w in words):
        return True
    if len(words) == 1 and len(name) >= 2 and name.isupper():
        return True
    return False
