"""The notebooks run top to bottom on the local gateway, and are stored without outputs."""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[3] / "notebooks").glob("*.ipynb"))


class _ThisPython(KernelSpecManager):
    """The kernel is this interpreter (the project's .venv), whatever kernelspecs are
    installed on the machine: a fresh venv from the Makefile needs nothing more."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python (this venv)",
            language="python",
        )


def test_the_four_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_caching_and_costs.ipynb",
        "03_litellm_router.ipynb",
        "04_dynamic_routes.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs; clear them"
            assert cell.execution_count is None, f"{path.name}: clear the execution counts"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, nbformat.NotebookNode]:
    """Every notebook, executed at the same time (each in its own kernel): most of a run
    is kernel start-up and imports, which overlap."""
    workdir = tmp_path_factory.mktemp("notebooks")

    def run(path: Path) -> nbformat.NotebookNode:
        book = nbformat.read(path, as_version=4)
        NotebookClient(
            book,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
            kernel_manager_class=_kernel_manager(),
        ).execute()
        return book

    # Module-scoped, so set up before the per-test environment clean-up: the kernels get
    # their own clean environment (no credentials of the developer, a temporary HOME, one
    # matplotlib cache for all of them).
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(("CLOUDFLARE_", "CF_AIG", "OPENAI_", "ANTHROPIC_")):
                env.delenv(name)
        env.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        env.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("matplotlib")))
        env.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        with ThreadPoolExecutor(max_workers=len(NOTEBOOKS)) as pool:
            books = dict(zip((p.stem for p in NOTEBOOKS), pool.map(run, NOTEBOOKS), strict=True))
    return books


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path: Path, executed: dict[str, nbformat.NotebookNode]) -> None:
    book = executed[path.stem]
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "Traceback" not in text
    if path.stem.startswith("01"):
        assert "'cache_status': 'MISS'" in text
        assert "Gateway calls: 2 (cache hits 1, misses 1" in text  # the chain run twice
        assert "cache_ttl: must be from 60" in text  # the bad option, refused before sending
        assert "'name': 'get_weather'" in text
        assert "(1, 95.0)" in text  # the feedback, read back from the logs API
    if path.stem.startswith("02"):
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) == 2, "the HIT/MISS latency plot and the per-model plot"
        assert "log rows" in text
    if path.stem.startswith("03"):
        assert "(1, 'anthropic')" in text  # the gateway's own fallback answered at step 1
        assert "Gateway calls: 4" in text
    if path.stem.startswith("04"):
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, "the split the dry-run produced"
        assert "route 'support' on a local gateway: 1000 requests, seed '7'" in text
        assert "workers-ai/@cf/meta/llama-3.1-8b-instruct         50  100.0%" in text
        assert "fallbacks taken: 0 (0.0%)" in text  # every model up
        # gpt-4o-mini down: its share falls back to Claude Haiku, each request counted.
        assert re.search(r"anthropic/claude-3-5-haiku +1[0-9]{2} ", text)
        assert re.search(r"fallbacks taken: 1[0-9]{2} ", text)
        assert "free ('workers-ai', '@cf/meta/llama-3.1-8b-instruct')" in text
        assert "paid ('openai', 'gpt-4o-mini')" in text or "paid ('google-ai-studio'" in text


def _kernel_manager() -> type:
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class ThisVenvKernel(KernelManager):
        @default("kernel_spec_manager")
        def _this_python(self) -> KernelSpecManager:
            return _ThisPython()

    return ThisVenvKernel
