"""The statements found in an article before they become records, and the per-paragraph index of
their spans that the finders consult so as not to find the same statement twice."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pipeline.statements.speakers import Mention
from pipeline.statements.tracker import Entity

# (cue verb, cue start, cue end, speaker mention)
Cue = tuple[str, int, int, Mention]


@dataclass
class Found:
    kind: str
    start: int  # statement text (quote marks excluded)
    end: int
    span_start: int  # evaluation span (quote marks included)
    span_end: int
    mention: Mention | None
    entity: Entity | None
    cue: str = ""
    group: int = 0
    para: int = 0
    cue_pos: int = -1
    extra_spans: list[tuple[int, int]] = field(default_factory=list)


class ParaSpans:
    """The statements of one paragraph (out[lo:], growing as they are found) by span start: an
    overlap query looks only at spans starting within the longest span's length before its window,
    so a paragraph with thousands of statements stays linear (issue 10; was a scan per sentence)."""

    def __init__(self, out: list[Found], lo: int):
        self.out, self.seen = out, lo
        self.starts: list[int] = []
        self.finds: list[Found] = []
        self.longest = 0

    def overlapping(self, lo: int, hi: int) -> list[Found]:
        while self.seen < len(self.out):
            f = self.out[self.seen]
            self.seen += 1
            i = bisect.bisect_right(self.starts, f.span_start)
            self.starts.insert(i, f.span_start)
            self.finds.insert(i, f)
            self.longest = max(self.longest, f.span_end - f.span_start)
        a = bisect.bisect_left(self.starts, lo - self.longest)
        b = bisect.bisect_left(self.starts, hi)
        return [f for f in self.finds[a:b] if f.span_start < hi and f.span_end > lo]
