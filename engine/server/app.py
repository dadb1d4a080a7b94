"""The REST facade: a Starlette app speaking Binance's ``/fapi`` with HMAC auth (SPEC 2.3).

``create_app(exchange)`` builds the ASGI app for an existing venue; its
accounts' ``api_key``/``api_secret`` authenticate requests.  ``serve`` runs it
on uvicorn (``fapisim serve``); ``running`` runs it in a background thread and
yields its base URL (tests, notebooks).  Starlette and uvicorn come with the
``server`` extra.

What the wire layer does, in order, for each request
----------------------------------------------------
1. find the endpoint (:data:`~engine.server.routes.ROUTES`): unknown path → 404,
   known path with another verb → 405 (``-1099`` / ``-1020``, JSON bodies);
2. parse query and form body (:mod:`~engine.server.auth`; query wins);
3. signed endpoints: ``X-MBX-APIKEY`` (missing → 401 ``-2014``, unknown →
   401 ``-2015``), then signature (-1102 / -1022) and timestamp (-1021)
   against the server clock; public endpoints need no key;
4. weight: ``X-MBX-USED-WEIGHT-1M`` on every response, ``X-MBX-ORDER-COUNT-1M``
   on order placement; past the optional per-minute budget → 429 ``-1003``
   with ``Retry-After`` (:class:`~engine.rest_wire.WeightMeter`; keyed by the
   authenticated account, else — public endpoints, refusals — by client address);
5. set the venue clock from wall time (``Exchange.set_time``, which never moves
   it back), call the engine, answer JSON.  A :class:`~engine.core.errors.ClientError`
   becomes its HTTP status (400 for order errors) and ``{"code", "msg"}``;
   anything else is a 500 ``-1000`` and is logged.

A request refused in steps 1–4 never reaches the venue: not even its clock moves.

Concurrency
-----------
The venue is single-threaded.  Every request runs steps 1–5 under one lock,
so requests are applied one at a time, in arrival order, and no client sees a
half-applied command.  Code outside the server that touches the same venue
while it serves (a test calling ``check_invariants()``) takes
``app.state.lock`` too.

Clock
-----
This module is the edge, and the only one in ``engine`` that reads wall time.
The server clock is ``max(wall time, venue clock)``: a venue whose clock was
advanced past wall time keeps its own time, and ``/fapi/v1/time`` reports it.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.core.errors import ClientError, reject
from engine.server.auth import (
    TRANSPORT_PARAMS,
    ParsedRequest,
    check_timestamp,
    parse,
    verify_signature,
)
from engine.server.encoding import dumps
from engine.server.routes import ROUTES, Endpoint
from engine.server.weights import WeightMeter

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.venue.exchange import Account, Exchange

__all__ = ["create_app", "running", "serve"]

log = logging.getLogger("fapisim.server")
_JSON = "application/json"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_ERROR_WEIGHT = 1


def wall_ms() -> int:
    """Wall-clock time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class Facade:
    """The wire layer over one venue: routing, auth, weight, and the venue lock."""

    def __init__(self, exchange: Exchange, weight_limit: int | None = None) -> None:
        self.exchange = exchange
        self.lock = threading.Lock()
        self.meter = WeightMeter(weight_limit)

    def _state(self, account: Account) -> AccountState:
        # The engine's commands take the ledger's account state, as Exchange.client() does.
        return self.exchange.account_state(account.name)

    def handle(
        self, method: str, path: str, query: bytes, body: bytes, content_type: str | None,
        api_key: str | None, host: str,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Answer one request: ``(HTTP status, JSON body, headers)``.  Call under ``lock``."""
        wall = wall_ms()
        ex = self.exchange
        meter_key = "ip:" + host
        routes = ROUTES.get(path)
        if routes is None:
            return self._refuse(reject("NOT_FOUND", status=404), meter_key, wall)
        endpoint = routes.get(method)
        if endpoint is None:
            err = reject("UNSUPPORTED_OPERATION", status=405)
            return self._refuse(err, meter_key, wall, {"Allow": ", ".join(routes)})
        try:
            req = parse(query, body, content_type)
        except ClientError as e:
            return self._refuse(e, meter_key, wall)
        account = None
        if endpoint.signed:
            account = ex.account_by_key(api_key) if api_key else None
            refused = self._authenticate(api_key, account, req, max(wall, ex.now))
            if refused is not None:
                return self._refuse(refused, meter_key, wall)
            assert account is not None
            meter_key = account.name
        params = {k: v for k, v in req.params.items() if k not in TRANSPORT_PARAMS}
        charge = self.meter.charge(meter_key, endpoint.weight_of(params), endpoint.order, wall)
        headers = {"X-MBX-USED-WEIGHT-1M": str(charge.used)}
        if endpoint.order:
            headers["X-MBX-ORDER-COUNT-1M"] = str(charge.orders)
        if not charge.allowed:
            headers["Retry-After"] = str(-(-charge.retry_after_ms // 1000))
            busy = reject("TOO_MANY_REQUESTS", self.meter.limit, status=429)
            return busy.status_code, dumps(busy.to_wire()), headers
        return self._call(endpoint, account, params, wall, headers)

    def _authenticate(
        self, api_key: str | None, account: Account | None, req: ParsedRequest, server_ms: int
    ) -> ClientError | None:
        if not api_key or not api_key.isprintable() or not api_key.isascii():
            return reject("BAD_API_KEY_FMT", status=401)
        if account is None:
            return reject("REJECTED_MBX_KEY", status=401)
        return verify_signature(req, account.api_secret) or check_timestamp(
            req.params, server_ms
        )

    def _call(
        self, endpoint: Endpoint, account: Account | None, params: dict[str, str], wall: int,
        headers: dict[str, str],
    ) -> tuple[int, bytes, dict[str, str]]:
        ex = self.exchange
        try:
            ex.set_time(wall)
            result = endpoint.handler(ex, None if account is None else self._state(account), params)
            return 200, dumps(result), headers
        except ClientError as e:
            return e.status_code, dumps(e.to_wire()), headers
        except Exception:
            log.exception("internal error answering %s", endpoint)
            err = reject("UNKNOWN", status=500)
            return err.status_code, dumps(err.to_wire()), headers

    def _refuse(
        self, err: ClientError, meter_key: str, wall: int, extra: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        charge = self.meter.charge(meter_key, _ERROR_WEIGHT, False, wall)
        headers = {"X-MBX-USED-WEIGHT-1M": str(charge.used)}
        if extra:
            headers.update(extra)
        return err.status_code, dumps(err.to_wire()), headers


def create_app(exchange: Exchange, *, weight_limit: int | None = None) -> Starlette:
    """The ASGI app serving ``exchange``; ``weight_limit`` is the per-minute weight budget
    of each account (None: unlimited).  ``app.state.exchange`` and ``app.state.lock``
    are the venue and the lock every request holds."""
    facade = Facade(exchange, weight_limit)
    lock = facade.lock

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        client = request.client
        with lock:
            status, content, out = facade.handle(
                request.method, request.scope["path"], request.scope["query_string"], body,
                headers.get("content-type"), headers.get("x-mbx-apikey"),
                client.host if client else "",
            )
        return Response(content, status, out, media_type=_JSON)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
    app.state.exchange = exchange
    app.state.lock = lock
    app.state.facade = facade
    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections queue from here on, before the loop starts accepting
    sock.set_inheritable(True)
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: Starlette, log_level: str) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="off",
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


@contextmanager
def running(
    target: Exchange | Starlette, host: str = "127.0.0.1", port: int = 0, *,
    weight_limit: int | None = None, log_level: str = "warning",
) -> Iterator[str]:
    """Serve a venue (or an app from :func:`create_app`) from a background thread.

    Yields the base URL (``http://127.0.0.1:<port>``, a free port unless ``port`` is
    given); on exit stops the server, answering requests in flight first.  Pass the
    app rather than the venue to reach ``app.state.lock`` while it serves.
    """
    app = target if isinstance(target, Starlette) else create_app(
        target, weight_limit=weight_limit
    )
    sock = _bind(host, port)
    server = _server(app, log_level)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fapisim-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the REST server did not start")
        time.sleep(0.005)
    try:
        yield _url(host, sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve(
    exchange: Exchange, host: str = "127.0.0.1", port: int = 8080, *,
    weight_limit: int | None = None, log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``exchange`` in the foreground until SIGINT/SIGTERM, then shut down
    gracefully (requests in flight are answered).  ``on_ready(url)`` runs once the
    socket is bound, before the first request is accepted."""
    app = create_app(exchange, weight_limit=weight_limit)
    sock = _bind(host, port)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        if on_ready is not None:
            on_ready(_url(host, sock))
        # uvicorn catches SIGINT/SIGTERM, drains requests in flight, then re-raises the
        # signal to the handler it found: KeyboardInterrupt for both, caught here.
        _server(app, log_level).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
