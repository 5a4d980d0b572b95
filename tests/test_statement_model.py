"""The statement sequence model: labels, decoding, and the shipped model with its provenance."""

from __future__ import annotations

import json

from pipeline.statements import model
from pipeline.statements.attribute import extract


def test_bio_labels_and_decoding_round_trip():
    text = "Officials believe the economy will grow next year."
    toks = model.tokens(text, 0, len(text))
    spans = [("Content", 18, 49), ("Source", 0, 9), ("Cue", 10, 17)]
    labels = model.bio(toks, spans)
    assert labels[:3] == ["B-Source", "B-Cue", "B-Content"] and labels[-1] == "O"
    (found,) = model.decode(toks, labels)
    assert text[slice(*found.content)] == "the economy will grow next year"
    assert found.source is not None and text[slice(*found.source)] == "Officials"
    assert found.cue is not None and text[slice(*found.cue)] == "believe"


def test_shipped_model_has_its_provenance():
    info = json.loads(model.INFO_PATH.read_text(encoding="utf-8"))
    assert model.MODEL_PATH.is_file()
    assert info["trained_on"].startswith("PolNeAR train") and "newsmon train statements" in info["command"]
    assert {"believe", "according"} & set(info["cue_words"])


def test_model_finds_an_attribution_the_rules_miss():
    text = "Sen. Tom Cotton wants to cut legal immigration in half over the next decade."
    rules = extract(text, [], persons_only=False, use_model=False)
    both = extract(text, [], persons_only=False)
    assert rules == []
    # no speech verb: a stance (stored and searchable, never alerted on), not reported speech
    assert [(f.kind, f.mention.text if f.mention else None, f.cue) for f in both] == [("stance", "Tom Cotton", "wants")]


def test_cue_search_on_a_lower_cased_copy_finds_what_the_case_blind_search_finds():
    from pipeline.statements.cues import CUE_RE, find_cues, lower_same_length

    text = 'TRUMP SAID it. "No," Pence Told reporters, according to aides who Warned that it was over.'
    low = lower_same_length(text)
    assert low is not None
    assert [m.span() for m in find_cues(text, low)] == [m.span() for m in CUE_RE.finditer(text)] != []
    # a letter whose lower case is longer would move every offset after it: no copy, the case-blind search
    assert lower_same_length("İstanbul officials said so.") is None
    assert [m.group() for m in find_cues("İstanbul officials SAID so.", None)] == ["SAID"]


def test_sentences_without_three_free_words_are_not_tagged():
    from pipeline.statements.found import Found
    from pipeline.statements.reported import _has_free_words

    text = 'He said it. "We will win this," Trump said, and then he left.'

    def taken(a: int, b: int) -> Found:
        return Found("direct", a, b, a, b, None, None)

    lo, hi = 12, len(text)
    quote_end = text.index("Trump")
    assert _has_free_words(text, [], lo, hi)
    assert _has_free_words(text, [taken(lo, quote_end)], lo, hi)  # "Trump said, and then he left." is free
    assert not _has_free_words(text, [taken(lo, quote_end), taken(text.index(", and"), hi)], lo, hi)
    assert not _has_free_words(text, [taken(0, len(text))], lo, hi)
