"""Article metadata from a parsed page: JSON-LD first, then OpenGraph / meta tags, then <time> and the DOM.

All functions take an lxml document (before boilerplate stripping) and return plain values.
Dates are timezone-aware and in UTC (a date given without an offset is taken as UTC).
"""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urljoin, urlsplit

from dateutil import parser as date_parser
from lxml.html import HtmlElement

from pipeline.urls import canonicalize_url

# fmt: off
_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "socialmediaposting",
    "techarticle", "scholarlyarticle", "report", "webpage", "creativework", "medicalwebpage",
    "advertisercontentarticle", "satiricalarticle", "videoobject", "review", "posting",
}
# fmt: on
_WS = re.compile(r"\s+")


# JSON-LD is not HTML: a character reference in it is still escaped ("Maria &amp; Katerina", as a common
# WordPress SEO plugin writes it), and so is one escaped twice in an attribute.
_CHAR_REF = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


def clean_text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    if "&" in value and _CHAR_REF.search(value):
        value = unescape(value)
    value = unicodedata.normalize("NFC", value.replace("\xa0", " "))
    return _WS.sub(" ", value).strip()


@dataclass
class PageMeta:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    canonical_url: str = ""
    site_name: str = ""
    language: str = ""
    description: str = ""
    image: str = ""
    og_type: str = ""
    ld_types: list[str] = field(default_factory=list)
    ld_article_body: str = ""
    accessible_for_free: bool | None = None


# ------------------------------------------------------------------ dates


def parse_date(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from an ISO-8601-ish or human date string, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = float(value)
        if ts > 1e11:  # milliseconds
            ts /= 1000
        try:
            return datetime.fromtimestamp(ts, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s or len(s) > 80:
        return None
    if s.isdigit() and len(s) in (10, 13):
        return parse_date(int(s))
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00")) if "T" in s or "-" in s[:5] else None
    except ValueError:
        dt = None
    if dt is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dt = date_parser.parse(s, fuzzy=False)
        except (ValueError, OverflowError, TypeError):
            return None
    if not 1990 <= dt.year <= 2100:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# ------------------------------------------------------------------ JSON-LD


def _ld_objects(doc: HtmlElement) -> list[dict]:
    out: list[dict] = []
    for script in doc.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        raw = raw.removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
        try:
            data = json.loads(raw)
        except ValueError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))
            except ValueError:
                continue
        stack = [data]
        while stack and len(out) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                out.append(item)
    return out


def _types(obj: dict) -> list[str]:
    t = obj.get("@type", [])
    if isinstance(t, str):
        t = [t]
    return [x.lower() for x in t if isinstance(x, str)]


