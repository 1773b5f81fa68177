"""The local gateway in its own process, for the load benchmarks: ``python -m bench.gateway_process``.

``--pass-through URL`` sends the ``openai`` provider to that OpenAI-compatible server
instead of the built-in mock. Prints ``listening on <base url>`` once it accepts
connections, then serves until terminated. Settings are the defaults a user gets
(logs on, in-memory log store and cache).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pass-through", default=None, metavar="URL")
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="experiment: run the server thread's event loop on uvloop (what uvicorn.run does "
        "when uvloop is installed), to measure that change before it is made in LocalGateway",
    )
    args = parser.parse_args()
    if args.uvloop:
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from langchain_cf_gateway.local import LocalGateway, PassThrough

    upstreams = {"openai": PassThrough(base_url=args.pass_through)} if args.pass_through else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalGateway(upstreams=upstreams) as gateway:
        sys.stdout.write(f"listening on {gateway.gateway_url}\n")
        sys.stdout.flush()
        stop.wait()


if __name__ == "__main__":
    main()
