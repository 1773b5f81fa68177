"""ChatCloudflareGateway without a server: construction, conventions, bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_cf_gateway import ChatCloudflareGateway, GatewayOptions
from langchain_cf_gateway.core import ConfigError, InvalidModelIdError, InvalidOptionError

BASE = {"model": "openai/gpt-4o-mini", "account_id": "acct", "base_url": "http://127.0.0.1:8787"}


def make(**kwargs: Any) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(**{**BASE, **kwargs})


def test_langchain_conventions() -> None:
    model = make(temperature=0.2, max_tokens=50)

    assert model._llm_type == "cloudflare-ai-gateway-chat"
    assert model.get_lc_namespace() == ["langchain_cf_gateway", "chat_models"]
    assert model.is_lc_serializable()
    assert model.lc_secrets == {
        "gateway_token": "CLOUDFLARE_AI_GATEWAY_TOKEN",
        "provider_api_key": "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY",
    }
    assert model._get_ls_params() == {
        "ls_provider": "cloudflare-ai-gateway",
        "ls_model_name": "openai/gpt-4o-mini",
        "ls_model_type": "chat",
        "ls_temperature": 0.2,
        "ls_max_tokens": 50,
    }
    assert model.stream_usage is True
    assert model.use_responses_api is False


def test_the_sdk_base_is_built_from_the_host() -> None:
    for base_url in (
        "http://127.0.0.1:8787",
        "http://127.0.0.1:8787/v1/",
        "http://127.0.0.1:8787/",
    ):
        model = make(base_url=base_url)
        assert str(model.root_client.base_url) == "http://127.0.0.1:8787/v1/acct/default/compat/"
        assert model.openai_api_base == "http://127.0.0.1:8787"
    native = make(endpoint="native", gateway_id="gw")
    assert str(native.root_client.base_url) == "http://127.0.0.1:8787/v1/acct/gw/openai/"


def test_gateway_options_accept_a_dict_or_options_and_serialize_as_a_dict() -> None:
    from_dict = make(gateway_options={"cache_ttl": 300, "metadata": {"team": "docs"}})
    from_options = make(gateway_options=GatewayOptions(cache_ttl=300, metadata={"team": "docs"}))

    assert from_dict.gateway_options == from_options.gateway_options
    assert from_dict.lc_attributes == {
        "gateway_options": {"cache_ttl": 300, "metadata": {"team": "docs"}}
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "gpt-4o-mini"}, InvalidModelIdError, "needs a provider"),
        ({"gateway_options": {"cache_ttl": 5}}, InvalidOptionError, "cache_ttl"),
        ({"gateway_options": {"cache_tll": 60}}, InvalidOptionError, "not a gateway option"),
        ({"account_id": None}, ConfigError, "CLOUDFLARE_ACCOUNT_ID"),
        ({"base_url": "127.0.0.1:8787"}, ConfigError, "http"),
        ({"endpoint": "rest", "gateway_token": "t", "api_key": "sk"}, ConfigError, "BYOK"),
        ({"endpoint": "rest"}, ConfigError, "token"),
        ({"fallbacks": ["openai/gpt-4o"], "endpoint": "rest"}, ConfigError, "universal"),
        ({"fallbacks": [{"model": "openai/gpt-4o", "api_key": "sk"}]}, ConfigError, "BYOK"),
        ({"fallbacks": [{"gateway_options": {}}]}, ConfigError, "'model'"),
        ({"fallbacks": ["gpt-4o"]}, InvalidModelIdError, "needs a provider"),
        (
            {"fallbacks": [{"model": "openai/gpt-4o", "gateway_options": {"max_attempts": 9}}]},
            InvalidOptionError,
            "max_attempts",
        ),
        (
            {"fallbacks": ["openai/gpt-4o"], "http_client": httpx.Client()},
            ConfigError,
            "http_client",
        ),
    ],
)
def test_bad_input_raises_the_core_error_that_names_the_fix(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make(**kwargs)


def test_a_user_http_client_is_left_alone_and_the_model_hooks_its_own_once() -> None:
    # The user's client used to get the capture hook added (once, however many models);
    # now it gets nothing, and each model's own client carries the hook once.
    client = httpx.Client()
    first = make(http_client=client)
    second = make(http_client=client)

    assert client.event_hooks == {"request": [], "response": []}
    for model in (first, second):
        own = model.root_client._client
        assert own is not client
        assert len(own.event_hooks["response"]) == 1


def test_the_token_comes_from_either_variable_and_no_openai_key_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("CF_AIG_TOKEN", "short-name-token")
    short = make()
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", "long-name-token")
    long = make()

    assert short.gateway_token is not None
    assert short.gateway_token.get_secret_value() == "short-name-token"
    assert long.gateway_token is not None
    assert long.gateway_token.get_secret_value() == "long-name-token"
    assert long.provider_api_key is None
    assert long.openai_api_key is None
    assert long.root_client.api_key != "sk-from-the-environment"


def test_the_provider_key_is_provider_api_key_by_any_of_its_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY", raising=False)
    for name in ("api_key", "provider_api_key", "openai_api_key"):  # the last: earlier versions
        model = make(**{name: "sk-given"})
        assert model.provider_api_key is not None, name
        assert model.provider_api_key.get_secret_value() == "sk-given"
        assert model.openai_api_key is None
        assert model.root_client.api_key == "sk-given"
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY", "sk-from-env")
    from_env = make()
    assert from_env.provider_api_key is not None
    assert from_env.provider_api_key.get_secret_value() == "sk-from-env"
    assert make(api_key="sk-given").root_client.api_key == "sk-given"  # the argument wins


def test_a_model_serialized_with_openai_api_key_still_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langchain_core.load import dumpd, load

    # The kwargs of a model serialized before the field was named provider_api_key.
    old = dumpd(make(api_key="sk-old"))
    old["kwargs"]["openai_api_key"] = old["kwargs"].pop("provider_api_key")
    assert old["kwargs"]["openai_api_key"]["id"] == ["CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY"]
    loaded = load(
        old,
        secrets_map={"CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY": "sk-old"},
        valid_namespaces=["langchain_cf_gateway"],
        allowed_objects=[ChatCloudflareGateway],
    )
    assert isinstance(loaded, ChatCloudflareGateway)
    assert loaded.provider_api_key is not None
    assert loaded.provider_api_key.get_secret_value() == "sk-old"


def test_the_embeddings_name_their_fields_as_the_chat_model_does() -> None:
    from langchain_cf_gateway import CloudflareGatewayEmbeddings

    chat = ChatCloudflareGateway.model_fields
    embeddings = CloudflareGatewayEmbeddings.model_fields
    shared_aliases = {field.alias or name for name, field in embeddings.items()} & {
        field.alias or name for name, field in chat.items()
    }
    for alias in shared_aliases:
        chat_name = next(n for n, f in chat.items() if (f.alias or n) == alias)
        embeddings_name = next(n for n, f in embeddings.items() if (f.alias or n) == alias)
        assert chat_name == embeddings_name, alias
    assert {"model", "api_key", "base_url", "timeout"} <= shared_aliases
    built = CloudflareGatewayEmbeddings(
        model="openai/text-embedding-3-small",
        account_id="acct",
        base_url="http://127.0.0.1:8787",
        api_key="sk-e",
        timeout=3,
    )
    assert built.model_name == "openai/text-embedding-3-small"
    assert built.provider_api_key is not None
    assert built.provider_api_key.get_secret_value() == "sk-e"
    assert (built.openai_api_base, built.request_timeout) == ("http://127.0.0.1:8787", 3)
