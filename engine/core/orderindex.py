"""The order index: every order ever placed, the open ones per account and symbol, client ids.

Structures (all keyed for O(1) lookup)
--------------------------------------
* ``by_id``: ``order_id -> Order`` for every order and trigger row ever
  created (closed ones stay queryable);
* ``open_orders[(account, symbol)]``: open ordinary orders, ``id -> Order``;
* ``open_rows[(account, symbol)]``: untriggered trigger rows (PENDING/ARMED);
* ``open_row_count[account]``: how many untriggered trigger rows the account
  holds across all symbols (the sum of its ``open_rows`` tables' sizes), kept
  as a running count so that Binance's per-account cap on conditional orders
  (``MAX_NUM_ALGO_ORDERS``, -4045; see :mod:`engine.venue.entry`) costs O(1)
  per check.  Only positive counts are stored (an account at 0 has no entry),
  so equal open sets always give equal tables; :meth:`OrderIndex._check`
  recounts it;
* ``reducers[(account, symbol)]``: the open orders and ARMED rows that may
  only reduce a position (reduce-only, close-position, hedge-mode closing,
  attached TP/SL) — the ones to expire when their position has nothing left;
* ``cids[account]``: explicit client order id -> the most recent order that
  used it.  Duplicates among *open* orders are refused at entry, so the most
  recent order with an id is the open one whenever an open one exists
  (SPEC 4.2: the open one wins over older closed ones).  Orders placed without
  a client id report ``x-sim-<orderId>`` and are found by parsing it.

Per-account dicts are created on first use and never removed (an empty dict is
not state; ``_state`` ignores it).  Every mutation logs its inverse first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.errors import InvariantError
from engine.core.order import AUTO_CID_PREFIX

if TYPE_CHECKING:
    from engine.core.order import Order
    from engine.core.txn import UndoLog

Key = tuple[str, str]


class OrderIndex:
    """Ids, open sets and client ids of all orders."""

    __slots__ = (
        "_undo", "by_id", "open_orders", "open_rows", "open_row_count", "reducers", "cids",
    )

    def __init__(self, undo: UndoLog) -> None:
        self._undo = undo
        self.by_id: dict[int, Order] = {}
        self.open_orders: dict[Key, dict[int, Order]] = {}
        self.open_rows: dict[Key, dict[int, Order]] = {}
        self.open_row_count: dict[str, int] = {}
        self.reducers: dict[Key, dict[int, Order]] = {}
        self.cids: dict[str, dict[str, Order]] = {}

    @staticmethod
    def _table(tables: dict, key: object) -> dict:
        t = tables.get(key)
        if t is None:
            t = tables[key] = {}
        return t

    def add(self, order: Order) -> None:
        """Register a new order (open unless the caller closes it).  O(1)."""
        u = self._undo
        oid = order.order_id
        u.append((self.by_id.pop, oid))
        self.by_id[oid] = order
        key = (order.owner.name, order.inst.symbol)
        if order.is_trigger:
            table = self._table(self.open_rows, key)
            self.count_rows(key[0], 1)
        else:
            table = self._table(self.open_orders, key)
        u.append((table.pop, oid))
        table[oid] = order
        cid = order.cid
        if cid is not None:
            cids = self._table(self.cids, order.owner.name)
            prev = cids.get(cid)
            u.append((_restore_key, cids, cid, prev))
            cids[cid] = order

    def close(self, order: Order) -> None:
        """Take an order out of the open sets (its status has left NEW/PARTIALLY_FILLED)."""
        u = self._undo
        oid = order.order_id
        key = (order.owner.name, order.inst.symbol)
        if order.is_trigger:
            table = self.open_rows[key]
            self.count_rows(key[0], -1)
        else:
            table = self.open_orders[key]
        u.append((table.__setitem__, oid, order))
        del table[oid]
        red = self.reducers.get(key)
        if red is not None and oid in red:
            u.append((red.__setitem__, oid, order))
            del red[oid]

    def add_reducer(self, order: Order) -> None:
        u = self._undo
        table = self._table(self.reducers, (order.owner.name, order.inst.symbol))
        u.append((table.pop, order.order_id))
        table[order.order_id] = order

    def find_cid(self, account: str, cid: str) -> Order | None:
        """The caller's order with client id ``cid``: the open one, else the most recent."""
        explicit = self.cids.get(account, {}).get(cid)
        auto = None
        if cid.startswith(AUTO_CID_PREFIX):
            digits = cid[len(AUTO_CID_PREFIX):]
            if digits.isascii() and digits.isdigit() and len(digits) <= 20:
                o = self.by_id.get(int(digits))
                if o is not None and o.cid is None and o.owner.name == account:
                    auto = o
        if explicit is None:
            return auto
        if auto is None:
            return explicit
        if auto.is_open != explicit.is_open:
            return auto if auto.is_open else explicit
        return auto if auto.order_id > explicit.order_id else explicit

    def count_rows(self, account: str, delta: int) -> None:
        """Add ``delta`` to ``account``'s count of untriggered rows (undoable).  O(1).

        Called by :meth:`add` and :meth:`close`, and by any path that opens or
        closes rows in ``open_rows`` without them (the inline cascade of
        ``Cancels._cancel_plain`` undoes its own count in its compound record).
        """
        counts = self.open_row_count
        prev = counts.get(account)
        self._undo.append((_restore_key, counts, account, prev))
        set_row_count(counts, account, (prev or 0) + delta)

    def rows_open(self, account: str) -> int:
        """How many untriggered (PENDING or ARMED) rows ``account`` holds, all symbols.  O(1)."""
        return self.open_row_count.get(account, 0)

    def count_open(self, account: str, symbol: str) -> int:
        t = self.open_orders.get((account, symbol))
        return 0 if t is None else len(t)

    def open_of(self, account: str, symbol: str | None) -> list[Order]:
        """Open orders and untriggered rows of an account, by id (one symbol or all)."""
        out: list[Order] = []
        for tables in (self.open_orders, self.open_rows):
            for (acct, sym), t in tables.items():
                if acct == account and (symbol is None or sym == symbol):
                    out.extend(t.values())
        out.sort(key=_order_id)
        return out

    def _check(self) -> None:
        """Open sets hold exactly the open orders; client ids point at their orders."""
        for tables, is_trigger in ((self.open_orders, False), (self.open_rows, True)):
            for (acct, sym), t in tables.items():
                for oid, o in t.items():
                    if self.by_id.get(oid) is not o or o.is_trigger is not is_trigger:
                        raise InvariantError(f"open set holds stray order {oid}")
                    if not o.is_open or o.owner.name != acct or o.inst.symbol != sym:
                        raise InvariantError(f"{o!r} is in the wrong open set")
        n_open = sum(len(t) for t in self.open_orders.values()) + sum(
            len(t) for t in self.open_rows.values()
        )
        if n_open != sum(1 for o in self.by_id.values() if o.is_open):
            raise InvariantError("an open order is missing from the open sets")
        recount: dict[str, int] = {}
        for (acct, _sym), t in self.open_rows.items():
            if t:
                recount[acct] = recount.get(acct, 0) + len(t)
        counts = self.open_row_count
        if counts != recount:  # a stored 0 differs too: an account at 0 has no entry
            acct = min(a for a in set(recount) | set(counts) if counts.get(a) != recount.get(a))
            raise InvariantError(
                f"{acct}: the open-row count says {counts.get(acct)}, "
                f"the open sets hold {recount.get(acct, 0)} rows"
            )
        for (acct, sym), t in self.reducers.items():
            for o in t.values():
                if not o.is_open or o.owner.name != acct or o.inst.symbol != sym:
                    raise InvariantError(f"reducer set holds {o!r}")
        for acct, cids in self.cids.items():
            for cid, o in cids.items():
                if o.cid != cid or o.owner.name != acct:
                    raise InvariantError(f"client id {cid!r} points at {o!r}")

    def _state(self) -> tuple:
        """Canonical state for hashing: the open sets, the reducers and the client ids.

        ``open_row_count`` is left out: it is a function of ``open_rows`` (hashed),
        which :meth:`_check` recounts, and reading it would move every state hash
        recorded before it existed (``tests/fixtures/pre_layout``).
        """
        return tuple(
            tuple(sorted((k, tuple(sorted(t))) for k, t in tables.items() if t))
            for tables in (self.open_orders, self.open_rows, self.reducers)
        ) + (
            tuple(
                sorted((a, c, o.order_id) for a, t in self.cids.items() for c, o in t.items())
            ),
        )


def _order_id(o: Order) -> int:
    return o.order_id


def set_row_count(counts: dict[str, int], account: str, n: int) -> None:
    """Store ``n`` as ``account``'s open-row count: a count of 0 is no entry."""
    if n:
        counts[account] = n
    else:
        del counts[account]


def _restore_key(table: dict, key: object, prev: object) -> None:
    if prev is None:
        del table[key]
    else:
        table[key] = prev
