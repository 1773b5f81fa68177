"""What the sync and async clients share: every request built, every response read.

`GatewayClientBase` does no I/O. Each API method is a `Call`: the `httpx.Request` to
send and how to parse the v4 envelope's `result`. The clients send it (`GatewayClient`
with `httpx.Client`, `AsyncGatewayClient` with `httpx.AsyncClient`) and hand back what
they got to the base, which decides whether to send it again (`_retry_delay`), reads the
response (`_read`) and translates failures (`_after_failure`, through
`core.codec.error_from_transport`), so that the two clients cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Generic, NamedTuple, TypeVar

import httpx
from pydantic import SecretStr

from ..core.body_limit import MAX_RESPONSE_BYTES, limit_response
from ..core.codec import error_from_transport
from ..core.config import GatewayConfig
from ..core.connection import connection_error
from ..core.errors import (
    ConfigError,
    GatewayError,
    GatewayNotFoundError,
    InvalidModelIdError,
    InvalidOptionError,
    InvalidResponseError,
    LogNotFoundError,
    ManagementAuthenticationError,
    error_from_response,
)
from ..core.info import GatewayInfo
from ..core.options import MetadataValue
from ..core.protocol import LogsApi
from ..core.providers import PROVIDERS, Provider, find_provider
from ..core.redaction import credentials_of, redact, redact_body
from ._query import (
    check_query,
    feedback_body,
    log_params,
    path_id,
    per_page,
    positive,
    query_items,
)
from .models import (
    NEW_GATEWAY_DEFAULTS,
    Gateway,
    GatewaySettings,
    LogEntry,
    LogPage,
    ResultInfo,
)

ENV_API_TOKEN: Final = "CLOUDFLARE_API_TOKEN"
"""A Cloudflare API token for the management API; the gateway token is the fallback."""

DEFAULT_TIMEOUT_S: Final = 30.0
DEFAULT_MAX_RETRIES: Final = 2
"""GETs sent again after a connection failure, a timeout, a 429 or a 5xx (see `_retry_delay`)."""
RETRY_AFTER_MAX_S: Final = 60.0
"""A longer `Retry-After` is not waited for: the error is raised, with `retry_after` set."""
_RETRY_STATUSES: Final = frozenset((429, 500, 502, 503, 504))

T = TypeVar("T")
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)


class Call(NamedTuple, Generic[T]):
    """One API call: the request to send and how to read the envelope's `result`."""

    request: httpx.Request
    parse: Callable[[Any, ResultInfo], T]
    not_found: type[GatewayNotFoundError] = GatewayNotFoundError
    raw: bool = False
    """The response is a stored body, not a v4 envelope: returned as it is, never unwrapped."""
    subject: str = ""
    """What the call is about (`route 'r1' on gateway 'gw'`), named in a 404's message."""


