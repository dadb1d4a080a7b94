"""The inline hot paths (plain cancel, resting placement) behave exactly like the general ones.

Two venues run the same generated commands, one with ``_fast_paths`` on and one
with it off: every response, every error and every ``state_hash()`` must match.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ClientError, Exchange

ACCOUNTS = ("alice", "bob")


def _venue(fast: bool = True, journal: Path | None = None, instruments=None) -> Exchange:
    """alice and bob with 20000 USDT each, BTCUSDT marked at 30000 (also used by test_quiet)."""
    ex = Exchange(instruments, journal=journal)
    ex._s.fast_paths = fast
    for name in ACCOUNTS:
        ex.create_account(name, balance="20000")
    ex.set_mark_price("BTCUSDT", "30000")
    return ex


place = st.tuples(
    st.just("place"), st.sampled_from(ACCOUNTS), st.sampled_from(("BUY", "SELL")),
    st.integers(-30, 30), st.integers(3, 40), st.sampled_from((0, 0, 1, 2)), st.booleans(),
    st.sampled_from(("GTC", "GTC", "IOC", "FOK", "GTX")),
)
cancel = st.one_of(
    st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(1, 24)),
    st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS),
              st.sampled_from(("c0", "c1", "c2", "x-sim-3", "x-sim-4", "nope", ""))),
)
market = st.tuples(st.just("market"), st.sampled_from(ACCOUNTS),
                   st.sampled_from(("BUY", "SELL")), st.integers(3, 40))
mark = st.tuples(st.just("mark"), st.sampled_from(ACCOUNTS), st.integers(-400, 400))


def _apply(ex: Exchange, cmd: tuple) -> object:
    c = ex.client(cmd[1])
    try:
        if cmd[0] == "place":
            _, _, side, off, lots, tpsl, cid, tif = cmd[:8]
            price = 300_000 + off * 50
            params = dict(symbol="BTCUSDT", side=side, type="LIMIT", timeInForce=tif,
                          quantity=f"0.{lots:03d}", price=f"{price // 10}.{price % 10}")
            sign = 1 if side == "BUY" else -1
            if tpsl:  # 1: a stop-loss row, 2: a stop-loss and a take-profit row
                params["stopLossPrice"] = f"{(price - sign * 500) // 10}"
            if tpsl == 2:
                params["takeProfitPrice"] = f"{(price + sign * 900) // 10}"
            if cid:
                params["newClientOrderId"] = f"c{off % 3}"
            if len(cmd) > 8 and cmd[8]:
                params["newOrderRespType"] = cmd[8]
            return c.new_order(**params)
        if cmd[0] == "mark":  # far moves put resting prices outside PERCENT_PRICE
            ticks = 300_000 + cmd[2] * 50
            return ex.set_mark_price("BTCUSDT", f"{ticks // 10}.{ticks % 10}")
        if cmd[0] == "market":
            return c.new_order(symbol="BTCUSDT", side=cmd[2], type="MARKET",
                               quantity=f"0.{cmd[3]:03d}")
        if isinstance(cmd[2], str):  # by client id (an auto one for "x-sim-N")
            return c.cancel_order(symbol="BTCUSDT", origClientOrderId=cmd[2])
        return c.cancel_order(symbol="BTCUSDT", orderId=cmd[2])
    except ClientError as e:
        return ("error", e.error_code, e.error_message)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(place, place, cancel, cancel, market, mark), min_size=1, max_size=40))
def test_fast_and_general_paths_answer_and_end_identically(commands):
    fast, general = _venue(True), _venue(False)
    for cmd in commands:
        assert _apply(fast, cmd) == _apply(general, cmd), cmd
        assert fast.state_hash() == general.state_hash(), cmd
    fast.check_invariants()
    general.check_invariants()


place_any_reply = st.tuples(*place.wrapped_strategy.element_strategies,
                            st.sampled_from(("", "ACK", "RESULT", "FULL")))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(place_any_reply, place_any_reply, cancel, market, mark),
                min_size=1, max_size=40))
def test_with_every_string_memoised_the_inline_placement_answers_as_the_general_path(commands):
    # the inline placement only takes prices and quantities it has parsed before (memo
    # hits): a first venue sharing the instruments runs the commands once to memoise every
    # string, so the compared venues take the inline path wherever it applies
    from engine.core.instrument import default_instruments

    instruments = default_instruments(max_num_orders=4)
    warm = _venue(True, instruments=instruments)
    for cmd in commands:
        _apply(warm, cmd)
    fast, general = _venue(True, instruments=instruments), _venue(False, instruments=instruments)
    for cmd in commands:
        assert _apply(fast, cmd) == _apply(general, cmd), cmd
        assert fast.state_hash() == general.state_hash(), cmd
    fast.check_invariants()
    general.check_invariants()


def test_fast_placement_freezes_the_open_loss_of_a_buy_above_the_mark_like_the_general_path():
    venues = []
    for fast in (True, False):
        ex = _venue(fast)
        c = ex.client("alice")
        c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.004", price="30100")  # memoises the strings below
        c.cancel_order(symbol="BTCUSDT", orderId=1)
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.004", price="30100")  # 100 above the mark: pays the gap
        venues.append(ex)
    fast, general = venues
    assert fast.state_hash() == general.state_hash()
    # ceil(30100 × 0.004 / 20) + 0.004 × 100 = 6.02 + 0.4
    assert fast.client("alice").account()["totalOpenOrderInitialMargin"] == "6.42"


def test_a_second_cancel_of_the_same_order_is_refused_like_the_general_path():
    answers = []
    for fast in (True, False):
        ex = _venue(fast)
        c = ex.client("alice")
        oid = c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.010", price="29900", newClientOrderId="twice")["orderId"]
        c.cancel_order(symbol="BTCUSDT", orderId=oid)
        before = ex.state_hash()
        for kw in ({"orderId": oid}, {"origClientOrderId": "twice"}):
            try:
                c.cancel_order(symbol="BTCUSDT", **kw)
            except ClientError as e:
                answers.append((fast, e.error_code))
        assert ex.state_hash() == before
    assert answers == [(True, -2011), (True, -2011), (False, -2011), (False, -2011)]


# -- each condition of the inline paths, alone, against the general path ---------------------
def _both(setup, action, warm: bool = False, **instrument_kw) -> list[tuple[object, str]]:
    """Run ``setup`` then ``action`` on a fast and a general venue: (answer, state hash) each;
    both venues' invariants hold.  ``warm``: every price and quantity string is memoised
    first (a throwaway venue sharing the instruments runs both once), so the fast venue
    takes the inline placement wherever it applies."""
    from engine.core.instrument import default_instruments

    instruments = default_instruments(**instrument_kw)
    out = []
    for fast in ((None, True, False) if warm else (True, False)):
        ex = _venue(bool(fast), instruments=instruments)
        ex.create_account("carol", balance="20000")
        ids = setup(ex)
        try:
            answer = action(ex, ids)
        except ClientError as e:
            answer = ("error", e.error_code, e.error_message)
        ex.check_invariants()
        if fast is not None:
            out.append((answer, ex.state_hash()))
    return out


def _rest(ex, name="alice", side="BUY", price="29900", qty="0.010", **kw):
    return ex.client(name).new_order(symbol="BTCUSDT", side=side, type="LIMIT",
                                     timeInForce="GTC", quantity=qty, price=price,
                                     **kw)["orderId"]


def _alice_long(ex):
    _rest(ex, "bob", "SELL", "30000", "0.020")
    ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.020")


def _reduce_only_resting(ex):
    _alice_long(ex)
    return _rest(ex, side="SELL", price="31000", qty="0.005", reduceOnly="true")


def _fired_stop_child(ex):
    c = ex.client("alice")
    row = c.new_order(symbol="BTCUSDT", side="BUY", type="STOP", quantity="0.010",
                      price="30700", stopPrice="30500")["orderId"]
    ex.set_mark_price("BTCUSDT", "30600")  # fires; the child LIMIT rests (no asks)
    child = ex._index.by_id[row].triggered_id
    assert ex._index.by_id[child].status.value == "NEW" and ex._index.by_id[child].stop_price
    c.query_order(symbol="BTCUSDT", orderId=child)  # its wire template is remembered
    return child


def _standalone_stop(ex):
    return ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="STOP_MARKET",
                                        quantity="0.010", stopPrice="30500")["orderId"]


def _partly_filled(ex):
    oid = _rest(ex)
    ex.client("bob").new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.004")
    return oid


def _parent_with_one_row_cancelled(ex):
    oid = _rest(ex, stopLossPrice="29000", takeProfitPrice="31000")
    ex.client("alice").cancel_order(symbol="BTCUSDT", orderId=oid + 1)  # the take-profit row
    return oid


def _cancel(ex, oid, name="alice", symbol="BTCUSDT"):
    return ex.client(name).cancel_order(symbol=symbol, orderId=oid)


CANCEL_CONDITIONS = {
    # the condition that is false → why the general path must take the cancel
    "not reduce-only": (_reduce_only_resting, _cancel),
    "no stop price (a fired STOP's child)": (_fired_stop_child, _cancel),
    "not a trigger row": (_standalone_stop, _cancel),
    "NEW (nothing filled)": (_partly_filled, _cancel),
    "its owner": (_rest, lambda ex, oid: _cancel(ex, oid, name="bob")),
    "its symbol": (_rest, lambda ex, oid: _cancel(ex, oid, symbol="ETHUSDT")),
    "an int orderId": (_rest, lambda ex, oid: _cancel(ex, str(oid))),
    "a missing order": (_rest, lambda ex, oid: _cancel(ex, oid + 7)),
    "a client id, not empty": (
        lambda ex: _rest(ex, newClientOrderId="mine"),
        lambda ex, oid: ex.client("alice").cancel_order(symbol="BTCUSDT",
                                                         origClientOrderId=""),
    ),
    "rows still NEW (one cancelled)": (_parent_with_one_row_cancelled, _cancel),
}


@pytest.mark.parametrize("condition", list(CANCEL_CONDITIONS))
def test_each_condition_of_the_inline_cancel_alone_gives_the_general_paths_answer(condition):
    setup, action = CANCEL_CONDITIONS[condition]

    fast, general = _both(setup, action)

    assert fast == general


def test_a_reduce_only_order_cancelled_by_id_leaves_the_reducer_set():
    (answer, _), _ = _both(_reduce_only_resting, _cancel)
    ex = _venue(True)
    oid = _reduce_only_resting(ex)
    ex.client("alice").cancel_order(symbol="BTCUSDT", orderId=oid)

    assert answer["status"] == "CANCELED" and answer["reduceOnly"] is True
    assert all(oid not in t for t in ex._index.reducers.values())


def test_cancelling_a_fired_stops_child_answers_its_stop_price():
    (answer, _), _ = _both(_fired_stop_child, _cancel)

    assert (answer["status"], answer["type"], answer["stopPrice"]) == ("CANCELED", "LIMIT",
                                                                      "30500")


PLACE_CONDITIONS = {
    "LIMIT": dict(type="MARKET", quantity="0.004"),
    "not reduce-only": dict(price="30100", quantity="0.005", reduceOnly="true"),
    "no TP/SL": dict(price="29900", quantity="0.010", stopLossPrice="29000"),
    "no client id": dict(price="29900", quantity="0.010", newClientOrderId="c"),
    "GTC or GTX": dict(price="29900", quantity="0.010", timeInForce="IOC"),
    "crosses nothing": dict(price="30000", quantity="0.010"),
}


@pytest.mark.parametrize("condition", list(PLACE_CONDITIONS))
def test_each_condition_of_the_inline_placement_alone_gives_the_general_paths_answer(condition):
    def setup(ex):
        _alice_long(ex)
        _rest(ex, "carol", "SELL", "30000", "0.004")

    def place(ex, _ids):
        params = dict(symbol="BTCUSDT", side="SELL" if "reduce" in condition else "BUY",
                      type="LIMIT", timeInForce="GTC")
        params.update(PLACE_CONDITIONS[condition])
        if params["type"] == "MARKET":
            del params["timeInForce"]
        return ex.client("alice").new_order(**params)

    fast, general = _both(setup, place)

    assert fast == general


def test_in_replay_mode_a_placement_at_the_quote_queues_on_either_path():
    def setup(ex):
        ex.enable_tape(fill="touch", queue=True)
        ex.tape_quote("BTCUSDT", 299000, 6, 301000, 4, ex.now + 1)

    (answer, fast_hash), (_, general_hash) = _both(setup, lambda ex, _: _rest(ex, price="29900"))
    ex = _venue(True)
    setup(ex)
    oid = _rest(ex, price="29900")

    assert fast_hash == general_hash
    assert ex._markets["BTCUSDT"].queue_ahead == {oid: 6}


def test_at_the_open_order_cap_the_inline_placement_gives_the_general_refusal():
    from engine.core.instrument import default_instruments

    answers = []
    for fast in (True, False):
        ex = Exchange(default_instruments(max_num_orders=2))
        ex._s.fast_paths = fast
        ex.create_account("alice", balance="20000")
        ex.set_mark_price("BTCUSDT", "30000")
        for price in ("29900", "29800"):
            _rest(ex, price=price)
        before = ex.state_hash()
        try:
            _rest(ex, price="29700")
        except ClientError as e:
            answers.append((e.error_code, e.error_message))
        assert ex.state_hash() == before
    assert answers == [(-2025, "Reach max open order limit.")] * 2


def test_an_inline_placement_beyond_the_available_balance_gives_the_general_refusal():
    def setup(ex):
        ex.create_account("erin", balance="20")

    fast, general = _both(setup, lambda ex, _: _rest(ex, "erin", price="29900", qty="0.020"))

    assert fast == general
    assert fast[0] == ("error", -2019, "Margin is insufficient.")


def _alice_short(ex):
    _rest(ex, "bob", "BUY", "30000", "0.004")
    ex.client("alice").new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.004")


def _hedge_after_a_one_way_order(ex):
    """alice places and cancels the order's twin in one-way mode (its strings parse and are
    memoised), then switches to hedge mode."""
    alice = ex.client("alice")
    alice.cancel_order(symbol="BTCUSDT", orderId=_rest(ex, price="29900"))
    alice.change_position_mode(dualSidePosition="true")


INLINE_DECLINES = {
    # what the inline placement must leave to the general path: (setup, price, qty, extra)
    "a price above the band": (None, "31500.1", "0.010", {}),
    "a price below the band": (None, "28499.9", "0.010", {}),
    "a notional under the minimum": (None, "30000", "0.003", {}),
    "the open-order cap": (lambda ex: [_rest(ex, price=p) for p in ("29800", "29700")],
                           "29900", "0.010", {}),
    "a buy partly closing a short": (_alice_short, "29900", "0.010", {}),
    "a buy wholly closing a short": (_alice_short, "29900", "0.004", {}),
    "a FULL response": (None, "29900", "0.010", {"newOrderRespType": "FULL"}),
    "a GTX that would cross": (lambda ex: _rest(ex, "carol", "SELL", "30000"), "30000", "0.010",
                               {"timeInForce": "GTX"}),
    "an account in hedge mode": (_hedge_after_a_one_way_order, "29900", "0.010", {}),
}


@pytest.mark.parametrize("case", list(INLINE_DECLINES))
def test_with_its_strings_memoised_the_inline_placement_answers_as_the_general_path(case):
    setup, price, qty, extra = INLINE_DECLINES[case]

    def place(ex, _ids):
        params = dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                      quantity=qty, price=price)
        params.update(extra)
        return ex.client("alice").new_order(**params)

    fast, general = _both(setup or (lambda ex: None), place, warm=True, max_num_orders=2)

    assert fast == general


def test_with_no_price_known_the_inline_placement_answers_as_the_general_path():
    # ETHUSDT has neither a mark nor a trade: no band, no open loss to freeze
    def place(ex, _ids):
        return ex.client("alice").new_order(symbol="ETHUSDT", side="BUY", type="LIMIT",
                                            timeInForce="GTC", quantity="0.100",
                                            price="2000")

    fast, general = _both(lambda ex: None, place, warm=True)

    assert fast == general
    assert fast[0]["status"] == "NEW"


tape_event = st.one_of(
    st.tuples(st.just("quote"), st.sampled_from(ACCOUNTS), st.integers(-20, 20),
              st.integers(1, 20)),
    st.tuples(st.just("print"), st.sampled_from(ACCOUNTS), st.integers(-30, 30),
              st.booleans()),
)


def _apply_tape(ex: Exchange, cmd: tuple) -> object:
    if cmd[0] == "quote":  # the replayed best bid/ask, ``spread`` ticks of 50 apart
        mid = 300_000 + cmd[2] * 50
        return ex.tape_quote("BTCUSDT", mid - 25 * cmd[3], 5, mid + 25 * cmd[3], 5, ex.now + 1)
    if cmd[0] == "print":
        return ex.tape_trade("BTCUSDT", 300_000 + cmd[2] * 50, 3, cmd[3], ex.now + 1)
    return _apply(ex, cmd)


@pytest.mark.parametrize("queue", [False, True], ids=["no-queue", "queue"])
@settings(max_examples=80, deadline=None)
@given(commands=st.lists(st.one_of(place_any_reply, place_any_reply, cancel, market,
                                   tape_event, tape_event), min_size=1, max_size=40),
       slippage=st.integers(0, 3))
def test_in_replay_mode_the_inline_placement_answers_as_the_general_path(queue, commands,
                                                                          slippage):
    # replay mode: a LIMIT rests inline only where the tape (its quote, else its last price
    # ± slippage) would not take it and no queue model applies; elsewhere the general path
    from engine.core.instrument import default_instruments

    instruments = default_instruments(max_num_orders=4)
    venues = []
    for fast in (True, True, False):
        ex = _venue(fast, instruments=instruments)
        ex.enable_tape(fill="touch", queue=queue, slippage_ticks=slippage)
        venues.append(ex)
    warm, fast_ex, general = venues
    for cmd in commands:  # memoise every string, so the inline path applies where it may
        _apply_tape(warm, cmd)
    for cmd in commands:
        assert _apply_tape(fast_ex, cmd) == _apply_tape(general, cmd), cmd
        assert fast_ex.state_hash() == general.state_hash(), cmd
    fast_ex.check_invariants()
    general.check_invariants()
