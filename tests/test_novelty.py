"""Statement identity and near-repeat detection."""

from __future__ import annotations

from pipeline.records import Statement
from pipeline.statements.novelty import (
    find_repeat,
    is_near_repeat,
    mark_repeats_within,
    normalise_statement,
    statement_key,
)

POST = (
    "Easily fixed by raising the minimum salary significantly and adding a yearly cost for maintaining the "
    "H1B, making it materially more expensive to hire from overseas than domestically. I’ve been very clear "
    "that the program is broken and needs major reform."
)


def st(text: str, speaker_id: str | None = "elon-musk", name: str = "Elon Musk", kind="direct") -> Statement:
    return Statement(
        speaker_id=speaker_id, speaker_name=name, speaker_mention=name, text=text, kind=kind, start=0, end=len(text)
    )


def test_normalise_folds_marks_space_case_and_trailing_punctuation():
    a = normalise_statement("“I’ve been  very clear,\nthat’s it.”")
    b = normalise_statement("\"i've been very clear, that's it")
    assert a == b == "i've been very clear, that's it"


def test_statement_key_same_for_style_variants_and_different_by_speaker():
    k1 = statement_key("elon-musk", "“The program is broken.”")
    assert k1 == statement_key("elon-musk", '"the program is broken"')
    assert k1 != statement_key("donald-trump", "The program is broken.")
    assert k1 != statement_key("elon-musk", "The program is fine.")


def test_sentence_of_earlier_post_is_a_repeat():
    assert is_near_repeat("I’ve been very clear that the program is broken and needs major reform", POST)


def test_trimmed_quote_is_a_repeat():
    assert is_near_repeat("the program is broken and needs major reform", POST)


def test_ellipsis_cut_is_a_repeat():
    assert is_near_repeat(
        "Easily fixed by raising the minimum salary significantly … I’ve been very clear that the program is broken",
        POST,
    )
    assert is_near_repeat("Easily fixed by raising the minimum salary ... needs major reform.", POST)


def test_lightly_edited_quote_is_a_repeat():
    assert is_near_repeat(
        "I have been very clear that this program is broken and needs a major reform",
        "I’ve been very clear that the program is broken and needs major reform.",
    )


def test_different_statements_are_not_repeats():
    assert not is_near_repeat("I’m confident that the changes will make America much stronger.", POST)
    assert not is_near_repeat("The program is fine and needs no reform at all, none whatsoever.", POST)
    # too short to call a near-repeat unless identical
    assert not is_near_repeat("major reform", POST)
    assert is_near_repeat("Major reform!", "major reform")


def test_find_repeat_requires_same_speaker():
    post = st(POST, kind="post")
    same = st("I’ve been very clear that the program is broken and needs major reform")
    other = st("I’ve been very clear that the program is broken and needs major reform", "donald-trump", "Donald Trump")
    assert find_repeat(same, [post]) is post
    assert find_repeat(other, [post]) is None


def test_mark_repeats_within_links_to_first_sighting():
    sts = [
        st(POST, kind="post"),
        st("Something else entirely, said on another day."),
        st("I’ve been very clear that the program is broken and needs major reform"),
        st("“I’ve been very clear that the program is broken and needs major reform.”"),
    ]
    mark_repeats_within(sts)
    assert all(s.key for s in sts)
    assert sts[0].repeat_of is None and sts[1].repeat_of is None
    assert sts[2].repeat_of == sts[0].key
    assert sts[3].repeat_of == sts[0].key  # chains point at the first sighting, not the middle one
