"""Soak: 200 stream connections and 8 REST clients on one live server, and a dead subscriber.

The issue's requirement: a server that stays up — a slow or dead subscriber never blocks
the venue or other subscribers; 200 concurrent stream connections and 8 REST clients on
loopback with no lost or reordered event on any live connection.  By default (CI) the
soak lasts :data:`CI_SECONDS`; with ``FAPISIM_E2E=1`` a second case lasts
:data:`E2E_SECONDS` (marked ``e2e``, as the other end-to-end runs are).

The server is the real one (uvicorn on a free loopback port, in a thread) over a venue of
:data:`ACCOUNTS` accounts and a moving :class:`~engine.server.feed.SyntheticFeed` market
(about 45 prints a second on each symbol, the tape's ladder moving before each).  One
event loop runs every websocket connection; each checks its own sequence as it reads:

* **user data** on each account's listen key, three routes (``/private/ws/<key>``,
  the legacy ``/ws/<key>``, ``/private/stream?listenKey=<key>``): event time ``E``
  never goes back; per order, ``z`` never goes back, nothing follows a final status,
  every TRADE update follows its TRADE_LITE; at the end the last status and ``z`` of
  every order equal REST's, the fills add up to ``z``, and the orders seen are exactly
  the account's orders (none lost).  A few connections join half-way through: they see
  every order placed after they opened, and end with REST's view of each order they saw;
* **diff depth** ``btcusdt@depth@100ms`` (``/public/stream?streams=…`` and ``SUBSCRIBE``
  frames on ``/public/ws/<n>``): ``pu`` is the previous ``u``, ``U <= u``; each keeps a
  local book by Binance's procedure from one REST snapshot taken once every connection
  has a diff buffered (drop ``u < lastUpdateId``, the first applied has
  ``U <= lastUpdateId <= u``) and ends with ``/fapi/v1/depth``'s book at the same id;
* **aggTrade** (``/market/ws/btcusdt@aggTrade``, ``/market/stream?streams=`` both
  symbols, ``SUBSCRIBE`` on ``/market/ws/<n>``): ids go up by exactly one per symbol and
  end at ``/fapi/v1/aggTrades``' last id.

Eight REST threads (two per account, signed by hand as ``rest_support.RawClient`` does)
place limit orders around the market (some crossing it), market orders, cancels and
batch cancels, and list open orders, for the whole soak.  One more connection is dead:
it subscribes to most streams and every listen key, over a socket with a tiny receive
buffer, and never reads; the hub must close it as a slow consumer once its queue fills
(``hub.slow_closed``), and whether or not that much was sent to it, no live connection
falls behind or is closed.

At the end the REST threads stop and the market is frozen (the served venue clock is
swapped for a lockstep one at the venue's time, so nothing moves any more); every
connection must then catch up to REST's final state.  The server must still answer REST,
``check_invariants()`` must hold under the venue lock, and no connection may have had an
error frame.  The counts (messages per connection type, requests, orders) are printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import requests
import websockets
from rest_support import SYMBOL, RawClient, live

from engine import Exchange
from engine.backtest.marketdata import INTERVALS
from engine.server.clock import VenueClock
from engine.server.feed import SyntheticFeed
from engine.server.hub import MAX_QUEUE

FULL = os.environ.get("FAPISIM_E2E") == "1"
CI_SECONDS = 10.0
E2E_SECONDS = 60.0
ACCOUNTS = 4
REST_THREADS = 8
#: seconds a REST thread waits between requests (eight of them: a few hundred a second)
REST_PAUSE_S = 0.01
#: the most a live connection may be behind the venue (event time to reading), in ms
MAX_LAG_MS = 5000
#: open orders a REST thread keeps at most
MAX_OPEN = 25
DEPTH = "btcusdt@depth@100ms"
AGG = {"BTCUSDT": "btcusdt@aggTrade", "ETHUSDT": "ethusdt@aggTrade"}
FINAL = {"FILLED", "CANCELED", "EXPIRED"}
#: refusals a REST thread may meet, counted: a cancel of an order a print or a crossing
#: order filled meanwhile (-2011), too little margin (-2019); any other is an error
REFUSALS = {-2011, -2019}

#: the 200 live connections: (kind, path, how many); ``{key}`` is a listen key, ``{n}`` a
#: connection number; the ``/ws/<n>`` ones subscribe by frames
PLAN = [
    ("user", "/private/ws/{key}", 16),
    ("user", "/ws/{key}", 16),
    ("user", "/private/stream?listenKey={key}", 16),
    ("depth", f"/public/stream?streams={DEPTH}", 40),
    ("depth", "/public/ws/{n}", 36),
    ("agg", "/market/ws/btcusdt@aggTrade", 28),
    ("agg", "/market/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade", 24),
    ("agg", "/market/ws/{n}", 24),
]
#: user-data connections that join half-way through (on top of the 200)
LATE = [("late", "/private/ws/{key}", 4), ("late", "/private/stream?listenKey={key}", 4)]
#: what the dead subscriber asks for (and every listen key): much of it, and large
DEAD_STREAMS = [f"{s}@{k}" for s in ("btcusdt", "ethusdt") for k in (
    "depth5", "depth10", "depth20", "depth5@100ms", "depth10@100ms", "depth20@100ms",
    "depth5@500ms", "depth20@500ms", "depth", "depth@100ms", "depth@500ms", "aggTrade",
    "bookTicker", "markPrice@1s", "ticker", "miniTicker",
    *(f"kline_{i}" for i in INTERVALS))] + [
    "!bookTicker", "!markPrice@arr@1s", "!ticker@arr", "!miniTicker@arr"]


def ws_base(url: str) -> str:
    return url.replace("http://", "ws://")


def dec_book(levels: list[list[str]]) -> dict[Decimal, Decimal]:
    return {Decimal(p): Decimal(q) for p, q in levels}


# -- the REST side -------------------------------------------------------------------------
class Trader(threading.Thread):
    """One REST client: places, cancels and lists orders of one account until told to stop."""

    def __init__(self, n: int, url: str, account: str, key: str, secret: str,
                 go: threading.Event, stop: threading.Event) -> None:
        super().__init__(name=f"soak-rest-{n}", daemon=True)
        self.n, self.url, self.account = n, url, account
        self.raw = RawClient(url, key, secret)
        self.go, self.stop = go, stop
        self.rng = random.Random(1000 + n)
        #: orderId -> time.monotonic() just before its request was sent
        self.acked: dict[int, float] = {}
        self.open: list[int] = []
        self.requests = 0
        self.ops: Counter[str] = Counter()
        self.refused: Counter[int] = Counter()
        self.errors: list[str] = []
        self.bid = self.ask = Decimal("30000")

    def call(self, method: str, path: str, params: dict) -> Any:
        """A signed request's JSON answer; a failure to answer, a 5xx or a refusal this
        soak does not expect is an error (None returned)."""
        self.requests += 1
        try:
            r = self.raw.signed(method, path, params)
            body = r.json()
        except Exception as e:  # noqa: BLE001 - every failure to answer is reported
            self.errors.append(f"{method} {path}: {e!r}")
            return None
        if r.status_code == 200:
            return body
        code = body.get("code") if isinstance(body, dict) else None
        if r.status_code == 400 and code in REFUSALS:
            self.refused[code] += 1
        else:
            self.errors.append(f"{method} {path} {params}: {r.status_code} {r.text}")
        return None

    def quote(self) -> None:
        self.requests += 1
        try:
            r = self.raw.session.get(self.url + "/fapi/v1/ticker/bookTicker",
                                     params={"symbol": SYMBOL}, timeout=10)
            q = r.json()
            self.bid, self.ask = Decimal(q["bidPrice"]), Decimal(q["askPrice"])
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"bookTicker: {e!r}")

    def place(self) -> None:
        rng = self.rng
        side = rng.choice(("BUY", "SELL"))
        qty = rng.choice(("0.004", "0.005", "0.010"))
        params: dict[str, str] = {"symbol": SYMBOL, "side": side, "quantity": qty}
        roll = rng.random()
        if roll < 0.1:
            params["type"] = "MARKET"
            self.ops["market"] += 1
        else:
            mid = (self.bid + self.ask) / 2
            if roll < 0.3:  # crossing: takes the ladder, may rest the remainder
                step = Decimal(rng.randint(0, 30)) / 10
                price = self.ask + step if side == "BUY" else self.bid - step
                self.ops["crossing"] += 1
            else:  # resting, where the prints may reach it
                off = mid * Decimal(rng.uniform(0.0002, 0.004))
                price = mid - off if side == "BUY" else mid + off
                self.ops["limit"] += 1
            params.update(type="LIMIT", timeInForce="GTC", price=str(price.quantize(
                Decimal("0.1"))))
        sent = time.monotonic()
        o = self.call("POST", "/fapi/v1/order", params)
        if o is None:
            return
        oid = o["orderId"]
        if oid in self.acked:
            self.errors.append(f"orderId {oid} acknowledged twice")
        self.acked[oid] = sent
        if o["status"] in ("NEW", "PARTIALLY_FILLED"):
            self.open.append(oid)

    def cancel(self) -> None:
        if len(self.open) >= 3 and self.rng.random() < 0.25:
            ids = [self.open.pop(self.rng.randrange(len(self.open))) for _ in range(3)]
            self.ops["batch cancel"] += 1
            out = self.call("DELETE", "/fapi/v1/batchOrders", {
                "symbol": SYMBOL, "orderIdList": json.dumps(ids).replace(" ", "")})
            for oid, res in zip(ids, out or [], strict=False):
                if "code" in res and res["code"] not in REFUSALS:
                    self.errors.append(f"batch cancel {oid}: {res}")
                elif "code" in res:
                    self.refused[res["code"]] += 1
            return
        oid = self.open.pop(self.rng.randrange(len(self.open)))
        self.ops["cancel"] += 1
        self.call("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": oid})

    def run(self) -> None:
        try:
            self.trade()
        except Exception as e:  # noqa: BLE001 - reported with the other errors
            self.errors.append(f"{self.name} stopped: {e!r}")

    def trade(self) -> None:
        self.go.wait()
        i = 0
        while not self.stop.is_set():
            if i % 10 == 0:
                self.quote()
            i += 1
            roll = self.rng.random()
            if len(self.open) > MAX_OPEN or (self.open and roll < 0.4):
                self.cancel()
            elif roll < 0.95:
                self.place()
            else:
                self.ops["openOrders"] += 1
                listed = self.call("GET", "/fapi/v1/openOrders", {"symbol": SYMBOL})
                if listed is not None:
                    still = {o["orderId"] for o in listed}
                    self.open = [oid for oid in self.open if oid in still]
            self.stop.wait(REST_PAUSE_S)


def all_orders(raw: RawClient) -> dict[int, dict]:
    """Every order of an account, by id (GET /fapi/v1/allOrders, paged)."""
    out: dict[int, dict] = {}
    start = 0
    while True:
        page = raw.ok("GET", "/fapi/v1/allOrders", {"symbol": SYMBOL, "orderId": start,
                                                     "limit": 1000})
        out.update((o["orderId"], o) for o in page)  # type: ignore[union-attr]
        if len(page) < 1000:  # type: ignore[arg-type]
            return out
        start = page[-1]["orderId"] + 1  # type: ignore[index]


# -- the websocket side --------------------------------------------------------------------
class Reader:
    """One live connection: reads every message and checks its sequence as it goes."""

    kind = ""

    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name
        self.combined = "/stream?" in path
        self.subscribe: list[str] = []
        self.messages = 0
        self.replies: list[dict] = []
        self.errors: list[str] = []
        self.closed: str | None = None
        self.closing = False
        self.opened_at = 0.0
        self.last_at = 0.0
        self.max_lag_ms = 0

    def fail(self, text: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(f"{self.name} {self.path}: {text}")

    def on_text(self, text: str) -> None:
        self.messages += 1
        self.last_at = time.monotonic()
        msg = json.loads(text)
        if isinstance(msg, dict) and "code" in msg and "e" not in msg:
            self.fail(f"error frame {msg}")
            return
        if isinstance(msg, dict) and "result" in msg and "id" in msg:
            self.replies.append(msg)
            if msg != {"result": None, "id": 1}:
                self.fail(f"unexpected reply {msg}")
            return
        stream = None
        if self.combined:
            stream, msg = msg["stream"], msg["data"]
        self.on_event(stream, msg)

    def on_event(self, stream: str | None, data: dict) -> None:
        raise NotImplementedError

    def lag(self, event_ms: int) -> None:
        lag = time.time_ns() // 1_000_000 - event_ms
        if lag > self.max_lag_ms:
            self.max_lag_ms = lag


class DepthReader(Reader):
    kind = "depth"

    def __init__(self, path: str, name: str) -> None:
        super().__init__(path, name)
        self.prev_u: int | None = None
        self.prev_e = 0
        self.buffer: list[dict] = []
        self.books: dict[str, dict[Decimal, Decimal]] | None = None
        self.snapshot_id = 0
        self.synced = False
        self.diffs = 0

    def on_event(self, stream: str | None, d: dict) -> None:
        if d.get("e") != "depthUpdate" or d.get("s") != SYMBOL or stream not in (None, DEPTH):
            self.fail(f"not a BTCUSDT diff: {stream} {d}")
            return
        self.diffs += 1
        if d["U"] > d["u"]:
            self.fail(f"U {d['U']} > u {d['u']}")
        if self.prev_u is not None and d["pu"] != self.prev_u:
            self.fail(f"pu {d['pu']} after u {self.prev_u}: a diff lost or reordered")
        if d["E"] < self.prev_e:
            self.fail(f"E went back: {d['E']} after {self.prev_e}")
        self.prev_u, self.prev_e = d["u"], d["E"]
        self.lag(d["E"])
        if self.books is None:
            self.buffer.append(d)
        else:
            self.apply(d)

    def start_book(self, snap: dict) -> None:
        """Binance's procedure from here: the snapshot, then the buffered diffs."""
        self.books = {"b": dec_book(snap["bids"]), "a": dec_book(snap["asks"])}
        self.snapshot_id = snap["lastUpdateId"]
        buffered, self.buffer = self.buffer, []
        for d in buffered:
            self.apply(d)

    def apply(self, d: dict) -> None:
        assert self.books is not None
        if not self.synced:
            if d["u"] < self.snapshot_id:
                return  # older than the snapshot: dropped
            if not d["U"] <= self.snapshot_id <= d["u"]:
                self.fail(f"first diff after the snapshot {self.snapshot_id} is "
                          f"[{d['U']}, {d['u']}]")
            self.synced = True
        for side in ("b", "a"):
            book = self.books[side]
            for p, q in d[side]:
                if Decimal(q) == 0:
                    book.pop(Decimal(p), None)
                else:
                    book[Decimal(p)] = Decimal(q)

    def top(self, side: str, n: int) -> list[tuple[Decimal, Decimal]]:
        assert self.books is not None
        return sorted(self.books[side].items(), reverse=side == "b")[:n]


