"""The one private touch of LiteLLM (`_compat`): fails loudly when LiteLLM changes.

If a test here fails after a LiteLLM upgrade, `_compat.SUPPORTED` and the attributes it
writes (`_hidden_params`, `_base_hidden_params`, `_response_headers` of
`CustomStreamWrapper`) must be checked against the new version before widening the range.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import httpx
import pytest
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

from langchain_cf_gateway.litellm_provider import _compat, gateway_info

from .conftest import CALL, HELLO, MODEL, MockGateway, delta, sse


class _Logging:
    """The least of LiteLLM's logging object a stream wrapper reads when built."""

    model_call_details: dict[str, Any] = {"litellm_params": {}}
    stream_options = None
    messages = None


def test_the_installed_litellm_is_one_the_private_touch_was_checked_with() -> None:
    version = _compat.litellm_version()
    assert version is not None
    assert _compat.supported(version), (
        f"LiteLLM {version} is outside _compat.SUPPORTED {_compat.SUPPORTED}: check "
        "CustomStreamWrapper's hidden params, then widen the range"
    )
    assert not _compat.supported((1, 106, 1)) and not _compat.supported(_compat.SUPPORTED[1])


def test_the_wrapper_still_has_what_the_touch_writes() -> None:
    parameters = inspect.signature(CustomStreamWrapper.__init__).parameters
    assert {"completion_stream", "model", "logging_obj", "_response_headers"} <= set(parameters)
    wrapper = CustomStreamWrapper(completion_stream=iter(()), model="m", logging_obj=_Logging())
    assert isinstance(wrapper._hidden_params, dict)
    assert isinstance(wrapper._base_hidden_params, dict)
    assert isinstance(wrapper._hidden_params.get("additional_headers"), dict)
    assert hasattr(wrapper, "_response_headers")
    assert wrapper.hidden_params is wrapper._hidden_params


def test_a_wrapper_built_around_our_stream_shares_its_metadata_filled_later() -> None:
    assert _compat.share_stream_metadata()

    class Stream:
        litellm_metadata = _compat.StreamMetadata()

    stream = Stream()
    wrapper = CustomStreamWrapper(completion_stream=stream, model="m", logging_obj=_Logging())
    assert gateway_info(wrapper) is None  # nothing known before the response begins
    stream.litellm_metadata.fill({"log_id": "01W"}, httpx.Headers({"cf-aig-log-id": "01W"}))
    assert gateway_info(wrapper) == {"log_id": "01W"}
    assert wrapper._hidden_params["additional_headers"]["llm_provider-cf-aig-log-id"] == "01W"
    assert wrapper._base_hidden_params["gateway"] == {"log_id": "01W"}
    assert wrapper._response_headers == {"cf-aig-log-id": "01W"}
    other = CustomStreamWrapper(completion_stream=iter(()), model="m", logging_obj=_Logging())
    assert "gateway" not in other._hidden_params  # other streams are left alone


def test_a_litellm_stream_carries_the_gateway_dict_on_its_wrapper(litellm_mod: Any) -> None:
    body = sse(delta("Hi", "stop"), "data: [DONE]")
    gateway = MockGateway(
        lambda request: httpx.Response(200, content=body, headers={"cf-aig-log-id": "01STR"})
    )
    stream = litellm_mod.completion(
        model=MODEL, messages=HELLO, stream=True, client=gateway.sync_client, **CALL
    )
    chunks = list(stream)
    assert gateway_info(chunks[0])["log_id"] == "01STR"  # type: ignore[index]
    assert gateway_info(stream) == gateway_info(chunks[0])
    assert stream._hidden_params["additional_headers"]["llm_provider-cf-aig-log-id"] == "01STR"


@pytest.mark.parametrize("name", ["_getframe", "f_locals", "f_back", "currentframe"])
def test_no_module_of_the_provider_reads_a_caller_frame(name: str) -> None:
    import langchain_cf_gateway.litellm_provider as package

    for path in Path(package.__file__).parent.glob("*.py"):
        assert name not in path.read_text(), path.name
