"""The transaction log that makes every command atomic.

Every mutation of venue state first appends its inverse to the venue's
:class:`UndoLog` as a tuple ``(function, *args)``, then mutates.  A command
that raises — a business rejection judged mid-command, or any exception — is
rolled back by calling the inverses newest-first (:func:`rollback`), which
restores the exact prior state.  A command that succeeds clears the log.

Cost is proportional to what a command changes (one tuple per mutation), never
to the size of the venue: nothing is copied.

Grouping: :class:`Savepoint` turns several commands into one transaction (a
batch cancel; a journaled command and its journal write).  Inside the block
each command still commits or rolls back on its own, but a commit only moves
the savepoint's mark, keeping the inverses; an exception escaping the block
rolls back everything logged since the block began.  Like fault injection it
swaps the log's class for the block, so the hot paths outside it pay nothing.

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
    """A list of ``(function, *args)`` inverses, newest last.

    ``_mark`` is used only inside a :class:`Savepoint`: the length at its last commit.
    """

    __slots__ = ("_mark",)
    _mark: int


def _relative_len(self: Any) -> int:
    return list.__len__(self) - self._mark


def _commit_to_savepoint(self: Any) -> None:
    self._mark = list.__len__(self)


def _savepoint_class(outer: type) -> type:
    """``outer`` with ``len`` and ``clear`` relative to the savepoint's mark."""
    return type("SavepointLog", (outer,), {
        "__slots__": (), "__len__": _relative_len, "clear": _commit_to_savepoint,
    })


#: the savepoint class of a plain log, built once (a batch cancel opens one per batch)
_SAVEPOINT_LOG = _savepoint_class(UndoLog)


class InjectedFault(Exception):
    """Raised by :func:`inject_fault` at the chosen mutation point."""


def rollback(log: UndoLog) -> None:
    """Undo every logged mutation, newest first, and empty the log.  O(len(log))."""
    pop = log.pop
    while log:
        entry = pop()
        entry[0](*entry[1:])


class Savepoint:
    """Within the block, commits keep their inverses; an escaping exception undoes them all.

    ``len(log)`` and ``clear()`` become relative to the last commit inside the
    block, so a command that rolls itself back stops there, and one that
    commits marks its entries as committed *to the block*.  On a normal exit
    the entries stay logged for the caller, who commits them with
    ``log.clear()`` (at the top level that empties the log; inside an outer
    savepoint it moves that one's mark).  Savepoints nest.  A class rather
    than a generator: a batch cancel opens one per batch (benchmarked).

    >>> log = UndoLog(); box = {"x": 1}
    >>> try:
    ...     with Savepoint(log):
    ...         log.append((box.__setitem__, "x", 1)); box["x"] = 2
    ...         log.clear()  # the first command commits...
    ...         raise KeyError("...but the block fails")
    ... except KeyError:
    ...     pass
    >>> box["x"], len(log)
    (1, 0)
    """

    __slots__ = ("log", "_outer", "_start", "_outer_mark")

    def __init__(self, log: UndoLog) -> None:
        self.log = log

    def __enter__(self) -> None:
        log = self.log
        self._outer = outer = log.__class__
        self._start = start = list.__len__(log)
        self._outer_mark = getattr(log, "_mark", None)  # an enclosing savepoint's
        log._mark = start
        log.__class__ = _SAVEPOINT_LOG if outer is UndoLog else _savepoint_class(outer)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        log = self.log
        log.__class__ = self._outer
        if kind is not None:
            pop, start = log.pop, self._start
            while list.__len__(log) > start:
                entry = pop()
                entry[0](*entry[1:])
        if self._outer_mark is not None:
            log._mark = self._outer_mark


@contextmanager
def inject_fault(
    log: UndoLog, at: int, error: type[BaseException] = InjectedFault
) -> Iterator[list[int]]:
    """Within the block, the ``at``-th append to ``log`` raises ``error``
    (:class:`InjectedFault`, or e.g. ``KeyboardInterrupt``).

    ``at=0`` only counts.  Yields a one-element list holding the count so far.
    Composes with another class swapped in before it (it subclasses the log's class).
    """
    count = [0]

    def append(self: Any, entry: Any) -> None:
        count[0] += 1
        if count[0] == at:
            raise error(f"injected fault at mutation point {at}")
        original.append(self, entry)

    original: Any = log.__class__
    faulty = type("FaultyUndoLog", (original,), {"__slots__": (), "append": append})
    log.__class__ = faulty
    try:
        yield count
    finally:
        log.__class__ = original
