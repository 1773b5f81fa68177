"""Cloudflare's management API for AI Gateway: logs, feedback, gateways and dynamic routes.

https://developers.cloudflare.com/api/resources/ai_gateway/

```python
from langchain_cf_gateway import GatewayClient

with GatewayClient() as client:                 # same resolution as the chat model
    for log in client.iter_logs(cached=False, provider="openai", limit=100):
        print(log.id, log.model, log.tokens_in, log.tokens_out, log.cost)
    client.update_log(log.id, feedback=1, score=95)
    client.send_feedback(ai_message, feedback=-1)   # the log id read from the result
```

The API lives at `https://api.cloudflare.com/client/v4` and takes
`Authorization: Bearer <Cloudflare API token>`; with a `base_url` (the local gateway)
it lives at `{base_url}/client/v4` (`GatewayConfig.api_base`). Every response is
Cloudflare's v4 envelope `{success, errors, messages, result, result_info}`; an error
response raises the `errors` class for it, never showing the token.

- `models`: the values (`LogEntry`, `LogPage`, `LogFilter`, `LogQuery`, `Gateway`,
  `GatewaySettings`, `ResultInfo`);
- `_query`: arguments checked and encoded (path ids, pages, the logs query);
- `_base`: `GatewayClientBase`, without I/O: each call built as a `Call`, each
  response read, retries decided, failures translated;
- `route_models`, `_routes`, `routes`: the dynamic-routing API (`RouteRecord`,
  `RouteVersion`, `RouteDeployment`, `DeployedRoute`), its calls without I/O, and the
  methods both clients gain from them (`deploy(route)`, `list_routes()`...);
- `frames`: logs as DataFrames (`logs_to_pandas`, `LogPage.to_pandas()`) and as
  HTML tables in Jupyter;
- `route_changes`: what a deploy would change (`cf-aig routes diff`);
- `client` and `async_client`: `GatewayClient` and `AsyncGatewayClient`, which differ
  only in I/O.
"""

from ..core.errors import LogNotFoundError, ManagementAuthenticationError
from ._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, ENV_API_TOKEN, RETRY_AFTER_MAX_S
from ._routes import RouteNotFoundError
from .async_client import AsyncGatewayClient
from .client import GatewayClient
from .frames import LOG_COLUMNS, logs_to_pandas
from .models import (
    NEW_GATEWAY_DEFAULTS,
    READ_ONLY_GATEWAY_FIELDS,
    Gateway,
    GatewaySettings,
    LogEntry,
    LogFilter,
    LogPage,
    LogQuery,
    ResultInfo,
)
from .route_changes import RouteChange, route_changes
from .route_models import DeployedRoute, RouteDeployment, RouteRecord, RouteVersion

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "ENV_API_TOKEN",
    "LOG_COLUMNS",
    "NEW_GATEWAY_DEFAULTS",
    "READ_ONLY_GATEWAY_FIELDS",
    "RETRY_AFTER_MAX_S",
    "AsyncGatewayClient",
    "DeployedRoute",
    "Gateway",
    "GatewayClient",
    "GatewaySettings",
    "LogEntry",
    "LogFilter",
    "LogNotFoundError",
    "LogPage",
    "LogQuery",
    "ManagementAuthenticationError",
    "ResultInfo",
    "RouteChange",
    "RouteDeployment",
    "RouteNotFoundError",
    "RouteRecord",
    "RouteVersion",
    "logs_to_pandas",
    "route_changes",
]
