"""Signatures bind exactly what runs (SPEC 2.3; CLIENTS.md §0.2).

The server verifies the HMAC over the raw bytes it parses.  python-binance signs
values before percent-encoding them, so the percent-decoded payload is accepted
too — but only when it splits into exactly the parameters parsed from the raw
bytes.  Each attack below was accepted before that rule: it keeps a valid
signature while changing the parameters that run.  Every refusal leaves
``state_hash()`` unchanged.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    SYMBOL,
    RawClient,
    ccxt_usdm,
    hmac_hex,
    live,
    make_venue,
    now_ms,
)

AHEAD_MS = 5_000
BAD_SIGNATURE = {"code": -1022, "msg": "Signature for this request is not valid."}


@pytest.fixture
def setup():
    """alice long 0.010 BTCUSDT (bob sold it to her); the venue clock a little ahead."""
    ex = make_venue()
    ex.set_time(now_ms() + AHEAD_MS)
    ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.010", price="30000")
    ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    ex.client("bob").new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                               quantity="0.050", price="29990")
    with live(ex) as (url, app):
        yield ex, url, app
    ex.check_invariants()


def _send(url: str, method: str, path: str, query: str = "", body: str = "") -> object:
    raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
    headers = {**raw.headers(), "Content-Type": "application/x-www-form-urlencoded"}
    target = f"{url}{path}?{query}" if query else url + path
    return raw.session.request(method, target, data=body or None, headers=headers, timeout=10)


def _position(ex) -> str:
    risk = ex.client("alice").get_position_risk(symbol=SYMBOL)
    return risk[0]["positionAmt"] if risk else "0"


def test_re_encoding_amp_and_eq_inside_a_value_is_refused_and_changes_nothing(setup):
    """The reported attack: a signed reduce-only MARKET whose ``&reduceOnly=true`` is folded
    into ``timeInForce``'s value would have added to the position instead of being
    refused -2022."""
    ex, url, app = setup
    plain = (f"symbol={SYMBOL}&side=BUY&type=MARKET&quantity=0.010&timeInForce=GTC"
             f"&reduceOnly=true&timestamp={ex.now}")
    sig = hmac_hex(ALICE_SECRET, plain)
    honest = _send(url, "POST", "/fapi/v1/order", body=f"{plain}&signature={sig}")
    assert honest.status_code == 400 and honest.json()["code"] == -2022  # nothing to reduce
    folded = plain.replace("GTC&reduceOnly=true", "GTC%26reduceOnly%3Dtrue")
    before = ex.state_hash()

    r = _send(url, "POST", "/fapi/v1/order", body=f"{folded}&signature={sig}")

    assert (r.status_code, r.json()) == (400, BAD_SIGNATURE)
    assert ex.state_hash() == before and _position(ex) == "0.01"


@pytest.mark.parametrize("fold", [
    ("&quantity=0.020", "%26quantity=0.020"),   # a decoded & inside the previous value
    ("&quantity=0.020", "&quantity%3D0.020"),   # a decoded = inside a name
])
def test_any_decoded_amp_or_eq_in_a_name_voids_the_decoded_signature(setup, fold):
    ex, url, app = setup
    plain = f"symbol={SYMBOL}&side=BUY&type=MARKET&quantity=0.020&timestamp={ex.now}"
    sig = hmac_hex(ALICE_SECRET, plain)
    before = ex.state_hash()

    r = _send(url, "POST", "/fapi/v1/order", body=plain.replace(*fold) + f"&signature={sig}")

    assert (r.status_code, r.json()) == (400, BAD_SIGNATURE)
    assert ex.state_hash() == before


@pytest.mark.parametrize("cut", ["quantity=0.01|0", "quantity=|0.010", "quan|tity=0.010"])
def test_a_signed_pair_cut_in_two_between_query_and_body_is_refused(setup, cut):
    """The HMAC covers query + body with nothing between them, so moving the join inside
    a pair keeps the signature valid and runs a value that was never signed."""
    ex, url, app = setup
    left, right = cut.split("|")
    plain = f"symbol={SYMBOL}&side=BUY&type=MARKET&{left}{right}&timestamp={ex.now}"
    sig = hmac_hex(ALICE_SECRET, plain)
    query, body = plain.split(left + right)
    before = ex.state_hash()

    r = _send(url, "POST", "/fapi/v1/order", query=query + left,
              body=right + body + f"&signature={sig}")

    assert (r.status_code, r.json()) == (400, BAD_SIGNATURE)
    assert ex.state_hash() == before


def test_a_join_moved_between_two_whole_pairs_is_refused_by_the_names_it_makes(setup):
    """Binance's own example splits a request between query and body, signing the two
    concatenated; a join moved by one character still leaves whole pairs on both sides
    (``quantity=0.01`` | ``5reduceOnly=true``) — the name it makes is not Binance's."""
    ex, url, app = setup
    query = f"symbol={SYMBOL}&side=BUY&type=MARKET&quantity=0.015"
    body = f"reduceOnly=true&timestamp={ex.now}"
    sig = hmac_hex(ALICE_SECRET, query + body)
    honest = _send(url, "POST", "/fapi/v1/order", query=query, body=f"{body}&signature={sig}")
    assert honest.status_code == 400 and honest.json()["code"] == -2022  # signature good
    before = ex.state_hash()

    r = _send(url, "POST", "/fapi/v1/order", query=query[:-1],
              body=f"5{body}&signature={sig}")

    assert (r.status_code, r.json()) == (400, BAD_SIGNATURE)
    assert ex.state_hash() == before


