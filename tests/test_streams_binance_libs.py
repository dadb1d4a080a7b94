"""Two real client libraries read the real server's websocket streams, unchanged but for
their URLs: market streams on a moving synthetic market and on a still venue, and the
user-data stream through one story.

The story (each library, its own listen-key handling): alice places a LIMIT parent BUY
0.010 @ 29000 carrying ``takeProfitPrice`` 31000 and ``stopLossPrice`` 28000 →
``ORDER_TRADE_UPDATE`` (x NEW) and two ``ALGO_UPDATE`` (X NEW), one event time ``E``;
she cancels the parent → ``ORDER_TRADE_UPDATE`` CANCELED and two ``ALGO_UPDATE``
CANCELED, one ``E``; bob rests a SELL LIMIT 0.010 @ 30000 (nothing reaches alice) and
alice buys 0.010 at MARKET → ``ORDER_TRADE_UPDATE`` NEW, ``TRADE_LITE``,
``ORDER_TRADE_UPDATE`` (x TRADE, X FILLED) and ``ACCOUNT_UPDATE`` (m ORDER) with the
wallet REST reports, one ``E``.  Every check names ids, statuses and prices, so a
missing, extra, reordered or foreign event fails it.  After each test the server must
hold no connection: every socket was closed.

What each library sends and parses (observed against this server, except the timed
keep-alives and ``stop()``'s internals, read from the libraries' source; the base URL is
``http://127.0.0.1:PORT``, the websocket base ``ws://127.0.0.1:PORT``):

python-binance 1.0.37 (``binance.AsyncClient`` + ``binance.ws``; transport ``websockets``)
    Pointing it here: ``client.FUTURES_URL = BASE + "/fapi"`` and, on the
    ``BinanceSocketManager``, ``bm.FSTREAM_URL = WS + "/"`` (the trailing slash is
    required).  ``AsyncClient.create()`` is not used: it calls ``GET {API_URL}/v3/ping``
    and ``GET {API_URL}/v3/time`` first.

    * Market sockets connect with the streams in the URL and send **no frame**:
      ``aggtrade_futures_socket`` → ``/market/stream?streams=btcusdt@aggTrade``;
      ``futures_multiplex_socket(["btcusdt@kline_1m", …])`` (the only plain-kline
      route) → ``/market/stream?streams=btcusdt@kline_1m/…``;
      ``symbol_mark_price_socket`` → ``/market/stream?streams=btcusdt@markPrice@1s``.
      Events are handed over as the combined wrapper ``{"stream", "data"}``, unparsed.
    * ``futures_user_socket()``: ``POST /fapi/v1/listenKey`` (empty form body,
      ``X-MBX-APIKEY``), then ``/private/ws?listenKey=<key>``; raw events, unparsed.
      Every 300 s it POSTs again and, the key unchanged, ``PUT /fapi/v1/listenKey`` with
      the form body ``listenKey=<key>`` (``futures_stream_keepalive``);
      ``futures_stream_close`` is ``DELETE`` with the same body.
    * ``FuturesDepthCacheManager``: ``futures_depth_socket`` →
      ``/public/stream?streams=btcusdt@depth10`` whatever ``limit`` says; no REST
      snapshot, no ``U``/``u``/``pu`` check: each event *replaces* the book with
      ``data.b`` / ``data.a`` (``update_time`` = ``data.E``) — the only parsing it
      does, and the reason its events must come combined-wrapped.
    * ``ThreadedWebsocketManager`` builds its own client with ``AsyncClient.create()``
      and its own ``BinanceSocketManager``, so it is pointed here through the class
      attributes ``AsyncClient.API_URL`` / ``FUTURES_URL`` and
      ``BinanceSocketManager.FSTREAM_URL``; ``start_futures_user_socket`` returns None
      (the socket's path is only known once connected), the name ``stop_socket`` takes.
    * A socket closes only when its read loop next wakes (a message, or its 10 s read
      timeout): the tests close a user socket as the library would, then close its
      listen key, which makes the server close the connection at once.

binance-futures-connector 4.2.0 (``binance.websocket.um_futures``; ``websocket-client``)
    ``UMFuturesWebsocketClient(stream_url=WS)`` connects in its constructor to
    ``WS + "/ws"`` (the legacy route without a category; no trailing slash on
    ``stream_url``) and sends one frame per call, spaced as ``json.dumps`` spaces it:
    ``{"method": "SUBSCRIBE", "params": ["btcusdt@markPrice@1s"], "id": <id>}``
    (``mark_price(symbol, speed=1)``; ``agg_trade`` → ``btcusdt@aggTrade``, ``kline`` →
    ``btcusdt@kline_1m``, ``book_ticker`` → ``btcusdt@bookTicker``, ``user_data`` → the
    bare listen key), ``UNSUBSCRIBE`` alike (``action="UNSUBSCRIBE"``) and
    ``{"method": "LIST_SUBSCRIPTIONS", "id": <id>}``.  The id defaults to the time in
    ms, so calls within one ms send the same id.  Every text frame, the acks
    ``{"result": null, "id": …}`` included, reaches ``on_message`` as a string; nothing
    is parsed.  REST is ``UMFutures(key, secret, base_url=BASE)``:
    ``new_listen_key`` ``POST /fapi/v1/listenKey``, ``renew_listen_key`` ``PUT`` and
    ``close_listen_key`` ``DELETE`` with ``?listenKey=<key>`` in the query; no automatic
    keep-alive.  ``stop()`` sends a CLOSE frame and joins the reader thread (no timeout).

Both install into the ``binance`` package: python-binance owns ``binance/__init__.py``,
``client.py``, ``async_client.py`` and ``ws/``; the connector ``um_futures/``,
``websocket/``, ``api.py``, ``error.py`` and ``lib/`` — they import side by side.
"""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests
from rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    live,
    make_venue,
    now_ms,
)

