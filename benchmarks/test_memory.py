"""Memory: per resting order, per closed order kept for history, a backtest's peak RSS,
and what a backtest keeps as its event count grows.

* *resting*: tracemalloc while a deep book is built.  Everything the venue keeps for a
  resting LIMIT order counts: the order record, its integers, its entries in the id
  index, the open set and its price level (the responses returned while placing are
  garbage and are collected).
* *closed*: what stays per order once it is cancelled, or filled (with its trade row
  and incomes), for ``allOrders``/``queryOrder``/``userTrades``/``income``
  (:func:`benchmarks.memory.closed_orders`; the bounded event ring left out).
* *peak RSS*: ``ru_maxrss`` of a child process replaying ``FAPISIM_BENCH_RSS_EVENTS``
  (default 10 million) generated prints, beside its RSS with the data alone
  (:func:`benchmarks.memory.rss_of_backtest`): a strategy that trades rarely and one
  that sees every print.
* *growth*: the same every-trade backtest, with the same fills, over two event counts
  (``FAPISIM_BENCH_GROWTH_EVENTS``, default ``1000000,4000000``): what the venue and
  the report keep must not grow with the events.

What each holder keeps, and the bytes, is written down in ``benchmarks/memory.py``.
"""

from __future__ import annotations

import gc
import os
import random
import tracemalloc

import pytest

from benchmarks.conftest import EXTRA
from benchmarks.memory import STRATEGIES, backtest_retained, closed_orders, rss_of_backtest
from benchmarks.workload import LOT, SYMBOL, new_venue, price_str, resting_prices

ORDERS = int(os.environ.get("FAPISIM_BENCH_MEMORY_ORDERS", "1000000"))
LIMIT_BYTES = 600
#: closed orders per measurement, and the bounds per cancelled / filled order (bytes)
CLOSED = int(os.environ.get("FAPISIM_BENCH_MEMORY_CLOSED", "100000"))
LIMIT_CANCELLED, LIMIT_FILLED = 500, 1200
RSS_EVENTS = int(os.environ.get("FAPISIM_BENCH_RSS_EVENTS", "10000000"))
#: the backtest's own share of the peak RSS: at most this many bytes per event, plus
#: RSS_SLACK_KIB (the every-trade loop's row blocks, imports, the report)
RSS_BYTES_PER_EVENT, RSS_SLACK_KIB = 40, 32 * 1024
GROWTH_EVENTS = [int(n) for n in
                 os.environ.get("FAPISIM_BENCH_GROWTH_EVENTS", "1000000,4000000").split(",")]
#: growth allowed from the smaller event count to the larger: the venue (and the report's
#: summary), and everything the run keeps (equity samples included)
VENUE_GROWTH, TOTAL_GROWTH = 64 * 1024, 1024 * 1024


def test_memory_per_resting_order():
    ex, _ids = new_venue(0)
    new_order = ex.client("maker").new_order
    orders = [(s, price_str(t)) for s, t in resting_prices(ORDERS, random.Random(11))]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for side, price in orders:
            new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                      quantity=LOT, price=price)
        gc.collect()
        per_order = (tracemalloc.get_traced_memory()[0] - before) / ORDERS
    finally:
        tracemalloc.stop()
    EXTRA[f"memory per resting order ({ORDERS:,} orders, tracemalloc)"] = (
        f"{per_order:.0f} bytes (limit {LIMIT_BYTES})"
    )
    assert per_order <= LIMIT_BYTES


def test_memory_per_cancelled_order():
    r = closed_orders(CLOSED, "cancelled")
    EXTRA[f"memory per cancelled order kept for history ({CLOSED:,} orders, tracemalloc)"] = (
        f"{r['per_order']:.0f} bytes (limit {LIMIT_CANCELLED}; the bounded event ring held "
        f"{r['ring_per_order']:.0f} more per order at the end)"
    )
    assert r["per_order"] <= LIMIT_CANCELLED


def test_memory_per_filled_order():
    r = closed_orders(CLOSED, "filled")
    EXTRA[f"memory per filled order kept for history ({r['orders']:,} orders: "
          f"{CLOSED:,} MARKET takers and the resting makers they met, tracemalloc)"] = (
        f"{r['per_order']:.0f} bytes with its {r['trade_rows']:g} trade row and "
        f"{r['incomes']:g} income rows (limit {LIMIT_FILLED}; the bounded event ring held "
        f"{r['ring_per_order']:.0f} more per order at the end)"
    )
    assert r["trade_rows"] == 1 and r["incomes"] == 1.5
    assert r["per_order"] <= LIMIT_FILLED


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


@pytest.mark.parametrize("strategy", ["rare", "every"])
def test_peak_rss_of_a_backtest(strategy):
    pytest.importorskip("numpy")
    r = rss_of_backtest(RSS_EVENTS, strategy)
    own = r["backtest_rss"]
    EXTRA[f"peak RSS of a {RSS_EVENTS:,}-event backtest, {STRATEGIES[strategy]}"] = (
        f"{_mib(r['peak_rss'])} at its end (ru_maxrss of a child process: `python -m "
        f"benchmarks.memory rss --events {RSS_EVENTS} --strategy {strategy}`); "
        f"{_mib(r['data_rss'])} with the data alone, so the backtest's own share is "
        f"{_mib(own)} ({own * 1024 / RSS_EVENTS:.1f} bytes per event); generating the data "
        f"peaked at {_mib(r['after_data']['maxrss'])}; {r['fills']:,} fills, "
        f"{r['backtest_seconds']} s"
        + ("" if r["peak_reset"] else " (the peak could not be reset after generating the "
           "data: its peak may hide the backtest's)")
    )
    assert r["fills"] > 0
    assert own <= RSS_BYTES_PER_EVENT * RSS_EVENTS / 1024 + RSS_SLACK_KIB


def test_nothing_grows_with_events():
    """Twice the same every-trade backtest, trading only in its first 100,000 prints (the
    same 10 fills), over a few and many more events: what it keeps is the same but for
    the equity curve, which grows with data time (one sample a minute)."""
    pytest.importorskip("numpy")
    small_n, big_n = GROWTH_EVENTS
    small, big = backtest_retained(small_n), backtest_retained(big_n)
    assert small["fills"] == big["fills"] > 0 and small["orders"] == big["orders"]
    grown = {k: big[k] - small[k] for k in ("total", "venue", "report_rows", "equity")}
    more = big["equity_samples"] - small["equity_samples"]
    per_sample = grown["equity"] / more if more else 0.0
    EXTRA[f"kept after an every-trade backtest with {small['fills']} fills, "
          f"{small_n:,} vs {big_n:,} events (tracemalloc)"] = (
        f"{small['total']:,} vs {big['total']:,} bytes; the venue {small['venue']:,} vs "
        f"{big['venue']:,} ({grown['venue']:+,}), the report's rows {grown['report_rows']:+,}, "
        f"the equity curve {grown['equity']:+,} ({more:,} more samples, "
        f"{per_sample:.0f} bytes each)"
    )
    assert grown["venue"] < VENUE_GROWTH
    assert grown["report_rows"] == 0
    assert grown["total"] < TOTAL_GROWTH
    assert per_sample < 256
