"""Trigger orders (SPEC §5, with the trigger rules of §3 "Prices"): attached TP/SL, arming,
direction, working types, firing, OCO, expiry, standalone conditionals, -2021, trailing stops,
evaluation order and listing — one behaviour per test.

Order ids are one venue-wide sequence starting at 1, so each test names the ids its set-up
creates in a comment and asserts against those literals.  A row's lifecycle state
(PENDING / ARMED / TRIGGERED / CANCELED / EXPIRED) is read from the order index, since the
wire ``status`` is NEW for both PENDING and ARMED.  Every test ends with
``check_invariants()`` (in the ``ex`` fixture's teardown).

Fills: one account rests a LIMIT, another takes it with a MARKET order.  PERCENT_PRICE keeps a
LIMIT within ±5 % of the mark at placement, so resting liquidity for a later mark move is
placed while the mark still allows it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import ClientError, Exchange

START_MS = 1_704_067_200_000
SYMBOL = "BTCUSDT"
WOULD_TRIGGER = "Order would immediately trigger."


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def ex():
    """alice, bob, carol and dave with 10000 USDT each; BTCUSDT mark 30000, no trade yet.

    Every test ends with the venue's invariants checked."""
    venue = Exchange()
    for name in ("alice", "bob", "carol", "dave"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price(SYMBOL, "30000")
    yield venue
    venue.check_invariants()


@pytest.fixture
def bare():
    """A venue where no price is known yet (no mark, no trade); same four accounts."""
    venue = Exchange()
    for name in ("alice", "bob", "carol", "dave"):
        venue.create_account(name, balance="10000")
    yield venue
    venue.check_invariants()


def limit(client, side: str, qty: str = "0.010", price: str = "30000", **kw) -> dict:
    return client.new_order(
        symbol=SYMBOL,
        side=side,
        type="LIMIT",
        timeInForce=kw.pop("timeInForce", "GTC"),
        quantity=qty,
        price=price,
        **kw,
    )


def market(client, side: str, qty: str = "0.010", **kw) -> dict:
    return client.new_order(symbol=SYMBOL, side=side, type="MARKET", quantity=qty, **kw)


def conditional(client, side: str, type_: str, stop: str, qty: str | None = "0.010", **kw):
    """A STOP / STOP_MARKET / TAKE_PROFIT / TAKE_PROFIT_MARKET row (limit types at the stop
    price unless ``price`` is given)."""
    if type_ in ("STOP", "TAKE_PROFIT"):
        kw.setdefault("price", stop)
    if qty is not None:
        kw["quantity"] = qty
    return client.new_order(symbol=SYMBOL, side=side, type=type_, stopPrice=stop, **kw)


def trailing(client, side: str, rate: str, qty: str = "0.010", **kw) -> dict:
    return client.new_order(
        symbol=SYMBOL,
        side=side,
        type="TRAILING_STOP_MARKET",
        quantity=qty,
        callbackRate=rate,
        **kw,
    )


def bracket(client, qty: str = "0.010", **kw) -> dict:
    """A BUY LIMIT at 30000 with TP 33000 and SL 29000: ids parent, parent+1 (TP), +2 (SL)."""
    kw.setdefault("takeProfitPrice", "33000")
    kw.setdefault("stopLossPrice", "29000")
    return limit(client, "BUY", qty, "30000", **kw)


def state(ex: Exchange, order_id: int) -> str:
    return ex._index.by_id[order_id].state


def query(client, order_id: int) -> dict:
    return client.query_order(symbol=SYMBOL, orderId=order_id)


def status(client, order_id: int) -> str:
    return query(client, order_id)["status"]


def position(client) -> str:
    rows = client.get_position_risk(symbol=SYMBOL)  # v3: no row for a flat side
    return rows[0]["positionAmt"] if rows else "0"


def asks(client) -> list[list[str]]:
    return client.depth(symbol=SYMBOL)["asks"]


def bids(client) -> list[list[str]]:
    return client.depth(symbol=SYMBOL)["bids"]


def assert_refused(ex: Exchange, call, code: int, message: str, *, next_id: int) -> None:
    """``call()`` raises exactly (400, code, message), changes nothing, and consumes no id:
    the next order (a small bid by a fresh bystander) takes ``next_id``."""
    before = ex.state_hash()
    with pytest.raises(ClientError) as info:
        call()
    err = info.value
    assert (err.status_code, err.error_code, err.error_message) == (400, code, message)
    assert ex.state_hash() == before
    ex.create_account("probe", balance="1000")
    probe_client = ex.client("probe")
    mark = Decimal(probe_client.mark_price(symbol=SYMBOL)["markPrice"])
    probe = probe_client.new_order(
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.004",
        price=(mark * Decimal("0.97")).quantize(Decimal("0.1")),
    )
    assert probe["orderId"] == next_id


def fire_stop_loss(ex, alice, bob, carol) -> None:
    """Parent 1, TP 2, SL 3 (watching the mark); bob fills it (4); carol bids 0.010 @ 28600
    (5); the mark falls to 28900, so SL 3 fires and places child 6, which fills at carol."""
    bracket(alice, tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", price="28600")
    ex.set_mark_price(SYMBOL, "28900")


# -- attached at entry ---------------------------------------------------------------------------


def test_take_profit_and_stop_loss_are_created_with_the_parent_under_the_next_ids(ex, alice):
    # Act: parent 1, TP 2, SL 3
    resp = bracket(alice)
    # Assert
    assert (resp["orderId"], resp["status"], resp["side"]) == (1, "NEW", "BUY")
    assert [
        (
            r["orderId"],
            r["type"],
            r["side"],
            r["reduceOnly"],
            r["origQty"],
            r["stopPrice"],
            r["price"],
            r["parentOrderId"],
            r["status"],
        )
        for r in resp["triggerOrders"]
    ] == [
        (2, "TAKE_PROFIT_MARKET", "SELL", True, "0.01", "33000", "0", 1, "NEW"),
        (3, "STOP_MARKET", "SELL", True, "0.01", "29000", "0", 1, "NEW"),
    ]
    assert (state(ex, 2), state(ex, 3)) == ("PENDING", "PENDING")


def test_rows_attached_to_a_sell_parent_are_buys(ex, alice):
    # Act: SELL parent 1 at 30000, TP 2 at 27000, SL 3 at 31000
    resp = limit(alice, "SELL", "0.020", takeProfitPrice="27000", stopLossPrice="31000")
    # Assert
    assert [
        (r["orderId"], r["side"], r["origQty"], r["reduceOnly"]) for r in resp["triggerOrders"]
    ] == [
        (2, "BUY", "0.02", True),
        (3, "BUY", "0.02", True),
    ]


def test_limit_take_profit_and_stop_carry_their_limit_prices_as_the_row_price(ex, alice):
    # Act: parent 1, TP 2 (TAKE_PROFIT 33000 -> 32900), SL 3 (STOP 29000 -> 28900)
    resp = bracket(
        alice,
        takeProfitType="TAKE_PROFIT",
        takeProfitLimitPrice="32900",
        stopLossType="STOP",
        stopLossLimitPrice="28900",
    )
    # Assert
    assert [(r["type"], r["stopPrice"], r["price"]) for r in resp["triggerOrders"]] == [
        ("TAKE_PROFIT", "33000", "32900"),
        ("STOP", "29000", "28900"),
    ]


def test_rows_watch_the_tpsl_working_type_and_the_contract_price_by_default(ex, alice):
    # Act: parent 1 with rows 2, 3 on the mark; parent 4 with rows 5, 6 left to the default
    on_mark = bracket(alice, tpslWorkingType="MARK_PRICE")
    default = bracket(alice)
    # Assert
    assert [r["workingType"] for r in on_mark["triggerOrders"]] == ["MARK_PRICE"] * 2
    assert [r["workingType"] for r in default["triggerOrders"]] == ["CONTRACT_PRICE"] * 2
    assert [r["orderId"] for r in default["triggerOrders"]] == [5, 6]


def test_attached_rows_freeze_no_margin(ex, alice, bob):
    # Act: alice's parent with TP/SL and bob's same order without: 0.010 × 30000 / 20 = 15
    bracket(alice)
    limit(bob, "BUY")
    # Assert
    for client in (alice, bob):
        acct = client.account()
        assert (acct["totalOpenOrderInitialMargin"], acct["availableBalance"]) == ("15", "9985")


def test_a_refused_parent_creates_none_of_its_rows(ex):
    # Arrange: erin has 10 USDT; the parent would freeze 15
    ex.create_account("erin", balance="10")
    erin = ex.client("erin")
    # Act / Assert
    assert_refused(ex, lambda: bracket(erin), -2019, "Margin is insufficient.", next_id=1)
    assert erin.get_all_orders(symbol=SYMBOL) == []


# -- arming, quantities, attaching later ---------------------------------------------------------


def test_first_fill_of_the_parent_arms_its_pending_rows(ex, alice, bob):
    # Arrange: parent 1 (0.020), TP 2, SL 3
    bracket(alice, "0.020")
    # Act: bob's MARKET sell 4 fills 0.004
    market(bob, "SELL", "0.004")
    # Assert
    assert (state(ex, 2), state(ex, 3)) == ("ARMED", "ARMED")
    assert (status(alice, 2), status(alice, 3)) == ("NEW", "NEW")
    assert status(alice, 1) == "PARTIALLY_FILLED"


def test_armed_row_quantity_follows_the_parents_executed_quantity_on_each_fill(
    ex, alice, bob, carol, dave
):
    # Arrange: parent 1 (0.020), TP 2, SL 3
    bracket(alice, "0.020")
    seen = [(query(alice, 2)["origQty"], query(alice, 3)["origQty"])]
    # Act: three fills of 0.004, 0.006 and 0.010
    for client, qty in ((bob, "0.004"), (carol, "0.006"), (dave, "0.010")):
        market(client, "SELL", qty)
        seen.append((query(alice, 2)["origQty"], query(alice, 3)["origQty"]))
    # Assert
    assert seen == [("0.02", "0.02"), ("0.004", "0.004"), ("0.01", "0.01"), ("0.02", "0.02")]
    assert status(alice, 1) == "FILLED"
    assert (state(ex, 2), state(ex, 3)) == ("ARMED", "ARMED")


def test_row_attached_later_to_an_open_parent_is_pending_with_the_parents_quantity(ex, alice):
    # Arrange: open parent 1 (0.020)
    limit(alice, "BUY", "0.020")
    # Act: SL 2 attached by parentOrderId, no quantity
    resp = conditional(alice, "SELL", "STOP_MARKET", "29000", qty=None, parentOrderId=1)
    # Assert
    assert (
        resp["orderId"],
        resp["parentOrderId"],
        resp["side"],
        resp["reduceOnly"],
        resp["origQty"],
        resp["status"],
    ) == (2, 1, "SELL", True, "0.02", "NEW")
    assert state(ex, 2) == "PENDING"


def test_row_attached_later_to_a_filled_parent_with_its_position_open_is_armed_at_once(
    ex, alice, bob
):
    # Arrange: parent 1 (0.010) filled by bob's MARKET sell 2
    limit(alice, "BUY")
    market(bob, "SELL")
    assert status(alice, 1) == "FILLED"
    # Act: SL 3 attached to the filled parent
    resp = conditional(alice, "SELL", "STOP_MARKET", "29000", qty=None, parentOrderId=1)
    # Assert
    assert (resp["orderId"], resp["origQty"], resp["reduceOnly"]) == (3, "0.01", True)
    assert state(ex, 3) == "ARMED"


def test_row_attached_later_to_a_filled_parent_whose_position_is_closed_is_refused(
    ex, alice, bob, carol
):
    # Arrange: parent 1 filled by bob (2); carol bids (3); alice closes by hand (4)
    limit(alice, "BUY")
    market(bob, "SELL")
    limit(carol, "BUY")
    market(alice, "SELL", reduceOnly="true")
    assert position(alice) == "0"
    # Act / Assert
    assert_refused(
        ex,
        lambda: conditional(alice, "SELL", "STOP_MARKET", "29000", qty=None, parentOrderId=1),
        -2013,
        "Order does not exist.",
        next_id=5,
    )


def test_row_attached_later_to_an_expired_parent_with_its_position_open_is_armed_at_once(
    ex, alice, bob
):
    # Arrange: bob offers 0.006 (1); alice's IOC parent 2 (0.010) fills 0.006 and expires
    limit(bob, "SELL", "0.006")
    assert limit(alice, "BUY", timeInForce="IOC")["status"] == "EXPIRED"
    # Act: SL 3 attached with a cap of 0.004
    resp = conditional(alice, "SELL", "STOP_MARKET", "29000", qty="0.004", parentOrderId=2)
    # Assert
    assert (resp["orderId"], resp["parentOrderId"], resp["origQty"]) == (3, 2, "0.004")
    assert state(ex, 3) == "ARMED"


def test_parent_that_fills_on_arrival_answers_its_rows_already_armed(ex, alice, bob):
    # Arrange: bob offers 0.004 (1)
    limit(bob, "SELL", "0.004")
    # Act: alice's parent 2 (0.010) crosses it on arrival; TP 3, SL 4
    resp = bracket(alice)
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("PARTIALLY_FILLED", "0.004")
    assert [(r["orderId"], r["status"], r["origQty"]) for r in resp["triggerOrders"]] == [
        (3, "NEW", "0.004"),
        (4, "NEW", "0.004"),
    ]
    assert (state(ex, 3), state(ex, 4)) == ("ARMED", "ARMED")


def test_quantity_sent_with_parent_order_id_caps_the_row(ex, alice, bob, carol):
    # Arrange: open parent 1 (0.020); SL 2 attached with quantity 0.005
    limit(alice, "BUY", "0.020")
    placed = conditional(alice, "SELL", "STOP_MARKET", "29000", qty="0.005", parentOrderId=1)
    # Act: fills of 0.004 (bob, 3), then 0.010 more (carol, 4)
    market(bob, "SELL", "0.004")
    after_first = query(alice, 2)["origQty"]
    market(carol, "SELL", "0.010")
    after_second = query(alice, 2)["origQty"]
    # Assert: capped while PENDING, follows executedQty below the cap, stops at the cap
    assert placed["origQty"] == "0.005"
    assert (after_first, after_second) == ("0.004", "0.005")
    assert state(ex, 2) == "ARMED"


def test_row_attached_later_joins_the_oco_group_of_the_rows_attached_at_entry(
    ex, alice, bob, carol
):
    # Arrange: parent 1 with SL 2 on the mark; TP 3 attached later; bob fills (4);
    # carol bids 0.010 @ 28600 (5)
    limit(alice, "BUY", stopLossPrice="29000", tpslWorkingType="MARK_PRICE")
    conditional(alice, "SELL", "TAKE_PROFIT_MARKET", "33000", qty=None, parentOrderId=1)
    market(bob, "SELL")
    limit(carol, "BUY", price="28600")
    assert (state(ex, 2), state(ex, 3)) == ("ARMED", "ARMED")
    # Act: SL 2 fires (child 6)
    ex.set_mark_price(SYMBOL, "28900")
    # Assert
    assert (state(ex, 2), state(ex, 3)) == ("TRIGGERED", "CANCELED")
    assert query(alice, 2)["triggeredOrderId"] == 6


def test_rows_attached_later_to_one_parent_are_one_oco_group(ex, alice, bob, carol):
    # Arrange: parent 1 without rows; TP 2 and SL 3 attached later on the mark; bob fills (4);
    # carol bids (5)
    limit(alice, "BUY")
    conditional(alice, "SELL", "TAKE_PROFIT_MARKET", "33000", qty=None, parentOrderId=1)
    conditional(
        alice, "SELL", "STOP_MARKET", "29000", qty=None, parentOrderId=1, workingType="MARK_PRICE"
    )
    market(bob, "SELL")
    limit(carol, "BUY", price="28600")
    # Act: SL 3 fires (child 6)
    ex.set_mark_price(SYMBOL, "28900")
    # Assert
    assert (state(ex, 2), state(ex, 3)) == ("CANCELED", "TRIGGERED")


def test_pending_row_past_its_price_fires_as_soon_as_the_parent_fills(ex, alice, bob, carol):
    # Arrange: parent 1 bids 0.010 @ 30000 with TP 2, SL 3 at 29000 on the mark
    bracket(alice, tpslWorkingType="MARK_PRICE")
    ex.set_mark_price(SYMBOL, "28900")  # beyond the SL while the parent still rests
    assert (state(ex, 2), state(ex, 3)) == ("PENDING", "PENDING")
    limit(carol, "BUY", price="28600")  # 4: liquidity for the stop's child
    # Act: bob's MARKET sell 5 fills the parent at 30000
    market(bob, "SELL")
    # Assert: SL 3 armed and fired at once; its child 6 sold to carol
    assert (state(ex, 2), state(ex, 3)) == ("CANCELED", "TRIGGERED")
    child = query(alice, 6)
    assert (child["origType"], child["status"], child["avgPrice"]) == (
        "STOP_MARKET",
        "FILLED",
        "28600",
    )
    assert position(alice) == "0"


# -- direction -----------------------------------------------------------------------------------


def place_stop_entry(ex, alice, side: str, type_: str, stop: str) -> None:
    """A standalone, non-reduce-only row (id 1) on the mark."""
    conditional(alice, side, type_, stop, workingType="MARK_PRICE")
    assert state(ex, 1) == "ARMED"


@pytest.mark.parametrize("type_", ["STOP_MARKET", "STOP"])
def test_stop_buy_fires_at_or_above_its_stop_price(ex, alice, type_):
    # Arrange
    place_stop_entry(ex, alice, "BUY", type_, "30100")
    ex.set_mark_price(SYMBOL, "30099.9")
    assert state(ex, 1) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "30100")
    # Assert
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)


