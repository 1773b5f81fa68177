"""`cf-aig routes test FILE`: a dynamic route dry-run on an in-process local gateway.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/

```text
cf-aig routes test FILE [--metadata KEY=VALUE ...] [--header NAME=VALUE ...]
                        [--body JSON] [--n N] [--seed S] [--json] [--name NAME]
```

A `LocalGateway` is started on loopback (nothing is sent to Cloudflare), the route in
FILE is deployed to it, and N chat requests are sent to `dynamic/<name>` on its
OpenAI-compatible endpoint
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/): the
`--metadata` pairs as `cf-aig-metadata`, the `--header` pairs as headers, the `--body`
fields merged into the body. The printout counts:

- the model that responded to each request, from its `cf-aig-provider` and
  `cf-aig-model` response headers, with its share of the N requests;
- the fallbacks taken: a request whose log rows show more than one model call (a model
  failed or timed out into its fallback), or whose one model is reached only through
  `fallback` outputs (a limiter over its limit sent it there);
- the error responses, by HTTP status and Cloudflare's internal code.

With `--seed S`, request `i` sends the local header `cf-aig-local-route-seed: S:i`, so
the percentage draws, and so the printout, are the same on every run. Without it the
draws are random and the shares come out right over many requests.

`dry_run()` is the same dry-run for Python, on a gateway of its own or a given one.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import httpx

from ..core import InvalidOptionError
from ..core.dynamic_routes import DynamicRoute, ModelElement
from ..core.protocol import Header
from . import extras
from .arguments import parse_metadata, parse_pairs
from .logs import printable

if TYPE_CHECKING:
    from ..local import LocalGateway

MAX_REQUESTS: Final = 100_000
PROMPT: Final = [{"role": "user", "content": "Hello from a dynamic route dry-run."}]


@dataclass
class DryRun:
    """What N requests to a route got: models, fallbacks, error responses."""

    route: str
    requests: int
    seed: str | None = None
    models: Counter[str] = field(default_factory=Counter)
    """`provider/model` of each successful response, counted."""
    fallbacks: int = 0
    errors: Counter[tuple[int, int | None]] = field(default_factory=Counter)
    """`(HTTP status, internal code or None)` of each error response, counted."""

    def share(self, count: int) -> float:
        """`count` as a share of the requests sent.

        Args:
            count: A number of requests.

        Returns:
            The share, from 0 to 1.
        """
        return count / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        """The dry-run as `--json` prints it.

        Returns:
            `route`, `requests`, `seed`, `models` (model, provider, count, share; most
            frequent first), `fallbacks` (count, share) and `errors` (status, code,
            count, share).
        """
        return {
            "route": self.route,
            "requests": self.requests,
            "seed": self.seed,
            "models": [
                {
                    "model": name,
                    "provider": name.partition("/")[0],
                    "count": count,
                    "share": self.share(count),
                }
                for name, count in _ranked(self.models)
            ],
            "fallbacks": {"count": self.fallbacks, "share": self.share(self.fallbacks)},
            "errors": [
                {"status": status, "code": code, "count": count, "share": self.share(count)}
                for (status, code), count in _ranked(self.errors)
            ],
        }

    def render(self) -> str:
        """The dry-run as a text table.

        Returns:
            The lines, joined.
        """
        seeded = f", seed {self.seed!r}" if self.seed is not None else ""
        lines = [
            printable(f"route {self.route!r} on a local gateway: {self.requests} requests{seeded}")
        ]
        rows = [("MODEL", "RESPONSES", "SHARE")]
        rows += [(m, str(c), _percent(self.share(c))) for m, c in _ranked(self.models)]
        rows += [
            (
                f"error {status}" + (f"/{code}" if code is not None else ""),
                str(c),
                _percent(self.share(c)),
            )
            for (status, code), c in _ranked(self.errors)
        ]
        widths = [max(len(printable(row[i])) for row in rows) for i in range(3)]
        for name, count, share in rows:
            lines.append(
                f"{printable(name).ljust(widths[0])}  {count.rjust(widths[1])}  {share.rjust(widths[2])}"
            )
        lines.append(f"fallbacks taken: {self.fallbacks} ({_percent(self.share(self.fallbacks))})")
        return "\n".join(lines)


def dry_run(
    route: DynamicRoute,
    *,
    requests: int = 100,
    metadata: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    body: Mapping[str, Any] | None = None,
    seed: str | None = None,
    gateway: LocalGateway | None = None,
) -> DryRun:
    """Deploy `route` to a local gateway and send it `requests` chat requests.

    Args:
        route: The route to try.
        requests: How many requests to send.
        metadata: Sent as `cf-aig-metadata` on every request (conditions and limiter
            keys read `metadata.<key>`).
        headers: More request headers (`headers.<name>` in conditions).
        body: Fields merged into the chat body (`body.<field>`); `model` is always
            `dynamic/<route.name>`.
        seed: Makes the percentage draws repeatable: request `i` sends
            `cf-aig-local-route-seed: <seed>:<i>`.
        gateway: A running local gateway to deploy to (its `default` gateway); None starts
            one for the dry-run and stops it after.

    Returns:
        The counts.
    """
    from ..local.dynamic_exec import ROUTE_SEED_HEADER

    with _gateway(gateway) as gw:
        gw.deploy_route(route)
        url = f"{gw.gateway_url}/compat/chat/completions"
        sent = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if metadata:
            sent[Header.METADATA] = json.dumps(dict(metadata))
        payload = {"messages": PROMPT, **dict(body or {}), "model": f"dynamic/{route.name}"}
        content = json.dumps(payload).encode()
        sent["content-type"] = "application/json"
        result = DryRun(route.name, requests, seed)
        single: dict[str, str] = {}
        with httpx.Client(timeout=60) as http:
            for i in range(requests):
                if seed is not None:
                    sent[ROUTE_SEED_HEADER] = f"{seed}:{i}"
                response = http.post(url, content=content, headers=sent)
                request_id = response.headers.get(Header.REQUEST_ID, "")
                if response.is_success:
                    model = response.headers.get(Header.MODEL, "?")
                    provider = response.headers.get(Header.PROVIDER, "?")
                    result.models[f"{provider}/{model}"] += 1
                    single[request_id] = f"{provider}/{model}"
                else:
                    result.errors[(response.status_code, _code(response))] += 1
                    single[request_id] = ""
        steps = Counter(
            row.get("request_id")
            for row in gw.logs(gw.gateway_id)
            if row.get("request_id") in single
            and not str(row.get("model", "")).startswith("dynamic/")
        )
        reached_by_fallback = fallback_only_models(route)
        result.fallbacks = sum(
            1
            for request_id, model in single.items()
            if steps[request_id] > 1 or (model and model in reached_by_fallback)
        )
    return result


def fallback_only_models(route: DynamicRoute) -> set[str]:
    """`provider/model` of the model elements reached only through `fallback` outputs.

    A request that one of them served took a fallback, even with one model call: a
    limiter over its limit, or a model that failed, sent it there. A model that another
    element also reaches through a `success`, `true`, share or `next` output is left out.

    Args:
        route: The route.

    Returns:
        The models, as `cf-aig-provider/cf-aig-model` name them.
    """
    via: dict[str, set[str]] = {}
    for element in route.elements:
        for output, target in element.outputs.items():
            via.setdefault(target, set()).add(output)
    by_model: dict[str, bool] = {}
    for element in route.elements:
        if isinstance(element, ModelElement):
            # The local mock's `~` directives (`gpt-4o-mini~status=503`) are not in the header.
            name = f"{element.provider}/{element.model.partition('~')[0]}"
            only = via.get(element.id, set()) == {"fallback"}
            by_model[name] = by_model.get(name, True) and only
    return {name for name, only in by_model.items() if only}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `cf-aig routes test` to `parser`.

    Args:
        parser: The `cf-aig routes` parser.
    """
    group = parser.add_argument_group("test (a dry-run on a local gateway)")
    group.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sent as cf-aig-metadata (repeatable)",
    )
    group.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a request header (repeatable)",
    )
    group.add_argument("--body", metavar="JSON", help="fields merged into the chat body")
    group.add_argument(
        "--n", type=int, default=100, metavar="N", help="requests to send (default: 100)"
    )
    group.add_argument("--seed", metavar="S", help="repeatable percentage draws")


