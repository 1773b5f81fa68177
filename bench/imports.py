"""(5) import: ``python -c "import langchain_cf_gateway"`` vs ``import langchain_openai``."""

from __future__ import annotations

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


def _fresh(statement: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", statement],
        cwd=ROOT,
        env=child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def run() -> Section:
    rounds = scaled_rounds(ROUNDS)
    section = Section(
        "import",
        "Import time",
        f"Wall time of a fresh `python -c '<statement>'` subprocess, {rounds} interleaved "
        "rounds (the first, untimed, warms the OS file cache). The goal compares the package "
        "imports the issue names; the class imports show what a user of the chat model pays, "
        "and `python -c pass` is the interpreter's own start-up.",
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
    ms = {
        name: [t * 1e3 for t in values]
        for name, values in interleaved_rounds(variants, rounds, 1, warmup=1).items()
    }
    section.add(
        Figure(
            "import langchain_cf_gateway / import langchain_openai",
            ratios(ms["langchain_cf_gateway"], ms["langchain_openai"]),
            "x",
            Goal("<=", 1.10),
        )
    )
    section.add(
        Figure(
            "from langchain_cf_gateway import ChatCloudflareGateway / "
            "from langchain_openai import ChatOpenAI",
            ratios(ms["ChatCloudflareGateway"], ms["ChatOpenAI"]) if missing is None else [],
            "x",
            Goal("<=", 1.10),
            note=missing or "",
        )
    )
    for name, statement in STATEMENTS.items():
        if name in ms:
            section.add(Figure(f"`python -c '{statement}'`", ms[name], "ms"))
    return section
