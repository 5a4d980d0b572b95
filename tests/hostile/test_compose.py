"""The compose file does not start with the example secrets unless NEWSMON_INSECURE_DEV=1."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from .support import REPO

COMPOSE = REPO / "infra" / "docker-compose.yml"
CHECK = REPO / "infra" / "check-secrets.sh"


def check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY")}
    return subprocess.run(["sh", str(CHECK)], env={**clean, **env}, capture_output=True, text=True, timeout=30)


def test_every_service_waits_for_the_secrets_check():
    services = yaml.safe_load(COMPOSE.read_text())["services"]

    def needs_check(name: str, seen: frozenset = frozenset()) -> bool:
        deps = services[name].get("depends_on") or {}
        return "secrets-check" in deps or any(needs_check(d, seen | {name}) for d in deps if d not in seen)

    assert services["secrets-check"]["entrypoint"][-1] == "/check-secrets.sh"
    assert all(needs_check(s) for s in services if s != "secrets-check")
    for dep in (services["airflow-init"].get("depends_on") or {}).values():
        assert dep["condition"] in ("service_healthy", "service_completed_successfully")


@pytest.mark.parametrize(
    "env",
    [
        {},
        {
            "AIRFLOW_JWT_SECRET": "newsmon-local-only-jwt-secret",
            "AIRFLOW_FERNET_KEY": "x",
            "NEWSMON_POSTGRES_PASSWORD": "p" * 20,
        },
        {"AIRFLOW_JWT_SECRET": "a" * 64, "AIRFLOW_FERNET_KEY": "", "NEWSMON_POSTGRES_PASSWORD": "p" * 20},
        {"AIRFLOW_JWT_SECRET": "a" * 64, "AIRFLOW_FERNET_KEY": "k", "NEWSMON_POSTGRES_PASSWORD": "airflow"},
        {"NEWSMON_INSECURE_DEV": "0"},
    ],
    ids=["nothing set", "example jwt", "no fernet key", "example db password", "insecure flag off"],
)
def test_example_secrets_are_refused(env):
    result = check(**env)
    assert result.returncode == 1 and "refusing to start" in result.stderr


def test_insecure_dev_flag_allows_the_examples():
    assert check(NEWSMON_INSECURE_DEV="1").returncode == 0


def test_generated_secrets_pass(tmp_path):
    if shutil.which("python3") is None:
        pytest.skip("python3 is not on PATH")
    infra = tmp_path / "infra"
    infra.mkdir()
    shutil.copy(REPO / "infra" / "make-secrets.sh", infra)
    env_file = infra / ".env"
    env_file.write_text("AIRFLOW_UID=1000\n")  # what infra/README.md has Linux users write first
    made = subprocess.run(["sh", str(infra / "make-secrets.sh")], capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert values["AIRFLOW_UID"] == "1000"
    assert check(**values).returncode == 0
    before = env_file.read_text()
    again = subprocess.run(["sh", str(infra / "make-secrets.sh")], capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and env_file.read_text() == before  # never replaces a secret
