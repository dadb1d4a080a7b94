"""The quiet variants (``new_order_quiet``, ``cancel_order_quiet``) for embedded research code.

They apply exactly the rules of ``new_order`` / ``cancel_order`` — same
refusals, same cascade, same state — and only skip building the response:
placement returns the new ``orderId``, cancel returns None.  Two venues run
the same generated commands, one through the quiet methods and one through the
documented ones; errors, ids and ``state_hash()`` must match after every step.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fast_paths import ACCOUNTS, _venue

from engine import ClientError, Exchange

place = st.tuples(
    st.just("place"), st.sampled_from(ACCOUNTS), st.sampled_from(("BUY", "SELL")),
    st.integers(-30, 30), st.integers(3, 40), st.sampled_from((0, 0, 1, 2)),
    st.sampled_from(("GTC", "GTC", "IOC", "FOK", "GTX")),
    st.sampled_from(("LIMIT", "LIMIT", "LIMIT", "MARKET", "STOP_MARKET")),
)
cancel = st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(1, 60),
                   st.sampled_from(("BTCUSDT", "BTCUSDT", "ETHUSDT")))
mark = st.tuples(st.just("mark"), st.sampled_from(ACCOUNTS), st.integers(-400, 400))


def _apply(ex: Exchange, cmd: tuple, quiet: bool) -> object:
    c = ex.client(cmd[1])
    try:
        if cmd[0] == "place":
            _, _, side, off, lots, tpsl, tif, type_ = cmd
            price = 300_000 + off * 50
            params: dict[str, object] = dict(symbol="BTCUSDT", side=side, type=type_,
                                             quantity=f"0.{lots:03d}")
            if type_ == "LIMIT":
                params.update(timeInForce=tif, price=f"{price // 10}.{price % 10}")
            elif type_ == "STOP_MARKET":
                params["stopPrice"] = f"{price // 10}.{price % 10}"
            sign = 1 if side == "BUY" else -1
            if tpsl and type_ != "STOP_MARKET":
                params["stopLossPrice"] = f"{(price - sign * 500) // 10}"
            if tpsl == 2 and type_ != "STOP_MARKET":
                params["takeProfitPrice"] = f"{(price + sign * 900) // 10}"
            if quiet:
                return ("id", c.new_order_quiet(**params))
            return ("id", c.new_order(**params)["orderId"])
        if cmd[0] == "mark":
            ticks = 300_000 + cmd[2] * 50
            ex.set_mark_price("BTCUSDT", f"{ticks // 10}.{ticks % 10}")
            return None
        if quiet:
            return c.cancel_order_quiet(symbol=cmd[3], orderId=cmd[2])
        c.cancel_order(symbol=cmd[3], orderId=cmd[2])
        return None
    except ClientError as e:
        return ("error", e.error_code, e.error_message)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(place, place, cancel, cancel, mark), min_size=1, max_size=40))
def test_quiet_methods_refuse_and_change_exactly_what_the_documented_ones_do(commands):
    quiet, loud = _venue(), _venue()
    for cmd in commands:
        assert _apply(quiet, cmd, True) == _apply(loud, cmd, False), cmd
        assert quiet.state_hash() == loud.state_hash(), cmd
    quiet.check_invariants()


def test_quiet_cancel_cascades_and_returns_nothing():
    ex = _venue()
    c = ex.client("alice")
    oid = c.new_order_quiet(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                            quantity="0.010", price="29900", stopLossPrice="29000",
                            takeProfitPrice="31000")
    assert [o["orderId"] for o in c.get_orders(symbol="BTCUSDT")] == [oid, oid + 1, oid + 2]
    assert c.cancel_order_quiet(symbol="BTCUSDT", orderId=oid) is None
    assert c.get_orders(symbol="BTCUSDT") == []
    statuses = {c.query_order(symbol="BTCUSDT", orderId=i)["status"] for i in (oid, oid + 1)}
    assert statuses == {"CANCELED"}
    assert c.account()["totalOpenOrderInitialMargin"] == "0"


def test_quiet_refusals_carry_the_documented_codes_and_change_nothing():
    ex = _venue()
    c = ex.client("alice")
    before = ex.state_hash()
    with pytest.raises(ClientError) as e:
        c.cancel_order_quiet(symbol="BTCUSDT", orderId=999)
    assert e.value.error_code == -2011
    with pytest.raises(ClientError) as e:
        c.new_order_quiet(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                          quantity="0.010", price="20000")
    assert e.value.error_code == -4024  # below PERCENT_PRICE's floor at mark 30000
    assert ex.state_hash() == before


def test_quiet_commands_are_journaled_and_replay_to_the_same_venue(tmp_path):
    path = tmp_path / "quiet.jsonl"
    ex = _venue(journal=path)
    c = ex.client("bob")
    ids = [c.new_order_quiet(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                             quantity="0.005", price=p) for p in ("30100", "30200", "30300")]
    assert ids == sorted(ids) and all(type(i) is int for i in ids)
    assert c.cancel_order_quiet(symbol="BTCUSDT", orderId=ids[1]) is None
    ex.close_journal()
    assert Exchange.replay(path).state_hash() == ex.state_hash()


@pytest.mark.parametrize("legs", [{}, {"stopLossPrice": "29000", "takeProfitPrice": "31000"}])
def test_an_order_placed_quietly_cancels_with_the_same_response_on_both_paths(legs):
    answers = []
    for fast in (True, False):
        ex = _venue(fast)
        c = ex.client("alice")
        oid = c.new_order_quiet(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.010", price="29900", **legs)
        answers.append((c.cancel_order(symbol="BTCUSDT", orderId=oid), ex.state_hash()))
    assert answers[0] == answers[1]
    assert answers[0][0]["status"] == "CANCELED"
    assert len(answers[0][0].get("triggerOrders", [])) == len(legs)
