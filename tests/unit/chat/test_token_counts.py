"""Token counts follow the model behind the provider prefix.

An OpenAI model is counted with its own tiktoken encoding, exactly as `ChatOpenAI` counts
it; any other model with the documented approximation (`cl100k_base`, OpenAI's chat
framing). tiktoken's encodings are read from LiteLLM's bundled copies (LiteLLM ships
`cl100k_base`, `o200k_base` and `p50k_base`), so nothing is downloaded: sockets are refused.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import tiktoken
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI

from langchain_cf_gateway import ChatCloudflareGateway

TEXT = (
    "Cloudflare AI Gateway sits between your application and the model provider. "
    "It caches responses, retries failed requests, logs every call and counts tokens "
    "so that you can see what each request cost. Ünïcödé, emoji 🚀 and code: "
    "`def f(x): return {'a': [1, 2, 3]}` - 東京は晴れです。Привет, мир! " * 3
)
MESSAGES = [
    SystemMessage("You are a terse assistant."),
    HumanMessage(TEXT, name="alice"),
    AIMessage("", tool_calls=[{"id": "c1", "name": "lookup", "args": {"q": "tokens"}}]),
    ToolMessage("42 tokens", tool_call_id="c1"),
]
OPENAI_MODELS = [
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-5",
    "gpt-5-mini",
    "o1",
    "o3-mini",
    "o4-mini",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
]


@pytest.fixture(autouse=True)
def _bundled_encodings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read tiktoken's encodings from LiteLLM's bundled copies, as LiteLLM itself does."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    bundled = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils/tokenizers"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(bundled))


def gateway(model: str, endpoint: str = "compat") -> ChatCloudflareGateway:
    return ChatCloudflareGateway(model=model, account_id="acct", gateway_id="gw", endpoint=endpoint)


@pytest.mark.parametrize("name", OPENAI_MODELS)
def test_openai_models_count_as_chat_openai_does(name: str) -> None:
    reference = ChatOpenAI(model=name, api_key="sk-test")
    model = gateway(f"openai/{name}")

    assert model.get_num_tokens(TEXT) == reference.get_num_tokens(TEXT)
    assert model.get_token_ids(TEXT) == reference.get_token_ids(TEXT)
    assert model.get_num_tokens_from_messages(MESSAGES) == reference.get_num_tokens_from_messages(
        MESSAGES
    )


def test_gpt_4o_mini_uses_o200k_base_not_cl100k() -> None:
    count = gateway("openai/gpt-4o-mini").get_num_tokens(TEXT)

    assert count == len(tiktoken.get_encoding("o200k_base").encode(TEXT))
    assert count != len(tiktoken.get_encoding("cl100k_base").encode(TEXT))


@pytest.mark.parametrize(
    ("model_id", "endpoint", "name"),
    [
        ("openrouter/openai/gpt-4o-mini", "native", "gpt-4o-mini"),
        ("openrouter/openai/gpt-4", "native", "gpt-4"),
        # gpt-oss: o200k_harmony, whose ordinary text is o200k_base's (as gpt-4o's)
        ("groq/openai/gpt-oss-20b", "compat", "gpt-4o"),
        ("workers-ai/@cf/openai/gpt-oss-120b", "compat", "gpt-4o"),
    ],
)
def test_openai_models_behind_other_prefixes(model_id: str, endpoint: str, name: str) -> None:
    reference = ChatOpenAI(model=name, api_key="sk-test")
    model = gateway(model_id, endpoint)

    assert model.get_num_tokens(TEXT) == reference.get_num_tokens(TEXT)
    assert model.get_num_tokens_from_messages(MESSAGES) == reference.get_num_tokens_from_messages(
        MESSAGES
    )


def test_tiktoken_model_name_still_wins() -> None:
    model = ChatCloudflareGateway(
        model="anthropic/claude-sonnet-4-5",
        account_id="acct",
        gateway_id="gw",
        tiktoken_model_name="gpt-4o",
    )

    assert model.get_num_tokens(TEXT) == ChatOpenAI(model="gpt-4o", api_key="k").get_num_tokens(
        TEXT
    )


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic/claude-sonnet-4-5",
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        "google-ai-studio/gemini-2.5-flash",
        "mistral/mistral-large-latest",
        "dynamic/support",
        "cloudflare/auto",
    ],
)
def test_other_models_follow_the_documented_approximation(model_id: str) -> None:
    """cl100k_base for the text, OpenAI's framing (3 per message, 3 to prime the response)."""
    model = gateway(model_id)
    cl100k = tiktoken.get_encoding("cl100k_base")

    assert model.get_num_tokens(TEXT) == len(cl100k.encode(TEXT))
    assert (
        model.get_num_tokens_from_messages([HumanMessage(TEXT)])
        == 3 + len(cl100k.encode(TEXT)) + len(cl100k.encode("user")) + 3
    )
    assert "cl100k_base" in (ChatCloudflareGateway.get_num_tokens_from_messages.__doc__ or "")
