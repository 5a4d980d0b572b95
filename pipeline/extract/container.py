"""The main container: block weights, boilerplate containers resolved, and the maximum-weight block range."""

from __future__ import annotations

import re

from pipeline.extract.blocks import CJK, WORD, Block, is_sentence_like, word_key
from pipeline.extract.walker import Walker

_KADANE_RATIO = 1.5  # a contiguous block run beats the best element only when clearly better
# A box named by weak names only (card, widget, promo) holds story text when it holds this many
# paragraphs of this weight (about as many characters of link-poor prose); chosen on the WCXB dev half.
_STORY_BOX_PARAGRAPHS = 2
_STORY_PARAGRAPH_WEIGHT = 250.0
_COOKIE_TEXT = re.compile(
    r"\bcookies?\b.{0,200}\b(?:consent|browser|website|privacy|experience|opt[- ]out|third[- ]party|necessary)\b|"
    r"\b(?:consent|browser|website|privacy|experience|opt[- ]out|third[- ]party)\b.{0,200}\bcookies?\b",
    re.IGNORECASE | re.DOTALL,
)


def _weight(b: Block) -> float:
    n = len(b.text)
    if b.post:
        return n * 0.5
    if b.boiler:
        return -n * 0.5 - 5
    link = b.link_len / n if n else 0.0
    if link > 0.5:
        return -n * link
    if b.heading:
        return 0.0
    if n >= 100 and b.tag != "tr":  # a long block: its word count cannot change the answer below
        return n * (1 - link) * (1.0 if b.tag in ("p", "blockquote", "pre", "li", "dd", "td") else 0.8)
    words = len(WORD.findall(b.text))
    if b.tag == "tr" and n < 100 and not (words >= 10 and is_sentence_like(b)):
        return 0.0  # a data-table row: neutral, kept when the table sits inside the story
    if CJK.search(b.text):
        words = max(words, n // 2)
    if n >= 100 or (words >= 10 and is_sentence_like(b)):
        return n * (1 - link) * (1.0 if b.tag in ("p", "blockquote", "pre", "li", "dd", "td") else 0.8)
    if words >= 5 and is_sentence_like(b):
        return n * (1 - link) * 0.5
    return -3.0


def _resolve_boiler(w: Walker) -> list[float]:
    """Mark blocks inside boilerplate containers; returns the final block weights.

    A boilerplate-looking container (by tag or class) that holds a large share of the page's
    paragraph weight is the article wrapper after all and is not marked; a <header> is kept when
    it holds a real paragraph; a box named by weak names only (see :data:`.classes.WEAK`) is kept when
    it holds paragraphs of its own and no strong name encloses it.
    """
    blocks = w.blocks
    for start, end in w.post_ranges:
        for i in range(start, end):
            blocks[i].post = True
    raw = [_weight(b) for b in blocks]
    pos_prefix = [0.0]
    acc = 0.0
    for x in raw:
        acc += x if x > 0 else 0.0
        pos_prefix.append(acc)
    total = acc
    paragraphs = [0]  # prefix count of long paragraphs
    for x in raw:
        paragraphs.append(paragraphs[-1] + (x >= _STORY_PARAGRAPH_WEIGHT))
    # Ranges are marked through a difference array, so nesting costs nothing (O(blocks + ranges)).
    by_class = [0] * (len(blocks) + 1)
    by_other = [0] * (len(blocks) + 1)
    story_boxes = [0] * (len(blocks) + 1)  # weak-named boxes that hold paragraphs of prose
    for start, end, kind in w.boiler_ranges:
        inside = pos_prefix[end] - pos_prefix[start]
        if kind == "header":
            if any(raw[i] > 150 for i in range(start, min(end, start + 400))):
                continue
        elif kind != "hidden" and total > 0 and inside > 0.4 * total:
            continue
        elif kind == "hidden" and total > 0 and inside > 0.6 * total:
            continue
        marks = by_class if kind in ("class", "weak") else by_other
        marks[start] += 1
        marks[end] -= 1
        if kind == "weak" and paragraphs[end] - paragraphs[start] >= _STORY_BOX_PARAGRAPHS:
            story_boxes[start] += 1
            story_boxes[end] -= 1
    # Class names are weak evidence: when they would leave less than a fifth of the page's paragraph
    # weight (the story split into sibling "widget"/"card"/"field--label-hidden" boxes), ignore them.
    kept = 0.0
    c = o = 0
    for i, x in enumerate(raw):
        c += by_class[i]
        o += by_other[i]
        if x > 0 and not c and not o:
            kept += x
    use_class = total <= 0 or kept >= 0.2 * total
    # When class names count, a weak-named box holding paragraphs (a product card in a buying guide, a
    # recipe card) is story text unless a strong name around or inside it says otherwise.
    c = o = s = 0
    for i, b in enumerate(blocks):
        c += by_class[i]
        o += by_other[i]
        s += story_boxes[i]
        if (o or (c and use_class and c > s)) and not b.post:
            b.boiler = True
    weights = [_weight(b) for b in blocks]
    for i, b in enumerate(blocks):
        if weights[i] > 0 and not b.post and _COOKIE_TEXT.search(b.text):
            b.boiler = True
            weights[i] = _weight(b)
    # The story starts right after its headline: paragraphs just below the title count double,
    # teasers above it half.
    if w.title_key:
        t = -1
        for i, b in enumerate(blocks):
            if b.heading and not b.boiler:
                k = word_key(b.text)
                if k == w.title_key or (len(k) >= 10 and (k in w.title_key or w.title_key in k)):
                    t = i
                    break
        if t < 0:
            t = next((i for i, b in enumerate(blocks) if b.tag == "h1" and not b.boiler), -1)
        if t >= 0:
            for i in range(t):
                if weights[i] > 0 and not blocks[i].post:
                    weights[i] *= 0.5
            seen = 0
            for i in range(t + 1, min(len(blocks), t + 12)):
                if weights[i] > 0:
                    weights[i] *= 2
                    seen += 1
                    if seen >= 3:
                        break
    return weights


def select_container(w: Walker) -> tuple[int, int]:
    blocks = w.blocks
    if not blocks:
        return 0, 0
    # protected boilerplate containers (headers, positive-class elements that also look negative):
    # boilerplate only when they hold no real paragraph.
    weights = _resolve_boiler(w)
    prefix = [0.0]
    acc = 0.0
    for x in weights:
        acc += x
        prefix.append(acc)
    best = None
    best_score = float("-inf")
    for _el, start, end in w.ranges:
        score = prefix[end] - prefix[start]
        # prefer the deeper (smaller) element on ties
        if score > best_score + 1e-9 or (abs(score - best_score) <= 1e-9 and best and end - start < best[1] - best[0]):
            best_score = score
            best = (start, end)
    if best is None or best_score <= 0:
        return 0, len(blocks)
    if len(weights) > 1:
        # the best contiguous run of blocks (Kadane); element ranges are such runs, so this is
        # never worse, and it can take two sibling paragraphs without their noisy parent.
        run_best = float("-inf")
        run_start = 0
        acc = 0.0
        kb = best
        for i, x in enumerate(weights):
            if acc <= 0:
                acc = 0.0
                run_start = i
            acc += x
            if acc > run_best:
                run_best = acc
                kb = (run_start, i + 1)
        if run_best > _KADANE_RATIO * best_score:
            return kb
    return best
