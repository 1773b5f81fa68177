"""Issue 11, attack finding F8: a filter value of the wrong type is a 400, never a 500.

Each filter value is checked against its key (text, a number or a boolean as the key
takes; null; never an object or a nested list), in both filter encodings, on the list and
the delete. A write of the logs API during a store outage is a 503 in the API's envelope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.core.protocol import LogsApi
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import api_error, chat_body, compat, management

from .logstore_helpers import database_locked, log_id


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    with LocalGateway() as gw:
        assert compat(gw, chat_body()).status_code == 200
        yield gw


def _logs(gw: LocalGateway, method: str, params: list[tuple[str, str]]) -> Any:
    return management(gw, method, "gateways/default/logs", params=params)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model", [{"a": 1}]),
        ("model", [["nested"]]),
        ("model", {"a": 1}),
        ("cost", ["cheap"]),
        ("tokens_in", [True]),
        ("success", [3]),
        ("success", ["maybe"]),
        ("metadata.value", [{"deep": []}]),
        ("created_at", [1.5e400]),
    ],
)
def test_a_filter_value_of_the_wrong_type_is_a_400_naming_the_filter(
    gateway: LocalGateway, method: str, key: str, value: Any
) -> None:
    raw = json.dumps([{"key": key, "operator": "eq", "value": value}])
    answer = _logs(gateway, method, [("filters", raw)])
    assert api_error(answer) == (400, 7001), answer.text
    assert repr(key) in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(("key", "value"), [("cost", "cheap"), ("success", "maybe")])
def test_a_dotted_filter_value_of_the_wrong_type_is_a_400(
    gateway: LocalGateway, method: str, key: str, value: str
) -> None:
    params = [("filters.key", key), ("filters.operator", "eq"), ("filters.value", value)]
    answer = _logs(gateway, method, params)
    assert api_error(answer) == (400, 7001), answer.text
    assert repr(key) in answer.json()["errors"][0]["message"]


def test_filter_values_of_the_right_type_still_select(gateway: LocalGateway) -> None:
    for key, value in [
        ("model", ["gpt-4o-mini"]),
        ("success", [True]),
        ("success", ["true"]),
        ("cost", [0]),
        ("tokens_in", [1.5]),
        ("event_id", [None]),
        ("metadata.value", [3]),
    ]:
        raw = json.dumps([{"key": key, "operator": "neq", "value": value}])
        answer = _logs(gateway, "GET", [("filters", raw)])
        assert answer.status_code == 200, (key, value, answer.text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(LogsApi.FILTER_KEYS),
    operator=st.sampled_from(LogsApi.FILTER_OPERATORS),
    value=JSON,
    method=st.sampled_from(["GET", "DELETE"]),
    dotted=st.booleans(),
)
def test_no_filter_value_makes_the_logs_routes_answer_5xx(
    gateway: LocalGateway, key: str, operator: str, value: Any, method: str, dotted: bool
) -> None:
    if dotted:
        text = value if isinstance(value, str) else json.dumps(value)
        params = [("filters.key", key), ("filters.operator", operator), ("filters.value", text)]
    else:
        params = [("filters", json.dumps([{"key": key, "operator": operator, "value": value}]))]
    answer = _logs(gateway, method, params)
    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert api_error(answer)[0] == 400


def test_a_log_write_during_a_store_outage_is_a_503_in_the_envelope(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    with LocalGateway(log_path=str(path), log_commit_timeout=5) as gw:
        answer = compat(gw, chat_body())
        ident = log_id(answer)
        with database_locked(path):
            patched = management(
                gw, "PATCH", f"gateways/default/logs/{ident}", json={"feedback": 1}
            )
            assert api_error(patched) == (503, 2503), patched.text
            deleted = management(gw, "DELETE", f"gateways/default/logs/{ident}")
            assert api_error(deleted) == (503, 2503), deleted.text
            bulk = management(gw, "DELETE", "gateways/default/logs", params={"limit": "1"})
            assert api_error(bulk) == (503, 2503), bulk.text
        assert management(gw, "GET", f"gateways/default/logs/{ident}").status_code == 200
