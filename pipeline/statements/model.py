"""A sequence model for attributions the rules miss: cue, source and content tagging (CRF).

Trained by `newsmon train statements` on PolNeAR train (../shared/eval/statements/polnear/train),
never on dev or test; the model file ships in pipeline/statements/data/ with its provenance beside
it (attribution.json). At run time `tag_sentence` (called by pipeline.statements.reported) tags only
sentences that hold a cue word seen in training and that leave at least three words in a row outside
the rules' statements (where alone a modelled content is kept), so the stage keeps its speed.

Tokens: words, numbers and single punctuation marks. Labels: BIO over Content, Source and Cue.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA / "attribution.crfsuite"
INFO_PATH = DATA / "attribution.json"
_TOKEN = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]")
LABELS = ("Content", "Source", "Cue")
CUE_MIN, CUE_SHARE = 3, 0.15
PARAMS = {
    "c1": 1.0,
    "c2": 0.01,
    "max_iterations": 60,
    "feature.minfreq": 2,
}  # c1 1.0 over 3.0 on dev (F1 0.603 vs 0.595)


@dataclass
class Tagged:
    """One attribution the model found in a sentence: character spans into the article text."""

    content: tuple[int, int]
    source: tuple[int, int] | None
    cue: tuple[int, int] | None


def tokens(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    return [(*m.span(), m.group()) for m in _TOKEN.finditer(text, lo, hi)]


def _shape(w: str) -> bytes:
    if w.isdigit():
        return b"sh=d"
    if not w[0].isalnum():
        return b"sh=p"
    if w.isupper() and len(w) > 1:
        return b"sh=X"
    return b"sh=Xx" if w[0].isupper() else b"sh=x"


Features = tuple[str, tuple[bytes, bytes, bytes, bytes], tuple[bytes, bytes, bytes, bytes]]
Row = tuple[bytes, ...]  # one token's attributes, in the order the model was trained with


@functools.lru_cache(maxsize=65536)
def token_features(w: str) -> Features:
    """A token's lower case, its own attributes (bias, word, ending, shape) and its attributes as a
    neighbour (two before, one before, one after, two after): built and encoded once per word, not per use."""
    low = w.lower()
    b = low.encode()
    return (
        low,
        (b"b", b"w=" + b, b"s3=" + low[-3:].encode(), _shape(w)),
        (b"w-2=" + b, b"w-1=" + b, b"w1=" + b, b"w2=" + b),
    )


_EDGE = (b"w-2=^$", b"w-1=^$", b"w1=^$", b"w2=^$")  # a neighbour outside the sentence
_SIDES = (b"side=L", b"side=M", b"side=R")
_POS = (b"pos=0", b"pos=1", b"pos=2", b"pos=3", *[b"pos=4"] * 146)  # token i: _POS[i], the 5th on alike
_QUOTED = (b"q=0", b"q=1")
_CUE = (b"cue=0", b"cue=1")
_CUE_BEFORE = (b"cue-1=0", b"cue-1=1")
_CUE_AFTER = (b"cue1=0", b"cue1=1")


def sentence_features(
    toks: list[tuple[int, int, str]], masked: str, cues: frozenset[str], tf: list[Features] | None = None
) -> list[Row]:
    """Per token: the word, its shape and ending, whether it is quoted or a cue word, which side of the
    sentence's cue words it is on, and the words around it. The attribute names are UTF-8 bytes:
    python-crfsuite takes bytes as they are, where it would encode each str anew. `tf`: the tokens'
    token_features when the caller has them."""
    if tf is None:
        tf = [token_features(t[2]) for t in toks]
    quoted = [masked[s] == "q" and w[0] != "q" for s, _, w in toks]
    return _rows(tf, [f[0] in cues for f in tf], quoted)


def _rows(tf: list[Features], is_cue: list[bool], quoted: list[bool] | None) -> list[Row]:
    """sentence_features from the tokens' features, which are cue words and which are quoted (None: none).
    Built column by column and zipped, one tuple per token (python-crfsuite reads any sequence)."""
    n = len(tf)
    if True in is_cue:
        first, last = is_cue.index(True), n - 1 - is_cue[::-1].index(True)
        sides = [_SIDES[0]] * first + [_SIDES[1]] * (last + 1 - first) + [_SIDES[2]] * (n - 1 - last)
    else:
        sides = [_SIDES[0]] * n
    pos = _POS[:n] if n <= len(_POS) else _POS + (_POS[-1],) * (n - len(_POS))
    near = [_EDGE, _EDGE, *[f[2] for f in tf], _EDGE, _EDGE]  # padded: token i is near[i + 2]
    cue_at = [False, *is_cue, False]  # padded: token i is cue_at[i + 1]
    q = [_QUOTED[0]] * n if quoted is None else [_QUOTED[v] for v in quoted]
    return [
        own + (qi, _CUE[ci], side, p, n2[0], n1[1], a1[2], a2[3], _CUE_BEFORE[cb], _CUE_AFTER[ca])
        for own, qi, ci, side, p, n2, n1, a1, a2, cb, ca in zip(
            [f[1] for f in tf],
            q,
            is_cue,
            sides,
            pos,
            near,
            near[1:],
            near[3:],
            near[4:],
            cue_at,
            cue_at[2:],
            strict=False,  # the padded columns run past the tokens: the first column bounds them
        )
    ]


def bio(toks: list[tuple[int, int, str]], spans: list[tuple[str, int, int]]) -> list[str]:
    """BIO labels for tokens from (label, start, end) spans; the first span over a token wins."""
    out = []
    prev = ""
    for s, e, _ in toks:
        lab = next((lb for lb, a, b in spans if a <= s and e <= b), "")
        out.append("O" if not lab else ("I-" if lab == prev else "B-") + lab)
        prev = lab
    return out


def decode(toks: Sequence[tuple[int, int] | tuple[int, int, str]], labels: list[str]) -> list[Tagged]:
    """Content spans with the nearest Source and Cue spans of the same sentence (toks: the tokens, or
    just their spans)."""
    spans: dict[str, list[tuple[int, int]]] = {lb: [] for lb in LABELS}
    if len(labels) != len(toks):
        raise ValueError(f"{len(labels)} labels for {len(toks)} tokens")
    cur: tuple[str, int, int, int] | None = None  # (kind, start, end, index of its last token)
    for i in [i for i, lab in enumerate(labels) if lab != "O"]:  # most labels are O: visit the others only
        lab = labels[i]
        kind = lab[2:]
        if cur is not None and cur[3] == i - 1 and kind == cur[0] and not lab.startswith("B-"):
            cur = (kind, cur[1], toks[i][1], i)  # the span goes on
            continue
        if cur is not None:
            spans[cur[0]].append((cur[1], cur[2]))
        cur = (kind, toks[i][0], toks[i][1], i)
    if cur is not None:
        spans[cur[0]].append((cur[1], cur[2]))

    def nearest(pool: list[tuple[int, int]], at: tuple[int, int]) -> tuple[int, int] | None:
        return min(pool, key=lambda p: min(abs(p[0] - at[1]), abs(at[0] - p[1])), default=None)

    return [Tagged(c, nearest(spans["Source"], c), nearest(spans["Cue"], c)) for c in spans["Content"]]


def trie_pattern(words: list[str]) -> str:
    """A regex matching exactly these words, as a prefix trie: Python's re tries a plain alternation of
    some 200 verbs one by one at every position, which made cue search most of the stage's time."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


