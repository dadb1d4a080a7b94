"""A served venue with its synthetic market: history at start, prints as the clock moves,
the market-data endpoints in Binance's shapes, and bots' orders filled by the market.

The server is the real one; its clock is the test's (``create_app(clock=...)``), so the
market a test sees is fixed by the seed and the times it chooses.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, RawClient

from engine import Exchange
from engine.server import Limits, SyntheticFeed, create_app, running

T0 = 1_765_000_020_000  # 2025-12-06T05:47:00Z, a minute's start
HOUR = 3_600_000


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def venue(history: int = 600) -> tuple[Exchange, SyntheticFeed]:
    ex = Exchange(start_time=T0 - 1)
    ex.create_account("alice", "100000", api_key=ALICE_KEY, api_secret=ALICE_SECRET)
    # a print every 4 s a symbol: a test that crosses hours stays quick
    return ex, SyntheticFeed(ex, seed=7, now_ms=T0, history_minutes=history,
                             trades_per_day=21_600)


@pytest.fixture
def served():
    ex, feed = venue()
    clock = Clock(T0)
    app = create_app(ex, market=feed, clock=clock)
    with running(app, limits=Limits()) as url:
        yield ex, feed, clock, RawClient(url, ALICE_KEY, ALICE_SECRET), app
    ex.check_invariants()


def caught_up(app, clock: Clock) -> None:
    """Let the market catch up with a clock moved hours ahead: the server applies at most
    a turn's worth of prints per request (as the ticker would, over a few turns)."""
    while True:
        with app.state.lock:
            if app.state.facade.catch_up(clock()):
                return


def get(client: RawClient, path: str, **params):
    r = client.session.get(client.url + path, params=params, timeout=10)
    return r.status_code, r.json()


def test_history_is_there_at_start_in_binance_s_shape(served):
    ex, feed, clock, alice, app = served
    status, rows = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1m", limit=600)
    assert status == 200 and len(rows) == 600
    # 599 minutes of history and the minute now open
    assert [r[0] for r in rows] == [T0 - 599 * 60_000 + 60_000 * i for i in range(600)]
    for r in rows[:3]:
        assert [type(v) for v in r] == [int, str, str, str, str, str, int, str, int, str,
                                        str, str]
        assert r[6] == r[0] + 59_999 and r[11] == "0"
        assert float(r[3]) <= min(float(r[1]), float(r[4])) <= float(r[2])
    status, hours = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1h")
    assert status == 200 and 10 <= len(hours) <= 11
    assert hours[-1][4] == rows[-1][4]  # the same market at every interval


def test_prints_arrive_as_the_clock_moves_and_every_view_agrees(served):
    ex, feed, clock, alice, app = served
    assert all(p["T"] <= T0 for p in get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL)[1])
    history = get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL, limit=5)[1]
    assert len(history) == 5 and all(p["T"] < T0 for p in history)  # sparse history
    clock.now = T0 + 10 * 60_000
    status, prints = get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL, limit=1000,
                         startTime=T0, endTime=clock.now)
    assert status == 200 and len(prints) > 100
    first = prints[0]["a"]
    assert [p["a"] for p in prints] == list(range(first, first + len(prints)))
    assert first == history[-1]["a"] + 1  # ids run on from the history's
    assert all(T0 <= p["T"] <= clock.now for p in prints)
    last = prints[-1]["p"]
    assert get(alice, "/fapi/v1/ticker/price", symbol=SYMBOL)[1]["price"] == last
    assert get(alice, "/fapi/v1/trades", symbol=SYMBOL, limit=1)[1][0]["price"] == last
    minutes = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1m", limit=10)[1]
    assert minutes[-1][4] == last
    assert sum(r[8] for r in minutes) == sum(
        1 for p in prints if p["T"] >= minutes[0][0])
    day = get(alice, "/fapi/v1/ticker/24hr", symbol=SYMBOL)[1]
    assert day["lastPrice"] == last and day["lastId"] == prints[-1]["a"]
    with app.state.lock:
        assert ex.ledger.accounts["@tape"] is not None
        ex.check_invariants()


