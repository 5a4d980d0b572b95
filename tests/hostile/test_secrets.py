"""Passwords given in NEWSMON_ES_URL never appear in what any command prints or logs."""

from __future__ import annotations

import io
import logging

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from pipeline.ops.cli import app

from .server import HostileServer, send
from .support import write_seeds

COMMANDS = [
    ["check-seeds"],
    ["es", "setup"],
    ["status"],
    ["run", "--once"],
    ["run", "--once", "--json"],
    ["search", "visa"],
    ["search", "--statements", "visa"],
    ["alerts", "list"],
    ["alerts", "test", "h1b"],
    ["kibana", "setup", "--url", "http://127.0.0.1:9"],
]


def test_mask_url():
    from pipeline.config import mask_url

    assert mask_url("at http://elastic:pw@host:9200/x and https://u:p%40ss@h/") == (
        "at http://elastic:***@host:9200/x and https://u:***@h/"
    )
    assert mask_url("http://host:9200/a@b") == "http://host:9200/a@b"


@pytest.mark.es
@pytest.mark.parametrize("where", ["right password", "wrong password", "no server"])
def test_no_command_shows_the_password(where, secure_es, tmp_path, index_prefix):
    url, real = secure_es
    password = {"right password": real, "wrong password": "Wr0ng-hostile-pw", "no server": "N0-server-pw"}[where]
    host = url.split("://", 1)[1] if where != "no server" else "127.0.0.1:9"
    es_url = f"http://elastic:{password}@{host}"
    feeds = HostileServer()
    feeds.add("/feed.xml", lambda h: send(h, 500, b"down"))
    seeds = write_seeds(tmp_path / "seeds", [{"id": "down", "url": feeds.url("/feed.xml")}])
    env = {
        "NEWSMON_ES_URL": es_url,
        "NEWSMON_INDEX_PREFIX": index_prefix,
        "NEWSMON_SEEDS_DIR": str(seeds),
        "NEWSMON_ALLOW_PRIVATE": "127.0.0.1",
        "NEWSMON_HOST_DELAY_S": "0",
        "NEWSMON_CPU_WORKERS": "0",
        "NEWSMON_STATE_DIR": str(tmp_path / "var"),
        "NEWSMON_SMTP_PORT": "9",
    }
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # everything any library logs, too
    shown: list[str] = []
    try:
        for cmd in COMMANDS:
            result = CliRunner().invoke(app, cmd, env=env)
            shown.append(f"$ newsmon {' '.join(cmd)} -> {result.exit_code}\n{result.output}")
            if result.exception and not isinstance(result.exception, SystemExit):
                shown.append(repr(result.exception))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        feeds.close()
        if where == "right password":
            es = Elasticsearch(url, basic_auth=("elastic", real))
            es.options(ignore_status=404).indices.delete(index=f"{index_prefix}-*", expand_wildcards="all")
            es.close()
    everything = "\n".join(shown) + logged.getvalue()
    assert "elastic:***@" in everything  # the URL itself is still named
    if where == "right password":  # the commands did their work, not only fail
        assert "indices ready at http://elastic:***@" in everything and "newsmon run summary" in everything
    assert password not in everything, f"the password leaked:\n{everything[-4000:]}"
