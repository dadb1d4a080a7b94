"""Cancel (SPEC §4): the response, lookup, precedence of failures, cascade, margin,
trigger-row cancels, batch, cancel-all and the countdown — one behaviour per test.

Order ids are one venue-wide sequence starting at 1, so each test names the ids
its set-up creates in a comment and asserts against those literals.  Every
refused cancel must leave ``state_hash()`` unchanged and consume no id; every
test ends with ``check_invariants()`` (in the ``ex`` fixture's teardown).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import ClientError, Exchange

START_MS = 1_704_067_200_000
SYMBOL = "BTCUSDT"

#: SPEC 4, the seed example: a cancelled trailing stop, exactly as Binance answers.
SEED = {
    "clientOrderId": "testOrder2",
    "cumQty": "0",
    "cumQuote": "0",
    "executedQty": "0",
    "orderId": 2254222045,
    "origQty": "10",
    "origType": "TRAILING_STOP_MARKET",
    "price": "0",
    "reduceOnly": False,
    "side": "SELL",
    "positionSide": "BOTH",
    "status": "CANCELED",
    "stopPrice": "0",
    "closePosition": False,
    "symbol": "BTCUSDT",
    "timeInForce": "GTC",
    "type": "TRAILING_STOP_MARKET",
    "activatePrice": "9020",
    "priceRate": "0.3",
    "updateTime": 1566818724722,
    "workingType": "CONTRACT_PRICE",
    "priceProtect": False,
}
#: What current Binance adds to every order object (SPEC 4.3), with their types.
ADDED = {"avgPrice": str, "priceMatch": str, "selfTradePreventionMode": str, "goodTillDate": int}
TRAILING_ONLY = {"activatePrice", "priceRate"}
ORDER_KEYS = (set(SEED) - TRAILING_ONLY) | set(ADDED)
ROW_KEYS = ORDER_KEYS | {"parentOrderId"}

CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def ex():
    """alice, bob, carol (and dave, who only probes the id sequence); mark 30000.

    Every test ends with the venue's invariants checked."""
    venue = Exchange()
    for name in ("alice", "bob", "carol", "dave"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(SYMBOL, "30000")
    yield venue
    venue.check_invariants()


def limit(client, side: str, qty: str = "0.010", price: str = "30000", **kw) -> dict:
    return client.new_order(
        symbol=kw.pop("symbol", SYMBOL),
        side=side,
        type="LIMIT",
        timeInForce=kw.pop("timeInForce", "GTC"),
        quantity=qty,
        price=price,
        **kw,
    )


def market(client, side: str, qty: str = "0.010", **kw) -> dict:
    return client.new_order(symbol=SYMBOL, side=side, type="MARKET", quantity=qty, **kw)


def bracket(client, qty: str = "0.010", **kw) -> dict:
    """A BUY LIMIT at 30000 with TP 33000 and SL 29000: ids parent, parent+1 (TP), +2 (SL)."""
    return limit(client, "BUY", qty, "30000", takeProfitPrice="33000", stopLossPrice="29000", **kw)


def status(client, order_id: int, symbol: str = SYMBOL) -> str:
    return client.query_order(symbol=symbol, orderId=order_id)["status"]


def row_state(ex: Exchange, order_id: int) -> str:
    return ex._index.by_id[order_id].state


def position(client, symbol: str = SYMBOL) -> str:
    rows = client.get_position_risk(symbol=symbol)  # v3: no row for a flat side
    return rows[0]["positionAmt"] if rows else "0"


def assert_refused(ex: Exchange, call, code: int, message: str, *, next_id: int) -> None:
    """``call()`` raises exactly (400, code, message) and changes nothing: the state hash is
    the same and the next order placed (by the bystander dave) takes id ``next_id``."""
    before = ex.state_hash()
    with pytest.raises(ClientError) as info:
        call()
    err = info.value
    assert (err.status_code, err.error_code, err.error_message) == (400, code, message)
    assert ex.state_hash() == before
    probe = limit(ex.client("dave"), "BUY", price="29000")
    assert probe["orderId"] == next_id


def assert_types_as_seed(resp: dict) -> None:
    for key, value in resp.items():
        if key in SEED:
            assert type(value) is type(SEED[key]), key
        elif key in ADDED:
            assert type(value) is ADDED[key], key


# -- 4.3 the response ----------------------------------------------------------------------------


def test_cancel_of_a_trailing_stop_answers_exactly_like_the_seed_example(ex, alice):
    # Arrange: the seed's order: SELL 10 trailing 0.3 % from 9020 (mark below it, at 9000)
    ex.set_mark_price(SYMBOL, "9000")
    placed = alice.new_order(
        symbol=SYMBOL,
        side="SELL",
        type="TRAILING_STOP_MARKET",
        quantity="10",
        activationPrice="9020",
        callbackRate="0.3",
        newClientOrderId="testOrder2",
    )
    ex.advance(ms=250)
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
    # Assert: same values and types as the seed, then exactly its keys (plus SPEC 4.3's)
    assert {k: v for k, v in resp.items() if k in SEED and k not in ("orderId", "updateTime")} == {
        k: v for k, v in SEED.items() if k not in ("orderId", "updateTime")
    }
    assert (resp["orderId"], resp["updateTime"], resp["parentOrderId"]) == (1, START_MS + 250, 0)
    assert (
        resp["avgPrice"],
        resp["priceMatch"],
        resp["selfTradePreventionMode"],
        resp["goodTillDate"],
    ) == ("0", "NONE", "NONE", 0)
    assert_types_as_seed(resp)
    assert set(resp) == set(SEED) | set(ADDED) | {"parentOrderId"}
    ex.check_invariants()


def test_cancel_of_a_limit_order_answers_the_seed_fields_without_trailing_ones(ex, alice):
    # Arrange
    placed = limit(alice, "BUY", "0.015", "29500.5", newClientOrderId="mine")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
    # Assert
    assert_types_as_seed(resp)
    assert {
        k: resp[k]
        for k in (
            "clientOrderId",
            "orderId",
            "origQty",
            "price",
            "status",
            "side",
            "type",
            "origType",
            "timeInForce",
            "stopPrice",
            "executedQty",
            "cumQuote",
            "avgPrice",
            "reduceOnly",
        )
    } == {
        "clientOrderId": "mine",
        "orderId": 1,
        "origQty": "0.015",
        "price": "29500.5",
        "status": "CANCELED",
        "side": "BUY",
        "type": "LIMIT",
        "origType": "LIMIT",
        "timeInForce": "GTC",
        "stopPrice": "0",
        "executedQty": "0",
        "cumQuote": "0",
        "avgPrice": "0",
        "reduceOnly": False,
    }
    assert set(resp) == ORDER_KEYS
    ex.check_invariants()


def test_cancel_of_a_parent_answers_its_rows_as_order_objects_in_trigger_orders(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    rows = resp["triggerOrders"]
    assert [r["orderId"] for r in rows] == [2, 3]
    assert [
        (r["type"], r["side"], r["stopPrice"], r["status"], r["parentOrderId"]) for r in rows
    ] == [
        ("TAKE_PROFIT_MARKET", "SELL", "33000", "CANCELED", 1),
        ("STOP_MARKET", "SELL", "29000", "CANCELED", 1),
    ]
    for r in [resp, *rows]:
        assert_types_as_seed(r)
    assert set(resp) == ORDER_KEYS | {"triggerOrders"}
    assert [set(r) for r in rows] == [ROW_KEYS, ROW_KEYS]
    ex.check_invariants()


def test_cancelled_order_carries_the_update_time_of_the_cancel(ex, alice):
    # Arrange
    limit(alice, "BUY")
    ex.advance(ms=1234)
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    assert resp["updateTime"] == START_MS + 1234
    assert alice.query_order(symbol=SYMBOL, orderId=1)["updateTime"] == START_MS + 1234
    ex.check_invariants()


# -- 4.2 lookup ----------------------------------------------------------------------------------


def test_order_id_wins_over_client_order_id_when_both_are_sent(ex, alice):
    # Arrange: ids 1 ("a") and 2 ("b")
    limit(alice, "BUY", newClientOrderId="a")
    limit(alice, "BUY", newClientOrderId="b")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1, origClientOrderId="b")
    # Assert
    assert (resp["orderId"], resp["clientOrderId"]) == (1, "a")
    assert (status(alice, 1), status(alice, 2)) == ("CANCELED", "NEW")
    ex.check_invariants()


def test_cancel_by_client_id_finds_the_callers_own_order_only(ex, alice, bob):
    # Arrange: bob's "same" is id 1, alice's "same" is id 2
    limit(bob, "BUY", newClientOrderId="same")
    limit(alice, "BUY", newClientOrderId="same")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, origClientOrderId="same")
    # Assert
    assert resp["orderId"] == 2
    assert status(bob, 1) == "NEW"
    ex.check_invariants()


