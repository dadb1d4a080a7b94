"""The rows of the performance targets (performance II), each beside its in-run reference.

Every row pairs its rounds with a reference's rounds run inside its untimed setup (as
``benchmarks/test_hot_paths.py`` pairs the floor), so a ratio compares medians taken over
the same minutes.  In the table the ratio is always the row's rate over its reference's
rate; a target on cost (trigger firing, the trailing stop) is met when 1 / ratio is within
its bound (``benchmarks/report.py``, ``GOALS``).

* ``fill_ioc_3_levels`` — ``K`` LIMIT IOC orders of the taker, each crossing 3 single-order
  levels of the maker, full answer (``workload.filling_ioc``) vs ``floor.PairedSweep``
  (``K`` floor sweeps of 3 single-order levels).  At each depth.
* ``trigger_fire_K`` (K = 1, 10, 100) — mark moves (``ex.set_mark_price``) that each fire
  K standalone STOP_MARKET rows (workingType MARK_PRICE) of the trigger account, whose
  MARKET children each take one single-order level of the maker staged in the gap, vs the
  venue placing the same MARKET orders directly (``client.new_order``) against the same
  staged liquidity.  100 fired rows (and 100 direct orders) a round; rounds alternate buys
  and sells, so positions stay bounded.  The rate is per fired row.  At each depth.
* ``noop_on_trade`` — ``engine.backtest.run`` over ``NOOP_EVENTS`` seeded prints with a
  strategy whose ``on_trade`` does nothing vs ``references.bare_trade_loop`` over the same
  arrays (the same ``Trade`` built, the same empty method called).  Rate per event.
* ``market_maker_cycle`` — ``workload.backtesting_market_maker`` (a re-quote cycle: 2
  cancels, 2 LIMIT placements and the fills between) vs ``references.floor_requotes``
  (2 floor cancels + 2 floor adds per cycle, at the same prices).  Rate per cycle.
* ``trailing_stop`` — a backtest of ``TRAIL_EVENTS`` prints whose bar strategy holds one
  reduce-only TRAILING_STOP_MARKET that never fires vs the same strategy without it.
* ``cancel_vs_template`` / ``cancel_cascade_vs_template`` / ``cancel_quiet`` — the cancel
  target restated: ``cancel_order`` vs ``template_cancel`` (the floor's cancel plus the
  24-key answer from a template, ``references.TemplateCancelBook``), the cascade (a parent
  with a TP and an SL) vs three of them, ``cancel_order_quiet`` vs the floor's cancel.  At
  each depth and at 20,000 resting orders (the issue's earlier measurement).

Run: ``FAPISIM_BENCH_DEPTHS=1000,100000 python -m pytest benchmarks/test_targets.py -q``.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest

from benchmarks.conftest import DEPTHS, EXTRA, RESULTS, record
from benchmarks.floor import FloorBook, PairedFloor, PairedSweep, filled
from benchmarks.references import (
    PairedRounds,
    PairedTemplateCancel,
    TemplateCancelBook,
    bare_trade_loop,
    floor_requotes,
    timed_call,
)
from benchmarks.workload import (
    ASK_BASE,
    BID_BASE,
    FILL_ASK,
    FILL_BID,
    LEVELS,
    LOT,
    MARK,
    MM_EVERY,
    NEW,
    NOOP_EVENTS,
    SYMBOL,
    TRAIL_EVENTS,
    WORKS,
    K,
    backtesting_market_maker,
    bids_only,
    filling_ioc,
    noop_trade_strategy,
    price_str,
    resting_prices,
    trailing_strategy,
)

#: timed rounds of a venue row (after 2 warm-up ones): the short rounds (trigger firing,
#: cancels: a few ms each) take more, so that a spell of a shared machine's load moves
#: both medians alike; and of the backtest rows
ROUNDS, SHORT_ROUNDS = 30, 60
NOOP_ROUNDS, MM_ROUNDS, TRAIL_ROUNDS = 11, 7, 15
#: passes of the bare loop over the prints per floor round of ``noop_on_trade``
NOOP_FLOOR_PASSES = 4


def _position(client) -> Decimal:
    return sum((Decimal(p["positionAmt"]) for p in client.get_position_risk(symbol=SYMBOL)),
               Decimal(0))


def _paired(benchmark, reference, target, setup, teardown=None, rounds=ROUNDS, warmup=2):
    """``rounds`` timed rounds of ``target`` (after ``warmup``), each after a reference round."""

    def paired_setup():
        reference.round()
        return setup()

    benchmark.pedantic(target, setup=paired_setup, teardown=teardown, rounds=rounds,
                       warmup_rounds=warmup)


# -- 1. a LIMIT IOC across 3 levels vs the floor sweep ---------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_fill_ioc_3_levels(benchmark, venues, depth):
    ex, _ids = venues(depth)
    taker = ex.client("taker")
    before = _position(taker)
    floor = PairedSweep(depth, K, seed=41)
    work = filling_ioc(ex.client("maker"), random.Random(41))
    _paired(benchmark, floor, work.run, lambda: (work.setup(), {}), work.teardown)
    assert _position(taker) == before  # every IOC filled its 3 levels, buys and sells in turn
    record(benchmark, "fill_ioc_3_levels", depth, K, floor)


@pytest.mark.parametrize("depth", DEPTHS)
def test_skeleton_fill_ioc(benchmark, depth):
    """``benchmarks/skeleton_fill.py`` (a reference, not a venue): the fill target's named
    work and nothing else, on the same staged levels, beside the same floor sweep."""
    from benchmarks.skeleton_fill import SkeletonFillBook
    from benchmarks.workload import FILL_ASK, fill_levels

    book = SkeletonFillBook()
    for side, ticks in resting_prices(depth, random.Random(7)):
        book.add(side, ticks, 10)
    floor = PairedSweep(depth, K, seed=42)

    def setup():
        levels, takers = fill_levels(K)
        for side, ticks in levels:
            book.add(side, ticks, 10)
        return (takers,), {}

    def sweep(orders):
        ioc = book.ioc
        for side, price in orders:
            ioc(side, price, 30)

    _paired(benchmark, floor, sweep, setup)
    assert book.taker.qty == 0 and not list(book.asks.irange(maximum=FILL_ASK + 3 * K))
    record(benchmark, "skeleton_fill_ioc", depth, K, floor)


# -- 2. trigger firing vs the same MARKET orders placed directly -----------------------------
#: fired rows (and direct MARKET orders) per round
FIRED = 100


@pytest.mark.parametrize("fires", [1, 10, 100])
@pytest.mark.parametrize("depth", DEPTHS)
def test_trigger_fire(benchmark, venues, depth, fires):
    """``FIRED // fires`` mark moves a round, each firing ``fires`` rows; each row's child
    takes one of ``FIRED`` single-order levels of the maker staged (untimed) in the gap just
    past the mark.  The reference, in the setup before: the same ``FIRED`` levels staged,
    then ``FIRED`` MARKET orders of the trigger account timed.  Buy rounds (asks above the
    mark, BUY stops, mark moved up) and sell rounds alternate, for both."""
    ex, _ids = venues(depth)
    maker, trigger = ex.client("maker"), ex.client("trigger")
    base = int(MARK) * 10
    ex.set_mark_price(SYMBOL, MARK)
    moves = FIRED // fires
    new_order, maker_order, set_mark = trigger.new_order, maker.new_order, ex.set_mark_price
    turn = [0]
    start = _position(trigger)
    lot = Decimal(LOT)

    def stage_levels(buy: bool) -> None:
        for i in range(FIRED):
            if buy:
                maker_order(side="SELL", price=price_str(FILL_ASK + i), **NEW)
            else:
                maker_order(side="BUY", price=price_str(FILL_BID - i), **NEW)

    def direct() -> float:
        buy = turn[0] % 2 == 0
        stage_levels(buy)
        side = "BUY" if buy else "SELL"
        t0 = time.perf_counter()
        for _ in range(FIRED):
            new_order(symbol=SYMBOL, side=side, type="MARKET", quantity=LOT)
        return time.perf_counter() - t0

    reference = PairedRounds(FIRED, direct)

    def setup():
        buy = turn[0] % 2 == 0
        sign, side = (1, "BUY") if buy else (-1, "SELL")
        stage_levels(buy)
        for j in range(moves):
            for r in range(fires):
                new_order(symbol=SYMBOL, side=side, type="STOP_MARKET", quantity=LOT,
                          stopPrice=price_str(base + sign * (j * fires + r + 1)),
                          workingType="MARK_PRICE")
        return ([price_str(base + sign * (j + 1) * fires) for j in range(moves)],), {}

    def fire(marks):
        for mark in marks:
            set_mark(SYMBOL, mark)

    def teardown(marks):
        set_mark(SYMBOL, MARK)
        # every direct order and every child filled: a buy round (direct + fired) leaves
        # the trigger account 2 × FIRED lots longer, the sell round after it takes them back
        expected = start + (2 * FIRED * lot if turn[0] % 2 == 0 else 0)
        turn[0] += 1
        assert _position(trigger) == expected

    _paired(benchmark, reference, fire, setup, teardown, rounds=SHORT_ROUNDS)
    if turn[0] % 2 == 0:  # an even number of rounds (SHORT_ROUNDS + 2): back where it began
        assert _position(trigger) == start
    record(benchmark, f"trigger_fire_{fires}", depth, FIRED, reference)


# -- 3. the per-event loop with an empty on_trade vs a bare loop ----------------------------
def test_noop_on_trade(benchmark):
    pytest.importorskip("numpy")
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades
    from engine.core.instrument import default_instruments

    stream = random_walk_trades(NOOP_EVENTS, 300_000, seed=2025)
    strategy = noop_trade_strategy()
    inst = next(i for i in default_instruments() if i.symbol == stream.symbol)
    on_trade = strategy().on_trade  # the same empty method the replay calls

    def floor_round() -> float:  # a few passes, so its round lasts about as long as the run's
        return sum(bare_trade_loop(stream, inst, on_trade) for _ in range(NOOP_FLOOR_PASSES))

    floor = PairedRounds(NOOP_FLOOR_PASSES * NOOP_EVENTS, floor_round)

    def replay():
        run([stream], strategy, progress=False)

    _paired(benchmark, floor, replay, lambda: ((), {}), rounds=NOOP_ROUNDS, warmup=1)
    record(benchmark, "noop_on_trade", NOOP_EVENTS, NOOP_EVENTS, floor)


# -- 4. a market maker's re-quote cycle vs 2 floor cancels + 2 floor adds --------------------
def test_market_maker_cycle(benchmark):
    pytest.importorskip("numpy")
    work = backtesting_market_maker(None, random.Random(44))
    book = FloorBook()
    next_id = [1]
    staged: list = []

    def requotes() -> float:
        (stream,) = staged[-1]
        prices = stream.price[MM_EVERY - 1::MM_EVERY].tolist()  # the prints that re-quote
        first = next_id[0]
        next_id[0] += 2 * len(prices) + 2
        return floor_requotes(book, prices, first)

    floor = PairedRounds(work.ops, requotes)

    def setup():
        staged[:] = [work.setup()]  # the round's prints, for the floor and the backtest
        return staged[-1], {}

    def paired_setup():  # the prints first, then the floor on them, then the backtest
        args = setup()
        floor.round()
        return args

    benchmark.pedantic(work.run, setup=paired_setup, rounds=MM_ROUNDS, warmup_rounds=1)
    rate = record(benchmark, "market_maker_cycle", work.ops * MM_EVERY, work.ops, floor)
    EXTRA["market_maker_cycle"] = (
        f"{1e6 / rate:,.1f} µs per re-quote cycle ({work.ops:,} cycles in "
        f"{work.ops * MM_EVERY:,} prints); 2 floor cancels + 2 floor adds "
        f"{1e6 / floor.rate(MM_ROUNDS):,.2f} µs")


# -- 5. a held trailing stop vs none ---------------------------------------------------------
def test_trailing_stop(benchmark):
    pytest.importorskip("numpy")
    from engine.backtest import run
    from engine.backtest.synthetic import random_walk_trades

    stream = random_walk_trades(TRAIL_EVENTS, 300_000, seed=2026)
    with_row, without_row = trailing_strategy(True), trailing_strategy(False)
    last: dict[str, tuple] = {}

    def backtest(cls, key):
        strategy = cls()
        report = run([stream], strategy, progress=False)
        last[key] = (strategy, report)

    floor = PairedRounds(TRAIL_EVENTS, lambda: timed_call(backtest, without_row, "without"))
    _paired(benchmark, floor, backtest, lambda: ((with_row, "with"), {}), rounds=TRAIL_ROUNDS,
            warmup=1)
    (s_with, r_with), (s_without, r_without) = last["with"], last["without"]
    assert s_with.open_types == ["TRAILING_STOP_MARKET"] and s_without.open_types == []
    assert r_with.summary["trades"] == r_without.summary["trades"] == 1
    rate = record(benchmark, "trailing_stop", TRAIL_EVENTS, TRAIL_EVENTS, floor)
    base = floor.rate(TRAIL_ROUNDS)
    EXTRA[f"trailing_stop ({TRAIL_EVENTS:,} trades)"] = (
        f"with the trailing row {TRAIL_EVENTS / rate * 1e3:,.1f} ms a run, loop stopped at "
        f"{r_with.stats['stops']:,} events; without it {TRAIL_EVENTS / base * 1e3:,.1f} ms, "
        f"{r_without.stats['stops']:,} events; cost {base / rate:.2f}×")


# -- 6. the cancel target restated ----------------------------------------------------------
#: the rows of the restated cancel target, and the depths they run at (20,000 besides DEPTHS:
#: the depth of the issue's earlier measurement)
CANCEL_ROWS = ["cancel_vs_template", "cancel_cascade_vs_template", "cancel_quiet"]
CANCEL_DEPTHS = sorted(set(DEPTHS) | {20_000})
_TEMPLATE_BOOKS: dict[int, list] = {}


def _template_book(ex, depth: int) -> list:
    """``[TemplateCancelBook, next id]`` with ``depth`` orders at the venue's prices; its
    templates are the venue's own cancel answers, and its answer is checked equal to the
    venue's on one order of each side."""
    if depth in _TEMPLATE_BOOKS:
        return _TEMPLATE_BOOKS[depth]
    maker = ex.client("maker")
    bid_ticks, ask_ticks = BID_BASE + 17, ASK_BASE + 17
    answers = []
    for side, ticks in (("BUY", bid_ticks), ("SELL", ask_ticks)):
        oid = maker.new_order(side=side, price=price_str(ticks), **NEW)["orderId"]
        answers.append(maker.cancel_order(symbol=SYMBOL, orderId=oid))
    price_str_of = ex.instruments[SYMBOL].price_str
    prices = [*range(BID_BASE, BID_BASE + LEVELS), *range(ASK_BASE, ASK_BASE + LEVELS)]

    def book() -> TemplateCancelBook:
        return TemplateCancelBook(answers[0], answers[1], price_str_of, prices, ASK_BASE)

    check = book()
    for answer, ticks in zip(answers, (bid_ticks, ask_ticks), strict=True):
        check.add(answer["orderId"], ticks, 10)
        assert check.cancel_answer(answer["orderId"]) == answer
    _TEMPLATE_BOOKS.clear()
    _TEMPLATE_BOOKS[depth] = filled(book(), resting_prices(depth, random.Random(7)))
    return _TEMPLATE_BOOKS[depth]


