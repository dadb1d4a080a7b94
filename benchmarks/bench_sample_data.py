"""``fapisim sample-data``: one day of BTCUSDT at 1,000,000 prints, against row-by-row text.

Each round writes the day's five files with ``engine.backtest.sample.write_sample``
(the market generated, every csv laid out by ``engine.backtest.csvtext`` and deflated,
two files at a time).  The in-run reference, interleaved in each round's untimed
set-up, writes the same day's two big files (aggTrades and bookTicker, the same rows)
the way ``scripts/make_sample_data.py`` did before the command replaced it: one
f-string per row, then deflate — the part of that script's 17 s that formatting took,
its Python random walk left out.  Run with::

    python -m pytest benchmarks/bench_sample_data.py

Side by side, the old script against the command on one day of 1,000,000 prints
(``/usr/bin/time -v``): 16.96 s and 788 MB (its read-back of the files included;
0.87 s of it) against 1.42–1.97 s and 580–615 MB.
"""

from __future__ import annotations

import statistics
import time
import zlib
from pathlib import Path

from benchmarks.conftest import EXTRA, record
from engine.backtest.sample import START_PRICES, SampleDay, write_sample
from engine.backtest.synthetic import DAY_MINUTES, MarketModel, minute_path
from engine.core.instrument import default_instruments

PRINTS = 1_000_000
ROUNDS = 3


def _rows(day: SampleDay) -> tuple[bytes, bytes]:
    """The aggTrades and bookTicker rows, formatted one f-string per row."""
    inst = day.inst
    p = 10**inst.price_exp // inst.tick_m

    q_unit = 10**inst.qty_exp

    def price(t: int) -> str:
        return f"{t // p}.{t % p:0{inst.price_exp}d}"

    def qty(lots: int) -> str:
        units = lots * inst.step_m
        return f"{units // q_unit}.{units % q_unit:0{inst.qty_exp}d}"

    t = day.trades
    agg = "".join(
        f"{a},{price(pr)},{qty(q)},{f},{la},{tm},{'true' if m else 'false'}\n"
        for a, pr, q, f, la, tm, m in zip(
            day.agg_id.tolist(), t.price.tolist(), t.qty.tolist(), day.first.tolist(),
            day.last.tolist(), t.time.tolist(), t.buyer_maker.tolist(), strict=True))
    book = "".join(
        f"{i},{price(pr - 1)},{qty(q)},{price(pr)},{qty(q)},{tm},{tm + 1}\n"
        for i, pr, q, tm in zip(day.agg_id.tolist(), t.price.tolist(), t.qty.tolist(),
                                t.time.tolist(), strict=True))
    return agg.encode(), book.encode()


def test_sample_data_one_day_of_a_million_prints(benchmark, tmp_path: Path):
    inst = default_instruments()[0]
    model = MarketModel(START_PRICES["BTCUSDT"] * 10**inst.price_exp // inst.tick_m,
                        trades_per_day=PRINTS)
    day = SampleDay(inst, minute_path(model, 7, 1704067200000, DAY_MINUTES), 7, 0, 1)
    reference: list[float] = []

    def setup() -> None:
        start = time.perf_counter()
        for text in _rows(day):
            zlib.compress(text, 1)
        reference.append(time.perf_counter() - start)

    def run() -> None:
        write_sample(tmp_path, ["BTCUSDT"], 1, 7, trades_per_day=PRINTS)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, warmup_rounds=0)
    record(benchmark, "sample_data_day", PRINTS, len(day.trades))
    new = benchmark.stats.stats.median
    old = statistics.median(reference)
    EXTRA[f"sample-data, one day of {len(day.trades):,} prints"] = {
        "write_sample_s": round(new, 2), "row_by_row_two_files_s": round(old, 2),
        "ratio": round(old / new, 1),
    }
    # all five files from the market up beat formatting two of them row by row
    assert new < old
