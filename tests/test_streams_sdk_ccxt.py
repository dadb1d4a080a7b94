"""The official SDK's and ccxt pro's websocket clients against the real stream hub,
unchanged but for their URLs, on a still venue and on a moving synthetic market.

What is tested
--------------
* The official SDK (binance-sdk-derivatives-trading-usds-futures 18.x + binance-common):
  a mark price, a diff-depth and a bookTicker stream, each checked against the REST
  answer of the same fact (``premiumIndex``, ``depth`` rebuilt from the diffs by the
  ``U``/``u``/``pu`` chain, ``ticker/bookTicker``), and two accounts' user-data streams
  on one ``/private/stream`` connection through the story: a LIMIT parent with
  ``takeProfitPrice``/``stopLossPrice`` (ORDER_TRADE_UPDATE NEW, two ALGO_UPDATE NEW),
  its cancel (ORDER_TRADE_UPDATE CANCELED, two ALGO_UPDATE CANCELED, one shared ``E``),
  then a fill (ORDER_TRADE_UPDATE TRADE and ACCOUNT_UPDATE ``m`` ORDER for the taker and
  the maker).  Every event must reach its callback as the SDK's typed model (its strict
  pydantic parse succeeded), not as the raw dict it falls back to.
* ccxt pro 4.5.90 (``ccxt.pro.binanceusdm``): ``watch_order_book`` equal to
  ``GET /fapi/v1/depth`` after each placement and cancel (still venue) and at every
  shared ``lastUpdateId`` (moving market); ``watch_trades`` (aggTrade) equal to
  ``GET /fapi/v1/aggTrades`` row for row; ``watch_ohlcv`` consistent with
  ``GET /fapi/v1/klines``; ``watch_orders`` through the same story (it also surfaces
  the ALGO_UPDATE rows as orders: id = ``aid``, ``triggerPrice`` = ``tp``, open then
  canceled, with the parent's ``lastUpdateTimestamp``); ``watch_my_trades``,
  ``watch_positions`` and ``watch_balance`` after a fill, each equal to the REST answer.
* A stream connection must live longer than the HTTP read timeouts (10 s); see
  :func:`test_stream_connection_outlives_the_http_read_timeouts`.

What each library sends and parses (seen from the server: ``hub.conns`` holds each
connection's path, query and subscriptions, asserted below; P is the server's port)
-------------------------------------------------------------------------------------
Official SDK, ``ConfigurationWebSocketStreams(stream_url="ws://127.0.0.1:P")`` (no
trailing slash; the SDK appends ``/stream``):

* ``create_connection()`` opens three connections at once, with no query and no
  stream: ``ws://127.0.0.1:P/market/stream``, ``/public/stream``, ``/private/stream``.
* Each stream method waits 0.5 s, then sends one frame on its category's connection,
  with a UUID *string* id: ``{"method": "SUBSCRIBE", "params": ["btcusdt@markPrice@1s"],
  "id": "<uuid4>"}`` on /market; ``["btcusdt@depth@100ms"]`` and
  ``["btcusdt@bookTicker"]`` on /public; ``user_data(listenKey=LK)`` sends ``[LK]`` (the
  bare key) on /private.  It registers a future per id and drops it when
  ``{"result": null, "id": "<same string>"}`` comes back (asserted: none is left).
* It parses only ``{"stream": <exactly the subscribed name>, "data": {...}}``; market
  payloads through strict pydantic models (strings for prices and quantities, ints
  for ids and times, bools for flags), user events by ``e`` into OrderTradeUpdate,
  AlgoUpdate, AccountUpdate, TradeLite, ... (a failed parse is handed over as the raw
  dict with a warning).
* REST: ``POST /fapi/v1/listenKey`` (``rest_api.start_user_data_stream()``, header
  ``X-MBX-APIKEY`` only, empty body).

ccxt pro, ``urls['api']['ws']['linear'] = "ws://127.0.0.1:P/ws"`` (it must end exactly
in ``/ws``: ccxt rewrites it to ``/<category>/ws``) and the REST ``fapi*`` URLs:

* ``load_markets()``: ``GET /fapi/v1/exchangeInfo`` (``fetchCurrencies`` off, else a
  ``/sapi`` call first).
* ``watch_order_book``: ``ws://127.0.0.1:P/public/ws/<n>`` (n: ccxt's per-subscription
  connection counter, 0 for the first), frame ``{"method": "SUBSCRIBE", "params":
  ["btcusdt@depth@100ms"], "id": 1}`` (int ids counting per URL); only on the answer
  ``{"result": null, "id": 1}`` does it fetch ``GET /fapi/v1/depth?symbol=BTCUSDT&limit=1000``,
  then it applies each diff with ``U <= nonce`` or ``pu == nonce`` (else ChecksumError).
* ``watch_trades(..., params={"name": "aggTrade"})``: ``/market/ws/<n>``,
  ``["btcusdt@aggTrade"]``.  Its default name ``trade`` sends ``["btcusdt@trade"]`` on
  ``/public/ws/<n>``, which this server refuses (``{"code": 2, "msg": "Invalid request:
  invalid stream name 'btcusdt@trade'", "id": 1}``); ccxt looks for ``error`` or
  ``status`` in an answer, not a top-level ``code``, so that watch just waits.
  ``watch_ohlcv(..., "1m")``:
  ``/market/ws/<n>``, ``["btcusdt@kline_1m"]``.
* Private watches: ``POST /fapi/v1/listenKey`` (header only), then
  ``ws://127.0.0.1:P/private/ws?listenKey=<LK>`` with *no* frame; in the background
  ``GET /fapi/v1/leverageBracket`` and ``GET /fapi/v3/positionRisk`` (signed) for the
  positions snapshot; the first ``watch_positions`` call, made before the snapshot is
  in, awaits it and returns it (positions with contracts > 0), later calls wait for
  ACCOUNT_UPDATE.  It resolves only the watches registered when a message arrives
  (a watch awaits ``authenticate`` first), but its caches take every message.  It parses
  raw (unwrapped) ORDER_TRADE_UPDATE, ALGO_UPDATE and ACCOUNT_UPDATE (TRADE_LITE is
  ignored); balance ``total`` is ``B[].wb``, ``free``/``used`` stay None.
"""