def test_cancel_by_client_id_never_finds_another_accounts_order(ex, alice, bob):
    # Arrange: only bob has "his"
    limit(bob, "BUY", newClientOrderId="his")
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, origClientOrderId="his"),
        -2011,
        "Unknown order sent.",
        next_id=2,
    )
    assert status(bob, 1) == "NEW"


def test_cancel_by_client_id_prefers_the_open_order_over_an_older_cancelled_one(ex, alice):
    # Arrange: id 1 "again" cancelled, id 2 "again" open
    limit(alice, "BUY", newClientOrderId="again")
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    limit(alice, "BUY", newClientOrderId="again")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, origClientOrderId="again")
    # Assert
    assert (resp["orderId"], resp["status"]) == (2, "CANCELED")
    ex.check_invariants()


def test_cancel_by_client_id_prefers_the_open_order_over_an_older_filled_one(ex, alice, bob):
    # Arrange: id 1 "again" filled by bob's MARKET sell (id 2), id 3 "again" open
    limit(alice, "BUY", newClientOrderId="again")
    market(bob, "SELL")
    limit(alice, "BUY", price="29000", newClientOrderId="again")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, origClientOrderId="again")
    # Assert
    assert (resp["orderId"], resp["status"]) == (3, "CANCELED")
    assert status(alice, 1) == "FILLED"
    ex.check_invariants()


