"""Code 7003's fix follows Cloudflare's message: a model not found, a refused input, a path.

Cloudflare sends 7003 for a model id it does not know ("Model not found: ..."), for a
model that refused the input ("Model execution failed (User Input Error): ..."), and, on
its v4 API, for a path it cannot route ("Could not route to /..., perhaps your object
identifier is invalid?"). Only the first is fixed by checking the model id.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import GatewayError, ModelNotFoundError, error_from_response

from ..chat.scripted import LOG_ID, Script, respond, transports

MODEL_ID_FIX = "Check the model id"


def gateway_body(message: str, status: int) -> dict[str, Any]:
    return {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": 7003, "message": message}],
        "name": "AiGatewayError",
        "httpCode": status,
        "internalCode": 7003,
        "message": message,
    }


def v4_body(message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": 7003, "message": message}], "messages": []}


# (status, body, a fragment of the fix, what the fix must not say)
CASES: dict[str, tuple[int, dict[str, Any], str, str | None]] = {
    "model not found": (
        404,
        gateway_body("Model not found: @cf/meta/llama-9", 404),
        "cf-aig models",
        None,
    ),
    "workers ai input": (
        400,
        gateway_body(
            "Model execution failed (User Input Error): Type mismatch of '/messages/0/content'",
            400,
        ),
        "fix the input the message names",
        MODEL_ID_FIX,
    ),
    "unroutable path": (
        404,
        v4_body(
            "Could not route to /client/v4/accounts/acct/ai/run/openai/chat, perhaps your "
            "object identifier is invalid?"
        ),
        "check the endpoint",
        MODEL_ID_FIX,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_fix_follows_cloudflares_message(case: str) -> None:
    status, body, fix, not_said = CASES[case]
    err = error_from_response(status, {"cf-aig-log-id": LOG_ID}, json.dumps(body))
    assert isinstance(err, ModelNotFoundError)
    assert err.code == 7003 and err.status_code == status
    assert fix in err.hint and fix in str(err)
    if not_said is not None:
        assert not_said not in str(err)
    assert str(err).endswith(f"[log id {LOG_ID}]")


def test_model_not_found_still_says_check_the_model_id() -> None:
    err = error_from_response(404, {}, gateway_body("Model not found: x", 404))
    assert MODEL_ID_FIX in str(err) and "workers-ai/@cf/" in str(err)


def test_a_fix_given_by_the_code_table_is_kept() -> None:
    # Workers AI's 5007 is a ModelNotFoundError too, with its own fix from the table.
    err = error_from_response(400, {}, {"errors": [{"code": 5007, "message": "No such model"}]})
    assert isinstance(err, ModelNotFoundError)
    assert "serves this task" in str(err)
    assert ModelNotFoundError("x", status_code=404, hint="mine").hint == "mine"


@pytest.mark.parametrize("case", list(CASES))
def test_the_chat_models_error_has_the_same_fix(case: str) -> None:
    status, body, fix, not_said = CASES[case]
    sync_client, async_client = transports(Script(respond(status, json.dumps(body).encode())))
    model = ChatCloudflareGateway(
        model="workers-ai/@cf/meta/llama-3.1-8b-instruct",
        account_id="acct",
        base_url="http://gateway.test",
        gateway_token="t0k",
        max_retries=0,
        http_client=sync_client,
        http_async_client=async_client,
    )
    with pytest.raises(GatewayError) as caught:
        model.invoke("hi")
    err = caught.value
    assert isinstance(err, ModelNotFoundError)
    assert fix in str(err)
    if not_said is not None:
        assert not_said not in str(err)
