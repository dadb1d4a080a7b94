"""The venue's event log: what each committed command did, in order, as compact deltas.

One source of truth (SPEC 9): the user-data stream, the market streams' own
trades, the backtest's ``on_order_update`` and the web view all read this log;
nothing keeps a second account of what happened.

Writing
-------
While a command runs, the rules append *deltas* — small immutable tuples, the
first item a kind below — to :attr:`EventLog.pending`, each with an undo record
that takes it back off (:meth:`EventLog.emit`).  So a command that is refused
or rolled back, alone or inside a savepoint, leaves no event: the undo log
removes its deltas with the rest of its mutations.  When the command commits
at the top level, the runner *publishes* the pending deltas as one
:class:`Batch`: the sequence number of its first event (events are numbered
1, 2, 3, … across the venue's life, without gaps) and one event time, the venue
clock at the commit.  A command that changed nothing visible publishes nothing.

A delta holds the order, row or account object it is about (for the fields
that never change after creation: symbol, side, type, price, client id, …)
and a copy of every field that may change later (status, executed quantity,
cumulative quote, update time, a row's quantity and triggered id, a wallet, a
position).  Nothing is formatted here: :mod:`engine.wire.events` turns deltas
into Binance's JSON per reader, lazily — building event dicts for every command
would cost what the response dicts cost.

Deltas (all money in 10⁻⁸ USDT, prices in ticks, quantities in lots)::

    (ORDER, order, x, status, executed, cum_quote_e8, update_time)
    (TRADE, order, status, executed, cum_quote_e8, update_time,
            lots, price, fee_e8, realized_e8, maker, trade_id)
    (ROW, row, status, qty, update_time, triggered_id)
    (ACCOUNT, account, reason, wallet_e8, change_e8,
              ((instrument, pside, qty, cost_e8, mark), ...), symbol)
    (CONFIG, account, symbol, leverage)
    (PRINT, instrument, price, lots, buyer_maker, trade_id, time)
    (LIQUIDATION, account, instrument, pside, qty, price, realized_e8, trade_id, time)

``x`` is Binance's execution type (NEW, CANCELED, EXPIRED, CALCULATED; a fill
is a TRADE delta).  The venue's own accounts (names starting with ``@``: the
tape, the insurance fund, the synthetic market's maker) emit no order, row or
account deltas; their trades with users still emit PRINT.

Reading and retention
---------------------
Batches are kept in a bounded ring: at most :attr:`EventLog.capacity` events
(default :data:`DEFAULT_CAPACITY`), whole batches evicted oldest first, the
newest batch always kept.  A reader keeps the sequence number of the last
event it saw and asks for what follows with :meth:`EventLog.read`; the *resume
horizon* is :meth:`EventLog.horizon`, the oldest sequence number still held:
a reader that fell further behind gets :class:`EventGap` and must rebuild its
view from the venue's answers (as a Binance client does after a reconnect).
The sequence counter is part of the venue's state (``VenueState.event_seq``),
so a snapshot carries it and a restored or replayed venue numbers on from where
it was; the ring itself starts empty after a restore.

Watchers (callables with no argument) are called after each publish — the
server wakes its stream fan-out with one.  They must not run commands.

>>> from engine.core.txn import UndoLog, rollback
>>> undo = UndoLog(); log = EventLog(undo)
>>> log.emit((CONFIG, "alice", "BTCUSDT", 10)); rollback(undo); log.pending
[]
>>> log.emit((CONFIG, "alice", "BTCUSDT", 10)); undo.clear()
>>> log.publish(0, 1000)
1
>>> [(seq, t, d[2:]) for seq, t, d in log.read(0)]
[(1, 1000, ('BTCUSDT', 10))]
>>> log.read(1), log.horizon()
([], 1)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from engine.core.errors import InvariantError

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.core.order import Order, TriggerRow
    from engine.core.txn import UndoLog

__all__ = [
    "ACCOUNT", "CONFIG", "DEFAULT_CAPACITY", "LIQUIDATION", "ORDER", "PRINT", "ROW", "TRADE",
    "Batch", "EventGap", "EventLog",
]

#: delta kinds (the first item of every delta)
ORDER, TRADE, ROW, ACCOUNT, CONFIG, PRINT, LIQUIDATION = range(7)

#: events the ring holds at most (whole batches; the newest is always kept)
DEFAULT_CAPACITY = 1 << 16


class EventGap(LookupError):
    """A reader asked for events older than the ring still holds (see the horizon)."""


class Batch(NamedTuple):
    """One committed command's events: ``first`` is the sequence number of ``deltas[0]``."""

    first: int
    time: int
    deltas: tuple[tuple, ...]


