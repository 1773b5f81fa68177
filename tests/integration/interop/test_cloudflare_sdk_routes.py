"""Cloudflare's official Python SDK (``cloudflare``) on the local dynamic-routing API.

Every ``client.ai_gateway.dynamic_routing`` method, sync and async, parses our responses
into its own pydantic models; values are asserted through the SDK's typed fields, and
what a deploy did is checked where the executor reads it (``GatewayState.routes``).
The gateway runs in this process, so that its state can be read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime

import cloudflare
import pytest
from cloudflare.types.ai_gateway import (
    DynamicRoutingCreateDeploymentResponse,
    DynamicRoutingCreateResponse,
    DynamicRoutingCreateVersionResponse,
    DynamicRoutingDeleteResponse,
    DynamicRoutingGetResponse,
    DynamicRoutingGetVersionResponse,
    DynamicRoutingListDeploymentsResponse,
    DynamicRoutingListResponse,
    DynamicRoutingListVersionsResponse,
    DynamicRoutingUpdateResponse,
)

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway

CHAIN = DynamicRoute.fallback_chain(
    ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="support"
)
SPLIT = DynamicRoute.split(
    {"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="support"
)
CONDITIONAL = DynamicRoute.conditional(
    {"metadata.plan": {"$eq": "paid"}},
    then="openai/gpt-4o",
    otherwise="openai/gpt-4o-mini",
    name="plans",
)
LIMITED = DynamicRoute.rate_limit(
    "openai/gpt-4o-mini",
    key="metadata.user_id",
    limit=10,
    interval=60,
    limit_type="cost",
    fallback="anthropic/claude-3-5-haiku",
    name="budget",
)


@pytest.fixture
def gw(gateway: LocalGateway) -> LocalGateway:
    """The session's in-process gateway, reset (its state is read by the tests)."""
    return gateway


@pytest.fixture
def cf(gw: LocalGateway) -> Iterator[cloudflare.Cloudflare]:
    client = cloudflare.Cloudflare(
        api_token=gw.management_token, base_url=f"{gw.base_url}/client/v4", max_retries=0
    )
    try:
        yield client
    finally:
        client.close()


def elements_of(route: DynamicRoute) -> list[dict[str, object]]:
    return route.to_api()["elements"]  # type: ignore[no-any-return]


def test_create_get_list_parse_into_the_sdks_types_with_every_element_type(
    gw: LocalGateway, cf: cloudflare.Cloudflare
) -> None:
    dr = cf.ai_gateway.dynamic_routing
    account = gw.account_id
    for route in (CHAIN, SPLIT.model_copy(update={"name": "ab"}), CONDITIONAL, LIMITED):
        created = dr.create("default", account_id=account, **route.to_api())
        assert isinstance(created, DynamicRoutingCreateResponse)
        assert (created.name, created.gateway_id) == (route.name, "default")
        assert isinstance(created.created_at, datetime) and created.created_at.tzinfo
        assert created.version.active == "true" and created.version.is_valid is True
        assert created.deployment.version_id == created.version.version_id
        types = [e.type for e in created.elements]
        assert types == [e["type"] for e in elements_of(route)]
        assert [e.id for e in created.elements] == [e["id"] for e in elements_of(route)]
        # The body the SDK parsed reads back into the same route (the SDK's models turn
        # `timeout` and `retries` into floats, which the strict builder refuses).
        raw = dr.with_raw_response.get(created.id, account_id=account, gateway_id="default")
        again = DynamicRoute.from_api(raw.http_response.json())
        assert again == route.model_copy(update={"id": created.id})

        got = dr.get(created.id, account_id=account, gateway_id="default")
        assert isinstance(got, DynamicRoutingGetResponse)
        assert (got.id, got.version.version_id) == (created.id, created.version.version_id)
        assert got.deployment.deployment_id == created.deployment.deployment_id
        assert gw._state.routes.active("default", route.name) == route

    limiter = next(e for e in created.elements if e.type == "rate")
    assert (limiter.properties.limit_type, limiter.properties.window) == ("cost", 60)  # type: ignore[union-attr]

    listed = dr.list("default", account_id=account, page=1, per_page=3)
    assert isinstance(listed, DynamicRoutingListResponse) and listed.success is True
    assert [r.name for r in listed.data.routes] == ["budget", "plans", "ab"]
    assert listed.data.routes[0].account_tag == account
    assert (listed.data.page, listed.data.per_page) == (1, 3)
    rest = dr.list("default", account_id=account, page=2, per_page=3)
    assert [r.name for r in rest.data.routes] == ["support"]


