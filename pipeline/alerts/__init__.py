"""Alerts: rules matched against indexed articles, recorded once, mailed once.

In: indexed articles and statements and the rules of `seeds/alerts.yaml`. Out: `AlertHit`
documents in the alerts index (the alert log) and one email per rule over SMTP.
`rules` matches (pure), `log` queues hits and sends what is pending, `mail` composes and delivers.
"""
