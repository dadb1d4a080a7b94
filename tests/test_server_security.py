"""Authentication of the REST facade: every forged, stale or foreign request is refused
with its own code and changes nothing.

The venue clock is set a few seconds past wall time and requests are signed with
the server's time (as clients that sync with ``/fapi/v1/time`` do), so an
accepted request does not move the clock either and ``state_hash()`` compares
exactly.  The target is alice's resting order with its TP and SL.
"""

from __future__ import annotations

from urllib.parse import urlencode

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

AHEAD_MS = 5_000


@pytest.fixture
def setup():
    ex = make_venue()
    ex.set_time(now_ms() + AHEAD_MS)
    order = ex.client("alice").new_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
        price="29000", takeProfitPrice="31000", stopLossPrice="28000")
    with live(ex) as (url, _app):
        yield ex, url, order
    ex.check_invariants()


def refused(ex, response, status: int, code: int, msg: str | None = None) -> None:
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/json"
    if msg is not None:
        assert body["msg"] == msg


def cancel_params(order) -> dict:
    return {"symbol": SYMBOL, "orderId": order["orderId"]}


def signed_text(secret: str, params: dict, ts: int) -> str:
    text = urlencode({**params, "timestamp": ts})
    return text + "&signature=" + hmac_hex(secret, text)


def unchanged(ex, before: str, order) -> None:
    assert ex.state_hash() == before
    assert ex.client("alice").query_order(symbol=SYMBOL, orderId=order["orderId"])[
        "status"] == "NEW"


def test_a_well_signed_cancel_is_accepted(setup):
    ex, url, order = setup
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now)
    assert r.status_code == 200 and r.json()["status"] == "CANCELED"


def test_missing_api_key_is_2014_unauthorized(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, None, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now)
    refused(ex, r, 401, -2014, "API-key format invalid.")
    unchanged(ex, before, order)


def test_unknown_api_key_is_2015_unauthorized(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, "no-such-key", ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now)
    refused(ex, r, 401, -2015, "Invalid API-key, IP, or permissions for action.")
    unchanged(ex, before, order)


def test_wrong_secret_is_1022(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, ALICE_KEY, BOB_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now)
    refused(ex, r, 400, -1022, "Signature for this request is not valid.")
    unchanged(ex, before, order)


def test_parameter_tampered_after_signing_is_1022(setup):
    ex, url, order = setup
    before = ex.state_hash()
    bob_order = ex.client("bob").new_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
        price="29000")
    before = ex.state_hash()
    text = signed_text(ALICE_SECRET, cancel_params(order), ex.now)
    tampered = text.replace(f"orderId={order['orderId']}", f"orderId={bob_order['orderId']}")
    assert tampered != text
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send("DELETE", "/fapi/v1/order", tampered)
    refused(ex, r, 400, -1022)
    unchanged(ex, before, order)


def test_parameter_added_in_the_body_after_signing_the_query_is_1022(setup):
    ex, url, order = setup
    before = ex.state_hash()
    text = signed_text(ALICE_SECRET, {"symbol": SYMBOL}, ex.now)
    raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
    r = raw.session.delete(f"{url}/fapi/v1/order?{text}", data=f"orderId={order['orderId']}",
                           headers={"X-MBX-APIKEY": ALICE_KEY,
                                    "Content-Type": "application/x-www-form-urlencoded"})
    refused(ex, r, 400, -1022)
    unchanged(ex, before, order)


def test_signature_not_last_is_1022(setup):
    ex, url, order = setup
    before = ex.state_hash()
    text = urlencode({**cancel_params(order), "timestamp": ex.now})
    sig = hmac_hex(ALICE_SECRET, text)
    symbol_first, rest = text.split("&", 1)
    misplaced = f"{symbol_first}&signature={sig}&{rest}"
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send("DELETE", "/fapi/v1/order", misplaced)
    refused(ex, r, 400, -1022)
    unchanged(ex, before, order)


def test_signature_sent_twice_is_1022(setup):
    ex, url, order = setup
    before = ex.state_hash()
    text = signed_text(ALICE_SECRET, cancel_params(order), ex.now)
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send(
        "DELETE", "/fapi/v1/order", f"{text}&{text.rsplit('&', 1)[1]}")
    refused(ex, r, 400, -1101)  # the name twice in one part
    unchanged(ex, before, order)


