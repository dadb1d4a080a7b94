"""Atomicity under faults: an exception at any mutation point leaves the venue exactly as before.

Each test builds the same venue twice over: once to count the mutation points
of a command (every logged mutation is one), then, for every point k, a fresh
venue where the k-th mutation raises.  The command must fail, and the venue's
``state_hash()`` and invariants must be exactly those from before the command;
the same command then succeeds and gives the response it gives without faults.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Exchange
from engine.core.instrument import default_instruments
from engine.core.txn import InjectedFault, inject_fault


def venue_with_protected_partial_fill() -> Exchange:
    """alice: BUY 0.013 @ 30000 with TP/SL, 0.005 filled by bob; other resting orders around."""
    ex = Exchange()
    for name in ("alice", "bob", "carol"):
        ex.create_account(name, balance="50000")
    a, b, c = (ex.client(n) for n in ("alice", "bob", "carol"))
    ex.set_mark_price("BTCUSDT", "30000")
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.013", price="30000", takeProfitPrice="31000",
                stopLossPrice="29500", newClientOrderId="parent")
    b.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.005")
    c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.020", price="29400")
    c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.020", price="30100")
    a.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.5", price="2000", stopLossPrice="1900")
    return ex


def assert_every_fault_rolls_back(
    build: Callable[[], Exchange], command: Callable[[Exchange], object], minimum: int
) -> None:
    reference_venue = build()
    with inject_fault(reference_venue._undo, 0) as count:
        reference = command(reference_venue)
    points = count[0]
    assert points >= minimum, f"only {points} mutation points"
    after = reference_venue.state_hash()
    for k in range(1, points + 1):
        ex = build()
        before = ex.state_hash()
        with inject_fault(ex._undo, k), pytest.raises(InjectedFault):
            command(ex)
        assert ex.state_hash() == before, f"fault at mutation {k} of {points} left changes"
        assert len(ex._undo) == 0
        ex.check_invariants()
        assert command(ex) == reference, f"after a fault at {k}, the command answers differently"
        assert ex.state_hash() == after


def test_fault_anywhere_in_a_cascading_cancel_of_a_partly_filled_parent_changes_nothing():
    def cancel_parent(ex: Exchange) -> object:
        return ex.client("alice").cancel_order(symbol="BTCUSDT", origClientOrderId="parent")

    assert_every_fault_rolls_back(venue_with_protected_partial_fill, cancel_parent, minimum=8)


def test_fault_anywhere_in_order_entry_with_tp_sl_that_fills_changes_nothing():
    def cross_with_tpsl(ex: Exchange) -> object:
        return ex.client("bob").new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.030",
            price="30100", takeProfitPrice="30500", stopLossPrice="29600",
        )

    assert_every_fault_rolls_back(venue_with_protected_partial_fill, cross_with_tpsl, minimum=20)


def venue_with_mark_watched_protection() -> Exchange:
    """alice long 0.010 @ 30000 with TP/SL on the mark; bob holds a bid at 29400."""
    ex = Exchange()
    for name in ("alice", "bob"):
        ex.create_account(name, balance="50000")
    a, b = ex.client("alice"), ex.client("bob")
    ex.set_mark_price("BTCUSDT", "30000")
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="30000", takeProfitPrice="31000",
                stopLossPrice="29500", tpslWorkingType="MARK_PRICE")
    b.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010")
    b.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.020", price="29400")
    return ex


def test_fault_anywhere_in_a_mark_move_that_fires_a_stop_loss_changes_nothing():
    def crash_the_mark(ex: Exchange) -> object:
        ex.set_mark_price("BTCUSDT", "29450")  # SL fires, TP is its OCO sibling, child sells
        c = ex.client("alice")
        return c.get_orders(), c.account(), c.get_account_trades(symbol="BTCUSDT")

    assert_every_fault_rolls_back(venue_with_mark_watched_protection, crash_the_mark, minimum=15)


def test_fault_anywhere_in_cancel_all_and_in_a_countdown_changes_nothing():
    def cancel_all(ex: Exchange) -> object:
        return ex.client("alice").cancel_open_orders(symbol="BTCUSDT")

    def armed_countdown() -> Exchange:
        ex = venue_with_protected_partial_fill()
        ex.client("carol").countdown_cancel_order(symbol="BTCUSDT", countdownTime=1000)
        return ex

    def countdown_fires(ex: Exchange) -> object:
        ex.advance(2000)
        return ex.client("carol").get_orders(symbol="BTCUSDT")

    assert_every_fault_rolls_back(venue_with_protected_partial_fill, cancel_all, minimum=8)
    assert_every_fault_rolls_back(armed_countdown, countdown_fires, minimum=4)


def test_a_cancel_logs_the_same_number_of_mutations_in_a_small_and_a_large_venue():
    def mutations_of_one_cancel(resting: int) -> int:
        ex = Exchange(default_instruments(max_num_orders=10**6))
        ex.create_account("alice", balance="100000000")
        c = ex.client("alice")
        for i in range(resting):
            side = "BUY" if i % 2 else "SELL"
            ticks = 290_000 - i % 500 if side == "BUY" else 310_000 + i % 500
            c.new_order(symbol="BTCUSDT", side=side, type="LIMIT", timeInForce="GTC",
                        quantity="0.010", price=f"{ticks // 10}.{ticks % 10}")
        target = c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                             quantity="0.010", price="29999", stopLossPrice="29000")
        with inject_fault(ex._undo, 0) as count:
            c.cancel_order(symbol="BTCUSDT", orderId=target["orderId"])
        return count[0]

    small, large = mutations_of_one_cancel(10), mutations_of_one_cancel(3000)
    assert small == large


def test_the_fast_cancel_path_and_the_general_one_leave_identical_venues():
    from engine.wire.orders import order_result

    def build() -> Exchange:
        ex = venue_with_protected_partial_fill()
        c, b = ex.client("carol"), ex.client("bob")
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.020", price="29400")  # second order on a level
        b.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.005")  # partial
        ex.client("alice").new_order(symbol="ETHUSDT", side="SELL", type="LIMIT",
                                     timeInForce="GTC", quantity="0.5", price="2010")
        return ex

    for symbol, name, picks in (("BTCUSDT", "carol", (0, 1, 2)), ("ETHUSDT", "alice", (0,))):
        for pick in picks:
            fast, general = build(), build()
            acct_f, acct_g = fast._ledger.accounts[name], general._ledger.accounts[name]
            ordinary = [o["orderId"] for o in fast.client(name).get_orders(symbol=symbol)
                        if o["type"] == "LIMIT" and fast._index.by_id[o["orderId"]].rows is None]
            oid = ordinary[pick % len(ordinary)]
            got_fast = fast._cancels.cancel_order(acct_f, symbol, oid)
            got_general = general._runner.run_fmt(
                general._cancels._cancel_one, order_result, acct_g, symbol, oid, None
            )
            assert got_fast == got_general
            assert fast.state_hash() == general.state_hash()
            fast.check_invariants()


def test_a_fault_in_the_fast_cancel_path_changes_nothing():
    def cancel_resting_ask(ex: Exchange) -> object:
        ask = next(o for o in ex.client("carol").get_orders(symbol="BTCUSDT")
                   if o["side"] == "SELL")
        return ex.client("carol").cancel_order(symbol="BTCUSDT", orderId=ask["orderId"])

    assert_every_fault_rolls_back(venue_with_protected_partial_fill, cancel_resting_ask, minimum=1)
