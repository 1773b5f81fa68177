r"""What the local gateway accepts at its HTTP edge, checked before anything is forwarded.

Pure checks, no I/O; `gateway_routes` runs them after authentication and before any
upstream call, and responds to a failure with HTTP 400, the gateway error body (code 7001)
naming the field and the fix, and a log row with `success: false`. The transport
bounds (head size and time, connections, `Host` and `Origin`) are in `listener`.

- **Header names and values** a client gives as text (a universal step's `headers`,
  step `config` strings, which Cloudflare applies as `cf-aig-*` options) follow
  `HeaderSyntax`: names are RFC 9110 tokens,
  values printable latin-1 (tab allowed; no CR, LF, NUL, other control characters, nor
  anything outside latin-1), at most `Bounds.HEADER_VALUE_MAX_CHARS` characters.
  A step header value may be a string, a number (sent as its JSON text, `3`,
  `0.5`) or a boolean (`true`/`false`); null, arrays and objects are refused.
  Headers that arrive on the wire are already held to RFC 9110 by the HTTP parser
  (httptools); the echoed `cf-aig-event-id` is checked again before it is echoed.
- **Paths** that become an upstream path (the gateway path after `/{gateway_id}/`,
  percent-decoded once by the server, and a step's `endpoint`) take letters, digits,
  `/` and `-._~!$&'()*+,;=:@` only, and no `.` or `..` segment. So encoded dot
  segments (`%2e%2e`, `%2E.`, `.%2e`), encoded slashes that would make one
  (`%2f..`), double encoding (`%252e`, which leaves a `%`), backslashes and
  anything that would change the request line (space, `?`, `#`, CR, LF) never
  reach a pass-through upstream.
- **JSON bodies** (and the JSON headers `cf-aig-metadata`, `cf-aig-custom-cost`) are
  strict: no `NaN`, `Infinity`, nor a number too large for a float (`1e309`), so
  that the logs API always emits strict JSON; nesting at most `Bounds.JSON_MAX_DEPTH`
  deep; no unpaired UTF-16 surrogate (`"\ud800"`), which no UTF-8 store can hold.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from ..core.protocol import Bounds, ErrorCode, Header, HeaderSyntax
from .request_error import GatewayRequestError

_PATH: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_PATH_CHARS: Final = "letters, digits, / and -._~!$&'()*+,;=:@"
_QUERY: Final = re.compile(rb"[\x21-\x7e]*")
# A JSON escape of a UTF-16 surrogate, or the UTF-8 lead byte of an encoded surrogate
# (json.loads decodes bytes with "surrogatepass"): only then can a string hold one.
_MAYBE_SURROGATE: Final = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_JSON_HEADERS: Final = (Header.METADATA, Header.CUSTOM_COST)
_VALUE_RULE: Final = (
    "a header value must be printable latin-1 text (tab allowed; no CR, LF, NUL or "
    "other control characters)"
)


class EdgeError(GatewayRequestError):
    """A request refused at the edge: HTTP 400, code 7001, a message naming the field."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_REQUEST, f"Invalid request: {message}")


class NotJson(EdgeError):
    """The body is not JSON at all (as opposed to JSON the gateway refuses)."""


def field_name(key: str) -> str:
    """A key as it appears in a field path: JSON-quoted, so controls show escaped."""
    return json.dumps(key)


