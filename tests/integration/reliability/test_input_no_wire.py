"""Bad input through the chat model and the LiteLLM handler never reaches the wire.

Both are pointed at a live local gateway; every case is built to be bad in exactly one
place (model id, one gateway option, one config value; at construction or per call), the
core's verdict on that value names the field, and after all the cases the gateway has
received nothing.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, note, settings

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import (
    GatewayConfig,
    GatewayInputError,
    GatewayOptions,
    InvalidOptionError,
)
from langchain_cf_gateway.local import LocalGateway

from .test_input_properties import (
    CASES,
    CONFIG_TEXT,
    FIELDS,
    SEEDS,
    random_model_id,
    random_option_value,
    random_text,
)


def bad_options(rng: random.Random) -> tuple[dict[str, Any], str]:
    """Options the core rejects, and the field it names."""
    while True:
        field = rng.choice(FIELDS)
        data = {field: random_option_value(rng)}
        try:
            GatewayOptions(**data)
        except InvalidOptionError as exc:
            return data, exc.field


def bad_model(rng: random.Random) -> str:
    while True:
        model_id = random_model_id(rng)
        try:
            ChatCloudflareGateway.model_fields  # noqa: B018 - keeps the import honest
            from langchain_cf_gateway.core import parse_model_id

            parse_model_id(model_id)
        except GatewayInputError:
            return model_id


def bad_config(rng: random.Random, gw: LocalGateway) -> tuple[str, str]:
    """(field, value) that GatewayConfig.resolve rejects."""
    while True:
        field = rng.choice(["account_id", "gateway_id", "base_url", "token"])
        value = rng.choice([*CONFIG_TEXT, random_text(rng), "x\r\ny", "ok\n"])
        args = {"account_id": gw.account_id, "base_url": gw.base_url, field: value}
        try:
            GatewayConfig.resolve(**args, environ={})  # HOME is a fresh folder: no file
        except GatewayInputError:
            return field, value


def chat_case(rng: random.Random, gw: LocalGateway) -> tuple[str, Any]:
    """(where, a callable making the bad call) and the word the error must contain."""
    base: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "max_retries": 0,
    }
    kind = rng.randrange(5)
    if kind == 0:
        model = bad_model(rng)
        return "model", lambda: ChatCloudflareGateway(**{**base, "model": model}).invoke("hi")
    if kind == 1:
        field, value = bad_config(rng, gw)
        key = "gateway_token" if field == "token" else field
        return field.split("_")[0], lambda: ChatCloudflareGateway(**{**base, key: value}).invoke(
            "hi"
        )
    options, field = bad_options(rng)
    if kind == 2:
        return field, lambda: ChatCloudflareGateway(**base, gateway_options=options).invoke("hi")
    model = ChatCloudflareGateway(**base)
    if kind == 3:
        return field, lambda: model.invoke("hi", gateway_options=options)
    return field, lambda: list(model.bind(gateway_options=options).stream("hi"))


@pytest.fixture(scope="module")
def quiet_gateway(local_gateway: LocalGateway) -> LocalGateway:
    local_gateway.reset()
    return local_gateway


# Building a chat model costs ~10 ms (pydantic validation of BaseChatOpenAI) and a LiteLLM
# call ~30 ms of LiteLLM's own set-up: the 2,000-case targets are core's pure functions
# (test_input_properties.py); here a few hundred cases prove the wire side.
WIRE_CASES = settings(CASES, max_examples=300)
LITELLM_CASES = settings(CASES, max_examples=150)


@WIRE_CASES
@given(seed=SEEDS)
def test_chat_model_rejects_before_the_wire(seed: int, quiet_gateway: LocalGateway) -> None:
    gw = quiet_gateway
    word, make_call = chat_case(random.Random(seed), gw)
    note(f"expects {word!r}")
    with pytest.raises(GatewayInputError) as err:
        make_call()
    assert isinstance(err.value, ValueError)
    assert word in str(err.value) or (word in ("token",) and "token" in str(err.value))
    assert gw.received == []


LITELLM_SUBSTRING_PROVIDERS = ("replicate", "clarifai")
"""litellm.completion() picks these providers by substring of the model, before custom ones."""


def litellm_case(rng: random.Random, gw: LocalGateway) -> tuple[str, dict[str, Any]]:
    kw: dict[str, Any] = {
        "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": gw.base_url,
        "account_id": gw.account_id,
        "num_retries": 0,
    }
    kind = rng.randrange(3)
    if kind == 0:
        model = bad_model(rng)
        while any(name in model for name in LITELLM_SUBSTRING_PROVIDERS):
            model = bad_model(rng)  # LiteLLM sends these elsewhere: see the test below
        return "model", {**kw, "model": f"cloudflare-ai-gateway/{model}"}
    if kind == 1:
        field, value = bad_config(rng, gw)
        key = {"token": "gateway_token", "base_url": "api_base"}.get(field, field)
        return field.split("_")[0], {**kw, key: value}
    options, field = bad_options(rng)
    return field, {**kw, "gateway_options": options}


@pytest.fixture(scope="module")
def litellm(quiet_gateway: LocalGateway) -> Any:
    import litellm as module

    from langchain_cf_gateway.litellm_provider import register

    module.disable_hf_tokenizer_download = True
    register()
    return module


@LITELLM_CASES
@given(seed=SEEDS)
def test_litellm_rejects_before_the_wire(
    seed: int, quiet_gateway: LocalGateway, litellm: Any
) -> None:
    word, kw = litellm_case(random.Random(seed), quiet_gateway)
    note(f"expects {word!r}: {kw!r}")
    with pytest.raises(Exception) as err:
        litellm.completion(**kw)
    core = core_error(err.value)
    assert isinstance(core, GatewayInputError), type(err.value)
    assert word in str(core)
    assert quiet_gateway.received == []


def test_litellm_input_error_is_a_value_error(quiet_gateway: LocalGateway, litellm: Any) -> None:
    kw = litellm_case(random.Random(1), quiet_gateway)[1]
    with pytest.raises(ValueError) as err:
        litellm.completion(**kw)
    assert isinstance(err.value, GatewayInputError)
    assert isinstance(err.value, litellm.BadRequestError)  # not retried by the Router
    assert quiet_gateway.received == []


def core_error(exc: BaseException | None) -> BaseException | None:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, GatewayInputError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


@pytest.mark.xfail(
    strict=True,
    reason="LiteLLM's completion() dispatches any model whose name contains 'replicate' or "
    "'clarifai' to those providers' public APIs (litellm/main.py: `elif \"replicate\" in "
    "model`) before custom providers: 'cloudflare-ai-gateway/replicate/...' goes to "
    "api.replicate.com with the provider key, never to the gateway. No fix in our code "
    "yet: see the report (reject or document in langchain_cf_gateway/litellm_provider.py)",
)
@pytest.mark.parametrize("model", ["replicate/meta/llama-3-8b", "openai/my-clarifai-tune"])
def test_litellm_never_bypasses_the_gateway(
    model: str, quiet_gateway: LocalGateway, litellm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    looked_up: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            looked_up.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test: not loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    quiet_gateway.reset()
    try:
        litellm.completion(
            model=f"cloudflare-ai-gateway/{model}",
            api_key="pk-test",
            messages=[{"role": "user", "content": "hi"}],
            num_retries=0,
            api_base=quiet_gateway.base_url,
            account_id=quiet_gateway.account_id,
        )
    except Exception:
        pass
    finally:
        received = len(quiet_gateway.received)
        quiet_gateway.reset()
    assert looked_up == [], f"LiteLLM called out to {looked_up}"
    assert received == 1


@settings(CASES, max_examples=100)
@given(seed=SEEDS)
def test_forwarded_run_metadata_never_breaks_a_call(seed: int, quiet_gateway: LocalGateway) -> None:
    rng = random.Random(seed)
    keys = ["k{}", "a\r\nb{}", "cf.k{}", "ls_k{}", "é{}", " {} ", "\0{}"]
    run_metadata: dict[str, Any] = {
        rng.choice(keys).format(i): rng.choice(
            [
                rng.choice(["é", "x", "\r\n", "日本", "🙂", "\0"]) * rng.randint(0, 1700),
                rng.randint(-(2**70), 2**70),
                rng.random(),
                True,
                None,
                [1],
                {"a": 1},
                float("nan"),
            ]
        )
        for i in range(rng.randint(1, 7))
    }
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id=quiet_gateway.account_id,
        base_url=quiet_gateway.base_url,
        forward_run_metadata=True,
    )
    quiet_gateway.reset()
    model.invoke("hi", config={"metadata": run_metadata})  # best effort: never an error
    header = quiet_gateway.received[-1].headers.get("cf-aig-metadata")
    quiet_gateway.reset()
    if header is not None:
        assert len(header) <= 8192
        forwarded = json.loads(header)
        assert all(run_metadata[k] == v for k, v in forwarded.items())
        assert len(forwarded) <= 5
