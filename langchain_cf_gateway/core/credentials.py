"""Credentials: which names carry one, and how they are shown. Stated once, for client and server.

A credential is recognised by its **name**, wherever it appears: a request header, a
query parameter, a key of a universal step's `headers` object. The names are the
provider auth headers of core's table (`authorization`, `x-api-key`,
`x-goog-api-key`, `api-key`...), the usual others (`proxy-authorization`,
`cookie`, `x-auth-token`, `openai-api-key`, AWS's `x-amz-security-token`), and
any name with a word such as `auth`, `token`, `key`, `secret` or `password`
between separators (`x-custom-api-key`, `access_token`, `?key=` of Google AI
Studio: https://ai.google.dev/gemini-api/docs/api-key). Gateway options (`cf-aig-*`)
are not credentials, except the gateway's own `cf-aig-authorization`
(https://developers.cloudflare.com/ai-gateway/configuration/authentication/).

A query string is read wherever it is written: besides the request's own, any
`?name=value` / `&name=value` inside a string (a universal step's `endpoint`, a URL
in a prompt, a `Referer` header, an upstream response that echoes its URL) has the values
of its credential names redacted (`redact_query_values`).

Everything that shows a request (the local gateway's received requests and log rows,
`cf-aig route`, warnings) redacts through these functions; nothing else decides what a
credential is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from .protocol import Header
from .providers import PROVIDERS

REDACTED: Final = "[REDACTED]"
"""What a credential's value becomes in anything the gateway shows or stores."""
MASK: Final = "***"
"""What a password or credential query value becomes in a URL that is printed."""

CREDENTIAL_NAMES: Final[frozenset[str]] = frozenset(
    (
        Header.AUTHORIZATION,
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-auth-token",
        "openai-api-key",
        "x-amz-security-token",
        *(p.auth_header for p in PROVIDERS),  # x-api-key, api-key, x-goog-api-key, xi-api-key
        # query keys
        "key",
        "api_key",
        "apikey",
        "access_token",
        "password",
        "sig",
    )
)
"""Names that always carry a credential (lowercase); `is_credential` adds a pattern."""

NOT_CREDENTIALS: Final[frozenset[str]] = frozenset(("idempotency-key", "x-idempotency-key"))
"""Names the pattern would match that carry no secret (and differ on every request)."""

_WORD: Final = re.compile(
    r"(?:^|[-_.])(?:auth|authorization|token|secret|password|passwd|pwd|apikey|api[-_]key|key"
    r"|cookie|credentials?|signature|sig)(?:$|[-_.])"
)
_OPTION_PREFIX: Final = "cf-aig-"
_MIN_SCRUB_CHARS: Final = 8
"""Shorter values are redacted where their name says so, not searched for in free text."""
_URL: Final = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE)
_QUERY_NAME: Final = rb"""([^=&#;?\s"'<>\\]{1,256})="""
_QUERY_VALUE: Final = rb"""(?:[^&#;\s"'<>\\]|\\/)+"""
_QUERY_SEPARATORS: Final = (b"?", b"&", b";", b"\\u0026")
_QUERY_NAMES: Final = tuple(
    re.compile(lead + _QUERY_NAME) for lead in (rb"\A", rb"[?&;]", rb"\\u0026")
)
"""Query parameters (`name=value`) wherever they are written in a text: at its start (a
form body), after `?`, `&` or `;`, or after `\\u0026` (`&` as some JSON encoders
write it in a string). A value runs to the next separator, quote, space or backslash
(`\\/`, JSON's escaped slash, is part of it), so that raw JSON bytes read like text.
Each pattern starts with a class or a literal, which the regex engine searches for fast.
"""


HOP_BY_HOP_HEADERS: Final[frozenset[str]] = frozenset(
    (
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept-encoding",
        "proxy-authorization",
        "cookie",
    )
)
"""Headers a pass-through upstream never receives from the client as they are.

The hop-by-hop ones (RFC 9110 section 7.6.1), and those the HTTP client sets itself for
the body it sends (framing, host, expect). `accept-encoding` goes too: the body is
relayed as received, and the client must be able to read it. `proxy-authorization` is
the credential of the proxy the client talks to, here the gateway (RFC 9110 section
11.7.1), and `cookie` holds the cookies of the gateway's origin (a browser sends every
`localhost` cookie, whatever its port, to a gateway on `localhost`); no provider
authenticates an API call with either. Every header named in the client's
`Connection` header goes as well (`forwardable_headers`).
"""