def describe(char: str) -> str:
    """A character as an error message names it."""
    names = {"\r": "CR", "\n": "LF", "\x00": "NUL", "\t": "TAB", " ": "a space"}
    if char in names:
        return names[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate U+{code:04X}"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"the control character U+{code:04X}"
    if code > 0xFF:
        return f"U+{code:04X} (outside latin-1)"
    return repr(char)


def printable(text: str) -> str:
    """`text` with controls and surrogates escaped, for a log row of a refused request."""
    escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", escaped)


# ---------------------------------------------------------------------- headers


def header_text(value: Any, field: str) -> str:
    """A step header value as the text that travels; `EdgeError` if it cannot.

    Raises:
        EdgeError: the value cannot travel in a header.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise EdgeError(
            f"{field} must be a string, number or boolean; got {kind} "
            "(send an object as a JSON string, as cf-aig-metadata takes it)"
        )
    check_text_value(value, field)
    return value


def check_text_value(value: str, field: str) -> None:
    """Hold a header value to the edge's syntax (`EdgeError` naming `field`).

    Raises:
        EdgeError: the value breaks the header syntax.
    """
    if len(value) > Bounds.HEADER_VALUE_MAX_CHARS:
        raise EdgeError(
            f"{field} is {len(value)} characters long; a header value may have at most "
            f"{Bounds.HEADER_VALUE_MAX_CHARS}"
        )
    if HeaderSyntax.TEXT_VALUE.fullmatch(value) is None:
        bad = next(c for c in value if HeaderSyntax.TEXT_VALUE.fullmatch(c) is None)
        raise EdgeError(f"{field} holds {describe(bad)}; {_VALUE_RULE}")


def step_headers(raw: Any, where: str) -> dict[str, str]:
    """A universal step's `headers`, checked, names lowercased (`where`: its field).

    Raises:
        EdgeError: a name or value breaks the header syntax.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise EdgeError(f"{where} must be an object of header names to values")
    if len(raw) > Bounds.STEP_HEADERS_MAX:
        raise EdgeError(f"{where} has {len(raw)} entries; at most {Bounds.STEP_HEADERS_MAX}")
    checked: dict[str, str] = {}
    for name, value in raw.items():
        field = f"{where}[{field_name(name)}]"
        if HeaderSyntax.NAME.fullmatch(name) is None:
            raise EdgeError(
                f"{field}: a header name must be an RFC 9110 token (letters, digits and "
                "!#$%&'*+-.^_`|~; no space, colon, control or non-ASCII character)"
            )
        text = header_text(value, field)
        if name.lower() in _JSON_HEADERS:
            json_header(text, field)
        checked[name.lower()] = text
    return checked


def step_config(raw: Any, where: str) -> dict[str, Any] | None:
    """A universal step's `config`: every string in it is held to the header-value rule.

    Cloudflare applies a step's `config` as the `cf-aig-*` options of that step
    (https://developers.cloudflare.com/ai-gateway/configuration/request-handling/), so
    its strings are header values in all but name.

    Raises:
        EdgeError: a string breaks the header syntax, or the config is not an object.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise EdgeError(f'{where} must be an object such as {{"requestTimeout": 5000}}')
    stack: list[tuple[Any, str]] = [(raw, where)]
    while stack:
        value, field = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{field}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{field}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, str):
            check_text_value(value, field)
    return raw


def json_header(value: str, field: str) -> None:
    """A JSON-valued `cf-aig-*` header holds strict JSON, if it holds JSON at all."""
    # not JSON at all: the pipeline's own rule applies (ignored metadata, 400 custom cost)
    with contextlib.suppress(NotJson):
        parse_json(value.encode("latin-1", "replace"), field)


def request_headers(headers: Mapping[str, str]) -> None:
    """The wire headers' JSON values (`cf-aig-metadata`, `cf-aig-custom-cost`)."""
    for name in _JSON_HEADERS:
        value = headers.get(name)
        if value:
            json_header(value, f"the {name} header")


def echoable(value: str | None) -> bool:
    """Whether a client's value may be echoed as a response header as it is."""
    return bool(value) and HeaderSyntax.WIRE_VALUE.fullmatch(value or "") is not None


# ---------------------------------------------------------------------- paths


def upstream_path(path: str, field: str) -> str:
    """A path that becomes an upstream path, checked (see the module docstring).

    Raises:
        EdgeError: the path has dot segments, controls or is too long.
    """
    if _PATH.fullmatch(path) is None:
        bad = next(c for c in path if _PATH.fullmatch(c) is None)
        what = "'%' (a percent-escape left after decoding)" if bad == "%" else describe(bad)
        raise EdgeError(f"{field} holds {what}; a provider path takes {_PATH_CHARS}")
    # "..;x" counts too: servers that take ;-parameters off a segment read it as ".."
    if any(segment.partition(";")[0] in (".", "..") for segment in path.split("/")):
        raise EdgeError(
            f"{field} holds a dot segment ('.' or '..', percent-encoded or not); "
            "give the provider path without them"
        )
    return path


def query_string(raw: bytes, field: str = "the query string") -> None:
    """A query string that goes upstream: visible ASCII only (percent-encode the rest).

    Raises:
        EdgeError: the query has bytes outside visible ASCII.
    """
    if _QUERY.fullmatch(raw) is None:
        raise EdgeError(
            f"{field}: the query string holds a space, control or non-ASCII character; "
            "percent-encode it"
        )


# ---------------------------------------------------------------------- JSON


class _NonFiniteSeen(Exception):
    """Raised by the strict decoder's hooks: the body holds NaN, Infinity or 1e309."""


def _strict_float(text: str) -> float:
    value = float(text)
    if math.isfinite(value):
        return value
    raise _NonFiniteSeen


def _strict_constant(text: str) -> float:
    raise _NonFiniteSeen


# Built once (json.loads with hooks builds a decoder per call). The hooks run only for
# float literals and the NaN / Infinity constants: a usual body parses at json.loads speed.
_STRICT: Final = json.JSONDecoder(parse_float=_strict_float, parse_constant=_strict_constant)
# A JSON string, unrolled so that the engine runs [^"\\]* in a tight loop.
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND: Final = bytes.maketrans(b"{}", b"[]")
_LOCATE_MAX_BYTES: Final = 1024 * 1024
"""Bodies up to this size are walked in Python to name the offending field; a larger
one is refused with a message that names no field, so the refusal stays cheap."""


def parse_json(body: bytes, where: str = "body") -> Any:
    """`json.loads` for request bodies: strict, bounded, valid Unicode.

    Raises `NotJson` for text that is not JSON, `EdgeError` (naming the
    field, such as `body.temperature`, for bodies up to 1 MiB) for JSON the gateway
    refuses. Every check runs at C speed (`bytes.count`, `re`, the json module) and
    only when a scan says it may matter, so a usual chat body costs what `json.loads`
    costs, and the worst 25 MB body is refused or parsed without a walk in Python:

    - more than `Bounds.JSON_MAX_VALUES` values or `Bounds.JSON_MAX_CONTAINERS`
      arrays and objects: refused before parsing (json.loads of 25 MB of small numbers
      would hold the event loop for over a second);
    - nesting deeper than `Bounds.JSON_MAX_DEPTH`: the brackets outside strings are
      reduced pair by pair, at most 2 x the bound passes;
    - `NaN`, `Infinity`, `1e309`: the decoder's hooks;
    - an unpaired surrogate: re-encoding the parsed data as UTF-8, only when the bytes
      hold a surrogate escape.

    Raises:
        NotJson: the body is not JSON at all.
        EdgeError: the JSON breaks a bound, a duplicate key or Unicode.
    """
    try:
        # decoded as json.loads decodes bytes (UTF-8/16/32 by detection, BOM allowed)
        encoding = json.detect_encoding(body)
        text = body.decode(encoding, "surrogatepass")
    except ValueError:
        raise NotJson("the body is not valid JSON") from None
    skeleton = None
    # a million values need more than a megabyte; deep nesting needs many brackets
    if len(body) > _LOCATE_MAX_BYTES or body.count(b"[") + body.count(b"{") > Bounds.JSON_MAX_DEPTH:
        utf8 = body if encoding == "utf-8" else text.encode("utf-8", "surrogatepass")
        outside = _STRING.sub(b"", utf8)  # what is left outside strings
        if outside.count(b",") >= Bounds.JSON_MAX_VALUES:
            raise EdgeError(
                f"{where} has more than {Bounds.JSON_MAX_VALUES} values (array items and "
                "object members); send fewer"
            )
        # the brackets, of one kind: valid JSON nests them properly
        skeleton = outside.translate(_ONE_KIND, _NOT_BRACKETS)
        containers = len(skeleton) // 2
        if containers > Bounds.JSON_MAX_CONTAINERS:
            raise EdgeError(
                f"{where} has {containers} arrays and objects; at most {Bounds.JSON_MAX_CONTAINERS}"
            )
    try:
        data = _STRICT.decode(text)
    except RecursionError:
        raise EdgeError(_too_deep(where)) from None
    except _NonFiniteSeen:
        _locate(body, where)
        raise EdgeError(
            f"{where} holds a number that is not finite; JSON numbers must be finite "
            "(no NaN, Infinity, nor numbers beyond 1.8e308 such as 1e309)"
        ) from None
    except ValueError:
        raise NotJson("the body is not valid JSON") from None
    if skeleton is not None and _deeper_than(skeleton, Bounds.JSON_MAX_DEPTH):
        raise EdgeError(_too_deep(where))
    if (b"\\u" in body or b"\xed" in body) and _MAYBE_SURROGATE.search(body) is not None:
        try:
            json.dumps(data, ensure_ascii=False, check_circular=False).encode("utf-8")
        except UnicodeEncodeError:
            _locate(body, where)
            raise EdgeError(
                f"{where} holds an unpaired UTF-16 surrogate; send valid Unicode (a "
                "surrogate escape such as \\ud83d must be followed by its pair)"
            ) from None
    return data


def _deeper_than(skeleton: bytes, bound: int) -> bool:
    """Whether properly nested brackets (`[[][[]]]`) nest deeper than `bound`.

    Each pass removes the innermost pairs (`bytes.replace` does not rescan what a
    removal joins), so exactly one level: depth d is gone after d passes.
    """
    for _ in range(bound):
        if not skeleton:
            return False
        skeleton = skeleton.replace(b"[]", b"")
    return bool(skeleton)


def _locate(body: bytes, where: str) -> None:
    """Raise the `EdgeError` naming the offending field, if the body is small."""
    if len(body) > _LOCATE_MAX_BYTES:
        return
    try:
        data = json.loads(body)  # NaN and Infinity as floats, 1e309 as inf
    except (RecursionError, ValueError):
        return
    _walk(data, where)


def _too_deep(where: str) -> str:
    return (
        f"{where} is nested deeper than {Bounds.JSON_MAX_DEPTH} levels of arrays and objects; "
        "flatten it"
    )


def _walk(data: Any, where: str) -> None:
    # Paths are kept as (parent, key) links and only spelled out for an error message.
    stack: list[tuple[Any, Any]] = [(data, None)]
    while stack:
        value, link = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                _check_unicode(key, where, link, key)
                stack.append((item, (link, key)))
        elif isinstance(value, list):
            stack.extend((item, (link, i)) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise EdgeError(
                f"{_spell(where, link)} is not a finite number; JSON numbers must be finite "
                "(no NaN, Infinity, nor numbers beyond 1.8e308 such as 1e309)"
            )
        elif isinstance(value, str):
            _check_unicode(value, where, link)


def _spell(where: str, link: Any) -> str:
    """`body.messages[0].content` from a chain of (parent, key) links."""
    keys: list[Any] = []
    while link is not None:
        link, key = link
        keys.append(key)
    text = where
    for key in reversed(keys):
        if isinstance(key, int):
            text += f"[{key}]"
        elif key.isidentifier():
            text += f".{key}"
        else:
            text += f"[{field_name(key)}]"
    return text


def _check_unicode(text: str, where: str, link: Any, key: str | None = None) -> None:
    """A string (or, with `key`, an object key) must encode as UTF-8.

    Raises:
        EdgeError: the string holds an unpaired surrogate.
    """
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        field = _spell(where, link)
        if key is not None:
            field += f" key {field_name(key)}"
        raise EdgeError(
            f"{field} holds {describe(text[exc.start])}; send valid Unicode "
            "(a surrogate escape such as \\ud83d must be followed by its pair)"
        ) from None
