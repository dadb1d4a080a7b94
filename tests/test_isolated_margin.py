"""Isolated margin: per-symbol margin type, isolated wallets, margin transfers, liquidation.

Binance's rules (USDⓈ-M *Change Margin Type*, *Modify Isolated Position Margin*) as
``engine/venue/settings.py`` states them, each figure computed by hand: a fill sets
aside ``ceil(|lots| × price / leverage)`` of the wallet for what it opens and hands back
the closed share; the cross figures leave isolated positions out; an isolated position
is liquidated on its own, at its own price, and its loss stops at its wallet.
"""

from __future__ import annotations

import pytest

from engine import ClientError, Exchange
from tests.rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, RawClient, live

ETH = "ETHUSDT"


def venue(balance: str = "1000") -> Exchange:
    ex = Exchange()
    ex.create_account("alice", balance, api_key=ALICE_KEY, api_secret=ALICE_SECRET)
    ex.create_account("bob", "1000000")
    ex.set_mark_price(SYMBOL, "30000")
    ex.set_mark_price(ETH, "2000")
    return ex


def fill(ex: Exchange, side: str, qty: str, price: str = "30000", symbol: str = SYMBOL,
         **more: str) -> dict:
    """bob rests the other side; alice takes it with a MARKET order."""
    other = "SELL" if side == "BUY" else "BUY"
    ex.client("bob").new_order(symbol=symbol, side=other, type="LIMIT", timeInForce="GTC",
                               quantity=qty, price=price)
    return ex.client("alice").new_order(symbol=symbol, side=side, type="MARKET",
                                        quantity=qty, **more)


def row(ex: Exchange, symbol: str = SYMBOL) -> dict:
    return ex.client("alice").get_position_risk(symbol=symbol)[0]


def refused(ex: Exchange, call, code: int) -> None:
    before = ex.state_hash()
    with pytest.raises(ClientError) as e:
        call()
    assert e.value.error_code == code, e.value
    assert ex.state_hash() == before