# ------------------------------------------------------------------ the trained model


@functools.lru_cache(maxsize=1)
def _tagger() -> tuple[Any, frozenset[str], re.Pattern[str], re.Pattern[str]] | None:
    if not MODEL_PATH.is_file() or not INFO_PATH.is_file():
        log.warning("%s is absent: attribution runs on rules only (build it: newsmon train statements)", MODEL_PATH)
        return None
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(MODEL_PATH))
    info = json.loads(INFO_PATH.read_text(encoding="utf-8"))
    cues = frozenset(info["cue_words"])
    pattern = r"\b(?:" + trie_pattern(sorted(cues)) + r")\b"
    # case-blind for any text, case-sensitive for lower-cased text (three times faster)
    return tagger, cues, re.compile(pattern, re.I), re.compile(pattern)


def tag_sentence(text: str, masked: str, lo: int, hi: int, lowered: str | None = None) -> list[Tagged]:
    """Attributions in text[lo:hi] (one sentence), or none when the model is absent or sees no cue.
    `lowered`: text.lower() when it has text's offsets, for a faster cue search."""
    loaded = _tagger()
    if loaded is None:
        return []
    tagger, cues, cue_re, cue_lower = loaded
    if not (cue_lower.search(lowered, lo, hi) if lowered is not None else cue_re.search(text, lo, hi)):
        return []  # most sentences: no cue word, nothing to tag
    words = _TOKEN.findall(text, lo, hi)  # the words of tokens(text, lo, hi); offsets only when needed
    if not words or len(words) > 150:
        return []
    tf = list(map(token_features, words))
    is_cue = [f[0] in cues for f in tf]
    if True not in is_cue:
        return []
    quoted = None  # no quote masked inside the sentence: no token is quoted
    if not masked.startswith(text[lo:hi], lo):
        quoted = [masked[m.start()] == "q" and m.group()[0] != "q" for m in _TOKEN.finditer(text, lo, hi)]
    labels = tagger.tag(_rows(tf, is_cue, quoted))
    if "B-Content" not in labels and "I-Content" not in labels:
        return []  # most tagged sentences: no content, so nothing to decode
    return decode([m.span() for m in _TOKEN.finditer(text, lo, hi)], labels)


