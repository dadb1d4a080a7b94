"""``fapisim serve --replay DATA``: Binance public-data files served as a live market —
history before the start point, the data's trades applied in order as the clock reaches
them (rebased), the end of the data, a resumed state directory, bad files refused at
start, and two client libraries at ``--speed 10``."""

from __future__ import annotations

import logging
import random
import time
import zipfile
from decimal import Decimal

import numpy as np
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_support import RawClient, ccxt_usdm

from engine import Exchange
from engine.backtest.data import Kind, load
from engine.backtest.marketdata import MINUTE_MS
from engine.backtest.sample import write_sample
from engine.cli import main
from engine.core.listing import listed
from engine.server import create_app, running
from engine.server.clock import VenueClock
from engine.server.replayfeed import ReplayFeed, data_files, minute_candles
from engine.server.state import StateDir, StateError

NOW = 1_796_600_000_000  # the venue's "now" the data's start point maps to
TOKEN = "operator-token-0123456789"
KEY, SECRET = "replay-key-0001", "replay-secret-0001"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """One day of seeded sample files for BTCUSDT and ETHUSDT (aggTrades, bookTicker,
    klines, markPriceKlines, fundingRate)."""
    root = tmp_path_factory.mktemp("data")
    write_sample(root, ["BTCUSDT", "ETHUSDT"], 1, 5, trades_per_day=20_000)
    return root


def venue(data, **kwargs) -> tuple[Exchange, ReplayFeed]:
    ex = Exchange(listed(["BTCUSDT", "ETHUSDT"]))
    ex.create_account("alice", "100000", api_key=KEY, api_secret=SECRET)
    return ex, ReplayFeed(ex, files=data_files([data]), now_ms=NOW, **kwargs)


def trades_of(data, symbol: str):
    both = {i.symbol: i for i in listed(["BTCUSDT", "ETHUSDT"])}
    return next(s for s in load(data_files([data]), both)
                if s.kind is Kind.TRADE and s.symbol == symbol)


# -- history ---------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40 * MINUTE_MS), st.integers(1, 500),
                          st.integers(1, 9), st.booleans()), min_size=1, max_size=60))
