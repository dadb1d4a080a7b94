"""The venue's one error table, and the exceptions that carry it.

Every business rejection is a :class:`ClientError` whose ``error_code`` and
``error_message`` come from :data:`ERRORS` (Binance's USDⓈ-M table, messages
verbatim with ``%s`` filled in, plus this venue's own -2090…-2093).  Nothing
else in the package writes an error code or message literally: callers name a
row of the table (``reject("UNKNOWN_ORDER")``).

Business rejections are raised before any state changes, or, where a rule can
only be judged while a command runs (a FOK order that cannot fill), raised
inside the command and undone by the transaction log; either way a rejected
command leaves ``state_hash()`` unchanged.  An impossible state raises
:class:`InvariantError` instead.

>>> e = reject("UNKNOWN_ORDER")
>>> (e.status_code, e.error_code, e.error_message)
(400, -2011, 'Unknown order sent.')
>>> reject("MANDATORY_PARAM", "symbol").error_message
"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
"""

from __future__ import annotations

from typing import Any

#: key -> (code, Binance name, message template).  Keys name the *variant*,
#: so one code may appear under several keys with different messages.
ERRORS: dict[str, tuple[int, str, str]] = {
    # 10xx – general
    "UNKNOWN": (-1000, "UNKNOWN", "An unknown error occured while processing the request."),
    "DISCONNECTED": (
        -1001,
        "DISCONNECTED",
        "Internal error; unable to process your request. Please try again.",
    ),
    "TOO_MANY_REQUESTS": (
        -1003,
        "TOO_MANY_REQUESTS",
        "Too many requests; current limit is %s requests per minute. Please use the websocket "
        "for live updates to avoid polling the API.",
    ),
    "IP_BANNED": (
        -1003,
        "TOO_MANY_REQUESTS",
        "Way too many requests; IP banned until %s. Please use the websocket for live updates "
        "to avoid bans.",
    ),
    "TOO_MANY_ORDERS": (
        -1015, "TOO_MANY_ORDERS", "Too many new orders; current limit is %s orders per %s.",
    ),
    "UNSUPPORTED_OPERATION": (-1020, "UNSUPPORTED_OPERATION", "This operation is not supported."),
    "INVALID_TIMESTAMP": (
        -1021,
        "INVALID_TIMESTAMP",
        "Timestamp for this request is outside of the recvWindow.",
    ),
    "TIMESTAMP_AHEAD": (
        -1021,
        "INVALID_TIMESTAMP",
        "Timestamp for this request was 1000ms ahead of the server's time.",
    ),
    "INVALID_SIGNATURE": (-1022, "INVALID_SIGNATURE", "Signature for this request is not valid."),
    "NOT_FOUND": (-1099, "NOT_FOUND", "Not found, unauthenticated, or unauthorized."),
    # 11xx – request issues
    "ILLEGAL_CHARS": (
        -1100,
        "ILLEGAL_CHARS",
        "Illegal characters found in parameter '%s'; legal range is '%s'.",
    ),
    "DUPLICATE_PARAM": (
        -1101,
        "TOO_MANY_PARAMETERS",
        "Duplicate values for a parameter detected.",
    ),
    "TOO_MANY_PARAMETERS": (
        -1101,
        "TOO_MANY_PARAMETERS",
        "Too many parameters; expected '%s' and received '%s'.",
    ),
    "BODY_TOO_LARGE": (
        -1101,
        "TOO_MANY_PARAMETERS",
        "Too many parameters sent for this endpoint.",
    ),
    "MANDATORY_PARAM": (
        -1102,
        "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
        "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
    ),
    "EITHER_PARAM": (
        -1102,
        "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
        "Param '%s' or '%s' must be sent, but both were empty/null!",
    ),
    "PARAM_NOT_REQUIRED": (
        -1106,
        "PARAM_NOT_REQUIRED",
        "Parameter '%s' sent when not required.",
    ),
    "BAD_PRECISION": (
        -1111,
        "BAD_PRECISION",
        "Precision is over the maximum defined for this asset.",
    ),
    "INVALID_TIF": (-1115, "INVALID_TIF", "Invalid timeInForce."),
    "INVALID_ORDER_TYPE": (-1116, "INVALID_ORDER_TYPE", "Invalid orderType."),
    "INVALID_SIDE": (-1117, "INVALID_SIDE", "Invalid side."),
    "BAD_INTERVAL": (-1120, "BAD_INTERVAL", "Invalid interval."),
    "BAD_SYMBOL": (-1121, "BAD_SYMBOL", "Invalid symbol."),
    "INVALID_LISTEN_KEY": (
        -1125,
        "INVALID_LISTEN_KEY",
        "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate "
        "`listenKey`",
    ),
    "MORE_THAN_XX_HOURS": (
        -1127,
        "MORE_THAN_XX_HOURS",
        "More than %s hours between startTime and endTime.",
    ),
    "INVALID_PARAMETER": (
        -1130,
        "INVALID_PARAMETER",
        "Data sent for parameter '%s' is not valid.",
    ),
    "INVALID_NEW_ORDER_RESP_TYPE": (
        -1136,
        "INVALID_NEW_ORDER_RESP_TYPE",
        "Invalid newOrderRespType.",
    ),
    # 20xx – processing
    "UNKNOWN_ORDER": (-2011, "CANCEL_REJECTED", "Unknown order sent."),
    "NO_SUCH_ORDER": (-2013, "NO_SUCH_ORDER", "Order does not exist."),
    "BAD_API_KEY_FMT": (-2014, "BAD_API_KEY_FMT", "API-key format invalid."),
    "REJECTED_MBX_KEY": (
        -2015,
        "REJECTED_MBX_KEY",
        "Invalid API-key, IP, or permissions for action.",
    ),
    "MARGIN_NOT_SUFFICIENT": (-2019, "MARGIN_NOT_SUFFICIEN", "Margin is insufficient."),
    "WOULD_IMMEDIATELY_TRIGGER": (
        -2021,
        "ORDER_WOULD_IMMEDIATELY_TRIGGER",
        "Order would immediately trigger.",
    ),
    "REDUCE_ONLY_REJECT": (-2022, "REDUCE_ONLY_REJECT", "ReduceOnly Order is rejected."),
    "MAX_OPEN_ORDER_EXCEEDED": (
        -2025,
        "MAX_OPEN_ORDER_EXCEEDED",
        "Reach max open order limit.",
    ),
    "MIN_LEVERAGE_RATIO": (
        -2028,
        "MIN_LEVERAGE_RATIO",
        "Leverage is smaller than permitted: insufficient margin balance.",
    ),
    # this venue's own block (SPEC 4.7)
    "TRIGGER_ALREADY_TRIGGERED": (
        -2090,
        "TRIGGER_ALREADY_TRIGGERED",
        "Trigger order %s has already triggered; it placed order %s.",
    ),
    "TRIGGER_ALREADY_CANCELED": (
        -2091,
        "TRIGGER_ALREADY_CANCELED",
        "Trigger order %s is already canceled.",
    ),
    "TRIGGER_POSITION_CLOSED": (
        -2092,
        "TRIGGER_POSITION_CLOSED",
        "Trigger order %s expired: the position it protected is closed.",
    ),
    "TRIGGER_NOT_OWNED": (
        -2093,
        "TRIGGER_NOT_OWNED",
        "Trigger order %s belongs to another account.",
    ),
    # 40xx – filters
    "PRICE_LESS_THAN_ZERO": (-4001, "PRICE_LESS_THAN_ZERO", "Price less than 0."),
    "PRICE_GREATER_THAN_MAX_PRICE": (
        -4002,
        "PRICE_GREATER_THAN_MAX_PRICE",
        "Price greater than max price.",
    ),
    "QTY_LESS_THAN_ZERO": (-4003, "QTY_LESS_THAN_ZERO", "Quantity less than zero."),
    "QTY_LESS_THAN_MIN_QTY": (
        -4004,
        "QTY_LESS_THAN_MIN_QTY",
        "Quantity less than min quantity.",
    ),
    "QTY_GREATER_THAN_MAX_QTY": (
        -4005,
        "QTY_GREATER_THAN_MAX_QTY",
        "Quantity greater than max quantity.",
    ),
    "STOP_PRICE_LESS_THAN_ZERO": (
        -4006,
        "STOP_PRICE_LESS_THAN_ZERO",
        "Stop price less than zero.",
    ),
    "STOP_PRICE_GREATER_THAN_MAX_PRICE": (
        -4007,
        "STOP_PRICE_GREATER_THAN_MAX_PRICE",
        "Stop price greater than max price.",
    ),
    "PRICE_LESS_THAN_MIN_PRICE": (
        -4013,
        "PRICE_LESS_THAN_MIN_PRICE",
        "Price less than min price.",
    ),
    "PRICE_NOT_INCREASED_BY_TICK_SIZE": (
        -4014,
        "PRICE_NOT_INCREASED_BY_TICK_SIZE",
        "Price not increased by tick size.",
    ),
    "INVALID_CL_ORD_ID_LEN": (-4015, "INVALID_CL_ORD_ID_LEN", "Client order id is not valid."),
    "PRICE_HIGHTER_THAN_MULTIPLIER_UP": (
        -4016,
        "PRICE_HIGHTER_THAN_MULTIPLIER_UP",
        "Price is higher than mark price multiplier cap.",
    ),
    "QTY_NOT_INCREASED_BY_STEP_SIZE": (
        -4023,
        "QTY_NOT_INCREASED_BY_STEP_SIZE",
        "Qty not increased by step size.",
    ),
    "PRICE_LOWER_THAN_MULTIPLIER_DOWN": (
        -4024,
        "PRICE_LOWER_THAN_MULTIPLIER_DOWN",
        "Price is lower than mark price multiplier floor.",
    ),
    "INVALID_LEVERAGE": (-4028, "INVALID_LEVERAGE", "Leverage `%s` is not valid"),
    "INVALID_LEVERAGE_PLAIN": (-4028, "INVALID_LEVERAGE", "Invalid leverage"),
    "INVALID_WORKING_TYPE": (
        -4031,
        "INVALID_WORKING_TYPE",
        "Invalid parameter working type: `%s`",
    ),
    "INVALID_WORKING_TYPE_PLAIN": (
        -4031,
        "INVALID_WORKING_TYPE",
        "Invalid parameter working type",
    ),
    "EXCEED_MAX_CANCEL_ORDER_SIZE": (
        -4032,
        "EXCEED_MAX_CANCEL_ORDER_SIZE",
        "Exceed maximum cancel order size.",
    ),
    "INVALID_BATCH_PLACE_ORDER_SIZE": (
        -4082,
        "INVALID_BATCH_PLACE_ORDER_SIZE",
        "Invalid number of batch place orders: %s",
    ),
    "STOP_ORDER_SWITCH_ALGO": (
        -4120,
        "STOP_ORDER_SWITCH_ALGO",
        "Order type not supported for this endpoint. Please use the Algo Order API endpoints "
        "instead.",
    ),
    "INVALID_TIME_INTERVAL": (
        -4165,
        "INVALID_TIME_INTERVAL",
        "Maximum time interval is %s days",
    ),
    "NO_NEED_TO_CHANGE_JOINT_MARGIN": (
        -4171,
        "NO_NEED_TO_CHANGE_JOINT_MARGIN",
        "Adjusted asset mode is currently set and does not need to be adjusted repeatedly.",
    ),
    "UNSUPPORTED_ORDER_TYPE_PRICE_MATCH": (
        -5038,
        "UNSUPPORTED_ORDER_TYPE_PRICE_MATCH",
        "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT",
    ),
    "FUTURE_GOOD_TILL_DATE": (
        -5040,
        "FUTURE_GOOD_TILL_DATE",
        "The goodTillDate timestamp must be greater than the current time plus 600 seconds "
        "and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)",
    ),
    "OPTIONAL_PARAMS_BAD_COMBO": (
        -1128,
        "OPTIONAL_PARAMS_BAD_COMBO",
        "Combination of optional parameters invalid.",
    ),
    "MAX_STOP_ORDER_EXCEEDED": (
        -4045,
        "MAX_STOP_ORDER_EXCEEDED",
        "Reach max stop order limit.",
    ),
    "NO_NEED_TO_CHANGE_MARGIN_TYPE": (
        -4046,
        "NO_NEED_TO_CHANGE_MARGIN_TYPE",
        "No need to change margin type.",
    ),
    "THERE_EXISTS_OPEN_ORDERS": (
        -4047,
        "THERE_EXISTS_OPEN_ORDERS",
        "Margin type cannot be changed if there exists open orders.",
    ),
    "THERE_EXISTS_QUANTITY": (
        -4048,
        "THERE_EXISTS_QUANTITY",
        "Margin type cannot be changed if there exists position.",
    ),
    "ADD_ISOLATED_MARGIN_REJECT": (
        -4049,
        "ADD_ISOLATED_MARGIN_REJECT",
        "Add margin only support for isolated position.",
    ),
    "CROSS_BALANCE_INSUFFICIENT": (-4050, "CROSS_BALANCE_INSUFFICIENT",
                                   "Cross balance insufficient."),
    "ISOLATED_BALANCE_INSUFFICIENT": (-4051, "ISOLATED_BALANCE_INSUFFICIENT",
                                      "Isolated balance insufficient."),
    "ADD_ISOLATED_MARGIN_NO_POSITION_REJECT": (
        -4054,
        "ADD_ISOLATED_MARGIN_NO_POSITION_REJECT",
        "Cannot add position margin: position is 0.",
    ),
    "AMOUNT_MUST_BE_POSITIVE": (-4055, "AMOUNT_MUST_BE_POSITIVE", "Amount must be positive."),
    "ISOLATED_LEVERAGE_REJECT_WITH_POSITION": (
        -4161,
        "ISOLATED_LEVERAGE_REJECT_WITH_POSITION",
        "Leverage reduction is not supported in Isolated Margin Mode with open positions",
    ),
    "NO_NEED_TO_CHANGE_POSITION_SIDE": (
        -4059,
        "NO_NEED_TO_CHANGE_POSITION_SIDE",
        "No need to change position side.",
    ),
    "INVALID_POSITION_SIDE": (-4060, "INVALID_POSITION_SIDE", "Invalid position side."),
    "POSITION_SIDE_NOT_MATCH": (
        -4061,
        "POSITION_SIDE_NOT_MATCH",
        "Order's position side does not match user's setting.",
    ),
    "POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS": (
        -4067,
        "POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS",
        "Position side cannot be changed if there exists open orders.",
    ),
    "POSITION_SIDE_CHANGE_EXISTS_QUANTITY": (
        -4068,
        "POSITION_SIDE_CHANGE_EXISTS_QUANTITY",
        "Position side cannot be changed if there exists position.",
    ),
    "DUPLICATED_CLIENT_ORDER_ID": (
        -4116,
        "DUPLICATED_CLIENT_ORDER_ID",
        "clientOrderId is duplicated",
    ),
    "MIN_NOTIONAL": (
        -4164,
        "MIN_NOTIONAL",
        "Order's notional must be no smaller than %s (unless you choose reduce only)",
    ),
    # 50xx – execution
    "FOK_ORDER_REJECT": (
        -5021,
        "FOK_ORDER_REJECT",
        "Due to the order could not be filled immediately, the FOK order has been rejected.",
    ),
    "GTX_ORDER_REJECT": (
        -5022,
        "GTX_ORDER_REJECT",
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    ),
    "MODIFY_LIMIT": (
        -5026, "Exceed_Maximum_Modify_Order_Limit", "Exceed maximum modify order limit.",
    ),
    "SAME_ORDER": (-5027, "SAME_ORDER", "No need to modify the order."),
    "INVALID_PRICE_MATCH": (-5037, "INVALID_PRICE_MATCH", "Invalid price match"),
    "BBO_ORDER_REJECT": (-5041, "BBO_ORDER_REJECT", "No depth matches this BBO order"),
    "INVALID_SELF_TRADE_PREVENTION_MODE": (
        -5039,
        "INVALID_SELF_TRADE_PREVENTION_MODE",
        "Invalid self trade prevention mode",
    ),
}


