"""The inline hot paths (plain cancel, resting placement) behave exactly like the general ones.

Two venues run the same generated commands, one with ``_fast_paths`` on and one
with it off: every response, every error and every ``state_hash()`` must match.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ClientError, Exchange

ACCOUNTS = ("alice", "bob")


def _venue(fast: bool = True, journal: Path | None = None) -> Exchange:
    """alice and bob with 20000 USDT each, BTCUSDT marked at 30000 (also used by test_quiet)."""
    ex = Exchange(journal=journal)
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
            _, _, side, off, lots, tpsl, cid, tif = cmd
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
