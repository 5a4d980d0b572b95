"""Content-Encoding decoding with a bound on every read, across stacked encodings.

httpx decodes each raw chunk in one call with no output limit, so a response sent as
`Content-Encoding: gzip, gzip` turns a few kilobytes into gigabytes before any size cap is looked
at. Here every stage hands on at most `step` bytes per call (zlib's max_length), so memory stays at
a few times `step` whatever the ratio, and the caller stops pulling once it has what it wants.
"""

from __future__ import annotations

import zlib

MAX_STACKED = 3  # "gzip, gzip, gzip" is already absurd; more is an attack


class DecodeError(ValueError):
    """The body is not what its Content-Encoding says, or the encoding is not one we read."""


class _Stage:
    """One zlib-family decoder that holds its input and releases output in bounded pieces."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self.pending = b""
        self._first = True
        self._full = False  # the last read hit `step`: zlib may hold more output without new input
        self._new()

    def _new(self) -> None:
        # gzip: 16+MAX_WBITS; deflate: zlib-wrapped, with raw deflate as the fallback (as browsers do).
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS if self.encoding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        self.pending += data

    def read(self, step: int) -> bytes:
        """Up to `step` decoded bytes from the input held so far (b"" when it needs more input)."""
        while self.pending or self._full:
            data, self.pending = self.pending, b""
            try:
                out = self._z.decompress(data, step)
            except zlib.error as exc:
                if self.encoding == "deflate" and self._first:
                    self._first = False
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    self.pending = data
                    continue
                raise DecodeError(f"body is not valid {self.encoding} data ({exc})") from exc
            self._first = False
            self._full = len(out) >= step
            self.pending = self._z.unconsumed_tail
            if self._z.eof:
                # gzip allows several members one after the other; anything after a deflate stream is junk.
                rest = self._z.unused_data
                if rest and self.encoding == "gzip":
                    self._new()
                    self.pending = rest + self.pending
                else:
                    self.pending = b""
            if out:
                return out
        return b""


class BoundedDecoder:
    """Decodes a Content-Encoding header's list of codings, pulling at most `step` bytes at a time."""

    def __init__(self, content_encoding: str, step: int = 64 * 1024):
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise DecodeError(f"unsupported Content-Encoding '{', '.join(unknown)}'")
        if len(codings) > MAX_STACKED:
            raise DecodeError(f"Content-Encoding stacks {len(codings)} codings (at most {MAX_STACKED} are read)")
        # The last coding listed was applied last, so it is undone first.
        self.stages = [_Stage("gzip" if c == "x-gzip" else c) for c in reversed(codings)]
        self.step = step
        self._raw = b""

    def feed(self, raw: bytes) -> None:
        if self.stages:
            self.stages[0].feed(raw)
        else:
            self._raw += raw

    def read(self) -> bytes:
        """The next decoded piece (at most `step` bytes); b"" when more raw input is needed."""
        if not self.stages:
            out, self._raw = self._raw, b""
            return out
        return self._pull(len(self.stages) - 1)

    def _pull(self, i: int) -> bytes:
        stage = self.stages[i]
        while True:
            out = stage.read(self.step)
            if out or i == 0:
                return out
            more = self._pull(i - 1)
            if not more:
                return b""
            stage.feed(more)
