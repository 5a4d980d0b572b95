"""Features of the immigration-policy model: the same function at training and at tagging time.

An article is read as title, lede (its first sentence) and body, each capped, so the cost is linear
in the text and bounded. Features, each block L2-normalised so that long and short texts are on
one scale. The word blocks (``w:``, ``t:``, ``h:``) hold raw counts: a word a story repeats weighs more
against one it names once (cross-validated full-text F1 over three fold splits 0.9501 / 0.9457 /
0.9456 with 1 + log(count), 0.9511 / 0.9472 / 0.9474 with raw counts; docs/topics.md):

* ``w:`` words and word pairs of the whole text (title and lede counted twice);
* ``t:`` words and word pairs of the title alone, so that a headline can be decided on its own;
* ``h:`` words and word pairs of the body's first HEAD_WORDS words: the opening says what a story is
  about, where a long story's later paragraphs wander (cross-validated F1 at the best threshold rose
  from 0.946 to 0.949 with it);
* ``r:`` the seeds' phrase scores (rules.py) of the title and of the whole text (log-scaled, so a
  story full of strong phrases keeps counting; times RULE_GAIN so that regularisation holds them
  back less than single words): what a user adds to seeds/topics.yaml moves the decision even
  before the model is retrained;
  each also per length class (``r:all@short``), as phrases weigh more in a short text; and the
  whole text's phrase score before rules.py divides it by the text's length (``r:raw``), so a long
  story that names its subject a dozen times is not scored like one that names it once (with C=30,
  cross-validated full-text F1 0.947 -> 0.951 on the eval's folds, 0.944 -> 0.945 and 0.945 -> 0.944
  on two other splits: a small gain in ranking, docs/topics.md);
* ``len:`` which length class the text falls in (title only, short, full), a bias per class.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from operator import mul
from typing import Literal

from pipeline.config import Topic

from .rules import score_article, score_article_with_length

LengthClass = Literal["title", "short", "full"]
LENGTH_CLASSES: tuple[LengthClass, ...] = ("title", "short", "full")

MAX_TITLE_CHARS = 400
MAX_BODY_CHARS = 20_000  # about 3,000 words: enough to say what a story is about; bounds the cost
MAX_LEDE_CHARS = 400
SHORT_WORDS = 80  # a body of fewer words (a feed summary, a brief) is a "short" text
RULE_GAIN = 2.0
HEAD_WORDS = 250

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’\-]*\w)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘']?[A-Z0-9])")
# Function words carry no topic; dropping them keeps the model small.
STOPWORDS = frozenset(
    "a an the of to and in on for is was were be been are that this it its with as by at from have has had he "
    "she they his her their them we you i not but or will would said says say so if than then there which who "
    "what when also about after more can could do does did into out up over just all one new".split()
)


@dataclass(frozen=True)
class TextParts:
    title: str
    lede: str
    body: str
    length_class: LengthClass


def split_parts(title: str, text: str) -> TextParts:
    """Title, lede (first sentence of the body) and capped body; and the text's length class."""
    title = " ".join((title or "").split())[:MAX_TITLE_CHARS]
    body = (text or "")[:MAX_BODY_CHARS].strip()
    lede = first_sentence(body)
    if not title:  # an untitled text (a brief, a page whose headline was lost): its lede stands in
        title = lede
    n_words = len(body.split()) if body else 0
    length_class: LengthClass = "title" if n_words == 0 else "short" if n_words < SHORT_WORDS else "full"
    return TextParts(title, lede, body, length_class)


def first_sentence(text: str) -> str:
    head = " ".join(text[: MAX_LEDE_CHARS * 3].split())
    return _SENTENCE_END.split(head, maxsplit=1)[0][:MAX_LEDE_CHARS]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def _bag(words: list[str], prefix: str, out: dict[str, float]) -> None:
    if not words:
        return
    stop = STOPWORDS
    counts = Counter(prefix + w for w in words if w not in stop)  # Counter counts in C
    counts.update(f"{prefix}{a} {b}" for a, b in zip(words, words[1:], strict=False) if a not in stop or b not in stop)
    # raw counts, L2-normalised
    values = counts.values()
    scale = 1.0 / (math.sqrt(sum(map(mul, values, values))) or 1.0)
    out.update(zip(counts, [v * scale for v in values], strict=True))


def featurize(
    parts: TextParts, topic: Topic | None, phrase_score: float | None = None, divisor: float | None = None
) -> dict[str, float]:
    """Feature name -> value for one text (the model's input). ``phrase_score`` and ``divisor``: the
    topic's phrase score of title and body and the length factor rules.py divided it by
    (`score_article_with_length`), when the caller has them already (saves passes over the text)."""
    title_words = tokens(parts.title)
    body_words = tokens(parts.body)
    feats: dict[str, float] = {}
    # the title counts twice and the lede (also part of the body) once more: they say what a story is about
    _bag(title_words + title_words + tokens(parts.lede) + body_words, "w:", feats)
    _bag(title_words, "t:", feats)
    _bag(body_words[:HEAD_WORDS], "h:", feats)
    if topic is not None:
        for name, value in rule_features(parts, topic, phrase_score, divisor).items():
            feats[name] = value
            feats[f"{name}@{parts.length_class}"] = value  # how much phrases count depends on length
    feats["len:" + parts.length_class] = 1.0
    return feats


def rule_features(
    parts: TextParts, topic: Topic, phrase_score: float | None = None, divisor: float | None = None
) -> dict[str, float]:
    if phrase_score is None or divisor is None:  # the caller has not scored the text: both come from one pass
        scores, divisor = score_article_with_length(parts.title, parts.body, [topic])
        phrase_score = scores[topic.id][0]
    title = score_article("", parts.title, [topic])[topic.id][0] if parts.title else 0.0
    return {
        "r:all": RULE_GAIN * math.log1p(max(phrase_score, 0.0)),
        "r:title": RULE_GAIN * math.log1p(max(title, 0.0)),
        # the phrase score before rules.py's length division, undone with the very factor it used
        "r:raw": RULE_GAIN * math.log1p(max(phrase_score, 0.0) * divisor),
    }
