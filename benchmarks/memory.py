"""What the venue and a backtest keep in memory, and the helpers that measure it.

Used by ``benchmarks/test_memory.py``; the RSS figures run in a child process::

    python -m benchmarks.memory rss --events 10000000 --strategy rare
    python -m benchmarks.memory rss --events 10000000 --strategy every

What is kept, and for how long
------------------------------
Bytes are tracemalloc's (what Python and numpy asked malloc for, after
``gc.collect()``) on CPython 3.11, measured at 100,000 orders or fills (resting:
1,000,000) on the engine of December 2026; they move as the engine does, and
``python -m pytest benchmarks/test_memory.py`` gives today's.

*Per resting order* (until it closes): ~420 B — the ``Order`` record (~230 B
with its slots), its integers (id, margin), its entries in ``index.by_id``, the
open set of its account and symbol, and its price level.  The open set is a
dict, and dicts never shrink: once a book of N orders is cancelled the set
keeps the capacity of N (~50 B per order at the peak) until it grows again.

*Per closed order, kept for history* (``allOrders``, ``queryOrder``; for the
life of the venue — Binance stops answering after 3 or 90 days, the venue
keeps every order, since a backtest may span years):

* cancelled: ~350 B — the ``Order`` (~230 B), its ``by_id`` entry (~50 B),
  its id and margin integers (~30 B each);
* filled: ~800 B per order (each side of a fill is one: a MARKET taker and the
  resting maker it met) — the order as above, its trade row in
  ``AccountState.trades`` (``userTrades``: an 11-tuple, ~140 B, and its new
  integers) and its income rows in ``AccountState.incomes`` (``income``: a
  COMMISSION row per fill and a REALIZED_PNL row per reducing fill, 1.5 per
  order in the benchmark; 7-tuples of ~70 B and their integers).  In a
  backtest the counterparty is the venue's ``@tape`` account, which keeps no
  order, row or income: the strategy's order is the only one per fill.

*Per event of a backtest*: nothing that outlives the run (the growth test:
1,000,000 and 4,000,000 events, the same 10 fills — the venue kept 48,781 and
48,429 bytes).

* The event log (:mod:`engine.core.events`) is a ring of at least
  ``DEFAULT_CAPACITY`` (65,536) and at most twice as many deltas; a replayed
  print that fills nothing emits none.  A placement or a cancel is a bare int
  in it; a fill is a TRADE and an ACCOUNT tuple per side and a PRINT (~175 B a
  delta with its integers): full of fills the ring holds ~20 MB, of placements
  and cancels ~2 MB.  Bounded, and left out of
  the closed-order figures (:func:`drop_event_ring`; reported beside them:
  ~17 B per cancelled and ~97 B per filled order at 100,000 orders).
* While the replay runs (:class:`engine.backtest.replay.Replay`), per event:
  for a single trade stream the timeline's row index (``np.arange``, 8 B) and
  three zero arrays (its stream index; kind and symbol codes, one array: 16 B)
  that ``np.zeros`` leaves untouched, so they take no RSS; for several streams
  the merged timeline (time, stream and row index: 24 B) and the per-event
  columns (kind, symbol, price, qty: 32 B; side: 1 B), 57 B.  A strategy with
  ``on_bar`` adds the bars' temporaries (``time // interval`` and its
  ``np.diff``: 16 B per event, alive together).  The every-trade loop turns
  65,536 rows at a time into Python lists (~7 MB, bounded).  All of it goes
  with the replay.  Peak RSS of 10,000,000 generated prints: 277 MiB with the
  data alone (25 B a print: time, price, qty 8 B each, side 1 B; generating it
  peaked at 745 MiB); the hourly bracket strategy's backtest peaked 229 MiB
  above that (24 B per event: row index and bar temporaries), the every-trade
  one 93 MiB above (9.7 B per event: row index and row blocks).

*Per equity sample* (one per ``equity_interval_ms`` of data time, default a
minute, plus one at each end; kept in ``Replay.equity`` and ``Report.equity``):
~130 B — a 2-tuple with its list slot and two integers (the label, the margin
balance).  The one figure that grows with a longer replay: with data time, not
with the number of events (a year of data sampled each minute: 525,600
samples, ~70 MB).

*Per order and per fill in the report* (:class:`engine.backtest.report.Report`:
``orders`` and ``trades`` are the ``allOrders`` and ``userTrades`` objects, built
when the run ends): a dict of 23 fields per order, ~1 KB, and of 14 per fill,
~600 B (the market-maker backtest: 4,000 orders, 4,203 fills) — more than the
venue keeps for the same rows.

*Per bar*: a strategy overriding ``on_bar`` gets every bar built before the
replay starts (:meth:`Replay._make_bars`: a ``Bar`` with its integers per bar
interval of data time, one-minute bars by default); they go with the replay.

*Queue model* (``run(..., queue=True)`` with quotes): ``Market.queue_ahead``
keeps an entry for every order that ever rested at the best quote: nothing
removes it when the order fills or is cancelled (a market-maker run of 100,000
prints and quotes: 2,000 orders, 2 open at the end, 488 entries).  It grows
with such orders for the life of the venue, and is hashed with the market.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: the synthetic tape every memory figure replays: start price (ticks) and seed
START_TICKS, SEED = 300_000, 2024
#: the bracket example's distances (ticks) for hourly bars, as benchmarks/test_backtest_replay.py
FAR = {"offset": "200", "tp": "600", "sl": "400"}
#: ``--strategy`` of the RSS child: what each name runs (see :func:`strategy_of`)
STRATEGIES = {
    "rare": "the bracket example on hourly bars (trades rarely; the replay skips ahead)",
    "every": "on_trade sees every print; a MARKET order every 10,000 of them",
}


# -- retained bytes (tracemalloc) ------------------------------------------------------------
def drop_event_ring(ex: Any) -> int:
    """Empty the venue's event ring (the numbering goes on); the entries dropped.

    The ring is bounded (see the module docstring) and no reader is attached to a
    benchmark's venue; emptying it before and after a measurement leaves out its share,
    which depends on where in its trim cycle the last event fell."""
    events = getattr(getattr(ex, "_s", None), "events", None)
    if events is None:  # an engine without the event log
        return 0
    n = len(events.ring)
    events.base += n
    events.ring.clear()
    return n


def traced() -> int:
    """Bytes tracemalloc holds as allocated now, after a full collection."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def closed_orders(n: int, how: str, batch: int = 1000) -> dict[str, float]:
    """Bytes that stay allocated per closed order after ``n`` orders closed.

    ``how``: ``"cancelled"`` — ``n`` resting LIMIT orders of one maker, placed and
    cancelled ``batch`` at a time (so the open set stays small: what remains is the
    history); ``"filled"`` — ``n`` pairs of a resting LIMIT of the maker and a taker's
    MARKET order that fills it whole, buying and selling in turn (so half the fills
    reduce a position and realize PnL): ``2 n`` filled orders, each with its trade
    row and incomes.  Returned: ``per_order`` (bytes per closed order, the event
    ring left out), ``ring_per_order`` (the ring's share at that moment: bounded),
    ``orders``, and for fills ``trade_rows`` and ``incomes`` per order."""
    from benchmarks.workload import LOT, MAKER, SYMBOL, new_venue, price_str, resting_prices

    if how not in ("cancelled", "filled"):
        raise ValueError(f"how is 'cancelled' or 'filled', not {how!r}")
    ex, _ids = new_venue(0)
    maker, taker = ex.client(MAKER), ex.client("taker")
    prices = [(s, price_str(t)) for s, t in resting_prices(n, random.Random(11))]
    drop_event_ring(ex)
    tracemalloc.start()
    try:
        before = traced()
        if how == "cancelled":
            for a in range(0, n, batch):
                ids = [maker.new_order(symbol=SYMBOL, side=side, type="LIMIT",
                                       timeInForce="GTC", quantity=LOT, price=price)["orderId"]
                       for side, price in prices[a:a + batch]]
                for oid in ids:
                    maker.cancel_order(symbol=SYMBOL, orderId=oid)
            del ids
            closed = n
        else:
            for k in range(n):
                buy = k % 2 == 0
                maker.new_order(symbol=SYMBOL, side="SELL" if buy else "BUY", type="LIMIT",
                                timeInForce="GTC", quantity=LOT,
                                price="30000.1" if buy else "29999.9")
                taker.new_order(symbol=SYMBOL, side="BUY" if buy else "SELL", type="MARKET",
                                quantity=LOT)
            closed = 2 * n
        with_ring = traced() - before
        drop_event_ring(ex)
        kept = traced() - before
    finally:
        tracemalloc.stop()
    out = {"orders": closed, "per_order": kept / closed,
           "ring_per_order": (with_ring - kept) / closed}
    if how == "filled":
        accounts = [ex.account_state(name) for name in (MAKER, "taker")]
        out["trade_rows"] = sum(len(a.trades) for a in accounts) / closed
        out["incomes"] = sum(len(a.incomes) - 1 for a in accounts) / closed  # less the deposit
    return out


