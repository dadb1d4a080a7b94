"""Transport limits of the REST server: read timeouts and a connection cap that sheds
idle and half-open connections first.

uvicorn alone has a keep-alive timeout but no header or body read timeout, and
its ``limit_concurrency`` answers 503 to *new* clients once the cap is reached —
exactly who should be served.  :func:`protocol_class` wraps uvicorn's h11
protocol with :class:`Limits`:

* **header timeout** — a request's headers must be complete within
  ``header_timeout`` seconds of the connection opening, or of the first byte of
  a later request on a kept-alive connection; else the connection is closed.
* **body timeout** — its body must then be complete within ``body_timeout``
  seconds; else the connection is closed (the app sees a client disconnect).
* **keep-alive** — an idle kept-alive connection is closed after
  ``keep_alive`` seconds (uvicorn's ``timeout_keep_alive``).
* **connection cap** — at most ``max_connections`` open at once.  A new
  connection past the cap closes the oldest *waiting* one — a connection whose
  request headers are not complete yet (half-open: slowloris) or that idles
  between requests — so a client that sends its request promptly is served
  while a flood of half-open connections holds the rest.  Only when every open
  connection has a request in flight is the newcomer closed instead.  The
  default cap stays below the process's file-descriptor limit
  (``RLIMIT_NOFILE``): that limit minus :data:`FD_RESERVE`, so accepting never
  fails with "too many open files" (which would stop the server accepting
  anyone for a second at a time).
* **header size** — request line and headers together at most
  :data:`MAX_HEADER_BYTES` (h11's limit); a malformed or oversized request head
  is answered 400 with Binance's JSON error body, then closed.

The accept loop takes at most :data:`ACCEPT_BATCH` connections per turn (the
listen backlog), so between two chances to shed at most that many arrive.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.core.errors import InvariantError, reject
from engine.server.encoding import dumps
from engine.server.frames import MAX_FRAME

__all__ = [
    "ACCEPT_BATCH", "FD_RESERVE", "MAX_HEADER_BYTES", "Guard", "Limits", "bind", "connection_cap",
    "protocol_class", "url_of", "uvicorn_server",
]

log = logging.getLogger("fapisim.server")

#: connections accepted per turn of the event loop (also the listen backlog)
ACCEPT_BATCH = 128
#: file descriptors kept free of connections: two accept batches, the listening
#: socket, logs, the journal and the interpreter's own
FD_RESERVE = 2 * ACCEPT_BATCH + 64
#: the largest request line plus headers accepted
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The transport limits of one server (whole seconds, and a connection count; None:
    derive the cap from the file-descriptor limit)."""

    header_timeout: int = 10
    body_timeout: int = 10
    keep_alive: int = 5
    max_connections: int | None = None

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number of seconds, "
                                 f"not {value!r}")
        cap = self.max_connections
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"max_connections must be a positive int or None, not {cap!r}")


def connection_cap(limits: Limits) -> int:
    """The connection cap: ``limits.max_connections``, never more than the
    file-descriptor limit allows (soft ``RLIMIT_NOFILE`` minus :data:`FD_RESERVE`)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = (1 << 16 if soft == resource.RLIM_INFINITY else soft) - FD_RESERVE
    if room < 1:
        raise ValueError(
            f"the file-descriptor limit ({soft}) leaves no room for connections; "
            f"raise it above {FD_RESERVE} (ulimit -n)"
        )
    return room if limits.max_connections is None else min(limits.max_connections, room)


class Guard:
    """The open connections of one server and those waiting for a request, oldest first."""

    __slots__ = ("cap", "open", "waiting", "shed", "refused", "timed_out")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: set[Any] = set()
        #: connections whose next request's headers are not complete, in the order
        #: they started waiting (a dict as an ordered set)
        self.waiting: dict[Any, None] = {}
        self.shed = self.refused = self.timed_out = 0

    def _check(self) -> None:
        """Every waiting connection is open."""
        if not set(self.waiting) <= self.open:
            raise InvariantError("a waiting connection is not open")


_BAD_REQUEST = dumps(reject("UNKNOWN").to_wire())


def protocol_class(limits: Limits, guard: Guard) -> type[H11Protocol]:
    """uvicorn's h11 protocol with ``limits``, counting connections in ``guard``."""

    class GuardedH11Protocol(_Guarded):
        pass

    GuardedH11Protocol.limits = limits
    GuardedH11Protocol.guard = guard
    return GuardedH11Protocol


