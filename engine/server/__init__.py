"""The REST facade: Binance's ``/fapi`` over HTTP, HMAC-signed (SPEC 2.3).

Owns:

* :mod:`~engine.server.app` — the Starlette app over one venue
  (:func:`create_app`), the venue lock, :func:`serve` and :func:`running`;
* :mod:`~engine.server.routes` — Binance path and verb → the venue call and
  its weight;
* :mod:`~engine.server.auth` — parsing requests, signatures, timestamps;
* :mod:`~engine.server.weights` — Binance's rate limits: weight per IP, orders per
  account, IP bans (:class:`RateLimits`);
* :mod:`~engine.server.transport` — read timeouts, keep-alive, the connection cap;
* :mod:`~engine.server.keys` — loopback hosts and random API keys;
* :mod:`~engine.server.feed` — the synthetic market a served venue runs by default;
* :mod:`~engine.server.clock` — wall time onto venue time at a speed (lockstep at 0);
* :mod:`~engine.server.state` — ``--state DIR``: journal, snapshots, lock, resume;
* :mod:`~engine.server.admin` — the operator's door ``/fapisim/v1/...``;
* :mod:`~engine.server.market` — its market-data endpoints (klines, trades, tickers);
* :mod:`~engine.server.encoding` — JSON bodies, written exactly.

Needs the ``server`` extra (Starlette, uvicorn): importing this package
imports them.  This package is the edge: the only place that reads wall time.

May import: :mod:`engine.venue`, :mod:`engine.persist`, the backtester's data
code (:mod:`engine.backtest.data`, ``stream``, ``synthetic``) and
:mod:`engine.core`.
Must not import: the wire edge (the venue's own), the rest of the backtester,
the fuzz toolkit, the scenarios, or the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.server.app import create_app, running, serve
from engine.server.clock import wall_ms
from engine.server.feed import SyntheticFeed
from engine.server.transport import Limits
from engine.server.weights import RateLimits

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

__all__ = ["Limits", "RateLimits", "SyntheticFeed", "create_app", "market_feed", "running",
           "serve"]


def market_feed(exchange: Exchange, *, seed: int, history_minutes: int,
                trades_per_day: int, fill: str = "through",
                queue: bool = False) -> SyntheticFeed:
    """The synthetic market of ``fapisim serve``, starting now (wall time)."""
    return SyntheticFeed(exchange, seed=seed, now_ms=max(wall_ms(), exchange.now),
                         history_minutes=history_minutes, trades_per_day=trades_per_day,
                         fill=fill, queue=queue)
