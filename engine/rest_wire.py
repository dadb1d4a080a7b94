"""Bytes on the wire for the REST facade: JSON bodies and the request-weight meter.

JSON
----
:func:`dumps` writes compact JSON.  Engine answers are plain dicts and lists of
``str``/``int``/``bool``; the one exception is ``leverageBracket``, whose
ratios Binance sends as JSON *numbers* and the engine hands over as exact
``Decimal``.  Those are written digit for digit from ``str(Decimal)`` — never
through ``float`` — by a small exact writer; every other body takes the C
encoder's fast path.

>>> from decimal import Decimal
>>> dumps({"maintMarginRatio": Decimal("0.0065"), "cum": 0, "ok": True})
b'{"maintMarginRatio":0.0065,"cum":0,"ok":true}'
>>> dumps([{"code": -2011, "msg": "Unknown order sent."}])
b'[{"code":-2011,"msg":"Unknown order sent."}]'

Weight
------
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

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WINDOW_MS = 60_000

_fast = json.JSONEncoder(separators=(",", ":"), default=lambda o: _raise_exact(o)).encode
_string = json.JSONEncoder(separators=(",", ":")).encode


class _NeedsExact(Exception):
    """Raised by the fast encoder when a body holds a Decimal."""


def _raise_exact(o: object) -> Any:
    if isinstance(o, Decimal):
        raise _NeedsExact
    raise TypeError(f"{type(o).__name__} is not JSON serialisable: {o!r}")


def dumps(obj: Any) -> bytes:
    """Compact JSON of ``obj`` as ASCII bytes; ``Decimal`` becomes an exact JSON number."""
    try:
        return _fast(obj).encode()
    except _NeedsExact:
        out: list[str] = []
        _write(obj, out)
        return "".join(out).encode()


def _write(o: Any, out: list[str]) -> None:
    if isinstance(o, Decimal):
        if not o.is_finite():
            raise ValueError(f"{o!r} has no JSON form")
        out.append(str(o))
    elif isinstance(o, dict):
        out.append("{")
        for i, (k, v) in enumerate(o.items()):
            if i:
                out.append(",")
            out.append(_string(str(k)))
            out.append(":")
            _write(v, out)
        out.append("}")
    elif isinstance(o, (list, tuple)):
        out.append("[")
        for i, v in enumerate(o):
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    else:
        out.append(_fast(o))


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