def test_cancel_by_the_generated_client_id_finds_the_order(ex, alice):
    # Arrange
    placed = limit(alice, "BUY")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, origClientOrderId=placed["clientOrderId"])
    # Assert
    assert (resp["orderId"], resp["status"]) == (1, "CANCELED")
    ex.check_invariants()


def test_cancel_by_client_id_of_a_closed_order_only_is_refused(ex, alice):
    # Arrange: "gone" was cancelled and not reused
    limit(alice, "BUY", newClientOrderId="gone")
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, origClientOrderId="gone"),
        -2011,
        "Unknown order sent.",
        next_id=2,
    )


# -- 4.4 precedence of failures --------------------------------------------------------------


def test_unknown_id_on_another_symbol_is_unknown_order(ex, alice):
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol="ETHUSDT", orderId=77),
        -2011,
        "Unknown order sent.",
        next_id=1,
    )


def test_another_accounts_trigger_row_is_not_owned_even_on_the_wrong_symbol(ex, alice, bob):
    # Arrange: alice's parent 1, TP 2, SL 3
    bracket(alice)
    # Act / Assert
    assert_refused(
        ex,
        lambda: bob.cancel_order(symbol="ETHUSDT", orderId=3),
        -2093,
        "Trigger order 3 belongs to another account.",
        next_id=4,
    )
    assert row_state(ex, 3) == "PENDING"


def test_another_accounts_cancelled_trigger_row_is_not_owned_rather_than_cancelled(ex, alice, bob):
    # Arrange: alice's SL 3 already cancelled
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Act / Assert
    assert_refused(
        ex,
        lambda: bob.cancel_order(symbol=SYMBOL, orderId=3),
        -2093,
        "Trigger order 3 belongs to another account.",
        next_id=4,
    )


def test_another_accounts_ordinary_order_is_unknown_order(ex, alice, bob):
    # Arrange: alice's open parent 1
    bracket(alice)
    # Act / Assert
    assert_refused(
        ex,
        lambda: bob.cancel_order(symbol=SYMBOL, orderId=1),
        -2011,
        "Unknown order sent.",
        next_id=4,
    )
    assert status(alice, 1) == "NEW"


def test_own_order_on_the_wrong_symbol_is_unknown_order(ex, alice):
    # Arrange
    bracket(alice)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol="ETHUSDT", orderId=1),
        -2011,
        "Unknown order sent.",
        next_id=4,
    )
    assert status(alice, 1) == "NEW"


def test_own_fired_trigger_row_on_the_wrong_symbol_is_unknown_order_before_triggered(
    ex, alice, bob, carol
):
    # Arrange: SL 3 fired (see fire_stop_loss)
    fire_stop_loss(ex, alice, bob, carol)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol="ETHUSDT", orderId=3),
        -2011,
        "Unknown order sent.",
        next_id=7,
    )


def test_own_cancelled_trigger_row_on_the_wrong_symbol_is_unknown_order(ex, alice):
    # Arrange
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol="ETHUSDT", orderId=3),
        -2011,
        "Unknown order sent.",
        next_id=4,
    )