from engine.server.feed import SyntheticFeed

ADMIN_TOKEN = "streams-admin-token-0001"
#: the longest any single event may take to arrive (s)
WAIT = 5.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# -- the servers ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """No library may resolve (so reach) any host but this machine's loopback."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in _LOOPBACK:
            raise OSError(f"test_streams_binance_libs: no network beyond loopback ({host!r})")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _served(ex, app, url, *, market=None):
    return SimpleNamespace(ex=ex, app=app, url=url, ws=url.replace("http://", "ws://"),
                           hub=app.state.facade.hub, market=market)


def _settle(srv) -> None:
    """Every websocket closed, the venue consistent."""
    deadline = time.monotonic() + 3
    while srv.hub.conns and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not srv.hub.conns, "a websocket was left open"
    with srv.app.state.lock:
        facade = srv.app.state.facade
        facade.catch_up(facade.venue_clock.target())
        srv.ex.check_invariants()


@pytest.fixture
def still():
    """alice and bob, 10000 USDT each, BTCUSDT's mark 30000, no market moving; the
    operator's door open (to move the mark)."""
    ex = make_venue()
    with live(ex, admin_token=ADMIN_TOKEN) as (url, app):
        srv = _served(ex, app, url)
        yield srv
        _settle(srv)


@pytest.fixture(scope="module")
def moving():
    """The served synthetic market (about 45 prints a second around 30000), shared by
    the tests that only read it."""
    ex = make_venue()
    market = SyntheticFeed(ex, seed=11, now_ms=max(now_ms(), ex.now), history_minutes=60,
                           trades_per_day=4_000_000)
    with live(ex, market=market) as (url, app):
        srv = _served(ex, app, url, market=market)
        requests.get(url + "/fapi/v1/time", timeout=10)  # the first catch-up makes history
        yield srv
        _settle(srv)
        assert market.applied > 0


def _admin_mark(srv, price: str) -> None:
    r = requests.post(srv.url + "/fapisim/v1/markPrice", data={"symbol": SYMBOL, "price": price},
                      headers={"Authorization": "Bearer " + ADMIN_TOKEN}, timeout=10)
    assert r.status_code == 200, r.text


