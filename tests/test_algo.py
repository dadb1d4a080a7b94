"""The Algo Order views (engine.venue.algo): algo parameters in, algo objects out, the same rows.

An algo order is a trigger row: whatever one family of endpoints does, the
other sees.  Every refusal changes nothing (state hash equal, no id consumed).
"""

from __future__ import annotations

import pytest

from engine import ClientError, Exchange
from engine.venue import commands as cmd

SYMBOL = "BTCUSDT"
#: the algo object's keys that ccxt and the SDK read (CLIENTS.md §5), with their JSON types
ALGO_TYPES = {
    "algoId": int, "clientAlgoId": str, "algoType": str, "orderType": str, "symbol": str,
    "side": str, "positionSide": str, "timeInForce": str, "quantity": str, "algoStatus": str,
    "triggerPrice": str, "price": str, "actualOrderId": str, "actualPrice": str,
    "selfTradePreventionMode": str, "workingType": str, "priceMatch": str,
    "closePosition": bool, "priceProtect": bool, "reduceOnly": bool, "createTime": int,
    "updateTime": int, "triggerTime": int, "goodTillDate": int, "parentOrderId": int,
}
NEVER = {"orderId", "status", "type", "origQty"}


@pytest.fixture
def ex():
    venue = Exchange()
    for name in ("alice", "bob", "dave"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(SYMBOL, "30000")
    yield venue
    venue.check_invariants()


def acct(ex: Exchange, name: str):
    return ex._ledger.accounts[name]


def algo(ex: Exchange, name: str = "alice", **params) -> dict:
    base = {"algoType": "CONDITIONAL", "symbol": SYMBOL, "side": "BUY", "type": "STOP_MARKET",
            "quantity": "0.010", "triggerPrice": "31000"}
    base.update(params)
    return cmd.new_algo_order(ex, acct(ex, name), {k: v for k, v in base.items() if v is not None})


def parent(ex: Exchange, name: str = "alice") -> dict:
    return ex.client(name).new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="0.010", price="30000")


def attach(ex: Exchange, parent_id: int, kind: str, trigger: str, **kw) -> dict:
    return algo(ex, side="SELL", type=kind, triggerPrice=trigger, quantity=None,
                parentOrderId=str(parent_id), **kw)


def refused(ex: Exchange, call, code: int, message: str | None = None) -> ClientError:
    """``call()`` fails with ``code`` (and ``message``) and changes nothing, no id consumed."""
    before = ex.state_hash()
    next_id = ex._s.last_id + 1
    with pytest.raises(ClientError) as info:
        call()
    assert ex.state_hash() == before
    assert info.value.error_code == code, info.value.error_message
    if message is not None:
        assert info.value.error_message == message
    assert parent(ex, "dave")["orderId"] == next_id
    return info.value


# -- the object ----------------------------------------------------------------------------------


def test_new_algo_order_answers_an_algo_object_with_algo_names_only(ex):
    a = algo(ex, clientAlgoId="my-stop-1")
    assert {k: type(v) for k, v in a.items()} == ALGO_TYPES
    assert not NEVER & set(a)
    assert (a["algoId"], a["clientAlgoId"], a["algoType"], a["orderType"], a["algoStatus"]) == (
        1, "my-stop-1", "CONDITIONAL", "STOP_MARKET", "NEW")
    assert (a["quantity"], a["triggerPrice"], a["price"], a["actualOrderId"]) == (
        "0.01", "31000", "0", "")


def test_algo_order_is_the_same_row_the_order_endpoints_see(ex):
    a = algo(ex, clientAlgoId="same-row")
    row = ex.client("alice").query_order(symbol=SYMBOL, orderId=a["algoId"])
    assert (row["type"], row["stopPrice"], row["clientOrderId"], row["status"]) == (
        "STOP_MARKET", "31000", "same-row", "NEW")
    assert [o["orderId"] for o in ex.client("alice").get_orders(symbol=SYMBOL)] == [a["algoId"]]


def test_trailing_algo_order_maps_activate_price_and_reports_callback_rate(ex):
    a = algo(ex, side="BUY", type="TRAILING_STOP_MARKET", triggerPrice=None,
             activatePrice="29000", callbackRate="0.5")
    assert (a["activatePrice"], a["callbackRate"], a["triggerPrice"]) == ("29000", "0.5", "0")


def test_limit_conditional_algo_order_keeps_its_price(ex):
    a = algo(ex, type="STOP", price="31100", timeInForce="GTC")
    assert (a["orderType"], a["price"], a["triggerPrice"]) == ("STOP", "31100", "31000")


# -- parameter mapping and its refusals ----------------------------------------------------------


def test_algo_type_is_mandatory(ex):
    refused(ex, lambda: algo(ex, algoType=None), -1102,
            "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.")


def test_algo_type_other_than_conditional_is_invalid(ex):
    refused(ex, lambda: algo(ex, algoType="VP"), -1130,
            "Data sent for parameter 'algoType' is not valid.")


