"""Regressions found by the property tests, each pinned as a behaviour sentence."""

from __future__ import annotations

import pytest

from engine import ClientError, Exchange


@pytest.fixture
def ex():
    ex = Exchange()
    for name in ("alice", "bob", "carol"):
        ex.create_account(name, balance="100000")
    ex.set_mark_price("ETHUSDT", "2000")
    yield ex
    ex.check_invariants()


def test_a_row_cannot_join_an_oco_group_whose_row_already_fired(ex):
    alice, bob = ex.client("alice"), ex.client("bob")
    bob.new_order(symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.100", price="2000")
    parent = alice.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                             quantity="0.100", price="2000", takeProfitPrice="2010",
                             tpslWorkingType="MARK_PRICE")
    tp = parent["triggerOrders"][0]["orderId"]
    bob.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                  quantity="0.050", price="2009")
    ex.set_mark_price("ETHUSDT", "2010")  # the TP fires and sells 0.050 of the long
    assert alice.query_order(symbol="ETHUSDT", orderId=tp)["status"] == "TRIGGERED"
    before = ex.state_hash()

    with pytest.raises(ClientError) as refused:
        alice.new_order(symbol="ETHUSDT", side="SELL", type="STOP_MARKET",
                        parentOrderId=parent["orderId"], stopPrice="1990")

    assert refused.value.error_code == -2013
    assert ex.state_hash() == before


def test_a_rolled_back_command_restores_a_level_it_emptied(ex):
    alice, bob = ex.client("alice"), ex.client("bob")
    ex.set_mark_price("BTCUSDT", "30000")
    bob.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.004", price="30000")
    alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.004")
    alice.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="30100", reduceOnly="true")
    ex.client("carol").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT",
                                 timeInForce="GTC", quantity="0.005", price="30200")
    before = ex.state_hash()

    with pytest.raises(ClientError) as refused:  # takes 0.004 of the capped maker, then FOK fails
        bob.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="FOK",
                      quantity="0.015", price="30200")

    assert refused.value.error_code == -5021
    assert ex.state_hash() == before
    assert bob.depth(symbol="BTCUSDT")["asks"] == [["30100", "0.01"], ["30200", "0.005"]]


def test_an_ioc_limit_that_crosses_nothing_expires_instead_of_resting(ex):
    alice = ex.client("alice")
    ex.set_mark_price("BTCUSDT", "30000")

    ioc = alice.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC",
                          quantity="0.010", price="29000")

    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0")
    assert alice.depth(symbol="BTCUSDT")["bids"] == []
    assert alice.account()["totalOpenOrderInitialMargin"] == "0"


def test_a_fault_in_the_middle_of_a_batch_cancel_undoes_the_items_before_it():
    # Found by the atomicity table (test_atomicity_all): each item committed on its own,
    # so a fault in item 3 left items 1 and 2 cancelled — and a journal, which records
    # only commands that succeed, could no longer rebuild the venue.
    from engine.core.txn import InjectedFault, inject_fault

    def three_bids() -> tuple[Exchange, list[int]]:
        ex = Exchange()
        ex.create_account("carol", balance="100000")
        ex.set_mark_price("ETHUSDT", "2000")
        c = ex.client("carol")
        return ex, [c.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.100", price=f"{1990 - i}")["orderId"]
                    for i in range(3)]

    probe, ids = three_bids()
    with inject_fault(probe._undo, 0) as count:
        probe.client("carol").cancel_batch_order("ETHUSDT", ids, None)
    ex, ids = three_bids()
    before = ex.state_hash()

    with inject_fault(ex._undo, 2 * count[0] // 3 + 1), pytest.raises(InjectedFault):
        ex.client("carol").cancel_batch_order("ETHUSDT", ids, None)  # fails in item 3

    assert ex.state_hash() == before
    assert len(ex.client("carol").get_orders(symbol="ETHUSDT")) == 3
