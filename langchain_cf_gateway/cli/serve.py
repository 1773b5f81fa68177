"""`cf-aig serve`: the local gateway for humans.

```text
cf-aig serve [--host 127.0.0.1] [--port 8787] [--workers 1] [--config local.toml|.yaml]
             [--cache-url redis://127.0.0.1:6379/0]
             [--log-path FILE | --log-store postgresql://user@host:5432/db]
             [--state-url redis://127.0.0.1:6379/0]
             [--log-max-rows 100000] [--log-commit-timeout 10]
             [--log-body-max-bytes 1048576] [--log-max-body-bytes 268435456]
             [--allowed-host NAME ...] [--allowed-origin URL ...]
             [--max-head-bytes 65536] [--head-timeout 10]
             [--body-timeout 60] [--max-connections 500] [--backlog 2048]
             [--routes FILE ...]
```

Serves until interrupted (Ctrl-C or SIGTERM). At start it prints the base URL, the
compat URL to give an OpenAI SDK, the tokens it generated (only those it generated:
tokens from the config file or the environment are never printed), and the exact
`cf-aig logs ...` command and `GatewayClient(...)` line that read this gateway's logs
(with the admin token when it generated it, else naming where the token was set). A port
in use is one line naming it and the fix (exit status 2). The config file format is
described in `langchain_cf_gateway.local.config`.

`--workers N` runs N processes on the port under uvicorn's supervisor, which replaces
one that dies; more than one needs the state and the logs in stores the workers share
(`langchain_cf_gateway.cli.workers`). The banner names the workers and the stores.

`--routes FILE` (repeatable) deploys the dynamic routes of a JSON file, one route or a
list, each on its `"gateway"` (default `default`), after the config file's `routes` and
before the server accepts requests; a route that breaks a rule stops the start with
one line naming the file, the element and the field (exit status 2).
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Final

from ..core.errors import ConfigError

if TYPE_CHECKING:
    from ..local.config import ServerConfig
    from ..local.server import LocalGateway

PORT_MAX: Final = 65535


def port(text: str) -> int:
    """An argparse `type`: a TCP port, 0 (any free port) to 65535.

    Args:
        text: The value of `--port`.

    Returns:
        The port number.

    Raises:
        argparse.ArgumentTypeError: Not a whole number in range (argparse says so, status 2).
    """
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"write a port number; got {text!r}") from None
    if not 0 <= number <= PORT_MAX:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to {PORT_MAX}; got {number}")
    return number


def worker_count(text: str) -> int:
    """An argparse `type`: a number of worker processes, 1 or more.

    Args:
        text: The value of `--workers`.

    Returns:
        The number.

    Raises:
        argparse.ArgumentTypeError: Not a whole number of 1 or more (status 2).
    """
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"write a number of processes; got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more; got {number}")
    return number


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig serve` to `parser`.

    The local gateway's modules are imported here and in `run`, never when this module
    is: the defaults shown in `--help` are theirs.

    Args:
        parser: The subcommand's parser.
    """
    from ..local.config import DEFAULT_PORT
    from ..local.listener import (
        DEFAULT_BACKLOG,
        DEFAULT_BODY_TIMEOUT_S,
        DEFAULT_HEAD_TIMEOUT_S,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_HEAD_BYTES,
    )
    from ..local.logstore import (
        DEFAULT_BODY_MAX_BYTES,
        DEFAULT_COMMIT_TIMEOUT,
        DEFAULT_MAX_BODY_BYTES,
        DEFAULT_MAX_ROWS,
    )

    parser.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port, default=None, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument(
        "--workers",
        type=worker_count,
        default=None,
        metavar="N",
        help="processes serving the port (default 1); more needs shared stores: "
        "--state-url redis://... and --log-store postgresql://...",
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="local.toml, .yaml or .json: gateways, "
        "upstreams, tokens (see langchain_cf_gateway.local.config)",
    )
    parser.add_argument(
        "--cache-url",
        default=None,
        metavar="URL",
        help="response cache: memory:// (default) or redis://host:port/db",
    )
    parser.add_argument(
        "--state-url",
        default=None,
        metavar="URL",
        help="gateways, rate limits, dynamic routes and scripts: memory:// (default, this "
        "process) or redis://host:port/db (shared by every process using it)",
    )
    parser.add_argument(
        "--log-path", default=None, metavar="FILE", help="SQLite file of the logs (default: memory)"
    )
    parser.add_argument(
        "--log-store",
        default=None,
        metavar="URL",
        help="where the logs go, as a URL: postgresql://user@host:5432/db (one log for "
        "many workers and hosts; schema created or migrated at start) or sqlite:///FILE",
    )
    parser.add_argument(
        "--log-max-rows",
        type=int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"log rows kept, the oldest deleted first (default {DEFAULT_MAX_ROWS:,}, "
        "Cloudflare's free-plan limit; 0 keeps every row)",
    )
    parser.add_argument(
        "--log-commit-timeout",
        type=float,
        default=DEFAULT_COMMIT_TIMEOUT,
        metavar="SECONDS",
        help="with --log-path or --log-store, how long a request waits for its log row to be written "
        f"before it gets HTTP 503, code 2503 (default {DEFAULT_COMMIT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--log-body-max-bytes",
        type=int,
        default=DEFAULT_BODY_MAX_BYTES,
        metavar="N",
        help="bytes kept of each logged request or response body; the rest is cut and the "
        f"row says so (default {DEFAULT_BODY_MAX_BYTES:,}, 1 MiB; 0 keeps whole bodies)",
    )
    parser.add_argument(
        "--log-max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="bytes of logged bodies kept across rows; past it the oldest rows lose their "
        f"bodies, never the rows (default {DEFAULT_MAX_BODY_BYTES:,}, 256 MiB; 0: no bound)",
    )
    parser.add_argument(
        "--routes",
        action="append",
        default=None,
        metavar="FILE",
        help="deploy the dynamic routes of a JSON file (one route or a list; each may name "
        'its "gateway", default default) before serving (repeatable)',
    )
    edge = parser.add_argument_group("exposure and bounds (langchain_cf_gateway.local.listener)")
    edge.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a Host name served besides loopback (repeatable; * serves any); "
        "other hosts get 421 (DNS rebinding)",
    )
    edge.add_argument(
        "--allowed-origin",
        action="append",
        default=None,
        metavar="URL",
        help="a browser Origin served besides pages on an allowed host (repeatable; "
        "e.g. https://app.example); others get 403",
    )
    edge.add_argument(
        "--max-head-bytes",
        type=int,
        default=DEFAULT_MAX_HEAD_BYTES,
        metavar="N",
        help=f"largest request line + headers; larger gets 431 (default {DEFAULT_MAX_HEAD_BYTES})",
    )
    edge.add_argument(
        "--head-timeout",
        type=float,
        default=DEFAULT_HEAD_TIMEOUT_S,
        metavar="S",
        help="seconds to send a whole request head; then 408 and closed "
        f"(default {DEFAULT_HEAD_TIMEOUT_S:g})",
    )
    edge.add_argument(
        "--body-timeout",
        type=float,
        default=DEFAULT_BODY_TIMEOUT_S,
        metavar="S",
        help="seconds to send a whole request body after its head; then 408 and closed "
        f"(default {DEFAULT_BODY_TIMEOUT_S:g})",
    )
    edge.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"connections served at once; past it 503 (default {DEFAULT_MAX_CONNECTIONS})",
    )
    edge.add_argument(
        "--backlog",
        type=int,
        default=DEFAULT_BACKLOG,
        metavar="N",
        help=f"connections the kernel queues before accept (default {DEFAULT_BACKLOG})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM, after printing the URLs and any generated token.

    Args:
        args: The parsed command line.

    Returns:
        0 once stopped.

    Raises:
        ConfigError: A bound out of range, an allowed host that is no host, a bad config
            file or route file, more than one worker on stores of one process; the port
            is in use or the host cannot be bound (one line naming the port and the fix).
    """
    from ..core.protocol import DEFAULT_GATEWAY_ID
    from ..local.config import check_route_gateways, load_config, load_routes, printable_path
    from .workers import check_shared, stores

    config = load_config(args.config)
    for path in args.routes or []:
        routes = load_routes(path)
        where = f"the route file {printable_path(path)}"
        check_route_gateways(routes, {DEFAULT_GATEWAY_ID, *config.gateways}, where)
        config.routes.extend(routes)
    workers = args.workers or config.workers
    check_shared(args, config, workers)
    generated_token = config.token is None
    generated_management = config.management_token is None
    try:
        gateway = _gateway(args, config)
    except ValueError as exc:  # a bound out of range, an allowed host that is no host
        raise ConfigError(str(exc)) from None
    state, logs = stores(args, config)
    workers_line = f"  workers       {workers} (state {state}; logs {logs})\n"
    if workers > 1:
        return _run_workers(args, config, gateway, workers, workers_line)
    stop = threading.Event()

    def on_signal(*_: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as started:
            try:
                started.enter_context(gateway)
            except ValueError as exc:  # the log store's bounds, checked as it opens
                raise ConfigError(str(exc)) from None
            except OSError as exc:  # the port is taken, or the host is not this machine's
                gateway.stop()  # closes the log store it opened
                raise ConfigError(_cannot_listen(exc, gateway, args)) from None
            sys.stdout.write(
                _banner(gateway, (generated_token, generated_management), workers_line, args)
            )
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _run_workers(
    args: argparse.Namespace,
    config: ServerConfig,
    gateway: LocalGateway,
    workers: int,
    workers_line: str,
) -> int:
    """Serve with `workers` processes (`langchain_cf_gateway.cli.workers`) until stopped.

    Returns:
        0 once stopped; 2 when a worker failed to start (it printed why).

    Raises:
        ConfigError: A store cannot be used (Redis unreachable, the database unreachable
            or at a newer schema, as with one process), checked before any worker starts;
            the port is in use or the host cannot be bound.
    """
    from .workers import serve_workers

    try:
        gateway.check_stores()
    except ValueError as exc:  # the log store's bounds (a ConfigError passes as it is)
        raise ConfigError(str(exc)) from None
    generated_token = config.token is None
    generated_management = config.management_token is None
    # Every worker serves the tokens of the banner, generated ones included.
    config.token, config.management_token = gateway.token, gateway.management_token
    try:
        sock = gateway.bind()
    except OSError as exc:  # the port is taken, or the host is not this machine's
        raise ConfigError(_cannot_listen(exc, gateway, args)) from None
    with sock:
        sys.stdout.write(
            _banner(gateway, (generated_token, generated_management), workers_line, args)
        )
        sys.stdout.flush()
        return serve_workers(_gateway, args, config, sock, workers)


def _banner(
    gateway: LocalGateway, generated: tuple[bool, bool], workers_line: str, args: argparse.Namespace
) -> str:
    """The start-up lines: URLs, the tokens `cf-aig serve` generated, workers, stores, logs."""
    from ..local.config import ENV_LOCAL_TOKEN, ENV_MANAGEMENT_TOKEN

    generated_token, generated_management = generated
    lines = [
        f"cf-aig local gateway listening on {gateway.base_url}\n",
        f"  gateway URL   {gateway.gateway_url}\n",
        f"  OpenAI SDK    base_url={gateway.gateway_url}/compat\n",
    ]
    if generated_token:
        lines.append(f"  gateway token {gateway.token}  (set {ENV_LOCAL_TOKEN} to choose it)\n")
    if generated_management:
        lines.append(
            f"  admin token   {gateway.management_token}  "
            f"(set {ENV_MANAGEMENT_TOKEN} to choose it)\n"
        )
    lines.append(workers_line)
    lines.append(logs_hint(gateway, generated_management, args.config))
    return "".join(lines)


def logs_hint(gateway: LocalGateway, generated: bool, config_path: str | None) -> str:
    """The banner's lines that read `gateway`'s logs: a `cf-aig logs` command, a Python line.

    The management token is shown only when `cf-aig serve` generated it; one from the
    environment is referred to by its variable, one from the config file by its key.

    Args:
        gateway: The started gateway.
        generated: Whether `cf-aig serve` generated the management token.
        config_path: The `--config` file, if any.

    Returns:
        The lines, each ending in a newline.
    """
    from ..local.config import ENV_MANAGEMENT_TOKEN, printable_path

    url = gateway.base_url
    if generated:
        note, flag, python = "", gateway.management_token, repr(gateway.management_token)
    elif os.environ.get(ENV_MANAGEMENT_TOKEN) == gateway.management_token:
        note = f" (the admin token is ${ENV_MANAGEMENT_TOKEN})"
        flag, python = f'"${ENV_MANAGEMENT_TOKEN}"', f'os.environ["{ENV_MANAGEMENT_TOKEN}"]'
    else:
        where = printable_path(config_path) if config_path else "the config file"
        note = f" (TOKEN: management_token in {where})"
        flag, python = "TOKEN", '"TOKEN"'
    python = python.replace("'", '"')
    return (
        f"  read its logs{note}:\n"
        f"    cf-aig logs --base-url {url} --token {flag}\n"
        f'    GatewayClient(base_url="{url}", account_id="{gateway.account_id}", '
        f"api_token={python})\n"
    )


def _cannot_listen(exc: OSError, gateway: LocalGateway, args: argparse.Namespace) -> str:
    """One line on why `gateway` cannot listen, naming where its port came from and the fix."""
    from ..local.config import printable_path

    where = gateway.host if ":" not in gateway.host else f"[{gateway.host}]"
    address = f"{where}:{gateway.port}"
    if args.port is not None:
        source = "--port"
    elif args.config is not None:
        source = f"port in {printable_path(args.config)}"
    else:
        source = "the default port"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{address} is already in use ({source}): stop what uses it, "
            "or pass --port 0 for a free port"
        )
    if exc.errno == errno.EACCES:
        return f"{address} needs privileges ({source}): pass --port 1024 or above, or --port 0"
    return f"cannot listen on {address} (--host, {source}): {exc.strerror or exc}"


def _gateway(args: argparse.Namespace, config: ServerConfig) -> LocalGateway:
    from ..local.server import LocalGateway  # starlette and uvicorn only when serving

    if args.log_store and args.log_path:
        raise ValueError("give --log-path (a SQLite file) or --log-store (a URL), not both")
    return LocalGateway(
        host=args.host or config.host,
        port=config.port if args.port is None else args.port,
        token=config.token,
        management_token=config.management_token,
        account_id=config.account_id,
        log_path=args.log_path or config.log_path,
        log_store=args.log_store or (None if args.log_path else config.log_store),
        log_max_rows=args.log_max_rows,
        log_commit_timeout=args.log_commit_timeout,
        log_body_max_bytes=args.log_body_max_bytes,
        log_max_body_bytes=args.log_max_body_bytes,
        cache_url=args.cache_url or config.cache_url,
        state_url=args.state_url or config.state_url,
        upstreams=config.upstreams,
        gateways=config.gateways,
        log_level="info",
        allowed_hosts=[*config.allowed_hosts, *(args.allowed_host or [])],
        allowed_origins=[*config.allowed_origins, *(args.allowed_origin or [])],
        max_head_bytes=args.max_head_bytes,
        head_timeout_s=args.head_timeout,
        max_connections=args.max_connections,
        backlog=args.backlog,
        body_timeout_s=args.body_timeout,
        routes=config.routes,
    )
