"""Gateway options from a LangChain run's config, so they reach the model inside any chain.

A chain's keyword arguments stop at its first step, but its run config reaches every
runnable it calls: the steps of a `prompt | model` sequence, the model bound inside
`with_structured_output(...)`, and a model called in a node of an agent loop, which
inherits its node's config. So per-call options also ride in the config:

```python
chain.invoke(inputs, config={"configurable": {"gateway_options": {"skip_cache": True}}})
```

`RunConfigOptions` reads them where LangChain hands a chat model its config (`invoke`,
`ainvoke`, `stream`, `astream`; `batch`, `abatch` and chains go through these), with
LangChain's `ensure_config`, which also reads the config of the runnable the model is
called from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableConfig, ensure_config
from typing_extensions import override

from .core import coerce_options

CONFIGURABLE_KEY: Final = "gateway_options"
"""The key of the options in the run config's `configurable`."""


def with_run_options(config: RunnableConfig | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A call's keyword arguments, its `gateway_options` merged over the run config's.

    The model's own options go under both when the request is built, so the order is:
    the model's < the run config's < the call's (`invoke`, `bind`, `bind_tools`,
    `with_structured_output`), metadata key by key.

    Args:
        config: The config passed to the call, or None (the calling runnable's, if any).
        kwargs: The call's keyword arguments.

    Returns:
        `kwargs` as they are without options in the config; else a copy whose
        `gateway_options` is the merged, validated options, as a dict of the fields set.

    Raises:
        InvalidOptionError: The config's options (or the call's) are not a dict or a
            `GatewayOptions`, or a field is out of bounds; raised before anything is sent,
            the error names the field.
    """
    configurable = ensure_config(config).get("configurable") or {}
    configured = coerce_options(configurable.get(CONFIGURABLE_KEY))
    if configured is None:
        return dict(kwargs)
    merged = configured.merge(kwargs.get("gateway_options"))
    # A dict, as a caller's own would be: it shows as such in the run's invocation params.
    return {**kwargs, "gateway_options": merged.model_dump(exclude_unset=True)}


class RunConfigOptions(BaseChatModel):
    """A chat model that takes `gateway_options` from the run config's `configurable`."""

    @override
    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        return super().invoke(input, config, stop=stop, **with_run_options(config, kwargs))

    @override
    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        options = with_run_options(config, kwargs)
        return await super().ainvoke(input, config, stop=stop, **options)

    @override
    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        options = with_run_options(config, kwargs)  # raises on the first `next`
        yield from super().stream(input, config, stop=stop, **options)

    @override
    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        options = with_run_options(config, kwargs)
        async for chunk in super().astream(input, config, stop=stop, **options):
            yield chunk
