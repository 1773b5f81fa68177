"""(5) import: ``python -c "import langchain_cf_gateway"`` vs ``import langchain_openai``."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from .harness import Figure, Goal, Section, Variant, interleaved_rounds, ratios, scaled_rounds
from .processes import ROOT, child_env

ROUNDS = 6
STATEMENTS = {
    "python": "pass",
    "langchain_openai": "import langchain_openai",
    "langchain_cf_gateway": "import langchain_cf_gateway",
    "ChatOpenAI": "from langchain_openai import ChatOpenAI",
    "ChatCloudflareGateway": "from langchain_cf_gateway import ChatCloudflareGateway",
}


_CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh(statement: str) -> float:
    """Wall seconds of one fresh interpreter; its CPU seconds go to ``_CPU``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", statement],
        cwd=ROOT,
        env=child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    _CPU.setdefault(statement, []).append(_children_cpu() - cpu)
    return wall


def run() -> Section:
    rounds = scaled_rounds(ROUNDS)
    section = Section(
        "import",
        "Import time",
        f"Wall time of a fresh `python -c '<statement>'` subprocess, {rounds} interleaved "
        "rounds (the first, untimed, warms the OS file cache), and the CPU time (user + "
        "system) of the same subprocess, which other processes' load disturbs far less. The "
        "first pair compares the package imports the issue names; the class imports show "
        "what a user of the chat model pays, and `python -c pass` is the interpreter's own "
        "start-up.",
    )

    def fresh_runs(statement: str) -> Variant:
        return lambda n: sum(_fresh(statement) for _ in range(n))

    variants = {name: fresh_runs(s) for name, s in STATEMENTS.items()}
    missing = None
    try:
        _fresh(STATEMENTS["ChatCloudflareGateway"])
    except subprocess.CalledProcessError:
        missing = "langchain_cf_gateway.ChatCloudflareGateway is not importable yet"
        del variants["ChatCloudflareGateway"]
    _CPU.clear()
    ms = {
        name: [t * 1e3 for t in values]
        for name, values in interleaved_rounds(variants, rounds, 1, warmup=1).items()
    }
    cpu_ms = {
        name: [t * 1e3 for t in _CPU[STATEMENTS[name]][1:]]  # the warm-up run's left out
        for name in ms
    }
    for what, data in (("", ms), (", CPU time", cpu_ms)):
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
    for name, statement in STATEMENTS.items():
        if name in ms:
            section.add(Figure(f"`python -c '{statement}'`", ms[name], "ms"))
    for name, statement in STATEMENTS.items():
        if name in cpu_ms:
            section.add(Figure(f"`python -c '{statement}'`, CPU time", cpu_ms[name], "ms"))
    return section