# ------------------------------------------------------------------ training


def _article_sequences(
    text: str, spans: list[tuple[str, int, int]], cues: frozenset[str]
) -> list[tuple[list[Row], list[str]]]:
    from pipeline.statements.quotes import find_quotes, mask_quotes, paragraphs, sentences

    paras = paragraphs(text)
    masked = mask_quotes(text, find_quotes(text, paras))
    out = []
    for p in paras:
        for lo, hi in sentences(masked, p.start, p.end):
            toks = tokens(text, lo, hi)
            if not toks or len(toks) > 150 or not any(t[2].lower() in cues for t in toks):
                continue  # as at run time: only sentences with a cue word
            out.append((sentence_features(toks, masked, cues), bio(toks, spans)))
    return out


def _ann_spans(path: Path) -> list[tuple[str, int, int]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 3:
            typ, _, rest = parts[1].partition(" ")
            if typ in LABELS:
                for frag in rest.split(";"):
                    a, b = frag.split()
                    out.append((typ, int(a), int(b)))
    # contents first: a token inside both a content and a source or cue is content
    return sorted(out, key=lambda x: LABELS.index(x[0]))


def polnear_articles(directory: Path) -> list[tuple[str, Path, Path]]:
    """(name, text file, first .ann file in name order) of a PolNeAR-format folder."""
    anns: dict[str, list[Path]] = {}
    for a in sorted((directory / "attributions").glob("*.ann")):
        anns.setdefault(a.stem.rsplit("_", 1)[0], []).append(a)
    return [(t.stem, t, anns[t.stem][0]) for t in sorted((directory / "text").glob("*.txt")) if t.stem in anns]


def train(train_dir: Path, out_dir: Path = DATA) -> dict:
    """Train the CRF on a PolNeAR-format folder; write the model and its provenance; return the provenance."""
    import pycrfsuite

    docs = polnear_articles(train_dir)
    if not docs:
        raise SystemExit(f"{train_dir}: no PolNeAR articles (text/*.txt with attributions/*.ann)")
    cue_counts: dict[str, int] = {}
    word_counts: dict[str, int] = {}
    loaded = []
    for _, tpath, apath in docs:
        text = tpath.read_text(encoding="utf-8")
        spans = _ann_spans(apath)
        loaded.append((text, spans))
        for w in _TOKEN.findall(text.lower()):
            word_counts[w] = word_counts.get(w, 0) + 1
        for typ, a, b in spans:
            if typ == "Cue":
                for w in _TOKEN.findall(text[a:b].lower()):
                    if w.isalpha() and len(w) > 2:
                        cue_counts[w] = cue_counts.get(w, 0) + 1
    # cue words: seen as a cue at least 3 times and in at least 15% of their uses (so a sentence is
    # tagged only when it holds a word that is mostly a cue: the stage keeps its speed)
    cues = frozenset(w for w, n in cue_counts.items() if n >= CUE_MIN and n >= CUE_SHARE * word_counts.get(w, n))
    trainer = pycrfsuite.Trainer(verbose=False)
    n_seq = 0
    for text, spans in loaded:
        for feats, labels in _article_sequences(text, spans, cues):
            trainer.append(feats, labels)
            n_seq += 1
    trainer.set_params(PARAMS)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / MODEL_PATH.name
    t0 = time.time()
    trainer.train(str(model))
    digest = hashlib.sha256()
    for _, tpath, apath in docs:
        digest.update(tpath.read_bytes())
        digest.update(apath.read_bytes())
    info = {
        "what": "CRF (python-crfsuite) tagging PolNeAR Content/Source/Cue spans, BIO, in sentences with a cue word",
        "trained_on": f"PolNeAR train: {len(docs)} articles (first .ann file of each), {n_seq} sentences",
        "data_sha256": digest.hexdigest(),
        "params": PARAMS,
        "cue_words_rule": f"seen as a cue >= {CUE_MIN} times and in >= {CUE_SHARE:.0%} of their uses",
        "train_seconds": round(time.time() - t0, 1),
        "command": "newsmon train statements ../shared/eval/statements/polnear/train",
        "cue_words": sorted(cues),
    }
    (out_dir / INFO_PATH.name).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    _tagger.cache_clear()
    return info
