"""The venue: :class:`Exchange` and its rules, and the in-process client.

Owns:

* :mod:`~engine.venue.exchange` — :class:`Exchange`, the operator's object:
  accounts, instruments, the clock, marks, the tape, invariants, the state
  hash, the journal and snapshots, and ``client()``;
* the rules, each in its own module: order entry (``entry``), matching and
  fills (``matching``), trigger arming, expiry and firing (``firing``), cancels
  (``cancel``), account settings (``settings``), funding and liquidation
  (``risk``), the algo-order views (``algo``), execution against replayed data
  (``tape``, and ``tapeloop`` for a replay loop), read-only views (``views``);
* :mod:`~engine.venue.client` — :class:`Client`, the ``UMFutures``-shaped
  surface bound to one account, which research code and the scenarios use.

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
