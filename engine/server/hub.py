"""The stream hub: Binance's websocket routes, live subscriptions, and the fan-out.

Routes (SPEC 9; ``../shared/CLIENTS.md`` section 7 says which client uses which)
--------------------------------------------------------------------------------
``/<category>/ws``, ``/<category>/ws/<n>`` (a numeric connection suffix, as ccxt
sends), ``/<category>/ws/<stream>[/<stream>…]`` (raw payloads) and
``/<category>/stream?streams=a/b`` (payloads wrapped in ``{"stream", "data"}``), for
the categories ``public`` (order-book streams), ``market`` (the rest) and
``private`` (user data: ``/private/ws/<listenKey>``, ``/private/ws?listenKey=…``,
``/private/stream?listenKey=…`` or ``?streams=<listenKey>``); and the legacy paths
without a category (``/ws…``, ``/stream?streams=…``, ``/ws/<listenKey>``).  A
category route carries only its category's streams (a market stream subscribed on
``/public`` is refused, where Binance would accept it and stay silent); the legacy
paths carry every stream and user data, as Binance's did until they were narrowed
to public streams in 2026 — binance-futures-connector still uses them.

Frames: ``SUBSCRIBE`` / ``UNSUBSCRIBE`` (stream names or listen keys),
``LIST_SUBSCRIPTIONS``, ``SET_PROPERTY`` / ``GET_PROPERTY`` (``combined``), each
answered ``{"result": …, "id": …}``; a bad frame gets Binance's error frame
(``{"code": 0|1|2|3, "msg": …, "id": …}``, the id when the frame had a usable
one) and changes nothing; the connection stays open.  Limits, Binance's:
:data:`MAX_STREAMS` streams per connection (past it, code 2); more than
:data:`MAX_INBOUND_PER_S` frames in a second closes the connection (1008); at most
:data:`MAX_CONNECTIONS` connections at once (past it the handshake is refused, 403);
300 handshakes per IP in 5 minutes (past it, 429 -1003) and 24 hours of venue time
per connection (:mod:`engine.server.wslimits`).  Protocol pings are answered by the
websocket layer; the server pings every 3 minutes (uvicorn's ``ws_ping_interval``).

Fan-out
-------
One task on the server's event loop reads the venue's event log
(:mod:`engine.core.events`) after each command that published events (the
facade pokes it) and every
:data:`TICK_MS`: user-data deltas go to the connections reading their account's
listen key (:func:`engine.wire.events.user_messages`), liquidations to the
``forceOrder`` streams; then the streams due by their cadence are built from the
venue's and market's state (:mod:`engine.server.payloads`), once per stream,
encoded once, and queued on each subscriber.  Reading and building hold the venue
lock; formatting user events and sending do not.

A subscriber never blocks the venue or another subscriber: each connection has
a bounded queue (:data:`MAX_QUEUE` messages) drained by its own task; a
connection whose queue is full is closed (1008, "slow consumer"; counted in
:attr:`Hub.slow_closed`), as Binance drops clients that do not keep up.  A
listen key that expires (60 minutes of venue time without keep-alive) sends
``listenKeyExpired`` on each connection reading it, which is then closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from engine.core.enums import BUY, SELL
from engine.core.errors import InvariantError
from engine.core.events import LIQUIDATION, EventGap
from engine.server import frames
from engine.server import payloads as pl
from engine.server.encoding import dumps
from engine.server.listenkeys import ListenKeys
from engine.server.streamnames import Stream, parse_stream
from engine.server.wslimits import MAX_LIFETIME_MS, Handshakes
from engine.venue.commands import event_owner as owner_of
from engine.venue.commands import user_events as user_messages

if TYPE_CHECKING:
    from engine.server.app import Facade

__all__ = [
    "MAX_CONNECTIONS", "MAX_INBOUND_PER_S", "MAX_QUEUE", "MAX_STREAMS", "TICK_MS", "Conn", "Hub",
]

log = logging.getLogger("fapisim.server")

#: streams one connection may hold (Binance's)
MAX_STREAMS = 1024
#: frames a connection may send per second (Binance's); more closes it
MAX_INBOUND_PER_S = 10
#: messages queued for one connection before it is closed as too slow
MAX_QUEUE = 8192
#: open stream connections the server holds at most; a handshake past it is refused (each
#: holds a file descriptor and a queue; the REST transport's cap counts HTTP ones only)
MAX_CONNECTIONS = 4096
#: the fan-out's period when nothing wakes it (ms); the fastest stream cadence is 100 ms
TICK_MS = 50


class Conn:
    """One websocket connection: its route, subscriptions and outgoing queue."""

    __slots__ = ("ws", "category", "combined", "streams", "keys", "queue", "ready", "closed",
                 "inbound", "hub", "farewell", "opened_at")

    def __init__(self, hub: Hub, ws: WebSocket, category: str | None, combined: bool) -> None:
        self.hub = hub
        self.ws = ws
        self.category = category
        self.combined = combined
        #: market stream names subscribed, in order
        self.streams: dict[str, Stream] = {}
        #: listen keys subscribed (user data), in order
        self.keys: dict[str, None] = {}
        self.queue: deque[str] = deque()
        self.ready = asyncio.Event()
        self.closed = False
        #: times (monotonic ms) of the frames received in the last second
        self.inbound: deque[int] = deque()
        #: the close to send once the queue is sent (:meth:`close` with ``drain``)
        self.farewell: tuple[int, str] | None = None
        #: the venue time it opened at (:data:`~engine.server.wslimits.MAX_LIFETIME_MS`):
        #: the clock's, which the venue may not have caught up with yet
        self.opened_at = max(hub.exchange.now, hub.facade.venue_clock.target())

    def push(self, raw: str, wrapped: str) -> None:
        """Queue one message (``wrapped`` when this connection is combined)."""
        if self.closed:
            return
        if len(self.queue) >= MAX_QUEUE:
            self.hub.slow_closed += 1
            self.close(1008, "slow consumer: too many messages queued")
            return
        self.queue.append(wrapped if self.combined else raw)
        self.ready.set()

    def close(self, code: int, reason: str, drain: bool = False) -> None:
        """Stop serving this connection: at once (what is queued is dropped), or with
        ``drain`` after what is queued has been sent."""
        if self.closed:
            return
        self.closed = True
        self.hub.forget(self)
        self.ready.set()
        if drain:
            self.farewell = (code, reason)
            return
        self.queue.clear()
        asyncio.ensure_future(_close(self.ws, code, reason))

    def subscriptions(self) -> list[str]:
        return [*self.streams, *self.keys]


async def _deny(ws: WebSocket, status: int, body: dict) -> None:
    """Refuse a handshake with an HTTP answer where the websocket layer can send one
    (else plainly: 403)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(Response(dumps(body), status,
                                               media_type="application/json"))
    else:
        await ws.close(1008)


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        if ws.application_state is WebSocketState.CONNECTED:
            await ws.close(code, reason)
    except (RuntimeError, OSError, WebSocketDisconnect):
        pass


