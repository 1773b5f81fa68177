"""Where a client's time goes: ``python -m bench.profile_clients [invoke|stream|litellm]``.

Runs the same calls on the package's client and its baseline under cProfile (in this
process, against the fast server), then prints for each: the calls per operation, the
share of time by package (langchain_core, openai, httpx...), and the functions ours
calls more often than the baseline. Function counts are deterministic, so the
difference is a fact even on a loaded machine; cProfile inflates Python-heavy code, so
read shares, not absolute times. Not part of ``make bench``; profiles go to
``bench/.out/``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import clients
from .processes import FastServer

OUT = Path(__file__).resolve().parent / ".out"
Stats = dict[tuple[str, int, str], tuple[int, int, float, float, Any]]


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if "langchain_cf_gateway" in filename:
        return "langchain_cf_gateway"
    return "(builtins)" if filename.startswith("~") else "(stdlib)"


def _profile(name: str, op: Callable[[], object], n: int) -> Stats:
    for _ in range(max(3, n // 10)):
        op()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        op()
    profiler.disable()
    OUT.mkdir(exist_ok=True)
    profiler.dump_stats(OUT / f"{name}.prof")
    stats: Stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return stats


def _report(label: str, stats: Stats, n: int) -> None:
    calls = sum(v[1] for v in stats.values())
    by: dict[str, float] = collections.defaultdict(float)
    for key, value in stats.items():
        by[_package(key[0])] += value[2]
    total = sum(by.values())
    top = sorted(by.items(), key=lambda item: -item[1])[:8]
    shares = ", ".join(f"{pkg} {t / total:.1%}" for pkg, t in top)
    own = by.get("langchain_cf_gateway", 0.0) / total
    print(
        f"{label}: {calls / n:,.0f} function calls per operation; time by package: {shares}; "
        f"langchain_cf_gateway's own code {own:.1%}"
    )


def _extra_calls(ours: Stats, base: Stats, n: int) -> None:
    def key(k: tuple[str, int, str]) -> str:
        return f"{k[0].split('site-packages/')[-1].split('/work/main/')[-1]}:{k[1]}:{k[2]}"

    a = {key(k): v[1] for k, v in base.items()}
    b = {key(k): v[1] for k, v in ours.items()}
    diffs = sorted(((b.get(k, 0) - a.get(k, 0)) / n, k) for k in set(a) | set(b))
    extra = sum(d for d, _ in diffs)
    print(f"ours makes {extra:+.0f} function calls per operation; the largest differences:")
    for d, k in sorted(diffs, key=lambda x: -abs(x[0]))[:15]:
        if d:
            print(f"  {d:+7.1f}  {k}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("invoke", "stream", "litellm"))
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    n = args.n
    with FastServer() as server:
        if args.case in ("invoke", "stream"):
            base_model = clients.chat_openai(server.base_url)
            our_model = clients.chat_gateway(server.base_url)
            if args.case == "invoke":
                base_op: Callable[[], object] = lambda: base_model.invoke(clients.PROMPT)  # noqa: E731
                our_op: Callable[[], object] = lambda: our_model.invoke(clients.PROMPT)  # noqa: E731
            else:
                n = max(1, n // 10)
                base_op = lambda: list(base_model.stream(clients.PROMPT))  # noqa: E731
                our_op = lambda: list(our_model.stream(clients.PROMPT))  # noqa: E731
            base_label, our_label = "ChatOpenAI", "ChatCloudflareGateway"
        else:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            from .litellm_handler import provider_kwargs

            messages = [{"role": "user", "content": clients.PROMPT}]
            stock: dict[str, Any] = {
                "model": clients.MODEL_ID,
                "api_base": clients.compat_url(server.base_url),
                "api_key": clients.PROVIDER_KEY,
                "extra_headers": clients.gateway_headers(),
                "messages": messages,
            }
            ours = provider_kwargs(server.base_url) | {"messages": messages}
            loop = asyncio.new_event_loop()
            base_op = lambda: loop.run_until_complete(litellm.acompletion(**stock))  # noqa: E731
            our_op = lambda: loop.run_until_complete(litellm.acompletion(**ours))  # noqa: E731
            base_label, our_label = "stock openai/ acompletion", "custom provider acompletion"
        base = _profile(f"clients-{args.case}-baseline", base_op, n)
        mine = _profile(f"clients-{args.case}-ours", our_op, n)
    _report(base_label, base, n)
    _report(our_label, mine, n)
    _extra_calls(mine, base, n)


if __name__ == "__main__":
    main()
