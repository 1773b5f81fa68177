"""The shape of the house, checked from the source: what a reviewer would otherwise check by eye.

- imports point one way: `core` imports nothing else of the package, nor a framework;
- no import cycle among the package's modules (imports at module level and inside
  functions; those under `TYPE_CHECKING` never run and are left out);
- every module can be read in one sitting (at most 600 lines);
- no frame walking (`sys._getframe`, `f_locals`);
- nothing cites a document that is not shipped (our protocol notes, issue numbers).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "langchain_cf_gateway"
NAME = PACKAGE.name
MAX_LINES = 600
FRAMEWORKS = (
    "langchain",
    "langchain_core",
    "langchain_openai",
    "litellm",
    "starlette",
    "uvicorn",
    "aiohttp",
    "openai",
    "redis",
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that can run: module level and inside functions (a lazy import
    closes a cycle as surely, only later); those under `TYPE_CHECKING` never run."""
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            type_only.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in type_only:
            yield node


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path) -> set[str]:
    """The package modules `module` imports, at import time or later."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    targets: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _resolve(module, path, node)
            # `from p import m` imports the submodule `p.m` when there is one; `p` itself
            # is then already being imported (it is `m`'s parent), so only `p.m` counts.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith(NAME):
                targets.add(name)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _external_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_package_is_found() -> None:
    assert f"{NAME}.core" in MODULES
    assert len(MODULES) > 30


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(f"{NAME}.core")))
def test_core_imports_only_core_and_no_framework(module: str) -> None:
    outside = {m for m in GRAPH[module] if not m.startswith(f"{NAME}.core")}
    assert outside == set(), f"{module} imports {outside}: core must not depend on them"
    frameworks = _external_imports(MODULES[module]) & set(FRAMEWORKS)
    assert frameworks == set(), f"{module} imports {frameworks}"


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_package_modules() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_reads_in_one_sitting(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


_FORBIDDEN = re.compile(r"sys\._getframe|\bf_locals\b|inspect\.currentframe|inspect\.stack\(")
_INTERNAL_CITATION = re.compile(r"spec section|open question|protocol notes|\bissue \d+|§", re.I)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_frame_walking_and_no_internal_citations(module: str) -> None:
    text = MODULES[module].read_text(encoding="utf-8")
    assert not _FORBIDDEN.findall(text), f"{module} walks frames"
    cited = _INTERNAL_CITATION.findall(text)
    assert not cited, f"{module} cites a document users do not have: {cited}"
