"""Seeded workloads shared by the venue and the floor, and the deep venues they run on.

The BTCUSDT book holds ``depth`` resting orders of 0.010 BTC: bids on the
1,000 ticks from 29400.0 to 29499.9 and asks on the 1,000 ticks from 30500.0
to 30599.9 (the mark stays at 30000, inside every PERCENT_PRICE band).  The gap
between 29500 and 30500 is free for crossing orders and trigger children.
Every random choice comes from ``random.Random(seed)``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from engine import Exchange

try:  # the engine by layers
    from engine.core.instrument import default_instruments
except ImportError:  # a revision from before them (benchmarks/compare_revisions.py)
    from engine.instrument import default_instruments  # type: ignore[no-redef]

SYMBOL = "BTCUSDT"
MARK = "30000"
BID_BASE, ASK_BASE, LEVELS = 294_000, 305_000, 1_000  # ticks of 0.1
LOT = "0.010"
MAKER = "maker"
#: operations per timed round
K = 1000
NEW = dict(symbol=SYMBOL, type="LIMIT", timeInForce="GTC", quantity=LOT)


def price_str(ticks: int) -> str:
    return f"{ticks // 10}.{ticks % 10}"


def resting_prices(n: int, rng: random.Random) -> list[tuple[str, int]]:
    """``n`` (side, price in ticks) of resting orders, half bids, half asks, spread over levels."""
    out = []
    for i in range(n):
        if i % 2:
            out.append(("BUY", BID_BASE + rng.randrange(LEVELS)))
        else:
            out.append(("SELL", ASK_BASE + rng.randrange(LEVELS)))
    return out


def new_venue(depth: int, seed: int = 7) -> tuple[Exchange, list[int]]:
    """A venue whose BTCUSDT book rests ``depth`` orders of one maker; returns their ids.

    The caps on open orders and on untriggered conditional orders per account are lifted:
    the cascade stages 1,000 attached pairs, the trigger benchmarks hold over 1,000 rows
    (an engine from before the conditional-order cap takes no such argument)."""
    try:
        ex = Exchange(default_instruments(max_num_orders=10**8), max_num_algo_orders=10**8)
    except TypeError:
        ex = Exchange(default_instruments(max_num_orders=10**8))
    ex.create_account(MAKER, balance="100000000000")
    for name in ("taker", "trigger"):
        ex.create_account(name, balance="100000000000")
    ex.set_mark_price(SYMBOL, MARK)
    c = ex.client(MAKER)
    ids = []
    for side, ticks in resting_prices(depth, random.Random(seed)):
        ids.append(c.new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                               quantity=LOT, price=price_str(ticks))["orderId"])
    return ex, ids


# -- timed operation mixes, shared by the benchmarks and benchmarks/profile_hot_path.py ----
def bids_only(n: int, rng: random.Random) -> list[tuple[str, int]]:
    """Prices as the cascade benchmark draws its parents: bids only."""
    return [("BUY", BID_BASE + rng.randrange(LEVELS)) for _ in range(n)]


def stage(client, rng, n, **extra):
    """Place ``n`` resting orders (untimed); returns their ids in a shuffled order."""
    ids = []
    for side, ticks in resting_prices(n, rng):
        ids.append(client.new_order(side=side, price=price_str(ticks), **NEW, **extra)["orderId"])
    rng.shuffle(ids)
    return ids


class Work(NamedTuple):
    """One timed operation mix: ``run(*setup())`` is timed, then ``teardown(*args)``;
    a round is ``ops`` operations."""

    setup: Callable[[], tuple]
    run: Callable[..., None]
    teardown: Callable[..., None] | None
    ops: int = K

    def timed_round(self, profiler: Any = None) -> float:
        """Stage (untimed), run (timed, and profiled by ``profiler`` if given), tear down;
        the seconds ``run`` took."""
        args = self.setup()
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        self.run(*args)
        seconds = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
        if self.teardown is not None:
            self.teardown(*args)
        return seconds


def placing(c, rng: random.Random, quiet: bool) -> Work:
    """``K`` resting LIMIT placements (``new_order`` or ``new_order_quiet``), then cancelled."""
    new_order = c.new_order
    new_order_quiet = getattr(c, "new_order_quiet", None)  # older engines lack it
    placed: list[int] = []

    def setup():
        return ([(side, price_str(t)) for side, t in resting_prices(K, rng)],)

    def place(orders):
        for side, price in orders:
            placed.append(new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                                    quantity=LOT, price=price)["orderId"])

    def place_quiet(orders):
        for side, price in orders:
            placed.append(new_order_quiet(symbol=SYMBOL, side=side, type="LIMIT",
                                          timeInForce="GTC", quantity=LOT, price=price))

    def teardown(orders):
        for oid in placed:
            c.cancel_order(symbol=SYMBOL, orderId=oid)
        placed.clear()

    return Work(setup, place_quiet if quiet else place, teardown)


def cancelling(c, rng: random.Random, quiet: bool) -> Work:
    """``K`` cancels (``cancel_order`` or ``cancel_order_quiet``) of staged resting orders."""
    cancel_order = c.cancel_order_quiet if quiet else c.cancel_order

    def cancel(ids):
        for oid in ids:
            cancel_order(symbol=SYMBOL, orderId=oid)

    return Work(lambda: (stage(c, rng, K),), cancel, None)


def cascading(c, rng: random.Random) -> Work:
    """``K`` cancels of resting parents, each with a PENDING TP and SL."""
    cancel_order = c.cancel_order

    def setup():
        ids = []
        for _ in range(K):
            ticks = BID_BASE + rng.randrange(LEVELS)
            ids.append(c.new_order(
                side="BUY", price=price_str(ticks), takeProfitPrice=price_str(ticks + 20_000),
                stopLossPrice=price_str(ticks - 1_000), **NEW,
            )["orderId"])
        rng.shuffle(ids)
        return (ids,)

    def cancel(ids):
        for oid in ids:
            cancel_order(symbol=SYMBOL, orderId=oid)

    return Work(setup, cancel, None)


def cancelling_by_client_id(c, rng: random.Random) -> Work:
    """``K`` cancels by ``origClientOrderId`` of staged orders placed with client ids."""
    cancel_order = c.cancel_order
    counter = [0]

    def setup():
        cids = []
        for side, ticks in resting_prices(K, rng):
            counter[0] += 1
            cid = f"bench-{counter[0]}"
            c.new_order(side=side, price=price_str(ticks), newClientOrderId=cid, **NEW)
            cids.append(cid)
        rng.shuffle(cids)
        return (cids,)

    def cancel(cids):
        for cid in cids:
            cancel_order(symbol=SYMBOL, origClientOrderId=cid)

    return Work(setup, cancel, None)


def cancelling_in_batches(c, rng: random.Random) -> Work:
    """``K`` staged orders cancelled as K/10 ``cancel_batch_order`` calls of 10."""
    batch = c.cancel_batch_order

    def cancel(ids):
        for i in range(0, K, 10):
            batch(SYMBOL, ids[i:i + 10], None)

    return Work(lambda: (stage(c, rng, K),), cancel, None)


#: replayed aggTrades per round of the every-trade backtest
BACKTEST_EVENTS = 200_000


def every_trade_strategy(every: int) -> type:
    """A strategy that sees every print (``on_trade``) and sends a MARKET order every
    ``every`` of them, buying and selling in turn (the benchmarks' every-trade load)."""
    from engine.backtest import Strategy

    class EveryTrade(Strategy):
        def on_start(self):
            self.seen = 0

        def on_trade(self, trade):
            self.seen += 1
            if self.seen % every == 0:
                side = "BUY" if self.seen % (2 * every) else "SELL"
                self.client.new_order(symbol=trade.symbol, side=side, type="MARKET",
                                      quantity="0.010")

    return EveryTrade


def backtesting_every_trade(_client, rng: random.Random) -> Work:
    """One ``engine.backtest.run`` over ``BACKTEST_EVENTS`` seeded aggTrades whose
    strategy sees every print and sends a MARKET order every 20,000 of them: the
    per-event loop, one venue command per print.  An operation is an event.
    Needs the ``backtest`` extra; uses no deep venue (``_client`` is ignored)."""
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades

    strategy = every_trade_strategy(20_000)

    def setup():
        return (random_walk_trades(BACKTEST_EVENTS, 300_000, rng.randrange(2**32)),)

    def replay(stream):
        run([stream], strategy, progress=False)

    return Work(setup, replay, None, BACKTEST_EVENTS)


#: the cancel and placement mixes, by their row name in the benchmark table
WORKS: dict[str, Callable[[Any, random.Random], Work]] = {
    "place_limit": lambda c, rng: placing(c, rng, False),
    "place_limit_quiet": lambda c, rng: placing(c, rng, True),
    "cancel": lambda c, rng: cancelling(c, rng, False),
    "cancel_quiet": lambda c, rng: cancelling(c, rng, True),
    "cancel_cascade": cascading,
    "cancel_by_client_id": cancelling_by_client_id,
    "cancel_batch_10": cancelling_in_batches,
}
#: what ``benchmarks/compare_revisions.py`` can compare: the venue mixes (on the deep
#: venue) and the every-trade backtest (which builds its own)
COMPARED: dict[str, Callable[[Any, random.Random], Work]] = {
    **WORKS, "backtest_every_trade": backtesting_every_trade,
}




# -- fills, triggers and the re-quote cycle (performance II) -------------------------------
#: ticks of the staged fill levels: asks from 30000.1 up, bids from 29999.9 down (inside the
#: gap, so the resting book is never reached)
FILL_ASK, FILL_BID = 300_001, 299_999


def fill_levels(k: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The staged levels and the takers of a round of ``k`` 3-level sweeps: ``(levels,
    takers)``, each ``(side, ticks)``; a buy sweeps 3 asks, the sell after it 3 bids (the
    venue row, the floor sweep and the skeleton fill stage the same)."""
    levels, takers = [], []
    for i in range(k // 2):
        for j in range(3):
            levels += [("SELL", FILL_ASK + 3 * i + j), ("BUY", FILL_BID - 3 * i - j)]
        takers += [("BUY", FILL_ASK + 3 * i + 2), ("SELL", FILL_BID - 3 * i - 2)]
    return levels, takers


def filling_ioc(c, rng: random.Random) -> Work:
    """``K`` LIMIT IOC orders of the taker account, each crossing 3 single-order levels of
    the maker (buys and sells in turn, so positions stay flat over a round); full answer."""
    ex = c._ex
    maker, taker = ex.client(MAKER), ex.client("taker")
    new_order = taker.new_order

    def setup():
        levels, takers = fill_levels(K)
        for side, ticks in levels:
            maker.new_order(side=side, price=price_str(ticks), **NEW)
        return ([(side, price_str(ticks)) for side, ticks in takers],)

    def sweep(orders):
        for side, price in orders:
            new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="IOC",
                      quantity="0.030", price=price)

    return Work(setup, sweep, None)


#: replayed aggTrades per round of the market-maker backtest; trades between re-quotes
MM_EVENTS, MM_EVERY = 200_000, 100


def market_maker_strategy(every: int = MM_EVERY, offset: int = 3) -> type:
    """A strategy that re-quotes one bid and one ask ``offset`` ticks around the print every
    ``every`` prints: 2 cancels (of the quotes still open) and 2 LIMIT placements, and the
    fills the prints between give them (the benchmarks' re-quote load)."""
    from engine.backtest import Strategy
    from engine.core.errors import ClientError

    class MarketMaker(Strategy):
        def on_start(self):
            self.seen = 0
            self.quotes: list[int] = []
            self.cycles = 0

        def on_trade(self, trade):
            self.seen += 1
            if self.seen % every:
                return
            c = self.client
            for oid in self.quotes:
                try:
                    c.cancel_order(symbol=trade.symbol, orderId=oid)
                except ClientError:  # filled since: -2011
                    pass
            inst, p = trade.inst, trade.price_ticks
            self.quotes = [
                c.new_order(symbol=trade.symbol, side="BUY", type="LIMIT", timeInForce="GTC",
                            quantity="0.004", price=inst.price_str(p - offset))["orderId"],
                c.new_order(symbol=trade.symbol, side="SELL", type="LIMIT", timeInForce="GTC",
                            quantity="0.004", price=inst.price_str(p + offset))["orderId"],
            ]
            self.cycles += 1

    return MarketMaker


def backtesting_market_maker(_client, rng: random.Random) -> Work:
    """One ``engine.backtest.run`` over ``MM_EVENTS`` seeded aggTrades with the market-maker
    strategy (:func:`market_maker_strategy`).  An operation is a re-quote cycle."""
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades

    strategy = market_maker_strategy()

    def setup():
        return (random_walk_trades(MM_EVENTS, 300_000, rng.randrange(2**32)),)

    def replay(stream):
        run([stream], strategy, balance="1000000", progress=False)

    return Work(setup, replay, None, MM_EVENTS // MM_EVERY)


# -- the per-event loop and a held trailing stop (performance II: targets) -------------------
#: replayed aggTrades per round of the no-op ``on_trade`` backtest and of the trailing-stop pair
NOOP_EVENTS, TRAIL_EVENTS = 200_000, 600_000


def noop_trade_strategy() -> type:
    """A strategy whose ``on_trade`` does nothing: every print reaches Python, and the
    callback costs one call of an empty method (the per-event loop, bare)."""
    from engine.backtest import Strategy

    class NoopOnTrade(Strategy):
        def on_trade(self, trade):
            pass

    return NoopOnTrade


def trailing_strategy(trailing: bool, rate: str = "10") -> type:
    """A bar strategy (``on_trade`` not overridden, so the replay may skip ahead) that buys
    ``LOT`` at MARKET on the first bar and, when ``trailing``, holds a reduce-only
    TRAILING_STOP_MARKET sell of it with ``callbackRate`` ``rate`` % (10: the largest
    Binance accepts; a seeded walk from 30000 moves well under 1% in 600k prints, so it
    never fires).  ``on_end`` keeps the types of the orders still open in ``open_types``."""
    from engine.backtest import Strategy

    class Entry(Strategy):
        def on_start(self):
            self.entered = False
            self.open_types: list[str] = []

        def on_bar(self, bar):
            if self.entered:
                return
            self.entered = True
            c = self.client
            c.new_order(symbol=bar.symbol, side="BUY", type="MARKET", quantity=LOT)
            if trailing:
                c.new_order(symbol=bar.symbol, side="SELL", type="TRAILING_STOP_MARKET",
                            quantity=LOT, callbackRate=rate, reduceOnly="true")

        def on_end(self):
            self.open_types = sorted(o["type"] for s in self.symbols
                                     for o in self.client.get_orders(symbol=s))

    Entry.__name__ = Entry.__qualname__ = "TrailingEntry" if trailing else "PlainEntry"
    return Entry


COMPARED["fill_ioc_3_levels"] = filling_ioc
COMPARED["backtest_market_maker"] = backtesting_market_maker
#: compared mixes outside ``WORKS`` that run on the deep venue too
VENUE_WORKS = frozenset({"fill_ioc_3_levels"})


# -- small backtest variants, for the benchmark guard in CI (tests/test_benchmark_guard.py) ---
#: replayed aggTrades per round of the small backtest variants
SMALL_EVENTS = 50_000


def every_trade_backtest(events: int, every: int) -> Callable[[Any, random.Random], Work]:
    """A mix like :func:`backtesting_every_trade` over ``events`` seeded aggTrades a round,
    with a MARKET order every ``every`` of them.  An operation is an event."""

    def make(_client, rng: random.Random) -> Work:
        from engine.backtest import run
        from engine.backtest.synthetic import random_walk_trades

        strategy = every_trade_strategy(every)

        def setup():
            return (random_walk_trades(events, 300_000, rng.randrange(2**32)),)

        def replay(stream):
            run([stream], strategy, progress=False)

        return Work(setup, replay, None, events)

    return make


def market_maker_backtest(events: int, every: int = MM_EVERY) -> Callable[[Any, random.Random],
                                                                          Work]:
    """A mix like :func:`backtesting_market_maker` over ``events`` seeded aggTrades a round,
    re-quoting every ``every`` of them.  An operation is a re-quote cycle."""

    def make(_client, rng: random.Random) -> Work:
        from engine.backtest import run
        from engine.backtest.synthetic import random_walk_trades

        strategy = market_maker_strategy(every)

        def setup():
            return (random_walk_trades(events, 300_000, rng.randrange(2**32)),)

        def replay(stream):
            run([stream], strategy, balance="1000000", progress=False)

        return Work(setup, replay, None, events // every)

    return make


COMPARED["backtest_every_trade_small"] = every_trade_backtest(SMALL_EVENTS, 5_000)
COMPARED["backtest_market_maker_small"] = market_maker_backtest(SMALL_EVENTS)
