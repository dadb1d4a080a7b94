"""The trigger registry's fire index: which ARMED rows fire at a given watched price.

Rows live in the order index like every order; PENDING rows hang off their
parent (``parent.rows``, which is also the OCO group).  This module indexes
the ARMED ones, per ``(symbol, workingType)``, so that a price move costs
O(log n + fired) however many rows rest:

* ``rise``: rows that fire when the price is **at or above** their stop (STOP
  buys, TAKE_PROFIT sells): a ``SortedList`` of ``(stop_ticks, order_id)``, due
  rows form a prefix;
* ``fall``: rows that fire **at or below** their stop (STOP sells, TAKE_PROFIT
  buys): ``(-stop_ticks, order_id)``, due rows again a prefix;
* ``trailing``: TRAILING_STOP_MARKET rows, ``order_id -> row``, visited on each
  evaluation (their level moves with the price).

Trailing rule (integers): ``rate`` is the callback in tenths of a percent.  A
sell activates when the price reaches ``activation`` (at or above; at arming
when there is none), then tracks the highest price and fires when
``price × 1000 ≤ highest × (1000 − rate)``; a buy mirrors it with the lowest
price and ``price × 1000 ≥ lowest × (1000 + rate)``.  :func:`trailing_band` gives the
prices at which a print changes none of that (the backtest's skip-ahead band).

Every mutation logs its inverse to the shared undo log first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sortedcontainers import SortedList

from engine.core.enums import (
    NEW,
    TRAILING_STOP_MARKET,
    WorkingType,
)
from engine.core.errors import InvariantError

if TYPE_CHECKING:
    from engine.core.order import TriggerRow
    from engine.core.txn import UndoLog

Key = tuple[str, WorkingType]


def fires_at(row: TriggerRow, price: int) -> bool:
    """True when a non-trailing row's condition holds at ``price`` (ticks)."""
    return price >= row.stop_price if row.rises else price <= row.stop_price


