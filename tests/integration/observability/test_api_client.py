"""GatewayClient and AsyncGatewayClient against the local gateway's management API.

Every test reads what a user would: the entries the client returns against the rows in
the log store, the request on the wire, the exception class and its text.
"""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import httpx
import pytest

from langchain_cf_gateway import send_feedback
from langchain_cf_gateway.core import (
    ConfigError,
    GatewayConfig,
    GatewayInfo,
    GatewayNotFoundError,
    InvalidOptionError,
)
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.state import ReceivedRequest
from langchain_cf_gateway.management import (
    AsyncGatewayClient,
    Gateway,
    GatewayClient,
    GatewaySettings,
    LogEntry,
    LogFilter,
    LogNotFoundError,
    ManagementAuthenticationError,
)
from langchain_cf_gateway.results import gateway_log_id

from .conftest import chat

MGMT_PREFIX = "/client/v4/accounts/"


def _mgmt_requests(gw: LocalGateway) -> list[ReceivedRequest]:
    return [r for r in gw.received if r.path.startswith(MGMT_PREFIX)]


# --------------------------------------------------------------------------- listing


def test_list_logs_returns_the_rows_of_the_log_store(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    for text in ("one", "two", "three"):
        assert chat(gateway, text).status_code == 200
    rows = {row["id"]: row for row in gateway.logs("default")}

    page = client.list_logs(order_by="created_at", order_by_direction="asc")

    assert [e.id for e in page] == list(rows)
    assert page.result_info.total_count == 3
    assert page.result_info.page == 1
    for entry in page:
        row = rows[entry.id]
        assert isinstance(entry, LogEntry)
        assert (entry.provider, entry.model) == (row["provider"], row["model"])
        assert (entry.tokens_in, entry.tokens_out) == (row["tokens_in"], row["tokens_out"])
        assert entry.cached is False and entry.success is True
        assert entry.tokens_in and entry.tokens_out  # the mock reports usage
        assert isinstance(entry.created_at, datetime)


def test_the_request_carries_the_bearer_token_and_the_v4_path(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    client.list_logs(per_page=5, page=2, search="weather")
    sent = _mgmt_requests(gateway)[-1]
    assert sent.method == "GET"
    assert sent.path == f"/client/v4/accounts/{gateway.account_id}/ai-gateway/gateways/default/logs"
    assert sent.headers["authorization"] == f"Bearer {gateway.management_token}"
    assert "cf-aig-authorization" not in sent.headers
    assert sent.query == {"page": "2", "per_page": "5", "search": "weather"}


def test_keyword_filters_travel_as_cloudflares_sdks_encode_them(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    client.list_logs(cached=True, metadata={"team": "search"}, order_by="model")
    sent = _mgmt_requests(gateway)[-1]
    # cloudflare-python's query format: dotted keys, arrays repeated, grouped by field.
    assert parse_qsl(sent.query_string)[:9] == [
        ("filters.key", "cached"),
        ("filters.key", "metadata.key"),
        ("filters.key", "metadata.value"),
        ("filters.operator", "eq"),
        ("filters.operator", "eq"),
        ("filters.operator", "eq"),
        ("filters.value", "true"),
        ("filters.value", "team"),
        ("filters.value", "search"),
    ]
    assert sent.query["order_by"] == "model"


def test_several_filters_with_several_values_are_refused_before_sending(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    with pytest.raises(InvalidOptionError, match="exactly one value") as info:
        client.list_logs(
            filters=[LogFilter("provider", "eq", ["openai", "anthropic"])], cached=True
        )
    assert info.value.field == "filters"
    assert _mgmt_requests(gateway) == []


def test_filters_by_cache_status_provider_model_event_id_and_metadata(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    chat(gateway, "same", options={"cache_ttl": 600, "event_id": "evt-1"})
    chat(gateway, "same", options={"cache_ttl": 600})  # HIT
    chat(
        gateway,
        "other",
        model="anthropic/claude-3-5-haiku",
        options={"metadata": {"team": "search"}},
    )
    rows = gateway.logs("default")
    hit = next(r for r in rows if r["cached"])
    claude = next(r for r in rows if r["provider"] == "anthropic")

    assert [e.id for e in client.list_logs(cached=True)] == [hit["id"]]
    assert hit["id"] not in [e.id for e in client.list_logs(cached=False)]
    assert [e.id for e in client.list_logs(provider="anthropic")] == [claude["id"]]
    assert [e.id for e in client.list_logs(model=claude["model"])] == [claude["id"]]
    assert [e.id for e in client.list_logs(metadata={"team": "search"})] == [claude["id"]]
    assert client.list_logs(metadata={"team": "search"})[0].metadata == {"team": "search"}
    evt = client.list_logs(event_id="evt-1")
    assert len(evt) == 1 and evt[0].event_id == "evt-1" and evt[0].cached is False
    raw = client.list_logs(
        filters=[LogFilter("tokens_in", "gt", 0), {"key": "cached", "value": [True]}]
    )
    assert [e.id for e in raw] == [hit["id"]]


def test_filters_failed_requests(gateway: LocalGateway, client: GatewayClient) -> None:
    chat(gateway, "fine")
    gateway.script(fault="status=500")
    assert chat(gateway, "broken").status_code == 500
    failed = client.list_logs(success=False)
    assert len(failed) == 1 and failed[0].success is False and failed[0].status_code == 500
    assert len(client.list_logs(success=True)) == 1


def test_order_and_start_date(gateway: LocalGateway, client: GatewayClient) -> None:
    chat(gateway, "old")
    gateway.clock.advance(3600)
    chat(gateway, "new")
    rows = gateway.logs("default")
    newest_first = [
        e.id for e in client.list_logs(order_by="created_at", order_by_direction="desc")
    ]
    assert newest_first == [rows[1]["id"], rows[0]["id"]]
    since = datetime.fromisoformat(rows[1]["created_at"].replace("Z", "+00:00")) - timedelta(
        minutes=5
    )
    assert [e.id for e in client.list_logs(start_date=since)] == [rows[1]["id"]]
    assert [e.id for e in client.list_logs(end_date=since)] == [rows[0]["id"]]


def test_pages_and_iteration(gateway: LocalGateway, client: GatewayClient) -> None:
    for i in range(5):
        chat(gateway, f"message {i}")
    ids = [r["id"] for r in gateway.logs("default")]

    pages = [client.list_logs(page=p, per_page=2, order_by_direction="asc") for p in (1, 2, 3)]
    assert [[e.id for e in page] for page in pages] == [ids[:2], ids[2:4], ids[4:]]
    assert [page.has_more for page in pages] == [True, True, False]
    assert all(page.result_info.total_count == 5 for page in pages)

    assert [e.id for e in client.iter_logs(per_page=2, order_by_direction="asc")] == ids
    assert [e.id for e in client.iter_logs(per_page=2, limit=3, order_by_direction="asc")] == ids[
        :3
    ]
    # three pages of two were needed for five rows, then it stopped
    log_calls = [r for r in _mgmt_requests(gateway) if r.path.endswith("/logs")]
    assert len(log_calls) == 3 + 3 + 2


# --------------------------------------------------------------------------- one log


def test_get_log_and_its_bodies(gateway: LocalGateway, client: GatewayClient) -> None:
    gateway.script("Bonjour.")
    response = chat(gateway, "Say hello in French")
    log_id = response.headers["cf-aig-log-id"]

    entry = client.get_log(log_id)
    assert entry.id == log_id and entry.success is True
    request = client.get_log_request(log_id)
    assert request["messages"] == [{"role": "user", "content": "Say hello in French"}]
    stored = client.get_log_response(log_id)
    assert stored["choices"][0]["message"]["content"] == "Bonjour."


def test_update_log_sets_feedback_score_and_metadata(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    log_id = chat(gateway).headers["cf-aig-log-id"]
    client.update_log(log_id, feedback=1, score=95, metadata={"reviewer": "ana", "ok": True})
    row = next(r for r in gateway.logs() if r["id"] == log_id)
    assert (row["feedback"], row["score"]) == (1, 95)
    assert row["metadata"] == {"reviewer": "ana", "ok": True}
    sent = _mgmt_requests(gateway)[-1]
    assert sent.method == "PATCH"
    assert sent.json == {"feedback": 1, "score": 95, "metadata": {"reviewer": "ana", "ok": True}}
    client.update_log(log_id, feedback=-1)
    assert client.get_log(log_id).feedback == -1
    assert client.get_log(log_id).score == 95  # untouched


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"feedback": 2}, "feedback"),
        ({"feedback": -1.5}, "feedback"),
        ({"feedback": "1"}, "feedback"),
        ({"feedback": True}, "feedback"),
        ({"score": 101}, "score"),
        ({"score": -1}, "score"),
        ({"score": "95"}, "score"),
        ({"metadata": {f"k{i}": i for i in range(6)}}, "metadata"),
        ({"metadata": {"nested": {"a": 1}}}, "metadata"),
        ({}, "feedback"),
    ],
)
def test_bad_feedback_is_refused_before_sending(
    gateway: LocalGateway, client: GatewayClient, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as info:
        client.update_log("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert _mgmt_requests(gateway) == []


@pytest.mark.parametrize("bad", ["", "../gateways", "a/b", "id with space", "x" * 200])
def test_bad_ids_are_refused_before_sending(
    gateway: LocalGateway, client: GatewayClient, bad: str
) -> None:
    with pytest.raises(InvalidOptionError, match="log_id"):
        client.get_log(bad)
    with pytest.raises(InvalidOptionError, match="gateway_id"):
        client.list_logs(gateway_id=bad or " ")
    assert _mgmt_requests(gateway) == []


def test_bad_query_keywords_name_the_field(client: GatewayClient) -> None:
    with pytest.raises(InvalidOptionError, match="order_by"):
        client.list_logs(order_by="cost")  # type: ignore[typeddict-item]
    with pytest.raises(InvalidOptionError, match="cached"):
        client.list_logs(cached="yes")  # type: ignore[typeddict-item]
    with pytest.raises(InvalidOptionError, match="start_date"):
        client.list_logs(start_date="yesterday")
    with pytest.raises(InvalidOptionError, match="not a log query keyword"):
        client.list_logs(cache=True)  # type: ignore[call-arg]
    with pytest.raises(InvalidOptionError, match="unknown filter key 'colour'"):
        LogFilter("colour", "eq", "red")
    with pytest.raises(InvalidOptionError, match="per_page"):
        client.list_logs(per_page=0)


def test_delete_logs_by_filter(gateway: LocalGateway, client: GatewayClient) -> None:
    chat(gateway, "a", options={"cache_ttl": 600})
    chat(gateway, "a", options={"cache_ttl": 600})
    chat(gateway, "b")
    assert client.delete_logs(cached=True) == 1
    rows = gateway.logs("default")
    assert len(rows) == 2 and not any(r["cached"] for r in rows)
    sent = _mgmt_requests(gateway)[-1]
    assert sent.method == "DELETE" and sent.query["filters.key"] == "cached"
    assert client.delete_logs() == 2
    assert gateway.logs("default") == []


# --------------------------------------------------------------------------- feedback helper


def test_send_feedback_from_gateway_dicts_and_headers(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    response = chat(gateway)
    info = GatewayInfo.from_headers(response.headers)
    assert client.send_feedback(info, score=10) == info.log_id
    assert client.send_feedback({"gateway": info.as_dict()}, feedback=1) == info.log_id
    row = next(r for r in gateway.logs() if r["id"] == info.log_id)
    assert (row["feedback"], row["score"]) == (1, 10)
    assert (
        send_feedback(
            info.as_dict(),
            feedback=-1,
            base_url=gateway.base_url,
            account_id=gateway.account_id,
            api_token=gateway.management_token,
        )
        == info.log_id
    )
    assert next(r for r in gateway.logs() if r["id"] == info.log_id)["feedback"] == -1


@pytest.mark.parametrize(
    "result",
    [
        None,
        {"gateway": {"log_id": None}},
        GatewayInfo(),
        {"content": "no gateway here"},
    ],
)
def test_a_result_without_a_log_id_says_why(result: object) -> None:
    with pytest.raises(InvalidOptionError, match="collect_log=False"):
        gateway_log_id(result)


# --------------------------------------------------------------------------- gateways


def test_gateway_lifecycle(gateway: LocalGateway, client: GatewayClient) -> None:
    created = client.create_gateway("obs-crud", cache_ttl=300, authentication=True)
    try:
        assert isinstance(created, Gateway)
        assert (created.id, created.cache_ttl, created.authentication) == ("obs-crud", 300, True)
        assert created.collect_logs is True  # filled in: the API requires it on create
        sent = _mgmt_requests(gateway)[-1]
        assert sent.method == "POST" and sent.json["id"] == "obs-crud"

        assert client.get_gateway("obs-crud").cache_ttl == 300
        # by name: earlier tests of the session may have filled the first page
        assert "obs-crud" in [g.id for g in client.list_gateways(search="obs-crud")]

        updated = client.update_gateway(
            "obs-crud", rate_limiting_limit=10, rate_limiting_interval=60
        )
        assert (updated.rate_limiting_limit, updated.rate_limiting_interval) == (10, 60)
        assert (updated.cache_ttl, updated.authentication) == (300, True)  # kept
        put = _mgmt_requests(gateway)[-1]
        assert put.method == "PUT" and put.json["cache_ttl"] == 300
    finally:
        client.delete_gateway("obs-crud")
    with pytest.raises(GatewayNotFoundError):
        client.get_gateway("obs-crud")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"retry_delay": 60_001}, "retry_delay"),
        ({"workers_ai_billing_mode": "prepaid"}, "workers_ai_billing_mode"),
        ({"retry_max_attempts": 6}, "retry_max_attempts"),
        ({"cache_ttl": -1}, "cache_ttl"),
        ({"rate_limiting_technique": "leaky"}, "rate_limiting_technique"),
        ({"log_management": 5}, "log_management"),
        ({"cache_tll": 60}, "cache_tll"),
    ],
)
def test_gateway_settings_are_checked_before_sending(
    gateway: LocalGateway, client: GatewayClient, settings: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as info:
        client.create_gateway("never", **settings)
    assert info.value.field == field
    with pytest.raises(InvalidOptionError):
        GatewaySettings(**settings)
    assert _mgmt_requests(gateway) == []


# --------------------------------------------------------------------------- errors and secrets


def test_a_wrong_token_is_an_authentication_error_that_never_shows_a_token(
    gateway: LocalGateway,
) -> None:
    wrong = "wrong-token-0123456789"
    with (
        GatewayClient(gateway.config(), api_token=wrong) as bad,
        pytest.raises(ManagementAuthenticationError) as info,
    ):
        bad.list_logs()
    err = info.value
    assert err.status_code in (401, 403)
    text = " ".join(
        (
            str(err),
            repr(err),
            repr(err.body),
            repr(err.args),
            repr(pickle.loads(pickle.dumps(err)).__dict__),
        )
    )
    for secret in (wrong, gateway.management_token, gateway.token):
        assert secret not in text
    assert "CLOUDFLARE_API_TOKEN" in str(err)


def test_missing_log_and_gateway_are_not_found_errors(client: GatewayClient) -> None:
    with pytest.raises(LogNotFoundError) as info:
        client.get_log("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    assert info.value.status_code == 404
    with pytest.raises(LogNotFoundError):
        client.update_log("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", feedback=1)
    with pytest.raises(GatewayNotFoundError):
        client.list_logs(gateway_id="no-such-gateway")


def test_repr_and_config_hide_the_token(gateway: LocalGateway) -> None:
    token = "sekret-management-token-xyz"
    client = GatewayClient(gateway.config(), api_token=token)
    try:
        assert token not in repr(client) and "token=set" in repr(client)
        assert token not in repr(client.config)
    finally:
        client.close()


def test_token_resolution(gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", gateway.management_token)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", gateway.account_id)
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gateway.base_url)
    with GatewayClient() as c:
        assert c.list_logs().result_info.total_count == 0
    sent = _mgmt_requests(gateway)[-1]
    assert sent.headers["authorization"] == f"Bearer {gateway.management_token}"
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.delenv("CLOUDFLARE_AI_GATEWAY_BASE_URL")
    # Cloudflare's own API without any token: refused before sending, naming the fix
    with pytest.raises(ConfigError, match="CLOUDFLARE_API_TOKEN"):
        GatewayClient()
    with pytest.raises(ConfigError, match="one line"):
        GatewayClient(GatewayConfig(account_id="a"), api_token="abc\ndef")


def test_default_base_is_cloudflare() -> None:
    c = GatewayClient(GatewayConfig(account_id="acct"), api_token="t")
    try:
        assert c.api_base == "https://api.cloudflare.com/client/v4"
        request = c._list_logs_call(1, 20, None, {})[0]
        assert str(request.url).startswith(
            "https://api.cloudflare.com/client/v4/accounts/acct/ai-gateway/gateways/default/logs?"
        )
    finally:
        c.close()


def test_unreachable_api_raises_httpx_errors_without_the_token() -> None:
    with (
        GatewayClient(
            GatewayConfig(account_id="a", base_url="http://127.0.0.1:9"), api_token="tok-123456"
        ) as c,
        pytest.raises(httpx.ConnectError) as info,
    ):
        c.list_logs()
    assert "tok-123456" not in str(info.value)


# --------------------------------------------------------------------------- async


async def test_async_client_mirrors_the_sync_one(
    gateway: LocalGateway, aclient: AsyncGatewayClient
) -> None:
    for i in range(3):
        chat(gateway, f"async {i}")
    ids = [r["id"] for r in gateway.logs("default")]
    page = await aclient.list_logs(per_page=2, order_by_direction="asc")
    assert [e.id for e in page] == ids[:2] and page.has_more
    assert [e.id async for e in aclient.iter_logs(per_page=2, order_by_direction="asc")] == ids
    assert (await aclient.get_log(ids[0])).id == ids[0]
    assert (await aclient.get_log_request(ids[0]))["messages"][0]["content"] == "async 0"
    assert (await aclient.send_feedback(ids[1], feedback=1, score=50)) == ids[1]
    row = next(r for r in gateway.logs() if r["id"] == ids[1])
    assert (row["feedback"], row["score"]) == (1, 50)
    created = await aclient.create_gateway("obs-async", cache_ttl=120)
    assert created.cache_ttl == 120
    assert (await aclient.update_gateway("obs-async", collect_logs=False)).collect_logs is False
    await aclient.delete_gateway("obs-async")
    with pytest.raises(GatewayNotFoundError):
        await aclient.get_gateway("obs-async")
    await aclient.delete_logs(success=True)
    assert gateway.logs("default") == []


def test_naive_and_aware_dates_are_sent_as_utc(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    aware = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    client.list_logs(start_date=naive, end_date=aware)
    # Dates travel as created_at filters: start_date and end_date are deprecated parameters.
    pairs = parse_qsl(_mgmt_requests(gateway)[-1].query_string)
    assert [v for k, v in pairs if k.startswith("filters.")] == [
        "created_at",
        "created_at",
        "gt",
        "lt",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05Z",
    ]
