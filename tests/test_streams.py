"""The websocket side of ``fapisim serve``, driven over real sockets on loopback.

Routes and frames as Binance serves them (engine.server.hub, engine.server.frames):
every path form, live subscriptions and each of Binance's error frames (a bad frame
changes no subscription), the 1024-stream and 10-frames-a-second limits; the
user-data stream (listenKey lifecycle, the cascade of a parent cancel in one event
time, nothing for a refused command, listenKeyExpired in lockstep); depth diffs
that rebuild ``/fapi/v1/depth`` by Binance's local-order-book procedure; a
subscriber that stops reading is closed without holding up anyone else.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from decimal import Decimal

import pytest
import requests
import websockets
from rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    live,
    make_venue,
)

from engine.server import create_app, running
from engine.server import hub as hub_module
from engine.server.clock import VenueClock

PARENT = dict(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
              price="29000", takeProfitPrice="31000", stopLossPrice="28000")


def ws_base(url: str) -> str:
    return url.replace("http://", "ws://")


def listen_key(url: str, key: str = ALICE_KEY) -> str:
    r = requests.post(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["listenKey"]


async def recv_json(ws, timeout: float = 3.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def ask(ws, method: str, params=None, rid=1):
    frame = {"method": method, "id": rid}
    if params is not None:
        frame["params"] = params
    await ws.send(json.dumps(frame))
    while True:  # stream payloads may come first
        msg = await recv_json(ws)
        if isinstance(msg, dict) and ("result" in msg or "code" in msg):
            return msg


async def quiet(ws, seconds: float = 0.4) -> list:
    """Whatever arrives within ``seconds``."""
    got = []
    try:
        while True:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
    except TimeoutError:
        return got


@pytest.fixture
def served():
    ex = make_venue()
    with live(ex) as (url, app):
        yield ex, url, app


# -- routes ------------------------------------------------------------------------------
@pytest.mark.parametrize("path, combined", [
    ("/ws/btcusdt@bookTicker", False), ("/public/ws/btcusdt@bookTicker", False),
    ("/stream?streams=btcusdt@bookTicker", True),
    ("/public/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker", True),
])
def test_every_route_form_carries_its_streams(served, path, combined):
    ex, url, _app = served
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)

    async def main():
        async with websockets.connect(ws_base(url) + path) as ws:
            await asyncio.sleep(0.2)
            await asyncio.to_thread(alice.ok, "POST", "/fapi/v1/order", dict(
                symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                price="29500"))
            msg = await recv_json(ws)
            data = msg["data"] if combined else msg
            if combined:
                assert msg["stream"] == "btcusdt@bookTicker"
            assert (data["e"], data["s"], data["b"], data["B"]) == (
                "bookTicker", SYMBOL, "29500", "0.01")
            assert data["u"] == ex._markets[SYMBOL].book.update_id

    asyncio.run(main())


@pytest.mark.parametrize("path", ["/wss/btcusdt@depth", "/ws/btcusdt@nonsense",
                                  "/market/ws/btcusdt@depth", "/public/ws/btcusdt@aggTrade",
                                  "/ws/xyzusdt@depth", "/public/stream/extra?streams=a"])
def test_a_route_or_stream_that_is_not_served_refuses_the_handshake(served, path):
    _ex, url, _app = served

    async def main():
        with pytest.raises(websockets.exceptions.InvalidStatus) as e:
            async with websockets.connect(ws_base(url) + path):
                pass
        assert e.value.response.status_code == 403

    asyncio.run(main())


def test_numeric_suffix_connections_subscribe_by_frames_and_list_them(served):
    _ex, url, app = served

    async def main():
        async with websockets.connect(ws_base(url) + "/public/ws/7") as ws:
            assert await ask(ws, "LIST_SUBSCRIPTIONS") == {"result": [], "id": 1}
            assert await ask(ws, "SUBSCRIBE", ["btcusdt@depth@100ms", "btcusdt@depth5"], 2) \
                == {"result": None, "id": 2}
            assert await ask(ws, "LIST_SUBSCRIPTIONS", rid=3) == {
                "result": ["btcusdt@depth@100ms", "btcusdt@depth5"], "id": 3}
            assert await ask(ws, "UNSUBSCRIBE", ["btcusdt@depth5"], 4) == {"result": None,
                                                                           "id": 4}
            assert (await ask(ws, "LIST_SUBSCRIPTIONS", rid=5))["result"] == [
                "btcusdt@depth@100ms"]
            app.state.hub._check()

    asyncio.run(main())


# -- frames -----------------------------------------------------------------------------
BAD_FRAMES = [
    ("{bad", 3, "Invalid JSON: "),
    ('{"method": "SUBSCRIBE", "params": ["btcusdt@depth"], "id": -1}', 2,
     "Invalid request: request ID must be an unsigned integer"),
    ('{"method": "SUBSCRIBE", "params": ["btcusdt@depth"]}', 2,
     "Invalid request: request ID must be an unsigned integer"),
    ('{"params": [], "id": 4}', 2, "Invalid request: missing field `method`"),
    ('{"method": "SUBSCRIBEX", "params": [], "id": 4}', 2,
     "Invalid request: unknown variant `SUBSCRIBEX`"),
    ('{"method": "SET_PROPERTY", "params": ["colour", true], "id": 4}', 0, "Unknown property"),
    ('{"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 4}', 1,
     "Invalid value type: expected Boolean"),
    ('{"method": "SET_PROPERTY", "params": [7, true], "id": 4}', 2,
     "Invalid request: property name must be a string"),
    ('{"method": "GET_PROPERTY", "params": ["combined", 1], "id": 4}', 2,
     "Invalid request: too many parameters"),
    ('{"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 4}', 2,
     "Invalid request: stream 'btcusdt@aggTrade' is served on /market/"),
    ('{"method": "SUBSCRIBE", "params": ["btcusdt@depth", "btcusdt@bogus"], "id": 4}', 2,
     "Invalid request: invalid stream name 'btcusdt@bogus'"),
    ('[1, 2]', 2, "Invalid request: expected an object"),
]


@pytest.mark.parametrize("text, code, msg", BAD_FRAMES, ids=[b[2][:30] for b in BAD_FRAMES])
def test_a_bad_frame_gets_binances_error_frame_and_changes_nothing(served, text, code, msg):
    _ex, url, app = served

    async def main():
        async with websockets.connect(ws_base(url) + "/public/ws/btcusdt@bookTicker") as ws:
            await ws.send(text)
            err = await recv_json(ws)
            assert err["code"] == code and err["msg"].startswith(msg), err
            assert ("id" in err) == ('"id": 4' in text)
            # nothing changed, and the connection is still served
            assert await ask(ws, "LIST_SUBSCRIPTIONS", rid=9) == {
                "result": ["btcusdt@bookTicker"], "id": 9}
            assert await ask(ws, "GET_PROPERTY", ["combined"], 10) == {"result": False,
                                                                       "id": 10}

    asyncio.run(main())


def test_set_property_combined_wraps_payloads(served):
    ex, url, _app = served

    async def main():
        async with websockets.connect(ws_base(url) + "/public/ws/btcusdt@bookTicker") as ws:
            assert await ask(ws, "SET_PROPERTY", ["combined", True]) == {"result": None, "id": 1}
            with app_lock(served):
                ex.client("alice").new_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                             timeInForce="GTC", quantity="0.020", price="31000")
            msg = await recv_json(ws)
            assert msg["stream"] == "btcusdt@bookTicker" and msg["data"]["a"] == "31000"

    asyncio.run(main())


def app_lock(served):
    return served[2].state.lock


def test_more_than_1024_streams_on_a_connection_is_refused(served):
    _ex, url, _app = served
    names = [f"btcusdt@depth{n}@{s}" for n in (5, 10, 20) for s in ("100ms", "500ms")]
    names += ["btcusdt@depth", "btcusdt@depth@100ms", "btcusdt@depth@500ms",
              "btcusdt@bookTicker", "!bookTicker"]
    keys = [f"key{i:04d}" for i in range(1024 - len(names))]

    async def main():
        async with websockets.connect(ws_base(url) + "/ws/1") as ws:
            for i in range(0, len(keys), 200):
                assert (await ask(ws, "SUBSCRIBE", keys[i:i + 200], i))["result"] is None
                await asyncio.sleep(0.15)  # under 10 frames a second
            assert (await ask(ws, "SUBSCRIBE", names, 2000))["result"] is None
            err = await ask(ws, "SUBSCRIBE", ["ethusdt@depth"], 2001)
            assert err == {"code": 2, "msg": "Invalid request: a connection holds at most "
                           "1024 streams", "id": 2001}
            assert len((await ask(ws, "LIST_SUBSCRIPTIONS", rid=2002))["result"]) == 1024

    asyncio.run(main())


def test_more_than_10_frames_in_a_second_closes_the_connection(served):
    _ex, url, app = served

    async def main():
        async with websockets.connect(ws_base(url) + "/ws/1") as ws:
            for i in range(11):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                for _ in range(12):
                    await asyncio.wait_for(ws.recv(), 3)
            assert e.value.rcvd.code == 1008
        assert app.state.hub.rate_closed == 1

    asyncio.run(main())


# -- the user-data stream ----------------------------------------------------------------
def test_listen_key_lifecycle_needs_only_the_api_key(served):
    _ex, url, _app = served
    head = {"X-MBX-APIKEY": ALICE_KEY}
    key = listen_key(url)
    assert listen_key(url) == key and len(key) == 64  # one per account, extended
    assert listen_key(url, BOB_KEY) != key
    put = requests.put(url + "/fapi/v1/listenKey", headers=head, timeout=10)
    assert put.json() == {"listenKey": key}
    assert requests.delete(url + "/fapi/v1/listenKey", headers=head, timeout=10).json() == {}
    for verb in ("put", "delete"):
        r = getattr(requests, verb)(url + "/fapi/v1/listenKey", headers=head, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, -1125)
    assert listen_key(url) != key  # a new key after a close
    r = requests.post(url + "/fapi/v1/listenKey", timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, -2014)
    r = requests.post(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "nobody"},
                      timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, -2015)
    _app.state.hub.keys._check()


@pytest.mark.parametrize("form", ["/private/ws/{key}", "/private/ws?listenKey={key}",
                                  "/ws/{key}", "/private/stream?streams={key}"])
def test_a_parent_cancel_is_three_canceled_updates_in_one_event_time(served, form):
    ex, url, _app = served
    key = listen_key(url)
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)

    async def main():
        async with websockets.connect(ws_base(url) + form.format(key=key)) as ws:
            o = await asyncio.to_thread(alice.ok, "POST", "/fapi/v1/order", PARENT)
            new = [await recv_json(ws) for _ in range(3)]
            # a refused command yields nothing: the next event is the cancel's
            refused = await asyncio.to_thread(
                alice.send, "DELETE", "/fapi/v1/order", f"symbol={SYMBOL}&orderId=999")
            assert refused.status_code == 400
            await asyncio.to_thread(alice.ok, "DELETE", "/fapi/v1/order",
                                    dict(symbol=SYMBOL, orderId=o["orderId"]))
            gone = [await recv_json(ws) for _ in range(3)]
            assert await quiet(ws) == []
            return new, gone

    new, gone = asyncio.run(main())
    if "stream?" in form:
        assert {m["stream"] for m in new + gone} == {key}
        new, gone = [m["data"] for m in new], [m["data"] for m in gone]
    rows = [r["orderId"] for r in ex.client("alice").get_all_orders(symbol=SYMBOL)
            if r.get("parentOrderId")]
    assert [(m["e"], m["o"].get("x"), m["o"]["X"]) for m in new] == [
        ("ORDER_TRADE_UPDATE", "NEW", "NEW"), ("ALGO_UPDATE", None, "NEW"),
        ("ALGO_UPDATE", None, "NEW")]
    assert [m["o"]["aid"] for m in new[1:]] == rows
    assert [(m["e"], m["o"].get("x"), m["o"]["X"]) for m in gone] == [
        ("ORDER_TRADE_UPDATE", "CANCELED", "CANCELED"), ("ALGO_UPDATE", None, "CANCELED"),
        ("ALGO_UPDATE", None, "CANCELED")]
    assert len({m["E"] for m in gone}) == 1 and gone[0]["E"] >= new[0]["E"]


def test_a_fill_reports_trade_lite_the_trade_and_the_account(served):
    ex, url, _app = served
    key = listen_key(url)
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
    bob = RawClient(url, BOB_KEY, BOB_SECRET)

    async def main():
        async with websockets.connect(f"{ws_base(url)}/private/ws/{key}") as ws:
            await asyncio.to_thread(bob.ok, "POST", "/fapi/v1/order", dict(
                symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="30000"))
            await asyncio.to_thread(alice.ok, "POST", "/fapi/v1/order", dict(
                symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010"))
            return [await recv_json(ws) for _ in range(4)]

    new, lite, trade, account = asyncio.run(main())
    assert (new["o"]["x"], lite["e"], trade["o"]["x"], trade["o"]["X"]) == (
        "NEW", "TRADE_LITE", "TRADE", "FILLED")
    assert (trade["o"]["l"], trade["o"]["L"], trade["o"]["m"]) == ("0.01", "30000", False)
    assert lite["t"] == trade["o"]["t"] and lite["i"] == trade["o"]["i"]
    a = account["a"]
    assert (account["e"], a["m"], a["P"][0]["pa"], a["P"][0]["ep"]) == (
        "ACCOUNT_UPDATE", "ORDER", "0.01", "30000")
    wallet = ex.client("alice").account()["assets"][0]["walletBalance"]
    assert a["B"][0]["wb"] == wallet and Decimal(trade["o"]["n"]) > 0


def test_a_listen_key_expires_after_an_hour_of_venue_time_in_lockstep():
    ex = make_venue()
    app = create_app(ex, venue_clock=VenueClock(0, start=ex.now))
    with running(app) as url:
        key = listen_key(url)

        async def main():
            async with websockets.connect(f"{ws_base(url)}/private/ws/{key}") as ws:
                await asyncio.sleep(0.3)
                assert await quiet(ws, 0.2) == []  # wall time passing expires nothing
                with app.state.lock:
                    ex.advance(60 * 60_000)
                expired = await recv_json(ws)
                with pytest.raises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 3)
                return expired

        expired = asyncio.run(main())
        assert expired == {"e": "listenKeyExpired", "E": str(ex.now), "listenKey": key}
        r = requests.put(url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": ALICE_KEY},
                         timeout=10)
        assert r.json()["code"] == -1125


# -- depth -------------------------------------------------------------------------------
def test_depth_diffs_rebuild_the_rest_book_by_binances_procedure(served):
    ex, url, app = served
    c = ex.client("bob")

    def churn(i: int) -> None:
        with app.state.lock:
            price = str(30_100 + (i * 37) % 400)
            o = c.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                            quantity="0.005", price=price)
            if i % 3 == 0:
                c.cancel_order(symbol=SYMBOL, orderId=o["orderId"])

    async def main():
        async with websockets.connect(f"{ws_base(url)}/public/stream?streams="
                                      "btcusdt@depth@100ms") as ws:
            buffered = []
            for i in range(20):
                churn(i)
            await asyncio.sleep(0.3)
            snap = requests.get(url + "/fapi/v1/depth", params={"symbol": SYMBOL,
                                                                 "limit": 1000}).json()
            for i in range(20, 60):
                churn(i)
                if i % 10 == 0:
                    await asyncio.sleep(0.12)
            await asyncio.sleep(0.4)
            buffered = [m["data"] for m in await quiet(ws, 0.5)]
            return snap, buffered

    snap, events = asyncio.run(main())
    book = {"b": {p: q for p, q in snap["bids"]}, "a": {p: q for p, q in snap["asks"]}}
    last = snap["lastUpdateId"]
    events = [e for e in events if e["u"] >= last]  # step 4
    assert events and events[0]["U"] <= last <= events[0]["u"]  # step 5
    prev = None
    for e in events:
        assert prev is None or e["pu"] == prev  # step 6
        prev = e["u"]
        for side in ("b", "a"):
            for p, q in e[side]:
                if Decimal(q) == 0:
                    book[side].pop(p, None)
                else:
                    book[side][p] = q
    rest = requests.get(url + "/fapi/v1/depth", params={"symbol": SYMBOL, "limit": 1000}).json()
    assert prev == rest["lastUpdateId"]
    assert sorted(book["a"].items(), key=lambda x: Decimal(x[0])) == [tuple(r) for r in
                                                                      rest["asks"]]
    assert not book["b"] and not rest["bids"]


# -- a subscriber that stops reading -----------------------------------------------------
TURNS = 400


def test_a_subscriber_that_stops_reading_is_closed_and_no_one_else_waits(served, monkeypatch):
    ex, url, app = served
    monkeypatch.setattr(hub_module, "MAX_QUEUE", 50)
    key = listen_key(url)

    async def main():
        # a reader that reads nothing more: no frames queued, a tiny socket buffer
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        slow = await websockets.connect(f"{ws_base(url)}/private/ws/{key}", max_queue=1,
                                        sock=sock)
        fast = await websockets.connect(f"{ws_base(url)}/private/ws/{key}")
        received = 0
        t0 = time.monotonic()
        alice = ex.client("alice")
        # 30 events a turn (a reader that keeps up never has 50 queued), 6 MB in all: more
        # than the kernel's socket buffers hold for the one that stopped reading
        for turn in range(TURNS):
            with app.state.lock:
                for _ in range(5):
                    o = alice.new_order(**PARENT)
                    alice.cancel_order(symbol=SYMBOL, orderId=o["orderId"])
            app.state.hub.poke()  # as the server does after each request
            while received < 30 * (turn + 1):
                await asyncio.wait_for(fast.recv(), 5)
                received += 1
        elapsed = time.monotonic() - t0
        await fast.close()
        await slow.close()
        return received, elapsed

    received, elapsed = asyncio.run(main())
    time.sleep(0.2)
    app.state.hub._check()  # the closed ones left no subscription behind
    assert not app.state.hub.conns and not app.state.hub.by_key
    assert received == 30 * TURNS  # every event reached the reader that keeps up
    assert app.state.hub.slow_closed == 1 and elapsed < 20


# -- the market streams against the REST answer of the same fact ------------------------
@pytest.fixture
def moving():
    from engine.server.feed import SyntheticFeed

    ex = make_venue()
    market = SyntheticFeed(ex, seed=5, now_ms=max(int(time.time() * 1000), ex.now),
                           history_minutes=10, trades_per_day=1_000_000)
    with live(ex, market=market) as (url, app):
        yield ex, url, app


def test_market_streams_say_what_rest_says(moving):
    ex, url, app = moving
    names = ["btcusdt@kline_1m", "btcusdt_perpetual@continuousKline_5m", "btcusdt@ticker",
             "btcusdt@miniTicker", "!ticker@arr", "!markPrice@arr@1s", "btcusdt@trade",
             "btcusdt@aggTrade", "btcusdt@depth5@100ms", "btcusdt@markPrice@1s"]

    async def main():
        got: dict[str, list] = {}
        market = "/".join(n for n in names if "depth" not in n and n != "btcusdt@trade")
        public = "btcusdt@depth5@100ms/btcusdt@trade"
        # a client that stops reading a busy stream waits for the close answer behind
        # the data it does not read: do not wait long for it
        async with websockets.connect(f"{ws_base(url)}/market/stream?streams={market}",
                                      close_timeout=0.5) as m, \
                websockets.connect(f"{ws_base(url)}/public/stream?streams={public}",
                                   close_timeout=0.5) as p:
            deadline = time.monotonic() + 10
            while len(got) < len(names) and time.monotonic() < deadline:
                for ws in (m, p):
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                    except TimeoutError:
                        continue
                    got.setdefault(msg["stream"], []).append(msg["data"])
        return got

    got = asyncio.run(main())
    assert sorted(got) == sorted(names)
    get = lambda path, **p: requests.get(url + path, params=p, timeout=10).json()  # noqa: E731
    k = got["btcusdt@kline_1m"][-1]
    rows = get("/fapi/v1/klines", symbol=SYMBOL, interval="1m", startTime=k["k"]["t"], limit=1)
    assert (k["e"], k["s"], k["k"]["t"], k["k"]["T"], k["k"]["o"]) == (
        "kline", SYMBOL, rows[0][0], rows[0][6], rows[0][1])
    # the candle's first trade id is the first print at or after its open (-1: none yet)
    first_print = get("/fapi/v1/aggTrades", symbol=SYMBOL, startTime=k["k"]["t"],
                      endTime=k["k"]["T"], limit=1)
    assert k["k"]["f"] == (first_print[0]["f"] if first_print else -1) <= k["k"]["L"]
    c = got["btcusdt_perpetual@continuousKline_5m"][-1]
    assert (c["e"], c["ps"], c["ct"], c["k"]["i"], "s" in c["k"]) == (
        "continuous_kline", SYMBOL, "PERPETUAL", "5m", False)
    t, mini = got["btcusdt@ticker"][-1], got["btcusdt@miniTicker"][-1]
    rest = get("/fapi/v1/ticker/24hr", symbol=SYMBOL)
    assert (t["e"], t["o"], t["O"], mini["e"], mini["o"]) == (
        "24hrTicker", rest["openPrice"], rest["openTime"], "24hrMiniTicker", rest["openPrice"])
    assert {r["s"] for r in got["!ticker@arr"][-1]} == {"BTCUSDT", "ETHUSDT"}
    marks = got["!markPrice@arr@1s"][-1]
    premium = {r["symbol"]: r for r in get("/fapi/v1/premiumIndex")}
    assert [(r["e"], r["s"], r["T"]) for r in marks] == [
        ("markPriceUpdate", s, premium[s]["nextFundingTime"]) for s in ("BTCUSDT", "ETHUSDT")]
    agg, trade = got["btcusdt@aggTrade"], got["btcusdt@trade"]
    assert all(b["a"] == a["a"] + 1 for a, b in zip(agg, agg[1:], strict=False))
    first = get("/fapi/v1/aggTrades", symbol=SYMBOL, fromId=agg[0]["a"], limit=1)[0]
    assert (agg[0]["p"], agg[0]["q"], agg[0]["T"]) == (first["p"], first["q"], first["T"])
    assert trade[0]["e"] == "trade" and trade[0]["X"] == "MARKET"
    depth = got["btcusdt@depth5@100ms"][-1]
    assert depth["e"] == "depthUpdate" and len(depth["b"]) == len(depth["a"]) == 5
    assert float(depth["b"][0][0]) < float(depth["a"][0][0])


def test_a_bots_trades_reach_the_agg_trade_stream_as_rest_has_them(moving):
    """A MARKET order walking the ladder: its fills are aggTrade events, in order and
    numbered on from the market's, as ``GET /fapi/v1/aggTrades`` has them."""
    ex, url, app = moving
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)

    async def main():
        got: list[dict] = []
        async with websockets.connect(f"{ws_base(url)}/market/ws/btcusdt@aggTrade") as ws:
            done = await asyncio.to_thread(alice.ok, "POST", "/fapi/v1/order", dict(
                symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.500"))
            fills = await asyncio.to_thread(alice.ok, "GET", "/fapi/v1/userTrades", dict(
                symbol=SYMBOL, orderId=done["orderId"]))
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(
                    g["T"] == fills[-1]["time"] and g["p"] == fills[-1]["price"] for g in got):
                got += await quiet(ws, 0.2)
        return fills, got

    fills, got = asyncio.run(main())
    assert len({f["price"] for f in fills}) >= 2  # it walked the ladder
    mine = [(f["price"], f["qty"], False, f["time"]) for f in fills]
    rows = [(g["p"], g["q"], g["m"], g["T"]) for g in got]
    at = rows.index(mine[0])
    assert rows[at:at + len(mine)] == mine
    ids = [g["a"] for g in got]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # none missed, none twice
    rest = requests.get(url + "/fapi/v1/aggTrades", params=dict(
        symbol=SYMBOL, fromId=got[at]["a"], limit=len(mine)), timeout=10).json()
    assert [(r["a"], r["p"], r["q"], r["m"], r["T"]) for r in rest] == [
        (g["a"], g["p"], g["q"], g["m"], g["T"]) for g in got[at:at + len(mine)]]


def test_a_liquidation_reaches_force_order_and_the_owners_stream(served):
    ex, url, app = served
    ex.create_account("carol", "100", api_key="carol-key-0003", api_secret="carol-secret-0003")
    key = listen_key(url, "carol-key-0003")
    with app.state.lock:
        ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                   timeInForce="GTC", quantity="0.040", price="30000")
        ex.client("carol").new_order(symbol=SYMBOL, side="BUY", type="MARKET",
                                     quantity="0.040")

    async def main():
        async with websockets.connect(f"{ws_base(url)}/market/ws/!forceOrder@arr") as f, \
                websockets.connect(f"{ws_base(url)}/private/ws/{key}") as u:
            await asyncio.sleep(0.2)
            with app.state.lock:
                ex.set_mark_price(SYMBOL, "27650")  # 82 % of the margin balance: a call
            app.state.hub.poke()
            call = await recv_json(u)
            with app.state.lock:
                ex.set_mark_price(SYMBOL, "27000")
            app.state.hub.poke()
            return call, await recv_json(f), [await recv_json(u) for _ in range(3)]

    call, force, (order, account, fee) = asyncio.run(main())
    assert (call["e"], call["cw"], call["p"][0]["mp"], call["p"][0]["mm"]) == (
        "MARGIN_CALL", "99.4", "27650", "4.424")
    assert (force["e"], force["o"]["s"], force["o"]["S"], force["o"]["q"], force["o"]["p"],
            force["o"]["X"]) == ("forceOrder", SYMBOL, "SELL", "0.04", "27000", "FILLED")
    o = order["o"]
    assert (order["e"], o["o"], o["x"], o["c"].startswith("autoclose-"), o["l"]) == (
        "ORDER_TRADE_UPDATE", "LIQUIDATION", "CALCULATED", True, "0.04")
    assert (account["a"]["m"], account["a"]["P"][0]["pa"]) == ("ORDER", "0")
    assert fee["a"]["m"] == "INSURANCE_CLEAR"
    assert fee["a"]["B"][0]["wb"] == ex.client("carol").account()["assets"][0]["walletBalance"]


def test_a_connection_hears_only_what_happens_after_it_subscribed(served):
    ex, url, app = served
    key = listen_key(url)
    with app.state.lock:  # before anyone listens (the fan-out has not even started)
        early = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                             timeInForce="GTC", quantity="0.010",
                                             price="29100")
    alice = RawClient(url, ALICE_KEY, ALICE_SECRET)

    async def main():
        async with websockets.connect(f"{ws_base(url)}/private/ws/{key}") as ws:
            await asyncio.sleep(0.2)
            late = await asyncio.to_thread(alice.ok, "POST", "/fapi/v1/order", dict(
                symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                price="29200"))
            return late, [await recv_json(ws)] + await quiet(ws)

    late, got = asyncio.run(main())
    assert [m["o"]["i"] for m in got] == [late["orderId"]] != [early["orderId"]]


