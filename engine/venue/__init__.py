"""The venue: :class:`Exchange` and its rules, and the in-process client.

Owns:

* :mod:`~engine.venue.exchange` — :class:`Exchange`, the operator's object:
  accounts, instruments, the clock, marks, the tape, invariants, the state
  hash, the journal and snapshots, and ``client()``;
* :mod:`~engine.venue.state` — :class:`~engine.venue.state.VenueState`, every
  piece of the venue's state in one place; :mod:`~engine.venue.rule` — what a
  rule object is (the owners it touches, the peers it calls);
  :mod:`~engine.venue.runner` — the atomic command runner and the settle loop;
* the rules, each a collaborator in its own module: order entry (``entry``),
  matching and fills (``matching``), trigger arming, expiry and firing
  (``firing``), cancels, the countdown and the clock (``cancel``), account
  settings (``settings``), funding and liquidation (``risk``), the algo-order
  views (``algo``), execution against replayed data (``tape``, and
  ``tapeloop`` for a replay loop), read-only views (``views``);
* :mod:`~engine.venue.client` — :class:`Client`, the ``UMFutures``-shaped
  surface bound to one account, which research code and the scenarios use;
  :mod:`~engine.venue.commands` — the same commands by name on behalf of an
  account, which the REST routes call and the journal replays.

The rule objects and the state are this package's own (the command
implementations are private to the venue): other layers use :class:`Exchange`,
:class:`Client` and :mod:`~engine.venue.commands`, with one exception —
:mod:`engine.persist`, which builds venues: a snapshot *is* the
:class:`~engine.venue.state.VenueState`, and a journal attaches to it and runs
each command inside the runner's savepoint.

May import: :mod:`engine.core` and :mod:`engine.wire`.  One sanctioned
exception, by a function-level import: :mod:`engine.venue.exchange` delegates
``Exchange(journal=...)``, ``snapshot``, ``restore`` and ``replay`` to
:mod:`engine.persist` (it builds venues, so it sits above this package).
Must not import: the server, the backtester, the fuzz toolkit, the scenarios,
or the command line.
"""

from engine.venue.client import Client
from engine.venue.exchange import Account, Exchange

__all__ = ["Account", "Client", "Exchange"]