def early_trader(every: int = 10_000, until: int = 100_000) -> type:
    """A strategy that sees every print (``on_trade``) and sends a MARKET order every
    ``every`` of the first ``until`` of them, buying and selling in turn; then only
    watches.  Any longer replay makes the same fills."""
    from engine.backtest import Strategy

    class EarlyTrader(Strategy):
        def on_start(self):
            self.seen = 0

        def on_trade(self, trade):
            self.seen += 1
            if self.seen <= until and self.seen % every == 0:
                side = "BUY" if self.seen % (2 * every) else "SELL"
                self.client.new_order(symbol=trade.symbol, side=side, type="MARKET",
                                      quantity="0.010")

    return EarlyTrader


def backtest_retained(events: int, strategy: type | None = None,
                      seed: int = SEED) -> dict[str, int]:
    """Bytes a finished every-trade backtest over ``events`` seeded prints keeps, by holder.

    The prints are generated before tracing starts (the input arrays are not counted);
    the replay is dropped when ``run`` returns, so what stays is the :class:`Report`
    and the venue it holds.  Returned: ``total`` (report and venue); ``equity`` (the
    equity samples: measured by dropping them), ``report_rows`` (the report's order
    and trade dicts, likewise), ``venue`` (the rest: the venue with its history, its
    event ring included, and the report's summary); ``equity_samples``, ``fills``,
    ``orders``.  ``strategy``: default :func:`early_trader` ``()``."""
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades

    data = random_walk_trades(events, START_TICKS, seed)
    strategy = strategy or early_trader()
    tracemalloc.start()
    try:
        before = traced()
        report = run([data], strategy, progress=False)
        total = traced() - before
        samples, fills, orders = len(report.equity), len(report.trades), len(report.orders)
        report.equity = []
        no_equity = traced() - before
        report.orders, report.trades = [], []
        venue = traced() - before
    finally:
        tracemalloc.stop()
    return {"total": total, "equity": total - no_equity, "report_rows": no_equity - venue,
            "venue": venue, "equity_samples": samples, "fills": fills, "orders": orders}


