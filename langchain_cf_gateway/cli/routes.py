"""`cf-aig routes`: the gateway's dynamic routes, listed, shown, compared, deployed, tried.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/

```text
cf-aig routes list                  [--json]
cf-aig routes show NAME             [--json]
cf-aig routes diff FILE             [--json] [--name NAME]
cf-aig routes deploy FILE [--yes]   [--json] [--name NAME] [--comment TEXT]
            [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
cf-aig routes test FILE             [--json] [--name NAME] [--metadata KEY=VALUE ...]
            [--header NAME=VALUE ...] [--body JSON] [--n N] [--seed S]
```

FILE is a route's JSON: as the API returns it, or as the dashboard's JSON editor
exports it (`DynamicRoute.from_api`). It is read and checked before anything is sent;
a broken rule names the element and the field (exit 2). `diff` prints what a deploy
would change against the deployed version of the route of that name, one line per
change; `deploy` prints the same, then deploys after `--yes` or a `y` at the prompt
(without `--yes`, stdin must be a terminal). `show --json` prints the deployed route
as a FILE `deploy` takes. `test` sends FILE's route N requests on a local gateway
started for it, and counts the models that responded, the fallbacks taken and the error
responses (`cli.route_dry_run`); nothing is sent to Cloudflare.

The gateway flags are `cf-aig logs`'s (`cli.arguments`); the token needs *AI Gateway
Edit* to deploy and is never printed. Exit status: 0 done (or nothing to change);
1 an error response, no such route, the API unreachable, or a deploy declined at the
prompt; 2 bad input (FILE, flags, `--yes` missing without a terminal).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

import httpx

from ..core import InvalidOptionError
from ..core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
from ..management import GatewayClient, RouteChange, RouteRecord, route_changes
from . import route_dry_run
from .arguments import TOKEN_IN_HISTORY, add_gateway_arguments, client_from_args, unreachable
from .logs import printable

ACTIONS: Final = ("list", "show", "diff", "deploy", "test")
TOKEN_HELP: Final = (
    "a Cloudflare API token with 'AI Gateway Read' ('AI Gateway Edit' to deploy) "
    f"(default: CLOUDFLARE_API_TOKEN, then the gateway token); {TOKEN_IN_HISTORY}"
)
_TARGET: Final = {"show": "NAME", "diff": "FILE", "deploy": "FILE", "test": "FILE"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig routes` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = (
        "List, show, compare and deploy the gateway's dynamic routes; try one locally."
    )
    parser.add_argument(
        "action", choices=ACTIONS, help="list | show NAME | diff FILE | deploy FILE | test FILE"
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="NAME|FILE",
        help="the route's name (show), or its JSON file (diff, deploy, test)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--yes", action="store_true", help="deploy without asking")
    parser.add_argument("--comment", metavar="TEXT", help="a note kept with the deployment")
    parser.add_argument("--name", metavar="NAME", help="the route's name when FILE has none")
    add_gateway_arguments(parser, token_help=TOKEN_HELP)
    route_dry_run.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action.

    Args:
        args: The parsed command line.

    Returns:
        The exit status (see the module's docstring).

    Raises:
        InvalidOptionError: NAME or FILE missing or given where none is taken, FILE
            unreadable or not a route, `deploy` without `--yes` and no terminal, or a
            `test` flag out of range.
    """
    wanted = _TARGET.get(args.action)
    if wanted is None and args.target is not None:
        raise InvalidOptionError(args.action, f"takes no argument; got {args.target!r}")
    if wanted is not None and not args.target:
        raise InvalidOptionError(
            args.action, f"needs {wanted}: cf-aig routes {args.action} {wanted}"
        )
    proposed = read_route(args.target, args.name) if wanted == "FILE" else None
    if args.action == "test" and proposed is not None:
        return route_dry_run.run(args, proposed)
    if args.action == "deploy" and not args.yes and not sys.stdin.isatty():
        raise InvalidOptionError(
            "--yes", "stdin is not a terminal to confirm at: pass --yes to deploy"
        )
    with client_from_args(args) as client:
        try:
            if args.action == "list":
                return _list(client, args.json)
            if proposed is None:
                return _show(client, args.target, args.json)
            return _compare(client, proposed, args)
        except httpx.HTTPError as exc:
            return unreachable(client, exc)


