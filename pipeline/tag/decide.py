"""The topic decision for one article: topics and subtopics with 0..1 scores, evidence, model version.

A topic with a trained model (`model.py`, the immigration_policy topic) is scored by that model:
a probability calibrated at a natural base rate, from title, lede and body, whatever the length.
Other topics, and every subtopic, are scored by their phrases (`rules.py`) squashed onto 0..1.
A topic is assigned when its score reaches its ``threshold``; subtopics are considered only when
their topic is assigned, and each needs ``subtopic_threshold`` and SUBTOPIC_MIN_SHARE of the best
subtopic's phrase score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import Topic
from pipeline.records import TopicLabel

from .features import split_parts
from .model import TopicModel, load_model
from .rules import score_article_with_length, squash

IMMIGRATION_TOPIC = "immigration_policy"
# A story about H-1B visas that mentions green cards in passing is not also a "legal immigration levels"
# story. (This and subtopic_threshold were chosen on half of the hand labels, checked on the other half.)
SUBTOPIC_MIN_SHARE = 0.6
RULE_THRESHOLD = 0.5  # for topics decided by phrases when topics.yaml sets no threshold
MAX_TERMS = 8


@dataclass
class TopicDecision:
    labels: list[TopicLabel] = field(default_factory=list)  # assigned topics, each followed by its subtopics
    is_immigration_policy: bool = False
    score: float = 0.0  # the immigration_policy score, assigned or not
    sentences: list[str] = field(default_factory=list)  # sentences that drove the immigration decision
    model_version: str = ""  # "rules" when no model decided


def decide_topics(title: str, text: str, topics: list[Topic], model: TopicModel | None = None) -> TopicDecision:
    """Score every topic of ``topics`` and assign those that reach their thresholds."""
    model = model if model is not None else load_model()
    parts = split_parts(title, text)
    phrase_scores, divisor = score_article_with_length(parts.title, parts.body, topics)
    decision = TopicDecision(model_version="rules")
    for topic in topics:
        rule_score, rule_terms = phrase_scores[topic.id]
        feats: dict[str, float] | None = None
        if model is not None and topic.use_model and model.topic == topic.id:
            score, feats = model.score(parts, topic, rule_score, divisor)
            version, threshold = model.version, model.thresholds[parts.length_class]
        else:
            score, version, threshold = squash(rule_score), "rules", RULE_THRESHOLD
        score = round(score, 4)
        assigned = score >= (topic.threshold if topic.threshold is not None else threshold)
        if topic.id == IMMIGRATION_TOPIC:
            decision.score, decision.is_immigration_policy, decision.model_version = score, assigned, version
        if not assigned:
            continue
        # evidence only for assigned topics: most articles are not, and ranking terms costs as much as scoring
        terms = rule_terms
        if model is not None and feats is not None:
            terms = list(dict.fromkeys([*rule_terms, *model.terms(feats)]))[:MAX_TERMS]
            if topic.id == IMMIGRATION_TOPIC:
                decision.sentences = model.sentences(parts)
        decision.labels.append(TopicLabel(label=topic.id, parent=None, score=score, evidence=terms))
        best = max((phrase_scores[s.id][0] for s in topic.subtopics), default=0.0)
        subs = []
        for sub in topic.subtopics:
            s_raw, s_terms = phrase_scores[sub.id]
            s_score = round(squash(s_raw), 4)
            if s_score >= topic.subtopic_threshold and s_raw >= SUBTOPIC_MIN_SHARE * best:
                subs.append(TopicLabel(label=sub.id, parent=topic.id, score=s_score, evidence=s_terms))
        decision.labels.extend(sorted(subs, key=lambda lab: -lab.score))
    return decision


def tag_article(title: str, text: str, topics: list[Topic], model: TopicModel | None = None) -> list[TopicLabel]:
    """Assigned topics and subtopics, each topic followed by its subtopics (most relevant first)."""
    return decide_topics(title, text, topics, model).labels
