"""A unique gateway token, management token and provider key are planted and used on
every path; then everything a user can print, log, serialize or store is scanned for them.

Scanned: repr and str of the model, handler and clients; DEBUG log records of every
logger (httpx, httpcore, openai, LiteLLM included); stdout and stderr; exceptions with
their whole cause/context chain (str, repr, args, body, formatted traceback); response
metadata and serialized responses; ``dumpd``/``dumps`` of the model; LangSmith params;
the CLI's output (route, logs, feedback); the local gateway's stored rows and bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps
from pydantic import SecretStr

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.management import GatewayClient


@pytest.fixture
def secure(gateway: LocalGateway) -> Iterator[tuple[LocalGateway, str]]:
    name = f"sec-{uuid.uuid4().hex[:8]}"
    gateway.create_gateway(name, authentication=True)
    yield gateway, name


@pytest.fixture(autouse=True)
def debug_everything(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    for name in (
        "httpx",
        "httpcore",
        "openai",
        "LiteLLM",
        "LiteLLM Router",
        "LiteLLM Proxy",
        "langchain_cf_gateway",
        "uvicorn",
        "uvicorn.error",
    ):
        caplog.set_level(logging.DEBUG, logger=name)
    yield


def exception_text(exc: BaseException | None) -> str:
    """Everything an exception chain shows: str, repr, args, body, the formatted traceback."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [
            str(exc),
            repr(exc),
            repr(exc.args),
            repr(getattr(exc, "body", None)),
            repr(getattr(exc, "message", None)),
        ]
        parts += traceback.format_exception(exc)
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, (
            f"a secret leaked: ...{text[max(0, text.find(secret) - 200) : text.find(secret) + 50]}..."
        )


