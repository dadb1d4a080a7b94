"""Rejections: one test (or parametrized case) per SPEC §7 error code the client can raise.

Every rejection asserts the exact ``error_code``, the exact Binance message
(BINANCE_ERRORS.md, ``%s`` filled in), HTTP 400, an unchanged ``state_hash()``,
and — for order entry — that the rejected order consumed no ``orderId``: the
next accepted order takes the id it would have had anyway.  The REST-only codes
(-1021, -1022, -2014, -2015) belong to the server tests.

A few accepted edge cases pin the parsing rules from the other side
(trailing zeros, floats through ``repr``, ``Decimal`` and ``int``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import ClientError, Exchange, Instrument
from engine.core.instrument import make_brackets

LEGAL_DECIMAL = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
OMIT = object()  # a parameter that is not sent at all

LIMIT_BUY = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "price": "30000",
}
MARKET_BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
STOP_MARKET_SELL = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "STOP_MARKET",
    "quantity": "0.010",
    "stopPrice": "29000",
}


def illegal(param: str) -> str:
    return f"Illegal characters found in parameter '{param}'; legal range is '{LEGAL_DECIMAL}'."


def mandatory(param: str) -> str:
    return f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."


def not_required(param: str) -> str:
    return f"Parameter '{param}' sent when not required."


def params(base: dict, **changes: object) -> dict:
    """``base`` with ``changes`` applied; a change to ``OMIT`` removes the parameter."""
    out = dict(base)
    for key, value in changes.items():
        if value is OMIT:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def assert_rejected(ex: Exchange, call, code: int, message: str) -> None:
    """``call()`` raises exactly (400, code, message) and leaves the venue unchanged."""
    before = ex.state_hash()
    with pytest.raises(ClientError) as info:
        call()
    err = info.value
    assert err.status_code == 400
    assert err.error_code == code
    assert err.error_message == message
    assert ex.state_hash() == before


def assert_next_order_id(client, expected: int, **changes: object) -> None:
    """The next accepted order (a small LIMIT BUY by default) takes id ``expected``."""
    order = client.new_order(**params(LIMIT_BUY, **changes))
    assert order["orderId"] == expected


@pytest.fixture
def ex():
    """alice, bob and carol with 10000 USDT each; BTCUSDT mark 30000; invariants at the end."""
    venue = Exchange()
    for name in ("alice", "bob", "carol"):
        venue.create_account(name, balance="10000")
    venue.set_mark_price("BTCUSDT", "30000")
    yield venue
    venue.check_invariants()


@pytest.fixture
def alice(ex: Exchange):
    return ex.client("alice")


@pytest.fixture
def bob(ex: Exchange):
    return ex.client("bob")


@pytest.fixture
def carol(ex: Exchange):
    return ex.client("carol")


def give_long(ex: Exchange, buyer, seller, qty: str = "0.010", price: str = "30000") -> None:
    """``seller`` rests a LIMIT SELL, ``buyer`` takes it with a MARKET BUY (2 order ids)."""
    seller.new_order(**params(LIMIT_BUY, side="SELL", quantity=qty, price=price))
    buyer.new_order(**params(MARKET_BUY, quantity=qty))


# -- new_order: static parameter checks (fresh venue, the next id is always 1) -----------------

PARAM_CASES = [
    # -1100 illegal characters
    ("quantity NaN", params(LIMIT_BUY, quantity="NaN"), -1100, illegal("quantity")),
    ("quantity nan", params(LIMIT_BUY, quantity="nan"), -1100, illegal("quantity")),
    ("quantity Infinity", params(LIMIT_BUY, quantity="Infinity"), -1100, illegal("quantity")),
    ("quantity inf", params(LIMIT_BUY, quantity="inf"), -1100, illegal("quantity")),
    ("quantity comma", params(LIMIT_BUY, quantity="1,5"), -1100, illegal("quantity")),
    ("quantity arabic digits", params(LIMIT_BUY, quantity="\u0661"), -1100, illegal("quantity")),
    (
        "quantity fullwidth digits",
        params(LIMIT_BUY, quantity="\uff10.\uff10\uff11"),
        -1100,
        illegal("quantity"),
    ),
    ("quantity underscore", params(LIMIT_BUY, quantity="1_0"), -1100, illegal("quantity")),
    ("quantity inner space", params(LIMIT_BUY, quantity="0. 01"), -1100, illegal("quantity")),
    ("quantity True", params(LIMIT_BUY, quantity=True), -1100, illegal("quantity")),
    ("quantity False", params(LIMIT_BUY, quantity=False), -1100, illegal("quantity")),
    ("price NaN", params(LIMIT_BUY, price="NaN"), -1100, illegal("price")),
    ("price Infinity", params(LIMIT_BUY, price="Infinity"), -1100, illegal("price")),
    ("price -Infinity", params(LIMIT_BUY, price="-Infinity"), -1100, illegal("price")),
    ("price comma", params(LIMIT_BUY, price="30000,5"), -1100, illegal("price")),
    (
        "price arabic digits",
        params(LIMIT_BUY, price="\u0663\u0660\u0660\u0660\u0660"),
        -1100,
        illegal("price"),
    ),
    ("price True", params(LIMIT_BUY, price=True), -1100, illegal("price")),
    ("stopPrice NaN", params(STOP_MARKET_SELL, stopPrice="NaN"), -1100, illegal("stopPrice")),
    ("stopPrice False", params(STOP_MARKET_SELL, stopPrice=False), -1100, illegal("stopPrice")),
    # -1102 mandatory parameter missing or empty
    ("symbol empty", params(LIMIT_BUY, symbol=""), -1102, mandatory("symbol")),
    ("symbol None", params(LIMIT_BUY, symbol=None), -1102, mandatory("symbol")),
    ("side empty", params(LIMIT_BUY, side=""), -1102, mandatory("side")),
    ("type empty", params(LIMIT_BUY, type=""), -1102, mandatory("type")),
    ("quantity missing", params(LIMIT_BUY, quantity=OMIT), -1102, mandatory("quantity")),
    ("quantity empty", params(MARKET_BUY, quantity=""), -1102, mandatory("quantity")),
    ("price missing on LIMIT", params(LIMIT_BUY, price=OMIT), -1102, mandatory("price")),
    (
        "timeInForce missing on LIMIT",
        params(LIMIT_BUY, timeInForce=OMIT),
        -1102,
        mandatory("timeInForce"),
    ),
    (
        "stopPrice missing on STOP_MARKET",
        params(STOP_MARKET_SELL, stopPrice=OMIT),
        -1102,
        mandatory("stopPrice"),
    ),
    ("price missing on STOP", params(STOP_MARKET_SELL, type="STOP"), -1102, mandatory("price")),
    (
        "callbackRate missing on TRAILING_STOP_MARKET",
        params(STOP_MARKET_SELL, type="TRAILING_STOP_MARKET", stopPrice=OMIT),
        -1102,
        mandatory("callbackRate"),
    ),
    # -1106 parameter sent when not required
    ("price on MARKET", params(MARKET_BUY, price="30000"), -1106, not_required("price")),
    ("stopPrice on LIMIT", params(LIMIT_BUY, stopPrice="29000"), -1106, not_required("stopPrice")),
    (
        "takeProfitPrice on STOP_MARKET",
        params(STOP_MARKET_SELL, takeProfitPrice="31000"),
        -1106,
        not_required("takeProfitPrice"),
    ),
    (
        "stopLossPrice on TAKE_PROFIT_MARKET",
        params(
            STOP_MARKET_SELL, type="TAKE_PROFIT_MARKET", stopPrice="31000", stopLossPrice="29000"
        ),
        -1106,
        not_required("stopLossPrice"),
    ),
    (
        "tpslWorkingType on STOP_MARKET",
        params(STOP_MARKET_SELL, tpslWorkingType="MARK_PRICE"),
        -1106,
        not_required("tpslWorkingType"),
    ),
    (
        "parentOrderId on LIMIT",
        params(LIMIT_BUY, parentOrderId=1),
        -1106,
        not_required("parentOrderId"),
    ),
    # -1111 more decimals than the symbol's precision
    (
        "quantity with 4 decimals",
        params(LIMIT_BUY, quantity="0.0101"),
        -1111,
        "Precision is over the maximum defined for this asset.",
    ),
    (
        "price with 3 decimals",
        params(LIMIT_BUY, price="30000.001"),
        -1111,
        "Precision is over the maximum defined for this asset.",
    ),
    (
        "stopPrice with 3 decimals",
        params(STOP_MARKET_SELL, stopPrice="29000.001"),
        -1111,
        "Precision is over the maximum defined for this asset.",
    ),
    (
        "float that is not on the grid through repr",
        params(LIMIT_BUY, quantity=0.1 + 0.2),
        -1111,
        "Precision is over the maximum defined for this asset.",
    ),
    # -1115 / -1116 / -1117
    ("timeInForce DAY", params(LIMIT_BUY, timeInForce="DAY"), -1115, "Invalid timeInForce."),
    ("timeInForce lowercase", params(LIMIT_BUY, timeInForce="gtc"), -1115, "Invalid timeInForce."),
    ("type LIMIT_MAKER", params(LIMIT_BUY, type="LIMIT_MAKER"), -1116, "Invalid orderType."),
    ("type STOP_LOSS", params(LIMIT_BUY, type="STOP_LOSS"), -1116, "Invalid orderType."),
    (
        "takeProfitType not a take-profit type",
        params(LIMIT_BUY, takeProfitPrice="31000", takeProfitType="STOP_MARKET"),
        -1116,
        "Invalid orderType.",
    ),
    ("side HOLD", params(LIMIT_BUY, side="HOLD"), -1117, "Invalid side."),
    # -1121 unknown symbol
    ("symbol XRPUSDT", params(LIMIT_BUY, symbol="XRPUSDT"), -1121, "Invalid symbol."),
    # -4001 / -4002 / -4013 / -4014 price filter
    ("price negative", params(LIMIT_BUY, price="-1"), -4001, "Price less than 0."),
    (
        "price above max",
        params(LIMIT_BUY, price="809484.1"),
        -4002,
        "Price greater than max price.",
    ),
    ("price below min", params(LIMIT_BUY, price="261"), -4013, "Price less than min price."),
    (
        "price one tick below min",
        params(LIMIT_BUY, price="261.0"),
        -4013,
        "Price less than min price.",
    ),
    (
        "price off the tick grid",
        params(LIMIT_BUY, price="30000.05"),
        -4014,
        "Price not increased by tick size.",
    ),
    (
        "stopPrice off the tick grid",
        params(STOP_MARKET_SELL, stopPrice="29000.05"),
        -4014,
        "Price not increased by tick size.",
    ),
    # -4003 / -4005 lot size (BTCUSDT's -4004 / -4023 need a coarser grid: see below)
    ("quantity zero", params(LIMIT_BUY, quantity="0"), -4003, "Quantity less than zero."),
    ("quantity 0.000", params(LIMIT_BUY, quantity="0.000"), -4003, "Quantity less than zero."),
    ("quantity negative", params(LIMIT_BUY, quantity="-0.010"), -4003, "Quantity less than zero."),
    (
        "LIMIT quantity above LOT_SIZE max",
        params(LIMIT_BUY, quantity="1000.001"),
        -4005,
        "Quantity greater than max quantity.",
    ),
    (
        "MARKET quantity above MARKET_LOT_SIZE max",
        params(MARKET_BUY, quantity="120.001"),
        -4005,
        "Quantity greater than max quantity.",
    ),
    (
        "MARKET quantity 121",
        params(MARKET_BUY, quantity="121"),
        -4005,
        "Quantity greater than max quantity.",
    ),
    (
        "STOP_MARKET quantity above MARKET_LOT_SIZE max",
        params(STOP_MARKET_SELL, quantity="120.001"),
        -4005,
        "Quantity greater than max quantity.",
    ),
    # -4015 client order id
    (
        "client id of 37 chars",
        params(LIMIT_BUY, newClientOrderId="a" * 37),
        -4015,
        "Client order id is not valid.",
    ),
    (
        "client id with a space",
        params(LIMIT_BUY, newClientOrderId="my order"),
        -4015,
        "Client order id is not valid.",
    ),
    (
        "client id with an exclamation mark",
        params(LIMIT_BUY, newClientOrderId="order!"),
        -4015,
        "Client order id is not valid.",
    ),
    (
        "client id with a non-ASCII letter",
        params(LIMIT_BUY, newClientOrderId="ordre-\u00e9"),
        -4015,
        "Client order id is not valid.",
    ),
    # -4016 / -4024 PERCENT_PRICE around the mark (30000: band 28500 .. 31500)
    (
        "price one tick above the band",
        params(LIMIT_BUY, price="31500.1"),
        -4016,
        "Price is higher than mark price multiplier cap.",
    ),
    (
        "sell one tick above the band",
        params(LIMIT_BUY, side="SELL", price="31500.1"),
        -4016,
        "Price is higher than mark price multiplier cap.",
    ),
    (
        "price one tick below the band",
        params(LIMIT_BUY, price="28499.9"),
        -4024,
        "Price is lower than mark price multiplier floor.",
    ),
    # -4031 working type
    (
        "workingType LAST_PRICE",
        params(STOP_MARKET_SELL, workingType="LAST_PRICE"),
        -4031,
        "Invalid parameter working type: `LAST_PRICE`",
    ),
    (
        "tpslWorkingType INDEX_PRICE",
        params(LIMIT_BUY, stopLossPrice="29000", tpslWorkingType="INDEX_PRICE"),
        -4031,
        "Invalid parameter working type: `INDEX_PRICE`",
    ),
    # -5039 self-trade prevention mode
    (
        "selfTradePreventionMode EXPIRE_ALL",
        params(LIMIT_BUY, selfTradePreventionMode="EXPIRE_ALL"),
        -5039,
        "Invalid self trade prevention mode",
    ),
    # -4061 positionSide in one-way mode
    (
        "positionSide LONG in one-way mode",
        params(LIMIT_BUY, positionSide="LONG"),
        -4061,
        "Order's position side does not match user's setting.",
    ),
    (
        "positionSide SHORT in one-way mode",
        params(LIMIT_BUY, positionSide="SHORT"),
        -4061,
        "Order's position side does not match user's setting.",
    ),
    # -4164 MIN_NOTIONAL (100 USDT on BTCUSDT)
    (
        "LIMIT notional 90",
        params(LIMIT_BUY, quantity="0.003"),
        -4164,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)",
    ),
    (
        "MARKET notional at the mark 90",
        params(MARKET_BUY, quantity="0.003"),
        -4164,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)",
    ),
    # -2021 conditional that would fire at once (mark = last = 30000)
    (
        "sell stop at the current price",
        params(STOP_MARKET_SELL, stopPrice="30000"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "sell stop above the current price",
        params(STOP_MARKET_SELL, stopPrice="30500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "buy take-profit above the current price",
        params(STOP_MARKET_SELL, side="BUY", type="TAKE_PROFIT_MARKET", stopPrice="30500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "trailing sell activating below the current price",
        params(
            STOP_MARKET_SELL,
            type="TRAILING_STOP_MARKET",
            stopPrice=OMIT,
            callbackRate="1",
            activationPrice="29900",
        ),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "attached stop-loss above the watched price on a MARKET buy",
        params(MARKET_BUY, stopLossPrice="30500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "take-profit not above a BUY parent's price",
        params(LIMIT_BUY, price="31000", takeProfitPrice="30500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "take-profit equal to a BUY parent's price",
        params(LIMIT_BUY, price="31000", takeProfitPrice="31000"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "stop-loss not below a BUY parent's price",
        params(LIMIT_BUY, price="29000", stopLossPrice="29500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "stop-loss not above a SELL parent's price",
        params(LIMIT_BUY, side="SELL", price="31000", stopLossPrice="30500"),
        -2021,
        "Order would immediately trigger.",
    ),
    (
        "take-profit not below a SELL parent's price",
        params(LIMIT_BUY, side="SELL", price="29000", takeProfitPrice="29500"),
        -2021,
        "Order would immediately trigger.",
    ),
    # -2022 reduce-only with nothing to reduce (alice is flat)
    (
        "reduce-only LIMIT sell with no position",
        params(LIMIT_BUY, side="SELL", reduceOnly="true"),
        -2022,
        "ReduceOnly Order is rejected.",
    ),
    (
        "reduce-only MARKET buy with no position",
        params(MARKET_BUY, reduceOnly=True),
        -2022,
        "ReduceOnly Order is rejected.",
    ),
    (
        "reduce-only stop with no position",
        params(STOP_MARKET_SELL, reduceOnly="true"),
        -2022,
        "ReduceOnly Order is rejected.",
    ),
    (
        "close-position stop with no position",
        params(STOP_MARKET_SELL, quantity=OMIT, closePosition="true"),
        -2022,
        "ReduceOnly Order is rejected.",
    ),
    # -2013 unknown parent
    (
        "parentOrderId unknown",
        params(STOP_MARKET_SELL, parentOrderId=999),
        -2013,
        "Order does not exist.",
    ),
    # -5021 FOK against an empty book
    (
        "FOK with an empty book",
        params(LIMIT_BUY, timeInForce="FOK"),
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected.",
    ),
]


@pytest.mark.parametrize(
    ("request_params", "code", "message"),
    [pytest.param(p, c, m, id=name) for name, p, c, m in PARAM_CASES],
)
def test_new_order_with_a_bad_parameter_is_rejected_and_changes_nothing(
    ex, alice, request_params, code, message
):
    # Arrange: a fresh venue with the mark at 30000; no order id used yet.
    # Act / Assert
    assert_rejected(ex, lambda: alice.new_order(**request_params), code, message)
    assert_next_order_id(alice, 1)
    ex.check_invariants()


# -- grids where min qty and the step are coarser than the precision ----------------------


@pytest.fixture
def coarse():
    """A venue with TESTUSDT: tick 0.5, step 0.005, min qty 0.010 (precision 1 / 3)."""
    venue = Exchange()
    venue.add_instrument(
        Instrument(
            "TESTUSDT",
            base_asset="TEST",
            tick_size="0.5",
            step_size="0.005",
            price_precision=1,
            quantity_precision=3,
            min_price="1",
            max_price="100000",
            min_qty="0.010",
            max_qty="1000",
            market_max_qty="100",
            min_notional="5",
            brackets=make_brackets([("50000", 125, "0.004")]),
        )
    )
    venue.create_account("alice", balance="10000")
    yield venue
    venue.check_invariants()


TEST_LIMIT = {
    "symbol": "TESTUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.100",
    "price": "1000",
}


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        pytest.param(
            {"quantity": "0.005"},
            -4004,
            "Quantity less than min quantity.",
            id="quantity below min qty",
        ),
        pytest.param(
            {"quantity": "0.012"},
            -4023,
            "Qty not increased by step size.",
            id="quantity off the step grid",
        ),
        pytest.param(
            {"quantity": "1000.005"},
            -4005,
            "Quantity greater than max quantity.",
            id="quantity above max qty",
        ),
        pytest.param(
            {"price": "1000.3"},
            -4014,
            "Price not increased by tick size.",
            id="price off the tick grid",
        ),
    ],
)
def test_lot_and_tick_filters_on_a_coarse_grid(coarse, changes, code, message):
    # Arrange
    alice = coarse.client("alice")
    # Act / Assert
    assert_rejected(coarse, lambda: alice.new_order(**params(TEST_LIMIT, **changes)), code, message)
    assert alice.new_order(**TEST_LIMIT)["orderId"] == 1
    coarse.check_invariants()


def test_quantity_on_the_coarse_grid_is_accepted(coarse):
    # Arrange
    alice = coarse.client("alice")
    # Act
    order = alice.new_order(**params(TEST_LIMIT, quantity="0.015"))
    # Assert
    assert (order["status"], order["origQty"]) == ("NEW", "0.015")
    coarse.check_invariants()


# -- rules that need venue state ---------------------------------------------------------------


def test_client_order_id_duplicated_among_open_orders_is_rejected(ex, alice):
    # Arrange
    alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup")),
        -4116,
        "clientOrderId is duplicated",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_client_order_id_duplicated_by_a_trigger_row_is_rejected(ex, alice):
    # Arrange: an open standalone stop uses the id
    alice.new_order(**params(STOP_MARKET_SELL, newClientOrderId="dup"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup")),
        -4116,
        "clientOrderId is duplicated",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_client_order_id_is_free_again_once_the_first_order_is_cancelled(ex, alice):
    # Arrange
    first = alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup"))
    alice.cancel_order(symbol="BTCUSDT", orderId=first["orderId"])
    # Act
    second = alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup"))
    # Assert
    assert (second["orderId"], second["clientOrderId"], second["status"]) == (2, "dup", "NEW")
    ex.check_invariants()


def test_client_order_id_is_free_again_once_the_first_order_filled(ex, alice, bob):
    # Arrange: alice's order (id 1) is filled by bob's MARKET sell (id 2)
    alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup"))
    bob.new_order(**params(MARKET_BUY, side="SELL"))
    assert alice.query_order(symbol="BTCUSDT", orderId=1)["status"] == "FILLED"
    # Act
    again = alice.new_order(**params(LIMIT_BUY, newClientOrderId="dup"))
    # Assert
    assert (again["orderId"], again["status"]) == (3, "NEW")
    ex.check_invariants()


def test_client_order_id_of_another_account_is_no_duplicate(ex, alice, bob):
    # Arrange
    alice.new_order(**params(LIMIT_BUY, newClientOrderId="shared"))
    # Act
    order = bob.new_order(**params(LIMIT_BUY, newClientOrderId="shared"))
    # Assert
    assert (order["orderId"], order["clientOrderId"]) == (2, "shared")
    ex.check_invariants()


def test_client_order_id_of_36_allowed_characters_is_accepted(ex, alice):
    # Arrange
    cid = "Ab0.:/_-" + "z" * 28
    # Act
    order = alice.new_order(**params(LIMIT_BUY, newClientOrderId=cid))
    # Assert
    assert len(cid) == 36
    assert order["clientOrderId"] == cid
    ex.check_invariants()


@pytest.mark.parametrize("price", ["31500", "28500"])
def test_price_exactly_on_the_percent_price_bounds_is_accepted(ex, alice, price):
    # Act
    order = alice.new_order(**params(LIMIT_BUY, price=price))
    # Assert
    assert (order["orderId"], order["status"], order["price"]) == (1, "NEW", price)
    ex.check_invariants()


def test_percent_price_band_follows_the_mark(ex, alice):
    # Arrange: mark moves to 20000 -> band 19000 .. 21000
    ex.set_mark_price("BTCUSDT", "20000")
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, price="21000.1")),
        -4016,
        "Price is higher than mark price multiplier cap.",
    )
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, price="18999.9")),
        -4024,
        "Price is lower than mark price multiplier floor.",
    )
    assert_next_order_id(alice, 1, price="21000")
    ex.check_invariants()


def test_min_and_max_price_are_accepted_when_no_mark_is_known():
    # Arrange: a venue with no mark and no trade: no PERCENT_PRICE band applies
    venue = Exchange()
    venue.create_account("dave", balance="10000")
    dave = venue.client("dave")
    # Act
    low = dave.new_order(**params(LIMIT_BUY, price="261.1", quantity="0.400"))
    high = dave.new_order(**params(LIMIT_BUY, side="SELL", price="809484", quantity="0.001"))
    # Assert
    assert (low["price"], high["price"]) == ("261.1", "809484")
    venue.check_invariants()


def test_limit_of_121_btc_passes_lot_size_where_a_market_order_fails(ex):
    # Arrange: a rich account, so only the filters can refuse it
    ex.create_account("whale", balance="1000000")
    whale = ex.client("whale")
    # Act
    order = whale.new_order(**params(LIMIT_BUY, quantity="121"))
    # Assert
    assert (order["orderId"], order["origQty"], order["status"]) == (1, "121", "NEW")
    ex.check_invariants()


def test_position_side_must_be_long_or_short_in_hedge_mode(ex, alice):
    # Arrange
    alice.change_position_mode(dualSidePosition="true")
    message = "Order's position side does not match user's setting."
    # Act / Assert
    assert_rejected(ex, lambda: alice.new_order(**LIMIT_BUY), -4061, message)
    assert_rejected(
        ex, lambda: alice.new_order(**params(LIMIT_BUY, positionSide="BOTH")), -4061, message
    )
    assert_next_order_id(alice, 1, positionSide="LONG")
    ex.check_invariants()


def test_reduce_only_order_is_exempt_from_min_notional(ex, alice, bob):
    # Arrange: alice long 0.010 (ids 1, 2)
    give_long(ex, alice, bob)
    # Act: a 90 USDT reduce-only sell
    order = alice.new_order(
        **params(LIMIT_BUY, side="SELL", quantity="0.003", price="30000", reduceOnly="true")
    )
    # Assert
    assert (order["orderId"], order["status"], order["reduceOnly"]) == (3, "NEW", True)
    ex.check_invariants()


def test_limit_order_beyond_available_balance_is_rejected(ex):
    # Arrange: 0.010 @ 30000 at 20x freezes 15 USDT
    ex.create_account("dave", balance="14.99999999")
    dave = ex.client("dave")
    # Act / Assert
    assert_rejected(ex, lambda: dave.new_order(**LIMIT_BUY), -2019, "Margin is insufficient.")
    assert_next_order_id(dave, 1, quantity="0.009", price="30000")
    ex.check_invariants()


def test_limit_order_needing_exactly_the_available_balance_is_accepted(ex):
    # Arrange
    ex.create_account("dave", balance="15")
    dave = ex.client("dave")
    # Act
    order = dave.new_order(**LIMIT_BUY)
    # Assert
    assert order["status"] == "NEW"
    assert dave.account()["availableBalance"] == "0"
    ex.check_invariants()


def test_limit_buy_above_the_mark_pays_the_open_loss_up_front(ex):
    # Arrange: 0.010 @ 30100 with mark 30000 needs ceil(301/20)=15.05 + 0.010 × 100 = 16.05
    ex.create_account("dave", balance="16.04999999")
    dave = ex.client("dave")
    # Act / Assert
    assert_rejected(
        ex,
        lambda: dave.new_order(**params(LIMIT_BUY, price="30100")),
        -2019,
        "Margin is insufficient.",
    )
    assert_next_order_id(dave, 1, price="30000")
    ex.check_invariants()


def test_market_order_beyond_available_balance_is_rejected(ex, bob):
    # Arrange: bob offers 0.010 @ 30000 (id 1); dave has 10 USDT, the fill needs 15
    bob.new_order(**params(LIMIT_BUY, side="SELL"))
    ex.create_account("dave", balance="10")
    dave = ex.client("dave")
    # Act / Assert
    assert_rejected(ex, lambda: dave.new_order(**MARKET_BUY), -2019, "Margin is insufficient.")
    assert_next_order_id(dave, 2, quantity="0.005", price="29000")
    ex.check_invariants()


def test_take_profit_and_stop_loss_on_a_reduce_only_parent_are_rejected(ex, alice, bob):
    # Arrange: alice long 0.010 (ids 1, 2)
    give_long(ex, alice, bob)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(
            **params(
                LIMIT_BUY,
                side="SELL",
                price="31000",
                reduceOnly="true",
                stopLossPrice="31400",
            )
        ),
        -2022,
        "ReduceOnly Order is rejected.",
    )
    assert_next_order_id(alice, 3)
    ex.check_invariants()


def test_row_attached_on_the_parents_own_side_is_rejected(ex, alice):
    # Arrange: a BUY parent (id 1)
    alice.new_order(**LIMIT_BUY)
    # Act / Assert: a BUY stop attached to a BUY parent
    assert_rejected(
        ex,
        lambda: alice.new_order(
            **params(
                STOP_MARKET_SELL,
                side="BUY",
                stopPrice="31000",
                parentOrderId=1,
            )
        ),
        -2022,
        "ReduceOnly Order is rejected.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_row_attached_to_a_reduce_only_parent_is_rejected(ex, alice, bob):
    # Arrange: alice long (ids 1, 2); a reduce-only SELL parent (id 3)
    give_long(ex, alice, bob)
    alice.new_order(**params(LIMIT_BUY, side="SELL", price="31000", reduceOnly="true"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(
            **params(
                STOP_MARKET_SELL,
                side="BUY",
                stopPrice="31400",
                parentOrderId=3,
            )
        ),
        -2022,
        "ReduceOnly Order is rejected.",
    )
    assert_next_order_id(alice, 4)
    ex.check_invariants()


def test_row_attached_on_the_wrong_side_of_the_parents_price_is_rejected(ex, alice):
    # Arrange: a BUY parent at 31000 (id 1); a TP at 30500 is above the mark, below the parent
    alice.new_order(**params(LIMIT_BUY, price="31000"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(
            **params(
                STOP_MARKET_SELL,
                type="TAKE_PROFIT_MARKET",
                stopPrice="30500",
                parentOrderId=1,
            )
        ),
        -2021,
        "Order would immediately trigger.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_row_attached_to_another_accounts_parent_is_rejected(ex, alice, bob):
    # Arrange: bob's BUY parent (id 1)
    bob.new_order(**LIMIT_BUY)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(STOP_MARKET_SELL, parentOrderId=1)),
        -2013,
        "Order does not exist.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_row_attached_to_a_cancelled_parent_is_rejected(ex, alice):
    # Arrange: parent 1, cancelled
    alice.new_order(**LIMIT_BUY)
    alice.cancel_order(symbol="BTCUSDT", orderId=1)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(STOP_MARKET_SELL, parentOrderId=1)),
        -2013,
        "Order does not exist.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_row_attached_to_a_trigger_row_is_rejected(ex, alice):
    # Arrange: parent 1 with its stop-loss row 2
    alice.new_order(**params(LIMIT_BUY, stopLossPrice="29000"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(
            **params(
                STOP_MARKET_SELL,
                side="BUY",
                stopPrice="31000",
                parentOrderId=2,
            )
        ),
        -2013,
        "Order does not exist.",
    )
    assert_next_order_id(alice, 3)
    ex.check_invariants()


def test_row_attached_later_to_an_open_parent_is_accepted(ex, alice):
    # Arrange
    alice.new_order(**LIMIT_BUY)
    # Act
    row = alice.new_order(**params(STOP_MARKET_SELL, parentOrderId=1))
    # Assert
    assert (row["orderId"], row["parentOrderId"], row["origQty"], row["reduceOnly"]) == (
        2,
        1,
        "0.01",
        True,
    )
    ex.check_invariants()


def test_query_of_an_unknown_order_is_rejected(ex, alice):
    # Act / Assert
    assert_rejected(
        ex, lambda: alice.query_order(symbol="BTCUSDT", orderId=42), -2013, "Order does not exist."
    )
    assert_next_order_id(alice, 1)


def test_fok_that_the_book_cannot_fill_completely_is_rejected(ex, alice, bob):
    # Arrange: bob offers 0.005 (id 1); alice wants 0.010
    bob.new_order(**params(LIMIT_BUY, side="SELL", quantity="0.005"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, timeInForce="FOK")),
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected.",
    )
    assert bob.query_order(symbol="BTCUSDT", orderId=1)["executedQty"] == "0"
    assert_next_order_id(alice, 2, price="29000")
    ex.check_invariants()


def test_fok_that_the_book_can_fill_is_accepted(ex, alice, bob):
    # Arrange
    bob.new_order(**params(LIMIT_BUY, side="SELL"))
    # Act
    order = alice.new_order(**params(LIMIT_BUY, timeInForce="FOK"))
    # Assert
    assert (order["orderId"], order["status"], order["executedQty"]) == (2, "FILLED", "0.01")
    ex.check_invariants()


def test_post_only_that_would_take_is_rejected(ex, alice, bob):
    # Arrange: bob offers at 30000 (id 1)
    bob.new_order(**params(LIMIT_BUY, side="SELL"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.new_order(**params(LIMIT_BUY, timeInForce="GTX")),
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )
    assert_next_order_id(alice, 2, price="29999.9", timeInForce="GTX")
    ex.check_invariants()


# -- accepted edge cases of the numeric edge ---------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "orig_qty", "wire_price"),
    [
        pytest.param("0.0100", "30000", "0.01", "30000", id="trailing zeros carry no precision"),
        pytest.param("0.01000000", "30000.1000", "0.01", "30000.1", id="many trailing zeros"),
        pytest.param(0.01, 30000.1, "0.01", "30000.1", id="floats through repr"),
        pytest.param(Decimal("0.010"), Decimal("30000.00"), "0.01", "30000", id="Decimal"),
        pytest.param(1, 30000, "1", "30000", id="int"),
    ],
)
def test_numbers_in_every_accepted_form_are_read_exactly(
    ex, alice, quantity, price, orig_qty, wire_price
):
    # Act
    order = alice.new_order(**params(LIMIT_BUY, quantity=quantity, price=price))
    # Assert
    assert (order["orderId"], order["origQty"], order["price"]) == (1, orig_qty, wire_price)
    ex.check_invariants()


# -- cancel ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "order_id", "cid", "code", "message"),
    [
        pytest.param("", 1, None, -1102, mandatory("symbol"), id="symbol empty"),
        pytest.param(None, 1, None, -1102, mandatory("symbol"), id="symbol None"),
        pytest.param("XRPUSDT", 1, None, -1121, "Invalid symbol.", id="symbol unknown"),
        pytest.param(
            "BTCUSDT",
            None,
            None,
            -1102,
            "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
            id="neither id",
        ),
        pytest.param(
            "BTCUSDT",
            "",
            "",
            -1102,
            "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
            id="both ids empty",
        ),
        pytest.param("BTCUSDT", 99, None, -2011, "Unknown order sent.", id="unknown orderId"),
        pytest.param("BTCUSDT", None, "nope", -2011, "Unknown order sent.", id="unknown client id"),
    ],
)
def test_cancel_with_bad_parameters_is_rejected(ex, alice, symbol, order_id, cid, code, message):
    # Arrange: one open order (id 1)
    alice.new_order(**LIMIT_BUY)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.cancel_order(symbol=symbol, orderId=order_id, origClientOrderId=cid),
        code,
        message,
    )
    assert alice.query_order(symbol="BTCUSDT", orderId=1)["status"] == "NEW"
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_batch_cancel_of_more_than_ten_ids_is_rejected(ex, alice):
    # Arrange: eleven open orders, ids 1..11
    for _ in range(11):
        alice.new_order(**LIMIT_BUY)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.cancel_batch_order("BTCUSDT", list(range(1, 12)), None),
        -4032,
        "Exceed maximum cancel order size.",
    )
    assert len(alice.get_orders(symbol="BTCUSDT")) == 11
    assert_next_order_id(alice, 12)
    ex.check_invariants()


@pytest.mark.parametrize("ids", [[], "[]"], ids=["python list", "json text"])
def test_batch_cancel_of_no_ids_is_rejected(ex, alice, ids):
    # Arrange
    alice.new_order(**LIMIT_BUY)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.cancel_batch_order("BTCUSDT", ids, None),
        -1102,
        "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
    )
    assert_next_order_id(alice, 2)


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leverage", "message"),
    [
        (0, "Leverage `0` is not valid"),
        (126, "Leverage `126` is not valid"),
        ("abc", "Leverage `abc` is not valid"),
        ("2.5", "Leverage `2.5` is not valid"),
    ],
)
def test_leverage_outside_1_to_125_is_rejected(ex, alice, leverage, message):
    # Act / Assert
    assert_rejected(
        ex, lambda: alice.change_leverage(symbol="BTCUSDT", leverage=leverage), -4028, message
    )
    assert_next_order_id(alice, 1)


@pytest.mark.parametrize("leverage", [1, 125])
def test_leverage_on_the_bounds_is_accepted(ex, alice, leverage):
    # Act
    resp = alice.change_leverage(symbol="BTCUSDT", leverage=leverage)
    # Assert
    assert (resp["symbol"], resp["leverage"]) == ("BTCUSDT", leverage)
    ex.check_invariants()


def test_margin_type_crossed_needs_no_change(ex, alice):
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_margin_type(symbol="BTCUSDT", marginType="CROSSED"),
        -4046,
        "No need to change margin type.",
    )
    assert_next_order_id(alice, 1)


def test_margin_type_isolated_is_accepted_and_the_same_again_refused(ex, alice):
    # Act / Assert
    assert alice.change_margin_type(symbol="BTCUSDT", marginType="ISOLATED") == {
        "code": 200, "msg": "success"}
    assert_rejected(
        ex,
        lambda: alice.change_margin_type(symbol="BTCUSDT", marginType="ISOLATED"),
        -4046,
        "No need to change margin type.",
    )
    assert_next_order_id(alice, 1)


def test_position_mode_unchanged_needs_no_change(ex, alice):
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_position_mode(dualSidePosition="false"),
        -4059,
        "No need to change position side.",
    )
    assert_next_order_id(alice, 1)


def test_position_mode_back_to_hedge_twice_needs_no_change(ex, alice):
    # Arrange
    alice.change_position_mode(dualSidePosition="true")
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_position_mode(dualSidePosition=True),
        -4059,
        "No need to change position side.",
    )
    assert_next_order_id(alice, 1, positionSide="LONG")
    ex.check_invariants()


def test_position_mode_cannot_change_with_an_open_order(ex, alice):
    # Arrange: an open order on ETHUSDT (id 1): any symbol counts
    alice.new_order(**params(LIMIT_BUY, symbol="ETHUSDT", price="2000", quantity="0.100"))
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_position_mode(dualSidePosition="true"),
        -4067,
        "Position side cannot be changed if there exists open orders.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_position_mode_cannot_change_with_an_open_trigger_row(ex, alice):
    # Arrange: a standalone stop (id 1) is an open order too
    alice.new_order(**STOP_MARKET_SELL)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_position_mode(dualSidePosition="true"),
        -4067,
        "Position side cannot be changed if there exists open orders.",
    )
    assert_next_order_id(alice, 2)
    ex.check_invariants()


def test_position_mode_cannot_change_with_a_position(ex, alice, bob):
    # Arrange: alice long 0.010 (ids 1, 2), no open order
    give_long(ex, alice, bob)
    # Act / Assert
    assert_rejected(
        ex,
        lambda: alice.change_position_mode(dualSidePosition="true"),
        -4068,
        "Position side cannot be changed if there exists position.",
    )
    assert_next_order_id(alice, 3)
    ex.check_invariants()


# -- instruments the engine cannot represent exactly ------------------------------------------
_TEST_INSTRUMENT = dict(
    base_asset="TEST", tick_size="0.5", step_size="0.005", price_precision=1,
    quantity_precision=3, min_price="1", max_price="100000", min_qty="0.010",
    max_qty="1000", market_max_qty="100", min_notional="5",
    brackets=make_brackets([("50000", 125, "0.004")]),
)


@pytest.mark.parametrize(("change", "message"), [
    ({"tick_size": "0.00001", "step_size": "0.0001"},
     "tick 0.00001 × step 0.0001 is finer than 1e-8 USDT"),
    ({"maker_rate": "0.000000001"}, "commission rates have more than 8 decimals"),
    ({"taker_rate": "0.000000001"}, "commission rates have more than 8 decimals"),
    ({"liquidation_fee": "0.000000001"}, "liquidation fee has more than 8 decimals"),
])
def test_an_instrument_finer_than_the_ledgers_unit_is_refused(change, message):
    with pytest.raises(ValueError) as info:
        Instrument("TESTUSDT", **{**_TEST_INSTRUMENT, **change})

    assert str(info.value) == message


def test_wire_strings_stay_exact_when_their_memos_are_full():
    class Full(dict):
        def __len__(self) -> int:
            return 10**9

    inst = Instrument("TESTUSDT", **_TEST_INSTRUMENT)
    inst._price_cache, inst._qty_cache = Full(), Full()

    assert (inst.price_str(123), inst.qty_str(7)) == ("61.5", "0.035")
    assert dict(inst._price_cache) == {} and dict(inst._qty_cache) == {}


def test_a_notional_beyond_every_cap_falls_in_the_last_bracket():
    inst = Instrument("TESTUSDT", **{**_TEST_INSTRUMENT, "brackets": make_brackets(
        [("50000", 125, "0.004"), ("250000", 100, "0.005")])})

    assert inst.bracket_for(10**30).bracket == 2
    assert inst.bracket_for(-10**30) is inst.brackets[-1]
    assert inst.bracket_for(0).bracket == 1


def test_the_client_of_an_unknown_account_is_a_key_error_naming_it_and_the_known_ones():
    ex = Exchange()
    for name in ("bob", "alice"):
        ex.create_account(name, balance="10")

    with pytest.raises(KeyError) as info:
        ex.client("zed")

    assert str(info.value) == "no account 'zed' (accounts: 'alice', 'bob')"
    assert info.value.args == ("zed",)