class AggReader(Reader):
    kind = "agg"

    def __init__(self, path: str, name: str, symbols: tuple[str, ...]) -> None:
        super().__init__(path, name)
        self.symbols = symbols
        self.last: dict[str, int] = {}
        self.prev_t: dict[str, int] = {}
        self.count: Counter[str] = Counter()

    def on_event(self, stream: str | None, d: dict) -> None:
        sym = d.get("s")
        if d.get("e") != "aggTrade" or sym not in self.symbols or stream not in (
                None, AGG[sym]):
            self.fail(f"unexpected {stream} {d}")
            return
        self.count[sym] += 1
        prev = self.last.get(sym)
        if prev is not None and d["a"] != prev + 1:
            self.fail(f"{sym} aggTrade {d['a']} after {prev}: lost or reordered")
        if d["T"] < self.prev_t.get(sym, 0):
            self.fail(f"{sym} trade time went back: {d['T']}")
        self.last[sym], self.prev_t[sym] = d["a"], d["T"]
        self.lag(d["E"])


class OrderView:
    __slots__ = ("status", "z", "filled", "updates")

    def __init__(self) -> None:
        self.status = ""
        self.z = self.filled = Decimal(0)
        self.updates = 0


class UserReader(Reader):
    kind = "user"

    def __init__(self, path: str, name: str, account: str, key: str) -> None:
        super().__init__(path, name)
        self.account, self.key = account, key
        self.prev_e = 0
        self.orders: dict[int, OrderView] = {}
        self.lite: tuple[int, int] | None = None
        self.events: Counter[str] = Counter()
        #: every event, briefly: the same on every connection of the account
        self.trail: list[tuple] = []

    def on_event(self, stream: str | None, d: dict) -> None:
        if stream not in (None, self.key):
            self.fail(f"user data on stream {stream}")
        e = d.get("e")
        self.events[e] += 1  # type: ignore[index]
        if d["E"] < self.prev_e:
            self.fail(f"E went back: {d['E']} after {self.prev_e} ({e})")
        self.prev_e = d["E"]
        self.lag(d["E"])
        o = d.get("o") or d.get("a") or {}
        self.trail.append((e, d["E"], d.get("i"), d.get("t"), o.get("i"), o.get("x"),
                           o.get("X"), o.get("z"), o.get("m")))
        if e == "TRADE_LITE":
            if self.lite is not None:
                self.fail(f"two TRADE_LITE in a row: {self.lite}, {d}")
            self.lite = (d["i"], d["t"])
            return
        if e == "ORDER_TRADE_UPDATE":
            o = d["o"]
            view = self.orders.get(o["i"])
            if view is None:
                view = self.orders[o["i"]] = OrderView()
                if o["x"] != "NEW" and self.kind == "user":
                    self.fail(f"order {o['i']} first seen as {o['x']}/{o['X']}: NEW lost")
            elif view.status in FINAL:
                self.fail(f"order {o['i']} updated after {view.status}: {o['x']}/{o['X']}")
            z = Decimal(o["z"])
            if z < view.z:
                self.fail(f"order {o['i']} executed went back: {z} after {view.z}")
            if o["x"] == "TRADE":
                if self.lite != (o["i"], o["t"]):
                    self.fail(f"TRADE {o['i']}/{o['t']} without its TRADE_LITE ({self.lite})")
                self.lite = None
                view.filled += Decimal(o["l"])
            view.status, view.z = o["X"], z
            view.updates += 1
        elif e == "listenKeyExpired":
            self.fail("listenKeyExpired")
        elif e not in ("ACCOUNT_UPDATE", "ACCOUNT_CONFIG_UPDATE"):
            self.fail(f"unexpected user event {d}")
        if self.lite is not None:
            self.fail(f"TRADE_LITE {self.lite} not followed by its TRADE ({e})")
            self.lite = None


