"""Execution against replayed prints and quotes (engine/tape.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Exchange
from engine.core.enums import PositionSide

T0 = 1_704_067_200_000
SYMBOL = "BTCUSDT"


def venue(**tape) -> Exchange:
    ex = Exchange()
    ex.create_account("alice", balance="100000")
    ex.enable_tape(**tape)
    return ex


def rest(ex: Exchange, side: str, price: str, qty: str = "0.010") -> int:
    return ex.client("alice").new_order(symbol=SYMBOL, side=side, type="LIMIT",
                                        timeInForce="GTC", quantity=qty, price=price)["orderId"]


def executed(ex: Exchange, order_id: int) -> str:
    return ex.client("alice").query_order(symbol=SYMBOL, orderId=order_id)["executedQty"]


@pytest.fixture(autouse=True)
def _invariants(request):
    yield
    for value in request.node.funcargs.values():
        if isinstance(value, Exchange):
            value.check_invariants()


def test_a_bid_fills_only_when_a_print_goes_through_its_price_by_default():
    ex = venue()
    bid = rest(ex, "BUY", "29990")
    ex.tape_trade(SYMBOL, 299_900, 10, True, T0 + 1)  # at the price: not through
    assert executed(ex, bid) == "0"
    ex.tape_trade(SYMBOL, 299_899, 10, True, T0 + 2)  # one tick below: through
    assert executed(ex, bid) == "0.01"
    trade = ex.client("alice").get_account_trades(symbol=SYMBOL)[0]
    assert (trade["price"], trade["maker"], trade["commission"]) == ("29990", True, "0.05998")
    ex.check_invariants()


def test_touch_mode_fills_a_bid_at_its_price_on_a_sell_print_only():
    ex = venue(fill="touch")
    bid = rest(ex, "BUY", "29990")
    ex.tape_trade(SYMBOL, 299_900, 10, False, T0 + 1)  # a buy print at the bid: no
    assert executed(ex, bid) == "0"
    ex.tape_trade(SYMBOL, 299_900, 10, True, T0 + 2)  # a sell print at the bid: yes
    assert executed(ex, bid) == "0.01"


def test_an_order_fills_partly_across_several_prints_up_to_each_print_size():
    ex = venue()
    ask = rest(ex, "SELL", "30010", "0.010")
    ex.tape_trade(SYMBOL, 300_101, 4, False, T0 + 1)
    assert executed(ex, ask) == "0.004"
    ex.tape_trade(SYMBOL, 300_105, 4, False, T0 + 2)
    assert executed(ex, ask) == "0.008"
    ex.tape_trade(SYMBOL, 300_110, 9, False, T0 + 3)
    assert executed(ex, ask) == "0.01"
    tape = ex._ledger.accounts["@tape"]
    assert tape.position_qty(SYMBOL, PositionSide.BOTH) == 10  # the tape bought it all


def test_the_queue_model_waits_behind_the_quoted_size_at_the_same_price():
    ex = venue(fill="touch", queue=True)
    ex.tape_quote(SYMBOL, 299_900, 50, 300_000, 50, T0 + 1)  # 0.050 bid ahead at 29990
    bid = rest(ex, "BUY", "29990")
    ex.tape_trade(SYMBOL, 299_900, 30, True, T0 + 2)  # eats 0.030 of the queue
    assert executed(ex, bid) == "0"
    ex.tape_trade(SYMBOL, 299_900, 30, True, T0 + 3)  # 0.020 more queue, then 0.010 for us
    assert executed(ex, bid) == "0.01"


def test_a_print_through_the_price_fills_regardless_of_the_queue():
    ex = venue(fill="touch", queue=True)
    ex.tape_quote(SYMBOL, 299_900, 50, 300_000, 50, T0 + 1)
    bid = rest(ex, "BUY", "29990")
    ex.tape_trade(SYMBOL, 299_899, 10, True, T0 + 2)
    assert executed(ex, bid) == "0.01"


def test_a_market_order_fills_at_the_replayed_best_quote():
    ex = venue()
    ex.tape_quote(SYMBOL, 299_995, 7, 300_005, 3, T0 + 1)
    o = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.020")
    assert (o["status"], o["executedQty"], o["avgPrice"]) == ("FILLED", "0.02", "30000.5")
    s = ex.client("alice").new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.020")
    assert (s["status"], s["avgPrice"]) == ("FILLED", "29999.5")


def test_without_quotes_a_market_order_fills_at_the_last_print_plus_slippage():
    ex = venue(slippage_ticks=3)
    ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 1)
    o = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    assert o["avgPrice"] == "30000.3"
    ex.tape_trade(SYMBOL, 300_000, 1, True, T0 + 2)  # our own fill printed 30000.3
    s = ex.client("alice").new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.010")
    assert s["avgPrice"] == "29999.7"


def test_with_no_quote_and_no_print_a_market_order_expires_unfilled():
    ex = venue()
    o = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    assert (o["status"], o["executedQty"]) == ("EXPIRED", "0")


def test_a_limit_that_crosses_the_quote_fills_at_the_quote_price():
    ex = venue()
    ex.tape_quote(SYMBOL, 299_995, 7, 300_005, 3, T0 + 1)
    o = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                     timeInForce="GTC", quantity="0.010", price="30010")
    assert (o["status"], o["avgPrice"]) == ("FILLED", "30000.5")


def test_prints_drive_contract_price_triggers_and_the_mark_falls_back_to_them():
    ex = venue()
    ex.tape_quote(SYMBOL, 299_995, 7, 300_005, 3, T0 + 1)
    ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 2)
    c = ex.client("alice")
    parent = c.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010",
                         stopLossPrice="29900")
    sl = parent["triggerOrders"][0]["orderId"]
    ex.tape_trade(SYMBOL, 299_000, 1, True, T0 + 3)
    row = c.query_order(symbol=SYMBOL, orderId=sl)
    assert row["status"] == "TRIGGERED"
    child = c.query_order(symbol=SYMBOL, orderId=row["triggeredOrderId"])
    assert (child["status"], child["avgPrice"]) == ("FILLED", "29999.5")  # the stale quote
    # no mark data: the mark is the last trade, which is now the child's fill
    assert c.mark_price(symbol=SYMBOL)["markPrice"] == "29999.5"


def test_the_band_excludes_resting_orders_and_armed_stops():
    ex = venue()
    rest(ex, "BUY", "29990")
    rest(ex, "SELL", "30050")
    c = ex.client("alice")
    ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 1)
    c.new_order(symbol=SYMBOL, side="BUY", type="STOP_MARKET", quantity="0.010",
                stopPrice="30040")
    assert ex.tape_band(SYMBOL) == (299_900, 300_399)
    touch = venue(fill="touch")
    rest(touch, "BUY", "29990")
    assert touch.tape_band(SYMBOL)[0] == 299_901


def test_the_band_of_an_activated_trailing_sell_runs_from_above_its_level_to_its_extreme():
    ex = venue()
    ex.tape_quote(SYMBOL, 299_995, 7, 300_005, 3, T0 + 1)
    ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 2)
    ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.010")
    ex.client("alice").new_order(symbol=SYMBOL, side="SELL", type="TRAILING_STOP_MARKET",
                                 quantity="0.010", callbackRate="1", reduceOnly="true")
    # activated at the fill's 300005 (no activationPrice): fires at ⌊300005 × 0.99⌋
    assert ex.tape_band(SYMBOL) == (297_005, 300_005)


def test_touching_inside_the_band_equals_replaying_the_print():
    def build() -> Exchange:
        ex = venue()
        rest(ex, "BUY", "29990")
        ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 1)
        return ex

    stepped, touched = build(), build()
    stepped.tape_trade(SYMBOL, 300_020, 5, True, T0 + 9)
    touched.tape_touch(SYMBOL, 300_020, T0 + 9)
    assert stepped.state_hash() == touched.state_hash()


touch_event = st.one_of(
    st.tuples(st.just("touch"), st.integers(-40, 40), st.sampled_from((0, 1, 250_000, 700_000))),
    st.tuples(st.just("mark"), st.integers(-40, 40), st.sampled_from((0, 1, 250_000))),
    st.tuples(st.just("gtd"), st.integers(1, 6)),
    st.tuples(st.just("countdown"), st.integers(0, 1)),
)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(st.lists(touch_event, min_size=1, max_size=30))
def test_the_replay_loops_touch_equals_tape_touch(events):
    # Tape.toucher writes the clock and prices directly where nothing else can change, and
    # runs tape_touch where something can (a countdown, a GTD expiry due): same state,
    # same update counter, event for event
    from engine.venue.tapeloop import update_id

    def build() -> Exchange:
        ex = venue()
        ex.create_account("bob", balance="100000")
        ex.tape_trade(SYMBOL, 300_000, 1, False, T0 + 1)
        return ex

    general, direct = build(), build()
    touch = direct._tape.toucher(SYMBOL)
    for event in events:
        for ex in (general, direct):
            kind = event[0]
            if kind == "touch" and ex is general:
                ex.tape_touch(SYMBOL, 300_000 + event[1] * 10, ex.now + event[2])
            elif kind == "touch":
                touch(300_000 + event[1] * 10, ex.now + event[2])
            elif kind == "mark":
                ex.tape_mark(SYMBOL, 300_000 + event[1] * 10, ex.now + event[2])
            elif kind == "gtd":  # a GTD bid that expires just past the minimum of 600 s
                ex.client("bob").new_order(
                    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTD",
                    quantity="0.010", price="29000",
                    goodTillDate=ex.now + 601_000 + 1000 * event[1])
            else:
                ex.client("bob").countdown_cancel_order(symbol=SYMBOL,
                                                        countdownTime=10_000 * event[1])
        assert direct.state_hash() == general.state_hash(), event
        assert update_id(direct) == update_id(general), event
        assert direct.now == general.now


# -- refusals of the replay commands -----------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fill": "sweep"}, "fill must be one of ('through', 'touch'), not 'sweep'"),
    ({"slippage_ticks": -1}, "slippage_ticks must be an int ≥ 0, not -1"),
    ({"slippage_ticks": 1.5}, "slippage_ticks must be an int ≥ 0, not 1.5"),
])
def test_enable_tape_refuses_an_unknown_model_and_changes_nothing(kwargs, message):
    ex = Exchange()
    before = ex.state_hash()

    with pytest.raises(ValueError) as info:
        ex.enable_tape(**kwargs)

    assert str(info.value) == message
    assert ex.state_hash() == before


def test_the_tape_is_enabled_once():
    ex = Exchange()
    ex.enable_tape()
    before = ex.state_hash()

    with pytest.raises(ValueError, match="the tape is already enabled"):
        ex.enable_tape(fill="touch")
    assert ex.state_hash() == before


@pytest.mark.parametrize("call", [
    lambda ex: ex.tape_trade("BTCUSDT", 300000, 1, False, ex.now),
    lambda ex: ex.tape_quote("BTCUSDT", 299990, 1, 300010, 1, ex.now),
    lambda ex: ex.tape_touch("BTCUSDT", 300000, ex.now),
    lambda ex: ex.tape_mark("BTCUSDT", 300000, ex.now),
])
def test_a_replayed_print_before_enable_tape_is_refused(call):
    ex = Exchange()
    before = ex.state_hash()

    with pytest.raises(ValueError, match=r"enable_tape\(\) first"):
        call(ex)
    assert ex.state_hash() == before


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_at_an_equal_price_the_replayed_quote_fills_before_a_resting_order(side):
    # Arrange: the quote is 29999.5 / 30000.5; bob rests on the book at the quote's price
    ex = venue()
    ex.create_account("bob", balance="100000")
    ex.tape_quote(SYMBOL, 299_995, 7, 300_005, 3, T0 + 1)
    other = "SELL" if side == "BUY" else "BUY"
    bob = ex.client("bob").new_order(symbol=SYMBOL, side=other, type="LIMIT", timeInForce="GTC",
                                     quantity="0.010", price="30000.5" if side == "BUY"
                                     else "29999.5")["orderId"]
    # Act: alice takes at exactly that price
    o = ex.client("alice").new_order(symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC",
                                     quantity="0.010", price="30000.5" if side == "BUY"
                                     else "29999.5")
    # Assert: the tape's liquidity went first; bob's order is untouched
    assert (o["status"], o["executedQty"]) == ("FILLED", "0.01")
    assert ex.client("bob").query_order(symbol=SYMBOL, orderId=bob)["executedQty"] == "0"


# -- the tape's ladder: real resting orders of the tape account ------------------------------
def ladder_venue() -> Exchange:
    ex = venue()
    ex.tape_mark(SYMBOL, 300_000, T0 + 1)
    ex.tape_ladder(SYMBOL, [(299_990, 50), (299_980, 60)], [(300_010, 50), (300_020, 60)],
                   T0 + 2)
    return ex


def tape_orders(ex: Exchange) -> dict[tuple[str, int], tuple[int, int]]:
    """(side, price ticks) -> (order id, lots left) of the tape's open orders."""
    table = ex._s.index.open_orders.get(("@tape", SYMBOL), {})
    return {(o.side.value, o.price): (o.order_id, o.qty - o.executed) for o in table.values()}


