"""Backtest replay speed: 5 million generated aggTrades, in the two regimes that matter.

* *rare*: the strategy trades on bars and holds orders and TP/SL away from the
  price most of the time, so the loop skips ahead with a vectorised scan and
  visits only the events where something can happen (goal: ≥ 5 million
  events/second);
  (also measured with a bookTicker quote before every trade: 10 million events);
* *every*: the strategy overrides ``on_trade``, so every print reaches Python:
  one engine call, one ``Trade`` and the callback per event (goal: ≥ 200
  thousand events/second).

Each rate is events / wall time of ``engine.backtest.run`` on streams already in
memory (set-up, replay and report included; reading the files is measured by the
loaders' own tests).  Run with ``python -m pytest benchmarks/test_backtest_replay.py``;
the rates are printed in the summary table (depth column = events) and in the
lines below it, with the load average at the time.
"""

from __future__ import annotations

import os

import pytest

np = pytest.importorskip("numpy")

from benchmarks.conftest import EXTRA, record  # noqa: E402
from benchmarks.workload import every_trade_strategy  # noqa: E402
from engine.backtest import run  # noqa: E402
from engine.backtest.data import Kind, Stream  # noqa: E402
from engine.backtest.examples.bracket import BracketScalper  # noqa: E402
from engine.backtest.synthetic import random_walk_trades  # noqa: E402

EVENTS = int(os.environ.get("FAPISIM_BENCH_EVENTS", "5000000"))


@pytest.fixture(scope="module")
def tape():
    return random_walk_trades(EVENTS, 300_000, seed=2024)


@pytest.fixture(scope="module")
def book(tape):
    """A bookTicker update at each print: the print at the bid (a sell) or the ask."""
    rng = np.random.default_rng(7)
    spread = rng.integers(1, 3, size=len(tape), dtype=np.int64)
    return Stream(tape.symbol, Kind.QUOTE, tape.time.copy(), {
        "bid": np.where(tape.buyer_maker, tape.price, tape.price - spread),
        "bid_qty": rng.integers(1, 900, size=len(tape), dtype=np.int64),
        "ask": np.where(tape.buyer_maker, tape.price + spread, tape.price),
        "ask_qty": rng.integers(1, 900, size=len(tape), dtype=np.int64)})


#: the bracket example's distances (ticks) for hourly bars: entries 20 USDT away
FAR = {"offset": "200", "tp": "600", "sl": "400"}


class HourlyBrackets(BracketScalper):
    """The bracket example on hourly bars: an entry 20 USDT from the price each hour,
    TP/SL attached, stale entries cancelled, stops trailed."""

    bar_interval_ms = 3_600_000


#: sees every print; trades once per 500 000 of them (a MARKET buy, then its close)
EveryTrade = every_trade_strategy(500_000)


def _rate(benchmark, name, streams, strategy, params=None, rounds=3):
    reports = []
    events = sum(len(s) for s in streams)

    def replay():
        reports.append(run(streams, strategy, params=params))

    benchmark.pedantic(replay, rounds=rounds, iterations=1, warmup_rounds=0)
    rate = record(benchmark, name, events, events)
    report = reports[-1]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    kinds = " + ".join(f"{len(s):,} {s.kind.value}s" for s in streams)
    EXTRA[f"{name} ({kinds})"] = (
        f"{rate:,.0f} events/s; loop stopped at {report.stats['stops']:,} events; "
        f"{report.summary['trades']} fills; load average {load} on {os.cpu_count()} CPUs"
    )
    return rate, report


def test_replay_when_the_strategy_trades_rarely(benchmark, tape):
    rate, report = _rate(benchmark, "backtest_rare", [tape], HourlyBrackets, params=FAR)
    assert report.summary["trades"] > 0
    assert report.stats["stops"] < EVENTS // 1000


def test_replay_on_one_minute_bars(benchmark, tape):
    _rate(benchmark, "backtest_sma_1m_bars", [tape],
          "engine.backtest.examples.sma_cross:SmaCross")


def test_replay_with_a_quote_before_every_trade(benchmark, tape, book):
    _rate(benchmark, "backtest_rare_quotes", [tape, book], HourlyBrackets, params=FAR,
          rounds=1)


def test_replay_when_every_trade_reaches_the_strategy(benchmark, tape):
    rate, report = _rate(benchmark, "backtest_every_trade", [tape], EveryTrade, rounds=1)
    assert report.summary["trades"] > 0
