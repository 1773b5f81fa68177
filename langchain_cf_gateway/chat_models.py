"""Cloudflare AI Gateway chat models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Annotated, Any, Final

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.utils import secret_from_env
from langchain_openai.chat_models.base import BaseChatOpenAI
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, model_validator
from typing_extensions import Self

from ._arguments import constructor_keywords
from ._chat_request import (
    CallHeaders,
    ChatTarget,
    auntil_finished,
    capped_timeout,
    check_chat_completion,
    unfinished_stream,
    until_finished,
)
from ._errors import ErrorInResponse, map_sdk_errors
from ._openai_sdk import (
    CURRENT_CAPTURE,
    PROVIDER_KEY_ENV,
    ResponseCapture,
    client_headers,
    http_clients,
    sdk_clients,
    sending,
)
from ._run_config import RunConfigOptions
from ._tokens import TokenCounting
from .core import GatewayConfig, GatewayOptions, coerce_options
from .core.body_limit import MAX_RESPONSE_BYTES
from .core.codec import is_error_body
from .core.config import ENV_TOKEN
from .core.errors import wrapped_input_error
from .core.options import choice_of
from .core.redaction import credentials_of
from .core.routing import ENDPOINTS, Endpoint

GATEWAY_METADATA_KEY: Final = "gateway"
"""Key of the parsed gateway block in `response_metadata`."""

PROVIDER_KEY_SECRET_ID: Final = PROVIDER_KEY_ENV
"""Secret id of `provider_api_key` in serialized models, and the variable it is read from."""

_RUN_METADATA: Final = "_cf_aig_run_metadata"
"""Private kwarg carrying the run's metadata from `_generate`/`_stream` to the payload."""


