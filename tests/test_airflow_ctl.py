"""The local Airflow controller without starting Airflow: `up` checks everything before starting
anything, and `down` stops a whole process tree, task processes in their own groups included, by
PIDs and ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import psutil
import pytest
from conftest import free_port

from pipeline.ops import airflow_local as ctl


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_checks_everything_first_and_starts_nothing(tmp_path, make_settings, capsys):
    """API port taken, no SMTP server at a remote address, Elasticsearch silent where `up` cannot start
    one, broken seeds: one error listing all four, and not a single process started."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    api_port = busy.getsockname()[1]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "feeds.yaml").write_text("feeds: [unclosed\n")
    settings = make_settings(
        es_url=f"http://127.0.0.1:{free_port()}",
        smtp_host="mail.invalid",  # not resolvable: never leaves the machine
        smtp_port=2525,
        seeds_dir=seeds,
    )
    root = tmp_path / "project"  # no infra/elasticsearch.sh here: `up` could not start a local node
    (root / "dags").mkdir(parents=True)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(ctl.AirflowCtlError) as info:
        ctl.start_airflow(root, home=tmp_path / "home", port=api_port, settings=settings, echo=print)
    message = str(info.value)
    assert message.startswith("Airflow was not started:")
    assert f"port {api_port} for the API server is already in use" in message
    assert "Elasticsearch does not answer" in message
    assert "no SMTP server answers at mail.invalid:2525" in message
    assert "seeds" in message and "feeds.yaml" in message
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before  # nothing started
    assert not (tmp_path / "home" / ctl.STATE_FILE).exists()
    assert "stopping what was started" not in capsys.readouterr().out
    busy.close()


_TREE = r"""
import os, socket, subprocess, sys, time
# A component (this process) with a child in a session and process group of its own (as Airflow's
# task processes are), plus an orphan whose parent already exited (re-parented to init).
ports = [int(p) for p in sys.argv[1:3]]
listen = "import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", listen, str(ports[0])], start_new_session=True)
middle = "import subprocess,sys; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]], start_new_session=True)"
subprocess.Popen([sys.executable, "-c", middle, listen, str(ports[1])], start_new_session=True).wait()
time.sleep(600)
"""


def test_down_stops_the_whole_tree_and_reports_it(tmp_path, capsys):
    home = tmp_path / "home"
    home.mkdir()
    task_port, orphan_port = free_port(), free_port()
    tag = uuid.uuid4().hex
    env = {**os.environ, ctl.TAG_VAR: tag}
    parent = subprocess.Popen(
        [sys.executable, "-c", _TREE, str(task_port), str(orphan_port)], env=env, start_new_session=True
    )
    deadline = time.monotonic() + 20
    while not (_listening(task_port) and _listening(orphan_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _listening(task_port) and _listening(orphan_port)
    tree = [parent.pid] + [c.pid for c in psutil.Process(parent.pid).children(recursive=True)]
    tagged = [p.pid for p in psutil.process_iter() if p.pid != os.getpid() and _env(p).get(ctl.TAG_VAR) == tag]
    assert len(set(tagged)) >= 3 and set(tree) < set(tagged) | {parent.pid}  # the orphan is outside the tree
    pgids = {os.getpgid(pid) for pid in tagged}
    assert len(pgids) >= 3  # three process groups: killpg on one of them would leave the others
    state = {
        "tag": tag,
        "port": free_port(),
        "url": "http://127.0.0.1:1",
        "home": str(home),
        "components": {"scheduler": {"pid": parent.pid, "create_time": psutil.Process(parent.pid).create_time()}},
        "smtp_sink": None,
    }
    (home / ctl.STATE_FILE).write_text(json.dumps(state))

    assert ctl.stop_airflow(home=home, grace=5)
    parent.wait(timeout=5)
    out = capsys.readouterr().out
    alive = [pid for pid in tagged if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still running after down: {alive}"
    assert not _listening(task_port) and not _listening(orphan_port)
    assert f"scheduler {parent.pid}" in out and f"stopped {len(set(tagged))} process(es)" in out, out
    assert not (home / ctl.STATE_FILE).exists()
    assert ctl.airflow_status(home=home) is None


def _env(proc: psutil.Process) -> dict:
    try:
        return proc.environ()
    except psutil.Error:
        return {}


def test_down_without_state_says_so(tmp_path, capsys):
    assert ctl.stop_airflow(home=tmp_path) is True
    assert "not running" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "preloaded"), [(["scheduler"], True), (["celery", "worker"], True), (["api-server"], False)]
)
def test_local_settings_preload_the_library_where_tasks_fork(tmp_path, argv, preloaded):
    """The settings file `up` writes imports the library in the scheduler and Celery workers (their task
    processes fork from them and start without importing it), and nowhere else."""
    path = ctl.write_local_settings(tmp_path / "home")
    assert path == tmp_path / "home" / "config" / "airflow_local_settings.py"
    probe = (
        "import runpy, sys; "
        f"sys.argv = ['airflow', *{argv!r}]; "
        f"runpy.run_path({str(path)!r}); "
        "print('pipeline.run' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(preloaded)
    ctl.write_local_settings(tmp_path / "home")  # idempotent
    assert path.read_text() == ctl.LOCAL_SETTINGS
