"""Tracked public figures mentioned in a text: plain functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import Figure

from .rules import _WORD, _PhraseIndex


@dataclass
class _FigureMatcher:
    index: _PhraseIndex[tuple[int, bool]]  # payload: (figure index, is bare surname)
    names: list[str]
    unique_surname: list[dict[str, bool]]


_FIG_CACHE: dict[tuple, _FigureMatcher] = {}


def _is_handle(alias: str) -> bool:
    return alias.startswith("@")


def _is_bare(alias: str) -> bool:
    return not _is_handle(alias) and len(alias.split()) == 1 and "." not in alias


def _name_pattern(alias: str) -> str:
    parts = []
    for ch in alias:
        if ch == " ":
            parts.append(r"\s+")
        elif ch in "'’":
            parts.append(r"['’]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def _compile_figures(figures: list[Figure]) -> _FigureMatcher:
    key = tuple((f.id, f.name, tuple(f.aliases)) for f in figures)
    hit = _FIG_CACHE.get(key)
    if hit is not None:
        return hit
    # how many figures could a bare surname mean (their bare aliases and the last word of their names)
    owners_of: dict[str, set[int]] = {}
    for i, f in enumerate(figures):
        for a in [f.name.split()[-1], *[a for a in f.aliases if _is_bare(a)]]:
            owners_of.setdefault(a.lower(), set()).add(i)
    entries = []
    for i, f in enumerate(figures):
        seen = set()
        for alias in [f.name, *f.aliases]:
            alias = " ".join(alias.split())
            if not alias or alias in seen:
                continue
            seen.add(alias)
            if _is_handle(alias):
                # matched from the word after "@", case-insensitively (handles ignore case)
                handle = alias[1:]
                words = _WORD.findall(handle)
                if words:
                    entries.append((words[0].lower(), r"(?<=@)" + re.escape(handle), True, (i, False), False))
                continue
            words = _WORD.findall(alias)
            if words:
                # names are matched case-sensitively ("Trump", not "trump card")
                entries.append((words[0].lower(), _name_pattern(alias), False, (i, _is_bare(alias)), False))
    unique = [{a.lower(): len(owners_of.get(a.lower(), ())) <= 1 for a in f.aliases if _is_bare(a)} for f in figures]
    matcher = _FigureMatcher(_PhraseIndex(entries), [f.name for f in figures], unique)
    if len(_FIG_CACHE) > 32:
        _FIG_CACHE.clear()
    _FIG_CACHE[key] = matcher
    return matcher


def mentioned_figures(text: str, figures: list[Figure]) -> list[str]:
    """Canonical names of the tracked figures the text mentions, in order of first mention.

    A full name, a titled or spelled-out alias or a social handle counts on its own. A bare surname
    counts only when no other tracked figure shares it, or when the same text also names the person
    in full (or by a titled alias).
    """
    m = _compile_figures(figures)
    if not text:
        return []
    first_strong: dict[int, int] = {}
    first_bare: dict[int, int] = {}
    bare_ok: dict[int, bool] = {}
    for start, end, (fi, bare) in m.index.finditer(text):
        if bare:
            first_bare.setdefault(fi, start)
            if m.unique_surname[fi].get(text[start:end].lower(), False):
                bare_ok[fi] = True
        else:
            first_strong.setdefault(fi, start)
    found: dict[int, int] = dict(first_strong)
    for fi, pos in first_bare.items():
        if fi in first_strong:
            found[fi] = min(pos, first_strong[fi])
        elif bare_ok.get(fi):
            found[fi] = pos
    return [m.names[fi] for fi, _ in sorted(found.items(), key=lambda x: x[1])]
