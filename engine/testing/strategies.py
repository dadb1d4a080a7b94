"""Hypothesis strategies for commands against the default venue (BTCUSDT, ETHUSDT).

Every strategy draws :class:`Call` values: one client call, account and
parameters as sent.  A ``Call``'s repr is valid Python, so a failing example
pastes back into a test; ``call(ex)`` runs it and returns the response, or the
``ClientError`` it was refused with.

Valid commands (:func:`valid_orders` and its parts) are on the grid, inside
the filters and PERCENT_PRICE band around a mark near each symbol's
:data:`MARKETS` centre; whether one succeeds still depends on the venue
(margin, reduce-only, a would-trigger-at-once stop).  Invalid commands
(:func:`invalid_commands`) must be refused in any state of a venue whose marks
lie within ±15% of the centres (the machine keeps them within ±1.5%), and
carry the exact codes they may be refused with in ``expect``:

* malformed values — not numbers, booleans, lists, empty strings (-1100, -1102);
* bad prices — negative, too many decimals, off the tick grid, outside the
  symbol's range or the PERCENT_PRICE band (-4001, -1111, -4014, -4002,
  -4013, -4016, -4024);
* bad quantities — zero, negative, too fine, too large (-4003, -1111, -4005);
* unknown symbols, sides, types, time-in-force values (-1121, -1117, -1116, -1115);
* cancels of ids that do not exist or are malformed, batches too long or
  empty (-2011, -1100, -1102, -4032); bad countdowns, leverages, modes.

Foreign ids (another account's orders) depend on the venue's history: the
:class:`~engine.testing.machine.VenueMachine` draws them from its bundles and
predicts the code with the cascade model.

>>> from engine import Exchange
>>> ex = Exchange(); _ = ex.create_account("alice", balance="1000")
>>> call = Call("alice", "cancel_order", {"symbol": "BTCUSDT", "orderId": 7}, expect=(-2011,))
>>> call(ex).error_code in call.expect
True
>>> eval(repr(call)) == call
True
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, currently_in_test_context, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from engine.core.errors import ClientError

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

ACCOUNTS = ("alice", "bob", "carol")
#: symbol -> (centre price in ticks, ticks per price step, tick exponent, lots range)
MARKETS: dict[str, tuple[int, int, int, tuple[int, int]]] = {
    "BTCUSDT": (300_000, 150, 1, (4, 40)),
    "ETHUSDT": (200_000, 100, 2, (10, 500)),
}
SYMBOLS = tuple(MARKETS)


@dataclass(frozen=True)
class Call:
    """One client call: ``getattr(ex.client(account), method)(**params)``.

    ``expect``: for a call that must be refused, the codes it may be refused with.
    """

    account: str
    method: str
    params: dict[str, Any]
    expect: tuple[int, ...] | None = None

    def __call__(self, ex: Exchange) -> Any:
        """The response, or the :class:`~engine.ClientError` it was refused with."""
        try:
            return getattr(ex.client(self.account), self.method)(**self.params)
        except ClientError as e:
            return e


# -- wire values ---------------------------------------------------------------------------
def price_text(symbol: str, steps: int) -> str:
    """The wire price ``steps`` price steps from ``symbol``'s centre."""
    centre, unit, exp, _ = MARKETS[symbol]
    return ticks_text(symbol, centre + steps * unit)


def ticks_text(symbol: str, ticks: int) -> str:
    exp = MARKETS[symbol][2]
    return f"{ticks // 10**exp}.{ticks % 10**exp:0{exp}d}"


def shift(symbol: str, wire_price: str, steps: int) -> str:
    """``wire_price`` (or the centre, for a MARKET order's ``"0"``) moved by ``steps`` steps."""
    centre, unit, exp, _ = MARKETS[symbol]
    ticks = int(Decimal(wire_price).scaleb(exp)) or centre
    return ticks_text(symbol, max(ticks + steps * unit, unit))


def qty_text(symbol: str, lots: int) -> str:
    """The wire quantity of ``lots`` lots (both default symbols step 0.001)."""
    return f"{lots // 1000}.{lots % 1000:03d}"


symbols = st.sampled_from(SYMBOLS)
accounts = st.sampled_from(ACCOUNTS)
sides = st.sampled_from(("BUY", "SELL"))
working_types = st.sampled_from(("CONTRACT_PRICE", "MARK_PRICE"))
client_ids = st.one_of(st.none(), st.sampled_from(("c0", "c1", "c2")))


