"""The wire edge: Binance's parameters in, Binance's order objects out — no state.

Owns:

* :mod:`~engine.wire.params` — parsing and validating wire parameters into
  integer requests (:class:`~engine.wire.params.OrderRequest`), with Binance's
  codes and their order of precedence;
* :mod:`~engine.wire.orders` — an order or trigger row as Binance's JSON object
  (the one place orders become dicts).

May import: :mod:`engine.core`.
Must not import: the venue, persistence, the server, or anything above them.
"""

__all__ = ["orders", "params"]
