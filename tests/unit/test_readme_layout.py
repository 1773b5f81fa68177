"""The README's Layout names every module of the package, so it cannot fall behind the tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "langchain_cf_gateway"


def _layout() -> str:
    section = (ROOT / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```text\n(.*?)```", section, re.S)
    return block


MODULES = sorted(
    str(path.relative_to(PACKAGE))
    for path in PACKAGE.rglob("*.py")
    if path.name != "__init__.py" or path.parent != PACKAGE
)


@pytest.mark.parametrize("module", MODULES)
def test_the_layout_names_every_module(module: str) -> None:
    layout = _layout()
    path = Path(module)
    if path.name == "__init__.py":  # a package: its folder is named
        assert f"{path.parent.name}/" in layout, f"{path.parent}/ is not in the README's Layout"
        return
    assert re.search(rf"\b{re.escape(path.name)}\b", layout), (
        f"{module} is not in the README's Layout"
    )
