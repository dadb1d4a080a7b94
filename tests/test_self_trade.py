"""Self-trade prevention over REST: each mode, Binance's default, in batches, on modify.

Alice rests an ask, then crosses it herself.  The taker's mode decides (Binance's STP
FAQ): NONE books both fills, EXPIRE_TAKER expires the taker, EXPIRE_MAKER the resting
order (the taker goes on, and rests), EXPIRE_BOTH both.  Over REST an order that sends
no mode gets Binance's default, EXPIRE_MAKER (the New Order page, and what live orders
report); in process the default stays NONE (SPEC 3).
"""

from __future__ import annotations

import json

import pytest

from tests.rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, RawClient, live, make_venue


def _limit(side: str, price: str, **more: str) -> dict[str, str]:
    return {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": price, **more}


#: mode sent (None: not sent) -> (the taker's status, the maker's status, alice's fills)
OUTCOMES = {
    "NONE": ("FILLED", "FILLED", 2),
    "EXPIRE_TAKER": ("EXPIRED", "NEW", 0),
    "EXPIRE_MAKER": ("NEW", "EXPIRED", 0),
    "EXPIRE_BOTH": ("EXPIRED", "EXPIRED", 0),
    None: ("NEW", "EXPIRED", 0),  # Binance's REST default: EXPIRE_MAKER
}


def _cross(raw: RawClient, how: str, mode: str | None) -> tuple[dict, dict]:
    maker = raw.ok("POST", "/fapi/v1/order", _limit("SELL", "30000"))
    more = {} if mode is None else {"selfTradePreventionMode": mode}
    taker_params = _limit("BUY", "30000", newOrderRespType="RESULT", **more)
    if how == "order":
        taker = raw.ok("POST", "/fapi/v1/order", taker_params)
    elif how == "batch":
        taker = raw.ok("POST", "/fapi/v1/batchOrders", {
            "batchOrders": json.dumps([taker_params])})[0]
    else:  # a bid below the ask, then modified up into it: the order keeps its mode
        bid = raw.ok("POST", "/fapi/v1/order", {**taker_params, "price": "29900"})
        taker = raw.ok("PUT", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "orderId": bid["orderId"], "quantity": "0.010",
            "price": "30000"})
    return taker, maker


@pytest.mark.parametrize("how", ["order", "batch", "modify"])
@pytest.mark.parametrize("mode", list(OUTCOMES), ids=lambda m: m or "not-sent")
def test_the_taker_s_mode_decides_a_self_trade(how, mode):
    ex = make_venue()
    with live(ex) as (url, app):
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        taker, maker = _cross(raw, how, mode)
        with app.state.lock:
            ex.check_invariants()
    c = ex.client("alice")
    statuses = (c.query_order(symbol=SYMBOL, orderId=taker["orderId"])["status"],
                c.query_order(symbol=SYMBOL, orderId=maker["orderId"])["status"])
    want_taker, want_maker, fills = OUTCOMES[mode]
    assert statuses == (want_taker, want_maker)
    assert len(c.get_account_trades(symbol=SYMBOL)) == fills
    assert taker["selfTradePreventionMode"] == (mode or "EXPIRE_MAKER")


def test_in_process_the_default_stays_none():
    ex = make_venue()
    c = ex.client("alice")
    c.new_order(**_limit("SELL", "30000"))
    taker = c.new_order(**_limit("BUY", "30000"))
    assert (taker["status"], taker["selfTradePreventionMode"]) == ("FILLED", "NONE")