@pytest.mark.parametrize("type_", ["STOP_MARKET", "STOP"])
def test_stop_sell_fires_at_or_below_its_stop_price(ex, alice, type_):
    # Arrange
    place_stop_entry(ex, alice, "SELL", type_, "29900")
    ex.set_mark_price(SYMBOL, "29900.1")
    assert state(ex, 1) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "29900")
    # Assert
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)


@pytest.mark.parametrize("type_", ["TAKE_PROFIT_MARKET", "TAKE_PROFIT"])
def test_take_profit_buy_fires_at_or_below_its_stop_price(ex, alice, type_):
    # Arrange
    place_stop_entry(ex, alice, "BUY", type_, "29900")
    ex.set_mark_price(SYMBOL, "29900.1")
    assert state(ex, 1) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "29900")
    # Assert
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)


@pytest.mark.parametrize("type_", ["TAKE_PROFIT_MARKET", "TAKE_PROFIT"])
def test_take_profit_sell_fires_at_or_above_its_stop_price(ex, alice, type_):
    # Arrange
    place_stop_entry(ex, alice, "SELL", type_, "30100")
    ex.set_mark_price(SYMBOL, "30099.9")
    assert state(ex, 1) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "30100")
    # Assert
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)


def test_stop_sell_does_not_fire_on_a_move_away_from_its_price(ex, alice):
    # Arrange: a sell stop at 29900
    place_stop_entry(ex, alice, "SELL", "STOP_MARKET", "29900")
    # Act
    ex.set_mark_price(SYMBOL, "31000")
    # Assert
    assert state(ex, 1) == "ARMED"


