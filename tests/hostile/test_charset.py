"""Charset: a declared charset the bytes mostly fit is trusted; a stray byte stays one stray byte."""

from __future__ import annotations

import pytest

from pipeline.config import load_seeds
from pipeline.enrich import enrich_article
from pipeline.extract import extract_article
from pipeline.extract.decode import decode_html

from .support import SEED_ARTICLE


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/html"])
def test_seed_article_with_one_stray_byte_keeps_its_statements(content_type):
    if not SEED_ARTICLE.exists():
        pytest.skip(f"{SEED_ARTICLE} is absent (../shared)")
    raw = SEED_ARTICLE.read_bytes()
    middle = raw.index(b"</p>", len(raw) // 2)
    stray = raw[:middle] + b"\xff" + raw[middle:]
    text, codec = decode_html(stray, content_type)
    assert codec == "utf-8" and text.count("\ufffd") == 1
    seeds = load_seeds()

    def statements(data: bytes) -> list[tuple[str | None, str]]:
        article = extract_article(data, "https://x.test/a", content_type=content_type, feed_id="f", outlet="o")
        # the stray byte itself shows as one U+FFFD inside a statement's text
        return [(s.speaker_id, s.text.replace("\ufffd", "")) for s in enrich_article(article, seeds).statements]

    clean = statements(raw)
    assert len(clean) >= 12  # the twelve gold statements (tests/test_e2e.py checks which)
    assert statements(stray) == clean


def test_a_declaration_that_clearly_does_not_fit_falls_back_to_detection():
    body = "<p>" + "Le ministre a déclaré que la réforme sera appliquée à l'été. " * 40 + "</p>"
    data = f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>'.encode("cp1252")
    text, codec = decode_html(data, "text/html; charset=utf-8")
    assert "déclaré" in text and "\ufffd" not in text and codec != "utf-8"