def test_a_ladder_rests_real_orders_the_depth_shows_and_moves_keep_unchanged_levels():
    ex = ladder_venue()
    depth = ex.client("alice").depth(symbol=SYMBOL)
    assert depth["bids"] == [["29999", "0.05"], ["29998", "0.06"]]
    assert depth["asks"] == [["30001", "0.05"], ["30002", "0.06"]]
    before = tape_orders(ex)

    ex.tape_ladder(SYMBOL, [(299_990, 50)], [(300_010, 40), (300_030, 70)], T0 + 3)

    after = tape_orders(ex)
    assert after[("BUY", 299_990)] == before[("BUY", 299_990)]  # kept: its queue place
    assert after[("SELL", 300_010)][0] != before[("SELL", 300_010)][0]  # new lots: replaced
    assert set(after) == {("BUY", 299_990), ("SELL", 300_010), ("SELL", 300_030)}


def test_a_ladder_never_crosses_another_account_s_order():
    ex = venue()
    ex.tape_mark(SYMBOL, 300_000, T0 + 1)
    rest(ex, "BUY", "30001.5")  # alice bids above the ladder's first ask
    ex.tape_ladder(SYMBOL, [(299_990, 50)], [(300_010, 50), (300_020, 50)], T0 + 2)
    assert set(tape_orders(ex)) == {("BUY", 299_990), ("SELL", 300_020)}


