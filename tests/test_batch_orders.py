"""Batch placement and modify, the test order and ``--algo-only`` against the real server.

``POST``/``PUT /fapi/v1/batchOrders`` (:mod:`engine.venue.batch`): each item is its own
command, answered in order; over REST each item defaults to ACK as a single order does.
Client libraries send them as they do to Binance: binance-futures-connector's
``new_batch_order`` and python-binance's ``futures_place_batch_order`` and
``futures_create_test_order``.  The hostile inputs are the catalogue's
(``tests/catalogue.py``: the ``new_batch_order``, ``modify_batch_order`` and
``new_order_test`` cases, in process and over HTTP).
"""

from __future__ import annotations

import json

from engine import Exchange
from engine.server import create_app, running
from tests.rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    live,
    make_venue,
)


def _limit(price: str, qty: str = "0.010", side: str = "BUY", **more: str) -> dict[str, str]:
    return {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC",
            "quantity": qty, "price": price, **more}


def _trading_state(ex: Exchange) -> tuple:
    """What a request could change, without the clock (the server moves it to wall time):
    the id sequence, the event log's last number, every account's view and orders."""
    return (ex._s.last_id, ex._s.events.last(), tuple(
        (a.name, ex.client(a.name).account(), ex.client(a.name).get_orders())
        for a in ex.accounts))


def _batch(items: list[dict]) -> str:
    return json.dumps(items, separators=(",", ":"))


def test_a_batch_answers_each_item_in_order_and_applies_each_alone():
    ex = make_venue()
    ex.client("bob").new_order(**_limit("30000", "0.005", "SELL"))
    with live(ex) as (url, app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        out = alice.ok("POST", "/fapi/v1/batchOrders", {"batchOrders": _batch([
            _limit("29000", newClientOrderId="a1"),
            _limit("29000", qty="9.000"),  # more than the margin: -2019
            _limit("30000", newOrderRespType="RESULT"),  # crosses bob's ask: 0.005 filled
            _limit("30000"),  # ACK: as accepted, though it fills nothing (the ask is gone)
        ])})
        with app.state.lock:
            ex.check_invariants()
    assert [o.get("clientOrderId", o.get("code")) for o in out] == ["a1", -2019, out[2][
        "clientOrderId"], out[3]["clientOrderId"]]
    assert out[1] == {"code": -2019, "msg": "Margin is insufficient."}
    assert (out[2]["status"], out[2]["executedQty"]) == ("PARTIALLY_FILLED", "0.005")
    assert (out[3]["status"], out[3]["executedQty"]) == ("NEW", "0")
    assert out[0]["orderId"] < out[2]["orderId"] < out[3]["orderId"]  # applied in order
    open_ids = {o["orderId"] for o in ex.client("alice").get_orders(symbol=SYMBOL)}
    assert open_ids == {out[0]["orderId"], out[2]["orderId"], out[3]["orderId"]}


def test_a_batch_modify_amends_each_order_and_refuses_the_rest_in_place():
    ex = make_venue()
    alice = ex.client("alice")
    a = alice.new_order(**_limit("29000"))["orderId"]
    b = alice.new_order(**_limit("28600", newClientOrderId="b"))["orderId"]
    with live(ex) as (url, _app):
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        out = raw.ok("PUT", "/fapi/v1/batchOrders", {"batchOrders": _batch([
            {"symbol": SYMBOL, "side": "BUY", "orderId": str(a), "quantity": "0.020",
             "price": "29100"},
            {"symbol": SYMBOL, "side": "BUY", "origClientOrderId": "b", "quantity": "0.010",
             "price": "28600"},  # nothing changes: -5027
            {"symbol": SYMBOL, "side": "BUY", "orderId": "999", "quantity": "0.010",
             "price": "28600"},
        ])})
    assert (out[0]["orderId"], out[0]["price"], out[0]["origQty"]) == (a, "29100", "0.02")
    assert out[1] == {"code": -5027, "msg": "No need to modify the order."}
    assert out[2] == {"code": -2013, "msg": "Order does not exist."}
    assert [h["orderId"] for h in alice.get_order_modify_history(symbol=SYMBOL, orderId=a)] \
        == [a]
    assert alice.query_order(symbol=SYMBOL, orderId=b)["price"] == "28600"


def test_the_connector_and_python_binance_place_batches_and_test_orders():
    from binance.client import Client as PythonBinance
    from binance.um_futures import UMFutures

    ex = make_venue()
    with live(ex) as (url, app):
        um = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)
        placed = um.new_batch_order(batchOrders=[_limit("29000"), _limit("28600")])
        pb = PythonBinance(BOB_KEY, BOB_SECRET, ping=False)
        pb.FUTURES_URL = url + "/fapi"
        sold = pb.futures_place_batch_order(batchOrders=[_limit("31000", side="SELL")])
        with app.state.lock:
            before = _trading_state(ex)
        tested = pb.futures_create_test_order(**_limit("31000", side="SELL"))
        with app.state.lock:
            assert _trading_state(ex) == before
    assert [o["status"] for o in placed] == ["NEW", "NEW"]
    assert sold[0]["status"] == "NEW" and sold[0]["clientOrderId"].startswith("x-")
    assert tested == {}
    assert len(ex.client("alice").get_orders(symbol=SYMBOL)) == 2