class _Guarded(H11Protocol):
    limits: Limits
    guard: Guard
    _timer: asyncio.TimerHandle | None = None
    _phase: str | None = None
    #: a websocket has taken the connection over: no HTTP limit applies any more
    _upgraded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        guard.open.add(self)
        if len(guard.open) > guard.cap:
            victim = next(iter(guard.waiting), None)
            if victim is None:  # every other connection is busy with a request
                guard.refused += 1
                transport.abort()
                return
            guard.shed += 1
            victim._close()
        guard.waiting[self] = None
        self._arm("header", self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.open.discard(self)
        self.guard.waiting.pop(self, None)
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """A websocket takes the connection over: the guard no longer counts it (the
        stream hub keeps its own count and limits), and no read timeout applies."""
        self._upgraded = True
        self.guard.open.discard(self)
        self.guard.waiting.pop(self, None)
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def send_400_response(self, msg: str) -> None:
        """A malformed or oversized request head: Binance's JSON error, then close."""
        log.info("malformed HTTP request from %s: %s", self.client, msg)
        response = h11.Response(
            status_code=400,
            headers=[(b"content-type", b"application/json"), (b"connection", b"close")],
            reason=b"Bad Request",
        )
        try:
            out = self.conn.send(response) or b""
            out += self.conn.send(h11.Data(data=_BAD_REQUEST)) or b""
            out += self.conn.send(h11.EndOfMessage()) or b""
            self.transport.write(out)
        except h11.LocalProtocolError:
            pass  # a response had already begun: just close
        self.transport.close()

    # -- the request's phases -------------------------------------------------------------
    def _track(self) -> None:
        """Follow the client's side of the exchange after h11 has seen new bytes."""
        if self._upgraded or self.transport is None or self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            # waiting for headers: idle between requests, or some bytes of the next one
            self.guard.waiting.setdefault(self, None)
            if self._phase != "header" and self.conn.trailing_data[0]:
                self._arm("header", self.limits.header_timeout)
        elif state is h11.SEND_BODY:
            self.guard.waiting.pop(self, None)
            if self._phase != "body":
                self._arm("body", self.limits.body_timeout)
        else:  # the request is read (or the connection is done): the app has it
            self.guard.waiting.pop(self, None)
            self._disarm()

    def _arm(self, phase: str, seconds: int) -> None:
        self._disarm()
        self._phase = phase
        self._timer = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._phase = None, None

    def _timed_out(self) -> None:
        self._timer = None
        self.guard.timed_out += 1
        log.debug("closing %s: %s read timeout", self.client, self._phase)
        self._close()

    def _close(self) -> None:
        self.guard.open.discard(self)  # its descriptor is released on the next turn
        self.guard.waiting.pop(self, None)
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (queueing connections from now on)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(ACCEPT_BATCH)  # connections queue from here on, before the loop starts
    sock.set_inheritable(True)
    return sock


def url_of(host: str, sock: socket.socket) -> str:
    """The base URL a bound socket serves."""
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_server(app: Any, log_level: str, limits: Limits) -> Any:
    """The uvicorn server of ``app`` with these transport limits (the connection guard is
    ``app.state.guard``) and Binance's websocket ping/pong."""
    import uvicorn

    guard = Guard(connection_cap(limits))
    app.state.guard = guard
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="off",
        timeout_graceful_shutdown=5, http=protocol_class(limits, guard),
        timeout_keep_alive=limits.keep_alive, backlog=ACCEPT_BATCH,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        ws="websockets-sansio", ws_max_size=MAX_FRAME, ws_per_message_deflate=False,
        ws_ping_interval=180.0, ws_ping_timeout=600.0,  # Binance's: ping 3 min, pong 10
    )
    return uvicorn.Server(config)
