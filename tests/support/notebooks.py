"""Execute the notebooks in a kernel of this interpreter: the test and `make notebooks` share it.

```
python -m tests.support.notebooks            # regenerate every notebook's outputs in place
python -m tests.support.notebooks 05         # the notebooks whose name starts with 05
```

Each notebook runs in its own kernel (at the same time: most of a run is kernel start-up and
imports), in a temporary working directory, with a clean environment: no Cloudflare or
provider credentials of the developer, so every notebook runs on its own local gateway.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from traitlets import default

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 120
CREDENTIAL_PREFIXES = ("CLOUDFLARE_", "CF_AIG", "OPENAI_", "ANTHROPIC_")


class _ThisPython(KernelSpecManager):
    """The kernel is this interpreter (the project's .venv), whatever kernelspecs are
    installed on the machine: a fresh venv from the Makefile needs nothing more."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python (this venv)",
            language="python",
        )


class ThisVenvKernel(KernelManager):
    """A kernel manager whose every kernel runs this interpreter."""

    @default("kernel_spec_manager")
    def _this_python(self) -> KernelSpecManager:
        return _ThisPython()


@contextmanager
def notebook_environment(scratch: Path) -> Iterator[None]:
    """The environment the kernels inherit, restored afterwards.

    No credentials of the developer (the notebooks run on a local gateway), a temporary
    HOME and one matplotlib cache for all kernels, LiteLLM's price map from its own copy.
    """
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith(CREDENTIAL_PREFIXES):
                del os.environ[name]
        for name in ("home", "matplotlib"):
            (scratch / name).mkdir(parents=True, exist_ok=True)
        os.environ["HOME"] = str(scratch / "home")
        os.environ["MPLCONFIGDIR"] = str(scratch / "matplotlib")
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Run:
    """One notebook executed: `book` as it ran top to bottom (what is stored), and the
    errors of the cells run again afterwards (`reruns`), each `(cell index, error text)`."""

    def __init__(self, book: nbformat.NotebookNode, reruns: list[tuple[int, str]]) -> None:
        self.book = book
        self.reruns = reruns


def execute(path: Path, workdir: Path, *, rerun: bool = False) -> Run:
    """Run a notebook top to bottom; with `rerun`, then every code cell after the first
    again, in reverse order and in order, in the same kernel.

    Args:
        path: The notebook.
        workdir: The kernel's working directory.
        rerun: Run the cells after the setup cell again.

    Returns:
        The notebook with its top-to-bottom outputs, and the errors of the reruns.
    """
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
        kernel_manager_class=ThisVenvKernel,
    )
    client.reset_execution_trackers()
    reruns: list[tuple[int, str]] = []
    with client.setup_kernel():
        assert client.kc is not None
        info = client.wait_for_reply(client.kc.kernel_info())
        if info is not None and "language_info" in info["content"]:
            book.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(book.cells):
            client.execute_cell(cell, index)
        stored = deepcopy(book)
        if rerun:
            code = [i for i, cell in enumerate(stored.cells) if cell.cell_type == "code"][1:]
            for index in [*reversed(code), *code]:
                cell = deepcopy(stored.cells[index])
                try:
                    client.execute_cell(cell, index)
                except Exception as exc:  # CellExecutionError, a timeout: report, go on
                    name = getattr(exc, "ename", type(exc).__name__)
                    reruns.append((index, f"{name}: {getattr(exc, 'evalue', exc)}"[:500]))
    return Run(stored, reruns)


def execute_all(paths: Sequence[Path], scratch: Path, *, rerun: bool = False) -> dict[str, Run]:
    """Every notebook at the same time, each in its own kernel and working directory.

    Args:
        paths: The notebooks.
        scratch: A directory for the working directories, HOME and caches.
        rerun: Also run the cells after the setup cell again (see `execute`).

    Returns:
        Notebook stem -> its run.
    """

    def run(path: Path) -> Run:
        workdir = scratch / "work" / path.stem
        workdir.mkdir(parents=True, exist_ok=True)
        return execute(path, workdir, rerun=rerun)

    with notebook_environment(scratch), ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return dict(zip((p.stem for p in paths), pool.map(run, paths), strict=True))


def regenerate(prefixes: Sequence[str] = ()) -> list[Path]:
    """Execute the notebooks and store them with their outputs, in place.

    Args:
        prefixes: Only the notebooks whose name starts with one of them (all when empty).

    Returns:
        The notebooks written.
    """
    paths = [p for p in NOTEBOOKS if not prefixes or p.name.startswith(tuple(prefixes))]
    with tempfile.TemporaryDirectory(prefix="notebooks-") as scratch:
        runs = execute_all(paths, Path(scratch))
    for path in paths:
        nbformat.write(runs[path.stem].book, path)
    return paths


if __name__ == "__main__":
    for written in regenerate(sys.argv[1:]):
        print(f"regenerated {written.relative_to(NOTEBOOK_DIR.parent)}")