# -- valid commands --------------------------------------------------------------------------
@st.composite
def limit_orders(draw: Any, account: Any = accounts, symbol: Any = symbols) -> Call:
    """A LIMIT order within ±12 steps of the centre, maybe with TP/SL and a client id."""
    acct, sym, side = draw(account), draw(symbol), draw(sides)
    off = draw(st.integers(-12, 12))
    lo, hi = MARKETS[sym][3]
    params: dict[str, Any] = dict(
        symbol=sym, side=side, type="LIMIT",
        timeInForce=draw(st.sampled_from(("GTC", "GTC", "GTC", "IOC", "FOK", "GTX"))),
        quantity=qty_text(sym, draw(st.integers(lo, hi))), price=price_text(sym, off),
    )
    sign = 1 if side == "BUY" else -1
    tp, sl = draw(st.one_of(st.none(), st.integers(1, 20))), draw(
        st.one_of(st.none(), st.integers(1, 20)))
    if tp is not None:
        params["takeProfitPrice"] = price_text(sym, off + sign * tp)
    if sl is not None:
        params["stopLossPrice"] = price_text(sym, off - sign * sl)
    if tp is not None or sl is not None:
        params["tpslWorkingType"] = draw(working_types)
    cid = draw(client_ids)
    if cid is not None:
        params["newClientOrderId"] = cid
    return Call(acct, "new_order", params)


@st.composite
def market_orders(draw: Any, account: Any = accounts, symbol: Any = symbols) -> Call:
    """A MARKET order, maybe with a stop loss."""
    acct, sym, side = draw(account), draw(symbol), draw(sides)
    lo, hi = MARKETS[sym][3]
    params: dict[str, Any] = dict(symbol=sym, side=side, type="MARKET",
                                  quantity=qty_text(sym, draw(st.integers(lo, hi))))
    sl = draw(st.one_of(st.none(), st.integers(1, 20)))
    if sl is not None:
        params["stopLossPrice"] = price_text(sym, (-1 if side == "BUY" else 1) * sl)
    return Call(acct, "new_order", params)


