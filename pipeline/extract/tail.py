"""The end of the story: press-release "About <company>" sections and author bios."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pipeline.extract.blocks import Block

_ABOUT_HEADING = re.compile(r"^about\s+(?:us|the authors?|([A-Z0-9][^.!?]{1,60}?))\s*:?$", re.IGNORECASE)
_ORG_SUFFIX = r"(?:,?\s+(?:inc|ltd|llc|plc|ag|sa|se|nv|corp|corporation|group|gmbh|co)\.?)?"
_COMPANY_VERB = (
    r"(?:[’']s)?(?:\s*\([^)]{1,60}\))?" + _ORG_SUFFIX + r",?\s+(?:is|are)\s+(?:a|an|the|one of|headquartered|based|"
    r"listed|committed|dedicated|focused|traded|privately)\b"
)
_BIO_VERB = re.compile(
    r"^(?:[’']s?\s+(?:book|latest|new|novel)\b|\s+(?:is|was|has been|covers|writes|reports)\b)", re.IGNORECASE
)


# A bio paragraph in a box of its own after the story, naming the author by full or first name.
_BIO_START_VERB = re.compile(
    r"^\s+(?:is|was|has|had|holds|held|started|founded|co-founded|joined|leads|led|lives|serves|covers|writes|"
    r"reports|received|earned|graduated|brings|specializes|specialises|loves|enjoys|began|spent|works)\b",
    re.IGNORECASE,
)


_BIO_MAX_CHARS = 400  # as for the bio lines below; a longer paragraph about the author is part of the page

# The label over a writer's box after the story: "Contributing Writer", "Senior Staff Writer", "Editor, Running
# Reviews", "Written by". On the WCXB dev half such a box is never part of the story (5 sites, 5 pages).
_BIO_LABEL = re.compile(
    r"^(?:written by|about the author|(?:(?:former|senior|staff|contributing|lead|associate|deputy|managing|"
    r"executive|freelance|guest|features?|news|digital|commerce)\s+)*(?:writer|editor|reporter|contributor|"
    r"correspondent|columnist|journalist)(?:,\s*[\w&' -]{2,30})?)\s*:?$",
    re.IGNORECASE,
)
_LABEL_MAX_AFTER = 3  # the label is this close to the end: a name, a bio and a line of links at most
_NAME_LINE = re.compile(r"^[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3}$")


def _bio_label_at(kept: list[Block]) -> int:
    """Where a writer's box labelled by a job title starts near the end (its name line over the label
    goes with it), or -1. The label must be followed by some text (the bio)."""
    n = len(kept)
    for i in range(max(n // 2, n - 1 - _LABEL_MAX_AFTER), n - 1):
        b = kept[i]
        if b.post or len(b.text) >= 60 or not _BIO_LABEL.match(b.text):
            continue
        if not any(len(x.text) >= 40 for x in kept[i + 1 :]):
            continue
        prev = kept[i - 1] if i > 0 else None
        return i - 1 if prev is not None and not prev.post and _NAME_LINE.match(prev.text) else i
    return -1


def _bio_box(b: Block, authors: list[str]) -> bool:
    """A short paragraph that starts with an author's full or first name and a bio verb ("Jean-Luc started
    ...", "Karina holds an MBA ...")."""
    if b.post or len(b.text) >= _BIO_MAX_CHARS:
        return False
    for author in authors:
        parts = author.split()
        for name in (author, parts[0]) if len(parts) >= 2 else ():
            if len(name) >= 3 and b.text.startswith(name) and _BIO_START_VERB.match(b.text[len(name) :]):
                return True
    return False


def org_names(site_name: str, url: str) -> list[str]:
    """Lower-case names the publishing organisation goes by: site name (without a TLD) and host label."""
    names = []
    for value in (site_name, urlsplit(url).hostname or ""):
        value = value.strip().lower().removeprefix("www.")
        if not value:
            continue
        names.append(value)
        if re.fullmatch(r"[\w-]+(?:\.[\w-]+)+", value):
            labels = value.split(".")
            core = (
                labels[-3]
                if len(labels) >= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov")
                else labels[-2]
            )
            names.append(core)
    return [n for n in dict.fromkeys(names) if len(n) >= 3]


_FOUNDED = re.compile(r"^(?:founded in \d{4},\s*)?(?:the )?", re.IGNORECASE)
_COMPANY_VERB_RE = re.compile(_COMPANY_VERB, re.IGNORECASE)


def _describes_org(text: str, orgs: list[str]) -> bool:
    """The paragraph describes the publisher: "(Founded in 1990, )(the )Acme is a global provider of..."."""
    head = _FOUNDED.match(text)
    at = head.end() if head else 0
    low = text[at : at + 200].lower()
    return any(low.startswith(o) and _COMPANY_VERB_RE.match(text, at + len(o)) for o in orgs)


def _separated(kept: list[Block], i: int) -> bool:
    """Block i starts a section of its own: after an <hr>, or in another container than the story before it."""
    return kept[i].after_rule or (i > 0 and kept[i].group != kept[i - 1].group)


def cut_tail(kept: list[Block], orgs: list[str], authors: list[str]) -> list[Block]:
    """Drop press-release "About <company>" sections and author bio lines at the end of the story.

    Only the last few blocks in the second half of the text are looked at:
    - when it starts a section of its own (after an <hr>, or in another container than the story
      before it; text inside the story's own container is kept as published), an "About X" heading (X a name that the next paragraph starts with, the publisher, "us" or "the
      author") or a paragraph describing the publisher ("Acme is a global provider of...", "Founded in
      1990, Acme is...") ends the story: it and everything after it go;
    - a short paragraph starting with an author's name ("Jane Doe is a reporter...", "Jane Doe's book...")
      is a bio and goes;
    - a writer's box labelled by a job title ("Senior Staff Writer", "Written by") among the last few
      blocks, with its name line, ends the story whatever the page's author metadata says.
    """
    n = len(kept)
    if n < 3:
        return kept
    label = _bio_label_at(kept)
    if label > 0:
        kept = kept[:label]
        n = len(kept)
        if n < 3:
            return kept
    lo = max(n // 2, n - 6)
    for i in range(lo, n):
        b = kept[i]
        if b.post:
            continue
        text = b.text
        if len(text) < 80:
            m = _ABOUT_HEADING.match(text)
            if m:
                name = m.group(1)
                nxt = kept[i + 1].text if i + 1 < n else ""
                if _separated(kept, i) and (
                    name is None
                    or name.lower() in orgs
                    or (name[0].isupper() and nxt.startswith(name.split()[0]) and len(name.split()[0]) >= 3)
                ):
                    return kept[:i]
        if orgs and len(text) < 1500 and _describes_org(text, orgs) and _separated(kept, i):
            return kept[:i]
    if authors:
        # an author bio in a box of its own ends the story: it and what follows (donation pleas, links) go
        for i in range(max(n // 2, n - 4), n):
            if _separated(kept, i) and _bio_box(kept[i], authors):
                return kept[:i]
        lo = max(n // 2, n - 3)
        out = kept[:lo]
        for b in kept[lo:]:
            if (
                not b.post
                and len(b.text) < _BIO_MAX_CHARS
                and any(
                    len(a.split()) >= 2 and b.text.startswith(a) and _BIO_VERB.match(b.text[len(a) :]) for a in authors
                )
            ):
                continue
            out.append(b)
        return out
    return kept