def carries_secret(value: str, secrets: Collection[str]) -> bool:
    """True if a header value is, or holds, one of `secrets` (`Bearer <token>` included).

    A secret shorter than 8 characters counts only as the whole value or the whole part
    after an auth scheme, so that a short token does not match every header.
    """
    if not secrets:
        return False
    stripped = value.strip()
    after_scheme = stripped.partition(" ")[2].strip()
    for secret in secrets:
        if not secret:
            continue
        if secret in (stripped, after_scheme):
            return True
        if len(secret) >= _MIN_SCRUB_CHARS and secret in value:
            return True
    return False


def forwardable_headers(
    headers: Mapping[str, str], withheld: Collection[str] = ()
) -> dict[str, str]:
    """The client's headers that may go to a provider: never a gateway credential.

    Dropped: `HOP_BY_HOP_HEADERS`, every header the client names in its
    `Connection` header (hop-by-hop for this connection, RFC 9110 section 7.6.1:
    https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1), every `cf-aig-*` header
    (the gateway's options and its `cf-aig-authorization`), and any header whose value
    carries one of the gateway's own tokens in `withheld` (the REST API's
    `Authorization: Bearer <token>`, a token copied into a universal step's headers
    under another name). Names are compared without regard to case.
    """
    dropped = set(HOP_BY_HOP_HEADERS)
    for name, value in headers.items():
        if name.lower() == "connection":
            dropped.update(t.strip().lower() for t in value.split(",") if t.strip())
    return {
        k: v
        for k, v in headers.items()
        if k.lower() not in dropped
        and not k.lower().startswith(_OPTION_PREFIX)
        and not carries_secret(v, withheld)
    }


@lru_cache(maxsize=4096)
def is_credential(name: str) -> bool:
    """True if a header, query key or step-header name carries a credential."""
    lowered = name.strip().lower()
    if lowered in CREDENTIAL_NAMES:
        return True
    if lowered in NOT_CREDENTIALS or lowered.startswith(_OPTION_PREFIX):
        return False
    return _WORD.search(lowered) is not None


def redact_headers(headers: Mapping[str, Any], secrets: Collection[str] = ()) -> dict[str, Any]:
    """Headers with every credential's value replaced by `REDACTED`.

    The values of those credentials, and `secrets`, are also hidden inside the other
    headers (a key copied into `x-forward-me`), and so are credential query values in
    them (`Referer: https://app.example/?token=...`).
    """
    found = credential_values(headers) | set(secrets)
    return {
        k: (
            REDACTED
            if is_credential(str(k))
            else redact_query_values(scrub(v, found))
            if isinstance(v, str)
            else v
        )
        for k, v in headers.items()
    }


def query_pairs(query_string: str) -> list[tuple[str, str]]:
    """The parameters of a query string, blank values kept, in order."""
    return parse_qsl(query_string, keep_blank_values=True)


def credential_values(
    headers: Mapping[str, Any] | None = None, query_string: str = "", body: Any = None
) -> set[str]:
    """The values of every credential in a request: head, query, credentials in the body.

    `body` is parsed JSON: its `headers` objects at any depth (a universal body, an
    array of steps or a single one), in a JSON object its own top-level fields named as
    credentials (`{"api_key": ...}`), and the credential query values in any of its
    strings (a step's `endpoint` with `?key=...`, a URL in a prompt); header and
    query values are searched for such query values too. A value such as `Bearer sk-...` yields the
    part after the scheme.
    """
    found: set[str] = set()

    def add(value: Any) -> None:
        text = str(value).strip()
        scheme, _, rest = text.partition(" ")
        if rest.strip() and scheme.isalpha():
            text = rest.strip()  # the secret without its scheme also hides "Bearer <it>"
        if text:
            found.add(text)

    for name, value in (headers or {}).items():
        if is_credential(str(name)):
            add(value)
        elif isinstance(value, str):
            found.update(query_credential_values(value))
    for name, value in query_pairs(query_string):
        if is_credential(name):
            add(value)
        else:  # ?redirect=https://app/?token=...
            found.update(query_credential_values(value))
    for step_headers in _header_objects(body):
        for name, value in step_headers.items():
            if is_credential(str(name)):
                add(value)
    for value in credential_fields(body).values():
        add(value)
    for text in _strings(body):
        found.update(query_credential_values(text))
    return found