@st.composite
def conditional_orders(draw: Any, account: Any = accounts, symbol: Any = symbols) -> Call:
    """A standalone STOP / TAKE_PROFIT (limit or market) or TRAILING_STOP_MARKET."""
    acct, sym, side = draw(account), draw(symbol), draw(sides)
    kind = draw(st.sampled_from(
        ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET")))
    off = draw(st.integers(-20, 20))
    lo, hi = MARKETS[sym][3]
    params: dict[str, Any] = dict(symbol=sym, side=side, type=kind,
                                  quantity=qty_text(sym, draw(st.integers(lo, hi))),
                                  workingType=draw(working_types))
    if kind == "TRAILING_STOP_MARKET":
        params["callbackRate"] = "1"
        params["activationPrice"] = price_text(sym, off)
    else:
        params["stopPrice"] = price_text(sym, off)
    if kind in ("STOP", "TAKE_PROFIT"):
        params["price"] = price_text(sym, off)
    if draw(st.booleans()):
        params["reduceOnly"] = "true"
    return Call(acct, "new_order", params)


def valid_orders(account: Any = accounts, symbol: Any = symbols) -> st.SearchStrategy[Call]:
    """Any well-formed ``new_order``: LIMIT, MARKET or conditional."""
    return st.one_of(limit_orders(account, symbol), market_orders(account, symbol),
                     conditional_orders(account, symbol))


# -- invalid commands --------------------------------------------------------------------------
_BAD_TEXT = ("abc", "NaN", "Infinity", "1e", "0x10", " 1", "1,5", "٣", "--1")
_MALFORMED = st.one_of(st.sampled_from(_BAD_TEXT), st.booleans(),
                       st.lists(st.just("1"), min_size=1, max_size=2))


def _bad_price(symbol: str) -> st.SearchStrategy[tuple[Any, tuple[int, ...]]]:
    centre, unit, exp, _ = MARKETS[symbol]
    cases: list[tuple[Any, tuple[int, ...]]] = [
        ("-1", (-4001,)), (ticks_text(symbol, centre) + "0" * (2 - exp) + "1", (-1111,)),
        ("900000", (-4002,)), ("1", (-4013,)), ("", (-1102,)),
        (ticks_text(symbol, centre * 6 // 5), (-4016,)),
        (ticks_text(symbol, centre * 4 // 5), (-4024,)),
    ]
    if exp == 1:  # a tick of 0.10, 2 decimals of precision: "30000.05" is off the grid
        cases.append((ticks_text(symbol, centre) + "5", (-4014,)))
    return st.one_of(st.sampled_from(cases), _MALFORMED.map(lambda v: (v, (-1100,))))


_BAD_QTY = st.one_of(
    st.sampled_from([("0", (-4003,)), ("-0.010", (-4003,)), ("0.0001", (-1111,)),
                     ("100000", (-4005,)), ("", (-1102,))]),
    _MALFORMED.map(lambda v: (v, (-1100,))),
)


@st.composite
def invalid_orders(draw: Any, account: Any = accounts) -> Call:
    """A LIMIT order with exactly one thing wrong; ``expect`` is that thing's code."""
    sym = draw(symbols)
    lo, _hi = MARKETS[sym][3]
    params: dict[str, Any] = dict(symbol=sym, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity=qty_text(sym, lo), price=price_text(sym, 0))
    field = draw(st.sampled_from(("price", "quantity", "symbol", "side", "type", "tif")))
    if field == "price":
        params["price"], expect = draw(_bad_price(sym))
    elif field == "quantity":
        params["quantity"], expect = draw(_BAD_QTY)
    elif field == "symbol":
        params["symbol"], expect = draw(st.sampled_from(
            [("BTCUSD", (-1121,)), ("btcusdt", (-1121,)), ("XYZUSDT", (-1121,)),
             ("", (-1102,)), (["BTCUSDT"], (-1121,))]))
    elif field == "side":
        params["side"], expect = draw(st.sampled_from(("HOLD", "buy", "B"))), (-1117,)
    elif field == "type":
        params["type"], expect = draw(st.sampled_from(("LIMITT", "OCO", "limit"))), (-1116,)
    else:
        params["timeInForce"], expect = draw(st.sampled_from(("DAY", "IOK", "gtc"))), (-1115,)
    return Call(draw(account), "new_order", params, expect)


@st.composite
def invalid_cancels(draw: Any, account: Any = accounts) -> Call:
    """Cancels that no venue accepts: unknown or malformed ids, bad batches."""
    sym = draw(symbols)
    kind = draw(st.sampled_from(("unknown", "missing", "malformed", "long", "empty")))
    if kind == "unknown":
        return Call(draw(account), "cancel_order",
                    {"symbol": sym, "orderId": draw(st.integers(10**9, 10**12))}, (-2011,))
    if kind == "missing":
        return Call(draw(account), "cancel_order", {"symbol": sym}, (-1102,))
    if kind == "malformed":
        bad = draw(st.one_of(st.sampled_from(_BAD_TEXT), st.just(True), st.just([1])))
        return Call(draw(account), "cancel_order", {"symbol": sym, "orderId": bad}, (-1100,))
    ids = draw(st.lists(st.integers(1, 10**6), min_size=11, max_size=15)) if kind == "long" else []
    return Call(draw(account), "cancel_batch_order",
                {"symbol": sym, "orderIdList": ids, "origClientOrderIdList": None},
                (-4032,) if ids else (-1102,))


@st.composite
def invalid_settings(draw: Any, account: Any = accounts) -> Call:
    """Bad countdowns, leverages and position modes."""
    sym = draw(symbols)
    kind = draw(st.sampled_from(("countdown", "leverage", "mode")))
    if kind == "countdown":
        value = draw(st.sampled_from(("abc", -1, "1.5", True)))
        return Call(draw(account), "countdown_cancel_order",
                    {"symbol": sym, "countdownTime": value}, (-1100,))
    if kind == "leverage":
        value = draw(st.sampled_from((0, 126, "x", "1.5", True)))
        return Call(draw(account), "change_leverage", {"symbol": sym, "leverage": value},
                    (-4028,))
    return Call(draw(account), "change_position_mode",
                {"dualSidePosition": draw(st.sampled_from(("maybe", 1, "yes")))}, (-1130,))


def invalid_commands(account: Any = accounts) -> st.SearchStrategy[Call]:
    """Any command that must be refused, whatever the venue's state; see the docstring."""
    return st.one_of(invalid_orders(account), invalid_cancels(account),
                     invalid_settings(account))


def ci_settings(**overrides: Any) -> settings:
    """The CI profile of the state machines: 200 examples × 50 steps."""
    base: dict[str, Any] = dict(
        max_examples=200, stateful_step_count=50, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    base.update(overrides)
    return settings(**base)


def note_here(text: str) -> None:
    """``hypothesis.note`` — also when a rule is called by hand, outside a test."""
    if currently_in_test_context():
        note(text)


def event_here(text: str) -> None:
    """``hypothesis.event`` — also when a rule is called by hand, outside a test."""
    if currently_in_test_context():
        event(text)


def run(machine: Any, at_least: int, batch: settings) -> int:
    """Run ``machine`` (a :class:`~engine.testing.machine.VenueMachine` subclass) in batches
    of ``batch`` until it has executed ``at_least`` steps; returns the steps run.  Each
    batch draws fresh examples (no example database)."""
    start = machine.steps
    while machine.steps - start < at_least:
        run_state_machine_as_test(machine, settings=settings(batch, database=None))
    return machine.steps - start
