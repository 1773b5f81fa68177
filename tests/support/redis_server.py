"""A redis-server of its own on a free loopback port, as a context manager.

The soak uses it outside pytest, and the tests' `redis_url` fixture (`tests/conftest.py`)
through it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis


class RedisMissing(RuntimeError):
    """redis-server is not installed (`apt-get install redis-server`; `.ci/run` does)."""


def redis_on(port: int) -> subprocess.Popen[bytes]:
    """redis-server on `port` of loopback (no persistence: a restart starts empty), once it
    answers PONG.

    Raises:
        RedisMissing: the binary is not on PATH.
        RuntimeError: it did not accept connections within 10 s (it is stopped).
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisMissing("redis-server is not installed (apt-get install redis-server)")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                return process
            except redis.ConnectionError:
                time.sleep(0.05)
        process.terminate()
        process.wait(timeout=10)
        raise RuntimeError("redis-server did not start")
    finally:
        client.close()


@contextmanager
def start_redis() -> Iterator[str]:
    """Start redis-server on a free loopback port (no persistence); yield its URL; stop it.

    Raises:
        RedisMissing: the binary is not on PATH.
        RuntimeError: it did not accept connections within 10 s.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = redis_on(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