def test_a_resting_bid_fills_when_the_market_trades_through_it(served):
    ex, feed, clock, alice, app = served
    twin_ex, twin = venue()
    twin.advance(T0 + HOUR)
    tape = twin.symbols[SYMBOL].prints
    low = int(tape.column("p")[tape.column("T") >= T0].min())  # the live hour's low
    inst = ex.instruments[SYMBOL]
    bid = inst.price_str(low + 5)  # the next hour trades below it
    order = alice.ok("POST", "/fapi/v1/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.010", "price": bid}, body=True, timestamp=clock.now)
    assert order["status"] == "NEW"
    clock.now = T0 + HOUR
    caught_up(app, clock)
    got = alice.ok("GET", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": order["orderId"]},
                   timestamp=clock.now)
    assert got["status"] == "FILLED" and got["avgPrice"] == bid


def test_the_book_is_the_tape_s_ladder_around_the_last_print(served):
    ex, feed, clock, alice, app = served
    clock.now = T0 + 60_000
    status, book = get(alice, "/fapi/v1/depth", symbol=SYMBOL, limit=50)
    last = float(get(alice, "/fapi/v1/ticker/price", symbol=SYMBOL)[1]["price"])
    assert status == 200 and len(book["bids"]) == len(book["asks"]) == 20
    bids = [float(p) for p, _q in book["bids"]]
    asks = [float(p) for p, _q in book["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < last < asks[0] and (asks[0] - bids[0]) / last < 0.0005
    ticker = get(alice, "/fapi/v1/ticker/bookTicker", symbol=SYMBOL)[1]
    assert (ticker["bidPrice"], ticker["askPrice"]) == (book["bids"][0][0], book["asks"][0][0])


def test_a_market_order_walks_the_ladder(served):
    ex, feed, clock, alice, app = served
    clock.now = T0 + 60_000
    done = alice.ok("POST", "/fapi/v1/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.005",
        "newOrderRespType": "RESULT"}, body=True, timestamp=clock.now)
    assert done["status"] == "FILLED"
    last = float(get(alice, "/fapi/v1/ticker/price", symbol=SYMBOL)[1]["price"])
    assert abs(float(done["avgPrice"]) - last) / last < 0.001


def test_a_bots_trades_are_prints_in_every_market_view(served):
    """A bot's MARKET order walks the ladder: each fill is a print of its own (price,
    quantity, the taker's side) after the market's last, in aggTrades, trades, the
    candle and the tickers; the market's next prints number on after them."""
    ex, feed, clock, alice, app = served
    clock.now = T0 + 60_000 + 30_000
    caught_up(app, clock)
    before = get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL, limit=1)[1][-1]
    candle = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1m", limit=1)[1][-1]
    fills = []
    for side, qty in (("BUY", "0.500"), ("SELL", "0.200")):
        done = alice.ok("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": side, "type": "MARKET", "quantity": qty},
            body=True, timestamp=clock.now)
        trades = alice.ok("GET", "/fapi/v1/userTrades", {
            "symbol": SYMBOL, "orderId": done["orderId"]}, timestamp=clock.now)
        fills += [(t["price"], t["qty"], side == "SELL", t["time"]) for t in trades]
    assert len(fills) >= 4 and len({f[0] for f in fills}) >= 3  # it walked levels
    status, rows = get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL, fromId=before["a"] + 1)
    assert status == 200
    assert [(r["p"], r["q"], r["m"], r["T"]) for r in rows] == fills
    assert [r["a"] for r in rows] == list(range(before["a"] + 1, before["a"] + 1 + len(fills)))
    assert all(r["f"] == r["l"] for r in rows)  # one trade each
    last = fills[-1][0]
    assert get(alice, "/fapi/v1/ticker/price", symbol=SYMBOL)[1]["price"] == last
    assert get(alice, "/fapi/v1/trades", symbol=SYMBOL, limit=1)[1][0]["price"] == last
    now = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1m", limit=1)[1][-1]
    assert now[0] == candle[0] and now[4] == last and now[8] == candle[8] + len(fills)
    assert Decimal(now[5]) == Decimal(candle[5]) + sum(Decimal(f[1]) for f in fills)
    assert Decimal(now[9]) == Decimal(candle[9]) + sum(  # the taker buys' volume
        Decimal(f[1]) for f in fills if not f[2])
    clock.now += 60_000  # the market prints on, numbered after the bot's
    caught_up(app, clock)
    later = get(alice, "/fapi/v1/aggTrades", symbol=SYMBOL, fromId=before["a"] + 1)[1]
    assert [r["a"] for r in later] == list(range(before["a"] + 1, before["a"] + 1 + len(later)))
    times = [r["T"] for r in later]
    assert len(later) > len(fills) and times == sorted(times)
    with app.state.lock:
        feed.symbols[SYMBOL].prints._check()


