"""The columnar market-data store behind the klines and aggTrades endpoints
(``engine.backtest.marketdata``), checked against a plain model: prints grouped into
candles by calendar arithmetic from :mod:`datetime`, one list per candle."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.marketdata import INTERVALS, MINUTE_MS, Candles, Prints, interval_starts
from engine.core.errors import InvariantError

T0 = 1_706_659_200_000  # 2024-01-31T00:00Z: months of 31, 29 and 31 days ahead


def candle_open(interval: str, t: int) -> int:
    """The model: where the ``interval`` candle holding ``t`` opens, by the calendar."""
    day = dt.datetime.fromtimestamp(t // 1000, dt.UTC)
    if interval == "1M":
        start = day.replace(day=1, hour=0, minute=0, second=0)
    elif interval == "1w":
        start = (day - dt.timedelta(days=day.weekday())).replace(hour=0, minute=0, second=0)
    else:
        length = INTERVALS[interval]
        return t // length * length
    return int(start.timestamp()) * 1000


def model_klines(prints: list[tuple[int, int, int, bool]], interval: str) -> list[tuple]:
    """(open time, open, high, low, close, volume, count) per candle, flat where none
    printed, from the first print's minute to the last's."""
    minutes = {}
    for t, p, q, _m in prints:
        minutes.setdefault(t // MINUTE_MS * MINUTE_MS, []).append((p, q))
    first, last = min(minutes), max(minutes)
    out: dict[int, list] = {}
    close = None
    for minute in range(first, last + 1, MINUTE_MS):
        rows = minutes.get(minute) or [(close, 0)]
        k = candle_open(interval, minute)
        c = out.setdefault(k, [k, rows[0][0], rows[0][0], rows[0][0], None, 0, 0])
        for p, q in rows:
            c[2], c[3] = max(c[2], p), min(c[3], p)
            c[5] += q
        c[4] = close = rows[-1][0]
        c[6] += len(minutes.get(minute, []))
    return [tuple(v) for _k, v in sorted(out.items())]


prints_strategy = st.lists(
    st.tuples(st.integers(0, 70 * 24 * 60 * MINUTE_MS // 97), st.integers(1, 500),
              st.integers(1, 50), st.booleans()),
    min_size=1, max_size=60,
)


def build(raw) -> tuple[Candles, Prints, list[tuple[int, int, int, bool]]]:
    prints = sorted(((T0 + dt_ * 97, p, q, m) for dt_, p, q, m in raw), key=lambda x: x[0])
    candles, tape = Candles(), Prints()
    for t, p, q, m in prints:
        candles.add_print(t, p, q, m)
        tape.add(t, p, q, m)
    candles._check()
    return candles, tape, prints


@settings(max_examples=60, deadline=None)
@given(prints_strategy, st.sampled_from(sorted(INTERVALS)))
def test_every_interval_s_candles_are_the_model_s(raw, interval):
    candles, _tape, prints = build(raw)
    want = model_klines(prints, interval)
    got = candles.klines(interval, limit=1500)
    rows = list(zip(got.open_time.tolist(), got.open.tolist(), got.high.tolist(),
                    got.low.tolist(), got.close.tolist(), got.volume.tolist(),
                    got.count.tolist(), strict=True))
    assert rows == want[-1500:]
    assert (got.close_time[:-1] == got.open_time[1:] - 1).all()


@settings(max_examples=60, deadline=None)
@given(prints_strategy, st.sampled_from(["1m", "5m", "1h", "1d", "1w", "1M"]),
       st.one_of(st.none(), st.integers(-1, 80)), st.one_of(st.none(), st.integers(-1, 80)),
       st.integers(1, 30))
def test_start_end_and_limit_select_as_binance_does(raw, interval, s, e, limit):
    candles, _tape, prints = build(raw)
    every = model_klines(prints, interval)
    opens = [row[0] for row in every]
    start = None if s is None else opens[min(max(s, 0), len(opens) - 1)] + (s < 0)
    end = None if e is None else opens[min(max(e, 0), len(opens) - 1)] - (e < 0)
    chosen = [o for o in opens if (start is None or o >= start) and (end is None or o <= end)]
    chosen = chosen[:limit] if start is not None else chosen[-limit:]
    got = candles.klines(interval, start=start, end=end, limit=limit)
    assert got.open_time.tolist() == chosen


@settings(max_examples=60, deadline=None)
@given(prints_strategy, st.integers(0, 70), st.integers(0, 70), st.integers(1, 20),
       st.sampled_from(["id", "time", "start", "end", "none"]))
def test_agg_trades_queries_are_the_model_s(raw, i, j, limit, how):
    _candles, tape, prints = build(raw)
    n = len(prints)
    times = [t for t, *_ in prints]
    a, b = sorted((times[min(i, n - 1)], times[min(j, n - 1)]))
    if how == "id":
        want = list(range(min(i, n), min(n, i + limit)))
        got = tape.query(from_id=i + 1, limit=limit)
    elif how == "time":
        want = [k for k in range(n) if a <= times[k] <= b][:limit]
        got = tape.query(start=a, end=b, limit=limit)
    elif how == "start":
        want = [k for k in range(n) if times[k] >= a][:limit]
        got = tape.query(start=a, limit=limit)
    elif how == "end":
        want = [k for k in range(n) if times[k] <= b][-limit:]
        got = tape.query(end=b, limit=limit)
    else:
        want = list(range(max(0, n - limit), n))
        got = tape.query(limit=limit)
    assert got.tolist() == want
    assert tape.column("a")[got].tolist() == [k + 1 for k in want]
    assert (tape.column("f")[1:] == tape.column("l")[:-1] + 1).all()


def test_history_then_prints_and_the_minutes_between_are_flat():
    c = Candles()
    times = T0 + MINUTE_MS * np.arange(3, dtype=np.int64)
    px = np.array([100, 101, 102], np.int64)
    c.extend(times, px, px + 2, px - 1, px + 1)
    c.add_print(T0 + 5 * MINUTE_MS + 30_000, 110, 4, False)
    c._check()
    k = c.klines("1m")
    assert k.open_time.tolist() == (T0 + MINUTE_MS * np.arange(6)).tolist()
    assert k.close.tolist() == [101, 102, 103, 103, 103, 110]
    assert (k.volume.tolist(), k.taker_volume.tolist()) == ([0] * 5 + [4], [0] * 5 + [4])
    with pytest.raises(ValueError):
        c.extend(times, px, px, px, px)  # not after the last minute
    with pytest.raises(ValueError):
        c.add_print(T0, 1, 1, True)  # before the last minute
    with pytest.raises(ValueError):
        c.klines("2d")
    with pytest.raises(ValueError):
        c.klines("1m", limit=1501)


def test_a_gap_in_the_minutes_is_an_invariant_error():
    c = Candles()
    c.extend(np.array([T0], np.int64), *(np.array([5], np.int64),) * 4)
    c._c._data["open_time"][0] = T0 - 1
    c._c.append(open_time=T0 + MINUTE_MS, open=5, high=5, low=5, close=5, volume=0, quote=0,
                count=0, taker_volume=0, taker_quote=0)
    with pytest.raises(InvariantError):
        c._check()


def test_weeks_open_on_monday_and_months_on_the_first():
    wk = interval_starts("1w", T0, T0 + 20 * 86_400_000)
    assert all(dt.datetime.fromtimestamp(t // 1000, dt.UTC).weekday() == 0 for t in wk)
    mo = interval_starts("1M", T0, T0 + 70 * 86_400_000)
    assert [dt.datetime.fromtimestamp(t // 1000, dt.UTC).strftime("%m-%d") for t in mo] == [
        "01-01", "02-01", "03-01", "04-01", "05-01"][: len(mo)]


def test_history_prints_aggregate_trades_and_ids_run_on_into_live_prints():
    tape = Prints()
    times = np.array([T0, T0 + 60_000, T0 + 120_000], np.int64)
    tape.extend(times, np.array([5, 6, 7]), np.array([4, 8, 12]), np.array([True, False, True]),
                np.array([1, 2, 3]))
    a = tape.add(T0 + 130_000, 8, 1, False)
    assert a == 4 and tape.column("f").tolist() == [1, 2, 4, 7]
    assert tape.column("l").tolist() == [1, 3, 6, 7]
    for bad in (np.array([0, 1, 1]), ):
        with pytest.raises(ValueError):
            tape.extend(times + 200_000, times, times, times > 0, bad)
    with pytest.raises(ValueError):  # before the last print
        tape.extend(times, times, times, times > 0, np.ones(3, np.int64))