# -- working type and the prices of SPEC 3 -------------------------------------------------------


def trade(seller, buyer, qty: str = "0.010", price: str = "30000") -> None:
    """``seller`` rests a LIMIT SELL at ``price``, ``buyer`` takes it with a MARKET BUY."""
    limit(seller, "SELL", qty, price)
    market(buyer, "BUY", qty)


def test_mark_price_row_fires_on_a_mark_move(ex, alice, bob, carol):
    # Arrange: a trade at 30000 (1, 2); alice's sell stop 3 at 29900 on the mark
    trade(bob, carol)
    conditional(alice, "SELL", "STOP_MARKET", "29900", workingType="MARK_PRICE")
    # Act
    ex.set_mark_price(SYMBOL, "29800")
    # Assert
    assert (state(ex, 3), query(alice, 3)["triggeredOrderId"]) == ("TRIGGERED", 4)


def test_contract_price_row_ignores_a_mark_move_once_a_trade_has_set_the_last_price(
    ex, alice, bob, carol
):
    # Arrange: a trade at 30000 (1, 2); alice's sell stop 3 at 29900 on the last price
    trade(bob, carol)
    conditional(alice, "SELL", "STOP_MARKET", "29900", workingType="CONTRACT_PRICE")
    # Act
    ex.set_mark_price(SYMBOL, "29000")
    # Assert
    assert state(ex, 3) == "ARMED"
    assert "triggeredOrderId" not in query(alice, 3)


def test_contract_price_row_fires_on_a_trade_through_its_price(ex, alice, bob, carol, dave):
    # Arrange: a trade at 30000 (1, 2); alice's sell stop 3 at 29900 on the last price;
    # dave bids 0.004 @ 29800 (4)
    trade(bob, carol)
    conditional(alice, "SELL", "STOP_MARKET", "29900")
    limit(dave, "BUY", "0.004", "29800")
    assert state(ex, 3) == "ARMED"
    # Act: bob sells into dave's bid (5): the last price is 29800
    market(bob, "SELL", "0.004")
    # Assert
    assert (state(ex, 3), query(alice, 3)["triggeredOrderId"]) == ("TRIGGERED", 6)


def test_contract_price_row_reacts_to_the_mark_before_the_first_trade(ex, alice):
    # Arrange: no trade yet; alice's sell stop 1 at 29900 on the last price
    conditional(alice, "SELL", "STOP_MARKET", "29900", workingType="CONTRACT_PRICE")
    ex.set_mark_price(SYMBOL, "29900.1")
    assert state(ex, 1) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "29900")
    # Assert
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)