def test_a_route_created_and_deployed_through_the_sdk_is_what_the_gateway_serves(
    gw: LocalGateway, cf: cloudflare.Cloudflare
) -> None:
    dr = cf.ai_gateway.dynamic_routing
    ids = {"account_id": gw.account_id, "gateway_id": "default"}
    created = dr.create("default", account_id=gw.account_id, **CHAIN.to_api())
    version = dr.create_version(created.id, elements=elements_of(SPLIT), **ids)  # type: ignore[arg-type]
    assert isinstance(version, DynamicRoutingCreateVersionResponse)
    assert (version.id, version.name) == (created.id, "support")
    version_id = version.model_extra["version_id"]  # type: ignore[index]
    assert version_id != created.version.version_id
    # Saved, not deployed yet.
    assert gw._state.routes.active("default", "support") == CHAIN

    versions = dr.list_versions(created.id, **ids)
    assert isinstance(versions, DynamicRoutingListVersionsResponse)
    assert [(v.version_id, v.active) for v in versions.data.versions] == [
        (version_id, "false"),
        (created.version.version_id, "true"),
    ]
    assert json.loads(versions.data.versions[0].data) == {"elements": elements_of(SPLIT)}

    deployed = dr.create_deployment(created.id, version_id=version_id, **ids)
    assert isinstance(deployed, DynamicRoutingCreateDeploymentResponse)
    assert [e.type for e in deployed.elements] == [e["type"] for e in elements_of(SPLIT)]
    assert gw._state.routes.active("default", "support") == SPLIT

    one = dr.get_version(version_id, id=created.id, **ids)
    assert isinstance(one, DynamicRoutingGetVersionResponse)
    assert (one.version_id, one.active, one.name) == (version_id, "true", "support")
    assert DynamicRoute.from_api(one.data, name=one.name) == SPLIT

    deployments = dr.list_deployments(created.id, **ids)
    assert isinstance(deployments, DynamicRoutingListDeploymentsResponse)
    assert [d.version_id for d in deployments.data.deployments] == [
        version_id,
        created.version.version_id,
    ]

    renamed = dr.update(created.id, name="help", **ids)
    assert isinstance(renamed, DynamicRoutingUpdateResponse) and renamed.success is True
    assert (renamed.route.id, renamed.route.name) == (created.id, "help")
    assert gw._state.routes.active("default", "support") is None
    served = gw._state.routes.active("default", "help")
    assert served is not None and served.elements == SPLIT.elements

    deleted = dr.delete(created.id, **ids)
    assert isinstance(deleted, DynamicRoutingDeleteResponse)
    assert (deleted.id, deleted.name) == (created.id, "help")
    assert gw._state.routes.active("default", "help") is None
    with pytest.raises(cloudflare.NotFoundError):
        dr.get(created.id, **ids)


def test_the_sdks_errors_for_a_bad_route_an_unknown_route_and_gateway(
    gw: LocalGateway, cf: cloudflare.Cloudflare
) -> None:
    dr = cf.ai_gateway.dynamic_routing
    broken = elements_of(CHAIN)
    model = next(e for e in broken if e["type"] == "model")
    model["properties"]["timeout"] = -1  # type: ignore[index]
    with pytest.raises(cloudflare.BadRequestError) as bad:
        dr.create("default", account_id=gw.account_id, name="x", elements=broken)  # type: ignore[arg-type]
    assert bad.value.status_code == 400
    [error] = bad.value.body["errors"]  # type: ignore[index]
    assert error["code"] == 7001
    assert repr(model["id"]) in error["message"] and "timeout" in error["message"]

    with pytest.raises(cloudflare.NotFoundError) as unknown:
        dr.get("nope", account_id=gw.account_id, gateway_id="default")
    assert unknown.value.body["errors"][0]["code"] == 7002  # type: ignore[index]
    with pytest.raises(cloudflare.NotFoundError):
        dr.list("nope", account_id=gw.account_id)
    created = dr.create("default", account_id=gw.account_id, **CHAIN.to_api())
    with pytest.raises(cloudflare.NotFoundError):
        dr.create_deployment(
            created.id, account_id=gw.account_id, gateway_id="default", version_id="nope"
        )
    with pytest.raises(cloudflare.ConflictError):
        dr.create("default", account_id=gw.account_id, **CHAIN.to_api())
    wrong = cloudflare.Cloudflare(
        api_token="wrong", base_url=f"{gw.base_url}/client/v4", max_retries=0
    )
    with wrong, pytest.raises(cloudflare.AuthenticationError):
        wrong.ai_gateway.dynamic_routing.list("default", account_id=gw.account_id)


