"""The margin ledger (SPEC 6), exactly: frozen order margin, its release, availableBalance,
unrealized PnL, position and maintenance margin, conservation of value, the invariant
checks, and account set-up.

Every expected figure is worked out by hand in the test (BTCUSDT: price P USDT × quantity
Q BTC is a notional of P × Q USDT; money is 1e-8 USDT).  Tests that corrupt state on
purpose build their own venue; the others end with ``check_invariants()`` in the ``ex``
fixture's teardown.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import ClientError, Exchange, InvariantError
from engine.core.enums import PositionSide

BTC = "BTCUSDT"
ETH = "ETHUSDT"
E8 = 100_000_000


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def ex():
    """alice, bob and carol with 10000 USDT each; marks BTC 30000, ETH 2000."""
    venue = Exchange()
    for name in ("alice", "bob", "carol"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(BTC, "30000")
    venue.set_mark_price(ETH, "2000")
    yield venue
    venue.check_invariants()


def limit(client, side: str, qty: str, price: str, **kw) -> dict:
    return client.new_order(
        symbol=kw.pop("symbol", BTC),
        side=side,
        type="LIMIT",
        timeInForce=kw.pop("timeInForce", "GTC"),
        quantity=qty,
        price=price,
        **kw,
    )


def market(client, side: str, qty: str, **kw) -> dict:
    return client.new_order(
        symbol=kw.pop("symbol", BTC), side=side, type="MARKET", quantity=qty, **kw
    )


def frozen(client) -> str:
    """The account's frozen order margin as ``account()`` reports it."""
    return client.account()["totalOpenOrderInitialMargin"]


def available(client) -> str:
    return client.account()["availableBalance"]


def assert_refused(ex: Exchange, call, code: int, message: str) -> None:
    before = ex.state_hash()
    with pytest.raises(ClientError) as info:
        call()
    assert (info.value.error_code, info.value.error_message) == (code, message)
    assert ex.state_hash() == before


def small_venue() -> Exchange:
    """A venue with one resting order per side and a position: alice long 0.004 @ 30000
    (bob's ask id 1, alice's MARKET id 2), alice bids 0.010 @ 29000 (id 3), bob asks
    0.010 @ 31000 (id 4)."""
    venue = Exchange()
    venue.create_account("alice", balance="10000")
    venue.create_account("bob", balance="10000")
    venue.set_mark_price(BTC, "30000")
    alice, bob = venue.client("alice"), venue.client("bob")
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(alice, "BUY", "0.010", "29000")
    limit(bob, "SELL", "0.010", "31000")
    venue.check_invariants()
    return venue


# -- frozen order margin at placement -------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        ("BUY", "29900", "14.95"),  # 299 / 20, below the mark: no gap
        ("BUY", "30100", "16.05"),  # 301 / 20 + 0.010 × (30100 − 30000)
        ("SELL", "30100", "15.05"),  # 301 / 20, above the mark: no gap
        ("SELL", "29900", "15.95"),  # 299 / 20 + 0.010 × (30000 − 29900)
    ],
)
def test_limit_order_freezes_price_times_qty_over_leverage_plus_the_gap_to_the_mark(
    ex, alice, side, price, expected
):
    # Act
    limit(alice, side, "0.010", price)
    # Assert
    assert frozen(alice) == expected
    assert alice.get_position_risk(symbol=BTC)[0]["openOrderInitialMargin"] == expected


def test_frozen_margin_is_rounded_up_to_the_unit(ex, alice):
    # Arrange: at 3x, 0.010 @ 29999 is 299.99 / 3 = 99.99666666…
    alice.change_leverage(symbol=BTC, leverage=3)
    # Act
    limit(alice, "BUY", "0.010", "29999")
    # Assert
    assert frozen(alice) == "99.99666667"
    assert available(alice) == "9900.00333333"


def test_frozen_margin_of_a_buy_above_the_mark_rounds_the_leverage_part_up_and_adds_the_gap(
    ex, alice
):
    # Arrange: at 3x, 0.007 @ 30000.1: 210.0007 / 3 = 70.00023333… → 70.00023334, plus the gap
    # 0.007 × 0.1 = 0.0007
    alice.change_leverage(symbol=BTC, leverage=3)
    # Act
    limit(alice, "BUY", "0.007", "30000.1")
    # Assert
    assert frozen(alice) == "70.00093334"


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("29900", "8.97"),  # only 0.006 opens: 179.4 / 20
        ("30100", "9.63"),  # 180.6 / 20 + 0.006 × 100
    ],
)
def test_buy_that_would_partly_close_a_short_freezes_only_for_the_opening_part(
    ex, alice, bob, price, expected
):
    # Arrange: alice short 0.004 @ 30000 (alice's ask id 1, bob's MARKET id 2)
    limit(alice, "SELL", "0.004", "30000")
    market(bob, "BUY", "0.004")
    assert frozen(alice) == "0"
    # Act
    limit(alice, "BUY", "0.010", price)
    # Assert
    assert frozen(alice) == expected


