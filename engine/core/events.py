"""The venue's event log: what each committed command did, in order, as compact deltas.

One source of truth (SPEC 9): the user-data stream, the market streams' liquidations,
the backtest's ``on_order_update`` and the web view read this log; nothing keeps a
second account of what happened.

Writing
-------
While a command runs, the rules append *deltas* — small immutable tuples of ints
and strings, the first item a kind below — to the ring, each with an undo record
that takes it back off (:meth:`EventLog.emit`).  So a command that is refused or
rolled back, alone or inside a savepoint, leaves no event: the undo log removes
its deltas with the rest of its mutations.  Readers read between commands (the
server under the venue lock), when every delta in the ring is committed:
committing costs the log nothing.  Events are numbered 1, 2, 3, … across the
venue's life, without gaps.

Every delta names the account it belongs to and the venue clock when it happened:
a command's events share one event time — but for a clock move over several
countdown deadlines, whose cancels each happen at their deadline.  Readers group
consecutive events of one time into a :class:`Batch`.

A delta names the order, row or account it is about by id or name and copies every
field that may change later (status, executed quantity, cumulative quote, update
time, a row's quantity and triggered id, a wallet, a position); the fields that
never change after creation (symbol, side, type, price, client id, …) are read
from the venue's order index when the delta is formatted.  Nothing is formatted
here: :mod:`engine.wire.events` turns deltas into Binance's JSON per reader,
lazily — building event dicts for every command would cost what the response
dicts cost.

Deltas (money in 10⁻⁸ USDT, prices in ticks, quantities in lots; ``status`` and
``pside`` are the wire strings)::

    (ORDER, account, time, order_id, x, status, executed, cum_quote_e8, update_time)
    (TRADE, account, time, order_id, status, executed, cum_quote_e8, update_time,
            lots, price, fee_e8, realized_e8, maker, trade_id)
    (ROW, account, time, order_id, status, qty, update_time, triggered_id)
    (ACCOUNT, account, time, reason, wallet_e8, change_e8,
              ((symbol, pside, qty, cost_e8, mark), ...), symbol)
    (CONFIG, account, time, symbol, leverage)
    (PRINT, None, time, symbol, price, lots, buyer_maker, trade_id)
    (LIQUIDATION, account, time, symbol, pside, qty, price, realized_e8, trade_id)
    (MARGIN_CALL, account, time, wallet_e8, ((symbol, pside, qty, mark, upnl_e8, mm_e8), ...))
    (PLACE, account, time, order_id)     # an order placed that rests unfilled
    (CANCEL, account, time, order_id)    # an unfilled order cancelled

``x`` is Binance's execution type (NEW, CANCELED, EXPIRED; a fill is a TRADE
delta).  The venue's own accounts (names starting with ``@``: the tape, the
insurance fund) emit no order, row or account deltas.  The hot paths of placement
and cancel (:mod:`engine.venue.entry`, :mod:`engine.venue.cancel`) append only the
order's id — ``order_id`` for PLACE, ``~order_id`` for CANCEL — and fold its undo
into their own: everything else of those two deltas never changes afterwards
(the owner, the creation time, a cancelled order's update time), so
:meth:`EventLog.delta` rebuilds them when read.  That keeps the log's cost on a
plain cancel to a list append.

Reading and retention
---------------------
The ring holds the deltas.  It keeps at least
:attr:`EventLog.capacity` events (default :data:`DEFAULT_CAPACITY`) and at most
twice that: past it, the oldest whole commands are dropped in one go.  A reader
keeps the number of the last event it saw and asks for what follows with
:meth:`EventLog.read` or :meth:`EventLog.batches_after`; the *resume horizon* is
:meth:`EventLog.horizon`, the oldest number still held: a reader that fell further
behind gets :class:`EventGap` and must rebuild its view from the venue's answers
(as a Binance client does after a reconnect).  The number of the last event
(:meth:`EventLog.last`, ``VenueState.event_seq``) is carried by a snapshot (its
metadata), so a restored or replayed venue numbers on from where it was; the ring
itself starts empty after a restore.

>>> from types import SimpleNamespace
>>> from engine.core.txn import UndoLog, rollback
>>> undo = UndoLog(); venue = SimpleNamespace(now=1000, index=None)
>>> log = EventLog(undo, venue)
>>> log.emit((CONFIG, "alice", 1000, "BTCUSDT", 10)); rollback(undo); log.ring
[]
>>> log.emit((CONFIG, "alice", 1000, "BTCUSDT", 10)); undo.clear()
>>> log.last()
1
>>> [(seq, t, d[3:]) for seq, t, d in log.read(0)]
[(1, 1000, ('BTCUSDT', 10))]
>>> log.read(1), log.horizon()
([], 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from engine.core.errors import InvariantError
from engine.core.ledger import cross_wallet

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.core.order import Order, TriggerRow
    from engine.core.txn import UndoLog

__all__ = [
    "ACCOUNT", "CANCEL", "CONFIG", "DEFAULT_CAPACITY", "LIQUIDATION", "MARGIN_CALL", "ORDER",
    "PLACE", "PRINT", "ROW", "TRADE", "Batch", "EventGap", "EventLog",
]

#: delta kinds (the first item of every delta)
ORDER, TRADE, ROW, ACCOUNT, CONFIG, PRINT, LIQUIDATION, CANCEL, PLACE, MARGIN_CALL = range(10)

#: events the ring keeps at least (it holds at most twice as many)
DEFAULT_CAPACITY = 1 << 16


class EventGap(LookupError):
    """A reader asked for events older than the ring still holds (see the horizon)."""


class Batch(NamedTuple):
    """Consecutive events of one event time: ``first`` is the number of ``deltas[0]``."""

    first: int
    time: int
    deltas: list[tuple]


class EventLog:
    """The deltas of the venue's recent commands (see the module docstring)."""

    __slots__ = ("ring", "base", "limit", "drop", "_undo", "_s", "capacity", "_fired")

    def __init__(self, undo: UndoLog, venue: Any, capacity: int = DEFAULT_CAPACITY,
                 last: int = 0) -> None:
        """An empty log whose next event is numbered ``last + 1``; ``venue`` is the
        venue's state: its clock (``now``), which each delta records, and its order
        index (``index``), which :meth:`delta` reads."""
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, not {capacity!r}")
        #: the deltas held, oldest first (between commands, every one is committed)
        self.ring: list[tuple | int] = []
        #: the number of the event before ``ring[0]``
        self.base = last
        #: the ring's length past which the oldest commands are dropped (:meth:`trim`)
        self.limit = 2 * capacity
        #: the undo record of one emit: pops the newest delta
        self.drop = (list.pop, self.ring)
        self._undo = undo
        self._s = venue
        self.capacity = capacity
        #: order id → the id of the trigger row that placed it (built on first use)
        self._fired: dict[int, int] | None = None

    def last(self) -> int:
        """The number of the newest event (0 before the first)."""
        return self.base + len(self.ring)

    def emit(self, delta: tuple) -> None:
        """Append ``delta`` to the command in flight (undone with it).  O(1)."""
        self._undo.append(self.drop)
        self.ring.append(delta)

    # -- what the rules emit (the venue's own ``@`` accounts emit nothing) -----------------
    def order(self, o: Order, x: str) -> None:
        """An ordinary order's update of execution type ``x`` (not a fill: :meth:`fill`)."""
        name = o.owner.name
        if name[0] != "@":
            s = self._s
            ring = self.ring
            if len(ring) > self.limit:
                self.trim()
            self._undo.append(self.drop)
            ring.append((ORDER, name, s.now, o.order_id, x,
                         o.status._value_, o.executed, o.cum_quote_e8, o.update_time))

    def row(self, r: TriggerRow) -> None:
        """A trigger row was created or changed (status, quantity, triggered order)."""
        name = r.owner.name
        if name[0] != "@":
            s = self._s
            self._undo.append(self.drop)
            self.ring.append((ROW, name, s.now, r.order_id, r.status._value_,
                              r.qty, r.update_time, r.triggered_id))
            fired = self._fired
            if r.triggered_id is not None and fired is not None:
                self._undo.append((fired.pop, r.triggered_id))
                fired[r.triggered_id] = r.order_id

    def fired_by(self, order_id: int) -> int | None:
        """The id of the trigger row that placed order ``order_id`` when it fired (None:
        no row did).  The map is built from the order index on first use (after a
        restore too), then kept with each firing.  Call between commands."""
        fired = self._fired
        if fired is None:
            fired = self._fired = {
                o.triggered_id: o.order_id for o in self._s.index.by_id.values()
                if o.is_trigger and o.triggered_id is not None}
        return fired.get(order_id)

    def fill(
        self, o: Order, lots: int, price: int, fee_e8: int, realized_e8: int, maker: bool,
        trade_id: int, position: tuple, cross: int | None,
    ) -> None:
        """One side of a fill, after the order took it: its TRADE delta, then the
        ACCOUNT delta of reason ORDER (the one changed ``position``, as :meth:`account`;
        ``cross``: the cross wallet of an account with isolated symbols, else None) — in
        one call and one undo record (benchmarks/test_targets.py, ``fill_ioc_3_levels``).
        The venue's own ``@`` accounts emit nothing."""
        acct = o.owner
        name = acct.name
        if name[0] == "@":
            return
        ring = self.ring
        if len(ring) > self.limit:
            self.trim()
        now = self._s.now
        self._undo.append((_drop_two, ring))
        ring.append((TRADE, name, now, o.order_id, o.status._value_, o.executed, o.cum_quote_e8,
                     o.update_time, lots, price, fee_e8, realized_e8, maker, trade_id))
        ring.append(_account_delta(acct, now, "ORDER", 0, (position,), "", cross))

    def account(
        self, acct: AccountState, reason: str, change_e8: int, positions: tuple[tuple, ...],
        symbol: str = "",
    ) -> None:
        """A wallet or position change for ``reason`` (Binance's ACCOUNT_UPDATE ``m``):
        ``change_e8`` is the wallet's change other than PnL and fees, ``positions`` the
        changed ``(symbol, pside, qty, cost_e8, mark ticks or None[, isolated wallet or
        None, opening fees])`` after it, ``symbol``
        the one a funding fee was paid on; an account with isolated symbols adds its
        cross wallet."""
        name = acct.name
        if name[0] != "@":
            ring = self.ring
            if len(ring) > self.limit:  # every fill and funding payment passes here
                self.trim()
            self._undo.append(self.drop)
            ring.append(_account_delta(acct, self._s.now, reason, change_e8, positions, symbol,
                                       cross_wallet(acct) if acct.isolated else None))

    def other(self, kind: int, account: str | None, *fields: object) -> None:
        """A delta of another kind (CONFIG, PRINT, LIQUIDATION, MARGIN_CALL) with its
        ``fields``."""
        if len(self.ring) > self.limit:
            self.trim()
        self.emit((kind, account, self._s.now, *fields))

    # -- retention -------------------------------------------------------------------------
    def trim(self) -> None:
        """Drop the oldest events, keeping the newest ``capacity``.  Called when the ring
        has passed :attr:`limit` as an order is placed, a wallet changes (every fill and
        funding payment) or another event is emitted, so it holds at most about twice
        ``capacity``; the command in flight is the ring's tail, far shorter than
        ``capacity``.  O(events dropped)."""
        cut = len(self.ring) - self.capacity
        if cut > 0:
            del self.ring[:cut]
            self.base += cut

    # -- reading ---------------------------------------------------------------------------
    def horizon(self) -> int | None:
        """The oldest event number held (None while nothing is held)."""
        return self.base + 1 if self.ring else None

    def delta(self, entry: Any) -> tuple:
        """The delta a ring entry stands for (a hot path's bare id rebuilt; see the
        module docstring)."""
        if entry.__class__ is not int:
            return entry  # type: ignore[no-any-return]
        if entry > 0:
            o = self._s.index.by_id[entry]
            return (PLACE, o.owner.name, o.time, entry)
        o = self._s.index.by_id[~entry]
        return (CANCEL, o.owner.name, o.update_time, ~entry)

    def batches_after(self, after: int) -> list[Batch]:
        """The events numbered above ``after``, grouped by event time, oldest first;
        :class:`EventGap` when some of them are no longer held.  Call between commands.
        O(events returned)."""
        base = self.base
        self._held(after)
        delta = self.delta
        out: list[Batch] = []
        deltas: list[tuple] = []
        first = time = 0
        for i, entry in enumerate(self.ring[after - base:], after + 1):
            d = delta(entry)
            if deltas and d[2] != time:
                out.append(Batch(first, time, deltas))
                deltas = []
            if not deltas:
                first, time = i, d[2]
            deltas.append(d)
        if deltas:
            out.append(Batch(first, time, deltas))
        return out

    def prints_after(self, after: int) -> list[tuple]:
        """The ``PRINT`` deltas numbered above ``after``, oldest first (:class:`EventGap`
        as :meth:`batches_after`).  O(events after ``after``); nothing is rebuilt."""
        self._held(after)
        return [e for e in self.ring[after - self.base:]
                if e.__class__ is tuple and e[0] == PRINT]

    def _held(self, after: int) -> None:
        """:class:`EventGap` unless every event numbered above ``after`` is held."""
        base = self.base
        if after < base:
            raise EventGap(
                f"events {after + 1}..{base} are no longer held (the ring keeps the newest "
                f"{self.capacity} events or more; the oldest is {base + 1})"
            )

    def read(self, after: int) -> list[tuple[int, int, tuple]]:
        """Every held event numbered above ``after``, as ``(number, time, delta)``,
        oldest first (:class:`EventGap` as :meth:`batches_after`)."""
        return [(first + i, time, d) for first, time, deltas in self.batches_after(after)
                for i, d in enumerate(deltas)]

    def _check(self) -> None:
        """Event times do not decrease along the ring; every bare id is a known order;
        the fired map names each order's row."""
        prev = None
        by_id = self._s.index.by_id
        for child, row in (self._fired or {}).items():
            if by_id[row].triggered_id != child:  # type: ignore[attr-defined]
                raise InvariantError(f"order {child} was not placed by row {row}")
        for entry in self.ring:
            if entry.__class__ is int and (entry if entry > 0 else ~entry) not in by_id:
                raise InvariantError(f"an event of an unknown order: {entry}")
            time = self.delta(entry)[2]
            if prev is not None and time < prev:
                raise InvariantError(f"an event goes back in time: {time} after {prev}")
            prev = time


def _drop_two(ring: list) -> None:
    """Inverse of :meth:`EventLog.fill`: its two deltas off the ring."""
    del ring[-2:]


def _account_delta(acct: AccountState, now: int, reason: str, change_e8: int,
                   positions: tuple[tuple, ...], symbol: str, cross: int | None) -> tuple:
    """An ACCOUNT delta (see :meth:`EventLog.account`); ``cross``: the cross wallet of an
    account with isolated symbols (Binance's ``cw``), else None and left out."""
    delta = (ACCOUNT, acct.name, now, reason, acct.wallet_e8, change_e8, positions, symbol)
    return delta if cross is None else delta + (cross,)
