"""URL helpers: one canonical form per article address, so re-fetches and shares map to the same id."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Query parameters that only track where a click came from; they never select content.
# fmt: off
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
        "igshid", "mc_cid", "mc_eid", "ocid", "cmpid", "cmp", "icid", "ncid", "ito", "itm_source",
        "cid_source", "mbid", "_hsenc", "_hsmi", "hsctatracking", "vero_id", "vero_conv", "wt.mc_id",
        "wtmc", "s_cid", "sr_share", "smid", "smtyp", "taid", "ref_src", "ref_url",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid", "soc_src", "soc_trk",
        "xtor", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "guccounter", "guce_referrer", "guce_referrer_sig", "__twitter_impression",
        "ftag", "cmpgn", "ns_source", "ns_mchannel", "ns_campaign", "ns_linkname",
        "ns_fee", "sc_cid", "_ga", "_gl", "_ke", "trk", "trkcampaign", "campaign_id",
    }
)
# fmt: on
_TRACKING_PREFIX = ("utm_", "utm-", "pk_", "mtm_", "hmb_", "ga_", "itm_", "at_", "oly_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def is_tracking_param(name: str) -> bool:
    n = name.strip().lower()
    return n in _TRACKING_EXACT or n.startswith(_TRACKING_PREFIX)


def canonicalize_url(url: str) -> str:
    """Canonical form of an http(s) URL.

    Lower-cases scheme and host, drops the default port, the fragment and tracking parameters
    (utm_*, fbclid, gclid, ocid, cmpid, ...), sorts the remaining query parameters and percent-encodes
    unsafe characters (via w3lib). Anything that does not look like a URL is returned stripped.
    """
    url = (url or "").strip()
    if not url:
        return ""
    try:
        url = safe_url_string(url)
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username or parts.password:
        cred = parts.username or ""
        if parts.password:
            cred += ":" + parts.password
        netloc = f"{cred}@{netloc}"
    path = parts.path or "/"
    path = re.sub(r"/{2,}", "/", path)
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    query_pairs.sort()
    query = urlencode(query_pairs, doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))