def test_past_the_connection_cap_a_handshake_is_refused_and_the_rest_are_served(served,
                                                                                 monkeypatch):
    ex, url, app = served
    monkeypatch.setattr(hub_module, "MAX_CONNECTIONS", 3)

    async def main():
        open_ = [await websockets.connect(ws_base(url) + "/public/ws/btcusdt@bookTicker")
                 for _ in range(3)]
        with pytest.raises(websockets.exceptions.InvalidStatus) as e:
            await websockets.connect(ws_base(url) + "/public/ws/btcusdt@bookTicker")
        assert e.value.response.status_code == 403
        with app.state.lock:
            ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                         timeInForce="GTC", quantity="0.010", price="29300")
        got = [(await recv_json(ws))["b"] for ws in open_]
        await open_[0].close()
        await asyncio.sleep(0.2)
        async with websockets.connect(ws_base(url) + "/public/ws/btcusdt@bookTicker"):
            pass  # a place freed is taken again
        for ws in open_[1:]:
            await ws.close()
        return got

    assert asyncio.run(main()) == ["29300"] * 3
    assert app.state.hub.refused == 1


def test_the_hubs_check_sees_a_subscription_left_behind(served):
    from engine.core.errors import InvariantError

    _ex, url, app = served
    hub = app.state.hub
    hub._check()
    hub.by_stream["btcusdt@depth"] = {object(): 0}  # a subscriber that is no connection
    with pytest.raises(InvariantError, match="no parsed name|not open"):
        hub._check()
    del hub.by_stream["btcusdt@depth"]
    hub.keys.create("alice", "secret", 0)
    hub._check()
    del hub.keys.by_account["alice"]  # a key that its account no longer finds
    with pytest.raises(InvariantError, match="listen keys: the indexes"):
        hub._check()


