"""The request-weight meter of the REST facade (``X-MBX-USED-WEIGHT-1M``).

:class:`WeightMeter` keeps, per key (an authenticated account's name, else
``ip:<host>``), the weight used and the orders placed in
the current wall-clock minute, as Binance's ``X-MBX-USED-WEIGHT-1M`` and
``X-MBX-ORDER-COUNT-1M`` report them.  With a ``limit``, a request that would
take a key past it is refused (the caller answers 429 / -1003) and is not
counted.  The meter is told the time; it never reads a clock.

>>> m = WeightMeter(limit=5)
>>> m.charge("alice", 4, False, now_ms=60_000).allowed, m.charge("alice", 2, False, 60_001).used
(True, 4)
>>> m.charge("alice", 2, False, now_ms=120_000).used   # a new minute
2
"""
from __future__ import annotations

from dataclasses import dataclass

WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of :meth:`WeightMeter.charge`: allowed?, weight used, orders placed,
    and the ms left in the current window."""

    allowed: bool
    used: int
    orders: int
    retry_after_ms: int


class WeightMeter:
    """Per-key request weight and order count over fixed one-minute windows."""

    __slots__ = ("limit", "_windows")

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise ValueError(f"weight limit must be a positive int or None, not {limit!r}")
        self.limit = limit
        #: key -> [window index, weight used, orders placed]
        self._windows: dict[str, list[int]] = {}

    def charge(self, key: str, weight: int, order: bool, now_ms: int) -> Charge:
        """Count a request of ``weight`` (and one order if ``order``) against ``key``.

        Runtime complexity: O(1).
        """
        window = now_ms // WINDOW_MS
        w = self._windows.get(key)
        if w is None or w[0] != window:
            w = self._windows[key] = [window, 0, 0]
        left = (window + 1) * WINDOW_MS - now_ms
        if self.limit is not None and w[1] + weight > self.limit:
            return Charge(False, w[1], w[2], left)
        w[1] += weight
        if order:
            w[2] += 1
        return Charge(True, w[1], w[2], left)
