"""GatewayOptions -> cf-aig-* headers: every field, each bound on both sides, merging (section 3)."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.core import (
    GatewayConfig,
    GatewayOptions,
    InvalidModelIdError,
    InvalidOptionError,
    Step,
    build_universal,
    coerce_options,
)

MONTH = 30 * 24 * 3600

# ------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({"cache_ttl": 3600}, {"cf-aig-cache-ttl": "3600"}),
        ({"skip_cache": True}, {"cf-aig-skip-cache": "true"}),
        ({"skip_cache": False}, {}),
        ({"cache_key": "faq-42"}, {"cf-aig-cache-key": "faq-42"}),
        ({"metadata": {"user": "u1"}}, {"cf-aig-metadata": '{"user":"u1"}'}),
        (
            {"metadata": {"s": "x", "i": 7, "f": 1.5, "t": True, "n": False}},
            {"cf-aig-metadata": '{"s":"x","i":7,"f":1.5,"t":true,"n":false}'},
        ),
        # Header values are ASCII: other text travels as JSON \u escapes; a newline as \n.
        ({"metadata": {"name": "Zoë"}}, {"cf-aig-metadata": '{"name":"Zo\\u00eb"}'}),
        ({"metadata": {"note": "a\nb"}}, {"cf-aig-metadata": '{"note":"a\\nb"}'}),
        ({"metadata": {}}, {}),
        ({"collect_log": False}, {"cf-aig-collect-log": "false"}),
        ({"collect_log": True}, {"cf-aig-collect-log": "true"}),
        ({"collect_log_payload": False}, {"cf-aig-collect-log-payload": "false"}),
        ({"collect_log_payload": True}, {"cf-aig-collect-log-payload": "true"}),
        ({"event_id": "evt-1"}, {"cf-aig-event-id": "evt-1"}),
        ({"request_timeout_ms": 2500}, {"cf-aig-request-timeout": "2500"}),
        ({"max_attempts": 3}, {"cf-aig-max-attempts": "3"}),
        ({"retry_delay_ms": 500}, {"cf-aig-retry-delay": "500"}),
        ({"backoff": "constant"}, {"cf-aig-backoff": "constant"}),
        ({"backoff": "linear"}, {"cf-aig-backoff": "linear"}),
        ({"backoff": "exponential"}, {"cf-aig-backoff": "exponential"}),
        (
            {"custom_cost": {"per_token_in": 1e-6, "per_token_out": 2e-6}},
            {"cf-aig-custom-cost": '{"per_token_in":1e-06,"per_token_out":2e-06}'},
        ),
        (
            {
                "custom_cost": {
                    "per_token_in": 1.0,
                    "per_token_out": 2.0,
                    "per_cache_read_token": 0.5,
                    "per_cache_write_token": 1.25,
                }
            },
            {
                "cf-aig-custom-cost": '{"per_token_in":1.0,"per_token_out":2.0,'
                '"per_cache_read_token":0.5,"per_cache_write_token":1.25}'
            },
        ),
        ({"custom_cost": {"total_cost": 0.25}}, {"cf-aig-custom-cost": '{"total_cost":0.25}'}),
        (
            {"custom_cost": {"per_token_in": 1, "per_token_out": 0}},
            {"cf-aig-custom-cost": '{"per_token_in":1.0,"per_token_out":0.0}'},
        ),
        ({"byok_alias": "team-a"}, {"cf-aig-byok-alias": "team-a"}),
        ({"zdr": True}, {"cf-aig-zdr": "true"}),
        ({"zdr": False}, {"cf-aig-zdr": "false"}),
        ({"no_wholesale": True}, {"cf-aig-no-wholesale": "true"}),
        ({"no_wholesale": False}, {}),
        ({}, {}),
    ],
)
def test_each_field_renders_its_header(fields: dict[str, Any], headers: dict[str, str]) -> None:
    options = GatewayOptions(**fields)
    assert options.to_headers() == headers
    assert options.is_empty() == (not headers)


def test_every_field_is_covered() -> None:
    everything = GatewayOptions(
        cache_ttl=60,
        skip_cache=True,
        cache_key="k",
        metadata={"a": 1},
        collect_log=True,
        collect_log_payload=False,
        event_id="e",
        request_timeout_ms=1,
        max_attempts=1,
        retry_delay_ms=0,
        backoff="linear",
        custom_cost={"total_cost": 1.0},
        byok_alias="b",
        zdr=True,
        no_wholesale=True,
        allowed_models=["anthropic/*"],
        allowed_providers=["anthropic"],
        session_id="s",
        turn_id="t",
        no_session_affinity=True,
    )
    assert set(GatewayOptions.model_fields) == everything.model_fields_set
    assert len(everything.to_headers()) == len(GatewayOptions.model_fields)
    assert all(name.startswith("cf-aig-") for name in everything.to_headers())


def test_to_headers_returns_a_fresh_dict() -> None:
    options = GatewayOptions(cache_ttl=60)
    options.to_headers()["cf-aig-cache-ttl"] = "1"
    assert options.to_headers() == {"cf-aig-cache-ttl": "60"}


# ------------------------------------------------------------------- bounds, both sides

LONG = "x" * 8192


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cache_ttl", 60),
        ("cache_ttl", MONTH),
        ("max_attempts", 1),
        ("max_attempts", 5),
        ("retry_delay_ms", 0),
        ("retry_delay_ms", 5000),
        ("request_timeout_ms", 1),
        ("request_timeout_ms", 600_000),
        ("metadata", {f"k{i}": i for i in range(5)}),
        ("cache_key", LONG),
        ("event_id", LONG),
        ("byok_alias", LONG),
        ("cache_key", "a b"),  # inner spaces are fine in a header value
        ("custom_cost", {"per_token_in": 0.0, "per_token_out": 0.0}),
    ],
)
def test_accepted_at_the_bound(field: str, value: Any) -> None:
    assert getattr(GatewayOptions(**{field: value}), field) == value


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("cache_ttl", 59, "must be from 60 to 2592000 seconds (one month); got 59"),
        (
            "cache_ttl",
            MONTH + 1,
            f"must be from 60 to 2592000 seconds (one month); got {MONTH + 1}",
        ),
        ("cache_ttl", 0, "To bypass the cache use skip_cache=True"),
        ("cache_ttl", -60, "must be from 60 to 2592000"),
        ("max_attempts", 0, "must be from 1 to 5; got 0"),
        ("max_attempts", 6, "must be from 1 to 5; got 6"),
        ("retry_delay_ms", -1, "must be from 0 to 5000 ms; got -1"),
        ("retry_delay_ms", 5001, "must be from 0 to 5000 ms; got 5001"),
        ("request_timeout_ms", 0, "must be a positive number of milliseconds; got 0"),
        ("request_timeout_ms", -5, "must be a positive number of milliseconds"),
        ("backoff", "Linear", "must be one of 'constant', 'linear', 'exponential'"),
        ("backoff", "random", "must be one of 'constant', 'linear', 'exponential'"),
        ("metadata", {f"k{i}": i for i in range(6)}, "at most 5 entries are allowed; got 6"),
        ("metadata", {"cf.user_id": "u"}, "keys starting with 'cf.' are reserved"),
        ("metadata", {"CF.user": "u"}, "keys starting with 'cf.' are reserved"),
        ("metadata", {"": "u"}, "keys must be non-empty strings"),
        ("metadata", {" ": "u"}, "keys must be non-empty strings"),
        ("metadata", {"a\nb": "u"}, "has a control character"),
        ("metadata", {"a": "x\0"}, "has a control character"),
        ("metadata", {"a": float("nan")}, "must be a finite number"),
        ("metadata", {"a": float("inf")}, "must be a finite number"),
        ("metadata", {"a": None}, "string, number or boolean values"),
        ("metadata", {"a": {"b": 1}}, "string, number or boolean values"),
        ("metadata", {"a": [1]}, "string, number or boolean values"),
        ("metadata", {1: "a"}, "string, number or boolean values"),
        ("metadata", ["a"], "string, number or boolean values"),
        ("cache_key", "", "must not be empty"),
        ("cache_key", "x" * 8193, "must be at most 8192 characters; got 8193"),
        ("cache_key", "a\r\nX-Evil: 1", "no CR, LF"),
        ("cache_key", "a\nb", "no CR, LF"),
        ("cache_key", "a\rb", "no CR, LF"),
        ("cache_key", "a\tb", "no CR, LF, control characters"),
        ("cache_key", " a", "surrounding spaces"),
        ("cache_key", "café", "printable ASCII"),
        ("event_id", "e\n", "no CR, LF"),
        ("event_id", "", "must not be empty"),
        ("byok_alias", "b\r", "no CR, LF"),
        ("byok_alias", "x" * 8193, "at most 8192 characters"),
        ("custom_cost", {"per_token": 1.0}, "unknown key 'per_token'; allowed: per_token_in"),
        ("custom_cost", {"per_token_in": -1.0}, "per_token_in must be a finite number >= 0"),
        ("custom_cost", {"per_token_in": float("nan")}, "must be a finite number >= 0"),
        ("custom_cost", {"total_cost": 1.0, "per_token_in": 1.0}, "cannot be combined"),
        ("custom_cost", {}, "give per_token_in and per_token_out, or total_cost"),
        ("custom_cost", {"per_token_in": "1"}, "a dict such as"),
        ("cache_ttl", "60", "must be an integer number of seconds"),
        ("cache_ttl", 60.0, "must be an integer number of seconds"),
        ("cache_ttl", True, "must be an integer number of seconds"),
        ("max_attempts", "3", "must be an integer from 1 to 5"),
        ("retry_delay_ms", 1.5, "must be an integer number of milliseconds"),
        ("request_timeout_ms", "1000", "must be an integer number of milliseconds"),
        ("skip_cache", "yes", "must be a boolean"),
        ("skip_cache", 1, "must be a boolean"),
        ("collect_log", "false", "must be a boolean"),
        ("collect_log_payload", 0, "must be a boolean"),
        ("zdr", "true", "must be a boolean"),
        ("no_wholesale", 1, "must be a boolean"),
        ("cache_key", 42, "must be a string"),
        ("event_id", 1, "must be a string"),
        ("byok_alias", b"x", "must be a string"),
    ],
)
def test_rejected_naming_field_and_range(field: str, value: Any, fragment: str) -> None:
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(**{field: value})
    assert isinstance(err.value, ValueError)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert fragment in str(err.value)


def test_unknown_option_lists_the_known_ones() -> None:
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(cache_tll=60)
    assert err.value.field == "cache_tll"
    assert "is not a gateway option; known options: cache_ttl, skip_cache" in str(err.value)


def test_model_copy_with_update_validates_and_renders_again() -> None:
    options = GatewayOptions(cache_ttl=60, event_id="e")
    assert options.model_copy().to_headers() == options.to_headers()
    updated = options.model_copy(update={"cache_ttl": 120})
    assert updated.to_headers() == {"cf-aig-cache-ttl": "120", "cf-aig-event-id": "e"}
    with pytest.raises(InvalidOptionError, match="cache_ttl: must be from 60 to 2592000"):
        options.model_copy(update={"cache_ttl": 5})


def test_options_are_frozen() -> None:
    options = GatewayOptions(cache_ttl=60)
    with pytest.raises(ValueError):
        options.cache_ttl = 120  # type: ignore[misc]


# ------------------------------------------------------------------- merging


def test_per_call_overrides_model_level() -> None:
    model = GatewayOptions(cache_ttl=3600, event_id="m", max_attempts=2)
    merged = model.merge(GatewayOptions(cache_ttl=60, skip_cache=True))
    assert merged.to_headers() == {
        "cf-aig-cache-ttl": "60",
        "cf-aig-skip-cache": "true",
        "cf-aig-event-id": "m",
        "cf-aig-max-attempts": "2",
    }
    assert model.to_headers()["cf-aig-cache-ttl"] == "3600"  # the original is untouched


def test_merge_accepts_a_dict_and_none() -> None:
    model = GatewayOptions(cache_ttl=3600)
    assert model.merge(None) is model
    assert model.merge({}) is model
    assert model.merge({"cache_ttl": 120}).cache_ttl == 120
    assert GatewayOptions().merge({"zdr": True}).to_headers() == {"cf-aig-zdr": "true"}


def test_metadata_merges_key_by_key() -> None:
    model = GatewayOptions(metadata={"team": "search", "env": "prod"})
    merged = model.merge({"metadata": {"env": "staging", "user": "u1"}})
    assert merged.metadata == {"team": "search", "env": "staging", "user": "u1"}
    assert merged.to_headers() == {
        "cf-aig-metadata": '{"team":"search","env":"staging","user":"u1"}'
    }


def test_metadata_budget_applies_after_merging() -> None:
    model = GatewayOptions(metadata={"a": 1, "b": 2, "c": 3})
    assert len(model.merge({"metadata": {"c": 0, "d": 4, "e": 5}}).metadata or {}) == 5
    with pytest.raises(InvalidOptionError, match="metadata: at most 5 entries are allowed; got 6"):
        model.merge({"metadata": {"d": 4, "e": 5, "f": 6}})


def test_an_explicit_none_clears_a_model_level_value() -> None:
    model = GatewayOptions(cache_ttl=3600, metadata={"a": 1})
    merged = model.merge({"cache_ttl": None, "metadata": None})
    assert merged.to_headers() == {}


def test_per_call_false_turns_off_a_model_level_true() -> None:
    merged = GatewayOptions(skip_cache=True, collect_log=True).merge(
        {"skip_cache": False, "collect_log": False}
    )
    assert merged.to_headers() == {"cf-aig-collect-log": "false"}


def test_merge_validates_the_override() -> None:
    with pytest.raises(InvalidOptionError, match="max_attempts: must be from 1 to 5"):
        GatewayOptions().merge({"max_attempts": 9})


def test_coerce_options() -> None:
    options = GatewayOptions(cache_ttl=60)
    assert coerce_options(options) is options
    assert coerce_options(None) is None
    assert coerce_options({"cache_ttl": 60}) == options
    with pytest.raises(
        InvalidOptionError, match="gateway_options: must be a GatewayOptions or a dict"
    ):
        coerce_options([("cache_ttl", 60)])  # type: ignore[arg-type]


# ------------------------------------------------------------------- universal steps


def test_step_headers_and_config_split_the_options() -> None:
    options = GatewayOptions(
        cache_ttl=60,
        metadata={"a": 1},
        request_timeout_ms=1000,
        max_attempts=2,
        retry_delay_ms=500,
        backoff="exponential",
    )
    assert options.step_headers() == {"cf-aig-cache-ttl": "60", "cf-aig-metadata": '{"a":1}'}
    assert options.step_config() == {
        "requestTimeout": 1000,
        "maxAttempts": 2,
        "retryDelay": 500,
        "backoff": "exponential",
    }


CONFIG = GatewayConfig(account_id="acct", gateway_id="gw", token="tok")  # type: ignore[arg-type]
GW = "https://gateway.ai.cloudflare.com/v1/acct/gw"


def test_universal_body() -> None:
    universal = build_universal(
        CONFIG,
        [
            Step("openai/gpt-4o-mini", GatewayOptions(request_timeout_ms=5000, cache_ttl=60)),
            Step("groq/llama-3.1-8b-instant", endpoint="native", headers={"x-step": "2"}),
            Step("@cf/meta/llama-3.1-8b-instruct", GatewayOptions(max_attempts=3)),
        ],
        provider_key="pk-1",
    )
    assert universal.url == GW
    assert dict(universal.headers) == {"cf-aig-authorization": "Bearer tok"}
    body = universal.body({"messages": [{"role": "user", "content": "hi"}], "model": "x"})
    messages = [{"role": "user", "content": "hi"}]
    assert body == [
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": {
                "content-type": "application/json",
                "authorization": "Bearer pk-1",
                "cf-aig-cache-ttl": "60",
            },
            "config": {"requestTimeout": 5000},
            "query": {"messages": messages, "model": "openai/gpt-4o-mini"},
        },
        {
            "provider": "groq",
            "endpoint": "chat/completions",
            "headers": {
                "content-type": "application/json",
                "authorization": "Bearer pk-1",
                "x-step": "2",
            },
            "query": {"messages": messages, "model": "llama-3.1-8b-instant"},
        },
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": {"content-type": "application/json", "authorization": "Bearer pk-1"},
            "config": {"maxAttempts": 3},
            "query": {"messages": messages, "model": "workers-ai/@cf/meta/llama-3.1-8b-instruct"},
        },
    ]


def test_universal_native_workers_ai_and_embeddings() -> None:
    universal = build_universal(
        CONFIG,
        [Step("workers-ai/@cf/baai/bge-base-en-v1.5", endpoint="native")],
        operation="embeddings",
    )
    [step] = universal.body({"input": ["a"]})
    assert step["provider"] == "workers-ai"
    assert step["endpoint"] == "v1/embeddings"
    assert step["query"] == {"input": ["a"], "model": "@cf/baai/bge-base-en-v1.5"}


def test_universal_refuses_empty_chains_and_rest_steps() -> None:
    with pytest.raises(InvalidModelIdError, match="at least one model"):
        build_universal(CONFIG, [])
    with pytest.raises(
        InvalidModelIdError, match="must use endpoint 'compat' or 'native'; got 'rest'"
    ):
        build_universal(CONFIG, [Step("openai/gpt-4o", endpoint="rest")])  # type: ignore[arg-type]


# ------------------------------------------------------------------- Auto Router

AUTO_ROUTER_PROVIDERS = (
    "anthropic",
    "openai",
    "xai",
    "workers-ai",
    "alibaba",
    "fireworks",
    "minimax",
)


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        (
            {"allowed_models": ["openai/gpt-4o-mini"]},
            {"cf-aig-allowed-models": "openai/gpt-4o-mini"},
        ),
        (
            {"allowed_models": ["anthropic/*", "workers-ai/@cf/meta/llama-3.1-8b-instruct"]},
            {"cf-aig-allowed-models": "anthropic/*,workers-ai/@cf/meta/llama-3.1-8b-instruct"},
        ),
        (
            {"allowed_models": ["workers-ai/@cf/meta/*"]},
            {"cf-aig-allowed-models": "workers-ai/@cf/meta/*"},
        ),
        ({"allowed_providers": ["openai"]}, {"cf-aig-allowed-providers": "openai"}),
        (
            {"allowed_providers": list(AUTO_ROUTER_PROVIDERS)},
            {"cf-aig-allowed-providers": ",".join(AUTO_ROUTER_PROVIDERS)},
        ),
        ({"session_id": "chat-42"}, {"cf-aig-session-id": "chat-42"}),
        ({"turn_id": "turn-7"}, {"cf-aig-turn-id": "turn-7"}),
        ({"no_session_affinity": True}, {"cf-aig-no-session-affinity": "true"}),
        ({"no_session_affinity": False}, {}),
    ],
)
def test_auto_router_fields_render_their_headers(
    fields: dict[str, Any], headers: dict[str, str]
) -> None:
    options = GatewayOptions(**fields)
    assert options.to_headers() == headers
    assert options.step_headers() == headers  # not part of a universal step's config


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("allowed_models", [], "must not be empty; leave it unset instead"),
        ("allowed_models", ["a/b,c/d"], "no commas"),
        ("allowed_models", ["openai/gpt 4o"], "no spaces"),
        ("allowed_models", [" openai/gpt-4o"], "no spaces"),
        ("allowed_models", [""], "entries must not be empty"),
        ("allowed_models", ["anthropic/claude-*"], "'*' must be a whole path segment"),
        ("allowed_models", ["*anthropic/x"], "'*' must be a whole path segment"),
        ("allowed_models", ["openai/**"], "'*' must be a whole path segment"),
        ("allowed_models", ["openai/gpt\n"], "printable ASCII"),
        ("allowed_models", "openai/gpt-4o-mini", "a list of strings"),
        ("allowed_models", ("openai/gpt-4o-mini",), "a list of strings"),
        ("allowed_models", [1], "a list of strings"),
        ("allowed_providers", ["google"], "unknown provider 'google'; allowed: anthropic, openai"),
        ("allowed_providers", ["OpenAI"], "unknown provider 'OpenAI'"),
        ("allowed_providers", ["openai,xai"], "no commas"),
        ("allowed_providers", [], "must not be empty"),
        ("allowed_providers", "openai", "a list of strings"),
        ("session_id", "", "must not be empty"),
        ("session_id", "s\n", "no CR, LF"),
        ("session_id", 7, "must be a string"),
        ("turn_id", "t\r", "no CR, LF"),
        ("turn_id", "x" * 8193, "at most 8192 characters"),
        ("no_session_affinity", "true", "must be a boolean"),
    ],
)
def test_auto_router_fields_rejected_naming_the_field(
    field: str, value: Any, fragment: str
) -> None:
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(**{field: value})
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert fragment in str(err.value)


def test_unknown_provider_lists_every_documented_one() -> None:
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(allowed_providers=["openai", "gemini"])
    assert ", ".join(AUTO_ROUTER_PROVIDERS) in str(err.value)


def test_allow_lists_replace_on_merge() -> None:
    model = GatewayOptions(allowed_models=["anthropic/*"], session_id="s1")
    merged = model.merge({"allowed_models": ["openai/*"], "turn_id": "t2"})
    assert merged.to_headers() == {
        "cf-aig-allowed-models": "openai/*",
        "cf-aig-session-id": "s1",
        "cf-aig-turn-id": "t2",
    }


def test_allowed_models_as_one_header_stays_within_its_bound() -> None:
    """Each entry within the bound is not enough: the list is sent as one header."""
    entries = [f"openai/{'m' * 3000}{i}" for i in range(4)]
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(allowed_models=entries)
    assert err.value.field == "allowed_models"
    assert "one header" in str(err.value)


@pytest.mark.parametrize("entry", ["workers-ai/*", "workers-ai/*/*", "workers-ai/llama-3"])
def test_a_workers_ai_entry_must_name_the_whole_id(entry: str) -> None:
    """Workers AI ids are `workers-ai/@cf/<author>/<model>`; `*` does not cross `/`, so
    `workers-ai/*` can match none of them (Cloudflare answers 400)."""
    with pytest.raises(InvalidOptionError) as err:
        GatewayOptions(allowed_models=[entry])
    assert "workers-ai/@cf/*/*" in str(err.value)
    assert "allowed_providers=['workers-ai']" in str(err.value)


def test_a_whole_workers_ai_entry_is_accepted() -> None:
    options = GatewayOptions(allowed_models=["workers-ai/@cf/*/*", "workers-ai/@cf/meta/x"])
    assert (
        options.to_headers()["cf-aig-allowed-models"] == "workers-ai/@cf/*/*,workers-ai/@cf/meta/x"
    )