def test_funding_settles_every_eight_hours(served):
    ex, feed, clock, alice, app = served
    alice.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "BUY", "type": "MARKET",
                                         "quantity": "0.010"}, body=True, timestamp=clock.now)
    boundary = (T0 // (8 * HOUR) + 1) * 8 * HOUR
    clock.now = boundary + 1000
    caught_up(app, clock)
    income = alice.ok("GET", "/fapi/v1/income", {"incomeType": "FUNDING_FEE"},
                      timestamp=clock.now)
    assert [row["time"] for row in income] == [boundary]


@pytest.mark.parametrize("path,params,code", [
    ("/fapi/v1/klines", {"symbol": SYMBOL, "interval": "2d"}, -1120),
    ("/fapi/v1/klines", {"symbol": SYMBOL}, -1102),
    ("/fapi/v1/klines", {"interval": "1m"}, -1102),
    ("/fapi/v1/klines", {"symbol": "XRPUSDT", "interval": "1m"}, -1121),
    ("/fapi/v1/klines", {"symbol": SYMBOL, "interval": "1m", "limit": "1501"}, -1130),
    ("/fapi/v1/klines", {"symbol": SYMBOL, "interval": "1m", "startTime": "x"}, -1100),
    ("/fapi/v1/aggTrades", {"symbol": SYMBOL, "startTime": "0", "endTime": str(HOUR + 1)},
     -1127),
    ("/fapi/v1/aggTrades", {"symbol": SYMBOL, "limit": "1001"}, -1130),
    ("/fapi/v1/trades", {"symbol": SYMBOL, "limit": "0"}, -1130),
    ("/fapi/v1/ticker/24hr", {"symbol": "btcusdt"}, -1121),
])
def test_bad_market_data_requests_are_refused_and_change_nothing(served, path, params, code):
    ex, feed, clock, alice, app = served
    get(alice, "/fapi/v1/ticker/price")  # the market is up to date at this time
    with app.state.lock:
        before = ex.state_hash()
    status, body = get(alice, path, **params)
    assert status == 400 and body["code"] == code
    with app.state.lock:
        assert ex.state_hash() == before


def test_the_same_seed_and_start_give_the_same_market():
    a_ex, a = venue(history=120)
    b_ex, b = venue(history=120)
    a.advance(T0 + 2 * HOUR)
    b.advance(T0 + 2 * HOUR)
    assert a_ex.state_hash() == b_ex.state_hash()
    ka = a.symbols["ETHUSDT"].candles.klines("5m", limit=1500)
    kb = b.symbols["ETHUSDT"].candles.klines("5m", limit=1500)
    assert ka.close.tolist() == kb.close.tolist() and len(ka) == 12 * 2 + 24 + 1


def test_the_start_up_answers_a_client_library_asks_for(served):
    ex, feed, clock, alice, app = served
    assert alice.ok("GET", "/fapi/v1/multiAssetsMargin", timestamp=clock.now) == {
        "multiAssetsMargin": False}
    status, body = get(alice, "/fapi/v1/multiAssetsMargin")  # signed on Binance too
    assert (status, body["code"]) == (401, -2014)
    assert alice.ok("GET", "/fapi/v1/rateLimit/order", timestamp=clock.now)[0][
        "rateLimitType"] == "ORDERS"
    assert alice.ok("GET", "/fapi/v1/apiTradingStatus", timestamp=clock.now)["indicators"] == {}
    for path in ("/api/v3/exchangeInfo", "/dapi/v1/exchangeInfo"):
        status, info = get(alice, path)
        assert status == 200 and info["symbols"] == [] and info["timezone"] == "UTC"
    assert get(alice, "/sapi/v1/margin/allPairs") == (200, [])
    for path in ("/sapi/v1/margin/isolated/allPairs", "/sapi/v1/capital/config/getall"):
        assert alice.ok("GET", path, timestamp=clock.now) == []


def test_funding_history_and_the_price_candles(served):
    ex, feed, clock, alice, app = served
    first = (T0 // (8 * HOUR) + 1) * 8 * HOUR
    clock.now = first + 8 * HOUR + 1000
    caught_up(app, clock)
    status, rows = get(alice, "/fapi/v1/fundingRate", symbol=SYMBOL)
    assert status == 200 and [r["fundingTime"] for r in rows] == [first, first + 8 * HOUR]
    assert all(len(r["fundingRate"].split(".")[1]) == 8 and r["symbol"] == SYMBOL
               for r in rows)
    assert len(get(alice, "/fapi/v1/fundingRate")[1]) == 4  # both symbols
    assert get(alice, "/fapi/v1/fundingRate", startTime=first + 1, limit=1)[1][0][
        "fundingTime"] == first + 8 * HOUR
    trade = get(alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1h", limit=5)[1]
    mark = get(alice, "/fapi/v1/markPriceKlines", symbol=SYMBOL, interval="1h", limit=5)[1]
    index = get(alice, "/fapi/v1/indexPriceKlines", pair=SYMBOL, interval="1h", limit=5)[1]
    premium = get(alice, "/fapi/v1/premiumIndexKlines", symbol=SYMBOL, interval="1h",
                  limit=5)[1]
    cont = get(alice, "/fapi/v1/continuousKlines", pair=SYMBOL, contractType="PERPETUAL",
               interval="1h", limit=5)[1]
    assert [r[:5] for r in mark] == [r[:5] for r in index] == [r[:5] for r in trade]
    assert cont == trade
    assert mark[0][5] == "0" and mark[0][8] == 3600 and premium[0][1:5] == ["0"] * 4
    assert get(alice, "/fapi/v1/continuousKlines", pair=SYMBOL, contractType="NEXT_QUARTER",
               interval="1h")[1]["code"] == -1130
    assert get(alice, "/fapi/v1/indexPriceKlines", symbol=SYMBOL, interval="1h")[1][
        "code"] == -1102


def test_open_interest_counts_every_long_position(served):
    ex, feed, clock, alice, app = served
    assert get(alice, "/fapi/v1/openInterest", symbol=SYMBOL)[1]["openInterest"] == "0"
    alice.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "SELL", "type": "MARKET",
                                         "quantity": "0.012"}, body=True, timestamp=clock.now)
    oi = get(alice, "/fapi/v1/openInterest", symbol=SYMBOL)[1]
    assert oi["openInterest"] == "0.012" and oi["symbol"] == SYMBOL  # the tape is long


def test_a_market_far_behind_catches_up_a_turn_at_a_time():
    """Each turn under the lock applies at most PRINTS_PER_TURN prints (requests are
    answered in between) and the clock follows the market, not the wall."""
    from engine.server.app import PRINTS_PER_TURN

    ex, feed = venue()
    clock = Clock(T0 + 6 * HOUR)  # about 10,800 prints due
    facade = create_app(ex, market=feed, clock=clock).state.facade  # not served: no ticker
    turns = 0
    while not facade.catch_up(clock()):
        turns += 1
        assert feed.applied == turns * PRINTS_PER_TURN and ex.now < clock.now
    assert turns >= 4 and ex.now == clock.now
    ex.check_invariants()


# -- the book's update ids, old trades, the mark, open interest over time --------------------


def book_ids(client: RawClient) -> dict[str, int]:
    """Each symbol's ``lastUpdateId``, from ``depth`` — and ``bookTicker`` agrees."""
    out = {s: get(client, "/fapi/v1/depth", symbol=s, limit=5)[1]["lastUpdateId"]
           for s in (SYMBOL, "ETHUSDT")}
    tickers = get(client, "/fapi/v1/ticker/bookTicker")[1]
    assert {t["symbol"]: t["lastUpdateId"] for t in tickers} == out
    assert get(client, "/fapi/v1/ticker/bookTicker", symbol="ETHUSDT")[1][
        "lastUpdateId"] == out["ETHUSDT"]
    return out


def test_each_book_s_last_update_id_moves_with_that_book_only(served):
    ex, feed, clock, alice, app = served
    start = book_ids(alice)
    assert book_ids(alice) == start  # reading changes nothing

    bid = alice.ok("POST", "/fapi/v1/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.010", "price": "40000"}, body=True, timestamp=clock.now)
    rested = book_ids(alice)
    assert rested[SYMBOL] > start[SYMBOL] and rested["ETHUSDT"] == start["ETHUSDT"]

    refused = alice.signed("POST", "/fapi/v1/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.010", "price": "40000.05"}, body=True, timestamp=clock.now)
    assert refused.json()["code"] == -4014  # off the tick grid
    alice.ok("POST", "/fapi/v1/leverage", {"symbol": SYMBOL, "leverage": "5"}, body=True,
             timestamp=clock.now)  # the venue changes, no book does
    assert book_ids(alice) == rested

    alice.ok("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": bid["orderId"]},
             body=True, timestamp=clock.now)
    cancelled = book_ids(alice)
    assert cancelled[SYMBOL] > rested[SYMBOL] and cancelled["ETHUSDT"] == rested["ETHUSDT"]

    seen = cancelled
    books = {s: get(alice, "/fapi/v1/depth", symbol=s, limit=1000)[1] for s in seen}
    for minute in range(1, 6):  # the market moves the ladders: each id on its own
        clock.now = T0 + minute * 60_000
        now = book_ids(alice)
        for s in now:
            depth = get(alice, "/fapi/v1/depth", symbol=s, limit=1000)[1]
            assert now[s] >= seen[s]
            if (depth["bids"], depth["asks"]) != (books[s]["bids"], books[s]["asks"]):
                assert now[s] > seen[s]
            books[s] = depth
        seen = now
    assert seen[SYMBOL] > cancelled[SYMBOL] and seen["ETHUSDT"] > cancelled["ETHUSDT"]


