"""Build the demo news site (HTML pages, RSS feeds, index) from `articles.py`.

    python infra/demo/build_site.py [OUT_DIR]

The site is generated, not committed: `serve.py` builds it into `var/demo-site/` each time the
demo server starts, so editing `articles.py` or the templates here is all it takes. Links and
canonical URLs use the demo server's fixed base URL, http://127.0.0.1:8765/.
"""

from __future__ import annotations

import html
import json
import sys
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from articles import ARTICLES  # noqa: E402

BASE_URL = "http://127.0.0.1:8765/"
SITE_DIR = HERE.parent.parent / "var" / "demo-site"

OUTLETS = {
    "harbor-courier": {
        "name": "The Harbor Courier",
        "tagline": "News for Port Halden and the harbor towns since 1894",
        "feed_title": "The Harbor Courier — Latest stories",
        "feed_description": "Local, national and science news from The Harbor Courier (a fictional demo outlet).",
        "newsletter": "The Morning Tide",
        "sections": ["Local", "Nation", "Science", "Business", "Opinion", "Obituaries"],
    },
    "metro-wire": {
        "name": "Metro Wire Service",
        "tagline": "Fast, fair reporting for member newsrooms",
        "feed_title": "Metro Wire Service — Top news",
        "feed_description": "Politics, sports and technology from Metro Wire Service (a fictional demo wire).",
        "newsletter": "Wire Brief",
        "sections": ["Politics", "Sports", "Technology", "World", "Business", "Health"],
    },
}


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def url_of(article: dict) -> str:
    return f"{BASE_URL}{path_of(article)}"


def path_of(article: dict) -> str:
    year, month = article["published"][:4], article["published"][5:7]
    return f"{article['outlet']}/{year}/{month}/{article['slug']}.html"


def when(article: dict, key: str = "published") -> datetime:
    return datetime.fromisoformat(article[key])


def human_date(dt: datetime, with_time: bool = True) -> str:
    months = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]
    out = f"{months[dt.month - 1]} {dt.day}, {dt.year}"
    if with_time:
        hour = dt.hour % 12 or 12
        out += f", {hour}:{dt.minute:02d} {'a.m.' if dt.hour < 12 else 'p.m.'} ET"
    return out


def json_ld(article: dict, outlet: dict) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article["headline"],
        "description": article["description"],
        "datePublished": article["published"],
        "dateModified": article["modified"],
        "author": [{"@type": "Person", "name": article["author"]}],
        "publisher": {"@type": "Organization", "name": outlet["name"]},
        "mainEntityOfPage": {"@type": "WebPage", "@id": url_of(article)},
        "articleSection": article["section"],
        "inLanguage": "en-US",
    }
    # "</" must not appear inside a <script> element.
    return json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")


def head(article: dict, outlet: dict) -> str:
    url = url_of(article)
    return f"""<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{esc(article["headline"])} | {esc(outlet["name"])}</title>
  <link rel="canonical" href="{attr(url)}">
  <meta name="description" content="{attr(article["description"])}">
  <meta name="author" content="{attr(article["author"])}">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{attr(article["headline"])}">
  <meta property="og:description" content="{attr(article["description"])}">
  <meta property="og:url" content="{attr(url)}">
  <meta property="og:site_name" content="{attr(outlet["name"])}">
  <meta property="og:locale" content="en_US">
  <meta property="article:published_time" content="{article["published"]}">
  <meta property="article:modified_time" content="{article["modified"]}">
  <meta property="article:section" content="{attr(article["section"])}">
  <link rel="alternate" type="application/rss+xml" title="{attr(outlet["feed_title"])}" href="{BASE_URL}feeds/{article["outlet"]}.xml">
  <link rel="stylesheet" href="/{article["outlet"]}/static/site.css">
  <script type="application/ld+json">
{json_ld(article, outlet)}
  </script>
</head>"""


def related(article: dict) -> list[dict]:
    """Three other stories from the same outlet, newest first."""
    others = [a for a in ARTICLES if a["outlet"] == article["outlet"] and a is not article]
    others.sort(key=lambda a: a["published"], reverse=True)
    return others[:3]