def test_past_300_handshakes_from_an_ip_in_5_minutes_the_next_is_refused_429(served):
    """Binance's 300 connections per 5 minutes per IP (here 3 per 0.5 s): the next
    handshake gets HTTP 429 with -1003 and opens nothing; refused ones do not count,
    and once the window has passed the address is admitted again."""
    ex, url, app = served
    hub = app.state.hub
    hub.handshakes.limit, hub.handshakes.window_ms = 3, 500

    async def main():
        first = [await websockets.connect(ws_base(url) + "/ws/btcusdt@bookTicker")
                 for _ in range(3)]
        for ws in first:  # closing frees no handshake: the window counts attempts
            await ws.close()
        refusals = []
        for _ in range(3):
            with pytest.raises(websockets.exceptions.InvalidStatus) as e:
                await websockets.connect(ws_base(url) + "/ws/btcusdt@bookTicker")
            refusals.append((e.value.response.status_code, json.loads(e.value.response.body)))
        opened = hub.opened
        await asyncio.sleep(0.6)
        async with websockets.connect(ws_base(url) + "/ws/btcusdt@bookTicker") as ws:
            assert await ask(ws, "LIST_SUBSCRIPTIONS") == {"result": ["btcusdt@bookTicker"],
                                                          "id": 1}
        return refusals, opened

    refusals, opened = asyncio.run(main())
    assert refusals == [(429, {"code": -1003, "msg": "Too many requests; current limit is 3 "
                               "websocket connections per 500 ms per IP."})] * 3
    assert opened == 3 and hub.handshakes.refused == 3
    hub._check()