class ChatCloudflareGateway(RunConfigOptions, TokenCounting, BaseChatOpenAI):
    """Chat models behind Cloudflare AI Gateway: any provider, with the gateway's controls.

    Requests go to the gateway's OpenAI-compatible endpoint (or a provider's own
    OpenAI-style path, or the REST API); per-call cache, log and retry controls become
    `cf-aig-*` headers, and what the gateway did comes back, parsed, in
    `response_metadata["gateway"]` on every call path.

    Setup:
        Install `langchain-cf-gateway` and point it at your gateway.

        ```bash
        pip install -U langchain-cf-gateway
        export CLOUDFLARE_ACCOUNT_ID="your-account-id"
        export CLOUDFLARE_AI_GATEWAY_TOKEN="token-with-AI-Gateway-Run"  # authenticated gateways
        ```

        Without a provider key (`api_key=` or `CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY`) no
        `Authorization` header is sent at all, so the gateway uses the provider key stored
        in it (BYOK) or Unified Billing. `OPENAI_API_KEY` is never read.

    Key init args — completion params:
        model: str
            `{provider}/{model}` (`openai/gpt-4o-mini`), `workers-ai/@cf/...`,
            `dynamic/{route}` or `custom-{slug}/{model}`.
        temperature: float | None
            Sampling temperature.
        max_tokens: int | None
            Max number of tokens to generate.

    Key init args — gateway params:
        account_id, gateway_id, gateway_token, base_url:
            Where the gateway is; arguments > environment > `~/.config/cf-aig/config.json`.
        provider_api_key (alias `api_key`): str | None
            The provider's key, sent as `Authorization`; else
            `CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY`. Leave both unset for BYOK or Unified
            Billing.
        endpoint: "compat" | "native" | "rest"
            The gateway's OpenAI-compatible endpoint (default: the only one that takes
            a per-request provider key, though Cloudflare now calls it deprecated for
            single-model calls), the provider's own path, or Cloudflare's REST API (a
            Cloudflare token; the stored `default` BYOK key or Unified Billing only).
        gateway_options: GatewayOptions | dict | None
            Cache, log, metadata and retry controls for every call.
        fallbacks: list[str | dict] | None
            More models to try in order, through the universal endpoint.
        forward_run_metadata: bool | list[str]
            Copy scalar values of the LangChain run's metadata into `cf-aig-metadata`.

    Instantiate:
        ```python
        from langchain_cf_gateway import ChatCloudflareGateway

        model = ChatCloudflareGateway(
            model="openai/gpt-4o-mini",
            temperature=0,
            gateway_options={"cache_ttl": 3600},
            # account_id="...", gateway_id="my-gateway", gateway_token="...",
            # api_key="sk-...",  # only without BYOK / Unified Billing
        )
        ```

    Invoke:
        ```python
        messages = [
            ("system", "You are a helpful translator. Translate the user sentence to French."),
            ("human", "I love programming."),
        ]
        model.invoke(messages)

        # per call: skip the cache, tag the log row
        model.invoke(
            messages,
            gateway_options={"skip_cache": True, "metadata": {"user": "u-42"}},
        )
        # per call inside a chain, an agent or with_structured_output: the run config
        chain.invoke(inputs, config={"configurable": {"gateway_options": {"skip_cache": True}}})
        ```

    Stream:
        ```python
        for chunk in model.stream(messages):
            print(chunk.text, end="")
        ```
        ```python
        stream = model.stream(messages)
        full = next(stream)
        for chunk in stream:
            full += chunk
        full.response_metadata["gateway"]  # present once, on the merged message
        ```

    Async:
        ```python
        await model.ainvoke(messages)

        # stream:
        # async for chunk in model.astream(messages)

        # batch:
        # await model.abatch([messages])
        ```

    Tool calling:
        ```python
        from pydantic import BaseModel, Field


        class GetWeather(BaseModel):
            '''Get the current weather in a given location'''

            location: str = Field(..., description="The city and state, e.g. San Francisco, CA")


        model_with_tools = model.bind_tools([GetWeather], gateway_options={"skip_cache": True})
        ai_msg = model_with_tools.invoke("What is the weather in Paris?")
        ai_msg.tool_calls
        ```

    Structured output:
        ```python
        from pydantic import BaseModel, Field


        class Joke(BaseModel):
            '''Joke to tell user.'''

            setup: str = Field(description="The setup of the joke")
            punchline: str = Field(description="The punchline to the joke")


        structured_model = model.with_structured_output(Joke, include_raw=True)
        out = structured_model.invoke("Tell me a joke about cats")
        out["parsed"], out["raw"].response_metadata["gateway"]
        ```

    Token usage:
        ```python
        ai_msg = model.invoke(messages)
        ai_msg.usage_metadata
        ```
        ```python
        {"input_tokens": 28, "output_tokens": 5, "total_tokens": 33}
        ```

        Streams carry usage too (`stream_usage` defaults to True here).

    Response metadata:
        ```python
        ai_msg = model.invoke(messages)
        ai_msg.response_metadata["gateway"]
        ```
        ```python
        {
            "cache_status": "MISS",
            "log_id": "01J...",
            "request_id": "01J...",
            "event_id": "01J...",
            "step": None,
            "model": "gpt-4o-mini",
            "provider": "openai",
        }
        ```

        With `fallbacks`, `step`, `model` and `provider` name the step that served the
        response.

    Errors:
        Gateway errors raise the core's typed exceptions (`GatewayRateLimitError`,
        `GatewayAuthenticationError`, `ProviderError`...) carrying `log_id`. Each is
        *also* an instance of the exception the OpenAI SDK raises for the same HTTP status
        (`openai.RateLimitError`, `openai.BadRequestError`..., and LangChain's
        `ModelRateLimitError` family), so existing `except` clauses keep working.
        The same on every call path: a timeout, before the response or in the middle of
        a stream, is `GatewayTimeoutError` (also `openai.APITimeoutError`); a response
        cut off or not JSON is `InvalidResponseError` (also `openai.APIError`).
        Where both define an attribute, the gateway's meaning wins: `code` is the
        gateway's internal code and `body` the whole parsed error body.

        Error bodies that echo a credential (`Incorrect API key provided: sk-...`) have
        it masked as `[redacted]`: the keys this model sends and anything shaped like
        a key, in the message, `body`, `response` and `request`.

    Bounds:
        A response's body is read up to `max_response_bytes` (32 MiB by default,
        counted after decompression), else `ResponseTooLargeError`. `timeout` is the
        OpenAI SDK's (per connect, read and write); `stream_timeout` is a deadline for
        a whole stream, else `GatewayTimeoutError` (also `openai.APITimeoutError`).

        ```python
        model = ChatCloudflareGateway(model="openai/gpt-4o-mini", stream_timeout=120)
        ```

    Your own HTTP client:
        `http_client=` / `http_async_client=` (httpx) are used as they are, never changed:
        the model sends through a client of its own whose transport hands each request to
        yours, so your transport, proxies, auth and hooks apply. Not with `fallbacks`.
    """

    model_name: str = Field(alias="model")
    """Model id: `{provider}/{model}`, `workers-ai/@cf/...`, `dynamic/{route}`..."""
    account_id: str | None = None
    """Cloudflare account id; else `CLOUDFLARE_ACCOUNT_ID`, else the config file."""
    gateway_id: str | None = None
    """Gateway id; else `CLOUDFLARE_GATEWAY_ID`, else the config file, else `default`."""
    gateway_token: SecretStr | None = Field(
        default_factory=secret_from_env(list(ENV_TOKEN), default=None)
    )
    """Cloudflare API token (AI Gateway Run), sent as `cf-aig-authorization`.

    From `CLOUDFLARE_AI_GATEWAY_TOKEN` or `CF_AIG_TOKEN`, else the config file. With
    `endpoint="rest"` it is the `Authorization` header.
    """
    provider_api_key: SecretStr | None = Field(
        alias="api_key", default_factory=secret_from_env(PROVIDER_KEY_ENV, default=None)
    )
    """The provider's key, sent as `Authorization`; else `CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY`.

    Leave both unset to use the key stored in the gateway (BYOK) or Unified Billing: then
    no `Authorization` header is sent at all. `OPENAI_API_KEY` is never read. Earlier
    versions named this field `openai_api_key`; that name is still accepted.
    """
    openai_api_key: SecretStr | None = None
    """Unused: langchain-openai's field, not an OpenAI key here (see `provider_api_key`)."""
    openai_api_base: str | None = Field(default=None, alias="base_url")
    """Another gateway host (the local gateway, `http://127.0.0.1:8787`), not an SDK path.

    Else `CLOUDFLARE_AI_GATEWAY_BASE_URL`, else the config file, else Cloudflare's.
    The model builds the path (`/v1/{account}/{gateway}/compat`...) itself.
    """
    endpoint: Annotated[Endpoint, choice_of("endpoint", ENDPOINTS)] = "compat"
    """`compat` (the OpenAI-compatible endpoint), `native` (the provider's own path)
    or `rest` (Cloudflare's REST API, `Authorization: Bearer <gateway token>`); another
    value raises `InvalidOptionError` naming the closest one."""
    gateway_options: GatewayOptions | None = None
    """Gateway controls of every call (a `GatewayOptions` or a dict of its fields).

    Per call, the run config's (`config={"configurable": {"gateway_options": ...}}`, in
    any chain), then `gateway_options=` (on `invoke`, `bind`, `bind_tools` or
    `with_structured_output`) are merged over these, metadata key by key.
    """
    fallbacks: list[str | dict[str, Any]] | None = None
    """More models to try, in order, when the one before fails (universal endpoint).

    Each is a model id or `{"model": ..., "gateway_options": {...}, "endpoint": ...}`;
    a step's own `request_timeout_ms`/`max_attempts`/`retry_delay_ms`/`backoff`
    go to its `config`. `api_key`, if set, is sent to every step.
    """
    forward_run_metadata: bool | list[str] = False
    """Copy the LangChain run's metadata into `cf-aig-metadata`.

    `True` copies every string, number or boolean value except LangChain's and
    LangGraph's own keys (`ls_*`, `langgraph_*`, `checkpoint_*`); a list copies
    those keys. At most 5 entries are sent: explicit `metadata` options come first and
    win on equal keys, then run metadata in order until the budget is used.
    """
    stream_usage: bool | None = True
    """Include token usage in streams (the gateway passes `stream_options` on)."""
    stream_timeout: float | None = Field(default=None, gt=0)
    """Seconds a whole streamed response may take, from sending the request to its last chunk.

    Past it the stream raises `GatewayTimeoutError` (also `openai.APITimeoutError`)
    and the connection is closed. `timeout` bounds each read,
    not the stream: a server that sends a byte now and then never trips it. Async
    streams end at the deadline itself; sync streams when the next piece arrives, or at
    the read timeout, which `stream_timeout` caps. None (default): no overall deadline.
    """
    max_response_bytes: int | None = Field(default=None, ge=1)
    """Largest response body read, in bytes after decompression; None: 32 MiB.

    A larger one (a small gzip body that inflates to gigabytes, say) raises
    `ResponseTooLargeError` once the cap is passed, on every call path.
    """
    use_responses_api: bool | None = False
    """The compat endpoint has no Responses API, so chat completions it is."""

    _target: ChatTarget = PrivateAttr()
    _headers: CallHeaders = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:
            # A bad model id, option or config raises the core's own ValueError subclass,
            # which names the fix, rather than pydantic's wrapper around it.
            original = wrapped_input_error(exc)
            if original is not None:
                raise original from None
            raise

    # ------------------------------------------------------------------ LangChain conventions

    @property
    def _llm_type(self) -> str:
        return "cloudflare-ai-gateway-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Secret fields and the ids they are serialized under (and read from)."""
        return {
            "gateway_token": ENV_TOKEN[0],
            "provider_api_key": PROVIDER_KEY_SECRET_ID,
        }

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """Fields serialized in a form of their own: `gateway_options` as a dict."""
        # GatewayOptions is not a LangChain Serializable: serialize the fields that were set.
        if self.gateway_options is None:
            return {}
        return {"gateway_options": self.gateway_options.model_dump(exclude_unset=True)}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """True: `dumpd`/`load` round-trip the model, secrets by id only."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """`["langchain_cf_gateway", "chat_models"]`."""
        return ["langchain_cf_gateway", "chat_models"]

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        ls_params = super()._get_ls_params(stop=stop, **kwargs)
        ls_params["ls_provider"] = "cloudflare-ai-gateway"
        return ls_params

    # ------------------------------------------------------------------ construction

    @model_validator(mode="before")
    @classmethod
    def _coerce_gateway_options(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        # `openai_api_key`: the key's name in earlier versions (serialized models)
        values = constructor_keywords(cls, values, {"openai_api_key": "provider_api_key"})
        if isinstance(values.get("gateway_options"), Mapping):
            values = {**values, "gateway_options": coerce_options(values["gateway_options"])}
        return values

    @model_validator(mode="after")
    def validate_environment(self) -> Self:
        """Resolve the gateway, build the route and the SDK clients, once per instance.

        Returns:
            The model.

        Raises:
            ValueError: `n` below 1, or above 1 with `streaming`.
        """
        if self.n is not None and self.n < 1:
            raise ValueError("n must be at least 1.")
        if self.n is not None and self.n > 1 and self.streaming:
            raise ValueError("n must be 1 when streaming.")
        config = GatewayConfig.resolve(
            self.account_id, self.gateway_id, self.gateway_token, self.openai_api_base
        )
        self.account_id, self.gateway_id = config.account_id, config.gateway_id
        self.gateway_token, self.openai_api_base = config.token, config.base_url
        key = self.provider_api_key
        provider_key = key.get_secret_value() if key is not None else None
        if provider_key is not None and not provider_key.strip():
            provider_key = None

        target = ChatTarget.resolve(
            config, self.model_name, self.endpoint, self.fallbacks, provider_key
        )
        self._target = target
        options = coerce_options(self.gateway_options) or GatewayOptions()
        self._headers = CallHeaders(options, omit_authorization=target.omit_authorization)

        if not (self.client and self.async_client):
            sync_http, async_http = http_clients(
                universal=target.universal,
                proxy=self.openai_proxy,
                sync_client=self.http_client,
                async_client=self.http_async_client,
            )
            root, root_async = sdk_clients(
                base_url=target.sdk_base_url,
                api_key=provider_key,
                headers=client_headers(
                    target.headers,
                    omit_authorization=target.omit_authorization,
                    organization=self.openai_organization,
                    user_headers=self.default_headers,
                ),
                http_client=sync_http,
                http_async_client=async_http,
                timeout=self.request_timeout,
                max_retries=self.max_retries,
                organization=self.openai_organization,
                default_query=self.default_query,
            )
            self.root_client, self.root_async_client = root, root_async
            self.client = root.chat.completions
            self.async_client = root_async.chat.completions
        return self

    # ------------------------------------------------------------------ requests

    def _get_request_payload(
        self,
        input_: LanguageModelInput,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[Any, Any]:
        options = kwargs.pop("gateway_options", None)
        run_metadata = kwargs.pop(_RUN_METADATA, None)
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        payload["model"] = self._body_model(payload.get("model"))
        if payload.get("stream") and self.stream_timeout is not None:
            # A sync read cannot be cut at the deadline: no single wait may outlast it.
            payload["timeout"] = capped_timeout(self.request_timeout, self.stream_timeout)
        headers = self._headers.of_call(options, run_metadata, self.forward_run_metadata)
        user_headers = payload.get("extra_headers")
        payload["extra_headers"] = {**headers, **user_headers} if user_headers else headers
        return payload

    def _body_model(self, model: Any) -> str:
        body_model, override = self._target.body_model(model, self.model_name)
        capture = CURRENT_CAPTURE.get()
        if capture is not None and override is not None:
            capture.ref = override
        return body_model

    def _begin(
        self, run_manager: Any, kwargs: dict[str, Any], *, stream: bool = False
    ) -> ResponseCapture:
        if self.forward_run_metadata and run_manager is not None and run_manager.metadata:
            kwargs[_RUN_METADATA] = run_manager.metadata
        return ResponseCapture(
            max_bytes=self.max_response_bytes or MAX_RESPONSE_BYTES,
            stream_timeout=self.stream_timeout if stream else None,
        )

    def _credentials(self) -> tuple[str, ...]:
        """What this model sends as credentials, masked in every error it raises."""
        keys = [
            secret.get_secret_value() if secret is not None else None
            for secret in (self.provider_api_key, self.gateway_token)
        ]
        return credentials_of(self.default_headers, None, *keys)

    def _create_chat_result(
        self, response: Any, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        check_chat_completion(response)
        return super()._create_chat_result(response, generation_info)

    def _convert_chunk_to_generation_chunk(
        self,
        chunk: dict[str, Any],
        default_chunk_class: type,
        base_generation_info: dict[str, Any] | None,
    ) -> ChatGenerationChunk | None:
        if is_error_body(chunk):  # an event the SDK does not raise for (the v4 envelope)
            raise ErrorInResponse(chunk)
        return super()._convert_chunk_to_generation_chunk(
            chunk, default_chunk_class, base_generation_info
        )

    def _add_gateway_info(self, result: ChatResult, capture: ResponseCapture) -> ChatResult:
        info = self._target.info(capture.headers, capture.ref)
        for generation in result.generations:
            generation.message.response_metadata[GATEWAY_METADATA_KEY] = dict(info)
        return result

    def _tagged(self, first: ChatGenerationChunk, capture: ResponseCapture) -> ChatGenerationChunk:
        # One chunk only: merging two would concatenate "MISS" into "MISSMISS".
        info = self._target.info(capture.headers, capture.ref)
        first.message.response_metadata[GATEWAY_METADATA_KEY] = info
        return first

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        capture = self._begin(run_manager, kwargs)
        with map_sdk_errors(capture, self._credentials), sending(capture):
            result = super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        return self._add_gateway_info(result, capture)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        capture = self._begin(run_manager, kwargs)
        with map_sdk_errors(capture, self._credentials), sending(capture):
            result = await super()._agenerate(
                messages, stop=stop, run_manager=run_manager, **kwargs
            )
        return self._add_gateway_info(result, capture)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        capture = self._begin(run_manager, kwargs, stream=True)
        stream = super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
        with map_sdk_errors(capture, self._credentials):
            # The request goes out, and its headers come back, while the first chunk is
            # made; that includes the structured-output path (beta.chat.completions.stream)
            # whose headers langchain-openai drops
            # (https://github.com/langchain-ai/langchain/issues/37421).
            with sending(capture):
                first = next(stream, None)
            if first is None:  # a 2xx with no event at all (an HTML page, an empty body)
                raise unfinished_stream(capture.status, capture.headers)
            yield self._tagged(first, capture)
            # A stream cut off or corrupted half-way, or one that ends without a finish
            # reason, raises: it never passes for a short response.
            yield from until_finished(first, stream, capture)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        capture = self._begin(run_manager, kwargs, stream=True)
        stream = super()._astream(messages, stop=stop, run_manager=run_manager, **kwargs)
        with map_sdk_errors(capture, self._credentials):
            with sending(capture):
                first = await anext(stream, None)
            if first is None:  # a 2xx with no event at all (an HTML page, an empty body)
                raise unfinished_stream(capture.status, capture.headers)
            yield self._tagged(first, capture)
            async for chunk in auntil_finished(first, stream, capture):
                yield chunk