def old_trades(client: RawClient, **params):
    """``GET historicalTrades`` with the caller's key (MARKET_DATA), unsigned."""
    r = client.send("GET", "/fapi/v1/historicalTrades", urlencode(params))
    return r.status_code, r.json()


def test_old_trades_are_the_prints_from_an_id_on(served):
    ex, feed, clock, alice, app = served
    clock.now = T0 + 10 * 60_000
    recent = get(alice, "/fapi/v1/trades", symbol=SYMBOL, limit=1000)[1]
    status, latest = old_trades(alice, symbol=SYMBOL)
    assert status == 200 and latest == recent[-100:]  # default: the most recent 100
    assert [type(v) for v in latest[0].values()] == [int, str, str, str, int, bool, bool]
    assert list(latest[0]) == ["id", "price", "qty", "quoteQty", "time", "isBuyerMaker",
                               "isRPITrade"]
    page = old_trades(alice, symbol=SYMBOL, fromId=recent[10]["id"], limit=500)[1]
    assert len(recent) > 510 and page == recent[10:510]
    assert [t["id"] for t in page] == list(range(recent[10]["id"], recent[10]["id"] + 500))
    assert old_trades(alice, symbol=SYMBOL, fromId=recent[-1]["id"] + 1)[1] == []
    for params, code in (({"limit": "501"}, -1130), ({"limit": "0"}, -1130),
                         ({"fromId": "-1"}, -1100), ({"symbol": "XRPUSDT"}, -1121),
                         ({"symbol": ""}, -1102)):
        status, body = old_trades(alice, **{"symbol": SYMBOL, **params})
        assert (status, body["code"]) == (400, code), params


