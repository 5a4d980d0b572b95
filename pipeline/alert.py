"""Alert rules -> hits -> one email per rule, sent over SMTP.

Matching is pure; sending is the only I/O here. A hit is recorded before it is mailed, so an SMTP
outage leaves it pending for the next run rather than losing it, and a rerun never mails it twice.
"""

from __future__ import annotations

import functools
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .config import AlertRule, Settings, secret
from .records import Alert, AlertHit, Article, Statement


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or refused the message; the message names the server."""


@functools.lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alts = sorted((re.escape(p.strip()) for p in phrases if p.strip()), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE)


def _topic_ok(rule: AlertRule, article: Article) -> bool:
    return rule.topic is None or any(t.label == rule.topic for t in article.topics)


def _snippet(text: str, start: int, end: int, width: int = 120) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    return ("…" if a else "") + text[a:b].replace("\n", " ").strip() + ("…" if b < len(text) else "")


def match_keyword_rule(rule: AlertRule, article: Article, article_id: str) -> AlertHit | None:
    if not _topic_ok(rule, article):
        return None
    pattern = _phrase_pattern(tuple(rule.keywords))
    for field_text in (article.title, article.text):
        m = pattern.search(field_text or "")
        if m:
            return AlertHit(
                rule=rule.name,
                ref_id=article_id,
                article_id=article_id,
                title=article.title,
                url=article.canonical_url or article.url,
                text=_snippet(field_text, m.start(), m.end()),
            )
    return None


def match_statement_rule(
    rule: AlertRule, article: Article, article_id: str, statements: list[tuple[str, Statement]]
) -> list[AlertHit]:
    """Hits for new statements (first sightings only) by the rule's tracked figures."""
    if not _topic_ok(rule, article):
        return []
    wanted = set(rule.figures)
    hits = []
    for statement_id, s in statements:
        if s.repeat_of or not s.speaker_id:
            continue
        if "*" not in wanted and s.speaker_id not in wanted:
            continue
        hits.append(
            AlertHit(
                rule=rule.name,
                ref_id=statement_id,
                article_id=article_id,
                title=article.title,
                url=article.canonical_url or article.url,
                speaker=s.speaker_name,
                kind=s.kind,
                text=s.text,
            )
        )
    return hits


def compose_alert(rule: AlertRule, hits: list[AlertHit]) -> Alert:
    if rule.kind == "statement":
        speakers = sorted({h.speaker or "" for h in hits})
        subject = f"[newsmon] {len(hits)} new statement{'s' if len(hits) != 1 else ''} by {', '.join(speakers)}"
    else:
        subject = f"[newsmon] {rule.name}: {len(hits)} matching article{'s' if len(hits) != 1 else ''}"
    lines = [f"Rule: {rule.name} ({rule.kind})", ""]
    for h in hits:
        if h.speaker:
            said = f"“{h.text}”" if h.kind != "indirect" else f"(reported) {h.text}"
            lines.append(f"{h.speaker}: {said}")
            lines.append(f"    in: {h.title}")
        else:
            lines.append(f"{h.title}")
            lines.append(f"    {h.text}")
        lines.append(f"    {h.url}")
        lines.append("")
    lines.append("-- ")
    lines.append("newsmon alerts; edit seeds/alerts.yaml to change rules or recipients.")
    return Alert(
        rule=rule.name,
        recipients=rule.recipients,
        subject=subject[:200],
        body="\n".join(lines),
        hit_ids=[h.alert_id for h in hits],
    )


def send_email(alert: Alert, settings: Settings) -> str:
    """Deliver one alert; returns the Message-ID. Raises SmtpUnavailable naming the server."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(alert.recipients)
    msg["Subject"] = alert.subject
    msg_id = make_msgid(domain="newsmon.local")
    msg["Message-ID"] = msg_id
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["X-Newsmon-Rule"] = alert.rule
    msg.set_content(alert.body)
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, secret(settings.smtp_password))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpUnavailable(f"SMTP server {server} failed: {type(exc).__name__}: {exc}") from exc
    return msg_id
