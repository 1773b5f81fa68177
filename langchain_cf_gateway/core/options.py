"""Per-request gateway controls: `GatewayOptions` -> `cf-aig-*` headers.

https://developers.cloudflare.com/ai-gateway/glossary/

Every field is optional; an unset field sends no header, so the gateway's own
setting applies. Bounds are checked when the options are built, which is before
anything is sent; a bad value raises `InvalidOptionError` (a
`ValueError`) naming the field and the allowed range. The headers are rendered
once per options object and reused.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from .errors import InvalidOptionError
from .protocol import Bounds, Header
from .providers import WORKERS_AI

_WORKERS_AI_SEGMENTS = 4
"""`workers-ai/@cf/<author>/<model>`: the parts of a Workers AI id in an allow-list."""

MetadataValue = str | int | float | bool
Backoff = Literal["constant", "linear", "exponential"]

AUTO_ROUTER_PROVIDERS = (
    "anthropic",
    "openai",
    "xai",
    "workers-ai",
    "alibaba",
    "fireworks",
    "minimax",
)
"""Providers `allowed_providers` may name
(https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

_COST_KEYS = ("per_token_in", "per_token_out", "per_cache_read_token", "per_cache_write_token")


class GatewayOptions(BaseModel):
    """Per-call gateway controls, each mapped to one `cf-aig-*` request header."""

    # The fields' descriptions are their docstrings, set by `_describe_fields` below; the
    # schema is built on first use, once they are set.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    cache_ttl: int | None = None
    """`cf-aig-cache-ttl`: seconds, 60 to 2,592,000 (30 days)."""
    skip_cache: bool | None = None
    """`cf-aig-skip-cache: true`: bypass the cache for this request."""
    cache_key: str | None = None
    """`cf-aig-cache-key`: replaces the gateway's cache key."""
    metadata: dict[str, MetadataValue] | None = None
    """`cf-aig-metadata`: at most 5 entries of string, number or boolean; no `cf.` keys."""
    collect_log: bool | None = None
    """`cf-aig-collect-log`: `false` drops the log of this request."""
    collect_log_payload: bool | None = None
    """`cf-aig-collect-log-payload`: `false` keeps the log but not the bodies."""
    event_id: str | None = None
    """`cf-aig-event-id`: your id for this request, echoed back and stored in the log."""
    request_timeout_ms: int | None = None
    """`cf-aig-request-timeout`: milliseconds to the first byte of the response."""
    max_attempts: int | None = None
    """`cf-aig-max-attempts`: 1 to 5."""
    retry_delay_ms: int | None = None
    """`cf-aig-retry-delay`: 0 to 5000 ms."""
    backoff: Backoff | None = None
    """`cf-aig-backoff`: constant, linear or exponential."""
    custom_cost: dict[str, float] | None = None
    """`cf-aig-custom-cost`: `per_token_in`, `per_token_out` (and cache rates), or `total_cost`."""
    byok_alias: str | None = None
    """`cf-aig-byok-alias`: which stored provider key to use."""
    zdr: bool | None = None
    """`cf-aig-zdr`: zero data retention (Unified Billing only)."""
    no_wholesale: bool | None = None
    """`cf-aig-no-wholesale: true`: never fall back to Unified Billing."""
    allowed_models: list[str] | None = None
    """`cf-aig-allowed-models`: the Auto Router's pool, e.g. `["anthropic/*"]` (sent
    comma-separated; `*` is a whole path segment and does not cross `/`)."""
    allowed_providers: list[str] | None = None
    """`cf-aig-allowed-providers`: providers the Auto Router may choose (`AUTO_ROUTER_PROVIDERS`)."""
    session_id: str | None = None
    """`cf-aig-session-id`: the Auto Router keeps one model for a turn of this session."""
    turn_id: str | None = None
    """`cf-aig-turn-id`: overrides the Auto Router's turn detection."""
    no_session_affinity: bool | None = None
    """`cf-aig-no-session-affinity: true`: the Auto Router chooses afresh on every request."""

    _headers: dict[str, str] = PrivateAttr(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _option_error(exc) from None

    @model_validator(mode="after")
    def _validate_bounds(self) -> GatewayOptions:
        self._check()
        self._headers = self._render()  # once: every call reuses it
        return self

    # ------------------------------------------------------------------ validation

    def _check(self) -> None:
        if self.cache_ttl is not None and not (
            Bounds.CACHE_TTL_MIN_S <= self.cache_ttl <= Bounds.CACHE_TTL_MAX_S
        ):
            raise InvalidOptionError(
                "cache_ttl",
                f"must be from {Bounds.CACHE_TTL_MIN_S} to {Bounds.CACHE_TTL_MAX_S} seconds "
                f"(one month); got {self.cache_ttl}. To bypass the cache use skip_cache=True",
            )
        for field in ("cache_key", "event_id", "byok_alias", "session_id", "turn_id"):
            _check_header_text(field, getattr(self, field))
        if self.metadata is not None:
            _check_metadata(self.metadata)
            size = len(_json(self.metadata))  # as sent: non-ASCII grows to \u escapes
            if size > Bounds.HEADER_VALUE_MAX_CHARS:
                # A longer header is refused by HTTP servers (uvicorn's limit is 16 KiB for
                # all headers together) with a bare 400 or a dropped connection.
                raise InvalidOptionError(
                    "metadata",
                    f"must be at most {Bounds.HEADER_VALUE_MAX_CHARS} characters as JSON "
                    f"(non-ASCII counts as \\u escapes); got {size}. Keep long text elsewhere "
                    "and put its id in the metadata",
                )
        if self.request_timeout_ms is not None and self.request_timeout_ms < 1:
            raise InvalidOptionError(
                "request_timeout_ms",
                f"must be a positive number of milliseconds; got {self.request_timeout_ms}",
            )
        if self.max_attempts is not None and not (
            Bounds.MAX_ATTEMPTS_MIN <= self.max_attempts <= Bounds.MAX_ATTEMPTS_MAX
        ):
            raise InvalidOptionError(
                "max_attempts",
                f"must be from {Bounds.MAX_ATTEMPTS_MIN} to {Bounds.MAX_ATTEMPTS_MAX}; got {self.max_attempts}",
            )
        if self.retry_delay_ms is not None and not (
            Bounds.RETRY_DELAY_MIN_MS <= self.retry_delay_ms <= Bounds.RETRY_DELAY_MAX_MS
        ):
            raise InvalidOptionError(
                "retry_delay_ms",
                f"must be from {Bounds.RETRY_DELAY_MIN_MS} to {Bounds.RETRY_DELAY_MAX_MS} ms; "
                f"got {self.retry_delay_ms}",
            )
        if self.custom_cost is not None:
            _check_custom_cost(self.custom_cost)
        if self.allowed_models is not None:
            _check_allow_list("allowed_models", self.allowed_models)
            for entry in self.allowed_models:
                segments = entry.split("/")
                if any("*" in seg and seg != "*" for seg in segments):
                    raise InvalidOptionError(
                        "allowed_models",
                        f"'*' must be a whole path segment such as 'anthropic/*' (it does not "
                        f"cross '/'); got {entry!r}",
                    )
                if segments[0] == WORKERS_AI and len(segments) != _WORKERS_AI_SEGMENTS:
                    raise InvalidOptionError(
                        "allowed_models",
                        f"{entry!r} matches no model: Workers AI ids are "
                        "workers-ai/@cf/<author>/<model> and '*' does not cross '/'; use "
                        "'workers-ai/@cf/*/*' or allowed_providers=['workers-ai']",
                    )
        if self.allowed_providers is not None:
            _check_allow_list("allowed_providers", self.allowed_providers)
            for entry in self.allowed_providers:
                if entry not in AUTO_ROUTER_PROVIDERS:
                    raise InvalidOptionError(
                        "allowed_providers",
                        f"unknown provider {entry!r}; allowed: {', '.join(AUTO_ROUTER_PROVIDERS)}",
                    )

    # ------------------------------------------------------------------ rendering

    def _render(self) -> dict[str, str]:
        h: dict[str, str] = {}
        if self.cache_ttl is not None:
            h[Header.CACHE_TTL] = str(self.cache_ttl)
        if self.skip_cache:
            h[Header.SKIP_CACHE] = "true"
        if self.cache_key is not None:
            h[Header.CACHE_KEY] = self.cache_key
        if self.metadata:
            h[Header.METADATA] = _json(self.metadata)
        if self.collect_log is not None:
            h[Header.COLLECT_LOG] = _bool(self.collect_log)
        if self.collect_log_payload is not None:
            h[Header.COLLECT_LOG_PAYLOAD] = _bool(self.collect_log_payload)
        if self.event_id is not None:
            h[Header.EVENT_ID] = self.event_id
        if self.request_timeout_ms is not None:
            h[Header.REQUEST_TIMEOUT] = str(self.request_timeout_ms)
        if self.max_attempts is not None:
            h[Header.MAX_ATTEMPTS] = str(self.max_attempts)
        if self.retry_delay_ms is not None:
            h[Header.RETRY_DELAY] = str(self.retry_delay_ms)
        if self.backoff is not None:
            h[Header.BACKOFF] = self.backoff
        if self.custom_cost is not None:
            h[Header.CUSTOM_COST] = _json(self.custom_cost)
        if self.byok_alias is not None:
            h[Header.BYOK_ALIAS] = self.byok_alias
        if self.zdr is not None:
            h[Header.ZDR] = _bool(self.zdr)
        if self.no_wholesale:
            h[Header.NO_WHOLESALE] = "true"
        if self.allowed_models is not None:
            h[Header.ALLOWED_MODELS] = ",".join(self.allowed_models)
        if self.allowed_providers is not None:
            h[Header.ALLOWED_PROVIDERS] = ",".join(self.allowed_providers)
        if self.session_id is not None:
            h[Header.SESSION_ID] = self.session_id
        if self.turn_id is not None:
            h[Header.TURN_ID] = self.turn_id
        if self.no_session_affinity:
            h[Header.NO_SESSION_AFFINITY] = "true"
        return h

    def to_headers(self) -> dict[str, str]:
        """The `cf-aig-*` headers, a fresh dict each call (rendered once, copied)."""
        return dict(self._headers)

    def step_headers(self) -> dict[str, str]:
        """Headers of a universal-endpoint step: all but what goes in the step's `config`."""
        return {k: v for k, v in self._headers.items() if k not in _STEP_CONFIG_HEADERS}

    def step_config(self) -> dict[str, Any]:
        """The universal endpoint's per-step `config` object.

        https://developers.cloudflare.com/ai-gateway/usage/universal/
        """
        config: dict[str, Any] = {}
        if self.request_timeout_ms is not None:
            config["requestTimeout"] = self.request_timeout_ms
        if self.max_attempts is not None:
            config["maxAttempts"] = self.max_attempts
        if self.retry_delay_ms is not None:
            config["retryDelay"] = self.retry_delay_ms
        if self.backoff is not None:
            config["backoff"] = self.backoff
        return config

    def merge(self, override: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions:
        """These options with `override`'s set fields on top; metadata merges key by key."""
        other = coerce_options(override)
        if other is None or not other.model_fields_set:
            return self
        if not self.model_fields_set:
            return other
        data = {k: getattr(self, k) for k in self.model_fields_set}
        for key in other.model_fields_set:
            value = getattr(other, key)
            if key == "metadata" and value is not None and self.metadata:
                value = {**self.metadata, **value}
            data[key] = value
        return GatewayOptions(**data)

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> GatewayOptions:
        """A copy; with `update`, validated and rendered again like a new object.

        Pydantic's own `model_copy(update=...)` skips validation, which would let an
        out-of-bounds value through and keep the headers of the original.
        """
        if not update:
            return super().model_copy(deep=deep)
        data = {k: getattr(self, k) for k in self.model_fields_set}
        return GatewayOptions(**{**data, **update})

    def is_empty(self) -> bool:
        """Whether these options send no header at all."""
        return not self._headers


def _describe_fields(model: type[BaseModel]) -> None:
    """Each field's docstring (the string right under it) becomes its description.

    What pydantic's `use_attribute_docstrings` does, read from the class's own source:
    on Python < 3.13 pydantic finds that source by walking the frames of the import,
    asking `inspect.getmodule` of each, which scans every loaded module once (tens of
    milliseconds at `import langchain_cf_gateway`, with LangChain loaded).

    Args:
        model: A model whose schema is not built yet (`defer_build=True`).
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    except (OSError, TypeError, SyntaxError):  # no source (a frozen app): no descriptions
        return
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for field, doc in pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and field.target.id in model.model_fields
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            model.model_fields[field.target.id].description = inspect.cleandoc(doc.value.value)


_describe_fields(GatewayOptions)


def check_choice(field: str, value: object, allowed: Sequence[str]) -> str:
    """`value` if it is one of `allowed`; else the error naming the closest allowed value.

    Used for `endpoint=` (`compat`, `native`, `rest`) before pydantic sees it, so a typo
    such as `endpoint="nativ"` reads `did you mean 'native'?` rather than a validation dump.

    Args:
        field: The field's name, as the user wrote it (`endpoint`).
        value: What the user gave.
        allowed: The values the field takes.

    Returns:
        `value`, unchanged.

    Raises:
        InvalidOptionError: `value` is not one of `allowed`.
    """
    if isinstance(value, str) and value in allowed:
        return value
    message = f"must be one of {', '.join(map(repr, allowed))}; got {value!r}"
    if isinstance(value, str):
        by_folded = {name.casefold(): name for name in allowed}
        close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {by_folded[close[0]]!r}?"
    raise InvalidOptionError(field, message)


def choice_of(field: str, allowed: Sequence[str]) -> BeforeValidator:
    """A pydantic validator of a field taking one of `allowed`, run before pydantic's own.

    `endpoint: Annotated[Endpoint, choice_of("endpoint", ENDPOINTS)]` turns
    `endpoint="nativ"` into `check_choice`'s `InvalidOptionError`.

    Args:
        field: The field's name, as the user writes it.
        allowed: The values the field takes.

    Returns:
        The validator, for `typing.Annotated`.
    """
    return BeforeValidator(lambda value: check_choice(field, value, allowed))


def coerce_options(value: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions | None:
    """Options from a `GatewayOptions`, a dict of its fields, or None.

    Raises:
        InvalidOptionError: `value` is neither, or a field is out of bounds (the error
            names the field).
    """
    if value is None or isinstance(value, GatewayOptions):
        return value
    if not isinstance(value, Mapping):
        raise InvalidOptionError(
            "gateway_options", f"must be a GatewayOptions or a dict; got {type(value).__name__}"
        )
    return GatewayOptions(**dict(value))


# ---------------------------------------------------------------------- helpers


def _json(value: Mapping[str, Any]) -> str:
    # ensure_ascii: header values must be ASCII; non-ASCII text travels as \u escapes.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _check_header_text(field: str, value: str | None) -> None:
    if value is None:
        return
    if not value:
        raise InvalidOptionError(field, "must not be empty; leave it unset instead")
    if len(value) > Bounds.HEADER_VALUE_MAX_CHARS:
        raise InvalidOptionError(
            field, f"must be at most {Bounds.HEADER_VALUE_MAX_CHARS} characters; got {len(value)}"
        )
    if not value.isascii() or not value.isprintable() or value != value.strip():
        raise InvalidOptionError(
            field,
            "must be printable ASCII with no CR, LF, control characters or surrounding spaces "
            "(it travels as an HTTP header); for free text use a hash such as "
            "hashlib.sha256(text.encode()).hexdigest()",
        )


def _check_allow_list(field: str, entries: list[str]) -> None:
    if not entries:
        raise InvalidOptionError(field, "must not be empty; leave it unset instead")
    for entry in entries:
        if not entry:
            raise InvalidOptionError(field, "entries must not be empty")
        if "," in entry:
            raise InvalidOptionError(
                field, f"entries are sent comma-separated, so no commas; got {entry!r}"
            )
        if " " in entry:
            raise InvalidOptionError(field, f"entries have no spaces; got {entry!r}")
        _check_header_text(field, entry)
    size = len(",".join(entries))
    if size > Bounds.HEADER_VALUE_MAX_CHARS:
        raise InvalidOptionError(
            field,
            f"the entries are sent comma-separated as one header of at most "
            f"{Bounds.HEADER_VALUE_MAX_CHARS} characters; got {size}",
        )


def _check_metadata(metadata: Mapping[str, Any]) -> None:
    if len(metadata) > Bounds.METADATA_MAX_ENTRIES:
        raise InvalidOptionError(
            "metadata",
            f"at most {Bounds.METADATA_MAX_ENTRIES} entries are allowed; got {len(metadata)} "
            f"({', '.join(sorted(map(str, metadata)))})",
        )
    for key, value in metadata.items():
        if not key or not key.strip():
            raise InvalidOptionError("metadata", "keys must be non-empty strings")
        if key.lower().startswith(Bounds.METADATA_RESERVED_PREFIX):
            raise InvalidOptionError(
                "metadata", f"keys starting with 'cf.' are reserved by Cloudflare; got {key!r}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidOptionError(
                "metadata", f"value of {key!r} must be a finite number; got {value!r}"
            )
        if any(c in key for c in "\r\n\0") or (
            isinstance(value, str) and any(c in value for c in "\0")
        ):
            raise InvalidOptionError("metadata", f"key or value of {key!r} has a control character")


def _check_custom_cost(cost: Mapping[str, float]) -> None:
    allowed = (*_COST_KEYS, "total_cost")
    for key, value in cost.items():
        if key not in allowed:
            raise InvalidOptionError(
                "custom_cost", f"unknown key {key!r}; allowed: {', '.join(allowed)}"
            )
        if not math.isfinite(value) or value < 0:
            raise InvalidOptionError(
                "custom_cost", f"{key} must be a finite number >= 0; got {value!r}"
            )
    if "total_cost" in cost and len(cost) > 1:
        raise InvalidOptionError(
            "custom_cost", "total_cost cannot be combined with per-token rates"
        )
    if not cost:
        raise InvalidOptionError(
            "custom_cost", "give per_token_in and per_token_out, or total_cost"
        )


_STEP_CONFIG_HEADERS = frozenset(
    (Header.REQUEST_TIMEOUT, Header.MAX_ATTEMPTS, Header.RETRY_DELAY, Header.BACKOFF)
)


def _option_error(exc: ValidationError) -> InvalidOptionError:
    first = exc.errors(include_url=False)[0]
    original = (first.get("ctx") or {}).get("error")
    if isinstance(original, InvalidOptionError):
        return original
    loc = [str(p) for p in first.get("loc", ())]
    field = loc[0] if loc else "gateway_options"
    where = ".".join(loc[:2]) if loc else field
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        known = ", ".join(GatewayOptions.model_fields)
        return InvalidOptionError(field, f"is not a gateway option; known options: {known}")
    expected = {
        "cache_ttl": "an integer number of seconds",
        "request_timeout_ms": "an integer number of milliseconds",
        "retry_delay_ms": "an integer number of milliseconds",
        "max_attempts": "an integer from 1 to 5",
        "backoff": "one of 'constant', 'linear', 'exponential'",
        "metadata": "a dict of at most 5 string keys to string, number or boolean values",
        "custom_cost": "a dict such as {'per_token_in': 1e-6, 'per_token_out': 2e-6}",
        "allowed_models": "a list of strings such as ['anthropic/*', 'openai/gpt-4o-mini']",
        "allowed_providers": "a list of strings such as ['anthropic', 'openai']",
    }.get(field, "a " + ("boolean" if field in _BOOL_FIELDS else "string"))
    got = first.get("input")
    got_text = type(got).__name__ if isinstance(got, (dict, list)) else repr(got)[:80]
    return InvalidOptionError(field, f"must be {expected} ({where}); got {got_text}")


_BOOL_FIELDS = {
    "skip_cache",
    "collect_log",
    "collect_log_payload",
    "zdr",
    "no_wholesale",
    "no_session_affinity",
}


def __getattr__(name: str) -> GatewayOptions:
    """`EMPTY_OPTIONS` (no header at all), made on first use: the model builds lazily.

    Args:
        name: The attribute asked for.

    Returns:
        The empty `GatewayOptions`.

    Raises:
        AttributeError: `name` is not `EMPTY_OPTIONS`.
    """
    if name != "EMPTY_OPTIONS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = GatewayOptions()
    return value
