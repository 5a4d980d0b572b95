"""Settings (from the environment) and seed files (YAML), validated on load.

Errors name the file, the entry and the field, in words a non-programmer can act on.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import idna
import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ConfigError(Exception):
    """A seed file or setting is wrong; the message says where and how to fix it."""


def url_problem(url: str) -> str | None:
    """Why url cannot be fetched as it is written (None when it can): bad brackets, port, host name."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number or out of range
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// addresses are fetched"
    host = parts.hostname or ""
    if not host:
        return "no host name"
    if any(c in host for c in ' <>\\^`{|}"') or host.startswith(".") or ".." in host:
        return f"'{host}' is not a host name"
    if not host.isascii():
        try:
            idna.encode(host, uts46=True, transitional=False)
        except (idna.IDNAError, UnicodeError) as exc:
            return f"'{host}' is not a valid international host name ({exc})"
    return None


def mask_url(text: str) -> str:
    """text with the password of every URL in it (scheme://user:password@host) replaced by ***."""
    return _URL_PASSWORD.sub(r"\1***@", text)


_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]*@")


def install_log_masking() -> None:
    """Mask URL passwords in every log record from now on, whichever handler prints it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_urls", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's problem to report
            return record
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.masks_urls = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("use lower-case letters, digits, '-' or '_' only (for example 'nyt-politics')")
    return value


# ---------------------------------------------------------------- seeds


class FeedConfig(BaseModel, extra="forbid"):
    id: str
    name: str
    url: str
    outlet: str
    language: str = "en"
    poll_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True

    _id = field_validator("id")(_check_id)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be a full http:// or https:// address")
        problem = url_problem(v)
        if problem:
            raise ValueError(f"'{v}' is not a usable address: {problem}")
        return v


class Figure(BaseModel, extra="forbid"):
    id: str
    name: str  # canonical name
    aliases: list[str] = Field(default_factory=list)  # surnames, titles, @handles
    role: str
    affiliation: str

    _id = field_validator("id")(_check_id)


class Subtopic(BaseModel, extra="forbid"):
    id: str
    name: str
    description: str = Field(min_length=1)
    keywords: dict[str, float] = Field(min_length=1)  # phrase -> weight

    _id = field_validator("id")(_check_id)


class Topic(BaseModel, extra="forbid"):
    id: str
    name: str
    description: str = Field(min_length=1)
    # Scores run from 0 to 1: a trained model's calibrated probability, or the squashed phrase score.
    threshold: float | None = Field(default=None, gt=0, lt=1)  # None: the model's own, else 0.5
    use_model: bool = True  # decide with the trained model when there is one for this topic id
    keywords: dict[str, float] = Field(min_length=1)
    subtopics: list[Subtopic] = Field(default_factory=list)
    subtopic_threshold: float = Field(default=0.5, gt=0, lt=1)

    _id = field_validator("id")(_check_id)


_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


class AlertRule(BaseModel, extra="forbid"):
    name: str
    kind: Literal["keyword", "statement"]
    recipients: list[str] = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)  # keyword rules: any of these phrases
    figures: list[str] = Field(default_factory=list)  # statement rules: figure ids, or ["*"] for all tracked
    topic: str | None = None  # optional: only articles tagged with this topic/subtopic
    outlets: list[str] = Field(default_factory=list)  # optional: only articles of these outlets (feeds.yaml)
    languages: list[str] = Field(default_factory=list)  # optional: only articles in these languages ("en")
    schedule: Literal["immediate", "daily"] = "immediate"
    # At most this many emails an hour; hits held back go into the next email.
    throttle: int | None = Field(default=None, ge=1, le=600)
    # "22:00-07:00": no email in this window (rule's timezone); what comes up waits until it ends.
    quiet_hours: str | None = None
    timezone: str = "UTC"  # of quiet_hours, and of the times shown in this rule's emails

    _name = field_validator("name")(_check_id)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        if v is not None and (not _QUIET.match(v.strip()) or v.split("-")[0].strip() == v.split("-")[1].strip()):
            raise ValueError("write it as two different times HH:MM-HH:MM, for example '22:00-07:00'")
        return v.strip() if v else None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not a time zone name; use one like 'UTC' or 'America/New_York'") from None
        return v

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        for lang in v:
            if not re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", lang):
                raise ValueError(f"'{lang}' is not a language code; use codes like 'en' or 'es'")
        return [lang.lower() for lang in v]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quiet_until(self, when: datetime) -> datetime | None:
        """The end of the quiet hours `when` falls in (aware datetime), or None outside them."""
        if not self.quiet_hours:
            return None
        m = _QUIET.match(self.quiet_hours)
        assert m  # validated
        start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
        local = when.astimezone(self.tz)
        now = local.time()
        inside = start <= now < end if start < end else (now >= start or now < end)
        if not inside:
            return None
        day = local.date() if now < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, tzinfo=self.tz)

    @field_validator("recipients")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for addr in v:
            if not re.match(r"^[^@\s]+@[^@\s]+$", addr):
                raise ValueError(f"'{addr}' is not an email address")
        return v

    @model_validator(mode="after")
    def _has_target(self) -> AlertRule:
        if self.kind == "keyword" and not self.keywords:
            raise ValueError("a keyword rule needs at least one entry under 'keywords'")
        if self.kind == "statement" and not self.figures:
            raise ValueError("a statement rule needs 'figures' (figure ids, or '*' for every tracked figure)")
        return self


class Seeds(BaseModel):
    feeds: list[FeedConfig]
    figures: list[Figure]
    topics: list[Topic]
    alerts: list[AlertRule]
    poll_schedule_minutes: int = Field(default=5, ge=1, le=24 * 60)

    def figure(self, figure_id: str) -> Figure | None:
        return next((f for f in self.figures if f.id == figure_id), None)


def _describe(err: dict, entries: list, key: str) -> str:
    loc = list(err["loc"])
    where = []
    if loc and isinstance(loc[0], int):
        idx = loc.pop(0)
        ident = ""
        if idx < len(entries) and isinstance(entries[idx], dict):
            ident = entries[idx].get("id") or entries[idx].get("name") or ""
        where.append(f"entry {idx + 1}" + (f" ('{ident}')" if ident else ""))
    if loc:
        where.append("field '" + ".".join(str(p) for p in loc) + "'")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required but missing"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known field (check the spelling)"
    return f"{', '.join(where) or key}: {msg}"


def _load_list(path: Path, key: str, model: type[BaseModel]) -> tuple[list, dict]:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: is a folder or special file, not a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ConfigError(f"{path}: expected a top-level '{key}:' list")
    entries = data[key]
    out, problems = [], []
    for i, entry in enumerate(entries):
        try:
            out.append(model.model_validate(entry))
        except ValidationError as exc:
            for detail in exc.errors():
                err = dict(detail)
                err["loc"] = (i, *detail["loc"])
                problems.append(_describe(err, entries, key))
    if problems:
        raise ConfigError(f"{path}:\n  " + "\n  ".join(problems))
    ids = [str(getattr(e, "id", None) or getattr(e, "name", "")) for e in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path}: the same id is used more than once: {', '.join(dupes)}")
    return out, data


def load_seeds(seeds_dir: Path | str | None = None) -> Seeds:
    """Load and cross-check feeds, figures, topics and alert rules from a seeds folder."""
    d = Path(seeds_dir) if seeds_dir else DEFAULT_SEEDS_DIR
    feeds, feeds_doc = _load_list(d / "feeds.yaml", "feeds", FeedConfig)
    figures, _ = _load_list(d / "figures.yaml", "figures", Figure)
    topics, _ = _load_list(d / "topics.yaml", "topics", Topic)
    alerts, _ = _load_list(d / "alerts.yaml", "alerts", AlertRule)
    known = {f.id for f in figures}
    for i, rule in enumerate(alerts):
        unknown = [f for f in rule.figures if f != "*" and f not in known]
        if unknown:
            raise ConfigError(
                f"{d / 'alerts.yaml'}: entry {i + 1} ('{rule.name}'), field 'figures': "
                f"unknown figure id(s) {', '.join(unknown)}; ids are listed in figures.yaml"
            )
        outlets = {f.outlet.casefold() for f in feeds}
        unknown_outlets = [o for o in rule.outlets if o.casefold() not in outlets]
        if unknown_outlets:
            raise ConfigError(
                f"{d / 'alerts.yaml'}: entry {i + 1} ('{rule.name}'), field 'outlets': unknown outlet(s) "
                f"{', '.join(unknown_outlets)}; outlets in feeds.yaml: {', '.join(sorted({f.outlet for f in feeds}))}"
            )
        topic_ids = {t.id for t in topics} | {s.id for t in topics for s in t.subtopics}
        if rule.topic and rule.topic not in topic_ids:
            raise ConfigError(
                f"{d / 'alerts.yaml'}: entry {i + 1} ('{rule.name}'), field 'topic': "
                f"unknown topic '{rule.topic}'; known: {', '.join(sorted(topic_ids))}"
            )
    schedule = feeds_doc.get("poll_schedule_minutes", 5)
    if isinstance(schedule, bool) or not isinstance(schedule, int) or not 1 <= schedule <= 24 * 60:
        raise ConfigError(
            f"{d / 'feeds.yaml'}: field 'poll_schedule_minutes': '{schedule}' is not a whole number of minutes "
            "from 1 to 1440 (how long `newsmon run` waits between passes)"
        )
    return Seeds(feeds=feeds, figures=figures, topics=topics, alerts=alerts, poll_schedule_minutes=schedule)


# ---------------------------------------------------------------- settings


def secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


class Settings(BaseSettings):
    """Runtime settings, from NEWSMON_* environment variables (or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_", env_file=".env", extra="ignore")

    seeds_dir: Path = DEFAULT_SEEDS_DIR
    state_dir: Path = PROJECT_ROOT / "var"

    es_url: str = "http://127.0.0.1:9200"
    es_user: str | None = None
    es_password: SecretStr | None = None  # SecretStr: never printed in reprs or logs
    es_ca_certs: str | None = None
    es_verify_certs: bool = True
    index_prefix: str = "newsmon"  # validated: Elasticsearch index names are lower-case, without spaces

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS from the first byte (port 465); Airflow's SMTP connection's default
    smtp_verify_certs: bool = True  # check the SMTP server's certificate (TLS and STARTTLS)
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # The reply to the end of the message: RFC 5321 4.5.3.2.6 gives the server 10 minutes. Giving up
    # sooner would treat an accepted email as failed and send it again.
    smtp_data_timeout_s: float = Field(default=600.0, gt=0)
    mail_from: str = "newsmon@localhost"

    # Alert sending (pipeline.alerts.log): a sender leases the hits it is about to mail for this long
    # (renewed before every email); an email carries at most this many hits; one pass sends at most
    # this many emails, and reports what remains.
    alert_lease_s: float = Field(default=900.0, gt=0)
    alert_max_hits_per_email: int = Field(default=100, ge=1, le=1000)
    alert_max_emails_per_pass: int = Field(default=50, ge=1)

    # The work queue (pipeline.itemqueue): a page that cannot be fetched is retried with backoff
    # (5 min, 30 min, 2 h, 12 h, or the server's Retry-After) and fails for good only after this
    # many hours; one batch takes at most queue_per_host items of one host.
    item_retry_hours: float = Field(default=24.0, gt=0)
    queue_per_host: int = Field(default=25, ge=1, le=100)

    # When "daily" rules send their digest (UTC, cron syntax); the Airflow DAG and `newsmon run` both use it.
    digest_cron: str = "0 7 * * *"

    # `newsmon kibana setup`; Kibana logins are Elasticsearch users, so the ES ones are the fallback.
    kibana_url: str = "http://127.0.0.1:5601"
    kibana_user: str | None = None
    kibana_password: SecretStr | None = None
    kibana_api_key: SecretStr | None = None

    # Sent with every request; robots.txt groups are matched on its first word. Set NEWSMON_USER_AGENT to
    # name your organisation and a contact page you own, e.g. "newsmon/0.1 (+https://example.org/bot)".
    user_agent: str = "newsmon/0.1 (news monitoring bot)"
    http_timeout_s: float = Field(default=15.0, gt=0)  # connect, each read, and all the headers
    http_total_timeout_s: float = Field(default=60.0, gt=0)  # a response still trickling in after this is cut off
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    # Hosts or networks allowed even though private/loopback (tests and the demo serve from 127.0.0.1).
    allow_private: Annotated[list[str], NoDecode] = Field(default_factory=list)
    respect_robots: bool = True
    host_delay_s: float = Field(default=1.0, ge=0)  # minimum gap between two requests to the same host
    # Where per-host pacing state lives: "local" (this process) or "elasticsearch" (shared by every worker
    # that uses the same index prefix: pipeline/store/hostgate.py). Several workers need "elasticsearch".
    host_gate: Literal["local", "elasticsearch"] = "local"
    fetch_workers: int = Field(default=16, ge=1)  # threads sending requests (each host still gets one at a time)
    # Processes for the CPU stages (feed parsing, extract, tag, statements, fingerprint): unset means one
    # per core; 0 runs them in the calling process (the Airflow tasks' choice: Airflow runs tasks side by side).
    cpu_workers: int | None = Field(default=None, ge=0)
    # Statements by the same speaker in articles of the last N days are the candidates a new one may repeat.
    novelty_window_days: int = Field(default=30, ge=1)
    # Retention (newsmon maintenance, daily in Airflow): finished work-queue items and run summaries older than
    # retention_items_days, sent alert hits older than retention_alerts_days are deleted; pending ones never are.
    retention_items_days: int = Field(default=90, ge=1)
    retention_alerts_days: int = Field(default=90, ge=1)
    # Airflow's own metadata (DAG runs, task instances, XComs, logs table ...) older than this is removed by
    # `airflow db clean` (`newsmon airflow clean`, run daily by the housekeeper `newsmon airflow up` starts).
    airflow_retention_days: int = Field(default=30, ge=1)

    @field_validator("es_url")
    @classmethod
    def _es_url(cls, v: str) -> str:
        # Several nodes of one cluster: comma-separated; the client spreads requests and fails over.
        urls = [u.strip().rstrip("/") for u in v.split(",")]
        if not all(re.match(r"^https?://", u) for u in urls):
            raise ValueError("NEWSMON_ES_URL must start with http:// or https:// (several nodes: comma-separated)")
        return ",".join(urls)

    @field_validator("index_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9][a-z0-9_-]{0,49}$", v):
            raise ValueError(
                f"'{v}' cannot start an index name: use lower-case letters, digits, '-' or '_' "
                "(no spaces, at most 50 characters), for example 'newsmon'"
            )
        return v

    @field_validator("digest_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(v):
            raise ValueError(f"'{v}' is not a cron expression; for example '0 7 * * *' is 07:00 UTC every day")
        return v

    @field_validator("allow_private", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("allow_private")
    @classmethod
    def _allowances(cls, v: list[str]) -> list[str]:
        for entry in v:
            if "/" in entry or re.match(r"^[0-9.]+$", entry) or ":" in entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(f"'{entry}' is not an address or network ({exc})") from None
            elif not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", entry):
                raise ValueError(f"'{entry}' is not a host name, address or network (like 127.0.0.1 or 10.0.0.0/8)")
        return v


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [
            f"NEWSMON_{'.'.join(str(p) for p in e['loc']).upper()}: {mask_url(e['msg'].removeprefix('Value error, '))}"
            for e in exc.errors()
        ]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
