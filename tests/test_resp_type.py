"""``newOrderRespType``: ACK is the order as accepted, RESULT the order after matching.

Over REST the default is Binance's ACK; in process it is RESULT (SPEC 3: research
code wants the fill); both honour the parameter when sent, and a journal of a
REST session replays to the same venue.  A bad value is the catalogue's
(``tests/catalogue.py``: -1136, over REST too).
"""

from __future__ import annotations

from engine import Exchange
from tests.rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, RawClient, live, make_venue

MARKET = {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.010"}


def _venue_with_ask(**kw) -> Exchange:
    ex = make_venue() if not kw else Exchange(**kw)
    if kw:
        ex.create_account("alice", "10000", api_key=ALICE_KEY, api_secret=ALICE_SECRET)
        ex.create_account("bob", "10000", api_key="bob-key-0002", api_secret="bob-secret-0002")
        ex.set_mark_price(SYMBOL, "30000")
    ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                               quantity="0.030", price="30000")
    return ex


def test_rest_market_order_answers_ack_by_default_and_result_when_asked():
    ex = _venue_with_ask()
    with live(ex) as (url, _app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        ack = alice.ok("POST", "/fapi/v1/order", MARKET)
        result = alice.ok("POST", "/fapi/v1/order", {**MARKET, "newOrderRespType": "RESULT"})
        sent_ack = alice.ok("POST", "/fapi/v1/order", {**MARKET, "newOrderRespType": "ACK"})
        queried = alice.ok("GET", "/fapi/v1/order", {"symbol": SYMBOL,
                                                     "orderId": ack["orderId"]})
    for d in (ack, sent_ack):
        assert (d["status"], d["executedQty"], d["cumQty"], d["cumQuote"], d["avgPrice"]) == (
            "NEW", "0", "0", "0", "0")
    assert ack["updateTime"] == queried["time"]  # its creation time
    assert (result["status"], result["executedQty"], result["avgPrice"]) == (
        "FILLED", "0.01", "30000")
    assert sorted(ack) == sorted(result)  # one object shape, two moments
    # the ACK is a moment, not the state: the order did fill
    assert (queried["status"], queried["executedQty"]) == ("FILLED", "0.01")


def test_in_process_default_is_result_and_ack_is_honoured():
    ex = _venue_with_ask()
    c = ex.client("alice")
    assert c.new_order(**MARKET)["status"] == "FILLED"
    ack = c.new_order(**MARKET, newOrderRespType="ACK")
    assert (ack["status"], ack["executedQty"]) == ("NEW", "0")
    assert c.query_order(symbol=SYMBOL, orderId=ack["orderId"])["status"] == "FILLED"


def test_ack_shows_tp_sl_rows_as_created_even_when_the_parent_filled():
    ex = _venue_with_ask()
    c = ex.client("alice")
    ack = c.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity="0.010", price="30000", takeProfitPrice="33000",
                      stopLossPrice="29000", newOrderRespType="ACK")
    assert ack["status"] == "NEW" and [r["status"] for r in ack["triggerOrders"]] == [
        "NEW", "NEW"]
    assert c.query_order(symbol=SYMBOL, orderId=ack["orderId"])["status"] == "FILLED"


def test_a_journal_of_rest_orders_replays_to_the_same_venue(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = _venue_with_ask(journal=str(path))
    with live(ex) as (url, app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        alice.ok("POST", "/fapi/v1/order", MARKET)
        alice.ok("POST", "/fapi/v1/order", {**MARKET, "newOrderRespType": "RESULT"})
        with app.state.lock:
            digest = ex.state_hash()
    ex.close_journal()
    assert Exchange.replay(str(path), strict=True).state_hash() == digest