class LateReader(UserReader):
    kind = "late"


async def read(ws: Any, reader: Reader) -> None:
    try:
        async for text in ws:
            try:
                reader.on_text(text)
            except Exception as e:  # noqa: BLE001 - a malformed message is reported
                reader.fail(f"{e!r} reading {text[:300]}")
    except websockets.exceptions.ConnectionClosed as e:
        reader.closed = repr(e)
    else:
        reader.closed = "closed by the client" if reader.closing else "closed by the server"


async def open_reader(url: str, reader: Reader) -> tuple[Any, asyncio.Task]:
    ws = await websockets.connect(ws_base(url) + reader.path, ping_interval=None,
                                  open_timeout=30, max_size=None)
    reader.opened_at = time.monotonic()
    if reader.subscribe:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": reader.subscribe, "id": 1}))
    return ws, asyncio.create_task(read(ws, reader))


async def open_all(url: str, readers: list[Reader], parallel: int = 40) -> list:
    gate = asyncio.Semaphore(parallel)

    async def one(r: Reader) -> tuple[Any, asyncio.Task]:
        async with gate:
            return await open_reader(url, r)

    return list(await asyncio.gather(*(one(r) for r in readers)))


def make_readers(plan: list, keys: dict[str, str], first_n: int) -> list[Reader]:
    readers: list[Reader] = []
    n = first_n
    for kind, path, count in plan:
        for i in range(count):
            n += 1
            account = f"acct{i % ACCOUNTS}"
            p = path.format(key=keys[account], n=n)
            name = f"#{n}"
            if kind in ("user", "late"):
                cls = UserReader if kind == "user" else LateReader
                r: Reader = cls(p, name, account, keys[account])
            elif kind == "depth":
                r = DepthReader(p, name)
                if "{n}" in path:
                    r.subscribe = [DEPTH]
            else:
                both = "{n}" in path or "ethusdt" in path
                r = AggReader(p, name, ("BTCUSDT", "ETHUSDT") if both else ("BTCUSDT",))
                if "{n}" in path:
                    r.subscribe = list(AGG.values())
            readers.append(r)
    return readers


