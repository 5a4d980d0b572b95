"""Alert emails: compose one email per rule from its hits, and deliver it over SMTP.

In: an AlertRule and its pending AlertHits. Out: an Alert (subject, text and HTML bodies, hit ids),
then a Message-ID once the SMTP server accepted it. `send_email` is the only I/O here.

An email names its rule and lead hit in the subject and lists the hits grouped by story, newest
story first, each with outlet, time, link and the snippet (keywords marked) or, for statements,
speaker and first sighting. Content is escaped in the HTML, and every header is one flattened line.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..config import AlertRule, Settings, secret
from ..records import Alert, AlertHit
from .rules import keyword_pattern

if TYPE_CHECKING:
    from typing_extensions import Buffer


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or refused the message; the message names the server."""


SUBJECT_LEAD_CHARS = 110
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def header_safe(value: str, limit: int = 240) -> str:
    """One line for a mail header: line breaks and control characters become spaces, so a title with
    "\r\nBcc: ..." in it stays part of the subject and can never start a header of its own."""
    flat = " ".join(_CONTROL.sub(" ", value).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def _utc(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)


def _when(dt: datetime | None, rule: AlertRule) -> str:
    aware = _utc(dt)
    if aware is None:
        return "time unknown"
    local = aware.astimezone(rule.tz)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or rule.timezone)


def _safe_href(url: str) -> str | None:
    return url if urlsplit(url).scheme in ("http", "https") else None


@dataclass
class Story:
    """The hits of one article, shown together."""

    article_id: str
    title: str
    url: str
    outlet: str
    published: datetime | None
    hits: list[AlertHit] = field(default_factory=list)


def group_by_story(hits: list[AlertHit]) -> list[Story]:
    """Hits grouped by article, newest story first (by published time); hits of a story in the order given."""
    stories: dict[str, Story] = {}
    for h in hits:
        story = stories.setdefault(
            h.article_id, Story(h.article_id, _short(h.title, 300), h.url.strip(), _short(h.outlet, 80), h.published)
        )
        story.hits.append(h)
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(stories.values(), key=lambda s: _utc(s.published) or oldest, reverse=True)


def _lead(rule: AlertRule, stories: list[Story]) -> str:
    hit = stories[0].hits[0]
    if rule.kind == "statement" and hit.speaker:
        return f"{hit.speaker}: “{_short(hit.text, SUBJECT_LEAD_CHARS - len(hit.speaker))}”"
    return _short(hit.title or hit.url, SUBJECT_LEAD_CHARS)