def test_filled_order_cannot_be_cancelled(ex, alice, bob):
    # Arrange: alice's 1 filled by bob's MARKET sell 2
    limit(alice, "BUY")
    market(bob, "SELL")
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=1),
        -2011,
        "Unknown order sent.",
        next_id=3,
    )


def test_cancelled_order_cannot_be_cancelled_again(ex, alice):
    # Arrange
    limit(alice, "BUY")
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=1),
        -2011,
        "Unknown order sent.",
        next_id=2,
    )


def test_expired_order_cannot_be_cancelled(ex, alice, bob):
    # Arrange: bob offers 0.005 (1); alice's IOC for 0.010 (2) expires with 0.005 unfilled
    limit(bob, "SELL", "0.005")
    ioc = limit(alice, "BUY", timeInForce="IOC")
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.005")
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=2),
        -2011,
        "Unknown order sent.",
        next_id=3,
    )


# -- 4.5 cascade ---------------------------------------------------------------------------------


def test_cancel_parent_cascades_to_pending_take_profit_and_stop_loss(ex, alice):
    # Arrange: parent 1, TP 2, SL 3, all PENDING
    bracket(alice)
    assert (row_state(ex, 2), row_state(ex, 3)) == ("PENDING", "PENDING")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    assert resp["status"] == "CANCELED"
    assert [(r["orderId"], r["status"]) for r in resp["triggerOrders"]] == [
        (2, "CANCELED"),
        (3, "CANCELED"),
    ]
    assert [status(alice, i) for i in (1, 2, 3)] == ["CANCELED"] * 3
    assert alice.get_orders(symbol=SYMBOL) == []
    ex.check_invariants()


def test_cancel_partly_filled_parent_cascades_to_armed_rows(ex, alice, bob):
    # Arrange: parent 1 (0.020), TP 2, SL 3; bob's MARKET sell 4 fills 0.010
    bracket(alice, "0.020")
    market(bob, "SELL", "0.010")
    assert (row_state(ex, 2), row_state(ex, 3)) == ("ARMED", "ARMED")
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    assert (resp["status"], resp["executedQty"], resp["origQty"]) == ("CANCELED", "0.01", "0.02")
    assert [(r["orderId"], r["status"], r["origQty"]) for r in resp["triggerOrders"]] == [
        (2, "CANCELED", "0.01"),
        (3, "CANCELED", "0.01"),
    ]
    assert (row_state(ex, 2), row_state(ex, 3)) == ("CANCELED", "CANCELED")
    ex.check_invariants()


def test_cascade_rows_and_parent_share_the_cancel_time(ex, alice):
    # Arrange
    bracket(alice)
    ex.advance(ms=500)
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    assert [resp["updateTime"]] + [r["updateTime"] for r in resp["triggerOrders"]] == [
        START_MS + 500
    ] * 3
    ex.check_invariants()


def test_failure_in_the_middle_of_a_cascade_cancels_nothing(ex, alice):
    # Arrange: parent 1, TP 2, SL 3; the cascade's last mutation will blow up
    from engine.core.txn import InjectedFault, inject_fault

    bracket(alice)
    before = ex.state_hash()
    # Act: fail at the last mutation point of the cancel (after the parent changed),
    # counted on an identical venue
    reference = Exchange()
    reference.create_account("alice", balance="10000")
    bracket(reference.client("alice"))
    with inject_fault(reference._undo, 0) as count:
        reference.client("alice").cancel_order(symbol=SYMBOL, orderId=1)
    with inject_fault(ex._undo, count[0]), pytest.raises(InjectedFault):
        alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    assert count[0] >= 2
    assert ex.state_hash() == before
    assert [status(alice, i) for i in (1, 2, 3)] == ["NEW", "NEW", "NEW"]
    assert alice.account()["availableBalance"] == "9985"
    ex.check_invariants()


def test_filled_part_of_a_cancelled_parent_stays_as_a_position_without_tp_sl(ex, alice, bob):
    # Arrange: parent 1 (0.020) with rows watching the mark; 0.010 filled by bob (4)
    bracket(alice, "0.020", tpslWorkingType="MARK_PRICE")
    market(bob, "SELL", "0.010")
    # Act
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    ex.set_mark_price(SYMBOL, "28900")  # past the SL: nothing is left to fire
    # Assert
    assert position(alice) == "0.01"
    assert alice.get_orders(symbol=SYMBOL) == []
    assert [o["orderId"] for o in alice.get_all_orders(symbol=SYMBOL)] == [1, 2, 3]
    ex.check_invariants()