def read_route(path: str, name: str | None = None) -> DynamicRoute:
    """The route in the JSON file `path`, checked.

    Args:
        path: The file: the API's route JSON or the dashboard's export.
        name: The route's name, when the JSON has none.

    Returns:
        The route.

    Raises:
        InvalidOptionError: The file cannot be read, or is not a route (the message
            names the element and the field).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidOptionError(printable(path), f"cannot read the route file: {reason}") from None
    try:
        return DynamicRoute.from_api(text, name=name)
    except InvalidDynamicRouteError as exc:
        # The message quotes the file (an element id, an output name): a control character
        # in it must not reach the terminal as one, nor split the one-line error.
        message = printable(str(exc).replace("name='...'", "--name NAME"))
        raise InvalidOptionError(printable(path), message) from None


# --------------------------------------------------------------------------- actions


def _list(client: GatewayClient, as_json: bool) -> int:
    routes: list[RouteRecord] = []
    page = 1
    while True:
        batch = client.list_routes(page=page, per_page=50)
        routes.extend(batch)
        if len(batch) < 50:
            break
        page += 1
    if as_json:
        for record in routes:
            print(json.dumps(record.model_dump(mode="json"), sort_keys=True))
        return 0
    gateway = client.config.gateway_id
    if not routes:
        print(f"No dynamic routes on gateway {gateway!r}.")
        return 0
    rows = [("NAME", "ID", "DEPLOYED VERSION", "MODIFIED")]
    for record in routes:
        deployed = record.deployment.version_id if record.deployment else "-"
        rows.append((record.name, record.id, deployed, record.modified_at or "-"))
    widths = [max(len(printable(row[i])) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(printable(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(routes)} route{'s' if len(routes) != 1 else ''} on gateway {gateway!r}")
    return 0


def _deployed(client: GatewayClient, record: RouteRecord) -> DynamicRoute | None:
    """The route serving traffic: the deployed version's elements (None if none is)."""
    if record.deployment is None:
        return None
    version = client.get_route_version(record.id, record.deployment.version_id)
    return version.route(record.name).model_copy(update={"id": record.id, "name": record.name})


def _show(client: GatewayClient, name: str, as_json: bool) -> int:
    record = client.find_route(name)
    if record is None:
        return _no_route(client, name)
    route = _deployed(client, record)
    if as_json:
        print(json.dumps((route or record.route).to_api(), indent=2))
        return 0
    print(
        printable(f"route {record.name!r} (id {record.id}) on gateway {client.config.gateway_id!r}")
    )
    if record.deployment is None or route is None:
        print("not deployed; its saved elements:")
        route = record.route
    else:
        d = record.deployment
        print(
            printable(
                f"deployed version {d.version_id} (deployment {d.deployment_id}, {d.created_at or '-'})"
            )
        )
    for change in route_changes(None, route):
        print("  " + printable(str(change)).removeprefix("+ "))
    return 0


def _compare(client: GatewayClient, proposed: DynamicRoute, args: argparse.Namespace) -> int:
    gateway = client.config.gateway_id
    record = client.find_route(proposed.name)
    deployed = None if record is None else _deployed(client, record)
    changes = route_changes(deployed, proposed)
    where = f"route {proposed.name!r} on gateway {gateway!r}"
    if not args.json:
        if record is None:
            print(printable(f"{where} does not exist: a deploy creates it"))
        elif deployed is None:
            print(printable(f"{where} has no deployed version"))
        for change in changes:
            print(printable(str(change)))
    if not changes:
        if args.json:
            print(json.dumps(_report(proposed, record, changes)))
        else:
            print(printable(f"No changes: {where} already serves this."))
        return 0
    if args.action == "diff":
        if args.json:
            print(json.dumps(_report(proposed, record, changes)))
        else:
            count = len(changes)
            print(f"{count} change{'s' if count != 1 else ''}; `cf-aig routes deploy` applies them")
        return 0
    if not args.yes and not _confirm(f"Deploy {len(changes)} change(s) to {where}? [y/N] "):
        print("cf-aig: not deployed", file=sys.stderr)
        return 1
    done = client.deploy(proposed, comment=args.comment)
    if args.json:
        report = _report(proposed, record, changes)
        report["deployed"] = done.model_dump(mode="json")
        print(json.dumps(report))
        return 0
    deployment = f" (deployment {done.deployment.deployment_id})" if done.deployment else ""
    verb = "created and deployed" if done.created else "deployed"
    print(printable(f"{verb} version {done.version_id} of {where}{deployment}"))
    return 0


def _report(
    proposed: DynamicRoute, record: RouteRecord | None, changes: list[RouteChange]
) -> dict[str, Any]:
    return {
        "route": proposed.name,
        "route_id": None if record is None else record.id,
        "deployed_version": None
        if record is None or record.deployment is None
        else record.deployment.version_id,
        "changes": [change.to_json() for change in changes],
    }


def _confirm(prompt: str) -> bool:
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _no_route(client: GatewayClient, name: str) -> int:
    gateway = client.config.gateway_id
    message = (
        f"cf-aig: no route named {name!r} on gateway {gateway!r} (cf-aig routes list lists them)"
    )
    print(printable(message), file=sys.stderr)
    return 1
