"""Turn fetched page bytes into text: BOM, HTTP charset, <meta> charset and a detector, conflicts resolved.

Order of trust:
1. a byte-order mark;
2. bytes that are valid UTF-8 and contain non-ASCII sequences are UTF-8, whatever a header or meta says
   (a Latin-1 or Windows-1252 page almost never happens to be valid UTF-8, and mislabelled UTF-8 is the
   commonest charset error on the web);
3. the HTTP Content-Type charset, then the <meta> charset (Latin-1 and ASCII labels are read as
   Windows-1252, as browsers do), used whenever the bytes mostly fit it: a stray byte or two becomes
   U+FFFD and is counted, rather than the whole page being re-read in a guessed code page;
4. only when no declaration fits: charset-normalizer's guess;
5. Windows-1252 with replacement characters, which never fails.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""",
    re.IGNORECASE,
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in practice.
_AS_1252 = {
    "iso-8859-1",
    "latin-1",
    "latin1",
    "l1",
    "ascii",
    "us-ascii",
    "iso8859-1",
    "iso_8859-1",
    "cp819",
    "windows-1252",
    "cp1252",
    "x-cp1252",
    "iso-ir-100",
    "ansi_x3.4-1968",
}
_DETECT_SAMPLE = 256 * 1024
# A declared charset "fits" when at most this share of the non-ASCII bytes fail to decode with it
# (a stray byte in a UTF-8 page), or when only a handful do. A page in another code page than the
# one declared fails on nearly every non-ASCII byte.
_FIT_SHARE = 0.05
_FIT_FEW = 4
_ASCII = bytes(range(0x80))


def normalize_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_1252:
        return "cp1252"
    if label in ("utf8", "unicode-1-1-utf-8", "utf-8"):
        return "utf-8"
    if label in ("gb2312", "gbk", "x-gbk"):
        return "gb18030"
    if label in ("shift_jis", "x-sjis", "sjis"):
        return "cp932"
    if label in ("euc-kr", "ks_c_5601-1987"):
        return "cp949"
    if label in ("iso-8859-9", "latin5"):
        return "cp1254"
    if label in ("tis-620", "iso-8859-11"):
        return "cp874"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("utf-16", "utf-32"):  # a declared UTF-16 page without BOM is almost always mislabelled
        return None
    return name


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def meta_charset(data: bytes) -> str | None:
    head = data[:8192]
    m = _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "ignore") if m else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def bad_bytes(data: bytes, encoding: str) -> int:
    """How many bytes of data do not decode with encoding (each becomes one U+FFFD with errors="replace")."""
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        return len(data)
    already = data.count("\ufffd".encode(encoding, errors="ignore")) if encoding.startswith("utf") else 0
    return text.count("\ufffd") - already


def _fits(data: bytes, encoding: str) -> bool:
    bad = bad_bytes(data, encoding)
    non_ascii = len(data.translate(None, _ASCII)) if bad else 0
    return bad <= _FIT_FEW or bad <= _FIT_SHARE * non_ascii


def _utf8_strict_allowing_cut(data: bytes) -> str | None:
    """Strict UTF-8, tolerating a multi-byte sequence cut at the very end (a size-capped page)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason in ("unexpected end of data", "invalid continuation byte"):
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec name used). Never raises."""
    if not data:
        return "", "utf-8"
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace"), enc

    declared = [
        d for d in (normalize_encoding(header_charset(content_type)), normalize_encoding(meta_charset(data))) if d
    ]

    if data.isascii():
        return data.decode("ascii"), declared[0] if declared else "ascii"

    text = _utf8_strict_allowing_cut(data)
    if text is not None:
        return text, "utf-8"

    for enc in declared:
        if enc == "utf-8":
            continue
        text = _strict(data, enc)
        if text is not None:
            return text, enc
    # Nothing declared decodes cleanly: keep the first declaration the bytes mostly fit.
    for enc in declared:
        if _fits(data, enc):
            return data.decode(enc, errors="replace"), enc

    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:_DETECT_SAMPLE]).best()
        if best is not None:
            guess = normalize_encoding(best.encoding)
    except Exception:  # the detector is a hint only
        guess = None
    # Western pages are by far the commonest non-UTF-8 case; prefer cp1252 when it decodes cleanly
    # and the detector only offered another single-byte Latin code page.
    if guess in (None, "iso8859-15", "cp1250", "iso8859-2", "mac-roman", "cp850", "cp437", "latin_1"):
        text = _strict(data, "cp1252")
        if text is not None:
            return text, "cp1252"
    if guess:
        text = _strict(data, guess)
        if text is not None:
            return text, guess
    enc = declared[0] if declared else (guess or "cp1252")
    return data.decode(enc, errors="replace"), enc