def test_ioc_parent_that_expires_after_a_fill_keeps_its_armed_rows(ex, alice, bob):
    # Arrange: bob offers 0.005 (1)
    limit(bob, "SELL", "0.005")
    # Act: alice's IOC parent 2 (0.010) with TP 3, SL 4 fills 0.005 and expires
    resp = limit(alice, "BUY", timeInForce="IOC", takeProfitPrice="33000", stopLossPrice="29000")
    # Assert
    assert resp["status"] == "EXPIRED"
    assert (row_state(ex, 3), row_state(ex, 4)) == ("ARMED", "ARMED")
    assert [r["origQty"] for r in alice.get_orders(symbol=SYMBOL)] == ["0.005", "0.005"]
    ex.check_invariants()


def test_ioc_parent_that_expires_without_a_fill_cancels_its_pending_rows(ex, alice):
    # Act: an empty book: parent 1, TP 2, SL 3
    resp = limit(alice, "BUY", timeInForce="IOC", takeProfitPrice="33000", stopLossPrice="29000")
    # Assert
    assert resp["status"] == "EXPIRED"
    assert (status(alice, 2), status(alice, 3)) == ("CANCELED", "CANCELED")
    ex.check_invariants()


# -- 4.6 margin ----------------------------------------------------------------------------------


def test_cancel_returns_available_balance_to_what_it_was_before_placing(ex, alice):
    # Arrange: 0.010 @ 30100 (mark 30000): ceil(301/20) = 15.05 plus open loss 1 = 16.05
    before = alice.account()
    bracket_resp = limit(
        alice, "BUY", price="30100", takeProfitPrice="33000", stopLossPrice="29000"
    )
    assert alice.account()["totalOpenOrderInitialMargin"] == "16.05"
    assert alice.account()["availableBalance"] == "9983.95"
    # Act
    alice.cancel_order(symbol=SYMBOL, orderId=bracket_resp["orderId"])
    # Assert
    after = alice.account()
    assert before["availableBalance"] == after["availableBalance"] == "10000"
    assert after["totalOpenOrderInitialMargin"] == "0"
    assert after["totalWalletBalance"] == "10000"
    ex.check_invariants()


def test_cancel_after_a_partial_fill_releases_exactly_the_remaining_share(ex, alice, bob):
    # Arrange: leverage 7; 0.011 @ 30000.1 with mark 30000 freezes
    #   ceil(330.0011 / 7) = 47.14301429 plus open loss 0.011 × 0.1 = 0.0011 -> 47.14411429.
    alice.change_leverage(symbol=SYMBOL, leverage=7)
    limit(alice, "BUY", "0.011", "30000.1")
    assert alice.account()["totalOpenOrderInitialMargin"] == "47.14411429"
    market(bob, "SELL", "0.004")  # 0.004 filled, 7 of 11 lots left
    # remaining = ceil(4714411429 × 7 / 11) e-8 = 30.00080001
    # wallet = 10000 − maker fee ceil(120.0004 × 0.0002) = 9999.97599992
    # available = wallet − 0.0004 (uPnL) − 17.14285715 (ceil(120 / 7)) − 30.00080001
    acct = alice.account()
    assert acct["totalOpenOrderInitialMargin"] == "30.00080001"
    assert acct["totalWalletBalance"] == "9999.97599992"
    assert acct["availableBalance"] == "9952.83194276"
    # Act
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Assert
    after = alice.account()
    assert after["totalOpenOrderInitialMargin"] == "0"
    assert after["totalWalletBalance"] == "9999.97599992"
    assert after["availableBalance"] == "9982.83274277"
    assert Decimal(after["availableBalance"]) - Decimal(acct["availableBalance"]) == Decimal(
        "30.00080001"
    )
    ex.check_invariants()


