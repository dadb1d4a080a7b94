"""Seeded workloads shared by the venue and the floor, and the deep venues they run on.

The BTCUSDT book holds ``depth`` resting orders of 0.010 BTC: bids on the
1,000 ticks from 29400.0 to 29499.9 and asks on the 1,000 ticks from 30500.0
to 30599.9 (the mark stays at 30000, inside every PERCENT_PRICE band).  The gap
between 29500 and 30500 is free for crossing orders and trigger children.
Every random choice comes from ``random.Random(seed)``.
"""

from __future__ import annotations

import random

from engine import Exchange
from engine.instrument import default_instruments

SYMBOL = "BTCUSDT"
MARK = "30000"
BID_BASE, ASK_BASE, LEVELS = 294_000, 305_000, 1_000  # ticks of 0.1
LOT = "0.010"
MAKER = "maker"


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
    """A venue whose BTCUSDT book rests ``depth`` orders of one maker; returns their ids."""
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
