"""Matching and fills: a taker walks the book best-first; each fill settles in the ledger.

Pipeline (exchange-core style): the book matches, the ledger settles;
:class:`Matching` sequences the two for one taker order.

Matching rules
--------------
* Price-time priority: best level first, FIFO within it; fills at the maker's price.
* Self-trade prevention is the taker's ``selfTradePreventionMode``: NONE trades
  with itself (both fills booked), EXPIRE_TAKER expires the taker's rest,
  EXPIRE_MAKER expires the resting order and goes on, EXPIRE_BOTH expires both.
* A reduce-only side of a fill is capped at what its position can reduce at
  that moment; a capped maker's rest expires, a taker with nothing left to
  reduce stops.
* After the walk a LIMIT GTC/GTX remainder rests; an IOC or MARKET remainder
  expires; a FOK that did not fill completely rejects the whole command (-5021,
  rolled back).

Fees are ``ceil(notional × rate)`` (maker rate for the resting side).  A fill
releases the order's share of frozen margin (``Order.frozen_e8``), marks the
position as touched (for reduce-only expiry) and sets the last price.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.enums import (
    BUY,
    CANCELED,
    EXPIRE_BOTH,
    EXPIRE_TAKER,
    EXPIRED,
    FILLED,
    FOK,
    GTC,
    GTX,
    LIMIT,
    OPEN_STATUSES,
    PARTIALLY_FILLED,
    STP_NONE,
    OrderStatus,
    Side,
)
from engine.core.errors import reject
from engine.core.events import PRINT
from engine.core.instrument import E8
from engine.core.ledger import cross_wallet
from engine.venue.rule import Rule

if TYPE_CHECKING:
    from engine.core.book import OrderBook
    from engine.core.events import EventLog
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.order import Order, TriggerRow
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.firing import Firing
    from engine.venue.tape import Tape

__all__ = ["Matching"]

_NO_STP = STP_NONE


class Matching(Rule):
    """Taker execution, fills and expiry.

    Room: the undo log, the markets, the ledger, the order index, the clock and
    the settle scratch; peers: ``firing`` (a parent's fills arm its rows, its
    end closes them) and ``tape`` (replayed liquidity, in replay mode).
    """

    PEERS = ("firing", "tape")

    # the state it touches (engine.venue.rule)
    _undo: UndoLog
    _events: EventLog
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    _touched: dict[tuple[str, str], AccountState]
    _risk_names: set[str]
    # the rules it calls
    _firing: Firing
    _tape: Tape

    def reducible(self, o: Order) -> int:
        """Lots ``o`` could reduce of its position now (BUY reduces a short, SELL a long)."""
        q = o.owner.position_qty(o.inst.symbol, o.pside)
        if o.side is BUY:
            return -q if q < 0 else 0
        return q if q > 0 else 0

    def take(self, order: Order, market: Market) -> None:
        """Execute a new (or triggered) ordinary order: match, then rest or expire the rest."""
        self._match(order, market)
        tif = order.tif
        if tif is FOK and order.executed < order.qty:
            # not filled completely (short book, capped makers, self-trade prevention)
            raise reject("FOK_ORDER_REJECT")
        if order.status not in OPEN_STATUSES:
            return
        if order.reduce_only and self.reducible(order) == 0:
            self.expire(order)
        elif order.type is LIMIT and (tif is GTC or tif is GTX):
            market.book.add(order)
            config = self._s.tape
            if config is not None and config.queue:
                self._tape.queue_rest(order, market)
        else:
            self.expire(order)

    def _match(self, taker: Order, market: Market) -> None:
        book = market.book
        buy = taker.side is BUY
        levels = book.asks if buy else book.bids
        limit = taker.price if taker.type is LIMIT else None
        stp = taker.stp
        # replay mode: the tape's liquidity competes by price, first at an equal price
        external = None
        if self._s.tape is not None and not taker.owner.name.startswith("@"):
            external = self._tape.external_price(market, buy)
        while levels or external is not None:
            leaves = taker.qty - taker.executed
            if leaves <= 0:
                return
            if taker.reduce_only:
                cap = self.reducible(taker)
                if cap <= 0:
                    return
                if cap < leaves:
                    leaves = cap
            if levels:
                key, level = levels.peekitem(0)
                price = key if buy else -key
            if external is not None and (
                not levels or (external <= price if buy else external >= price)
            ):
                if limit is not None and (external > limit if buy else external < limit):
                    return
                self._tape.fill_external(taker, leaves, external, market)
                continue
            if limit is not None and (price > limit if buy else price < limit):
                return
            maker = next(iter(level.orders.values()))
            if stp is not _NO_STP and maker.owner is taker.owner:
                if stp is EXPIRE_TAKER:
                    self.expire(taker)
                    return
                self.expire(maker)
                if stp is EXPIRE_BOTH:
                    self.expire(taker)
                    return
                continue
            m_leaves = maker.qty - maker.executed
            capped = False
            if maker.reduce_only:
                m_cap = self.reducible(maker)
                if m_cap <= 0:
                    self.expire(maker)
                    continue
                if m_cap < m_leaves:
                    m_leaves, capped = m_cap, True
            lots = leaves if leaves < m_leaves else m_leaves
            trade_id = self._ledger.next_trade_id()
            self.fill(maker, lots, price, True, trade_id, market)
            self.fill(taker, lots, price, False, trade_id, market)
            self._events.other(PRINT, None, taker.inst.symbol, price, lots, not buy, trade_id)
            if capped and lots == m_leaves:
                self.expire(maker)

    def fill(
        self, order: Order, lots: int, price: int, is_maker: bool, trade_id: int,
        market: Market,
    ) -> None:
        """Book one side of a fill: ledger, order, book level, history, rows, last price."""
        s = self._s
        inst = order.inst
        acct = order.owner
        now = s.now
        notional = lots * price * inst.notional_unit_e8
        rate = inst.maker_rate_e8 if is_maker else inst.taker_rate_e8
        fee = -(-notional * rate // E8) if acct.name[0] != "@" else 0  # the venue's own pay none
        realized = self._ledger.book_fill(acct, inst, order.pside,
                                          lots if order.side is BUY else -lots, price, fee, now,
                                          trade_id, order.order_id, order.side, is_maker)
        if is_maker:
            if lots == order.qty - order.executed:
                market.book.remove(order)
            else:
                market.book.reduce(order, lots)
        # one record for the order and the margin its fill releases; the release and the
        # events written out: with Ledger.book_fill, 87 → 43 undo records and 486k → 440k
        # instructions for a 3-level IOC (fill_ioc_3_levels, benchmarks/count_instructions.py)
        executed, qty, margin0 = order.executed, order.qty, order.margin0_e8
        self._undo.append((
            _restore_fill, order, executed, order.cum_quote_e8, order.status,
            order.update_time, acct, acct.frozen_e8,
        ))
        order.executed = done = executed + lots
        order.cum_quote_e8 += notional
        order.update_time = now
        if done == qty:
            order.status = FILLED
            self._index.close(order)
        else:
            order.status = PARTIALLY_FILLED
        if margin0:  # Order.frozen_e8 before less after: ceil(margin0 × leaves / qty)
            acct.frozen_e8 -= (-(-margin0 * (qty - executed) // qty)
                               + (-margin0 * (qty - done) // qty))
        if acct.name[0] != "@":
            symbol, pside = inst.symbol, order.pside
            pos = acct.positions[(symbol, pside)]
            isolated = acct.isolated
            iso = pos.iso_e8 if isolated and symbol in isolated else None
            self._events.fill(order, lots, price, fee, realized, is_maker, trade_id,
                              (symbol, pside._value_, pos.qty, pos.cost_e8, market.mark_price(),
                               iso, pos.open_fee_e8),
                              cross_wallet(acct) if isolated else None)
        if order.rows is not None:
            self._firing.on_parent_fill(order)
        self._touched[(acct.name, inst.symbol)] = acct
        self._risk_names.add(acct.name)
        s.dirty = True
        market.set_last(price)
        if market.mark is None:
            s.risk_all = True  # the mark is the last price: every holder is at risk

    def expire(self, order: Order) -> None:
        """Close an open ordinary order as EXPIRED: off the book, margin released."""
        market = self._markets[order.inst.symbol]
        if market.book.contains(order):
            market.book.remove(order)
        self.close_ordinary(order, EXPIRED)

    def close_ordinary(self, order: Order, status: OrderStatus) -> list[TriggerRow] | None:
        """Set a closed status, release what is still frozen, leave the open sets; rows follow.

        Returns the attached rows this closed (None when the order has no rows).
        """
        frozen = order.frozen_e8()
        if frozen:
            self._ledger.release(order.owner, frozen)
        self._undo.append((_restore_status, order, order.status, order.update_time))
        order.status = status
        order.update_time = self._s.now
        self._index.close(order)
        self._events.order(order, status._value_)
        if order.rows is None:
            return None
        return self._firing.on_parent_closed(order, status is CANCELED)

    # -- estimates (no mutation) ----------------------------------------------------------
    @staticmethod
    def walk(book: OrderBook, side: Side, qty: int, limit: int | None) -> list[tuple[int, int]]:
        """The ``(price, lots)`` a taker of ``side`` would take now, ignoring STP and caps."""
        buy = side is BUY
        levels = book.asks if buy else book.bids
        out = []
        remaining = qty
        for key, level in levels.items():
            price = key if buy else -key
            if limit is not None and (price > limit if buy else price < limit):
                break
            take = level.total if level.total < remaining else remaining
            out.append((price, take))
            remaining -= take
            if not remaining:
                break
        return out


def _restore_fill(order: Order, executed: int, cum: int, status: OrderStatus, upd: int,
                  acct: AccountState, frozen: int) -> None:
    order.executed, order.cum_quote_e8, order.status, order.update_time = (
        executed, cum, status, upd,
    )
    acct.frozen_e8 = frozen


def _restore_status(order: Order, status: OrderStatus, upd: int) -> None:
    order.status, order.update_time = status, upd