def test_margin_type_changes_only_without_orders_or_a_position():
    ex = venue()
    a = ex.client("alice")
    refused(ex, lambda: a.change_margin_type(symbol=SYMBOL, marginType="CROSSED"), -4046)
    assert a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED") == {
        "code": 200, "msg": "success"}
    refused(ex, lambda: a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED"), -4046)
    bid = a.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.010", price="29000")
    refused(ex, lambda: a.change_margin_type(symbol=SYMBOL, marginType="CROSSED"), -4047)
    a.cancel_order(symbol=SYMBOL, orderId=bid["orderId"])
    fill(ex, "BUY", "0.010")
    refused(ex, lambda: a.change_margin_type(symbol=SYMBOL, marginType="CROSSED"), -4048)
    refused(ex, lambda: a.change_margin_type(symbol=SYMBOL, marginType="isolated"), -1130)
    assert a.symbol_configuration(symbol=SYMBOL)[0]["marginType"] == "ISOLATED"
    assert a.symbol_configuration(symbol=ETH)[0]["marginType"] == "CROSSED"
    ex.check_invariants()


def test_fills_set_aside_and_hand_back_the_isolated_wallet():
    ex = venue()
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    a.change_leverage(symbol=SYMBOL, leverage=10)
    fill(ex, "BUY", "0.010")  # 300 / 10 = 30 set aside; taker fee 0.15 from the wallet
    r = row(ex)
    assert (r["isolatedWallet"], r["isolatedMargin"]) == ("30", "30")
    info = a.account()
    assert (info["totalWalletBalance"], info["totalCrossWalletBalance"],
            info["availableBalance"]) == ("999.85", "969.85", "969.85")
    ex.set_mark_price(SYMBOL, "31000")  # uPnL +10: isolated margin 40; cross unchanged
    r = row(ex)
    assert (r["isolatedWallet"], r["isolatedMargin"]) == ("30", "40")
    assert a.account()["totalCrossUnPnl"] == "0" and a.account()["availableBalance"] == "969.85"
    fill(ex, "SELL", "0.004", price="31000")  # closes 40 %: 12 back to cross, +4 realized
    assert row(ex)["isolatedWallet"] == "18"
    fill(ex, "SELL", "0.010", price="31000")  # flips: 0.006 closed, 0.004 short opened
    r = row(ex)
    assert (r["positionAmt"], r["isolatedWallet"]) == ("-0.004", "12.4")  # 124 / 10
    fill(ex, "BUY", "0.004", price="31000")
    assert ex.client("alice").get_position_risk(symbol=SYMBOL) == []
    ex.check_invariants()


def test_position_margin_moves_between_cross_and_isolated_and_is_recorded():
    ex = venue()
    a = ex.client("alice")
    refused(ex, lambda: a.modify_isolated_position_margin(symbol=SYMBOL, amount="10", type=1),
            -4049)
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    refused(ex, lambda: a.modify_isolated_position_margin(symbol=SYMBOL, amount="10", type=1),
            -4054)
    fill(ex, "BUY", "0.010")  # 15 set aside at 20×
    for amount, kind, code in (("0", 1, -4055), ("-5", 1, -4055), ("5000", 1, -4050),
                               ("1", 3, -1130), ("0.000000001", 1, -1111)):
        refused(ex, lambda amount=amount, kind=kind: a.modify_isolated_position_margin(
            symbol=SYMBOL, amount=amount, type=kind), code)
    assert a.modify_isolated_position_margin(symbol=SYMBOL, amount="100", type=1) == {
        "amount": pytest.approx(100), "code": 200,
        "msg": "Successfully modify position margin.", "type": 1}
    assert row(ex)["isolatedWallet"] == "115"
    refused(ex, lambda: a.modify_isolated_position_margin(
        symbol=SYMBOL, amount="100.00000001", type=2), -4051)  # would leave 14.99999999 < 15
    a.modify_isolated_position_margin(symbol=SYMBOL, amount="100", type=2)
    assert row(ex)["isolatedWallet"] == "15"
    history = a.get_position_margin_history(symbol=SYMBOL)
    assert [(h["type"], h["amount"], h["deltaType"], h["positionSide"]) for h in history] == [
        (1, "100", "USER_ADJUST", "BOTH"), (2, "100", "USER_ADJUST", "BOTH")]
    assert [h["type"] for h in a.get_position_margin_history(symbol=SYMBOL, type=2)] == [2]
    refused(ex, lambda: a.get_position_margin_history(
        symbol=SYMBOL, startTime=0, endTime=31 * 86_400_000), -4165)
    ex.check_invariants()


def test_an_isolated_position_is_liquidated_alone_and_its_loss_stops_at_its_wallet():
    ex = venue("1000")
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    fill(ex, "BUY", "0.100")  # 3000 notional: 150 set aside at 20×
    fill(ex, "BUY", "1", price="2000", symbol=ETH)  # a cross position beside it
    a.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.004", price="28800")  # an order on the isolated symbol
    liq = row(ex)["liquidationPrice"]
    assert liq == "28614.4"  # 150 + 0.1 × (p − 30000) = 0.1 × p × 0.004
    wallet_before = a.account()["totalCrossWalletBalance"]
    ex.set_mark_price(SYMBOL, "25000")  # a gap: the loss (500) is beyond the wallet (150)
    assert a.get_position_risk(symbol=SYMBOL) == []
    assert a.get_position_risk(symbol=ETH)[0]["positionAmt"] == "1"  # cross: untouched
    assert a.account()["totalCrossWalletBalance"] == wallet_before  # cross paid nothing
    assert a.get_orders(symbol=SYMBOL) == []  # the symbol's orders cancelled
    incomes = [(i["incomeType"], i["income"]) for i in a.get_income_history()[-2:]]
    assert incomes == [("REALIZED_PNL", "-500"), ("INSURANCE_CLEAR", "350")]
    assert [r["price"] for r in a.force_orders()] == ["25000"]
    ex.check_invariants()


def test_a_cross_liquidation_leaves_isolated_positions_alone():
    ex = venue("200")
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    fill(ex, "BUY", "0.010")  # isolated, 15 set aside
    fill(ex, "BUY", "1", price="2000", symbol=ETH)  # cross: 100 IM of 185 cross wallet
    ex.set_mark_price(ETH, "1800")  # cross: 185 − 200 < maintenance
    assert a.get_position_risk(symbol=ETH) == []
    assert row(ex)["positionAmt"] == "0.01" and row(ex)["isolatedWallet"] == "15"
    ex.check_invariants()


def test_leverage_cannot_drop_on_an_isolated_position():
    ex = venue()
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    fill(ex, "BUY", "0.010")
    refused(ex, lambda: a.change_leverage(symbol=SYMBOL, leverage=10), -4161)
    assert a.change_leverage(symbol=SYMBOL, leverage=25)["leverage"] == 25


def test_the_cascade_and_its_margin_release_hold_in_isolated_mode():
    ex = venue()
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    before = a.account()["availableBalance"]
    parent = a.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.010", price="29000", takeProfitPrice="31000",
                         stopLossPrice="28000")
    assert a.account()["totalOpenOrderInitialMargin"] == "14.5"
    out = a.cancel_order(symbol=SYMBOL, orderId=parent["orderId"])
    assert [r["status"] for r in out["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert a.account()["availableBalance"] == before
    ex.check_invariants()


def test_hedge_mode_isolated_sides_have_their_own_wallets():
    ex = venue()
    a = ex.client("alice")
    a.change_position_mode(dualSidePosition="true")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    fill(ex, "BUY", "0.010", positionSide="LONG")
    fill(ex, "SELL", "0.020", positionSide="SHORT")
    a.modify_isolated_position_margin(symbol=SYMBOL, amount="5", type=1, positionSide="SHORT")
    refused(ex, lambda: a.modify_isolated_position_margin(symbol=SYMBOL, amount="5", type=1),
            -4061)
    wallets = {r["positionSide"]: r["isolatedWallet"] for r in a.get_position_risk()}
    assert wallets == {"LONG": "15", "SHORT": "35"}
    ex.check_invariants()


def test_journal_and_snapshot_keep_isolated_wallets(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=str(path))
    ex.create_account("alice", "1000")
    ex.create_account("bob", "1000000")
    ex.set_mark_price(SYMBOL, "30000")
    ex.client("alice").change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.010", price="30000")
    ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    ex.client("alice").modify_isolated_position_margin(symbol=SYMBOL, amount="12.5", type=1)
    digest = ex.state_hash()
    again = Exchange.restore(ex.snapshot())
    assert again.state_hash() == digest
    assert again.client("alice").get_position_risk()[0]["isolatedWallet"] == "27.5"
    ex.close_journal()
    assert Exchange.replay(str(path), strict=True).state_hash() == digest


def test_isolated_margin_over_rest_with_the_connector():
    from binance.um_futures import UMFutures

    ex = venue()
    with live(ex) as (url, app):
        um = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)
        assert um.change_margin_type(symbol=SYMBOL, marginType="ISOLATED") == {
            "code": 200, "msg": "success"}
        with app.state.lock:
            ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="LIMIT",
                                       timeInForce="GTC", quantity="0.010", price="30000")
        um.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
        moved = um.modify_isolated_position_margin(symbol=SYMBOL, amount="10", type=1)
        v2 = um.sign_request("GET", "/fapi/v2/positionRisk", {"symbol": SYMBOL})
        v3 = um.get_position_risk(symbol=SYMBOL)
        history = um.get_position_margin_history(symbol=SYMBOL)
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        account = raw.ok("GET", "/fapi/v2/account")
    assert moved == {"amount": 10, "code": 200, "msg": "Successfully modify position margin.",
                     "type": 1}
    assert (v2[0]["marginType"], v2[0]["isolatedWallet"]) == ("isolated", "25")
    assert (v3[0]["isolatedWallet"], v3[0]["isolatedMargin"]) == ("25", "25")
    assert [h["amount"] for h in history] == ["10"]
    btc = [p for p in account["positions"] if p["symbol"] == SYMBOL][0]
    assert btc["isolated"] is True


