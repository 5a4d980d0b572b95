"""The package's layering, read from the source with `ast`: no import cycles, stages never import
operations (`pipeline.ops`), and nothing in `pipeline/` imports Airflow.

Imports inside functions count (a lazy import is still a dependency); imports under
`if TYPE_CHECKING:` do not, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(path: Path) -> set[str]:
    """Every module this file imports at run time, as absolute dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base_parts = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(base_parts)
                    target = f"{base}.{child.module}" if child.module else base
                else:
                    target = child.module or ""
                found.add(target)
                # `from pkg import submodule` imports the submodule itself
                found.update(f"{target}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in imported_names(path) if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    return out


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert "pipeline.run" in graph and "pipeline.ops.cli" in graph
    assert "pipeline.store.client" in graph["pipeline.run"]  # `from .store import client as ix`
    assert "pipeline.context" not in graph["pipeline.store.articles"]  # only under TYPE_CHECKING


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_stages_never_import_operations():
    offenders = {
        name: sorted(m for m in deps if m == "pipeline.ops" or m.startswith("pipeline.ops."))
        for name, deps in import_graph().items()
        if not (name == "pipeline.ops" or name.startswith("pipeline.ops."))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}, f"stage modules import pipeline.ops: {offenders}"


def test_no_airflow_inside_the_library():
    offenders = sorted(
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if any(m == "airflow" or m.startswith("airflow.") for m in imported_names(p))
    )
    assert offenders == [], f"pipeline/ must not import Airflow: {offenders}"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from .b import x\n", {"pkg.sub.b", "pkg.sub.b.x"}),
        ("def f():\n    from ..ops import cli\n", {"pkg.ops", "pkg.ops.cli"}),
        (
            "import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import y\n",
            {"json", "typing", "typing.TYPE_CHECKING"},
        ),
    ],
)
def test_import_reader(tmp_path, monkeypatch, source, expected):
    """The reader itself: relative, lazy and TYPE_CHECKING imports (a cycle test that reads nothing passes)."""
    sub = tmp_path / "pkg" / "sub"
    sub.mkdir(parents=True)
    (sub / "a.py").write_text(source)
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "pkg")
    assert imported_names(sub / "a.py") == expected


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
