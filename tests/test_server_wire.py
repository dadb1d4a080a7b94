"""The REST facade's wire rules: routes, parameters, JSON, status codes, weight headers.

Each test drives the real server over loopback with hand-signed requests.
"""

from __future__ import annotations

import json

import pytest
from rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    hmac_hex,
    live,
    make_venue,
    now_ms,
)

from engine.server.routes import ROUTES
from engine.venue.client import Client


@pytest.fixture
def served():
    ex = make_venue()
    with live(ex) as (url, _app):
        yield ex, RawClient(url, ALICE_KEY, ALICE_SECRET)
    ex.check_invariants()


def limit_params(price: str = "29000", **kw) -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": price, **kw}


# -- routes ---------------------------------------------------------------------------------------

#: every Client method and the path it is served on (verbs in ROUTES)
CLIENT_PATHS = {
    "ping": "/fapi/v1/ping", "time": "/fapi/v1/time", "exchange_info": "/fapi/v1/exchangeInfo",
    "depth": "/fapi/v1/depth", "mark_price": "/fapi/v1/premiumIndex",
    "book_ticker": "/fapi/v1/ticker/bookTicker", "new_order": "/fapi/v1/order",
    "cancel_order": "/fapi/v1/order", "cancel_batch_order": "/fapi/v1/batchOrders",
    "cancel_open_orders": "/fapi/v1/allOpenOrders",
    "countdown_cancel_order": "/fapi/v1/countdownCancelAll", "query_order": "/fapi/v1/order",
    "get_open_orders": "/fapi/v1/openOrder", "get_orders": "/fapi/v1/openOrders",
    "get_all_orders": "/fapi/v1/allOrders", "account": "/fapi/v2/account",
    "balance": "/fapi/v2/balance", "get_position_risk": "/fapi/v2/positionRisk",
    "get_account_trades": "/fapi/v1/userTrades", "get_income_history": "/fapi/v1/income",
    "change_leverage": "/fapi/v1/leverage", "change_margin_type": "/fapi/v1/marginType",
    "change_position_mode": "/fapi/v1/positionSide/dual",
    "get_position_mode": "/fapi/v1/positionSide/dual",
    "commission_rate": "/fapi/v1/commissionRate",
    "leverage_brackets": "/fapi/v1/leverageBracket", "modify_order": "/fapi/v1/order",
    "get_order_modify_history": "/fapi/v1/orderAmendment",
    "new_batch_order": "/fapi/v1/batchOrders", "modify_batch_order": "/fapi/v1/batchOrders",
    "new_order_test": "/fapi/v1/order/test", "symbol_configuration": "/fapi/v1/symbolConfig",
    "futures_account_configuration": "/fapi/v1/accountConfig",
    "adl_quantile": "/fapi/v1/adlQuantile", "force_orders": "/fapi/v1/forceOrders",
    "change_multi_asset_mode": "/fapi/v1/multiAssetsMargin",
    "get_multi_asset_mode": "/fapi/v1/multiAssetsMargin",
    "modify_isolated_position_margin": "/fapi/v1/positionMargin",
    "get_position_margin_history": "/fapi/v1/positionMargin/history",
}


def test_every_client_method_has_a_route():
    methods = {m for m in dir(Client) if not m.startswith("_")}
    in_process_only = {"new_order_quiet", "cancel_order_quiet"}  # no response to send
    assert methods - in_process_only == set(CLIENT_PATHS)
    assert all(path in ROUTES for path in CLIENT_PATHS.values())
    for v in ("/fapi/v3/account", "/fapi/v3/balance", "/fapi/v3/positionRisk",
              "/fapi/v1/algoOrder", "/fapi/v1/algoOpenOrders", "/fapi/v1/openAlgoOrders",
              "/fapi/v1/allAlgoOrders"):
        assert v in ROUTES


def test_unknown_path_is_404_with_a_json_body_and_a_weight_header(served):
    _ex, raw = served
    r = raw.session.get(raw.url + "/fapi/v1/nothingHere")
    assert (r.status_code, r.headers["content-type"]) == (404, "application/json")
    assert r.json() == {"code": -1099, "msg": "Not found, unauthenticated, or unauthorized."}
    assert int(r.headers["x-mbx-used-weight-1m"]) >= 1


def test_wrong_verb_is_405_with_a_json_body_and_the_allowed_verbs(served):
    _ex, raw = served
    r = raw.signed("PUT", "/fapi/v1/allOpenOrders", {"symbol": SYMBOL})
    assert (r.status_code, r.headers["content-type"]) == (405, "application/json")
    assert r.json() == {"code": -1020, "msg": "This operation is not supported."}
    assert r.headers["allow"] == "DELETE"