def _query_credentials(data: bytes) -> dict[bytes, list[bytes]]:
    """Each credential query parameter's name in `data`, with how it is introduced there."""
    names: set[bytes] = set()
    for pattern in _QUERY_NAMES:
        names.update(pattern.findall(data))
    found: dict[bytes, list[bytes]] = {}
    for name in names:
        if is_credential(unquote_plus(name.decode("utf-8", "replace"))):
            leads = [sep + name + b"=" for sep in _QUERY_SEPARATORS]
            found[name] = [lead for lead in leads if lead in data]
    return found


def query_credential_values(text: str) -> set[str]:
    """The values of credential query parameters written anywhere in `text`.

    Each value as written and percent-decoded (`key=a%2Bb` yields `a%2Bb` and
    `a+b`), so that either form is found elsewhere.
    """
    if "=" not in text:
        return set()
    data = text.encode("utf-8", "surrogatepass")
    raw: set[bytes] = set()
    for name, leads in _query_credentials(data).items():
        start = re.match(re.escape(name + b"=") + b"(" + _QUERY_VALUE + b")", data)
        if start:
            raw.add(start.group(1))
        for lead in leads:
            raw.update(re.findall(re.escape(lead) + b"(" + _QUERY_VALUE + b")", data))
    found: set[str] = set()
    for value in raw:
        shown = value.decode("utf-8", "surrogatepass")
        found.update((shown, shown.replace("\\/", "/"), unquote_plus(shown.replace("\\/", "/"))))
    return found


def redact_query_values(text: str) -> str:
    """`text` with the value of every credential query parameter in it as `REDACTED`.

    `see https://h/p?x=1&access_token=abc` -> `see https://h/p?x=1&access_token=[REDACTED]`;
    a universal step's `endpoint` `v1beta/...:generateContent?key=...` likewise, and
    a form body's first parameter. A name is a credential by `is_credential`, after
    percent-decoding.
    """
    if "=" not in text:
        return text
    data = text.encode("utf-8", "surrogatepass")
    hidden = redact_query_values_bytes(data)
    return text if hidden is data else hidden.decode("utf-8", "surrogatepass")


def redact_query_values_bytes(data: bytes) -> bytes:
    """`redact_query_values` on UTF-8 (or ASCII) bytes, such as a raw JSON body.

    The credential names present are found first; each is then replaced through a
    literal pattern with a literal replacement (no Python call per match), so that a
    body of a million parameters costs a fraction of a second.
    """
    if b"=" not in data:
        return data
    hidden = REDACTED.encode()
    for name, leads in _query_credentials(data).items():
        start = re.match(re.escape(name + b"=") + _QUERY_VALUE, data)
        if start:
            data = name + b"=" + hidden + data[start.end() :]
        for lead in leads:  # a name holds no backslash; the one of "\u0026" is escaped
            data = re.sub(
                re.escape(lead) + _QUERY_VALUE, lead.replace(b"\\", b"\\\\") + hidden, data
            )
    return data


def _strings(data: Any, depth: int = 0) -> Iterable[str]:
    """Every string (values and keys) inside parsed JSON, to 64 levels."""
    if depth > 64:
        return
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _strings(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item, depth + 1)


def credential_fields(body: Any) -> dict[str, str]:
    """The top-level string fields of a JSON object body whose name is a credential."""
    if not isinstance(body, dict):
        return {}
    return {k: v for k, v in body.items() if isinstance(v, str) and is_credential(str(k))}


