"""Index mappings, versioned. Bump a kind's version when its mapping changes: `newsmon es setup`
then creates `<prefix>-<kind>-v<N>`, copies the documents over and moves the alias.

The base mappings use only analyzers built into the Elasticsearch server ('standard' with a
stopword list), because the minimal distribution has no analysis-common module. Where the cluster
has the `english` analyzer (the full distribution), setup adds a stemmed subfield to each text
field people search (`STEMMED`), so "deported" finds "deportation"; such an index is named
`...-v<N>-en`, and setup moves the alias when a cluster gains (or loses) the analyzer.
Spellings no analyzer can unify (H-1B, H1B) go into the `spellings` field (`spellings.py`).
"""

from __future__ import annotations

import copy

SETTINGS = {
    "number_of_shards": 1,
    # One replica as soon as the cluster has a second data node, none on a single node (which would
    # stay yellow): the same setup serves a laptop and a cluster, and losing one node loses no data.
    "auto_expand_replicas": "0-1",
    "analysis": {
        "analyzer": {
            "newsmon_text": {"type": "standard", "stopwords": "_english_"},
        }
    },
}

# Per index kind, on top of SETTINGS (dynamic settings only, so existing indices get them too).
KIND_SETTINGS: dict[str, dict[str, str]] = {
    # robots.txt verdicts are a shared cache: losing the last seconds of writes in a crash costs one more
    # robots.txt request, while syncing every write to disk costs each new site three disk syncs.
    "robots": {"index.translog.durability": "async"},
}


def settings_for(kind: str) -> dict:
    return {**SETTINGS, **KIND_SETTINGS.get(kind, {})}


_TEXT = {"type": "text", "analyzer": "newsmon_text"}
_TEXT_KW = {**_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}}
_KW = {"type": "keyword"}
_DATE = {"type": "date"}

ARTICLES = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": _DATE,  # published time (falls back to first seen)
        "article_id": _KW,
        "title": _TEXT_KW,
        # No term vectors: they serve only highlighting, which re-analysing news-length bodies does faster
        # (a search highlighting 10 bodies took 5 ms against 12), and they cost about a quarter of the
        # index's size and of the node's CPU for indexing articles.
        "body": _TEXT,
        "description": _TEXT,
        "authors": _TEXT_KW,
        "outlet": _KW,
        "site_name": _KW,
        "feed_id": _KW,
        "url": _KW,
        "canonical_url": _KW,
        "language": _KW,
        "image": {"type": "keyword", "index": False},
        "published": _DATE,
        "modified": _DATE,
        "first_seen": _DATE,
        "indexed_at": _DATE,
        "topics": {
            "type": "nested",
            "properties": {
                "label": _KW,
                "parent": _KW,
                "score": {"type": "float"},
                "evidence": _KW,
            },
        },
        "topic_labels": _KW,  # flat copy of topics.label for simple filters and Kibana
        "is_immigration_policy": {"type": "boolean"},
        "topic_score": {"type": "float"},  # immigration-policy score, 0..1, calibrated
        "topic_evidence": {"type": "text", "index": False},  # sentences that drove the decision
        "topic_model": _KW,  # model version
        "people": _KW,
        "statement_count": {"type": "integer"},
        "simhash": {"type": "long"},
        "simhash_bands": _KW,
        "duplicate_of": _KW,
        "word_count": {"type": "integer"},
        "spellings": _TEXT,  # H-1B / H1B / H-1B visa as one term (spellings.py)
    },
}

STATEMENTS = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": _DATE,  # the article's published time
        "statement_id": _KW,
        "key": _KW,  # speaker + normalised text: the statement's identity
        "speaker_id": _KW,
        "speaker_name": _TEXT_KW,
        "speaker_mention": _KW,
        "speaker_kind": _KW,  # person | organization | unknown
        "speaker_title": _KW,
        "mention_start": {"type": "integer"},
        "mention_end": {"type": "integer"},
        "tracked": {"type": "boolean"},
        "text": _TEXT_KW,
        "kind": _KW,
        "cue": _KW,
        "start": {"type": "integer"},
        "end": {"type": "integer"},
        # an interrupted quote is one document: its pieces' [start, end] offsets, in order
        "fragments": {"type": "integer", "index": False},
        "article_id": _KW,
        "article_url": _KW,
        "article_title": _TEXT,
        "outlet": _KW,
        "first_seen": _DATE,
        "repeat_of": _KW,
        "is_new": {"type": "boolean"},
        "topic_labels": _KW,  # the article's topics, so statements can be filtered by topic
        "spellings": _TEXT,
    },
}

