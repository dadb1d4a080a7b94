"""History reads — allOrders, userTrades, income — honour startTime, endTime and limit.

One venue with commands at three known times (T, T + 1 s, T + 2 s); each read is
asked for a window or a page and must answer exactly the rows inside it, in order.
"""

from __future__ import annotations

import pytest

from engine import Exchange

T = 1_704_067_200_000
BTC = "BTCUSDT"


@pytest.fixture(scope="module")
def venue() -> Exchange:
    """At T, T + 1 s and T + 2 s bob rests an ask of 0.004 @ 30000 and alice buys it."""
    ex = Exchange(start_time=T)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="10000")
    ex.set_mark_price(BTC, "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    for i in range(3):
        ex.set_time(T + 1000 * i)
        bob.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.004", price="30000")
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
    ex.check_invariants()
    return ex


WINDOWS = [
    ({}, [0, 1, 2]),
    ({"startTime": T + 1000}, [1, 2]),
    ({"endTime": T + 1000}, [0, 1]),
    ({"startTime": T + 500, "endTime": T + 1500}, [1]),
    ({"limit": 2}, [0, 1]),
    ({"startTime": T + 1000, "limit": 1}, [1]),
]


@pytest.mark.parametrize(("window", "which"), WINDOWS)
def test_all_orders_answers_the_orders_placed_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_all_orders(symbol=BTC, **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


@pytest.mark.parametrize(("window", "which"), WINDOWS)
def test_user_trades_answers_the_trades_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_account_trades(symbol=BTC, **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


@pytest.mark.parametrize(("window", "which"), WINDOWS)
def test_income_answers_the_commissions_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_income_history(incomeType="COMMISSION", **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


def test_income_without_a_type_pages_through_every_row_in_order(venue):
    c = venue.client("alice")
    every = c.get_income_history()

    assert [r["incomeType"] for r in every] == ["TRANSFER"] + ["COMMISSION"] * 3
    assert c.get_income_history(limit=3) == every[:3]