class EventLog:
    """The pending deltas of the command in flight and the ring of published batches."""

    __slots__ = ("pending", "_undo", "_drop", "batches", "size", "capacity", "watchers")

    def __init__(self, undo: UndoLog, capacity: int = DEFAULT_CAPACITY) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, not {capacity!r}")
        #: deltas of the command in flight, in the order they happened
        self.pending: list[tuple] = []
        self._undo = undo
        #: the undo record of one emit: pops the newest pending delta
        self._drop = (list.pop, self.pending)
        self.batches: deque[Batch] = deque()
        #: events held in ``batches``
        self.size = 0
        self.capacity = capacity
        self.watchers: list[Callable[[], None]] = []

    def emit(self, delta: tuple) -> None:
        """Append ``delta`` to the command in flight (undone with it).  O(1)."""
        self._undo.append(self._drop)
        self.pending.append(delta)

    # -- what the rules emit (the venue's own ``@`` accounts emit nothing but prints) ----
    def order(self, o: Order, x: str) -> None:
        """An ordinary order's update of execution type ``x`` (not a fill: :meth:`trade`)."""
        if o.owner.name[0] != "@":
            self._undo.append(self._drop)
            self.pending.append((ORDER, o, x, o.status, o.executed, o.cum_quote_e8,
                                 o.update_time))

    def row(self, r: TriggerRow) -> None:
        """A trigger row was created or changed (status, quantity, triggered order)."""
        if r.owner.name[0] != "@":
            self._undo.append(self._drop)
            self.pending.append((ROW, r, r.status, r.qty, r.update_time, r.triggered_id))

    def trade(
        self, o: Order, lots: int, price: int, fee_e8: int, realized_e8: int, maker: bool,
        trade_id: int,
    ) -> None:
        """One side of a fill, after the order took it."""
        if o.owner.name[0] != "@":
            self._undo.append(self._drop)
            self.pending.append((
                TRADE, o, o.status, o.executed, o.cum_quote_e8, o.update_time, lots, price,
                fee_e8, realized_e8, maker, trade_id,
            ))

    def account(
        self, acct: AccountState, reason: str, change_e8: int, positions: tuple[tuple, ...],
        symbol: str = "",
    ) -> None:
        """A wallet or position change for ``reason`` (Binance's ACCOUNT_UPDATE ``m``):
        ``change_e8`` is the wallet's change other than PnL and fees, ``positions`` the
        changed ``(instrument, pside, qty, cost_e8, mark ticks or None)`` after it, ``symbol``
        the one a funding fee was paid on."""
        if acct.name[0] != "@":
            self._undo.append(self._drop)
            self.pending.append((ACCOUNT, acct, reason, acct.wallet_e8, change_e8, positions,
                                 symbol))

    def publish(self, last_seq: int, now: int) -> int:
        """Publish the pending deltas as one batch numbered after ``last_seq`` at time
        ``now``; returns the new last sequence number.  The caller (the command runner)
        stores it and calls this only at a top-level commit.  O(deltas + evicted)."""
        pending = self.pending
        batch = Batch(last_seq + 1, now, tuple(pending))
        pending.clear()
        batches = self.batches
        batches.append(batch)
        self.size += len(batch.deltas)
        while self.size > self.capacity and len(batches) > 1:
            self.size -= len(batches.popleft().deltas)
        for watcher in self.watchers:
            watcher()
        return last_seq + len(batch.deltas)

    def horizon(self) -> int | None:
        """The oldest sequence number the ring holds (None while it is empty)."""
        return self.batches[0].first if self.batches else None

    def last(self) -> int | None:
        """The newest sequence number the ring holds (None while it is empty)."""
        if not self.batches:
            return None
        b = self.batches[-1]
        return b.first + len(b.deltas) - 1

    def read(self, after: int) -> list[tuple[int, int, tuple]]:
        """Every held event numbered above ``after``, as ``(seq, time, delta)``, oldest
        first.  :class:`EventGap` when some of them are no longer held.  O(events
        returned + batches newer than ``after``)."""
        out: list[tuple[int, int, tuple]] = []
        for batch in self.batches_after(after):
            first, time, deltas = batch
            start = after + 1 - first if first <= after else 0
            for i in range(start, len(deltas)):
                out.append((first + i, time, deltas[i]))
        return out

    def batches_after(self, after: int) -> list[Batch]:
        """The held batches with an event numbered above ``after``, oldest first
        (the first may also hold older events); :class:`EventGap` as :meth:`read`."""
        batches = self.batches
        newer: list[Batch] = []
        for batch in reversed(batches):
            if batch.first + len(batch.deltas) - 1 <= after:
                break
            newer.append(batch)
        else:
            if newer and newer[-1].first > after + 1:
                raise EventGap(
                    f"events {after + 1}..{newer[-1].first - 1} are no longer held "
                    f"(the ring keeps {self.capacity} events; the oldest is {newer[-1].first})"
                )
        newer.reverse()
        return newer

    def __iter__(self) -> Iterator[tuple[int, int, tuple]]:
        """Every held event, oldest first."""
        for first, time, deltas in self.batches:
            for i, d in enumerate(deltas):
                yield first + i, time, d

    def _check(self, last_seq: int | None = None) -> None:
        """Between commands: nothing pending; batches numbered without gaps, none empty,
        times not decreasing; ``size`` counts them; the newest ends at ``last_seq``."""
        if self.pending:
            raise InvariantError(f"events pending between commands: {len(self.pending)}")
        prev_end: int | None = None
        prev_time: int | None = None
        size = 0
        for first, time, deltas in self.batches:
            if not deltas:
                raise InvariantError(f"an empty batch at {first}")
            if prev_end is not None and first != prev_end + 1:
                raise InvariantError(
                    f"a gap in the event numbers: batch at {first} follows event {prev_end}"
                )
            if prev_time is not None and time < prev_time:
                raise InvariantError(f"an event batch goes back in time: at {first}")
            prev_end, prev_time = first + len(deltas) - 1, time
            size += len(deltas)
        if size != self.size:
            raise InvariantError(f"the ring holds {size} events, counted {self.size}")
        if last_seq is not None and prev_end is not None and prev_end != last_seq:
            raise InvariantError(f"the newest event is {prev_end}, the venue's {last_seq}")

