"""Which rows the history endpoints answer: Binance's windows, anchors and pages.

Binance's rules (USDⓈ-M *All Orders*, *Account Trade List*, *Get Income History*),
with ``now`` the venue clock and 7 days = 604,800,000 ms:

* **A time window.**  ``startTime`` and ``endTime`` are inclusive.  Both sent: at
  most 7 days apart, else -4165 ``Maximum time interval is 7 days`` (allOrders,
  userTrades; income states no maximum and has none here).  Only ``startTime``:
  the 7 days from it; only ``endTime``: the 7 days before it;
  neither: the last 7 days, ``[now − 7 days, now]`` — unless an anchor is sent.
  A window whose start is after its end holds nothing.
* **allOrders**: ``orderId`` anchors the list — the orders with ``orderId`` ≥ it,
  oldest first, the first ``limit`` (500; 1..1000), with no default window (a
  time window still applies when sent).  Without ``orderId``: the *most recent*
  ``limit`` orders of the window, listed oldest first.
* **userTrades**: ``fromId`` anchors the list like ``orderId`` above (the rows whose
  trade ``id`` ≥ it); ``fromId`` with ``startTime`` or ``endTime`` → -1128
  ``Combination of optional parameters invalid.`` (Binance: "cannot be sent
  with"; its code is not documented).  ``orderId``: that order's fills only.
  Otherwise the most recent ``limit`` rows of the window, oldest first.
  A *self-trade* gives the account two rows with one ``id`` (its buy and its
  sell; Binance's rows are per account and side).  ``fromId`` = N includes both
  rows of trade N, and a page never splits the two: when ``limit`` would end a
  page between them it holds the second too (``limit`` + 1 rows), and a "most
  recent" page that would start between them starts one row earlier.  So a bot
  that pages with ``fromId`` = the last ``id`` + 1 sees every row exactly once.
* **income**: the window's rows oldest first, ``limit`` (100; 1..1000) a page,
  ``page`` (1, 2, …) choosing which.

Binance also stops answering orders older than 90 days, unfilled CANCELED or
EXPIRED orders after 3 days, and trades older than 6 months; the venue keeps them
all (a backtest may span years): only the windows above hide rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from engine.core.decimals import parse_int, present
from engine.core.errors import reject

__all__ = ["DAY_MS", "WINDOW_DAYS", "anchored", "inside", "limit_of", "most_recent", "opt_int",
           "window"]

T = TypeVar("T")

DAY_MS = 86_400_000
#: Binance's longest window, and the default one, in days
WINDOW_DAYS = 7


def opt_int(params: Mapping[str, Any], name: str) -> int | None:
    v = params.get(name)
    return parse_int(v, name) if present(v) else None


def limit_of(params: Mapping[str, Any], default: int, maximum: int) -> int:
    """``limit``: ``default`` when not sent; 1..``maximum`` else -1130."""
    v = params.get("limit")
    if not present(v):
        return default
    n = parse_int(v, "limit")
    if not 1 <= n <= maximum:
        raise reject("INVALID_PARAMETER", "limit")
    return n


def window(params: Mapping[str, Any], now: int, *, anchored: bool = False,
           capped: bool = True) -> tuple[int | None, int | None]:
    """The inclusive ``(start, end)`` a request selects (None: unbounded on that side).

    ``anchored``: an id anchor was sent, so no default window applies; ``capped``:
    refuse windows longer than 7 days (-4165)."""
    start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
    span = WINDOW_DAYS * DAY_MS
    if start is not None and end is not None:
        if capped and end - start > span:
            raise reject("INVALID_TIME_INTERVAL", WINDOW_DAYS)
        return start, end
    if start is not None:
        return start, start + span if capped else None
    if end is not None:
        return end - span, end
    return (None, None) if anchored else (now - span, now)


def anchored(rows: Iterable[T], key: Any, limit: int, twins: bool = False) -> list[T]:
    """The first ``limit`` of ``rows`` (already filtered and ascending); with ``twins``,
    one more when the next row shares the last one's ``key`` (a self-trade's pair)."""
    out: list[T] = []
    for row in rows:
        if len(out) >= limit and not (twins and key(row) == key(out[-1])):
            break
        out.append(row)
    return out


def most_recent(rows: list[T], key: Any, limit: int, twins: bool = False) -> list[T]:
    """The last ``limit`` of ``rows`` (ascending), oldest first; with ``twins``, one more
    when the page would start between two rows of one ``key``."""
    first = max(0, len(rows) - limit)
    if twins and 0 < first < len(rows) and key(rows[first - 1]) == key(rows[first]):
        first -= 1
    return rows[first:]


def inside(t: int, start: int | None, end: int | None) -> bool:
    """True when ``t`` lies in the inclusive window."""
    return (start is None or t >= start) and (end is None or t <= end)
