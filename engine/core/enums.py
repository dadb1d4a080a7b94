"""Wire enumerations.  Each is a ``StrEnum`` whose values are Binance's strings, written out.

Members are ``str`` instances, so a response dict holding ``Side.BUY`` compares
equal to ``"BUY"`` and serialises to JSON as ``"BUY"``.

>>> Side("SELL") is Side.SELL, Side.SELL == "SELL"
(True, True)
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP = "STOP"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"


#: Types that live in the trigger registry rather than the book.
CONDITIONAL_TYPES = frozenset(
    {
        OrderType.STOP,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    }
)
#: Conditional types whose child is a LIMIT order at ``price``.
LIMIT_CONDITIONAL_TYPES = frozenset({OrderType.STOP, OrderType.TAKE_PROFIT})
#: Stop-loss family (fires on adverse moves) as opposed to take-profit.
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_MARKET})


class TimeInForce(StrEnum):
    """``GTD`` is a wire value only: an order placed GTD is stored as GTC with its
    ``goodTillDate`` (``Order.gtd``), so it rests like GTC until the clock expires it."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"
    GTD = "GTD"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    TRIGGERED = "TRIGGERED"


class TriggerState(StrEnum):
    """Lifecycle of a trigger row (SPEC 5).  Wire ``status`` is NEW for PENDING and ARMED."""

    PENDING = "PENDING"
    ARMED = "ARMED"
    TRIGGERED = "TRIGGERED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class PositionSide(StrEnum):
    BOTH = "BOTH"
    LONG = "LONG"
    SHORT = "SHORT"


class WorkingType(StrEnum):
    MARK_PRICE = "MARK_PRICE"
    CONTRACT_PRICE = "CONTRACT_PRICE"


class SelfTradePrevention(StrEnum):
    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class IncomeType(StrEnum):
    TRANSFER = "TRANSFER"
    REALIZED_PNL = "REALIZED_PNL"
    COMMISSION = "COMMISSION"
    FUNDING_FEE = "FUNDING_FEE"
    INSURANCE_CLEAR = "INSURANCE_CLEAR"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})

# Members as module constants, for the hot paths.  In Python 3.11 every attribute
# lookup on an enum class (``Side.BUY``) goes through ``EnumType.__getattr__``'s
# slow hook: about 90 ns, against about 10 ns for a module global.  OrderStatus.TRIGGERED
# and the TriggerState members stay qualified: their names collide.
BUY, SELL = Side.BUY, Side.SELL
NEW, PARTIALLY_FILLED, FILLED = OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
CANCELED, EXPIRED, REJECTED = OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED
LIMIT, MARKET, STOP, STOP_MARKET = (
    OrderType.LIMIT, OrderType.MARKET, OrderType.STOP, OrderType.STOP_MARKET
)
TAKE_PROFIT, TAKE_PROFIT_MARKET = OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET
TRAILING_STOP_MARKET = OrderType.TRAILING_STOP_MARKET
GTC, IOC, FOK, GTX = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTX
GTD = TimeInForce.GTD
BOTH, LONG, SHORT = PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT
MARK_PRICE, CONTRACT_PRICE = WorkingType.MARK_PRICE, WorkingType.CONTRACT_PRICE
STP_NONE, EXPIRE_TAKER = SelfTradePrevention.NONE, SelfTradePrevention.EXPIRE_TAKER
EXPIRE_MAKER, EXPIRE_BOTH = SelfTradePrevention.EXPIRE_MAKER, SelfTradePrevention.EXPIRE_BOTH