from __future__ import annotations

import asyncio
import re
import time
from decimal import Decimal
from typing import Any

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

MARKET = "BTC/USDT:USDT"
#: the longest any single await may take (s)
STEP = 5.0


# -- venues ---------------------------------------------------------------------------------
@pytest.fixture
def still():
    """The venue with marks only: nothing moves unless a test trades."""
    ex = make_venue()
    with live(ex) as (url, app):
        yield ex, url, app
        with app.state.lock:
            ex.check_invariants()


@pytest.fixture
def moving():
    """The venue with the served synthetic market moving around the same mark."""
    ex = make_venue()
    market = SyntheticFeed(ex, seed=11, now_ms=max(now_ms(), ex.now), history_minutes=60,
                           trades_per_day=4_000_000)  # about 45 prints a second
    with live(ex, market=market) as (url, app):
        yield ex, url, app
        with app.state.lock:
            ex.check_invariants()
        assert market.applied > 0


# -- helpers ----------------------------------------------------------------------------------
def ws_base(url: str) -> str:
    return url.replace("http://", "ws://")


def served(app) -> list[dict[str, Any]]:
    """The server's view of its websocket connections: path, query, subscriptions."""
    hub = app.state.hub
    for _ in range(10):
        try:
            conns = list(hub.conns)
            break
        except RuntimeError:  # the set changed while being copied (another thread)
            time.sleep(0.01)
    out = [{"path": c.ws.url.path, "query": c.ws.url.query, "combined": c.combined,
            "streams": list(c.streams), "keys": list(c.keys)} for c in conns]
    return sorted(out, key=lambda c: (c["path"], c["query"]))


async def step(aw, timeout: float = STEP):
    """Every await of these tests is bounded."""
    return await asyncio.wait_for(aw, timeout)


async def rest(fn, *args, **kwargs):
    """A blocking REST call, off the event loop, bounded."""
    return await step(asyncio.to_thread(fn, *args, **kwargs))


async def until(pred, what: str, timeout: float = STEP) -> None:
    """Poll ``pred()`` (every 20 ms) until it is true; fail with ``what`` after ``timeout``."""
    async def poll():
        while not pred():
            await asyncio.sleep(0.02)
    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def get(url: str, path: str, **params) -> Any:
    r = requests.get(url + path, params=params, timeout=STEP)
    assert r.status_code == 200, r.text
    return r.json()


