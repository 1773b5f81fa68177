"""Everything the provider takes from LiteLLM beyond its documented `CustomLLM` interface.

Three small uses of LiteLLM helpers, as LiteLLM's own providers make them:

- `provider_headers`: LiteLLM's naming of a provider's response headers
  (`llm_provider-<name>`) for `_hidden_params["additional_headers"]`, which the LiteLLM
  proxy returns as HTTP response headers;
- `set_response_headers`: a response's raw headers (`ModelResponse._response_headers`);
- `make_provider_known`: LiteLLM's set-up of `custom_provider_map`, which it runs on
  every call, run once at `register()`.

And one private touch, the stream wrapper's hidden params. LiteLLM wraps what a custom
handler's `streaming`/`astreaming` returns in its own `CustomStreamWrapper` and gives a
handler no way to hand that wrapper the response headers
(https://github.com/BerriAI/litellm/issues/18631), so for custom providers
`stream._hidden_params["additional_headers"]` stays empty. The documented contract is the
first chunk (`chunk.gateway`, set through `provider_specific_fields`). On top of it, on
the LiteLLM versions in `SUPPORTED`, `share_stream_metadata` wraps
`CustomStreamWrapper.__init__` once per process. A wrapper built around one of our
streams (one whose `litellm_metadata` is a `StreamMetadata`) gets, when it is built:

- `_hidden_params["gateway"]` and `_base_hidden_params["gateway"]` (which LiteLLM copies
  onto every chunk): the stream's gateway dict, one object filled in place when the
  response begins, so copies of the hidden params (the Router's own stream wrapper) see
  it too;
- `_response_headers`: the stream's dict of response headers, filled likewise;
- `_hidden_params["additional_headers"]`: updated in place with the
  `llm_provider-cf-aig-*` headers when the response begins (at once for a sync stream,
  whose request is sent before LiteLLM builds the wrapper).

A wrapper around anything else is left as it is, and no caller frame is looked at. On a
LiteLLM version outside `SUPPORTED` nothing is patched (a warning says so) and only the
first chunk carries the gateway dict. `tests/unit/litellm/test_compat.py` fails on such a
version, and when a `CustomStreamWrapper` no longer has the attributes written here.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Final

import httpx
import litellm
from litellm.litellm_core_utils.core_helpers import process_response_headers
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

from .stream_parser import GATEWAY_KEY


def provider_headers(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    """A provider's response headers as LiteLLM names them (`llm_provider-<name>`).

    Args:
        headers: The response headers.

    Returns:
        The dict for `_hidden_params["additional_headers"]`.
    """
    processed: dict[str, str] = process_response_headers(
        headers if isinstance(headers, httpx.Headers) else dict(headers)
    )
    return processed


def set_response_headers(result: Any, headers: dict[str, str]) -> None:
    """Keep a response's raw headers where LiteLLM's own providers keep them.

    Args:
        result: A `ModelResponse` or `EmbeddingResponse`.
        headers: The raw response headers (lowercase names).
    """
    result._response_headers = headers


def make_provider_known() -> None:
    """Have LiteLLM read `litellm.custom_provider_map` now rather than at the next call."""
    litellm.utils.custom_llm_setup()  # type: ignore[no-untyped-call]


SUPPORTED: Final = ((1, 106, 2), (2, 0, 0))
"""LiteLLM versions the private touch is applied to: from the first, below the second
(LiteLLM 1.x from the oldest version this package supports)."""

_MARK: Final = "_cf_gateway_shares_stream_metadata"
_lock = threading.Lock()
_log = logging.getLogger(__name__)


def litellm_version() -> tuple[int, ...] | None:
    """The installed LiteLLM version as numbers (`(1, 106, 2)`), or None if unknown.

    Returns:
        The leading numeric parts of the version.
    """
    try:
        text = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return None
    parts = re.findall(r"\d+", text.split("+")[0])[:3]
    return tuple(int(p) for p in parts) if parts else None


def supported(version: tuple[int, ...] | None = None) -> bool:
    """Whether `version` (the installed LiteLLM by default) is in `SUPPORTED`.

    Args:
        version: A version as numbers; the installed one when None.

    Returns:
        True inside the range.
    """
    found = litellm_version() if version is None else version
    return found is not None and SUPPORTED[0] <= found < SUPPORTED[1]


class StreamMetadata:
    """The dicts a stream shares with LiteLLM's wrappers: filled once its response begins."""

    __slots__ = ("_wrappers", "gateway", "response_headers")

    def __init__(self) -> None:
        """Start empty: nothing is known before the response begins."""
        self.gateway: dict[str, Any] = {}
        """The gateway dict (`GATEWAY_INFO_KEYS`), one object shared by every holder."""
        self.response_headers: dict[str, str] = {}
        """The raw response headers (lowercase names)."""
        self._wrappers: list[weakref.ReferenceType[Any]] = []

    def fill(self, info: Mapping[str, Any], headers: httpx.Headers) -> None:
        """Fill the shared dicts in place, and the headers of every wrapper built so far.

        Args:
            info: The gateway dict of the response.
            headers: The response headers.
        """
        self.gateway.update(info)
        self.response_headers.update(headers.items())
        for ref in self._wrappers:
            wrapper = ref()
            if wrapper is not None:
                self._give_headers(wrapper)

    def share_with(self, wrapper: Any) -> None:
        """Give `wrapper` (a `CustomStreamWrapper`) these dicts as its hidden params.

        Args:
            wrapper: The wrapper LiteLLM just built around the stream.
        """
        hidden = getattr(wrapper, "_hidden_params", None)
        if not isinstance(hidden, dict):
            return
        hidden[GATEWAY_KEY] = self.gateway
        base = getattr(wrapper, "_base_hidden_params", None)
        if isinstance(base, dict):  # the hidden params LiteLLM copies onto every chunk
            base[GATEWAY_KEY] = self.gateway
        wrapper._response_headers = self.response_headers
        self._wrappers.append(weakref.ref(wrapper))
        if self.gateway:  # the response began before LiteLLM built the wrapper (sync)
            self._give_headers(wrapper)

    def _give_headers(self, wrapper: Any) -> None:
        hidden = getattr(wrapper, "_hidden_params", None)
        if not isinstance(hidden, dict):
            return
        processed = provider_headers(self.response_headers)
        additional = hidden.get("additional_headers")
        if isinstance(additional, dict):
            # In place: copies of the wrapper's hidden params (the Router's own stream
            # wrapper, the per-chunk base params) share this very dict.
            additional.update(processed)
        else:
            hidden["additional_headers"] = processed
        hidden[GATEWAY_KEY] = self.gateway


def _shared_init(init: Any) -> Any:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        metadata = getattr(getattr(self, "completion_stream", None), "litellm_metadata", None)
        if isinstance(metadata, StreamMetadata):
            metadata.share_with(self)

    setattr(__init__, _MARK, True)
    return __init__


def share_stream_metadata() -> bool:
    """Have LiteLLM's stream wrappers take our streams' metadata (once per process).

    Returns:
        True if wrappers share it (now or since an earlier call); False on a LiteLLM
        version outside `SUPPORTED`, where only the first chunk carries the gateway dict.
    """
    with _lock:
        if getattr(CustomStreamWrapper.__init__, _MARK, False):
            return True
        if not supported():
            _log.warning(
                "LiteLLM %s is not a version langchain-cf-gateway was tested with (%s to %s): "
                "stream wrappers will not carry the gateway dict and headers; the first "
                "chunk still does (gateway_info(chunk))",
                ".".join(map(str, litellm_version() or ("unknown",))),
                ".".join(map(str, SUPPORTED[0])),
                ".".join(map(str, SUPPORTED[1])),
            )
            return False
        CustomStreamWrapper.__init__ = _shared_init(CustomStreamWrapper.__init__)  # type: ignore[method-assign]
        return True
