"""Embedded social posts: their lines in the text, and finding them again in an Article's text."""

from __future__ import annotations

import re

from pipeline.extract.blocks import Block

POST_SIGNATURE = re.compile(r"^— .{1,120}?(?:\(@[\w.]{1,40}\)|@[\w.]{1,40}).*$", re.MULTILINE)


def post_lines(blocks: list[Block]) -> list[str]:
    """Lines of one embedded post: its paragraphs, then the signature line starting with "— "."""
    lines = [b.text for b in blocks]
    if not lines:
        return lines
    # The signature is the last line that names the author; normalise its dash.
    last = lines[-1]
    if len(lines) >= 2 and len(last) < 200:
        last = re.sub(r"^[\s\-–—―]+", "", last)
        lines[-1] = "— " + last
    return lines


def find_posts(text: str) -> list[tuple[int, int, str]]:
    """Embedded social posts in an Article text: (start, end, signature) of each post's body.

    The body is the paragraph(s) just before a signature line ("— Name (@handle) date"); only the
    paragraph immediately above the signature is returned, which is how posts are embedded.
    """
    out = []
    for m in POST_SIGNATURE.finditer(text):
        end = m.start() - 1
        if end <= 0:
            continue
        start = text.rfind("\n", 0, end) + 1
        out.append((start, end, m.group(0)))
    return out