def test_mark_price_row_reacts_to_trades_while_no_mark_has_been_set(bare):
    # Arrange: no price known; alice's sell stop 1 at 29000 on the mark; bob bids @ 28900 (2)
    alice, bob, carol = (bare.client(n) for n in ("alice", "bob", "carol"))
    conditional(alice, "SELL", "STOP_MARKET", "29000", workingType="MARK_PRICE")
    limit(bob, "BUY", "0.010", "28900")
    assert state(bare, 1) == "ARMED"
    # Act: carol sells into it (3): the last price 28900 is the mark too
    market(carol, "SELL")
    # Assert
    assert (state(bare, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 4)


def test_trigger_placed_with_no_price_known_skips_the_would_fire_at_once_check(bare):
    # Arrange: no mark and no trade
    alice, bob, carol = (bare.client(n) for n in ("alice", "bob", "carol"))
    # Act: a sell stop at 35000, above any price the first trade will print
    resp = conditional(alice, "SELL", "STOP_MARKET", "35000")
    # Assert: accepted and armed; the first trade at 30000 fires it
    assert (resp["orderId"], resp["status"], state(bare, 1)) == (1, "NEW", "ARMED")
    trade(bob, carol)
    assert (state(bare, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 4)


# -- firing --------------------------------------------------------------------------------------


def test_fired_row_is_triggered_and_records_the_new_order_id_of_its_child(ex, alice, bob, carol):
    # Act: SL 3 fires on the mark, child 6 fills at carol's 28600
    fire_stop_loss(ex, alice, bob, carol)
    # Assert: the row keeps its id and names its child
    row = query(alice, 3)
    assert (row["orderId"], row["status"], row["type"], row["triggeredOrderId"]) == (
        3,
        "TRIGGERED",
        "STOP_MARKET",
        6,
    )
    assert state(ex, 3) == "TRIGGERED"
    child = query(alice, 6)
    assert (
        child["orderId"],
        child["type"],
        child["origType"],
        child["side"],
        child["reduceOnly"],
        child["origQty"],
        child["executedQty"],
        child["status"],
        child["avgPrice"],
    ) == (6, "MARKET", "STOP_MARKET", "SELL", True, "0.01", "0.01", "FILLED", "28600")
    assert position(alice) == "0"


@pytest.mark.parametrize(
    ("legs", "mark", "child"),
    [
        pytest.param(
            {"takeProfitPrice": "31000"},
            "31000",
            ("MARKET", "TAKE_PROFIT_MARKET", "0", "GTC"),
            id="take-profit-market",
        ),
        pytest.param(
            {
                "takeProfitPrice": "31000",
                "takeProfitType": "TAKE_PROFIT",
                "takeProfitLimitPrice": "31050",
            },
            "31000",
            ("LIMIT", "TAKE_PROFIT", "31050", "GTC"),
            id="take-profit-limit",
        ),
        pytest.param(
            {"stopLossPrice": "29000"},
            "28900",
            ("MARKET", "STOP_MARKET", "0", "GTC"),
            id="stop-market",
        ),
        pytest.param(
            {"stopLossPrice": "29000", "stopLossType": "STOP", "stopLossLimitPrice": "28950"},
            "28900",
            ("LIMIT", "STOP", "28950", "GTC"),
            id="stop-limit",
        ),
    ],
)
def test_child_is_market_for_market_types_and_limit_gtc_at_the_row_price_otherwise(
    ex, alice, bob, legs, mark, child
):
    # Arrange: parent 1 with one row 2 on the mark; bob fills it (3)
    limit(alice, "BUY", tpslWorkingType="MARK_PRICE", **legs)
    market(bob, "SELL")
    # Act: the row fires, child 4 (no liquidity: a MARKET child expires, a LIMIT child rests)
    ex.set_mark_price(SYMBOL, mark)
    # Assert
    assert (state(ex, 2), query(alice, 2)["triggeredOrderId"]) == ("TRIGGERED", 4)
    placed = query(alice, 4)
    assert (placed["type"], placed["origType"], placed["price"], placed["timeInForce"]) == child
    assert (placed["side"], placed["reduceOnly"], placed["origQty"]) == ("SELL", True, "0.01")
    if child[0] == "LIMIT":
        assert placed["status"] == "NEW"
        assert asks(alice) == [[child[2], "0.01"]]
    else:
        assert placed["status"] == "EXPIRED"


def test_child_of_a_stop_entry_is_not_reduce_only_and_opens_a_position(ex, alice, dave):
    # Arrange: alice (flat) buys on a stop at 30100 (1); dave offers 0.010 @ 30100 (2)
    conditional(alice, "BUY", "STOP_MARKET", "30100", workingType="MARK_PRICE")
    limit(dave, "SELL", price="30100")
    # Act
    ex.set_mark_price(SYMBOL, "30100")
    # Assert
    child = query(alice, 3)
    assert (child["reduceOnly"], child["status"], child["avgPrice"]) == (False, "FILLED", "30100")
    assert position(alice) == "0.01"


def test_child_is_sized_at_what_the_position_can_still_reduce(ex, alice, bob, carol, dave):
    # Arrange: parent 1 (0.010) with TP 2, SL 3 on the mark, filled by bob (4);
    # carol bids 0.006 (5) and alice sells 0.006 reduce-only into it (6): long 0.004
    bracket(alice, tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", "0.006")
    market(alice, "SELL", "0.006", reduceOnly="true")
    assert position(alice) == "0.004"
    assert query(alice, 3)["origQty"] == "0.01"
    limit(dave, "BUY", "0.010", "28600")  # 7
    # Act: SL 3 fires, child 8
    ex.set_mark_price(SYMBOL, "28900")
    # Assert
    child = query(alice, 8)
    assert (child["origQty"], child["executedQty"], child["status"]) == ("0.004", "0.004", "FILLED")
    assert position(alice) == "0"
    assert bids(alice) == [["28600", "0.006"]]


def test_row_left_with_nothing_to_reduce_when_it_fires_expires_instead(ex, alice, bob, carol, dave):
    # Arrange: parent 1 (0.010) with SL 2, filled by bob (3); parent 4 (0.005) with SL 5,
    # filled by carol (6); dave bids 0.005 (7), alice sells 0.005 reduce-only into it (8):
    # long 0.010 protected by SL 2 (0.010) and SL 5 (0.005), both at 29000 on the mark
    limit(alice, "BUY", stopLossPrice="29000", tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(alice, "BUY", "0.005", stopLossPrice="29000", tpslWorkingType="MARK_PRICE")
    market(carol, "SELL", "0.005")
    limit(dave, "BUY", "0.005")
    market(alice, "SELL", "0.005", reduceOnly="true")
    assert position(alice) == "0.01"
    assert (state(ex, 2), state(ex, 5)) == ("ARMED", "ARMED")
    limit(bob, "BUY", "0.010", "28600")  # 9
    # Act: both are due; SL 2 (lower id) fires first and its child 10 closes the position
    ex.set_mark_price(SYMBOL, "28900")
    # Assert: SL 5 expired without placing a child; the next id is 11
    assert (state(ex, 2), state(ex, 5)) == ("TRIGGERED", "EXPIRED")
    assert query(alice, 2)["triggeredOrderId"] == 10
    assert query(alice, 5)["status"] == "EXPIRED"
    assert "triggeredOrderId" not in query(alice, 5)
    assert position(alice) == "0"
    assert limit(dave, "BUY", "0.004", "29000")["orderId"] == 11


# -- OCO -----------------------------------------------------------------------------------------


def test_when_the_stop_loss_fires_the_take_profit_is_canceled_in_the_same_step(
    ex, alice, bob, carol
):
    # Arrange: parent 1, TP 2, SL 3 on the mark; bob fills (4); carol bids (5)
    bracket(alice, tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", price="28600")
    ex.advance(ms=700)
    # Act: SL 3 fires; its child 6 flattens the position
    ex.set_mark_price(SYMBOL, "28900")
    # Assert: TP 2 is CANCELED (not EXPIRED), at the firing time
    tp, sl = query(alice, 2), query(alice, 3)
    assert (tp["status"], sl["status"]) == ("CANCELED", "TRIGGERED")
    assert tp["updateTime"] == sl["updateTime"] == START_MS + 700
    assert position(alice) == "0"


def test_when_the_take_profit_fires_the_stop_loss_is_canceled(ex, alice, bob, carol):
    # Arrange: parent 1, TP 2 (31000), SL 3 on the mark; bob fills (4); carol bids @ 31200 (5)
    bracket(alice, takeProfitPrice="31000", tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", price="31200")
    # Act: TP 2 fires, child 6 sells to carol
    ex.set_mark_price(SYMBOL, "31000")
    # Assert
    assert (state(ex, 2), state(ex, 3)) == ("TRIGGERED", "CANCELED")
    assert query(alice, 6)["avgPrice"] == "31200"
    assert position(alice) == "0"


# -- expiry --------------------------------------------------------------------------------------


def test_armed_rows_expire_when_a_manual_reduce_only_order_closes_the_position(
    ex, alice, bob, carol
):
    # Arrange: parent 1, TP 2, SL 3 filled by bob (4); carol bids 0.010 (5)
    bracket(alice)
    market(bob, "SELL")
    limit(carol, "BUY")
    # Act: alice closes by hand (6)
    market(alice, "SELL", reduceOnly="true")
    # Assert
    assert position(alice) == "0"
    assert (state(ex, 2), state(ex, 3)) == ("EXPIRED", "EXPIRED")
    assert (status(alice, 2), status(alice, 3)) == ("EXPIRED", "EXPIRED")


def test_armed_rows_expire_when_an_opposite_order_flips_the_position_through_zero(
    ex, alice, bob, carol
):
    # Arrange: parent 1, TP 2, SL 3 filled by bob (4); carol bids 0.020 (5)
    bracket(alice)
    market(bob, "SELL")
    limit(carol, "BUY", "0.020")
    # Act: alice sells 0.020 (6): from long 0.010 to short 0.010
    market(alice, "SELL", "0.020")
    # Assert: the SELL rows have nothing left to reduce
    assert position(alice) == "-0.01"
    assert (state(ex, 2), state(ex, 3)) == ("EXPIRED", "EXPIRED")


def test_armed_rows_expire_when_another_trigger_closes_the_position(ex, alice, bob, carol):
    # Arrange: parent 1, TP 2, SL 3 (29000) on the mark, filled by bob (4); a standalone
    # reduce-only sell stop 5 at 29500; carol bids (6)
    bracket(alice, tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true", workingType="MARK_PRICE")
    limit(carol, "BUY", price="28600")
    # Act: the mark reaches the standalone stop only; its child 7 closes the position
    ex.set_mark_price(SYMBOL, "29400")
    # Assert
    assert state(ex, 5) == "TRIGGERED"
    assert position(alice) == "0"
    assert (state(ex, 2), state(ex, 3)) == ("EXPIRED", "EXPIRED")


def test_rows_of_a_parent_whose_fill_only_closes_an_opposite_position_expire_at_once(
    ex, alice, bob, carol
):
    # Arrange: alice short 0.010 (bob bids 1, alice sells 2); her BUY parent 3 with TP 4, SL 5
    limit(bob, "BUY")
    market(alice, "SELL")
    bracket(alice)
    # Act: carol fills the parent (6): the short is closed, nothing is left for SELL rows
    market(carol, "SELL")
    # Assert
    assert position(alice) == "0"
    assert (state(ex, 4), state(ex, 5)) == ("EXPIRED", "EXPIRED")


def test_expired_rows_are_not_rearmed_when_the_parent_fills_more(ex, alice, bob, carol, dave):
    # Arrange: parent 1 (0.020), TP 2, SL 3 on the mark; bob fills 0.010 (4); carol bids
    # @ 30100 (5), ahead of the parent's rest; alice closes by hand into it (6): rows expire
    bracket(alice, "0.020", tpslWorkingType="MARK_PRICE")
    market(bob, "SELL")
    limit(carol, "BUY", price="30100")
    market(alice, "SELL", reduceOnly="true")
    assert (state(ex, 2), state(ex, 3)) == ("EXPIRED", "EXPIRED")
    # Act: dave fills the rest of the parent (7); bob bids (8); the mark passes the SL
    market(dave, "SELL")
    limit(bob, "BUY", price="28600")
    ex.set_mark_price(SYMBOL, "28900")
    # Assert: the new long has no TP/SL and nothing fired
    assert status(alice, 1) == "FILLED"
    assert (state(ex, 2), state(ex, 3)) == ("EXPIRED", "EXPIRED")
    assert (query(alice, 2)["origQty"], query(alice, 3)["origQty"]) == ("0.01", "0.01")
    assert position(alice) == "0.01"
    assert [o["orderId"] for o in alice.get_orders(symbol=SYMBOL)] == []


# -- a parent that expires -----------------------------------------------------------------------


def test_market_parent_with_thin_liquidity_keeps_its_armed_rows_for_the_executed_quantity(
    ex, alice, bob, carol
):
    # Arrange: bob offers 0.005 (1)
    limit(bob, "SELL", "0.005")
    # Act: alice's MARKET parent 2 (0.010), TP 3, SL 4 on the mark fills 0.005 and expires
    resp = market(
        alice, "BUY", takeProfitPrice="33000", stopLossPrice="29000", tpslWorkingType="MARK_PRICE"
    )
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.005")
    assert (state(ex, 3), state(ex, 4)) == ("ARMED", "ARMED")
    assert [r["origQty"] for r in resp["triggerOrders"]] == ["0.005", "0.005"]
    # ... and they still protect it: carol bids (5), SL 4 fires child 6 for 0.005
    limit(carol, "BUY", price="28600")
    ex.set_mark_price(SYMBOL, "28900")
    assert (query(alice, 6)["executedQty"], position(alice)) == ("0.005", "0")


def test_ioc_parent_that_expires_after_a_fill_keeps_its_armed_rows(ex, alice, bob):
    # Arrange: bob offers 0.004 (1)
    limit(bob, "SELL", "0.004")
    # Act: alice's IOC parent 2 (0.010) with TP 3, SL 4
    resp = limit(alice, "BUY", timeInForce="IOC", takeProfitPrice="33000", stopLossPrice="29000")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0.004")
    assert (state(ex, 3), state(ex, 4)) == ("ARMED", "ARMED")
    assert (query(alice, 3)["origQty"], query(alice, 4)["origQty"]) == ("0.004", "0.004")


def test_market_parent_that_finds_no_liquidity_cancels_its_pending_rows(ex, alice):
    # Act: an empty book: MARKET parent 1, TP 2, SL 3
    resp = market(alice, "BUY", takeProfitPrice="33000", stopLossPrice="29000")
    # Assert
    assert (resp["status"], resp["executedQty"]) == ("EXPIRED", "0")
    assert [r["status"] for r in resp["triggerOrders"]] == ["CANCELED", "CANCELED"]
    assert (state(ex, 2), state(ex, 3)) == ("CANCELED", "CANCELED")


# -- standalone conditional orders ---------------------------------------------------------------


def test_standalone_conditional_order_is_armed_at_creation(ex, alice):
    # Act: a stop entry 1
    resp = conditional(alice, "SELL", "STOP_MARKET", "29000")
    # Assert
    assert (resp["orderId"], resp["status"], resp["parentOrderId"], resp["reduceOnly"]) == (
        1,
        "NEW",
        0,
        False,
    )
    assert state(ex, 1) == "ARMED"


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param({"reduceOnly": "true"}, id="reduce-only"),
        pytest.param({"closePosition": "true", "qty": None}, id="close-position"),
    ],
)
def test_standalone_reducing_row_with_nothing_to_reduce_is_refused(ex, alice, flags):
    # Act / Assert: alice is flat
    assert_refused(
        ex,
        lambda: conditional(alice, "SELL", "STOP_MARKET", "29000", **flags),
        -2022,
        "ReduceOnly Order is rejected.",
        next_id=1,
    )


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param({"reduceOnly": "true"}, id="reduce-only"),
        pytest.param({"closePosition": "true", "qty": None}, id="close-position"),
    ],
)
def test_standalone_reducing_row_on_the_side_that_would_add_is_refused(ex, alice, bob, flags):
    # Arrange: alice long (1, 2)
    trade(bob, alice)
    # Act / Assert: a BUY would add to the long
    assert_refused(
        ex,
        lambda: conditional(alice, "BUY", "STOP_MARKET", "31000", **flags),
        -2022,
        "ReduceOnly Order is rejected.",
        next_id=3,
    )


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param({"reduceOnly": "true"}, id="reduce-only"),
        pytest.param({"closePosition": "true", "qty": None}, id="close-position"),
    ],
)
def test_standalone_reducing_row_expires_when_the_position_goes_flat(ex, alice, bob, carol, flags):
    # Arrange: alice long (1, 2); her sell stop 3; carol bids (4)
    trade(bob, alice)
    conditional(alice, "SELL", "STOP_MARKET", "29000", **flags)
    assert state(ex, 3) == "ARMED"
    limit(carol, "BUY")
    # Act: alice closes by hand (5)
    market(alice, "SELL", reduceOnly="true")
    # Assert
    assert state(ex, 3) == "EXPIRED"


def test_close_position_row_sizes_its_child_at_the_whole_position(ex, alice, bob, carol):
    # Arrange: alice long 0.010 (1, 2); a close-position sell stop 3 on the mark; carol bids
    # 0.020 (4)
    trade(bob, alice)
    conditional(
        alice,
        "SELL",
        "STOP_MARKET",
        "29000",
        qty=None,
        closePosition="true",
        workingType="MARK_PRICE",
    )
    limit(carol, "BUY", "0.020", "28600")
    # Act: child 5
    ex.set_mark_price(SYMBOL, "28900")
    # Assert
    child = query(alice, 5)
    assert (child["origQty"], child["executedQty"], child["reduceOnly"]) == ("0.01", "0.01", True)
    assert position(alice) == "0"


def test_stop_entry_never_expires_on_a_flat_position(ex, alice, bob, carol, dave):
    # Arrange: alice's buy stop entry 1 at 30500 on the mark; alice goes long (2, 3) and flat
    # again (4, 5)
    conditional(alice, "BUY", "STOP_MARKET", "30500", workingType="MARK_PRICE")
    trade(bob, alice)
    limit(carol, "BUY")
    market(alice, "SELL")
    assert position(alice) == "0"
    # Assert: still armed
    assert state(ex, 1) == "ARMED"
    # Act: dave offers @ 30500 (6); the mark reaches the stop, child 7 buys
    limit(dave, "SELL", price="30500")
    ex.set_mark_price(SYMBOL, "30500")
    # Assert
    assert (state(ex, 1), status(alice, 7), position(alice)) == ("TRIGGERED", "FILLED", "0.01")


@pytest.mark.parametrize("type_", ["STOP_MARKET", "STOP"])
def test_stop_entry_whose_child_fails_the_margin_check_leaves_it_rejected_and_the_row_triggered(
    ex, dave, type_
):
    # Arrange: erin has 10 USDT; her buy stop 1 at 30500 (0.010 needs 30500 × 0.01 / 20 = 15.25);
    # dave offers 0.010 @ 30500 (2)
    ex.create_account("erin", balance="10")
    erin = ex.client("erin")
    conditional(erin, "BUY", type_, "30500", workingType="MARK_PRICE")
    limit(dave, "SELL", price="30500")
    # Act: the row fires, child 3
    ex.set_mark_price(SYMBOL, "30500")
    # Assert
    row = query(erin, 1)
    assert (row["status"], row["triggeredOrderId"]) == ("TRIGGERED", 3)
    child = query(erin, 3)
    assert (child["status"], child["executedQty"], child["origType"]) == ("REJECTED", "0", type_)
    assert position(erin) == "0"
    acct = erin.account()
    assert (acct["totalOpenOrderInitialMargin"], acct["availableBalance"]) == ("0", "10")
    assert asks(dave) == [["30500", "0.01"]]


# -- would fire at once, wrong side (-2021) ------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "type_", "stop"),
    [
        pytest.param("BUY", "STOP_MARKET", "30000", id="stop-buy-at-the-price"),
        pytest.param("BUY", "STOP_MARKET", "29900", id="stop-buy-below-the-price"),
        pytest.param("SELL", "STOP_MARKET", "30000", id="stop-sell-at-the-price"),
        pytest.param("SELL", "STOP", "30100", id="stop-limit-sell-above-the-price"),
        pytest.param("BUY", "TAKE_PROFIT_MARKET", "30000", id="tp-buy-at-the-price"),
        pytest.param("BUY", "TAKE_PROFIT", "30100", id="tp-limit-buy-above-the-price"),
        pytest.param("SELL", "TAKE_PROFIT_MARKET", "30000", id="tp-sell-at-the-price"),
        pytest.param("SELL", "TAKE_PROFIT_MARKET", "29900", id="tp-sell-below-the-price"),
    ],
)
def test_standalone_row_that_would_fire_at_once_is_refused(ex, alice, side, type_, stop):
    # Act / Assert: the watched price is 30000
    assert_refused(
        ex,
        lambda: conditional(alice, side, type_, stop),
        -2021,
        WOULD_TRIGGER,
        next_id=1,
    )


