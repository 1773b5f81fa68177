"""The lazy `langchain_cf_gateway.local` (PEP 562): every exported name resolves."""

from __future__ import annotations

import pytest

import langchain_cf_gateway.local as local

EXPORTED = [
    "EMBEDDING_DIMENSIONS",
    "Clock",
    "Fault",
    "GatewayRecord",
    "LocalGateway",
    "PassThrough",
    "ReceivedRequest",
    "Script",
    "count_tokens",
    "embedding_vector",
]


def test_all_is_pinned() -> None:
    assert sorted(local.__all__) == sorted(EXPORTED)


@pytest.mark.parametrize("name", EXPORTED)
def test_every_exported_name_resolves(name: str) -> None:
    value = getattr(local, name)
    assert value is not None
    exec(f"from langchain_cf_gateway.local import {name}", {})


def test_dir_lists_the_exports() -> None:
    assert set(EXPORTED) <= set(dir(local))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        local.no_such_name  # noqa: B018


def test_the_management_api_settings_name_is_not_a_local_name() -> None:
    # `GatewaySettings` is the management API's (langchain_cf_gateway.management); the
    # local gateway's record of a gateway is `GatewayRecord`: one name, one meaning.
    with pytest.raises(AttributeError, match="GatewaySettings"):
        local.GatewaySettings  # noqa: B018


def test_submodules_stay_importable_from_the_package() -> None:
    from langchain_cf_gateway.local import logstore

    assert logstore.LogStore.__name__ == "LogStore"