def test_chat_model(
    secure: tuple[LocalGateway, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gw, name = secure
    provider_key = f"pk-{uuid.uuid4().hex}"
    kwargs: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "account_id": gw.account_id,
        "gateway_id": name,
        "base_url": gw.base_url,
        "max_retries": 0,
    }
    model = ChatCloudflareGateway(**kwargs, gateway_token=gw.token, api_key=provider_key)
    fallback = ChatCloudflareGateway(
        **{**kwargs, "model": "openai/gpt-4o-mini~status=503"},
        gateway_token=gw.token,
        api_key=provider_key,
        fallbacks=["anthropic/claude-3-5-haiku"],
    )
    texts: list[str] = []
    message = model.invoke("hi", gateway_options={"metadata": {"user": "u1"}})
    chunks = list(model.stream("hi"))
    amessage = asyncio.run(model.ainvoke("hi"))
    fell_back = fallback.invoke("hi")
    assert fell_back.response_metadata["gateway"]["step"] == 1
    # the secrets were on the wire where they belong (so the scan below means something)
    sent = gw.received[0].headers
    assert sent["cf-aig-authorization"] == f"Bearer {gw.token}"
    assert sent["authorization"] == f"Bearer {provider_key}"
    for m in (message, amessage, fell_back, *chunks):
        texts += [repr(m), m.model_dump_json(), json.dumps(m.response_metadata, default=str)]
    texts += [
        repr(model),
        str(model),
        repr(fallback),
        dumps(model),
        json.dumps(dumpd(model)),
        dumps(fallback),
        repr(model._get_ls_params()),
        repr(fallback._get_ls_params()),
        repr(model.model_dump()),
    ]
    # errors: a wrong token (401) and an upstream error (body passed through)
    bad = ChatCloudflareGateway(**kwargs, gateway_token=gw.token + "x", api_key=provider_key)
    for failing, options in ((bad, None), (model, {"event_id": "e1"})):
        with pytest.raises(Exception) as err:
            target = (
                failing if options is None else failing.bind(model="openai/gpt-4o-mini~status=500")
            )
            target.invoke("hi")
        texts.append(exception_text(err.value))
    out, errout = capsys.readouterr()
    texts += [out, errout, logged(caplog)]
    assert_clean("\n".join(texts), gw.token, provider_key)


def test_litellm_handler(
    secure: tuple[LocalGateway, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # gateway_token as a SecretStr: LiteLLM logs its call keywords at DEBUG before the
    # handler runs, and a SecretStr shows as '**********' there (see the next test).
    litellm_scan(secure, caplog, capsys, SecretStr)


def test_litellm_handler_plain_str_token(
    secure: tuple[LocalGateway, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    litellm_scan(secure, caplog, capsys, str)


def litellm_scan(
    secure: tuple[LocalGateway, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    wrap: Any,
) -> None:
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    litellm.disable_hf_tokenizer_download = True
    register()
    gw, name = secure
    provider_key = f"pk-{uuid.uuid4().hex}"
    kw: dict[str, Any] = {
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": gw.base_url,
        "account_id": gw.account_id,
        "gateway_id": name,
        "gateway_token": wrap(gw.token),
        "api_key": provider_key,
        "num_retries": 0,
    }
    texts: list[str] = []
    response = litellm.completion(model="cloudflare-ai-gateway/openai/gpt-4o-mini", **kw)
    chunks = list(
        litellm.completion(model="cloudflare-ai-gateway/openai/gpt-4o-mini", stream=True, **kw)
    )
    fell_back = litellm.completion(
        model="cloudflare-ai-gateway/openai/gpt-4o-mini~status=503",
        gateway_fallbacks=["anthropic/claude-3-5-haiku"],
        **kw,
    )
    assert gw.received[0].headers["authorization"] == f"Bearer {provider_key}"
    for r in (response, fell_back, *chunks):
        texts += [repr(r), r.model_dump_json(), repr(getattr(r, "_hidden_params", None))]
    for model, extra in (
        ("openai/gpt-4o-mini", {"gateway_token": wrap(gw.token + "x")}),
        ("openai/gpt-4o-mini~status=500", {}),
    ):
        with pytest.raises(Exception) as err:
            litellm.completion(model=f"cloudflare-ai-gateway/{model}", **{**kw, **extra})
        texts.append(exception_text(err.value))
    handler = next(
        p["custom_handler"]
        for p in litellm.custom_provider_map
        if p["provider"] == "cloudflare-ai-gateway"
    )
    texts.append(repr(handler))
    out, errout = capsys.readouterr()
    texts += [out, errout, logged(caplog)]
    assert_clean("\n".join(texts), gw.token, provider_key)


def test_cli_and_logs_client(
    secure: tuple[LocalGateway, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gw, name = secure
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id=gw.account_id,
        gateway_id=name,
        base_url=gw.base_url,
        gateway_token=gw.token,
    )
    log_id = model.invoke("hi").response_metadata["gateway"]["log_id"]
    where = ["--account-id", gw.account_id, "--gateway-id", name, "--base-url", gw.base_url]
    runs = [
        ["route", "openai/gpt-4o-mini", "--account-id", "a", "--token", gw.token],
        ["logs", *where, "--token", gw.management_token],
        ["logs", *where, "--token", gw.management_token, "--json"],
        ["logs", *where, "--token", gw.management_token + "x"],  # 401
        ["feedback", log_id, "--feedback", "1", *where, "--token", gw.management_token],
        ["feedback", log_id, "--score", "101", *where, "--token", gw.management_token],  # bad
    ]
    codes = [main(argv) for argv in runs]
    assert codes[1] == 0 and codes[3] != 0 and codes[4] == 0
    client = GatewayClient(gw.config(gateway_id=name), api_token=gw.management_token)
    texts = [repr(client), repr(client.get_log(log_id))]
    with pytest.raises(Exception) as err:
        GatewayClient(gw.config(gateway_id=name), api_token="wrong").list_logs()
    texts.append(exception_text(err.value))
    client.close()
    out, errout = capsys.readouterr()
    assert log_id in out  # the logs command did list the row
    texts += [out, errout, logged(caplog)]
    assert_clean("\n".join(texts), gw.token, gw.management_token)


def test_local_gateway_stored_logs(secure: tuple[LocalGateway, str]) -> None:
    gw, name = secure
    provider_key = f"pk-{uuid.uuid4().hex}"
    common: dict[str, Any] = {
        "account_id": gw.account_id,
        "gateway_id": name,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "api_key": provider_key,
        "max_retries": 0,
    }
    ChatCloudflareGateway(model="openai/gpt-4o-mini", **common).invoke("hi")
    ChatCloudflareGateway(model="groq/llama-3.1-8b-instant", endpoint="native", **common).invoke(
        "hi"
    )
    ChatCloudflareGateway(
        model="openai/gpt-4o-mini~status=503", **common, fallbacks=["groq/llama-3.1-8b-instant"]
    ).invoke("hi")
    rows = gw.logs(name)
    assert len(rows) == 4  # compat, native, and the two steps of the fallback chain
    client = GatewayClient(gw.config(gateway_id=name), api_token=gw.management_token)
    stored = [json.dumps(rows)]
    for row in rows:
        stored.append(json.dumps(client.get_log(row["id"]).model_dump(mode="json")))
        stored.append(json.dumps(client.get_log_request(row["id"]), default=str))
        stored.append(json.dumps(client.get_log_response(row["id"]), default=str))
        assert row["request_head"].get("cf-aig-authorization") == "[REDACTED]"
    client.close()
    assert_clean("\n".join(stored), gw.token, provider_key, gw.management_token)


def test_local_gateway_admin_received_route(secure: tuple[LocalGateway, str]) -> None:
    import httpx

    gw, name = secure
    provider_key = f"pk-{uuid.uuid4().hex}"
    ChatCloudflareGateway(
        model="openai/gpt-4o-mini~status=503",
        account_id=gw.account_id,
        gateway_id=name,
        base_url=gw.base_url,
        gateway_token=gw.token,
        api_key=provider_key,
        max_retries=0,
        fallbacks=["groq/llama-3.1-8b-instant"],
    ).invoke("hi")
    assert provider_key in gw.received[-1].body.decode()  # it was on the wire, in the steps
    response = httpx.get(
        f"{gw.base_url}/__local/received",
        headers={"authorization": f"Bearer {gw.management_token}"},
    )
    assert response.status_code == 200 and name in response.text
    assert_clean(response.text, gw.token, provider_key)
