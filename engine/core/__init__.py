"""The venue's state owners and its vocabulary — one owner per piece of state.

Owns:

* the vocabulary: :mod:`~engine.core.decimals` (wire decimals to integers and
  back), :mod:`~engine.core.enums` (Binance's wire strings),
  :mod:`~engine.core.errors` (the one error table, :class:`ClientError`,
  :class:`InvariantError`), :mod:`~engine.core.instrument` (a contract's grid,
  filters and leverage brackets), :mod:`~engine.core.listing` (a dated table of
  twelve real perpetuals to list, with their reference prices);
* the state: :mod:`~engine.core.order` (orders and trigger rows),
  :mod:`~engine.core.book` (one symbol's price levels — no money),
  :mod:`~engine.core.market` (a symbol's book and its prices),
  :mod:`~engine.core.orderindex` (every order by id, the open sets),
  :mod:`~engine.core.triggers` (the fire index of ARMED rows),
  :mod:`~engine.core.ledger` (wallets, frozen margin, positions, fees — no
  levels) and :mod:`~engine.core.txn` (the undo log every mutation writes to).

No rule that spans two owners lives here: matching, firing, cancels and risk
are the venue's (:mod:`engine.venue`).  Each stateful class has ``_check()``.

May import: the standard library and ``sortedcontainers``.
Must not import: any other ``engine`` package — not even under
``TYPE_CHECKING``; the import contract in ``pyproject.toml`` enforces it.
"""

__all__ = [
    "book", "decimals", "enums", "errors", "instrument", "ledger", "listing", "market",
    "order", "orderindex", "triggers", "txn",
]
