"""LiteLLM custom provider `cloudflare-ai-gateway`: the SDK, the Router and the proxy.

Setup:

```python
import litellm
from langchain_cf_gateway.litellm_provider import register

register()  # adds the provider once, however often it is called
response = litellm.completion(
    model="cloudflare-ai-gateway/openai/gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello"}],
    api_key="sk-...",                       # the PROVIDER key (optional with BYOK)
    account_id="...", gateway_id="my-gw",  # else CLOUDFLARE_ACCOUNT_ID / ..._GATEWAY_ID
    gateway_options={"cache_ttl": 3600, "metadata": {"team": "search"}},
)
response._hidden_params["gateway"]  # {"cache_status": "MISS", "log_id": ..., ...}
```

Model names are `cloudflare-ai-gateway/<model id>` with the core's grammar:
`openai/gpt-4o-mini`, `dynamic/support`, `workers-ai/@cf/meta/llama-3.1-8b-instruct`
(https://developers.cloudflare.com/ai-gateway/usage/chat-completion/).

Per-call or per-deployment keys (`litellm_params` of a Router deployment or of the
proxy's `config.yaml`), all optional:

| Key | Meaning |
|---|---|
| `api_base` | the gateway host (`http://127.0.0.1:8787`) or a pasted gateway URL |
| `api_key` | the provider's key, sent as `Authorization`; none sent without it |
| `account_id` | Cloudflare account id |
| `gateway_id` | gateway id (`default`) |
| `gateway_token` | Cloudflare API token, sent as `cf-aig-authorization` |
| `gateway_options` | a `GatewayOptions` or a dict of its fields |
| `endpoint` | `compat` (default), `native` or `rest` |
| `gateway_fallbacks` | model ids tried in order after `model` on the universal endpoint |
| `max_response_bytes` | cap of one response body after decompression (default 32 MiB) |

OpenAI's chat and embeddings parameters (`temperature`, `tools`, `dimensions`...) go
into the request body; a provider's own parameters go in `extra_body`. Nothing else of
what LiteLLM passes a handler reaches the gateway.

`timeout` is what LiteLLM documents it to be, the call's maximum execution time: a
number is a deadline for the whole call, a stream's last chunk included (past it,
`litellm.Timeout` with a `GatewayTimeoutError` behind it); an
`httpx.Timeout` keeps httpx's per-phase meaning. A response past `max_response_bytes`
(a small gzip body inflating to gigabytes) raises a 502 with a
`ResponseTooLargeError` behind it. Credentials an error body echoes are
masked in the exception.

Unset keys come from the environment and the config file, as everywhere in this package
(`core.GatewayConfig.resolve`), read once per deployment (`CloudflareGatewayLLM.refresh`
reads them again). The gateway's fallback list is `gateway_fallbacks` and not
`fallbacks` because LiteLLM takes `fallbacks` for its own model-level fallbacks before a
handler ever sees it.

What comes back:

- non-streaming: `response._hidden_params["gateway"]` is the same dict as LangChain's
  `response_metadata["gateway"]` (`GATEWAY_INFO_KEYS`), and
  `_hidden_params["additional_headers"]` carries `llm_provider-cf-aig-*`, which the
  LiteLLM proxy returns as HTTP response headers;
- streaming: the first chunk has the dict as `chunk.gateway`; once the response has
  begun (at the latest when that chunk has been read), the stream wrapper has it too, in
  `stream._hidden_params["gateway"]` (and the headers in
  `stream._hidden_params["additional_headers"]`). `gateway_info` reads any of these;
- errors: the gateway's HTTP status decides LiteLLM's exception (429 ->
  `litellm.RateLimitError`, 401 -> `AuthenticationError`...), so Router retries,
  cooldowns and fallbacks work; `gateway_error` recovers the core's typed
  `GatewayError` (code, log id) from LiteLLM's exception. A timeout is a
  `GatewayTimeoutError` (`litellm.Timeout`); a broken response (not JSON, a malformed
  or cut stream) is an `InvalidResponseError`, a 502 to LiteLLM. The whole table is in
  `errors`.

Bad input raises before anything is sent, as the core's `ValueError` and
`litellm.BadRequestError` at once. The gateway token is blanked in what LiteLLM hands
its callbacks and in LiteLLM's own log records (a filter that `register` installs).

The modules, laid out as LiteLLM lays out a provider:

- `gateway_llm`: the handler `CloudflareGatewayLLM` (I/O only);
- `transformation`: request building and response parsing (pure);
- `stream_parser`: the chat stream parser (`ChatChunkParser`), `streaming`: the streams;
- `errors`: the one error boundary (`ErrorBoundary`) and its table;
- `cost_calculator`: the provider's price of a response;
- `redaction`: the gateway token kept out of LiteLLM's logs;
- `http_client`: the handler's pooled HTTP clients, sending under the body cap;
- `_compat`: what is taken from LiteLLM beyond `CustomLLM` (one private touch: a
  stream wrapper's hidden params, on tested LiteLLM versions).

This package is the only one that imports litellm; `import langchain_cf_gateway` does not.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

import litellm

from ._compat import make_provider_known
from .errors import PROVIDER, GatewayLLMError, gateway_error
from .gateway_llm import CloudflareGatewayLLM
from .redaction import LITELLM_LOGGERS, RedactGatewayToken
from .stream_parser import GATEWAY_KEY
from .transformation import gateway_info

__all__ = [
    "GATEWAY_KEY",
    "PROVIDER",
    "CloudflareGatewayLLM",
    "GatewayLLMError",
    "gateway_error",
    "gateway_info",
    "handler",
    "register",
]

handler: Final = CloudflareGatewayLLM()
"""The handler the proxy's `custom_provider_map` names and `register` installs."""

_register_lock = threading.Lock()
_REDACT_FILTER: Final = RedactGatewayToken()


def register(custom_handler: CloudflareGatewayLLM | None = None) -> None:
    """Add the provider `cloudflare-ai-gateway` to `litellm.custom_provider_map` once.

    Safe to call any number of times and from several threads: an entry for the
    provider that is already there (ours, or one the proxy's config.yaml made) is kept.
    Also installs a filter on LiteLLM's loggers that blanks `gateway_token` values.

    And it sets `litellm.disable_hf_tokenizer_download = True` unless you set it
    yourself: LiteLLM prices a stream before its first chunk by counting tokens, and for
    a model name with `llama-2`, `llama-3` or `replicate` in it (`workers-ai/@cf/meta/
    llama-3.1-8b-instruct`) its counter downloads a tokenizer from huggingface.co first
    (offline, about 48 seconds of retries). The gateway reports each response's usage,
    so LiteLLM's estimates fall back to tiktoken instead. Set it to False, before or
    after `register()`, to keep the download.

    Args:
        custom_handler: The handler to install; the module-level `handler` when None.
    """
    with _register_lock:
        if litellm.disable_hf_tokenizer_download is None:  # None: the user never set it
            litellm.disable_hf_tokenizer_download = True
        for name in LITELLM_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACT_FILTER not in logger.filters:
                logger.addFilter(_REDACT_FILTER)
        current = list(litellm.custom_provider_map or [])
        if any(item.get("provider") == PROVIDER for item in current):
            return
        current.append({"provider": PROVIDER, "custom_handler": custom_handler or handler})
        litellm.custom_provider_map = current
        # LiteLLM does this on every call; doing it now makes the provider known to
        # helpers such as litellm.get_llm_provider before the first call.
        make_provider_known()
