"""The hostile-input suite: every case gets its time and peak memory in a table at the end of the run.

Peak RSS is this process's high-water mark over the test (Linux: /proc/self/clear_refs resets it
before each test, /proc/self/status VmHWM reads it after). Where the reset is not allowed, the
column shows the process's peak so far, marked with '<='.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

_RESULTS: dict[str, dict] = {}
_HERE = Path(__file__).parent


def _vm(field: str) -> int | None:
    try:
        m = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(m.group(1)) // 1024 if m else None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def pytest_collection_modifyitems(items):
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.hostile)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    exact = _reset_peak()
    start = time.perf_counter()
    yield
    _RESULTS.setdefault(item.nodeid, {}).update(seconds=time.perf_counter() - start, peak_mb=_vm("VmHWM"), exact=exact)


def pytest_runtest_logreport(report):
    if report.nodeid in _RESULTS or (report.when == "setup" and report.skipped):
        entry = _RESULTS.setdefault(report.nodeid, {})
        if report.when == "call" or report.skipped or report.failed:
            entry["outcome"] = "failed" if report.failed else report.outcome


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    tr = terminalreporter
    tr.section("hostile-input suite: case, result, time, peak RSS")
    width = max(len(n.split("::", 1)[-1]) for n in _RESULTS)
    tr.write_line(f"{'case':<{width}}  {'result':<7} {'time':>8}  {'peak RSS':>9}")
    rows: list[str] = []
    for nodeid, r in _RESULTS.items():
        case = nodeid.split("::", 1)[-1]
        peak = r.get("peak_mb")
        peak_s = "-" if peak is None else f"{'' if r.get('exact') else '<='}{peak} MB"
        secs = r.get("seconds")
        secs_s = "-" if secs is None else f"{secs:.2f} s"
        tr.write_line(f"{case:<{width}}  {r.get('outcome', '?'):<7} {secs_s:>8}  {peak_s:>9}")
        rows.append(f"| {case} | {r.get('outcome', '?')} | {secs_s} | {peak_s} |")
    report = os.environ.get("NEWSMON_HOSTILE_REPORT")
    if report:
        table = ["| case | result | time | peak RSS |", "|---|---|---|---|", *rows]
        Path(report).write_text("\n".join(table) + "\n", encoding="utf-8")
