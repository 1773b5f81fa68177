"""(5) import: ``python -c "import langchain_cf_gateway"`` vs ``import langchain_openai``.

Import time is CPU-bound and this machine's speed drifts by tens of percent from one
second to the next (other processes, a shared host), so two imports timed one after the
other differ by more than the package's own cost. Each round therefore starts the two
interpreters being compared at the same moment, one per core, and times each from its
start to its exit (wall) and by its own CPU time (``os.wait4``): both see the same
machine. Who is started first alternates by round.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from tests.support.processes import ROOT, child_env

from .harness import Figure, Goal, Section, ratios, scaled_rounds

ROUNDS = 8
STATEMENTS = {
    "python": "pass",
    "langchain_openai": "import langchain_openai",
    "langchain_cf_gateway": "import langchain_cf_gateway",
    "ChatOpenAI": "from langchain_openai import ChatOpenAI",
    "ChatCloudflareGateway": "from langchain_cf_gateway import ChatCloudflareGateway",
}
PAIRS = (("langchain_cf_gateway", "langchain_openai"), ("ChatCloudflareGateway", "ChatOpenAI"))
"""(ours, baseline): each pair runs side by side."""
_ENV = {k: v for k, v in child_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode is written: the warm-up compiles this source tree once, as installing a wheel
does, and the rounds read it, as they read LangChain's from site-packages."""


def _fresh(statement: str, out: dict[str, tuple[float, float]], key: str) -> None:
    """One fresh interpreter: (wall seconds, CPU seconds) into ``out[key]``."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", statement],
        cwd=ROOT,
        env=_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"python -c {statement!r} failed with exit code {proc.returncode}")
    out[key] = (wall, usage.ru_utime + usage.ru_stime)


def _side_by_side(first: str, second: str) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    threads = [
        threading.Thread(target=_fresh, args=(STATEMENTS[name], out, name))
        for name in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(out) != 2:
        raise RuntimeError(f"an import of {first} or {second} failed; see the traceback above")
    return out


def run() -> Section:
    rounds = scaled_rounds(ROUNDS)
    section = Section(
        "import",
        "Import time",
        f"A fresh `python -c '<statement>'` per import, {rounds} rounds after one untimed "
        "warm-up (the OS file cache, and this source tree's bytecode written, as installed "
        "packages have theirs). In each round the two imports compared start at the "
        "same moment, one per core, so both see the same machine (its speed drifts by tens "
        "of percent between seconds); each is timed from its start to its exit (wall) and "
        "by its own CPU time (user + system). The first pair is the package imports the "
        "issue names; the class imports show what a user of the chat model pays; `python -c "
        "pass` alone is the interpreter's own start-up.",
    )
    wall: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    cpu: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    missing = None
    try:
        _side_by_side("ChatCloudflareGateway", "python")
    except RuntimeError:
        missing = "langchain_cf_gateway.ChatCloudflareGateway is not importable yet"
    for r in range(rounds + 1):
        results: dict[str, tuple[float, float]] = {}
        for ours, base in PAIRS:
            if missing and ours == "ChatCloudflareGateway":
                continue
            pair = (ours, base) if r % 2 else (base, ours)
            results.update(_side_by_side(*pair))
        out: dict[str, tuple[float, float]] = {}
        _fresh(STATEMENTS["python"], out, "python")
        results.update(out)
        if r == 0:
            continue  # the warm-up
        for name, (w, c) in results.items():
            wall[name].append(w * 1e3)
            cpu[name].append(c * 1e3)
    for what, data in (("", wall), (", CPU time", cpu)):
        section.add(
            Figure(
                f"import langchain_cf_gateway / import langchain_openai{what}",
                ratios(data["langchain_cf_gateway"], data["langchain_openai"]),
                "x",
                Goal("<=", 1.10),
            )
        )
        section.add(
            Figure(
                "from langchain_cf_gateway import ChatCloudflareGateway / "
                f"from langchain_openai import ChatOpenAI{what}",
                ratios(data["ChatCloudflareGateway"], data["ChatOpenAI"])
                if missing is None
                else [],
                "x",
                Goal("<=", 1.10),
                note=(missing or "") if not what else "",
            )
        )
    for what, data in (("", wall), (", CPU time", cpu)):
        for name, statement in STATEMENTS.items():
            if data[name]:
                section.add(Figure(f"`python -c '{statement}'`{what}", data[name], "ms"))
    return section
