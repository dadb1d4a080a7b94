"""History reads — allOrders, userTrades, income — select rows as Binance does.

One venue with commands at three known times (T, T + 1 s, T + 2 s); each read is
asked for a window or a page and must answer exactly the rows inside it, in order:
allOrders and userTrades the *most recent* ``limit`` rows of the window (oldest
first), income the first page.  Then the rules over longer spans
(:mod:`engine.venue.history`): the default 7-day window, the 7-day maximum
(-4165), anchors (``orderId``, ``fromId``) that lift the default window, ``fromId``
with a time (-1128), income's ``page``, and paging through self-trades.
"""

from __future__ import annotations

import pytest

from engine import Exchange

T = 1_704_067_200_000
BTC = "BTCUSDT"


@pytest.fixture(scope="module")
def venue() -> Exchange:
    """At T, T + 1 s and T + 2 s bob rests an ask of 0.004 @ 30000 and alice buys it."""
    ex = Exchange(start_time=T)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="10000")
    ex.set_mark_price(BTC, "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    for i in range(3):
        ex.set_time(T + 1000 * i)
        bob.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.004", price="30000")
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
    ex.check_invariants()
    return ex


COMMON = [
    ({}, [0, 1, 2]),
    ({"startTime": T + 1000}, [1, 2]),
    ({"endTime": T + 1000}, [0, 1]),
    ({"startTime": T + 500, "endTime": T + 1500}, [1]),
    ({"startTime": T + 1500, "endTime": T + 500}, []),
]
#: without an anchor, orders and trades answer the most recent rows
WINDOWS = COMMON + [({"limit": 2}, [1, 2]), ({"startTime": T + 1000, "limit": 1}, [2])]
#: income answers the first page
PAGES = COMMON + [({"limit": 2}, [0, 1]), ({"startTime": T + 1000, "limit": 1}, [1]),
                  ({"limit": 2, "page": 2}, [2]), ({"limit": 2, "page": 3}, [])]


@pytest.mark.parametrize(("window", "which"), WINDOWS)
def test_all_orders_answers_the_orders_placed_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_all_orders(symbol=BTC, **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


@pytest.mark.parametrize(("window", "which"), WINDOWS)
def test_user_trades_answers_the_trades_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_account_trades(symbol=BTC, **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


@pytest.mark.parametrize(("window", "which"), PAGES)
def test_income_answers_the_commissions_inside_the_window(venue, window, which):
    rows = venue.client("alice").get_income_history(incomeType="COMMISSION", **window)

    assert [r["time"] for r in rows] == [T + 1000 * i for i in which]


def test_income_without_a_type_pages_through_every_row_in_order(venue):
    c = venue.client("alice")
    every = c.get_income_history()

    assert [r["incomeType"] for r in every] == ["TRANSFER"] + ["COMMISSION"] * 3
    assert c.get_income_history(limit=3) == every[:3]


def test_all_orders_anchored_by_order_id_lists_forward_from_it(venue):
    c = venue.client("alice")
    every = c.get_all_orders(symbol=BTC)
    ids = [o["orderId"] for o in every]

    assert [o["orderId"] for o in c.get_all_orders(symbol=BTC, orderId=ids[1])] == ids[1:]
    assert [o["orderId"] for o in c.get_all_orders(symbol=BTC, orderId=0, limit=2)] == ids[:2]


# -- spans longer than a week ---------------------------------------------------------------
DAY = 86_400_000


@pytest.fixture(scope="module")
def weeks() -> Exchange:
    """alice buys from bob once a day for 20 days (a fill, a commission each day)."""
    ex = Exchange(start_time=T)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="100000")
    ex.set_mark_price(BTC, "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    for day in range(20):
        ex.set_time(T + day * DAY)
        bob.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.004", price="30000")
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
    return ex


def _days(rows) -> list[int]:
    return [(r["time"] - T) // DAY for r in rows]


def test_without_times_or_anchor_the_last_seven_days_are_answered(weeks):
    c = weeks.client("alice")  # the clock is at day 19: the window is days 12..19

    assert _days(c.get_all_orders(symbol=BTC)) == list(range(12, 20))
    assert _days(c.get_account_trades(symbol=BTC)) == list(range(12, 20))
    assert _days(c.get_income_history(incomeType="COMMISSION")) == list(range(12, 20))


def test_one_bound_opens_a_seven_day_window_from_or_to_it(weeks):
    c = weeks.client("alice")

    assert _days(c.get_all_orders(symbol=BTC, startTime=T + 2 * DAY)) == list(range(2, 10))
    assert _days(c.get_account_trades(symbol=BTC, endTime=T + 9 * DAY)) == list(range(2, 10))


@pytest.mark.parametrize("method", ["get_all_orders", "get_account_trades"])
def test_a_window_wider_than_seven_days_is_4165_and_seven_exactly_is_served(weeks, method):
    from engine import ClientError

    read = getattr(weeks.client("alice"), method)
    with pytest.raises(ClientError) as e:
        read(symbol=BTC, startTime=T, endTime=T + 7 * DAY + 1)
    assert (e.value.error_code, e.value.error_message) == (
        -4165, "Maximum time interval is 7 days")
    assert _days(read(symbol=BTC, startTime=T, endTime=T + 7 * DAY)) == list(range(8))


def test_income_has_no_maximum_window(weeks):
    rows = weeks.client("alice").get_income_history(incomeType="COMMISSION", startTime=T,
                                                    endTime=T + 30 * DAY)
    assert _days(rows) == list(range(20))


def test_an_anchor_lifts_the_default_window(weeks):
    c = weeks.client("alice")

    assert _days(c.get_all_orders(symbol=BTC, orderId=1, limit=1000)) == list(range(20))
    assert _days(c.get_account_trades(symbol=BTC, fromId=0)) == list(range(20))
    first = c.get_account_trades(symbol=BTC, fromId=0)[0]
    assert _days(c.get_account_trades(symbol=BTC, orderId=first["orderId"])) == [0]


def test_from_id_with_a_time_is_1128(weeks):
    from engine import ClientError

    with pytest.raises(ClientError) as e:
        weeks.client("alice").get_account_trades(symbol=BTC, fromId=1, startTime=T)
    assert e.value.error_code == -1128


# -- self-trades: two rows, one id ----------------------------------------------------------
@pytest.fixture(scope="module")
def self_trades() -> Exchange:
    return self_trading_venue()


def self_trading_venue() -> Exchange:
    """alice trades with herself three times (two rows each), with a fill against bob
    between them."""
    ex = Exchange(start_time=T)
    for name in ("alice", "bob"):
        ex.create_account(name, balance="100000")
    ex.set_mark_price(BTC, "30000")
    alice, bob = ex.client("alice"), ex.client("bob")
    for i in range(3):
        ex.set_time(T + 1000 * i)
        alice.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                        quantity="0.004", price="30000")
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
        bob.new_order(symbol=BTC, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.004", price="30000")
        alice.new_order(symbol=BTC, side="BUY", type="MARKET", quantity="0.004")
    return ex


def _keys(rows) -> list[tuple[int, bool]]:
    return [(r["id"], r["buyer"]) for r in rows]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5])
def test_paging_by_from_id_through_self_trades_sees_every_row_once(self_trades, limit):
    c = self_trades.client("alice")
    every = c.get_account_trades(symbol=BTC, fromId=0, limit=1000)
    ids = [r["id"] for r in every]
    assert len(every) == 9 and len(set(ids)) == 6  # three ids twice: the self-trades

    seen, from_id = [], 0
    for _ in range(20):
        page = c.get_account_trades(symbol=BTC, fromId=from_id, limit=limit)
        if not page:
            break
        assert len(page) <= limit + 1  # the one extra row is a self-trade's twin
        seen += page
        from_id = page[-1]["id"] + 1
    assert _keys(seen) == _keys(every)


def test_the_most_recent_page_does_not_start_inside_a_self_trade(self_trades):
    c = self_trades.client("alice")
    every = c.get_account_trades(symbol=BTC, limit=1000)
    last = c.get_account_trades(symbol=BTC, limit=1)  # alice's last trade is with bob
    two = c.get_account_trades(symbol=BTC, limit=2)  # would start inside the pair before

    assert _keys(last) == _keys(every[-1:])
    assert _keys(two) == _keys(every[-3:])


def test_a_bot_pages_user_trades_over_rest_and_a_wide_window_is_4165():
    from tests.rest_support import RawClient, live

    ex = self_trading_venue()  # its own: the server moves the clock to wall time
    alice = ex.account("alice")
    every = ex.client("alice").get_account_trades(symbol=BTC, fromId=0, limit=1000)
    with live(ex) as (url, _app):
        raw = RawClient(url, alice.api_key, alice.api_secret)
        seen, from_id = [], 0
        while True:
            page = raw.ok("GET", "/fapi/v1/userTrades", {"symbol": BTC, "fromId": from_id,
                                                         "limit": 1})
            if not page:
                break
            seen += page
            from_id = page[-1]["id"] + 1
        wide = raw.signed("GET", "/fapi/v1/allOrders", {"symbol": BTC, "startTime": T,
                                                        "endTime": T + 8 * DAY})
    assert _keys(seen) == _keys(every)
    assert (wide.status_code, wide.json()) == (400, {
        "code": -4165, "msg": "Maximum time interval is 7 days"})
