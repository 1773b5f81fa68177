"""The local gateway: Cloudflare AI Gateway's protocol on loopback (extra ``server``).

Import it on demand; ``import langchain_cf_gateway`` never loads it (nor starlette or
uvicorn). Modules: :mod:`.server` (``LocalGateway``), :mod:`.app` (routes), :mod:`.pipeline`
(options, cache, retries), :mod:`.mock` (the mock model), :mod:`.faults` (fault grammar),
:mod:`.scripts`, :mod:`.cache`, :mod:`.logstore`, :mod:`.gateways`, :mod:`.upstream`
(mock or pass-through) and :mod:`.connections` (its HTTP client), :mod:`.management`,
:mod:`.config` (the config file), :mod:`.cli` (``cf-aig serve``), :mod:`.edge` (what a
request must be before it is forwarded) and :mod:`.listener` (Host, Origin, connection
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