def test_old_trades_want_a_known_key_and_no_signature(served):
    ex, feed, clock, alice, app = served
    url = alice.url + "/fapi/v1/historicalTrades"
    keyless = alice.session.get(url, params={"symbol": SYMBOL}, timeout=10)
    stranger = alice.session.get(url, params={"symbol": SYMBOL}, timeout=10,
                                 headers={"X-MBX-APIKEY": "no-such-key"})
    keyed = alice.send("GET", "/fapi/v1/historicalTrades", f"symbol={SYMBOL}&limit=1")
    assert (keyless.status_code, keyless.json()["code"]) == (401, -2014)
    assert (stranger.status_code, stranger.json()["code"]) == (401, -2015)
    assert keyed.status_code == 200 and len(keyed.json()) == 1
    # 20 for the read; the two refusals before it cost the address 1 each
    assert keyed.headers["X-MBX-USED-WEIGHT-1M"] == "22"


def test_the_premium_index_shows_the_moving_mark_and_the_last_settled_rate(served):
    ex, feed, clock, alice, app = served
    status, before = get(alice, "/fapi/v1/premiumIndex", symbol=SYMBOL)
    first = (T0 // (8 * HOUR) + 1) * 8 * HOUR
    assert status == 200 and before["lastFundingRate"] == "0.00000000"  # none settled yet
    assert before["nextFundingTime"] == first and before["time"] == T0
    assert list(before) == ["symbol", "markPrice", "indexPrice", "estimatedSettlePrice",
                            "lastFundingRate", "interestRate", "nextFundingTime", "time"]
    clock.now = first + 90_000
    caught_up(app, clock)
    rows = get(alice, "/fapi/v1/premiumIndex")[1]
    assert [r["symbol"] for r in rows] == [SYMBOL, "ETHUSDT"]
    for row in rows:
        settled = get(alice, "/fapi/v1/fundingRate", symbol=row["symbol"])[1]
        minutes = get(alice, "/fapi/v1/klines", symbol=row["symbol"], interval="1m",
                      limit=2)[1]
        assert row["lastFundingRate"] == settled[-1]["fundingRate"]
        assert row["markPrice"] == row["indexPrice"] == row["estimatedSettlePrice"] == \
            minutes[0][4]  # the last closed minute's close
        assert row["nextFundingTime"] == first + 8 * HOUR and row["time"] == clock.now
        assert row["interestRate"] == "0.00010000"
    assert rows[0]["markPrice"] != before["markPrice"]
    assert get(alice, "/fapi/v1/premiumIndex", symbol="XRPUSDT")[1]["code"] == -1121


def test_open_interest_history_follows_the_positions(served):
    ex, feed, clock, alice, app = served
    clock.now = T0 + 2 * 60_000
    alice.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "SELL", "type": "MARKET",
                                         "quantity": "0.012"}, body=True, timestamp=clock.now)
    clock.now = T0 + 14 * 60_000
    alice.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "BUY", "type": "MARKET",
                                         "quantity": "0.005"}, body=True, timestamp=clock.now)
    clock.now = T0 + 25 * 60_000
    status, rows = get(alice, "/futures/data/openInterestHist", symbol=SYMBOL, period="5m")
    assert status == 200 and len(rows) == 30  # the default limit
    assert [type(v) for v in rows[0].values()] == [str, str, str, int]
    times = [r["timestamp"] for r in rows]
    assert times == list(range(times[0], times[0] + 30 * 300_000, 300_000))
    assert times[-1] == (T0 + 25 * 60_000) // 300_000 * 300_000
    want = {t: "0.012" if T0 + 2 * 60_000 <= t < T0 + 14 * 60_000 else
            "0.007" if t >= T0 + 14 * 60_000 else "0" for t in times}
    assert {r["timestamp"]: r["sumOpenInterest"] for r in rows} == want
    live = get(alice, "/fapi/v1/openInterest", symbol=SYMBOL)[1]["openInterest"]
    assert rows[-1]["sumOpenInterest"] == live == "0.007"
    close = {k[0] + 60_000: k[4] for k in get(
        alice, "/fapi/v1/klines", symbol=SYMBOL, interval="1m", limit=40)[1]}
    assert float(rows[-1]["sumOpenInterestValue"]) == pytest.approx(
        0.007 * float(close[times[-1]]))

    hourly = get(alice, "/futures/data/openInterestHist", symbol=SYMBOL, period="1h",
                 limit=500)[1]
    history = T0 - 599 * 60_000  # the market's first minute
    assert hourly[0]["timestamp"] == -(-history // HOUR) * HOUR
    assert hourly[-1]["timestamp"] == (T0 + 25 * 60_000) // HOUR * HOUR
    paged = get(alice, "/futures/data/openInterestHist", symbol=SYMBOL, period="15m",
                startTime=str(T0 - HOUR), limit=2)[1]
    first = -(-(T0 - HOUR) // 900_000) * 900_000
    assert [r["timestamp"] for r in paged] == [first, first + 900_000]
    until = get(alice, "/futures/data/openInterestHist", symbol=SYMBOL, period="5m",
                endTime=str(T0 + 60_000), limit=1)[1]
    assert [r["timestamp"] for r in until] == [(T0 + 60_000) // 300_000 * 300_000]
    for params, code in (({"period": "3m"}, -1130), ({"period": ""}, -1102),
                         ({"limit": "501"}, -1130), ({"startTime": "x"}, -1100),
                         ({"symbol": "XRPUSDT"}, -1121)):
        status, body = get(alice, "/futures/data/openInterestHist",
                           **{"symbol": SYMBOL, "period": "5m", **params})
        assert (status, body["code"]) == (400, code), params


def test_open_interest_rebuilt_from_the_records_is_the_live_one_at_every_time():
    """Traders in both position modes, fills against each other and against the tape
    (its ladder and its prints), a liquidation: after each command, the live open
    interest is what :func:`open_interest_at` rebuilds for that time."""
    from engine.server.market import open_interest_at

    ex = Exchange(start_time=T0)
    for name, balance in (("alice", "50000"), ("bob", "50000"), ("erin", "30")):
        ex.create_account(name, balance)
    ex.set_mark_price(SYMBOL, "30000")
    ex.enable_tape()
    a, b, e = (ex.client(n) for n in ("alice", "bob", "erin"))
    b.change_position_mode(dualSidePosition="true")

    def limit(c, side, qty, price, **kw):
        return c.new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                           quantity=qty, price=price, **kw)

    steps = [
        lambda: limit(a, "SELL", "0.020", "30010"),
        lambda: b.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.015",
                            positionSide="LONG"),
        lambda: limit(b, "SELL", "0.010", "30020", positionSide="SHORT"),
        lambda: a.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.012"),
        lambda: ex.tape_ladder(SYMBOL, [(299_000, 50)], [(301_000, 50)], ex.now),
        lambda: a.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.030"),
        lambda: limit(b, "BUY", "0.010", "29950", positionSide="LONG"),
        lambda: ex.tape_trade(SYMBOL, 299_400, 30, True, ex.now),  # through b's bid
        lambda: e.change_leverage(symbol=SYMBOL, leverage=100),
        lambda: e.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.030"),
        lambda: ex.set_mark_price(SYMBOL, "29000"),  # erin is liquidated
        lambda: b.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.015",
                            positionSide="LONG"),
    ]
    times, live = [], []
    for step in steps:
        ex.advance(ms=1000)
        step()
        longs = sum(p.qty for acct in ex.ledger.accounts.values()
                    for (s, _side), p in acct.positions.items() if s == SYMBOL and p.qty > 0)
        times.append(ex.now)
        live.append(longs)
    assert ex.ledger.liquidations and ex.ledger.accounts["@tape"].positions
    assert len(set(live)) > 4, live
    assert open_interest_at(ex, SYMBOL, times) == live
    assert open_interest_at(ex, SYMBOL, [T0 - 1]) == [0]
    ex.check_invariants()


