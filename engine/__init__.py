"""fapisim — an in-memory, deterministic simulator of a Binance-style USDⓈ-M futures venue.

Public names: :class:`Exchange` (the venue), :class:`ClientError` (a refused
request, shaped like binance-futures-connector's), :class:`InvariantError`
(a broken invariant), :class:`Instrument` (a contract's grid and filters) and
:class:`Account` (an account's identity).
"""

from engine.core.errors import ClientError, InvariantError
from engine.core.instrument import Instrument
from engine.venue.exchange import Account, Exchange

__all__ = ["Account", "ClientError", "Exchange", "Instrument", "InvariantError"]
__version__ = "0.1.0"
