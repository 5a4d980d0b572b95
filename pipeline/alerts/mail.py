"""Alert emails: compose one email per rule from its hits, and deliver it over SMTP.

In: an AlertRule and its pending AlertHits. Out: an Alert (subject, body, hit ids), then a Message-ID
once the SMTP server accepted it. `send_email` is the only I/O here.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..config import AlertRule, Settings, secret
from ..records import Alert, AlertHit


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or refused the message; the message names the server."""


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
