"""`cf-aig serve --workers N`: the flag, the config key, the refusal of per-process stores."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import build_parser, serve
from langchain_cf_gateway.cli.workers import WorkerConfig, check_shared, stores
from langchain_cf_gateway.core import ConfigError
from langchain_cf_gateway.local.config import ServerConfig, load_config


def parse(*argv: str) -> argparse.Namespace:
    return build_parser("serve").parse_args(["serve", *argv])


@pytest.mark.parametrize(("text", "message"), [("0", "must be 1 or more"), ("two", "write a")])
def test_workers_flag_refuses_what_is_no_count(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        serve.worker_count(text)


def test_workers_flag_and_default() -> None:
    assert parse("--workers", "3").workers == 3
    assert parse().workers is None  # then the config file's `workers`, default 1
    assert ServerConfig().workers == 1


def test_workers_config_key(tmp_path: Path) -> None:
    path = tmp_path / "local.toml"
    path.write_text("workers = 4\n")
    assert load_config(path).workers == 4
    path.write_text("workers = 0\n")
    with pytest.raises(ConfigError, match=r"workers in the config file .* integer 1 or more"):
        load_config(path)


def test_one_worker_needs_no_shared_store() -> None:
    check_shared(parse(), ServerConfig(), 1)  # memory state, memory logs: one process


@pytest.mark.parametrize(
    ("extra", "config_log_path", "refused"),
    [
        ({}, ":memory:", "--state-url redis://"),
        ({"state_url": "memory://"}, ":memory:", "--state-url redis://"),
        ({"state_url": "redis://127.0.0.1:6379/0"}, ":memory:", "--log-store postgresql://"),
        ({"state_url": "redis://127.0.0.1:6379/0"}, "logs.sqlite", "SQLite logs.sqlite"),
    ],
)
def test_many_workers_refuse_per_process_stores(
    extra: dict[str, str], config_log_path: str, refused: str
) -> None:
    args = parse("--workers", "2")
    for name, value in extra.items():
        setattr(args, name, value)
    with pytest.raises(ConfigError) as caught:
        check_shared(args, ServerConfig(log_path=config_log_path), 2)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--workers 2 needs ")
    assert refused in message


def test_many_workers_run_on_redis_and_postgresql() -> None:
    args = parse("--workers", "2")
    args.state_url = "redis://:pw-redis@127.0.0.1:6379/0"
    args.log_store = "postgresql://cf:pw-pg@127.0.0.1:5432/logs"
    check_shared(args, ServerConfig(), 2)
    state, logs = stores(args, ServerConfig())
    assert "pw-redis" not in state and "pw-pg" not in logs  # the banner masks passwords
    assert state.startswith("redis://") and logs.startswith("postgresql://")


def test_stores_named_in_the_banner() -> None:
    assert stores(parse(), ServerConfig()) == ("memory://", "memory")
    assert stores(parse("--log-path", "x.sqlite"), ServerConfig()) == (
        "memory://",
        "SQLite x.sqlite",
    )


def test_worker_config_travels_pickled_and_hides_tokens() -> None:
    """The tokens reach each worker through the spawn pipe: never in repr or output."""
    config = ServerConfig(token="tok-planted-1", management_token="tok-planted-2")
    worker = WorkerConfig(serve._gateway, parse("--workers", "2"), config, 2)
    assert "tok-planted" not in repr(worker)
    copy = pickle.loads(pickle.dumps(worker))
    assert copy.workers == 2 and copy.server_config.management_token == "tok-planted-2"
    assert copy.build is serve._gateway and not copy.loaded
