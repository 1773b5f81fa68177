"""Model ids -> routes: every provider slug and alias on every endpoint kind (spec sections 1-2).

The expected table below is written out from the spec, not derived from ``PROVIDERS``, so
that a wrong row in core fails here; ``test_table_covers_every_provider`` makes a new
provider in core add a row here.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from langchain_cf_gateway.core import (
    PROVIDERS,
    ConfigError,
    GatewayConfig,
    InvalidModelIdError,
    build_route,
    parse_model_id,
    provider_base_url,
)
from langchain_cf_gateway.core.errors import MissingAccountIdError

ACCT = "acct123"
GW = "gw-1"
TOKEN = "tok-routing-0123456789"
GATEWAY = f"https://gateway.ai.cloudflare.com/v1/{ACCT}/{GW}"
REST_URL = f"https://api.cloudflare.com/client/v4/accounts/{ACCT}/ai/v1/chat/completions"
GATEWAY_AUTH = {"cf-aig-authorization": f"Bearer {TOKEN}"}
REST_HEADERS = {"Authorization": f"Bearer {TOKEN}", "cf-aig-gateway-id": GW}

CONFIG = GatewayConfig(account_id=ACCT, gateway_id=GW, token=TOKEN)  # type: ignore[arg-type]


class Row(NamedTuple):
    slug: str
    aliases: tuple[str, ...]
    model: str
    compat_model: str | None
    """Body model on compat; None: compat does not serve the provider."""
    chat_path: str | None
    """Native OpenAI-compatible chat path after /{slug}/; None: no native route."""
    embeddings_path: str | None
    rest_model: str | None
    """Body model on the REST API; None: the REST API does not serve it."""
    sdk_base: str
    """provider_base_url(slug) after the gateway URL."""


M = "m-1"
CF_MODEL = "@cf/meta/llama-3.1-8b-instruct"

TABLE: tuple[Row, ...] = (
    Row("openai", (), M, f"openai/{M}", "chat/completions", "embeddings", f"openai/{M}", "/openai"),
    Row("anthropic", (), M, f"anthropic/{M}", None, None, f"anthropic/{M}", "/anthropic"),
    Row(
        "google-ai-studio",
        ("google", "gemini"),
        M,
        f"google-ai-studio/{M}",
        None,
        None,
        f"google/{M}",
        "/google-ai-studio",
    ),
    # Compat spells Vertex models google-vertex-ai/google/{m} (section 2).
    Row(
        "google-vertex-ai",
        ("vertex", "vertex-ai"),
        M,
        f"google-vertex-ai/google/{M}",
        None,
        None,
        None,
        "/google-vertex-ai",
    ),
    Row(
        "workers-ai",
        ("workersai", "cloudflare"),
        CF_MODEL,
        f"workers-ai/{CF_MODEL}",
        "v1/chat/completions",
        "v1/embeddings",
        CF_MODEL,
        "/workers-ai/v1",
    ),
    Row("azure-openai", ("azure",), M, None, None, None, None, "/azure-openai"),
    Row("aws-bedrock", ("bedrock",), M, f"aws-bedrock/{M}", None, None, None, "/aws-bedrock"),
    Row("groq", (), M, f"groq/{M}", "chat/completions", None, None, "/groq"),
    Row(
        "mistral",
        (),
        M,
        f"mistral/{M}",
        "v1/chat/completions",
        "v1/embeddings",
        None,
        "/mistral/v1",
    ),
    Row("cohere", (), M, f"cohere/{M}", None, None, None, "/cohere"),
    # The compat prefix is perplexity/, not the slug perplexity-ai/ (section 2).
    Row(
        "perplexity-ai",
        ("perplexity",),
        M,
        f"perplexity/{M}",
        "chat/completions",
        None,
        None,
        "/perplexity-ai",
    ),
    # xAI: grok/ on the gateway, xai/ on the REST API (section 2).
    Row(
        "grok",
        ("xai", "x-ai"),
        M,
        f"grok/{M}",
        "v1/chat/completions",
        None,
        f"xai/{M}",
        "/grok/v1",
    ),
    Row("deepseek", (), M, f"deepseek/{M}", "chat/completions", None, None, "/deepseek"),
    Row("cerebras", (), M, f"cerebras/{M}", "chat/completions", None, None, "/cerebras"),
    Row("baseten", (), M, f"baseten/{M}", "v1/chat/completions", None, None, "/baseten/v1"),
    Row("parallel", (), M, f"parallel/{M}", None, None, None, "/parallel"),
    Row(
        "openrouter",
        (),
        M,
        None,
        "v1/chat/completions",
        "v1/embeddings",
        None,
        "/openrouter/v1",
    ),
    Row("replicate", (), M, None, None, None, None, "/replicate"),
    Row("huggingface", (), M, None, None, None, None, "/huggingface"),
    Row("elevenlabs", (), M, None, None, None, None, "/elevenlabs"),
    Row("cartesia", (), M, None, None, None, None, "/cartesia"),
    Row("fal", (), M, None, None, None, None, "/fal"),
    Row("ideogram", (), M, None, None, None, None, "/ideogram"),
    Row("deepgram", (), M, None, None, None, None, "/deepgram"),
)
REST_SERVED = "openai, anthropic, google-ai-studio, workers-ai, grok"


def _names(row: Row) -> list[str]:
    return [row.slug, *row.aliases, row.slug.upper()]


CASES = [(row, name) for row in TABLE for name in _names(row)]
IDS = [f"{name}" for _, name in CASES]


def test_table_covers_every_provider() -> None:
    assert [p.slug for p in PROVIDERS] == [row.slug for row in TABLE]
    assert {p.slug: p.aliases for p in PROVIDERS} == {row.slug: row.aliases for row in TABLE}


@pytest.mark.parametrize(("row", "name"), CASES, ids=IDS)
def test_parse(row: Row, name: str) -> None:
    ref = parse_model_id(f"{name}/{row.model}")
    assert ref.slug == row.slug
    assert ref.model == row.model
    assert ref.model_id == f"{row.slug}/{row.model}"
    assert not ref.dynamic


@pytest.mark.parametrize(("row", "name"), CASES, ids=IDS)
@pytest.mark.parametrize("operation", ["chat", "embeddings"])
def test_compat(row: Row, name: str, operation: str) -> None:
    model_id = f"{name}/{row.model}"
    path = "chat/completions" if operation == "chat" else "embeddings"
    if row.compat_model is None:
        with pytest.raises(InvalidModelIdError) as err:
            build_route(CONFIG, model_id, "compat", operation)  # type: ignore[arg-type]
        message = str(err.value)
        assert f"{row.slug} is not served by the compat endpoint" in message
        # The fix it names must be one that works for this provider.
        if row.chat_path is not None:
            assert "use endpoint='native'" in message
        else:
            assert f"provider_base_url('{row.slug}')" in message
            assert "endpoint='native'" not in message
        return
    route = build_route(CONFIG, model_id, "compat", operation)  # type: ignore[arg-type]
    assert route.url == f"{GATEWAY}/compat/{path}"
    assert route.body_model == row.compat_model
    assert dict(route.headers) == GATEWAY_AUTH
    assert route.endpoint == "compat"
    assert route.provider == row.slug
    assert route.sdk_base_url == f"{GATEWAY}/compat"


@pytest.mark.parametrize(("row", "name"), CASES, ids=IDS)
@pytest.mark.parametrize("operation", ["chat", "embeddings"])
def test_native(row: Row, name: str, operation: str) -> None:
    model_id = f"{name}/{row.model}"
    path = row.chat_path if operation == "chat" else row.embeddings_path
    if path is None:
        with pytest.raises(InvalidModelIdError) as err:
            build_route(CONFIG, model_id, "native", operation)  # type: ignore[arg-type]
        message = str(err.value)
        assert f"{row.slug} has no OpenAI-compatible" in message
        assert "provider-native path" in message
        if row.compat_model is not None:
            assert f"use endpoint='compat' for {row.slug}/{row.model}" in message
        else:
            assert f"provider_base_url('{row.slug}')" in message
            assert "endpoint='compat'" not in message
        return
    route = build_route(CONFIG, model_id, "native", operation)  # type: ignore[arg-type]
    assert route.url == f"{GATEWAY}/{row.slug}/{path}"
    assert route.body_model == row.model
    assert dict(route.headers) == GATEWAY_AUTH
    assert route.endpoint == "native"


@pytest.mark.parametrize(("row", "name"), CASES, ids=IDS)
def test_rest(row: Row, name: str) -> None:
    model_id = f"{name}/{row.model}"
    if row.rest_model is None:
        with pytest.raises(InvalidModelIdError) as err:
            build_route(CONFIG, model_id, "rest")
        message = str(err.value)
        assert f"the REST API serves {REST_SERVED} models" in message
        if row.compat_model is not None:
            assert f"use endpoint='compat' for {row.slug}/{row.model}" in message
        elif row.chat_path is not None:
            assert f"use endpoint='native' for {row.slug}/{row.model}" in message
        else:
            assert f"provider_base_url('{row.slug}')" in message
        return
    route = build_route(CONFIG, model_id, "rest")
    assert route.url == REST_URL
    assert route.body_model == row.rest_model
    assert dict(route.headers) == REST_HEADERS
    assert route.sdk_base_url == REST_URL.removesuffix("/chat/completions")


@pytest.mark.parametrize(
    "row", [r for r in TABLE if r.rest_model is not None], ids=lambda r: r.slug
)
def test_rest_embeddings_is_refused(row: Row) -> None:
    # Served for Workers AI only
    # (https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/).
    model_id = f"{row.slug}/{row.model}"
    if row.slug == "workers-ai":
        route = build_route(CONFIG, model_id, "rest", "embeddings")
        assert route.url == REST_URL.replace("chat/completions", "embeddings")
        return
    with pytest.raises(InvalidModelIdError, match=r"Workers AI models only.*use endpoint='compat'"):
        build_route(CONFIG, model_id, "rest", "embeddings")


def test_rest_without_token_names_the_env_var() -> None:
    config = GatewayConfig(account_id=ACCT)
    with pytest.raises(ConfigError, match="CLOUDFLARE_AI_GATEWAY_TOKEN"):
        build_route(config, "openai/gpt-4o-mini", "rest")


def test_rest_on_another_host() -> None:
    config = GatewayConfig(account_id=ACCT, token=TOKEN, base_url="http://127.0.0.1:9")  # type: ignore[arg-type]
    route = build_route(config, "openai/gpt-4o-mini", "rest")
    assert route.url == f"http://127.0.0.1:9/client/v4/accounts/{ACCT}/ai/v1/chat/completions"
    assert route.headers["cf-aig-gateway-id"] == "default"


def test_no_token_sends_no_gateway_authorization() -> None:
    route = build_route(GatewayConfig(account_id=ACCT), "openai/gpt-4o-mini")
    assert dict(route.headers) == {}


# ------------------------------------------------------------------- the rest of the grammar


def test_bare_workers_ai_model() -> None:
    route = build_route(CONFIG, CF_MODEL)
    assert route.provider == "workers-ai"
    assert route.body_model == f"workers-ai/{CF_MODEL}"
    native = build_route(CONFIG, CF_MODEL, "native")
    assert native.url == f"{GATEWAY}/workers-ai/v1/chat/completions"
    assert native.body_model == CF_MODEL
    assert build_route(CONFIG, CF_MODEL, "rest").body_model == CF_MODEL


def test_workers_ai_hf_model() -> None:
    route = build_route(CONFIG, "workers-ai/@hf/thebloke/model")
    assert route.body_model == "workers-ai/@hf/thebloke/model"


@pytest.mark.parametrize("head", ["dynamic", "DYNAMIC"])
def test_dynamic_route(head: str) -> None:
    ref = parse_model_id(f"{head}/support")
    assert ref.dynamic and ref.provider is None and ref.model_id == "dynamic/support"
    route = build_route(CONFIG, f"{head}/support")
    assert route.url == f"{GATEWAY}/compat/chat/completions"
    assert route.body_model == "dynamic/support"
    assert route.provider is None
    with pytest.raises(InvalidModelIdError, match="dynamic routes are served by endpoint='compat'"):
        build_route(CONFIG, "dynamic/support", "native")
    # Dynamic routes on the REST API: body model dynamic/{route}, the owning gateway in
    # cf-aig-gateway-id (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/).
    rest = build_route(CONFIG, f"{head}/support", "rest")
    assert rest.url == REST_URL
    assert rest.body_model == "dynamic/support"
    assert dict(rest.headers) == REST_HEADERS
    assert rest.provider is None


# Cloudflare's Auto Router (https://developers.cloudflare.com/ai-gateway/features/auto-router/),
# dynamic routes and Workers AI ids stay apart: (model id, compat body model, provider slug).
APART = [
    ("cloudflare/auto", "cloudflare/auto", None),
    ("CLOUDFLARE/auto", "cloudflare/auto", None),
    ("Cloudflare/Auto", "cloudflare/auto", None),
    ("dynamic/auto", "dynamic/auto", None),
    ("dynamic/cloudflare", "dynamic/cloudflare", None),
    (f"cloudflare/{CF_MODEL}", f"workers-ai/{CF_MODEL}", "workers-ai"),
    (f"workers-ai/{CF_MODEL}", f"workers-ai/{CF_MODEL}", "workers-ai"),
    (CF_MODEL, f"workers-ai/{CF_MODEL}", "workers-ai"),
    ("workers-ai/@hf/auto", "workers-ai/@hf/auto", "workers-ai"),
]


@pytest.mark.parametrize(("model_id", "body_model", "slug"), APART)
def test_auto_router_dynamic_and_workers_ai_stay_apart(
    model_id: str, body_model: str, slug: str | None
) -> None:
    route = build_route(CONFIG, model_id)
    assert route.url == f"{GATEWAY}/compat/chat/completions"
    assert route.body_model == body_model
    assert route.provider == slug
    ref = parse_model_id(model_id)
    assert ref.model_id == body_model if slug is None else ref.model_id == f"workers-ai/{ref.model}"
    assert ref.auto_router == (body_model == "cloudflare/auto")


def test_auto_router_is_a_compat_chat_model() -> None:
    ref = parse_model_id("cloudflare/auto")
    assert ref.auto_router and ref.provider is None and ref.slug is None
    # Like a dynamic route, the gateway chooses the model: no model or provider is assumed.
    assert ref.dynamic
    for endpoint, fragment in [
        ("native", "the Auto Router is served by endpoint='compat'"),
        ("rest", "the Auto Router is served by endpoint='compat'"),
    ]:
        with pytest.raises(InvalidModelIdError, match=fragment):
            build_route(CONFIG, ref, endpoint)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelIdError, match="the Auto Router serves chat completions"):
        build_route(CONFIG, "cloudflare/auto", "compat", "embeddings")


def test_dynamic_route_on_rest_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="CLOUDFLARE_AI_GATEWAY_TOKEN"):
        build_route(GatewayConfig(account_id=ACCT), "dynamic/support", "rest")
    with pytest.raises(InvalidModelIdError, match=r"Workers AI models only.*endpoint='compat'"):
        build_route(CONFIG, "dynamic/support", "rest", "embeddings")


@pytest.mark.parametrize("head", ["custom-acme", "CUSTOM-acme"])
def test_custom_provider(head: str) -> None:
    compat = build_route(CONFIG, f"{head}/llama-70b")
    assert compat.body_model == "custom-acme/llama-70b"
    assert compat.url == f"{GATEWAY}/compat/chat/completions"
    native = build_route(CONFIG, f"{head}/llama-70b", "native")
    assert native.url == f"{GATEWAY}/custom-acme/chat/completions"
    assert native.body_model == "llama-70b"
    emb = build_route(CONFIG, f"{head}/e5", "native", "embeddings")
    assert emb.url == f"{GATEWAY}/custom-acme/embeddings"
    with pytest.raises(InvalidModelIdError, match="the REST API serves"):
        build_route(CONFIG, f"{head}/llama-70b", "rest")
    assert provider_base_url("custom-acme", CONFIG) == f"{GATEWAY}/custom-acme"


def test_vertex_model_already_prefixed_is_not_doubled() -> None:
    route = build_route(CONFIG, "vertex/google/gemini-2.5-flash")
    assert route.body_model == "google-vertex-ai/google/gemini-2.5-flash"


def test_model_names_keep_their_slashes() -> None:
    route = build_route(CONFIG, "groq/meta-llama/llama-4-scout", "native")
    assert route.body_model == "meta-llama/llama-4-scout"


@pytest.mark.parametrize(
    ("model_id", "fragment"),
    [
        ("", "printable ASCII without spaces"),
        ("   ", "printable ASCII without spaces"),
        ("open ai/gpt", "printable ASCII without spaces"),
        ("openai/gpt 4", "printable ASCII without spaces"),
        ("openai/gpt-\n4o", "printable ASCII without spaces"),
        ("openai/gpté", "printable ASCII without spaces"),
        (
            "gpt-4o-mini",
            "needs a provider: write '{provider}/{model}' such as 'openai/gpt-4o-mini'",
        ),
        ("openai/", "needs a provider"),
        ("openai//gpt", "needs a provider"),
        ("openai/gpt/", "needs a provider"),
        ("acme/gpt", "unknown provider 'acme'"),
        ("/gpt", "unknown provider ''"),
        ("custom-/x", "unknown provider 'custom-'"),
        ("workers-ai/llama-3", "write 'workers-ai/@cf/llama-3'"),
        ("dynamic/a/b", "must not contain '/'"),
        ("cloudflare/llama-3", "or 'cloudflare/auto' for Cloudflare's Auto Router"),
        # Hints that name the right fix.
        ("gpt-4o-mini", "did you mean 'openai/gpt-4o-mini'?"),
        ("openai:gpt-4o-mini", "did you mean 'openai/gpt-4o-mini'?"),
        ("OpenAI:gpt-4o-mini", "did you mean 'openai/gpt-4o-mini'?"),
        ("anthropic:claude-3-5-haiku", "did you mean 'anthropic/claude-3-5-haiku'?"),
        ("groq:meta-llama/llama-4", "did you mean 'groq/meta-llama/llama-4'?"),
        ("claude-3-5-haiku", "did you mean 'anthropic/claude-3-5-haiku'?"),
        ("claude-sonnet-4", "did you mean 'anthropic/claude-sonnet-4'?"),
        ("gemini-2.5-flash", "did you mean 'google-ai-studio/gemini-2.5-flash'?"),
        ("o3-mini", "did you mean 'openai/o3-mini'?"),
        ("text-embedding-3-small", "did you mean 'openai/text-embedding-3-small'?"),
        ("grok-4", "did you mean 'grok/grok-4'?"),
        ("opnai/gpt-4o", "did you mean 'openai' ('openai/gpt-4o')?"),
        ("antropic/claude-3-5-haiku", "did you mean 'anthropic'"),
        ("OPNAI/gpt-4o", "did you mean 'openai'"),
        ("dynamc/support", "did you mean 'dynamic'"),
        ("workers_ai/@cf/meta/x", "did you mean 'workers-ai'"),
    ],
)
def test_bad_model_ids(model_id: str, fragment: str) -> None:
    with pytest.raises(InvalidModelIdError) as err:
        build_route(CONFIG, model_id)
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("model_id", "wrong"),
    [
        ("openai:gpt-4o-mini", "openai/openai:gpt-4o-mini"),
        ("claude-3-5-haiku", "openai/claude-3-5-haiku"),
        ("acme/gpt", "did you mean"),
        ("my-model", "did you mean"),
    ],
)
def test_hints_never_suggest_a_wrong_fix(model_id: str, wrong: str) -> None:
    with pytest.raises(InvalidModelIdError) as err:
        parse_model_id(model_id)
    assert wrong not in str(err.value)


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(InvalidModelIdError) as err:
        parse_model_id("acme/gpt")
    for row in TABLE:
        assert row.slug in str(err.value)
    assert "custom-{slug}" in str(err.value)


def test_surrounding_whitespace_is_dropped() -> None:
    # A model id read from a file or env var often ends in a newline.
    assert build_route(CONFIG, " openai/gpt-4o\n").body_model == "openai/gpt-4o"


def test_model_id_must_be_a_string() -> None:
    with pytest.raises(InvalidModelIdError, match="must be a string"):
        parse_model_id(42)  # type: ignore[arg-type]


def test_unknown_endpoint() -> None:
    with pytest.raises(InvalidModelIdError, match="endpoint must be one of compat, native, rest"):
        build_route(CONFIG, "openai/gpt-4o-mini", "universal")  # type: ignore[arg-type]


# ------------------------------------------------------------------- provider_base_url


@pytest.mark.parametrize(("row", "name"), CASES, ids=IDS)
def test_provider_base_url(row: Row, name: str) -> None:
    assert provider_base_url(name, CONFIG) == GATEWAY + row.sdk_base


def test_provider_base_url_joins_to_the_native_chat_route() -> None:
    # What an OpenAI client appends to its base URL must land on the native route.
    for row in TABLE:
        if row.chat_path is None:
            continue
        native = build_route(CONFIG, f"{row.slug}/{row.model}", "native")
        assert provider_base_url(row.slug, CONFIG) + "/chat/completions" == native.url


def test_provider_base_url_resolves_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "envacct")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "envgw")
    assert (
        provider_base_url("anthropic")
        == "https://gateway.ai.cloudflare.com/v1/envacct/envgw/anthropic"
    )


def test_provider_base_url_without_any_config() -> None:
    with pytest.raises(MissingAccountIdError):
        provider_base_url("openai")


def test_provider_base_url_unknown_provider() -> None:
    with pytest.raises(
        InvalidModelIdError, match="unknown provider 'acme'; known providers: openai"
    ):
        provider_base_url("acme", CONFIG)


# The Auto Router's and dynamic routes' other spellings: the hint names the id that works
# (https://developers.cloudflare.com/ai-gateway/features/auto-router/,
# https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/).
@pytest.mark.parametrize(
    ("model_id", "hint"),
    [
        ("auto", "did you mean 'cloudflare/auto'"),
        ("AUTO", "did you mean 'cloudflare/auto'"),
        ("cloudflare:auto", "did you mean 'cloudflare/auto'"),
        ("Cloudflare:Auto", "did you mean 'cloudflare/auto'"),
        ("cf/auto", "did you mean 'cloudflare/auto'"),
        ("cf:auto", "did you mean 'cloudflare/auto'"),
        ("workers-ai/auto", "did you mean 'cloudflare/auto'"),
        ("workers-ai:auto", "did you mean 'cloudflare/auto'"),
        ("cloudflare/auto/", "did you mean 'cloudflare/auto'"),
        ("dynamic:support", "did you mean 'dynamic/support'"),
        ("Dynamic:support", "did you mean 'dynamic/support'"),
        ("dynamic/support/", "did you mean 'dynamic/support'"),
        ("openai/gpt-4o/", "did you mean 'openai/gpt-4o'"),
    ],
)
def test_auto_router_and_dynamic_spellings_suggest_the_id_that_works(
    model_id: str, hint: str
) -> None:
    with pytest.raises(InvalidModelIdError) as err:
        parse_model_id(model_id)
    assert hint in str(err.value)
    assert "workers-ai/auto" not in str(err.value)
    assert "workers-ai/@cf/auto" not in str(err.value)


@pytest.mark.parametrize("model_id", ["cloudflare/Auto", "CLOUDFLARE/AUTO", "Dynamic/support"])
def test_auto_router_and_dynamic_ids_are_read_whatever_the_case(model_id: str) -> None:
    ref = parse_model_id(model_id)
    assert ref.dynamic
    assert ref.model_id in {"cloudflare/auto", "dynamic/support"}
