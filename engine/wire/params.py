"""Parsing and static validation of ``new_order`` parameters into an :class:`OrderRequest`.

This is the wire edge of order entry: raw parameters (strings, ints,
Decimals, repr-exact floats, bools) in, an immutable request in engine units
out, or a :class:`~engine.core.errors.ClientError`.  Nothing here reads venue state
except the account's position mode and the clock (``goodTillDate``); rules that
need the book, the ledger or the order index (the price a ``priceMatch`` mode
reads, client-id duplicates, PERCENT_PRICE, MIN_NOTIONAL, margin, reduce-only,
parents) are judged by order entry.

Order of checks (the first failure wins)
-----------------------------------------
1. ``symbol`` (-1102 missing, -1121 unknown); ``side`` (-1102, -1117);
   ``type`` (-1102, -1116);
2. ``positionSide`` (-4060 unknown, -4061 against the account's mode);
3. flags ``reduceOnly`` / ``closePosition`` / ``priceProtect`` (-1130), and
   which flags the type and mode allow (-1106);
4. ``timeInForce`` (-1102 missing on LIMIT, -1115 invalid, and GTD on a
   conditional type); ``goodTillDate`` — with GTD: -1102 missing, -1100 not an
   integer, then its milliseconds are dropped ("the timestamp only retains
   second-level precision") and it must lie after the clock + 600 s and before
   253402300799000, else -5040; without GTD: -1106;
5. ``quantity`` (-1102, -1100, -4003, -1111, -4004, -4005, -4023);
6. ``priceMatch`` (-5037 unknown, or OPPONENT_10 / OPPONENT_20; -5038 on a type
   other than LIMIT, STOP, TAKE_PROFIT; -1020 on STOP and TAKE_PROFIT), then
   ``price`` (-1106 with a priceMatch mode, else -1102 / -1106 by type, -1100,
   -4001, -1111, -4013, -4002, -4014);
7. ``stopPrice`` (-1102 / -1106, then -4006, -1111, -4013, -4007, -4014);
8. trailing ``callbackRate`` / ``activationPrice``;
9. ``workingType`` (-4031), ``newClientOrderId`` (-4015),
   ``selfTradePreventionMode`` (-5039), ``newOrderRespType`` (-1136);
10. attached TP/SL parameters and ``parentOrderId``.

Choices where Binance is silent or loose (also in the README):
``timeInForce`` is ignored on MARKET-family orders; unknown parameters are
ignored (as Binance does); trailing zeros carry no precision (``"0.0100"`` is
two decimals).

GTD and priceMatch
------------------
A GTD order is a LIMIT order; it is stored as GTC with its ``goodTillDate``
(``OrderRequest.gtd``, whole seconds in ms) and expires when the venue clock
reaches it.  Binance's page does not say what ``goodTillDate`` without GTD
answers: here -1106, as any parameter the order does not take.  GTD on STOP and
TAKE_PROFIT is -1115: their child is placed GTC when the row fires.

``priceMatch`` NONE is the same as not sending it, on any type.  The other modes
choose a LIMIT order's price from the book at entry (``OrderRequest.price`` is 0
until then; :func:`engine.venue.entry.match_price`).  Binance removed OPPONENT_10
and OPPONENT_20 from placement and modify on 2025-10-23 ("temporarily"): they are
-5037 here, as an unknown mode.  A price sent with a mode is -1106 (Binance: "Can't
be passed together with price"; its page names no code).  On STOP and TAKE_PROFIT
a mode would choose the child's price when the row fires: not offered (-1020).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.core.decimals import (
    decimals_of,
    parse_bool,
    parse_decimal,
    parse_int,
    present,
    scaled_exact,
)
from engine.core.enums import (
    BOTH,
    CONDITIONAL_TYPES,
    CONTRACT_PRICE,
    GTC,
    GTD,
    LIMIT,
    LIMIT_CONDITIONAL_TYPES,
    MARKET,
    STOP,
    STOP_MARKET,
    STP_NONE,
    TAKE_PROFIT,
    TAKE_PROFIT_MARKET,
    TRAILING_STOP_MARKET,
    OrderType,
    PositionSide,
    SelfTradePrevention,
    Side,
    TimeInForce,
    WorkingType,
)
from engine.core.errors import reject, reject_quoting
from engine.core.instrument import Instrument

CLIENT_ID = re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}", re.ASCII)
_MARKET_FAMILY = frozenset(
    {
        MARKET,
        STOP_MARKET,
        TAKE_PROFIT_MARKET,
        TRAILING_STOP_MARKET,
    }
)
#: the priceMatch modes offered (OPPONENT_10 and OPPONENT_20: removed by Binance on
#: 2025-10-23, -5037 as unknown ones)
PRICE_MATCH_MODES = frozenset(
    {"NONE", "OPPONENT", "OPPONENT_5", "QUEUE", "QUEUE_5", "QUEUE_10", "QUEUE_20"}
)
#: goodTillDate: after the clock + this, and before GTD_LIMIT_MS (UTC 9999-12-31 23:59:59)
GTD_MIN_AHEAD_MS = 600_000
GTD_LIMIT_MS = 253402300799000
_TP_TYPES = frozenset({TAKE_PROFIT_MARKET, TAKE_PROFIT})
_SL_TYPES = frozenset({STOP_MARKET, STOP})


class Leg:
    """One attached TP or SL requested at entry: type, stop and (for limit types) price."""

    __slots__ = ("type", "stop", "price")

    def __init__(self, type_: OrderType, stop: int, price: int) -> None:
        self.type, self.stop, self.price = type_, stop, price

    def __repr__(self) -> str:
        return f"Leg({self.type.value!r}, stop={self.stop}, price={self.price})"


class OrderRequest:
    """A validated ``new_order`` in engine units (ticks, lots).  Immutable by convention."""

    __slots__ = (
        "inst", "side", "type", "pside", "tif", "price", "qty", "stop", "reduce_only",
        "close_position", "cid", "working_type", "price_protect", "stp", "activation", "rate",
        "parent_id", "legs", "tpsl_working_type", "gtd", "price_match",
    )

    def __init__(
        self, inst: Instrument, side: Side, type_: OrderType, pside: PositionSide,
        tif: TimeInForce, price: int, qty: int, stop: int = 0, reduce_only: bool = False,
        close_position: bool = False, cid: str | None = None,
        working_type: WorkingType = CONTRACT_PRICE, price_protect: bool = False,
        stp: SelfTradePrevention = STP_NONE, activation: int | None = None,
        rate: int = 0, parent_id: int | None = None, legs: tuple[Leg, ...] = (),
        tpsl_working_type: WorkingType = CONTRACT_PRICE, gtd: int = 0,
        price_match: str = "NONE",
    ) -> None:
        self.inst, self.side, self.type, self.pside, self.tif = inst, side, type_, pside, tif
        self.price, self.qty, self.stop = price, qty, stop
        self.reduce_only, self.close_position, self.cid = reduce_only, close_position, cid
        self.working_type, self.price_protect, self.stp = working_type, price_protect, stp
        self.activation, self.rate, self.parent_id = activation, rate, parent_id
        self.legs, self.tpsl_working_type = legs, tpsl_working_type
        self.gtd, self.price_match = gtd, price_match

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"OrderRequest({body})"


def _enum(enum: type, value: object, key: str, *args: object) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise reject(key, *args) from None


def _working_type(value: object) -> WorkingType:
    try:
        return WorkingType(value)  # type: ignore[arg-type]  # any wire value is judged here
    except (ValueError, TypeError):
        raise reject_quoting(
            "INVALID_WORKING_TYPE", "INVALID_WORKING_TYPE_PLAIN", value
        ) from None


def parse_symbol(params: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> Instrument:
    symbol = params.get("symbol")
    if not present(symbol):
        raise reject("MANDATORY_PARAM", "symbol")
    inst = instruments.get(symbol) if isinstance(symbol, str) else None
    if inst is None:
        raise reject("BAD_SYMBOL")
    return inst


#: Memo size per instrument and kind.  A memo holds only wire strings that parsed
#: cleanly, so a hit returns exactly what the full parse would (benchmarks/: parsing
#: a decimal costs ~4 µs, a hit ~0.05 µs; bots repeat prices and sizes constantly).
_MEMO_LIMIT = 100_000


def _memo(table: dict[str, int], value: object, result: int) -> int:
    if type(value) is str and len(table) < _MEMO_LIMIT:
        table[value] = result
    return result


def parse_price(value: object, inst: Instrument, param: str = "price") -> int:
    """A limit price in ticks, with PRICE_FILTER and precision checks."""
    return _grid_price(value, inst, param, "price", "PRICE_LESS_THAN_ZERO",
                       "PRICE_GREATER_THAN_MAX_PRICE")


def parse_stop_price(value: object, inst: Instrument, param: str = "stopPrice") -> int:
    """A trigger price in ticks (stop-price codes where Binance has them)."""
    return _grid_price(value, inst, param, "stop", "STOP_PRICE_LESS_THAN_ZERO",
                       "STOP_PRICE_GREATER_THAN_MAX_PRICE")


def _grid_price(
    value: object, inst: Instrument, param: str, memo_kind: str, negative: str, too_high: str
) -> int:
    memo = inst.parse_memo[memo_kind]
    if type(value) is str:
        hit = memo.get(value)
        if hit is not None:
            return hit
    d = parse_decimal(value, param)
    if d < 0:
        raise reject(negative)
    if decimals_of(d) > inst.price_precision:
        raise reject("BAD_PRECISION")
    if d < inst.min_price:
        raise reject("PRICE_LESS_THAN_MIN_PRICE")
    if d > inst.max_price:
        raise reject(too_high)
    return _memo(
        memo, value,
        _on_grid(d, inst.price_exp, inst.tick_m, "PRICE_NOT_INCREASED_BY_TICK_SIZE"),
    )


def parse_quantity(value: object, inst: Instrument, market: bool) -> int:
    """A quantity in lots, with LOT_SIZE (or MARKET_LOT_SIZE) and precision checks."""
    memo = inst.parse_memo["market_qty" if market else "qty"]
    if type(value) is str:
        hit = memo.get(value)
        if hit is not None:
            return hit
    d = parse_decimal(value, "quantity")
    if d <= 0:
        raise reject("QTY_LESS_THAN_ZERO")
    if decimals_of(d) > inst.quantity_precision:
        raise reject("BAD_PRECISION")
    if d < inst.min_qty:
        raise reject("QTY_LESS_THAN_MIN_QTY")
    if d > (inst.market_max_qty if market else inst.max_qty):
        raise reject("QTY_GREATER_THAN_MAX_QTY")
    return _memo(
        memo, value, _on_grid(d, inst.qty_exp, inst.step_m, "QTY_NOT_INCREASED_BY_STEP_SIZE")
    )


def _on_grid(d: Any, exp: int, mantissa: int, key: str) -> int:
    scaled = scaled_exact(d, exp)
    if scaled is None:
        raise reject(key)
    units, rem = divmod(scaled, mantissa)
    if rem:
        raise reject(key)
    return units


def _flag(params: Mapping[str, Any], name: str) -> bool | None:
    """None when not sent, else the parsed bool."""
    value = params.get(name)
    return parse_bool(value, name) if present(value) else None


def _forbid(params: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if present(params.get(name)):
            raise reject("PARAM_NOT_REQUIRED", name)


def parse_callback_rate(value: object) -> int:
    """callbackRate in tenths of a percent: 0.1–10 in steps of 0.1 (else -1130)."""
    d = parse_decimal(value, "callbackRate")
    tenths = scaled_exact(d, 1)
    if tenths is None or not 1 <= tenths <= 100:
        raise reject("INVALID_PARAMETER", "callbackRate")
    return tenths


#: Parameters of a plain LIMIT/MARKET order: with nothing else sent (one-way mode),
#: ``_parse_plain`` validates it in the same order as the full parse, faster.
_PLAIN_KEYS = frozenset(
    {"symbol", "side", "type", "timeInForce", "quantity", "price", "newOrderRespType",
     "recvWindow", "timestamp"}
)
_SIDES = {s.value: s for s in Side}
_TYPES = {t.value: t for t in OrderType}
_TIFS = {t.value: t for t in TimeInForce if t is not GTD}  # GTD needs goodTillDate


def _parse_plain(
    params: Mapping[str, Any], instruments: Mapping[str, Instrument]
) -> OrderRequest | None:
    """The common case, or None to let the full parse judge (and word any error).

    Performance: a plain resting LIMIT is the most frequent command after a
    cancel; this path skips ~20 lookups of absent optional parameters.
    """
    get = params.get
    symbol, side_v, type_v = get("symbol"), get("side"), get("type")
    if not (isinstance(symbol, str) and isinstance(side_v, str) and isinstance(type_v, str)):
        return None
    inst = instruments.get(symbol)
    side = _SIDES.get(side_v)
    otype = _TYPES.get(type_v)
    if inst is None or side is None or otype is None:
        return None
    resp = get("newOrderRespType")
    if resp is not None and resp not in ("ACK", "RESULT"):
        return None
    price_v = get("price")
    if otype is LIMIT:
        tif_v = get("timeInForce")
        tif = _TIFS.get(tif_v) if isinstance(tif_v, str) else None
        if tif is None or price_v is None or price_v == "":
            return None
        qty = parse_quantity(get("quantity"), inst, False) if present(get("quantity")) else None
        if qty is None:
            return None
        price = parse_price(price_v, inst)
    elif otype is MARKET:
        if present(price_v) or not present(get("quantity")):
            return None
        tif = GTC
        qty = parse_quantity(get("quantity"), inst, True)
        price = 0
    else:
        return None
    return OrderRequest(inst, side, otype, BOTH, tif, price, qty)


def parse_price_match(value: object) -> str:
    """A ``priceMatch`` value: one of :data:`PRICE_MATCH_MODES`, else -5037."""
    if not isinstance(value, str) or value not in PRICE_MATCH_MODES:
        raise reject("INVALID_PRICE_MATCH")
    return value


def parse_good_till_date(value: object, now: int) -> int:
    """``goodTillDate`` in ms, truncated to whole seconds: -1102 missing, -1100 not an
    integer, -5040 unless it lies after ``now`` + 600 s and before 253402300799000."""
    if not present(value):
        raise reject("MANDATORY_PARAM", "goodTillDate")
    ms = parse_int(value, "goodTillDate") // 1000 * 1000
    if not now + GTD_MIN_AHEAD_MS < ms < GTD_LIMIT_MS:
        raise reject("FUTURE_GOOD_TILL_DATE")
    return ms


def parse_new_order(
    params: Mapping[str, Any], instruments: Mapping[str, Instrument], dual_side: bool,
    now: int,
) -> OrderRequest:
    """Validate ``new_order`` parameters (see the module docstring for the order of checks);
    ``now`` is the venue clock, which a ``goodTillDate`` must lie 600 s beyond."""
    if not dual_side and params.keys() <= _PLAIN_KEYS:
        plain = _parse_plain(params, instruments)
        if plain is not None:
            return plain
    get = params.get
    inst = parse_symbol(params, instruments)
    side_v = get("side")
    if not present(side_v):
        raise reject("MANDATORY_PARAM", "side")
    side = _enum(Side, side_v, "INVALID_SIDE")
    type_v = get("type")
    if not present(type_v):
        raise reject("MANDATORY_PARAM", "type")
    otype = _enum(OrderType, type_v, "INVALID_ORDER_TYPE")
    conditional = otype in CONDITIONAL_TYPES

    # 2. position side against the account's mode
    ps_v = get("positionSide")
    pside = _enum(PositionSide, ps_v, "INVALID_POSITION_SIDE") if present(ps_v) else (
        BOTH
    )
    if dual_side == (pside is BOTH):
        raise reject("POSITION_SIDE_NOT_MATCH")

    # 3. flags
    reduce_only = _flag(params, "reduceOnly")
    close_position = _flag(params, "closePosition")
    price_protect = _flag(params, "priceProtect") or False
    if dual_side and reduce_only:
        raise reject("PARAM_NOT_REQUIRED", "reduceOnly")
    if close_position:
        if otype not in (STOP_MARKET, TAKE_PROFIT_MARKET):
            raise reject("PARAM_NOT_REQUIRED", "closePosition")
        if present(get("quantity")):
            raise reject("PARAM_NOT_REQUIRED", "quantity")
        if reduce_only:
            raise reject("PARAM_NOT_REQUIRED", "reduceOnly")
        if present(get("parentOrderId")):
            raise reject("PARAM_NOT_REQUIRED", "closePosition")

    # 4. time in force
    tif_v = get("timeInForce")
    if otype is LIMIT and not present(tif_v):
        raise reject("MANDATORY_PARAM", "timeInForce")
    if otype in _MARKET_FAMILY or not present(tif_v):
        tif = GTC
    else:
        tif = _enum(TimeInForce, tif_v, "INVALID_TIF")
    gtd = 0
    if tif is GTD:
        if conditional:
            raise reject("INVALID_TIF")
        gtd = parse_good_till_date(get("goodTillDate"), now)
        tif = GTC  # a GTD order rests as GTC until it expires
    elif present(get("goodTillDate")):
        raise reject("PARAM_NOT_REQUIRED", "goodTillDate")

    # 5. quantity (optional with closePosition, and with parentOrderId as a cap)
    parent_v = get("parentOrderId")
    qty_v = get("quantity")
    if present(qty_v):
        qty = parse_quantity(qty_v, inst, otype in _MARKET_FAMILY)
    elif close_position or (conditional and present(parent_v)):
        qty = 0
    else:
        raise reject("MANDATORY_PARAM", "quantity")

    # 6. price match, then price
    pm_v = get("priceMatch")
    match = parse_price_match(pm_v) if present(pm_v) else "NONE"
    price_v = get("price")
    needs_price = otype is LIMIT or otype in LIMIT_CONDITIONAL_TYPES
    if match != "NONE":
        if not needs_price:
            raise reject("UNSUPPORTED_ORDER_TYPE_PRICE_MATCH")
        if conditional:
            raise reject("UNSUPPORTED_OPERATION")
        if present(price_v):
            raise reject("PARAM_NOT_REQUIRED", "price")
        price = 0  # chosen from the book at entry
    elif needs_price:
        if not present(price_v):
            raise reject("MANDATORY_PARAM", "price")
        price = parse_price(price_v, inst)
    else:
        if present(price_v):
            raise reject("PARAM_NOT_REQUIRED", "price")
        price = 0

    # 7. stop price
    stop_v = get("stopPrice")
    if conditional and otype is not TRAILING_STOP_MARKET:
        if not present(stop_v):
            raise reject("MANDATORY_PARAM", "stopPrice")
        stop = parse_stop_price(stop_v, inst)
    else:
        if present(stop_v):
            raise reject("PARAM_NOT_REQUIRED", "stopPrice")
        stop = 0

    # 8. trailing
    activation: int | None = None
    rate = 0
    if otype is TRAILING_STOP_MARKET:
        rate_v = get("callbackRate")
        if not present(rate_v):
            raise reject("MANDATORY_PARAM", "callbackRate")
        rate = parse_callback_rate(rate_v)
        act_v = get("activationPrice")
        if present(act_v):
            activation = parse_stop_price(act_v, inst, "activationPrice")
    else:
        _forbid(params, "callbackRate", "activationPrice")

    # 9. the rest of the order's own parameters
    wt_v = get("workingType")
    working_type = (
        _working_type(wt_v)
        if present(wt_v) else CONTRACT_PRICE
    )
    cid_v = get("newClientOrderId")
    cid: str | None = None
    if present(cid_v):
        if not isinstance(cid_v, str) or CLIENT_ID.fullmatch(cid_v) is None:
            raise reject("INVALID_CL_ORD_ID_LEN")
        cid = cid_v
    stp_v = get("selfTradePreventionMode")
    stp = (
        _enum(SelfTradePrevention, stp_v, "INVALID_SELF_TRADE_PREVENTION_MODE")
        if present(stp_v) else STP_NONE
    )
    resp_v = get("newOrderRespType")
    if present(resp_v) and resp_v not in ("ACK", "RESULT"):
        raise reject("INVALID_NEW_ORDER_RESP_TYPE")

    # 10. attached TP/SL and parents
    legs, tpsl_wt = _parse_legs(params, inst, otype, conditional)
    parent_id: int | None = None
    if present(parent_v):
        if not conditional:
            raise reject("PARAM_NOT_REQUIRED", "parentOrderId")
        parent_id = parse_int(parent_v, "parentOrderId")

    return OrderRequest(
        inst, side, otype, pside, tif, price, qty, stop, bool(reduce_only),
        bool(close_position), cid, working_type, price_protect, stp, activation, rate,
        parent_id, legs, tpsl_wt, gtd, match,
    )


_LEG_PARAMS = (
    "takeProfitPrice", "stopLossPrice", "takeProfitType", "stopLossType",
    "takeProfitLimitPrice", "stopLossLimitPrice", "tpslWorkingType",
)


def _parse_legs(
    params: Mapping[str, Any], inst: Instrument, otype: OrderType, conditional: bool
) -> tuple[tuple[Leg, ...], WorkingType]:
    get = params.get
    if conditional:
        _forbid(params, *_LEG_PARAMS)
        return (), CONTRACT_PRICE
    legs: list[Leg] = []
    for stop_name, type_name, limit_name, allowed, default in (
        ("takeProfitPrice", "takeProfitType", "takeProfitLimitPrice", _TP_TYPES,
         TAKE_PROFIT_MARKET),
        ("stopLossPrice", "stopLossType", "stopLossLimitPrice", _SL_TYPES,
         STOP_MARKET),
    ):
        stop_v = get(stop_name)
        if not present(stop_v):
            _forbid(params, type_name, limit_name)
            continue
        stop = parse_stop_price(stop_v, inst, stop_name)
        type_v = get(type_name)
        leg_type = default
        if present(type_v):
            leg_type = _enum(OrderType, type_v, "INVALID_ORDER_TYPE")
            if leg_type not in allowed:
                raise reject("INVALID_ORDER_TYPE")
        price = 0
        if leg_type in LIMIT_CONDITIONAL_TYPES:
            limit_v = get(limit_name)
            if not present(limit_v):
                raise reject("MANDATORY_PARAM", limit_name)
            price = parse_price(limit_v, inst, limit_name)
        else:
            _forbid(params, limit_name)
        legs.append(Leg(leg_type, stop, price))
    wt_v = get("tpslWorkingType")
    if not legs:
        _forbid(params, "tpslWorkingType")
        return (), CONTRACT_PRICE
    wt = (
        _working_type(wt_v)
        if present(wt_v) else CONTRACT_PRICE
    )
    return tuple(legs), wt