def test_minute_candles_are_those_a_plain_loop_builds(rows):
    rows.sort(key=lambda r: r[0])
    t, p, q, m = (np.array(c, dtype=np.int64 if k < 3 else bool) for k, c in
                  enumerate(zip(*rows, strict=True)))
    candles = minute_candles(t, p, q, m)
    first, last = rows[0][0] // MINUTE_MS, rows[-1][0] // MINUTE_MS
    close = None
    for minute in range(first, last + 1):
        mine = [r for r in rows if r[0] // MINUTE_MS == minute]
        i = minute - first
        got = {n: int(candles.column(n)[i]) for n in (
            "open_time", "open", "high", "low", "close", "volume", "count", "quote",
            "taker_volume", "taker_quote")}
        if mine:
            close = mine[-1][1]
            want = {"open": mine[0][1], "high": max(r[1] for r in mine),
                    "low": min(r[1] for r in mine), "close": close,
                    "volume": sum(r[2] for r in mine), "count": len(mine),
                    "quote": sum(r[1] * r[2] for r in mine),
                    "taker_volume": sum(r[2] for r in mine if not r[3]),
                    "taker_quote": sum(r[1] * r[2] for r in mine if not r[3])}
        else:
            want = {"open": close, "high": close, "low": close, "close": close, "volume": 0,
                    "count": 0, "quote": 0, "taker_volume": 0, "taker_quote": 0}
        assert got == {"open_time": minute * MINUTE_MS, **want}
    assert len(candles) == last - first + 1


def test_the_default_start_is_the_warmup_at_most_half_the_data(data):
    tr = trades_of(data, "BTCUSDT")
    _ex, feed = venue(data)
    first = min(int(tr.time[0]), int(trades_of(data, "ETHUSDT").time[0]))
    last = max(int(tr.time[-1]), int(trades_of(data, "ETHUSDT").time[-1]))
    assert feed.start == first + (last - first) // 2  # one day: 500 h is more than half
    _ex, feed = venue(data, warmup_ms=3 * 3_600_000)
    assert feed.start == first + 3 * 3_600_000


def test_history_before_the_start_is_served_rebased_and_nothing_more(data):
    ex, feed = venue(data, warmup_ms=2 * 3_600_000)
    tr = trades_of(data, "BTCUSDT")
    a = int(np.searchsorted(tr.time, feed.start - feed.warmup))
    b = int(np.searchsorted(tr.time, feed.start))
    prints = feed.symbols["BTCUSDT"].prints
    assert len(prints) == b - a
    assert (prints.column("T") == tr.time[a:b] + feed.offset).all()
    assert (prints.column("p") == tr.price[a:b]).all()
    assert feed.offset % MINUTE_MS == 0 and abs(feed.start + feed.offset - NOW) < MINUTE_MS
    app = create_app(ex, market=feed, clock=lambda: NOW, venue_clock=VenueClock(0, start=NOW))
    with running(app) as url:
        k = requests.get(f"{url}/fapi/v1/klines", params={
            "symbol": "BTCUSDT", "interval": "1h", "limit": 3}).json()
        assert len(k) == 3 and k[-1][0] <= NOW < k[-1][6] + 1
        agg = requests.get(f"{url}/fapi/v1/aggTrades", params={"symbol": "BTCUSDT",
                                                              "limit": 5}).json()
        # the first turn applies the data from the start point to now (under a minute:
        # the offset is whole minutes), and lockstep nothing more
        c = int(np.searchsorted(tr.time, NOW - feed.offset, "right"))
        assert [x["T"] for x in agg] == (tr.time[c - 5:c] + feed.offset).tolist()
        eth = trades_of(data, "ETHUSDT").time
        assert feed.applied == c - b + int(((eth >= feed.start) & (eth <= NOW - feed.offset))
                                           .sum())


# -- live ------------------------------------------------------------------------------------
def test_the_data_is_applied_in_order_as_the_clock_reaches_it_until_it_ends(data, caplog):
    ex, feed = venue(data)
    tr = trades_of(data, "BTCUSDT")
    app = create_app(ex, market=feed, venue_clock=VenueClock(0, start=NOW),
                     admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with running(app) as url:
        before = len(feed.symbols["BTCUSDT"].prints)
        r = requests.post(f"{url}/fapisim/v1/advance", params={"ms": 600_000}, headers=auth)
        assert r.status_code == 200, r.text
        a = int(np.searchsorted(tr.time, feed.start))
        b = int(np.searchsorted(tr.time, NOW + 600_000 - feed.offset, "right"))
        prints = feed.symbols["BTCUSDT"].prints
        assert len(prints) - before == b - a > 0
        assert (prints.column("p")[before:] == tr.price[a:b]).all()
        assert (prints.column("q")[before:] == tr.qty[a:b]).all()
        last = requests.get(f"{url}/fapi/v1/ticker/price", params={"symbol": "BTCUSDT"})
        inst = ex.instruments["BTCUSDT"]
        ticks = Decimal(int(tr.price[b - 1]) * inst.tick_m)
        assert Decimal(last.json()["price"]) == ticks / 10**inst.price_exp
        funding = next(f for f in load(data_files([data]), listed(["BTCUSDT", "ETHUSDT"]))
                       if f.kind is Kind.FUNDING and f.symbol == "BTCUSDT").time + feed.offset
        nxt = requests.get(f"{url}/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"}).json()
        assert nxt["nextFundingTime"] == int(funding[funding > ex.now][0])  # the data's next
        book = requests.get(f"{url}/fapi/v1/depth", params={"symbol": "BTCUSDT"}).json()
        assert len(book["bids"]) == len(book["asks"]) == 20
        # a bot's order walks the tape's ladder
        c = RawClient(url, KEY, SECRET)
        r = c.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY",
                                                 "type": "MARKET", "quantity": "0.01",
                                                 "newOrderRespType": "RESULT"})
        assert r.json()["status"] == "FILLED", r.text
        # the end of the data: the venue keeps its final state and says so
        with caplog.at_level(logging.WARNING, "fapisim.server"):
            r = requests.post(f"{url}/fapisim/v1/advance", params={"ms": 86_400_000},
                              headers=auth)
        status = requests.get(f"{url}/fapisim/v1/status", headers=auth).json()
        assert status["market"]["ended"] is True and status["market"]["kind"] == "replay"
        assert "the replayed data has ended" in caplog.text
        applied = feed.applied
        requests.post(f"{url}/fapisim/v1/advance", params={"ms": 3_600_000}, headers=auth)
        assert feed.applied == applied
        assert c.signed("GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"}).json()[0][
            "positionAmt"] == "0.01"
    with app.state.lock:
        ex.check_invariants()


