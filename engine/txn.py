"""The transaction log that makes every command atomic.

Every mutation of venue state first appends its inverse to the venue's
:class:`UndoLog` as a tuple ``(function, *args)``, then mutates.  A command
that raises — a business rejection judged mid-command, or any exception — is
rolled back by calling the inverses newest-first (:func:`rollback`), which
restores the exact prior state.  A command that succeeds clears the log.

Cost is proportional to what a command changes (one tuple per mutation), never
to the size of the venue: nothing is copied.

Fault injection for tests: :func:`inject_fault` swaps the log's class for one
whose ``append`` raises :class:`InjectedFault` at the n-th mutation point, i.e.
before the n-th mutation happens.  Code must therefore always call
``log.append`` on the live object (never keep a bound ``append``).

>>> log = UndoLog()
>>> box = {"x": 1}
>>> log.append((box.__setitem__, "x", box["x"])); box["x"] = 2
>>> rollback(log); box["x"], len(log)
(1, 0)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class UndoLog(list):  # type: ignore[type-arg]
    """A list of ``(function, *args)`` inverses, newest last."""

    __slots__ = ()


class InjectedFault(Exception):
    """Raised by :func:`inject_fault` at the chosen mutation point."""


def rollback(log: UndoLog) -> None:
    """Undo every logged mutation, newest first, and empty the log.  O(len(log))."""
    pop = log.pop
    while log:
        entry = pop()
        entry[0](*entry[1:])


@contextmanager
def inject_fault(log: UndoLog, at: int) -> Iterator[list[int]]:
    """Within the block, the ``at``-th append to ``log`` raises :class:`InjectedFault`.

    ``at=0`` only counts.  Yields a one-element list holding the count so far.
    """
    count = [0]

    def append(self: Any, entry: Any) -> None:
        count[0] += 1
        if count[0] == at:
            raise InjectedFault(f"injected fault at mutation point {at}")
        list.append(self, entry)

    faulty = type("FaultyUndoLog", (UndoLog,), {"__slots__": (), "append": append})
    original = log.__class__
    log.__class__ = faulty
    try:
        yield count
    finally:
        log.__class__ = original