def listen_key(url: str, api_key: str) -> str:
    """A raw ``POST /fapi/v1/listenKey`` with the API key header only."""
    r = requests.post(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": api_key},
                      timeout=STEP)
    assert r.status_code == 200, r.text
    return r.json()["listenKey"]


def levels(rows) -> list[list[float]]:
    """REST/stream ``[["price", "qty"], ...]`` as ccxt keeps a book side."""
    return [[float(p), float(q)] for p, q in rows]


def limit(side: str, qty: str, price: str, **extra) -> dict[str, str]:
    return {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC",
            "quantity": qty, "price": price, **extra}


def ccxt_pro(url: str, key: str, secret: str):
    """ccxt pro's ``binanceusdm`` built as ``rest_support.ccxt_usdm`` builds the REST one
    (every /fapi URL at ``url``, its currency download off), its linear websocket base at
    ``ws://…/ws``; every other URL it holds is pointed at the loopback server too, so
    nothing can leave 127.0.0.1."""
    import ccxt.pro

    bot = ccxt.pro.binanceusdm({"apiKey": key, "secret": secret,
                                "options": {"fetchCurrencies": False}})
    api = bot.urls["api"]

    def loopback(d: dict) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                loopback(v)
            elif isinstance(v, str):
                d[k] = re.sub(r"^(https?|wss?)://[^/]+",
                              url if v.startswith("http") else ws_base(url), v)

    loopback(api)
    for name in ("fapiPublic", "fapiPrivate"):
        api[name] = url + "/fapi/v1"
    for v in ("V2", "V3"):
        api["fapiPublic" + v] = api["fapiPrivate" + v] = f"{url}/fapi/{v.lower()}"
    api["ws"]["linear"] = ws_base(url) + "/ws"
    return bot


