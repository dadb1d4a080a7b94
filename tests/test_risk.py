"""Funding and liquidation (engine/risk.py), with the figures worked out by hand."""

from __future__ import annotations

import pytest

from engine import ClientError, Exchange
from engine.core.enums import PositionSide

E8 = 10**8


@pytest.fixture
def ex():
    ex = Exchange()
    for name, balance in (("alice", "100"), ("bob", "100000"), ("carol", "100000")):
        ex.create_account(name, balance=balance)
    ex.set_mark_price("BTCUSDT", "30000")
    yield ex
    ex.check_invariants()


def conserved(ex: Exchange) -> int:
    ledger = ex._ledger
    return ledger.fee_e8 + sum(
        a.wallet_e8 - sum(p.cost_e8 for p in a.positions.values())
        for a in ledger.accounts.values()
    )


def long_for_alice(ex: Exchange, qty: str = "0.040", **protect) -> dict:
    """bob rests an ask at 30000; alice buys it at MARKET (taker fee 0.0005)."""
    ex.client("bob").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity=qty, price="30000")
    return ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                        quantity=qty, **protect)


# -- funding ----------------------------------------------------------------------------------
def test_funding_moves_qty_times_mark_times_rate_from_longs_to_shorts(ex):
    # Arrange: alice long 0.040, bob short 0.040 at 30000; wallets after fees
    long_for_alice(ex)
    alice, bob = ex._ledger.accounts["alice"], ex._ledger.accounts["bob"]
    wallets = alice.wallet_e8, bob.wallet_e8
    total = conserved(ex)
    # Act: 0.0001 × 0.040 × 30000 = 0.12 USDT
    paid = ex.settle_funding("BTCUSDT", "0.0001")
    # Assert
    assert paid == [{"account": "alice", "income": -12_000_000},
                    {"account": "bob", "income": 12_000_000}]
    assert (alice.wallet_e8, bob.wallet_e8) == (wallets[0] - 12_000_000, wallets[1] + 12_000_000)
    rows = ex.client("alice").get_income_history(incomeType="FUNDING_FEE")
    assert [(r["symbol"], r["income"]) for r in rows] == [("BTCUSDT", "-0.12")]
    assert conserved(ex) == total


def test_funding_rounds_payments_up_and_receipts_down_and_the_fee_account_keeps_the_rest(ex):
    # Arrange: positions of 0.001 at 30000.1; rate 0.00010001
    ex.client("bob").new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.004", price="30000.1")
    ex.client("carol").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.004")
    ex.set_mark_price("BTCUSDT", "30000.1")
    fee_before = ex._ledger.fee_e8
    # Act: 0.004 × 30000.1 × 0.00010001 = 0.012001240012 USDT
    paid = ex.settle_funding("BTCUSDT", "0.00010001")
    # Assert: carol (long) pays 0.01200125, bob (short) receives 0.01200124
    assert paid == [{"account": "bob", "income": 1_200_124},
                    {"account": "carol", "income": -1_200_125}]
    assert ex._ledger.fee_e8 - fee_before == 1


def test_funding_with_a_negative_rate_pays_longs(ex):
    long_for_alice(ex)
    paid = ex.settle_funding("BTCUSDT", "-0.0001")
    assert paid == [{"account": "alice", "income": 12_000_000},
                    {"account": "bob", "income": -12_000_000}]


# -- liquidation -------------------------------------------------------------------------------
def test_liquidation_and_bankruptcy_prices_of_a_long_match_the_hand_computation(ex):
    # alice: 100 USDT, taker fee 1200 × 0.0005 = 0.6 → wallet 99.4, long 0.040 @ 30000.
    # Maintenance (bracket 1, mmr 0.4%): 99.4 + 0.04(M − 30000) ≤ 0.04 × M × 0.004
    #   → M ≤ 1100.6 / 0.03984 = 27625.502… → first liquidating tick 27625.5.
    # Bankruptcy: 99.4 + 0.04(B − 30000) = 0 → B = 27515.
    long_for_alice(ex)
    acct = ex.account_state("alice")
    assert ex._risk.liquidation_price(acct, "BTCUSDT") == 276255
    assert ex._risk.bankruptcy_price(acct, "BTCUSDT") == 275150
    row = ex.client("alice").get_position_risk(symbol="BTCUSDT")[0]
    assert row["liquidationPrice"] == "27625.5"


def test_a_mark_one_tick_above_the_liquidation_price_liquidates_nothing(ex):
    long_for_alice(ex)
    ex.set_mark_price("BTCUSDT", "27625.6")  # balance 4.424 > maintenance 4.420096
    assert ex.client("alice").get_position_risk(symbol="BTCUSDT")[0]["positionAmt"] == "0.04"
    assert ex._ledger.liquidations == []


