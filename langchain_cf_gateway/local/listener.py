"""The local gateway's listener: bounds on connections and request heads, Host and Origin.

Defaults (each a `cf-aig serve` flag and a `LocalGateway` parameter):

| bound | default | past it |
| --- | --- | --- |
| `--max-head-bytes` | 64 KiB | request line + headers larger: HTTP 431 |
| `--head-timeout` (seconds) | 10 | a head not complete in time: 408, then closed |
| `--body-timeout` (seconds) | 60 | a body not complete this long after its head: 408 (if no response was started), then closed |
| `--max-connections` | 500 | a connection past it: 503 at its first request, then closed (never served) |
| `--backlog` | 2048 | connections the kernel queues before accept (capped by `net.core.somaxconn`) |
| `--allowed-host` (repeat) | loopback | another `Host`: 421 (DNS rebinding) |
| `--allowed-origin` (repeat) | none | an `Origin` not on an allowed host: 403 |

The head bound and the head timeout are enforced in `EdgeProtocol`, a subclass
of uvicorn's httptools protocol: uvicorn's own `h11_max_incomplete_event_size` applies
to its h11 protocol only (measured: a cache hit's p50 through an httpx client went from
~0.93 ms to ~1.09 ms with h11, while this subclass is within the run-to-run noise of
plain httptools), and no uvicorn protocol times out a head that never ends
(`timeout_keep_alive` only covers the idle time between requests). uvicorn's
`limit_concurrency` sends 503 in plain text; the protocol sends every refusal it makes (400 unparsable, 408, 431, 503) with the
gateway error body instead. All refusals here happen before authentication, so they
are neither logged nor kept in `received`.

The body deadline is one deadline for the whole body, counted from the end of its
head, not an idle timeout between chunks: an idle timeout alone lets a client that
sends a byte every few seconds hold a connection slot for ever (the "slowloris" kind
of attack), which is what a deadline stops. 60 s lets a body of the largest size the
gateway reads (25 MB) arrive over a ~3.5 Mbit/s link; LLM request bodies are mostly
a few KB.

A response sent before the body was read (a refusal from the head: 401, 400 for an
unknown gateway, 404, 413, 421...) goes out with `connection: close`; the server
then half-closes the connection and reads and drops whatever the client still sends
(never buffering it) until the client has been quiet for 2 s, or at the latest until
the body deadline, and closes. Closing at once would reset the connection under a
client still writing, which may then never read its response (RFC 9112, section 9.6:
https://www.rfc-editor.org/rfc/rfc9112#section-9.6). No `100 Continue` is sent
before such a response: it is sent only once the application reads the body.

`Host` (`HostGuard`): loopback names (`localhost`, `127.0.0.0/8`,
`[::1]`) are always served, plus the configured names and the address the server is
bound to when it is a specific one; a request with no `Host` at all (HTTP/1.0) is
served, since no browser sends one. `*` serves every host. Any other `Host` gets
421 Misdirected Request: a browser led to the gateway by a rebound DNS name sends that
name, which is never on the list. `Origin`: a request that carries one (browsers do
on cross-origin and on POST requests) is served only when its host is an allowed host
as above, or when the origin is configured exactly (or `*`); else 403. So a web
page on another site can neither read responses nor spend the provider keys held by the
gateway.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..core.protocol import ErrorCode, gateway_error_body

DEFAULT_MAX_HEAD_BYTES: Final = 64 * 1024
DEFAULT_HEAD_TIMEOUT_S: Final = 10.0
DEFAULT_BODY_TIMEOUT_S: Final = 60.0
DEFAULT_MAX_CONNECTIONS: Final = 500
"""Half the usual 1024 open-file limit: each connection may hold an upstream one too."""
DEFAULT_BACKLOG: Final = 2048
_LINGER_S: Final = 2.0
"""How long a connection whose response is sent, and whose client is quiet, keeps reading (and dropping)
before it is closed, so that closing it does not reset the connection under a client
still writing."""
_WILDCARD: Final = "*"


def error_payload(status: int, message: str) -> bytes:
    """The gateway error body (code 7001) with `httpCode` set to `status`."""
    body = gateway_error_body(ErrorCode.INVALID_REQUEST, message)
    body["httpCode"] = status
    return json.dumps(body, separators=(",", ":")).encode()


def _split_host(value: str) -> str | None:
    """The host of a `Host` header (`[::1]:8787` -> `::1`), lowercase; None if bad."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return host
    host, sep, port = value.rpartition(":")
    if not sep:
        host = value
    elif not port.isdigit() or ":" in host:
        return None
    return host.rstrip(".") if host not in ("", ".") else None


