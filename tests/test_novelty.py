"""Statement identity and near-repeat detection."""

from __future__ import annotations

import json
import re

from conftest import shared_path

from pipeline.records import Statement
from pipeline.statements.novelty import (
    find_repeat,
    is_near_repeat,
    mark_repeats_within,
    normalise_statement,
    statement_key,
    words_a_repeat_shares,
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


# ------------------------------------------------------------------ containment (issue 11)

ORIGINAL = "We will deport one million people in the first year, and we will not stop until the job is done."


def test_repeat_only_when_contained_trimmed():
    assert is_near_repeat("We will deport one million people in the first year", ORIGINAL)


def test_repeat_with_ellipsis():
    assert is_near_repeat("We will deport one million people … we will not stop until the job is done", ORIGINAL)


def test_repeat_with_quote_case_and_punctuation_edits():
    assert is_near_repeat("“we will DEPORT one million people, in the first year!”", ORIGINAL)


def test_repeat_with_light_rewording():
    assert is_near_repeat(
        "We're going to deport one million people in the first year", ORIGINAL.replace("will", "are going to", 1)
    )
    assert is_near_repeat("We will remove one million people in the first year", ORIGINAL)


def test_changed_number_is_new():
    assert not is_near_repeat("We will deport two million people in the first year", ORIGINAL)
    assert not is_near_repeat("We will deport 1.5 million people in the first year", ORIGINAL)


def test_added_negation_is_new():
    assert not is_near_repeat("We will not deport one million people in the first year", ORIGINAL)


def test_removed_negation_is_new():
    assert not is_near_repeat("and we will stop until the job is done", ORIGINAL)


def test_added_sentence_is_new():
    longer = ORIGINAL + " We will also detain every asylum seeker at the border."
    assert not is_near_repeat(longer, ORIGINAL)
    # the other way round (the earlier one was the longer): a repeat
    assert is_near_repeat(ORIGINAL, longer)


def test_shorter_fragment_of_a_longer_one_is_not_new_but_the_longer_is():
    fragment = "deport one million people in the first year"
    assert is_near_repeat(fragment, ORIGINAL)
    assert not is_near_repeat(ORIGINAL, fragment)


def test_repeat_of_names_the_first_sighting_never_a_repeat():
    sts = [st(ORIGINAL), st("We will deport one million people in the first year"), st("deport one million people")]
    sts.append(st("We will deport one million people in the first year."))
    mark_repeats_within(sts)
    assert sts[0].repeat_of is None
    assert sts[1].repeat_of == sts[0].key and sts[3].repeat_of == sts[0].key
    assert sts[2].repeat_of is None  # four words: too short to call a repeat unless identical


def test_a_batch_takes_its_items_in_published_order():
    from pipeline.batch import published_order

    items = {
        "rereport": {"published": "2025-01-02T10:00:00+01:00", "discovered_at": "2025-01-02T10:05:00+00:00"},
        "original": {"published": "2025-01-02T09:30:00+00:00", "discovered_at": "2025-01-02T10:05:00+00:00"},
        "undated": {"published": None, "discovered_at": "2025-01-02T08:00:00+00:00"},
        "later": {"published": "2025-01-02T11:00:00Z", "discovered_at": "2025-01-02T11:05:00+00:00"},
    }
    # "rereport" is 09:00 UTC, before "original"'s 09:30: offsets are compared as times, not as strings
    assert published_order(items) == ["undated", "rereport", "original", "later"]


def _indexed_words(text: str) -> set[str]:
    """Words as the index's standard analyzer keeps them: a contraction or possessive stays one word."""
    return set(re.findall(r"\w+(?:['’]\w+)*", text.lower()))


def _variants(text: str) -> list[str]:
    """Trimmed, cut with an ellipsis, contracted, reworded: the kinds of repeat is_near_repeat accepts."""
    w = text.split()
    n = len(w)
    out = [" ".join(w[n // 10 :]), " ".join(w[: n - n // 10]), " ".join(w[: n // 3] + ["…"] + w[2 * n // 3 :])]
    out += [text.replace(" not ", "n't ").replace("will not", "won't"), text.replace(" is ", " was ", 1)]
    out += [" ".join(w[:i] + ["really"] + w[i:]) for i in range(1, n, max(1, n // 4))]
    out += [" ".join(w[:i] + w[i + 1 :]) for i in range(0, n, max(1, n // 5))]
    # the hardest case: words the earlier text lacks, longer than any of its own, as many as a repeat may add
    long = ["unquestionably", "extraordinarily", "fundamentally", "categorically", "wholeheartedly"]
    for k in range(1, len(long) + 1):
        step = max(1, n // (k + 1))
        added = list(w)
        for j in range(k):
            added.insert((j + 1) * step + j, long[j])
        out.append(" ".join(added))
    return out


def test_every_repeat_holds_as_many_of_the_words_as_the_index_search_asks_for():
    """The novelty search asks the index only for a statement's key and texts holding `at_least` of a few
    words: for every variant is_near_repeat accepts, the earlier text holds that many of those words."""
    expected = json.loads((shared_path("fixtures", "seed-article") / "expected.json").read_text(encoding="utf-8"))
    earlier = [s["text"] for s in expected["statements"]] + [POST, ORIGINAL]
    checked = 0
    for old in earlier:
        for new in [*_variants(old), *_variants(old.upper())]:
            if not is_near_repeat(new, old):
                continue
            shared = words_a_repeat_shares(new)
            if shared is None:
                continue  # searched with the whole text
            if not shared.words:  # a short text: only the identical one repeats it, and that has the same key
                assert normalise_statement(new) == normalise_statement(old)
                continue
            assert shared.at_least >= 1
            assert len(set(shared.words) & _indexed_words(old)) >= shared.at_least, (new, old, shared)
            # the point: far fewer words than the text (the fifth a repeat may lack, counted with contractions
            # spelled out, and four more)
            assert len(shared.words) <= len(new.split()) // 4 + 4
            checked += 1
    assert checked > 60


def test_the_words_asked_for_are_few_searchable_and_long():
    assert words_a_repeat_shares("We did it.") == ([], 0)  # too short to be repeated other than word for word
    shared = words_a_repeat_shares(ORIGINAL)
    assert shared is not None and 1 < len(shared.words) <= 8
    # 20 words, of which a repeat may lack 4: of 8 words asked for, it holds at least 4
    assert shared.at_least == len(shared.words) - 4 == 4
    assert not {"will", "not", "the", "and"} & set(shared.words) and "deport" in shared.words
    assert words_a_repeat_shares("I’m, you’re, we’ll, they’d, it’s, can’t, don’t, won’t, isn’t, hasn’t") is None