def test_liquidation_closes_at_mark_charges_the_capped_fee_and_expires_the_tp_sl(ex):
    # Arrange: alice long with an attached SL far below and a TP above
    bob = ex.client("bob")
    bob.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.040", price="30000")
    parent = ex.client("alice").new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.040",
        price="30000", takeProfitPrice="33000", stopLossPrice="20000",
        tpslWorkingType="MARK_PRICE",
    )
    tp, sl = (r["orderId"] for r in parent["triggerOrders"])
    total = conserved(ex)
    fees_before = ex._ledger.fee_e8
    # Act: mark at the liquidation price (balance 4.42 ≤ maintenance 4.42008)
    ex.set_mark_price("BTCUSDT", "27625.5")
    # Assert: closed at 27625.5: realized −94.98 → wallet 4.42; fee ceil(1105.02 × 0.0125) =
    # 13.81275 capped at 4.42 → wallet 0; positions sum to zero with @insurance long 0.04
    alice = ex.client("alice")
    assert alice.get_position_risk(symbol="BTCUSDT")[0]["positionAmt"] == "0"
    assert alice.account()["totalWalletBalance"] == "0"
    assert ex._ledger.liquidations == [
        (ex.now, "alice", "BTCUSDT", "BOTH", 40, 276255, 442_000_000),
    ]
    insurance = ex._ledger.accounts["@insurance"]
    assert insurance.position_qty("BTCUSDT", PositionSide.BOTH) == 40
    assert ex._ledger.fee_e8 - fees_before == 442_000_000
    incomes = [(r["incomeType"], r["income"]) for r in alice.get_income_history()]
    assert ("REALIZED_PNL", "-94.98") in incomes and ("INSURANCE_CLEAR", "-4.42") in incomes
    assert [alice.query_order(symbol="BTCUSDT", orderId=i)["status"] for i in (tp, sl)] == [
        "EXPIRED", "EXPIRED"]
    with pytest.raises(ClientError) as refused:
        alice.cancel_order(symbol="BTCUSDT", orderId=sl)
    assert refused.value.error_code == -2092
    assert conserved(ex) == total


def test_a_gap_through_the_bankruptcy_price_is_covered_by_the_insurance_fund(ex):
    long_for_alice(ex)
    fees_before = ex._ledger.fee_e8
    # Act: the mark gaps to 27000, below bankruptcy (27515): loss 120 > wallet 99.4
    ex.set_mark_price("BTCUSDT", "27000")
    # Assert: no fee (nothing left), the fund covers 20.6, the wallet ends at 0
    alice = ex.client("alice")
    assert alice.account()["totalWalletBalance"] == "0"
    incomes = [(r["incomeType"], r["income"], r["info"]) for r in alice.get_income_history()]
    assert ("INSURANCE_CLEAR", "20.6", "INSURANCE_COVER") in incomes
    assert ex._ledger.fee_e8 - fees_before == -2_060_000_000


def test_liquidation_cancels_every_open_order_of_the_account(ex):
    long_for_alice(ex, "0.030")
    ex.client("alice").new_order(symbol="ETHUSDT", side="BUY", type="LIMIT",
                                 timeInForce="GTC", quantity="0.010", price="2000")
    ex.set_mark_price("BTCUSDT", "26000")
    assert ex.client("alice").get_orders() == []
    assert ex._ledger.accounts["alice"].frozen_e8 == 0


def test_a_short_is_liquidated_when_the_mark_rises_to_its_liquidation_price(ex):
    ex.client("bob").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.040", price="30000")
    ex.client("alice").new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.040")
    # 99.4 + 0.04(30000 − M) ≤ 0.04 × M × 0.004 → M ≥ 1299.4 / 0.04016 = 32355.577… → 32355.6
    acct = ex.account_state("alice")
    assert ex._risk.liquidation_price(acct, "BTCUSDT") == 323556
    ex.set_mark_price("BTCUSDT", "32355.5")
    assert ex._ledger.liquidations == []
    ex.set_mark_price("BTCUSDT", "32355.6")
    assert [row[1:5] for row in ex._ledger.liquidations] == [("alice", "BTCUSDT", "BOTH", -40)]


def test_venue_account_names_cannot_be_taken_by_users(ex):
    with pytest.raises(ValueError):
        ex.create_account("@insurance", balance="1")


@pytest.mark.parametrize(("rate", "code"), [("0.000000001", -1100), ("x", -1100)])
def test_a_funding_rate_finer_than_eight_decimals_or_not_a_number_is_refused(rate, code):
    ex = Exchange()
    ex.create_account("alice", balance="100")
    ex.set_mark_price("BTCUSDT", "30000")
    before = ex.state_hash()

    with pytest.raises(ClientError) as info:
        ex.settle_funding("BTCUSDT", rate)

    assert info.value.error_code == code and "rate" in info.value.error_message
    assert ex.state_hash() == before


def test_with_no_mark_a_trade_between_others_can_liquidate_a_holder():
    # Arrange: no mark price is ever set; alice (100 USDT) buys 0.040 @ 30000 from bob, so
    # the last price is her mark
    ex = Exchange()
    for name, balance in (("alice", "100"), ("bob", "100000"), ("carol", "100000")):
        ex.create_account(name, balance=balance)
    long_for_alice(ex)
    bob, carol = ex.client("bob"), ex.client("carol")
    # Act: carol sells to bob at 28600, then at 27500 (the price band follows the last
    # price): trades alice is not part of move her mark
    for price in ("28600", "27500"):
        bob.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.010", price=price)
        carol.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010")
        if price == "28600":
            assert ex._ledger.liquidations == []
    # Assert: 27500 is past her liquidation price (27625.5)
    assert ex.client("alice").get_position_risk(symbol="BTCUSDT")[0]["positionAmt"] == "0"
    assert [row[1] for row in ex._ledger.liquidations] == ["alice"]
    ex.check_invariants()