@pytest.mark.parametrize(
    ("side", "price", "legs"),
    [
        pytest.param("BUY", "30500", {"takeProfitPrice": "30400"}, id="buy-tp-below-the-parent"),
        pytest.param("BUY", "29500", {"stopLossPrice": "29600"}, id="buy-sl-above-the-parent"),
        pytest.param("SELL", "29500", {"takeProfitPrice": "29600"}, id="sell-tp-above-the-parent"),
        pytest.param("SELL", "30500", {"stopLossPrice": "30400"}, id="sell-sl-below-the-parent"),
    ],
)
def test_tp_or_sl_on_the_wrong_side_of_the_parents_price_is_refused(ex, alice, side, price, legs):
    # Act / Assert: each row is on its protective side of the watched 30000, not of the parent
    assert_refused(
        ex,
        lambda: limit(alice, side, price=price, **legs),
        -2021,
        WOULD_TRIGGER,
        next_id=1,
    )


@pytest.mark.parametrize(
    ("side", "price", "legs"),
    [
        pytest.param("BUY", "29500", {"takeProfitPrice": "29800"}, id="buy-tp-below-the-price"),
        pytest.param("BUY", "30500", {"stopLossPrice": "30200"}, id="buy-sl-above-the-price"),
        pytest.param("SELL", "30500", {"takeProfitPrice": "30200"}, id="sell-tp-above-the-price"),
        pytest.param("SELL", "29500", {"stopLossPrice": "29800"}, id="sell-sl-below-the-price"),
    ],
)
def test_tp_or_sl_on_the_wrong_side_of_the_watched_price_is_refused(ex, alice, side, price, legs):
    # Act / Assert: each row is on its protective side of the parent, not of the watched 30000
    assert_refused(
        ex,
        lambda: limit(alice, side, price=price, **legs),
        -2021,
        WOULD_TRIGGER,
        next_id=1,
    )


def test_tp_is_judged_against_the_price_its_working_type_watches(ex, alice, bob, carol):
    # Arrange: a trade at 30000 (1, 2), then the mark moves to 31000
    trade(bob, carol)
    ex.set_mark_price(SYMBOL, "31000")
    # Act / Assert: a TP at 30500 is past the mark but not past the last price
    assert_refused(
        ex,
        lambda: bracket(alice, takeProfitPrice="30500", tpslWorkingType="MARK_PRICE"),
        -2021,
        WOULD_TRIGGER,
        next_id=3,
    )
    resp = bracket(alice, takeProfitPrice="30500", tpslWorkingType="CONTRACT_PRICE")
    assert (resp["orderId"], [r["orderId"] for r in resp["triggerOrders"]]) == (4, [5, 6])


def test_row_attached_later_past_the_watched_price_is_refused(ex, alice, bob):
    # Arrange: alice long through a MARKET parent 2 (bob offers, 1)
    trade(bob, alice)
    # Act / Assert: a sell stop above the last price 30000
    assert_refused(
        ex,
        lambda: conditional(alice, "SELL", "STOP_MARKET", "30100", qty=None, parentOrderId=2),
        -2021,
        WOULD_TRIGGER,
        next_id=3,
    )


@pytest.mark.parametrize(
    ("side", "activation"),
    [
        pytest.param("SELL", "30000", id="sell-at-the-price"),
        pytest.param("SELL", "29900", id="sell-below-the-price"),
        pytest.param("BUY", "30000", id="buy-at-the-price"),
        pytest.param("BUY", "30100", id="buy-above-the-price"),
    ],
)
def test_trailing_stop_activating_on_the_wrong_side_of_the_price_is_refused(
    ex, alice, side, activation
):
    # Act / Assert
    assert_refused(
        ex,
        lambda: trailing(alice, side, "1", activationPrice=activation),
        -2021,
        WOULD_TRIGGER,
        next_id=1,
    )


