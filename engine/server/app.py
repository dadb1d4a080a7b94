"""The REST facade: a Starlette app speaking Binance's ``/fapi`` with HMAC auth (SPEC 2.3).

``create_app(exchange)`` builds the ASGI app for an existing venue; its
accounts' ``api_key``/``api_secret`` authenticate requests.  ``serve`` runs it
on uvicorn (``fapisim serve``); ``running`` runs it in a background thread and
yields its base URL (tests, notebooks).  Starlette and uvicorn come with the
``server`` extra.

What the wire layer does, in order, for each request
----------------------------------------------------
1. from the request line and headers alone: a banned IP address → 418 (step 4);
   the endpoint (:data:`~engine.server.routes.ROUTES`; unknown path → 404, known
   path with another verb → 405, ``-1099`` / ``-1020``, JSON bodies) and, on a
   signed endpoint or a keyed one (Binance's MARKET_DATA: a key, no signature), the
   ``X-MBX-APIKEY`` (missing or malformed → 401 ``-2014``, unknown → 401
   ``-2015``).  A request refused here is answered before its body is read, with
   ``Connection: close``: nothing unauthenticated costs more than a header read.
2. read the body, at most :data:`MAX_BODY_BYTES` (more → 413 ``-1101``, also
   answered unread when ``Content-Length`` says so);
3. parse query and form body (:mod:`~engine.server.auth`; query wins; at most
   :data:`~engine.server.auth.MAX_PARAMS` parameters, -1101), then on a signed
   endpoint the signature over the raw bytes (-1102 / -1022) and the timestamp
   (-1021) against the server clock;
4. rate limits (:mod:`~engine.server.weights`): weight to the client's IP address
   (``X-MBX-USED-WEIGHT-1M`` on every response), orders to the account
   (``X-MBX-ORDER-COUNT-10S`` / ``-1M``); past a limit → 429 ``-1003`` / ``-1015``,
   uncounted; repeated 429s → an IP ban, 418 at step 1;
5. under the venue lock, and only this step: map wall time onto the venue clock
   (below), call the engine.  A :class:`~engine.core.errors.ClientError`
   becomes its HTTP status (400 for order errors) and ``{"code", "msg"}``;
   anything else is a 500 ``-1000`` and is logged;
6. write the JSON answer (outside the lock).

A request refused in steps 1–4 never reaches the venue: not even its clock moves.
A client that disconnects mid-request is dropped without a log line.

Concurrency
-----------
The venue is single-threaded.  Every request runs step 5 under one lock, so
commands are applied one at a time, in arrival order, and no client sees a
half-applied command; parsing, authentication and encoding happen outside it.
Code outside the server that touches the same venue while it serves (a test
calling ``check_invariants()``) takes ``app.state.lock`` too.

Work per request under the lock is bounded by the venue's caps: an account
holds at most ``max_num_orders`` (200) open orders per symbol and
``max_num_algo_orders`` (200) open conditional orders across symbols; so the
largest answers are ``GET openOrders`` without a symbol (200 × the listed
symbols), ``DELETE allOpenOrders`` (200 orders and their TP/SL rows) and
``GET openAlgoOrders`` (200 rows).  The history endpoints answer at most their
``limit`` (1000) rows.

Clock
-----
This module is the edge, and the only one in ``engine`` that reads wall time.
The server clock is ``max(wall time, venue clock)``: a venue whose clock was
advanced past wall time keeps its own time, and ``/fapi/v1/time`` reports it.
Each request moves the venue clock to wall time with
:meth:`~engine.venue.exchange.Exchange.pass_time`, which writes no journal
line; only when something falls due by then (a countdown cancel) is the move a
journaled ``set_time`` command (SPEC 9: the clock enters the journal only when
something happens at the new time).

Journal failure
---------------
When the venue's journal cannot be written (a full disk), the command that
failed is rolled back and the server logs one line; from then on every request
that would change state is answered 503 ``-1001`` ("Internal error; unable to
process your request. Please try again.") until restart, while reads,
``/fapi/v1/time`` and ``ping`` are still served — with the venue clock frozen
where moving it would be a command.

Transport
---------
Read timeouts, keep-alive and a connection cap that sheds idle and half-open
connections first: :mod:`~engine.server.transport`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from engine.core.errors import ClientError, reject
from engine.server.admin import ADMIN_PREFIX, Admin
from engine.server.admin import MAX_BODY as MAX_ADMIN_BODY
from engine.server.auth import (
    TRANSPORT_PARAMS,
    check_timestamp,
    parse,
    verify_signature,
)
from engine.server.clock import VenueClock, wall_ms
from engine.server.encoding import dumps
from engine.server.hub import Hub
from engine.server.listenkeys import listen_key_routes
from engine.server.market import market_routes
from engine.server.routes import ROUTES, Endpoint, algo_only_routes
from engine.server.state import SNAPSHOT_EVERY_S
from engine.server.transport import Limits, bind, url_of, uvicorn_server
from engine.server.weights import Meter, RateLimits

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.server.marketfeed import MarketFeed
    from engine.server.state import StateDir
    from engine.venue.exchange import Account, Exchange

__all__ = ["MAX_BODY_BYTES", "Limits", "create_app", "running", "serve"]

log = logging.getLogger("fapisim.server")
_JSON = "application/json"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_ERROR_WEIGHT = 1
#: the largest request body read (Binance's largest form, a batch of 5 orders, is
#: a few KiB); a larger one is refused 413 -1101 unread
MAX_BODY_BYTES = 64 * 1024

#: ``(HTTP status, body as a JSON-able object, headers)``
Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request let past its request line and headers (step 1)."""

    endpoint: Endpoint
    account: Account | None
    ip: str
    mutates: bool