def _reading_user_data(srv, account: str) -> bool:
    """A connection reads ``account``'s listen key (the server's view)."""
    lk = srv.hub.keys.by_account.get(account)
    return lk is not None and bool(srv.hub.by_key.get(lk.key))


# -- the story's events, whichever library delivered them ------------------------------------
def _check_bracket_placed(events: list[dict], parent: dict) -> None:
    """ORDER_TRADE_UPDATE NEW for the parent, then ALGO_UPDATE NEW for its TP and SL,
    all at one event time."""
    tp, sl = parent["triggerOrders"]
    assert [e["e"] for e in events] == ["ORDER_TRADE_UPDATE", "ALGO_UPDATE", "ALGO_UPDATE"]
    o = events[0]["o"]
    assert (o["i"], o["c"], o["s"], o["S"], o["o"], o["x"], o["X"], o["p"], o["q"]) == (
        parent["orderId"], parent["clientOrderId"], SYMBOL, "BUY", "LIMIT", "NEW", "NEW",
        "29000", "0.01")
    assert o["T"] == events[0]["T"] == parent["updateTime"]
    rows = [e["o"] for e in events[1:]]
    assert [(r["aid"], r["caid"], r["o"], r["X"], r["tp"], r["S"], r["R"]) for r in rows] == [
        (tp["orderId"], tp["clientOrderId"], "TAKE_PROFIT_MARKET", "NEW", "31000", "SELL", True),
        (sl["orderId"], sl["clientOrderId"], "STOP_MARKET", "NEW", "28000", "SELL", True),
    ]
    assert {e["E"] for e in events} == {events[0]["E"]}


