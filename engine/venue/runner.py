"""The command runner: every mutating command commits whole, settles, or is undone.

:meth:`Runner.run_fmt` runs one command: the command's body mutates state while
logging inverses to the undo log (:mod:`engine.core.txn`); then, if it traded,
armed a row or moved a price (``VenueState.dirty``), the venue *settles*:

1. sweep the touched positions — reduce-only orders and rows with nothing left
   to reduce expire (``firing``);
2. evaluate triggers: every ARMED row whose price was crossed fires (``firing``);
3. check the accounts at risk for liquidation (``risk``);
4. repeat until nothing fires, nothing is touched and nothing is liquidated.

Then the response is formatted (inside the transaction: a formatter that
raises undoes the command too).  Any exception rolls the whole command back —
state, scratch and all — and propagates; a rejected command therefore leaves
``state_hash()`` unchanged.  A command that changed something bumps the
venue's update counter.  Atomicity costs one log entry per mutation; nothing
is copied.

:meth:`Runner.atomic` groups several commands into one transaction (a batch
cancel, a journaled command and its journal line): each still commits or is
refused on its own, but an exception escaping the block undoes them all,
update counter included.

Events: the rules emit the command's deltas to the event log as they go
(:mod:`engine.core.events`), each undone with the rest of the command; nothing is
done at a commit (readers read between commands, when every delta is committed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.core.txn import Savepoint, rollback
from engine.venue.rule import Rule

if TYPE_CHECKING:
    from engine.core.ledger import AccountState
    from engine.core.txn import UndoLog
    from engine.venue.firing import Firing
    from engine.venue.risk import Risk
    from engine.venue.state import VenueState

__all__ = ["Runner"]


class Runner(Rule):
    """Runs commands atomically over one :class:`~engine.venue.state.VenueState`.

    Room: the undo log, the settle scratch and the update counter; peers:
    ``firing`` (sweep, evaluation) and ``risk`` (liquidation) to settle.
    """

    PEERS = ("firing", "risk")

    # the state it touches (engine.venue.rule)
    _undo: UndoLog
    _touched: dict[tuple[str, str], AccountState]
    # the rules it calls
    _firing: Firing
    _risk: Risk

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` as one command; its result.  See the module docstring.

        :meth:`run_fmt` without a formatter, written out: every replayed print
        of a backtest is one command, and delegating (one more call, its
        arguments repacked) made an every-trade replay 11–20 % slower in 9
        alternating pairs (``benchmarks/compare_revisions.py --ops
        backtest_every_trade``).
        """
        s = self._s
        try:
            result = fn(*args)
            if s.dirty:
                self.settle()
        except BaseException:
            self.abort()
            raise
        undo = self._undo
        if undo:
            undo.clear()
            s.update_id += 1
        return result

    def run_fmt(
        self, fn: Callable[..., Any], fmt: Callable[[Any], Any] | None, *args: Any
    ) -> Any:
        """Run ``fn(*args)`` as one command — commit, settle, or roll everything back —
        then format its result with ``fmt`` (inside the transaction)."""
        s = self._s
        try:
            result = fn(*args)
            if s.dirty:
                self.settle()
            out = result if fmt is None else fmt(result)
        except BaseException:
            self.abort()
            raise
        undo = self._undo
        if undo:
            undo.clear()
            s.update_id += 1
        return out

    def abort(self) -> None:
        """Roll the command in flight back: every logged mutation undone, scratch reset."""
        self._s.clear_scratch()
        rollback(self._undo)

    def atomic(self) -> Atomic:
        """A block of commands that an escaping exception undoes as one (see above)."""
        return Atomic(self._s)

    def settle(self) -> None:
        """Sweep, evaluate triggers and liquidate until nothing more happens."""
        s = self._s
        touched = self._touched
        firing = self._firing
        while True:
            while touched:
                key = next(iter(touched))
                del touched[key]
                firing.sweep_reducers(key)
            s.dirty = False
            fired = firing.evaluate()
            if (s.risk_all or s.risk_names) and self._risk.check_liquidations():
                continue
            if not fired and not touched and not s.dirty:
                return


class Atomic(Savepoint):
    """:meth:`Runner.atomic`: a savepoint that also restores the update counter on
    failure, and commits to the enclosing level on success."""

    __slots__ = ("_state", "_update_id")

    def __init__(self, s: VenueState) -> None:
        super().__init__(s.undo)
        self._state, self._update_id = s, s.update_id

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        super().__exit__(kind, exc, tb)
        if kind is not None:
            self._state.update_id = self._update_id
        else:
            self.log.clear()  # commit: at the top level this empties the log
