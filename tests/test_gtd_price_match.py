"""``timeInForce=GTD`` with ``goodTillDate``, and ``priceMatch``, as Binance USDⓈ-M has them.

GTD: a LIMIT order that rests like GTC until the venue clock reaches its
``goodTillDate`` (whole seconds, more than 600 s ahead), then EXPIRES at that
time — margin released, TP/SL rows as for any expiring parent — whichever way
the clock moves (``advance``, ``set_time``; ``pass_time`` refuses to skip it).
priceMatch: the price read from the book at entry (OPPONENT(_n): the best / n-th
level of the other side; QUEUE(_n): of the order's own side), then judged as if
sent; modify re-reads it.  In process and over the real server; journal replay,
snapshots and faults at every mutation point leave nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_atomicity import assert_every_fault_rolls_back

from engine import ClientError, Exchange
from engine.wire.events import user_messages
from tests.rest_support import (
    ALICE_KEY,
    ALICE_SECRET,
    BOB_KEY,
    BOB_SECRET,
    SYMBOL,
    RawClient,
    live,
    make_venue,
    now_ms,
)

BTC, ETH = "BTCUSDT", "ETHUSDT"
MIN_AHEAD = 600_000  # ms: a goodTillDate must lie further ahead than this
GTD_RANGE = ("The goodTillDate timestamp must be greater than the current time plus 600 seconds "
             "and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)")


# -- set-up --------------------------------------------------------------------------------
def venue() -> Exchange:
    """alice, bob, carol with 50000 USDT each; marks BTCUSDT 30000, ETHUSDT 2000."""
    ex = Exchange()
    for name in ("alice", "bob", "carol"):
        ex.create_account(name, balance="50000")
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    return ex


def ladder() -> Exchange:
    """carol quotes six levels each side of 30000 on BTCUSDT, 0.010 each:
    bids 29990 … 29940, asks 30010 … 30060."""
    ex = venue()
    c = ex.client("carol")
    for i in range(6):
        c.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.010",
                    price=str(30010 + 10 * i))
        c.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                    price=str(29990 - 10 * i))
    return ex


def gtd(ex: Exchange, who: str = "alice", price: str = "29000", qty: str = "0.010",
        ahead: int = 3_600_000, **kw: Any) -> dict:
    """A GTD LIMIT BUY whose goodTillDate is ``ahead`` ms from now."""
    return ex.client(who).new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD",
                                    quantity=qty, price=price,
                                    goodTillDate=ex.now + ahead, **kw)


def matched(ex: Exchange, side: str, mode: str, who: str = "alice", qty: str = "0.004",
            tif: str = "GTC", **kw: Any) -> dict:
    return ex.client(who).new_order(symbol=BTC, side=side, type="LIMIT", timeInForce=tif,
                                    quantity=qty, priceMatch=mode, **kw)


def refused(ex: Exchange, call: Callable[[], Any]) -> tuple[int, str]:
    """The refusal ``call`` raises; the venue is unchanged by it."""
    before = ex.state_hash()
    with pytest.raises(ClientError) as e:
        call()
    assert ex.state_hash() == before
    ex.check_invariants()
    return e.value.error_code, e.value.error_message


def query(ex: Exchange, oid: int, who: str = "alice", symbol: str = BTC) -> dict:
    return ex.client(who).query_order(symbol=symbol, orderId=oid)


def open_margin(ex: Exchange, who: str = "alice") -> str:
    return ex.client(who).account()["totalOpenOrderInitialMargin"]


def messages(ex: Exchange, after: int) -> list[dict]:
    """The user-data messages of the events numbered above ``after``."""
    return [m for b in ex._s.events.batches_after(after) for i, d in enumerate(b.deltas)
            for m in user_messages(b.time, d, ex._s, b.first + i)]


# -- GTD: acceptance -----------------------------------------------------------------------
def test_a_gtd_order_is_accepted_rests_and_shows_gtd_and_its_good_till_date():
    ex = venue()

    o = gtd(ex, ahead=3_600_000)

    assert (o["status"], o["timeInForce"], o["goodTillDate"]) == (
        "NEW", "GTD", ex.now + 3_600_000)
    q = query(ex, o["orderId"])
    assert (q["timeInForce"], q["goodTillDate"], q["status"]) == ("GTD", ex.now + 3_600_000,
                                                                  "NEW")
    assert [x["orderId"] for x in ex.client("alice").get_orders(symbol=BTC)] == [o["orderId"]]
    assert ex.client("alice").depth(symbol=BTC)["bids"] == [["29000", "0.01"]]
    assert ex._s.expiries == [(ex.now + 3_600_000, o["orderId"])]
    ex.check_invariants()


def test_good_till_date_must_lie_more_than_600_seconds_ahead():
    ex = venue()

    at_600 = refused(ex, lambda: gtd(ex, ahead=MIN_AHEAD))
    o = gtd(ex, ahead=MIN_AHEAD + 1000)

    assert at_600 == (-5040, GTD_RANGE)
    assert o["goodTillDate"] == ex.now + MIN_AHEAD + 1000


def test_good_till_date_keeps_whole_seconds_only():
    ex = venue()
    assert ex.now % 1000 == 0

    o = gtd(ex, ahead=MIN_AHEAD + 1999)
    truncated_to_600 = refused(ex, lambda: gtd(ex, ahead=MIN_AHEAD + 999))

    assert o["goodTillDate"] == ex.now + MIN_AHEAD + 1000
    assert truncated_to_600 == (-5040, GTD_RANGE)


def test_good_till_date_past_year_9999_is_refused():
    ex = venue()
    send = ex.client("alice").new_order
    base = dict(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD", quantity="0.010",
                price="29000")

    assert refused(ex, lambda: send(**base, goodTillDate=253402300799000)) == (-5040, GTD_RANGE)
    assert send(**base, goodTillDate=253402300798999)["goodTillDate"] == 253402300798000


def test_gtd_without_good_till_date_is_a_missing_mandatory_parameter():
    ex = venue()

    answer = refused(ex, lambda: ex.client("alice").new_order(
        symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD", quantity="0.010",
        price="29000"))

    assert answer == (-1102, "Mandatory parameter 'goodTillDate' was not sent, was empty/null, "
                             "or malformed.")


@pytest.mark.parametrize(("params", "code"), [
    ({"timeInForce": "GTC", "goodTillDate": "4102444800000"}, -1106),  # not GTD
    ({"timeInForce": "GTD", "goodTillDate": "soon"}, -1100),
    ({"timeInForce": "GTD", "goodTillDate": 4102444800000.0}, -1100),
    ({"type": "STOP", "stopPrice": "29500", "side": "SELL", "timeInForce": "GTD",
      "goodTillDate": "4102444800000"}, -1115),  # its child is GTC
])
def test_other_good_till_date_refusals(params, code):
    ex = venue()
    sent = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "quantity": "0.010",
            "price": "29000", **params}

    assert refused(ex, lambda: ex.client("alice").new_order(**sent))[0] == code


# -- GTD: expiry ---------------------------------------------------------------------------
def test_a_gtd_order_expires_exactly_when_the_clock_reaches_its_good_till_date():
    ex = venue()
    margin_before = open_margin(ex)
    o = gtd(ex)
    due = o["goodTillDate"]
    assert open_margin(ex) != margin_before
    seen = ex._s.event_seq

    ex.advance(due - ex.now - 1)
    still = query(ex, o["orderId"])
    margin_held = open_margin(ex)
    ex.advance(1)

    assert still["status"] == "NEW" and margin_held != margin_before
    q = query(ex, o["orderId"])
    assert (q["status"], q["updateTime"], q["timeInForce"]) == ("EXPIRED", due, "GTD")
    assert open_margin(ex) == margin_before  # released to the unit
    assert ex.client("alice").get_orders(symbol=BTC) == []
    assert ex.client("alice").depth(symbol=BTC)["bids"] == []
    (event,) = [m for m in messages(ex, seen) if m["e"] == "ORDER_TRADE_UPDATE"]
    assert (event["o"]["i"], event["o"]["x"], event["o"]["X"], event["o"]["T"], event["E"]) == (
        o["orderId"], "EXPIRED", "EXPIRED", due, due)
    # the user stream says GTD and its date, and no expiry reason of another cause
    assert (event["o"]["f"], event["o"]["gtd"], event["o"]["er"]) == ("GTD", due, "0")
    assert ex._s.expiries == []
    ex.check_invariants()


def test_set_time_past_several_good_till_dates_expires_each_at_its_own_time_in_order():
    ex = venue()
    late = gtd(ex, price="29000", ahead=900_000)
    early = gtd(ex, price="28900", ahead=700_000)
    same = gtd(ex, who="bob", price="28800", ahead=700_000)

    ex.set_time(ex.now + 2_000_000)

    times = [query(ex, o["orderId"], who)["updateTime"] - (ex.now - 2_000_000)
             for o, who in ((late, "alice"), (early, "alice"), (same, "bob"))]
    assert times == [900_000, 700_000, 700_000]
    assert ex.now == ex._s.now and ex._s.expiries == []
    ex.check_invariants()


def test_a_countdown_due_at_the_same_time_goes_before_the_expiry():
    ex = venue()
    a = ex.client("alice")
    o = gtd(ex, ahead=700_000)
    a.countdown_cancel_order(symbol=BTC, countdownTime=700_000)

    ex.advance(700_000)

    q = query(ex, o["orderId"])
    assert (q["status"], q["updateTime"]) == ("CANCELED", o["goodTillDate"])
    assert ex._s.expiries == []  # the cancelled order's entry was dropped when due
    ex.check_invariants()


def test_pass_time_refuses_to_skip_a_due_expiry_and_set_time_runs_it():
    ex = venue()
    o = gtd(ex, ahead=700_000)
    due = o["goodTillDate"]

    assert ex.pass_time(due - 1) and ex.now == due - 1
    assert not ex.pass_time(due) and ex.now == due - 1
    ex.set_time(due + 5)

    assert query(ex, o["orderId"])["status"] == "EXPIRED"
    assert ex.pass_time(due + 10**9)


def test_a_filled_gtd_order_is_unaffected_when_its_time_passes():
    ex = venue()
    o = gtd(ex, price="30000", ahead=700_000)
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    filled = query(ex, o["orderId"])
    assert filled["status"] == "FILLED"
    wallet = ex.client("alice").account()["totalWalletBalance"]

    ex.advance(800_000)

    assert query(ex, o["orderId"]) == filled
    assert ex.client("alice").get_position_risk(symbol=BTC)[0]["positionAmt"] == "0.01"
    assert ex.client("alice").account()["totalWalletBalance"] == wallet
    assert ex._s.expiries == []
    ex.check_invariants()


def test_a_partly_filled_gtd_parent_expires_and_keeps_its_armed_rows():
    ex = venue()
    o = gtd(ex, price="30000", qty="0.020", ahead=700_000, takeProfitPrice="31000",
            stopLossPrice="29000")
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    rows = [r["orderId"] for r in o["triggerOrders"]]

    ex.advance(700_000)

    assert query(ex, o["orderId"])["status"] == "EXPIRED"
    for rid in rows:
        r = query(ex, rid)
        assert (r["status"], r["origQty"]) == ("NEW", "0.01")  # ARMED for the filled part
        assert ex._index.by_id[rid].armed
    ex.check_invariants()


def test_an_unfilled_gtd_parent_expires_and_its_pending_rows_are_cancelled():
    ex = venue()
    o = gtd(ex, price="29500", ahead=700_000, takeProfitPrice="31000", stopLossPrice="29000")

    ex.advance(700_000)

    assert query(ex, o["orderId"])["status"] == "EXPIRED"
    assert [query(ex, r["orderId"])["status"] for r in o["triggerOrders"]] == [
        "CANCELED", "CANCELED"]
    ex.check_invariants()


def test_modify_keeps_the_gtd_and_the_order_still_expires_at_it():
    ex = venue()
    o = gtd(ex, ahead=700_000)

    out = ex.client("alice").modify_order(symbol=BTC, side="BUY", quantity="0.020",
                                          price="29100", orderId=o["orderId"])
    ex.advance(700_000)

    assert (out["timeInForce"], out["goodTillDate"], out["price"]) == (
        "GTD", o["goodTillDate"], "29100")
    q = query(ex, o["orderId"])
    assert (q["status"], q["origQty"], q["updateTime"]) == ("EXPIRED", "0.02", o["goodTillDate"])


def test_a_cancelled_gtd_order_answers_with_its_time_in_force_and_date():
    ex = venue()
    o = gtd(ex)

    out = ex.client("alice").cancel_order(symbol=BTC, orderId=o["orderId"])

    assert (out["status"], out["timeInForce"], out["goodTillDate"]) == (
        "CANCELED", "GTD", o["goodTillDate"])
    plain = ex.client("alice").new_order(symbol=BTC, side="BUY", type="LIMIT",
                                         timeInForce="GTC", quantity="0.010", price="29000")
    assert (plain["timeInForce"], plain["goodTillDate"]) == ("GTC", 0)


# -- GTD: durability -----------------------------------------------------------------------
def _busy_gtd(ex: Exchange) -> None:
    gtd(ex, price="29000", ahead=700_000)
    gtd(ex, who="bob", price="28900", ahead=1_800_000, takeProfitPrice="31000")
    matched(ex, "BUY", "QUEUE")


def test_a_journal_with_gtd_orders_pending_and_expired_replays_to_the_same_state(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="50000")
    ex.set_mark_price(BTC, "30000")
    _busy_gtd(ex)
    assert ex.pass_time(ex.now + 100_000)  # nothing due yet: not journaled
    assert not ex.pass_time(ex.now + 700_000)
    ex.set_time(ex.now + 700_000)  # the first expires, the second stays pending
    gtd(ex, price="28800", ahead=650_000)
    ex.close_journal()

    twin = Exchange.replay(path)

    assert twin.state_hash() == ex.state_hash()
    assert len(twin._s.expiries) == 2
    twin.check_invariants()


def test_a_snapshot_with_gtd_orders_pending_round_trips_and_both_expire_alike():
    ex = venue()
    _busy_gtd(ex)

    twin = Exchange.restore(ex.snapshot())

    assert twin.state_hash() == ex.state_hash()
    assert list(twin._s.expiries) == list(ex._s.expiries)
    for v in (ex, twin):
        v.advance(2_000_000)
        v.check_invariants()
    assert twin.state_hash() == ex.state_hash()
    assert twin._s.expiries == []


def test_the_expiries_are_hashed_only_when_there_are_some():
    ex = venue()
    ex.client("alice").new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.010", price="29000")
    base = ex.state_hash()

    ex._s.expiries.add((ex.now + 10**6, 1))
    moved = ex.state_hash()
    ex._s.expiries.clear()

    assert moved != base and ex.state_hash() == base


# -- priceMatch ----------------------------------------------------------------------------
@pytest.mark.parametrize(("side", "mode", "price"), [
    ("BUY", "OPPONENT", "30010"), ("BUY", "OPPONENT_5", "30050"),
    ("BUY", "QUEUE", "29990"), ("BUY", "QUEUE_5", "29950"),
    ("BUY", "QUEUE_10", "29940"), ("BUY", "QUEUE_20", "29940"),  # fewer levels: the deepest
    ("SELL", "OPPONENT", "29990"), ("SELL", "OPPONENT_5", "29950"),
    ("SELL", "QUEUE", "30010"), ("SELL", "QUEUE_5", "30050"),
    ("SELL", "QUEUE_10", "30060"), ("SELL", "QUEUE_20", "30060"),
])
def test_each_price_match_mode_reads_its_level_of_the_book(side, mode, price):
    ex = ladder()

    o = matched(ex, side, mode)

    assert (o["price"], o["priceMatch"]) == (price, mode)
    assert query(ex, o["orderId"])["priceMatch"] == mode
    ex.check_invariants()


def test_opponent_crosses_trades_at_the_best_ask_and_rests_the_rest_there():
    ex = ladder()

    o = matched(ex, "BUY", "OPPONENT", qty="0.015")

    assert (o["price"], o["status"], o["executedQty"], o["avgPrice"]) == (
        "30010", "PARTIALLY_FILLED", "0.01", "30010")
    depth = ex.client("alice").depth(symbol=BTC)
    assert depth["bids"][0] == ["30010", "0.005"] and depth["asks"][0][0] == "30020"
    assert ex.client("alice").get_position_risk(symbol=BTC)[0]["positionAmt"] == "0.01"


def test_queue_joins_the_best_bid_behind_the_orders_already_there():
    ex = ladder()

    o = matched(ex, "BUY", "QUEUE", qty="0.010")
    ex.client("bob").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")

    assert (o["price"], o["status"]) == ("29990", "NEW")
    assert query(ex, o["orderId"])["status"] == "NEW"  # carol's bid, older, filled first
    assert ex.client("alice").depth(symbol=BTC)["bids"][0] == ["29990", "0.01"]


def test_a_gtx_order_matching_the_opponent_would_take_and_is_refused():
    ex = ladder()

    assert refused(ex, lambda: matched(ex, "BUY", "OPPONENT", tif="GTX"))[0] == -5022


def test_price_match_on_an_empty_side_has_no_depth():
    ex = venue()
    ex.client("carol").new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                                 quantity="0.010", price="30100")  # one ask, no bid
    no_depth = (-5041, "No depth matches this BBO order")

    assert refused(ex, lambda: matched(ex, "BUY", "QUEUE")) == no_depth
    assert refused(ex, lambda: matched(ex, "SELL", "OPPONENT_5")) == no_depth
    assert matched(ex, "SELL", "QUEUE")["price"] == "30100"


@pytest.mark.parametrize(("type_", "mode", "extra", "code", "msg"), [
    ("LIMIT", "OPPONENT_10", {}, -5037, "Invalid price match"),
    ("LIMIT", "OPPONENT_20", {}, -5037, "Invalid price match"),
    ("LIMIT", "BEST", {}, -5037, "Invalid price match"),
    ("LIMIT", "opponent", {}, -5037, "Invalid price match"),
    ("MARKET", "OPPONENT", {"timeInForce": None}, -5038,
     "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT"),
    ("LIMIT", "QUEUE", {"price": "29000"}, -1106, "Parameter 'price' sent when not required."),
    ("STOP", "QUEUE", {"stopPrice": "31000"}, -1020, "This operation is not supported."),
])
def test_price_match_refusals(type_, mode, extra, code, msg):
    ex = ladder()
    params = {"symbol": BTC, "side": "BUY", "type": type_, "timeInForce": "GTC",
              "quantity": "0.010", "priceMatch": mode, **extra}

    assert refused(ex, lambda: ex.client("alice").new_order(**params)) == (code, msg)


def test_price_match_none_is_the_same_as_not_sending_it():
    ex = ladder()

    o = ex.client("alice").new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="0.010", price="29000", priceMatch="NONE")

    assert (o["price"], o["priceMatch"]) == ("29000", "NONE")


def test_a_price_chosen_by_a_mode_passes_every_filter_as_a_sent_one():
    ex = venue()
    c = ex.client("carol")
    c.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.010",
                price="30100")

    beyond_margin = refused(ex, lambda: matched(ex, "SELL", "QUEUE", qty="90"))
    below_min_notional = refused(ex, lambda: matched(ex, "SELL", "QUEUE", qty="0.001"))
    ex.set_mark_price(BTC, "28000")  # 30100 is now above the PERCENT_PRICE cap (29400)
    above_band = refused(ex, lambda: matched(ex, "BUY", "OPPONENT"))

    assert (beyond_margin[0], below_min_notional[0], above_band[0]) == (-2019, -4164, -4016)


def test_modify_with_a_price_match_mode_re_reads_the_book_then_a_price_resets_it():
    ex = ladder()
    a = ex.client("alice")
    o = a.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                    price="29000")

    queued = a.modify_order(symbol=BTC, side="BUY", quantity="0.010", price=None,
                            priceMatch="QUEUE_5", orderId=o["orderId"])
    priced = a.modify_order(symbol=BTC, side="BUY", quantity="0.010", price="29100",
                            orderId=o["orderId"])

    assert (queued["price"], queued["priceMatch"]) == ("29950", "QUEUE_5")
    assert (priced["price"], priced["priceMatch"]) == ("29100", "NONE")
    assert query(ex, o["orderId"])["priceMatch"] == "NONE"
    ex.check_invariants()


def test_modify_with_opponent_crosses_and_trades():
    ex = ladder()
    a = ex.client("alice")
    o = a.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.005",
                    price="29000")

    out = a.modify_order(symbol=BTC, side="BUY", quantity="0.005", price=None,
                         priceMatch="OPPONENT", orderId=o["orderId"])

    assert (out["price"], out["status"], out["priceMatch"]) == ("30010", "FILLED", "OPPONENT")


def test_modify_refuses_a_price_with_a_mode_and_a_removed_mode():
    ex = ladder()
    a = ex.client("alice")
    o = a.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.005",
                    price="29000")

    def send(**kw: Any) -> tuple[int, str]:
        return refused(ex, lambda: a.modify_order(symbol=BTC, side="BUY", quantity="0.005",
                                                  orderId=o["orderId"], **kw))

    assert send(price="29100", priceMatch="QUEUE")[0] == -1106
    assert send(price=None, priceMatch="OPPONENT_10")[0] == -5037
    assert send(price=None)[0] == -1102


def test_a_rolled_back_mode_change_leaves_the_wire_object_as_it_was():
    ex = ladder()
    a = ex.client("alice")
    o = matched(ex, "BUY", "QUEUE_5", qty="0.005")
    before = query(ex, o["orderId"])

    answer = refused(ex, lambda: a.modify_order(symbol=BTC, side="BUY", quantity="90",
                                                price="29000", orderId=o["orderId"]))

    assert answer[0] == -2019  # judged after the mode was reset to NONE, then undone

    assert query(ex, o["orderId"]) == before
    assert before["priceMatch"] == "QUEUE_5"


def test_wire_templates_keep_each_order_s_own_mode_and_time_in_force():
    ex = ladder()
    a = ex.client("alice")

    first = matched(ex, "BUY", "QUEUE_5")
    second = matched(ex, "BUY", "QUEUE_20")
    plain = a.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                        quantity="0.004", price="29000")
    dated = gtd(ex, qty="0.004")
    both = a.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD",
                       quantity="0.004", priceMatch="QUEUE", goodTillDate=ex.now + 10**6)

    got = [(o["priceMatch"], o["timeInForce"], o["goodTillDate"])
           for o in (first, second, plain, dated, both)]
    assert got == [("QUEUE_5", "GTC", 0), ("QUEUE_20", "GTC", 0), ("NONE", "GTC", 0),
                   ("NONE", "GTD", dated["goodTillDate"]),
                   ("QUEUE", "GTD", ex.now + 10**6)]
    cancelled = a.cancel_order(symbol=BTC, orderId=both["orderId"])
    assert (cancelled["priceMatch"], cancelled["timeInForce"], cancelled["price"]) == (
        "QUEUE", "GTD", "29990")


# -- faults at every mutation point --------------------------------------------------------
def _gtd_with_rows() -> Exchange:
    ex = venue()
    gtd(ex, price="30000", qty="0.020", ahead=700_000, takeProfitPrice="31000",
        stopLossPrice="29000")
    gtd(ex, who="bob", price="29500", ahead=700_000, takeProfitPrice="31000")
    ex.client("carol").new_order(symbol=BTC, side="SELL", type="MARKET", quantity="0.010")
    ex.client("carol").countdown_cancel_order(symbol=BTC, countdownTime=700_000)
    return ex


def _with_alice_bid() -> Exchange:
    ex = ladder()
    ex.client("alice").new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.004", price="29000", newClientOrderId="bid")
    return ex


#: name -> (build, command, fewest mutation points): the GTD and priceMatch commands, for
#: faults at every mutation point (below) and after the last one (tests/test_late_faults.py)
FAULT_CASES: dict[str, tuple[Callable[[], Exchange], Callable[[Exchange], object], int]] = {
    "new_order GTD rests": (venue, lambda ex: gtd(ex, takeProfitPrice="31000"), 4),
    "new_order priceMatch OPPONENT crosses": (
        ladder, lambda ex: matched(ex, "BUY", "OPPONENT", qty="0.015"), 6),
    "modify_order with priceMatch": (
        _with_alice_bid, lambda ex: ex.client("alice").modify_order(
            symbol=BTC, side="BUY", quantity="0.004", price=None, priceMatch="QUEUE_5",
            origClientOrderId="bid"), 4),
    "advance expires GTD parents after a countdown": (
        _gtd_with_rows,
        lambda ex: (ex.advance(800_000), ex.client("alice").get_all_orders(symbol=BTC),
                    ex.client("bob").get_all_orders(symbol=BTC)), 6),
}


@pytest.mark.parametrize("name", list(FAULT_CASES))
def test_a_fault_at_any_mutation_point_changes_nothing(name):
    build, command, minimum = FAULT_CASES[name]

    assert_every_fault_rolls_back(build, command, minimum)


# -- over the real server --------------------------------------------------------------------
def test_gtd_over_rest_is_accepted_shown_refused_when_too_soon_and_expires_at_its_time():
    ex = make_venue()
    with live(ex) as (url, _app):
        raw = RawClient(url, ALICE_KEY, ALICE_SECRET)
        base = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTD",
                "quantity": "0.010", "price": "29000"}
        too_soon = raw.signed("POST", "/fapi/v1/order", {**base,
                                                          "goodTillDate": now_ms() + 60_000})
        ahead = now_ms() + 3_600_000 + 123
        placed = raw.ok("POST", "/fapi/v1/order", {**base, "goodTillDate": ahead},
                        body=True)
        shown = raw.ok("GET", "/fapi/v1/order", {"symbol": SYMBOL,
                                                 "orderId": placed["orderId"]})
        missing = raw.signed("POST", "/fapi/v1/order", base)

    assert (too_soon.status_code, too_soon.json()) == (400, {"code": -5040, "msg": GTD_RANGE})
    assert (missing.status_code, missing.json()["code"]) == (400, -1102)
    assert (placed["timeInForce"], placed["goodTillDate"]) == ("GTD", ahead // 1000 * 1000)
    assert (shown["status"], shown["timeInForce"], shown["goodTillDate"]) == (
        "NEW", "GTD", placed["goodTillDate"])
    ex.set_time(placed["goodTillDate"])
    q = ex.client("alice").query_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert (q["status"], q["updateTime"]) == ("EXPIRED", placed["goodTillDate"])
    ex.check_invariants()


def test_price_match_over_rest_places_modifies_and_refuses():
    ex = make_venue()
    with live(ex) as (url, _app):
        alice = RawClient(url, ALICE_KEY, ALICE_SECRET)
        bob = RawClient(url, BOB_KEY, BOB_SECRET)
        empty = alice.signed("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "priceMatch": "OPPONENT"})
        for price in ("30100", "30200"):
            bob.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "SELL",
                                              "type": "LIMIT", "timeInForce": "GTC",
                                              "quantity": "0.010", "price": price})
        bid = bob.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "BUY",
                                                "type": "LIMIT", "timeInForce": "GTC",
                                                "quantity": "0.010", "price": "29900"})
        taken = alice.ok("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "priceMatch": "OPPONENT", "newOrderRespType": "RESULT"})
        queued = alice.ok("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "priceMatch": "QUEUE"})
        moved = alice.ok("PUT", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "quantity": "0.010", "priceMatch": "OPPONENT_5",
            "orderId": queued["orderId"]})
        market = alice.signed("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.010",
            "priceMatch": "QUEUE"})
        removed = alice.signed("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "priceMatch": "OPPONENT_20"})

    assert (empty.status_code, empty.json()) == (
        400, {"code": -5041, "msg": "No depth matches this BBO order"})
    assert (taken["price"], taken["status"], taken["priceMatch"]) == ("30100", "FILLED",
                                                                      "OPPONENT")
    assert (queued["price"], queued["priceMatch"]) == (bid["price"], "QUEUE")
    # the only ask left is 30200: OPPONENT_5 reads the deepest level there is
    assert (moved["price"], moved["priceMatch"], moved["status"]) == ("30200", "OPPONENT_5",
                                                                      "FILLED")
    assert market.json()["code"] == -5038 and removed.json()["code"] == -5037
    ex.check_invariants()


def test_in_process_client_accepts_price_match_and_gtd_together():
    ex = ladder()

    o = ex.client("alice").new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTD",
                                     quantity="0.010", priceMatch="QUEUE",
                                     goodTillDate=str(ex.now + 900_000))
    ex.advance(900_000)

    assert (o["price"], o["timeInForce"]) == ("30010", "GTD")
    assert query(ex, o["orderId"])["status"] == "EXPIRED"