# -- the official SDK ---------------------------------------------------------------------------
def test_sdk_streams_market_and_user_data_story(still):
    from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketStreams
    from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
        DerivativesTradingUsdsFutures,
    )
    from binance_sdk_derivatives_trading_usds_futures.websocket_streams.models import (
        AccountUpdate,
        AlgoUpdate,
        DiffBookDepthStreamsResponse,
        IndividualSymbolBookTickerStreamsResponse,
        MarkPriceStreamResponse,
        OrderTradeUpdate,
        TradeLite,
    )

    ex, url, app = still
    names = {OrderTradeUpdate: "ORDER_TRADE_UPDATE", AlgoUpdate: "ALGO_UPDATE",
             AccountUpdate: "ACCOUNT_UPDATE", TradeLite: "TRADE_LITE"}
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
    bob = RawClient(url, BOB_KEY, BOB_SECRET)

    async def story() -> None:
        sdk = DerivativesTradingUsdsFutures(
            config_rest_api=ConfigurationRestAPI(api_key=ALICE_KEY, api_secret=ALICE_SECRET,
                                                 base_path=url),
            config_ws_streams=ConfigurationWebSocketStreams(stream_url=ws_base(url)))
        alice_lk = (await rest(sdk.rest_api.start_user_data_stream)).data().listen_key
        bob_lk = await rest(listen_key, url, BOB_KEY)
        assert alice_lk != bob_lk and len(alice_lk) == 64

        conn = await step(sdk.websocket_streams.create_connection())
        errors: list[Any] = []
        conn.on_connection("error", errors.append)
        got: dict[str, list[Any]] = {k: [] for k in ("mark", "depth", "ticker", "alice", "bob")}
        try:
            for key, sub in (
                ("mark", conn.mark_price_stream(symbol=SYMBOL, update_speed="1s")),
                ("depth", conn.diff_book_depth_streams(symbol=SYMBOL, update_speed="100ms")),
                ("ticker", conn.individual_symbol_book_ticker_streams(symbol=SYMBOL)),
                ("alice", conn.user_data(listenKey=alice_lk)),
                ("bob", conn.user_data(listenKey=bob_lk)),
            ):
                (await step(sub)).on("message", got[key].append)

            # every SUBSCRIBE (string id) was answered with its own id
            await until(lambda: all(not c.pending_request for c in conn.connections),
                        "the answers to the SDK's SUBSCRIBE frames")
            # what the SDK opened and sent, as the server saw it
            view = served(app)
            assert [(c["path"], c["query"], c["combined"]) for c in view] == [
                ("/market/stream", "", True), ("/private/stream", "", True),
                ("/public/stream", "", True)]
            assert [(c["streams"], c["keys"]) for c in view] == [
                (["btcusdt@markPrice@1s"], []), ([], [alice_lk, bob_lk]),
                (["btcusdt@depth@100ms", "btcusdt@bookTicker"], [])]

            # mark price: typed, equal to GET /fapi/v1/premiumIndex
            await until(lambda: got["mark"], "a markPriceUpdate")
            mark = got["mark"][-1]
            assert isinstance(mark, MarkPriceStreamResponse)
            index = await rest(get, url, "/fapi/v1/premiumIndex", symbol=SYMBOL)
            assert (mark.s, mark.p, mark.i, mark.P, mark.r, mark.T) == (
                SYMBOL, index["markPrice"], index["indexPrice"],
                index["estimatedSettlePrice"], index["lastFundingRate"],
                index["nextFundingTime"])

            snapshot = await rest(get, url, "/fapi/v1/depth", symbol=SYMBOL)

            def user(who: str) -> list[tuple[str, dict]]:
                out = []
                for m in got[who]:
                    inst = m.actual_instance
                    assert type(inst) in names, f"not parsed by the SDK: {inst!r}"
                    out.append((names[type(inst)], inst.to_dict()))
                return out

            # 1. the parent with TP and SL: ORDER_TRADE_UPDATE NEW + two ALGO_UPDATE NEW
            parent = await rest(alice.ok, "POST", "/fapi/v1/order", limit(
                "BUY", "0.010", "29000", takeProfitPrice="31000", stopLossPrice="28000"))
            pid = parent["orderId"]
            tp_id, sl_id = [r["orderId"] for r in parent["triggerOrders"]]
            await until(lambda: len(got["alice"]) >= 3, "the parent's three events")
            placed = user("alice")
            assert [(e, d["o"].get("x"), d["o"]["X"]) for e, d in placed] == [
                ("ORDER_TRADE_UPDATE", "NEW", "NEW"), ("ALGO_UPDATE", None, "NEW"),
                ("ALGO_UPDATE", None, "NEW")]
            assert placed[0][1]["o"]["i"] == pid
            assert [(d["o"]["aid"], d["o"]["o"], d["o"]["tp"], d["o"]["ai"])
                    for _, d in placed[1:]] == [
                (tp_id, "TAKE_PROFIT_MARKET", "31000", ""), (sl_id, "STOP_MARKET", "28000", "")]
            assert len({d["E"] for _, d in placed}) == 1

            # 2. cancel the parent: the cascade, one event time
            await rest(alice.ok, "DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": pid})
            await until(lambda: len(got["alice"]) >= 6, "the cancel cascade")
            cascade = user("alice")[3:]
            assert [(e, d["o"].get("x"), d["o"]["X"]) for e, d in cascade] == [
                ("ORDER_TRADE_UPDATE", "CANCELED", "CANCELED"),
                ("ALGO_UPDATE", None, "CANCELED"), ("ALGO_UPDATE", None, "CANCELED")]
            assert [cascade[0][1]["o"]["i"], cascade[1][1]["o"]["aid"],
                    cascade[2][1]["o"]["aid"]] == [pid, tp_id, sl_id]
            assert len({d["E"] for _, d in cascade}) == 1
            assert cascade[0][1]["E"] == cascade[0][1]["T"]

            # 3. a fill: bob rests two asks, alice takes the first with a MARKET BUY
            ask = await rest(bob.ok, "POST", "/fapi/v1/order", limit("SELL", "0.010", "30000"))
            await rest(bob.ok, "POST", "/fapi/v1/order", limit("SELL", "0.005", "30100"))
            take = await rest(alice.ok, "POST", "/fapi/v1/order", {
                "symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.010",
                "newOrderRespType": "RESULT"})
            assert take["status"] == "FILLED"
            await until(lambda: any(e == "ACCOUNT_UPDATE" for e, _ in user("alice")) and
                        any(e == "ACCOUNT_UPDATE" for e, _ in user("bob")),
                        "both accounts' ACCOUNT_UPDATE")
            filled = user("alice")[6:]
            assert [(e, d["o"].get("x") if e == "ORDER_TRADE_UPDATE" else None)
                    for e, d in filled] == [
                ("ORDER_TRADE_UPDATE", "NEW"), ("TRADE_LITE", None),
                ("ORDER_TRADE_UPDATE", "TRADE"), ("ACCOUNT_UPDATE", None)]
            trade = [d["o"] for e, d in filled
                     if e == "ORDER_TRADE_UPDATE" and d["o"]["x"] == "TRADE"]
            assert [(o["i"], o["X"], o["l"], o["L"], o["z"], o["m"], o["n"]) for o in trade] == [
                (take["orderId"], "FILLED", "0.01", "30000", "0.01", False, "0.15")]
            [(kind, acct)] = [(e, d) for e, d in filled if e == "ACCOUNT_UPDATE"]
            balance = (await rest(alice.ok, "GET", "/fapi/v2/balance"))[0]["balance"]
            assert acct["a"]["m"] == "ORDER"
            assert [(b["a"], b["wb"]) for b in acct["a"]["B"]] == [("USDT", balance)]
            assert [(p["s"], p["pa"], p["ep"], p["ps"]) for p in acct["a"]["P"]] == [
                (SYMBOL, "0.01", "30000", "BOTH")]
            maker = [d["o"] for e, d in user("bob")
                     if e == "ORDER_TRADE_UPDATE" and d["o"]["x"] == "TRADE"]
            assert [(o["i"], o["X"], o["L"], o["m"], o["t"]) for o in maker] == [
                (ask["orderId"], "FILLED", "30000", True, trade[0]["t"])]

            # the diff-depth stream rebuilds GET /fapi/v1/depth (the U/u/pu chain)
            final = await rest(get, url, "/fapi/v1/depth", symbol=SYMBOL)
            assert final["asks"] == [["30100", "0.005"]] and final["bids"] == []
            await until(lambda: got["depth"] and got["depth"][-1].u == final["lastUpdateId"],
                        "the depth diff reaching REST's lastUpdateId")
            book = {"b": dict(snapshot["bids"]), "a": dict(snapshot["asks"])}
            last = snapshot["lastUpdateId"]
            for i, d in enumerate(got["depth"]):
                assert isinstance(d, DiffBookDepthStreamsResponse)
                if i == 0:
                    assert d.U <= last + 1 <= d.u
                else:
                    assert d.pu == last
                last = d.u
                for side in ("b", "a"):
                    for p, q in getattr(d, side):
                        if Decimal(q) == 0:
                            book[side].pop(p, None)
                        else:
                            book[side][p] = q
            assert sorted(book["a"].items()) == [tuple(r) for r in final["asks"]]
            assert sorted(book["b"].items()) == [tuple(r) for r in final["bids"]]

            # bookTicker: its last event is GET /fapi/v1/ticker/bookTicker
            rest_ticker = await rest(get, url, "/fapi/v1/ticker/bookTicker", symbol=SYMBOL)
            await until(lambda: got["ticker"] and got["ticker"][-1].u ==
                        rest_ticker["lastUpdateId"], "the bookTicker of the last change")
            t = got["ticker"][-1]
            assert isinstance(t, IndividualSymbolBookTickerStreamsResponse)
            assert (t.s, t.b, t.B, t.a, t.A) == (
                SYMBOL, rest_ticker["bidPrice"], rest_ticker["bidQty"],
                rest_ticker["askPrice"], rest_ticker["askQty"])
            assert errors == []
        finally:
            await step(conn.close_connection(close_session=True))

    asyncio.run(asyncio.wait_for(story(), 30))