def test_the_user_stream_shows_isolated_positions_and_the_cross_wallet():
    from engine.wire.events import user_messages

    ex = venue()
    a = ex.client("alice")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    seen = ex._s.events.last()
    fill(ex, "BUY", "0.010")  # 15 set aside, fee 0.15
    a.modify_isolated_position_margin(symbol=SYMBOL, amount="5", type=1)
    updates = [m["a"] for b in ex._s.events.batches_after(seen)
               for i, d in enumerate(b.deltas)
               for m in user_messages(b.time, d, ex._s, b.first + i)
               if m["e"] == "ACCOUNT_UPDATE" and "alice" == d[1]]
    assert [(u["m"], u["B"][0]["wb"], u["B"][0]["cw"], u["P"][0]["mt"], u["P"][0]["iw"],
             u["P"][0]["bep"]) for u in updates] == [
        ("ORDER", "999.85", "984.85", "isolated", "15", "30015"),
        ("MARGIN_TRANSFER", "999.85", "979.85", "isolated", "20", "30015")]


def test_one_lot_reduces_an_isolated_position_by_its_share():
    """One-lot fills on either side of the comparison (reduce-only: below MIN_NOTIONAL): a
    long sold down to 0.001 and then out, and a short bought back by 0.001."""
    ex = venue()
    a, b = ex.client("alice"), ex.client("bob")
    a.change_margin_type(symbol=SYMBOL, marginType="ISOLATED")
    fill(ex, "BUY", "0.010")  # long 0.010: 15 set aside
    b.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="30000")
    a.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.009", reduceOnly="true")
    assert (row(ex)["positionAmt"], row(ex)["isolatedWallet"]) == ("0.001", "1.5")
    a.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.001", reduceOnly="true")
    assert a.get_position_risk(symbol=SYMBOL) == []
    fill(ex, "SELL", "0.010")  # short 0.010: 15 set aside
    b.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="30000")
    a.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.001", reduceOnly="true")
    assert (row(ex)["positionAmt"], row(ex)["isolatedWallet"]) == ("-0.009", "13.5")
    ex.check_invariants()
