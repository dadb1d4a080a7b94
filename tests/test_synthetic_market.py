"""The synthetic market (``engine.backtest.synthetic.MarketModel``) and the sample files
``fapisim sample-data`` writes from it.

Realism is checked on seeded paths, so every figure below is fixed for a given numpy:
days move about 1–3 % high to low, volatility clusters, prints follow volatility,
returns have fat tails, and a trailing stop at Binance's least callback (0.1 %) would
fire every day.
"""

from __future__ import annotations

import zipfile
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.backtest.csvtext import Col, csv_rows
from engine.backtest.data import load
from engine.backtest.sample import HEADERS, write_sample
from engine.backtest.synthetic import (
    DAY_MINUTES,
    MINUTE_MS,
    MarketModel,
    minute_path,
    minute_trades,
)
from engine.cli import main
from engine.core.instrument import default_instruments

START = 1704067200000
BTC = MarketModel(420_000, trades_per_day=20_000)
DAYS = 60


@pytest.fixture(scope="module")
def path():
    return minute_path(BTC, 7, START, DAYS * DAY_MINUTES)


def by_day(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, DAY_MINUTES)


# -- the minute path ---------------------------------------------------------------------
def test_the_same_seed_gives_the_same_path_and_a_longer_path_extends_a_shorter(path):
    again = minute_path(BTC, 7, START, DAYS * DAY_MINUTES)
    short = minute_path(BTC, 7, START, 3 * DAY_MINUTES + 17)
    other = minute_path(BTC, 8, START, DAYS * DAY_MINUTES)
    assert (again.close == path.close).all() and (again.count == path.count).all()
    assert (short.close == path.close[:len(short)]).all()
    assert not (other.close == path.close).all()


def test_each_minute_opens_at_the_last_close_and_its_candle_holds_both(path):
    assert path.open[0] == BTC.start_price_ticks
    assert (path.open[1:] == path.close[:-1]).all()
    assert (path.high >= np.maximum(path.open, path.close)).all()
    assert (path.low <= np.minimum(path.open, path.close)).all() and (path.low >= 1).all()


def test_a_day_moves_about_one_to_three_percent_high_to_low(path):
    day_range = (by_day(path.high).max(1) - by_day(path.low).min(1)) / by_day(path.open)[:, 0]
    assert 0.01 <= np.median(day_range) <= 0.03
    assert day_range.min() < 0.01 < 0.03 < day_range.max()  # calm days and wild ones