@pytest.mark.parametrize(("side", "activation"), [("SELL", "30000.1"), ("BUY", "29999.9")])
def test_trailing_stop_activating_one_tick_past_the_price_is_accepted(ex, alice, side, activation):
    # Act
    resp = trailing(alice, side, "1", activationPrice=activation)
    # Assert
    assert (resp["orderId"], resp["activatePrice"], resp["priceRate"]) == (1, activation, "1")
    assert state(ex, 1) == "ARMED"


# -- trailing stops ------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["0.1", "0.5", "2.5", "9.9", "10"])
def test_callback_rate_from_0_1_to_10_in_steps_of_0_1_is_accepted(ex, alice, rate):
    # Act
    resp = trailing(alice, "SELL", rate)
    # Assert
    assert (resp["orderId"], resp["priceRate"], resp["type"]) == (1, rate, "TRAILING_STOP_MARKET")


@pytest.mark.parametrize("rate", ["0", "0.05", "0.15", "10.1", "11", "-1"])
def test_callback_rate_outside_0_1_to_10_or_off_its_step_is_refused(ex, alice, rate):
    # Act / Assert
    assert_refused(
        ex,
        lambda: trailing(alice, "SELL", rate),
        -1130,
        "Data sent for parameter 'callbackRate' is not valid.",
        next_id=1,
    )


def long_with_trailing_sell(ex, alice, bob, carol, **kw) -> None:
    """alice long 0.010 (bob offers 1, alice buys 2); her reduce-only trailing sell 3 on the
    mark, callback 1 %; carol bids 0.010 @ 29000 (4) for its child."""
    trade(bob, alice)
    trailing(alice, "SELL", "1", reduceOnly="true", workingType="MARK_PRICE", **kw)
    limit(carol, "BUY", price="29000")
    assert state(ex, 3) == "ARMED"


def test_trailing_sell_does_not_fire_before_the_price_reaches_its_activation_price(
    ex, alice, bob, carol
):
    # Arrange: activation 30500
    long_with_trailing_sell(ex, alice, bob, carol, activationPrice="30500")
    # Act: up to 30400, then down 1.3 % (would fire had it activated at 30400)
    ex.set_mark_price(SYMBOL, "30400")
    ex.set_mark_price(SYMBOL, "30000")
    # Assert
    assert state(ex, 3) == "ARMED"
    assert position(alice) == "0.01"


def test_trailing_sell_tracks_the_highest_price_and_fires_exactly_at_the_callback(
    ex, alice, bob, carol
):
    # Arrange: activation 30500; the highest reaches 31000 across several moves:
    # fire level 31000 × 0.99 = 30690
    long_with_trailing_sell(ex, alice, bob, carol, activationPrice="30500")
    for mark in ("30400", "30500", "30800", "31000", "30800", "30900", "30690.1"):
        ex.set_mark_price(SYMBOL, mark)
        assert state(ex, 3) == "ARMED", mark
    # Act
    ex.set_mark_price(SYMBOL, "30690")
    # Assert: child 5 sold to carol
    assert (state(ex, 3), query(alice, 3)["triggeredOrderId"]) == ("TRIGGERED", 5)
    child = query(alice, 5)
    assert (child["type"], child["origType"], child["avgPrice"]) == (
        "MARKET",
        "TRAILING_STOP_MARKET",
        "29000",
    )
    assert position(alice) == "0"


def test_trailing_sell_without_activation_price_activates_at_the_current_price(
    ex, alice, bob, carol
):
    # Arrange: no activation price: it activates at the mark 30000; fires at 29700
    long_with_trailing_sell(ex, alice, bob, carol)
    assert query(alice, 3)["activatePrice"] == "30000"
    ex.set_mark_price(SYMBOL, "29700.1")
    assert state(ex, 3) == "ARMED"
    # Act
    ex.set_mark_price(SYMBOL, "29700")
    # Assert
    assert (state(ex, 3), query(alice, 3)["triggeredOrderId"]) == ("TRIGGERED", 5)


def test_trailing_buy_tracks_the_lowest_price_and_fires_exactly_at_the_callback(
    ex, alice, bob, dave
):
    # Arrange: alice short 0.010 (bob bids 1, alice sells 2); her reduce-only trailing buy 3,
    # callback 2 %, activation 29000; dave offers 0.010 @ 30000 (4)
    limit(bob, "BUY")
    market(alice, "SELL")
    trailing(
        alice, "BUY", "2", reduceOnly="true", workingType="MARK_PRICE", activationPrice="29000"
    )
    limit(dave, "SELL")
    # the lowest reaches 28500 after activation: fire level 28500 × 1.02 = 29070
    for mark in ("29500", "29000", "28500", "28800", "29069.9"):
        ex.set_mark_price(SYMBOL, mark)
        assert state(ex, 3) == "ARMED", mark
    # Act
    ex.set_mark_price(SYMBOL, "29070")
    # Assert: child 5 bought from dave
    assert (state(ex, 3), query(alice, 3)["triggeredOrderId"]) == ("TRIGGERED", 5)
    assert (query(alice, 5)["avgPrice"], position(alice)) == ("30000", "0")


def test_trailing_buy_does_not_fire_before_the_price_reaches_its_activation_price(ex, alice, bob):
    # Arrange: alice short (1, 2); trailing buy 3, 2 %, activation 29000
    limit(bob, "BUY")
    market(alice, "SELL")
    trailing(
        alice, "BUY", "2", reduceOnly="true", workingType="MARK_PRICE", activationPrice="29000"
    )
    # Act: down to 29100, then up 3.4 % (would fire had it activated at 29100)
    ex.set_mark_price(SYMBOL, "29100")
    ex.set_mark_price(SYMBOL, "30100")
    # Assert
    assert state(ex, 3) == "ARMED"


# -- evaluation order ----------------------------------------------------------------------------


def two_longs(alice, bob, dave) -> None:
    """dave offers 0.020 (1); alice (2) and bob (3) each buy 0.010."""
    limit(dave, "SELL", "0.020")
    market(alice, "BUY")
    market(bob, "BUY")


def test_rows_firing_together_run_nearest_to_the_previous_price_first(ex, alice, bob, carol, dave):
    # Arrange: alice's reduce-only sell stop 4 at 29500, bob's 5 at 29800, on the mark
    # (previous mark 30000: 5000 and 2000 ticks away); carol bids only 0.010 @ 28800 (6)
    two_longs(alice, bob, dave)
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true", workingType="MARK_PRICE")
    conditional(bob, "SELL", "STOP_MARKET", "29800", reduceOnly="true", workingType="MARK_PRICE")
    limit(carol, "BUY", price="28800")
    # Act: one jump past both
    ex.set_mark_price(SYMBOL, "29000")
    # Assert: bob's (nearer, higher id) fired first as child 7 and took the only bid;
    # alice's child 8 found none
    assert (query(bob, 5)["triggeredOrderId"], query(alice, 4)["triggeredOrderId"]) == (7, 8)
    assert (status(bob, 7), query(bob, 7)["avgPrice"], position(bob)) == ("FILLED", "28800", "0")
    first = query(alice, 8)
    assert (first["status"], first["executedQty"], position(alice)) == ("EXPIRED", "0", "0.01")


def test_rows_at_the_same_distance_fire_in_order_id_order(ex, alice, bob, carol, dave):
    # Arrange: bob's reduce-only sell stop 4, then alice's 5, both at 29500 on the mark;
    # carol bids only 0.010 @ 28800 (6)
    two_longs(alice, bob, dave)
    conditional(bob, "SELL", "STOP_MARKET", "29500", reduceOnly="true", workingType="MARK_PRICE")
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true", workingType="MARK_PRICE")
    limit(carol, "BUY", price="28800")
    # Act
    ex.set_mark_price(SYMBOL, "29000")
    # Assert: bob's row 4 fired first (child 7) and took the bid
    assert (query(bob, 4)["triggeredOrderId"], query(alice, 5)["triggeredOrderId"]) == (7, 8)
    assert (status(bob, 7), position(bob)) == ("FILLED", "0")
    assert (status(alice, 8), position(alice)) == ("EXPIRED", "0.01")


def test_rising_rows_firing_together_run_nearest_to_the_previous_price_first(
    ex, alice, bob, carol, dave
):
    # Arrange: alice and bob short 0.010 (carol bids 0.020, 1; alice 2, bob 3 sell); alice's
    # reduce-only buy stop 4 at 30600, bob's 5 at 30300 on the mark; dave offers only 0.010
    # @ 31000 (6)
    limit(carol, "BUY", "0.020")
    market(alice, "SELL")
    market(bob, "SELL")
    conditional(alice, "BUY", "STOP_MARKET", "30600", reduceOnly="true", workingType="MARK_PRICE")
    conditional(bob, "BUY", "STOP_MARKET", "30300", reduceOnly="true", workingType="MARK_PRICE")
    limit(dave, "SELL", price="31000")
    # Act
    ex.set_mark_price(SYMBOL, "31000")
    # Assert: bob's (3000 ticks away, higher id) fired before alice's (6000 ticks)
    assert (query(bob, 5)["triggeredOrderId"], query(alice, 4)["triggeredOrderId"]) == (7, 8)
    assert (status(bob, 7), position(bob)) == ("FILLED", "0")
    assert (status(alice, 8), position(alice)) == ("EXPIRED", "-0.01")