def run(args: argparse.Namespace, route: DynamicRoute) -> int:
    """Run `cf-aig routes test` and print the counts.

    Args:
        args: The parsed command line.
        route: The route read from FILE.

    Returns:
        0: error responses are part of the printout.

    Raises:
        InvalidOptionError: `--n` out of range, `--body` not a JSON object, a
            `--metadata`/`--header` pair without `=`, or the server extra missing.
    """
    if not 1 <= args.n <= MAX_REQUESTS:
        raise InvalidOptionError("n", f"must be from 1 to {MAX_REQUESTS}; got {args.n}")
    metadata = parse_metadata(args.metadata)
    headers = parse_pairs("header", args.header, str, example="x-team=core")
    body = _body(args.body)
    if not extras.installed("server"):
        raise InvalidOptionError("test", f"runs a local gateway: {extras.install_hint('server')}")
    result = dry_run(
        route, requests=args.n, metadata=metadata, headers=headers, body=body, seed=args.seed
    )
    print(json.dumps(result.to_json()) if args.json else result.render())
    return 0


def _body(text: str | None) -> dict[str, Any]:
    """The `--body` JSON object (empty without one).

    Raises:
        InvalidOptionError: `text` is not JSON, or not an object.
    """
    if text is None:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidOptionError("body", f"not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(parsed, dict):
        raise InvalidOptionError("body", f"must be a JSON object; got {type(parsed).__name__}")
    return parsed


@contextmanager
def _gateway(given: LocalGateway | None) -> Iterator[LocalGateway]:
    if given is not None:
        yield given
        return
    from ..local import LocalGateway

    with LocalGateway() as gw:
        yield gw


def _code(response: httpx.Response) -> int | None:
    """Cloudflare's internal code of an error response, or a provider error's `code`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("internalCode")
    error = body.get("error")
    if code is None and isinstance(error, dict):
        code = error.get("code")
    elif code is None and isinstance(error, list) and error and isinstance(error[0], dict):
        code = error[0].get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _ranked(counts: Counter[Any]) -> list[tuple[Any, int]]:
    """Most frequent first; ties in a stable order (by key)."""
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"