@pytest.mark.parametrize("kind", ["LIMIT", "MARKET"])
def test_ordinary_types_are_refused_on_the_algo_endpoint(ex, kind):
    refused(ex, lambda: algo(ex, type=kind, price="29000", timeInForce="GTC"), -1116)


def test_missing_trigger_price_is_named_as_the_algo_parameter(ex):
    refused(ex, lambda: algo(ex, triggerPrice=None), -1102,
            "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.")


def test_trigger_price_on_a_trailing_stop_is_named_as_sent(ex):
    refused(ex, lambda: algo(ex, type="TRAILING_STOP_MARKET", callbackRate="1"), -1106,
            "Parameter 'triggerPrice' sent when not required.")


def test_stop_price_and_new_client_order_id_are_not_algo_parameters(ex):
    a = algo(ex, stopPrice="99999", newClientOrderId="ignored", clientAlgoId="kept")
    assert (a["triggerPrice"], a["clientAlgoId"]) == ("31000", "kept")


def test_order_entry_rules_apply_unchanged(ex):
    refused(ex, lambda: algo(ex, triggerPrice="29000"), -2021, "Order would immediately trigger.")
    refused(ex, lambda: algo(ex, side="SELL", triggerPrice="29000", reduceOnly="true"), -2022)


# -- attached rows -------------------------------------------------------------------------------


def test_algo_rows_attached_with_parent_order_id_cascade_with_the_parent(ex):
    p = parent(ex)
    tp = attach(ex, p["orderId"], "TAKE_PROFIT_MARKET", "33000")
    sl = attach(ex, p["orderId"], "STOP_MARKET", "29000")
    assert (tp["parentOrderId"], tp["reduceOnly"], tp["quantity"]) == (p["orderId"], True, "0.01")
    done = ex.client("alice").cancel_order(symbol=SYMBOL, orderId=p["orderId"])
    assert [r["orderId"] for r in done["triggerOrders"]] == [tp["algoId"], sl["algoId"]]
    a = acct(ex, "alice")
    assert [cmd.query_algo_order(ex, a, {"algoId": str(r["algoId"])})["algoStatus"]
            for r in (tp, sl)] == ["CANCELED", "CANCELED"]
    assert cmd.open_algo_orders(ex, a, {}) == []


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_algo_order_answers_code_200_as_a_string(ex):
    a = algo(ex, clientAlgoId="c1")
    done = cmd.cancel_algo_order(ex, acct(ex, "alice"),
                                 {"algoId": a["algoId"], "symbol": "ETHUSDT"})
    assert done == {"algoId": a["algoId"], "clientAlgoId": "c1", "code": "200", "msg": "success"}
    assert ex.client("alice").query_order(symbol=SYMBOL, orderId=a["algoId"])["status"] == (
        "CANCELED")


def test_cancel_algo_order_by_client_algo_id(ex):
    a = algo(ex, clientAlgoId="by-cid")
    assert cmd.cancel_algo_order(ex, acct(ex, "alice"), {"clientAlgoId": "by-cid"})["algoId"] == (
        a["algoId"])


def test_cancel_of_one_attached_row_leaves_parent_and_sibling(ex):
    p = parent(ex)
    tp = attach(ex, p["orderId"], "TAKE_PROFIT_MARKET", "33000")
    sl = attach(ex, p["orderId"], "STOP_MARKET", "29000")
    cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": tp["algoId"]})
    c = ex.client("alice")
    assert [c.query_order(symbol=SYMBOL, orderId=i)["status"]
            for i in (p["orderId"], tp["algoId"], sl["algoId"])] == ["NEW", "CANCELED", "NEW"]


def test_cancel_algo_order_needs_an_id(ex):
    refused(ex, lambda: cmd.cancel_algo_order(ex, acct(ex, "alice"), {"symbol": SYMBOL}), -1102,
            "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")


def test_cancel_algo_order_of_an_unknown_id_or_an_ordinary_order_is_2011(ex):
    p = parent(ex)
    a = acct(ex, "alice")
    refused(ex, lambda: cmd.cancel_algo_order(ex, a, {"algoId": "999"}), -2011)
    refused(ex, lambda: cmd.cancel_algo_order(ex, a, {"algoId": str(p["orderId"])}), -2011)


def test_cancel_algo_order_of_a_cascade_cancelled_row_is_2091(ex):
    p = parent(ex)
    tp = attach(ex, p["orderId"], "TAKE_PROFIT_MARKET", "33000")
    ex.client("alice").cancel_order(symbol=SYMBOL, orderId=p["orderId"])
    refused(ex, lambda: cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": tp["algoId"]}),
            -2091, f"Trigger order {tp['algoId']} is already canceled.")


def test_cancel_algo_order_of_another_accounts_row_is_2093(ex):
    a = algo(ex)
    refused(ex, lambda: cmd.cancel_algo_order(ex, acct(ex, "bob"), {"algoId": a["algoId"]}),
            -2093, f"Trigger order {a['algoId']} belongs to another account.")


