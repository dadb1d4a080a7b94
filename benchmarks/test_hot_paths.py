"""Hot paths of the venue beside the floor, at three book depths, on seeded workloads.

Each benchmark round performs ``K`` operations (timed) on a deep venue; setup
and teardown (untimed) stage the orders it needs and restore the depth, so
every round sees the same book.  Operations go through the documented front
door, ``client.<method>(...)``, with string prices and quantities as a bot
sends them, and return the full Binance response dict (the ``*_quiet`` rows
measure ``new_order_quiet`` / ``cancel_order_quiet``, which build none).

The floor (``benchmarks/floor.py``) runs a round of its own before each venue
round, inside the untimed setup: ``K`` adds or cancels on a floor book of the
same depth, at prices drawn the same way.  Ratios are venue rate / floor rate,
both medians over the same rounds, so a noisy machine moves both alike.
Placement and trigger firing (which add orders) are compared with the floor's
add; cancels and fills (which remove orders) with the floor's cancel.

``test_depth_scaling`` pairs the same way: each timed round on the deepest venue
follows a round on the shallowest, and the cost ratio compares their medians.
``skeleton_cancel`` (``benchmarks/skeleton.py``) is a reference, not a venue.
"""

from __future__ import annotations

import random
import statistics

import pytest

from benchmarks.conftest import DEPTHS, FLOOR_OF, SCALING_DEPTHS, record, record_scaling
from benchmarks.floor import PairedFloor, filled, stage_cancels
from benchmarks.skeleton import SkeletonBook
from benchmarks.workload import (
    ASK_BASE,
    BID_BASE,
    LEVELS,
    LOT,
    NEW,
    SYMBOL,
    WORKS,
    K,
    Work,
    bids_only,
    new_venue,
    price_str,
    resting_prices,
)

ROUNDS = 20


def _bench(benchmark, floor, target, setup, teardown, rounds=ROUNDS):
    """``rounds`` timed rounds of ``target`` (after 2 warm-up ones), each after a floor round."""

    def paired_setup():
        floor.round()
        return setup()

    benchmark.pedantic(target, setup=paired_setup, teardown=teardown, rounds=rounds,
                       warmup_rounds=2)


@pytest.fixture
def paired(floors):
    """``paired(depth, "add" | "cancel", seed)``: a :class:`PairedFloor` at that depth."""
    def make(depth: int, op: str, seed: int, prices=resting_prices, ops: int = K) -> PairedFloor:
        return PairedFloor(floors(depth), op, ops, prices, seed)
    return make


# -- the skeleton: a reference between the floor and the venue ------------------------------
_SKELETONS: dict[tuple[int, bool], list] = {}


@pytest.mark.parametrize("respond", [True, False], ids=["dict", "quiet"])
@pytest.mark.parametrize("depth", DEPTHS)
def test_skeleton_cancel(benchmark, paired, depth, respond):
    """``benchmarks/skeleton.py``: order objects, margin release and the response dict only
    (``skeleton_cancel``), and the same without the dict (``skeleton_cancel_quiet``)."""
    floor = paired(depth, "cancel", 15 if respond else 16)
    key = (depth, respond)
    if key not in _SKELETONS:
        _SKELETONS.clear()
        _SKELETONS[key] = filled(SkeletonBook(respond), resting_prices(depth, random.Random(7)))
    state = _SKELETONS[key]
    book = state[0]
    rng = random.Random(15)

    def setup():
        return (stage_cancels(state, resting_prices(K, rng), rng),), {}

    def cancel(ids):
        cancel = book.cancel
        for oid in ids:
            cancel(oid)

    _bench(benchmark, floor, cancel, setup, None)
    record(benchmark, "skeleton_cancel" if respond else "skeleton_cancel_quiet", depth, K, floor)


# -- the venue ------------------------------------------------------------------------------
def _bench_work(benchmark, floor, work: Work) -> None:
    _bench(benchmark, floor, work.run, lambda: (work.setup(), {}), work.teardown)


@pytest.mark.parametrize("op", list(WORKS))
@pytest.mark.parametrize("depth", DEPTHS)
def test_hot_path(benchmark, venues, paired, depth, op):
    """``new_order`` / ``cancel_order`` (full response dict), their quiet variants (none),
    the cascade (a resting parent with a TP and an SL: three orders at once), cancel by
    client id and batches of 10 (the rate is per order)."""
    seed = 30 + list(WORKS).index(op)
    floor = paired(depth, FLOOR_OF[op], seed,
                   prices=bids_only if op == "cancel_cascade" else resting_prices)
    ex, _ids = venues(depth)
    _bench_work(benchmark, floor, WORKS[op](ex.client("maker"), random.Random(seed)))
    record(benchmark, op, depth, K, floor)


