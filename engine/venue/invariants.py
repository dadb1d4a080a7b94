"""The venue-wide invariants that span several owners (SPEC 6), and an order's hashed state.

:meth:`~engine.venue.exchange.Exchange.check_invariants` runs each owner's own
``_check()`` and then these, which read across owners: the frozen margin of every
account against its open orders, every open order's place in its book, every
trigger row against its parent and OCO group, every open GTD order against its
scheduled expiry, and the positions' sum per symbol.
Each raises :class:`~engine.core.errors.InvariantError`; none changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.enums import CANCELED, FILLED, NEW, OrderStatus, PositionSide, TriggerState
from engine.core.errors import InvariantError

if TYPE_CHECKING:
    from engine.venue.matching import Matching
    from engine.venue.state import VenueState

__all__ = ["check_orders", "check_positions", "order_state"]


def check_orders(s: VenueState, matching: Matching) -> None:
    """Every order against its account's frozen total and its place (SPEC 6.1, 6.5),
    every open GTD order against its entry in ``expiries``, and every trigger row
    against its parent and OCO group (SPEC 6.6)."""
    frozen: dict[str, int] = {name: 0 for name in s.ledger.accounts}
    # each book's check has placed every resting order at its own symbol, side and
    # price, so an order rests at most once
    resting = {
        oid for m in s.markets.values() for levels in (m.book.bids, m.book.asks)
        for level in levels.values() for oid in level.orders
    }
    for oid, o in s.index.by_id.items():
        if o.is_trigger:
            _check_row(s, matching, o)  # type: ignore[arg-type]
            continue
        frozen[o.owner.name] += o.frozen_e8()
        in_book = oid in resting
        if o.is_open != in_book:
            raise InvariantError(f"{o!r}: open={o.is_open} but in book={in_book}")
        if o.executed > o.qty or o.executed < 0:
            raise InvariantError(f"{o!r}: executed outside [0, qty]")
        if o.status is FILLED and o.executed != o.qty:
            raise InvariantError(f"{o!r}: FILLED with leaves")
        if o.status is NEW and o.executed:  # the inline cancel relies on it
            raise InvariantError(f"{o!r}: NEW with fills")
        if o.gtd and o.is_open and (o.gtd, oid) not in s.expiries:
            raise InvariantError(f"{o!r}: open GTD order without its expiry")
    for name, acct in s.ledger.accounts.items():
        if acct.frozen_e8 != frozen[name]:
            raise InvariantError(
                f"{name}: frozen {acct.frozen_e8} != Σ open orders' frozen {frozen[name]}"
            )

def _check_row(s: VenueState, matching: Matching, r: Any) -> None:
    state = r.state
    armed_indexed = r.order_id in s.registry.armed
    if armed_indexed != (state is TriggerState.ARMED):
        raise InvariantError(f"{r!r}: indexed={armed_indexed} but state {state}")
    if state is TriggerState.ARMED and r.reduce_only and matching.reducible(r) == 0:
        raise InvariantError(f"{r!r} ARMED on a flat position")
    parent = r.parent
    if parent is None:
        if state is TriggerState.PENDING:
            raise InvariantError(f"{r!r}: standalone row is PENDING")
        return
    if r not in (parent.rows or ()):
        raise InvariantError(f"{r!r} missing from its parent's OCO group")
    if state is TriggerState.PENDING and not parent.is_open:
        raise InvariantError(f"{r!r} PENDING but parent {parent.status}")
    if state is TriggerState.PENDING and parent.executed:
        raise InvariantError(f"{r!r} PENDING but parent has fills")
    if state is TriggerState.ARMED and parent.status is CANCELED:
        raise InvariantError(f"{r!r} ARMED but parent CANCELED")
    fired = sum(1 for x in parent.rows if x.status is OrderStatus.TRIGGERED)
    if fired > 1:
        raise InvariantError(f"parent {parent.order_id}: {fired} OCO rows TRIGGERED")

def check_positions(s: VenueState) -> None:
    """SPEC 6.4: the positions on each symbol sum to zero."""
    for symbol in s.symbols:
        total = 0
        for acct in s.ledger.accounts.values():
            for pside in PositionSide:
                total += acct.position_qty(symbol, pside)
        if total:
            raise InvariantError(f"{symbol}: positions sum to {total}, not 0")


def order_state(o: Any) -> tuple:
    """The hashed fields of one order or trigger row (:meth:`Exchange.state_hash`)."""
    # ``_value_`` is ``value`` without the enum property's call: the property tests hash
    # the venue before every call, and this tuple is built for every order
    base: tuple = (
        o.order_id, o.owner.name, o.inst.symbol, o.side._value_, o.pside._value_,
        o.type._value_, o.orig_type._value_, o.tif._value_, o.price, o.stop_price, o.qty,
        o.executed, o.cum_quote_e8, o.reduce_only, o.status._value_, o.time, o.update_time,
        o.cid, o.stp._value_, o.margin0_e8, o.working_type._value_,
        None if o.rows is None else tuple(r.order_id for r in o.rows),
    )
    # read only when set: hashes recorded before GTD and priceMatch existed still hold
    if o.gtd:
        base += (("gtd", o.gtd),)
    if o.price_match != "NONE":
        base += (("price_match", o.price_match),)
    if not o.is_trigger:
        return base
    return base + (
        o.armed, None if o.parent is None else o.parent.order_id, o.cap, o.close_position,
        o.price_protect, o.activation, o.rate, o.extreme, o.triggered_id,
    )