def test_evaluation_repeats_until_nothing_more_fires(ex, alice, bob, carol, dave):
    # Arrange: alice and bob long 0.010 (1, 2, 3); alice's reduce-only sell stop 4 at 29500
    # on the mark; bob's 5 at 29300 on the last price; carol bids 0.010 @ 29000 (6) and
    # 0.010 @ 28800 (7)
    two_longs(alice, bob, dave)
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true", workingType="MARK_PRICE")
    conditional(bob, "SELL", "STOP_MARKET", "29300", reduceOnly="true")
    limit(carol, "BUY", price="29000")
    limit(carol, "BUY", price="28800")
    # Act: the mark alone reaches alice's stop only; her child 8 trades at 29000,
    # which moves the last price past bob's stop
    ex.set_mark_price(SYMBOL, "29400")
    # Assert: bob's row fired within the same call, child 9 at the next bid
    assert (state(ex, 4), state(ex, 5)) == ("TRIGGERED", "TRIGGERED")
    assert (query(alice, 8)["avgPrice"], query(bob, 9)["avgPrice"]) == ("29000", "28800")
    assert (position(alice), position(bob)) == ("0", "0")


# -- listing -------------------------------------------------------------------------------------


def test_untriggered_rows_appear_in_open_orders_and_in_all_orders(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    # Act
    open_orders = alice.get_orders(symbol=SYMBOL)
    all_orders = alice.get_all_orders(symbol=SYMBOL)
    # Assert
    assert [(o["orderId"], o["type"], o["status"]) for o in open_orders] == [
        (1, "LIMIT", "NEW"),
        (2, "TAKE_PROFIT_MARKET", "NEW"),
        (3, "STOP_MARKET", "NEW"),
    ]
    assert [o["orderId"] for o in all_orders] == [1, 2, 3]


def test_armed_rows_stay_in_open_orders_after_the_parent_filled(ex, alice, bob):
    # Arrange: parent 1, TP 2, SL 3; bob fills (4)
    bracket(alice)
    market(bob, "SELL")
    # Act
    open_orders = alice.get_orders(symbol=SYMBOL)
    # Assert
    assert [(o["orderId"], o["status"]) for o in open_orders] == [(2, "NEW"), (3, "NEW")]


def test_fired_and_cancelled_rows_leave_open_orders_but_stay_in_all_orders(ex, alice, bob, carol):
    # Arrange / Act: SL 3 fires (child 6), TP 2 cancelled
    fire_stop_loss(ex, alice, bob, carol)
    # Assert
    assert alice.get_orders(symbol=SYMBOL) == []
    assert [(o["orderId"], o["status"]) for o in alice.get_all_orders(symbol=SYMBOL)] == [
        (1, "FILLED"),
        (2, "CANCELED"),
        (3, "TRIGGERED"),
        (6, "FILLED"),
    ]


def test_query_order_answers_new_for_a_pending_and_for_an_armed_row(ex, alice, bob):
    # Arrange: parent 1 (0.020), TP 2, SL 3
    bracket(alice, "0.020")
    pending = query(alice, 3)
    # Act: bob fills 0.004 (4)
    market(bob, "SELL", "0.004")
    armed = query(alice, 3)
    # Assert
    assert (pending["status"], pending["origQty"]) == ("NEW", "0.02")
    assert (armed["status"], armed["origQty"]) == ("NEW", "0.004")
    assert state(ex, 3) == "ARMED"


def test_open_order_lookup_finds_an_untriggered_row(ex, alice):
    # Arrange: parent 1, TP 2, SL 3
    bracket(alice)
    # Act
    resp = alice.get_open_orders(symbol=SYMBOL, orderId=3)
    # Assert
    assert (resp["orderId"], resp["type"], resp["status"], resp["parentOrderId"]) == (
        3,
        "STOP_MARKET",
        "NEW",
        1,
    )


def close_by_hand(ex, alice, bob, carol) -> None:
    """Parent 1, TP 2, SL 3 filled by bob (4); carol bids (5); alice closes (6): rows expire."""
    bracket(alice)
    market(bob, "SELL")
    limit(carol, "BUY")
    market(alice, "SELL", reduceOnly="true")


def cancel_directly(ex, alice, bob, carol) -> None:
    """Parent 1, TP 2, SL 3; SL 3 cancelled by its id."""
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=3)


@pytest.mark.parametrize(
    ("arrange", "row_id", "final", "next_id"),
    [
        pytest.param(fire_stop_loss, 3, "TRIGGERED", 7, id="triggered"),
        pytest.param(fire_stop_loss, 2, "CANCELED", 7, id="cancelled-by-its-sibling"),
        pytest.param(cancel_directly, 3, "CANCELED", 4, id="cancelled-directly"),
        pytest.param(close_by_hand, 3, "EXPIRED", 7, id="expired"),
    ],
)
def test_open_order_lookup_answers_2013_once_the_row_is_no_longer_open_while_query_finds_it(
    ex, alice, bob, carol, arrange, row_id, final, next_id
):
    # Arrange
    arrange(ex, alice, bob, carol)
    # Act / Assert
    assert query(alice, row_id)["status"] == final
    assert_refused(
        ex,
        lambda: alice.get_open_orders(symbol=SYMBOL, orderId=row_id),
        -2013,
        "Order does not exist.",
        next_id=next_id,
    )


# -- trailing levels among other rows, exact boundaries, the pre-filter ----------------------


@pytest.mark.parametrize(("side", "stop", "first"), [
    # sells: the trailing stop's level is 30000 × 0.99 = 29700, 100 from the previous mark
    ("SELL", "29700.1", "stop"), ("SELL", "29699.9", "trailing"),
    # buys: its level is 30000 × 1.01 = 30300, 100 from the previous mark
    ("BUY", "30299.9", "stop"), ("BUY", "30300.1", "trailing"),
])
def test_a_trailing_stop_fires_in_turn_by_its_own_level_among_rows_of_the_same_move(
    ex, alice, bob, carol, dave, side, stop, first
):
    # Arrange: alice and bob hold the same position of 0.010 (1, 2, 3); bob's reduce-only
    # stop 4, then alice's 1 % trailing stop 5 (activated at the mark 30000), both on the
    # mark; the mark moves 200 towards them (the previous price for the next move); one
    # order of 0.010 on the other side of the book (6)
    if side == "SELL":
        two_longs(alice, bob, dave)
    else:
        limit(carol, "BUY", "0.020")
        market(alice, "SELL")
        market(bob, "SELL")
    conditional(bob, side, "STOP_MARKET", stop, reduceOnly="true", workingType="MARK_PRICE")
    trailing(alice, side, "1", reduceOnly="true", workingType="MARK_PRICE")
    limit(carol if side == "SELL" else dave, "BUY" if side == "SELL" else "SELL",
          price="28800" if side == "SELL" else "31200")
    ex.set_mark_price(SYMBOL, "29800" if side == "SELL" else "30200")
    assert (state(ex, 4), state(ex, 5)) == ("ARMED", "ARMED")
    # Act: one jump past both levels
    ex.set_mark_price(SYMBOL, "29000" if side == "SELL" else "31000")
    # Assert: the row nearer to the previous mark fired first (child 7) and took the order
    children = (query(alice, 5)["triggeredOrderId"], query(bob, 4)["triggeredOrderId"])
    assert children == ((7, 8) if first == "trailing" else (8, 7))
    winner, loser = (alice, bob) if first == "trailing" else (bob, alice)
    assert position(winner) == "0"
    assert position(loser) == ("0.01" if side == "SELL" else "-0.01")


def test_a_trailing_sell_activates_at_exactly_its_activation_price(ex, alice, bob, carol):
    # Arrange: activation 30500, callback 1 %
    long_with_trailing_sell(ex, alice, bob, carol, activationPrice="30500")
    ex.set_mark_price(SYMBOL, "30500")  # reaches it exactly: the high is 30500
    ex.set_mark_price(SYMBOL, "30195.1")
    assert state(ex, 3) == "ARMED"
    # Act: 30500 × 0.99
    ex.set_mark_price(SYMBOL, "30195")
    # Assert
    assert state(ex, 3) == "TRIGGERED"


def test_a_trailing_buy_activates_at_exactly_its_activation_price(ex, alice, bob, dave):
    # Arrange: alice short (1, 2); trailing buy 3, 2 %, activation 29000; dave offers (4)
    limit(bob, "BUY")
    market(alice, "SELL")
    trailing(alice, "BUY", "2", reduceOnly="true", workingType="MARK_PRICE",
             activationPrice="29000")
    limit(dave, "SELL")
    ex.set_mark_price(SYMBOL, "29000")  # exactly: the low is 29000
    ex.set_mark_price(SYMBOL, "29579.9")
    assert state(ex, 3) == "ARMED"
    # Act: 29000 × 1.02
    ex.set_mark_price(SYMBOL, "29580")
    # Assert
    assert (state(ex, 3), position(alice)) == ("TRIGGERED", "0")