def _names(value: object, limit: int = 10) -> list[str]:
    """Names from a JSON-LD author/publisher value (string, object, or list of them)."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items[:limit]:
        if isinstance(item, str):
            name = item
        elif isinstance(item, dict):
            name = item.get("name") or ""
            if isinstance(name, list):
                name = name[0] if name else ""
            if not name and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName', '')} {item.get('familyName', '')}"
        else:
            continue
        name = clean_text(name)
        if name:
            out.append(name)
    return out


def _first_url(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        for v in value:
            u = _first_url(v)
            if u:
                return u
    if isinstance(value, dict):
        return _first_url(value.get("url") or value.get("@id") or value.get("contentUrl") or "")
    return ""


# ------------------------------------------------------------------ authors

_BY = re.compile(r"^\s*(?:written\s+)?by[:\s]+", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\|)\s*", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"https?://|www\.|@|\d{3,}|staff|editor(?:ial)?s?\b|news desk|agency", re.IGNORECASE)


def clean_authors(raw: list[str]) -> list[str]:
    out: list[str] = []
    seen = set()
    for value in raw:
        value = _BY.sub("", clean_text(value))
        parts = _AUTHOR_SPLIT.split(value) if len(value) > 40 or " and " in value or "," in value else [value]
        for part in parts:
            part = _BY.sub("", part).strip(" .-–—|")
            if not part or len(part) > 60 or len(part.split()) > 5:
                continue
            if part.lower().startswith(("http", "www.")):
                continue
            key = part.lower()
            if key not in seen:
                seen.add(key)
                out.append(part)
    return out


_AUTHOR_SLUG = re.compile(
    r"/(?:author|authors|staff|people|profile|profiles|writers?|journalists?|by)/([a-z]+(?:[-_][a-z]+){1,3})/?$",
    re.IGNORECASE,
)
_BYLINE_CLASS = (
    '//*[contains(@class, "byline") or contains(@class, "author") or contains(@class, "Byline") '
    'or contains(@class, "Author")][not(ancestor::*[contains(@class, "comment")])]'
)
_BYLINE_TEXT = re.compile(
    r"^\s*(?:written\s+)?by[:\s]+(.{3,120}?)\s*(?:[|•·,]\s*(?:updated|published|posted)\b.*)?$",
    re.IGNORECASE | re.DOTALL,
)


def _ld_person_names(value: object, ld_by_id: dict[str, dict]) -> list[str]:
    """_names, following {"@id": ...} references to Person nodes elsewhere in the JSON-LD graph."""
    items = value if isinstance(value, list) else [value]
    resolved = []
    for item in items[:10]:
        if isinstance(item, dict) and not item.get("name") and isinstance(item.get("@id"), str):
            item = ld_by_id.get(item["@id"], item)
        resolved.append(item)
    return _names(resolved)


def _name_case(name: str) -> str:
    """'DANICA KIRKA' -> 'Danica Kirka'; mixed-case names are left alone."""
    m = re.match(r"^((?:[A-Z][A-Z.'-]+\s+){1,3}[A-Z][A-Z.'-]+)\s+[A-Z][a-z]", name)
    if m:  # "JILL LAWLESS Associated Press": the capitalised name, then an affiliation
        name = m.group(1)
    letters = [c for c in name if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 3:
        return " ".join(w.capitalize() if not re.fullmatch(r"[A-Z]\.?", w) else w for w in name.split())
    return name


_CREDENTIAL = re.compile(r"^(?:[A-Z]{2,4}|Ph\.?D\.?|M\.?D\.?)$")  # "MS", "RDN", "PhD" split off "Jane Doe, MS, RD"
_JOB_TITLE = re.compile(r"\b(?:writer|correspondent|reporter|contributor|columnist)s?$", re.IGNORECASE)
_TRAILING_DATE = re.compile(
    r"\s*(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d|\d{1,2}[/.:]\d|\d{4}\b).*$",
    re.IGNORECASE | re.DOTALL,
)


def _finish(raw: list[str]) -> list[str]:
    return [
        _name_case(a)
        for a in clean_authors(raw)
        if not _NOT_A_NAME.search(a) and not _CREDENTIAL.match(a) and not _JOB_TITLE.search(a)
    ]


def extract_authors(doc: HtmlElement, idx: dict[str, list[str]], ld: dict, ld_all: list[dict]) -> list[str]:
    """Author names, from the first source that yields a usable one:

    1. JSON-LD author/creator of the article object (or of another article object on the page),
       following @id references into the graph;
    2. meta tags (author, article:author, parsely-author, ...); a profile URL such as
       ".../author/jane-doe" gives "Jane Doe";
    3. rel="author" links and itemprop="author" elements (their itemprop="name" when present);
    4. a "By Jane Doe" byline in an element whose class mentions byline/author;
    5. such an element holding a bare name.
    """
    ld_by_id = {o["@id"]: o for o in ld_all if isinstance(o.get("@id"), str)}
    candidates = [ld] + [o for o in ld_all if o is not ld and any(t in _ARTICLE_TYPES for t in _types(o))]
    for obj in candidates:
        names = _finish(_ld_person_names(obj.get("author") or obj.get("creator") or [], ld_by_id))
        if names:
            return names
    raw = []
    for key in (
        "author",
        "article:author",
        "parsely-author",
        "sailthru.author",
        "dc.creator",
        "dcterms.creator",
        "byl",
        "cxenseparse:author",
    ):
        for value in idx.get(key, []):
            m = _AUTHOR_SLUG.search(value) if value.startswith(("http", "/")) else None
            if m:
                raw.append(m.group(1).replace("-", " ").replace("_", " ").title())
            elif value:
                raw.append(value)
    names = _finish(raw)
    if names:
        return names
    raw = []
    for el in doc.xpath('//a[contains(concat(" ", normalize-space(@rel), " "), " author ")] | //*[@itemprop="author"]')[
        :5
    ]:
        name_el = el.xpath('.//*[@itemprop="name"]') if el.tag != "a" else []
        raw.append(clean_text((name_el[0] if name_el else el).text_content()))
    names = _finish(raw)
    if names:
        return names
    bylines = [(el, clean_text(" ".join(el.itertext()))) for el in doc.xpath(_BYLINE_CLASS)[:20]]
    for _, text in bylines:
        if not text or len(text) > 150:
            continue
        m = _BYLINE_TEXT.match(text)
        if m:
            names = _finish([_TRAILING_DATE.sub("", m.group(1))])
            if names:
                return names
    # 5. an author-classed element that holds a bare name ("<div class='post-hero__author-name'>Jane
    #    Doe</div>"), the first one on the page, outside asides and footers (other stories' cards)
    for el, text in bylines:
        if _BARE_NAME.match(text) and not _NOT_NAME_WORD.search(text) and not _in_aside(el):
            names = _finish([text])
            if names:
                return names
    return []


_BARE_NAME = re.compile(r"^[A-Z][\w'’.-]+(?: (?:[A-Z][\w'’.-]*|de|van|von|der|da|di|la|le|bin|al)){1,3}$")
_NOT_NAME_WORD = re.compile(
    r"\b(?:about|author|authors|posts?|written|more|view|read|all|share|follow|team|editor|editors|staff|news|"
    r"profile|bio|articles?|by|the|our|latest|contact|home|blog|min|reviewed|updated|published)\b",
    re.IGNORECASE,
)


def _in_aside(el: HtmlElement) -> bool:
    return bool(el.xpath("ancestor::aside | ancestor::footer | ancestor::nav"))


# ------------------------------------------------------------------ main entry


def _meta_index(doc: HtmlElement) -> dict[str, list[str]]:
    idx: dict[str, list[str]] = {}
    for m in doc.iter("meta"):
        content = m.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = m.get(attr)
            if key:
                idx.setdefault(key.strip().lower(), []).append(content.strip())
    return idx


def _first(idx: dict[str, list[str]], *keys: str) -> str:
    for k in keys:
        for v in idx.get(k, ()):
            if v:
                return v
    return ""


def _strip_site_suffix(title: str, site_name: str) -> str:
    if not title:
        return title
    for sep in (" | ", " - ", " – ", " — ", " :: ", " · "):
        if sep in title:
            head, _, tail = title.rpartition(sep)
            if site_name and tail.strip().lower() == site_name.lower():
                return head.strip()
            if len(tail) < 30 and len(head) > len(tail) * 2 and not site_name:
                return head.strip()
    return title


# A title is the page's headline plus an affix when the rest of it, after the headline, starts with a
# separator ("Healthy Eating Plate • The Nutrition Source", "Tastify | Top 7 Catering Trends", "... (via Passle)").
_AFTER_HEADLINE = re.compile(r"^\s*(?:[|\-–—•·:/»(]|::)")
_BEFORE_HEADLINE = re.compile(r"(?:[|\-–—•·:/»)]|::)\s*$")
_HEADLINE_MIN_WORDS = 3
_HEADLINE_MIN_SHARE = 0.4  # of the title's characters: a short h1 ("News") is a section label, not the headline
_H1_LOOKED_AT = 5


def _headline_in_title(doc: HtmlElement, title: str) -> str:
    """The page's <h1> when the title is that headline plus a site or section affix; else ``title``.

    _strip_site_suffix only knows the site by its og:site_name; the h1 tells what the headline is
    whatever the affix says (a brand, a section, a byline). On the WCXB dev half this makes the title
    agree with the annotated headline on 30 more pages of 384, and on none fewer."""
    low = title.casefold()
    for n, h1 in enumerate(doc.iter("h1")):
        if n >= _H1_LOOKED_AT:
            break
        head = clean_text(h1.text_content())
        key = head.casefold()
        if not key or key == low or len(head) < _HEADLINE_MIN_SHARE * len(title):
            continue
        if len(head.split()) < _HEADLINE_MIN_WORDS:
            continue
        if low.startswith(key) and _AFTER_HEADLINE.match(low[len(key) :]):
            return head
        if low.endswith(key) and _BEFORE_HEADLINE.search(low[: len(low) - len(key)]):
            return head
    return title


def extract_metadata(doc: HtmlElement, url: str) -> PageMeta:
    meta = PageMeta()
    idx = _meta_index(doc)
    ld_all = _ld_objects(doc)
    ld_article = None
    for obj in ld_all:
        types = _types(obj)
        meta.ld_types.extend(types)
        if ld_article is None and any(t in _ARTICLE_TYPES and t != "webpage" for t in types):
            ld_article = obj
    if ld_article is None:
        ld_article = next((o for o in ld_all if "webpage" in _types(o)), None)
    ld = ld_article or {}
    publisher_name = ""
    pub = ld.get("publisher")
    if pub:
        names = _names(pub, 1)
        publisher_name = names[0] if names else ""
    if not publisher_name:
        for obj in ld_all:
            types = _types(obj)
            if "organization" in types or "newsmediaorganization" in types or "website" in types:
                names = _names(obj, 1)
                if names:
                    publisher_name = names[0]
                    break

    # site name
    meta.site_name = (
        clean_text(_first(idx, "og:site_name", "application-name", "twitter:app:name:iphone")) or publisher_name
    )
    if not meta.site_name:
        host = urlsplit(url).hostname or ""
        meta.site_name = host.removeprefix("www.")

    # title
    title = clean_text(_first(idx, "og:title", "twitter:title"))
    if not title:
        title = clean_text(ld.get("headline") or ld.get("name") or "")
    if not title:
        h1 = doc.find(".//h1")
        if h1 is not None:
            title = clean_text(h1.text_content())
    if not title:
        t = doc.find(".//title")
        if t is not None:
            title = clean_text(t.text_content())
    meta.title = _headline_in_title(doc, _strip_site_suffix(title, meta.site_name))

    # authors
    meta.authors = extract_authors(doc, idx, ld, ld_all)

    # dates
    meta.published = parse_date(ld.get("datePublished")) or parse_date(ld.get("dateCreated"))
    if meta.published is None:
        meta.published = parse_date(
            _first(
                idx,
                "article:published_time",
                "og:article:published_time",
                "datepublished",
                "publishdate",
                "publish-date",
                "pubdate",
                "parsely-pub-date",
                "sailthru.date",
                "dc.date.issued",
                "dc.date",
                "dcterms.created",
                "date",
                "og:published_time",
                "cxenseparse:recs:publishtime",
                "article.published",
                "published_time",
                "release_date",
            )
        )
    times = doc.xpath("//time[@datetime]")
    if meta.published is None:
        for t in times[:3]:
            meta.published = parse_date(t.get("datetime"))
            if meta.published:
                break
    meta.modified = parse_date(ld.get("dateModified")) or parse_date(
        _first(
            idx,
            "article:modified_time",
            "og:updated_time",
            "datemodified",
            "last-modified",
            "dcterms.modified",
            "lastmod",
            "article.updated",
        )
    )
    if meta.modified is None and len(times) >= 2:
        for t in times[1:4]:
            label = clean_text(t.getparent().text_content() if t.getparent() is not None else "").lower()
            dt = parse_date(t.get("datetime"))
            if dt and meta.published and dt > meta.published and ("updat" in label or "modif" in label):
                meta.modified = dt
                break

    # canonical URL
    canonical = ""
    for link in doc.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel:
            canonical = link.get("href", "").strip()
            break
    if not canonical:
        canonical = (
            _first(idx, "og:url", "twitter:url") or _first_url(ld.get("mainEntityOfPage")) or _first_url(ld.get("url"))
        )
    if canonical:
        try:
            canonical = urljoin(url, canonical)
        except ValueError:
            canonical = ""
    if not canonical.startswith(("http://", "https://")):
        canonical = url
    meta.canonical_url = canonicalize_url(canonical)

    # language
    lang = ""
    html = doc if doc.tag == "html" else doc.getroottree().getroot()
    if html is not None:
        lang = html.get("lang") or html.get("xml:lang") or html.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if not lang:
        in_language = ld.get("inLanguage")
        lang = _first(idx, "content-language", "language", "dc.language", "og:locale") or (
            in_language if isinstance(in_language, str) else ""
        )
    meta.language = re.split(r"[-_]", lang.strip().lower())[0][:8] if lang.strip() else ""

    # description and image
    meta.description = clean_text(
        _first(idx, "og:description", "description", "twitter:description") or ld.get("description") or ""
    )
    image = _first(
        idx, "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"
    ) or _first_url(ld.get("image"))
    if image:
        try:
            image = urljoin(url, image)
        except ValueError:
            image = ""
    meta.image = image if image.startswith(("http://", "https://")) else ""

    meta.og_type = _first(idx, "og:type").lower()
    body = ld.get("articleBody")
    meta.ld_article_body = body if isinstance(body, str) else ""
    free = ld.get("isAccessibleForFree")
    if isinstance(free, str):
        free = free.strip().lower() not in ("false", "0", "no")
    meta.accessible_for_free = free if isinstance(free, bool) else None
    return meta