def trailing_level(row: TriggerRow) -> int | None:
    """The price (ticks, rounded toward the extreme) at which an activated trailing row fires."""
    ext = row.extreme
    if ext is None:
        return None
    if row.rises:  # buy: lowest × (1 + rate)
        return -(-ext * (1000 + row.rate) // 1000)
    return ext * (1000 - row.rate) // 1000


def trailing_fires(row: TriggerRow, price: int) -> bool:
    ext = row.extreme
    if ext is None:
        return False
    if row.rises:
        return price * 1000 >= ext * (1000 + row.rate)
    return price * 1000 <= ext * (1000 - row.rate)


def trailing_band(row: TriggerRow) -> tuple[int | None, int | None]:
    """Inclusive ``(lo, hi)`` ticks where a print leaves the trailing ``row`` as it is.

    Contract: for every price ``p`` with ``lo <= p <= hi`` (None: no bound on that
    side), :meth:`TriggerRegistry.track` at ``p`` changes neither ``activation`` nor
    ``extreme`` and, after it, :func:`trailing_fires` is False; the first price
    past a finite edge does one or the other (the band is tight).  ``lo > hi``
    means no price is safe.  It assumes the row was tracked at the current
    price already (every command that moves a price or arms a row settles).

    * not activated (``extreme`` None): a sell activates at ``p >= activation``,
      so ``hi = activation - 1``; a buy at ``p <= activation``, so ``lo =
      activation + 1``; with no activation any price activates it: ``(1, 0)``;
    * activated sell: ``p > extreme`` moves the extreme (``hi = extreme``);
      it fires at ``p <= trailing_level`` (``lo = level + 1``);
    * activated buy: ``p < extreme`` moves it (``lo = extreme``); it fires at
      ``p >= trailing_level`` (``hi = level - 1``).

    :func:`trailing_level` is the exact integer edge of :func:`trailing_fires`
    (``p × 1000 ≤ X`` ⇔ ``p ≤ ⌊X / 1000⌋``; ``p × 1000 ≥ Y`` ⇔ ``p ≥ ⌈Y / 1000⌉``).
    """
    ext = row.extreme
    if ext is None:
        act = row.activation
        if act is None:
            return 1, 0
        return (act + 1, None) if row.rises else (None, act - 1)
    level = trailing_level(row)
    assert level is not None
    return (ext, level - 1) if row.rises else (level + 1, ext)


class TriggerRegistry:
    """Fire index of ARMED trigger rows."""

    __slots__ = ("_undo", "_rise", "_fall", "_trailing", "armed")

    def __init__(self, undo: UndoLog) -> None:
        self._undo = undo
        self._rise: dict[Key, SortedList] = {}
        self._fall: dict[Key, SortedList] = {}
        self._trailing: dict[Key, dict[int, TriggerRow]] = {}
        #: every indexed (ARMED, open) row by id
        self.armed: dict[int, TriggerRow] = {}

    def __len__(self) -> int:
        return len(self.armed)

    def _list(self, table: dict[Key, SortedList], key: Key) -> SortedList:
        lst = table.get(key)
        if lst is None:
            lst = SortedList()
            table[key] = lst  # an empty list is not state: no undo needed
        return lst

    def index(self, row: TriggerRow) -> None:
        """Start watching an ARMED row.  O(log n)."""
        u = self._undo
        key = (row.inst.symbol, row.working_type)
        oid = row.order_id
        u.append((self.armed.pop, oid))
        self.armed[oid] = row
        if row.orig_type is TRAILING_STOP_MARKET:
            table = self._trailing.get(key)
            if table is None:
                table = self._trailing[key] = {}
            u.append((table.pop, oid))
            table[oid] = row
        elif row.rises:
            lst = self._list(self._rise, key)
            entry = (row.stop_price, oid)
            u.append((lst.remove, entry))
            lst.add(entry)
        else:
            lst = self._list(self._fall, key)
            entry = (-row.stop_price, oid)
            u.append((lst.remove, entry))
            lst.add(entry)

    def unindex(self, row: TriggerRow) -> None:
        """Stop watching a row (it fired, was cancelled or expired).  O(log n)."""
        u = self._undo
        key = (row.inst.symbol, row.working_type)
        oid = row.order_id
        u.append((self.armed.__setitem__, oid, row))
        del self.armed[oid]
        if row.orig_type is TRAILING_STOP_MARKET:
            table = self._trailing[key]
            u.append((table.__setitem__, oid, row))
            del table[oid]
        elif row.rises:
            lst = self._rise[key]
            entry = (row.stop_price, oid)
            u.append((lst.add, entry))
            lst.remove(entry)
        else:
            lst = self._fall[key]
            entry = (-row.stop_price, oid)
            u.append((lst.add, entry))
            lst.remove(entry)

    def track(self, symbol: str, wt: WorkingType, price: int) -> None:
        """Update activation and extremes of the trailing rows watching ``price``."""
        table = self._trailing.get((symbol, wt))
        if not table:
            return
        u = self._undo
        for oid in sorted(table):  # deterministic order (ids), though updates commute
            row = table[oid]
            ext = row.extreme
            if ext is None:
                act = row.activation
                reached = act is None or (price <= act if row.rises else price >= act)
                if reached:
                    u.append((setattr, row, "extreme", None))
                    row.extreme = price
            elif (price < ext) if row.rises else (price > ext):
                u.append((setattr, row, "extreme", ext))
                row.extreme = price

    def due(self, symbol: str, wt: WorkingType, price: int) -> list[tuple[int, TriggerRow]]:
        """``(trigger_level_ticks, row)`` for every indexed row whose condition holds now.

        Runtime complexity: O(log n + k) for k due rows (+ trailing rows of the key).
        """
        key = (symbol, wt)
        out: list[tuple[int, TriggerRow]] = []
        armed = self.armed
        lst = self._rise.get(key)
        if lst:
            for stop, oid in lst.irange(maximum=(price, 1 << 62)):
                out.append((stop, armed[oid]))
        lst = self._fall.get(key)
        if lst:
            for neg_stop, oid in lst.irange(maximum=(-price, 1 << 62)):
                out.append((-neg_stop, armed[oid]))
        table = self._trailing.get(key)
        if table:
            for oid in sorted(table):
                row = table[oid]
                if trailing_fires(row, price):
                    level = trailing_level(row)
                    assert level is not None
                    out.append((level, row))
        return out

    def has_due(self, symbol: str, wt: WorkingType, price: int) -> bool:
        """Cheap test: might anything fire at ``price``?  O(1) for stops, O(t) trailing."""
        key = (symbol, wt)
        lst = self._rise.get(key)
        if lst and lst[0][0] <= price:
            return True
        lst = self._fall.get(key)
        if lst and -lst[0][0] >= price:
            return True
        return bool(self._trailing.get(key))

    def _check(self) -> None:
        """Every indexed row is ARMED and open, indexed once, under its own key."""
        seen = 0
        for table, sign in ((self._rise, 1), (self._fall, -1)):
            for (symbol, wt), lst in table.items():
                for k, oid in lst:
                    row = self.armed.get(oid)
                    if row is None or row.inst.symbol != symbol or row.working_type is not wt:
                        raise InvariantError(f"trigger index holds stray id {oid}")
                    if sign * k != row.stop_price or row.rises != (sign == 1):
                        raise InvariantError(f"{row!r} indexed at the wrong price or side")
                    seen += 1
        for (_symbol, wt), rows in self._trailing.items():
            for oid, row in rows.items():
                if self.armed.get(oid) is not row or row.working_type is not wt:
                    raise InvariantError(f"trailing index holds stray id {oid}")
                seen += 1
        if seen != len(self.armed):
            raise InvariantError(f"trigger index size {seen} != armed rows {len(self.armed)}")
        for row in self.armed.values():
            if row.status is not NEW or not row.armed:
                raise InvariantError(f"{row!r} is indexed but not ARMED")

    def _state(self) -> tuple:
        """Canonical state for hashing: the armed rows and the fire index over them."""
        return (tuple(sorted(self.armed)),) + tuple(
            tuple(sorted(((sym, wt.value), tuple(v)) for (sym, wt), v in table.items() if v))
            for table in (self._rise, self._fall, self._trailing)
        )