@pytest.mark.parametrize("row", CANCEL_ROWS)
@pytest.mark.parametrize("depth", CANCEL_DEPTHS)
def test_cancel_restated(benchmark, venues, floors, depth, row):
    """``cancel_order`` (full answer) vs ``template_cancel``; the cascade vs three of them
    (the rate is per cascade); ``cancel_order_quiet`` vs the floor's cancel (skipped where
    ``test_hot_paths`` measured that row in this session already)."""
    if row == "cancel_quiet" and (row, depth) in RESULTS:
        pytest.skip("cancel_quiet at this depth was measured by test_hot_paths.py")
    seed = 50 + CANCEL_ROWS.index(row)
    ex, _ids = venues(depth)
    if row == "cancel_quiet":
        reference: PairedFloor = PairedFloor(floors(depth), "cancel", K, resting_prices, seed)
        work = WORKS["cancel_quiet"](ex.client("maker"), random.Random(seed))
    elif row == "cancel_vs_template":
        reference = PairedTemplateCancel(_template_book(ex, depth), K, resting_prices, seed)
        work = WORKS["cancel"](ex.client("maker"), random.Random(seed))
    else:
        reference = PairedTemplateCancel(_template_book(ex, depth), K, bids_only, seed,
                                         per_op=3)
        work = WORKS["cancel_cascade"](ex.client("maker"), random.Random(seed))
    _paired(benchmark, reference, work.run, lambda: (work.setup(), {}), work.teardown,
            rounds=SHORT_ROUNDS)
    record(benchmark, row, depth, K, reference)
