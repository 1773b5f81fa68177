"""A misnamed constructor argument is refused with the right name, before anything is sent.

`ChatOpenAI` moves an unknown keyword into `model_kwargs` with a warning, so
`ChatCloudflareGateway(token=...)` (the README's configuration table named `token=`) put the
gateway token in every request body, sent to the provider, and failed only at the first
call with `Completions.create() got an unexpected keyword argument 'token'`.
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway.core import ConfigError

SECRET = "gateway-secret-0123456789"
CASES = [
    ("token", "gateway_token"),
    ("api_token", "gateway_token"),
    ("gateway_tokn", "gateway_token"),
    ("acount_id", "account_id"),
    ("gateway", "gateway_id"),
    ("gateway_option", "gateway_options"),
    ("fallback", "fallbacks"),
]


CLASSES = [
    (ChatCloudflareGateway, "openai/gpt-4o-mini"),
    (CloudflareGatewayEmbeddings, "openai/text-embedding-3-small"),
]


@pytest.mark.parametrize(
    ("cls", "model", "wrong", "right"),
    [
        (cls, model, wrong, right)
        for cls, model in CLASSES
        for wrong, right in CASES
        if right in cls.model_fields  # embeddings have no fallbacks
    ],
)
def test_a_misnamed_argument_names_the_right_one(
    cls: type, model: str, wrong: str, right: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        cls(model=model, account_id="acct", **{wrong: SECRET})
    message = str(caught.value)
    assert f"{cls.__name__} has no argument {wrong}=" in message
    assert f"did you mean {right}=?" in message
    assert SECRET not in message + repr(caught.value)


def test_a_credential_under_any_unknown_name_is_never_sent() -> None:
    with pytest.raises(ConfigError, match="secret_key=") as caught:
        ChatCloudflareGateway(model="openai/gpt-4o-mini", account_id="acct", secret_key=SECRET)
    assert SECRET not in str(caught.value)


def test_a_provider_parameter_still_reaches_the_request_as_in_chatopenai() -> None:
    """Unknown names that are neither credentials nor near one of ours keep LangChain's
    rule (`model_kwargs`, with its warning): providers take parameters OpenAI's SDK lacks."""
    with pytest.warns(UserWarning, match="top_k"):
        model = ChatCloudflareGateway(model="openai/gpt-4o-mini", account_id="acct", top_k=5)
    assert model.model_kwargs == {"top_k": 5}


@pytest.mark.parametrize("option", ["cache_ttl", "skip_cache", "event_id"])
def test_a_gateway_option_given_as_an_argument_names_gateway_options(option: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"did you mean gateway_options=\{{'{option}': \.\.\.\}}"
    ):
        ChatCloudflareGateway(model="openai/gpt-4o-mini", account_id="acct", **{option: 60})