def test_a_connection_is_closed_after_24_hours_of_venue_time_in_lockstep():
    ex = make_venue()
    app = create_app(ex, venue_clock=VenueClock(0, start=ex.now))
    with running(app) as url:
        async def main():
            async with websockets.connect(f"{ws_base(url)}/market/ws/btcusdt@markPrice") as ws, \
                    websockets.connect(f"{ws_base(url)}/market/ws") as fresh:
                with app.state.lock:
                    ex.advance(24 * 3_600_000 - 1)
                await asyncio.sleep(1.3)  # a lifetime check has run: one ms short, open
                assert (await ask(ws, "LIST_SUBSCRIPTIONS"))["result"] == ["btcusdt@markPrice"]
                async with websockets.connect(f"{ws_base(url)}/market/ws") as late:
                    with app.state.lock:
                        ex.advance(1)
                    with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                        while True:
                            await asyncio.wait_for(ws.recv(), 3)
                    # the connection opened a day later is still served
                    assert await ask(late, "LIST_SUBSCRIPTIONS") == {"result": [], "id": 1}
                with pytest.raises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(fresh.recv(), 3)
                return e.value.rcvd

        closed = asyncio.run(main())
        assert (closed.code, closed.reason) == (1000, "connection open for 24 hours: reconnect")
        assert app.state.hub.aged_closed == 2