class Facade:
    """The wire layer over one venue: routing, auth, weight, and the venue lock.

    ``clock``: the wall clock (ms); ``venue_clock``: where the venue's clock should be
    (:class:`~engine.server.clock.VenueClock`; default: the wall clock at speed 1);
    ``state``: the ``--state`` directory snapshots go to."""

    def __init__(self, exchange: Exchange, rate_limits: RateLimits | None = None,
                 market: MarketFeed | None = None,
                 clock: Callable[[], int] | None = None,
                 venue_clock: VenueClock | None = None, state: StateDir | None = None) -> None:
        self.exchange = exchange
        self.lock = threading.Lock()
        self.meter = Meter(rate_limits)
        self.market = market
        self.clock = clock or wall_ms
        self.venue_clock = venue_clock or VenueClock(1000, wall=self.clock)
        self.state = state
        self.routes = ROUTES if market is None else {**ROUTES, **market_routes(market)}
        self._journal_failure_logged = False
        self._ended_logged = False
        self.hub: Hub | None = None  # the stream hub (engine.server.hub), set by create_app

    def admit(
        self, method: str, path: str, api_key: str | None, host: str, wall: int
    ) -> Admitted | Answer:
        """Step 1, from the request line and headers only: the endpoint and, on a signed
        one, the account the key names; or the refusal to answer (a ban's first)."""
        banned = self.meter.admit(host, wall)
        if banned is not None:
            return banned.status_code, banned.to_wire(), banned.header
        routes = self.routes.get(path)
        if routes is None:
            return self._refuse(reject("NOT_FOUND", status=404), host, wall)
        endpoint = routes.get(method)
        if endpoint is None:
            err = reject("UNSUPPORTED_OPERATION", status=405)
            return self._refuse(err, host, wall, {"Allow": ", ".join(routes)})
        account = None
        if endpoint.signed or endpoint.keyed:
            if not api_key or not api_key.isascii() or not api_key.isprintable():
                return self._refuse(reject("BAD_API_KEY_FMT", status=401), host, wall)
            account = self.exchange.account_by_key(api_key)
            if account is None:
                return self._refuse(reject("REJECTED_MBX_KEY", status=401), host, wall)
        return Admitted(endpoint, account, host, method != "GET")

    def answer(
        self, adm: Admitted, query: bytes, body: bytes, content_type: str | None, wall: int
    ) -> Answer:
        """Steps 3–5 for an admitted request; only the engine call holds the lock."""
        try:
            req = parse(query, body, content_type)
        except ClientError as e:
            return self._refuse(e, adm.ip, wall)
        if adm.account is not None and adm.endpoint.signed:
            refused = verify_signature(req, adm.account.api_secret) or self._timestamp(
                req.params, wall)
            if refused is not None:
                return self._refuse(refused, adm.ip, wall)
        params = {k: v for k, v in req.params.items() if k not in TRANSPORT_PARAMS}
        endpoint, account = adm.endpoint, adm.account
        charge = self.meter.charge(adm.ip, account.name if account else None,
                                   endpoint.weight_of(params), endpoint.orders, wall)
        headers, busy = charge.headers, charge.refusal
        if busy is not None:
            return busy.status_code, busy.to_wire(), headers
        with self.lock:
            status, result = self._call(adm, params, wall)
        if self.hub is not None:
            self.hub.poke()
        return status, result, headers

    def _timestamp(self, params: dict[str, str], wall: int) -> ClientError | None:
        """SPEC 9: a ``timestamp`` within ``recvWindow`` of the wall clock or of the venue
        clock is accepted (the venue's own refusal when neither is)."""
        venue = self.exchange.now
        refused = check_timestamp(params, wall)
        if refused is None or venue == wall:
            return refused
        return None if check_timestamp(params, venue) is None else refused

    def _state(self, account: Account) -> AccountState:
        # The engine's commands take the ledger's account state, as Exchange.client() does.
        return self.exchange.account_state(account.name)

    def _call(self, adm: Admitted, params: dict[str, str], wall: int) -> tuple[int, Any]:
        """Move the clock, call the engine (under the lock)."""
        ex = self.exchange
        try:
            if adm.mutates and self.journal_failure() is not None:
                return self._unavailable()
            self.catch_up(self.venue_clock.target())
            account = None if adm.account is None else self._state(adm.account)
            return 200, adm.endpoint.handler(ex, account, params)
        except ClientError as e:
            return e.status_code, e.to_wire()
        except Exception:
            if self.journal_failure() is not None:
                return self._unavailable()
            log.exception("internal error answering %s", adm.endpoint)
            err = reject("UNKNOWN", status=500)
            return err.status_code, err.to_wire()

    def catch_up(self, wall: int) -> bool:
        """Bring the venue towards ``wall``, the venue time it should reach (under the
        lock): the market's prints, marks and funding due by then — at most
        :data:`PRINTS_PER_TURN` prints, so a market that fell behind (a suspended
        process, a restart) catches up over several turns while requests are answered
        in between, the clock following the market — then the clock.  True when the
        venue reached ``wall``.  With a failed journal nothing that would be a command
        runs: the clock stays where moving it would change state."""
        ex = self.exchange
        if self.journal_failure() is not None:
            ex.pass_time(wall)
            return True
        market = self.market
        if market is None:
            if not ex.pass_time(wall):
                ex.set_time(wall)  # something falls due: a journaled command
            return True
        reached = market.advance(wall, PRINTS_PER_TURN)  # the clock follows the market
        if market.ended and not self._ended_logged:
            self._ended_logged = True
            log.warning("the replayed data has ended (venue time %d): serving its final "
                        "state", ex.now)
        return reached == wall

    def journal_failure(self) -> str | None:
        """Why the journal refuses commands, or None (also None without a journal)."""
        journal = self.exchange.journal
        return None if journal is None else journal.failure

    def _unavailable(self) -> tuple[int, Any]:
        if not self._journal_failure_logged:
            self._journal_failure_logged = True
            log.error(
                "journal %s cannot be written (%s): refusing every request that would change "
                "state (503 -1001) until restart; reads are still served",
                self.exchange.journal.path, self.journal_failure(),  # type: ignore[union-attr]
            )
        err = reject("DISCONNECTED", status=503)
        return err.status_code, err.to_wire()

    def too_large(self, ip: str, wall: int) -> Answer:
        """The answer to a body over :data:`MAX_BODY_BYTES`: 413 -1101."""
        return self._refuse(reject("BODY_TOO_LARGE", status=413), ip, wall)

    def _refuse(
        self, err: ClientError, ip: str, wall: int, extra: dict[str, str] | None = None
    ) -> Answer:
        headers = self.meter.charge_refused(ip, _ERROR_WEIGHT, wall)
        if extra:
            headers.update(extra)
        return err.status_code, err.to_wire(), headers