def is_loopback(host: str) -> bool:
    """`localhost`, an IPv4 address in 127.0.0.0/8, or `::1`."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in ipaddress.IPv4Network("127.0.0.0/8")
    return address == ipaddress.IPv6Address("::1")


@dataclass(frozen=True)
class HostPolicy:
    """Which `Host` and `Origin` values are served (see the module docstring)."""

    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    _hosts: frozenset[str] = field(init=False, repr=False)
    _origins: frozenset[str] = field(init=False, repr=False)
    _verdicts: dict[bytes, str | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hosts = set()
        for name in self.allowed_hosts:
            name = name.strip().lower()
            host = _WILDCARD if name == _WILDCARD else _split_host(name)
            if not host:
                raise ValueError(
                    f"allowed host {name!r} is not a host name or address; give a name such "
                    "as gw.internal, an address such as 10.0.0.5 or [fd00::1], or *"
                )
            hosts.add(host)
        object.__setattr__(self, "_hosts", frozenset(hosts))
        origins = {o.strip().lower().rstrip("/") for o in self.allowed_origins}
        object.__setattr__(self, "_origins", frozenset(origins))
        # Host values repeat (one or two per deployment): remember the verdicts, bounded.
        object.__setattr__(self, "_verdicts", {})

    @classmethod
    def of(
        cls, hosts: Iterable[str] = (), origins: Iterable[str] = (), bound: str | None = None
    ) -> HostPolicy:
        """The policy of a server bound to `bound` (a specific address is allowed too)."""
        names = list(hosts)
        if bound and bound not in ("0.0.0.0", "::", "") and not is_loopback(bound):
            names.append(f"[{bound}]" if ":" in bound else bound)
        return cls(tuple(names), tuple(origins))

    def host_allowed(self, host: str) -> bool:
        """Whether a `Host` header value names an allowed host."""
        return is_loopback(host) or _WILDCARD in self._hosts or host in self._hosts

    def host_problem(self, value: bytes | None) -> str | None:
        """Why a `Host` header is refused, or None."""
        if value is None or _WILDCARD in self._hosts:
            return None
        try:
            return self._verdicts[value]
        except KeyError:
            pass
        if len(self._verdicts) >= 256:
            self._verdicts.clear()
        verdict = self._verdicts[value] = self._host_problem(value)
        return verdict

    def _host_problem(self, value: bytes) -> str | None:
        host = _split_host(value.decode("latin-1"))
        if host is not None and self.host_allowed(host):
            return None
        return (
            f"Misdirected request: this gateway does not serve the host "
            f"{value.decode('latin-1')[:100]!r}; it serves loopback names (localhost, "
            "127.0.0.1, [::1]) and the names given with cf-aig serve --allowed-host "
            "(allowed_hosts in the config file)"
        )

    def origin_problem(self, value: bytes | None) -> str | None:
        """Why an `Origin` header is refused, or None."""
        if value is None:
            return None
        origin = value.decode("latin-1").strip().lower().rstrip("/")
        if _WILDCARD in self._origins or origin in self._origins:
            return None
        scheme, sep, rest = origin.partition("://")
        host = _split_host(rest) if sep and scheme in ("http", "https") and rest else None
        if host is not None and host != _WILDCARD and (is_loopback(host) or host in self._hosts):
            return None  # a page served by an allowed host (a wildcard host does not count)
        return (
            f"Forbidden: cross-origin request from origin {origin[:100]!r}; allow it with "
            "cf-aig serve --allowed-origin (allowed_origins in the config file)"
        )


class HostGuard:
    """ASGI wrapper: 421 for a `Host` not served, 403 for a foreign `Origin`."""

    def __init__(self, app: Any, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # .routes, .state... of the app inside

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI call: a disallowed `Host` gets 421, an `Origin` 403."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts: list[bytes] = []
        origins: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"host":
                hosts.append(value)
            elif name == b"origin":
                origins.append(value)
        status, problem = 400, None
        if len(hosts) > 1:  # RFC 9112 section 3.2: more than one Host is a 400
            problem = "Invalid request: more than one Host header"
        else:
            status, problem = 421, self.policy.host_problem(hosts[0] if hosts else None)
        for origin in origins:
            if problem is None:
                status, problem = 403, self.policy.origin_problem(origin)
        if problem is None:
            await self.app(scope, receive, send)
            return
        payload = error_payload(status, problem)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
        ]
        # Refused from the head: the body is never read (EdgeProtocol lingers, then closes).
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@dataclass(frozen=True)
class EdgeLimits:
    """Transport bounds of one server (see the module docstring for the defaults)."""

    max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES
    head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    backlog: int = DEFAULT_BACKLOG
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S

    def __post_init__(self) -> None:
        for name, low in (("max_head_bytes", 1024), ("max_connections", 1), ("backlog", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer of at least {low}; got {value!r}")
        for name in ("head_timeout_s", "body_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}")

    def protocol(self) -> type[EdgeProtocol]:
        """The uvicorn protocol class enforcing these limits."""
        return type("BoundEdgeProtocol", (EdgeProtocol,), {"limits": self})


class _ResponseTransport:
    """The transport as uvicorn's request cycle sees it.

    Closing it after a response sent before the request body was read lingers instead
    (`EdgeProtocol._linger`).
    """

    __slots__ = ("_protocol",)

    def __init__(self, protocol: EdgeProtocol) -> None:
        self._protocol = protocol

    def write(self, data: bytes) -> None:
        self._protocol.transport.write(data)

    def is_closing(self) -> bool:
        return self._protocol.transport.is_closing()

    def close(self) -> None:
        self._protocol._close_after_response()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._protocol.transport, name)


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, connections and body time.

    The request head is bounded in size and time, the connections in number, and the
    request body has a deadline.

    Bytes are counted from the first byte of a head until httptools reports the headers
    complete; past `EdgeLimits.max_head_bytes` the head is refused with 431. The
    head timer starts with the connection (or the first byte of a later head) and stops
    at the end of the head. The body deadline starts at the end of the head (once a body
    is still to come) and stops when the body is complete. While the body is incomplete
    the request cycle's `keep_alive` is off, so that a response started before it ends
    says `connection: close`; it is restored when the body completes first.
    """

    limits: ClassVar[EdgeLimits] = EdgeLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_concurrency = None  # counted here, refused with the gateway body
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._over_limit = False
        self._body_pending = False
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_deadline = 0.0
        self._keep_alive = True
        self._response_transport = _ResponseTransport(self)
        self._linger_timer: asyncio.TimerHandle | None = None
        self._linger_until = 0.0
        self._last_data = 0.0

    # ------------------------------------------------------------------ connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection (503 past the bound) and start the head timer."""
        super().connection_made(transport)
        self._over_limit = len(self.connections) > self.limits.max_connections
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Release the connection's slot and its timers."""
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed bytes to the parser, holding the head to its size bound."""
        if self._refused:
            self._last_data = self.loop.time()
            return  # a connection whose response is sent, or refused, only drains until it is closed
        if self._in_head:
            if self._head_timer is None:
                self._arm_head_timer()
            room = self.limits.max_head_bytes - self._head_bytes
            if len(data) > room:
                # Parse only what the bound allows; if the head ends within it, the rest
                # is body (or a later request) and is parsed normally.
                super().data_received(data[: max(room, 0)])
                if self._refused or self.transport.is_closing():
                    return
                if self._in_head:
                    self._refuse(
                        431,
                        f"Invalid request: the request head (request line and headers) is "
                        f"larger than {self.limits.max_head_bytes // 1024} KB; send fewer "
                        "or shorter headers (the bound is cf-aig serve --max-head-bytes)",
                    )
                    return
                data = data[max(room, 0) :]
            else:
                self._head_bytes += len(data)
        super().data_received(data)
        if self._body_pending and self._body_timer is None and not self._refused:
            self._body_deadline = self.loop.time() + self.limits.body_timeout_s
            self._body_timer = self.loop.call_at(self._body_deadline, self._body_timeout)

    def shutdown(self) -> None:
        """Close the connection at server shutdown."""
        self._keep_alive = False  # not restored when the body completes
        super().shutdown()

    # ------------------------------------------------------------------ parser callbacks

    def on_headers_complete(self) -> None:
        """The head is complete: stop its timer, start the body deadline."""
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        if self._over_limit:
            self._refuse(
                503,
                f"Service unavailable: the gateway serves at most "
                f"{self.limits.max_connections} connections at once; retry later "
                "(the bound is cf-aig serve --max-connections)",
            )
            return
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous:
            self._body_pending = True
            self._keep_alive = cycle.keep_alive
            cycle.keep_alive = False  # until the body is complete: see on_message_complete
            cycle.transport = self._response_transport  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        """Pass a piece of the body on."""
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """The body is complete: stop the body deadline."""
        if self._refused:
            return
        self._body_pending = False
        self._cancel_body_timer()
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.keep_alive = self._keep_alive
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        """The response is sent: the next request's head timer starts."""
        if self._refused:  # responded to before the body was read: lingering, then closed
            self.server_state.total_requests += 1
            return
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """An unparsable request: a 400 response in the gateway error shape, then close."""
        if not self._refused:
            self._refuse(400, f"Invalid request: {msg} (not valid HTTP/1.1)")

    # ------------------------------------------------------------------ refusals

    def _refuse(self, status: int, message: str) -> None:
        """Respond with the gateway error body, stop parsing, drain briefly, close."""
        payload = error_payload(status, message)
        head = [
            STATUS_LINE[status],
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(payload)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + payload)
        self._linger(self.loop.time() + _LINGER_S)

    def _close_after_response(self) -> None:
        """The request cycle closes the connection after a response with `connection: close`."""
        if self._refused:
            return  # already lingering: it closes the connection
        if self._body_pending and not self.transport.is_closing():
            until = self._body_deadline if self._body_timer is not None else 0.0
            self._linger(until or self.loop.time() + self.limits.body_timeout_s)
        else:
            self.transport.close()

    def _linger(self, until: float) -> None:
        """Half-close; read and drop what comes, then close.

        Reading stops when the client is quiet for `_LINGER_S` or `until` (loop time)
        passes.
        """
        self._refused = True
        self._cancel_head_timer()
        self._cancel_body_timer()
        transport = self.transport
        if transport.is_closing():
            return
        if not transport.can_write_eof():  # pragma: no cover - TLS cannot half-close
            transport.close()
            return
        transport.write_eof()  # the response is complete; read until the client closes
        self.flow.resume_reading()
        self._last_data = now = self.loop.time()
        self._linger_until = until
        self._linger_timer = self.loop.call_at(min(now + _LINGER_S, until), self._linger_check)

    def _linger_check(self) -> None:
        self._linger_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        end = min(self._last_data + _LINGER_S, self._linger_until)
        if now >= end - 0.005:
            self.transport.close()
        else:
            self._linger_timer = self.loop.call_at(end, self._linger_check)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if not self._in_head or self._refused or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a pipelined head behind a running response: wait for it
            return
        if self._head_bytes == 0 and self.cycle is not None:
            self.transport.close()  # idle keep-alive connection: uvicorn's own timer's case
            return
        self._refuse(
            408,
            f"Request timeout: the request head was not complete within "
            f"{self.limits.head_timeout_s:g} s (the bound is cf-aig serve --head-timeout)",
        )

    def _body_timeout(self) -> None:
        self._body_timer = None
        if not self._body_pending or self._refused or self.transport.is_closing():
            return
        if self.pipeline:  # queued behind a running response, reading paused: not its fault
            self._body_deadline = self.loop.time() + self.limits.body_timeout_s
            self._body_timer = self.loop.call_at(self._body_deadline, self._body_timeout)
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            self.transport.close()  # a response is under way: it cannot become a 408
            return
        if cycle is not None:
            cycle.disconnected = True  # the application's reads end; its response goes nowhere
            cycle.message_event.set()
        self._refuse(
            408,
            f"Request timeout: the request body was not complete within "
            f"{self.limits.body_timeout_s:g} s after its head (the bound is cf-aig serve "
            "--body-timeout)",
        )
