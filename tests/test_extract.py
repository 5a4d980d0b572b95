"""Extraction stage: seed-article gold, charsets, size cap, hostile input, not-article pages, eval metric."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pipeline.extract.body as extract_body
from pipeline.evaluation.extraction import page_scores, shingles
from pipeline.extract.body import MAX_HTML_BYTES, extract_article, find_posts
from pipeline.records import Article
from pipeline.urls import canonicalize_url

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
SEED = SHARED / "fixtures" / "seed-article"
EVAL_DIR = SHARED / "eval" / "extraction"

needs_seed = pytest.mark.skipif(not SEED.is_dir(), reason=f"shared seed article not found at {SEED}")
needs_eval = pytest.mark.skipif(not EVAL_DIR.is_dir(), reason=f"shared extraction eval set not found at {EVAL_DIR}")


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def seed() -> tuple[Article, dict, str]:
    if not SEED.is_dir():
        pytest.skip(f"shared seed article not found at {SEED}")
    html = (SEED / "article.html").read_bytes()
    expected = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
    body = (SEED / expected.get("body_text_file", "article.txt")).read_text(encoding="utf-8")
    art = extract_article(
        html, "https://news.example.test/politics/2024/12/30/musk-h1b-war?utm_source=rss&utm_medium=feed"
    )
    return art, expected, body


# ------------------------------------------------------------------ seed article


@needs_seed
def test_seed_metadata_matches_gold(seed):
    art, expected, _ = seed
    gold = expected["metadata"]
    assert art.title == gold["title"]
    assert art.canonical_url == gold["canonical_url"]
    assert art.site_name == gold["site_name"]
    assert art.authors == gold["authors"]
    assert art.published == datetime.fromisoformat(gold["published"].replace("Z", "+00:00"))
    assert art.modified == datetime.fromisoformat(gold["modified"].replace("Z", "+00:00"))
    assert art.published.utcoffset().total_seconds() == 0
    assert art.language == gold["language"]
    assert art.not_article_reason is None


@needs_seed
def test_seed_body_has_every_paragraph_and_no_boilerplate(seed):
    art, expected, body = seed
    text = _ws(art.text)
    for phrase in expected["body_must_not_contain"]:
        assert phrase not in art.text, phrase
    for para in body.splitlines():
        if para.strip():
            assert _ws(para) in text, para
    # one paragraph per line, in order
    lines = art.text.split("\n")
    gold_lines = [p.strip() for p in body.splitlines() if p.strip()]
    assert lines == gold_lines
    assert "Musk vows 'war'" not in art.text  # the headline is metadata, not body


@needs_seed
def test_seed_social_post_kept_with_signature(seed):
    art, expected, _ = seed
    post = next(s for s in expected["statements"] if s["kind"] == "post")
    lines = art.text.split("\n")
    i = next(i for i, line in enumerate(lines) if post["text"] in line)
    assert lines[i + 1] == "— Elon Musk (@elonmusk) December 29, 2024"
    posts = find_posts(art.text)
    assert len(posts) == 1
    start, end, signature = posts[0]
    assert art.text[start:end] == lines[i]
    assert "@elonmusk" in signature


# ------------------------------------------------------------------ charsets

_BODY_FR = (
    "<p>Le président a déclaré à la presse que la réforme des visas était « nécessaire » et "
    "qu’elle serait présentée à l’Assemblée dès la rentrée, après l’été.</p>"
    "<p>Les élèves étrangers, déçus, ont protesté devant le ministère ; « c’est injuste », a dit l’un d’eux.</p>"
)
_FR_TEXT_FRAGMENT = "Le président a déclaré à la presse que la réforme des visas était « nécessaire »"


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>Réforme</title></head><body><article>{body}</article></body></html>"


def test_latin1_declared_in_meta():
    raw = _page(_BODY_FR.replace("’", "'"), '<meta charset="iso-8859-1">').encode("latin-1")
    art = extract_article(raw, "https://example.test/a")
    assert "Le président a déclaré" in art.text
    assert "« nécessaire »" in art.text


def test_windows_1252_labelled_latin1_keeps_curly_quotes():
    raw = _page(_BODY_FR, '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">').encode("cp1252")
    art = extract_article(raw, "https://example.test/a")
    assert _FR_TEXT_FRAGMENT in art.text
    assert "qu’elle" in art.text  # 0x92 read as U+2019, not a C1 control


def test_utf8_without_declaration():
    raw = _page(_BODY_FR).encode("utf-8")
    art = extract_article(raw, "https://example.test/a")
    assert _FR_TEXT_FRAGMENT in art.text
    assert "Ã" not in art.text


def test_latin1_without_any_declaration():
    raw = _page(_BODY_FR.replace("’", "'")).encode("latin-1")
    art = extract_article(raw, "https://example.test/a")
    assert "Le président a déclaré" in art.text
    assert "\ufffd" not in art.text


def test_meta_disagrees_with_http_header_utf8_bytes():
    # header says UTF-8, meta says Latin-1, bytes are UTF-8: the bytes win
    raw = _page(_BODY_FR, '<meta charset="iso-8859-1">').encode("utf-8")
    art = extract_article(raw, "https://example.test/a", content_type="text/html; charset=utf-8")
    assert _FR_TEXT_FRAGMENT in art.text
    # header says Latin-1, meta says UTF-8, bytes are UTF-8
    art2 = extract_article(
        _page(_BODY_FR, '<meta charset="utf-8">').encode("utf-8"),
        "https://example.test/a",
        content_type="text/html; charset=ISO-8859-1",
    )
    assert _FR_TEXT_FRAGMENT in art2.text


def test_meta_disagrees_with_http_header_cp1252_bytes():
    # header says windows-1252 (right), meta says utf-8 (wrong)
    raw = _page(_BODY_FR, '<meta charset="utf-8">').encode("cp1252")
    art = extract_article(raw, "https://example.test/a", content_type="text/html; charset=windows-1252")
    assert _FR_TEXT_FRAGMENT in art.text
    assert "qu’elle" in art.text


def test_bom_and_str_input():
    raw = b"\xef\xbb\xbf" + _page(_BODY_FR).encode("utf-8")
    assert _FR_TEXT_FRAGMENT in extract_article(raw, "https://example.test/a").text
    assert _FR_TEXT_FRAGMENT in extract_article(_page(_BODY_FR), "https://example.test/a").text


def test_text_is_nfc():
    decomposed = "Cafe\u0301 society: the re\u0301forme was discussed at length by everyone in the room today."
    art = extract_article(_page(f"<p>{decomposed}</p><p>{decomposed}</p>"), "https://example.test/a")
    assert "Café society" in art.text
    assert "e\u0301" not in art.text


# ------------------------------------------------------------------ hostile input


def test_size_capped_page_is_cut_safely():
    para = "<p>Paragraph number {i} tells the reader something rather important about the story today.</p>\n"
    body = "".join(para.format(i=i) for i in range(80_000))
    raw = _page(body, '<meta charset="utf-8">').encode("utf-8")
    assert len(raw) > MAX_HTML_BYTES
    art = extract_article(raw, "https://example.test/big")
    assert "Paragraph number 0 tells" in art.text
    assert "Paragraph number 79999" not in art.text  # beyond the cap
    assert len(art.text) < MAX_HTML_BYTES


def test_page_cut_inside_multibyte_char_and_tag():
    raw = _page(_BODY_FR * 3).encode("utf-8")
    cut = raw.index("déclaré".encode()) + 2  # inside the two-byte "é"
    art = extract_article(raw[:cut], "https://example.test/a")
    assert isinstance(art, Article)
    cut2 = raw.index(b"<p>", 200) + 2  # inside a tag
    art2 = extract_article(raw[:cut2], "https://example.test/a")
    assert "Le président a déclaré" in art2.text


@pytest.mark.parametrize("payload", [b"", "", b"   ", b"\x00\x01\x02\xff\xfe\x00" * 1000, bytes(range(256)) * 50])
def test_empty_and_binary_input(payload):
    art = extract_article(payload, "https://example.test/x")
    assert isinstance(art, Article)
    assert art.not_article_reason is not None
    assert art.canonical_url == "https://example.test/x"


def test_png_bytes():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
    art = extract_article(png, "https://example.test/img.png", content_type="image/png")
    assert art.not_article_reason is not None


def test_ten_thousand_levels_of_nesting():
    deep = (
        "<div>" * 10_000
        + "<p>Deep inside the page there is a paragraph that is the whole story, told at length here.</p>"
        + "</div>" * 10_000
    )
    art = extract_article(f"<html><body>{deep}</body></html>".encode(), "https://example.test/deep")
    assert isinstance(art, Article)
    assert "Deep inside the page there is a paragraph" in art.text
    art2 = extract_article(("<b>" * 10_000 + "x").encode(), "https://example.test/deep2")
    assert isinstance(art2, Article)


# ------------------------------------------------------------------ not-article pages

_STORY = (
    "<p>The city council voted on Tuesday to approve a new budget that expands bus service across the "
    "northern districts, after months of debate among members and residents.</p>"
)


def test_real_article_is_not_flagged():
    art = extract_article(_page(_STORY * 6), "https://example.test/a")
    assert art.not_article_reason is None


def test_section_front_flagged():
    items = "".join(
        f'<li><a href="/politics/story-{i}">Headline number {i} about the latest political developments</a></li>'
        for i in range(60)
    )
    html = f"<html><head><title>Politics</title></head><body><h1>Politics</h1><ul>{items}</ul><p>Updated daily.</p></body></html>"
    art = extract_article(html, "https://example.test/politics")
    assert art.not_article_reason == "section_front"


def test_consent_wall_flagged():
    html = (
        "<html><body><div class='consent'><h2>We value your privacy</h2>"
        "<p>We and our partners use cookies and similar technologies to store and access personal data on your device.</p>"
        "<p>You can accept all cookies or manage your preferences. See our privacy policy for details.</p>"
        "<button>Accept all</button><button>Reject all</button><a href='/prefs'>Manage options</a></div></body></html>"
    )
    art = extract_article(html, "https://example.test/a")
    assert art.not_article_reason == "consent_wall"


def test_paywall_stub_flagged():
    html = _page(
        "<p>The governor unveiled a sweeping plan on Monday to overhaul the state's water rights system.</p>"
        "<div class='paywall-message'><p>Subscribe to continue reading. Already a subscriber? Sign in.</p></div>"
    )
    art = extract_article(html, "https://example.test/a")
    assert art.not_article_reason == "paywall"


def test_video_only_page_flagged():
    html = (
        '<html><head><meta property="og:type" content="video.other"><title>Watch: storm</title></head>'
        "<body><h1>Watch: the storm hits the coast</h1><video src='x.mp4'></video><p>Video by our team.</p></body></html>"
    )
    art = extract_article(html, "https://example.test/v")
    assert art.not_article_reason == "video"


# ------------------------------------------------------------------ metadata fallbacks and URLs


def test_metadata_fallbacks_without_json_ld():
    html = (
        '<html lang="de-DE"><head><title>Ein Titel | Die Zeitung</title>'
        '<meta property="og:site_name" content="Die Zeitung">'
        '<meta property="og:image" content="/img/a.jpg">'
        '<meta property="og:url" content="HTTPS://Example.TEST/a?b=2&utm_campaign=x&a=1#top">'
        "</head><body><article><h1>Ein Titel</h1><p>Von <a rel='author' href='/x'>Erika Muster</a></p>"
        '<time datetime="2024-05-01T10:00:00+02:00">1. Mai</time>' + _STORY * 3 + "</article></body></html>"
    )
    art = extract_article(html, "https://example.test/a")
    assert art.title == "Ein Titel"
    assert art.language == "de"
    assert art.site_name == "Die Zeitung"
    assert art.canonical_url == "https://example.test/a?a=1&b=2"
    assert art.image == "https://example.test/img/a.jpg"
    assert art.authors == ["Erika Muster"]
    assert art.published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("HTTPS://WWW.Example.COM:443/a/b?utm_source=x&z=1&fbclid=abc&a=2#frag", "https://www.example.com/a/b?a=2&z=1"),
        ("http://example.com/path?gclid=1&ocid=2&cmpid=3&utm_medium=rss", "http://example.com/path"),
        ("http://example.com:8080/x?id=7", "http://example.com:8080/x?id=7"),
    ],
)
def test_canonicalize_url(url, expected):
    assert canonicalize_url(url) == expected


# ------------------------------------------------------------------ metric and dev set


def test_metric_definition():
    assert shingles("a b c") == {("a", "b", "c"): 1}
    assert page_scores("", "") == (1.0, 1.0)
    p, r = page_scores("one two three four five", "one two three four six")
    assert (p, r) == (0.5, 0.5)
    p, r = page_scores("", "one two three four")
    assert (p, r) == (0.0, 0.0)


@needs_eval
def test_no_exception_on_any_dev_page():
    for path in sorted((EVAL_DIR / "html").glob("*.html")):
        art = extract_article(path.read_bytes(), "https://example.test/" + path.stem)
        assert isinstance(art, Article)


# ------------------------------------------------------------------ general extraction rules (synthetic pages)

_P = (
    "<p>The regional league published its final standings on Sunday after the last race of a long season, "
    "and the champion was decided by a handful of points.</p>"
)


def test_data_table_rows_kept_one_line_per_row():
    rows = "".join(
        f'<tr class="oddrow player-{i}"><td>{i}</td><td>Driver Number{i}</td><td>{500 - i}</td><td>{i % 3}</td></tr>'
        for i in range(1, 30)
    )
    html = _page(
        _P + "<p>Final standings after 36 races:</p>"
        f"<table><tr><th>Pos.</th><th>Driver</th><th>Points</th><th>Wins</th></tr>{rows}</table>"
        "<p>Only the top twelve drivers race for the title in the last ten races of the year.</p>"
    )
    art = extract_article(html, "https://example.test/standings")
    lines = art.text.split("\n")
    assert "Pos. Driver Points Wins" in lines
    assert "1 Driver Number1 499 1" in lines
    assert "29 Driver Number29 471 2" in lines
    assert lines[-1].startswith("Only the top twelve drivers")


def test_layout_table_cells_stay_blocks():
    html = (
        "<html><body><table><tr><td><p>" + "A long paragraph of the story that goes on. " * 8 + "</p></td>"
        "<td><ul><li><a href='/a'>Link one</a></li><li><a href='/b'>Link two</a></li></ul></td></tr></table>"
        "</body></html>"
    )
    art = extract_article(html, "https://example.test/layout")
    assert "A long paragraph of the story" in art.text
    assert "Link one" not in art.text


def test_cjk_text_gets_spaces_at_inline_element_boundaries():
    html = _page(
        "<p>何が困るかといえば、パスワード管理ソフト<a href='https://keepass.info/'>KeePass</a>の起動ショートカット"
        "キーと同じなのです。このご時世パスワードの強化は非常に重要なことであり、管理ソフトは不可欠です。</p>"
        * 2
        + "<p>It is <em>not</em> a <b>problem</b> in Latin text: word<i>s</i> stay whole.</p>"
    )
    art = extract_article(html, "https://example.test/ja")
    assert "パスワード管理ソフト KeePass の起動" in art.text
    assert "It is not a problem in Latin text: words stay whole." in art.text


def test_hovercard_wrapper_keeps_its_link_text():
    para = (
        "<p>A man pleaded guilty to threatening to kill Rep. <span class='rollover-people'>"
        "<a class='rollover-people-link' href='/people/jane-roe'>Jane Roe</a>"
        "<span class='rollover-people-block'><a href='/people/jane-roe'>Jane Roe</a> "
        "<a href='/x'>Other stories about Jane Roe in the news this week</a></span></span> (D-Minn.), "
        "prosecutors said on Monday in a statement.</p>"
    )
    art = extract_article(_page(para + _STORY * 2), "https://example.test/a")
    assert "threatening to kill Rep. Jane Roe (D-Minn.), prosecutors said" in art.text
    assert "Other stories about Jane Roe" not in art.text


def _release(about_html: str) -> str:
    story = "".join(
        f"<p>Paragraph {i} of the announcement explains what the new partnership means for hospitals and their "
        f"staff across the region, in some detail.</p>"
        for i in range(6)
    )
    return (
        f"<html><head><title>Acme signs a deal</title></head><body><div class='page'>"
        f"<div class='text'>{story}</div>{about_html}</div></body></html>"
    )


def test_press_release_about_the_company_section_dropped():
    about = (
        "<div class='text'><hr><p>Acme is a global solutions provider focused on healthcare software. Acme "
        "is headquartered in Springfield and employs around 1,300 people worldwide.</p></div>"
    )
    art = extract_article(_release(about), "https://www.acme.com/news/deal.html")
    assert "Paragraph 5 of the announcement" in art.text
    assert "global solutions provider" not in art.text
    heading = (
        "<div class='text'><h3>About Acme Corp</h3><p>Acme Corp is a leading maker of widgets, listed in "
        "Zurich, with offices in ten countries and a long history.</p></div>"
    )
    art2 = extract_article(_release(heading), "https://news.example.test/deal.html")
    assert "Paragraph 5 of the announcement" in art2.text
    assert "leading maker of widgets" not in art2.text and "About Acme" not in art2.text


def test_company_description_inside_the_story_is_kept():
    # same container as the story, no rule: it is part of the text as published
    html = _release("").replace(
        "</div></div></body>",
        "<p>Acme is a global solutions provider focused on healthcare software and employs 1,300 people.</p></div></div></body>",
    )
    art = extract_article(html, "https://www.acme.com/news/deal.html")
    assert "global solutions provider" in art.text


def test_author_bio_and_contact_lines_at_the_end_dropped():
    head = (
        '<head><title>Story</title><script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Story", "author": {"@type": "Person", "name": "Jane Doe"}}'
        "</script></head>"
    )
    body = (
        _STORY * 4 + '<p>Jane Doe\'s book about the search for life, "Out There", is out now.</p>'
        "<p>Have a tip? Jane Doe may be reached at jdoe@example.test. Follow her on Twitter @janedoe.</p>"
        "<p>Get the latest updates right in your inbox. Subscribe to Example's newsletters.</p>"
        "<p>If you enjoyed this article, we have a proposition for you: join our membership programme and "
        "get all of our content, with no paywalls, plus access to our writers.</p>"
        "<p>You may also like...</p>"
    )
    art = extract_article(f"<html>{head}<body><article>{body}</article></body></html>", "https://example.test/a")
    assert art.authors == ["Jane Doe"]
    assert art.text.split("\n")[-1].startswith("The city council voted")
    for phrase in ("Out There", "may be reached", "newsletters", "proposition", "You may also like"):
        assert phrase not in art.text


def test_newsletter_mentioning_itself_is_kept():
    html = _page(_STORY * 3 + "<p>You can also subscribe to this newsletter here and get it every morning.</p>")
    assert "subscribe to this newsletter" in extract_article(html, "https://example.test/a").text


@pytest.mark.parametrize(
    "head,body,expected",
    [
        # Yoast-style graph: the article's author is an @id reference to a Person node
        (
            '<script type="application/ld+json">{"@graph": [{"@type": "Article", "author": {"@id": "#p1"}},'
            '{"@type": "Person", "@id": "#p1", "name": "Yoav Smith"}]}</script>',
            "",
            ["Yoav Smith"],
        ),
        # the first article-like object has no author, a later NewsArticle has one
        (
            '<script type="application/ld+json">[{"@type": "CreativeWork"}, {"@type": "NewsArticle", '
            '"author": {"@type": "Person", "name": "Debbie White"}}]</script>',
            "",
            ["Debbie White"],
        ),
        # meta author given as a profile URL
        ('<meta property="article:author" content="https://example.test/author/madeline-fry">', "", ["Madeline Fry"]),
        # a Facebook URL in the meta tag is skipped, rel="author external" link is used
        (
            '<meta property="article:author" content="https://www.facebook.com/examplemag">',
            "<p>By <a rel='author external' href='/u/1'>FEDERICA LUSIARDI</a></p>",
            ["Federica Lusiardi"],
        ),
        # a byline element, with a date after the name and an agency after capitalised names
        ("", "<div class='article-byline'>By Carrie Arnold November 15, 2019</div>", ["Carrie Arnold"]),
        (
            "",
            "<div class='story-byline'>By DANICA KIRKA and JILL LAWLESS Associated Press</div>",
            ["Danica Kirka", "Jill Lawless"],
        ),
        # credentials after the name are not authors
        ('<meta name="author" content="Rachael Link, MS, RD">', "", ["Rachael Link"]),
    ],
)
def test_author_sources(head, body, expected):
    html = f"<html><head><title>T</title>{head}</head><body>{body}<article>{_STORY * 3}</article></body></html>"
    assert extract_article(html, "https://example.test/a").authors == expected


# ------------------------------------------------------------------ patterns from the WCXB dev pages


_PARAS = [
    f"<p>Paragraph {i} of the guide explains, in full sentences, what a reader needs to know about the "
    f"topic at hand, with enough words to count as prose for any extractor that reads it.</p>"
    for i in range(8)
]


def test_story_split_into_boxes_with_boilerplate_class_names_is_kept():
    # Page builders put each part of a story in a box named "widget", "card" or "label-hidden": class
    # names that also name boilerplate. They must not empty the story.
    boxes = "".join(
        f"<div class='{cls}'>{''.join(_PARAS[i * 2 : i * 2 + 2])}</div>"
        for i, cls in enumerate(("elementor-widget-container", "article-card", "field--label-hidden", "widget-span"))
    )
    nav = "<nav><ul>" + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(12)) + "</ul></nav>"
    html = f"<html><head><title>Guide</title></head><body>{nav}<h1>Guide</h1>{boxes}</body></html>"
    art = extract_article(html, "https://example.test/guide")
    assert art.not_article_reason is None
    for i in range(8):
        assert f"Paragraph {i} of the guide" in art.text
    assert "Section 3" not in art.text


def test_teaser_list_under_a_more_from_heading_is_dropped():
    teasers = "".join(f"<li>Another headline number {i} from the same writer on this site</li>" for i in range(6))
    body = "".join(_PARAS[:4]) + f"<h2>More from Jane Doe</h2><ul>{teasers}</ul>" + "".join(_PARAS[4:])
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 0 of the guide" in art.text and "Paragraph 7 of the guide" in art.text
    assert "Another headline" not in art.text and "More from Jane Doe" not in art.text


def test_comment_thread_after_a_comment_count_heading_is_cut():
    comments = "".join(
        f"<div class='wpd-comment'><div>Reader {i}</div><div>6 months ago</div><p>I really liked this piece, "
        f"it answered the questions I had about the topic and more besides, thank you for writing it.</p></div>"
        for i in range(5)
    )
    body = "".join(_PARAS) + f"<div class='wpd-threads'><div>33 Comments</div>{comments}</div>"
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "33 Comments" not in art.text and "I really liked this piece" not in art.text


def test_body_only_in_json_ld_is_used():
    story = "\n".join(
        f"Sentence group {i}: the council approved the budget after a long debate about bus routes and fares."
        for i in range(12)
    )
    ld = json.dumps({"@type": "NewsArticle", "headline": "Budget passes", "articleBody": story})
    links = "".join(f"<li><a href='/n/{i}'>Other story {i}</a></li>" for i in range(30))
    html = (
        f'<html><head><title>Budget passes</title><script type="application/ld+json">{ld}</script></head>'
        f"<body><div id='app'><h1>Budget passes</h1><ul>{links}</ul></div></body></html>"
    )
    art = extract_article(html, "https://example.test/budget")
    assert art.not_article_reason is None
    assert art.text.splitlines()[0].startswith("Sentence group 0: the council")
    assert len(art.text.splitlines()) == 12


def test_linked_heading_over_its_own_section_is_kept_but_a_linked_teaser_box_is_not():
    sections = "".join(
        f"<h2><a href='https://shop.example.org/p{i}'>{i + 1}. Tool number {i}</a></h2>{_PARAS[i]}" for i in range(4)
    )
    teasers = "".join(f"<ul><li><h4><a href='/n/{i}'>Teaser headline {i}</a></h4></li></ul>" for i in range(3))
    body = f"<div class='story'>{sections}<h4>More:</h4>{teasers}{''.join(_PARAS[4:])}</div>"
    art = extract_article(_page(body), "https://example.test/a")
    for i in range(4):
        assert f"{i + 1}. Tool number {i}" in art.text
    assert "Paragraph 7 of the guide" in art.text
    assert "Teaser headline" not in art.text


def test_second_copy_of_the_story_is_dropped_but_a_repeated_line_is_kept():
    long = [
        p.replace("</p>", " It goes on for a while to make the paragraph long enough to count.</p>") for p in _PARAS
    ]
    dish = (
        "<p>Asparagus and eggs with sweet potato, one apple and a spoon of olive oil for the potatoes, "
        "then a glass of water and a short walk before the afternoon workout begins.</p>"
    )
    body = "".join(long[:3]) + dish + "".join(long[3:6]) + dish + "".join(long[6:]) + "".join(long[:3])
    art = extract_article(_page(body), "https://example.test/a")
    for i in range(8):
        assert art.text.count(f"Paragraph {i} of the guide") == 1
    assert art.text.count("Asparagus and eggs") == 2


def test_theme_class_containing_x_post_is_not_a_social_post():
    # "zox-post-body" (a WordPress theme) contains "x-post" but is no embedded X post: the page around
    # the story, with its teaser list, must not be kept as one post.
    teasers = "".join(
        f"<li><a href='/t{i}'>Another headline number {i} from the same writer</a></li>" for i in range(8)
    )
    body = (
        "<div class='zox-post-body-wrap'><div class='zox-post-body'>" + "".join(_PARAS) + "</div>"
        f"<div class='zox-post-more'><h2>More from Jane Doe</h2><ul>{teasers}</ul></div></div>"
    )
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Another headline" not in art.text
    assert "— " not in art.text  # no post signature line


def test_list_of_sources_after_the_story_is_cut_and_photo_credits_dropped():
    refs = "".join(f"<p>Author {i}, et al. (2021). A study of the topic number {i}.</p>" for i in range(6))
    body = (
        "".join(_PARAS[:4])
        + "<p>Getty Images / Jane Photographer</p>"
        + "".join(_PARAS[4:])
        + f"<h3>References</h3>{refs}"
    )
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 0 of the guide" in art.text and "Paragraph 7 of the guide" in art.text
    assert "Getty Images" not in art.text
    assert "References" not in art.text and "A study of the topic" not in art.text


@pytest.mark.parametrize("heading", ["Article Sources", "View Article Sources", "References & Sources"])
def test_sources_under_other_common_headings_are_cut(heading):
    refs = "".join(
        f"<p>“Survey number {i} of the market.” Example Research, https://research.example.org/s{i}. "
        f"Accessed 11 Apr. 2025.</p>"
        for i in range(6)
    )
    art = extract_article(_page("".join(_PARAS) + f"<h3>{heading}</h3>{refs}"), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert heading not in art.text and "Survey number" not in art.text


def test_product_cards_holding_paragraphs_are_story_but_teaser_cards_are_not(monkeypatch):
    # A buying guide: an introduction, then each product reviewed in a "product-card" box with paragraphs
    # of its own (a weak boilerplate name), then teaser cards and a share bar. newsmon's own container
    # must hold the cards: the trafilatura second opinion is switched off.
    monkeypatch.setattr(extract_body, "needs_second_opinion", lambda text, prose: False)
    long = (
        "It was tested for a month in our lab against every rival at its price, and it came out ahead on "
        "battery life, on the quality of its screen and on how quietly it ran under load, which matters to "
        "anyone who works in a library, a shared office or on a train late at night."
    )
    cards = "".join(
        f"<div class='product-card'><h3>Laptop model {i}</h3><p>Laptop model {i} is our pick. {long}</p>"
        f"<p>Its keyboard number {i} is firm. {long}</p></div>"
        for i in range(4)
    )
    teasers = "".join(
        f"<div class='teaser-card'><a href='/t{i}'>Another guide number {i} to read next</a></div>" for i in range(6)
    )
    share = "<div class='share-bar'><a href='/s'>Share</a> <a href='/t'>Tweet</a></div>"
    body = "<div class='guide'>" + "".join(_PARAS[:6]) + cards + "</div>" + teasers + share
    art = extract_article(_page(body), "https://example.test/guide")
    assert "Paragraph 0 of the guide" in art.text
    for i in range(4):
        assert f"Laptop model {i} is our pick" in art.text and f"Its keyboard number {i}" in art.text
    assert "Another guide number" not in art.text and "Tweet" not in art.text


def test_data_table_closing_the_story_keeps_its_short_rows():
    rows = "".join(f"<tr><td>October {i}</td><td>12pm</td><td>Room {i}</td></tr>" for i in range(1, 5))
    body = "<div class='story'>" + "".join(_PARAS) + f"<table>{rows}</table></div>"
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "October 4 12pm Room 4" in art.text


def test_teaser_cards_with_excerpts_under_a_related_heading_are_dropped():
    excerpt = (
        "An excerpt of another post, long enough to read as a paragraph of prose: it tells the reader what "
        "the other post is about and invites a click, with a full stop at the end of it."
    )
    cards = "".join(
        f"<div class='post-{i}'><h3><a href='/p{i}'>Another post number {i}</a></h3><p>{excerpt}</p></div>"
        for i in range(3)
    )
    body = "".join(_PARAS) + f"<h2>Related Blog Posts</h2>{cards}"
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Another post number" not in art.text and "An excerpt of another post" not in art.text


def test_second_copy_of_a_list_of_short_paragraphs_is_dropped():
    items = [f"Point number {i}: the agency plans, creates and runs a campaign for you." for i in range(5)]
    first = "".join(f"<p>{x}</p>" for x in items)
    body = "".join(_PARAS[:4]) + first + "".join(_PARAS[4:]) + f"<div class='mobile'>{first}</div>"
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    for x in items:
        assert art.text.count(x) == 1


def test_folded_accordion_panels_are_text_but_other_hidden_boxes_are_not():
    panels = "".join(
        f"<div class='accordion-item'><h3>Question number {i}?</h3><div class='accordion-body' hidden>"
        f"<p>Answer number {i}: the panel opens on a click and its text is part of the page, as readers see it.</p>"
        f"</div></div>"
        for i in range(3)
    )
    hidden = "<div style='display:none'><p>A hidden sign-up message that no reader sees on the page at all.</p></div>"
    body = "<div class='story'>" + "".join(_PARAS) + panels + hidden + "</div>"
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Answer number 2: the panel opens" in art.text
    assert "hidden sign-up message" not in art.text


def test_linked_names_in_a_list_of_text_are_kept_but_a_list_of_links_is_not():
    # A directory: each entry's linked name, then its address and services as plain list items. The
    # names are link-dense lines, but the list as a whole is text, so they belong to the story.
    entries = "".join(
        f"<li><a href='https://clinic{i}.example.org/'>Riverside Clinic Number {i}</a></li>"
        f"<li>{100 + i} Harbour Street, Suite {i}</li><li>Counselling and group therapy, fees based on income</li>"
        for i in range(5)
    )
    teasers = "".join(
        f"<li><a href='/t{i}'>Another headline number {i} from the same writer</a></li>" for i in range(5)
    )
    body = (
        "".join(_PARAS[:4])
        + f"<ul>{entries}</ul>"
        + "".join(_PARAS[4:6])
        # a run of linked headlines is a list of links even in a list that is mostly text
        + "<ul>"
        + "".join(
            f"<li>Note {i} from the editors on how the directory was compiled and checked, entry by entry, "
            "against the records that each clinic published last year.</li>"
            for i in range(4)
        )
        + f"{teasers}</ul>"
        + "".join(_PARAS[6:])
    )
    art = extract_article(_page(body), "https://example.test/a")
    for i in range(5):
        assert f"Riverside Clinic Number {i}" in art.text
        assert f"{100 + i} Harbour Street" in art.text
    assert "Paragraph 7 of the guide" in art.text
    assert "Another headline" not in art.text


def _dated_card(i: int) -> str:
    return (
        f"<div class='item'><h5><a href='/c/daily'>Daily</a></h5><div>Dec {10 + i}, 2025</div>"
        f"<h3><a href='/s/{i}'>Another resort opens its doors number {i}</a></h3>"
        f"<p>Guests of resort number {i} can now book the new rooms, the spa and a tour of the grounds "
        f"with a guide, the owners said in a statement sent to travel writers this week.</p></div>"
    )


def test_trailing_dated_teaser_cards_without_a_heading_are_cut():
    # Cards of other stories (label, date, linked title, excerpt) after the story, with no "Related"
    # heading over them: a run of dated linked titles that ends the page's text.
    art = extract_article(_page("".join(_PARAS) + "".join(_dated_card(i) for i in range(5))), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "resort" not in art.text and "Dec 1" not in art.text


def test_dated_cards_inside_the_story_are_kept():
    # One card between paragraphs, and a run of cards with the story going on after it, are not a tail.
    body = _PARAS[0] + _dated_card(0) + "".join(_PARAS[1:4]) + "".join(_dated_card(i) for i in range(1, 5))
    art = extract_article(_page(body + "".join(_PARAS[4:])), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Guests of resort number 4" in art.text


def test_author_bio_box_by_first_name_ends_the_story():
    head = '<meta name="author" content="Karina Cohen">'
    bio = (
        "<div class='about-writer'><p>Karina holds a degree in business from a state university and has run "
        "the cleaning company for ten years.</p><p>When she is not at work, Karina coaches a youth team.</p>"
        "<p>Support our writers! Donate to keep these guides free for every reader.</p></div>"
    )
    art = extract_article(_page(f"<div class='story'>{''.join(_PARAS)}</div>{bio}", head), "https://example.test/a")
    assert art.authors == ["Karina Cohen"]
    assert "Paragraph 7 of the guide" in art.text
    assert "Karina holds" not in art.text and "coaches" not in art.text and "Donate" not in art.text
    # the same sentence inside the story's own box is the story's
    inside = "<p>Karina holds a degree in business from a state university and has run the company for ten years.</p>"
    art = extract_article(_page(f"<div class='story'>{''.join(_PARAS)}{inside}</div>", head), "https://example.test/a")
    assert "Karina holds" in art.text


def test_latest_posts_by_the_author_list_is_dropped():
    # The author box of a common WordPress plugin lists the writer's other posts under this heading.
    teasers = "".join(
        f"<li><a href='/p{i}'>Another trip guide number {i}</a> - December {i + 1}, 2025</li>" for i in range(5)
    )
    box = f"<div><p>Autumn</p><p>Latest posts by Autumn Adams (see all)</p><ul>{teasers}</ul></div>"
    art = extract_article(_page("".join(_PARAS) + box), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Latest posts" not in art.text and "Another trip guide" not in art.text


def test_links_announced_by_an_intro_line_are_kept_but_more_links_are_not():
    picks = "<p>Our testers' top recommendations:</p><ul>" + "".join(
        f"<li><a href='https://shop.example.org/w{i}'>Acme torque wrench model {i}</a></li>" for i in range(3)
    )
    more = "<p>Other council stories:</p><ul>" + "".join(
        f"<li><a href='/news/{i}'>Council votes on another budget line {i}</a></li>" for i in range(3)
    )
    body = "".join(_PARAS[:3]) + picks + "</ul>" + "".join(_PARAS[3:6]) + more + "</ul>" + "".join(_PARAS[6:])
    art = extract_article(_page(body), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    for i in range(3):
        assert f"Acme torque wrench model {i}" in art.text
    assert "Council votes" not in art.text


def _titled(og_title: str, h1: str) -> str:
    head = f'<meta property="og:title" content="{og_title}">'
    return f"<html><head>{head}<title>x</title></head><body><article><h1>{h1}</h1>{_STORY * 4}</article></body></html>"


def test_title_is_the_h1_headline_without_the_affix_around_it():
    # The affix is neither og:site_name nor short enough to strip blind; the page's h1 says what the headline is.
    for og_title, h1 in (
        ("Healthy Eating Plate • The Nutrition Source", "Healthy Eating Plate"),
        ("Tastify | Top 7 Corporate Catering Trends for 2024", "Top 7 Corporate Catering Trends for 2024"),
        ("Skiplagging in the relocation process (via Passle)", "Skiplagging in the relocation process"),
    ):
        assert extract_article(_titled(og_title, h1), "https://example.test/a").title == h1


def test_title_keeps_words_the_h1_leaves_out_without_a_separator():
    # "2025" follows the h1 with no separator before it: part of the title, not an affix; a short h1 is a label.
    for og_title, h1 in (
        ("15 Best Online Tutoring Platforms 2025", "15 Best Online Tutoring Platforms"),
        ("Council passes the budget for next year - Local news", "Local news"),
    ):
        assert extract_article(_titled(og_title, h1), "https://example.test/a").title == og_title


def test_writer_box_labelled_by_job_title_after_the_story_is_dropped():
    # No author metadata names her: the label over the box says what it is.
    box = (
        "<div class='writer'><p>Jane Roe</p><p>Senior Staff Writer</p><p>Jane Roe, a licensed accountant, "
        "specializes in small-business tax and has written about accounting software for eight years.</p></div>"
    )
    art = extract_article(_page("".join(_PARAS) + box), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text
    assert "Staff Writer" not in art.text and "licensed accountant" not in art.text and "Jane Roe" not in art.text
    # the same label with the story going on after it is left alone
    mid = "".join(_PARAS[:4]) + "<p>Contributing Writer</p>" + "".join(_PARAS[4:])
    art = extract_article(_page(mid), "https://example.test/a")
    assert "Paragraph 7 of the guide" in art.text and "Paragraph 3 of the guide" in art.text


def test_author_from_an_author_classed_element_holding_a_bare_name():
    # No metadata, no "By": the element's class and its text (a name alone) say who wrote it. A card of
    # another story in an aside and a heading such as "About the Author" are not names of this page's author.
    body = (
        "<aside><div class='card'><span class='author-name'>John Roe</span></div></aside>"
        "<div class='author-box'><h4 class='author-title'>About The Author</h4></div>"
        "<div class='post-hero__author-name'>Jane van Doe</div>" + _STORY * 4
    )
    art = extract_article(
        f"<html><head><title>Story</title></head><body>{body}</body></html>", "https://example.test/a"
    )
    assert art.authors == ["Jane van Doe"]
    none = extract_article(_page(_STORY * 4 + "<div class='author'>Share This Story</div>"), "https://example.test/a")
    assert none.authors == []


def test_character_references_left_in_json_ld_are_decoded():
    # JSON-LD is not HTML: "&amp;" in it is still escaped (a common WordPress SEO plugin writes it so).
    ld = '{"@type": "BlogPosting", "headline": "Fish &amp; chips", "author": {"@type": "Person", "name": "Maria &amp; Katerina"}}'
    head = f'<script type="application/ld+json">{ld}</script>'
    art = extract_article(
        f"<html><head>{head}</head><body><article>{_STORY * 4}</article></body></html>", "https://example.test/a"
    )
    assert art.title == "Fish & chips"
    assert art.authors == ["Maria & Katerina"]


def test_blog_newsletter_box_is_not_a_paywall():
    # The box a common WordPress plugin puts at the end of every post; the same words before a cut story are.
    story = (
        "<p>Dentistry is changing quickly, and this year brings new tools to the chair, from scanners to "
        "software that reads x-rays, which patients notice at every visit to the clinic.</p>" * 3
    )
    box = (
        "<div class='jetpack-subscription-modal'><h2>Discover more from Acme Dental</h2>"
        "<p>Subscribe now to keep reading and get access to the full archive.</p></div>"
    )
    html = f"<html><head><title>Trends</title></head><body><article>{story}</article>{box}</body></html>"
    assert extract_article(html, "https://example.test/a").not_article_reason is None
    stub = _page(story[: story.index("</p>") + 4] + "<div><p>Subscribe now to keep reading.</p></div>")
    assert extract_article(stub, "https://example.test/a").not_article_reason == "paywall"
