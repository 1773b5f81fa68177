"""`make venv` (the first step of `make demo` and `make test`): fast, hash-checked, not silent.

A fresh clone built its venv with `pip install --quiet` in about 100 s, printing nothing;
uv installs the same lock in parallel, checking every hash (about 21 s on 2 cores with
empty caches), and says what it does.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _recipe() -> list[str]:
    done = subprocess.run(
        ["make", "-n", "-B", "venv"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def _lock_version(name: str) -> str:
    match = re.search(rf"^{name}==(\S+) \\$", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, f"{name} is not in requirements.lock"
    return match[1]


def test_the_lock_is_installed_by_uv_with_every_hash_required() -> None:
    lines = _recipe()
    uv_lock = [line for line in lines if "uv pip install" in line and "requirements.lock" in line]
    assert len(uv_lock) == 1
    assert "--require-hashes" in uv_lock[0] and "--no-deps" in uv_lock[0]


def test_nothing_is_quiet() -> None:
    assert not [line for line in _recipe() if "--quiet" in line or " -q " in line]


def test_uv_itself_comes_from_the_lock_with_its_hashes(tmp_path: Path) -> None:
    """The recipe's awk line cuts uv's entry out of the lock: pip installs it with
    `--require-hashes`, so it must be the whole entry, every hash line included."""
    awk = next(line for line in _recipe() if line.startswith("awk "))
    command = awk.split(" > ", 1)[0]
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == f"uv=={_lock_version('uv')} \\"
    assert all(re.fullmatch(r"    --hash=sha256:[0-9a-f]{64}( \\)?", line) for line in lines[1:])
    assert len(lines) > 2 and not lines[-1].endswith("\\")


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", text, re.M))


def test_the_notebooks_lock_pins_what_the_main_lock_pins_the_same() -> None:
    """`make notebooks` adds Jupyter Lab to the venv: it must not move a pin of `make test`."""
    main, notebooks = _pins("requirements.lock"), _pins("requirements-notebooks.lock")
    assert "jupyterlab" in notebooks
    assert {name: notebooks.get(name) for name in main} == main