def test_cancel_of_a_trigger_row_moves_no_margin(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    before = alice.account()
    # Act
    alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Assert
    after = alice.account()
    assert (
        after["availableBalance"],
        after["totalOpenOrderInitialMargin"],
        after["totalWalletBalance"],
    ) == ("9985", "15", "10000")
    assert after == before
    ex.check_invariants()


# -- 4.7 trigger rows cancelled directly -----------------------------------------------------


def test_cancel_of_a_stop_loss_row_cancels_that_row_only(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Assert
    assert (resp["orderId"], resp["status"], resp["parentOrderId"]) == (3, "CANCELED", 1)
    assert "triggerOrders" not in resp
    assert (status(alice, 1), status(alice, 2)) == ("NEW", "NEW")
    assert row_state(ex, 2) == "PENDING"
    ex.check_invariants()


def test_sibling_of_a_directly_cancelled_row_still_arms_on_the_parents_fill(ex, alice, bob):
    # Arrange: parent 1, TP 2, SL 3 (cancelled)
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Act: bob's MARKET sell 4 fills the parent
    market(bob, "SELL")
    # Assert
    assert (row_state(ex, 2), row_state(ex, 3)) == ("ARMED", "CANCELED")
    ex.check_invariants()


def test_cancel_of_a_standalone_stop_by_its_client_id(ex, alice):
    # Arrange
    alice.new_order(
        symbol=SYMBOL,
        side="SELL",
        type="STOP_MARKET",
        quantity="0.010",
        stopPrice="29000",
        newClientOrderId="my-stop",
    )
    # Act
    resp = alice.cancel_order(symbol=SYMBOL, origClientOrderId="my-stop")
    # Assert
    assert (resp["orderId"], resp["status"], resp["type"], resp["parentOrderId"]) == (
        1,
        "CANCELED",
        "STOP_MARKET",
        0,
    )
    ex.check_invariants()


def fire_stop_loss(ex, alice, bob, carol) -> None:
    """Parent 1, TP 2, SL 3 (watching the mark); bob fills it (4); carol bids 0.010 @ 28600
    (5); the mark falls to 28900, so SL 3 fires and places child 6, which fills at carol."""
    bracket(alice, tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", price="28600")
    ex.set_mark_price(SYMBOL, "28900")


def test_fired_row_cannot_be_cancelled_and_the_message_names_its_child(ex, alice, bob, carol):
    # Arrange
    fire_stop_loss(ex, alice, bob, carol)
    assert alice.query_order(symbol=SYMBOL, orderId=3)["triggeredOrderId"] == 6
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=3),
        -2090,
        "Trigger order 3 has already triggered; it placed order 6.",
        next_id=7,
    )
    ex.check_invariants()


def test_row_cancelled_directly_cannot_be_cancelled_again(ex, alice):
    # Arrange
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=3)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=3),
        -2091,
        "Trigger order 3 is already canceled.",
        next_id=4,
    )


def test_row_cancelled_by_cascade_cannot_be_cancelled_again(ex, alice):
    # Arrange
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=1)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=2),
        -2091,
        "Trigger order 2 is already canceled.",
        next_id=4,
    )


def test_row_cancelled_by_its_oco_sibling_firing_cannot_be_cancelled(ex, alice, bob, carol):
    # Arrange: SL 3 fired, so TP 2 was cancelled with it
    fire_stop_loss(ex, alice, bob, carol)
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=2),
        -2091,
        "Trigger order 2 is already canceled.",
        next_id=7,
    )
    ex.check_invariants()


def test_row_expired_with_its_closed_position_cannot_be_cancelled(ex, alice, bob, carol):
    # Arrange: parent 1 filled by bob (4); carol bids (5); alice closes by hand (6)
    bracket(alice)
    market(bob, "SELL")
    limit(carol, "BUY")
    market(alice, "SELL")
    assert position(alice) == "0"
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=3),
        -2092,
        "Trigger order 3 expired: the position it protected is closed.",
        next_id=7,
    )
    assert_refused(
        ex,
        lambda: alice.cancel_order(symbol=SYMBOL, orderId=2),
        -2092,
        "Trigger order 2 expired: the position it protected is closed.",
        next_id=8,
    )
    ex.check_invariants()


def test_another_accounts_row_cannot_be_cancelled(ex, alice, bob):
    # Arrange
    bracket(alice)
    # Act / Assert
    assert_refused(
        ex,
        lambda: bob.cancel_order(symbol=SYMBOL, orderId=3),
        -2093,
        "Trigger order 3 belongs to another account.",
        next_id=4,
    )
    assert row_state(ex, 3) == "PENDING"


# -- 4.8 batch -----------------------------------------------------------------------------------


def test_batch_cancel_answers_in_request_order_with_failures_in_place(ex, alice):
    # Arrange: ids 1 and 2
    limit(alice, "BUY")
    limit(alice, "BUY", price="29000")
    # Act
    resp = alice.cancel_batch_order(SYMBOL, [2, 999, 1], None)
    # Assert
    assert [r.get("orderId") for r in resp] == [2, None, 1]
    assert (resp[0]["status"], resp[2]["status"]) == ("CANCELED", "CANCELED")
    assert resp[1] == {"code": -2011, "msg": "Unknown order sent."}
    ex.check_invariants()


