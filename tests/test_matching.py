"""Matching (SPEC 3 and 6) through the public client: priority, fills, time in force, fees,
realized PnL, self-trade prevention, reduce-only, hedge mode, leverage and prices.

Order ids are one venue-wide sequence starting at 1; each test names the ids its set-up
creates in a comment.  Every expected figure is worked out by hand in the test (BTCUSDT:
a price of P USDT and a quantity of Q BTC have a notional of P × Q USDT; money is shown
to 1e-8 USDT as a minimal string).  Every test ends with ``check_invariants()`` (in the
``ex`` fixture's teardown).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import ClientError, Exchange

BTC = "BTCUSDT"
ETH = "ETHUSDT"


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def ex():
    """alice, bob, carol and dave with 10000 USDT each; marks BTC 30000, ETH 2000."""
    venue = Exchange()
    for name in ("alice", "bob", "carol", "dave"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(BTC, "30000")
    venue.set_mark_price(ETH, "2000")
    yield venue
    venue.check_invariants()


def limit(client, side: str, qty: str, price: str, tif: str = "GTC", **kw) -> dict:
    return client.new_order(
        symbol=kw.pop("symbol", BTC),
        side=side,
        type="LIMIT",
        timeInForce=tif,
        quantity=qty,
        price=price,
        **kw,
    )


def market(client, side: str, qty: str, **kw) -> dict:
    return client.new_order(
        symbol=kw.pop("symbol", BTC), side=side, type="MARKET", quantity=qty, **kw
    )


def status(client, order_id: int, symbol: str = BTC) -> tuple[str, str]:
    """(status, executedQty) of one order."""
    o = client.query_order(symbol=symbol, orderId=order_id)
    return o["status"], o["executedQty"]


def position(client, symbol: str = BTC, side: str = "BOTH") -> tuple[str, str]:
    """(positionAmt, entryPrice) of one position side."""
    for row in client.get_position_risk(symbol=symbol):
        if row["positionSide"] == side:
            return row["positionAmt"], row["entryPrice"]
    return "0", "0"  # positionRisk (v3) lists no flat side without open orders


def depth(client, symbol: str = BTC) -> tuple[list, list]:
    book = client.depth(symbol)
    return book["bids"], book["asks"]


def assert_refused(ex: Exchange, call, code: int, message: str) -> None:
    """``call()`` raises exactly (400, code, message) and leaves the state hash unchanged."""
    before = ex.state_hash()
    with pytest.raises(ClientError) as info:
        call()
    err = info.value
    assert (err.status_code, err.error_code, err.error_message) == (400, code, message)
    assert ex.state_hash() == before


def give_long(alice, bob, qty: str = "0.004", price: str = "30000") -> None:
    """alice long ``qty`` at ``price``: bob's resting sell, then alice's MARKET buy (2 ids)."""
    limit(bob, "SELL", qty, price)
    market(alice, "BUY", qty)


# -- price-time priority -------------------------------------------------------------------------


def test_taker_fills_against_the_best_price_first_even_if_it_arrived_later(ex, alice, bob, carol):
    # Arrange: bob asks 30100 (id 1), then carol asks the better 30000 (id 2)
    limit(bob, "SELL", "0.010", "30100")
    limit(carol, "SELL", "0.010", "30000")
    # Act: id 3
    resp = market(alice, "BUY", "0.010")
    # Assert
    assert (resp["status"], resp["avgPrice"], resp["cumQuote"]) == ("FILLED", "30000", "300")
    assert status(carol, 2) == ("FILLED", "0.01")
    assert status(bob, 1) == ("NEW", "0")
    assert depth(alice) == ([], [["30100", "0.01"]])


def test_orders_at_one_price_fill_first_in_first_out(ex, alice, bob, carol, dave):
    # Arrange: three asks at 30000 — bob (id 1), carol (id 2), dave (id 3)
    limit(bob, "SELL", "0.010", "30000")
    limit(carol, "SELL", "0.010", "30000")
    limit(dave, "SELL", "0.010", "30000")
    # Act: id 4 takes 0.015
    market(alice, "BUY", "0.015")
    # Assert: bob first, carol next, dave untouched
    assert status(bob, 1) == ("FILLED", "0.01")
    assert status(carol, 2) == ("PARTIALLY_FILLED", "0.005")
    assert status(dave, 3) == ("NEW", "0")
    assert depth(alice) == ([], [["30000", "0.015"]])


def test_fill_is_at_the_makers_price_not_the_takers_limit(ex, alice, bob, carol):
    # Arrange: bob asks 30000 (id 1), carol bids 29950 (id 2)
    limit(bob, "SELL", "0.010", "30000")
    limit(carol, "BUY", "0.010", "29950")
    # Act: alice bids 30100 (id 3), then offers at 29900 (id 4)
    bought = limit(alice, "BUY", "0.010", "30100")
    sold = limit(alice, "SELL", "0.010", "29900")
    # Assert
    assert (bought["status"], bought["avgPrice"], bought["cumQuote"]) == ("FILLED", "30000", "300")
    assert (sold["status"], sold["avgPrice"], sold["cumQuote"]) == ("FILLED", "29950", "299.5")
    assert [(t["orderId"], t["price"]) for t in alice.get_account_trades(BTC)] == [
        (3, "30000"),
        (4, "29950"),
    ]


def test_sweep_across_three_levels_reports_the_exact_avg_price_and_cum_quote(
    ex, alice, bob, carol, dave
):
    # Arrange: asks 0.004 @ 30000.1 (bob, id 1), 0.005 @ 30000.2 (carol, id 2),
    # 0.004 @ 30000.7 (dave, id 3)
    limit(bob, "SELL", "0.004", "30000.1")
    limit(carol, "SELL", "0.005", "30000.2")
    limit(dave, "SELL", "0.004", "30000.7")
    # Act: id 4 takes 0.011
    resp = market(alice, "BUY", "0.011")
    # Assert: 120.0004 + 150.001 + 60.0014 = 330.0028; / 0.011 = 30000.254545… (8 decimals)
    assert (resp["status"], resp["executedQty"], resp["cumQuote"], resp["avgPrice"]) == (
        "FILLED",
        "0.011",
        "330.0028",
        "30000.25454545",
    )
    assert [(t["price"], t["qty"], t["quoteQty"]) for t in alice.get_account_trades(BTC)] == [
        ("30000.1", "0.004", "120.0004"),
        ("30000.2", "0.005", "150.001"),
        ("30000.7", "0.002", "60.0014"),
    ]
    assert status(dave, 3) == ("PARTIALLY_FILLED", "0.002")
    assert depth(alice) == ([], [["30000.7", "0.002"]])


# -- time in force -----------------------------------------------------------------------------


def test_limit_gtc_rests_the_remainder_it_could_not_fill(ex, alice, bob):
    # Arrange: bob asks 0.004 @ 30000 (id 1)
    limit(bob, "SELL", "0.004", "30000")
    # Act: id 2
    resp = limit(alice, "BUY", "0.010", "30000")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("PARTIALLY_FILLED", "0.004")
    assert depth(alice) == ([["30000", "0.006"]], [])
    assert [o["orderId"] for o in alice.get_orders(symbol=BTC)] == [2]


def test_limit_ioc_expires_the_remainder_and_releases_its_margin(ex, alice, bob):
    # Arrange: bob asks 0.004 @ 30000 (id 1)
    limit(bob, "SELL", "0.004", "30000")
    # Act: id 2
    resp = limit(alice, "BUY", "0.010", "30000", tif="IOC")
    # Assert
    assert (resp["status"], resp["executedQty"], resp["cumQuote"]) == ("EXPIRED", "0.004", "120")
    assert depth(alice) == ([], [])
    assert alice.get_orders(symbol=BTC) == []
    assert alice.account()["totalOpenOrderInitialMargin"] == "0"


def test_limit_fok_that_cannot_fill_completely_is_refused_and_changes_nothing(
    ex, alice, bob, carol
):
    # Arrange: asks 0.004 @ 30000 (bob, id 1) and 0.004 @ 30100 (carol, id 2)
    limit(bob, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.004", "30100")
    message = "Due to the order could not be filled immediately, the FOK order has been rejected."
    # Act / Assert: 0.010 is more than the book holds; 0.008 is more than it holds at ≤ 30000
    assert_refused(ex, lambda: limit(alice, "BUY", "0.010", "30100", tif="FOK"), -5021, message)
    assert_refused(ex, lambda: limit(alice, "BUY", "0.008", "30000", tif="FOK"), -5021, message)
    assert status(bob, 1) == ("NEW", "0")
    assert depth(alice) == ([], [["30000", "0.004"], ["30100", "0.004"]])


def test_limit_fok_that_can_fill_completely_fills_across_levels(ex, alice, bob, carol):
    # Arrange: asks 0.004 @ 30000 (bob, id 1) and 0.004 @ 30100 (carol, id 2)
    limit(bob, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.004", "30100")
    # Act: the first refused-free order gets id 3
    resp = limit(alice, "BUY", "0.008", "30100", tif="FOK")
    # Assert: (120 + 120.4) / 0.008 = 30050
    assert (resp["orderId"], resp["status"], resp["avgPrice"], resp["cumQuote"]) == (
        3,
        "FILLED",
        "30050",
        "240.4",
    )
    assert depth(alice) == ([], [])


def test_fok_with_expire_taker_stp_is_all_or_nothing_when_it_meets_its_own_order(ex, alice, bob):
    # Arrange: at 30000, bob's 0.004 (id 1) then alice's own 0.010 (id 2)
    limit(bob, "SELL", "0.004", "30000")
    limit(alice, "SELL", "0.010", "30000")
    message = "Due to the order could not be filled immediately, the FOK order has been rejected."
    # Act / Assert: the FOK cannot fill 0.010 without trading with itself, so it must not
    # fill 0.004 and stop: all or nothing
    assert_refused(
        ex,
        lambda: limit(
            alice, "BUY", "0.010", "30000", tif="FOK", selfTradePreventionMode="EXPIRE_TAKER"
        ),
        -5021,
        message,
    )
    assert status(bob, 1) == ("NEW", "0")
    assert position(alice) == ("0", "0")


def test_fok_refused_after_meeting_a_capped_reduce_only_maker_changes_nothing(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 (ids 1, 2); alice's reduce-only ask 0.010 alone at 30100
    # (id 3) can fill only 0.004; carol asks 0.005 @ 30200 (id 4)
    give_long(alice, bob)
    limit(alice, "SELL", "0.010", "30100", reduceOnly="true")
    limit(carol, "SELL", "0.005", "30200")
    message = "Due to the order could not be filled immediately, the FOK order has been rejected."
    # Act / Assert: the book shows 0.015 up to 30200, but only 0.009 can trade
    assert_refused(ex, lambda: limit(bob, "BUY", "0.015", "30200", tif="FOK"), -5021, message)
    assert status(alice, 3) == ("NEW", "0")
    assert depth(alice) == ([], [["30100", "0.01"], ["30200", "0.005"]])


def test_post_only_that_would_not_take_rests_and_later_fills_as_maker(ex, alice, bob):
    # Arrange: bob asks 30000.1 (id 1)
    limit(bob, "SELL", "0.010", "30000.1")
    # Act: alice's post-only bid at 30000 (id 2), then bob sells into it (id 3)
    resp = limit(alice, "BUY", "0.010", "30000", tif="GTX")
    market(bob, "SELL", "0.010")
    # Assert
    assert resp["status"] == "NEW"
    assert status(alice, 2) == ("FILLED", "0.01")
    assert [(t["orderId"], t["maker"]) for t in alice.get_account_trades(BTC)] == [(2, True)]


def test_post_only_that_would_take_is_refused(ex, alice, bob):
    # Arrange: bob asks 30000.1 (id 1)
    limit(bob, "SELL", "0.010", "30000.1")
    # Act / Assert
    assert_refused(
        ex,
        lambda: limit(alice, "BUY", "0.010", "30000.1", tif="GTX"),
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )
    assert depth(alice) == ([], [["30000.1", "0.01"]])


def test_market_order_on_an_empty_book_expires_unfilled(ex, alice):
    # Act
    resp = market(alice, "BUY", "0.010")
    # Assert
    assert (resp["status"], resp["executedQty"], resp["cumQuote"], resp["avgPrice"]) == (
        "EXPIRED",
        "0",
        "0",
        "0",
    )
    assert position(alice) == ("0", "0")
    assert alice.get_account_trades(BTC) == []


def test_market_order_with_neither_a_mark_nor_a_last_price_expires_unfilled():
    # Arrange: a venue where BTCUSDT has never traded and has no mark
    venue = Exchange()
    venue.create_account("erin", balance="100")
    erin = venue.client("erin")
    # Act: 0.001 BTC could not pass MIN_NOTIONAL at any price near 30000, but no price is known
    resp = market(erin, "BUY", "0.001")
    # Assert
    assert (resp["orderId"], resp["status"], resp["executedQty"]) == (1, "EXPIRED", "0")
    venue.check_invariants()


def test_market_order_above_market_lot_size_is_refused_where_a_limit_order_is_not(ex):
    # Arrange: a rich account, so only the filters can refuse it
    ex.create_account("whale", balance="200000")
    whale = ex.client("whale")
    # Act / Assert: MARKET_LOT_SIZE max 120, LOT_SIZE max 1000
    assert_refused(
        ex,
        lambda: market(whale, "BUY", "120.001"),
        -4005,
        "Quantity greater than max quantity.",
    )
    at_cap = market(whale, "BUY", "120")
    resting = limit(whale, "BUY", "120.001", "29000")
    assert (at_cap["orderId"], at_cap["status"]) == (1, "EXPIRED")
    assert (resting["orderId"], resting["status"], resting["origQty"]) == (2, "NEW", "120.001")


# -- fees ---------------------------------------------------------------------------------------


def test_maker_and_taker_fees_are_the_notional_times_the_rate_rounded_up(ex, alice, bob):
    # Arrange: bob offers 0.011 ETH @ 2000.03 (id 1); notional 22.00033 USDT
    limit(bob, "SELL", "0.011", "2000.03", symbol=ETH)
    # Act: alice takes it (id 2)
    market(alice, "BUY", "0.011", symbol=ETH)
    # Assert: maker 22.00033 × 0.0002 = 0.004400066 → 0.00440007;
    # taker 22.00033 × 0.0005 = 0.011000165 → 0.01100017
    maker = bob.get_account_trades(ETH)
    taker = alice.get_account_trades(ETH)
    assert [(t["orderId"], t["maker"], t["commission"], t["commissionAsset"]) for t in maker] == [
        (1, True, "0.00440007", "USDT")
    ]
    assert [(t["orderId"], t["maker"], t["commission"], t["quoteQty"]) for t in taker] == [
        (2, False, "0.01100017", "22.00033")
    ]
    assert [
        (i["symbol"], i["income"]) for i in bob.get_income_history(incomeType="COMMISSION")
    ] == [(ETH, "-0.00440007")]
    assert [
        (i["symbol"], i["income"]) for i in alice.get_income_history(incomeType="COMMISSION")
    ] == [(ETH, "-0.01100017")]
    assert bob.balance()[0]["balance"] == "9999.99559993"
    assert alice.balance()[0]["balance"] == "9999.98899983"


def test_commission_income_names_the_trade_that_charged_it(ex, alice, bob):
    # Arrange: bob offers 0.010 @ 30000 (id 1)
    limit(bob, "SELL", "0.010", "30000")
    # Act: alice takes it (id 2): trade 1
    market(alice, "BUY", "0.010")
    # Assert: taker 300 × 0.0005 = 0.15
    trade = alice.get_account_trades(BTC)[0]
    income = alice.get_income_history(incomeType="COMMISSION")
    assert (trade["id"], trade["commission"]) == (1, "0.15")
    assert [(i["income"], i["tradeId"]) for i in income] == [("-0.15", "1")]


# -- realized PnL ---------------------------------------------------------------------------------


def long_at_two_prices(alice, bob) -> None:
    """alice long 0.009: 0.004 @ 30000.1 and 0.005 @ 30000.2 (ids 1–4); cost 270.0014."""
    give_long(alice, bob, "0.004", "30000.1")
    give_long(alice, bob, "0.005", "30000.2")


def test_position_built_at_two_prices_has_the_exact_average_entry_price(ex, alice, bob):
    # Act
    long_at_two_prices(alice, bob)
    # Assert: 270.0014 / 0.009 = 30000.155555… → 8 decimals, half-even
    assert position(alice) == ("0.009", "30000.15555556")


def test_partial_close_realizes_pnl_rounded_toward_zero_and_keeps_the_rest_in_cost(
    ex, alice, bob, carol
):
    # Arrange: long 0.009 (ids 1–4); carol bids 0.009 @ 30000.5 (id 5)
    long_at_two_prices(alice, bob)
    limit(carol, "BUY", "0.009", "30000.5")
    # Act: alice sells 0.004 (id 6)
    market(alice, "SELL", "0.004")
    # Assert: exact PnL 0.004 × (30000.5 − 30000.1555…) = 0.0013777… → 0.00137777;
    # cost 270.0014 − 120.002 + 0.00137777 = 150.00077777, / 0.005 = 30000.155554
    assert alice.get_account_trades(BTC, orderId=6)[0]["realizedPnl"] == "0.00137777"
    assert position(alice) == ("0.005", "30000.155554")
    assert ex._ledger.accounts["alice"].positions[(BTC, "BOTH")].cost_e8 == 15_000_077_777


def test_losing_partial_close_rounds_toward_zero_not_down(ex, alice, bob, carol):
    # Arrange: long 0.009 (ids 1–4); carol bids 0.009 @ 30000 (id 5)
    long_at_two_prices(alice, bob)
    limit(carol, "BUY", "0.009", "30000")
    # Act: alice sells 0.004 (id 6)
    market(alice, "SELL", "0.004")
    # Assert: exact PnL 0.004 × (30000 − 30000.1555…) = −0.00062222… → −0.00062222;
    # cost 270.0014 − 120 − 0.00062222 = 150.00077778, / 0.005 = 30000.155556
    assert alice.get_account_trades(BTC, orderId=6)[0]["realizedPnl"] == "-0.00062222"
    assert position(alice) == ("0.005", "30000.155556")


def test_closing_the_rest_leaves_cost_exactly_zero_and_realized_pnl_sums_to_the_exact_total(
    ex, alice, bob, carol
):
    # Arrange: long 0.009 (ids 1–4); carol bids 0.009 @ 30000.5 (id 5); alice sells 0.004 (id 6)
    long_at_two_prices(alice, bob)
    limit(carol, "BUY", "0.009", "30000.5")
    market(alice, "SELL", "0.004")
    # Act: alice sells the other 0.005 (id 7)
    market(alice, "SELL", "0.005")
    # Assert: second close 0.005 × 30000.5 − 150.00077777 = 0.00172223; the total is exactly
    # 0.009 × 30000.5 − 270.0014 = 0.0031
    assert alice.get_account_trades(BTC, orderId=7)[0]["realizedPnl"] == "0.00172223"
    assert position(alice) == ("0", "0")
    assert ex._ledger.accounts["alice"].positions[(BTC, "BOTH")].cost_e8 == 0
    realized = alice.get_income_history(incomeType="REALIZED_PNL")
    assert [i["income"] for i in realized] == ["0.00137777", "0.00172223"]
    assert sum(Decimal(i["income"]) for i in realized) == Decimal("0.0031")


def test_fill_through_zero_realizes_the_closing_part_and_opens_the_rest_at_the_fill_price(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 @ 30000 (ids 1, 2); carol bids 0.010 @ 30100 (id 3)
    give_long(alice, bob)
    limit(carol, "BUY", "0.010", "30100")
    # Act: alice sells 0.010 (id 4)
    market(alice, "SELL", "0.010")
    # Assert: realized 0.004 × (30100 − 30000) = 0.4; short 0.006 @ 30100;
    # uPnL at mark 30000: −0.006 × 30000 + 180.6 = 0.6
    assert alice.get_account_trades(BTC, orderId=4)[0]["realizedPnl"] == "0.4"
    assert position(alice) == ("-0.006", "30100")
    assert alice.get_position_risk(symbol=BTC)[0]["unRealizedProfit"] == "0.6"


def test_short_position_partial_close_also_rounds_toward_zero(ex, alice, bob, carol):
    # Arrange: alice short 0.009: sells 0.004 @ 30000.1 and 0.005 @ 30000.2 into bob's bids
    # (ids 1–4); carol offers 0.004 @ 30000.5 (id 5)
    limit(bob, "BUY", "0.004", "30000.1")
    market(alice, "SELL", "0.004")
    limit(bob, "BUY", "0.005", "30000.2")
    market(alice, "SELL", "0.005")
    limit(carol, "SELL", "0.004", "30000.5")
    # Act: alice buys back 0.004 (id 6)
    market(alice, "BUY", "0.004")
    # Assert: exact −0.0013777… → −0.00137777; cost −150.00077777 over −0.005
    assert alice.get_account_trades(BTC, orderId=6)[0]["realizedPnl"] == "-0.00137777"
    assert position(alice) == ("-0.005", "30000.155554")


# -- self-trade prevention -------------------------------------------------------------------


def test_stp_none_trades_with_itself_booking_both_fills_and_both_fees(ex, alice):
    # Arrange: alice offers 0.010 @ 30000 (id 1)
    limit(alice, "SELL", "0.010", "30000")
    # Act: alice buys it back (id 2)
    resp = market(alice, "BUY", "0.010")
    # Assert: maker fee 300 × 0.0002 = 0.06, taker 300 × 0.0005 = 0.15; no position
    assert resp["status"] == "FILLED"
    assert [
        (t["orderId"], t["side"], t["maker"], t["commission"], t["realizedPnl"])
        for t in alice.get_account_trades(BTC)
    ] == [(1, "SELL", True, "0.06", "0"), (2, "BUY", False, "0.15", "0")]
    assert position(alice) == ("0", "0")
    assert alice.balance()[0]["balance"] == "9999.79"


def test_stp_expire_taker_stops_at_its_own_order_and_expires_the_rest(ex, alice, bob):
    # Arrange: at 30000, bob's 0.004 (id 1), alice's own 0.010 (id 2), bob's 0.010 (id 3)
    limit(bob, "SELL", "0.004", "30000")
    limit(alice, "SELL", "0.010", "30000")
    limit(bob, "SELL", "0.010", "30000")
    # Act: id 4
    resp = market(alice, "BUY", "0.010", selfTradePreventionMode="EXPIRE_TAKER")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.004")
    assert status(alice, 2) == ("NEW", "0")
    assert status(bob, 3) == ("NEW", "0")
    assert depth(alice) == ([], [["30000", "0.02"]])


def test_stp_expire_maker_expires_its_own_resting_order_and_goes_on(ex, alice, bob):
    # Arrange: at 30000, alice's own 0.010 (id 1), then bob's 0.010 (id 2)
    limit(alice, "SELL", "0.010", "30000")
    limit(bob, "SELL", "0.010", "30000")
    # Act: id 3
    resp = limit(alice, "BUY", "0.010", "30000", selfTradePreventionMode="EXPIRE_MAKER")
    # Assert
    assert (resp["status"], resp["avgPrice"]) == ("FILLED", "30000")
    assert status(alice, 1) == ("EXPIRED", "0")
    assert status(bob, 2) == ("FILLED", "0.01")
    assert [t["orderId"] for t in alice.get_account_trades(BTC)] == [3]
    assert alice.account()["totalOpenOrderInitialMargin"] == "0"
    assert position(alice) == ("0.01", "30000")


def test_stp_expire_both_expires_the_taker_and_its_own_resting_order(ex, alice, bob):
    # Arrange: at 30000, alice's own 0.010 (id 1), then bob's 0.010 (id 2)
    limit(alice, "SELL", "0.010", "30000")
    limit(bob, "SELL", "0.010", "30000")
    # Act: id 3
    resp = limit(alice, "BUY", "0.010", "30000", selfTradePreventionMode="EXPIRE_BOTH")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0")
    assert status(alice, 1) == ("EXPIRED", "0")
    assert status(bob, 2) == ("NEW", "0")
    assert depth(alice) == ([], [["30000", "0.01"]])
    assert alice.account()["totalOpenOrderInitialMargin"] == "0"


# -- reduce-only ------------------------------------------------------------------------------


def test_reduce_only_market_order_is_capped_at_the_position_and_the_rest_expires(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 (ids 1, 2); carol bids 0.010 @ 30000 (id 3)
    give_long(alice, bob)
    limit(carol, "BUY", "0.010", "30000")
    # Act: id 4
    resp = market(alice, "SELL", "0.010", reduceOnly="true")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.004")
    assert position(alice) == ("0", "0")
    assert status(carol, 3) == ("PARTIALLY_FILLED", "0.004")


def test_reduce_only_limit_that_crosses_fills_what_it_can_reduce_and_does_not_rest(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 (ids 1, 2); carol bids 0.010 @ 30000 (id 3)
    give_long(alice, bob)
    limit(carol, "BUY", "0.010", "30000")
    # Act: id 4
    resp = limit(alice, "SELL", "0.010", "30000", reduceOnly="true")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.004")
    assert depth(alice) == ([["30000", "0.006"]], [])


def test_resting_reduce_only_maker_fills_only_what_it_can_reduce_and_the_rest_expires(
    ex, alice, bob, carol, dave
):
    # Arrange: alice long 0.004 (ids 1, 2); alice's reduce-only ask 0.010 @ 30100 (id 3);
    # dave asks 0.010 @ 30200 (id 4)
    give_long(alice, bob)
    limit(alice, "SELL", "0.010", "30100", reduceOnly="true")
    limit(dave, "SELL", "0.010", "30200")
    # Act: carol buys 0.010 (id 5)
    resp = market(carol, "BUY", "0.010")
    # Assert: 0.004 @ 30100 + 0.006 @ 30200 = 301.6, / 0.010 = 30160
    assert (resp["status"], resp["avgPrice"], resp["cumQuote"]) == ("FILLED", "30160", "301.6")
    assert status(alice, 3) == ("EXPIRED", "0.004")
    assert position(alice) == ("0", "0")
    assert depth(alice) == ([], [["30200", "0.004"]])


def test_resting_reduce_only_order_expires_once_another_order_closes_the_position(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 (ids 1, 2); alice's reduce-only ask 0.004 @ 30500 (id 3);
    # carol bids 0.004 @ 30000 (id 4)
    give_long(alice, bob)
    limit(alice, "SELL", "0.004", "30500", reduceOnly="true")
    limit(carol, "BUY", "0.004", "30000")
    # Act: an ordinary sell closes the position (id 5)
    market(alice, "SELL", "0.004")
    # Assert
    assert status(alice, 3) == ("EXPIRED", "0")
    assert depth(alice) == ([], [])
    assert alice.get_orders(symbol=BTC) == []


# -- hedge mode ------------------------------------------------------------------------------


def test_hedge_mode_holds_long_and_short_positions_side_by_side(ex, alice, bob, carol):
    # Arrange
    switched = alice.change_position_mode(dualSidePosition="true")
    limit(bob, "SELL", "0.004", "30000")  # id 1
    limit(carol, "BUY", "0.005", "29900")  # id 2
    # Act: BUY LONG (id 3), SELL SHORT (id 4)
    market(alice, "BUY", "0.004", positionSide="LONG")
    market(alice, "SELL", "0.005", positionSide="SHORT")
    # Assert
    assert switched == {"code": 200, "msg": "success"}
    assert [
        (r["positionSide"], r["positionAmt"], r["entryPrice"])
        for r in alice.get_position_risk(symbol=BTC)
    ] == [("LONG", "0.004", "30000"), ("SHORT", "-0.005", "29900")]


def test_hedge_mode_sell_long_and_buy_short_close_their_own_positions(ex, alice, bob, carol, dave):
    # Arrange: alice LONG 0.004 @ 30000 and SHORT 0.005 @ 29900 (ids 1–4)
    alice.change_position_mode(dualSidePosition="true")
    limit(bob, "SELL", "0.004", "30000")
    limit(carol, "BUY", "0.005", "29900")
    market(alice, "BUY", "0.004", positionSide="LONG")
    market(alice, "SELL", "0.005", positionSide="SHORT")
    # Act: dave bids 30100 (id 5), alice SELL LONG (id 6); bob asks 29800 (id 7),
    # alice BUY SHORT (id 8)
    limit(dave, "BUY", "0.004", "30100")
    market(alice, "SELL", "0.004", positionSide="LONG")
    limit(bob, "SELL", "0.005", "29800")
    market(alice, "BUY", "0.005", positionSide="SHORT")
    # Assert: LONG realizes 0.004 × (30100 − 30000) = 0.4, SHORT 0.005 × (29900 − 29800) = 0.5
    assert alice.get_position_risk(symbol=BTC) == []  # both sides flat: no rows (v3)
    assert [
        (t["orderId"], t["side"], t["positionSide"], t["realizedPnl"])
        for t in alice.get_account_trades(BTC)
        if t["orderId"] in (6, 8)
    ] == [(6, "SELL", "LONG", "0.4"), (8, "BUY", "SHORT", "0.5")]


def test_hedge_mode_closing_order_with_nothing_to_close_is_refused(ex, alice, bob):
    # Arrange: alice LONG 0.004 only (ids 1, 2)
    alice.change_position_mode(dualSidePosition="true")
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004", positionSide="LONG")
    # Act / Assert: BUY SHORT would close a short that does not exist
    assert_refused(
        ex,
        lambda: limit(alice, "BUY", "0.004", "29000", positionSide="SHORT"),
        -2022,
        "ReduceOnly Order is rejected.",
    )


# -- leverage ---------------------------------------------------------------------------------


def test_changing_leverage_rescales_the_position_initial_margin(ex, alice, bob):
    # Arrange: alice long 0.010 @ 30000 (ids 1, 2): at 20x, 300 / 20 = 15
    give_long(alice, bob, "0.010")
    before = alice.get_position_risk(symbol=BTC)[0]
    lev_before = alice.symbol_configuration(symbol=BTC)[0]["leverage"]
    # Act
    resp = alice.change_leverage(symbol=BTC, leverage=3)
    ex.set_mark_price(BTC, "30000.1")
    # Assert: 300.001 / 3 = 100.000333… → rounded up
    after = alice.get_position_risk(symbol=BTC)[0]
    assert (lev_before, before["positionInitialMargin"]) == (20, "15")
    assert resp == {"leverage": 3, "maxNotionalValue": "800000000", "symbol": BTC}
    assert alice.symbol_configuration(symbol=BTC) == [{
        "symbol": BTC, "marginType": "CROSSED", "isAutoAddMargin": False, "leverage": 3,
        "maxNotionalValue": "800000000"}]
    assert after["positionInitialMargin"] == "100.00033334"
    assert alice.account()["totalPositionInitialMargin"] == "100.00033334"
    assert ex.account_state("alice").leverage_of(ETH) == 20  # per symbol


def test_leverage_that_would_leave_the_account_short_of_margin_is_refused(ex, bob):
    # Arrange: erin (20 USDT) long 0.010 @ 30000 (ids 1, 2): wallet 20 − 0.15 = 19.85
    ex.create_account("erin", balance="20")
    erin = ex.client("erin")
    give_long(erin, bob, "0.010")
    # Act / Assert: at 15x the position needs 20 > 19.85
    assert_refused(
        ex,
        lambda: erin.change_leverage(symbol=BTC, leverage=15),
        -2028,
        "Leverage is smaller than permitted: insufficient margin balance.",
    )
    assert ex.account_state("erin").leverage_of(BTC) == 20
    # at 16x it needs 18.75: available 19.85 − 18.75 = 1.1
    erin.change_leverage(symbol=BTC, leverage=16)
    assert erin.account()["availableBalance"] == "1.1"


# -- positions sum to zero ----------------------------------------------------------------------


def test_positions_over_all_accounts_sum_to_zero_on_each_symbol(ex, alice, bob, carol, dave):
    # Arrange / Act: BTC — bob sells 0.010 to alice (0.004) and carol (0.006); carol sells
    # 0.004 on to dave.  ETH — alice sells 0.011 to bob.
    limit(bob, "SELL", "0.010", "30000")
    market(alice, "BUY", "0.004")
    market(carol, "BUY", "0.006")
    limit(carol, "SELL", "0.004", "30100")
    market(dave, "BUY", "0.004")
    limit(bob, "BUY", "0.011", "2000", symbol=ETH)
    market(alice, "SELL", "0.011", symbol=ETH)
    clients = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
    # Assert
    btc = {n: position(c)[0] for n, c in clients.items()}
    eth = {n: position(c, ETH)[0] for n, c in clients.items()}
    assert btc == {"alice": "0.004", "bob": "-0.01", "carol": "0.002", "dave": "0.004"}
    assert eth == {"alice": "-0.011", "bob": "0.011", "carol": "0", "dave": "0"}
    assert sum(Decimal(q) for q in btc.values()) == 0
    assert sum(Decimal(q) for q in eth.values()) == 0


# -- last price and mark price ---------------------------------------------------------------


def test_until_a_mark_is_set_the_last_trade_price_serves_as_the_mark():
    # Arrange: no mark, no trade yet
    venue = Exchange()
    for name in ("alice", "bob"):
        venue.create_account(name, balance="10000")
    alice, bob = venue.client("alice"), venue.client("bob")
    unknown = market(alice, "BUY", "0.003")  # id 1: no price known, so no MIN_NOTIONAL
    # Act: a trade at 30000 (ids 2, 3)
    limit(bob, "SELL", "0.010", "30000")
    limit(alice, "BUY", "0.010", "30000")
    # Assert: the mark is now 30000 — MIN_NOTIONAL of a MARKET order and PERCENT_PRICE use it
    assert unknown["status"] == "EXPIRED"
    assert alice.mark_price(BTC)["markPrice"] == "30000"
    assert_refused(
        venue,
        lambda: market(alice, "BUY", "0.003"),
        -4164,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)",
    )
    assert_refused(
        venue,
        lambda: limit(alice, "BUY", "0.010", "31500.1"),
        -4016,
        "Price is higher than mark price multiplier cap.",
    )
    assert limit(alice, "BUY", "0.010", "31500")["orderId"] == 4
    venue.check_invariants()


def test_a_set_mark_is_not_moved_by_trades_and_min_notional_of_a_market_order_uses_it(
    ex, alice, bob
):
    # Arrange: mark 24000; a trade at 25000 (ids 1, 2)
    ex.set_mark_price(BTC, "24000")
    limit(bob, "SELL", "0.008", "25000")
    limit(alice, "BUY", "0.004", "25000")
    # Act / Assert: 0.004 × 24000 = 96 < 100 although 0.004 × 25000 = 100
    assert alice.mark_price(BTC)["markPrice"] == "24000"
    assert_refused(
        ex,
        lambda: market(alice, "BUY", "0.004"),
        -4164,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)",
    )
    # PERCENT_PRICE is 24000 × 1.05 = 25200, not 25000 × 1.05
    assert_refused(
        ex,
        lambda: limit(alice, "BUY", "0.004", "25200.1"),
        -4016,
        "Price is higher than mark price multiplier cap.",
    )
    ex.set_mark_price(BTC, "25000")
    resp = market(alice, "BUY", "0.004")
    assert (resp["orderId"], resp["status"], resp["avgPrice"]) == (3, "FILLED", "25000")


def test_until_the_first_trade_the_last_price_is_the_mark_and_then_the_trade_price(
    ex, alice, bob, carol
):
    # Arrange: mark 30000, no trade: a CONTRACT_PRICE sell stop at 30500 would fire at once
    stop = {
        "symbol": BTC,
        "side": "SELL",
        "type": "STOP_MARKET",
        "quantity": "0.010",
        "stopPrice": "30500",
        "workingType": "CONTRACT_PRICE",
    }
    assert_refused(ex, lambda: alice.new_order(**stop), -2021, "Order would immediately trigger.")
    # Act: a trade at 31000 (ids 1, 2)
    limit(bob, "SELL", "0.004", "31000")
    limit(carol, "BUY", "0.004", "31000")
    # Assert: the contract price is now 31000 (the stop is accepted); the mark stays 30000
    placed = alice.new_order(**stop)
    assert (placed["orderId"], placed["status"]) == (3, "NEW")
    assert_refused(
        ex,
        lambda: alice.new_order(**{**stop, "workingType": "MARK_PRICE"}),
        -2021,
        "Order would immediately trigger.",
    )


# -- depth and book ticker ------------------------------------------------------------------------


def test_depth_and_book_ticker_show_the_total_of_each_level(ex, alice, bob, carol, dave):
    # Arrange: asks 0.004 + 0.005 @ 30000 and 0.006 @ 30100; bids 0.007 @ 29900, 0.008 @ 29800
    limit(bob, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.005", "30000")
    limit(dave, "SELL", "0.006", "30100")
    limit(bob, "BUY", "0.007", "29900")
    limit(carol, "BUY", "0.008", "29800")
    # Act
    full = alice.depth(BTC)
    top = alice.depth(BTC, limit=1)
    ticker = alice.book_ticker(BTC)
    # Assert
    assert (full["bids"], full["asks"]) == (
        [["29900", "0.007"], ["29800", "0.008"]],
        [["30000", "0.009"], ["30100", "0.006"]],
    )
    assert (top["bids"], top["asks"]) == ([["29900", "0.007"]], [["30000", "0.009"]])
    assert {k: ticker[k] for k in ("symbol", "bidPrice", "bidQty", "askPrice", "askQty")} == {
        "symbol": BTC,
        "bidPrice": "29900",
        "bidQty": "0.007",
        "askPrice": "30000",
        "askQty": "0.009",
    }


def test_depth_and_book_ticker_follow_a_partial_fill_of_a_level(ex, alice, bob, carol):
    # Arrange: asks 0.004 + 0.005 @ 30000 (ids 1, 2)
    limit(bob, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.005", "30000")
    # Act: alice takes 0.006 (id 3)
    market(alice, "BUY", "0.006")
    # Assert
    assert depth(alice) == ([], [["30000", "0.003"]])
    ticker = alice.book_ticker(BTC)
    assert (ticker["bidPrice"], ticker["bidQty"], ticker["askPrice"], ticker["askQty"]) == (
        "0",
        "0",
        "30000",
        "0.003",
    )


def test_new_order_resp_type_ack_answers_the_same_order_object_as_result():
    shapes = []
    for resp in ("RESULT", "ACK"):
        venue = Exchange()
        venue.create_account("alice", balance="10000")
        shapes.append(venue.client("alice").new_order(
            symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
            price="30000", newOrderRespType=resp,
        ))
    assert shapes[0] == shapes[1]
    assert shapes[0]["status"] == "NEW" and shapes[0]["origQty"] == "0.01"


# -- boundaries a mutation showed unpinned ---------------------------------------------------------


def test_stp_expire_taker_on_a_limit_expires_it_instead_of_resting_it_across_its_own(
    ex, alice, bob
):
    # Arrange: alice's own ask 0.010 @ 30000 (id 1)
    limit(alice, "SELL", "0.010", "30000")
    # Act: her GTC bid at 30000 (id 2) would cross it
    resp = limit(alice, "BUY", "0.010", "30000", selfTradePreventionMode="EXPIRE_TAKER")
    # Assert: the bid expired; the ask still rests alone
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0")
    assert depth(alice) == ([], [["30000", "0.01"]])


def test_a_taker_whose_last_fill_is_one_lot_takes_it(ex, alice, bob):
    # Arrange: bob asks 0.004 @ 30000 (id 1) and 0.004 @ 30010 (id 2)
    limit(bob, "SELL", "0.004", "30000")
    limit(bob, "SELL", "0.004", "30010")
    # Act: 0.005 leaves one lot for the second level
    resp = market(alice, "BUY", "0.005")
    # Assert: (120 + 30.01) / 0.005 = 30002
    assert (resp["status"], resp["executedQty"], resp["avgPrice"]) == ("FILLED", "0.005", "30002")
    assert status(bob, 2) == ("PARTIALLY_FILLED", "0.001")


def test_a_reduce_only_limit_rests_the_lot_it_can_still_reduce_after_crossing(ex, alice, bob):
    # Arrange: alice long 0.005 (bob's ask 1, her market 2); bob bids 0.004 @ 30000 (3)
    limit(bob, "SELL", "0.005", "30000")
    market(alice, "BUY", "0.005")
    limit(bob, "BUY", "0.004", "30000")
    # Act: a reduce-only sell of 0.005 at 30000 (4) fills 0.004; one lot is left to reduce
    resp = limit(alice, "SELL", "0.005", "30000", reduceOnly="true")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("PARTIALLY_FILLED", "0.004")
    assert depth(alice) == ([], [["30000", "0.001"]])


def test_a_reduce_only_limit_larger_than_its_position_expires_once_it_is_closed(ex, alice, bob):
    # Arrange: alice long 0.004 (1, 2); bob bids 0.010 @ 30000 (3)
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(bob, "BUY", "0.010", "30000")
    # Act: a reduce-only GTC sell of 0.010 at 30000 (4)
    resp = limit(alice, "SELL", "0.010", "30000", reduceOnly="true")
    # Assert: it filled the 0.004 it could and expired the rest, resting nothing
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.004")
    assert depth(alice) == ([["30000", "0.006"]], [])
    assert position(alice) == ("0", "0")


def test_a_resting_reduce_only_buy_expires_when_its_short_is_closed_elsewhere(ex, alice, bob):
    # Arrange: alice short 0.010 (bob's bid 1, her market 2); her reduce-only bid 0.010 @
    # 29000 (3); bob asks 0.010 @ 30000 (4)
    limit(bob, "BUY", "0.010", "30000")
    market(alice, "SELL", "0.010")
    limit(alice, "BUY", "0.010", "29000", reduceOnly="true")
    limit(bob, "SELL", "0.010", "30000")
    # Act: she closes the short with a market buy (5)
    market(alice, "BUY", "0.010")
    # Assert: the reduce-only bid has nothing left to reduce
    assert status(alice, 3) == ("EXPIRED", "0")
    assert position(alice) == ("0", "0")


def test_a_second_reduce_only_maker_of_a_closed_position_is_expired_not_filled(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.004 (1, 2); her reduce-only asks 0.004 @ 30010 (3) and 30020 (4);
    # carol asks 0.004 @ 30030 (5)
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(alice, "SELL", "0.004", "30010", reduceOnly="true")
    limit(alice, "SELL", "0.004", "30020", reduceOnly="true")
    limit(carol, "SELL", "0.004", "30030")
    # Act: bob buys 0.012 (6): the first ask closes alice's long
    resp = market(bob, "BUY", "0.012")
    # Assert: the second has nothing to reduce when reached: expired, no trade with it;
    # bob goes on to carol's
    assert (status(alice, 3), status(alice, 4)) == (("FILLED", "0.004"), ("EXPIRED", "0"))
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.008")
    assert [t["orderId"] for t in alice.get_account_trades(BTC)] == [2, 3]
    assert status(carol, 5) == ("FILLED", "0.004")


@pytest.mark.parametrize(("size", "taken", "maker_after"), [
    # leaves 0.010 capped at the long 0.006: a take of 0.004 leaves it open with 0.002 to
    # reduce; a take of the whole 0.006 expires its rest
    ("0.010", "0.004", ("PARTIALLY_FILLED", "0.004")),
    ("0.010", "0.006", ("EXPIRED", "0.006")),
    # exactly the size of the position: filled, not expired
    ("0.006", "0.006", ("FILLED", "0.006")),
])
def test_a_reduce_only_maker_capped_at_its_position_expires_only_what_it_cannot_reduce(
    ex, alice, bob, size, taken, maker_after
):
    # Arrange: alice long 0.006 (1, 2); her reduce-only ask @ 30010 (3)
    limit(bob, "SELL", "0.006", "30000")
    market(alice, "BUY", "0.006")
    limit(alice, "SELL", size, "30010", reduceOnly="true")
    # Act
    market(bob, "BUY", taken)
    # Assert
    assert status(alice, 3) == maker_after


def test_a_reduce_only_maker_with_one_lot_to_reduce_fills_that_lot(ex, alice, bob, carol):
    # Arrange: alice long 0.005 (1, 2), then she sells 0.004 reduce-only to carol (3, 4):
    # one lot left; her reduce-only ask 0.004 @ 30010 (5)
    limit(bob, "SELL", "0.005", "30000")
    market(alice, "BUY", "0.005")
    limit(carol, "BUY", "0.004", "30000")
    market(alice, "SELL", "0.004", reduceOnly="true")
    limit(alice, "SELL", "0.004", "30010", reduceOnly="true")
    # Act
    market(bob, "BUY", "0.004")
    # Assert: the ask sold its one lot and expired the rest
    assert status(alice, 5) == ("EXPIRED", "0.001")
    assert position(alice) == ("0", "0")