@pytest.mark.parametrize("fill, fills", [("touch", True), ("through", False)])
def test_serve_takes_the_backtests_fill_rule_for_resting_orders(fill, fills):
    """``fapisim serve --fill touch``: a bid at a print's price fills when the print
    touches it; under ``through`` (the default) a print must go below it."""
    ex = Exchange(start_time=T0)
    ex.create_account("a", "100000")
    feed = SyntheticFeed(ex, seed=2, now_ms=T0, history_minutes=0, fill=fill)
    btc = feed.symbols[SYMBOL]
    btc.peek(T0)  # the first day's prints, to look ahead in
    day = btc._trades
    low, at = feed.params["open_ticks"][SYMBOL], None
    for i in range(len(day)):  # the first print that makes a new low, after a few
        p = int(day.price[i])
        if p < low and i > 20:
            at = i
            break
        low = min(low, p)
    assert at is not None
    t, price = int(day.time[at]), int(day.price[at])
    feed.advance(t - 1)
    inst = ex.instruments[SYMBOL]
    bid = ex.client("a").new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                   quantity="0.01", price=inst.price_str(price))
    assert bid["status"] == "NEW"
    feed.advance(t)
    got = ex.client("a").query_order(symbol=SYMBOL, orderId=bid["orderId"])
    assert (Decimal(got["executedQty"]) > 0) is fills, got  # the print's size, or all
    assert feed.params["fill"] == fill