@pytest.mark.parametrize(("side", "stops", "before", "at", "left"), [
    # alice short 0.010: buy stops at 30300 and 30600 fire on the way up
    ("BUY", ("30300", "30600"), "30299.9", "30300", "-0.005"),
    # alice long 0.010: sell stops at 29700 and 29400 fire on the way down
    ("SELL", ("29700", "29400"), "29700.1", "29700", "0.005"),
])
def test_of_two_stops_a_move_to_exactly_the_nearer_one_fires_only_it(
    ex, alice, bob, carol, dave, side, stops, before, at, left
):
    # Arrange: alice's position (1, 2, 3); her reduce-only stops 4 and 5 of 0.005 each, on
    # the mark; the other side of the book far away (6)
    if side == "BUY":
        limit(carol, "BUY", "0.020")
        market(alice, "SELL")
        market(bob, "SELL")
    else:
        two_longs(alice, bob, dave)
    for stop in stops:
        conditional(alice, side, "STOP_MARKET", stop, "0.005", reduceOnly="true",
                    workingType="MARK_PRICE")
    limit(dave if side == "BUY" else carol, "SELL" if side == "BUY" else "BUY", "0.020",
          price="31000" if side == "BUY" else "28800")
    ex.set_mark_price(SYMBOL, before)
    assert (state(ex, 4), state(ex, 5)) == ("ARMED", "ARMED")
    # Act
    ex.set_mark_price(SYMBOL, at)
    # Assert
    assert (state(ex, 4), state(ex, 5)) == ("TRIGGERED", "ARMED")
    assert position(alice) == left


def test_a_rows_sibling_cancelled_first_does_not_keep_the_other_from_arming(ex, alice, bob):
    # Arrange: alice's bracket 1 with take-profit 2 and stop-loss 3; she cancels the
    # take-profit, the first of the two
    bracket(alice)
    alice.cancel_order(symbol=SYMBOL, orderId=2)
    # Act: bob fills the parent
    market(bob, "SELL")
    # Assert: the stop-loss armed with the parent's quantity
    assert (state(ex, 2), state(ex, 3)) == ("CANCELED", "ARMED")
    assert query(alice, 3)["origQty"] == "0.01"


# -- firing: boundaries a mutation showed unpinned --------------------------------------------


def test_a_mark_price_stop_fires_on_a_symbol_that_has_never_traded(ex, alice):
    # Arrange: no trade yet (no last price); alice's buy stop 1 at 30500 on the mark
    conditional(alice, "BUY", "STOP_MARKET", "30500", workingType="MARK_PRICE")
    # Act
    ex.set_mark_price(SYMBOL, "30500")
    # Assert: it fired; its market child (2) found no asks and expired
    assert (state(ex, 1), query(alice, 1)["triggeredOrderId"]) == ("TRIGGERED", 2)
    assert status(alice, 2) == "EXPIRED"


def test_a_second_reduce_only_stop_of_a_position_closed_in_the_same_move_expires(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.010 (1, 2); her reduce-only sell stops 3 at 29800 and 4 at 29500,
    # 0.010 each; carol bids 0.020 @ 28800 (5)
    trade(bob, alice)
    conditional(alice, "SELL", "STOP_MARKET", "29800", reduceOnly="true",
                workingType="MARK_PRICE")
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true",
                workingType="MARK_PRICE")
    limit(carol, "BUY", "0.020", price="28800")
    # Act: one move past both
    ex.set_mark_price(SYMBOL, "29000")
    # Assert: the first closed the long; the second had nothing to reduce
    assert (state(ex, 3), state(ex, 4)) == ("TRIGGERED", "EXPIRED")
    assert position(alice) == "0"


def test_a_reduce_only_stop_with_one_lot_left_to_reduce_fires_for_that_lot(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.005 (bob 1, alice 2), then she sells 0.004 reduce-only to
    # carol's bid (3, 4): one lot left; her reduce-only sell stop 5 of 0.010
    limit(bob, "SELL", "0.005")
    market(alice, "BUY", "0.005")
    limit(carol, "BUY", "0.010")
    market(alice, "SELL", "0.004", reduceOnly="true")
    conditional(alice, "SELL", "STOP_MARKET", "29500", reduceOnly="true",
                workingType="MARK_PRICE")
    # Act
    ex.set_mark_price(SYMBOL, "29500")
    # Assert: fired, its child sold the one lot
    assert state(ex, 5) == "TRIGGERED"
    child = query(alice, query(alice, 5)["triggeredOrderId"])
    assert (child["status"], child["executedQty"]) == ("FILLED", "0.001")
    assert position(alice) == "0"


def test_a_fired_stops_resting_child_freezes_its_margin(ex, alice):
    # Arrange: alice's buy STOP 1: limit 30700, stop 30500, no asks to take
    conditional(alice, "BUY", "STOP", "30500", price="30700")
    # Act
    ex.set_mark_price(SYMBOL, "30600")
    # Assert: child 2 rests at 30700: 307 / 20 + 0.010 × (30700 − 30600) = 16.35 frozen
    assert status(alice, 2) == "NEW"
    assert alice.account()["totalOpenOrderInitialMargin"] == "16.35"


def test_a_reduce_only_stops_resting_child_expires_when_the_position_closes_elsewhere(
    ex, alice, bob, carol
):
    # Arrange: alice long 0.010 (1, 2); her reduce-only sell STOP 3: stop 29500, limit
    # 29900 (above every bid, so its child rests); carol bids 0.010 @ 29000 (4)
    trade(bob, alice)
    conditional(alice, "SELL", "STOP", "29500", price="29900", reduceOnly="true",
                workingType="MARK_PRICE")
    limit(carol, "BUY", price="29000")
    ex.set_mark_price(SYMBOL, "29500")
    child = query(alice, 3)["triggeredOrderId"]
    assert status(alice, child) == "NEW"
    # Act: she closes the long herself
    market(alice, "SELL", reduceOnly="true")
    # Assert: the child has nothing left to reduce
    assert status(alice, child) == "EXPIRED"


# -- trigger prices at exactly their limits -----------------------------------------------------


def _refused_with(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.error_code, info.value.error_message


@pytest.mark.parametrize("leg", [{"stopLossPrice": "29900"}, {"takeProfitPrice": "29900"}])
def test_a_tp_or_sl_at_exactly_the_parents_price_would_trigger_at_once(ex, alice, leg):
    # a BUY parent at 29900: its sell stop-loss fires at ≤ 29900, its take-profit at ≥ 29900
    assert _refused_with(lambda: limit(alice, "BUY", price="29900", **leg)) == (
        -2021, WOULD_TRIGGER)


@pytest.mark.parametrize("leg", [{"stopLossPrice": "30000"}, {"takeProfitPrice": "30000"}])
def test_a_tp_or_sl_at_exactly_the_watched_price_would_trigger_at_once(ex, alice, leg):
    # a MARKET parent (no price of its own); the last price is 30000 after bob and carol trade
    limit(ex.client("bob"), "SELL", price="30000")
    market(ex.client("carol"), "BUY")
    assert _refused_with(lambda: market(alice, "BUY", **leg)) == (-2021, WOULD_TRIGGER)


def test_a_conditional_order_keeps_its_price_protection(ex, alice):
    o = conditional(alice, "BUY", "STOP_MARKET", "30500", priceProtect="TRUE")

    assert o["priceProtect"] is True
    assert query(alice, o["orderId"])["priceProtect"] is True


def test_a_standalone_stop_at_exactly_the_minimum_notional_is_accepted(ex, alice):
    # 0.004 × 25000 = 100, the minimum
    o = conditional(alice, "SELL", "STOP_MARKET", "25000", "0.004")

    assert state(ex, o["orderId"]) == "ARMED"


def test_a_row_attached_to_a_parent_filled_by_one_lot_is_armed_at_once(ex, alice, bob, carol):
    # Arrange: carol long 0.004 (bob's ask 1, her market 2); alice bids 0.010 @ 29990 (3);
    # carol sells one lot of her long, reduce-only, into alice's bid (4)
    limit(bob, "SELL", "0.004")
    market(carol, "BUY", "0.004")
    limit(alice, "BUY", price="29990")
    market(carol, "SELL", "0.001", reduceOnly="true")
    # Act: a stop-loss attached to the parent, which has one lot filled and one lot to protect
    row = conditional(alice, "SELL", "STOP_MARKET", "29000", None, parentOrderId=3)
    # Assert
    assert (row["origQty"], state(ex, row["orderId"])) == ("0.001", "ARMED")


def test_a_stop_loss_attached_to_a_filled_market_parent_is_accepted(ex, alice, bob):
    # Arrange: alice bought 0.010 at MARKET (bob's ask 1, her market 2)
    limit(bob, "SELL")
    market(alice, "BUY")
    # Act: a market parent has no price of its own to be compared with
    row = conditional(alice, "SELL", "STOP_MARKET", "29000", None, parentOrderId=2)
    # Assert
    assert state(ex, row["orderId"]) == "ARMED"


def test_a_trailing_stop_attached_to_a_resting_limit_parent_is_not_held_to_its_price(
    ex, alice
):
    limit(alice, "BUY", price="29900")  # 1

    row = alice.new_order(symbol=SYMBOL, side="SELL", type="TRAILING_STOP_MARKET",
                          callbackRate="1", parentOrderId=1)

    assert state(ex, row["orderId"]) == "PENDING"


@pytest.mark.parametrize(("type_", "mark"), [
    # the mark stays on the side where the row would not fire on the mark alone
    ("STOP_MARKET", "30000"), ("TAKE_PROFIT_MARKET", "29800"),
])
def test_a_row_attached_at_exactly_its_parents_price_would_trigger_at_once(
    ex, alice, type_, mark
):
    ex.set_mark_price(SYMBOL, mark)
    limit(alice, "BUY", price="29900")  # 1: a sell row at 29900 would fire as it fills

    assert _refused_with(lambda: conditional(alice, "SELL", type_, "29900", None,
                                             parentOrderId=1)) == (-2021, WOULD_TRIGGER)