def test_the_test_order_refuses_what_a_placement_would_and_changes_nothing():
    ex = make_venue()
    with live(ex) as (url, app):
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        with app.state.lock:
            before = _trading_state(ex)
        r = raw.signed("POST", "/fapi/v1/order/test", _limit("29000", qty="9.000"))
        ok = raw.signed("POST", "/fapi/v1/order/test", _limit("29000"))
        with app.state.lock:
            after = _trading_state(ex)
    assert (r.status_code, r.json()["code"]) == (400, -2019)
    assert (ok.status_code, ok.json()) == (200, {})
    assert after == before  # no id consumed, no event logged


def _algo_only_venue() -> tuple[Exchange, object]:
    ex = make_venue()
    return ex, create_app(ex, algo_only=True)


def test_algo_only_refuses_conditional_types_on_order_and_batch_with_4120():
    ex, app = _algo_only_venue()
    stop = {"symbol": SYMBOL, "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010",
            "stopPrice": "29000"}
    with running(app) as url:
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        with app.state.lock:
            before = _trading_state(ex)
        r = raw.signed("POST", "/fapi/v1/order", stop)
        with app.state.lock:
            assert _trading_state(ex) == before
        out = raw.ok("POST", "/fapi/v1/batchOrders", {"batchOrders": _batch([
            _limit("29000"), stop, {**stop, "type": "TRAILING_STOP_MARKET",
                                    "callbackRate": "1"}, _limit("28600")])})
        algo = raw.ok("POST", "/fapi/v1/algoOrder", {
            "algoType": "CONDITIONAL", "symbol": SYMBOL, "side": "SELL", "type": "STOP_MARKET",
            "quantity": "0.010", "triggerPrice": "29000"})
        plain = raw.ok("POST", "/fapi/v1/order", _limit("28700"))
    refusal = {"code": -4120, "msg": "Order type not supported for this endpoint. Please use "
               "the Algo Order API endpoints instead."}
    assert (r.status_code, r.json()) == (400, refusal)
    assert out[1] == out[2] == refusal
    assert out[0]["price"] == "29000" and out[3]["price"] == "28600"
    assert algo["algoStatus"] == "NEW" and plain["status"] == "NEW"


def test_without_algo_only_conditional_types_stay_accepted_on_order():
    ex = make_venue()
    with live(ex) as (url, _app):
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        out = raw.ok("POST", "/fapi/v1/batchOrders", {"batchOrders": _batch([
            {"symbol": SYMBOL, "side": "BUY", "type": "STOP_MARKET", "quantity": "0.010",
             "stopPrice": "31000"}])})
    assert out[0]["type"] == "STOP_MARKET" and out[0]["status"] == "NEW"