def test_order_error_is_400_json_code_and_msg(served):
    ex, raw = served
    r = raw.signed("POST", "/fapi/v1/order", limit_params(symbol="NOPEUSDT"))
    assert (r.status_code, r.headers["content-type"]) == (400, "application/json")
    assert r.json() == {"code": -1121, "msg": "Invalid symbol."}
    assert ex.client("alice").get_orders() == []


def test_every_response_carries_integer_weight_headers(served):
    _ex, raw = served
    order = raw.signed("POST", "/fapi/v1/order", limit_params())
    assert order.headers["x-mbx-order-count-1m"] == "1"
    weights = [int(order.headers["x-mbx-used-weight-1m"])]
    for method, path, params in (
        ("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": order.json()["orderId"]}),
        ("GET", "/fapi/v2/account", {}),
        ("GET", "/fapi/v1/openOrders", {"symbol": SYMBOL}),
    ):
        r = raw.signed(method, path, params)
        assert r.status_code == 200
        assert "x-mbx-order-count-1m" not in r.headers
        weights.append(int(r.headers["x-mbx-used-weight-1m"]))
    # new order weighs 0 on the IP limit, cancel 1, account 5, openOrders with symbol 1
    assert [b - a for a, b in zip(weights, weights[1:], strict=False)] == [1, 5, 1]


# -- parameters -----------------------------------------------------------------------------------


def test_parameters_in_the_form_body_are_read(served):
    _ex, raw = served
    r = raw.signed("POST", "/fapi/v1/order", limit_params(), body=True)
    assert r.status_code == 200, r.text
    assert r.json()["price"] == "29000"