# -- ccxt pro -----------------------------------------------------------------------------------
def test_ccxt_watch_order_book_matches_rest_depth(still):
    ex, url, app = still
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
    bob = RawClient(url, BOB_KEY, BOB_SECRET)

    async def story() -> None:
        bot = ccxt_pro(url, ALICE_KEY, ALICE_SECRET)
        try:
            await step(bot.load_markets())

            async def same_as_rest() -> dict:
                depth = await rest(get, url, "/fapi/v1/depth", symbol=SYMBOL, limit=1000)
                book = await step(bot.watch_order_book(MARKET))
                while book["nonce"] < depth["lastUpdateId"]:
                    book = await step(bot.watch_order_book(MARKET))
                assert book["nonce"] == depth["lastUpdateId"]
                assert (book["bids"], book["asks"]) == (levels(depth["bids"]),
                                                        levels(depth["asks"]))
                return depth

            first = await step(bot.watch_order_book(MARKET))  # the snapshot after the ack
            assert (first["nonce"], first["bids"], first["asks"]) == (0, [], [])
            assert served(app) == [{"path": "/public/ws/0", "query": "", "combined": False,
                                    "streams": ["btcusdt@depth@100ms"], "keys": []}]

            ids = []
            for who, order in ((alice, limit("BUY", "0.010", "29000")),
                               (bob, limit("SELL", "0.020", "31000")),
                               (alice, limit("BUY", "0.005", "29000"))):
                ids.append((who, (await rest(who.ok, "POST", "/fapi/v1/order", order))["orderId"]))
                await same_as_rest()
            # several changes within one diff (U < u): three asks, then two of them
            # cancelled in one batch
            asks = [(await rest(bob.ok, "POST", "/fapi/v1/order", limit("SELL", q, p)))["orderId"]
                    for q, p in (("0.004", "30500"), ("0.005", "30600"), ("0.006", "30700"))]
            before = await same_as_rest()
            assert before["asks"] == [["30500", "0.004"], ["30600", "0.005"],
                                      ["30700", "0.006"], ["31000", "0.02"]]
            assert before["bids"] == [["29000", "0.015"]]
            out = await rest(bob.ok, "DELETE", "/fapi/v1/batchOrders", {
                "symbol": SYMBOL, "orderIdList": f"[{asks[0]},{asks[2]}]"})
            assert [o["status"] for o in out] == ["CANCELED", "CANCELED"]
            who, oid = ids[0]
            await rest(who.ok, "DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": oid})
            depth = await same_as_rest()
            assert depth["lastUpdateId"] == before["lastUpdateId"] + 3
            assert depth["bids"] == [["29000", "0.005"]]
            assert depth["asks"] == [["30600", "0.005"], ["31000", "0.02"]]
        finally:
            await step(bot.close())

    asyncio.run(asyncio.wait_for(story(), 30))