def test_a_join_between_whole_pairs_is_still_accepted(setup):
    ex, url, app = setup
    plain = f"symbol={SYMBOL}&side=SELL&type=MARKET&quantity=0.010&timestamp={ex.now}"
    sig = hmac_hex(ALICE_SECRET, plain)
    query, body = plain.split("&quantity")

    r = _send(url, "POST", "/fapi/v1/order", query=query + "&",
              body="quantity" + body + f"&signature={sig}")

    assert r.status_code == 200, r.text
    assert _position(ex) == "0"  # sold into bob's bid: flat


def test_python_binance_style_decoded_signing_still_passes(setup):
    """Values with characters that get percent-encoded (``:`` ``/``), signed decoded."""
    ex, url, app = setup
    params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.010", "price": "29000", "newClientOrderId": "a:b/c.d_e-1",
              "timestamp": ex.now}
    plain = "&".join(f"{k}={v}" for k, v in params.items())
    r = _send(url, "POST", "/fapi/v1/order",
              body=urlencode(params) + "&signature=" + hmac_hex(ALICE_SECRET, plain))
    assert r.status_code == 200, r.text
    assert r.json()["clientOrderId"] == "a:b/c.d_e-1"


@pytest.mark.parametrize("signature", [
    "%C3%A9",                      # non-ASCII (was a 500 from hmac.compare_digest)
    "%C3%A9" * 32,
    "%FF",                         # not UTF-8
    "zz" * 32,                     # 64 characters, not hex
    "ab" * 33,                     # hex, too long
    "",                            # empty: missing
    "%00" * 64,
])
def test_a_malformed_signature_is_a_json_4xx_never_a_500(setup, signature, caplog):
    ex, url, app = setup
    text = urlencode({"symbol": SYMBOL, "timestamp": ex.now}) + "&signature=" + signature
    before = ex.state_hash()

    r = _send(url, "GET", "/fapi/v1/openOrders", query=text)

    assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/json"
    assert r.json()["code"] in (-1022, -1102, -1100)
    assert ex.state_hash() == before
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("key,code", [
    ("", -2014), ("é", -2014), ("a b", -2015),
    ("x" * 4000, -2015), ("alice-key-0001\x7f", -2014),
])
def test_a_malformed_or_unknown_api_key_is_401_json(setup, key, code):
    ex, url, app = setup
    raw = RawClient(url, None, ALICE_SECRET)
    text = urlencode({"symbol": SYMBOL, "timestamp": ex.now})
    text += "&signature=" + hmac_hex(ALICE_SECRET, text)
    before = ex.state_hash()

    r = raw.session.get(f"{url}/fapi/v1/openOrders?{text}",
                        headers={"X-MBX-APIKEY": key.encode("utf-8")}, timeout=10)

    assert r.status_code == 401 and r.json()["code"] == code
    assert ex.state_hash() == before


@pytest.mark.parametrize("query", [
    "symbol=%ZZ", "symbol=%", "symbol=BTC%FFUSDT", "sym%C3bol=1", "symbol=\x01",
])
def test_a_malformed_parameter_encoding_is_1100_json(setup, query):
    ex, url, app = setup
    raw = RawClient(url, None, "")
    r = raw.session.get(f"{url}/fapi/v1/depth?{query}", timeout=10)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert r.json()["code"] in (-1100, -1121)


# -- the four client libraries, with values they percent-encode ----------------------------
CID = "ab:cd/ef.1"


def _placed(ex, cid: str) -> bool:
    return any(o["clientOrderId"] == cid for o in ex.client("alice").get_orders(symbol=SYMBOL))


def test_python_binance_signs_and_passes_with_encoded_values(setup):
    from binance.client import Client

    ex, url, app = setup
    client = Client(ALICE_KEY, ALICE_SECRET, ping=False)
    client.FUTURES_URL = url + "/fapi"
    client.futures_create_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.010", price="29000", newClientOrderId=CID)
    assert _placed(ex, CID)
    out = client.futures_cancel_orders(symbol=SYMBOL, origclientorderidlist=[CID])
    assert out[0]["status"] == "CANCELED"


def test_binance_futures_connector_signs_and_passes_with_encoded_values(setup):
    from binance.um_futures import UMFutures

    ex, url, app = setup
    client = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)
    client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                     quantity="0.010", price="29000", newClientOrderId=CID)
    assert _placed(ex, CID)
    assert client.cancel_batch_order(SYMBOL, None, [CID])[0]["status"] == "CANCELED"


def test_the_official_sdk_signs_and_passes_with_encoded_values(setup):
    from binance_common.configuration import ConfigurationRestAPI
    from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
        DerivativesTradingUsdsFutures,
    )

    ex, url, app = setup
    config = ConfigurationRestAPI(api_key=ALICE_KEY, api_secret=ALICE_SECRET, base_path=url)
    rest = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api
    rest.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", time_in_force="GTC",
                   quantity=0.01, price=29000.0, new_client_order_id=CID)
    assert _placed(ex, CID)
    out = rest.cancel_multiple_orders(symbol=SYMBOL, orig_client_order_id_list=[CID]).data()
    assert [o.status for o in out] == ["CANCELED"]


def test_ccxt_signs_and_passes_with_encoded_values(setup):

    ex, url, app = setup
    bot = ccxt_usdm(url, ALICE_KEY, ALICE_SECRET)
    bot.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 29000, {"clientOrderId": CID})
    assert _placed(ex, CID)
    out = bot.cancel_orders([], "BTC/USDT:USDT", {"clientOrderIds": [CID]})
    assert [o["status"] for o in out] == ["canceled"]