def _check_cascade(events: list[dict], parent: dict, cancelled: dict) -> None:
    """The parent's cancel and its two rows' cancels, at one event time."""
    tp, sl = parent["triggerOrders"]
    assert [e["e"] for e in events] == ["ORDER_TRADE_UPDATE", "ALGO_UPDATE", "ALGO_UPDATE"]
    o = events[0]["o"]
    assert (o["i"], o["x"], o["X"], o["z"]) == (parent["orderId"], "CANCELED", "CANCELED", "0")
    assert o["T"] == cancelled["updateTime"]
    assert [(e["o"]["aid"], e["o"]["X"]) for e in events[1:]] == [
        (tp["orderId"], "CANCELED"), (sl["orderId"], "CANCELED")]
    assert [r["status"] for r in cancelled["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert events[0]["E"] == events[1]["E"] == events[2]["E"]


def _check_fill(events: list[dict], order: dict, wallet: str) -> None:
    """alice's MARKET BUY against bob's resting 0.010 @ 30000: its NEW, the trade (lite
    and full) and the account update, at one event time; nothing of bob's."""
    assert order["status"] == "FILLED"
    kinds = [(e["e"], e.get("o", {}).get("x") if e["e"] == "ORDER_TRADE_UPDATE" else None)
             for e in events]
    assert sorted(kinds, key=str) == sorted([
        ("ORDER_TRADE_UPDATE", "NEW"), ("TRADE_LITE", None), ("ORDER_TRADE_UPDATE", "TRADE"),
        ("ACCOUNT_UPDATE", None)], key=str)
    assert kinds.index(("ORDER_TRADE_UPDATE", "NEW")) < kinds.index(("ORDER_TRADE_UPDATE",
                                                                      "TRADE"))
    by = {k: e for k, e in zip(kinds, events, strict=True)}
    new = by["ORDER_TRADE_UPDATE", "NEW"]["o"]
    assert (new["i"], new["c"], new["o"], new["S"], new["X"]) == (
        order["orderId"], order["clientOrderId"], "MARKET", "BUY", "NEW")
    trade = by["ORDER_TRADE_UPDATE", "TRADE"]["o"]
    assert (trade["i"], trade["X"], trade["l"], trade["z"], trade["L"], trade["ap"], trade["m"]) \
        == (order["orderId"], "FILLED", "0.01", "0.01", "30000", "30000", False)
    assert isinstance(trade["t"], int) and trade["t"] > 0
    assert Decimal(trade["n"]) > 0 and trade["N"] == "USDT"
    lite = by["TRADE_LITE", None]
    assert (lite["i"], lite["t"], lite["L"], lite["l"], lite["S"], lite["m"]) == (
        order["orderId"], trade["t"], "30000", "0.01", "BUY", False)
    acct = by["ACCOUNT_UPDATE", None]["a"]
    assert acct["m"] == "ORDER"
    assert [(b["a"], b["wb"]) for b in acct["B"]] == [("USDT", wallet)]
    assert Decimal(wallet) == Decimal("10000") - Decimal(trade["n"])
    assert [(p["s"], p["pa"], p["ep"], p["ps"]) for p in acct["P"]] == [
        (SYMBOL, "0.01", "30000", "BOTH")]
    assert {e["E"] for e in events} == {events[0]["E"]}


# -- python-binance -------------------------------------------------------------------------
def _pb_client(srv, key: str = ALICE_KEY, secret: str = ALICE_SECRET):
    """An AsyncClient on this server (built in the running loop, never ``create()``d)."""
    from binance import AsyncClient

    client = AsyncClient(key, secret)
    client.FUTURES_URL = srv.url + "/fapi"
    return client


def _pb_sockets(srv, client):
    from binance import BinanceSocketManager

    bm = BinanceSocketManager(client)
    bm.FSTREAM_URL = srv.ws + "/"
    return bm


async def _pb_take(sock, n: int) -> list[dict]:
    """The next ``n`` messages (each within :data:`WAIT`)."""
    got: list[dict] = []
    for _ in range(n):
        try:
            got.append(await asyncio.wait_for(sock.recv(), WAIT))
        except TimeoutError:
            raise AssertionError(f"{n} events expected, {len(got)} came: {got}") from None
    return got


async def _pb_quiet(sock, seconds: float = 0.3) -> None:
    """Nothing more arrives for a moment."""
    try:
        extra = await asyncio.wait_for(sock.recv(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"an event nobody caused: {extra}")


async def _pb_close_user_socket(client, sock, listen_key: str) -> None:
    """Close the socket as ``async with`` would, then close its listen key: the server
    closes the connection, which wakes the socket's read loop at once (it would wait
    for its 10 s read timeout otherwise)."""
    closing = asyncio.ensure_future(sock.__aexit__(None, None, None))
    await asyncio.sleep(0)  # the socket marks itself exiting
    assert await client.futures_stream_close(listenKey=listen_key) == {}
    await asyncio.wait_for(closing, WAIT)


def test_python_binance_aggtrade_and_kline_sockets_stream_the_moving_market(moving):
    async def story():
        client = _pb_client(moving)
        try:
            bm = _pb_sockets(moving, client)
            async with bm.aggtrade_futures_socket(SYMBOL) as sock:
                got = await _pb_take(sock, 5)
            assert {m["stream"] for m in got} == {"btcusdt@aggTrade"}
            trades = [m["data"] for m in got]
            assert {(t["e"], t["s"]) for t in trades} == {("aggTrade", SYMBOL)}
            ids = [t["a"] for t in trades]
            assert ids == list(range(ids[0], ids[0] + 5))
            assert all(t["E"] >= t["T"] for t in trades)
            rest = await client.futures_aggregate_trades(symbol=SYMBOL, fromId=ids[0], limit=5)
            assert [{k: t[k] for k in ("a", "p", "q", "f", "l", "T", "m")} for t in trades] \
                == rest

            async with bm.futures_multiplex_socket(["btcusdt@kline_1m"]) as sock:
                got = await _pb_take(sock, 2)
            assert {m["stream"] for m in got} == {"btcusdt@kline_1m"}
            for m in got:
                k = m["data"]["k"]
                assert (m["data"]["e"], m["data"]["s"], k["s"], k["i"]) == (
                    "kline", SYMBOL, SYMBOL, "1m")
                assert k["t"] % 60_000 == 0 and k["T"] == k["t"] + 59_999
                low, high = Decimal(k["l"]), Decimal(k["h"])
                assert low <= Decimal(k["o"]) <= high and low <= Decimal(k["c"]) <= high
                assert Decimal("25000") < low <= high < Decimal("35000")
            candle = (await client.futures_klines(symbol=SYMBOL, interval="1m", limit=1))[0]
            assert candle[0] in (k["t"], k["t"] + 60_000)  # the same minute, or the next
        finally:
            await client.close_connection()

    asyncio.run(story())


def test_python_binance_mark_price_socket_follows_the_venue_mark(still):
    async def story():
        client = _pb_client(still)
        try:
            bm = _pb_sockets(still, client)
            async with bm.symbol_mark_price_socket(SYMBOL) as sock:
                first = await asyncio.wait_for(sock.recv(), WAIT)
                assert first["stream"] == "btcusdt@markPrice@1s"
                d = first["data"]
                assert (d["e"], d["s"], d["p"], d["i"]) == ("markPriceUpdate", SYMBOL,
                                                            "30000", "30000")
                await asyncio.to_thread(_admin_mark, still, "30100")
                deadline = time.monotonic() + WAIT
                while d["p"] != "30100":
                    assert time.monotonic() < deadline, "the new mark never came"
                    d = (await asyncio.wait_for(sock.recv(), WAIT))["data"]
                assert (d["s"], d["ap"]) == (SYMBOL, "30100")
        finally:
            await client.close_connection()

    asyncio.run(story())


def test_python_binance_futures_user_socket_runs_the_story(still):
    async def story():
        alice, bob = _pb_client(still), _pb_client(still, BOB_KEY, BOB_SECRET)
        try:
            bm = _pb_sockets(still, alice)
            sock = bm.futures_user_socket()
            await sock.__aenter__()  # POST listenKey, then /private/ws?listenKey=…
            listen_key = await alice.futures_stream_get_listen_key()  # the same key again
            assert _reading_user_data(still, "alice")
            assert still.hub.keys.by_account["alice"].key == listen_key
            try:
                parent = await alice.futures_create_order(
                    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="29000", takeProfitPrice="31000",
                    stopLossPrice="28000")
                _check_bracket_placed(await _pb_take(sock, 3), parent)

                cancelled = await alice.futures_cancel_order(symbol=SYMBOL,
                                                             orderId=parent["orderId"])
                _check_cascade(await _pb_take(sock, 3), parent, cancelled)

                await bob.futures_create_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                               timeInForce="GTC", quantity="0.010",
                                               price="30000")
                order = await alice.futures_create_order(  # RESULT: the fill in the answer
                    symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010",
                    newOrderRespType="RESULT")
                events = await _pb_take(sock, 4)
                wallet = (await alice.futures_account_balance())[0]["balance"]
                _check_fill(events, order, wallet)
                await _pb_quiet(sock)

                kept = await alice.futures_stream_keepalive(listenKey=listen_key)  # form body
                assert kept == {"listenKey": listen_key}
            finally:
                await _pb_close_user_socket(alice, sock, listen_key)
            assert "alice" not in still.hub.keys.by_account
        finally:
            await alice.close_connection()
            await bob.close_connection()

    asyncio.run(story())


def test_python_binance_futures_depth_cache_equals_rest_depth(still):
    """FuturesDepthCacheManager reads @depth10 and replaces its book with each event: it
    holds the top ten levels of each side, as ``GET /fapi/v1/depth?limit=10`` does."""
    async def story():
        from binance.ws.depthcache import FuturesDepthCacheManager

        alice, bob = _pb_client(still), _pb_client(still, BOB_KEY, BOB_SECRET)

        def rest_book(depth: dict) -> tuple[list, list]:
            return ([[float(p), float(q)] for p, q in depth["bids"]],
                    [[float(p), float(q)] for p, q in depth["asks"]])

        try:
            bids = []
            for n in range(12):  # twelve levels below 30000, two orders on the best
                bids.append(await alice.futures_create_order(
                    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.004", price=str(29990 - 10 * n)))
            await alice.futures_create_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                             timeInForce="GTC", quantity="0.007",
                                             price="29990")
            for price in ("30010", "30020"):
                await bob.futures_create_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                               timeInForce="GTC", quantity="0.004",
                                               price=price)
            depth = await alice.futures_order_book(symbol=SYMBOL, limit=10)
            assert len(depth["bids"]) == 10 and depth["bids"][0] == ["29990", "0.011"]

            bm = _pb_sockets(still, alice)
            async with FuturesDepthCacheManager(alice, SYMBOL, bm=bm) as dcm:
                dc = await asyncio.wait_for(dcm.recv(), WAIT)
                assert (dc.get_bids(), dc.get_asks()) == rest_book(depth)
                assert isinstance(dc.update_time, int)

                # a new best ask, and the best bid level cancelled down to one order
                await bob.futures_create_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                               timeInForce="GTC", quantity="0.009",
                                               price="30005")
                await alice.futures_cancel_order(symbol=SYMBOL, orderId=bids[0]["orderId"])
                depth = await alice.futures_order_book(symbol=SYMBOL, limit=10)
                assert depth["asks"][0] == ["30005", "0.009"]
                assert depth["bids"][0] == ["29990", "0.007"]
                deadline = time.monotonic() + WAIT
                while (dc.get_bids(), dc.get_asks()) != rest_book(depth):
                    assert time.monotonic() < deadline, "the depth cache never caught up"
                    dc = await asyncio.wait_for(dcm.recv(), WAIT)
                assert len(dc.get_bids()) == 10  # @depth10: two levels beyond it unseen
        finally:
            await alice.close_connection()
            await bob.close_connection()

    asyncio.run(story())


def test_python_binance_threaded_manager_futures_user_socket(still, monkeypatch, caplog):
    """ThreadedWebsocketManager, pointed here by its class URLs, delivers the bracket and
    its cascade to a callback on its own thread."""
    from binance import AsyncClient, ThreadedWebsocketManager
    from binance.ws.streams import BinanceSocketManager

    monkeypatch.setattr(AsyncClient, "API_URL", still.url + "/api")
    monkeypatch.setattr(AsyncClient, "FUTURES_URL", still.url + "/fapi")
    monkeypatch.setattr(BinanceSocketManager, "FSTREAM_URL", still.ws + "/")
    alice = RawClient(still.url, ALICE_KEY, ALICE_SECRET)
    got: queue.Queue = queue.Queue()

    def take(n: int) -> list[dict]:
        return [got.get(timeout=WAIT) for _ in range(n)]

    # the sockets it makes in this thread take this thread's loop: make it the manager's
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    twm = ThreadedWebsocketManager(ALICE_KEY, ALICE_SECRET)
    twm.daemon = True  # a stuck library thread must not keep pytest from exiting
    try:
        twm.start()
        # the manager has no "ready" signal: its socket manager exists once its client
        # is made (start_futures_user_socket polls the same attribute), and its thread
        # ends if making the client failed
        deadline = time.monotonic() + WAIT
        while twm._bsm is None and twm.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        # it makes its client with AsyncClient.create() (binance/ws/threaded_stream.py:61),
        # which calls GET /api/v3/ping then GET /api/v3/time (binance/async_client.py:107)
        failed = [r.getMessage() for r in caplog.records if "create client" in r.getMessage()]
        assert twm._bsm is not None, f"the manager could not make its client: {failed}"
        path = twm.start_futures_user_socket(callback=got.put)
        deadline = time.monotonic() + WAIT
        while not _reading_user_data(still, "alice"):
            assert time.monotonic() < deadline, "the user socket never connected"
            time.sleep(0.01)

        parent = alice.ok("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": "29000", "takeProfitPrice": "31000",
            "stopLossPrice": "28000"})
        _check_bracket_placed(take(3), parent)
        cancelled = alice.ok("DELETE", "/fapi/v1/order", {"symbol": SYMBOL,
                                                          "orderId": parent["orderId"]})
        _check_cascade(take(3), parent, cancelled)

        # stop: the listener leaves at its next message (a leverage change sends one),
        # then closing the key closes the connection under the exiting socket
        twm.stop_socket(path)
        alice.ok("POST", "/fapi/v1/leverage", {"symbol": SYMBOL, "leverage": 10})
        assert take(1)[0]["e"] == "ACCOUNT_CONFIG_UPDATE"
        time.sleep(0.05)  # the listener, past its callback, marks the socket exiting
        r = alice.session.delete(still.url + "/fapi/v1/listenKey", headers=alice.headers(),
                                 timeout=10)
        assert (r.status_code, r.json()) == (200, {})
    finally:
        twm.stop()
        twm.join(WAIT)
        asyncio.set_event_loop(None)
        if not twm.is_alive():
            loop.close()
    assert not twm.is_alive(), "the manager's thread did not stop"


