"""Hot paths of the venue beside the floor, at three book depths, on seeded workloads.

Each benchmark round performs ``K`` operations (timed) on a deep venue; setup
and teardown (untimed) stage the orders it needs and restore the depth, so
every round sees the same book.  Operations go through the documented front
door, ``client.<method>(...)``, with string prices and quantities as a bot
sends them, and return the full Binance response dict.

Ratios: placement and trigger firing (which add orders) are compared with the
floor's add; cancels and fills (which remove orders) with the floor's cancel.
"""

from __future__ import annotations

import random

import pytest

from benchmarks.conftest import DEPTHS, record
from benchmarks.workload import ASK_BASE, BID_BASE, LEVELS, LOT, SYMBOL, price_str, resting_prices

K = 1000
ROUNDS = 20
NEW = dict(symbol=SYMBOL, type="LIMIT", timeInForce="GTC", quantity=LOT)


def _bench(benchmark, target, setup, teardown, rounds=ROUNDS):
    benchmark.pedantic(target, setup=setup, teardown=teardown, rounds=rounds, warmup_rounds=2)


# -- the floor ------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_floor_add(benchmark, floors, depth):
    state = floors(depth)
    book = state[0]
    rng = random.Random(1)

    def setup():
        start = state[1]
        state[1] += K
        return (start, [t for _s, t in resting_prices(K, rng)]), {}

    def add(start, prices):
        add = book.add  # bound once, as the venue loops bind their client method
        for i, price in enumerate(prices):
            add(start + i, price, 10)

    def teardown(start, prices):
        for i in range(K):
            book.cancel(start + i)

    _bench(benchmark, add, setup, teardown)
    record(benchmark, "floor_add", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_floor_cancel(benchmark, floors, depth):
    state = floors(depth)
    book = state[0]
    rng = random.Random(2)

    def setup():
        start = state[1]
        state[1] += K
        for i, (_s, price) in enumerate(resting_prices(K, rng)):
            book.add(start + i, price, 10)
        ids = list(range(start, start + K))
        rng.shuffle(ids)
        return (ids,), {}

    def cancel(ids):
        cancel = book.cancel
        for oid in ids:
            cancel(oid)

    _bench(benchmark, cancel, setup, None)
    record(benchmark, "floor_cancel", depth, K)


# -- the venue ------------------------------------------------------------------------------
def _stage(client, rng, n, **extra):
    """Place ``n`` resting orders (untimed); returns their ids in a shuffled order."""
    ids = []
    for side, ticks in resting_prices(n, rng):
        ids.append(client.new_order(side=side, price=price_str(ticks), **NEW, **extra)["orderId"])
    rng.shuffle(ids)
    return ids


@pytest.mark.parametrize("depth", DEPTHS)
def test_place_limit(benchmark, venues, depth):
    ex, _ids = venues(depth)
    c = ex.client("maker")
    rng = random.Random(3)
    new_order = c.new_order

    def setup():
        return ([(side, price_str(t)) for side, t in resting_prices(K, rng)],), {}

    placed: list[int] = []

    def place(orders):
        for side, price in orders:
            placed.append(new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                                    quantity=LOT, price=price)["orderId"])

    def teardown(orders):
        for oid in placed:
            c.cancel_order(symbol=SYMBOL, orderId=oid)
        placed.clear()

    _bench(benchmark, place, setup, teardown)
    record(benchmark, "place_limit", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_cancel(benchmark, venues, depth):
    ex, _ids = venues(depth)
    c = ex.client("maker")
    rng = random.Random(4)
    cancel_order = c.cancel_order

    def cancel(ids):
        for oid in ids:
            cancel_order(symbol=SYMBOL, orderId=oid)

    _bench(benchmark, cancel, lambda: ((_stage(c, rng, K),), {}), None)
    record(benchmark, "cancel", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_cancel_cascade(benchmark, venues, depth):
    """Cancel a resting parent with a TP and an SL: three orders in one transaction."""
    ex, _ids = venues(depth)
    c = ex.client("maker")
    rng = random.Random(5)
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
        return (ids,), {}

    def cancel(ids):
        for oid in ids:
            cancel_order(symbol=SYMBOL, orderId=oid)

    _bench(benchmark, cancel, setup, None)
    record(benchmark, "cancel_cascade", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_cancel_by_client_id(benchmark, venues, depth):
    ex, _ids = venues(depth)
    c = ex.client("maker")
    rng = random.Random(6)
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
        return (cids,), {}

    def cancel(cids):
        for cid in cids:
            cancel_order(symbol=SYMBOL, origClientOrderId=cid)

    _bench(benchmark, cancel, setup, None)
    record(benchmark, "cancel_by_client_id", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_cancel_batch_10(benchmark, venues, depth):
    """``K`` orders cancelled as K/10 batches of 10 (the rate is per order)."""
    ex, _ids = venues(depth)
    c = ex.client("maker")
    rng = random.Random(7)
    batch = c.cancel_batch_order

    def cancel(ids):
        for i in range(0, K, 10):
            batch(SYMBOL, ids[i:i + 10], None)

    _bench(benchmark, cancel, lambda: ((_stage(c, rng, K),), {}), None)
    record(benchmark, "cancel_batch_10", depth, K)


@pytest.mark.parametrize("depth", DEPTHS)
def test_fill_across_3_levels(benchmark, venues, depth):
    """A MARKET buy that sweeps three single-order levels (the rate is per taker order)."""
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

    _bench(benchmark, sweep, setup, None)
    record(benchmark, "fill_across_3_levels", depth, n)


@pytest.mark.parametrize("fires", [0, 1, 100])
@pytest.mark.parametrize("depth", DEPTHS)
def test_mark_move_fires(benchmark, venues, depth, fires):
    """Mark moves (the rate is per move) that fire 0, 1 or 100 stop rows each.

    Each fired row is a BUY STOP whose child rests as a LIMIT bid in the gap
    (no fill), so the cost is the trigger path, not the book's liquidity.
    1,000 far-away rows stay armed throughout.
    """
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

    _bench(benchmark, move, setup, teardown, rounds=8)
    record(benchmark, f"mark_move_fires_{fires}", depth, moves)
