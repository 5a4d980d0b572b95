"""Every command answers --help; check-seeds names the file and field at fault."""

from __future__ import annotations

import pytest
from conftest import REPO
from typer.testing import CliRunner

from pipeline.ops.cli import app

COMMANDS = [
    [],
    ["run"],
    ["search"],
    ["status"],
    ["demo"],
    ["check-seeds"],
    ["es"],
    ["es", "setup"],
    ["es", "start"],
    ["es", "stop"],
    ["es", "status"],
    ["eval"],
    ["eval", "extraction"],
    ["eval", "statements"],
    ["eval", "topics"],
    ["train"],
    ["train", "topics"],
    ["airflow"],
    ["airflow", "up"],
    ["airflow", "down"],
    ["kibana"],
    ["kibana", "setup"],
    ["alerts"],
    ["alerts", "list"],
    ["alerts", "test"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "newsmon")
def test_help(cmd):
    result = CliRunner().invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_check_seeds_ok_and_broken(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["check-seeds"])
    assert ok.exit_code == 0 and "feeds" in ok.output
    for name in ("feeds.yaml", "figures.yaml", "topics.yaml", "alerts.yaml"):
        (tmp_path / name).write_text((REPO / "seeds" / name).read_text())
    text = (tmp_path / "feeds.yaml").read_text().replace("poll_interval_minutes: ", "poll_interval_minutes: -", 1)
    (tmp_path / "feeds.yaml").write_text(text)
    bad = runner.invoke(app, ["check-seeds", str(tmp_path)])
    assert bad.exit_code == 1
    assert "feeds.yaml" in bad.output and "entry 1" in bad.output and "poll_interval_minutes" in bad.output


def test_version_is_the_installed_distribution():
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"newsmon {version('newsmon')}"


def test_alerts_list_shows_every_rule_and_its_options():
    result = CliRunner().invoke(app, ["alerts", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("any-figure-statements", "tracked-figure-statements", "work-visa-keywords"):
        assert name in result.output
    assert "any tracked figure" in result.output and "at most 6/hour" in result.output
    assert "quiet 23:00-06:00 America/New_York" in result.output and "daily digest" in result.output
