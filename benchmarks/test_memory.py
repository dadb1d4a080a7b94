"""Memory per resting order, measured with tracemalloc while a deep book is built.

Everything the venue keeps for a resting LIMIT order counts: the order record,
its integers, its entries in the id index, the open set and its price level
(the responses returned while placing are garbage and are collected).
"""

from __future__ import annotations

import gc
import os
import random
import tracemalloc

from benchmarks.conftest import EXTRA
from benchmarks.workload import LOT, SYMBOL, new_venue, price_str, resting_prices

ORDERS = int(os.environ.get("FAPISIM_BENCH_MEMORY_ORDERS", "1000000"))
LIMIT_BYTES = 600


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
