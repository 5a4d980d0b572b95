"""Terms written several ways, made one term in Python, where no analyzer of the minimal distribution can.

"H-1B", "H1B", "H 1B" and "H-1B visa" are the same thing, but the standard analyzer makes "h", "1b"
of the first and "h1b" of the second, so neither finds the other. At index time `spelling_terms`
lists every such term a text contains, in its joined and hyphenated forms ("H1B H-1B"), for the
`spellings` field; at query time `normalise_query` writes each one joined ("H1B"). Then a search
finds every spelling, in `newsmon search` and in Kibana alike (Kibana's free-text search covers
the `spellings` field too).
"""

from __future__ import annotations

import re

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014"  # hyphen, non-breaking hyphen, figure dash, en and em dash
_SEP = rf"[\s{_DASH}]?"
# US visa classes that are written with and without a hyphen. Bare "F1", "J1", "L1", "O1", "E2"
# are left out: they mean other things too often (racing, caches, paper sizes).
_VISA = re.compile(
    rf"(?<![\w{_DASH}])"
    rf"(H{_SEP}1{_SEP}B(?:{_SEP}1)?|H{_SEP}2{_SEP}[AB]|[LO]{_SEP}1{_SEP}[AB]|EB{_SEP}[1-5])"
    rf"s?(?:[\s{_DASH}]visas?)?"  # "H-1Bs", "H-1B visas"
    rf"(?![\w{_DASH}])",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(rf"[\s{_DASH}]")


def _joined(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group(1)).upper()


def _hyphenated(term: str) -> str:
    return re.sub(r"^([A-Z]+)(\d)", r"\1-\2", term)


def normalise_query(query: str) -> str:
    """Each spelling of a known term written joined: 'H-1B visa holders' -> 'H1B holders'."""
    return _VISA.sub(_joined, query)


def spelling_terms(*texts: str) -> str:
    """The known terms in these texts, joined and hyphenated ('H1B H-1B EB5 EB-5'), for the spellings field."""
    found = sorted({_joined(m) for text in texts if text for m in _VISA.finditer(text)})
    return " ".join(f"{term} {_hyphenated(term)}" for term in found)