class ClientError(Exception):
    """A request the venue refused, shaped like binance-futures-connector's ``ClientError``.

    Attributes: ``status_code`` (HTTP status), ``error_code`` (Binance code),
    ``error_message`` (Binance msg), ``header`` (dict of response headers),
    ``error_data`` (always None here).
    """

    def __init__(
        self,
        status_code: int,
        error_code: int,
        error_message: str,
        header: dict[str, str] | None = None,
        error_data: Any = None,
    ) -> None:
        super().__init__(status_code, error_code, error_message, header, error_data)
        self.status_code = status_code
        self.error_code = error_code
        self.error_message = error_message
        self.header = {} if header is None else header
        self.error_data = error_data

    def to_wire(self) -> dict[str, Any]:
        """The error body Binance sends: ``{"code": int, "msg": str}``."""
        return {"code": self.error_code, "msg": self.error_message}

    def __repr__(self) -> str:
        return f"ClientError({self.status_code}, {self.error_code}, {self.error_message!r})"

    __str__ = __repr__


class UnknownAccount(KeyError):
    """No account of that name (``Exchange.client``): the message names it and the known ones.

    >>> str(UnknownAccount("zed", ["alice", "bob"]))
    "no account 'zed' (accounts: 'alice', 'bob')"
    """

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name, self.known = name, known

    def __str__(self) -> str:
        names = ", ".join(repr(n) for n in self.known) or "none"
        return f"no account {self.name!r} (accounts: {names})"


class InvariantError(AssertionError):
    """A broken venue invariant (SPEC 6): a bug, never a business rejection."""


#: Longest value a message quotes; a longer (or unprintable) one gets the plain variant.
QUOTE_LIMIT = 64


def reject_quoting(key: str, plain_key: str, value: object) -> ClientError:
    """``key``'s message quoting ``value``, or ``plain_key``'s when it cannot be quoted."""
    try:
        text = str(value)
    except ValueError:  # e.g. an int beyond Python's digit limit for str()
        return reject(plain_key)
    return reject(key, text) if len(text) <= QUOTE_LIMIT else reject(plain_key)


def reject(key: str, *args: object, status: int = 400) -> ClientError:
    """Build the :class:`ClientError` for row ``key`` of :data:`ERRORS`, ``%s`` filled from args.

    Runtime complexity: O(1).
    """
    code, _name, template = ERRORS[key]
    message = template % args if args else template
    return ClientError(status, code, message)
