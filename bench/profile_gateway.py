"""Profile the local gateway under load: ``python -m bench.profile_gateway [cache|mock|pass]``.

Starts a ``LocalGateway`` in this process, runs pyinstrument inside its server thread,
drives it from the load generator (closed loop, another process) and writes the profile
to ``bench/.out/gateway-<case>.txt`` (and ``.html``). A tool for finding hotspots, not
part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from langchain_cf_gateway.core import Header

from .local_gateway import loadgen
from .processes import FastServer

OUT = Path(__file__).resolve().parent / ".out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("cache", "mock", "pass"))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--uvloop", action="store_true", help="run the gateway on uvloop")
    args = parser.parse_args()
    from pyinstrument import Profiler

    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    from langchain_cf_gateway.local import LocalGateway, PassThrough

    with FastServer() as upstream:
        upstreams = (
            {"openai": PassThrough(base_url=upstream.base_url)} if args.case == "pass" else None
        )
        with LocalGateway(upstreams=upstreams) as gateway:
            loop: Any = gateway._loop
            profiler = Profiler(interval=0.0005, async_mode="disabled")

            async def start() -> None:
                profiler.start()

            async def stop() -> None:
                profiler.stop()

            url = f"{gateway.gateway_url}/compat/chat/completions"
            headers = {Header.CACHE_TTL: "3600"} if args.case == "cache" else None
            loadgen(url, "--duration", "1", "--connections", str(args.connections), headers=headers)
            asyncio.run_coroutine_threadsafe(start(), loop).result()
            result = loadgen(
                url,
                "--duration",
                str(args.seconds),
                "--connections",
                str(args.connections),
                headers=headers,
            )
            asyncio.run_coroutine_threadsafe(stop(), loop).result()
    rate = result["count"] / result["elapsed_s"]
    OUT.mkdir(exist_ok=True)
    name = f"gateway-{args.case}{'-uvloop' if args.uvloop else ''}"
    text = profiler.output_text(unicode=False, color=False, show_all=True)
    (OUT / f"{name}.txt").write_text(f"{rate:.0f} requests/s, {result['statuses']}\n{text}")
    (OUT / f"{name}.html").write_text(profiler.output_html())
    print(f"{rate:.0f} requests/s ({result['cache_hits']} cache hits); profile in {OUT / name}.txt")


if __name__ == "__main__":
    main()
