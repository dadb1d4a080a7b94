"""Order modify (``PUT /fapi/v1/order``, engine.venue.amend): Binance's rules, its
refusals (nothing changes, no event), the place in the queue an amendment loses,
margin frozen again to the last unit, the AMENDMENT event and the amendment kept so
an earlier event still formats as it was; then over REST with a real client library
and the user-data stream.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from rest_support import ALICE_KEY, ALICE_SECRET, SYMBOL, live, make_venue

from engine import Exchange
from engine.core.errors import ClientError
from engine.venue import amend
from engine.venue import commands as cmd
from engine.wire.events import frozen_after, user_messages


@pytest.fixture
def ex() -> Exchange:
    ex = Exchange()
    ex.set_mark_price(SYMBOL, "30000")
    for name in ("alice", "bob"):
        ex.create_account(name, balance="10000")
    return ex


def place(ex: Exchange, who: str, side: str, price: str, qty: str = "0.010", **kw) -> dict:
    return ex.client(who).new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                                    quantity=qty, price=price, **kw)


def modify(ex: Exchange, who: str, oid: int, side: str, price: str, qty: str) -> dict:
    return ex.client(who).modify_order(symbol=SYMBOL, side=side, quantity=qty, price=price,
                                       orderId=oid)


def messages(ex: Exchange, after: int) -> list[dict]:
    return [m for b in ex._s.events.batches_after(after) for i, d in enumerate(b.deltas)
            for m in user_messages(b.time, d, ex._s, b.first + i)]


@pytest.mark.parametrize(("params", "code"), [
    ({"side": "BUY", "quantity": "0.010", "price": "29000"}, -1102),  # no id
    ({"orderId": "ID", "quantity": "0.010", "price": "29000"}, -1102),  # no side
    ({"orderId": "ID", "side": "BUY", "price": "29000"}, -1102),  # no quantity
    ({"orderId": "ID", "side": "BUY", "quantity": "0.010"}, -1102),  # no price
    ({"orderId": 999, "side": "BUY", "quantity": "0.010", "price": "29000"}, -2013),
    ({"orderId": "BOB", "side": "SELL", "quantity": "0.010", "price": "31000"}, -2013),
    ({"orderId": "STOP", "side": "SELL", "quantity": "0.010", "price": "29000"}, -1116),
    ({"orderId": "ID", "side": "SELL", "quantity": "0.010", "price": "29000"}, -1117),
    ({"orderId": "ID", "side": "BUY", "quantity": "0.010", "price": "29000.05"}, -4014),
    ({"orderId": "ID", "side": "BUY", "quantity": "0.0101", "price": "29000"}, -1111),
    ({"orderId": "ID", "side": "BUY", "quantity": "0.010", "price": "10000"}, -4024),
    ({"orderId": "ID", "side": "BUY", "quantity": "0.010", "price": "29500"}, -5027),  # same
    ({"orderId": "ID", "side": "BUY", "quantity": "9.000", "price": "29500"}, -2019),
])
def test_a_refused_amendment_changes_nothing_and_yields_no_event(ex, params, code):
    oid = place(ex, "alice", "BUY", "29500")["orderId"]
    ids = {"ID": oid, "BOB": place(ex, "bob", "SELL", "31000")["orderId"],
           "STOP": ex.client("alice").new_order(symbol=SYMBOL, side="SELL", type="STOP_MARKET",
                                                quantity="0.010", stopPrice="29000")["orderId"]}
    params = {k: ids.get(v, v) if k == "orderId" else v for k, v in params.items()}
    before = (ex.state_hash(), ex._s.event_seq)
    with pytest.raises(ClientError) as e:  # the route's door: the wire parameters as sent
        cmd.modify_order(ex, ex.account_state("alice"), {"symbol": SYMBOL, **params})
    assert e.value.error_code == code, e.value
    assert (ex.state_hash(), ex._s.event_seq) == before


def test_an_amended_order_rejoins_the_back_of_the_queue_even_for_a_smaller_size(ex):
    first = place(ex, "alice", "BUY", "29500")["orderId"]
    second = place(ex, "bob", "BUY", "29500")["orderId"]
    modify(ex, "alice", first, "BUY", "29500", "0.005")  # smaller, same price: loses its place
    assert list(ex._s.markets[SYMBOL].book.bids[-295000].orders) == [second, first]
    twin = Exchange.restore(ex.snapshot())  # a snapshot keeps the queue
    ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.010")
    assert ex.client("bob").query_order(symbol=SYMBOL, orderId=second)["status"] == "FILLED"
    assert ex.client("alice").query_order(symbol=SYMBOL, orderId=first)["executedQty"] == "0"
    assert list(twin._s.markets[SYMBOL].book.bids[-295000].orders) == [second, first]
    ex.check_invariants()


def test_a_rollback_puts_an_amended_order_back_at_its_place_not_its_id_order(ex):
    first = place(ex, "alice", "SELL", "30500")["orderId"]
    second = place(ex, "bob", "SELL", "30500")["orderId"]
    modify(ex, "alice", first, "SELL", "30500", "0.020")
    before = ex.state_hash()
    # bob's FOK expires his own order (self-trade prevention), fills alice's, falls
    # short and is refused: both removals are rolled back
    with pytest.raises(ClientError) as e:
        ex.client("bob").new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="FOK",
                                   quantity="0.030", price="30500",
                                   selfTradePreventionMode="EXPIRE_MAKER")
    assert e.value.error_code == -5021
    assert list(ex._s.markets[SYMBOL].book.asks[305000].orders) == [second, first]
    assert ex.state_hash() == before
    ex.check_invariants()


def test_the_margin_is_frozen_again_for_the_new_price_and_size_to_the_last_unit(ex):
    oid = place(ex, "alice", "BUY", "29500")["orderId"]
    alice = ex.account_state("alice")
    # 0.010 at 29500, leverage 20: 14.75 USDT
    assert alice.frozen_e8 == 1_475_000_000
    modify(ex, "alice", oid, "BUY", "29000", "0.030")
    assert alice.frozen_e8 == 4_350_000_000  # 0.030 × 29000 / 20
    ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.010")
    assert alice.frozen_e8 == 2_900_000_000  # what is left: 0.020
    modify(ex, "alice", oid, "BUY", "29100", "0.025")  # 0.015 left at 29100
    assert alice.frozen_e8 == 2_182_500_000
    ex.check_invariants()


def test_an_amendment_that_crosses_trades_at_once_and_rests_the_rest(ex):
    oid = place(ex, "alice", "BUY", "29500", "0.020")["orderId"]
    place(ex, "bob", "SELL", "29800", "0.005")
    before = ex._s.event_seq
    out = modify(ex, "alice", oid, "BUY", "29900", "0.020")
    assert (out["status"], out["executedQty"], out["price"]) == (
        "PARTIALLY_FILLED", "0.005", "29900")
    got = [(m["e"], m["o"].get("x"), m["o"].get("X"), m["o"].get("p"), m["o"].get("q"))
           for m in messages(ex, before) if m["e"] == "ORDER_TRADE_UPDATE"
           and m["o"]["i"] == oid]
    assert got == [("ORDER_TRADE_UPDATE", "AMENDMENT", "NEW", "29900", "0.02"),
                   ("ORDER_TRADE_UPDATE", "TRADE", "PARTIALLY_FILLED", "29900", "0.02")]
    ex.check_invariants()


@pytest.mark.parametrize("case", ["size at most what filled", "post-only that would trade"])
def test_an_amendment_that_cancels_the_order_takes_its_rows_with_it(ex, case):
    tif = "GTX" if case.startswith("post") else "GTC"
    o = ex.client("alice").new_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce=tif, quantity="0.010",
        price="29500", takeProfitPrice="31000", stopLossPrice="28000")
    if tif == "GTC":
        ex.client("bob").new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.004")
        out = modify(ex, "alice", o["orderId"], "BUY", "29400", "0.004")
    else:
        place(ex, "bob", "SELL", "29700")
        out = modify(ex, "alice", o["orderId"], "BUY", "29800", "0.010")
    assert out["status"] == "CANCELED"
    rows = [ex.client("alice").query_order(symbol=SYMBOL, orderId=r["orderId"])["status"]
            for r in o["triggerOrders"]]
    assert rows == ["CANCELED", "CANCELED"]  # as a cancel of the parent: SPEC 4.2
    ex.check_invariants()


def test_an_earlier_event_read_after_the_amendment_shows_the_order_as_it_was(ex):
    before = ex._s.event_seq
    oid = place(ex, "alice", "BUY", "29500")["orderId"]
    modify(ex, "alice", oid, "BUY", "29400", "0.020")
    modify(ex, "alice", oid, "BUY", "29300", "0.030")
    got = [(m["o"]["x"], m["o"]["p"], m["o"]["q"]) for m in messages(ex, before)
           if m["e"] == "ORDER_TRADE_UPDATE"]
    assert got == [("NEW", "29500", "0.01"), ("AMENDMENT", "29400", "0.02"),
                   ("AMENDMENT", "29300", "0.03")]
    assert [a[2:6] for a in ex._s.amendments[oid]] == [
        (295000, 294000, 10, 20), (294000, 293000, 20, 30)]


def test_the_margin_each_event_left_frozen_is_the_ledgers_at_that_time_read_later(ex):
    """Events read after two amendments and a fill still say what each left frozen."""
    alice = ex.account_state("alice")
    before = ex._s.event_seq
    ledger = []  # alice's frozen margin after each command (each at its own time)
    oid = place(ex, "alice", "BUY", "29500")["orderId"]
    for step in (lambda: modify(ex, "alice", oid, "BUY", "29000", "0.030"),
                 lambda: ex.client("bob").new_order(symbol=SYMBOL, side="SELL",
                                                    type="MARKET", quantity="0.010"),
                 lambda: modify(ex, "alice", oid, "BUY", "29100", "0.025")):
        ledger.append(alice.frozen_e8)
        ex.advance(1_000)
        step()
    ledger.append(alice.frozen_e8)
    got = []
    for b in ex._s.events.batches_after(before):
        frozen = [f for i, d in enumerate(b.deltas) if d[1] == "alice"
                  and (f := frozen_after(d, ex._s, b.first + i)) is not None]
        if frozen:
            got.append(frozen[-1])
    assert got == ledger == [1_475_000_000, 4_350_000_000, 2_900_000_000, 2_182_500_000]


def test_the_modify_history_lists_each_amendment_as_binance_shapes_it(ex):
    oid = place(ex, "alice", "BUY", "29500", newClientOrderId="mine")["orderId"]
    assert ex.client("alice").get_order_modify_history(symbol=SYMBOL, orderId=oid) == []
    modify(ex, "alice", oid, "BUY", "29400", "0.020")
    ex.advance(60_000)
    modify(ex, "alice", oid, "BUY", "29300", "0.020")
    got = ex.client("alice").get_order_modify_history(symbol=SYMBOL,
                                                      origClientOrderId="mine")
    first, second = (a[0] for a in ex._s.amendments[oid])
    assert got == [
        {"amendmentId": first, "symbol": SYMBOL, "pair": SYMBOL, "orderId": oid,
         "clientOrderId": "mine", "time": ex.now - 60_000,
         "amendment": {"price": {"before": "29500", "after": "29400"},
                       "origQty": {"before": "0.01", "after": "0.02"}, "count": 1}},
        {"amendmentId": second, "symbol": SYMBOL, "pair": SYMBOL, "orderId": oid,
         "clientOrderId": "mine", "time": ex.now,
         "amendment": {"price": {"before": "29400", "after": "29300"},
                       "origQty": {"before": "0.02", "after": "0.02"}, "count": 2}}]
    c = ex.client("alice")
    assert c.get_order_modify_history(symbol=SYMBOL, orderId=oid, startTime=ex.now) == got[1:]
    assert c.get_order_modify_history(symbol=SYMBOL, orderId=oid, limit=1) == got[:1]


def test_an_order_amended_as_often_as_binance_allows_is_refused_5026(ex, monkeypatch):
    monkeypatch.setattr(amend, "MAX_AMENDMENTS", 2)
    oid = place(ex, "alice", "BUY", "29500")["orderId"]
    modify(ex, "alice", oid, "BUY", "29400", "0.010")
    modify(ex, "alice", oid, "BUY", "29300", "0.010")
    with pytest.raises(ClientError) as e:
        modify(ex, "alice", oid, "BUY", "29200", "0.010")
    assert (e.value.error_code, e.value.error_message) == (
        -5026, "Exceed maximum modify order limit.")


def test_a_journal_replays_amendments_to_the_same_venue(tmp_path):
    path = tmp_path / "j.jsonl"
    ex = Exchange(journal=path)
    ex.set_mark_price(SYMBOL, "30000")
    ex.create_account("alice", balance="10000")
    o = place(ex, "alice", "BUY", "29500")
    modify(ex, "alice", o["orderId"], "BUY", "29400", "0.020")
    with pytest.raises(ClientError):
        modify(ex, "alice", o["orderId"], "BUY", "29400", "0.020")
    ex.close_journal()
    assert Exchange.replay(path).state_hash() == ex.state_hash()


# -- over REST, with a real client and the user-data stream ----------------------------------
def test_binance_futures_connector_modifies_and_the_stream_says_amendment():
    import websockets
    from binance.um_futures import UMFutures

    ex = make_venue()
    with live(ex) as (url, app):
        client = UMFutures(key=ALICE_KEY, secret=ALICE_SECRET, base_url=url)
        key = client.new_listen_key()["listenKey"]

        async def main():
            ws_url = url.replace("http://", "ws://") + f"/private/ws/{key}"
            async with websockets.connect(ws_url) as ws:
                o = await asyncio.to_thread(
                    client.new_order, symbol=SYMBOL, side="BUY", type="LIMIT",
                    timeInForce="GTC", quantity="0.010", price="29000")
                out = await asyncio.to_thread(
                    client.modify_order, symbol=SYMBOL, side="BUY", quantity="0.020",
                    price="29100", orderId=o["orderId"])
                got = [json.loads(await asyncio.wait_for(ws.recv(), 3)) for _ in range(2)]
                return o, out, got

        o, out, (new, amended) = asyncio.run(main())
        assert (out["orderId"], out["status"], out["price"], out["origQty"]) == (
            o["orderId"], "NEW", "29100", "0.02")
        assert (new["o"]["x"], new["o"]["p"]) == ("NEW", "29000")
        assert (amended["e"], amended["o"]["x"], amended["o"]["X"], amended["o"]["p"],
                amended["o"]["q"]) == ("ORDER_TRADE_UPDATE", "AMENDMENT", "NEW", "29100", "0.02")
        assert client.query_order(symbol=SYMBOL, orderId=o["orderId"])["price"] == "29100"
        (history,) = client.sign_request("GET", "/fapi/v1/orderAmendment",
                                         {"symbol": SYMBOL, "orderId": o["orderId"]})
        assert history["amendment"] == {"price": {"before": "29000", "after": "29100"},
                                        "origQty": {"before": "0.01", "after": "0.02"},
                                        "count": 1}
        with pytest.raises(Exception) as e:  # the connector's ClientError
            client.modify_order(symbol=SYMBOL, side="BUY", quantity="0.020", price="29100",
                                orderId=o["orderId"])
        assert getattr(e.value, "error_code", None) == -5027