# -- binance-futures-connector -----------------------------------------------------------------
class _Connector:
    """A UMFuturesWebsocketClient whose messages (strings) land in a queue."""

    def __init__(self, srv) -> None:
        from binance.websocket.um_futures.websocket_client import UMFuturesWebsocketClient

        self.inbox: queue.Queue[str] = queue.Queue()
        self.closed = threading.Event()
        self.ws = UMFuturesWebsocketClient(
            stream_url=srv.ws, on_message=lambda _, text: self.inbox.put(text),
            on_close=lambda _: self.closed.set())

    def take(self, n: int = 1) -> list[dict]:
        """The next ``n`` messages (each within :data:`WAIT`)."""
        got: list[dict] = []
        for _ in range(n):
            try:
                got.append(json.loads(self.inbox.get(timeout=WAIT)))
            except queue.Empty:
                raise AssertionError(f"{n} messages expected, {len(got)} came: {got}") from None
        return got

    def until(self, pred, what: str) -> dict:
        """The first message ``pred`` accepts (others are skipped)."""
        deadline = time.monotonic() + WAIT
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {what} came"
            try:
                msg = json.loads(self.inbox.get(timeout=left))
            except queue.Empty:
                continue
            if pred(msg):
                return msg

    def reply(self, rid: int) -> dict:
        """The server's answer to the frame with id ``rid``."""
        return self.until(lambda m: "e" not in m and m.get("id") == rid, f"answer to id {rid}")

    def quiet(self, seconds: float = 0.3) -> None:
        try:
            extra = self.inbox.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"an event nobody caused: {extra}")

    def stop(self) -> None:
        """``stop()`` joins the reader thread without a timeout: bound it here."""
        stopper = threading.Thread(target=self.ws.stop, daemon=True)
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive() and not self.ws.socket_manager.is_alive(), (
            "the connector's socket did not stop")