def _response(answer: Answer, close: bool = False) -> Response:
    status, result, headers = answer
    try:
        content = dumps(result)
    except (TypeError, ValueError):
        log.exception("cannot encode the answer")
        err = reject("UNKNOWN", status=500)
        status, content = err.status_code, dumps(err.to_wire())
    if close:
        headers = {**headers, "Connection": "close"}
    return Response(content, status, headers, media_type=_JSON)


def _unread(request: Request) -> bool:
    """True when the request announces a body (a refusal then closes the connection)."""
    headers = request.headers
    return headers.get("content-length") not in (None, "0") or "transfer-encoding" in headers


async def _body(request: Request, limit: int,
                too_large: Callable[[], Answer]) -> bytes | Response:
    """The request body; or the answer when it is (or is announced) longer than
    ``limit`` — ``too_large()``, with ``Connection: close``, the rest unread — or when
    the client went away."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return _response(too_large(), close=True)
    try:
        body = await _read_body(request, limit)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening
    return _response(too_large(), close=True) if body is None else body


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` (the rest unread)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    exchange: Exchange, *, weight_limit: int | None = None,
    market: MarketFeed | None = None, clock: Callable[[], int] | None = None,
    venue_clock: VenueClock | None = None, state: StateDir | None = None,
    admin_token: str | None = None, rate_limits: RateLimits | None = None,
    algo_only: bool = False,
) -> Starlette:
    """The ASGI app serving ``exchange``; ``algo_only``: conditional types on ``POST
    /fapi/v1/order`` and ``batchOrders`` refused -4120, as on Binance since 2025-12-09
    (:func:`~engine.server.routes.algo_only_routes`); ``rate_limits``: what refuses requests
    (:class:`~engine.server.weights.RateLimits`, ``.binance()`` for Binance's; default:
    nothing), or ``weight_limit`` alone: weight per IP per minute; ``market``: a feed to
    bring up to date before each engine call, whose market-data endpoints are served too
    (:mod:`~engine.server.market`); ``clock``: wall time in ms (tests give their own);
    ``venue_clock``: the venue time to keep up with (:mod:`~engine.server.clock`;
    default: the wall clock); ``state``: the ``--state`` directory to snapshot into;
    ``admin_token``: opens the operator's door (:mod:`~engine.server.admin`).
    ``app.state.exchange`` and ``app.state.lock`` are the venue and the lock every
    engine call holds."""
    limited = RateLimits.resolve(weight_limit, rate_limits)
    facade = Facade(exchange, limited, market, clock, venue_clock, state)
    hub = facade.hub = Hub(facade)
    facade.routes = {**facade.routes, **listen_key_routes(hub),
                     **(algo_only_routes() if algo_only else {})}
    admin = None if admin_token is None else Admin(facade, admin_token)

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        wall = facade.clock()
        headers = request.headers
        client = request.client
        adm = facade.admit(scope["method"], scope["path"], headers.get("x-mbx-apikey"),
                           client.host if client else "", wall)
        if not isinstance(adm, Admitted):
            return _response(adm, close=_unread(request))
        body = await _body(request, MAX_BODY_BYTES,
                           lambda: facade.too_large(adm.ip, wall))
        if isinstance(body, Response):
            return body
        return _response(facade.answer(
            adm, scope["query_string"], body, headers.get("content-type"), wall))

    async def operator(request: Request) -> Response:
        assert admin is not None
        headers = request.headers
        if not admin.admits(headers.get("authorization")):
            wire = {"code": -2015, "msg": "The operator's endpoints need 'Authorization: "
                    "Bearer <admin token>'."}
            return _response((401, wire, {}), close=_unread(request))
        too_large = reject("BODY_TOO_LARGE", status=413)
        body = await _body(request, MAX_ADMIN_BODY,
                           lambda: (413, too_large.to_wire(), {}))
        if isinstance(body, Response):
            return body
        status, result = admin.answer(request.method, request.path_params["op"],
                                      request.scope["query_string"], body,
                                      headers.get("content-type"))
        hub.poke()
        if isinstance(result, bytes):
            return Response(result, status, media_type="application/octet-stream")
        return _response((status, result, {}))

    async def stream(websocket: WebSocket) -> None:
        hub.ensure_started()
        await hub.serve(websocket)

    routes: list[Any] = [WebSocketRoute("/{path:path}", stream),
                         Route("/{path:path}", endpoint, methods=_METHODS)]
    if admin is not None:
        routes.insert(0, Route(ADMIN_PREFIX + "{op}", operator, methods=_METHODS))
    app = Starlette(routes=routes)
    app.state.exchange = exchange
    app.state.lock = facade.lock
    app.state.facade = facade
    app.state.hub = hub
    return app


#: how often a served market is brought up to date when no request does it
TICK_S = 0.25
#: the most prints one turn under the lock applies (a turn costs at most ~0.2 s)
PRINTS_PER_TURN = 2_000


@contextmanager
def _ticking(app: Starlette) -> Iterator[None]:
    """While the block runs, bring a served market up to date every :data:`TICK_S`
    (prints fill resting orders and fire triggers even when nobody asks), and with a
    ``--state`` directory snapshot the venue every
    :data:`~engine.server.state.SNAPSHOT_EVERY_S` while it changes and once more at
    the end."""
    facade: Facade = app.state.facade
    if facade.market is None and facade.state is None:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        behind = False
        last_snapshot = time.monotonic()
        # behind, it pauses a moment between turns: a lock is not fair, and a waiting
        # request must get its turn
        while not stop.wait(0.005 if behind else TICK_S):
            try:
                if facade.market is not None:
                    with facade.lock:
                        behind = not facade.catch_up(facade.venue_clock.target())
                    if facade.hub is not None:
                        facade.hub.poke()
                if facade.state is not None and (
                        time.monotonic() - last_snapshot >= SNAPSHOT_EVERY_S):
                    last_snapshot = time.monotonic()
                    _snapshot(facade)
            except Exception:  # keep serving; the next request will say what is wrong
                log.exception("the market feed failed")
                return

    thread = threading.Thread(target=tick, name="fapisim-market", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        if facade.state is not None:
            try:
                _snapshot(facade)
            except Exception:
                log.exception("the final snapshot failed (the journal holds everything)")


def _snapshot(facade: Facade) -> None:
    """Snapshot into the state directory: taken under the lock, written outside it."""
    state = facade.state
    assert state is not None
    with facade.lock:
        if facade.journal_failure() is not None:
            return
        data = state.capture(facade.exchange, facade.market)
    if data is not None:
        state.write(data, facade.exchange.journal)
        log.info("snapshot written: %s (%d bytes)", state.snapshot_path, len(data))


@contextmanager
def running(
    target: Exchange | Starlette, host: str = "127.0.0.1", port: int = 0, *,
    weight_limit: int | None = None, log_level: str = "warning", limits: Limits | None = None,
    rate_limits: RateLimits | None = None,
) -> Iterator[str]:
    """Serve a venue (or an app from :func:`create_app`) from a background thread.

    Yields the base URL (``http://127.0.0.1:<port>``, a free port unless ``port`` is
    given); on exit stops the server, answering requests in flight first.  Pass the
    app rather than the venue to reach ``app.state.lock`` while it serves.  ``limits``:
    the transport limits (:class:`~engine.server.transport.Limits`; default ``Limits()``);
    ``weight_limit``, ``rate_limits``: see :func:`create_app` (a venue only)."""
    app = target if isinstance(target, Starlette) else create_app(
        target, weight_limit=weight_limit, rate_limits=rate_limits)
    sock = bind(host, port)
    server = uvicorn_server(app, log_level, limits or Limits())
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
        with _ticking(app):
            yield url_of(host, sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve(
    exchange: Exchange, host: str = "127.0.0.1", port: int = 8080, *,
    weight_limit: int | None = None, log_level: str = "info",
    on_ready: Callable[[str], None] | None = None, limits: Limits | None = None,
    market: MarketFeed | None = None, venue_clock: VenueClock | None = None,
    state: StateDir | None = None, admin_token: str | None = None,
    rate_limits: RateLimits | None = None, algo_only: bool = False,
) -> None:
    """Serve ``exchange`` in the foreground until SIGINT/SIGTERM, then shut down
    gracefully (requests in flight are answered; with ``state``, a last snapshot).
    ``on_ready(url)`` runs once the socket is bound, before the first request is
    accepted.  ``market``, ``venue_clock``, ``state``, ``admin_token``, ``weight_limit``,
    ``rate_limits``, ``algo_only``: see :func:`create_app` (no limits by default)."""
    app = create_app(exchange, weight_limit=weight_limit, market=market,
                     venue_clock=venue_clock, state=state, admin_token=admin_token,
                     rate_limits=rate_limits, algo_only=algo_only)
    server = uvicorn_server(app, log_level, limits or Limits())  # checks the limits first
    sock = bind(host, port)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        if on_ready is not None:
            on_ready(url_of(host, sock))
        # uvicorn catches SIGINT/SIGTERM, drains requests in flight, then re-raises the
        # signal to the handler it found: KeyboardInterrupt for both, caught here.
        with _ticking(app):
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
