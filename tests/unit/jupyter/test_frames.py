"""Log pages, log iterators and the usage tracker as pandas DataFrames (the `pandas` extra)."""

from __future__ import annotations

import builtins
import sys
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from langchain_core.messages import AIMessage

from langchain_cf_gateway import GatewayUsageTracker, LogEntry, LogPage
from langchain_cf_gateway.management import LOG_COLUMNS, logs_to_pandas

ENTRIES = [
    {
        "id": "log-1",
        "created_at": "2026-11-30T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "success": True,
        "cached": False,
        "status_code": 200,
        "duration": 812.5,
        "tokens_in": 12,
        "tokens_out": 30,
        "cost": 0.0000198,
        "metadata": '{"user": "ada"}',
        "feedback": 1,
    },
    {
        "id": "log-2",
        "created_at": "2026-11-30T10:00:05Z",
        "provider": "anthropic",
        "model": "claude-3-5-haiku",
        "success": True,
        "cached": True,
        "duration": 3,
        "tokens_in": 12,
        "tokens_out": 30,
    },
]


def _page(entries: list[dict[str, Any]] = ENTRIES) -> LogPage:
    return LogPage.model_validate({"result": entries, "result_info": {"page": 1}})


def test_a_page_is_a_frame_one_row_per_entry() -> None:
    frame = _page().to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(LOG_COLUMNS) == list(LogEntry.model_fields)
    assert list(frame["id"]) == ["log-1", "log-2"]
    assert frame["created_at"].iloc[1] == pd.Timestamp(datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC))
    assert pd.api.types.is_datetime64_any_dtype(frame["created_at"])
    for column in ("duration", "tokens_in", "tokens_out", "cost", "status_code", "feedback"):
        assert pd.api.types.is_numeric_dtype(frame[column]), column
    assert frame["tokens_in"].sum() == 24
    assert frame["cost"].sum() == pytest.approx(0.0000198)  # the missing cost is NaN, not 0
    assert pd.isna(frame["status_code"].iloc[1])
    assert list(frame["cached"]) == [False, True]
    assert frame["metadata"].iloc[0] == {"user": "ada"}


def test_an_empty_page_is_an_empty_frame_with_the_same_columns() -> None:
    empty = _page([]).to_pandas()
    full = _page().to_pandas()
    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)
    assert dict(empty.dtypes) == dict(full.dtypes)


def test_any_iterable_of_entries_is_a_frame() -> None:
    def entries() -> Any:  # what client.iter_logs(...) yields
        yield from _page()

    frame = logs_to_pandas(entries())
    assert list(frame["model"]) == ["gpt-4o-mini", "claude-3-5-haiku"]
    assert frame.equals(_page().to_pandas())
    assert list(logs_to_pandas([]).columns) == list(LOG_COLUMNS)


def _message(model: str, status: str, tokens: int, step: int = 0) -> AIMessage:
    return AIMessage(
        content="hi",
        response_metadata={
            "model_name": model,
            "gateway": {
                "model": model,
                "provider": "openai",
                "cache_status": status,
                "log_id": f"log-{model}-{status}",
                "step": step,
            },
        },
        usage_metadata={"input_tokens": tokens, "output_tokens": 2, "total_tokens": tokens + 2},
    )


def test_the_tracker_is_a_frame_one_row_per_call() -> None:
    tracker = GatewayUsageTracker()
    assert list(tracker.to_pandas().columns) == [
        "model",
        "provider",
        "cache_status",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cost",
        "saved_cost",
        "step",
        "fell_back",
        "log_id",
        "error",
    ]
    assert len(tracker.to_pandas()) == 0
    tracker.record(_message("gpt-4o-mini", "MISS", 100), latency_s=0.5)
    tracker.record(_message("gpt-4o-mini", "HIT", 100), latency_s=0.01)
    tracker.record(_message("claude-3-5-haiku", "MISS", 10, step=1))
    tracker.on_llm_error(TimeoutError(), run_id=__import__("uuid").uuid4())
    frame = tracker.to_pandas()
    assert len(frame) == 4
    assert list(frame["cache_status"][:3]) == ["MISS", "HIT", "MISS"]
    assert frame["latency_s"].iloc[0] == 0.5
    assert frame["input_tokens"].sum() == 210
    assert frame["cost"].iloc[0] > 0 and frame["cost"].iloc[1] == 0
    assert frame["saved_cost"].iloc[1] == frame["cost"].iloc[0]
    assert list(frame["fell_back"]) == [False, False, True, False]
    assert frame["log_id"].iloc[0] == "log-gpt-4o-mini-MISS"
    assert frame["error"].iloc[3] == "TimeoutError"
    assert pd.api.types.is_numeric_dtype(frame["cost"])


@pytest.fixture
def no_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas is not installed: importing it raises, as it would without the extra."""
    for name in list(sys.modules):
        if name == "pandas" or name.startswith("pandas."):
            monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    monkeypatch.setitem(sys.modules, "pandas", None)  # importlib.import_module refuses too


@pytest.mark.usefixtures("no_pandas")
@pytest.mark.parametrize(
    "make",
    [
        lambda: _page().to_pandas(),
        lambda: logs_to_pandas([]),
        lambda: GatewayUsageTracker().to_pandas(),
    ],
    ids=["LogPage.to_pandas", "logs_to_pandas", "GatewayUsageTracker.to_pandas"],
)
def test_without_pandas_the_error_names_the_extra(make: Any) -> None:
    with pytest.raises(ImportError, match=r"pip install 'langchain-cf-gateway\[pandas\]'"):
        make()