def test_connector_market_streams_on_a_still_venue(still):
    from binance.um_futures import UMFutures

    alice = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=still.url)
    bob = UMFutures(key=BOB_KEY, secret=BOB_SECRET, base_url=still.url)
    conn = _Connector(still)
    try:
        conn.ws.mark_price(symbol="BTCUSDT", speed=1, id=1)
        conn.ws.book_ticker(symbol="BTCUSDT", id=2)
        conn.ws.list_subscribe(id=3)
        acks = [conn.reply(i) for i in (1, 2, 3)]
        assert acks == [{"result": None, "id": 1}, {"result": None, "id": 2},
                        {"result": ["btcusdt@markPrice@1s", "btcusdt@bookTicker"], "id": 3}]

        mark = conn.until(lambda m: m.get("e") == "markPriceUpdate", "markPriceUpdate")
        assert (mark["s"], mark["p"], mark["i"]) == (SYMBOL, "30000", "30000")
        assert "stream" not in mark  # /ws is raw

        bob.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.004", price="30010")
        alice.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity="0.005", price="29990")
        top = conn.until(lambda m: m.get("e") == "bookTicker" and m["b"] != "0", "bookTicker")
        assert (top["s"], top["b"], top["B"], top["a"], top["A"]) == (
            SYMBOL, "29990", "0.005", "30010", "0.004")
        assert top["u"] == alice.depth(symbol=SYMBOL, limit=5)["lastUpdateId"]

        conn.ws.mark_price(symbol="BTCUSDT", speed=1, id=4, action="UNSUBSCRIBE")
        conn.ws.list_subscribe(id=5)
        assert conn.reply(4) == {"result": None, "id": 4}
        assert conn.reply(5) == {"result": ["btcusdt@bookTicker"], "id": 5}
    finally:
        conn.stop()


