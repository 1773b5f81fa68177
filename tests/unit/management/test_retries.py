"""When a call is sent again: reads only, after a failure that sending again can mend.

`_retry_delay` is the one decision both clients take; checked here as a table, then
through either client with the waits recorded instead of slept.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from langchain_cf_gateway.core import GatewayRateLimitError, ProviderUnavailableError
from langchain_cf_gateway.management import GatewayClient

from .conftest import CONFIG, MODES, TOKEN, call, envelope


@pytest.fixture
def client() -> Iterator[GatewayClient]:
    transport = httpx.MockTransport(lambda request: envelope(None))
    with GatewayClient(
        CONFIG, api_token=TOKEN, max_retries=2, http_client=httpx.Client(transport=transport)
    ) as c:
        yield c


def _response(status: int, retry_after: str | None = None) -> httpx.Response:
    return httpx.Response(status, headers={"retry-after": retry_after} if retry_after else {})


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "delay"),
    [
        (None, None, 0, 0.5),  # no response: refused, reset, timed out
        (None, None, 1, 1.0),
        (None, None, 2, None),  # max_retries reached
        (429, None, 0, 0.5),
        (429, "3", 0, 3.0),
        (429, "60", 1, 60.0),
        (429, "61", 0, None),  # past RETRY_AFTER_MAX_S: raised, not waited for
        (500, None, 0, 0.5),
        (502, None, 1, 1.0),
        (503, "2", 0, 2.0),
        (504, None, 0, 0.5),
        (400, None, 0, None),
        (401, None, 0, None),
        (404, None, 0, None),
        (501, None, 0, None),
        (200, None, 0, None),
    ],
)
def test_a_read_is_sent_again_after_what_sending_again_can_mend(
    client: GatewayClient,
    status: int | None,
    retry_after: str | None,
    attempt: int,
    delay: float | None,
) -> None:
    call_ = client._list_logs_call(1, 20, None, {})
    response = None if status is None else _response(status, retry_after)
    assert client._retry_delay(call_, attempt, response) == delay


@pytest.mark.parametrize(
    "make",
    [
        lambda c: c._update_log_call("log-1", None, 1, None, None),
        lambda c: c._delete_logs_call(None, None, {}),
        lambda c: c._delete_gateway_call("gw"),
        lambda c: c._create_gateway_call("gw", c._settings(None, {})),
    ],
    ids=["PATCH", "DELETE-logs", "DELETE-gateway", "POST"],
)
@pytest.mark.parametrize("status", [None, 429, 503])
def test_a_write_is_never_sent_again(
    client: GatewayClient, make: object, status: int | None
) -> None:
    call_ = make(client)  # type: ignore[operator]
    response = None if status is None else _response(status)
    assert client._retry_delay(call_, 0, response) is None


@pytest.mark.parametrize("mode", MODES)
def test_a_503_then_a_success(mode: str, waits: list[float]) -> None:
    responses = iter([_response(503), envelope([])])
    assert list(call(mode, lambda request: next(responses), "list_logs", max_retries=1)) == []
    assert waits == [0.5]


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_is_waited_for_then_the_last_error_raised(
    mode: str, waits: list[float]
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _response(429, "2")

    with pytest.raises(GatewayRateLimitError) as err:
        call(mode, handler, "get_gateway", max_retries=2)
    assert err.value.retry_after == 2.0 and waits == [2.0, 2.0] and len(seen) == 3


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_write_is_raised_at_once(mode: str, waits: list[float]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _response(503)

    with pytest.raises(ProviderUnavailableError):
        call(mode, handler, "delete_gateway", "gw", max_retries=2)
    assert [r.method for r in seen] == ["DELETE"] and waits == []


def test_max_retries_zero_sends_once(client: GatewayClient) -> None:
    with GatewayClient(
        CONFIG,
        api_token=TOKEN,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: envelope(None))),
    ) as once:
        assert once._retry_delay(once._get_gateway_call(None), 0, None) is None
