"""The house rules of docs/contributing.md, read from the source.

Every ``import`` statement counts, at module level or inside a function (an
import moved into a function to dodge a circle is still a circle), except those
under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("arena", "envs", "agents", "tournaments", "server")
FEATURES = ("envs", "agents", "tournaments", "server")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import that can run."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (i for n in node.orelse for i in _imports(n, module, is_package))
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parts = module.split(".")
                if not is_package:
                    parts = parts[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            yield base, [alias.name for alias in node.names]
        yield from _imports(node, module, is_package)


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from a import b`` counts ``a.b`` if a module)."""
    sources = _sources()
    graph: dict[str, set[str]] = {}
    for name, path in sources.items():
        tree = ast.parse(path.read_text(), str(path))
        edges: set[str] = set()
        for target, names in _imports(tree, name, path.name == "__init__.py"):
            if target.split(".")[0] not in PACKAGES:
                continue
            for sub in names:
                if f"{target}.{sub}" in sources:
                    edges.add(f"{target}.{sub}")
            if target in sources:
                edges.add(target)
        edges.discard(name)
        graph[name] = edges
    return graph


def test_arena_imports_no_feature_package() -> None:
    bad = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.split(".")[0] == "arena"
        for target in sorted(targets)
        if target.split(".")[0] in FEATURES
    ]
    assert bad == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle a depth-first walk meets, as the modules around it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return circles


def test_there_is_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules is how packages work, not a circle.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    assert _circles(graph) == []


def test_no_module_imports_another_modules_private_names() -> None:
    sources = _sources()
    bad = []
    for name, path in sources.items():
        tree = ast.parse(path.read_text(), str(path))
        for target, names in _imports(tree, name, path.name == "__init__.py"):
            if target.split(".")[0] in PACKAGES and target != name:
                bad += [
                    f"{name}: from {target} import {n}"
                    for n in names
                    if n.startswith("_") and not n.startswith("__")
                ]
    assert bad == []


@pytest.mark.parametrize("needle", ["get_service", "register_service"])
def test_there_is_no_untyped_service_lookup(needle: str) -> None:
    users = [str(p.relative_to(ROOT)) for p in _sources().values() if needle in p.read_text()]
    assert users == []


def test_the_checks_see_a_circle_and_a_private_import(tmp_path: Path) -> None:
    """The import reader itself: a function-level import and a relative one are seen."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from arena.cli import app\n"
        "def f():\n    from arena.registry import _ENVS\n"
        "from . import specs\n"
    )
    found = list(_imports(tree, "arena.play", is_package=False))
    assert ("arena.registry", ["_ENVS"]) in found
    assert ("arena", ["specs"]) in found
    assert all(target != "arena.cli" for target, _ in found)  # TYPE_CHECKING never runs
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
