"""Seeds folders and CLI runs for the hostile cases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SEED_ARTICLE = REPO.parent / "shared" / "fixtures" / "seed-article" / "article.html"


def write_seeds(dest: Path, feeds: list[dict], schedule: object = 1) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("figures.yaml", "topics.yaml"):
        (dest / name).write_text((REPO / "seeds" / name).read_text())
    feeds = [{"name": f["id"], "outlet": f.get("outlet", f["id"]), **f} for f in feeds]
    (dest / "feeds.yaml").write_text(yaml.safe_dump({"poll_schedule_minutes": schedule, "feeds": feeds}))
    rule = {"name": "h1b", "kind": "keyword", "keywords": ["H-1B"], "recipients": ["x@y.example"]}
    (dest / "alerts.yaml").write_text(yaml.safe_dump({"alerts": [rule]}))
    return dest


def cli_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update({"NEWSMON_HOST_DELAY_S": "0", "NEWSMON_CPU_WORKERS": "0", "COLUMNS": "200"})
    env.update(settings)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("newsmon")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.ops.cli"]
    return subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=timeout)
