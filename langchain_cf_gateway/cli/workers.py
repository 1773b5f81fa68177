"""`cf-aig serve --workers N`: N processes on one port, under uvicorn's supervisor.

The parent binds the port, prints the banner and runs uvicorn's `Multiprocess`
supervisor (https://www.uvicorn.org/deployment/#built-in): it starts N worker processes
that share the listening socket, and starts a new one when one dies (`kill -9`
included). Each worker builds its own `LocalGateway` state from the parsed command line
and the resolved `ServerConfig`, which reach it pickled through the pipe
`multiprocessing` opens to a spawned process: the tokens never appear on a command
line, in the environment or in output.

The stores are checked once before the port is bound and any worker starts
(`LocalGateway.check_stores`): one unusable stops `cf-aig serve` with the one line of a
single process. Later, a worker started in place of one that died may find a store
unreachable (Redis or PostgreSQL restarting): it says so in one line and tries again
every `STORE_RETRY_S` seconds, answering the supervisor's health checks meanwhile, and
serves once the store answers, as the running workers do. A worker refused for good (a
wrong password, a newer schema) prints the one line and exits with uvicorn's
`STARTUP_FAILURE` status, on which the supervisor stops the others and returns instead
of starting new ones (exit status 2).

Per-process state would diverge between workers (each would enforce its own rate
limit and keep its own logs), so more than one worker needs shared stores: the state
in Redis (`--state-url redis://...`) and the logs in PostgreSQL
(`--log-store postgresql://...`). The SQLite store is refused: its bound on the bytes
of logged bodies is counted by its one writer, so two processes writing one file would
each keep their own count.
"""

from __future__ import annotations

import argparse
import atexit
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ..core.credentials import mask_url
from ..core.errors import ConfigError
from ..local.shared_state.base import StoreUnreachable
from . import PROG

if TYPE_CHECKING:
    import socket

    from ..local.config import ServerConfig
    from ..local.server import LocalGateway

STORE_RETRY_S: Final = 1.0
"""Seconds between a waiting worker's tries to reach an unreachable store."""
SHARED_STATE_SCHEMES: Final = ("redis://", "rediss://")
"""`--state-url` schemes whose state every worker shares."""
SHARED_LOG_SCHEMES: Final = ("postgresql://", "postgres://")
"""`--log-store` schemes whose rows every worker shares."""

GatewayBuilder = Callable[[argparse.Namespace, "ServerConfig"], "LocalGateway"]


def resolved(args: argparse.Namespace, config: ServerConfig, name: str) -> str | None:
    """An option as `cf-aig serve` runs with it: the flag, else the config file's key.

    Args:
        args: The parsed command line.
        config: The config file's settings.
        name: The option's name (`state_url`, `log_store`), None where it does not exist.

    Returns:
        The value, or None when neither sets it.
    """
    value = getattr(args, name, None) or getattr(config, name, None)
    return str(value) if value else None


def stores(args: argparse.Namespace, config: ServerConfig) -> tuple[str, str]:
    """The state and log stores `cf-aig serve` runs with, as the banner names them.

    Args:
        args: The parsed command line.
        config: The config file's settings.

    Returns:
        `(state, logs)`: URLs with any password masked, or `SQLite <file>`, or `memory`.
    """
    state = resolved(args, config, "state_url") or "memory://"
    log_store = resolved(args, config, "log_store")
    log_path = args.log_path or config.log_path
    if log_store:
        logs = _shown(log_store)
    elif log_path and log_path != ":memory:":
        logs = f"SQLite {log_path}"
    else:
        logs = "memory"
    return _shown(state), logs


def _shown(url: str) -> str:
    """`url` with any password masked (`memory://` kept whole)."""
    return mask_url(url) if "@" in url else url