# -- peak RSS of a backtest (a child process) ------------------------------------------------
def strategy_of(name: str) -> tuple[type, dict[str, str] | None]:
    """The strategy class and params of ``--strategy name`` (see :data:`STRATEGIES`)."""
    if name == "rare":
        from engine.backtest.examples.bracket import BracketScalper

        class HourlyBrackets(BracketScalper):
            bar_interval_ms = 3_600_000

        return HourlyBrackets, FAR
    if name == "every":
        from benchmarks.workload import every_trade_strategy

        return every_trade_strategy(10_000), None
    raise ValueError(f"strategy is one of {', '.join(STRATEGIES)}, not {name!r}")


def _memory() -> dict[str, int]:
    """``ru_maxrss`` (KiB on Linux) and, where /proc has them, VmRSS and VmHWM (KiB)."""
    out = {"maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0].lower()] = int(line.split()[1])
    except OSError:
        pass
    return out


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux ≥ 4.0: ``5`` into
    /proc/self/clear_refs; ``ru_maxrss`` follows); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def rss_child(events: int, strategy: str) -> dict[str, Any]:
    """In the measuring process: generate ``events`` prints, note the memory, reset the
    peak, run the backtest, note the memory again (KiB)."""
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades

    cls, params = strategy_of(strategy)
    start = _memory()
    t0 = time.perf_counter()
    data = random_walk_trades(events, START_TICKS, SEED)
    generated = time.perf_counter() - t0
    gc.collect()
    after_data = _memory()
    reset = _reset_peak()
    t0 = time.perf_counter()
    report = run([data], cls, params=params, progress=False)
    seconds = time.perf_counter() - t0
    end = _memory()
    return {"events": events, "strategy": strategy, "start": start, "after_data": after_data,
            "peak_reset": reset, "end": end, "fills": len(report.trades),
            "orders": len(report.orders), "stops": report.stats.get("stops"),
            "equity_samples": len(report.equity), "generate_seconds": round(generated, 2),
            "backtest_seconds": round(seconds, 2)}


def rss_of_backtest(events: int, strategy: str, timeout: float = 1800) -> dict[str, Any]:
    """:func:`rss_child` in a fresh process, with the figures derived (KiB):

    * ``data_rss``: the process's RSS once the prints are generated (interpreter,
      engine and the 25 B per print of the arrays);
    * ``peak_rss``: ``ru_maxrss`` at the end of the backtest — the peak since the data
      was generated when the peak could be reset then (``peak_reset``; so the
      generator's temporaries, freed by then, do not hide it), else over the process's
      life;
    * ``backtest_rss``: ``peak_rss − data_rss``, the backtest's own share;
    * ``process_peak``: the peak over the process's life (the generator included).

    The child is started through ``sh`` so that it does not inherit this process's
    peak: a child forked (or vforked) from a large process and exec'ed reports the
    parent's peak as its own ``ru_maxrss`` until it exceeds it (Linux keeps the
    larger of the two in the process's ``signal_struct`` across exec)."""
    cmd = ["/bin/sh", "-c", '"$0" "$@"; exit $?', sys.executable, "-m", "benchmarks.memory",
           "rss", "--events", str(events), "--strategy", strategy]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"the RSS child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    after, end = r["after_data"], r["end"]
    r["data_rss"] = after.get("vmrss", after["maxrss"])
    r["peak_rss"] = end["maxrss"]
    base = r["data_rss"] if r["peak_reset"] else after["maxrss"]
    r["backtest_rss"] = max(0, r["peak_rss"] - base)
    r["process_peak"] = max(after["maxrss"], end["maxrss"])
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    rss = sub.add_parser("rss", help="peak RSS of one backtest (run in this process)")
    rss.add_argument("--events", type=int, default=int(
        os.environ.get("FAPISIM_BENCH_RSS_EVENTS", "10000000")))
    rss.add_argument("--strategy", choices=sorted(STRATEGIES), default="rare")
    args = ap.parse_args(argv)
    print(json.dumps(rss_child(args.events, args.strategy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
