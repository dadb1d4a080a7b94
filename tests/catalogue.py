"""A catalogue of malformed and hostile requests, as data, for every client method.

Each :class:`Case` is one request the venue must refuse: the client method, the
parameters as sent, who sends them, and the exact Binance answer (HTTP status,
``code``, ``msg``).  A refused request changes nothing, so every runner also
compares ``state_hash()`` before and after.  ``tests/test_catalogue.py`` runs the
catalogue through the in-process client; ``tests/test_catalogue_rest.py`` sends
the same cases to the REST facade.

The venue
---------
:func:`build_venue` prepares the venue every case runs against (ids are one
venue-wide sequence, so they are fixed and recorded in :class:`Id`): BTCUSDT
mark 30000, ETHUSDT mark 2000; alice long 0.010 BTCUSDT with open orders
(plain, with client ids, a partly filled parent, an untouched parent) and
trigger rows in every state — PENDING, ARMED, TRIGGERED, CANCELED (by its OCO
sibling firing, directly, by cascade) and EXPIRED — plus filled and expired
ordinary orders; bob (short) with his own open orders and PENDING rows; carol
(long, no open orders); ``hedger`` in hedge mode with an open LONG bid.  Every
case is sent by alice unless it names another caller.

Parameters
----------
Values are what a bot sends: strings.  ``None`` means "not sent", as in the
connectors, which drop ``None`` parameters (it is also how a positional
parameter of the client, such as ``symbol``, is left out).  Any other Python
value — ``int``, ``bool``, ``float``, ``Decimal``, ``list``, ``dict``, ``bytes``
— is an oddity only the in-process client can receive: such a case is
in-process only (``case.wire`` is False).  A wire case knows its HTTP form
(:meth:`Case.http`): verb, path and string parameters.  :data:`WIRE_ONLY_CASES`
hold what only HTTP can express (a parameter sent twice, transport parameters),
and :data:`HOSTILE_CASES` requests built byte by byte (signatures forged by
re-encoding or by moving the query/body join, malformed signatures and keys,
too many parameters, oversized bodies).

Batch cancels answer 200 with one result per id; a case whose items all fail
lists the expected ``{"code", "msg"}`` items instead of a top-level error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine import Exchange

BTC, ETH = "BTCUSDT", "ETHUSDT"

#: Account name -> (api key, api secret); every account gets 10000 USDT.
ACCOUNTS = {
    "alice": ("catalogue-alice-key", "catalogue-alice-secret"),
    "bob": ("catalogue-bob-key", "catalogue-bob-secret"),
    "carol": ("catalogue-carol-key", "catalogue-carol-secret"),
    "hedger": ("catalogue-hedger-key", "catalogue-hedger-secret"),
}


class Id:
    """The order ids :func:`build_venue` creates (checked as it builds them)."""

    FILLED_PARENT = 1  # alice, FILLED; its SL fired, so its OCO group is spent
    OCO_CANCELED_TP = 2  # alice, CANCELED when its sibling SL fired
    TRIGGERED_SL = 3  # alice, TRIGGERED; placed child 6
    TRIGGERED_CHILD = 6
    FILLED_PARENT_2 = 7  # alice, FILLED, position closed by hand afterwards
    EXPIRED_TP = 8  # alice, EXPIRED with the closed position
    EXPIRED_SL = 9
    CLOSING_MARKET = 12  # alice's MARKET SELL that closed it, FILLED
    PARTIAL_PARENT = 13  # alice, LIMIT BUY 0.020 @30000, PARTIALLY_FILLED 0.010
    ARMED_TP = 14
    ARMED_SL = 15
    OPEN_PARENT = 17  # alice, LIMIT BUY 0.010 @29500, NEW
    PENDING_TP = 18
    DIRECT_CANCELED_SL = 19  # cancelled directly
    CANCELED_PARENT = 20  # cancelled, with its rows
    CASCADE_CANCELED_TP = 21
    CASCADE_CANCELED_SL = 22
    OPEN_BID = 23  # alice, "alice-bid", LIMIT BUY 0.010 @29000
    OPEN_ASK = 24  # alice, "alice-ask", LIMIT SELL 0.010 @31000
    STANDALONE_STOP = 25  # alice, "alice-stop", reduce-only STOP_MARKET SELL @28500, ARMED
    ETH_BID = 26  # alice, "alice-eth", ETHUSDT LIMIT BUY 0.100 @1990
    EXPIRED_MARKET = 27  # alice, ETHUSDT MARKET BUY that found no liquidity, EXPIRED
    BOB_ASK = 28  # bob, "bob-ask", LIMIT SELL 0.010 @31500
    BOB_PARENT = 29  # bob, LIMIT SELL 0.010 @31000 with TP 30 and SL 31, both PENDING
    BOB_TP = 30
    BOB_SL = 31
    HEDGER_BID = 32  # hedger, "hedge-long", LIMIT BUY LONG 0.010 @29000
    NEXT = 33  # the id the next accepted order would take


def build_venue(start_time: int | None = None) -> Exchange:
    """The prepared venue of the module docstring (``start_time``: the clock's start)."""
    ex = Exchange() if start_time is None else Exchange(start_time=start_time)
    for name, (key, secret) in ACCOUNTS.items():
        ex.create_account(name, "10000", api_key=key, api_secret=secret)
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    alice, bob, carol, hedger = (ex.client(n) for n in ACCOUNTS)
    hedger.change_position_mode(dualSidePosition="true")

    def expect(order: dict, order_id: int) -> None:
        assert order["orderId"] == order_id, (order["orderId"], order_id)

    def limit(client, side: str, qty: str, price: str, symbol: str = BTC, **kw: str) -> dict:
        return client.new_order(symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                                quantity=qty, price=price, **kw)

    def market(client, side: str, qty: str, symbol: str = BTC) -> dict:
        return client.new_order(symbol=symbol, side=side, type="MARKET", quantity=qty)

    def bracket(client, side: str, qty: str, price: str, tp: str, sl: str) -> dict:
        return limit(client, side, qty, price, takeProfitPrice=tp, stopLossPrice=sl,
                     tpslWorkingType="MARK_PRICE")

    # 1-6: a bracket fills, its SL fires (child 6) and its TP is cancelled with it
    expect(bracket(alice, "BUY", "0.010", "30000", "33000", "29000"), Id.FILLED_PARENT)
    market(bob, "SELL", "0.010")
    limit(carol, "BUY", "0.010", "28600")
    ex.set_mark_price(BTC, "28900")
    ex.set_mark_price(BTC, "30000")
    # 7-12: a bracket fills, alice closes by hand, both rows expire
    expect(bracket(alice, "BUY", "0.010", "30000", "33000", "29000"), Id.FILLED_PARENT_2)
    market(bob, "SELL", "0.010")
    limit(carol, "BUY", "0.010", "30000")
    expect(market(alice, "SELL", "0.010"), Id.CLOSING_MARKET)
    # 13-16: a bracket half fills: alice long 0.010, rows ARMED
    expect(bracket(alice, "BUY", "0.020", "30000", "33000", "29000"), Id.PARTIAL_PARENT)
    market(bob, "SELL", "0.010")
    # 17-19: an untouched bracket, its SL cancelled directly
    expect(bracket(alice, "BUY", "0.010", "29500", "32000", "28000"), Id.OPEN_PARENT)
    alice.cancel_order(symbol=BTC, orderId=Id.DIRECT_CANCELED_SL)
    # 20-22: a bracket cancelled with its rows
    expect(bracket(alice, "BUY", "0.010", "29400", "32000", "28000"), Id.CANCELED_PARENT)
    alice.cancel_order(symbol=BTC, orderId=Id.CANCELED_PARENT)
    # 23-27: plain orders with client ids, a standalone stop, ETHUSDT
    expect(limit(alice, "BUY", "0.010", "29000", newClientOrderId="alice-bid"), Id.OPEN_BID)
    expect(limit(alice, "SELL", "0.010", "31000", newClientOrderId="alice-ask"), Id.OPEN_ASK)
    expect(alice.new_order(symbol=BTC, side="SELL", type="STOP_MARKET", quantity="0.010",
                           stopPrice="28500", reduceOnly="true", newClientOrderId="alice-stop"),
           Id.STANDALONE_STOP)
    expect(limit(alice, "BUY", "0.100", "1990", ETH, newClientOrderId="alice-eth"), Id.ETH_BID)
    expect(market(alice, "BUY", "0.100", ETH), Id.EXPIRED_MARKET)
    # 28-32: bob's and the hedger's orders
    expect(limit(bob, "SELL", "0.010", "31500", newClientOrderId="bob-ask"), Id.BOB_ASK)
    expect(bracket(bob, "SELL", "0.010", "31000", "29000", "32000"), Id.BOB_PARENT)
    expect(limit(hedger, "BUY", "0.010", "29000", positionSide="LONG",
                 newClientOrderId="hedge-long"), Id.HEDGER_BID)
    alice.change_leverage(symbol=BTC, leverage="10")
    alice.countdown_cancel_order(symbol=ETH, countdownTime="600000")
    return ex


# -- cases -------------------------------------------------------------------------------------

#: Client method -> (HTTP verb, path, signed).
ENDPOINTS: dict[str, tuple[str, str, bool]] = {
    "new_order": ("POST", "/fapi/v1/order", True),
    "cancel_order": ("DELETE", "/fapi/v1/order", True),
    "modify_order": ("PUT", "/fapi/v1/order", True),
    "get_order_modify_history": ("GET", "/fapi/v1/orderAmendment", True),
    "cancel_batch_order": ("DELETE", "/fapi/v1/batchOrders", True),
    "new_batch_order": ("POST", "/fapi/v1/batchOrders", True),
    "modify_batch_order": ("PUT", "/fapi/v1/batchOrders", True),
    "new_order_test": ("POST", "/fapi/v1/order/test", True),
    "symbol_configuration": ("GET", "/fapi/v1/symbolConfig", True),
    "adl_quantile": ("GET", "/fapi/v1/adlQuantile", True),
    "force_orders": ("GET", "/fapi/v1/forceOrders", True),
    "change_multi_asset_mode": ("POST", "/fapi/v1/multiAssetsMargin", True),
    "modify_isolated_position_margin": ("POST", "/fapi/v1/positionMargin", True),
    "get_position_margin_history": ("GET", "/fapi/v1/positionMargin/history", True),
    "cancel_open_orders": ("DELETE", "/fapi/v1/allOpenOrders", True),
    "countdown_cancel_order": ("POST", "/fapi/v1/countdownCancelAll", True),
    "query_order": ("GET", "/fapi/v1/order", True),
    "get_open_orders": ("GET", "/fapi/v1/openOrder", True),
    "get_orders": ("GET", "/fapi/v1/openOrders", True),
    "get_all_orders": ("GET", "/fapi/v1/allOrders", True),
    "get_account_trades": ("GET", "/fapi/v1/userTrades", True),
    "get_income_history": ("GET", "/fapi/v1/income", True),
    "get_position_risk": ("GET", "/fapi/v2/positionRisk", True),
    "change_leverage": ("POST", "/fapi/v1/leverage", True),
    "change_margin_type": ("POST", "/fapi/v1/marginType", True),
    "change_position_mode": ("POST", "/fapi/v1/positionSide/dual", True),
    "commission_rate": ("GET", "/fapi/v1/commissionRate", True),
    "leverage_brackets": ("GET", "/fapi/v1/leverageBracket", True),
    "depth": ("GET", "/fapi/v1/depth", False),
    "mark_price": ("GET", "/fapi/v1/premiumIndex", False),
    "book_ticker": ("GET", "/fapi/v1/ticker/bookTicker", False),
}


@dataclass(frozen=True, eq=False, repr=False)
class Case:
    """One refused request: sent by ``caller`` to ``method`` with ``params``.

    Answered by HTTP ``status`` with ``code``/``msg`` — or, for a batch cancel
    whose every item fails, by 200 and ``items``: the ``(code, msg)`` of each id.
    """

    id: str
    method: str
    params: Mapping[str, Any]
    code: int | None
    msg: str | None
    status: int = 400
    caller: str = "alice"
    items: tuple[tuple[int, str], ...] | None = None

    @property
    def wire(self) -> bool:
        """True when a bot can send it over HTTP: every value a string or not sent."""
        return all(v is None or isinstance(v, str) for v in self.params.values())

    def http(self) -> tuple[str, str, dict[str, str]]:
        """``(verb, path, params)`` as sent over HTTP (``None`` values are not sent)."""
        if not self.wire:
            raise ValueError(f"{self.id} is in-process only")
        verb, path, _signed = ENDPOINTS[self.method]
        return verb, path, {k: v for k, v in self.params.items() if v is not None}

    @property
    def signed(self) -> bool:
        return ENDPOINTS[self.method][2]

    def __repr__(self) -> str:
        # never the parameters: some hold ints too long for ``repr`` (10**5000)
        return f"Case({self.id!r})"

    def call(self, client: Any) -> Any:
        """Send the case through an in-process client (keyword arguments, as sent)."""
        return getattr(client, self.method)(**self.params)

    def expected_items(self) -> list[dict[str, Any]] | None:
        return None if self.items is None else [{"code": c, "msg": m} for c, m in self.items]


@dataclass(frozen=True)
class WireCase:
    """A request only HTTP can express: ``text`` is the parameter string as sent (a
    ``timestamp`` and the signature are appended to it for signed endpoints)."""

    id: str
    verb: str
    path: str
    text: str
    code: int
    msg: str
    status: int = 400
    caller: str = "alice"


# -- expected messages (BINANCE_ERRORS.md, %s filled in) ---------------------------------------

_DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
_INTEGER_RANGE = "^[0-9]{1,20}$"


def illegal(param: str) -> str:
    """-1100 for a decimal parameter."""
    return f"Illegal characters found in parameter '{param}'; legal range is '{_DECIMAL_RANGE}'."


def illegal_int(param: str) -> str:
    """-1100 for an integer parameter (ids, times, counts)."""
    return f"Illegal characters found in parameter '{param}'; legal range is '{_INTEGER_RANGE}'."


def mandatory(param: str) -> str:
    return f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."


def either(a: str, b: str) -> str:
    return f"Param '{a}' or '{b}' must be sent, but both were empty/null!"


def not_required(param: str) -> str:
    return f"Parameter '{param}' sent when not required."


def invalid(param: str) -> str:
    return f"Data sent for parameter '{param}' is not valid."


def bad_leverage(value: str) -> str:
    return f"Leverage `{value}` is not valid"


def min_notional(amount: str) -> str:
    return f"Order's notional must be no smaller than {amount} (unless you choose reduce only)"


def triggered(row: int, child: int) -> str:
    return f"Trigger order {row} has already triggered; it placed order {child}."


def row_canceled(row: int) -> str:
    return f"Trigger order {row} is already canceled."


def row_expired(row: int) -> str:
    return f"Trigger order {row} expired: the position it protected is closed."


def not_owned(row: int) -> str:
    return f"Trigger order {row} belongs to another account."


BAD_SYMBOL = "Invalid symbol."
DUPLICATE = "Duplicate values for a parameter detected."
BAD_SIDE = "Invalid side."
BAD_TYPE = "Invalid orderType."
BAD_TIF = "Invalid timeInForce."
BAD_PRECISION = "Precision is over the maximum defined for this asset."
BAD_POSITION_SIDE = "Invalid position side."
SIDE_NOT_MATCH = "Order's position side does not match user's setting."
BAD_CLIENT_ID = "Client order id is not valid."
DUPLICATED_CLIENT_ID = "clientOrderId is duplicated"
BAD_STP = "Invalid self trade prevention mode"
BAD_PRICE_MATCH = "Invalid price match"
PRICE_MATCH_TYPE = "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT"
NO_DEPTH = "No depth matches this BBO order"
GTD_RANGE = ("The goodTillDate timestamp must be greater than the current time plus 600 seconds "
             "and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)")
BAD_RESP_TYPE = "Invalid newOrderRespType."
UNSUPPORTED = "This operation is not supported."
UNKNOWN_ORDER = "Unknown order sent."
NO_SUCH_ORDER = "Order does not exist."
MARGIN = "Margin is insufficient."
IMMEDIATE = "Order would immediately trigger."
REDUCE_ONLY = "ReduceOnly Order is rejected."
PRICE_BELOW_ZERO = "Price less than 0."
PRICE_ABOVE_MAX = "Price greater than max price."
PRICE_BELOW_MIN = "Price less than min price."
OFF_TICK = "Price not increased by tick size."
QTY_NOT_POSITIVE = "Quantity less than zero."
QTY_ABOVE_MAX = "Quantity greater than max quantity."
STOP_BELOW_ZERO = "Stop price less than zero."
STOP_ABOVE_MAX = "Stop price greater than max price."
ABOVE_BAND = "Price is higher than mark price multiplier cap."
BELOW_BAND = "Price is lower than mark price multiplier floor."
TOO_MANY_IDS = "Exceed maximum cancel order size."
FOK_REJECT = "Due to the order could not be filled immediately, the FOK order has been rejected."
GTX_REJECT = (
    "Due to the order could not be executed as maker, the Post Only order will be rejected."
)


def working_type(value: str) -> str:
    return f"Invalid parameter working type: `{value}`"


# -- request bases -----------------------------------------------------------------------------

OMIT = object()  # in ``with_``: leave the parameter out altogether

LIMIT = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.010", "price": "29800"}
MARKET = {"symbol": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.010"}
STOP_MARKET = {"symbol": BTC, "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010",
               "stopPrice": "29000"}
STOP = {**STOP_MARKET, "type": "STOP", "price": "28900"}
TAKE_PROFIT_MARKET = {**STOP_MARKET, "type": "TAKE_PROFIT_MARKET", "stopPrice": "31000"}
TAKE_PROFIT = {**TAKE_PROFIT_MARKET, "type": "TAKE_PROFIT", "price": "31100"}
TRAILING = {"symbol": BTC, "side": "SELL", "type": "TRAILING_STOP_MARKET", "quantity": "0.010",
            "callbackRate": "1"}
ETH_LIMIT = {**LIMIT, "symbol": ETH, "quantity": "0.100", "price": "1990"}
HEDGE_LIMIT = {**LIMIT, "positionSide": "LONG"}


def with_(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with ``changes``; a change to :data:`OMIT` removes the parameter."""
    out = dict(base)
    for key, value in changes.items():
        if value is OMIT:
            out.pop(key, None)
        else:
            out[key] = value
    return out


_CASES: list[Case] = []


def _add(method: str, name: str, params: Mapping[str, Any], code: int | None, msg: str | None,
         **kw: Any) -> None:
    _CASES.append(Case(f"{method}:{name}", method, dict(params), code, msg, **kw))


def order(name: str, base: Mapping[str, Any], code: int, msg: str, *, caller: str = "alice",
          **changes: Any) -> None:
    """A ``new_order`` case: ``base`` with ``changes``."""
    _add("new_order", name, with_(base, **changes), code, msg, caller=caller)


def ids(*order_ids: int) -> str:
    """A batch id list as a bot sends it: compact JSON text."""
    return "[" + ",".join(str(i) for i in order_ids) + "]"


S = str  # ids travel as text: S(Id.OPEN_BID) == "23"

# -- new_order: every mandatory parameter missing or empty --------------------------------------

order("symbol-not-sent", LIMIT, -1102, mandatory("symbol"), symbol=None)
order("side-not-sent", LIMIT, -1102, mandatory("side"), side=None)
order("type-not-sent", LIMIT, -1102, mandatory("type"), type=None)
order("limit-quantity-missing", with_(LIMIT, price="30000.5"), -1102, mandatory("quantity"),
      quantity=OMIT)
order("market-quantity-missing", MARKET, -1102, mandatory("quantity"), quantity=OMIT)
order("stop-market-quantity-missing", STOP_MARKET, -1102, mandatory("quantity"), quantity=OMIT)
order("trailing-quantity-missing", TRAILING, -1102, mandatory("quantity"), quantity=OMIT)
order("limit-price-missing-with-tp", LIMIT, -1102, mandatory("price"), price=OMIT,
      takeProfitPrice="33000")
order("tif-missing-with-a-client-id", LIMIT, -1102, mandatory("timeInForce"),
      timeInForce=OMIT, newClientOrderId="no-tif")
order("stop-price-missing-on-a-buy", STOP, -1102, mandatory("price"), side="BUY",
      stopPrice="31000", price=OMIT)
order("stop-stopprice-missing", STOP, -1102, mandatory("stopPrice"), stopPrice=OMIT)
order("take-profit-price-missing", TAKE_PROFIT, -1102, mandatory("price"), price=OMIT)
order("take-profit-stopprice-missing", TAKE_PROFIT, -1102, mandatory("stopPrice"),
      stopPrice=OMIT)
order("take-profit-market-stopprice-missing", TAKE_PROFIT_MARKET, -1102, mandatory("stopPrice"),
      stopPrice=OMIT)
order("trailing-callbackrate-missing-with-activation", TRAILING, -1102,
      mandatory("callbackRate"), callbackRate=OMIT, activationPrice="31000")
order("tp-limit-price-missing", LIMIT, -1102, mandatory("takeProfitLimitPrice"),
      takeProfitPrice="33000", takeProfitType="TAKE_PROFIT")
order("sl-limit-price-missing", LIMIT, -1102, mandatory("stopLossLimitPrice"),
      stopLossPrice="29000", stopLossType="STOP")
order("symbol-empty-on-market", MARKET, -1102, mandatory("symbol"), symbol="")
order("side-empty-on-market", MARKET, -1102, mandatory("side"), side="")
order("type-empty-on-stop", STOP_MARKET, -1102, mandatory("type"), type="")
order("quantity-empty-on-limit", LIMIT, -1102, mandatory("quantity"), quantity="")
order("price-empty-on-limit", LIMIT, -1102, mandatory("price"), price="")
order("tif-empty-on-limit", LIMIT, -1102, mandatory("timeInForce"), timeInForce="")
order("stopprice-empty-on-stop", STOP, -1102, mandatory("stopPrice"), stopPrice="")
order("callbackrate-empty", TRAILING, -1102, mandatory("callbackRate"), callbackRate="")

# -- new_order: wrong types (in-process only) ---------------------------------------------------

order("symbol-list", LIMIT, -1121, BAD_SYMBOL, symbol=[BTC])
order("symbol-dict", LIMIT, -1121, BAD_SYMBOL, symbol={"symbol": BTC})
order("symbol-bytes", LIMIT, -1121, BAD_SYMBOL, symbol=b"BTCUSDT")
order("side-list", LIMIT, -1117, BAD_SIDE, side=["BUY"])
order("side-bool", LIMIT, -1117, BAD_SIDE, side=True)
order("type-dict", LIMIT, -1116, BAD_TYPE, type={"type": "LIMIT"})
order("type-int", MARKET, -1116, BAD_TYPE, type=1)
order("tif-list", LIMIT, -1115, BAD_TIF, timeInForce=["GTC"])
order("position-side-dict", LIMIT, -4060, BAD_POSITION_SIDE, positionSide={"side": "BOTH"})
order("quantity-list", LIMIT, -1100, illegal("quantity"), quantity=["0.010"])
order("quantity-dict", MARKET, -1100, illegal("quantity"), quantity={"qty": "0.010"})
order("quantity-false-on-market", MARKET, -1100, illegal("quantity"), quantity=False)
order("price-list", LIMIT, -1100, illegal("price"), price=[29800])
order("price-dict", STOP, -1100, illegal("price"), price={})
order("price-bytes", LIMIT, -1100, illegal("price"), price=b"29800")
order("price-decimal-nan", LIMIT, -1100, illegal("price"), price=Decimal("NaN"))
order("price-decimal-snan", LIMIT, -1100, illegal("price"), price=Decimal("sNaN"))
order("price-decimal-infinity", LIMIT, -1100, illegal("price"), price=Decimal("Infinity"))
order("price-decimal-1e50", LIMIT, -1100, illegal("price"), price=Decimal("1E+50"))
order("price-float-nan", LIMIT, -1100, illegal("price"), price=float("nan"))
order("price-float-minus-inf", LIMIT, -1100, illegal("price"), price=float("-inf"))
order("price-float-off-tick", LIMIT, -4014, OFF_TICK, price=29800.05)
order("price-float-1e30", LIMIT, -4002, PRICE_ABOVE_MAX, price=1e30)
order("price-int-10-pow-40", LIMIT, -4002, PRICE_ABOVE_MAX, price=10**40)
order("price-negative-int", LIMIT, -4001, PRICE_BELOW_ZERO, price=-29800)
order("quantity-float-1e-05", LIMIT, -1111, BAD_PRECISION, quantity=1e-05)
order("quantity-decimal-4-decimals", MARKET, -1111, BAD_PRECISION, quantity=Decimal("0.0105"))
order("quantity-int-10-pow-40", MARKET, -4005, QTY_ABOVE_MAX, quantity=10**40)
order("quantity-int-10-pow-5000", LIMIT, -4005, QTY_ABOVE_MAX, quantity=10**5000)
order("quantity-negative-float", LIMIT, -4003, QTY_NOT_POSITIVE, quantity=-0.01)
order("stopprice-true", STOP_MARKET, -1100, illegal("stopPrice"), stopPrice=True)
order("stopprice-list", TAKE_PROFIT_MARKET, -1100, illegal("stopPrice"), stopPrice=["31000"])
order("callbackrate-true", TRAILING, -1100, illegal("callbackRate"), callbackRate=True)
order("callbackrate-list", TRAILING, -1100, illegal("callbackRate"), callbackRate=[1])
order("callbackrate-float-off-step", TRAILING, -1130, invalid("callbackRate"),
      callbackRate=0.15)
order("client-id-int", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId=12345)
order("client-id-list", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId=["my-order"])
order("reduce-only-list", LIMIT, -1130, invalid("reduceOnly"), reduceOnly=["true"])
order("reduce-only-int", LIMIT, -1130, invalid("reduceOnly"), reduceOnly=1)
order("close-position-dict", STOP_MARKET, -1130, invalid("closePosition"), closePosition={})
order("price-protect-list", STOP_MARKET, -1130, invalid("priceProtect"),
      priceProtect=[])
order("price-match-list", LIMIT, -5037, BAD_PRICE_MATCH, priceMatch=["OPPONENT"])
order("price-match-dict", LIMIT, -5037, BAD_PRICE_MATCH, priceMatch={"mode": "QUEUE"})
order("working-type-list", STOP_MARKET, -4031, working_type("['MARK_PRICE']"),
      workingType=["MARK_PRICE"])
order("working-type-int-10-pow-5000", STOP_MARKET, -4031, "Invalid parameter working type",
      workingType=10**5000)
order("stp-dict", LIMIT, -5039, BAD_STP, selfTradePreventionMode={})
order("resp-type-list", LIMIT, -1136, BAD_RESP_TYPE, newOrderRespType=["RESULT"])
order("parent-id-list", STOP_MARKET, -1100, illegal_int("parentOrderId"),
      parentOrderId=[Id.OPEN_PARENT])
order("parent-id-float", STOP_MARKET, -1100, illegal_int("parentOrderId"),
      parentOrderId=17.0)
order("tp-type-list", LIMIT, -1116, BAD_TYPE, takeProfitPrice="33000",
      takeProfitType=["TAKE_PROFIT_MARKET"])

# -- new_order: illegal characters, NaN, infinity, non-ASCII digits, over-long numbers ---------

order("quantity-NaN-on-market", MARKET, -1100, illegal("quantity"), quantity="NaN")
order("quantity-minus-nan", LIMIT, -1100, illegal("quantity"), quantity="-nan")
order("quantity-1e999", LIMIT, -1100, illegal("quantity"), quantity="1e999")
order("quantity-1e-999", LIMIT, -1100, illegal("quantity"), quantity="1e-999")
order("quantity-exponent-7-digits", LIMIT, -1100, illegal("quantity"), quantity="1e1000000")
order("quantity-hex", LIMIT, -1100, illegal("quantity"), quantity="0x10")
order("quantity-fraction", LIMIT, -1100, illegal("quantity"), quantity="1/100")
order("quantity-leading-space", LIMIT, -1100, illegal("quantity"), quantity=" 0.010")
order("quantity-trailing-newline", LIMIT, -1100, illegal("quantity"), quantity="0.010\n")
order("quantity-two-points", LIMIT, -1100, illegal("quantity"), quantity="0.0.1")
order("quantity-1000-digits", LIMIT, -1100, illegal("quantity"), quantity="1" * 1000)
order("quantity-arabic-indic", MARKET, -1100, illegal("quantity"),
      quantity="\u0660\u066b\u0660\u0661")
order("quantity-devanagari", LIMIT, -1100, illegal("quantity"), quantity="\u0967")
order("price-fullwidth", LIMIT, -1100, illegal("price"), price="\uff13\uff10\uff10\uff10\uff10")
order("price-minus-inf", LIMIT, -1100, illegal("price"), price="-inf")
order("price-Infinity-on-stop", STOP, -1100, illegal("price"), price="Infinity")
order("price-1e999", LIMIT, -1100, illegal("price"), price="1e999")
order("price-50-decimals", LIMIT, -1100, illegal("price"), price="0." + "0" * 50 + "1")
order("price-dollar-sign", LIMIT, -1100, illegal("price"), price="$29800")
order("price-thousands-separator", LIMIT, -1100, illegal("price"), price="29,800")
order("price-nul-byte", LIMIT, -1100, illegal("price"), price="29800\x00")
order("stopprice-nan", STOP_MARKET, -1100, illegal("stopPrice"), stopPrice="nan")
order("stopprice-infinity", TAKE_PROFIT_MARKET, -1100, illegal("stopPrice"),
      stopPrice="Infinity")
order("stopprice-fullwidth", STOP_MARKET, -1100, illegal("stopPrice"),
      stopPrice="\uff12\uff19\uff10\uff10\uff10")
order("callbackrate-nan", TRAILING, -1100, illegal("callbackRate"), callbackRate="NaN")
order("callbackrate-percent-sign", TRAILING, -1100, illegal("callbackRate"), callbackRate="1%")
order("activation-price-text", TRAILING, -1100, illegal("activationPrice"),
      activationPrice="market")
order("take-profit-price-inf", LIMIT, -1100, illegal("takeProfitPrice"), takeProfitPrice="inf")
order("stop-loss-price-arabic", LIMIT, -1100, illegal("stopLossPrice"),
      stopLossPrice="\u0662\u0669\u0660\u0660\u0660")
order("tp-limit-price-nan", LIMIT, -1100, illegal("takeProfitLimitPrice"),
      takeProfitPrice="33000", takeProfitType="TAKE_PROFIT", takeProfitLimitPrice="NaN")
order("parent-id-text", STOP_MARKET, -1100, illegal_int("parentOrderId"), parentOrderId="abc")
order("parent-id-negative", STOP_MARKET, -1100, illegal_int("parentOrderId"), parentOrderId="-17")

# -- new_order: negative, zero and huge numbers -------------------------------------------------

order("quantity-negative-on-market", MARKET, -4003, QTY_NOT_POSITIVE, quantity="-1")
order("quantity-zero-on-market", MARKET, -4003, QTY_NOT_POSITIVE, quantity="0")
order("quantity-minus-zero", LIMIT, -4003, QTY_NOT_POSITIVE, quantity="-0")
order("quantity-zero-exponent", LIMIT, -4003, QTY_NOT_POSITIVE, quantity="0e5")
order("quantity-1e30", LIMIT, -4005, QTY_ABOVE_MAX, quantity="1e30")
order("quantity-40-digits", LIMIT, -4005, QTY_ABOVE_MAX, quantity="9" * 40)
order("stop-market-quantity-above-market-max", STOP_MARKET, -4005, QTY_ABOVE_MAX,
      quantity="500")
order("trailing-quantity-above-market-max", TRAILING, -4005, QTY_ABOVE_MAX, quantity="121")
order("price-negative", LIMIT, -4001, PRICE_BELOW_ZERO, price="-0.1")
order("price-zero", LIMIT, -4013, PRICE_BELOW_MIN, price="0")
order("price-1e30", LIMIT, -4002, PRICE_ABOVE_MAX, price="1e30")
order("price-1e40-on-take-profit", TAKE_PROFIT, -4002, PRICE_ABOVE_MAX, price="1e40")
order("stopprice-negative", STOP_MARKET, -4006, STOP_BELOW_ZERO, stopPrice="-1")
order("stopprice-zero", STOP_MARKET, -4013, PRICE_BELOW_MIN, stopPrice="0")
order("stopprice-1e30", TAKE_PROFIT_MARKET, -4007, STOP_ABOVE_MAX, stopPrice="1e30")
order("activation-price-negative", TRAILING, -4006, STOP_BELOW_ZERO, activationPrice="-31000")
order("callbackrate-zero", TRAILING, -1130, invalid("callbackRate"), callbackRate="0")
order("callbackrate-negative", TRAILING, -1130, invalid("callbackRate"), callbackRate="-1")
order("callbackrate-above-10", TRAILING, -1130, invalid("callbackRate"), callbackRate="10.1")
order("callbackrate-off-step", TRAILING, -1130, invalid("callbackRate"), callbackRate="0.05")
order("callbackrate-1e30", TRAILING, -1130, invalid("callbackRate"), callbackRate="1e30")
order("margin-for-900-btc", LIMIT, -2019, MARGIN, quantity="900")

# -- new_order: off-grid and too many decimals --------------------------------------------------

order("price-off-tick", LIMIT, -4014, OFF_TICK, price="29800.15")
order("price-3-decimals", LIMIT, -1111, BAD_PRECISION, price="29800.123")
order("price-25-decimals", LIMIT, -1111, BAD_PRECISION, price="29800." + "0" * 24 + "1")
order("quantity-4-decimals-on-market", MARKET, -1111, BAD_PRECISION, quantity="0.0105")
order("quantity-exponent-off-grid", LIMIT, -1111, BAD_PRECISION, quantity="1e-4")
order("stop-loss-price-off-tick", LIMIT, -4014, OFF_TICK, stopLossPrice="29000.05")
order("take-profit-price-3-decimals", LIMIT, -1111, BAD_PRECISION, takeProfitPrice="33000.001")
order("activation-price-off-tick", TRAILING, -4014, OFF_TICK, activationPrice="31000.05")
order("eth-price-3-decimals", ETH_LIMIT, -1111, BAD_PRECISION, price="1990.001")
order("eth-quantity-4-decimals", ETH_LIMIT, -1111, BAD_PRECISION, quantity="0.1001")

# -- new_order: enum values -----------------------------------------------------------------------

order("symbol-lowercase", LIMIT, -1121, BAD_SYMBOL, symbol="btcusdt")
order("symbol-trailing-space", LIMIT, -1121, BAD_SYMBOL, symbol="BTCUSDT ")
order("symbol-zero-width-space", LIMIT, -1121, BAD_SYMBOL, symbol="BTC\u200bUSDT")
order("symbol-fullwidth", MARKET, -1121, BAD_SYMBOL, symbol="\uff22\uff34\uff23USDT")
order("symbol-spot-pair-slash", LIMIT, -1121, BAD_SYMBOL, symbol="BTC/USDT")
order("side-lowercase", LIMIT, -1117, BAD_SIDE, side="buy")
order("side-long", MARKET, -1117, BAD_SIDE, side="LONG")
order("type-lowercase", LIMIT, -1116, BAD_TYPE, type="limit")
order("type-oco", LIMIT, -1116, BAD_TYPE, type="OCO")
order("tif-gtd-without-good-till-date", LIMIT, -1102, mandatory("goodTillDate"),
      timeInForce="GTD")
order("tif-gtd-on-stop-limit", STOP, -1115, BAD_TIF, timeInForce="GTD",
      goodTillDate="4102444800000")
order("tif-gtd-on-take-profit-limit", TAKE_PROFIT, -1115, BAD_TIF, timeInForce="GTD",
      goodTillDate="4102444800000")
order("tif-on-stop-limit", STOP, -1115, BAD_TIF, timeInForce="DAY")
order("position-side-lowercase", LIMIT, -4060, BAD_POSITION_SIDE, positionSide="long")
order("position-side-trailing-space", LIMIT, -4060, BAD_POSITION_SIDE, positionSide="BOTH ")
order("working-type-lowercase", STOP_MARKET, -4031, working_type("mark_price"),
      workingType="mark_price")
order("tpsl-working-type-mark", LIMIT, -4031, working_type("MARK"), takeProfitPrice="33000",
      tpslWorkingType="MARK")
order("stp-lowercase", LIMIT, -5039, BAD_STP, selfTradePreventionMode="expire_taker")
order("price-match-unknown", LIMIT, -5037, BAD_PRICE_MATCH, priceMatch="BEST")
order("price-match-opponent-10", LIMIT, -5037, BAD_PRICE_MATCH, price=OMIT,
      priceMatch="OPPONENT_10")
order("price-match-opponent-20", LIMIT, -5037, BAD_PRICE_MATCH, price=OMIT,
      priceMatch="OPPONENT_20")
order("price-match-lowercase", LIMIT, -5037, BAD_PRICE_MATCH, price=OMIT, priceMatch="queue")
order("price-match-queue-50", LIMIT, -5037, BAD_PRICE_MATCH, price=OMIT, priceMatch="QUEUE_50")
order("resp-type-full", LIMIT, -1136, BAD_RESP_TYPE, newOrderRespType="FULL")
order("reduce-only-yes", LIMIT, -1130, invalid("reduceOnly"), reduceOnly="yes")
order("close-position-1", STOP_MARKET, -1130, invalid("closePosition"), quantity=OMIT,
      closePosition="1")
order("price-protect-maybe", STOP_MARKET, -1130, invalid("priceProtect"), priceProtect="maybe")
order("tp-type-limit", LIMIT, -1116, BAD_TYPE, takeProfitPrice="33000", takeProfitType="LIMIT")
order("sl-type-take-profit", LIMIT, -1116, BAD_TYPE, stopLossPrice="29000",
      stopLossType="TAKE_PROFIT_MARKET")

# -- new_order: client order ids -----------------------------------------------------------------

order("client-id-37-chars", MARKET, -4015, BAD_CLIENT_ID, newClientOrderId="A1_-.:/" * 5 + "xy")
order("client-id-1000-chars", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="a" * 1000)
order("client-id-tab", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="my\torder")
order("client-id-nbsp", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="my\u00a0order")
order("client-id-emoji", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="moon-\U0001f680")
order("client-id-cyrillic", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="\u043e\u0440\u0434")
order("client-id-fullwidth-digits", LIMIT, -4015, BAD_CLIENT_ID,
      newClientOrderId="id-\uff11\uff12")
order("client-id-ampersand", LIMIT, -4015, BAD_CLIENT_ID, newClientOrderId="a&symbol=ETHUSDT")
order("client-id-duplicate-of-open-order", LIMIT, -4116, DUPLICATED_CLIENT_ID,
      newClientOrderId="alice-bid")
order("client-id-duplicate-of-open-stop", STOP_MARKET, -4116, DUPLICATED_CLIENT_ID,
      newClientOrderId="alice-stop")
order("client-id-duplicate-on-other-symbol", LIMIT, -4116, DUPLICATED_CLIENT_ID,
      newClientOrderId="alice-eth")

# -- new_order: contradictory parameters --------------------------------------------------------

order("close-position-with-quantity", STOP_MARKET, -1106, not_required("quantity"),
      closePosition="true")
order("close-position-with-reduce-only", TAKE_PROFIT_MARKET, -1106, not_required("reduceOnly"),
      quantity=OMIT, closePosition="true", reduceOnly="true")
order("close-position-on-limit", LIMIT, -1106, not_required("closePosition"),
      closePosition="true")
order("close-position-on-trailing", TRAILING, -1106, not_required("closePosition"),
      quantity=OMIT, closePosition="true")
order("close-position-with-parent", STOP_MARKET, -1106, not_required("closePosition"),
      quantity=OMIT, closePosition="TRUE", parentOrderId=S(Id.OPEN_PARENT))
order("price-on-stop-market", STOP_MARKET, -1106, not_required("price"), price="28900")
order("price-on-trailing", TRAILING, -1106, not_required("price"), price="29000")
order("stopprice-on-market", MARKET, -1106, not_required("stopPrice"), stopPrice="29000")
order("stopprice-on-trailing", TRAILING, -1106, not_required("stopPrice"), stopPrice="29000")
order("callbackrate-on-stop-market", STOP_MARKET, -1106, not_required("callbackRate"),
      callbackRate="1")
order("activation-price-on-limit", LIMIT, -1106, not_required("activationPrice"),
      activationPrice="31000")
order("take-profit-on-trailing", TRAILING, -1106, not_required("takeProfitPrice"),
      takeProfitPrice="33000")
order("stop-loss-on-stop", STOP, -1106, not_required("stopLossPrice"), stopLossPrice="28000")
order("take-profit-on-take-profit", TAKE_PROFIT, -1106, not_required("takeProfitPrice"),
      takeProfitPrice="33000")
order("tp-type-without-tp-price", LIMIT, -1106, not_required("takeProfitType"),
      takeProfitType="TAKE_PROFIT_MARKET")
order("sl-limit-price-without-sl-price", LIMIT, -1106, not_required("stopLossLimitPrice"),
      stopLossLimitPrice="28900")
order("tp-limit-price-on-market-tp", LIMIT, -1106, not_required("takeProfitLimitPrice"),
      takeProfitPrice="33000", takeProfitLimitPrice="33100")
order("tpsl-working-type-without-legs", MARKET, -1106, not_required("tpslWorkingType"),
      tpslWorkingType="MARK_PRICE")
order("good-till-date", LIMIT, -1106, not_required("goodTillDate"), goodTillDate="4102444800000")
order("good-till-date-on-market", MARKET, -1106, not_required("goodTillDate"),
      timeInForce="GTD", goodTillDate="4102444800000")
order("gtd-good-till-date-empty", LIMIT, -1102, mandatory("goodTillDate"), timeInForce="GTD",
      goodTillDate="")
order("gtd-good-till-date-text", LIMIT, -1100, illegal_int("goodTillDate"), timeInForce="GTD",
      goodTillDate="tomorrow")
order("gtd-good-till-date-negative", LIMIT, -1100, illegal_int("goodTillDate"),
      timeInForce="GTD", goodTillDate="-4102444800000")
order("gtd-good-till-date-decimal", LIMIT, -1100, illegal_int("goodTillDate"),
      timeInForce="GTD", goodTillDate="4102444800000.5")
order("gtd-good-till-date-float", LIMIT, -1100, illegal_int("goodTillDate"), timeInForce="GTD",
      goodTillDate=4102444800000.0)
order("gtd-good-till-date-in-the-past", LIMIT, -5040, GTD_RANGE, timeInForce="GTD",
      goodTillDate="1000")
order("gtd-good-till-date-zero", LIMIT, -5040, GTD_RANGE, timeInForce="GTD", goodTillDate="0")
order("gtd-good-till-date-at-the-limit", LIMIT, -5040, GTD_RANGE, timeInForce="GTD",
      goodTillDate="253402300799000")
order("gtd-good-till-date-ms-past-the-limit", LIMIT, -5040, GTD_RANGE, timeInForce="GTD",
      goodTillDate="253402300799999")
order("gtd-good-till-date-20-digits", LIMIT, -5040, GTD_RANGE, timeInForce="GTD",
      goodTillDate="9" * 20)
order("price-match-with-price", LIMIT, -1106, not_required("price"), priceMatch="OPPONENT")
order("price-match-on-market", MARKET, -5038, PRICE_MATCH_TYPE, priceMatch="OPPONENT")
order("price-match-on-stop-market", STOP_MARKET, -5038, PRICE_MATCH_TYPE, priceMatch="QUEUE")
order("price-match-on-trailing", TRAILING, -5038, PRICE_MATCH_TYPE, priceMatch="QUEUE_5")
order("price-match-on-stop-limit", STOP, -1020, UNSUPPORTED, price=OMIT, priceMatch="QUEUE")
order("price-match-on-take-profit-limit", TAKE_PROFIT, -1020, UNSUPPORTED, price=OMIT,
      priceMatch="OPPONENT")
order("parent-id-on-market", MARKET, -1106, not_required("parentOrderId"),
      parentOrderId=S(Id.OPEN_PARENT))
order("reduce-only-with-tp-sl", LIMIT, -2022, REDUCE_ONLY, side="SELL", price="30200",
      reduceOnly="true", takeProfitPrice="29000")
order("reduce-only-buy-while-long", MARKET, -2022, REDUCE_ONLY, reduceOnly="true")
order("reduce-only-on-flat-eth", ETH_LIMIT, -2022, REDUCE_ONLY, side="SELL", price="2010",
      reduceOnly="TRUE")
order("close-position-buy-while-long", STOP_MARKET, -2022, REDUCE_ONLY, side="BUY",
      stopPrice="31000", quantity=OMIT, closePosition="true")
order("gtx-buy-crossing-the-ask", LIMIT, -5022, GTX_REJECT, price="31000", timeInForce="GTX")
order("gtx-buy-matching-the-opponent", LIMIT, -5022, GTX_REJECT, price=OMIT,
      priceMatch="OPPONENT", timeInForce="GTX")
order("price-match-on-an-empty-ask-side", ETH_LIMIT, -5041, NO_DEPTH, price=OMIT,
      priceMatch="OPPONENT")
order("price-match-queue-on-an-empty-ask-side", ETH_LIMIT, -5041, NO_DEPTH, side="SELL",
      price=OMIT, priceMatch="QUEUE_5")
order("price-match-queue-beyond-the-margin", LIMIT, -2019, MARGIN, price=OMIT, quantity="9.000",
      priceMatch="QUEUE")
order("gtx-sell-crossing-the-bid", LIMIT, -5022, GTX_REJECT, side="SELL", price="30000",
      timeInForce="GTX")
order("fok-larger-than-the-book", LIMIT, -5021, FOK_REJECT, price="31500", quantity="1",
      timeInForce="FOK")
order("position-side-long-in-one-way-mode", STOP_MARKET, -4061, SIDE_NOT_MATCH,
      positionSide="LONG")
order("hedge-mode-without-position-side", LIMIT, -4061, SIDE_NOT_MATCH, caller="hedger")
order("hedge-mode-position-side-both", HEDGE_LIMIT, -4061, SIDE_NOT_MATCH, caller="hedger",
      positionSide="BOTH")
order("hedge-mode-reduce-only", HEDGE_LIMIT, -1106, not_required("reduceOnly"),
      caller="hedger", side="SELL", reduceOnly="true")
order("hedge-mode-close-long-with-nothing", HEDGE_LIMIT, -2022, REDUCE_ONLY, caller="hedger",
      side="SELL", price="30200")
order("hedge-mode-close-short-with-nothing", MARKET, -2022, REDUCE_ONLY, caller="hedger",
      positionSide="SHORT")

# -- new_order: prices against the market and the parent ---------------------------------------

order("eth-price-above-band", ETH_LIMIT, -4016, ABOVE_BAND, price="2100.01")
order("eth-price-below-band", ETH_LIMIT, -4024, BELOW_BAND, side="SELL", price="1899.99")
order("eth-notional-below-20", ETH_LIMIT, -4164, min_notional("20"), quantity="0.001")
order("market-notional-below-100", MARKET, -4164, min_notional("100"), quantity="0.001")
order("stop-entry-notional-below-100", STOP_MARKET, -4164, min_notional("100"), side="BUY",
      stopPrice="31000", quantity="0.001")
order("buy-stop-below-the-price", STOP_MARKET, -2021, IMMEDIATE, side="BUY", stopPrice="29000")
order("sell-take-profit-below-the-price", TAKE_PROFIT_MARKET, -2021, IMMEDIATE,
      stopPrice="29000")
order("buy-stop-limit-below-the-price", STOP, -2021, IMMEDIATE, side="BUY", price="30500",
      stopPrice="29500")
order("buy-trailing-activation-above-the-price", TRAILING, -2021, IMMEDIATE, side="BUY",
      activationPrice="30100")
order("market-sell-take-profit-above-the-mark", MARKET, -2021, IMMEDIATE, side="SELL",
      takeProfitPrice="30100", tpslWorkingType="MARK_PRICE")
order("parent-of-another-account", STOP_MARKET, -2013, NO_SUCH_ORDER, side="BUY",
      stopPrice="32000", parentOrderId=S(Id.BOB_PARENT))
order("parent-cancelled", STOP_MARKET, -2013, NO_SUCH_ORDER,
      parentOrderId=S(Id.CANCELED_PARENT))
order("parent-is-a-trigger-row", STOP_MARKET, -2013, NO_SUCH_ORDER,
      parentOrderId=S(Id.PENDING_TP))
order("parent-on-another-symbol", STOP_MARKET, -2013, NO_SUCH_ORDER,
      parentOrderId=S(Id.ETH_BID))
order("parent-whose-oco-group-fired", STOP_MARKET, -2013, NO_SUCH_ORDER,
      parentOrderId=S(Id.FILLED_PARENT))
order("parent-unknown-20-digits", STOP_MARKET, -2013, NO_SUCH_ORDER,
      parentOrderId="9" * 20)
order("row-on-the-parents-own-side", STOP_MARKET, -2022, REDUCE_ONLY, side="BUY",
      stopPrice="31000", parentOrderId=S(Id.OPEN_PARENT))
order("row-on-the-wrong-side-of-the-parent", STOP_MARKET, -2021, IMMEDIATE, stopPrice="29600",
      parentOrderId=S(Id.OPEN_PARENT))

# -- cancel_order -------------------------------------------------------------------------------


def cancel(name: str, code: int, msg: str, *, symbol: Any = BTC, orderId: Any = None,
           origClientOrderId: Any = None, caller: str = "alice") -> None:
    _add("cancel_order", name,
         {"symbol": symbol, "orderId": orderId, "origClientOrderId": origClientOrderId},
         code, msg, caller=caller)


cancel("symbol-not-sent", -1102, mandatory("symbol"), symbol=None, orderId=S(Id.OPEN_BID))
cancel("symbol-empty", -1102, mandatory("symbol"), symbol="", orderId=S(Id.OPEN_BID))
cancel("symbol-unknown", -1121, BAD_SYMBOL, symbol="XRPUSDT", orderId=S(Id.OPEN_BID))
cancel("symbol-list", -1121, BAD_SYMBOL, symbol=[BTC], orderId=Id.OPEN_BID)
cancel("no-id-sent", -1102, either("orderId", "origClientOrderId"))
cancel("both-ids-empty", -1102, either("orderId", "origClientOrderId"), orderId="",
       origClientOrderId="")
cancel("order-id-text", -1100, illegal_int("orderId"), orderId="abc")
cancel("order-id-negative", -1100, illegal_int("orderId"), orderId="-23")
cancel("order-id-decimal", -1100, illegal_int("orderId"), orderId="23.0")
cancel("order-id-exponent", -1100, illegal_int("orderId"), orderId="2.3e1")
cancel("order-id-arabic-indic", -1100, illegal_int("orderId"), orderId="\u0662\u0663")
cancel("order-id-fullwidth", -1100, illegal_int("orderId"), orderId="\uff12\uff13")
cancel("order-id-21-digits", -1100, illegal_int("orderId"), orderId="1" * 21)
cancel("order-id-float", -1100, illegal_int("orderId"), orderId=23.0)
cancel("order-id-true", -1100, illegal_int("orderId"), orderId=True)
cancel("order-id-list", -1100, illegal_int("orderId"), orderId=[Id.OPEN_BID])
cancel("order-id-decimal-type", -1100, illegal_int("orderId"), orderId=Decimal(23))
cancel("order-id-unknown", -2011, UNKNOWN_ORDER, orderId=S(Id.NEXT))
cancel("order-id-zero", -2011, UNKNOWN_ORDER, orderId="0")
cancel("order-id-20-digits", -2011, UNKNOWN_ORDER, orderId="9" * 20)
cancel("order-id-int-10-pow-40", -2011, UNKNOWN_ORDER, orderId=10**40)
cancel("order-id-negative-int", -2011, UNKNOWN_ORDER, orderId=-Id.OPEN_BID)
cancel("filled-order", -2011, UNKNOWN_ORDER, orderId=S(Id.FILLED_PARENT))
cancel("filled-market-order", -2011, UNKNOWN_ORDER, orderId=S(Id.CLOSING_MARKET))
cancel("cancelled-order", -2011, UNKNOWN_ORDER, orderId=S(Id.CANCELED_PARENT))
cancel("expired-market-order", -2011, UNKNOWN_ORDER, symbol=ETH, orderId=S(Id.EXPIRED_MARKET))
cancel("child-of-a-fired-row", -2011, UNKNOWN_ORDER, orderId=S(Id.TRIGGERED_CHILD))
cancel("another-accounts-order", -2011, UNKNOWN_ORDER, orderId=S(Id.BOB_ASK))
cancel("another-accounts-parent-int", -2011, UNKNOWN_ORDER, orderId=Id.BOB_PARENT)
cancel("own-order-on-the-wrong-symbol", -2011, UNKNOWN_ORDER, symbol=ETH,
       orderId=S(Id.OPEN_BID))
cancel("own-int-id-on-the-wrong-symbol", -2011, UNKNOWN_ORDER, symbol=ETH, orderId=Id.OPEN_ASK)
cancel("own-fired-row-on-the-wrong-symbol", -2011, UNKNOWN_ORDER, symbol=ETH,
       orderId=S(Id.TRIGGERED_SL))
cancel("another-accounts-row", -2093, not_owned(Id.BOB_TP), orderId=S(Id.BOB_TP))
cancel("another-accounts-row-int", -2093, not_owned(Id.BOB_SL), orderId=Id.BOB_SL)
cancel("another-accounts-row-on-the-wrong-symbol", -2093, not_owned(Id.BOB_TP), symbol=ETH,
       orderId=S(Id.BOB_TP))
cancel("alices-row-by-bob", -2093, not_owned(Id.PENDING_TP), caller="bob",
       orderId=S(Id.PENDING_TP))
cancel("alices-fired-row-by-carol", -2093, not_owned(Id.TRIGGERED_SL), caller="carol",
       orderId=S(Id.TRIGGERED_SL))
cancel("triggered-row", -2090, triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD),
       orderId=S(Id.TRIGGERED_SL))
cancel("triggered-row-int", -2090, triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD),
       orderId=Id.TRIGGERED_SL)
cancel("row-cancelled-by-its-oco-sibling", -2091, row_canceled(Id.OCO_CANCELED_TP),
       orderId=S(Id.OCO_CANCELED_TP))
cancel("row-cancelled-directly", -2091, row_canceled(Id.DIRECT_CANCELED_SL),
       orderId=Id.DIRECT_CANCELED_SL)
cancel("row-cancelled-by-cascade", -2091, row_canceled(Id.CASCADE_CANCELED_TP),
       orderId=S(Id.CASCADE_CANCELED_TP))
cancel("expired-take-profit", -2092, row_expired(Id.EXPIRED_TP), orderId=S(Id.EXPIRED_TP))
cancel("expired-stop-loss-int", -2092, row_expired(Id.EXPIRED_SL), orderId=Id.EXPIRED_SL)
cancel("unknown-id-wins-over-a-good-client-id", -2011, UNKNOWN_ORDER, orderId=S(Id.NEXT),
       origClientOrderId="alice-bid")
cancel("client-id-unknown", -2011, UNKNOWN_ORDER, origClientOrderId="no-such-order")
cancel("client-id-of-another-account", -2011, UNKNOWN_ORDER, origClientOrderId="bob-ask")
cancel("client-id-other-case", -2011, UNKNOWN_ORDER, origClientOrderId="ALICE-BID")
cancel("client-id-with-trailing-space", -2011, UNKNOWN_ORDER, origClientOrderId="alice-bid ")
cancel("client-id-list", -2011, UNKNOWN_ORDER, origClientOrderId=["alice-bid"])
cancel("client-id-on-the-wrong-symbol", -2011, UNKNOWN_ORDER, symbol=ETH,
       origClientOrderId="alice-bid")
cancel("generated-client-id-of-a-fired-row", -2090,
       triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD), origClientOrderId=f"x-sim-{Id.TRIGGERED_SL}")
cancel("generated-client-id-of-another-accounts-row", -2011, UNKNOWN_ORDER,
       origClientOrderId=f"x-sim-{Id.BOB_TP}")
cancel("generated-client-id-5000-digits", -2011, UNKNOWN_ORDER,
       origClientOrderId="x-sim-" + "9" * 5000)
cancel("hedger-cancels-alices-order", -2011, UNKNOWN_ORDER, caller="hedger",
       orderId=S(Id.OPEN_BID))

# -- cancel_batch_order -----------------------------------------------------------------------


def batch(name: str, code: int | None, msg: str | None, *, symbol: Any = BTC,
          orderIdList: Any = None, origClientOrderIdList: Any = None,
          items: tuple[tuple[int, str], ...] | None = None) -> None:
    _add("cancel_batch_order", name,
         {"symbol": symbol, "orderIdList": orderIdList,
          "origClientOrderIdList": origClientOrderIdList},
         code, msg, status=400 if items is None else 200, items=items)


BATCH_EITHER = either("orderIdList", "origClientOrderIdList")
batch("symbol-not-sent", -1102, mandatory("symbol"), symbol=None, orderIdList=ids(Id.OPEN_BID))
batch("symbol-unknown", -1121, BAD_SYMBOL, symbol="BTCUSD", orderIdList=ids(Id.OPEN_BID))
batch("symbol-dict", -1121, BAD_SYMBOL, symbol={}, orderIdList=[Id.OPEN_BID])
batch("no-list-sent", -1102, BATCH_EITHER)
batch("both-lists-empty-text", -1102, BATCH_EITHER, orderIdList="", origClientOrderIdList="")
batch("empty-client-id-list", -1102, BATCH_EITHER, origClientOrderIdList="[]")
batch("empty-tuple", -1102, BATCH_EITHER, orderIdList=())
batch("malformed-json", -1102, mandatory("orderIdList"), orderIdList="[23,24")
batch("comma-separated-not-json", -1102, mandatory("orderIdList"), orderIdList="23,24")
batch("json-object", -1102, mandatory("orderIdList"), orderIdList='{"orderId": 23}')
batch("json-number", -1102, mandatory("orderIdList"), orderIdList="23")
batch("json-null", -1102, mandatory("orderIdList"), orderIdList="null")
batch("single-quoted-client-ids", -1102, mandatory("origClientOrderIdList"),
      origClientOrderIdList="['alice-bid']")
batch("json-nested-2000-deep", -1102, mandatory("orderIdList"),
      orderIdList="[" * 2000 + "]" * 2000)
batch("dict-instead-of-list", -1102, mandatory("orderIdList"), orderIdList={"ids": [23]})
batch("set-instead-of-list", -1102, mandatory("orderIdList"), orderIdList={Id.OPEN_BID})
batch("int-instead-of-list", -1102, mandatory("orderIdList"), orderIdList=Id.OPEN_BID)
batch("eleven-client-ids", -4032, TOO_MANY_IDS,
      origClientOrderIdList='["' + '","'.join(f"c{i}" for i in range(11)) + '"]')
batch("a-thousand-ids", -4032, TOO_MANY_IDS, orderIdList=ids(*range(1, 1001)))
batch("eleven-ids-in-a-python-list", -4032, TOO_MANY_IDS,
      orderIdList=[Id.OPEN_BID] * 11)
batch("trigger-rows-in-every-terminal-state", None, None,
      orderIdList=ids(Id.BOB_TP, Id.TRIGGERED_SL, Id.OCO_CANCELED_TP, Id.CASCADE_CANCELED_SL,
                      Id.EXPIRED_TP, Id.NEXT, Id.BOB_ASK, Id.FILLED_PARENT, Id.ETH_BID),
      items=((-2093, not_owned(Id.BOB_TP)),
             (-2090, triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD)),
             (-2091, row_canceled(Id.OCO_CANCELED_TP)),
             (-2091, row_canceled(Id.CASCADE_CANCELED_SL)),
             (-2092, row_expired(Id.EXPIRED_TP)),
             (-2011, UNKNOWN_ORDER), (-2011, UNKNOWN_ORDER), (-2011, UNKNOWN_ORDER),
             (-2011, UNKNOWN_ORDER)))
batch("garbage-json-items", None, None,
      orderIdList='["abc", -1, 1.5, null, true, [23], {"orderId": 23}, "", "\\u0662\\u0663"]',
      items=((-1100, illegal_int("orderId")), (-2011, UNKNOWN_ORDER),
             (-1100, illegal_int("orderId")), (-1102, either("orderId", "origClientOrderId")),
             (-1100, illegal_int("orderId")), (-1100, illegal_int("orderId")),
             (-1100, illegal_int("orderId")), (-1102, either("orderId", "origClientOrderId")),
             (-1100, illegal_int("orderId"))))
batch("json-nan-and-infinity-items", None, None, orderIdList="[NaN, Infinity, -Infinity, 1e400]",
      items=((-1100, illegal_int("orderId")),) * 4)
batch("the-same-fired-row-twice", None, None, orderIdList=ids(Id.TRIGGERED_SL, Id.TRIGGERED_SL),
      items=((-2090, triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD)),) * 2)
batch("garbage-client-id-items", None, None,
      origClientOrderIdList='["no-such", "bob-ask", "", 23, null, "x-sim-3", "ALICE-BID"]',
      items=((-2011, UNKNOWN_ORDER), (-2011, UNKNOWN_ORDER),
             (-1102, either("orderId", "origClientOrderId")), (-2011, UNKNOWN_ORDER),
             (-1102, either("orderId", "origClientOrderId")),
             (-2090, triggered(Id.TRIGGERED_SL, Id.TRIGGERED_CHILD)), (-2011, UNKNOWN_ORDER)))
batch("generated-client-id-5000-digits", None, None,
      origClientOrderIdList='["alice-bid ", "x-sim-' + "9" * 5000 + '"]',
      items=((-2011, UNKNOWN_ORDER), (-2011, UNKNOWN_ORDER)))
batch("python-list-of-odd-items", None, None,
      orderIdList=[{"id": 23}, [23], 23.0, Decimal(23), b"23", 10**40],
      items=((-1100, illegal_int("orderId")),) * 5 + ((-2011, UNKNOWN_ORDER),))
batch("ids-on-the-wrong-symbol", None, None, symbol=ETH,
      orderIdList=ids(Id.OPEN_BID, Id.PENDING_TP, Id.BOB_TP),
      items=((-2011, UNKNOWN_ORDER), (-2011, UNKNOWN_ORDER), (-2093, not_owned(Id.BOB_TP))))

# -- cancel_open_orders and countdown_cancel_order ---------------------------------------------

_add("cancel_open_orders", "symbol-not-sent", {"symbol": None}, -1102, mandatory("symbol"))
_add("cancel_open_orders", "symbol-empty", {"symbol": ""}, -1102, mandatory("symbol"))
_add("cancel_open_orders", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("cancel_open_orders", "symbol-with-nul", {"symbol": "BTCUSDT\x00"}, -1121, BAD_SYMBOL)
_add("cancel_open_orders", "symbol-two-symbols", {"symbol": "BTCUSDT,ETHUSDT"}, -1121,
     BAD_SYMBOL)
_add("cancel_open_orders", "symbol-list", {"symbol": [BTC, ETH]}, -1121, BAD_SYMBOL)


def countdown(name: str, code: int, msg: str, *, symbol: Any = BTC,
              countdownTime: Any = "60000") -> None:
    _add("countdown_cancel_order", name, {"symbol": symbol, "countdownTime": countdownTime},
         code, msg)


countdown("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
countdown("symbol-unknown", -1121, BAD_SYMBOL, symbol="ETH")
countdown("time-not-sent", -1102, mandatory("countdownTime"), countdownTime=None)
countdown("time-empty", -1102, mandatory("countdownTime"), countdownTime="")
countdown("time-text", -1100, illegal_int("countdownTime"), countdownTime="soon")
countdown("time-negative", -1100, illegal_int("countdownTime"), countdownTime="-1000")
countdown("time-decimal", -1100, illegal_int("countdownTime"), countdownTime="1000.5")
countdown("time-exponent", -1100, illegal_int("countdownTime"), countdownTime="1e4")
countdown("time-41-digits", -1100, illegal_int("countdownTime"), countdownTime="1" + "0" * 40)
countdown("time-float", -1100, illegal_int("countdownTime"), countdownTime=1000.0)
countdown("time-true", -1100, illegal_int("countdownTime"), countdownTime=True)
countdown("time-int-10-pow-40", -1100, illegal_int("countdownTime"), countdownTime=10**40)
countdown("time-int-10-pow-5000", -1100, illegal_int("countdownTime"), countdownTime=10**5000)

# -- query_order and get_open_orders -----------------------------------------------------------


def lookup(method: str, name: str, code: int, msg: str, *, symbol: Any = BTC,
           orderId: Any = None, origClientOrderId: Any = None, caller: str = "alice") -> None:
    _add(method, name,
         {"symbol": symbol, "orderId": orderId, "origClientOrderId": origClientOrderId},
         code, msg, caller=caller)


LOOKUP_EITHER = either("orderId", "origClientOrderId")
for _m in ("query_order", "get_open_orders"):
    lookup(_m, "symbol-not-sent", -1102, mandatory("symbol"), symbol=None,
           orderId=S(Id.OPEN_BID))
    lookup(_m, "symbol-unknown", -1121, BAD_SYMBOL, symbol="BTCUSDT_PERP", orderId=S(Id.OPEN_BID))
    lookup(_m, "no-id-sent", -1102, LOOKUP_EITHER)
    lookup(_m, "order-id-text", -1100, illegal_int("orderId"), orderId="twenty-three")
    lookup(_m, "order-id-another-accounts-order", -2013, NO_SUCH_ORDER, orderId=S(Id.BOB_ASK))
    lookup(_m, "order-id-another-accounts-row", -2013, NO_SUCH_ORDER, orderId=S(Id.BOB_SL))
    lookup(_m, "order-id-wrong-symbol", -2013, NO_SUCH_ORDER, symbol=ETH, orderId=S(Id.OPEN_BID))
    lookup(_m, "client-id-unknown", -2013, NO_SUCH_ORDER, origClientOrderId="no-such-order")
    lookup(_m, "generated-client-id-5000-digits", -2013, NO_SUCH_ORDER,
           origClientOrderId="x-sim-" + "9" * 5000)
lookup("query_order", "symbol-empty", -1102, mandatory("symbol"), symbol="", orderId="23")
lookup("query_order", "order-id-negative-int", -1100, illegal_int("orderId"), orderId=-23)
lookup("query_order", "order-id-list", -1100, illegal_int("orderId"), orderId=[23])
lookup("query_order", "order-id-unknown", -2013, NO_SUCH_ORDER, orderId=S(Id.NEXT))
lookup("query_order", "client-id-of-another-account", -2013, NO_SUCH_ORDER,
       origClientOrderId="hedge-long")
lookup("query_order", "client-id-dict", -2013, NO_SUCH_ORDER, origClientOrderId={})
lookup("get_open_orders", "order-id-with-space", -1100, illegal_int("orderId"),
       orderId="23 ")
lookup("get_open_orders", "filled-order", -2013, NO_SUCH_ORDER, orderId=S(Id.FILLED_PARENT))
lookup("get_open_orders", "expired-market-order", -2013, NO_SUCH_ORDER, symbol=ETH,
       orderId=S(Id.EXPIRED_MARKET))
lookup("get_open_orders", "cancelled-order", -2013, NO_SUCH_ORDER, orderId=S(Id.CANCELED_PARENT))
lookup("get_open_orders", "triggered-row", -2013, NO_SUCH_ORDER, orderId=S(Id.TRIGGERED_SL))
lookup("get_open_orders", "cancelled-row", -2013, NO_SUCH_ORDER,
       orderId=S(Id.DIRECT_CANCELED_SL))
lookup("get_open_orders", "expired-row", -2013, NO_SUCH_ORDER, orderId=S(Id.EXPIRED_SL))

# -- order and trade history -------------------------------------------------------------------

_add("get_orders", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("get_orders", "symbol-fullwidth", {"symbol": "\uff22\uff34\uff23\uff35\uff33\uff24\uff34"},
     -1121, BAD_SYMBOL)
_add("get_orders", "symbol-list", {"symbol": [BTC]}, -1121, BAD_SYMBOL)
_add("get_orders", "symbol-dict", {"symbol": {"BTCUSDT": 1}}, -1121, BAD_SYMBOL)


def history(method: str, name: str, code: int, msg: str, **params: Any) -> None:
    _add(method, name, {"symbol": BTC, **params}, code, msg)


history("get_all_orders", "symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
history("get_all_orders", "symbol-unknown", -1121, BAD_SYMBOL, symbol="1000PEPEUSDT")
history("get_all_orders", "limit-zero", -1130, invalid("limit"), limit="0")
history("get_all_orders", "limit-1001", -1130, invalid("limit"), limit="1001")
history("get_all_orders", "limit-negative", -1100, illegal_int("limit"), limit="-1")
history("get_all_orders", "limit-nan", -1100, illegal_int("limit"), limit="NaN")
history("get_all_orders", "limit-float", -1100, illegal_int("limit"), limit=5.0)
history("get_all_orders", "limit-int-10-pow-40", -1100, illegal_int("limit"), limit=10**40)
history("get_all_orders", "order-id-text", -1100, illegal_int("orderId"), orderId="first")
history("get_all_orders", "start-time-text", -1100, illegal_int("startTime"),
        startTime="yesterday")
history("get_all_orders", "end-time-negative", -1100, illegal_int("endTime"), endTime="-1")
history("get_all_orders", "start-time-iso-date", -1100, illegal_int("startTime"),
        startTime="2024-01-01T00:00:00Z")
history("get_account_trades", "symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
history("get_account_trades", "symbol-empty", -1102, mandatory("symbol"), symbol="")
history("get_account_trades", "symbol-unknown", -1121, BAD_SYMBOL, symbol="BTCUSDC")
history("get_account_trades", "from-id-text", -1100, illegal_int("fromId"), fromId="abc")
history("get_account_trades", "from-id-list", -1100, illegal_int("fromId"), fromId=[1])
history("get_account_trades", "limit-zero", -1130, invalid("limit"), limit="0")
history("get_account_trades", "limit-100000", -1130, invalid("limit"), limit="100000")
history("get_account_trades", "start-time-scientific", -1100, illegal_int("startTime"),
        startTime="1.7e12")
history("get_account_trades", "order-id-negative", -1100, illegal_int("orderId"), orderId="-3")
WIDE = "Maximum time interval is 7 days"
_WEEK = 7 * 86_400_000
for _m in ("get_all_orders", "get_account_trades"):
    history(_m, "window-a-week-and-a-ms", -4165, WIDE, startTime="0", endTime=S(_WEEK + 1))
    history(_m, "window-a-year", -4165, WIDE, startTime="1704067200000",
            endTime="1735689600000")
history("get_account_trades", "from-id-with-start-time", -1128,
        "Combination of optional parameters invalid.", fromId="1", startTime="1")
history("get_account_trades", "from-id-with-end-time", -1128,
        "Combination of optional parameters invalid.", fromId="0", endTime="1")


def income(name: str, code: int, msg: str, **params: Any) -> None:
    _add("get_income_history", name, params, code, msg)


income("symbol-unknown", -1121, BAD_SYMBOL, symbol="XRPUSDT")
income("symbol-list", -1121, BAD_SYMBOL, symbol=[BTC])
income("income-type-unknown", -1130, invalid("incomeType"), incomeType="TRADE")
income("income-type-lowercase", -1130, invalid("incomeType"), incomeType="commission")
income("income-type-list", -1130, invalid("incomeType"), incomeType=["COMMISSION"])
income("limit-zero", -1130, invalid("limit"), limit="0")
income("limit-1001", -1130, invalid("limit"), limit="1001")
income("start-time-nan", -1100, illegal_int("startTime"), startTime="NaN")
income("end-time-dict", -1100, illegal_int("endTime"), endTime={"ms": 1})
income("page-zero", -1130, invalid("page"), page="0")
income("page-text", -1100, illegal_int("page"), page="two")

# -- account and settings ----------------------------------------------------------------------

_add("get_position_risk", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("symbol_configuration", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("symbol_configuration", "symbol-lowercase", {"symbol": "btcusdt"}, -1121, BAD_SYMBOL)
_add("adl_quantile", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("force_orders", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("force_orders", "auto-close-type-unknown", {"autoCloseType": "MARGIN_CALL"}, -1130,
     invalid("autoCloseType"))
_add("force_orders", "limit-101", {"limit": "101"}, -1130, invalid("limit"))
_add("force_orders", "start-time-text", {"startTime": "today"}, -1100, illegal_int("startTime"))
_add("change_multi_asset_mode", "true-is-not-offered", {"multiAssetsMargin": "true"}, -1020,
     "This operation is not supported.")
_add("change_multi_asset_mode", "false-is-already-so", {"multiAssetsMargin": "false"}, -4171,
     "Adjusted asset mode is currently set and does not need to be adjusted repeatedly.")
_add("change_multi_asset_mode", "not-sent", {"multiAssetsMargin": None}, -1102,
     mandatory("multiAssetsMargin"))
_add("change_multi_asset_mode", "yes", {"multiAssetsMargin": "yes"}, -1130,
     invalid("multiAssetsMargin"))
_add("get_position_risk", "symbol-with-dash", {"symbol": "BTC-USDT"}, -1121, BAD_SYMBOL)
_add("get_position_risk", "symbol-list", {"symbol": [BTC, ETH]}, -1121, BAD_SYMBOL)


def leverage(name: str, code: int, msg: str, *, symbol: Any = BTC, value: Any = "20") -> None:
    _add("change_leverage", name, {"symbol": symbol, "leverage": value}, code, msg)


leverage("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
leverage("symbol-unknown-before-a-bad-leverage", -1121, BAD_SYMBOL, symbol="XRPUSDT", value="0")
leverage("leverage-not-sent", -1102, mandatory("leverage"), value=None)
leverage("leverage-empty", -1102, mandatory("leverage"), value="")
leverage("leverage-zero", -4028, bad_leverage("0"), value="0")
leverage("leverage-126", -4028, bad_leverage("126"), value="126")
leverage("leverage-126-with-leading-zeros", -4028, bad_leverage("126"), value="000126")
leverage("leverage-negative", -4028, bad_leverage("-1"), value="-1")
leverage("leverage-decimal", -4028, bad_leverage("20.5"), value="20.5")
leverage("leverage-nan", -4028, bad_leverage("NaN"), value="NaN")
leverage("leverage-exponent", -4028, bad_leverage("2e1"), value="2e1")
leverage("leverage-fullwidth", -4028, bad_leverage("\uff12\uff10"), value="\uff12\uff10")
leverage("leverage-30-digits", -4028, bad_leverage("1" * 30), value="1" * 30)
leverage("leverage-true", -4028, bad_leverage("True"), value=True)
leverage("leverage-list", -4028, bad_leverage("[20]"), value=[20])
leverage("leverage-float", -4028, bad_leverage("20.0"), value=20.0)
leverage("leverage-int-10-pow-40", -4028, bad_leverage(str(10**40)), value=10**40)
leverage("leverage-int-10-pow-5000", -4028, "Invalid leverage", value=10**5000)


def margin_type(name: str, code: int, msg: str, *, symbol: Any = BTC,
                value: Any = "ISOLATED") -> None:
    _add("change_margin_type", name, {"symbol": symbol, "marginType": value}, code, msg)


margin_type("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
margin_type("symbol-unknown", -1121, BAD_SYMBOL, symbol="XBTUSD")
margin_type("type-not-sent", -1102, mandatory("marginType"), value=None)
margin_type("type-empty", -1102, mandatory("marginType"), value="")
margin_type("type-lowercase", -1130, invalid("marginType"), value="crossed")
margin_type("type-both", -1130, invalid("marginType"), value="BOTH")
margin_type("type-list", -1130, invalid("marginType"), value=["CROSSED"])
margin_type("isolated-with-open-orders", -4047,
            "Margin type cannot be changed if there exists open orders.")
_add("change_margin_type", "isolated-with-a-position", {"symbol": BTC, "marginType": "ISOLATED"},
     -4048, "Margin type cannot be changed if there exists position.", caller="carol")


def position_margin(name: str, code: int, msg: str, *, caller: str = "alice",
                    **changes: Any) -> None:
    base = {"symbol": BTC, "amount": "10", "type": "1"}
    _add("modify_isolated_position_margin", name, with_(base, **changes), code, msg,
         caller=caller)


position_margin("symbol-unknown", -1121, BAD_SYMBOL, symbol="XBTUSD")
position_margin("amount-not-sent", -1102, mandatory("amount"), amount=None)
position_margin("amount-text", -1100, illegal("amount"), amount="ten")
position_margin("amount-nine-decimals", -1111, BAD_PRECISION, amount="0.000000001")
position_margin("type-not-sent", -1102, mandatory("type"), type=None)
position_margin("type-three", -1130, invalid("type"), type="3")
position_margin("amount-zero", -4055, "Amount must be positive.", amount="0")
position_margin("amount-negative", -4055, "Amount must be positive.", amount="-1")
position_margin("a-cross-position", -4049, "Add margin only support for isolated position.")
position_margin("position-side-both-in-hedge-mode", -4061, SIDE_NOT_MATCH, caller="hedger",
                positionSide="BOTH")
position_margin("position-side-junk", -4060, "Invalid position side.", positionSide="UP")
_add("get_position_margin_history", "symbol-not-sent", {"symbol": None}, -1102,
     mandatory("symbol"))
_add("get_position_margin_history", "type-three", {"symbol": BTC, "type": "3"}, -1130,
     invalid("type"))
_add("get_position_margin_history", "window-of-31-days",
     {"symbol": BTC, "startTime": "0", "endTime": S(31 * 86_400_000)}, -4165,
     "Maximum time interval is 30 days")
margin_type("crossed-already", -4046, "No need to change margin type.", symbol=ETH,
            value="CROSSED")


def mode(name: str, code: int, msg: str, value: Any, caller: str = "alice") -> None:
    _add("change_position_mode", name, {"dualSidePosition": value}, code, msg, caller=caller)


mode("not-sent", -1102, mandatory("dualSidePosition"), None)
mode("empty", -1102, mandatory("dualSidePosition"), "")
mode("yes", -1130, invalid("dualSidePosition"), "yes")
mode("one", -1130, invalid("dualSidePosition"), "1")
mode("int-one", -1130, invalid("dualSidePosition"), 1)
mode("list", -1130, invalid("dualSidePosition"), ["true"])
mode("one-way-already", -4059, "No need to change position side.", "FALSE")
mode("one-way-already-bool", -4059, "No need to change position side.", False)
mode("hedge-already", -4059, "No need to change position side.", "true", caller="hedger")
mode("with-open-orders", -4067, "Position side cannot be changed if there exists open orders.",
     "true")
mode("with-a-position", -4068, "Position side cannot be changed if there exists position.",
     "true", caller="carol")

# -- fees, brackets and market data ------------------------------------------------------------

_add("commission_rate", "symbol-not-sent", {"symbol": None}, -1102, mandatory("symbol"))
_add("commission_rate", "symbol-empty", {"symbol": ""}, -1102, mandatory("symbol"))
_add("commission_rate", "symbol-unknown", {"symbol": "SOLUSDT"}, -1121, BAD_SYMBOL)
_add("commission_rate", "symbol-list", {"symbol": [BTC]}, -1121, BAD_SYMBOL)
_add("leverage_brackets", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("leverage_brackets", "symbol-lowercase", {"symbol": "ethusdt"}, -1121, BAD_SYMBOL)
_add("leverage_brackets", "symbol-dict", {"symbol": {}}, -1121, BAD_SYMBOL)


def depth(name: str, code: int, msg: str, *, symbol: Any = BTC, **params: Any) -> None:
    _add("depth", name, {"symbol": symbol, **params}, code, msg)


depth("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
depth("symbol-unknown", -1121, BAD_SYMBOL, symbol="XRPUSDT")
depth("limit-zero", -1130, invalid("limit"), limit="0")
depth("limit-5000", -1130, invalid("limit"), limit="5000")
depth("limit-text", -1100, illegal_int("limit"), limit="all")
depth("limit-negative", -1100, illegal_int("limit"), limit="-5")
depth("limit-decimal", -1100, illegal_int("limit"), limit="5.5")
depth("limit-superscript-two", -1100, illegal_int("limit"), limit="\u00b2")
depth("limit-list", -1100, illegal_int("limit"), limit=[5])
_add("mark_price", "symbol-unknown", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL)
_add("mark_price", "symbol-two-symbols", {"symbol": "BTCUSDT,ETHUSDT"}, -1121, BAD_SYMBOL)
_add("mark_price", "symbol-list", {"symbol": [BTC]}, -1121, BAD_SYMBOL)
_add("book_ticker", "symbol-unknown", {"symbol": "ETH"}, -1121, BAD_SYMBOL)
_add("book_ticker", "symbol-emoji", {"symbol": "\U0001f680USDT"}, -1121, BAD_SYMBOL)
_add("book_ticker", "symbol-dict", {"symbol": {}}, -1121, BAD_SYMBOL)

# -- modify_order (PUT /fapi/v1/order): the request, then the order ------------------------


def modify(name: str, code: int, msg: str, *, caller: str = "alice", **changes: Any) -> None:
    base = {"symbol": BTC, "side": "BUY", "quantity": "0.010", "price": "29100",
            "orderId": S(Id.OPEN_BID), "origClientOrderId": None}
    _add("modify_order", name, with_(base, **changes), code, msg, caller=caller)


SAME_ORDER = "No need to modify the order."
modify("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
modify("symbol-unknown", -1121, BAD_SYMBOL, symbol="BTCUSD")
modify("no-id-sent", -1102, either("orderId", "origClientOrderId"), orderId=None)
modify("side-not-sent", -1102, mandatory("side"), side=None)
modify("quantity-not-sent", -1102, mandatory("quantity"), quantity=None)
modify("price-not-sent", -1102, mandatory("price"), price=None)
modify("order-id-text", -1100, illegal_int("orderId"), orderId="twenty-three")
modify("unknown-order", -2013, NO_SUCH_ORDER, orderId=S(Id.NEXT))
modify("another-accounts-order", -2013, NO_SUCH_ORDER, orderId=S(Id.BOB_ASK))
modify("another-accounts-client-id", -2013, NO_SUCH_ORDER, orderId=None,
       origClientOrderId="bob-ask")
modify("a-filled-order", -2013, NO_SUCH_ORDER, orderId=S(Id.FILLED_PARENT))
modify("a-cancelled-order", -2013, NO_SUCH_ORDER, orderId=S(Id.CANCELED_PARENT))
modify("an-order-of-another-symbol", -2013, NO_SUCH_ORDER, orderId=S(Id.ETH_BID))
modify("a-trigger-row", -1116, BAD_TYPE, orderId=S(Id.STANDALONE_STOP), side="SELL")
modify("the-other-side", -1117, BAD_SIDE, side="SELL")
modify("side-lowercase", -1117, BAD_SIDE, side="buy")
modify("price-off-tick", -4014, OFF_TICK, price="29100.15")
modify("price-below-the-band", -4024, BELOW_BAND, price="10000")
modify("quantity-zero", -4003, QTY_NOT_POSITIVE, quantity="0")
modify("quantity-too-precise", -1111, BAD_PRECISION, quantity="0.0101")
modify("the-same-price-and-size", -5027, SAME_ORDER, price="29000",
       orderId=None, origClientOrderId="alice-bid")
modify("more-than-the-margin", -2019, MARGIN, quantity="9.000")
modify("price-match-unknown", -5037, BAD_PRICE_MATCH, price=None, priceMatch="BEST")
modify("price-match-opponent-20", -5037, BAD_PRICE_MATCH, price=None, priceMatch="OPPONENT_20")
modify("price-match-list", -5037, BAD_PRICE_MATCH, price=None, priceMatch=["QUEUE"])
modify("price-match-with-price", -1106, not_required("price"), priceMatch="QUEUE")
modify("price-match-none-without-price", -1102, mandatory("price"), price=None,
       priceMatch="NONE")
modify("price-match-on-an-empty-ask-side", -5041, NO_DEPTH, symbol=ETH, quantity="0.100",
       orderId=S(Id.ETH_BID), price=None, priceMatch="OPPONENT")
modify("price-match-reading-its-own-price", -5027, SAME_ORDER, price=None, priceMatch="QUEUE_5")
modify("price-match-beyond-the-margin", -2019, MARGIN, quantity="9.000", price=None,
       priceMatch="QUEUE")



def history(name: str, code: int, msg: str, **changes: Any) -> None:
    base = {"symbol": BTC, "orderId": S(Id.OPEN_BID), "origClientOrderId": None}
    _add("get_order_modify_history", name, with_(base, **changes), code, msg)


history("symbol-not-sent", -1102, mandatory("symbol"), symbol=None)
history("no-id-sent", -1102, either("orderId", "origClientOrderId"), orderId=None)
history("unknown-order", -2013, NO_SUCH_ORDER, orderId=S(Id.NEXT))
history("another-accounts-order", -2013, NO_SUCH_ORDER, orderId=S(Id.BOB_ASK))
history("limit-zero", -1130, invalid("limit"), limit="0")
history("limit-101", -1130, invalid("limit"), limit="101")
history("start-time-text", -1100, illegal_int("startTime"), startTime="yesterday")

# -- batch placement and modify (POST / PUT /fapi/v1/batchOrders), the test order ----------


def batch_of(method: str, name: str, code: int | None, msg: str | None, batchOrders: Any,
             items: tuple[tuple[int, str], ...] | None = None) -> None:
    _add(method, name, {"batchOrders": batchOrders}, code, msg,
         status=400 if items is None else 200, items=items)


def _json(items: list[dict[str, Any]]) -> str:
    import json
    return json.dumps(items, separators=(",", ":"))


BAD_BATCH = invalid("batchOrders")
_GOOD_ITEM = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.010", "price": "29000"}
_MODIFY_ITEM = {"symbol": BTC, "side": "BUY", "quantity": "0.010", "price": "29100",
                "orderId": S(Id.OPEN_BID)}
for _m, _item in (("new_batch_order", _GOOD_ITEM), ("modify_batch_order", _MODIFY_ITEM)):
    batch_of(_m, "not-sent", -1102, mandatory("batchOrders"), None)
    batch_of(_m, "empty-text", -1102, mandatory("batchOrders"), "")
    batch_of(_m, "malformed-json", -1130, BAD_BATCH, "[{\"symbol\": ")
    batch_of(_m, "json-object", -1130, BAD_BATCH, _json(_item)[0:-1] + "}")
    batch_of(_m, "json-list-of-numbers", -1130, BAD_BATCH, "[1, 2]")
    batch_of(_m, "json-list-of-lists", -1130, BAD_BATCH, "[[\"symbol\", \"BTCUSDT\"]]")
    batch_of(_m, "json-nested-2000-deep", -1130, BAD_BATCH, "[" * 2000 + "]" * 2000)
    batch_of(_m, "json-nan", -1130, BAD_BATCH, "NaN")
    batch_of(_m, "no-item", -4082, "Invalid number of batch place orders: 0", "[]")
    batch_of(_m, "six-items", -4082, "Invalid number of batch place orders: 6",
             _json([_item] * 6))
    batch_of(_m, "a-python-dict", -1130, BAD_BATCH, dict(_item))
    batch_of(_m, "a-python-list-of-strings", -1130, BAD_BATCH, ["symbol=BTCUSDT"])
    batch_of(_m, "six-python-items", -4082, "Invalid number of batch place orders: 6",
             [_item] * 6)
batch_of("new_batch_order", "every-item-refused", None, None, _json([
    with_(_GOOD_ITEM, symbol="BTCUSD"), with_(_GOOD_ITEM, side="buy"),
    with_(_GOOD_ITEM, price="abc"), with_(_GOOD_ITEM, quantity="9.000"),
    with_(_GOOD_ITEM, reduceOnly="true", side="BUY")]),
    items=((-1121, BAD_SYMBOL), (-1117, BAD_SIDE), (-1100, illegal("price")),
           (-2019, MARGIN), (-2022, REDUCE_ONLY)))
batch_of("new_batch_order", "items-with-odd-json-values", None, None,
         '[{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", '
         '"quantity": 1e400, "price": "29000"}, {"symbol": null, "side": "BUY"}, '
         '{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", '
         '"quantity": {"q": 1}, "price": "29000"}]',
         items=((-1100, illegal("quantity")), (-1102, mandatory("symbol")),
                (-1100, illegal("quantity"))))
batch_of("modify_batch_order", "every-item-refused", None, None, _json([
    with_(_MODIFY_ITEM, orderId=S(Id.NEXT)), with_(_MODIFY_ITEM, orderId=S(Id.BOB_ASK)),
    with_(_MODIFY_ITEM, price="29000"), with_(_MODIFY_ITEM, quantity="9.000"),
    with_(_MODIFY_ITEM, side="SELL")]),
    items=((-2013, NO_SUCH_ORDER), (-2013, NO_SUCH_ORDER), (-5027, SAME_ORDER),
           (-2019, MARGIN), (-1117, BAD_SIDE)))


def order_test(name: str, code: int, msg: str, **changes: Any) -> None:
    _add("new_order_test", name, with_(LIMIT, **changes), code, msg)


order_test("symbol-unknown", -1121, BAD_SYMBOL, symbol="BTCUSD")
order_test("side-lowercase", -1117, BAD_SIDE, side="buy")
order_test("type-unknown", -1116, BAD_TYPE, type="LIMITED")
order_test("price-text", -1100, illegal("price"), price="abc")
order_test("more-than-the-margin", -2019, MARGIN, quantity="9.000")
order_test("reduce-only-on-the-wrong-side", -2022, REDUCE_ONLY, reduceOnly="true")

#: Every case, in the order above.
CASES: tuple[Case, ...] = tuple(_CASES)

# -- what only HTTP can express ----------------------------------------------------------------

WIRE_ONLY_CASES: tuple[WireCase, ...] = (
    WireCase("new_order:quantity-sent-twice", "POST", "/fapi/v1/order",
             "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&quantity=0.020",
             -1101, DUPLICATE),
    WireCase("cancel_order:symbol-sent-twice", "DELETE", "/fapi/v1/order",
             f"symbol=BTCUSDT&symbol=ETHUSDT&orderId={Id.OPEN_BID}", -1101, DUPLICATE),
    WireCase("cancel_order:order-id-sent-twice", "DELETE", "/fapi/v1/order",
             f"symbol=BTCUSDT&orderId={Id.OPEN_BID}&orderId={Id.OPEN_ASK}", -1101, DUPLICATE),
    WireCase("query_order:recv-window-above-60000", "GET", "/fapi/v1/order",
             f"symbol=BTCUSDT&orderId={Id.OPEN_BID}&recvWindow=60001",
             -1130, invalid("recvWindow")),
    WireCase("query_order:recv-window-text", "GET", "/fapi/v1/order",
             f"symbol=BTCUSDT&orderId={Id.OPEN_BID}&recvWindow=long",
             -1100, illegal_int("recvWindow")),
)


# -- hostile requests: forged signatures, malformed keys, oversized requests -----------------------

@dataclass(frozen=True)
class Raw:
    """A request as bytes on the wire: the query string, the body, extra headers."""

    query: str = ""
    body: bytes = b""
    headers: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class HostileCase:
    """A request built byte by byte (``build(api_key, secret, venue_time) -> Raw``) that the
    server must refuse with exactly ``status``/``code``/``msg``, changing nothing."""

    id: str
    verb: str
    path: str
    build: Any
    status: int
    code: int
    msg: str
    caller: str = "alice"


def _hmac(secret: str, text: str) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


_FORM = {"Content-Type": b"application/x-www-form-urlencoded"}
BAD_SIGNATURE = "Signature for this request is not valid."


def _keyed(key: str, **more: bytes) -> dict[str, bytes]:
    return {"X-MBX-APIKEY": key.encode(), **_FORM, **more}


def _refolded(key: str, secret: str, now: int) -> Raw:
    """Signed ``…&timeInForce=GTC&reduceOnly=true…`` (refused -2022: alice is long, a BUY
    reduces nothing) re-sent with ``%26``/``%3D``: one ``timeInForce`` value, the same
    decoded text, and no reduce-only."""
    plain = (f"symbol={BTC}&side=BUY&type=MARKET&quantity=0.010&timeInForce=GTC"
             f"&reduceOnly=true&timestamp={now}")
    folded = plain.replace("GTC&reduceOnly=true", "GTC%26reduceOnly%3Dtrue")
    return Raw(body=f"{folded}&signature={_hmac(secret, plain)}".encode(),
               headers=_keyed(key))


def _cut(key: str, secret: str, now: int) -> Raw:
    """The query/body join moved inside ``quantity=0.010``: ``quantity=0.01`` | ``0&…``."""
    plain = f"symbol={BTC}&side=BUY&type=MARKET&quantity=0.010&timestamp={now}"
    return Raw(query=f"symbol={BTC}&side=BUY&type=MARKET&quantity=0.01",
               body=f"0&timestamp={now}&signature={_hmac(secret, plain)}".encode(),
               headers=_keyed(key))


def _moved(key: str, secret: str, now: int) -> Raw:
    """Binance's split form, its join moved by one character: ``quantity=0.01`` |
    ``5reduceOnly=true…`` — whole pairs both sides, a name that is not Binance's."""
    query = f"symbol={BTC}&side=BUY&type=MARKET&quantity=0.015"
    body = f"reduceOnly=true&timestamp={now}"
    return Raw(query=query[:-1], body=f"5{body}&signature={_hmac(secret, query + body)}".encode(),
               headers=_keyed(key))


def _signature(text: str):
    def build(key: str, secret: str, now: int) -> Raw:
        return Raw(query=f"symbol={BTC}&orderId={Id.OPEN_BID}&timestamp={now}&signature={text}",
                   headers={"X-MBX-APIKEY": key.encode()})
    return build


def _api_key(raw_key: bytes):
    def build(key: str, secret: str, now: int) -> Raw:
        query = f"symbol={BTC}&orderId={Id.OPEN_BID}&timestamp={now}"
        return Raw(query=f"{query}&signature={_hmac(secret, query)}",
                   headers={"X-MBX-APIKEY": raw_key})
    return build


def _many_params(key: str, secret: str, now: int) -> Raw:
    text = "&".join(f"x{i}=1" for i in range(99)) + f"&timestamp={now}"
    return Raw(body=f"{text}&signature={_hmac(secret, text)}".encode(), headers=_keyed(key))


def _huge_body(key: str, secret: str, now: int) -> Raw:
    return Raw(body=b"a=1&" * (16 * 1024 + 1), headers=_keyed(key))


def _keyless_9mb(key: str, secret: str, now: int) -> Raw:
    return Raw(body=b"x=" + b"1" * (9 * 1024 * 1024), headers=dict(_FORM))


def _bad_escape(key: str, secret: str, now: int) -> Raw:
    query = f"symbol=BTC%ZZUSDT&orderId={Id.OPEN_BID}&timestamp={now}"
    return Raw(query=f"{query}&signature={_hmac(secret, query)}",
               headers={"X-MBX-APIKEY": key.encode()})


HOSTILE_CASES: tuple[HostileCase, ...] = (
    HostileCase("new_order:signature-over-refolded-amp-and-eq", "POST", "/fapi/v1/order",
                _refolded, 400, -1022, BAD_SIGNATURE),
    HostileCase("new_order:join-cut-inside-a-pair", "POST", "/fapi/v1/order", _cut,
                400, -1022, BAD_SIGNATURE),
    HostileCase("new_order:join-moved-between-whole-pairs", "POST", "/fapi/v1/order", _moved,
                400, -1022, BAD_SIGNATURE),
    HostileCase("query_order:signature-non-ascii", "GET", "/fapi/v1/order",
                _signature("%C3%A9" * 32), 400, -1022, BAD_SIGNATURE),
    HostileCase("query_order:signature-not-utf8", "GET", "/fapi/v1/order", _signature("%FF"),
                400, -1100, "Illegal characters found in parameter 'request'; legal range is "
                "'printable ASCII'."),
    HostileCase("query_order:signature-not-hex", "GET", "/fapi/v1/order", _signature("zz" * 32),
                400, -1022, BAD_SIGNATURE),
    HostileCase("query_order:signature-too-long", "GET", "/fapi/v1/order",
                _signature("ab" * 4000), 400, -1022, BAD_SIGNATURE),
    HostileCase("query_order:api-key-non-ascii", "GET", "/fapi/v1/order",
                _api_key("é".encode()), 401, -2014, "API-key format invalid."),
    HostileCase("query_order:api-key-control-char", "GET", "/fapi/v1/order",
                _api_key(b"catalogue-alice-key\x7f"), 401, -2014, "API-key format invalid."),
    HostileCase("query_order:api-key-unknown", "GET", "/fapi/v1/order", _api_key(b"x" * 4000),
                401, -2015, "Invalid API-key, IP, or permissions for action."),
    HostileCase("query_order:percent-escape-not-hex-stays-literal", "GET", "/fapi/v1/order",
                _bad_escape, 400, -1121, BAD_SYMBOL),
    HostileCase("new_order:101-parameters", "POST", "/fapi/v1/order", _many_params,
                400, -1101, "Too many parameters; expected '100' and received '101'."),
    HostileCase("new_order:body-over-64-KiB", "POST", "/fapi/v1/order", _huge_body,
                413, -1101, "Too many parameters sent for this endpoint."),
    HostileCase("new_order:9-MB-body-without-a-key", "POST", "/fapi/v1/order", _keyless_9mb,
                401, -2014, "API-key format invalid."),
)


# -- the conditional-order cap: a venue whose cap alice has reached -----------------------------

#: the cap of :func:`build_capped_venue`, which alice's open rows fill exactly
CAP = 3
REACHED = "Reach max stop order limit."


def build_capped_venue(start_time: int) -> Exchange:
    """alice (catalogue keys) at the cap of 3 open conditional orders on two symbols: a
    BTCUSDT parent with its TP and SL, and an ETHUSDT STOP_MARKET; ``Id``-independent."""
    ex = Exchange(start_time=start_time, max_num_algo_orders=CAP)
    key, secret = ACCOUNTS["alice"]
    ex.create_account("alice", "10000", api_key=key, api_secret=secret)
    ex.set_mark_price(BTC, "30000")
    ex.set_mark_price(ETH, "2000")
    alice = ex.client("alice")
    alice.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010",
                    price="29000", takeProfitPrice="31000", stopLossPrice="28000")
    alice.new_order(symbol=ETH, side="SELL", type="STOP_MARKET", quantity="0.10",
                    stopPrice="1900")
    return ex


CAP_CASES: tuple[WireCase, ...] = (
    WireCase("new_algo_order:past-the-cap", "POST", "/fapi/v1/algoOrder",
             f"algoType=CONDITIONAL&symbol={BTC}&side=SELL&type=STOP_MARKET&quantity=0.010"
             "&triggerPrice=27000", -4045, REACHED),
    WireCase("new_order:stop-market-past-the-cap", "POST", "/fapi/v1/order",
             f"symbol={ETH}&side=BUY&type=STOP_MARKET&quantity=0.10&stopPrice=2200",
             -4045, REACHED),
    WireCase("new_order:trailing-stop-past-the-cap", "POST", "/fapi/v1/order",
             f"symbol={BTC}&side=SELL&type=TRAILING_STOP_MARKET&quantity=0.010"
             "&callbackRate=1", -4045, REACHED),
    WireCase("new_order:parent-with-tp-past-the-cap", "POST", "/fapi/v1/order",
             f"symbol={BTC}&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=29100"
             "&takeProfitPrice=31000", -4045, REACHED),
)


# -- a served market's market-data endpoints ------------------------------------------------

#: ``(id, path, parameters as sent, code, msg)``: requests to a venue serving its synthetic
#: market (``engine.server.feed.SyntheticFeed``), unsigned, with a known key (which
#: ``historicalTrades``, MARKET_DATA, asks for and public endpoints ignore), each refused
MARKET_CASES: tuple[tuple[str, str, dict[str, str], int, str], ...] = (
    ("klines:interval-not-sent", "/fapi/v1/klines", {"symbol": BTC}, -1102,
     mandatory("interval")),
    ("klines:interval-2d", "/fapi/v1/klines", {"symbol": BTC, "interval": "2d"}, -1120,
     "Invalid interval."),
    ("klines:interval-lowercase-month", "/fapi/v1/klines",
     {"symbol": BTC, "interval": "1mo"}, -1120, "Invalid interval."),
    ("klines:symbol-not-sent", "/fapi/v1/klines", {"interval": "1m"}, -1102,
     mandatory("symbol")),
    ("klines:symbol-unknown", "/fapi/v1/klines", {"symbol": "XRPUSDT", "interval": "1m"},
     -1121, BAD_SYMBOL),
    ("klines:limit-1501", "/fapi/v1/klines", {"symbol": BTC, "interval": "1m",
                                              "limit": "1501"}, -1130, invalid("limit")),
    ("klines:limit-zero", "/fapi/v1/klines", {"symbol": BTC, "interval": "1m", "limit": "0"},
     -1130, invalid("limit")),
    ("klines:start-time-text", "/fapi/v1/klines", {"symbol": BTC, "interval": "1m",
                                                   "startTime": "yesterday"},
     -1100, illegal_int("startTime")),
    ("aggTrades:window-over-an-hour", "/fapi/v1/aggTrades",
     {"symbol": BTC, "startTime": "0", "endTime": "3600001"}, -1127,
     "More than 1 hours between startTime and endTime."),
    ("aggTrades:from-id-negative", "/fapi/v1/aggTrades", {"symbol": BTC, "fromId": "-1"},
     -1100, illegal_int("fromId")),
    ("aggTrades:limit-1001", "/fapi/v1/aggTrades", {"symbol": BTC, "limit": "1001"}, -1130,
     invalid("limit")),
    ("trades:limit-zero", "/fapi/v1/trades", {"symbol": BTC, "limit": "0"}, -1130,
     invalid("limit")),
    ("ticker24hr:symbol-lowercase", "/fapi/v1/ticker/24hr", {"symbol": "btcusdt"}, -1121,
     BAD_SYMBOL),
    ("tickerPrice:symbol-unknown", "/fapi/v2/ticker/price", {"symbol": "BTC"}, -1121,
     BAD_SYMBOL),
    ("fundingRate:limit-1001", "/fapi/v1/fundingRate", {"limit": "1001"}, -1130,
     invalid("limit")),
    ("continuousKlines:contract-quarterly", "/fapi/v1/continuousKlines",
     {"pair": BTC, "contractType": "CURRENT_QUARTER", "interval": "1m"}, -1130,
     invalid("contractType")),
    ("indexPriceKlines:pair-not-sent", "/fapi/v1/indexPriceKlines",
     {"symbol": BTC, "interval": "1m"}, -1102, mandatory("pair")),
    ("openInterest:symbol-not-sent", "/fapi/v1/openInterest", {}, -1102, mandatory("symbol")),
    ("depth:symbol-unknown", "/fapi/v1/depth", {"symbol": "XRPUSDT"}, -1121, BAD_SYMBOL),
    ("depth:limit-1001", "/fapi/v1/depth", {"symbol": BTC, "limit": "1001"}, -1130,
     invalid("limit")),
    ("bookTicker:symbol-unknown", "/fapi/v1/ticker/bookTicker", {"symbol": "BTCUSD"}, -1121,
     BAD_SYMBOL),
    ("historicalTrades:symbol-not-sent", "/fapi/v1/historicalTrades", {"limit": "10"}, -1102,
     mandatory("symbol")),
    ("historicalTrades:limit-501", "/fapi/v1/historicalTrades", {"symbol": BTC, "limit": "501"},
     -1130, invalid("limit")),
    ("historicalTrades:from-id-text", "/fapi/v1/historicalTrades",
     {"symbol": BTC, "fromId": "latest"}, -1100, illegal_int("fromId")),
    ("premiumIndex:symbol-unknown", "/fapi/v1/premiumIndex", {"symbol": "ethusdt"}, -1121,
     BAD_SYMBOL),
    ("openInterestHist:period-not-sent", "/futures/data/openInterestHist", {"symbol": BTC},
     -1102, mandatory("period")),
    ("openInterestHist:period-3m", "/futures/data/openInterestHist",
     {"symbol": BTC, "period": "3m"}, -1130, invalid("period")),
    ("openInterestHist:limit-501", "/futures/data/openInterestHist",
     {"symbol": BTC, "period": "5m", "limit": "501"}, -1130, invalid("limit")),
    ("openInterestHist:end-time-negative", "/futures/data/openInterestHist",
     {"symbol": BTC, "period": "1h", "endTime": "-1"}, -1100, illegal_int("endTime")),
    ("openInterestHist:symbol-unknown", "/futures/data/openInterestHist",
     {"symbol": "XRPUSDT", "period": "1d"}, -1121, BAD_SYMBOL),
)