def test_ccxt_watch_order_book_on_a_moving_market(moving):
    """The tape's ladder churns the book: the chain must hold (no ChecksumError), and at
    every ``lastUpdateId`` REST and the stream share, the books are the same."""
    ex, url, app = moving

    async def story() -> None:
        bot = ccxt_pro(url, ALICE_KEY, ALICE_SECRET)
        books: dict[int, tuple[list, list]] = {}
        try:
            await step(bot.load_markets())

            async def watch() -> None:
                while True:
                    ob = await step(bot.watch_order_book(MARKET))
                    books[ob["nonce"]] = ([list(r) for r in ob["bids"]],
                                          [list(r) for r in ob["asks"]])

            watcher = asyncio.ensure_future(watch())
            # the ladder moves only when a print leaves its basis-point cell, which a calm
            # stretch of the random walk may not do for seconds: sample until it has moved
            # three times (or 15 s), not for a fixed time
            snaps: list[dict] = []
            deadline = time.monotonic() + 15
            while len(snaps) < 25 or (len({s["lastUpdateId"] for s in snaps}) < 4
                                      and time.monotonic() < deadline):
                snaps.append(await rest(get, url, "/fapi/v1/depth", symbol=SYMBOL, limit=1000))
                await asyncio.sleep(0.1)
            last = snaps[-1]["lastUpdateId"]
            await until(lambda: watcher.done() or max(books, default=0) >= last,
                        "the stream to reach the last snapshot")
            assert not watcher.done(), watcher.exception()  # e.g. a ChecksumError
            watcher.cancel()
            shared = [s for s in snaps if s["lastUpdateId"] in books]
            assert len({s["lastUpdateId"] for s in snaps}) > 1  # the book did move
            assert len(shared) >= 3, (sorted(books), [s["lastUpdateId"] for s in snaps])
            for s in shared:
                assert books[s["lastUpdateId"]] == (levels(s["bids"]), levels(s["asks"]))
            assert all(b[0][0] < a[0][0] for b, a in books.values() if b and a)
        finally:
            await step(bot.close())

    asyncio.run(asyncio.wait_for(story(), 45))


