"""Durability: the JSON-lines journal and its replay, and snapshots (SPEC 8).

Owns:

* :mod:`~engine.persist.journal` — every state-changing command as one line,
  replay by command name (:data:`~engine.persist.journal.COMMANDS`), resume;
* :mod:`~engine.persist.snapshot` — the whole venue as bytes and back.

Users reach both through :class:`~engine.venue.exchange.Exchange`
(``Exchange(journal=path)``, ``snapshot()``, ``Exchange.restore``,
``Exchange.replay``), which delegates here by a function-level import.

May import: :mod:`engine.venue` and :mod:`engine.core`.
Must not import: the wire edge (the venue's own), the server, the backtester,
the fuzz toolkit, the scenarios, or the command line.
"""

__all__ = ["journal", "snapshot"]