def test_batch_cancel_of_parent_then_its_stop_loss_reports_the_row_already_cancelled(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    # Act
    resp = alice.cancel_batch_order(SYMBOL, [1, 3], None)
    # Assert
    assert (resp[0]["orderId"], resp[0]["status"]) == (1, "CANCELED")
    assert [r["orderId"] for r in resp[0]["triggerOrders"]] == [2, 3]
    assert resp[1] == {"code": -2091, "msg": "Trigger order 3 is already canceled."}
    ex.check_invariants()


def test_batch_cancel_accepts_the_id_list_as_json_text(ex, alice):
    # Arrange
    limit(alice, "BUY")
    limit(alice, "BUY", price="29000")
    # Act
    resp = alice.cancel_batch_order(SYMBOL, "[1,2]", None)
    # Assert
    assert [(r["orderId"], r["status"]) for r in resp] == [(1, "CANCELED"), (2, "CANCELED")]
    ex.check_invariants()


@pytest.mark.parametrize("cids", [["x", "y"], '["x","y"]'], ids=["python list", "json text"])
def test_batch_cancel_by_client_ids(ex, alice, cids):
    # Arrange
    limit(alice, "BUY", newClientOrderId="x")
    limit(alice, "BUY", newClientOrderId="y")
    # Act
    resp = alice.cancel_batch_order(SYMBOL, None, cids)
    # Assert
    assert [(r["clientOrderId"], r["status"]) for r in resp] == [
        ("x", "CANCELED"),
        ("y", "CANCELED"),
    ]
    ex.check_invariants()


def test_batch_cancel_of_exactly_ten_ids_is_accepted(ex, alice):
    # Arrange
    for _ in range(10):
        limit(alice, "BUY")
    # Act
    resp = alice.cancel_batch_order(SYMBOL, list(range(1, 11)), None)
    # Assert
    assert [r["status"] for r in resp] == ["CANCELED"] * 10
    ex.check_invariants()


def test_batch_cancel_of_eleven_ids_cancels_nothing(ex, alice):
    # Arrange
    for _ in range(11):
        limit(alice, "BUY")
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_batch_order(SYMBOL, list(range(1, 12)), None),
        -4032,
        "Exceed maximum cancel order size.",
        next_id=12,
    )
    assert len(alice.get_orders(symbol=SYMBOL)) == 11


@pytest.mark.parametrize("ids", [[], "[]"], ids=["python list", "json text"])
def test_batch_cancel_of_an_empty_list_is_refused(ex, alice, ids):
    # Arrange
    limit(alice, "BUY")
    # Act / Assert
    assert_refused(
        ex,
        lambda: alice.cancel_batch_order(SYMBOL, ids, None),
        -1102,
        "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
        next_id=2,
    )


# -- 4.8 cancel all open orders ----------------------------------------------------------------


def test_cancel_open_orders_cancels_the_callers_orders_and_rows_on_that_symbol_only(
    ex, alice, bob, carol
):
    # Arrange (ids):
    #   1 alice parent (filled by 4) with TP 2, SL 3 -> ARMED rows on a position
    #   5 alice parent with TP 6, SL 7 -> PENDING rows
    #   8 alice plain LIMIT, 9 alice standalone stop (ARMED)
    #   10 alice ETHUSDT order, 11 bob BTCUSDT order
    bracket(alice)
    market(carol, "SELL")
    limit(alice, "BUY", price="29500", takeProfitPrice="33000", stopLossPrice="29000")
    limit(alice, "BUY", price="29000")
    alice.new_order(
        symbol=SYMBOL, side="SELL", type="STOP_MARKET", quantity="0.010", stopPrice="28000"
    )
    limit(alice, "BUY", "0.100", "2000", symbol="ETHUSDT")
    limit(bob, "BUY", price="29000")
    assert (row_state(ex, 2), row_state(ex, 6), row_state(ex, 9)) == (
        "ARMED",
        "PENDING",
        "ARMED",
    )
    # Act
    resp = alice.cancel_open_orders(symbol=SYMBOL)
    # Assert
    assert resp == CANCEL_ALL_DONE
    assert [status(alice, i) for i in (1, 2, 3, 5, 6, 7, 8, 9)] == [
        "FILLED",
        "CANCELED",
        "CANCELED",
        "CANCELED",
        "CANCELED",
        "CANCELED",
        "CANCELED",
        "CANCELED",
    ]
    assert alice.get_orders(symbol=SYMBOL) == []
    assert status(alice, 10, "ETHUSDT") == "NEW"
    assert status(bob, 11) == "NEW"
    assert position(alice) == "0.01"
    # only the ETH order's 0.100 × 2000 / 20 = 10 stays frozen
    assert alice.account()["totalOpenOrderInitialMargin"] == "10"
    ex.check_invariants()


