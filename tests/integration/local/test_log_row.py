"""The log row is defined once (`logstore.row.LogRow`): the rows the gateway writes match it."""

from __future__ import annotations

from typing import get_type_hints

from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.logstore import LogRow
from langchain_cf_gateway.local.logstore.row import COLUMNS
from tests.support.local_calls import compat

LOCAL_FIELDS = {"request_body_complete", "response_body_complete"}
"""The store's own fields that every row carries (the other local ones only when set)."""


def test_a_stored_row_has_exactly_the_fields_of_the_row_type(gateway: LocalGateway) -> None:
    compat(gateway)
    [row] = gateway.logs()
    assert set(row) == LogRow.__required_keys__ | LOCAL_FIELDS


def test_a_refused_request_writes_the_same_fields(gateway: LocalGateway) -> None:
    compat(gateway, body={"model": "no-such-provider/x", "messages": []})
    [row] = gateway.logs()
    assert row["success"] is False
    assert set(row) == LogRow.__required_keys__ | LOCAL_FIELDS


def test_every_column_is_a_field_of_the_row_type() -> None:
    fields = get_type_hints(LogRow)
    assert set(COLUMNS) <= set(fields)
    assert set(LogRow.__optional_keys__) >= LOCAL_FIELDS