def test_connector_agg_trade_and_kline_streams_on_the_moving_market(moving):
    from binance.um_futures import UMFutures

    rest = UMFutures(base_url=moving.url)
    conn = _Connector(moving)
    try:
        conn.ws.agg_trade(symbol="BTCUSDT")  # default ids: the time in ms
        conn.ws.kline(symbol="BTCUSDT", interval="1m")
        trades, candles = [], []
        deadline = time.monotonic() + WAIT
        while len(trades) < 5 or not candles:
            assert time.monotonic() < deadline, (trades, candles)
            msg = conn.take()[0]
            if msg.get("e") == "aggTrade":
                trades.append(msg)
            elif msg.get("e") == "kline":
                candles.append(msg)
            else:
                assert msg["result"] is None and isinstance(msg["id"], int), msg
        ids = [t["a"] for t in trades[:5]]
        assert ids == list(range(ids[0], ids[0] + 5))
        assert [{k: t[k] for k in ("a", "p", "q", "f", "l", "T", "m")} for t in trades[:5]] == \
            rest.agg_trades(SYMBOL, fromId=ids[0], limit=5)
        k = candles[0]["k"]
        assert (candles[0]["s"], k["i"], k["t"] % 60_000) == (SYMBOL, "1m", 0)
    finally:
        conn.stop()