def harbor_courier_page(article: dict, outlet: dict) -> str:
    pub, mod = when(article), when(article, "modified")
    nav = "\n".join(f'        <li><a href="/harbor-courier/{s.lower()}/">{esc(s)}</a></li>' for s in outlet["sections"])
    body = "\n".join(f"        <p>{esc(p)}</p>" for p in article["paragraphs"])
    rel = "\n".join(f'        <li><a href="/{path_of(a)}">{esc(a["headline"])}</a></li>' for a in related(article))
    updated = ""
    if mod != pub:
        updated = (
            f'\n          <span class="updated">Updated <time datetime="{article["modified"]}">'
            f"{human_date(mod)}</time></span>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
{head(article, outlet)}
<body class="hc-article section-{article["section"].lower()}">
  <div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie notice">
    <p>The Harbor Courier uses cookies to remember your preferences and to count visits. Read our
    <a href="/harbor-courier/privacy.html">privacy policy</a> to learn more.</p>
    <button type="button" class="cookie-accept">Accept all</button>
    <button type="button" class="cookie-settings">Manage settings</button>
  </div>
  <header class="site-header">
    <div class="masthead">
      <a class="logo" href="/harbor-courier/">The Harbor Courier</a>
      <span class="tagline">{esc(outlet["tagline"])}</span>
      <a class="subscribe-button" href="/harbor-courier/subscribe.html">Subscribe for $1</a>
    </div>
    <nav class="primary-nav" aria-label="Sections">
      <ul>
{nav}
      </ul>
    </nav>
  </header>
  <main class="page">
    <div class="breadcrumbs"><a href="/harbor-courier/">Home</a> › <a href="/harbor-courier/{article["section"].lower()}/">{esc(article["section"])}</a></div>
    <article class="story">
      <header class="story-header">
        <h1 class="headline">{esc(article["headline"])}</h1>
        <p class="dek">{esc(article["description"])}</p>
        <div class="byline-block">
          <span class="byline">By <span class="author-name">{esc(article["author"])}</span>, Harbor Courier staff</span>
          <time class="published" datetime="{article["published"]}">{human_date(pub)}</time>{updated}
        </div>
      </header>
      <div class="story-body">
{body}
      </div>
      <footer class="story-footer">
        <p class="correction-note">Spotted an error? Email <a href="mailto:corrections@harborcourier.example">corrections@harborcourier.example</a>.</p>
        <ul class="share-tools">
          <li><a href="#" class="share-email">Email this story</a></li>
          <li><a href="#" class="share-print">Print</a></li>
        </ul>
      </footer>
    </article>
    <aside class="related-links" aria-label="Related stories">
      <h2>More from The Harbor Courier</h2>
      <ul>
{rel}
      </ul>
    </aside>
    <section class="newsletter-signup">
      <h2>Get {esc(outlet["newsletter"])}</h2>
      <p>Start your day with the stories Port Halden is talking about, delivered to your inbox at 6 a.m. on weekdays.</p>
      <form action="/harbor-courier/newsletter/subscribe" method="post">
        <label for="nl-email">Email address</label>
        <input id="nl-email" type="email" name="email" placeholder="you@example.com">
        <button type="submit">Sign me up</button>
      </form>
    </section>
  </main>
  <footer class="site-footer">
    <ul class="footer-links">
      <li><a href="/harbor-courier/about.html">About us</a></li>
      <li><a href="/harbor-courier/contact.html">Contact the newsroom</a></li>
      <li><a href="/harbor-courier/privacy.html">Privacy</a></li>
      <li><a href="/harbor-courier/terms.html">Terms of use</a></li>
      <li><a href="/feeds/harbor-courier.xml">RSS</a></li>
    </ul>
    <p class="copyright">© 2026 The Harbor Courier. A fictional newspaper made for the newsmon demo.</p>
  </footer>
</body>
</html>
"""


def metro_wire_page(article: dict, outlet: dict) -> str:
    pub = when(article)
    nav = "\n".join(
        f'      <a class="nav-item" href="/metro-wire/{s.lower()}/">{esc(s)}</a>' for s in outlet["sections"]
    )
    body = "\n".join(f"      <p>{esc(p)}</p>" for p in article["paragraphs"])
    rel = "\n".join(
        f'      <div class="rail-item"><a href="/{path_of(a)}">{esc(a["headline"])}</a>'
        f'<span class="rail-date">{human_date(when(a), with_time=False)}</span></div>'
        for a in related(article)
    )
    return f"""<!DOCTYPE html>
<html lang="en-US">
{head(article, outlet)}
<body>
  <div class="consent-overlay" id="consent">
    <div class="consent-box">
      <strong>Your privacy choices</strong>
      <p>We and our partners use cookies and similar technologies to deliver and measure content. You can change your choices at any time.</p>
      <button type="button" data-consent="accept">I agree</button>
      <button type="button" data-consent="reject">Reject non-essential</button>
    </div>
  </div>
  <div class="top-bar">
    <a class="brand" href="/metro-wire/"><span class="brand-mark">MW</span> Metro Wire Service</a>
    <nav class="sections" aria-label="Main">
{nav}
    </nav>
    <a class="login" href="/metro-wire/account/login.html">Member login</a>
  </div>
  <div class="ad-slot ad-leaderboard" aria-hidden="true">Advertisement</div>
  <main id="content" class="layout-two-col">
    <article class="wire-story" itemscope itemtype="https://schema.org/NewsArticle">
      <div class="kicker">{esc(article["section"])}</div>
      <h1 itemprop="headline">{esc(article["headline"])}</h1>
      <div class="story-meta">
        <span class="by">By <span itemprop="author">{esc(article["author"])}</span></span>
        <span class="sep">·</span>
        <time itemprop="datePublished" datetime="{article["published"]}">{human_date(pub)}</time>
        <meta itemprop="dateModified" content="{article["modified"]}">
      </div>
      <div class="article-body" itemprop="articleBody">
{body}
      </div>
      <p class="wire-credit">Copyright 2026 Metro Wire Service. Member newsrooms may republish with credit.</p>
      <div class="tags">Filed under: <a href="/metro-wire/{article["section"].lower()}/">{esc(article["section"])}</a></div>
    </article>
    <div class="side-rail">
      <section class="rail-box related">
        <h3>Related coverage</h3>
{rel}
      </section>
      <section class="rail-box newsletter">
        <h3>{esc(outlet["newsletter"])}</h3>
        <p>The five stories you need, every weekday afternoon. Free for readers of member newsrooms.</p>
        <form class="newsletter-form" action="/metro-wire/newsletter" method="post">
          <input type="email" name="subscriber_email" placeholder="Email address" aria-label="Email address">
          <button type="submit">Subscribe</button>
        </form>
      </section>
      <div class="ad-slot ad-rail" aria-hidden="true">Advertisement</div>
    </div>
  </main>
  <footer class="global-footer">
    <div class="footer-cols">
      <div><h4>Company</h4><a href="/metro-wire/about.html">About Metro Wire</a> <a href="/metro-wire/careers.html">Careers</a></div>
      <div><h4>Members</h4><a href="/metro-wire/members.html">Become a member newsroom</a> <a href="/metro-wire/standards.html">Standards</a></div>
      <div><h4>Follow</h4><a href="/feeds/metro-wire.xml">RSS feed</a></div>
    </div>
    <p class="legal">© 2026 Metro Wire Service, a fictional news agency created for demonstration. All rights reserved.</p>
  </footer>
</body>
</html>
"""


def rss(outlet_id: str) -> str:
    outlet = OUTLETS[outlet_id]
    items = sorted((a for a in ARTICLES if a["outlet"] == outlet_id), key=lambda a: a["published"], reverse=True)
    last = max(when(a) for a in items)
    entries = []
    for a in items:
        url = url_of(a)
        entries.append(
            f"""    <item>
      <title>{esc(a["headline"])}</title>
      <link>{esc(url)}</link>
      <guid isPermaLink="true">{esc(url)}</guid>
      <pubDate>{format_datetime(when(a))}</pubDate>
      <dc:creator>{esc(a["author"])}</dc:creator>
      <category>{esc(a["section"])}</category>
      <description>{esc(a["description"])}</description>
    </item>"""
        )
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{esc(outlet["feed_title"])}</title>
    <link>{BASE_URL}{outlet_id}/</link>
    <atom:link href="{BASE_URL}feeds/{outlet_id}.xml" rel="self" type="application/rss+xml"/>
    <description>{esc(outlet["feed_description"])}</description>
    <language>en-us</language>
    <lastBuildDate>{format_datetime(last)}</lastBuildDate>
    <ttl>1</ttl>
{body}
  </channel>
</rss>
"""


def index_page() -> str:
    rows = []
    for outlet_id, outlet in OUTLETS.items():
        items = sorted((a for a in ARTICLES if a["outlet"] == outlet_id), key=lambda a: a["published"], reverse=True)
        links = "\n".join(f'      <li><a href="/{path_of(a)}">{esc(a["headline"])}</a></li>' for a in items)
        rows.append(
            f"""  <section>
    <h2>{esc(outlet["name"])} — <a href="/feeds/{outlet_id}.xml">RSS feed</a></h2>
    <ul>
{links}
      </ul>
  </section>"""
        )
    sections = "\n".join(rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>newsmon demo site</title>
</head>
<body>
  <h1>newsmon demo site</h1>
  <p>Two fictional outlets with invented stories dated November 2026, served locally for the newsmon demo.</p>
{sections}
</body>
</html>
"""


def front_page(outlet_id: str) -> str:
    """The outlet's home page: a list of teasers (a section front, not an article)."""
    outlet = OUTLETS[outlet_id]
    items = sorted((a for a in ARTICLES if a["outlet"] == outlet_id), key=lambda a: a["published"], reverse=True)
    teasers = "\n".join(
        f"""      <li class="teaser">
        <a href="/{path_of(a)}">{esc(a["headline"])}</a>
        <p>{esc(a["description"])}</p>
        <time datetime="{a["published"]}">{human_date(when(a), with_time=False)}</time>
      </li>"""
        for a in items
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{esc(outlet["name"])} — {esc(outlet["tagline"])}</title>
  <link rel="canonical" href="{BASE_URL}{outlet_id}/">
  <meta property="og:type" content="website">
  <meta property="og:site_name" content="{attr(outlet["name"])}">
  <link rel="alternate" type="application/rss+xml" title="{attr(outlet["feed_title"])}" href="{BASE_URL}feeds/{outlet_id}.xml">
  <link rel="stylesheet" href="/{outlet_id}/static/site.css">
</head>
<body class="front">
  <header class="site-header"><a class="logo" href="/{outlet_id}/">{esc(outlet["name"])}</a></header>
  <main>
    <h1>Latest stories</h1>
    <ul class="teasers">
{teasers}
    </ul>
  </main>
  <footer class="site-footer"><p>© 2026 {esc(outlet["name"])}. A fictional outlet made for the newsmon demo.</p></footer>
</body>
</html>
"""


STYLESHEET = """/* Minimal styling so the demo pages read comfortably in a browser. */
body { font-family: Georgia, serif; max-width: 46rem; margin: 0 auto; padding: 0 1rem; line-height: 1.55; color: #1d1d1d; }
a { color: #0b4f8a; }
nav ul, .footer-links, .share-tools { list-style: none; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
.cookie-banner, .consent-box { background: #f3efe4; border: 1px solid #d8d0bb; padding: 0.5rem 1rem; font-size: 0.85rem; }
.related-links, .side-rail, .newsletter-signup { border-top: 2px solid #ccc; margin-top: 2rem; font-size: 0.9rem; }
.ad-slot { background: #eee; color: #888; text-align: center; font-size: 0.75rem; padding: 0.5rem; }
.byline-block, .story-meta, .dek { color: #555; }
.site-footer, .global-footer { border-top: 1px solid #ccc; margin-top: 2rem; font-size: 0.8rem; color: #666; }
"""


def build(site_dir: Path = SITE_DIR) -> str:
    """Write the whole site under site_dir; returns a one-line summary."""
    pages = {"harbor-courier": harbor_courier_page, "metro-wire": metro_wire_page}
    written = 0
    for article in ARTICLES:
        target = site_dir / path_of(article)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pages[article["outlet"]](article, OUTLETS[article["outlet"]]), encoding="utf-8")
        written += 1
    feeds = site_dir / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    for outlet_id in OUTLETS:
        (feeds / f"{outlet_id}.xml").write_text(rss(outlet_id), encoding="utf-8")
    for outlet_id in OUTLETS:
        (site_dir / outlet_id / "static").mkdir(parents=True, exist_ok=True)
        (site_dir / outlet_id / "index.html").write_text(front_page(outlet_id), encoding="utf-8")
        (site_dir / outlet_id / "static" / "site.css").write_text(STYLESHEET, encoding="utf-8")
    (site_dir / "index.html").write_text(index_page(), encoding="utf-8")
    (site_dir / "robots.txt").write_text(
        "# newsmon demo site: crawl anything except /private/\nUser-agent: *\nDisallow: /private/\n",
        encoding="utf-8",
    )
    return f"wrote {written} articles, {len(OUTLETS)} feeds, front pages, index.html and robots.txt under {site_dir}"


def main() -> None:
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else SITE_DIR))


if __name__ == "__main__":
    main()