FEEDS = {
    "dynamic": "strict",
    "properties": {
        "feed_id": _KW,
        "url": _KW,
        "etag": {"type": "keyword", "index": False},
        "last_modified": {"type": "keyword", "index": False},
        "last_polled": _DATE,
        "last_success": _DATE,
        "last_status": _KW,
        "last_error": {"type": "text"},
        "consecutive_errors": {"type": "integer"},
        "next_poll": _DATE,
        "items_seen": {"type": "long"},
    },
}

ITEMS = {
    "dynamic": "strict",
    "properties": {
        "item_id": _KW,
        "feed_id": _KW,
        "url": _KW,
        "title": {"type": "text"},
        "published": _DATE,
        "discovered_at": _DATE,
        "status": _KW,  # pending | processed | skipped | failed
        "attempts": {"type": "integer"},
        "error": {"type": "text"},
        "article_id": _KW,
        "processed_at": _DATE,
        "host": _KW,  # the link's host: the per-host cap of a batch, fetch health per host
        "next_attempt_at": _DATE,  # a pending item is due from then (backoff after a failure)
        "last_attempt_at": _DATE,
        "last_attempt_ok": {"type": "boolean"},
        "first_failed_at": _DATE,  # the retry window runs from here
    },
}

ALERTS = {
    "dynamic": "strict",
    "properties": {
        "alert_id": _KW,
        "rule": _KW,
        "schedule": _KW,
        "recipients": _KW,
        "ref_id": _KW,
        "article_id": _KW,
        "title": {"type": "text"},
        "url": _KW,
        "speaker": _KW,
        "kind": _KW,
        "text": {"type": "text"},
        "status": _KW,  # pending | sent | dropped
        "created_at": _DATE,
        "sent_at": _DATE,
        "email_id": _KW,  # the Message-ID of the email that carried it: the hits of one email share it
        "hold_reason": _KW,  # why a pending hit waits (quiet hours, throttle); None once sent
        "attempts": {"type": "integer"},
        "last_error": {"type": "text"},
        "lease_owner": _KW,  # the sender that claimed the hit, until lease_until
        "lease_until": _DATE,
    },
}

# Named positions in the index that a pass resumes from, e.g. the alert watermark.
CURSORS = {
    "dynamic": "strict",
    "properties": {
        "name": _KW,
        "at": _DATE,
        "updated_at": _DATE,
    },
}

ROBOTS = {  # one document per site origin (scheme://host:port): the robots.txt every worker shares
    "dynamic": "strict",
    "properties": {
        "origin": _KW,
        "verdict": _KW,  # rules | allow_all | disallow_all
        "body": {"type": "text", "index": False},  # the robots.txt text when verdict is rules
        "http_status": {"type": "integer"},
        "error": {"type": "text", "index": False},
        "fetched_at": _DATE,
        "expires_at": _DATE,
    },
}

RUNS = {
    "dynamic": "strict",
    "properties": {
        "run_id": _KW,
        "started": _DATE,
        "finished": _DATE,
        "summary": {"type": "object", "enabled": False},
    },
}

# kind -> (version, mapping)
INDICES: dict[str, tuple[int, dict]] = {
    # articles v3: is_immigration_policy, topic_score, topic_evidence, topic_model; v4: no body term vectors
    "articles": (4, ARTICLES),
    "statements": (3, STATEMENTS),  # v3: speaker_kind, speaker_title, fragments (one document per interrupted quote)
    "feeds": (1, FEEDS),
    "items": (2, ITEMS),
    "alerts": (3, ALERTS),
    "runs": (1, RUNS),
    "cursors": (1, CURSORS),
    "robots": (1, ROBOTS),
}

# Text fields that get an `english`-analyzed `<field>.stemmed` subfield where the cluster has the analyzer.
STEMMED: dict[str, tuple[str, ...]] = {
    "articles": ("title", "description", "body"),
    "statements": ("text", "article_title"),
}
STEM_ANALYZER = "english"


def index_name(alias: str, kind: str, stemming: bool) -> str:
    """The versioned index behind an alias: `<alias>-v<N>`, or `<alias>-v<N>-en` with stemmed subfields."""
    version = INDICES[kind][0]
    return f"{alias}-v{version}" + ("-en" if stemming and kind in STEMMED else "")


def mapping_for(kind: str, stemming: bool) -> dict:
    mapping = INDICES[kind][1]
    if not stemming or kind not in STEMMED:
        return mapping
    mapping = copy.deepcopy(mapping)
    for name in STEMMED[kind]:
        spec = mapping["properties"][name]
        spec["fields"] = {**spec.get("fields", {}), "stemmed": {"type": "text", "analyzer": STEM_ANALYZER}}
    return mapping
