"""Near-duplicate articles: 64-bit SimHash over word shingles, looked up by bands.

Two texts whose SimHashes differ in at most MAX_DISTANCE bits are the same story re-published
(a wire story on two sites with a credit line added, a page re-issued with a new URL). The hash
is cut into MAX_DISTANCE + 1 bands, so by pigeonhole any such pair shares at least one band and
the index can find candidates with a terms query on the bands. Five bits suits news-length texts:
a 100-word story with one line added moves about five bits; unrelated texts sit near 32.
"""

from __future__ import annotations

import hashlib
import re

MAX_DISTANCE = 5
_BAND_WIDTHS = (11, 11, 11, 11, 10, 10)  # MAX_DISTANCE + 1 bands covering 64 bits
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


def simhash(text: str, shingle: int = 3) -> int | None:
    """64-bit SimHash of the text's word shingles (lower-cased `\\w+` words, blake2b-64 per shingle).

    Each output bit is the majority vote of that bit over all shingle hashes. The votes are counted
    column-wise over the concatenated digests with big-integer masks and bit_count (C loops) rather
    than a Python loop over 64 bits per shingle (tests/test_dedupe.py checks it against that plain loop).
    """
    # one lower() and encode() for all words: joined by spaces, which no word holds and lower() never
    # makes, so each word lower-cases as on its own (a final sigma too: a space is not case-ignorable)
    words = " ".join(_WORD.findall(text)).lower().encode().split(b" ")
    if len(words) < shingle + 5:
        return None  # too short to fingerprint reliably
    # blake2b(gram, digest_size=8) per shingle, from a copy of one empty hash: a third cheaper than
    # building each hash with its parameters anew
    copy = hashlib.blake2b(digest_size=8).copy
    digests = []
    for gram in map(b" ".join, zip(*(words[k:] for k in range(shingle)), strict=False)):  # short tails end it
        h = copy()
        h.update(gram)
        digests.append(h.digest())
    return _majority_bits(b"".join(digests), len(words) - shingle + 1)


def _majority_bits(digests: bytes, n: int) -> int:
    """Bit b is set when more than half of the n big-endian 8-byte digests have bit b set."""
    ones = int.from_bytes(b"\x01" * n)  # bit 0 of every byte of a column
    masks = [ones << k for k in range(8)]
    value = 0
    for j in range(8):  # byte j of a big-endian digest holds bits 8*(7-j) .. 8*(7-j)+7
        column = int.from_bytes(digests[j::8])
        for k in range(8):
            if 2 * (column & masks[k]).bit_count() > n:
                value |= 1 << (8 * (7 - j) + k)
    return value


def to_signed(value: int) -> int:
    """Elasticsearch longs are signed."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_signed(value: int) -> int:
    return value & _MASK64


def bands(value: int) -> list[str]:
    out, shift = [], 0
    for i, width in enumerate(_BAND_WIDTHS):
        out.append(f"{i}:{(value >> shift) & ((1 << width) - 1):x}")
        shift += width
    return out


def distance(a: int, b: int) -> int:
    return bin((a ^ b) & _MASK64).count("1")


def is_near_duplicate(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and distance(a, b) <= MAX_DISTANCE
