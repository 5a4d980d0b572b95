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
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < shingle + 5:
        return None  # too short to fingerprint reliably
    weights = [0] * 64
    for i in range(len(words) - shingle + 1):
        h = int.from_bytes(hashlib.blake2b(" ".join(words[i : i + shingle]).encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = 0
    for bit in range(64):
        if weights[bit] > 0:
            value |= 1 << bit
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