def test_query_wins_over_body_for_the_same_name(served):
    _ex, raw = served
    query = "symbol=BTCUSDT&price=29100"
    body = ("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=29000"
            f"&timestamp={now_ms()}")
    body += "&signature=" + hmac_hex(ALICE_SECRET, query + body)
    r = raw.session.post(f"{raw.url}/fapi/v1/order?{query}", data=body, headers={
        "X-MBX-APIKEY": ALICE_KEY, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert r.json()["price"] == "29100"


def test_a_json_body_is_neither_read_nor_signed(served):
    """UMFutures sends Content-Type application/json on every request (CLIENTS.md §2)."""
    _ex, raw = served
    text = f"symbol=BTCUSDT&timestamp={now_ms()}"
    r = raw.session.get(f"{raw.url}/fapi/v1/openOrders?{text}&signature="
                        + hmac_hex(ALICE_SECRET, text), data=b'{"symbol": "ETHUSDT"}',
                        headers={"X-MBX-APIKEY": ALICE_KEY,
                                 "Content-Type": "application/json;charset=utf-8"})
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("ids_name, cids_name", [
    ("orderIdList", "origClientOrderIdList"), ("orderidlist", "origclientorderidlist"),
])
def test_batch_cancel_reads_both_list_spellings(served, ids_name, cids_name):
    _ex, raw = served
    a = raw.ok("POST", "/fapi/v1/order", limit_params(takeProfitPrice="31000"))
    b = raw.ok("POST", "/fapi/v1/order", limit_params(newClientOrderId="cid-b"))
    out = raw.ok("DELETE", "/fapi/v1/batchOrders", {
        "symbol": SYMBOL, ids_name: json.dumps([a["orderId"], a["triggerOrders"][0]["orderId"]],
                                               separators=(",", ":"))})
    assert [o.get("status") or o["code"] for o in out] == ["CANCELED", -2091]
    out = raw.ok("DELETE", "/fapi/v1/batchOrders", {"symbol": SYMBOL, cids_name: '["cid-b"]'})
    assert out[0]["orderId"] == b["orderId"] and out[0]["status"] == "CANCELED"


def test_booleans_in_any_case_are_accepted(served):
    _ex, raw = served
    r = raw.ok("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "True"})
    assert r == {"code": 200, "msg": "success"}
    assert raw.ok("GET", "/fapi/v1/positionSide/dual") == {"dualSidePosition": True}


# -- JSON -----------------------------------------------------------------------------------------


def test_leverage_brackets_carry_exact_json_numbers(served):
    _ex, raw = served
    r = raw.signed("GET", "/fapi/v1/leverageBracket", {"symbol": SYMBOL})
    assert '"maintMarginRatio":0.004,' in r.text and '"notionalCap":50000,' in r.text
    assert r.json()["brackets"][2]["maintMarginRatio"] == 0.0065


def test_algo_cancel_code_is_a_string_and_cancel_all_code_an_int(served):
    _ex, raw = served
    a = raw.ok("POST", "/fapi/v1/algoOrder", {"algoType": "CONDITIONAL", "symbol": SYMBOL,
                                              "side": "BUY", "type": "STOP_MARKET",
                                              "quantity": "0.010", "triggerPrice": "31000"})
    assert raw.ok("GET", "/fapi/v1/algoOrder", {"algoId": a["algoId"]})["algoStatus"] == "NEW"
    assert raw.ok("DELETE", "/fapi/v1/algoOrder", {"algoId": a["algoId"]})["code"] == "200"
    assert raw.ok("DELETE", "/fapi/v1/algoOpenOrders", {"symbol": SYMBOL})["code"] == 200
    assert [x["algoStatus"] for x in raw.ok("GET", "/fapi/v1/allAlgoOrders",
                                            {"symbol": SYMBOL})] == ["CANCELED"]


# -- every endpoint answers ----------------------------------------------------------------------


def test_every_route_answers_a_well_formed_request(served):
    ex, raw = served
    order = raw.ok("POST", "/fapi/v1/order", limit_params(stopLossPrice="28000"))
    oid = order["orderId"]
    public = {
        "/fapi/v1/ping": {}, "/api/v3/ping": {}, "/fapi/v1/time": {},
        "/fapi/v1/exchangeInfo": {}, "/fapi/v1/depth": {"symbol": SYMBOL, "limit": "5"},
        "/fapi/v1/premiumIndex": {"symbol": SYMBOL}, "/fapi/v1/ticker/bookTicker": {},
    }
    for path, params in public.items():
        r = raw.session.get(raw.url + path, params=params)
        assert r.status_code == 200, (path, r.text)
    assert raw.ok("GET", "/fapi/v1/openOrder", {"symbol": SYMBOL, "orderId": oid})[
        "orderId"] == oid
    gets = {
        "/fapi/v1/order": {"symbol": SYMBOL, "orderId": oid},
        "/fapi/v1/openOrders": {}, "/fapi/v1/allOrders": {"symbol": SYMBOL},
        "/fapi/v1/userTrades": {"symbol": SYMBOL}, "/fapi/v1/income": {},
        "/fapi/v1/commissionRate": {"symbol": SYMBOL}, "/fapi/v1/leverageBracket": {},
        "/fapi/v1/openAlgoOrders": {}, "/fapi/v1/allAlgoOrders": {"symbol": SYMBOL},
        "/fapi/v1/positionSide/dual": {},
    }
    for version in ("v2", "v3"):
        for name in ("account", "balance", "positionRisk"):
            gets[f"/fapi/{version}/{name}"] = {}
    for path, params in gets.items():
        raw.ok("GET", path, params)
    assert raw.ok("POST", "/fapi/v1/leverage", {"symbol": SYMBOL, "leverage": "10"})[
        "leverage"] == 10
    r = raw.signed("POST", "/fapi/v1/marginType", {"symbol": SYMBOL, "marginType": "CROSSED"})
    assert r.json()["code"] == -4046
    assert raw.ok("POST", "/fapi/v1/countdownCancelAll",
                  {"symbol": SYMBOL, "countdownTime": "60000"})["countdownTime"] == "60000"
    assert raw.ok("DELETE", "/fapi/v1/allOpenOrders", {"symbol": SYMBOL})["code"] == 200
    assert ex.client("alice").get_orders() == []


def test_time_reports_the_venue_clock_moved_to_wall_time(served):
    ex, raw = served
    t0 = now_ms()
    served_ms = raw.session.get(raw.url + "/fapi/v1/time").json()["serverTime"]
    assert t0 <= served_ms <= now_ms() and ex.now == served_ms


# -- request weight budget ------------------------------------------------------------------------


def test_weight_budget_gives_429_1003_to_that_ip_whichever_account_asks():
    ex = make_venue()
    with live(ex, weight_limit=12) as (url, _app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        codes = [alice.signed("GET", "/fapi/v2/account").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = alice.signed("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": 1})
        assert r.status_code == 400  # weight 1 still fits: reaches the engine (-2011)
        r = alice.signed("GET", "/fapi/v2/account")
        assert (r.status_code, r.json()["code"]) == (429, -1003)
        assert r.json()["msg"].startswith("Too many requests; current limit is 12 requests")
        assert r.headers["x-mbx-used-weight-1m"] == "11"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        bob = RawClient(url, BOB_KEY, BOB_SECRET)  # another account, the same address
        assert bob.signed("GET", "/fapi/v2/account").status_code == 429


def test_weight_budget_is_off_unless_configured(served):
    _ex, raw = served
    assert all(raw.signed("GET", "/fapi/v2/account").status_code == 200 for _ in range(30))
