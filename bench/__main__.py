"""``python -m bench [NAME...] [--out PATH]``: run benchmarks and rewrite RESULTS.md."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from . import BENCHMARKS
from .harness import Section, scale
from .report import load, machine, now, section_record, write

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the Markdown file to rewrite")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    factor = scale()
    records = {}
    failed = []
    for name in names:
        started, load_start = now(), load()
        print(f"bench {name}: running (load {load_start}, scale {factor:g})", flush=True)
        t0 = time.perf_counter()
        try:
            section: Section = importlib.import_module(BENCHMARKS[name]).run()
        except Exception:
            failed.append(name)
            traceback.print_exc()
            continue
        section.seconds = time.perf_counter() - t0
        for fig in section.figures:
            lo, hi = fig.spread
            verdict = f"  [{fig.goal}: {fig.verdict}]" if fig.goal else ""
            print(f"  {fig.name}: {fig.median:.4g} {fig.unit} ({lo:.4g} - {hi:.4g}){verdict}")
        records[name] = section_record(section, started, load_start, factor)
    if records:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write(args.out, records, list(BENCHMARKS), machine())
        print(f"wrote {args.out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
