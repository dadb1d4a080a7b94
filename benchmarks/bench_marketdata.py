"""The market-data store: klines over a year of 1-minute candles, and the memory prints take.

A year of BTCUSDT minutes (525,600 candles, from ``engine.backtest.synthetic``'s
market) is loaded into ``engine.backtest.marketdata.Candles``; each round asks for
the latest 1,500 candles of 1m, 1h and 1d, and 12 of 1M.  The in-run reference,
interleaved in the untimed set-up, builds the same 1,500 hourly candles with a plain
Python loop over the minutes (what a list-of-rows store would do).  Memory: bytes
per print of ``Prints`` after a million prints, and per minute of ``Candles``.
Run with::

    python -m pytest benchmarks/bench_marketdata.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.conftest import EXTRA, record
from engine.backtest.marketdata import MINUTE_MS, Candles, Prints
from engine.backtest.synthetic import DAY_MINUTES, MarketModel, minute_path

YEAR = 365 * DAY_MINUTES
T0 = 1704067200000


def _year() -> Candles:
    path = minute_path(MarketModel(420_000, trades_per_day=1_000), 7, T0, YEAR)
    c = Candles()
    c.extend(T0 + MINUTE_MS * np.arange(YEAR, dtype=np.int64), path.open, path.high,
             path.low, path.close, path.count, path.count)
    return c


def _plain_hours(c: Candles, hours: int) -> list[tuple[int, ...]]:
    t, o, h, lo, cl, v = (c.column(n).tolist()[-hours * 60:]
                          for n in ("open_time", "open", "high", "low", "close", "volume"))
    out = []
    for i in range(0, len(t), 60):
        out.append((t[i], o[i], max(h[i:i + 60]), min(lo[i:i + 60]), cl[i + 59],
                    sum(v[i:i + 60])))
    return out


def test_klines_over_a_year_of_minutes(benchmark):
    c = _year()
    reference: list[float] = []

    def setup() -> None:
        start = time.perf_counter()
        _plain_hours(c, 1500)
        reference.append(time.perf_counter() - start)

    def run() -> None:
        c.klines("1m", limit=1500)
        c.klines("1h", limit=1500)
        c.klines("1d", limit=365)
        c.klines("1M", limit=12)

    benchmark.pedantic(run, setup=setup, rounds=20, warmup_rounds=1)
    record(benchmark, "klines_4_queries_1y_minutes", YEAR, 4)
    hours = c.klines("1h", limit=1500)
    assert [tuple(int(x) for x in row) for row in zip(
        hours.open_time, hours.open, hours.high, hours.low, hours.close, hours.volume,
        strict=True)] == _plain_hours(c, 1500)
    EXTRA["klines over a year of 1m candles"] = {
        "four_queries_ms": round(benchmark.stats.stats.median * 1000, 2),
        "plain_loop_1500_hours_ms": round(statistics.median(reference) * 1000, 2),
        "bytes_per_minute": round(c.nbytes / len(c), 1),
    }


def test_memory_per_million_prints():
    tape, candles = Prints(), Candles()
    rng = np.random.default_rng(1)
    times = T0 + np.cumsum(rng.integers(0, 80, size=1_000_000))
    prices = 420_000 + np.cumsum(rng.integers(-2, 3, size=1_000_000))
    for t, p in zip(times.tolist(), prices.tolist(), strict=True):
        tape.add(t, p, 3, p % 2 == 0)
        candles.add_print(t, p, 3, p % 2 == 0)
    EXTRA["memory per million prints"] = {
        "prints_bytes": tape.nbytes, "bytes_per_print": round(tape.nbytes / len(tape), 1),
        "candle_minutes": len(candles), "candles_bytes": candles.nbytes,
    }
    assert tape.nbytes / len(tape) < 120  # 7 int64 columns, capacity at most doubled
