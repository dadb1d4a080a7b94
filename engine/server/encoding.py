"""JSON bodies of the REST facade, written exactly.

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
"""


from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

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
