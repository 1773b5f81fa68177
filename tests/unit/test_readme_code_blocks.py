"""Every ```python block of README.md and the local README: found, compiled, marked.

`python_blocks()` is the one extractor: tests/integration/local/test_readme_examples.py
executes the same blocks, section by section, against an in-process `LocalGateway`. A block
that only real Cloudflare can run carries the line `# needs: cloudflare` and is compiled
only; one that needs an optional package says `# needs: <module>` and runs when that module
imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = (ROOT / "README.md", ROOT / "langchain_cf_gateway" / "local" / "README.md")
NEEDS = re.compile(r"^# needs: (\S+)$", re.M)
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


@dataclass(frozen=True)
class Block:
    """One ```python block: where it is, its code, and whether it needs real Cloudflare."""

    readme: Path
    section: str
    line: int
    code: str

    @property
    def needs(self) -> list[str]:
        """What the block needs beyond the local gateway: `cloudflare`, or module names."""
        return NEEDS.findall(self.code)

    @property
    def name(self) -> str:
        return f"{self.readme.relative_to(ROOT)}:{self.line}"


def python_blocks(readme: Path) -> list[Block]:
    """The ```python blocks of `readme`, in order, each with its `## ` section."""
    text = readme.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        headings = re.findall(r"^## (.+)$", before, re.M)
        section = headings[-1] if headings else "(top)"
        blocks.append(Block(readme, section, before.count("\n") + 2, match.group(1)))
    return blocks


def sections(readme: Path) -> dict[str, list[Block]]:
    """The blocks of `readme` grouped by section, in order: a section runs as one script."""
    grouped: dict[str, list[Block]] = {}
    for block in python_blocks(readme):
        grouped.setdefault(block.section, []).append(block)
    return grouped


ALL = [block for readme in READMES for block in python_blocks(readme)]


def test_both_readmes_have_python_blocks() -> None:
    assert len(python_blocks(READMES[0])) >= 15
    assert python_blocks(READMES[1])


@pytest.mark.parametrize("block", ALL, ids=[block.name for block in ALL])
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.code, block.name, "exec")


def test_the_save_load_example_names_the_namespace() -> None:
    [block] = [block for block in ALL if "dumpd(" in block.code]
    assert 'valid_namespaces=["langchain_cf_gateway"]' in block.code