def test_missing_signature_is_1102(setup):
    ex, url, order = setup
    before = ex.state_hash()
    text = urlencode({**cancel_params(order), "timestamp": ex.now})
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send("DELETE", "/fapi/v1/order", text)
    refused(ex, r, 400, -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    unchanged(ex, before, order)


def test_missing_timestamp_is_1102(setup):
    ex, url, order = setup
    before = ex.state_hash()
    text = urlencode(cancel_params(order))
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send(
        "DELETE", "/fapi/v1/order", text + "&signature=" + hmac_hex(ALICE_SECRET, text))
    refused(ex, r, 400, -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    unchanged(ex, before, order)


def test_timestamp_older_than_recv_window_is_1021(setup):
    ex, url, order = setup
    before = ex.state_hash()
    # older than recvWindow for both clocks (the venue's runs AHEAD_MS before the wall's)
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=now_ms() - 5_001 - 500)
    refused(ex, r, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
    unchanged(ex, before, order)


@pytest.mark.parametrize("clock", ["wall", "venue"])
def test_a_timestamp_within_recv_window_of_either_clock_is_accepted(setup, clock):
    """SPEC 9: a bot signing with its own clock and one that adds /fapi/v1/time's offset
    both work while the venue clock runs apart from the wall clock."""
    ex, url, order = setup
    assert ex.now - now_ms() > 4_000  # the clocks are apart: each is outside the other's
    ts = now_ms() - 1_000 if clock == "wall" else ex.now - 4_000
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "GET", "/fapi/v1/order", {**cancel_params(order), "recvWindow": 4_500}, timestamp=ts)
    assert r.status_code == 200, r.text


def test_timestamp_inside_a_longer_recv_window_is_accepted(setup):
    ex, url, order = setup
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", {**cancel_params(order), "recvWindow": 20_000},
        timestamp=ex.now - 10_000)
    assert r.status_code == 200, r.text


def test_timestamp_too_far_ahead_is_1021(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now + 1_500)
    refused(ex, r, 400, -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.")
    unchanged(ex, before, order)


def test_recv_window_above_60000_is_1130(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).signed(
        "DELETE", "/fapi/v1/order", {**cancel_params(order), "recvWindow": 60_001},
        timestamp=ex.now)
    refused(ex, r, 400, -1130)
    unchanged(ex, before, order)


def test_another_accounts_key_cannot_cancel_the_order_2011(setup):
    ex, url, order = setup
    before = ex.state_hash()
    r = RawClient(url, BOB_KEY, BOB_SECRET).signed(
        "DELETE", "/fapi/v1/order", cancel_params(order), timestamp=ex.now)
    refused(ex, r, 400, -2011, "Unknown order sent.")
    unchanged(ex, before, order)


def test_another_accounts_key_cannot_cancel_its_trigger_rows_2093(setup):
    ex, url, order = setup
    before = ex.state_hash()
    bob = RawClient(url, BOB_KEY, BOB_SECRET)
    tp = order["triggerOrders"][0]["orderId"]
    r = bob.signed("DELETE", "/fapi/v1/order", {"symbol": SYMBOL, "orderId": tp},
                   timestamp=ex.now)
    refused(ex, r, 400, -2093, f"Trigger order {tp} belongs to another account.")
    r = bob.signed("DELETE", "/fapi/v1/algoOrder", {"algoId": tp}, timestamp=ex.now)
    refused(ex, r, 400, -2093)
    r = bob.signed("DELETE", "/fapi/v1/allOpenOrders", {"symbol": SYMBOL}, timestamp=ex.now)
    assert r.status_code == 200  # bob's own (empty) set: alice's orders untouched
    unchanged(ex, before, order)


def test_public_endpoints_need_no_key_and_ignore_an_unknown_one(setup):
    ex, url, _order = setup
    raw = RawClient(url, None, "")
    assert raw.session.get(url + "/fapi/v1/depth", params={"symbol": SYMBOL}).status_code == 200
    r = raw.session.get(url + "/fapi/v1/exchangeInfo", headers={"X-MBX-APIKEY": "junk"})
    assert r.status_code == 200


def test_signature_over_percent_decoded_values_is_accepted(setup):
    """python-binance signs values before percent-encoding them (CLIENTS.md §0.2)."""
    ex, url, _order = setup
    params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.010", "price": "29000", "newClientOrderId": "my:id/1",
              "timestamp": ex.now}
    plain = "&".join(f"{k}={v}" for k, v in params.items())
    wire = urlencode(params) + "&signature=" + hmac_hex(ALICE_SECRET, plain)
    assert "my%3Aid%2F1" in wire
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send("POST", "/fapi/v1/order", wire, body=True)
    assert r.status_code == 200, r.text
    assert r.json()["clientOrderId"] == "my:id/1"


def test_signature_is_compared_case_insensitively(setup):
    ex, url, order = setup
    text = urlencode({**cancel_params(order), "timestamp": ex.now})
    upper = text + "&signature=" + hmac_hex(ALICE_SECRET, text).upper()
    r = RawClient(url, ALICE_KEY, ALICE_SECRET).send("DELETE", "/fapi/v1/order", upper)
    assert r.status_code == 200, r.text