class GatewayClientBase(Generic[HttpClientT]):
    """What the sync and async clients share: configuration, requests and parsing."""

    config: GatewayConfig
    """Account, default gateway id and host."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        api_token: str | SecretStr | None = None,
        account_id: str | None = None,
        gateway_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        http_client: HttpClientT | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        """A client for the account and gateway of `config`, or resolved as the chat model's.

        Args:
            config: Account, gateway id and host; by default resolved from the other
                arguments, then the environment, then the config file.
            api_token: A Cloudflare API token with *AI Gateway Read* (and *Edit* to
                change logs or gateways); by default `CLOUDFLARE_API_TOKEN`, then the
                gateway token of `config`.
            account_id: Overrides the account id of `config`.
            gateway_id: Overrides the default gateway id of `config`.
            base_url: Overrides the host of `config` (the local gateway's URL).
            timeout: Seconds (or an `httpx.Timeout`) for each request.
            http_client: An `httpx.Client` (`httpx.AsyncClient` for the async client) to
                send with; it is not closed by `close()`.
            max_retries: How many times a read is sent again after a connection failure,
                a timeout, a 429 or a 5xx.
            max_response_bytes: The cap on a response body, counted after decompression.

        Raises:
            InvalidOptionError: `max_retries` below 0 or `max_response_bytes` below 1.
            ConfigError: No token for Cloudflare's own API, a token that is not printable
                ASCII on one line, or a configuration that does not resolve.
        """
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidOptionError("max_retries", f"must be an integer >= 0; got {max_retries!r}")
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise InvalidOptionError(
                "max_response_bytes", f"must be an integer >= 1; got {max_response_bytes!r}"
            )
        self._max_retries = max_retries
        self._max_response_bytes = max_response_bytes
        if config is None:
            config = GatewayConfig.resolve(
                account_id=account_id, gateway_id=gateway_id, base_url=base_url
            )
        elif account_id or gateway_id or base_url:
            config = config.model_copy(
                update={
                    k: v
                    for k, v in (
                        ("account_id", account_id),
                        ("gateway_id", gateway_id),
                        ("base_url", base_url),
                    )
                    if v
                }
            )
        self.config = config
        raw = api_token.get_secret_value() if isinstance(api_token, SecretStr) else api_token
        raw = raw or os.environ.get(ENV_API_TOKEN) or None
        if raw is None and config.token is not None:
            raw = config.token.get_secret_value()
        if raw is not None:
            raw = raw.strip()
            if not raw or any(c in raw for c in "\r\n\0") or not raw.isascii():
                raise ConfigError(
                    "api_token must be printable ASCII on one line (check for a stray newline)"
                )
        if raw is None and config.base_url is None:
            raise ConfigError(
                "The management API needs a Cloudflare API token: pass api_token=..., set "
                f"{ENV_API_TOKEN}, or set CLOUDFLARE_AI_GATEWAY_TOKEN"
            )
        self._token = SecretStr(raw) if raw else None
        self._timeout = timeout
        self._owns_http = http_client is None
        self._http: HttpClientT = http_client if http_client is not None else self._new_http()

    def _new_http(self) -> HttpClientT:
        raise NotImplementedError

    def __repr__(self) -> str:
        token = "set" if self._token is not None else "none"
        return (
            f"{type(self).__name__}(account_id={self.config.account_id!r}, "
            f"gateway_id={self.config.gateway_id!r}, api_base={self.api_base!r}, token={token})"
        )

    @property
    def api_base(self) -> str:
        """The management API's root: Cloudflare's, or `{base_url}/client/v4`."""
        return self.config.api_base

    # ------------------------------------------------------------------ sending again

    def _retry_delay(
        self, call: Call[Any], attempt: int, response: httpx.Response | None
    ) -> float | None:
        """Seconds to wait before sending `call` again; None when it must not be sent again.

        Only GETs are sent again: reading logs and gateways changes nothing, while a PATCH,
        POST or DELETE that failed half-way may have been applied. They are sent again after
        a connection failure or a timeout (`response` None), a 429 or a 502/503/504/500, at
        most `max_retries` times; `Retry-After` is honoured up to
        `RETRY_AFTER_MAX_S`, else the waits are 0.5 s, 1 s, 2 s...
        """
        if attempt >= self._max_retries or call.request.method != "GET":
            return None
        if response is None:
            return 0.5 * 2.0**attempt
        if response.status_code not in _RETRY_STATUSES:
            return None
        after = _retry_after_s(response)
        if after is None:
            return 0.5 * 2.0**attempt
        return after if after <= RETRY_AFTER_MAX_S else None

    def _after_failure(
        self,
        call: Call[Any],
        attempt: int,
        exc: httpx.TransportError,
        response: httpx.Response | None,
    ) -> float:
        """Seconds to wait before sending `call` again after `exc`, else the error, raised.

        The one translation of failures below HTTP for both clients, by the table of
        `core.codec.error_from_transport`: a timeout becomes `GatewayTimeoutError`, a body
        cut off once `response` began becomes `InvalidResponseError`; a failure to connect
        (connection refused, DNS) becomes `GatewayConnectionError`, still an
        `httpx.ConnectError`, naming the URL tried and the fix (`core.connection`). Any
        other failure before a response is httpx's own exception. The error is chained
        from `exc` and never shows the token.

        Raises:
            GatewayTimeoutError: A timeout, once `call` must not be sent again.
            InvalidResponseError: The body of `response` was cut off.
            GatewayConnectionError: No connection to the API's host (an `httpx.ConnectError`).
            httpx.TransportError: `exc` itself, for another failure before any response.
        """
        delay = self._retry_delay(call, attempt, None)
        if delay is not None:
            return delay
        error = error_from_transport(
            exc,
            status_code=None if response is None else response.status_code,
            headers=None if response is None else response.headers,
            secrets=self._secrets(call.request),
        )
        if error is not None:
            raise error from exc
        unreachable = connection_error(exc) if response is None else None
        if unreachable is not None:
            raise unreachable from exc
        raise exc

    # ------------------------------------------------------------------ requests and responses

    def _url(self, *parts: str) -> str:
        return "/".join((self.api_base, "accounts", self.config.account_id, "ai-gateway", *parts))

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> httpx.Request:
        headers = {"accept": "application/json"}
        if self._token is not None:
            headers["authorization"] = f"Bearer {self._token.get_secret_value()}"
        return self._http.build_request(
            method,
            url,
            params=httpx.QueryParams(query_items(params)),
            json=body,
            headers=headers,
            timeout=self._timeout,
        )

    def _list_models_call(self, provider: str | None) -> Call[list[str]]:
        """`GET {gateway}/compat/models`, with the gateway token.

        Never `Authorization`, which the gateway would forward as a provider key.

        Raises:
            InvalidModelIdError: `provider` names no known provider.
        """
        row = None
        if provider is not None:
            row = find_provider(provider.strip().lower())
            if row is None:
                raise InvalidModelIdError(
                    f"provider: unknown provider {provider!r}; use one of "
                    f"{', '.join(p.slug for p in PROVIDERS)}"
                )
        request = self._http.build_request(
            "GET",
            f"{self.config.gateway_url}/compat/models",
            headers={"accept": "application/json", **self.config.auth_headers()},
            timeout=self._timeout,
        )
        return Call(request, _model_ids(row), raw=True)

    def _gateway(self, gateway_id: str | None) -> str:
        return path_id("gateway_id", gateway_id or self.config.gateway_id)

    def _bounded(self, response: httpx.Response) -> httpx.Response:
        """`response` (sent with `stream=True`) with its body bounded, then read."""
        limit_response(response, max_bytes=self._max_response_bytes)
        return response

    def _secrets(self, request: httpx.Request) -> tuple[str, ...]:
        token = self._token.get_secret_value() if self._token is not None else None
        return credentials_of(request.headers.multi_items(), None, token)

    def _read(self, response: httpx.Response, call: Call[T]) -> T:
        """The call's result from the v4 envelope, or the error class for the response.

        Credentials the body echoes (the token, anything shaped like a key) are masked
        in the error.

        Raises:
            InvalidResponseError: A 2xx whose body is not the documented envelope.
            GatewayError: An error response, as `_api_error` maps it.
        """
        body: Any
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if call.raw and response.is_success:
            return call.parse(body, ResultInfo())
        envelope = isinstance(body, dict) and "success" in body and "result" in body
        if response.is_success and (not envelope or body.get("success") is not False):
            # Every management response is the v4 envelope; a 2xx that is not JSON or not
            # the documented shape (a proxy's HTML page, a cut body, nothing) is the
            # server's fault, never a ValueError that reads as bad input.
            failure = "no envelope"
            if envelope:
                try:
                    info = ResultInfo.model_validate(body.get("result_info") or {})
                    return call.parse(body.get("result"), info)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    failure = type(exc).__name__
            raise InvalidResponseError(
                f"the management API responded with HTTP {response.status_code} and a "
                f"body that is not the v4 envelope of {call.request.url.path}: {failure}",
                status_code=response.status_code,
                log_id=GatewayInfo.from_headers(response.headers).log_id,
                body=redact_body(body, self._secrets(call.request))
                if isinstance(body, dict)
                else redact(str(body)[:500], self._secrets(call.request)),
            )
        error = _api_error(response, body, call, self._secrets(call.request))
        raise error

    # ------------------------------------------------------------------ logs

    def _list_logs_call(
        self, page: int, size: int, gateway_id: str | None, query: Mapping[str, Any]
    ) -> Call[LogPage]:
        params = log_params(check_query(query), delete=False)
        params.append(("page", str(positive("page", page))))
        params.append(("per_page", str(per_page(size))))
        url = self._url("gateways", self._gateway(gateway_id), "logs")
        return Call(self._request("GET", url, params=params), _parse_log_page)

    def _get_log_call(self, log_id: str, gateway_id: str | None, part: str = "") -> Call[Any]:
        parts = ["gateways", self._gateway(gateway_id), "logs", path_id("log_id", log_id)]
        if part:
            # The stored body itself, not an envelope: cloudflare-python's logs.request() and
            # logs.response() read it with cast_to=object and no ResultWrapper
            # (src/cloudflare/resources/ai_gateway/logs.py). A body that looks like an
            # envelope (a Workers AI response) must come back whole.
            parts.append(part)
            return Call(self._request("GET", self._url(*parts)), _raw, LogNotFoundError, raw=True)
        return Call(self._request("GET", self._url(*parts)), _parse_log, LogNotFoundError)

    def _update_log_call(
        self,
        log_id: str,
        gateway_id: str | None,
        feedback: int | None,
        score: float | None,
        metadata: Mapping[str, MetadataValue] | None,
    ) -> Call[None]:
        body = feedback_body(feedback, score, metadata)
        url = self._url("gateways", self._gateway(gateway_id), "logs", path_id("log_id", log_id))
        return Call(self._request("PATCH", url, body=body), _none, LogNotFoundError)

    def _delete_logs_call(
        self, gateway_id: str | None, limit: int | None, query: Mapping[str, Any]
    ) -> Call[int | None]:
        params = log_params(check_query(query), delete=True)
        if limit is not None:
            if positive("limit", limit) > LogsApi.DELETE_LIMIT_MAX:
                raise InvalidOptionError(
                    "limit", f"must be 1 to {LogsApi.DELETE_LIMIT_MAX}; got {limit!r}"
                )
            params.append(("limit", str(limit)))
        url = self._url("gateways", self._gateway(gateway_id), "logs")
        return Call(self._request("DELETE", url, params=params), _deleted)

    # ------------------------------------------------------------------ gateways

    @staticmethod
    def _settings(settings: GatewaySettings | None, changes: Mapping[str, Any]) -> GatewaySettings:
        """`settings` with `changes` over them, checked before anything is sent."""
        if settings is None:
            return GatewaySettings(**changes)
        if changes:
            return GatewaySettings(**{**settings.to_body(), **changes})
        return settings

    def _create_gateway_call(self, gateway_id: str, settings: GatewaySettings) -> Call[Gateway]:
        body = {**NEW_GATEWAY_DEFAULTS, **settings.to_body(), "id": path_id("id", gateway_id)}
        return Call(self._request("POST", self._url("gateways"), body=body), _parse_gateway)

    def _list_gateways_call(self, page: int, size: int, search: str | None) -> Call[list[Gateway]]:
        params = {
            "page": positive("page", page),
            "per_page": positive("per_page", size),
            "search": search,
        }
        return Call(self._request("GET", self._url("gateways"), params=params), _parse_gateways)

    def _get_gateway_call(self, gateway_id: str | None) -> Call[Gateway]:
        url = self._url("gateways", self._gateway(gateway_id))
        return Call(self._request("GET", url), _parse_gateway)

    def _put_gateway_call(self, current: Gateway, settings: GatewaySettings) -> Call[Gateway]:
        # PUT replaces the whole gateway: a field left out is reset (a PUT without
        # `guardrails` turns Guardrails off). So the body is the current object as the API
        # returned it, every field this package does not know included, minus the read-only
        # ones, plus the changes; required fields it lacks take the defaults.
        body = {**NEW_GATEWAY_DEFAULTS, **current.settings(), **settings.to_body()}
        url = self._url("gateways", self._gateway(current.id))
        return Call(self._request("PUT", url, body=body), _parse_gateway)

    def _delete_gateway_call(self, gateway_id: str) -> Call[None]:
        url = self._url("gateways", path_id("gateway_id", gateway_id))
        return Call(self._request("DELETE", url), _none)


# --------------------------------------------------------------------------- parsing


def _parse_log_page(result: Any, info: ResultInfo) -> LogPage:
    return LogPage(result=[LogEntry.model_validate(row) for row in result or []], result_info=info)


def _parse_log(result: Any, info: ResultInfo) -> LogEntry:
    return LogEntry.model_validate(result)


def _parse_gateway(result: Any, info: ResultInfo) -> Gateway:
    return Gateway.model_validate(result)


def _model_ids(provider: Provider | None) -> Callable[[Any, ResultInfo], list[str]]:
    """The parser of `/compat/models`: OpenAI's model list -> sorted ids, of `provider`."""

    def parse(result: Any, info: ResultInfo) -> list[str]:
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, list) or not all(
            isinstance(row, dict) and isinstance(row.get("id"), str) for row in data
        ):
            raise InvalidResponseError(
                "the gateway's /compat/models responded with a body that is not a model list",
                status_code=200,
            )
        ids = sorted(row["id"] for row in data)
        if provider is None:
            return ids
        prefixes = {provider.slug, *(p for p in (provider.compat_prefix,) if p)}
        return [i for i in ids if i.partition("/")[0].lower() in prefixes]

    return parse


