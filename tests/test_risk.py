"""Funding and liquidation (engine/risk.py), with the figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

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
    assert alice.get_position_risk(symbol="BTCUSDT") == []  # flat: no row (v3)
    assert alice.account()["totalWalletBalance"] == "0"
    assert ex._ledger.liquidations == [
        (ex.now, "alice", "BTCUSDT", "BOTH", 40, 276255, 442_000_000),
    ]
    insurance = ex._ledger.accounts["@insurance"]
    assert insurance.position_qty("BTCUSDT", PositionSide.BOTH) == 40
    assert ex._ledger.fee_e8 - fees_before == 442_000_000
    incomes = [(r["incomeType"], r["income"]) for r in alice.get_income_history()]
    assert ("REALIZED_PNL", "-94.98") in incomes and ("INSURANCE_CLEAR", "-4.42") in incomes
    # the fee took the wallet to exactly 0: nothing for the insurance fund to cover
    assert [r for r in alice.get_income_history() if r["info"] == "INSURANCE_COVER"] == []
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


@pytest.mark.parametrize(("rate", "message"), [
    ("0.000000001",
     "Illegal characters found in parameter 'rate'; legal range is 'at most 8 decimals'."),
    ("x", "Illegal characters found in parameter 'rate'; legal range is "
          "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."),
])
def test_a_funding_rate_finer_than_eight_decimals_or_not_a_number_is_refused(rate, message):
    ex = Exchange()
    ex.create_account("alice", balance="100")
    ex.set_mark_price("BTCUSDT", "30000")
    before = ex.state_hash()

    with pytest.raises(ClientError) as info:
        ex.settle_funding("BTCUSDT", rate)

    assert (info.value.error_code, info.value.error_message) == (-1100, message)
    assert ex.state_hash() == before


# -- the prices of a position among others, by what they mean ----------------------------------
def _ticks(t: int) -> str:
    return f"{t // 10}.{t % 10}"


def hedged_venue(pside: PositionSide, size: str = "0.040", balance: str = "400") -> Exchange:
    """dave (hedge mode) holds BTC ``size`` on ``pside``, a flat row on the other BTC side
    (opened and closed), and, opened after them, an ETH long of 1.0 (half closed) that
    carries a loss."""
    ex = Exchange()
    for name, money in (("dave", balance), ("bob", "100000000")):
        ex.create_account(name, balance=money)
    ex.set_mark_price("BTCUSDT", "30000")
    ex.set_mark_price("ETHUSDT", "2000")
    dave, bob = ex.client("dave"), ex.client("bob")
    dave.change_position_mode(dualSidePosition="true")
    other = "SHORT" if pside is PositionSide.LONG else "LONG"
    opens = "BUY" if pside is PositionSide.LONG else "SELL"
    for symbol, side, qty, price, ps in (
        ("BTCUSDT", "SELL" if other == "SHORT" else "BUY", "0.010", "30000", other),
        ("BTCUSDT", "BUY" if other == "SHORT" else "SELL", "0.010", "30000", other),
        ("BTCUSDT", opens, size, "30000", pside.value),
        ("ETHUSDT", "BUY", "2.0", "2000", "LONG"), ("ETHUSDT", "SELL", "1.0", "2000", "LONG"),
    ):
        bob.new_order(symbol=symbol, side="SELL" if side == "BUY" else "BUY", type="LIMIT",
                      timeInForce="GTC", quantity=qty, price=price)
        dave.new_order(symbol=symbol, side=side, type="MARKET", quantity=qty, positionSide=ps)
    ex.set_mark_price("ETHUSDT", "1990")  # the ETH long carries a loss into the BTC figures
    return ex


@pytest.mark.parametrize(("pside", "size", "balance"), [
    (PositionSide.LONG, "0.040", "400"), (PositionSide.SHORT, "0.040", "400"),
    # 2 BTC (60000 USDT) is in the second bracket: its own rate and cum amount
    (PositionSide.LONG, "2.000", "9000"), (PositionSide.SHORT, "2.000", "9000"),
])
def test_the_liquidation_price_is_the_first_mark_that_liquidates(pside, size, balance):
    ex = hedged_venue(pside, size, balance)
    assert ex._instruments["BTCUSDT"].bracket_for(
        int(Decimal(size) * 1000) * 300000 * 10000).bracket == (1 if size == "0.040" else 2)
    liq = ex._risk.liquidation_price(ex.account_state("dave"), "BTCUSDT", pside)
    assert liq is not None
    step = 1 if pside is PositionSide.LONG else -1  # a long is liquidated below, a short above
    snap = ex.snapshot()

    for mark, liquidated in ((liq + step, False), (liq, True)):
        venue = Exchange.restore(snap)
        venue.set_mark_price("BTCUSDT", _ticks(mark))
        assert bool(venue._ledger.liquidations) is liquidated, (pside, mark)


@pytest.mark.parametrize("pside", [PositionSide.LONG, PositionSide.SHORT])
def test_the_bankruptcy_price_is_where_the_margin_balance_crosses_zero(pside):
    ex = hedged_venue(pside)
    acct = ex.account_state("dave")
    price = ex._risk.bankruptcy_price(acct, "BTCUSDT", pside)
    unit = ex._instruments["BTCUSDT"].notional_unit_e8
    rest = acct.wallet_e8 + sum(
        p.qty * ex._markets[s].mark_price() * ex._instruments[s].notional_unit_e8 - p.cost_e8
        for (s, ps), p in acct.positions.items() if (s, ps) != ("BTCUSDT", pside))
    pos = acct.positions[("BTCUSDT", pside)]

    def balance(mark: int) -> int:
        return rest + pos.qty * mark * unit - pos.cost_e8

    beyond = -1 if pside is PositionSide.LONG else 1  # where the balance goes negative
    assert balance(price) <= 0 < balance(price - beyond)
    flat = PositionSide.SHORT if pside is PositionSide.LONG else PositionSide.LONG
    assert ex._risk.bankruptcy_price(acct, "BTCUSDT", flat) is None
    assert ex._risk.liquidation_price(acct, "BTCUSDT", flat) is None


def test_funding_at_a_zero_rate_or_without_a_mark_pays_nothing():
    ex = Exchange()
    for name, balance in (("alice", "100"), ("bob", "100000")):
        ex.create_account(name, balance=balance)
    assert ex.settle_funding("BTCUSDT", "0.0001") == []  # no mark, no trade yet
    ex.set_mark_price("BTCUSDT", "30000")
    long_for_alice(ex)
    assert ex.settle_funding("BTCUSDT", "0") == []
    assert [r for r in ex.client("alice").get_income_history()
            if r["incomeType"] == "FUNDING_FEE"] == []


def test_funding_that_takes_a_long_below_maintenance_liquidates_it(ex):
    long_for_alice(ex)
    ex.set_mark_price("BTCUSDT", "27700")  # balance 7.4 against maintenance 4.43
    assert ex._ledger.liquidations == []

    ex.settle_funding("BTCUSDT", "0.003")  # the long pays 0.04 × 27700 × 0.003 = 3.324

    assert [row[1] for row in ex._ledger.liquidations] == ["alice"]


def test_liquidation_cancels_a_partly_filled_order_and_books_its_fee_as_such(ex):
    long_for_alice(ex, "0.030")
    alice, carol = ex.client("alice"), ex.client("carol")
    oid = alice.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.010", price="29990")["orderId"]
    carol.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.004")
    assert alice.query_order(symbol="BTCUSDT", orderId=oid)["status"] == "PARTIALLY_FILLED"
    liq = ex._risk.liquidation_price(ex.account_state("alice"), "BTCUSDT")

    ex.set_mark_price("BTCUSDT", _ticks(liq))  # above bankruptcy: a fee is charged

    assert alice.query_order(symbol="BTCUSDT", orderId=oid)["status"] == "CANCELED"
    assert ex._ledger.accounts["alice"].frozen_e8 == 0
    fees = [r for r in alice.get_income_history() if r["incomeType"] == "INSURANCE_CLEAR"]
    assert fees and fees[0]["info"] == "LIQUIDATION_FEE"


def test_a_long_of_one_lot_is_liquidated_at_its_liquidation_price_by_a_sell():
    # Arrange: alice (10 USDT) buys 0.004 from bob and sells 0.003 back reduce-only:
    # long one lot
    ex = Exchange()
    for name, balance in (("alice", "10"), ("bob", "100000")):
        ex.create_account(name, balance=balance)
    ex.set_mark_price("BTCUSDT", "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    bob.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.004", price="30000")
    alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.004")
    bob.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                  quantity="0.004", price="30000")
    alice.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.003",
                    reduceOnly="true")
    acct = ex.account_state("alice")
    liq = ex._risk.liquidation_price(acct, "BTCUSDT")
    bankrupt = ex._risk.bankruptcy_price(acct, "BTCUSDT")
    # a long's prices are rounded down (floor): the balance at the bankruptcy price is ≤ 0
    pos = acct.positions[("BTCUSDT", PositionSide.BOTH)]
    unit = ex._instruments["BTCUSDT"].notional_unit_e8
    assert acct.wallet_e8 + pos.qty * bankrupt * unit - pos.cost_e8 <= 0
    assert acct.wallet_e8 + pos.qty * (bankrupt + 1) * unit - pos.cost_e8 > 0
    snap = ex.snapshot()
    above = Exchange.restore(snap)
    above.set_mark_price("BTCUSDT", _ticks(liq + 1))
    assert above._ledger.liquidations == []
    # Act
    ex.set_mark_price("BTCUSDT", _ticks(liq))
    # Assert: closed by a sell of the one lot
    assert [row[1:5] for row in ex._ledger.liquidations] == [("alice", "BTCUSDT", "BOTH", 1)]
    last = alice.get_account_trades(symbol="BTCUSDT")[-1]
    assert (last["side"], last["qty"]) == ("SELL", "0.001")