def test_buy_no_larger_than_the_short_it_would_close_freezes_nothing(ex, alice, bob):
    # Arrange: alice short 0.004 @ 30000 (ids 1, 2)
    limit(alice, "SELL", "0.004", "30000")
    market(bob, "BUY", "0.004")
    # Act
    limit(alice, "BUY", "0.004", "29900")
    # Assert
    assert frozen(alice) == "0"


def test_reduce_only_order_freezes_nothing(ex, alice, bob):
    # Arrange: alice long 0.004 @ 30000 (ids 1, 2)
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    # Act: a reduce-only ask below the mark would owe a gap if it froze anything
    limit(alice, "SELL", "0.004", "29000", reduceOnly="true")
    # Assert
    assert frozen(alice) == "0"
    assert alice.get_position_risk(symbol=BTC)[0]["openOrderInitialMargin"] == "0"


def test_hedge_mode_closing_order_freezes_nothing(ex, alice, bob):
    # Arrange: alice LONG 0.004 @ 30000 (ids 1, 2)
    alice.change_position_mode(dualSidePosition="true")
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004", positionSide="LONG")
    # Act: SELL LONG closes
    limit(alice, "SELL", "0.004", "30500", positionSide="LONG")
    # Assert
    assert frozen(alice) == "0"


def test_frozen_margin_is_fixed_at_placement_and_not_recomputed_when_the_mark_moves(ex, alice):
    # Arrange: 0.010 @ 30100 with mark 30000 freezes 15.05 + 1 = 16.05
    limit(alice, "BUY", "0.010", "30100")
    # Act: recomputed at mark 29000 it would be 15.05 + 11 = 26.05
    ex.set_mark_price(BTC, "29000")
    # Assert
    assert frozen(alice) == "16.05"


# -- release --------------------------------------------------------------------------------------


def test_a_fill_leaves_frozen_the_ceiling_of_the_orders_share(ex, alice, bob):
    # Arrange: at 3x, alice bids 0.010 @ 29999 (id 1): frozen0 = 99.99666667
    alice.change_leverage(symbol=BTC, leverage=3)
    limit(alice, "BUY", "0.010", "29999")
    # Act: bob sells 0.004 into it (id 2)
    market(bob, "SELL", "0.004")
    # Assert: 99.99666667 × 6 / 10 = 59.998000002 → 59.99800001 (not 59.998, which both a
    # floor and a recomputation from the price would give)
    assert frozen(alice) == "59.99800001"
    ex.check_invariants()
    # and after a second fill of 0.004 (id 3): 99.99666667 × 2 / 10 = 19.999333334 → …34
    market(bob, "SELL", "0.004")
    assert frozen(alice) == "19.99933334"


def test_a_cancel_after_a_partial_fill_releases_all_that_remains_to_the_last_unit(ex, alice, bob):
    # Arrange: at 3x, alice bids 0.010 @ 29999 (id 1); bob sells 0.004 into it (id 2).
    # wallet 10000 − maker fee 119.996 × 0.0002 = 9999.9760008; uPnL 0.004 × 30000 − 119.996
    # = 0.004; position IM 120 / 3 = 40; frozen 59.99800001
    alice.change_leverage(symbol=BTC, leverage=3)
    limit(alice, "BUY", "0.010", "29999")
    market(bob, "SELL", "0.004")
    assert available(alice) == "9899.98200079"
    # Act
    alice.cancel_order(symbol=BTC, orderId=1)
    # Assert
    assert frozen(alice) == "0"
    assert ex._ledger.accounts["alice"].frozen_e8 == 0
    assert available(alice) == "9959.9800008"


def test_an_expired_remainder_releases_its_margin(ex, alice, bob):
    # Arrange: bob asks 0.004 @ 30000 (id 1)
    limit(bob, "SELL", "0.004", "30000")
    # Act: alice's IOC bid for 0.010 (id 2) fills 0.004, the rest expires
    limit(alice, "BUY", "0.010", "30000", timeInForce="IOC")
    # Assert
    assert frozen(alice) == "0"
    assert ex._ledger.accounts["alice"].frozen_e8 == 0


# -- MARKET orders ------------------------------------------------------------------------------


@pytest.mark.parametrize(("balance", "accepted"), [("18.14999999", False), ("18.15", True)])
def test_market_order_is_checked_against_the_fills_the_book_would_give_now(
    ex, bob, balance, accepted
):
    # Arrange: bob asks 0.004 @ 30000 (id 1) and 0.006 @ 30500 (id 2).  Buying 0.010 needs
    # (120 + 183) / 20 = 15.15 plus the open loss 0.006 × (30500 − 30000) = 3: 18.15
    limit(bob, "SELL", "0.004", "30000")
    limit(bob, "SELL", "0.006", "30500")
    ex.create_account("erin", balance=balance)
    erin = ex.client("erin")
    # Act / Assert
    if not accepted:
        assert_refused(ex, lambda: market(erin, "BUY", "0.010"), -2019, "Margin is insufficient.")
        return
    resp = market(erin, "BUY", "0.010")
    assert (resp["orderId"], resp["status"], resp["avgPrice"]) == (3, "FILLED", "30300")
    # nothing stays frozen; wallet 18.15 − 303 × 0.0005 = 17.9985, uPnL 300 − 303 = −3,
    # position IM 300 / 20 = 15: available −0.0015
    assert frozen(erin) == "0"
    assert available(erin) == "-0.0015"