def _mark_text(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(lambda m: f"*{m.group(0)}*", text) if pattern else text


def _mark_html(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return html.escape(text)
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [html.escape(text[last : m.start()]), f"<mark>{html.escape(m.group(0))}</mark>"]
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _said(hit: AlertHit) -> str:
    return f"(reported) {hit.text}" if hit.kind == "indirect" else f"“{hit.text}”"


def compose_alert(rule: AlertRule, hits: list[AlertHit], *, held_back: int = 0) -> Alert:
    """One email for these hits of one rule: text and HTML, grouped by story, newest first.

    Every piece of content is escaped in the HTML and flattened in the subject. `held_back`: how many
    of the hits waited for this email (throttle or quiet hours), said in the email.
    """
    stories = group_by_story(hits)
    pattern = keyword_pattern(rule) if rule.kind == "keyword" and rule.keywords else None
    n = len(hits)
    what = ("new statement" if rule.kind == "statement" else "matching article") + ("s" if n != 1 else "")
    more = f" (+{n - 1} more)" if n > 1 else ""
    subject = header_safe(f"[newsmon] {rule.name}: {_lead(rule, stories)}{more}")
    intro = f"{n} {what} in {len(stories)} stor{'ies' if len(stories) != 1 else 'y'}, newest story first."
    if held_back:
        intro += f" {held_back} of them waited for this email ({_waited(rule)})."

    text = [f"newsmon alert: {rule.name} ({rule.kind} rule)", intro, ""]
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>' + html.escape(subject) + "</title></head>",
        '<body style="font-family:Georgia,serif;max-width:46em;line-height:1.4">',
        f'<p style="color:#555">newsmon alert <b>{html.escape(rule.name)}</b> ({html.escape(rule.kind)} rule): '
        f"{html.escape(intro)}</p>",
    ]
    for story in stories:
        meta = f"{story.outlet or 'unknown outlet'} · {_when(story.published, rule)}"
        text += [f"== {story.title or story.url}", f"   {meta}", f"   {story.url}"]
        href = _safe_href(story.url)
        title = html.escape(story.title or story.url)
        parts.append('<div style="margin:1.2em 0">')
        parts.append(
            f'<h3 style="margin:0"><a href="{html.escape(href, quote=True)}">{title}</a></h3>'
            if href
            else f"<h3>{title}</h3>"
        )
        parts.append(f'<p style="margin:0;color:#555">{html.escape(meta)}</p>')
        for h in story.hits:
            if h.speaker:
                first = f"first seen {_when(h.first_seen or h.published, rule)}"
                speaker = _short(h.speaker, 80)
                text += [f"   - {speaker} ({h.kind}), {first}:", f"     {_said(h)}"]
                parts.append(
                    f'<p style="margin:.5em 0 0 1em"><b>{html.escape(speaker)}</b> '
                    f'<span style="color:#555">({html.escape(h.kind or "")}, {html.escape(first)})</span><br>'
                    f"{_mark_html(_said(h), pattern)}</p>"
                )
            else:
                text.append(f"   {_mark_text(h.text, pattern)}")
                parts.append(f'<p style="margin:.5em 0 0 1em">{_mark_html(h.text, pattern)}</p>')
        text.append("")
        parts.append("</div>")
    footer = f"newsmon · rule {rule.name} · edit seeds/alerts.yaml to change rules or recipients."
    text += ["-- ", footer]
    parts.append(f'<p style="color:#888;font-size:small">{html.escape(footer)}</p></body></html>')
    return Alert(
        rule=rule.name,
        recipients=rule.recipients,
        subject=subject,
        body="\n".join(text),
        html="\n".join(parts),
        hit_ids=[h.alert_id for h in hits],
    )


def _waited(rule: AlertRule) -> str:
    reasons = []
    if rule.throttle:
        reasons.append(f"at most {rule.throttle} email{'s' if rule.throttle != 1 else ''} an hour")
    if rule.quiet_hours:
        reasons.append(f"quiet hours {rule.quiet_hours} {rule.timezone}")
    if rule.schedule == "daily":
        reasons.append("daily digest")
    return ", ".join(reasons) or "held back"


def build_message(alert: Alert, mail_from: str, message_id: str) -> EmailMessage:
    """The MIME message: multipart/alternative (text, then HTML); every header value on one line."""
    msg = EmailMessage()
    msg["From"] = header_safe(mail_from)
    msg["To"] = ", ".join(header_safe(r) for r in alert.recipients)
    msg["Subject"] = header_safe(alert.subject)
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["X-Newsmon-Rule"] = header_safe(alert.rule)
    msg.set_content(alert.body)
    if alert.html:
        msg.add_alternative(alert.html, subtype="html")
    return msg


class _LongDataReply:
    """Waits data_timeout_s for the reply to the end of the message, not the command timeout: an
    email the server took long to acknowledge was accepted, not lost (and must not be sent again)."""

    data_timeout_s: float = 600.0
    sock: Any
    timeout: float

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        if self.sock is not None:
            self.sock.settimeout(max(self.data_timeout_s, self.timeout))
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout)


class _SMTP(_LongDataReply, smtplib.SMTP):
    pass


class _SMTPSSL(_LongDataReply, smtplib.SMTP_SSL):
    pass


def _smtp_client(settings: Settings) -> smtplib.SMTP:
    """A connected client: implicit TLS (smtp_ssl, usually port 465), else plain with optional STARTTLS."""
    context = ssl.create_default_context()
    if not settings.smtp_verify_certs:  # a connection's ssl_context "none": a self-signed relay
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.smtp_ssl:
        tls = _SMTPSSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s, context=context)
        tls.data_timeout_s = settings.smtp_data_timeout_s
        return tls
    smtp = _SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    smtp.data_timeout_s = settings.smtp_data_timeout_s
    if settings.smtp_starttls:
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def send_email(alert: Alert, settings: Settings) -> str:
    """Deliver one alert; returns the Message-ID. Raises SmtpUnavailable naming the server."""
    msg_id = make_msgid(domain="newsmon.local")
    msg = build_message(alert, settings.mail_from, msg_id)
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with _smtp_client(settings) as smtp:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, secret(settings.smtp_password))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpUnavailable(f"SMTP server {server} failed: {type(exc).__name__}: {exc}") from exc
    return msg_id