def test_connector_user_data_runs_the_story(still):
    from binance.um_futures import UMFutures

    alice = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=still.url)
    bob = UMFutures(key=BOB_KEY, secret=BOB_SECRET, base_url=still.url)
    listen_key = alice.new_listen_key()["listenKey"]
    conn = _Connector(still)
    try:
        conn.ws.user_data(listen_key=listen_key, id=7)
        assert conn.take() == [{"result": None, "id": 7}]

        parent = alice.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.010", price="29000", takeProfitPrice="31000",
                                 stopLossPrice="28000")
        _check_bracket_placed(conn.take(3), parent)

        cancelled = alice.cancel_order(symbol=SYMBOL, orderId=parent["orderId"])
        _check_cascade(conn.take(3), parent, cancelled)

        bob.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.010", price="30000")
        order = alice.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010",
                                newOrderRespType="RESULT")  # the fill in the answer
        events = conn.take(4)
        _check_fill(events, order, alice.balance()[0]["balance"])
        conn.quiet()

        assert alice.renew_listen_key(listen_key) == {"listenKey": listen_key}  # ?listenKey=
        assert alice.close_listen_key(listen_key) == {}
        assert conn.closed.wait(WAIT), "closing the listen key did not close the connection"
    finally:
        conn.stop()


def test_mark_price_events_carry_the_time_they_are_sent_on_a_still_venue(still):
    """Two ``@markPrice@1s`` events a second apart carry event times a second apart,
    near the wall clock (the venue clock runs at speed 1)."""
    conn = _Connector(still)
    try:
        conn.ws.mark_price(symbol="BTCUSDT", speed=1, id=1)
        marks = [conn.until(lambda m: m.get("e") == "markPriceUpdate", "markPriceUpdate")
                 for _ in range(2)]
        wall = now_ms()
    finally:
        conn.stop()
    first, second = (m["E"] for m in marks)
    # no market ticks this venue's clock: the stream hub keeps it at wall time (speed 1)
    assert second - first >= 500 and abs(wall - second) < 5_000, (first, second, wall)
