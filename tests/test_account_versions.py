"""account, positionRisk and balance in their v2 and v3 shapes, over the real server.

Each version has its own documented keys (Binance's examples, in their order) and
rows (v2: every symbol, flat too; v3: sides with a position or open orders), and
the computed fields — ``breakEvenPrice``, ``bidNotional``/``askNotional``, ``adl`` —
are checked against hand computations (:mod:`engine.venue.accounts`).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import Exchange
from tests.rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, RawClient, live, make_venue

V2_RISK_KEYS = {"symbol", "positionAmt", "entryPrice", "breakEvenPrice", "markPrice",
                "unRealizedProfit", "liquidationPrice", "leverage", "maxNotionalValue",
                "marginType", "isolatedMargin", "isAutoAddMargin", "positionSide", "notional",
                "isolatedWallet", "updateTime"}
V3_RISK_KEYS = ["symbol", "positionSide", "positionAmt", "entryPrice", "breakEvenPrice",
                "markPrice", "unRealizedProfit", "liquidationPrice", "isolatedMargin",
                "notional", "marginAsset", "isolatedWallet", "initialMargin", "maintMargin",
                "positionInitialMargin", "openOrderInitialMargin", "adl", "bidNotional",
                "askNotional", "updateTime"]
V2_ACCOUNT_POSITION_KEYS = {"symbol", "initialMargin", "maintMargin", "unrealizedProfit",
                            "positionInitialMargin", "openOrderInitialMargin", "leverage",
                            "isolated", "entryPrice", "breakEvenPrice", "maxNotional",
                            "bidNotional", "askNotional", "positionSide", "positionAmt",
                            "updateTime"}
V3_ACCOUNT_POSITION_KEYS = ["symbol", "positionSide", "positionAmt", "unrealizedProfit",
                            "isolatedMargin", "notional", "isolatedWallet", "initialMargin",
                            "maintMargin", "updateTime"]
V2_TOP = ["feeTier", "feeBurn", "canTrade", "canDeposit", "canWithdraw", "updateTime",
          "multiAssetsMargin", "tradeGroupId"]


def _venue() -> Exchange:
    """alice long 0.010 BTCUSDT at 30000 as taker (fee 0.15), with a bid of 0.02 @ 29000 and
    an ask of 0.005 @ 31000 resting; nothing on ETHUSDT."""
    ex = make_venue()
    ex.set_mark_price("ETHUSDT", "2000")
    bob, alice = ex.client("bob"), ex.client("alice")
    bob.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.010", price="30000")
    alice.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    alice.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.020", price="29000")
    alice.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.005", price="31000")
    return ex


@pytest.fixture(scope="module")
def answers() -> dict[str, object]:
    ex = _venue()
    with live(ex) as (url, _app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        out = {path: alice.ok("GET", path) for path in (
            "/fapi/v2/account", "/fapi/v3/account", "/fapi/v2/positionRisk",
            "/fapi/v3/positionRisk", "/fapi/v2/balance", "/fapi/v3/balance")}
        out["v3-eth"] = alice.ok("GET", "/fapi/v3/positionRisk", {"symbol": "ETHUSDT"})
        out["v2-eth"] = alice.ok("GET", "/fapi/v2/positionRisk", {"symbol": "ETHUSDT"})
    return out


def test_v2_position_risk_lists_every_symbol_with_v2_keys(answers):
    rows = answers["/fapi/v2/positionRisk"]
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT"]
    assert all(set(r) == V2_RISK_KEYS for r in rows)
    eth = rows[1]
    assert (eth["positionAmt"], eth["entryPrice"], eth["marginType"], eth["isAutoAddMargin"]) == (
        "0", "0", "cross", "false")
    assert answers["v2-eth"] == [eth]


def test_v3_position_risk_lists_only_sides_with_a_position_or_orders(answers):
    rows = answers["/fapi/v3/positionRisk"]
    assert [r["symbol"] for r in rows] == ["BTCUSDT"]
    assert list(rows[0]) == V3_RISK_KEYS
    assert answers["v3-eth"] == []  # flat, no orders: no row, even when asked by symbol


def test_v2_and_v3_accounts_have_their_own_fields_and_rows(answers):
    v2, v3 = answers["/fapi/v2/account"], answers["/fapi/v3/account"]
    assert list(v2)[:8] == V2_TOP and list(v2)[-2:] == ["assets", "positions"]
    assert not set(V2_TOP) & set(v3) and list(v3)[-2:] == ["assets", "positions"]
    assert [p["symbol"] for p in v2["positions"]] == ["BTCUSDT", "ETHUSDT"]
    assert all(set(p) == V2_ACCOUNT_POSITION_KEYS for p in v2["positions"])
    assert v2["positions"][0]["isolated"] is False
    assert [p["symbol"] for p in v3["positions"]] == ["BTCUSDT"]
    assert list(v3["positions"][0]) == V3_ACCOUNT_POSITION_KEYS
    assert [a["asset"] for a in v3["assets"]] == ["USDT", "USDC", "BTC"]
    assert "marginAvailable" not in v3["assets"][0]
    assert [a["asset"] for a in v2["assets"]][:1] == ["USDT"] and all(
        a["marginAvailable"] is True for a in v2["assets"])
    for version in (v2, v3):
        assert all(a["walletBalance"] == "0" for a in version["assets"][1:])


def test_balance_lists_the_margin_assets_usdt_first_the_rest_empty(answers):
    v2, v3 = answers["/fapi/v2/balance"], answers["/fapi/v3/balance"]
    assert v2 == v3
    assert [b["asset"] for b in v2] == ["USDT", "BTC", "BNB", "ETH", "USDC", "FDUSD", "BFUSD"]
    assert Decimal(v2[0]["balance"]) > 0
    assert all((b["balance"], b["availableBalance"], b["updateTime"]) == ("0", "0", 0)
               for b in v2[1:])


def test_break_even_folds_the_opening_fee_into_the_entry(answers):
    row = answers["/fapi/v3/positionRisk"][0]
    # alice bought 0.010 at 30000 as taker: fee 300 × 0.0005 = 0.15; (300 + 0.15) / 0.01
    assert (row["entryPrice"], row["breakEvenPrice"]) == ("30000", "30015")


def test_bid_and_ask_notional_are_the_open_orders_sides(answers):
    row = answers["/fapi/v3/positionRisk"][0]
    assert (row["bidNotional"], row["askNotional"]) == ("580", "155")  # 0.02×29000, 0.005×31000
    v2 = answers["/fapi/v2/account"]["positions"][0]
    assert (v2["bidNotional"], v2["askNotional"]) == ("580", "155")


def test_break_even_of_a_short_and_after_a_partial_close():
    ex = make_venue()
    alice, bob = ex.client("alice"), ex.client("bob")
    alice.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.020", price="30000")
    bob.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.020")  # taker 0.3
    row = bob.get_position_risk(symbol=SYMBOL)[0]
    assert (row["positionAmt"], row["breakEvenPrice"]) == ("-0.02", "29985")  # (600−0.3)/0.02
    alice.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price="30000")
    bob.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")  # half closed
    row = bob.get_position_risk(symbol=SYMBOL)[0]
    assert (row["positionAmt"], row["breakEvenPrice"]) == ("-0.01", "29985")  # 0.15 of 0.3 left


def test_adl_ranks_each_direction_s_positions_by_binance_s_score():
    ex = Exchange()
    names = ("maker", "a", "b", "c", "d")
    for n in names:
        ex.create_account(n, "100000")
    ex.set_mark_price(SYMBOL, "30000")
    maker = ex.client("maker")
    for n, qty in (("a", "0.010"), ("b", "0.100"), ("c", "1.000"), ("d", "2.000")):
        maker.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                        quantity=qty, price="30000")
        ex.client(n).new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity=qty)
    ex.set_mark_price(SYMBOL, "31000")  # every long gains 3.33 %, bigger ones more leveraged
    adl = {n: ex.client(n).get_position_risk(symbol=SYMBOL)[0]["adl"] for n in names}
    # longs a < b < c < d by effective leverage: 1 + ⌊4k/4⌋ for k below; the maker is the
    # lone short (at a loss): 1
    assert adl == {"a": 1, "b": 2, "c": 3, "d": 4, "maker": 1}


def test_force_orders_list_the_account_s_liquidations_and_adl_quantile_its_positions():
    ex = Exchange()
    for name, balance in (("alice", "100"), ("bob", "100000")):
        ex.create_account(name, balance)
    ex.set_mark_price(SYMBOL, "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    bob.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="0.040", price="30000")
    alice.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.040")
    assert alice.adl_quantile() == [{"symbol": SYMBOL, "adlQuantile": {
        "LONG": 1, "SHORT": 0, "BOTH": 1}}]
    assert bob.adl_quantile(symbol=SYMBOL)[0]["adlQuantile"]["SHORT"] == 1
    assert alice.force_orders() == []
    ex.set_mark_price(SYMBOL, "27000")  # alice's 100 USDT cannot carry a 120 USDT loss
    rows = alice.force_orders()
    assert [(r["symbol"], r["side"], r["origQty"], r["price"], r["status"]) for r in rows] == [
        (SYMBOL, "SELL", "0.04", "27000", "FILLED")]
    assert rows[0]["time"] == ex.now and rows[0]["clientOrderId"] == f"autoclose-{ex.now}"
    assert alice.force_orders(autoCloseType="ADL") == [] and bob.force_orders() == []
    assert alice.adl_quantile() == []  # flat now


def test_multi_assets_mode_is_refused_either_way_and_reads_false():
    from engine import ClientError

    c = make_venue().client("alice")
    for value, code in (("true", -1020), ("false", -4171)):
        with pytest.raises(ClientError) as e:
            c.change_multi_asset_mode(multiAssetsMargin=value)
        assert e.value.error_code == code
    assert c.get_multi_asset_mode() == {"multiAssetsMargin": False}