def _header_objects(data: Any, depth: int = 0) -> Iterable[dict[str, Any]]:
    """Every `headers` object inside parsed JSON (a universal body and its steps)."""
    if depth > 64:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() == "headers" and isinstance(value, dict):
                yield value
            else:
                yield from _header_objects(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _header_objects(item, depth + 1)


def redact_json(data: Any, depth: int = 0) -> Any:
    """Parsed JSON with every `headers` object's credentials redacted (a copy).

    A top-level field named as a credential (`{"api_key": ...}`) is redacted too, and
    so is every credential query value in a string (`redact_query_values`: a
    step's `endpoint` `...?key=...`, a URL in a prompt).

    Past 64 levels the rest is shown as `REDACTED`: nothing that deep is read as
    headers, and nothing unread is shown.
    """
    if depth > 64:
        return REDACTED
    if isinstance(data, dict):
        if depth == 0:
            data = {**data, **dict.fromkeys(credential_fields(data), REDACTED)}
        return {
            k: (
                redact_headers(v)
                if str(k).lower() == "headers" and isinstance(v, dict)
                else redact_json(v, depth + 1)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_json(item, depth + 1) for item in data]
    if isinstance(data, str):
        return redact_query_values(data)
    return data


def parse_json_body(body: bytes) -> Any:
    """The body as JSON in any encoding JSON allows (UTF-8 with or without BOM, UTF-16/32).

    Returns None when it is empty or not JSON.
    """
    if not body:
        return None
    try:
        return json.loads(body)  # detects UTF-16/32 and the UTF-8 BOM itself (RFC 8259 s8.1)
    except (ValueError, RecursionError):
        return None


def scrub(text: str, secrets: Collection[str]) -> str:
    """`text` with every occurrence of each secret (8 characters or more) redacted."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= _MIN_SCRUB_CHARS and value in text:
            text = text.replace(value, REDACTED)
    return text


def scrub_bytes(data: bytes, secrets: Collection[str]) -> bytes:
    """`scrub` and `redact_query_values` on a body, in the body's own encoding.

    UTF-8 (the usual case) is searched as bytes; a body in UTF-16 or UTF-32 (which JSON
    allows, RFC 8259 section 8.1) is decoded, scrubbed and encoded again (only when
    something was hidden: other bytes are kept as they are).
    """
    if not data:
        return data
    encoding = json.detect_encoding(data)
    if encoding not in ("utf-8", "utf-8-sig"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            hidden = redact_query_values(scrub(text, secrets))
            return hidden.encode(encoding) if hidden != text else data
    for value in sorted(secrets, key=len, reverse=True):
        raw = value.encode("utf-8", "surrogatepass")
        if len(value) >= _MIN_SCRUB_CHARS and raw in data:
            data = data.replace(raw, REDACTED.encode())
    return redact_query_values_bytes(data)


def redact_body_text(body: bytes, secrets: Collection[str] = ()) -> str:
    """A request body as text for display, credentials hidden whatever its shape or encoding.

    JSON (any encoding) is shown re-serialised with every `headers` object and every
    credential query value redacted; the values of those credentials, and `secrets`,
    are then hidden wherever else they appear in the text. Other text (a form body) gets
    its credential query values redacted too.
    """
    data = parse_json_body(body)
    found = set(secrets)
    if data is not None:
        found |= credential_values(body=data)
        text = json.dumps(redact_json(data), ensure_ascii=False, separators=(",", ":"))
    else:
        text = body.decode("utf-8", "replace")
        if "=" in text:  # a form body (key=...&password=...) names its credentials too
            found |= credential_values(query_string=text) | query_credential_values(text)
            text = redact_query_values(text)
    return scrub(text, found)


def mask_url(url: str) -> str:
    """The URL with its userinfo password and credential query values as `***`.

    `redis://:pw@host/0` -> `redis://:***@host/0`; `http://u:pw@h` -> `http://u:***@h`;
    `redis://h/0?password=pw` -> `redis://h/0?password=***`.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        # A lone userinfo (https://TOKEN@host) is as often a token as a user name.
        netloc = f"{user}:{MASK}@{hostport}" if sep else f"{MASK}@{hostport}"
    query = parts.query
    if query and any(is_credential(k) for k, _ in query_pairs(query)):
        query = urlencode(
            [(k, MASK if is_credential(k) else v) for k, v in query_pairs(query)], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_urls(text: str) -> str:
    """`text` (an error message, a warning) with every URL in it passed through `mask_url`."""
    return _URL.sub(lambda m: mask_url(m.group(0)), text)