class Hub:
    """The connections of one server and what each reads (see the module docstring)."""

    def __init__(self, facade: Facade) -> None:
        self.facade = facade
        self.exchange = facade.exchange
        self.market = facade.market
        self.keys = ListenKeys()
        self.conns: set[Conn] = set()
        #: stream name -> its subscribers (in subscription order), each with the number of
        #: the venue's newest event when it subscribed
        self.by_stream: dict[str, dict[Conn, int]] = {}
        self.specs: dict[str, Stream] = {}
        #: listen key -> its subscribers, likewise
        self.by_key: dict[str, dict[Conn, int]] = {}
        #: the last event read from the venue's log
        self.cursor = self.exchange._s.event_seq
        #: stream name -> next time (monotonic ms) it is due
        self._due: dict[str, int] = {}
        #: depth-diff stream name -> (bids, asks, u) last sent
        self._books: dict[str, tuple[pl.Levels, pl.Levels, int]] = {}
        #: symbol -> the book's update id when its bookTicker was last sent
        self._tickers: dict[str, int] = {}
        #: symbol -> the market's print row to send from next
        self._prints: dict[str, int] = {}
        self.slow_closed = self.rate_closed = self.opened = self.refused = 0
        self.aged_closed = 0
        self.handshakes = Handshakes()
        self._aged_due = 0  # monotonic ms of the next lifetime check
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._task: asyncio.Task | None = None

    # -- life ----------------------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start the fan-out on the running loop, once (at the first connection)."""
        if self._task is None:
            self.start()

    def start(self) -> None:
        """Start the fan-out on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for conn in list(self.conns):
            conn.close(1001, "server shutting down")

    def poke(self) -> None:
        """Wake the fan-out when the venue has published events it has not read (call
        after a command, from any thread; the fan-out also looks every turn)."""
        wake, loop = self._wake, self._loop
        if wake is None or loop is None or self.exchange._s.event_seq == self.cursor:
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            try:
                await asyncio.wait_for(wake.wait(), TICK_MS / 1000)
            except TimeoutError:
                pass
            wake.clear()
            try:
                self.pump()
            except Exception:  # never let one bad turn stop every stream
                log.exception("stream fan-out failed; carrying on")

    # -- one turn ------------------------------------------------------------------------
    def pump(self) -> None:
        """Read what happened since the last turn and send what is due."""
        out: list[tuple[str, Any]] = []  # (stream name or "@" + listen key, payload)
        user: list[tuple[int, int, tuple]] = []
        now_ms = _monotonic_ms()
        ex = self.exchange
        facade = self.facade
        with facade.lock:
            if facade.market is None:  # no market ticks the clock: keep venue time moving
                facade.catch_up(facade.venue_clock.target())
            else:  # the bots' trades since the last turn, for aggTrade and the klines
                facade.market.take_venue_prints()
            s = ex._s
            if s.event_seq != self.cursor:
                try:
                    batches = s.events.batches_after(self.cursor)
                except EventGap:
                    log.warning("the stream fan-out fell behind the event log; user-data "
                                "connections are closed so their clients resync")
                    batches = []
                    for conns in list(self.by_key.values()):
                        for conn in list(conns):
                            conn.close(1011, "events lost: reconnect and resync")
                cursor = self.cursor
                for first, when, deltas in batches:
                    for i in range(cursor + 1 - first if first <= cursor else 0, len(deltas)):
                        user.append((first + i, when, deltas[i]))
                self.cursor = s.event_seq
            for lk in self.keys.expire(ex.now):
                out.append(("@" + lk.key, {"e": "listenKeyExpired", "E": str(ex.now),
                                           "listenKey": lk.key}))
            self._due_streams(now_ms, out)
            venue_now = ex.now
        self._deliver_user(user)
        if now_ms >= self._aged_due:  # Binance's 24 hours (wslimits), checked each second
            self._aged_due = now_ms + 1000
            self.handshakes.prune(now_ms)
            for conn in [c for c in self.conns if venue_now - c.opened_at >= MAX_LIFETIME_MS]:
                self.aged_closed += 1
                conn.close(1000, "connection open for 24 hours: reconnect", drain=True)
        for target, payload in out:
            if target.startswith("@"):
                key = target[1:]
                self._send(self.by_key.get(key, {}), key, payload)
                for conn in list(self.by_key.get(key, {})):
                    conn.close(1000, "listenKeyExpired", drain=True)
            else:
                self._send(self.by_stream.get(target, {}), target, payload)

    def _deliver_user(self, user: list[tuple[int, int, tuple]]) -> None:
        """Send each event to the subscriptions made before it (a connection hears what
        happened after it subscribed, as on Binance)."""
        if not user:
            return
        keyed: dict[str, list[str]] = {}
        for key in self.by_key:
            name = self.keys.account_of(key)
            if name is not None:
                keyed.setdefault(name, []).append(key)
        for seq, when, delta in user:
            if delta[0] == LIQUIDATION:
                order = pl.force_order(self.exchange, when, delta)
                sym = delta[3]
                for name in (f"{sym.lower()}@forceOrder", "!forceOrder@arr"):
                    if name in self.by_stream:
                        self._send(self.by_stream[name], name, order, seq)
            owner = owner_of(delta)
            if owner is None or owner not in keyed:
                continue
            for msg in user_messages(self.exchange, when, delta, seq):
                for key in keyed[owner]:
                    conns = self.by_key.get(key)  # a connection may have closed meanwhile
                    if conns:
                        self._send(conns, key, msg, seq)

    def _send(self, conns: dict[Conn, int], name: str, payload: Any, seq: int = 0) -> None:
        """Queue ``payload`` on each of ``conns`` (subscription → the event number when it
        was made) that subscribed before event ``seq`` (0: not an event of the log)."""
        if not conns:
            return
        raw = dumps(payload).decode()
        wrapped = None
        for conn, since in list(conns.items()):
            if seq and seq <= since:
                continue
            if conn.combined and wrapped is None:
                wrapped = dumps({"stream": name, "data": payload}).decode()
            conn.push(raw, wrapped or raw)

    def _due_streams(self, now_ms: int, out: list[tuple[str, Any]]) -> None:
        ex, market = self.exchange, self.market
        for name, spec in self.specs.items():
            kind, sym = spec.kind, spec.symbol
            if kind == "aggTrade" or kind == "trade":
                if market is not None and sym is not None:
                    rows, self._prints[name] = pl.agg_trades(
                        ex, market, sym, self._prints.get(name, len(market.symbols[sym].prints)),
                        kind == "trade")
                    out.extend((name, r) for r in rows)
                continue
            if kind == "bookTicker":
                for symbol in [sym] if sym else ex._s.symbols:
                    uid = ex._s.markets[symbol].book.update_id
                    key = f"{name}/{symbol}"
                    if self._tickers.get(key) != uid:
                        self._tickers[key] = uid
                        out.append((name, pl.book_ticker(ex, symbol)))
                continue
            if kind == "forceOrder":
                continue  # sent from the event log
            if now_ms < self._due.get(name, 0):
                continue
            self._due[name] = now_ms + spec.period_ms
            if kind == "depth":
                self._depth_diff(name, sym, out)  # type: ignore[arg-type]
            elif kind == "partialDepth":
                self._partial_depth(name, sym, int(spec.arg), out)  # type: ignore[arg-type]
            elif kind == "markPrice":
                rows = [pl.mark_price(ex, market, x) for x in ([sym] if sym else ex._s.symbols)]
                out.append((name, rows[0] if sym else rows))
            elif market is None:
                continue  # klines and tickers need a market
            elif kind in ("kline", "continuousKline"):
                k = pl.kline(ex, market, sym, spec.arg, kind == "continuousKline")  # type: ignore[arg-type]
                if k is not None:
                    out.append((name, k))
            elif kind in ("ticker", "miniTicker"):
                build = pl.ticker if kind == "ticker" else pl.mini_ticker
                rows = [r for x in ([sym] if sym else ex._s.symbols)
                        if (r := build(ex, market, x)) is not None]
                if rows:
                    out.append((name, rows[0] if sym else rows))

    def _depth_diff(self, name: str, symbol: str, out: list[tuple[str, Any]]) -> None:
        ex = self.exchange
        bids, asks, uid = pl.book_levels(ex, symbol)
        prev = self._books.get(name)
        self._books[name] = (bids, asks, uid)
        if prev is None or prev[2] == uid:
            return
        old_bids, old_asks, last = prev
        out.append((name, pl.depth_event(ex, symbol, last + 1, uid, last,
                                         pl.diff(old_bids, bids, True),
                                         pl.diff(old_asks, asks, False))))

    def _partial_depth(self, name: str, symbol: str, levels: int,
                       out: list[tuple[str, Any]]) -> None:
        ex = self.exchange
        book = ex._s.markets[symbol].book
        uid = book.update_id
        prev = self._books.get(name)
        last = prev[2] if prev is not None else uid
        self._books[name] = ({}, {}, uid)
        out.append((name, pl.depth_event(ex, symbol, last + 1 if uid > last else uid, uid, last,
                                         book.depth(BUY, levels), book.depth(SELL, levels))))

    # -- subscriptions -------------------------------------------------------------------
    def subscribe(self, conn: Conn, names: list[str]) -> str | None:
        """Add ``names`` to ``conn``; an error message (and nothing added) if one is bad."""
        symbols = self.exchange._s.instruments
        specs: list[Stream] = []
        keys: list[str] = []
        for name in names:
            spec = parse_stream(name, symbols)  # type: ignore[arg-type]
            if spec is not None:
                if conn.category in ("public", "market") and spec.category != conn.category:
                    return (f"Invalid request: stream '{name}' is served on /{spec.category}/, "
                            f"not /{conn.category}/")
                if conn.category == "private":
                    return f"Invalid request: /private/ carries user data only, not '{name}'"
                specs.append(spec)
            elif isinstance(name, str) and name and "@" not in name and name.isalnum() and \
                    conn.category in (None, "private"):
                keys.append(name)
            else:
                return f"Invalid request: invalid stream name {name!r}"
        with self.facade.lock:
            since = self.exchange._s.event_seq
        new = {s.name for s in specs if s.name not in conn.streams} | {
            k for k in keys if k not in conn.keys}
        if len(conn.streams) + len(conn.keys) + len(new) > MAX_STREAMS:
            return f"Invalid request: a connection holds at most {MAX_STREAMS} streams"
        for spec in specs:
            if spec.name in conn.streams:
                continue
            conn.streams[spec.name] = spec
            subs = self.by_stream.get(spec.name)
            if subs is None:
                subs = self.by_stream[spec.name] = {}
                self.specs[spec.name] = spec
                self._start_stream(spec)
            subs[conn] = since
        for key in keys:
            if key not in conn.keys:
                conn.keys[key] = None
                self.by_key.setdefault(key, {})[conn] = since
        return None

    def _start_stream(self, spec: Stream) -> None:
        """A stream's first subscriber: start it from the state now (under the lock)."""
        ex = self.exchange
        with self.facade.lock:
            if spec.kind == "depth" and spec.symbol is not None:
                self._books[spec.name] = pl.book_levels(ex, spec.symbol)
            elif spec.kind in ("aggTrade", "trade") and self.market is not None and spec.symbol:
                self._prints[spec.name] = len(self.market.symbols[spec.symbol].prints)
            elif spec.kind == "bookTicker":
                for symbol in [spec.symbol] if spec.symbol else ex._s.symbols:
                    self._tickers[f"{spec.name}/{symbol}"] = ex._s.markets[symbol].book.update_id
        self._due[spec.name] = 0
        self._wake_soon()

    def _wake_soon(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def unsubscribe(self, conn: Conn, names: list[str]) -> None:
        for name in names:
            if conn.streams.pop(name, None) is not None:
                self._drop_stream(conn, name)
            elif conn.keys.pop(name, 0) is None:
                subs = self.by_key.get(name, {})
                subs.pop(conn, None)
                if not subs:
                    self.by_key.pop(name, None)

    def _drop_stream(self, conn: Conn, name: str) -> None:
        subs = self.by_stream.get(name, {})
        subs.pop(conn, None)
        if not subs:
            self.by_stream.pop(name, None)
            self.specs.pop(name, None)
            self._due.pop(name, None)
            self._books.pop(name, None)
            self._prints.pop(name, None)
            for key in [k for k in self._tickers if k.startswith(name + "/")]:
                del self._tickers[key]

    def forget(self, conn: Conn) -> None:
        """Drop every subscription of a closed connection."""
        self.conns.discard(conn)
        self.unsubscribe(conn, conn.subscriptions())

    def _check(self) -> None:
        """Every subscription is a live connection's and indexed both ways; every stream
        subscribed has its parsed name; the listen keys' indexes agree."""
        for name, subs in self.by_stream.items():
            if not subs or name not in self.specs:
                raise InvariantError(f"stream {name!r}: no subscriber or no parsed name")
            for conn in subs:
                if conn not in self.conns or name not in conn.streams:
                    raise InvariantError(f"stream {name!r}: a subscriber that is not open")
        for key, subs in self.by_key.items():
            for conn in subs:
                if conn not in self.conns or key not in conn.keys:
                    raise InvariantError(f"listen key {key[:8]}…: a subscriber not open")
        for conn in self.conns:
            if any(conn not in self.by_stream.get(n, {}) for n in conn.streams) or any(
                    conn not in self.by_key.get(k, {}) for k in conn.keys):
                raise InvariantError("a connection's subscription is not indexed")
        if set(self.specs) != set(self.by_stream):
            raise InvariantError("parsed stream names outlived their subscribers")
        self.keys._check()
        self.handshakes._check()

    def stats(self) -> dict[str, int]:
        return {"connections": len(self.conns), "opened": self.opened,
                "slow_closed": self.slow_closed, "rate_closed": self.rate_closed,
                "refused": self.refused, "ip_refused": self.handshakes.refused,
                "aged_closed": self.aged_closed}

    # -- a connection's life ---------------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        """Handle one websocket from handshake to close."""
        route = frames.route(ws.url.path, ws.query_params.getlist("streams"),
                             ws.query_params.getlist("listenKey"), MAX_STREAMS)
        if route is None or len(self.conns) >= MAX_CONNECTIONS:
            if route is not None:
                self.refused += 1
            await ws.close(1008)  # before accepting: the handshake is refused (403)
            return
        if not self.handshakes.admit(ws.client.host if ws.client else "", _monotonic_ms()):
            await _deny(ws, 429, self.handshakes.refusal())
            return
        category, combined, names = route
        conn = Conn(self, ws, category, combined)
        error = self.subscribe(conn, names) if names else None
        if error is not None:
            self.forget(conn)
            await ws.close(1008)
            return
        await ws.accept()
        self.conns.add(conn)
        self.opened += 1
        sender = asyncio.ensure_future(self._drain(conn))
        try:
            while not conn.closed:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if not self._inbound_ok(conn):
                    self.rate_closed += 1
                    conn.close(1008, f"more than {MAX_INBOUND_PER_S} messages in a second")
                    break
                reply = self.frame(conn, message.get("text"), message.get("bytes"))
                conn.push(reply, reply)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            if not conn.closed:  # the client left: what is queued for it goes nowhere
                conn.closed = True
                self.forget(conn)
                sender.cancel()  # it may wait on a socket the client no longer reads
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def _inbound_ok(self, conn: Conn) -> bool:
        now = _monotonic_ms()
        q = conn.inbound
        q.append(now)
        while q and q[0] <= now - 1000:
            q.popleft()
        return len(q) <= MAX_INBOUND_PER_S

    async def _drain(self, conn: Conn) -> None:
        ws = conn.ws
        try:
            while True:
                await conn.ready.wait()
                conn.ready.clear()
                while conn.queue:
                    await ws.send_text(conn.queue.popleft())
                if conn.closed:
                    if conn.farewell is not None:
                        await _close(ws, *conn.farewell)
                    return
        except (WebSocketDisconnect, RuntimeError, OSError):
            conn.closed = True
            self.forget(conn)

    def frame(self, conn: Conn, text: str | None, data: bytes | None) -> str:
        """The answer to one client frame (:func:`engine.server.frames.answer`)."""
        return frames.answer(self, conn, text, data)


def _monotonic_ms() -> int:
    """The server's monotonic clock, for stream cadences and inbound limits (never the
    venue's: events carry venue time)."""
    return time.monotonic_ns() // 1_000_000