async def until(check, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


# -- the soak ------------------------------------------------------------------------------
def venue() -> tuple[Exchange, dict[str, tuple[str, str]]]:
    ex = Exchange()
    creds = {}
    for a in range(ACCOUNTS):
        acct = ex.create_account(f"acct{a}", "100000")
        creds[acct.name] = (acct.api_key, acct.api_secret)
    ex.set_mark_price(SYMBOL, "30000")
    return ex, creds


@pytest.mark.parametrize("seconds", [
    pytest.param(CI_SECONDS, id="ci"),
    pytest.param(E2E_SECONDS, id="e2e", marks=[pytest.mark.e2e, pytest.mark.skipif(
        not FULL, reason="the long soak runs in the full profile: FAPISIM_E2E=1")]),
])
def test_soak_streams_and_rest_lose_and_reorder_nothing(seconds):
    started = time.monotonic()
    ex, creds = venue()
    market = SyntheticFeed(ex, seed=7, now_ms=max(time.time_ns() // 1_000_000, ex.now),
                           history_minutes=60, trades_per_day=4_000_000)
    with live(ex, market=market) as (url, app):
        hub = app.state.hub
        keys = {}
        for name, (api_key, _secret) in creds.items():
            r = requests.post(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": api_key},
                              timeout=10)
            assert r.status_code == 200, r.text
            keys[name] = r.json()["listenKey"]
        readers = make_readers(PLAN, keys, 0)
        late = make_readers(LATE, keys, len(readers))
        assert len(readers) == 200
        go, stop = threading.Event(), threading.Event()
        traders = [Trader(n, url, f"acct{n % ACCOUNTS}", *creds[f"acct{n % ACCOUNTS}"], go, stop)
                   for n in range(REST_THREADS)]
        for t in traders:
            t.start()
        report: dict[str, Any] = {}

        async def main() -> None:
            # the dead subscriber: a tiny receive buffer, and nothing read
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            dead = await websockets.connect(
                f"{ws_base(url)}/stream?streams=" + "/".join(DEAD_STREAMS + list(
                    keys.values())), sock=sock, max_queue=1, ping_interval=None)
            assert await until(lambda: any("btcusdt@depth20@100ms" in c.streams
                                           for c in list(hub.conns)), 5)
            dead_conn = next(c for c in list(hub.conns) if "btcusdt@depth20@100ms" in c.streams)

            conns = await open_all(url, readers)
            subscribing = [r for r in readers if r.subscribe]
            assert await until(lambda: all(r.replies for r in subscribing), 10), [
                r.name for r in subscribing if not r.replies]
            depth = [r for r in readers if isinstance(r, DepthReader)]
            # every depth connection holds a diff: the snapshot is past its start
            assert await until(lambda: all(r.diffs for r in depth), 10)
            snap = await asyncio.to_thread(requests.get, url + "/fapi/v1/depth", params={
                "symbol": SYMBOL, "limit": 1000}, timeout=10)
            for r in depth:
                r.start_book(snap.json())

            t0 = time.monotonic()
            go.set()
            late_conns: list = []
            while time.monotonic() < t0 + seconds:
                await asyncio.sleep(0.25)
                if not late_conns and time.monotonic() >= t0 + seconds / 2:
                    late_conns = await open_all(url, late)
                bad = [e for r in readers + late for e in r.errors]
                assert not bad, bad[:10]
            stopped = time.monotonic()
            stop.set()
            for t in traders:
                await asyncio.to_thread(t.join, 30)
            report["soak_s"] = stopped - t0
            report["dead_queue"] = len(dead_conn.queue)
            report["dead_open"] = dead_conn in hub.conns
            report["slow_closed"] = hub.slow_closed
            report["served"] = len(hub.conns)
            # every live connection was served to the end: none fell silent
            silent = [r.name for r in readers + late if r.kind in ("depth", "agg")
                      and r.last_at < stopped - 2]
            assert not silent, silent

            # freeze the market (nothing moves any more) and wait for every connection to
            # reach REST's final state
            with app.state.lock:
                app.state.facade.venue_clock = VenueClock(0, start=ex.now)
            final = await asyncio.to_thread(final_state, url, creds)
            frozen = time.monotonic()
            everyone = readers + late
            # settled: every connection has read up to REST's state, or nothing has come
            # for two seconds (then what is missing was lost)
            await until(lambda: all(behind(r, final) is None for r in everyone) or (
                time.monotonic() - max(frozen, *(r.last_at for r in everyone)) > 2), 30)
            report["settle_s"] = time.monotonic() - stopped
            report["final"] = final
            report["behind"] = [f"{r.name} {r.path}: {why}" for r in everyone
                                if (why := behind(r, final)) is not None]
            for r in readers + late:
                r.closing = True
            for ws, task in conns + late_conns:
                await ws.close()
                await task
            dead.transport.abort()

        try:
            asyncio.run(main())
        finally:
            stop.set()
            for t in traders:
                t.join(30)

        # the server still answers, and the venue is whole
        assert requests.get(url + "/fapi/v1/time", timeout=10).status_code == 200
        raw = RawClient(url, *creds["acct0"])
        assert "assets" in raw.ok("GET", "/fapi/v2/account")  # type: ignore[operator]
        with app.state.lock:
            ex.check_invariants()
        stats = hub.stats()

    final = report["final"]
    counts = summary(readers + late, traders, report, stats, time.monotonic() - started)
    print(counts)
    assert not report["behind"], (report["behind"][:10], counts)
    assert [e for t in traders for e in t.errors] == [], counts
    assert sum(t.requests for t in traders) > 50 * seconds, counts
    assert [e for r in readers + late for e in r.errors] == [], counts
    assert [(r.name, r.closed) for r in readers + late
            if r.closed != "closed by the client"] == [], counts
    check_depth([r for r in readers if isinstance(r, DepthReader)], final)
    check_agg([r for r in readers if isinstance(r, AggReader)], final)
    check_user([r for r in readers + late if isinstance(r, UserReader)], traders, final)

    # the dead subscriber: closed as a slow consumer once its queue filled; else still
    # queued up (its queue below the limit) — and no live connection was closed for it
    # the hub served every live connection to the end (and the dead one, unless closed)
    assert report["served"] == len(readers) + len(late) + report["dead_open"], counts
    if report["slow_closed"]:
        assert report["slow_closed"] == 1 and not report["dead_open"], counts
    else:  # not enough yet: what is sent to it waits in its own queue, for no one else
        assert report["dead_open"] and report["dead_queue"] < MAX_QUEUE, counts
    # the live connections kept up throughout (venue time to reading, at the worst)
    assert max(r.max_lag_ms for r in readers + late) < MAX_LAG_MS, counts
    if seconds >= E2E_SECONDS:
        assert report["slow_closed"] == 1, counts


def final_state(url: str, creds: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """REST's final view once the market is frozen: the book, the last aggTrade ids and
    every account's orders (read until two readings of the book agree)."""
    session = requests.Session()
    prev = None
    while True:
        book = session.get(url + "/fapi/v1/depth", params={"symbol": SYMBOL, "limit": 1000},
                           timeout=10).json()
        agg = {sym: session.get(url + "/fapi/v1/aggTrades", params={"symbol": sym, "limit": 1},
                                timeout=10).json()[-1]["a"] for sym in AGG}
        if prev is not None and prev == (book["lastUpdateId"], agg):
            break
        prev = (book["lastUpdateId"], agg)
        time.sleep(0.3)
    orders = {name: all_orders(RawClient(url, *creds[name])) for name in creds}
    return {"book": book, "agg": agg, "orders": orders}


def behind(r: Reader, final: dict[str, Any]) -> str | None:
    """How ``r`` differs from the final state (None: it has read up to it)."""
    if isinstance(r, DepthReader):
        if r.prev_u != final["book"]["lastUpdateId"]:
            return f"depth at u={r.prev_u}, REST at {final['book']['lastUpdateId']}"
    elif isinstance(r, AggReader):
        if any(r.last.get(s) != final["agg"][s] for s in r.symbols):
            return f"aggTrade at {r.last}, REST at {final['agg']}"
    elif isinstance(r, UserReader):
        orders = final["orders"][r.account]
        for oid, v in r.orders.items():
            if orders.get(oid, {}).get("status") != v.status:
                return f"order {oid} {v.status} on the stream, REST {orders.get(oid)}"
        if r.kind == "user" and set(r.orders) != set(orders):
            return f"orders not seen: {sorted(set(orders) - set(r.orders))[:10]}"
    return None


def check_depth(readers: list[DepthReader], final: dict[str, Any]) -> None:
    """Each local book is REST's at the same update id (REST's shows at most 1000 levels
    a side: the local book's best 1000 then)."""
    book = final["book"]
    rest = {"b": sorted(dec_book(book["bids"]).items(), reverse=True),
            "a": sorted(dec_book(book["asks"]).items())}
    for r in readers:
        assert r.synced and r.prev_u == book["lastUpdateId"], (r.name, r.prev_u)
        for side, levels in rest.items():
            n = len(levels) if len(levels) == 1000 else 1 << 30
            assert r.top(side, n) == levels, (r.name, side)


def check_agg(readers: list[AggReader], final: dict[str, Any]) -> None:
    for r in readers:
        for sym in r.symbols:
            assert r.last.get(sym) == final["agg"][sym], (r.name, sym, r.last, final["agg"])
            assert r.count[sym] > 0


def check_user(readers: list[UserReader], traders: list[Trader], final: dict[str, Any]) -> None:
    """Against REST, and against each other: every connection of an account opened
    before the first order read the same events; one that joined later read their end."""
    for account, orders in final["orders"].items():
        conns = [r for r in readers if r.account == account]
        trail = conns[0].trail
        assert conns[0].kind == "user" and len(trail) > 100, (conns[0].name, len(trail))
        for r in conns:
            if r.kind == "user":
                assert r.trail == trail, (r.name, conns[0].name, first_difference(r, trail))
            else:
                assert r.trail and r.trail == trail[len(trail) - len(r.trail):], (
                    r.name, len(r.trail), first_difference(r, trail[-len(r.trail):]))
        mine = [t for t in traders if t.account == account]
        acked = {oid: sent for t in mine for oid, sent in t.acked.items()}
        # every order the venue holds was acknowledged to a REST client, and vice versa
        assert set(acked) == set(orders), (account, set(acked) ^ set(orders))
        for r in readers:
            if r.account != account:
                continue
            seen = r.orders
            if r.kind == "user":  # open before the first order: sees every one
                assert set(seen) == set(orders), (r.name, set(seen) ^ set(orders))
            else:  # joined half-way: sees every order placed after it opened
                after = {oid for oid, sent in acked.items() if sent > r.opened_at}
                assert after <= set(seen) <= set(orders), (r.name, after - set(seen))
            for oid, view in seen.items():
                o = orders[oid]
                assert (view.status, view.z) == (o["status"], Decimal(o["executedQty"])), (
                    r.name, oid, view.status, view.z, o)
                if r.kind == "user":
                    assert view.filled == view.z, (r.name, oid, view.filled, view.z)


def first_difference(r: UserReader, trail: list[tuple]) -> str:
    for i, (a, b) in enumerate(zip(r.trail, trail, strict=False)):
        if a != b:
            return f"event {i}: {a} where the other has {b}"
    return f"{len(r.trail)} events where the other has {len(trail)}"


def summary(readers: list[Reader], traders: list[Trader], report: dict[str, Any],
            stats: dict[str, int], wall_s: float) -> str:
    by_kind: dict[str, list[Reader]] = {}
    for r in readers:
        by_kind.setdefault(r.kind, []).append(r)
    lines = [f"soak {report['soak_s']:.1f}s, settled in {report['settle_s']:.1f}s, "
             f"whole test {wall_s:.1f}s; hub {stats}; dead subscriber: open="
             f"{report['dead_open']} queued={report['dead_queue']} "
             f"slow_closed={report['slow_closed']}"]
    for kind, rs in by_kind.items():
        msgs = [r.messages for r in rs]
        lag = max(r.max_lag_ms for r in rs)
        lines.append(f"  {kind:5} x{len(rs):3}: {sum(msgs)} messages (per connection "
                     f"{min(msgs)}..{max(msgs)}), max lag {lag} ms")
    events: Counter[str] = Counter()
    for r in readers:
        if isinstance(r, UserReader) and r.kind == "user":
            events.update(r.events)
    lines.append(f"  user events: {dict(events)}")
    ops: Counter[str] = Counter()
    refused: Counter[int] = Counter()
    for t in traders:
        ops.update(t.ops)
        refused.update(t.refused)
    orders = sum(len(o) for o in report["final"]["orders"].values())
    lines.append(f"  REST: {sum(t.requests for t in traders)} requests, {orders} orders, "
                 f"ops {dict(ops)}, refused {dict(refused)}")
    return "\n".join(lines)