def test_the_async_client_parses_every_response_too(gw: LocalGateway) -> None:
    async def run() -> None:
        async with cloudflare.AsyncCloudflare(
            api_token=gw.management_token, base_url=f"{gw.base_url}/client/v4", max_retries=0
        ) as client:
            dr = client.ai_gateway.dynamic_routing
            ids = {"account_id": gw.account_id, "gateway_id": "default"}
            created = await dr.create("default", account_id=gw.account_id, **CONDITIONAL.to_api())
            version = await dr.create_version(
                created.id,
                elements=elements_of(CONDITIONAL.model_copy(update={"name": "x"})),  # type: ignore[arg-type]
                **ids,
            )
            version_id = version.model_extra["version_id"]  # type: ignore[index]
            await dr.create_deployment(created.id, version_id=version_id, **ids)
            assert (await dr.get(created.id, **ids)).version.version_id == version_id
            assert len((await dr.list_versions(created.id, **ids)).data.versions) == 2
            assert len((await dr.list_deployments(created.id, **ids)).data.deployments) == 2
            assert (await dr.get_version(version_id, id=created.id, **ids)).active == "true"
            assert [
                r.id for r in (await dr.list("default", account_id=gw.account_id)).data.routes
            ] == [created.id]
            assert (await dr.update(created.id, name="tiers", **ids)).route.name == "tiers"
            assert (await dr.delete(created.id, **ids)).name == "tiers"

    asyncio.run(run())
    assert gw._state.routes.active("default", "tiers") is None


def test_every_response_validates_against_the_sdks_model_strictly(
    gw: LocalGateway, cf: cloudflare.Cloudflare
) -> None:
    """`model_validate`, not the SDK's lenient parse: a field missing or mistyped fails."""
    raw = cf.ai_gateway.dynamic_routing.with_raw_response
    ids = {"account_id": gw.account_id, "gateway_id": "default"}

    def result(response: object) -> dict[str, object]:
        body = response.http_response.json()  # type: ignore[attr-defined]
        return body["result"]  # type: ignore[no-any-return]

    def whole(response: object) -> dict[str, object]:
        return response.http_response.json()  # type: ignore[attr-defined, no-any-return]

    created = result(raw.create("default", account_id=gw.account_id, **LIMITED.to_api()))
    route_id = str(created["id"])
    version = result(raw.create_version(route_id, elements=elements_of(SPLIT), **ids))  # type: ignore[arg-type]
    version_id = str(version["version_id"])
    checks = [
        (DynamicRoutingCreateResponse, created),
        (DynamicRoutingCreateVersionResponse, version),
        (DynamicRoutingGetResponse, result(raw.get(route_id, **ids))),
        (
            DynamicRoutingCreateDeploymentResponse,
            result(raw.create_deployment(route_id, version_id=version_id, **ids)),
        ),
        (
            DynamicRoutingGetVersionResponse,
            result(raw.get_version(version_id, id=route_id, **ids)),
        ),
        (DynamicRoutingListResponse, whole(raw.list("default", account_id=gw.account_id))),
        (DynamicRoutingListVersionsResponse, whole(raw.list_versions(route_id, **ids))),
        (DynamicRoutingListDeploymentsResponse, whole(raw.list_deployments(route_id, **ids))),
        (DynamicRoutingUpdateResponse, whole(raw.update(route_id, name="renamed", **ids))),
        (DynamicRoutingDeleteResponse, result(raw.delete(route_id, **ids))),
    ]
    for model, body in checks:
        model.model_validate(body)
