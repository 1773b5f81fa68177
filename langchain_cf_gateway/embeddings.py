"""Cloudflare AI Gateway embeddings."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NamedTuple

import openai
from langchain_core.embeddings import Embeddings
from langchain_core.utils import secret_from_env
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    model_validator,
)
from typing_extensions import Self

from ._arguments import constructor_keywords
from ._errors import ErrorInResponse, UnexpectedShape, map_sdk_errors
from ._openai_sdk import (
    OMIT_AUTHORIZATION,
    PROVIDER_KEY_ENV,
    ResponseCapture,
    client_headers,
    http_clients,
    sdk_clients,
    sending,
)
from .core import (
    GatewayConfig,
    GatewayInfo,
    GatewayOptions,
    Route,
    build_route,
    coerce_options,
)
from .core.body_limit import MAX_RESPONSE_BYTES
from .core.codec import is_error_body
from .core.config import ENV_TOKEN
from .core.errors import ConfigError, wrapped_input_error
from .core.options import choice_of
from .core.redaction import credentials_of
from .core.routing import ENDPOINTS, Endpoint


class EmbeddingsResult(NamedTuple):
    """Vectors of one `embed_with_info` call and what the gateway said about each request."""

    vectors: list[list[float]]
    """One vector per input text, in input order."""
    infos: tuple[GatewayInfo, ...]
    """One per HTTP request, in order: inputs go out in batches of `chunk_size`."""


class CloudflareGatewayEmbeddings(BaseModel, Embeddings):
    """Embedding models behind Cloudflare AI Gateway, with the gateway's controls.

    Setup:
        ```bash
        pip install -U langchain-cf-gateway
        export CLOUDFLARE_ACCOUNT_ID="your-account-id"
        export CLOUDFLARE_AI_GATEWAY_TOKEN="token-with-AI-Gateway-Run"  # authenticated gateways
        ```

    Instantiate:
        ```python
        from langchain_cf_gateway import CloudflareGatewayEmbeddings

        embeddings = CloudflareGatewayEmbeddings(
            model="workers-ai/@cf/baai/bge-base-en-v1.5",
            gateway_options={"cache_ttl": 86400},
        )
        ```

    Embed:
        ```python
        embeddings.embed_query("What is the meaning of life?")
        embeddings.embed_documents(["one", "two"])
        await embeddings.aembed_documents(["one", "two"])
        ```

    Gateway info:
        `embed_documents` returns vectors only (LangChain's interface). To see what the
        gateway did, call `embed_with_info`: its result carries one `GatewayInfo` per
        request and belongs to that call alone, so concurrent calls never mix them up.

        ```python
        result = embeddings.embed_with_info(["one", "two"], gateway_options={"skip_cache": True})
        result.vectors, result.infos[0].cache_status, result.infos[0].log_id
        ```

    Without a provider key (`api_key=` or `CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY`) no
    `Authorization` header is sent (BYOK or Unified Billing), and `OPENAI_API_KEY` is
    never read. The fields are named as `ChatCloudflareGateway`'s (`model_name`,
    `provider_api_key`, `openai_api_base`, `request_timeout`), and take the same
    arguments (`model=`, `api_key=`, `base_url=`, `timeout=`). Errors are those of
    `ChatCloudflareGateway`, on every call path, with credentials masked; a response
    past `max_response_bytes` raises `ResponseTooLargeError`.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid", protected_namespaces=())

    model_name: str = Field(alias="model")
    """Model id: `workers-ai/@cf/baai/bge-base-en-v1.5`, `openai/text-embedding-3-small`..."""
    account_id: str | None = None
    """Cloudflare account id; else `CLOUDFLARE_ACCOUNT_ID`, else the config file."""
    gateway_id: str | None = None
    """Gateway id; else `CLOUDFLARE_GATEWAY_ID`, else the config file, else `default`."""
    gateway_token: SecretStr | None = Field(
        default_factory=secret_from_env(list(ENV_TOKEN), default=None)
    )
    """Cloudflare API token, sent as `cf-aig-authorization`."""
    provider_api_key: SecretStr | None = Field(
        alias="api_key", default_factory=secret_from_env(PROVIDER_KEY_ENV, default=None)
    )
    """The provider's key, sent as `Authorization`; else `CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY`.

    Leave both unset for BYOK or Unified Billing. `OPENAI_API_KEY` is never read.
    """
    openai_api_base: str | None = Field(default=None, alias="base_url")
    """Another gateway host (the local gateway); else `CLOUDFLARE_AI_GATEWAY_BASE_URL`."""
    endpoint: Annotated[Endpoint, choice_of("endpoint", ENDPOINTS)] = "compat"
    """`compat` (the OpenAI-compatible endpoint), `native` (the provider's own path) or
    `rest` (Cloudflare's REST API, `.../ai/v1/embeddings`, for Workers AI `@cf/` models
    only, with the gateway token as `Authorization: Bearer`:
    https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/)."""
    gateway_options: GatewayOptions | None = None
    """Gateway controls of every request (a `GatewayOptions` or a dict of its fields)."""
    chunk_size: int = Field(default=100, ge=1)
    """Inputs per request; Workers AI takes at most 100."""
    dimensions: int | None = Field(default=None, ge=1)
    """Length of the vectors, for models that can shorten them."""
    request_timeout: float | None = Field(default=None, alias="timeout")
    """Seconds per request; None keeps the OpenAI SDK's default."""
    max_retries: int = Field(default=2, ge=0)
    """Retries of a failed request (429 and 5xx), by the OpenAI SDK."""
    default_headers: Mapping[str, str] | None = None
    """More headers for every request."""
    max_response_bytes: int | None = Field(default=None, ge=1)
    """Largest response body read, in bytes after decompression (None: 32 MiB); past it
    `ResponseTooLargeError`. Raise it for large batches of long vectors."""

    _route: Route = PrivateAttr()
    _client: openai.OpenAI = PrivateAttr()
    _async_client: openai.AsyncOpenAI = PrivateAttr()
    _options: GatewayOptions = PrivateAttr()
    _fixed_headers: dict[str, Any] = PrivateAttr(default_factory=dict)
    _base_headers: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __init__(self, **kwargs: Any) -> None:
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:
            original = wrapped_input_error(exc)
            if original is not None:
                raise original from None
            raise

    def __repr_args__(self) -> Any:
        return [(k, v) for k, v in super().__repr_args__() if k != "default_headers"]

    @model_validator(mode="before")
    @classmethod
    def _coerce_gateway_options(cls, values: Any) -> Any:
        if isinstance(values, dict):
            values = constructor_keywords(cls, values)
        if isinstance(values, dict) and isinstance(values.get("gateway_options"), Mapping):
            values = {**values, "gateway_options": coerce_options(values["gateway_options"])}
        return values

    @model_validator(mode="after")
    def _build_clients(self) -> Self:
        config = GatewayConfig.resolve(
            self.account_id, self.gateway_id, self.gateway_token, self.openai_api_base
        )
        self.account_id, self.gateway_id = config.account_id, config.gateway_id
        self.gateway_token, self.openai_api_base = config.token, config.base_url
        self._route = build_route(config, self.model_name, self.endpoint, "embeddings")
        key = self.provider_api_key
        provider_key = key.get_secret_value() if key is not None else None
        if self._route.endpoint == "rest" and provider_key:
            raise ConfigError(
                "endpoint='rest' authenticates with the gateway token in Authorization, so a "
                "provider key (api_key) cannot be sent: store it in the gateway (BYOK) and "
                "drop api_key, or use endpoint='compat'"
            )
        # The REST API's Authorization is the route's own header (the gateway token).
        omit_authorization = not provider_key and self._route.endpoint != "rest"
        self._options = coerce_options(self.gateway_options) or GatewayOptions()
        self._fixed_headers = dict(OMIT_AUTHORIZATION) if omit_authorization else {}
        self._base_headers = {**self._options.to_headers(), **self._fixed_headers}
        sync_http, async_http = http_clients()
        self._client, self._async_client = sdk_clients(
            base_url=self._route.sdk_base_url,
            api_key=provider_key,
            headers=client_headers(
                self._route.headers,
                omit_authorization=omit_authorization,
                user_headers=self.default_headers,
            ),
            http_client=sync_http,
            http_async_client=async_http,
            timeout=self.request_timeout,
            max_retries=self.max_retries,
        )
        return self

    # ------------------------------------------------------------------ LangChain interface

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors of `texts`, in order (requests of `chunk_size` inputs each).

        Args:
            texts: The texts to embed.

        Returns:
            One vector per text.
        """
        return self.embed_with_info(texts).vectors

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text.

        Args:
            text: The text to embed.

        Returns:
            Its vector.
        """
        return self.embed_with_info([text]).vectors[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """The async form of `embed_documents`.

        Args:
            texts: The texts to embed.

        Returns:
            One vector per text.
        """
        return (await self.aembed_with_info(texts)).vectors

    async def aembed_query(self, text: str) -> list[float]:
        """The async form of `embed_query`.

        Args:
            text: The text to embed.

        Returns:
            Its vector.
        """
        return (await self.aembed_with_info([text])).vectors[0]

    # ------------------------------------------------------------------ with gateway info

    def embed_with_info(
        self,
        texts: Sequence[str],
        *,
        gateway_options: GatewayOptions | Mapping[str, Any] | None = None,
    ) -> EmbeddingsResult:
        """Vectors of `texts` and the gateway's info of each request of this call."""
        headers = self._headers(gateway_options)
        vectors: list[list[float]] = []
        infos: list[GatewayInfo] = []
        for batch in self._batches(texts):
            capture = self._capture()
            with map_sdk_errors(capture, self._credentials), sending(capture):
                raw = self._client.embeddings.with_raw_response.create(
                    **self._request(batch, headers)
                )
                vectors += _vectors(raw.parse(), len(batch))
            infos.append(self._info(raw.headers))
        return EmbeddingsResult(vectors, tuple(infos))

    async def aembed_with_info(
        self,
        texts: Sequence[str],
        *,
        gateway_options: GatewayOptions | Mapping[str, Any] | None = None,
    ) -> EmbeddingsResult:
        """The async form of `embed_with_info`."""
        headers = self._headers(gateway_options)
        vectors: list[list[float]] = []
        infos: list[GatewayInfo] = []
        for batch in self._batches(texts):
            capture = self._capture()
            with map_sdk_errors(capture, self._credentials), sending(capture):
                raw = await self._async_client.embeddings.with_raw_response.create(
                    **self._request(batch, headers)
                )
                vectors += _vectors(raw.parse(), len(batch))
            infos.append(self._info(raw.headers))
        return EmbeddingsResult(vectors, tuple(infos))

    # ------------------------------------------------------------------ pieces

    def _capture(self) -> ResponseCapture:
        """The bounds of one request's response, read by the httpx hook as it arrives."""
        return ResponseCapture(max_bytes=self.max_response_bytes or MAX_RESPONSE_BYTES)

    def _credentials(self) -> tuple[str, ...]:
        keys = [
            secret.get_secret_value() if secret is not None else None
            for secret in (self.provider_api_key, self.gateway_token)
        ]
        return credentials_of(self.default_headers, None, *keys)

    def _headers(self, options: GatewayOptions | Mapping[str, Any] | None) -> dict[str, Any]:
        if options is None:
            return dict(self._base_headers)
        return {**self._options.merge(options).to_headers(), **self._fixed_headers}

    def _batches(self, texts: Sequence[str]) -> list[list[str]]:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings; for one text use embed_query")
        items = list(texts)
        return [items[i : i + self.chunk_size] for i in range(0, len(items), self.chunk_size)]

    def _request(self, batch: list[str], headers: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "input": batch,
            "model": self._route.body_model,
            # Floats, not the SDK's default base64: not every provider behind the gateway
            # speaks base64 embeddings.
            "encoding_format": "float",
            "extra_headers": headers,
        }
        if self.dimensions is not None:
            request["dimensions"] = self.dimensions
        return request

    def _info(self, headers: Any) -> GatewayInfo:
        ref = self._route.ref
        return GatewayInfo.from_headers(headers).with_defaults(
            model=ref.model, provider=ref.slug, step=None
        )


def _vectors(response: Any, expected: int) -> list[list[float]]:
    """The vectors of one embeddings response, in input order.

    Raises:
        json.JSONDecodeError: The body was not JSON (the SDK hands it over as text).
        UnexpectedShape: JSON of another shape, or not one vector per input.
        ErrorInResponse: The body is an error object (`core.codec.is_error_body`).
    """
    if isinstance(response, str):
        raise json.JSONDecodeError("Expecting an embeddings list", response, 0)
    data = getattr(response, "data", None)
    if not isinstance(data, list) and isinstance(response, openai.BaseModel):
        body = response.model_dump()
        if is_error_body(body):
            raise ErrorInResponse(body)
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else "no"
        raise UnexpectedShape(
            f"the response is not an embeddings list of {expected} vectors ({got} `data` items)"
        )
    items = sorted(data, key=lambda d: getattr(d, "index", 0) or 0)
    if not all(isinstance(getattr(item, "embedding", None), list) for item in items):
        raise UnexpectedShape("the response has a `data` item without an `embedding` list")
    return [list(item.embedding) for item in items]
