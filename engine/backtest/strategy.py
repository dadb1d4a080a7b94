"""The strategy API: a base class with callbacks, and the events it receives.

A strategy subclasses :class:`Strategy` and overrides the callbacks it needs.
It trades through ``self.client``: the venue's in-process client for the
strategy's account (:class:`engine.venue.client.Client`), whose methods, parameters
and return shapes are binance-futures-connector's ``UMFutures`` — so the code
that calls it is the code that would call Binance.  Failures raise
:class:`engine.ClientError` exactly as the connector does; an exception that
escapes a callback stops the backtest.

Callbacks, in the order the replay makes them
---------------------------------------------
* :meth:`Strategy.on_start` — once, before the first event (the clock is at the
  first event's time; no price is known yet: a LIMIT order can rest, a MARKET
  order finds no liquidity).
* :meth:`Strategy.on_bar` — for each closed bar of each symbol, when the replay
  reaches the first event at or after the bar's close, before applying it.
  Bars are built from the replayed trades, ``bar_interval_ms`` long, aligned to
  the epoch as Binance's klines are; a span without trades has no bar.
* :meth:`Strategy.on_trade` — after every replayed trade has been applied.
* :meth:`Strategy.on_order_update` — after any event or callback that changed
  one of the account's orders (a fill, a fired trigger and its child order, an
  expiry, a cancel, a liquidation, the strategy's own new orders): one call per
  changed order, in ``orderId`` order, with the order object as
  ``query_order`` returns it.  Updates caused by an update callback are
  delivered after it returns, never re-entrantly.
* :meth:`Strategy.on_end` — once, after the last event.

Overriding :meth:`~Strategy.on_trade` is what makes every trade reach Python;
a strategy that only needs bars and order updates lets the replay skip ahead
over stretches where nothing it holds can fill or fire (the fast path).

Prices in events are integers (ticks, lots) with wire strings a property away:
``trade.price`` is the string Binance would send, ``trade.price_ticks`` the
integer (see :mod:`engine.core.instrument`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.venue.client import Client


class Trade:
    """One replayed trade (an aggTrade): ``symbol``, ``time`` (ms), ``price_ticks``,
    ``qty_lots``, ``buyer_maker`` (True: the seller was the aggressor).

    >>> from engine.core.instrument import default_instruments
    >>> t = Trade(default_instruments()[0], 1704067200000, 300001, 15, True)
    >>> t.symbol, t.price, t.qty, t.buyer_maker
    ('BTCUSDT', '30000.1', '0.015', True)
    """

    __slots__ = ("inst", "time", "price_ticks", "qty_lots", "buyer_maker")

    def __init__(self, inst: Instrument, time: int, price_ticks: int, qty_lots: int,
                 buyer_maker: bool) -> None:
        self.inst = inst
        self.time = time
        self.price_ticks = price_ticks
        self.qty_lots = qty_lots
        self.buyer_maker = buyer_maker

    @property
    def symbol(self) -> str:
        return self.inst.symbol

    @property
    def price(self) -> str:
        """The price as Binance writes it (a minimal decimal string)."""
        return self.inst.price_str(self.price_ticks)

    @property
    def qty(self) -> str:
        """The quantity as Binance writes it."""
        return self.inst.qty_str(self.qty_lots)

    def __repr__(self) -> str:
        return (f"Trade({self.symbol!r}, time={self.time}, price={self.price!r}, "
                f"qty={self.qty!r}, buyer_maker={self.buyer_maker})")


class Bar:
    """One closed bar of replayed trades: ``symbol``, ``open_time``, ``close_time``
    (ms, inclusive, as in Binance's klines), ``open``/``high``/``low``/``close``
    in ticks, ``volume`` in lots, ``trades`` (count).  Wire strings via
    :meth:`price` and :meth:`qty`.

    >>> from engine.core.instrument import default_instruments
    >>> b = Bar(default_instruments()[0], 0, 59999, 300000, 300020, 299990, 300010, 42, 3)
    >>> b.price(b.close), b.qty(b.volume), b.close_time
    ('30001', '0.042', 59999)
    """

    __slots__ = ("inst", "open_time", "close_time", "open", "high", "low", "close", "volume",
                 "trades")

    def __init__(self, inst: Instrument, open_time: int, close_time: int, open: int, high: int,
                 low: int, close: int, volume: int, trades: int) -> None:
        self.inst = inst
        self.open_time, self.close_time = open_time, close_time
        self.open, self.high, self.low, self.close = open, high, low, close
        self.volume, self.trades = volume, trades

    @property
    def symbol(self) -> str:
        return self.inst.symbol

    def price(self, ticks: int) -> str:
        """A price of this bar's symbol as a wire string."""
        return self.inst.price_str(ticks)

    def qty(self, lots: int) -> str:
        """A quantity of this bar's symbol as a wire string."""
        return self.inst.qty_str(lots)

    def __repr__(self) -> str:
        return (f"Bar({self.symbol!r}, open_time={self.open_time}, open={self.open}, "
                f"high={self.high}, low={self.low}, close={self.close}, volume={self.volume})")


class Strategy:
    """Base class of a backtested strategy.  Override the callbacks you need.

    ``params`` given to the constructor (the CLI's ``--param key=value``, all
    strings there) are kept in ``self.params``.  Set by the runner before
    :meth:`on_start`: ``self.client`` (the account's UMFutures-shaped client),
    ``self.symbols`` (the replayed symbols, sorted) and ``self.instruments``
    (symbol -> :class:`~engine.core.instrument.Instrument`, for tick/lot arithmetic).

    Class attribute ``bar_interval_ms`` (default one minute) sets the bar length.
    """

    bar_interval_ms: int = 60_000

    client: Client
    symbols: tuple[str, ...]
    instruments: dict[str, Instrument]

    def __init__(self, **params: Any) -> None:
        self.params = params

    def on_start(self) -> None:
        """Called once before the first event."""

    def on_trade(self, trade: Trade) -> None:
        """Called after each replayed trade (override only if you need every trade)."""

    def on_bar(self, bar: Bar) -> None:
        """Called for each closed bar (override only if you trade on bars)."""

    def on_order_update(self, order: dict) -> None:
        """Called with the order object of each of the account's orders that changed."""

    def on_end(self) -> None:
        """Called once after the last event."""


def overrides(strategy: Strategy, name: str) -> bool:
    """True when ``strategy``'s class overrides the base callback ``name``.

    >>> class S(Strategy):
    ...     def on_bar(self, bar): pass
    >>> overrides(S(), "on_bar"), overrides(S(), "on_trade")
    (True, False)
    """
    return getattr(type(strategy), name) is not getattr(Strategy, name)
