"""Statements: who said what in an article's text.

In: the article text and the tracked figures. Out: `Statement` records (direct, indirect, partial
quotes and quoted social posts) with speaker, kind, cue and character offsets.
`quotes` finds quoted spans, sentences and paragraphs; `speakers` finds and resolves speaker
mentions (names, pronouns, role nouns, aliases of tracked figures); `attribute` ties the two
together; `novelty` gives each statement its identity key and decides when one repeats another.
"""

from .attribute import attribute_statements

__all__ = ["attribute_statements"]
