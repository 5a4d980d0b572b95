"""Configuration refused early: a clear message naming the file, entry and field (or the variable),
a non-zero exit, and no traceback. Both `check-seeds` and `run --once` must refuse."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.ops.cli import app

from .support import write_seeds

GOOD_FEED = {"id": "good", "url": "http://127.0.0.1:9/feed.xml"}


def seeds_case(tmp_path, case: str):
    d = tmp_path / "seeds"
    if case == "bad_url":
        write_seeds(d, [GOOD_FEED, {"id": "broken", "url": "http://[::1/feed"}])
        return d, ["feeds.yaml", "entry 2", "'broken'", "url", "[::1/feed"]
    if case.startswith("schedule_"):
        write_seeds(d, [GOOD_FEED], schedule={"often": "often", "neg": -5, "zero": 0}[case[9:]])
        return d, ["feeds.yaml", "poll_schedule_minutes"]
    write_seeds(d, [GOOD_FEED])
    if case == "not_utf8":
        (d / "figures.yaml").write_bytes((d / "figures.yaml").read_bytes().replace(b"name:", b"n\xe9me:", 1))
        return d, ["figures.yaml", "UTF-8"]
    if case == "folder":
        (d / "feeds.yaml").unlink()
        (d / "feeds.yaml").mkdir()
        return d, ["feeds.yaml", "folder"]
    if case == "duplicate_keys":
        text = (d / "feeds.yaml").read_text()
        assert "poll_schedule_minutes: 1\n" in text
        (d / "feeds.yaml").write_text(
            text.replace("poll_schedule_minutes: 1\n", "poll_schedule_minutes: 1\npoll_schedule_minutes: 30\n")
        )
        return d, ["feeds.yaml", "'poll_schedule_minutes'", "twice"]
    raise AssertionError(case)


SEED_CASES = ["bad_url", "schedule_often", "schedule_neg", "schedule_zero", "not_utf8", "folder", "duplicate_keys"]

ENV_CASES = {
    "prefix_upper": ({"NEWSMON_INDEX_PREFIX": "NewsMon"}, ["NEWSMON_INDEX_PREFIX", "lower-case"]),
    "prefix_space": ({"NEWSMON_INDEX_PREFIX": "news mon"}, ["NEWSMON_INDEX_PREFIX"]),
    "timeout_negative": ({"NEWSMON_HTTP_TIMEOUT_S": "-1"}, ["NEWSMON_HTTP_TIMEOUT_S", "greater than 0"]),
    "allow_bad_net": ({"NEWSMON_ALLOW_PRIVATE": "127.0.0.1/33"}, ["NEWSMON_ALLOW_PRIVATE", "127.0.0.1/33"]),
    "cap_negative": ({"NEWSMON_MAX_PAGE_BYTES": "-1"}, ["NEWSMON_MAX_PAGE_BYTES", "greater than 0"]),
    "feed_cap_zero": ({"NEWSMON_MAX_FEED_BYTES": "0"}, ["NEWSMON_MAX_FEED_BYTES"]),
}


def _assert_refused(result, words):
    out = result.output
    assert result.exit_code not in (0, None), out
    assert isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}\n{out}"
    assert "Traceback" not in out
    for word in words:
        assert word in out, f"{word!r} missing from: {out}"


@pytest.mark.parametrize("case", SEED_CASES)
def test_bad_seeds_are_refused_by_check_seeds_and_run(case, tmp_path):
    d, words = seeds_case(tmp_path, case)
    runner = CliRunner()
    _assert_refused(runner.invoke(app, ["check-seeds", str(d)]), words)
    env = {"NEWSMON_ES_URL": "http://127.0.0.1:9", "NEWSMON_STATE_DIR": str(tmp_path / "var")}
    _assert_refused(runner.invoke(app, ["run", "--once", "--seeds", str(d)], env=env), words)


@pytest.mark.parametrize("case", list(ENV_CASES))
def test_bad_settings_are_refused_naming_the_variable(case, tmp_path):
    env, words = ENV_CASES[case]
    env = {"NEWSMON_ES_URL": "http://127.0.0.1:9", "NEWSMON_STATE_DIR": str(tmp_path / "var"), **env}
    for cmd in (["run", "--once"], ["status"], ["es", "setup"]):
        _assert_refused(CliRunner().invoke(app, cmd, env=env), words)


def test_the_shipped_seeds_still_pass():
    result = CliRunner().invoke(app, ["check-seeds"])
    assert result.exit_code == 0, result.output
