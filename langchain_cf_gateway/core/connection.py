"""What every client says when it cannot reach the gateway: the URL it tried and the fix.

A gateway that is not running, a wrong port or host in `base_url`, a network down: the
request fails before any response, with httpx's `ConnectError` ("[Errno 111] Connection
refused"). The chat model, the embeddings, the LiteLLM provider and `GatewayClient` each
raise their framework's class for it (`openai.APIConnectionError`,
`litellm.APIConnectionError`, `GatewayConnectionError`), all worded by
`connection_message` here, so the wording cannot drift apart:

```
cannot reach the gateway at http://127.0.0.1:8788/v1/local-account/default/compat/chat/completions
([Errno 111] Connection refused). Is the local gateway running? Start it with
`cf-aig serve --port 8788`, or check `base_url` / CLOUDFLARE_AI_GATEWAY_BASE_URL.
```

The URL shows its scheme, host, port and path; a password in it and credential query
values (Gemini's `?key=`) read `***`, and the query's other values are kept.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import httpx

from .config import ENV_BASE_URL
from .credentials import mask_url, mask_urls
from .protocol import CLOUDFLARE_API_BASE, CLOUDFLARE_GATEWAY_HOST

_CLOUDFLARE_HOSTS: Final = frozenset(
    urlsplit(url).hostname for url in (CLOUDFLARE_GATEWAY_HOST, CLOUDFLARE_API_BASE)
)


class GatewayConnectionError(httpx.ConnectError):
    """`GatewayClient` could not connect to the gateway or the management API.

    Raised where httpx raised `httpx.ConnectError` (connection refused, DNS), which it
    still is: `except httpx.ConnectError` and `except httpx.TransportError` catch it.
    The message names the URL tried and the fix (`connection_message`).
    """


def connection_message(url: httpx.URL | str, reason: str) -> str:
    """The message for a request to `url` that failed before any response.

    Args:
        url: The URL the request was sent to.
        reason: What failed (httpx's message, "[Errno 111] Connection refused").

    Returns:
        One sentence naming the URL (credentials masked) and what to check.
    """
    shown = mask_url(str(url))
    what = "the management API" if "/client/v4" in urlsplit(shown).path else "the gateway"
    detail = f" ({mask_urls(reason)})" if reason else ""
    return f"cannot reach {what} at {shown}{detail}. {connection_fix(url)}"


def connection_fix(url: httpx.URL | str) -> str:
    """What to check when nothing responds at `url`: the last sentence of `connection_message`.

    Args:
        url: The URL the request was sent to.

    Returns:
        For Cloudflare's hosts, the network; for another host, the local gateway's
        `cf-aig serve --port` and `base_url`.
    """
    parts = urlsplit(mask_url(str(url)))
    if parts.hostname in _CLOUDFLARE_HOSTS:
        return "Check the network and any proxy settings (HTTPS_PROXY)."
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (
        f"Is the local gateway running? Start it with `cf-aig serve --port {port}`, "
        f"or check `base_url` / {ENV_BASE_URL}."
    )


def connection_error(exc: httpx.TransportError) -> GatewayConnectionError | None:
    """`exc` as `GatewayConnectionError`, if it is a failure to connect; else None.

    Args:
        exc: What httpx raised before any response.

    Returns:
        The error to raise (chain it from `exc`), or None for another transport error.
    """
    if not isinstance(exc, httpx.ConnectError):
        return None
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # raised without its request
        request = None
    if request is None:
        return None
    error = GatewayConnectionError(connection_message(request.url, str(exc)))
    # httpx keeps the request to say which one failed; the error's own copy has no headers
    # (the token) and no body.
    error.request = httpx.Request(request.method, mask_url(str(request.url)))
    return error