def test_fired_row_reports_its_child_and_refuses_cancel_with_2090(ex):
    a = algo(ex, workingType="MARK_PRICE")
    ex.set_mark_price(SYMBOL, "31000")
    view = cmd.query_algo_order(ex, acct(ex, "alice"), {"algoId": a["algoId"]})
    child = int(view["actualOrderId"])
    # its MARKET order met an empty book and expired: the row's life is FINISHED
    assert (view["algoStatus"], view["triggerTime"]) == ("FINISHED", ex.now)
    placed = ex.client("alice").query_order(symbol=SYMBOL, orderId=child)
    assert (placed["origType"], placed["status"]) == ("STOP_MARKET", "EXPIRED")
    refused(ex, lambda: cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": a["algoId"]}),
            -2090, f"Trigger order {a['algoId']} has already triggered; it placed order {child}.")


def test_row_expired_with_its_position_refuses_cancel_with_2092(ex):
    alice, bob = ex.client("alice"), ex.client("bob")
    p = parent(ex)
    sl = attach(ex, p["orderId"], "STOP_MARKET", "29000")
    bob.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.010")  # fills parent
    bob.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                  price="30000")
    alice.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.010")  # flat
    assert cmd.query_algo_order(ex, acct(ex, "alice"), {"algoId": sl["algoId"]})["algoStatus"] == (
        "EXPIRED")
    refused(ex, lambda: cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": sl["algoId"]}),
            -2092)


def test_cancel_algo_open_orders_cancels_rows_but_not_ordinary_orders(ex):
    p = parent(ex)
    tp = attach(ex, p["orderId"], "TAKE_PROFIT_MARKET", "33000")
    stop = algo(ex)
    other = algo(ex, "bob")
    done = cmd.cancel_algo_open_orders(ex, acct(ex, "alice"), {"symbol": SYMBOL})
    assert done == {"code": 200, "msg": "The operation of cancel all open order is done."}
    c = ex.client("alice")
    assert [o["orderId"] for o in c.get_orders(symbol=SYMBOL)] == [p["orderId"]]
    assert [c.query_order(symbol=SYMBOL, orderId=i)["status"]
            for i in (tp["algoId"], stop["algoId"])] == ["CANCELED", "CANCELED"]
    assert ex.client("bob").query_order(symbol=SYMBOL, orderId=other["algoId"])["status"] == (
        "NEW")


def test_cancel_algo_open_orders_needs_a_known_symbol(ex):
    refused(ex, lambda: cmd.cancel_algo_open_orders(ex, acct(ex, "alice"), {"symbol": "XYZ"}),
            -1121)


# -- views ----------------------------------------------------------------------------------------


def test_query_algo_order_of_another_account_or_an_ordinary_order_is_2013(ex):
    a = algo(ex)
    p = parent(ex)
    refused(ex, lambda: cmd.query_algo_order(ex, acct(ex, "bob"), {"algoId": a["algoId"]}), -2013)
    refused(ex, lambda: cmd.query_algo_order(ex, acct(ex, "alice"), {"algoId": p["orderId"]}),
            -2013)


def test_open_algo_orders_lists_untriggered_rows_and_filters(ex):
    a1 = algo(ex)
    a2 = algo(ex, symbol="ETHUSDT", triggerPrice="3100", quantity="0.1")
    parent(ex)
    algo(ex, "bob")
    a = acct(ex, "alice")
    assert [r["algoId"] for r in cmd.open_algo_orders(ex, a, {})] == [a1["algoId"], a2["algoId"]]
    assert [r["algoId"] for r in cmd.open_algo_orders(ex, a, {"symbol": "ETHUSDT"})] == [
        a2["algoId"]]
    assert [r["algoId"] for r in cmd.open_algo_orders(ex, a, {"algoId": str(a1["algoId"])})] == [
        a1["algoId"]]
    refused(ex, lambda: cmd.open_algo_orders(ex, a, {"algoType": "TWAP"}), -1130)


def test_all_algo_orders_lists_every_row_oldest_first_with_paging(ex):
    ids = [algo(ex, triggerPrice=str(31000 + i))["algoId"] for i in range(5)]
    parent(ex)
    cmd.cancel_algo_order(ex, acct(ex, "alice"), {"algoId": ids[0]})
    a = acct(ex, "alice")
    rows = cmd.all_algo_orders(ex, a, {"symbol": SYMBOL})
    assert [r["algoId"] for r in rows] == ids
    assert rows[0]["algoStatus"] == "CANCELED"
    assert [r["algoId"] for r in cmd.all_algo_orders(ex, a, {"symbol": SYMBOL, "limit": "2",
                                                        "page": "2"})] == ids[2:4]
    assert [r["algoId"] for r in cmd.all_algo_orders(ex, a, {"symbol": SYMBOL,
                                                        "algoId": str(ids[3])})] == ids[3:]
    refused(ex, lambda: cmd.all_algo_orders(ex, a, {}), -1102)
