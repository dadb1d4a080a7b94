"""What a rule object is: a room in the venue's state, and the peers it calls.

Each rule of the venue (``entry``, ``matching``, ``firing``, ``cancel``,
``settings``, ``risk``, ``tape``, ``algo``, ``views``, ``amend``, and the ``runner``) is
a :class:`Rule`.  Its class body declares, as annotated private attributes,

* its *room*: ``_ledger: Ledger`` means it touches the venue state's
  ``ledger`` — :meth:`Rule.__init__` takes each such name from the
  :class:`~engine.venue.state.VenueState` (owners whose identity never
  changes: dicts, lists, the ledger, the index, the registry, the undo log;
  a scalar such as ``now`` is refused, since a copy would go stale);
* its *peers*, listed in ``PEERS``: the other rule objects it calls, handed to
  :meth:`Rule.bind` by :class:`~engine.venue.exchange.Exchange` once all exist.

The scalars every rule shares — the clock, the id sequence, the update
counter, the settle flags, the journal — are read through ``self._s``.  So
a rule's class body is the whole of what it can reach; nothing else of the
venue is in scope.

>>> from engine.venue.state import VenueState
>>> class Echo(Rule):
...     PEERS = ("runner",)
...     _symbols: list
...     _runner: object
>>> e = Echo(VenueState(0)); e.bind(runner="the runner")
>>> e._symbols, e._runner
([], 'the runner')
"""

from __future__ import annotations

from typing import Any, ClassVar

from engine.core.errors import InvariantError
from engine.venue.state import VenueState

__all__ = ["Rule"]


class Rule:
    """A rule object over one venue state: its room is taken at construction, its
    peers at :meth:`bind` (see the module docstring)."""

    #: the annotated attributes (without the underscore) that are peers, not room
    PEERS: ClassVar[tuple[str, ...]] = ()
    #: the state fields the class declares it touches (computed once per class)
    ROOM: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = []
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).get("__annotations__", {}):
                name = attr[1:]
                if attr.startswith("_") and name != "s" and name not in cls.PEERS:
                    names.append(name)
        scalars = sorted(set(names) & VenueState.SCALARS)
        if scalars:
            raise TypeError(f"{cls.__name__}: read {scalars} through self._s, not as room")
        cls.ROOM = tuple(names)

    def __init__(self, s: VenueState) -> None:
        self._s = s
        for name in self.ROOM:
            setattr(self, "_" + name, getattr(s, name))

    def bind(self, **peers: Any) -> None:
        """Hand over the peer rule objects, exactly those named in ``PEERS``."""
        if sorted(peers) != sorted(self.PEERS):
            raise TypeError(f"{type(self).__name__} takes peers {self.PEERS}, not {tuple(peers)}")
        for name, peer in peers.items():
            setattr(self, "_" + name, peer)

    def _check(self) -> None:
        """The room is still the state's own objects, and every peer is bound."""
        s, kind = self._s, type(self).__name__
        for name in self.ROOM:
            if getattr(self, "_" + name) is not getattr(s, name):
                raise InvariantError(f"{kind}: its {name} is no longer the venue's")
        for name in self.PEERS:
            if not hasattr(self, "_" + name):
                raise InvariantError(f"{kind}: peer {name} unbound")