def test_a_market_order_walks_the_ladder_and_only_the_taker_pays_a_fee():
    ex = ladder_venue()
    tape = ex.ledger.accounts["@tape"]
    wallet = tape.wallet_e8
    done = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET",
                                        quantity="0.080", newOrderRespType="RESULT")
    assert done["status"] == "FILLED" and done["executedQty"] == "0.08"
    assert done["avgPrice"] == "30001.375"  # 0.05 @ 30001, 0.03 @ 30002
    assert tape.wallet_e8 == wallet  # the tape pays no maker fee
    assert ex.ledger.accounts["alice"].trades[-1][8] > 0  # alice pays the taker fee
    # past the ladder's depth there is no liquidity: the rest expires, nothing at "last"
    done = ex.client("alice").new_order(symbol=SYMBOL, side="BUY", type="MARKET",
                                        quantity="0.100", newOrderRespType="RESULT")
    assert (done["status"], done["executedQty"]) == ("EXPIRED", "0.03")


def test_a_print_never_trades_with_the_tape_s_own_ladder():
    ex = ladder_venue()
    before = tape_orders(ex)
    ex.tape_trade(SYMBOL, 299_950, 500, True, T0 + 3)  # below both tape bids
    assert tape_orders(ex) == before


def test_a_bad_ladder_is_refused_and_changes_nothing():
    ex = ladder_venue()
    before = ex.state_hash()
    for bids, asks in (([(299_990, 0)], []), ([(299_990, True)], []), ([(1, 2, 3)], []),
                       ([(299_990, 5), (299_990, 6)], []), ([], [("300010", 5)])):
        with pytest.raises(ValueError):
            ex.tape_ladder(SYMBOL, bids, asks, T0 + 9)
    assert ex.state_hash() == before
