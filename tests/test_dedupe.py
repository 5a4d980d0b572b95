"""dedupe: SimHash fingerprints, band lookup keys, canonical URLs."""

from __future__ import annotations

import random

from pipeline import dedupe
from pipeline.urls import canonicalize_url

TEXT = (
    "The city council voted on Tuesday to approve a new budget that raises spending on parks, "
    "libraries and road repairs while holding property taxes flat for the third year in a row. "
    "Council members debated the plan for more than four hours before the final vote. "
    "Supporters said the spending would fix crumbling sidewalks and extend library hours on weekends, "
    "while opponents warned that the city was drawing down its reserves too quickly and could face "
    "a shortfall if sales tax receipts fall next year. The mayor is expected to sign the budget on "
    "Friday, and the new fiscal year begins on the first of July. Residents who spoke during the "
    "public comment period asked for more money for youth programs and for snow removal on side "
    "streets, and several council members promised to revisit those requests in the spring."
)


def test_identical_and_lightly_edited_texts_are_near_duplicates():
    a = dedupe.simhash(TEXT)
    assert dedupe.distance(a, dedupe.simhash(TEXT)) == 0
    edited = TEXT + " Reporting by the city desk."
    assert dedupe.is_near_duplicate(a, dedupe.simhash(edited))


def test_unrelated_texts_are_far_apart():
    other = (
        "Scientists studying coral reefs off the northern coast reported a surprising recovery this "
        "year, with new growth measured at dozens of sites that had bleached badly two summers ago "
        "during a long marine heat wave."
    )
    d = dedupe.distance(dedupe.simhash(TEXT), dedupe.simhash(other))
    assert d > 15
    assert not dedupe.is_near_duplicate(dedupe.simhash(TEXT), dedupe.simhash(other))


def test_too_short_text_has_no_fingerprint():
    assert dedupe.simhash("Breaking news") is None
    assert not dedupe.is_near_duplicate(None, dedupe.simhash(TEXT))


def test_any_pair_within_max_distance_shares_a_band():
    rng = random.Random(7)
    for _ in range(2000):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), dedupe.MAX_DISTANCE):
            b ^= 1 << bit
        assert set(dedupe.bands(a)) & set(dedupe.bands(b))


def test_signed_roundtrip_for_elasticsearch_longs():
    for v in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        s = dedupe.to_signed(v)
        assert -(1 << 63) <= s < (1 << 63)
        assert dedupe.from_signed(s) == v


def test_canonical_url_drops_tracking_and_fragment():
    assert (
        canonicalize_url("HTTPS://News.Example.test:443/a/b?utm_source=x&b=2&a=1&fbclid=z#frag")
        == "https://news.example.test/a/b?a=1&b=2"
    )


def _simhash_bit_loop(text: str, shingle: int = 3) -> int | None:
    """The textbook definition (one vote per bit per shingle), as dedupe.simhash was first written."""
    import hashlib
    import re

    words = [w.lower() for w in re.findall(r"\w+", text)]
    if len(words) < shingle + 5:
        return None
    weights = [0] * 64
    for i in range(len(words) - shingle + 1):
        h = int.from_bytes(hashlib.blake2b(" ".join(words[i : i + shingle]).encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def test_simhash_is_identical_to_the_bit_loop():
    rng = random.Random(14)
    vocabulary = ["the", "Border", "ASYLUM", "visa", "H-1B", "Straße", "İstanbul", "ΟΔΟΣ", "naïve", "x1", "_", "日本語"]
    vocabulary += ["Σ", "ΑΣ", "ΑΣʰ", "ΣΑ", "ﬁnal", "ǅemal", "K", "ß"]  # final sigma, ligatures, title case
    texts = [TEXT, TEXT.upper(), "", "one two three", "a b c d e f g h"]
    texts += [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 400))) for _ in range(300)]
    # ties: an even number of shingles split evenly on some bits must give 0 there, as the loop does
    texts += [" ".join(str(i % k) for i in range(n)) for k in (2, 3, 5) for n in (8, 9, 10, 11, 64)]
    for text in texts:
        assert dedupe.simhash(text) == _simhash_bit_loop(text), text[:80]
    for shingle in (1, 2, 4):
        assert dedupe.simhash(TEXT, shingle) == _simhash_bit_loop(TEXT, shingle)


def test_simhash_is_identical_on_real_pages():
    from conftest import shared_path

    pages = sorted(shared_path("eval", "extraction", "html").glob("*.html"))[:12]
    for path in pages:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert dedupe.simhash(text) == _simhash_bit_loop(text), path.name