def test_volatility_clusters_and_prints_follow_it(path):
    ret = np.diff(np.log(path.close.astype(float)))
    hourly = np.abs(ret[: len(ret) // 60 * 60]).reshape(-1, 60).sum(1)
    lag1 = np.corrcoef(hourly[:-1], hourly[1:])[0, 1]
    prints = path.count[1: len(hourly) * 60 + 1].reshape(-1, 60).sum(1)
    assert lag1 > 0.3  # a volatile hour is followed by a volatile hour
    assert np.corrcoef(hourly, prints)[0, 1] > 0.3
    assert DAYS * BTC.trades_per_day * 0.6 < path.count.sum() < DAYS * BTC.trades_per_day * 1.6


def test_minute_returns_have_fat_tails_from_jumps_and_regimes(path):
    ret = np.diff(np.log(path.close.astype(float)))
    kurtosis = ((ret - ret.mean()) ** 4).mean() / ret.var() ** 2
    assert kurtosis > 6  # a normal walk has 3
    assert np.abs(ret).max() > 0.002  # at least one jump of 0.2 % in a minute


def test_a_trailing_stop_at_the_least_callback_would_fire_every_day(path):
    close = by_day(path.close).astype(float)
    drawdown = 1 - close / np.maximum.accumulate(close, axis=1)
    assert (drawdown.max(1) > 0.001).all()


# -- the prints ---------------------------------------------------------------------------
def test_prints_pass_through_each_minute_and_end_at_its_close(path):
    day = path.slice(DAY_MINUTES, 2 * DAY_MINUTES)
    t = minute_trades(day, 7, 1)
    t._check()
    assert len(t) == int(day.count.sum()) and (t.price >= 1).all()
    minute = (t.time - day.start_ms) // MINUTE_MS
    assert (minute == np.repeat(np.arange(DAY_MINUTES), day.count)).all()
    last = np.cumsum(day.count) - 1
    has = day.count > 0
    assert (t.price[last[has]] == day.close[has]).all()
    up = np.diff(t.price) > 0
    assert not t.buyer_maker[1:][up].any()  # an up-tick is a buy aggressor
    again = minute_trades(day, 7, 1)
    assert (again.price == t.price).all() and (again.time == t.time).all()
    assert not (minute_trades(day, 7, 2).time == t.time).all()


def test_a_model_refuses_what_is_not_a_non_negative_int():
    for bad in ({"start_price_ticks": 0}, {"daily_vol_bp": -1}, {"jump_bp": (9, 3)},
                {"trades_per_day": 1.5}, {"daily_vol_bp": True}):
        with pytest.raises(ValueError):
            MarketModel(**{"start_price_ticks": 10, **bad})


# -- the sample files ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    paths = write_sample(out, ["BTCUSDT", "ETHUSDT"], 2, 7, trades_per_day=3_000)
    return out, paths


def test_the_files_are_binance_s_layout_and_read_back_as_written(sample):
    out, paths = sample
    names = sorted(str(p.relative_to(out)) for p in paths)
    assert "futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-02.zip" in names
    assert "futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-01.zip" in names
    assert len(names) == 2 * (2 * 4 + 1)
    streams = {(s.symbol, s.kind.value): s for s in load(out, default_instruments())}
    assert len(streams[("BTCUSDT", "funding")]) == 6
    inst = default_instruments()[0]
    model = MarketModel(42_000 * 10**inst.price_exp // inst.tick_m, trades_per_day=3_000)
    first_day = minute_path(model, 7, START, DAY_MINUTES)
    trades = minute_trades(first_day, 7, 0, symbol="BTCUSDT")
    read = streams[("BTCUSDT", "trade")]
    assert (read.price[:len(trades)] == trades.price).all()
    assert (read.qty[:len(trades)] == trades.qty).all()
    kl = streams[("BTCUSDT", "kline")]
    minute = (read.time - START) // MINUTE_MS
    for i in (0, 500, 1439):  # a bar is its minute's prints
        prices = read.price[minute == i]
        if len(prices):
            assert (kl.high[i], kl.low[i], kl.close[i]) == (prices.max(), prices.min(),
                                                             prices[-1])


def test_the_same_seed_writes_the_same_bytes_and_headers_alternate(sample, tmp_path):
    out, paths = sample
    again = write_sample(tmp_path, ["BTCUSDT", "ETHUSDT"], 2, 7, trades_per_day=3_000)
    for a, b in zip(paths, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name

    def first_line(p):
        with zipfile.ZipFile(p) as z:
            return z.read(z.namelist()[0]).split(b"\n", 1)[0].decode()

    agg = [p for p in paths if "aggTrades" in p.name and "BTC" in p.name]
    assert first_line(agg[0]) == HEADERS["aggTrades"]
    assert not first_line(agg[1])[0].isalpha()
    book = next(p for p in paths if "bookTicker" in p.name)
    assert first_line(book) == HEADERS["bookTicker"]


def test_sample_data_command_writes_checks_and_refuses_what_it_cannot_do(tmp_path, capsys):
    assert main(["sample-data", str(tmp_path), "--days", "1", "--trades-per-day", "500",
                 "--check"]) == 0
    out = capsys.readouterr().out
    assert "BTCUSDT-aggTrades-2024-01-01.zip" in out and "read back: BTCUSDT trade" in out
    assert main(["sample-data", str(tmp_path), "--symbols", "XRPUSDT"]) == 2
    assert "no sample market for XRPUSDT" in capsys.readouterr().err
    assert main(["sample-data", str(tmp_path), "--start", "2024-13-01"]) == 2
    assert main(["sample-data", str(tmp_path), "--days", "0"]) == 2
    assert main(["sample-data", str(tmp_path), "--trades-per-day", "0"]) == 2
    capsys.readouterr()
    # a market so thin a day may not print at all still writes files the loader reads
    assert main(["sample-data", str(tmp_path / "thin"), "--days", "3", "--trades-per-day",
                 "1", "--check"]) == 0
    assert "read back: BTCUSDT trade" in capsys.readouterr().out


# -- the csv writer -----------------------------------------------------------------------
def _reference(values: list[int], exp: int, decimals: int) -> str:
    text = []
    for v in values:
        d = Decimal(v).scaleb(-exp)
        text.append(f"{d:.{decimals}f}" if decimals else str(v))
    return text


@given(st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=30),
       st.integers(0, 4), st.integers(0, 3), st.lists(st.booleans(), min_size=30,
                                                      max_size=30))
def test_csv_rows_writes_what_string_formatting_would(values, exp, extra, flags):
    decimals = exp + extra
    n = len(values)
    got = csv_rows([Col(np.array(values, np.int64), exp, decimals),
                    Col(np.array(values, np.int64)), Col(np.array(flags[:n]))])
    want = "".join(f"{a},{b},{'true' if f else 'false'}\n" for a, b, f in zip(
        _reference(values, exp, decimals), map(str, values), flags[:n], strict=True))
    assert got == want.encode()


def test_day_names_are_the_calendar_s_without_reading_a_clock():
    import datetime as dt

    from engine.backtest.sample import epoch_day, iso_day

    for k in range(-800, 80_000, 7):
        text = (dt.date(1970, 1, 1) + dt.timedelta(days=k)).isoformat()
        assert iso_day(k) == text and epoch_day(text) == k
    for bad in ("2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "24-01-01", "x"):
        with pytest.raises(ValueError):
            epoch_day(bad)
