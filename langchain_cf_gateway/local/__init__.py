"""The local gateway: Cloudflare AI Gateway's protocol on loopback (extra `server`).

Import it on demand; `import langchain_cf_gateway` never loads it (nor starlette or
uvicorn). Modules: `server` (`LocalGateway`), `app` (routes), `pipeline`
(options, cache, retries), `mock` (the mock model), `faults` (fault grammar),
`scripts`, `cache`, `logstore`, `gateways`, `upstream`
(mock or pass-through) and `connections` (its HTTP client), `management`,
`config` (the config file), `cli` (`cf-aig serve`), `edge` (what a
request must be before it is forwarded) and `listener` (Host, Origin, connection
and request-head bounds). README.md in this
directory has the curl examples.
"""

from .app import ReceivedRequest
from .clock import Clock
from .faults import Fault
from .gateways import GatewaySettings
from .mock import EMBEDDING_DIMENSIONS, count_tokens, embedding_vector
from .scripts import Script
from .server import LocalGateway
from .upstream import PassThrough

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Clock",
    "Fault",
    "GatewaySettings",
    "LocalGateway",
    "PassThrough",
    "ReceivedRequest",
    "Script",
    "count_tokens",
    "embedding_vector",
]
