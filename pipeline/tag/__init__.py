"""Tagging: immigration-policy topics and subtopics (calibrated score, evidence, model version) and
the tracked figures an article mentions. Plain functions, no I/O beyond reading the model file.

* `rules.py`: the seeds' weighted phrases, matched and scored;
* `features.py`, `model.py`: the immigration-policy model (words of title, lede and body plus the
  phrase scores; calibrated per length class);
* `decide.py`: the decision per article; `train.py`: ``newsmon train topics``;
* `figures.py`: tracked people mentioned.
"""

from .decide import IMMIGRATION_TOPIC, TopicDecision, decide_topics, tag_article
from .figures import mentioned_figures
from .model import TopicModel, load_model
from .rules import phrase_pattern, score_article, squash

__all__ = [
    "IMMIGRATION_TOPIC",
    "TopicDecision",
    "TopicModel",
    "decide_topics",
    "load_model",
    "mentioned_figures",
    "phrase_pattern",
    "score_article",
    "squash",
    "tag_article",
]