@pytest.mark.parametrize(("balance", "accepted"), [("18.17399999", False), ("18.174", True)])
def test_market_order_is_checked_only_for_the_part_past_what_it_closes(
    ex, bob, carol, balance, accepted
):
    # Arrange: erin short 0.004 @ 30000 (erin's ask id 1, bob's MARKET id 2; maker fee 0.024);
    # carol asks 0.004 @ 30000 (id 3) and 0.006 @ 30500 (id 4).  Buying 0.010 closes 0.004
    # and opens 0.006 @ 30500: 183 / 20 + 0.006 × 500 = 12.15.  Available before:
    # balance − 0.024 − 120 / 20 = balance − 6.024
    ex.create_account("erin", balance=balance)
    erin = ex.client("erin")
    limit(erin, "SELL", "0.004", "30000")
    market(bob, "BUY", "0.004")
    limit(carol, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.006", "30500")
    # Act / Assert
    if not accepted:
        assert_refused(ex, lambda: market(erin, "BUY", "0.010"), -2019, "Margin is insufficient.")
        return
    resp = market(erin, "BUY", "0.010")
    assert (resp["orderId"], resp["status"]) == (5, "FILLED")
    assert erin.get_position_risk(symbol=BTC)[0]["positionAmt"] == "0.006"


# -- available balance, uPnL, position margin, maintenance margin ---------------------------------


def test_available_balance_is_wallet_plus_upnl_minus_position_margin_minus_frozen(ex, alice, bob):
    # Arrange: alice long 0.010 @ 30000 (ids 1, 2; taker fee 0.15), bids 0.004 @ 29000
    # (id 3, frozen 116 / 20 = 5.8); then the mark moves to 30500
    limit(bob, "SELL", "0.010", "30000")
    market(alice, "BUY", "0.010")
    limit(alice, "BUY", "0.004", "29000")
    ex.set_mark_price(BTC, "30500")
    # Act
    info = alice.account()
    bal = alice.balance()[0]
    row = alice.get_position_risk(symbol=BTC)[0]
    # Assert: wallet 9999.85; uPnL 305 − 300 = 5; position IM 305 / 20 = 15.25;
    # available 9999.85 + 5 − 15.25 − 5.8 = 9983.8; maintenance 305 × 0.004 = 1.22
    assert {
        k: info[k]
        for k in (
            "totalWalletBalance",
            "totalUnrealizedProfit",
            "totalMarginBalance",
            "totalPositionInitialMargin",
            "totalOpenOrderInitialMargin",
            "totalInitialMargin",
            "totalMaintMargin",
            "availableBalance",
            "maxWithdrawAmount",
        )
    } == {
        "totalWalletBalance": "9999.85",
        "totalUnrealizedProfit": "5",
        "totalMarginBalance": "10004.85",
        "totalPositionInitialMargin": "15.25",
        "totalOpenOrderInitialMargin": "5.8",
        "totalInitialMargin": "21.05",
        "totalMaintMargin": "1.22",
        "availableBalance": "9983.8",
        "maxWithdrawAmount": "9983.8",
    }
    assert (bal["balance"], bal["crossUnPnl"], bal["availableBalance"]) == (
        "9999.85",
        "5",
        "9983.8",
    )
    assert {
        k: row[k]
        for k in (
            "positionAmt",
            "entryPrice",
            "markPrice",
            "notional",
            "unRealizedProfit",
            "positionInitialMargin",
            "openOrderInitialMargin",
            "initialMargin",
            "maintMargin",
        )
    } == {
        "positionAmt": "0.01",
        "entryPrice": "30000",
        "markPrice": "30500",
        "notional": "305",
        "unRealizedProfit": "5",
        "positionInitialMargin": "15.25",
        "openOrderInitialMargin": "5.8",
        "initialMargin": "21.05",
        "maintMargin": "1.22",
    }


def test_unrealized_pnl_of_a_short_is_qty_times_mark_minus_cost(ex, alice, bob):
    # Arrange: alice short 0.010 @ 30000 (bob's bid id 1, alice's MARKET id 2)
    limit(bob, "BUY", "0.010", "30000")
    market(alice, "SELL", "0.010")
    # Act
    ex.set_mark_price(BTC, "30500")
    # Assert: −0.010 × 30500 − (−300) = −5; notional −305; position IM 305 / 20 = 15.25;
    # available 10000 − 0.15 − 5 − 15.25 = 9979.6
    row = alice.get_position_risk(symbol=BTC)[0]
    assert (row["positionAmt"], row["notional"], row["unRealizedProfit"]) == (
        "-0.01",
        "-305",
        "-5",
    )
    assert row["positionInitialMargin"] == "15.25"
    assert available(alice) == "9979.6"


def test_position_initial_margin_is_rounded_up(ex, alice, bob):
    # Arrange: at 3x, alice long 0.010 @ 30000 (ids 1, 2)
    alice.change_leverage(symbol=BTC, leverage=3)
    limit(bob, "SELL", "0.010", "30000")
    market(alice, "BUY", "0.010")
    # Act
    ex.set_mark_price(BTC, "30000.1")
    # Assert: 300.001 / 3 = 100.000333… → 100.00033334; uPnL 300.001 − 300 = 0.001;
    # available 10000 − 0.15 + 0.001 − 100.00033334 = 9899.85066666
    row = alice.get_position_risk(symbol=BTC)[0]
    assert (row["positionInitialMargin"], row["unRealizedProfit"]) == ("100.00033334", "0.001")
    assert available(alice) == "9899.85066666"


def test_maintenance_margin_in_the_second_bracket_subtracts_its_cum_amount(ex):
    # Arrange: two whales; the buyer ends long 2 BTC @ 30000 — notional 60000, bracket 2
    ex.create_account("whale", balance="100000")
    ex.create_account("orca", balance="100000")
    whale, orca = ex.client("whale"), ex.client("orca")
    limit(orca, "SELL", "2", "30000")
    market(whale, "BUY", "2")
    # Act
    row = whale.get_position_risk(symbol=BTC)[0]
    second = whale.leverage_brackets(symbol=BTC)["brackets"][1]
    # Assert: 60000 × 0.005 − 50 = 250 (bracket 1's rate would give 240)
    assert (second["notionalFloor"], second["maintMarginRatio"], second["cum"]) == (
        50000,
        Decimal("0.005"),
        50,
    )
    assert row["maintMargin"] == "250"
    assert whale.account()["totalMaintMargin"] == "250"


def test_account_balance_and_position_risk_agree_on_every_total(ex, alice, bob, carol):
    # Arrange: positions on both symbols and open orders on both, then the marks move
    limit(bob, "SELL", "0.010", "30000")  # id 1
    market(alice, "BUY", "0.006")  # id 2
    limit(carol, "BUY", "0.011", "2000.03", symbol=ETH)  # id 3
    market(alice, "SELL", "0.011", symbol=ETH)  # id 4
    limit(alice, "BUY", "0.004", "29500")  # id 5: 118 / 20 = 5.9
    limit(alice, "SELL", "0.050", "2100", symbol=ETH)  # id 6: 105 / 20 = 5.25
    ex.set_mark_price(BTC, "30100")
    ex.set_mark_price(ETH, "1990.5")
    # Act
    info = alice.account()
    bal = alice.balance()[0]
    rows = alice.get_position_risk()
    # Assert: BTC uPnL 0.006 × 100 = 0.6; ETH −0.011 × 1990.5 + 22.00033 = 0.10483;
    # IM 180.6 / 20 = 9.03 and 21.8955 / 20 = 1.094775; wallet 10000 − 0.09 − 0.01100017
    assert [(r["symbol"], r["positionAmt"], r["unRealizedProfit"]) for r in rows] == [
        (BTC, "0.006", "0.6"),
        (ETH, "-0.011", "0.10483"),
    ]
    assert [(r["positionInitialMargin"], r["openOrderInitialMargin"]) for r in rows] == [
        ("9.03", "5.9"),
        ("1.094775", "5.25"),
    ]
    assert info["totalWalletBalance"] == bal["balance"] == "9999.89899983"
    assert info["totalUnrealizedProfit"] == bal["crossUnPnl"] == "0.70483"
    assert info["totalPositionInitialMargin"] == "10.124775"
    assert info["totalOpenOrderInitialMargin"] == "11.15"
    # 9999.89899983 + 0.70483 − 10.124775 − 11.15 = 9979.32905483
    assert info["availableBalance"] == bal["availableBalance"] == "9979.32905483"


# -- conservation of value ------------------------------------------------------------------------


def test_value_is_conserved_across_trades_among_three_accounts(ex, alice, bob, carol):
    # Arrange / Act (ETHUSDT, where fees round):
    # 1. bob offers 0.011 @ 2000.03, alice takes it: fees 0.00440007 (maker), 0.01100017
    limit(bob, "SELL", "0.011", "2000.03", symbol=ETH)
    market(alice, "BUY", "0.011", symbol=ETH)
    # 2. carol bids 0.013 @ 1999.97, alice sells into it and flips to short 0.002:
    #    fees 0.00519993, 0.01299981; alice realizes 0.011 × (1999.97 − 2000.03) = −0.00066
    limit(carol, "BUY", "0.013", "1999.97", symbol=ETH)
    market(alice, "SELL", "0.013", symbol=ETH)
    # 3. bob bids 0.011 @ 2000.01, carol sells into it: fees 0.00440003, 0.01100006;
    #    carol realizes 0.011 × 0.04 = 0.00044, bob closes his short: 0.011 × 0.02 = 0.00022
    limit(bob, "BUY", "0.011", "2000.01", symbol=ETH)
    market(carol, "SELL", "0.011", symbol=ETH)
    # Assert
    ledger = ex._ledger
    wallets = {n: a.wallet_e8 for n, a in ledger.accounts.items()}
    costs = {n: sum(p.cost_e8 for p in a.positions.values()) for n, a in ledger.accounts.items()}
    assert ledger.fee_e8 == 440_007 + 1_100_017 + 519_993 + 1_299_981 + 440_003 + 1_100_006
    assert wallets == {
        "alice": 10_000 * E8 - 1_100_017 - 1_299_981 - 66_000,
        "bob": 10_000 * E8 - 440_007 - 440_003 + 22_000,
        "carol": 10_000 * E8 - 519_993 - 1_100_006 + 44_000,
    }
    assert costs == {"alice": -399_994_000, "bob": 0, "carol": 399_994_000}
    total = sum(wallets[n] - costs[n] for n in wallets) + ledger.fee_e8
    assert total == 30_000 * E8


def test_value_is_conserved_after_a_self_trade_a_flip_and_an_expired_remainder(
    ex, alice, bob, carol
):
    # Arrange / Act (BTCUSDT, fees in 1e-8 USDT):
    limit(alice, "SELL", "0.010", "30000")  # id 1
    market(alice, "BUY", "0.010")  # id 2, self-trade 300: 6_000_000 + 15_000_000
    limit(bob, "SELL", "0.004", "30000.1")  # id 3
    market(alice, "BUY", "0.004")  # id 4, 120.0004: 2_400_008 + 6_000_020
    limit(carol, "BUY", "0.010", "30000.3")  # id 5
    # id 6: alice sells 0.007 @ 30000.3 (210.0021: 4_200_042 + 10_500_105), long 0.004 →
    # short 0.003, realizing 0.004 × (30000.3 − 30000.1) = 0.0008
    market(alice, "SELL", "0.007")
    # id 7: bob takes carol's last 0.003 @ 30000.3 (90.0009: 1_800_018 + 4_500_045) and
    # rests 0.003 @ 30000
    limit(bob, "SELL", "0.006", "30000")
    # id 8: carol's IOC takes bob's 0.003 @ 30000 (90: 1_800_000 + 4_500_000), rest expires
    ioc = limit(carol, "BUY", "0.005", "30000", timeInForce="IOC")
    # Assert
    ledger = ex._ledger
    alice_state = ledger.accounts["alice"]
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.003")
    assert ledger.fee_e8 == (
        6_000_000
        + 15_000_000
        + 2_400_008
        + 6_000_020
        + 4_200_042
        + 10_500_105
        + 1_800_018
        + 4_500_045
        + 1_800_000
        + 4_500_000
    )
    assert (
        alice_state.wallet_e8
        == 10_000 * E8 - 6_000_000 - 15_000_000 - 6_000_020 - 10_500_105 + 80_000
    )
    assert alice_state.positions[(BTC, "BOTH")].cost_e8 == -3 * 300_003 * 10_000
    assert {n: a.positions[(BTC, "BOTH")].qty for n, a in ledger.accounts.items()} == {
        "alice": -3,
        "bob": -10,
        "carol": 13,
    }
    total = ledger.fee_e8
    for acct in ledger.accounts.values():
        total += acct.wallet_e8 - sum(p.cost_e8 for p in acct.positions.values())
    assert total == 30_000 * E8


# -- check_invariants reports broken state --------------------------------------------------------


def test_invariant_error_is_an_assertion_error():
    # Assert
    assert issubclass(InvariantError, AssertionError)


def test_a_consistent_venue_passes_every_invariant_check():
    # Arrange
    venue = small_venue()
    # Act / Assert: no exception
    venue.check_invariants()


def test_frozen_total_one_unit_off_the_open_orders_is_reported():
    # Arrange: alice's bid 0.010 @ 29000 freezes 14.5
    venue = small_venue()
    venue._ledger.accounts["alice"].frozen_e8 += 1
    # Act / Assert
    with pytest.raises(
        InvariantError, match="alice: frozen 1450000001 != Σ open orders' frozen 1450000000"
    ):
        venue.check_invariants()


def test_level_total_off_the_sum_of_its_orders_is_reported():
    # Arrange: the bid level at 29000 holds 10 lots
    venue = small_venue()
    level = venue._markets[BTC].book.bids[-290_000]
    level.total += 1
    # Act / Assert
    with pytest.raises(InvariantError, match="BTCUSDT: level 290000 total 11 != 10"):
        venue.check_invariants()


def test_a_new_order_with_fills_is_reported():
    # Arrange: alice's resting bid is NEW; the inline cancel releases all its margin on that
    venue = small_venue()
    bid = next(o for o in venue._index.by_id.values()
               if o.owner.name == "alice" and o.status == "NEW" and not o.is_trigger)
    bid.executed = 1
    venue._markets[BTC].book.bids[-bid.price].total -= 1  # the book agrees with the fill
    # Act / Assert
    with pytest.raises(InvariantError, match="NEW with fills"):
        venue.check_invariants()


def test_position_quantities_that_do_not_sum_to_zero_are_reported():
    # Arrange: alice long 4 lots, bob short 4
    venue = small_venue()
    venue._ledger.accounts["alice"].positions[(BTC, "BOTH")].qty += 1
    # Act / Assert
    with pytest.raises(InvariantError, match="BTCUSDT: positions sum to 1, not 0"):
        venue.check_invariants()


def test_a_wallet_unit_created_from_nothing_is_reported():
    # Arrange
    venue = small_venue()
    venue._ledger.accounts["bob"].wallet_e8 += 1
    # Act / Assert
    with pytest.raises(InvariantError, match="value not conserved"):
        venue.check_invariants()


def test_invariant_error_can_be_caught_as_an_assertion_error():
    # Arrange
    venue = small_venue()
    venue._ledger.fee_e8 -= 1
    # Act / Assert
    with pytest.raises(AssertionError, match="value not conserved"):
        venue.check_invariants()


# -- accounts -------------------------------------------------------------------------------------


def test_create_account_with_a_duplicate_name_raises_value_error(ex):
    # Arrange
    before = ex.state_hash()
    # Act / Assert
    with pytest.raises(ValueError, match="'alice' already exists"):
        ex.create_account("alice", balance="5")
    assert ex.state_hash() == before
    assert ex.client("alice").balance()[0]["balance"] == "10000"


@pytest.mark.parametrize(
    "balance", ["-1", "abc", "1.000000001", "NaN", "Infinity", "", 1.5, None, True]
)
def test_create_account_with_a_bad_balance_raises_value_error(ex, balance):
    # Arrange
    before = ex.state_hash()
    # Act / Assert
    with pytest.raises(ValueError):
        ex.create_account("erin", balance=balance)
    assert ex.state_hash() == before
    with pytest.raises(KeyError):
        ex.client("erin")


@pytest.mark.parametrize(
    ("balance", "shown"),
    [("0", "0"), (0, "0"), ("0.00000001", "0.00000001"), (Decimal("12.5"), "12.5")],
)
def test_create_account_accepts_every_non_negative_amount_to_the_unit(ex, balance, shown):
    # Act
    ex.create_account("erin", balance=balance)
    # Assert
    assert ex.client("erin").balance()[0]["balance"] == shown


def test_client_of_an_unknown_name_raises_key_error(ex):
    # Act / Assert
    with pytest.raises(KeyError):
        ex.client("nobody")


def test_two_exchanges_in_one_process_are_independent():
    # Arrange: the same account names in both
    first, second = Exchange(), Exchange()
    for venue in (first, second):
        venue.create_account("alice", balance="10000")
        venue.create_account("bob", balance="10000")
        venue.set_mark_price(BTC, "30000")
    untouched = second.state_hash()
    # Act: trade in the first only
    limit(first.client("bob"), "SELL", "0.010", "30000")
    market(first.client("alice"), "BUY", "0.010")
    # Assert
    assert second.state_hash() == untouched
    assert first.state_hash() != untouched
    assert first.client("alice").get_position_risk(symbol=BTC)[0]["positionAmt"] == "0.01"
    assert second.client("alice").get_position_risk(symbol=BTC) == []  # flat: no row (v3)
    assert second.client("alice").balance()[0]["balance"] == "10000"
    assert limit(second.client("bob"), "SELL", "0.010", "30000")["orderId"] == 1
    first.check_invariants()
    second.check_invariants()


# -- income history: rows, ids --------------------------------------------------------------------


def test_a_new_accounts_history_starts_with_its_deposit_as_a_transfer_row():
    venue = Exchange(start_time=1_704_067_200_000)
    venue.advance(250)
    venue.create_account("alice", balance="1234.5")

    rows = venue.client("alice").get_income_history()

    assert rows == [{
        "symbol": "", "incomeType": "TRANSFER", "income": "1234.5", "asset": "USDT",
        "info": "TRANSFER", "time": 1_704_067_200_250, "tranId": rows[0]["tranId"],
        "tradeId": "",
    }]
    assert isinstance(rows[0]["tranId"], int) and rows[0]["tranId"] > 0


def _trading_venue() -> Exchange:
    """Three accounts trade, close, take funding; every kind of income row there is."""
    venue = Exchange()
    for name in ("alice", "bob", "carol"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(BTC, "30000")
    alice, bob, carol = (venue.client(n) for n in ("alice", "bob", "carol"))
    limit(bob, "SELL", "0.010", "30000")
    market(alice, "BUY", "0.006")
    venue.advance(1000)
    limit(carol, "BUY", "0.010", "30100")  # crosses bob's rest: carol takes 0.004
    market(alice, "SELL", "0.004")  # into carol's bid: alice realizes a profit
    venue.settle_funding(BTC, "0.0001")
    return venue


def test_tran_ids_are_one_venue_wide_sequence_each_history_in_increasing_order():
    venue = _trading_venue()
    histories = [venue.client(n).get_income_history(limit=1000) for n in ("alice", "bob", "carol")]

    ids = [row["tranId"] for rows in histories for row in rows]
    assert sorted(ids) == list(range(1, len(ids) + 1))  # unique, none skipped
    for rows in histories:
        assert [r["tranId"] for r in rows] == sorted(r["tranId"] for r in rows)
    kinds = {row["incomeType"] for rows in histories for row in rows}
    assert kinds == {"TRANSFER", "COMMISSION", "REALIZED_PNL", "FUNDING_FEE"}


def test_trade_rows_carry_their_trades_id_and_other_rows_an_empty_trade_id():
    venue = _trading_venue()
    for name in ("alice", "bob", "carol"):
        c = venue.client(name)
        trade_ids = {str(t["id"]) for t in c.get_account_trades(symbol=BTC)}
        for row in c.get_income_history(limit=1000):
            if row["incomeType"] in ("COMMISSION", "REALIZED_PNL"):
                assert row["tradeId"] in trade_ids, row
            else:
                assert row["tradeId"] == "", row
        commissions = [r for r in c.get_income_history(limit=1000)
                       if r["incomeType"] == "COMMISSION"]
        assert {r["tradeId"] for r in commissions} == trade_ids  # one fee per trade


def test_a_closing_trade_books_realized_pnl_under_the_same_trade_id_as_its_fee():
    venue = _trading_venue()
    rows = venue.client("alice").get_income_history(symbol=BTC, limit=1000)

    pnl = [r for r in rows if r["incomeType"] == "REALIZED_PNL"]
    fees = {r["tradeId"] for r in rows if r["incomeType"] == "COMMISSION"}
    assert len(pnl) == 1 and pnl[0]["tradeId"] in fees
    assert Decimal(pnl[0]["income"]) == Decimal("0.004") * (Decimal("30100") - Decimal("30000"))


# -- one lot: the smallest position and the smallest fill -------------------------------------


def _entry_and_realized(client) -> tuple[str, str, list[str]]:
    risk = client.get_position_risk(symbol=BTC)[0]
    pnl = [r["income"] for r in client.get_income_history(incomeType="REALIZED_PNL")]
    return risk["positionAmt"], risk["entryPrice"], pnl


def test_a_position_of_one_lot_grows_on_a_fill_on_its_own_side(ex, alice, bob):
    # Arrange: alice long 0.004 @ 30000, then she sells 0.003 reduce-only: long one lot
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(bob, "BUY", "0.004", "30000")
    market(alice, "SELL", "0.003", reduceOnly="true")
    assert _entry_and_realized(alice) == ("0.001", "30000", [])
    limit(bob, "SELL", "0.004", "30100")
    # Act: a buy of 0.004 adds to the one lot
    market(alice, "BUY", "0.004")
    # Assert: (0.001 × 30000 + 0.004 × 30100) / 0.005 = 30080, nothing realized
    assert _entry_and_realized(alice) == ("0.005", "30080", [])


def test_a_fill_of_one_lot_adds_to_a_position_on_its_own_side(ex, alice, bob):
    # Arrange: alice long 0.004 @ 30000; bob offers 0.005 at 30010, of which carol takes
    # 0.004, leaving one lot, and 0.004 at 30020
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(bob, "SELL", "0.005", "30010")
    market(ex.client("carol"), "BUY", "0.004")
    limit(bob, "SELL", "0.004", "30020")
    # Act: the sweep's first fill is one lot
    market(alice, "BUY", "0.005")
    # Assert: (120 + 30.01 + 120.08) / 0.009 = 30010 exactly; nothing realized
    assert _entry_and_realized(alice) == ("0.009", "30010", [])


def test_a_fill_of_one_lot_closes_one_lot_and_realizes_its_share(ex, alice, bob):
    # Arrange: alice long 0.004 @ 30000; bob bids at 30100
    limit(bob, "SELL", "0.004", "30000")
    market(alice, "BUY", "0.004")
    limit(bob, "BUY", "0.004", "30100")
    # Act
    market(alice, "SELL", "0.001", reduceOnly="true")
    # Assert: 0.001 × 100 realized; the rest keeps its entry price
    assert _entry_and_realized(alice) == ("0.003", "30000", ["0.1"])


# -- the ledger's own contract, below the commands -------------------------------------------------


def test_a_deposit_to_an_open_account_is_logged_and_rolled_back_whole():
    from engine.core.enums import IncomeType
    from engine.core.txn import rollback

    venue = Exchange()
    venue.create_account("alice", balance="100")
    ledger, acct = venue._ledger, venue._ledger.accounts["alice"]
    before = (acct.wallet_e8, acct.deposits_e8, acct.update_time, list(acct.incomes),
              ledger._income_seq)

    ledger.deposit(acct, -2_500_000_000, 1_704_067_299_000)  # a withdrawal of 25
    assert (acct.wallet_e8, acct.deposits_e8, acct.update_time) == (
        7_500_000_000, 7_500_000_000, 1_704_067_299_000)
    assert acct.incomes[-1][2:6] == (IncomeType.TRANSFER, -2_500_000_000, "TRANSFER",
                                     1_704_067_299_000)
    rollback(venue._undo)

    assert (acct.wallet_e8, acct.deposits_e8, acct.update_time, list(acct.incomes),
            ledger._income_seq) == before


@pytest.mark.parametrize(("qty", "accepted"), [("0.010", True), ("0.011", False)])
def test_a_second_order_may_freeze_what_the_first_left_available_and_no_more(qty, accepted):
    # Arrange: erin has 75 USDT; a bid of 0.040 @ 30000 freezes 60 (1200 / 20): 15 available
    venue = Exchange()
    venue.create_account("erin", balance="75")
    venue.set_mark_price(BTC, "30000")
    erin = venue.client("erin")
    limit(erin, "BUY", "0.040", "30000")
    assert available(erin) == "15"
    second = lambda: limit(erin, "BUY", qty, "30000")  # noqa: E731
    # Act / Assert: 0.010 needs exactly 15; 0.011 needs 16.5
    if accepted:
        second()
        assert (available(erin), frozen(erin)) == ("0", "75")
    else:
        assert_refused(venue, second, -2019, "Margin is insufficient.")
    venue.check_invariants()


def test_ledger_objects_show_their_figures_when_printed():
    venue = small_venue()
    acct = venue._ledger.accounts["alice"]
    pos = acct.positions[(BTC, PositionSide.BOTH)]

    assert repr(acct) == f"AccountState('alice', wallet_e8={acct.wallet_e8})"
    assert repr(pos) == f"Position(qty=4, cost_e8={pos.cost_e8})"
    assert len(venue._registry) == 0


@pytest.mark.parametrize(("balance", "accepted"), [("16.61399999", False), ("16.614", True)])
def test_a_market_buy_closing_part_of_a_level_is_checked_for_the_rest_of_that_level(
    ex, bob, carol, balance, accepted
):
    # Arrange: erin short 0.004 @ 30000 (her ask 1, bob's market 2; maker fee 0.024), then
    # she buys back 0.001 reduce-only from bob's ask 3 (taker fee 0.015): short 0.003, IM 4.5.
    # The book: 0.007 @ 30000 (bob's 0.003, carol's 0.004, 4) and carol's 0.006 @ 30500 (5).
    # Buying 0.010 closes 0.003 at the first level and opens 0.004 there and 0.003 above:
    # (120 + 91.5) / 20 + 0.003 × 500 = 12.075.  Available before: balance − 4.539
    ex.create_account("erin", balance=balance)
    erin = ex.client("erin")
    limit(erin, "SELL", "0.004", "30000")
    market(bob, "BUY", "0.004")
    limit(bob, "SELL", "0.004", "30000")
    market(erin, "BUY", "0.001", reduceOnly="true")
    limit(carol, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.006", "30500")
    # Act / Assert
    if not accepted:
        assert_refused(ex, lambda: market(erin, "BUY", "0.010"), -2019, "Margin is insufficient.")
        return
    assert market(erin, "BUY", "0.010")["status"] == "FILLED"
    assert erin.get_position_risk(symbol=BTC)[0]["positionAmt"] == "0.007"


@pytest.mark.parametrize(("balance", "accepted"), [("16.94999999", False), ("16.95", True)])
def test_a_market_buy_pays_no_open_loss_on_levels_below_the_mark(ex, carol, balance, accepted):
    # Arrange: carol asks 0.004 @ 30000 (1) and 0.006 @ 30500 (2); the mark rises to 30200.
    # Buying 0.010: (120 + 183) / 20 + the loss above the mark only, 0.006 × 300: 16.95
    limit(carol, "SELL", "0.004", "30000")
    limit(carol, "SELL", "0.006", "30500")
    ex.set_mark_price(BTC, "30200")
    ex.create_account("erin", balance=balance)
    erin = ex.client("erin")
    # Act / Assert
    if not accepted:
        assert_refused(ex, lambda: market(erin, "BUY", "0.010"), -2019, "Margin is insufficient.")
        return
    assert market(erin, "BUY", "0.010")["status"] == "FILLED"