def test_a_replayed_state_directory_resumes_and_refuses_changed_files(data, tmp_path):
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    state = StateDir(tmp_path / "s")
    ex = state.create(lambda p: Exchange(listed(["BTCUSDT", "ETHUSDT"]), journal=p))
    ex.create_account("alice", "100000", api_key=KEY, api_secret=SECRET)
    feed = ReplayFeed(ex, files=data_files([copy]), now_ms=NOW)
    rng = random.Random(3)
    for k in range(1, 20):
        feed.advance(NOW + k * 30_000, rng.choice([None, 2]))
        ex.client("alice").new_order(symbol="BTCUSDT", side=rng.choice(["BUY", "SELL"]),
                                     type="MARKET", quantity="0.01")
    state.write(state.capture(ex, feed))
    feed.advance(NOW + 900_000)
    ex.journal.flush()
    want, position = ex.state_hash(), feed.position()
    state.close()
    again = StateDir(tmp_path / "s")
    got, market = again.resume()
    assert got.state_hash() == want and market.position() == position
    assert again.snapshot_seq > 0
    again.close()
    victim = next(copy.rglob("*aggTrades*.zip"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    with pytest.raises(StateError, match="the replayed data changed"):
        StateDir(tmp_path / "s").resume()


def test_a_bad_row_stops_serve_at_start_naming_file_line_and_reason(data, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    victim = sorted(bad.rglob("BTCUSDT-aggTrades-*.zip"))[0]
    with zipfile.ZipFile(victim) as z:
        name = z.namelist()[0]
        lines = z.read(name).decode().splitlines()
    lines[7] = lines[7].replace(",", ",x", 1)
    with zipfile.ZipFile(victim, "w") as z:
        z.writestr(name, "\n".join(lines) + "\n")
    state = tmp_path / "venue"
    assert main(["serve", "--port", "0", "--replay", str(bad), "--state", str(state)]) == 2
    err = capsys.readouterr().err
    assert f"{victim.name}/{name}, line 8: " in err and err.startswith("fapisim: error: ")
    assert not (state / "journal.jsonl").exists()  # no half-made venue to resume


@pytest.mark.parametrize("args, problem", [
    (["--start", "yesterday"], "--start is YYYY-MM-DD"),
    (["--start", "2030-01-01"], "outside the data's trades"),
    (["--warmup", "5 weeks"], "--warmup is a number"),
    (["--symbols", "BTCUSDT"], "drop --symbols"),
    (["--no-market"], "choose one"),
])
def test_replay_options_are_checked(data, capsys, args, problem):
    assert main(["serve", "--port", "0", "--replay", str(data), *args]) == 2
    assert problem in capsys.readouterr().err


# -- speed 10, two client libraries ----------------------------------------------------------
def test_python_binance_and_ccxt_trade_a_replay_at_ten_times_speed(data):
    """At --speed 10 the venue clock (and every candle and trade time) runs ten times
    as fast as the wall clock; both libraries sign with their own (wall) clock and are
    accepted (SPEC 9), read candles, and trade."""
    from binance.client import Client

    ex, feed = venue(data)
    app = create_app(ex, market=feed, venue_clock=VenueClock(10_000, start=NOW))
    with running(app) as url:
        client = Client(KEY, SECRET, ping=False)
        client.FUTURES_URL = url + "/fapi"
        t0, w0 = client.futures_time()["serverTime"], time.time()
        bars = client.futures_klines(symbol="BTCUSDT", interval="1m", limit=10)
        assert len(bars) == 10
        order = client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                            quantity="0.01", newOrderRespType="RESULT")
        assert order["status"] == "FILLED"
        bot = ccxt_usdm(url, KEY, SECRET)
        bot.load_markets()
        ohlcv = bot.fetch_ohlcv("BTC/USDT:USDT", "1m", limit=5)
        assert len(ohlcv) == 5 and abs(ohlcv[-1][0] - NOW) < 2 * MINUTE_MS  # rebased
        sold = bot.create_order("BTC/USDT:USDT", "market", "sell", 0.01)
        assert sold["status"] in ("closed", "open")
        time.sleep(1.0)
        t1, w1 = client.futures_time()["serverTime"], time.time()
        ratio = (t1 - t0) / ((w1 - w0) * 1000)
        assert 7 < ratio < 13, ratio
        assert feed.applied > 0
        assert not any(p["contracts"] for p in bot.fetch_positions(["BTC/USDT:USDT"]))