def test_cancel_open_orders_with_nothing_open_answers_the_same(ex, alice):
    # Act
    resp = alice.cancel_open_orders(symbol=SYMBOL)
    # Assert
    assert resp == CANCEL_ALL_DONE
    ex.check_invariants()


def test_cancel_open_orders_of_an_unknown_symbol_is_refused(ex, alice):
    # Arrange
    limit(alice, "BUY")
    # Act / Assert
    assert_refused(
        ex, lambda: alice.cancel_open_orders(symbol="XRPUSDT"), -1121, "Invalid symbol.", next_id=2
    )


# -- 4.8 countdown -------------------------------------------------------------------------------


def test_countdown_answers_symbol_and_countdown_time_as_a_string(ex, alice):
    # Act
    resp = alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=5000)
    # Assert
    assert resp == {"symbol": SYMBOL, "countdownTime": "5000"}
    ex.check_invariants()


def test_countdown_cancels_at_the_deadline_with_the_deadline_as_update_time(ex, alice, bob):
    # Arrange: alice's parent 1, TP 2, SL 3 and an ETH order 4; bob's order 5
    bracket(alice)
    limit(alice, "BUY", "0.100", "2000", symbol="ETHUSDT")
    limit(bob, "BUY")
    alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=5000)
    ex.advance(ms=4999)
    assert status(alice, 1) == "NEW"
    # Act: the clock passes the deadline in one step
    ex.advance(ms=3000)
    # Assert
    for oid in (1, 2, 3):
        order = alice.query_order(symbol=SYMBOL, orderId=oid)
        assert (order["status"], order["updateTime"]) == ("CANCELED", START_MS + 5000)
    assert status(alice, 4, "ETHUSDT") == "NEW"
    assert status(bob, 5) == "NEW"
    assert ex.now == START_MS + 7999
    ex.check_invariants()


def test_countdown_fires_once(ex, alice):
    # Arrange: the countdown cancels order 1; order 2 is placed after the deadline
    limit(alice, "BUY")
    alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=1000)
    ex.advance(ms=1000)
    limit(alice, "BUY")
    # Act
    ex.advance(ms=10_000)
    # Assert
    assert (status(alice, 1), status(alice, 2)) == ("CANCELED", "NEW")
    ex.check_invariants()


def test_second_countdown_call_replaces_the_deadline(ex, alice):
    # Arrange: deadline t0 + 5000, then at t0 + 2000 a new 5000 -> t0 + 7000
    limit(alice, "BUY")
    alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=5000)
    ex.advance(ms=2000)
    alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=5000)
    # Act
    ex.advance(ms=4000)  # t0 + 6000: past the first deadline only
    still_open = status(alice, 1)
    ex.advance(ms=2000)  # t0 + 8000
    # Assert
    assert still_open == "NEW"
    order = alice.query_order(symbol=SYMBOL, orderId=1)
    assert (order["status"], order["updateTime"]) == ("CANCELED", START_MS + 7000)
    ex.check_invariants()


def test_countdown_of_zero_disables_it(ex, alice):
    # Arrange
    limit(alice, "BUY")
    alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=5000)
    # Act
    resp = alice.countdown_cancel_order(symbol=SYMBOL, countdownTime=0)
    ex.advance(ms=60_000)
    # Assert
    assert resp == {"symbol": SYMBOL, "countdownTime": "0"}
    assert status(alice, 1) == "NEW"
    ex.check_invariants()


def test_a_cancel_answers_the_same_after_the_wire_string_memos_are_emptied(ex, alice):
    # Arrange: the placement's answer memoised the price and quantity strings
    placed = limit(alice, "BUY", "0.013", "29876.5")
    inst = ex._instruments[SYMBOL]
    inst._price_cache.clear()
    inst._qty_cache.clear()
    # Act
    cancelled = alice.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
    # Assert: the memos are an optimisation only
    assert (cancelled["price"], cancelled["origQty"], cancelled["status"]) == (
        "29876.5", "0.013", "CANCELED")
    assert {k: v for k, v in cancelled.items() if k not in ("status", "updateTime")} == {
        k: v for k, v in placed.items() if k not in ("status", "updateTime")}
