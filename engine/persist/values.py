"""Values in a journal line: parameters as sent, responses as digests, instruments.

Parameters, as sent
-------------------
``str``, ``int``, ``bool`` and ``None`` stay; lists stay lists; a finite
``float`` is written as a JSON number, which is its ``repr`` and reads back as
the same float (the engine itself only ever reads a float through ``repr``).
Values JSON cannot tell apart are tagged: ``{"$decimal": "30000.5"}`` (its
``str``), ``{"$float": "NaN"}`` for a non-finite float, ``{"$tuple": [...]}``,
``{"$items": [[k, v], ...]}`` for a mapping with a non-string key.  Anything
else — a type no parser in the engine accepts — is written as
``{"$opaque": "<repr>"}`` and replayed as a placeholder that every parser
refuses the same way.  Tagging keeps replay exact where a plain string would
not be: ``Decimal(5)`` in an ``orderIdList`` is refused (-1100) but ``"5"``
would cancel order 5.  The journal holds what was sent, credentials too
(``create_account``'s ``api_key``/``api_secret``): keep it private.

Responses are kept as :func:`digest`: the first 16 hex digits of the SHA-256
of their canonical JSON, which replay compares.  The journal's header lists the
venue's instruments by their constructor parameters (:func:`instrument_params`,
:func:`instrument_from`), so a non-default venue is rebuilt exactly.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.core.instrument import Instrument

__all__ = ["Opaque", "decode", "digest", "encode", "instrument_from", "instrument_params"]

_DIGITS = 16  # hex digits of a response digest

_TAGS = frozenset({"$decimal", "$float", "$tuple", "$items", "$opaque"})
_NON_FINITE = frozenset({"nan", "inf", "-inf"})


class Opaque:
    """Stands in, on replay, for a value of a type the engine accepts nowhere."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Opaque({self.text!r})"


def encode(v: Any) -> Any:
    """A JSON-ready form of a parameter value that :func:`decode` turns back into an
    equivalent one (see the module docstring).  O(size of the value)."""
    t = type(v)
    if v is None or t is str or t is int or t is bool:
        return v
    if t is list:
        return [encode(x) for x in v]
    if isinstance(v, float):
        # transported as sent, never computed with: the engine reads a float only through
        # its repr, so a finite one is a JSON number (that repr) and reads back the same
        text = repr(v)
        if text != float.__repr__(v):
            return {"$opaque": f"{t.__name__}: {text}"[:200]}  # refused like the original
        return v if t is float and text not in _NON_FINITE else {"$float": json.dumps(v)}
    if isinstance(v, Decimal):
        return {"$decimal": str(v)}
    if t is tuple:
        return {"$tuple": [encode(x) for x in v]}
    if isinstance(v, Mapping):
        if all(type(k) is str for k in v) and not (len(v) == 1 and next(iter(v)) in _TAGS):
            return {k: encode(x) for k, x in v.items()}
        return {"$items": [[encode(k), encode(x)] for k, x in v.items()]}
    if t is Opaque:
        return {"$opaque": v.text}
    if isinstance(v, str):
        return str.__str__(v)  # a str subclass (a StrEnum) is read as its text
    if isinstance(v, int):
        return int.__index__(v)
    return {"$opaque": f"{t.__name__}: {v!r}"[:200]}


def decode(v: Any) -> Any:
    """Inverse of :func:`encode`."""
    if type(v) is list:
        return [decode(x) for x in v]
    if type(v) is not dict:
        return v
    if len(v) == 1:
        (tag, body), = v.items()
        if tag == "$decimal":
            return Decimal(body)
        if tag == "$float":
            return json.loads(body)
        if tag == "$tuple":
            return tuple(decode(x) for x in body)
        if tag == "$items":
            return {decode(k): decode(x) for k, x in body}
        if tag == "$opaque":
            return Opaque(body)
    return {k: decode(x) for k, x in v.items()}


def digest(response: Any) -> str:
    """The first 16 hex digits of SHA-256 over a response's canonical JSON.

    Responses are plain JSON values but for an :class:`~engine.venue.exchange.Account`
    (``create_account``) and the odd ``Decimal``, which ``_plain`` spells out.
    """
    text = json.dumps(response, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGITS]


def _plain(v: Any) -> Any:
    if hasattr(v, "__dataclass_fields__"):
        return {f: getattr(v, f) for f in v.__dataclass_fields__}
    return encode(v)


# -- instruments in the header -------------------------------------------------------------
def instrument_params(inst: Instrument) -> dict[str, Any]:
    """The constructor parameters of ``inst`` as JSON values (decimals as strings)."""
    from engine.core.instrument import Instrument

    out: dict[str, Any] = {}
    for name in inspect.signature(Instrument.__init__).parameters:
        if name == "self":
            continue
        value = getattr(inst, name)
        if name == "brackets":
            value = [
                [b.bracket, b.initial_leverage, b.floor_e8, b.cap_e8, b.mmr_ppm, b.cum_e8]
                for b in value
            ]
        elif isinstance(value, Decimal):
            value = str(value)
        out[name] = value
    return out


def instrument_from(params: Mapping[str, Any]) -> Instrument:
    """Inverse of :func:`instrument_params`."""
    from engine.core.instrument import Bracket, Instrument

    kw = dict(params)
    kw["brackets"] = tuple(Bracket(*row) for row in kw["brackets"])
    symbol = kw.pop("symbol")
    return Instrument(symbol, **kw)