def _parse_gateways(result: Any, info: ResultInfo) -> list[Gateway]:
    return [Gateway.model_validate(row) for row in result or []]


def _raw(result: Any, info: ResultInfo) -> Any:
    return result


def _none(result: Any, info: ResultInfo) -> None:
    return None


def _deleted(result: Any, info: ResultInfo) -> int | None:
    count = result.get("deleted") if isinstance(result, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _retry_after_s(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, as the core's errors read it."""
    return error_from_response(response.status_code, response.headers, None).retry_after


def _api_error(
    response: httpx.Response,
    body: Any,
    call: Call[Any],
    secrets: tuple[str, ...] = (),
) -> GatewayError:
    """The typed error of a management API response; its message never holds the token.

    The core's mapping (`error_from_response`), with the management API's own classes
    for a 401 or 403 (`ManagementAuthenticationError`) and a 404 (`call.not_found`,
    its message naming `call.subject`).
    """
    error = error_from_response(response.status_code, response.headers, body, secrets=secrets)
    cls: type[GatewayError] | None = None
    message = error.message
    if response.status_code in (401, 403):
        cls = ManagementAuthenticationError
    elif response.status_code == 404:
        cls = call.not_found
        if call.subject:
            message = f"{call.subject} not found: {message}"
    if cls is None or (isinstance(error, cls) and message == error.message):
        return error
    return cls(
        message,
        status_code=error.status_code,
        code=error.code,
        log_id=error.log_id,
        body=error.body,
        retry_after=error.retry_after,
    )