def test_ccxt_watch_trades_and_ohlcv(moving):
    ex, url, app = moving

    async def story() -> None:
        bot = ccxt_pro(url, ALICE_KEY, ALICE_SECRET)
        try:
            await step(bot.load_markets())
            seen: list[dict] = []
            while len(seen) < 20:
                seen += await step(bot.watch_trades(MARKET, params={"name": "aggTrade"}))
            first = int(seen[0]["id"])
            assert [int(t["id"]) for t in seen] == list(range(first, first + len(seen)))
            rows = await rest(get, url, "/fapi/v1/aggTrades", symbol=SYMBOL, fromId=first,
                              limit=len(seen))
            assert [(str(r["a"]), float(r["p"]), float(r["q"]), r["T"],
                     "sell" if r["m"] else "buy") for r in rows] == [
                (t["id"], t["price"], t["amount"], t["timestamp"], t["side"]) for t in seen]
            assert {t["symbol"] for t in seen} == {MARKET}

            candles = await step(bot.watch_ohlcv(MARKET, "1m"))
            t0, o, h, lo, c, v = candles[-1]
            [row] = await rest(get, url, "/fapi/v1/klines", symbol=SYMBOL, interval="1m",
                               startTime=t0, limit=1)
            # the REST row is read later: the same candle, maybe with more prints
            assert row[0] == t0 and float(row[1]) == o
            assert float(row[2]) >= h and float(row[3]) <= lo and float(row[5]) >= v > 0
            assert lo <= c <= h

            view = served(app)
            assert [(c["path"], c["streams"], c["combined"]) for c in view] == [
                ("/market/ws/0", ["btcusdt@aggTrade"], False),
                ("/market/ws/1", ["btcusdt@kline_1m"], False)]
        finally:
            await step(bot.close())

    asyncio.run(asyncio.wait_for(story(), 30))