def check_shared(args: argparse.Namespace, config: ServerConfig, workers: int) -> None:
    """Refuse more than one worker unless the state and the logs are shared.

    Args:
        args: The parsed command line.
        config: The config file's settings.
        workers: The number of worker processes.

    Raises:
        ConfigError: One line naming the store that is per process and the flag to fix it.
    """
    if workers <= 1:
        return
    state = resolved(args, config, "state_url") or "memory://"
    if not state.startswith(SHARED_STATE_SCHEMES):
        raise ConfigError(
            f"--workers {workers} needs state the workers share: pass --state-url "
            f"redis://HOST:PORT/DB (with {_shown(state)} each worker would keep its own "
            "rate limits, gateway settings, routes and scripted faults)"
        )
    log_store = resolved(args, config, "log_store") or ""
    if not log_store.startswith(SHARED_LOG_SCHEMES):
        _, logs = stores(args, config)
        raise ConfigError(
            f"--workers {workers} needs a log store the workers share: pass --log-store "
            f"postgresql://USER@HOST:PORT/DB (logs in {logs} are per process: the in-memory "
            "store is one per worker, and SQLite counts its bound on body bytes in one writer)"
        )


class WorkerConfig(uvicorn.Config):
    """The uvicorn config of the worker processes: each builds its gateway when loaded.

    uvicorn's supervisor pickles the config to each spawned worker, whose server calls
    `load()`: the gateway is built there, from the command line and the resolved config
    file, never in the parent.

    Args:
        build: Makes the (unstarted) `LocalGateway` of a command line and a config; a
            module-level function, pickled by name.
        args: The parsed command line.
        config: The resolved config, its tokens set (generated ones included).
        workers: The number of worker processes.
    """

    def __init__(
        self,
        build: GatewayBuilder,
        args: argparse.Namespace,
        config: ServerConfig,
        workers: int,
    ) -> None:
        # The app is built by `load()` in the worker; uvicorn's own loader never sees this.
        super().__init__(
            app=f"{__name__}:WorkerConfig",
            workers=workers,
            log_level="info",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.build = build
        self.args = args
        self.server_config = config

    def load(self) -> None:
        """Build this worker's gateway state and application, then load as uvicorn does."""
        if self.loaded:
            return
        try:
            gateway = self._build_when_reachable()
        except ValueError as exc:  # ConfigError included: a store refused since the check
            # One line, as the supervisor's check prints, then uvicorn's status for a
            # start that failed: its supervisor stops instead of starting another worker.
            print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
            sys.exit(STARTUP_FAILURE)
        self.backlog = self.args.backlog
        atexit.register(gateway.stop)  # the log store's writer is closed as the worker exits
        super().load()

    def _build_when_reachable(self) -> LocalGateway:
        said = False
        while True:
            try:
                gateway = self.build(self.args, self.server_config)
                self.app, self.http = gateway.worker_app()
                return gateway
            except StoreUnreachable as exc:
                if not said:
                    print(f"{PROG}: waiting: {exc}", file=sys.stderr, flush=True)
                    said = True
                time.sleep(STORE_RETRY_S)

    def __repr__(self) -> str:  # the config holds the tokens
        return f"WorkerConfig(workers={self.workers})"


def serve_workers(
    build: GatewayBuilder,
    args: argparse.Namespace,
    config: ServerConfig,
    sock: socket.socket,
    workers: int,
) -> int:
    """Run `workers` processes on the bound `sock` until SIGINT or SIGTERM.

    A worker refused for good at start (a store's wrong password or newer schema, a
    failed lifespan start-up) exits with uvicorn's `STARTUP_FAILURE` status; uvicorn's
    supervisor then stops the other workers and returns instead of starting new ones. A
    store that does not answer is waited for instead (`WorkerConfig.load`).

    Args:
        build: Makes a worker's `LocalGateway` (see `WorkerConfig`).
        args: The parsed command line.
        config: The resolved config, its tokens set.
        sock: The bound socket every worker serves.
        workers: The number of worker processes.

    Returns:
        0 once stopped by a signal; 2 once stopped because a worker failed to start.
    """
    worker_config = WorkerConfig(build, args, config, workers)
    sock.listen(args.backlog)
    supervisor = Multiprocess(worker_config, sockets=[sock])
    supervisor.run()
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return 2 if failed else 0
