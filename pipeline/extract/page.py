"""Page bytes to a parsed tree: binary pages refused, text decoded and capped, a cut-off tag dropped."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.decode import decode_html

MAX_HTML_BYTES = 5 * 1024 * 1024  # same as Settings.max_page_bytes
# Control characters other than tab, newline and carriage return: dropped from a page's text.
_CONTROL_CHARS = tuple(chr(c) for c in (*range(9), 11, 12, *range(14, 32), 127))
_CONTROL = re.compile("[" + re.escape("".join(_CONTROL_CHARS)) + "]")
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False)
# Every element as a plain HtmlElement, chosen in C: lxml.html's own lookup runs a Python function for each
# element the walk touches (to give forms and inputs their own classes, which extraction never uses).
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction
    )
)
TAG_RE = re.compile(r"<[^>]*>")
SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
WRAPPER_TAGS = re.compile(
    r"</?(?:div|span|section|article|main|font|b|i|em|strong|u|small|big|center|table|tbody|tr|td|th|ul|ol|"
    r"dl|dd|dt|header|footer|aside|nav|figure|label|abbr|cite|code|q|s|sub|sup|mark|del|ins|var|kbd|samp)\b[^>]*>",
    re.IGNORECASE,
)


_BINARY_TYPES = re.compile(r"^\s*(?:image|audio|video|font)/|application/(?:pdf|zip|octet-stream|gzip|x-)", re.I)


def looks_binary(html: bytes | str, content_type: str | None) -> bool:
    """Images, PDFs, archives: many control bytes in the first 4 KB, or a binary Content-Type."""
    if content_type and _BINARY_TYPES.search(content_type):
        return True
    sample = html[:4096]
    if not sample:
        return False
    if isinstance(sample, str):
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    else:
        sample = bytes(sample)
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM
            return False
        controls = sum(1 for ch in sample if ch < 32 and ch not in (9, 10, 13, 12))
    return controls > max(8, len(sample) // 50)


def parse_html(html: str) -> HtmlElement | None:
    try:
        doc = lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None
    return doc


def decode_page(html: bytes | str, content_type: str | None) -> str:
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html[:MAX_HTML_BYTES])
        text, _enc = decode_html(data, content_type)
    else:
        text = html if len(html) <= MAX_HTML_BYTES else html[:MAX_HTML_BYTES]
    # Most pages hold none: a substring test per character is several times cheaper than the pattern's pass.
    if any(c in text for c in _CONTROL_CHARS):
        text = _CONTROL.sub("", text)
    # A page cut mid-tag: drop the dangling "<...".
    lt = text.rfind("<", max(0, len(text) - 4096))
    if lt != -1 and text.find(">", lt) == -1:
        text = text[:lt]
    return text