def test_the_four_direct_cancel_refusals_of_a_trigger_row_send_nothing():
    """A trigger row cancelled directly when it has fired (-2090), was cancelled (-2091),
    expired (-2092) or is another account's (-2093): refused, and neither the caller's
    nor the owner's user-data stream hears anything (the catalogue's prepared venue
    has a row in each state)."""
    from catalogue import ACCOUNTS, Id, build_venue

    ex = build_venue()
    (a_key, a_secret), (b_key, _b_secret) = ACCOUNTS["alice"], ACCOUNTS["bob"]
    with live(ex) as (url, app):
        alice = RawClient(url, a_key, a_secret)
        keys = [listen_key(url, a_key), listen_key(url, b_key)]

        async def main():
            async with websockets.connect(f"{ws_base(url)}/private/ws/{keys[0]}") as a, \
                    websockets.connect(f"{ws_base(url)}/private/ws/{keys[1]}") as b:
                await asyncio.sleep(0.2)
                with app.state.lock:
                    seq = ex._s.event_seq
                codes = []
                for row in (Id.TRIGGERED_SL, Id.OCO_CANCELED_TP, Id.EXPIRED_TP, Id.BOB_TP):
                    r = await asyncio.to_thread(alice.signed, "DELETE", "/fapi/v1/order",
                                                {"symbol": SYMBOL, "orderId": row})
                    codes.append(r.json()["code"])
                heard = await quiet(a), await quiet(b)
                with app.state.lock:
                    assert ex._s.event_seq == seq  # the log has nothing to send
                return codes, heard

        codes, heard = asyncio.run(main())
        assert codes == [-2090, -2091, -2092, -2093]
        assert heard == ([], [])