def test_ccxt_private_watches_story(still):
    """Each watch is started before the action it waits for: ccxt resolves only the
    futures registered when a message arrives (``watch_orders`` awaits ``authenticate``
    before registering, so a watch called after a burst has begun can miss its end);
    its order cache takes every message all the same, and is what the story reads."""
    ex, url, app = still
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
    bob = RawClient(url, BOB_KEY, BOB_SECRET)

    async def story() -> None:
        bot = ccxt_pro(url, ALICE_KEY, ALICE_SECRET)

        def cached() -> dict[str, dict]:
            return {o["id"]: o for o in (bot.orders or [])}

        def watch_orders() -> asyncio.Future:
            return asyncio.ensure_future(bot.watch_orders(MARKET))

        try:
            await step(bot.load_markets())
            # the first private watch opens the user-data connection; watch_positions'
            # first call answers with the REST snapshot it fetches (no position yet)
            # v3 lists no flat side: no row yet
            assert await rest(alice.ok, "GET", "/fapi/v3/positionRisk", {"symbol": SYMBOL}) == []
            assert await step(bot.watch_positions([MARKET])) == []
            first = watch_orders()
            await until(lambda: first.done() or
                        any(c["path"] == "/private/ws" for c in served(app)),
                        "ccxt's user-data connection")
            assert not first.done(), first.exception()
            [private] = [c for c in served(app) if c["path"] == "/private/ws"]
            lk = private["query"].removeprefix("listenKey=")
            assert private == {"path": "/private/ws", "query": f"listenKey={lk}",
                               "combined": False, "streams": [], "keys": [lk]}
            assert lk == await rest(listen_key, url, ALICE_KEY)  # the account's one key

            # 1. NEW: the parent and, as orders of their own, its two ALGO_UPDATE rows
            parent = await rest(alice.ok, "POST", "/fapi/v1/order", limit(
                "BUY", "0.010", "29000", takeProfitPrice="31000", stopLossPrice="28000"))
            pid = str(parent["orderId"])
            tp_id, sl_id = [str(r["orderId"]) for r in parent["triggerOrders"]]
            got = await step(first)
            assert [(o["id"], o["status"], o["type"]) for o in got][:1] == [(pid, "open", "limit")]
            await until(lambda: {pid, tp_id, sl_id} <= set(cached()), "the TP/SL rows")
            rows = cached()
            assert [(rows[i]["status"], rows[i]["side"], rows[i]["triggerPrice"],
                     rows[i]["takeProfitPrice"], rows[i]["info"]["o"], rows[i]["reduceOnly"])
                    for i in (tp_id, sl_id)] == [
                ("open", "sell", 31000.0, 31000.0, "TAKE_PROFIT_MARKET", True),
                ("open", "sell", 28000.0, None, "STOP_MARKET", True)]
            assert (rows[pid]["status"], rows[pid]["price"], rows[pid]["amount"],
                    rows[pid]["side"]) == ("open", 29000.0, 0.01, "buy")

            # 2. cancel the parent: it and both rows canceled, at one update time
            cancel = watch_orders()
            await asyncio.sleep(0.05)  # registered (the listen key is cached: no REST)
            await rest(alice.ok, "DELETE", "/fapi/v1/order",
                       {"symbol": SYMBOL, "orderId": parent["orderId"]})
            got = await step(cancel)
            assert [(o["id"], o["status"]) for o in got][-1:] == [(pid, "canceled")]
            await until(lambda: all(cached()[i]["status"] == "canceled"
                                    for i in (pid, tp_id, sl_id)), "the cascade canceled")
            rows = cached()
            assert len({rows[i]["lastUpdateTimestamp"] for i in (pid, tp_id, sl_id)}) == 1
            assert rows[pid]["info"]["x"] == "CANCELED"

            # 3. a fill: bob rests an ask, alice takes it
            ask = await rest(bob.ok, "POST", "/fapi/v1/order", limit("SELL", "0.010", "30000"))
            my_trades = asyncio.ensure_future(bot.watch_my_trades(MARKET))
            positions = asyncio.ensure_future(bot.watch_positions([MARKET]))
            balance = asyncio.ensure_future(bot.watch_balance())
            await asyncio.sleep(0.3)  # the watches are registered (positions: snapshot in)
            assert not any(f.done() for f in (my_trades, positions, balance))
            take = await rest(alice.ok, "POST", "/fapi/v1/order", {
                "symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.010"})

            [fill] = await rest(alice.ok, "GET", "/fapi/v1/userTrades", {"symbol": SYMBOL})
            [trade] = await step(my_trades)
            assert (trade["id"], trade["order"], trade["side"], trade["price"], trade["amount"],
                    trade["takerOrMaker"], trade["fee"]["cost"], trade["timestamp"]) == (
                str(fill["id"]), str(take["orderId"]), "buy", float(fill["price"]),
                float(fill["qty"]), "taker", float(fill["commission"]), fill["time"])
            assert fill["orderId"] == take["orderId"] and ask["orderId"] != take["orderId"]

            [risk] = await rest(alice.ok, "GET", "/fapi/v3/positionRisk", {"symbol": SYMBOL})
            [pos] = await step(positions)
            assert (pos["symbol"], pos["side"], pos["contracts"], pos["entryPrice"],
                    pos["marginMode"], pos["hedged"]) == (
                MARKET, "long", float(risk["positionAmt"]), float(risk["entryPrice"]),
                "cross", False)

            wallet = (await rest(alice.ok, "GET", "/fapi/v2/balance"))[0]["balance"]
            bal = await step(balance)
            assert bal["USDT"]["total"] == float(wallet) == 10000 - 0.15
            assert bal["info"]["a"]["m"] == "ORDER"

            tid = str(take["orderId"])
            await until(lambda: tid in cached() and cached()[tid]["status"] == "closed",
                        "the taker's order closed")
            done = cached()[tid]
            assert (done["filled"], done["average"], done["type"]) == (0.01, 30000.0, "market")
        finally:
            await step(bot.close())

    asyncio.run(asyncio.wait_for(story(), 30))


def test_stream_connection_outlives_the_http_read_timeouts(still):
    """Binance keeps a stream open for 24 hours; the server pings every 3 minutes.  A
    connection that merely waits (a still book, nothing to send) must not be cut at
    the REST transport's 10-second header/body read timeout."""
    ex, url, app = still
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)

    async def story() -> None:
        bot = ccxt_pro(url, ALICE_KEY, ALICE_SECRET)
        try:
            await step(bot.load_markets())
            await step(bot.watch_order_book(MARKET))
            opened = time.monotonic()
            pending = asyncio.ensure_future(bot.watch_order_book(MARKET))
            await asyncio.sleep(11.5)
            # (before the fix of transport.py's _Guarded, the 'body' read timer armed
            # after the upgrade aborted every websocket here, 10 s after its handshake)
            assert not pending.done(), (
                f"the stream was dropped after {time.monotonic() - opened:.1f} s: "
                f"{pending.exception()!r}")
            assert served(app)[0]["path"] == "/public/ws/0"
            await rest(alice.ok, "POST", "/fapi/v1/order", limit("BUY", "0.010", "29000"))
            book = await step(pending)
            assert book["bids"] == [[29000.0, 0.01]]
        finally:
            await step(bot.close())

    asyncio.run(asyncio.wait_for(story(), 30))