# -- cost at the deepest book over the shallowest, in interleaved rounds ----------------------
_PAIR: list = []


@pytest.mark.skipif(len(set(SCALING_DEPTHS)) < 2, reason="needs two depths")
@pytest.mark.parametrize("op", ["place_limit", "cancel", "cancel_quiet", "cancel_cascade"])
def test_depth_scaling(benchmark, op):
    """Each timed round on the deepest venue follows one on the shallowest (timed in setup),
    so the cost ratio compares medians over the same minutes of the run."""
    if not _PAIR:
        _PAIR.extend(new_venue(d)[0] for d in (min(SCALING_DEPTHS), max(SCALING_DEPTHS)))
    shallow, deep = (WORKS[op](ex.client("maker"), random.Random(21)) for ex in _PAIR)
    shallow_seconds: list[float] = []

    def setup():
        shallow_seconds.append(shallow.timed_round())
        return deep.setup(), {}

    benchmark.pedantic(deep.run, setup=setup, teardown=deep.teardown, rounds=ROUNDS,
                       warmup_rounds=2)
    record_scaling(op, benchmark.stats.stats.median / statistics.median(shallow_seconds[-ROUNDS:]))


@pytest.mark.parametrize("depth", DEPTHS)
def test_fill_across_3_levels(benchmark, venues, paired, depth):
    """A MARKET buy that sweeps three single-order levels (the rate is per taker order)."""
    floor = paired(depth, "cancel", 8)
    ex, _ids = venues(depth)
    maker, taker = ex.client("maker"), ex.client("taker")
    n = K // 4
    new_order = taker.new_order

    def setup():
        # 3n asks in the gap below the resting asks, each on its own tick
        for i in range(3 * n):
            maker.new_order(side="SELL", price=price_str(ASK_BASE - 3 * n + i), **NEW)
        return (), {}

    def sweep():
        for _ in range(n):
            new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.030")

    _bench(benchmark, floor, sweep, setup, None)
    record(benchmark, "fill_across_3_levels", depth, n, floor)


@pytest.mark.parametrize("fires", [0, 1, 100])
@pytest.mark.parametrize("depth", DEPTHS)
def test_mark_move_fires(benchmark, venues, paired, depth, fires):
    """Mark moves (the rate is per move) that fire 0, 1 or 100 stop rows each.

    Each fired row is a BUY STOP whose child rests as a LIMIT bid in the gap
    (no fill), so the cost is the trigger path, not the book's liquidity.
    1,000 far-away rows stay armed throughout.
    """
    floor = paired(depth, "add", 9)
    ex, _ids = venues(depth)
    c = ex.client("trigger")
    moves = 10 if fires == 100 else 100
    base = 300_000  # 30000.0, the mark
    if not getattr(ex, "_bench_far_rows", False):
        for i in range(1_000):
            c.new_order(symbol=SYMBOL, side="BUY", type="STOP", quantity=LOT,
                        stopPrice=price_str(base + 20_000 + i), price=price_str(BID_BASE),
                        workingType="MARK_PRICE")
        ex._bench_far_rows = True  # type: ignore[attr-defined]

    def setup():
        ex.set_mark_price(SYMBOL, price_str(base))
        for j in range(moves):
            for _ in range(fires):
                c.new_order(symbol=SYMBOL, side="BUY", type="STOP", quantity=LOT,
                            stopPrice=price_str(base + 10 * (j + 1)),
                            price=price_str(BID_BASE + LEVELS + j), workingType="MARK_PRICE")
        return (), {}

    def move():
        for j in range(moves):
            ex.set_mark_price(SYMBOL, price_str(base + 10 * (j + 1)))

    def teardown():
        ex.set_mark_price(SYMBOL, price_str(base))
        for o in c.get_orders(symbol=SYMBOL):
            if o["type"] == "LIMIT":
                c.cancel_order(symbol=SYMBOL, orderId=o["orderId"])

    _bench(benchmark, floor, move, setup, teardown, rounds=8)
    record(benchmark, f"mark_move_fires_{fires}", depth, moves, floor)
