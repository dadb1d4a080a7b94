"""A venue's object graph as a tree of plain values, and back, over an allow-list.

:func:`to_tree` turns a :class:`~engine.venue.state.VenueState` (between
commands) into ``[classes, enums, objects]`` made only of None, bools, ints,
strs, bytes and lists, which msgpack (or JSON) can carry; :func:`from_tree`
builds a fresh venue state from such a tree, or raises :class:`Refused` naming
the first thing in it that is not as :func:`to_tree` writes it.
:mod:`engine.persist.snapshot` seals the tree in a file.

The tree
--------
``classes`` lists each class written as ``[name, [field, ...]]``: its
qualified name and its slots, base classes' first, without the fields in
:data:`RESET`; ``enums`` lists the enum classes' qualified names; ``objects``
holds every engine object once, as ``[class index, field values...]``, the
venue state first, so sharing and cycles (an order held by its book level and
by the index, a row and its parent) come back exactly.  A field value is None,
a bool, an int of at most 64 bits, a str or bytes, or ``[tag, ...]``:

=========================  =====================================================
``[0, x, ...]``            a list (``1``: a tuple; ``3``: a set and ``4``: a
                           frozenset, both sorted by their items' msgpack bytes;
                           ``9``: a ``SortedList``)
``[2, k, v, ...]``         a dict, keys and values alternating (``8``: a
                           ``SortedDict``)
``[5, "1.05"]``            a ``Decimal``; ``[11, "-123..."]``: an int beyond 64 bits
``[6, e, value]``          the member of enum ``enums[e]`` with that value
``[7, i]``                 the object ``objects[i]``
``[10, 0, "mark_of"]``     the venue state's ``mark_of`` (the ledger's mark lookup)
``[12]``                   the venue's undo log (empty between commands)
=========================  =====================================================

The allow-list
--------------
:data:`CLASSES` (the engine's state classes, all slotted), :data:`ENUMS` and
:data:`METHODS` (``VenueState.mark_of`` only) are everything a tree may name;
names are looked up in tables built from them, never imported.  The sorted
containers are rebuilt from their items with no key function: the engine's
have none, and a keyed one is refused when written (a key function would have
to come from a table here, never from a file).  Writing anything else — an
object of another class, a float, a second reference to a list or dict (only
engine objects may be shared), a set of objects (no order to write them in) —
raises ``TypeError`` naming it, so a new state class is noticed by the
snapshot tests rather than skipped.  :data:`RESET` names the fields not
written — the memo caches and the journal — and what a restored object starts
with instead: memos restore empty and refill on demand, so no memo a file
carries can change an answer.

Reading: every object is made with ``object.__new__(cls)`` and its fields are
set with ``object.__setattr__``; no constructor, method or hook of the file's
choosing runs.  The field names must be exactly the class's (in any order),
values nest at most :data:`MAX_DEPTH` deep, and an unknown tag, enum value or
index, a float, a map, an extension type, a dict key twice, a non-finite
Decimal — each is refused, naming the class and field it was found in.

:mod:`~engine.persist.snapshot` runs both ways with the cyclic garbage
collector paused (:func:`gc_paused`).  Cost: O(size of the venue).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from types import MethodType
from typing import Any

import msgspec
from sortedcontainers import SortedDict, SortedList

from engine.core.book import Level, OrderBook
from engine.core.enums import (
    IncomeType,
    OrderStatus,
    OrderType,
    PositionSide,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerState,
    WorkingType,
)
from engine.core.instrument import Bracket, Instrument
from engine.core.ledger import AccountState, Ledger, Position
from engine.core.market import Market
from engine.core.order import Order, TriggerRow
from engine.core.orderindex import OrderIndex
from engine.core.triggers import TriggerRegistry
from engine.core.txn import UndoLog
from engine.venue.state import Account, VenueState
from engine.venue.tape import TapeConfig

__all__ = [
    "ADDED", "CLASSES", "ENUMS", "METHODS", "RESET", "Refused", "from_tree", "gc_paused", "to_tree",
]

#: values nest at most this deep (the engine's state nests 4 deep)
MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # msgpack's integers

# -- the allow-list ---------------------------------------------------------------------------
#: every class a tree may hold an object of (each has ``__slots__``, no ``__dict__``)
CLASSES: tuple[type, ...] = (
    VenueState, Account, Instrument, Bracket, Market, OrderBook, Level, Order, TriggerRow,
    Ledger, AccountState, Position, OrderIndex, TriggerRegistry, TapeConfig,
)
ENUMS: tuple[type[Enum], ...] = (
    Side, OrderType, TimeInForce, OrderStatus, TriggerState, PositionSide, WorkingType,
    SelfTradePrevention, IncomeType,
)
#: the bound methods a tree may hold: the ledger's mark lookup
METHODS: dict[type, frozenset[str]] = {VenueState: frozenset({"mark_of"})}
#: fields not written (memos, the journal), and what a restored object starts with instead
RESET: dict[type, dict[str, Any]] = {
    Instrument: {
        "_price_cache": dict, "_qty_cache": dict, "wire_templates": dict,
        "parse_memo": lambda: {"price": {}, "stop": {}, "qty": {}, "market_qty": {}},
    },
    Order: {"tmpl": lambda: None},
    TriggerRow: {"tmpl": lambda: None},
    VenueState: {"journal": lambda: None, "events": lambda: None},
}
#: fields added to a class after snapshot format 3 was first written, and the value a
#: snapshot written before them loads with (such a snapshot lists none of them)
ADDED: dict[type, dict[str, Any]] = {VenueState: {"amendments": dict,
                                                  "expiries": SortedList},
                                     Order: {"gtd": int, "price_match": lambda: "NONE"},
                                     TriggerRow: {"gtd": int, "price_match": lambda: "NONE"},
                                     Level: {"rank": lambda: None},
                                     Position: {"open_fee_e8": int, "iso_e8": int},
                                     AccountState: {"isolated": dict, "margin_log": list}}
#: not written either: the venue's undo log, which every owner shares (rebuilt empty)
_UNDO_FIELD = "undo"

# value tags: a value that is an array is [tag, ...]
_LIST, _TUPLE, _DICT, _SET, _FROZENSET, _DECIMAL, _ENUM, _OBJ = range(8)
_SORTEDDICT, _SORTEDLIST, _METHOD, _BIGINT, _UNDO = range(8, 13)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _fields(cls: type) -> tuple[str, ...]:
    """The fields written for ``cls``: its slots, base classes' first, but those in
    :data:`RESET` and the venue's undo log."""
    skip = set(RESET.get(cls, ())) | ({_UNDO_FIELD} if cls is VenueState else set())
    out: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = vars(klass).get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in out and name not in skip and name not in ("__weakref__", "__dict__"):
                out.append(name)
    return tuple(out)


_FIELDS = {cls: _fields(cls) for cls in CLASSES}
_BY_NAME = {_name(cls): cls for cls in CLASSES}
_ENUM_BY_NAME = {_name(cls): cls for cls in ENUMS}
_MEMBERS = {cls: {m.value: m for m in cls} for cls in ENUMS}


class Refused(Exception):
    """A tree that is not one :func:`to_tree` writes; the message names what and where."""


# -- venue → tree -----------------------------------------------------------------------------
class _Writer:
    """Turns a venue state into its tree (see the module docstring); ``TypeError``
    naming the value for anything outside the allow-list."""

    def __init__(self, venue: VenueState) -> None:
        self.venue = venue
        self.objects: list[Any] = []
        self.index: dict[int, int] = {}  # id(object) -> its place in the table
        self.classes: dict[type, int] = {}
        self.enums: dict[type, int] = {}
        self.containers: set[int] = set()  # ids of the mutable containers written

    def tree(self) -> list[Any]:
        self.ref(self.venue)
        table: list[Any] = []
        while len(table) < len(self.objects):
            obj = self.objects[len(table)]
            cls = type(obj)
            try:
                values = [self.value(v, 0) for v in _get(cls)(obj)]
            except AttributeError as e:
                raise TypeError(f"{cls.__qualname__}: a field is unset ({e})") from None
            except TypeError as e:
                raise TypeError(f"{e} (in a {cls.__qualname__})") from None
            table.append([self.classes[cls], *values])
        classes = [[_name(c), list(_FIELDS[c])] for c in self.classes]
        return [classes, [_name(e) for e in self.enums], table]

    def ref(self, obj: Any) -> int:
        i = self.index.get(id(obj))
        if i is None:
            self.classes.setdefault(type(obj), len(self.classes))
            i = self.index[id(obj)] = len(self.objects)
            self.objects.append(obj)
        return i

    def value(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t is int:
            return v if _INT_MIN <= v <= _INT_MAX else [_BIGINT, str(v)]
        if t is str or t is bool or v is None or t is bytes:
            return v
        if t in _FIELDS:
            return [_OBJ, self.ref(v)]
        if t in _MEMBERS:
            return [_ENUM, self.enums.setdefault(t, len(self.enums)), v.value]
        if t is Decimal:
            return [_DECIMAL, str(v)]
        if depth >= MAX_DEPTH:
            raise TypeError(f"values nested more than {MAX_DEPTH} deep")
        d = depth + 1
        if t is tuple:
            return [_TUPLE, *[self.value(x, d) for x in v]]
        if t is MethodType:
            return self.method(v)
        if t is UndoLog and v is self.venue.undo and not v:
            return [_UNDO]
        if t in _CONTAINERS:
            if id(v) in self.containers:
                raise TypeError(f"a {t.__name__} held twice (only engine objects are shared)")
            self.containers.add(id(v))
        if t is list or t is SortedList:
            return [_LIST if t is list else _SORTEDLIST, *[self.value(x, d) for x in v]]
        if t is dict or (t is SortedDict and v.key is None):
            out = [_DICT if t is dict else _SORTEDDICT]
            for k, x in v.items():
                out.append(self.value(k, d))
                out.append(self.value(x, d))
            return out
        if t is set or t is frozenset:
            before = len(self.objects)
            items = sorted((self.value(x, d) for x in v), key=msgspec.msgpack.encode)
            if len(self.objects) != before:
                raise TypeError("a set of engine objects has no order to write")
            return [_SET if t is set else _FROZENSET, *items]
        raise TypeError(
            f"a snapshot cannot hold {_name(t)} (add it to engine.persist.graph.CLASSES "
            "if it is venue state)"
        )

    def method(self, m: MethodType) -> list[Any]:
        owner, name = m.__self__, m.__func__.__name__
        allowed = METHODS.get(type(owner), frozenset())
        if owner is not self.venue or name not in allowed or getattr(owner, name) != m:
            raise TypeError(f"a snapshot cannot hold the method {m!r}")
        return [_METHOD, self.ref(owner), name]


_CONTAINERS = frozenset({list, dict, set, SortedDict, SortedList})
_GETTERS: dict[type, Any] = {}


def _get(cls: type) -> Any:
    """A function returning the written fields of an object of ``cls``, as a tuple."""
    g = _GETTERS.get(cls)
    if g is None:
        fields = _FIELDS[cls]
        one = attrgetter(*fields)
        g = _GETTERS[cls] = one if len(fields) > 1 else (lambda o: (one(o),))
    return g


def to_tree(venue: VenueState) -> list[Any]:
    """The tree of ``venue`` (between commands: its undo log empty); ``TypeError`` for a
    value outside the allow-list.  The same venue gives the same tree."""
    return _Writer(venue).tree()


# -- tree → venue -----------------------------------------------------------------------------
class _Reader:
    """Builds a fresh venue state from a tree, checking it against the allow-list as it
    goes; raises :class:`Refused` naming the first thing that is not as written."""

    def __init__(self) -> None:
        self.undo = UndoLog()
        self.objects: list[Any] = []
        self.enums: list[type] = []

    def venue(self, tree: Any) -> VenueState:
        if type(tree) is not list or len(tree) != 3:
            raise Refused("the tree is not [classes, enums, objects]")
        classes = [self.cls(rec) for rec in _array(tree[0], "the class table")]
        if len({id(c) for c, _ in classes}) != len(classes):
            raise Refused("a class is listed twice")
        for name in _array(tree[1], "the enum table"):
            enum = _ENUM_BY_NAME.get(name) if type(name) is str else None
            if enum is None or enum in self.enums:
                raise Refused(f"enum {name!r} is not allowed (or listed twice)")
            self.enums.append(enum)
        records = _array(tree[2], "the object table")
        for rec in records:  # every object first: fields may refer to any of them
            if type(rec) is not list or not rec or type(rec[0]) is not int:
                raise Refused("an object record is not [class index, fields...]")
            if not 0 <= rec[0] < len(classes):
                raise Refused(f"class index {rec[0]} is not in the class table")
            cls, names = classes[rec[0]]
            if len(rec) != 1 + len(names):
                raise Refused(f"a {cls.__qualname__} record has {len(rec) - 1} values for "
                              f"{len(names)} fields")
            self.objects.append(object.__new__(cls))  # no class code runs
        venue = self.objects[0] if self.objects else None
        if type(venue) is not VenueState or sum(
                type(o) is VenueState for o in self.objects) != 1:
            raise Refused("the first object, and only it, must be the venue state")
        for obj, rec in zip(self.objects, records, strict=True):
            cls, names = classes[rec[0]]
            for name, raw in zip(names, rec[1:], strict=True):
                try:
                    value = self.value(raw, 0)
                except Refused as e:
                    raise Refused(f"{cls.__qualname__}.{name}: {e}") from None
                except (TypeError, ValueError, ArithmeticError) as e:
                    # an unhashable key, unorderable items, an unparsable number
                    raise Refused(f"{cls.__qualname__}.{name}: {e!r}") from None
                object.__setattr__(obj, name, value)
            for name, fresh in RESET.get(cls, {}).items():
                object.__setattr__(obj, name, fresh())
            for name, fresh in ADDED.get(cls, {}).items():
                if name not in names:
                    object.__setattr__(obj, name, fresh())
        setattr(venue, _UNDO_FIELD, self.undo)
        return venue

    @staticmethod
    def cls(rec: Any) -> tuple[type, tuple[str, ...]]:
        """A class record ``[name, [fields]]``: the class, and its fields in file order."""
        if type(rec) is not list or len(rec) != 2 or type(rec[0]) is not str:
            raise Refused("a class record is not [name, [fields]]")
        cls = _BY_NAME.get(rec[0])
        if cls is None:
            raise Refused(f"class {rec[0]!r} is not allowed in a snapshot")
        names = _array(rec[1], f"the fields of {rec[0]}")
        missing = set(_FIELDS[cls]) - set(names)
        if not all(type(n) is str for n in names) or len(set(names)) != len(names) or not (
                set(names) <= set(_FIELDS[cls]) and missing <= set(ADDED.get(cls, ()))):
            raise Refused(f"the fields of {rec[0]} are {names!r}, not "
                          f"{sorted(_FIELDS[cls])!r}")
        return cls, tuple(names)

    def value(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t is int or t is str or t is bool or v is None or t is bytes:
            return v
        if t is not list:
            raise Refused(f"{t.__name__} is not a type a snapshot holds")
        if not v or type(v[0]) is not int:
            raise Refused("an array value without a tag")
        if depth >= MAX_DEPTH:
            raise Refused(f"values nested more than {MAX_DEPTH} deep")
        tag, n, d = v[0], len(v), depth + 1
        if tag == _OBJ and n == 2 and type(v[1]) is int and 0 <= v[1] < len(self.objects):
            return self.objects[v[1]]
        if tag == _ENUM and n == 3 and type(v[1]) is int and 0 <= v[1] < len(self.enums):
            member = _MEMBERS[self.enums[v[1]]].get(v[2]) if type(v[2]) is str else None
            if member is None:
                raise Refused(f"{v[2]!r} is not a {self.enums[v[1]].__qualname__}")
            return member
        if tag == _TUPLE or tag == _LIST or tag == _SET or tag == _FROZENSET \
                or tag == _SORTEDLIST:
            items = [self.value(x, d) for x in v[1:]]
            return _SEQUENCES[tag](items)
        if tag == _DICT or tag == _SORTEDDICT:
            if n % 2 != 1:
                raise Refused("a dict with a key but no value")
            pairs = [(self.value(v[i], d), self.value(v[i + 1], d)) for i in range(1, n, 2)]
            out = dict(pairs) if tag == _DICT else SortedDict(pairs)
            if len(out) != len(pairs):
                raise Refused("a dict holds a key twice")
            return out
        if tag == _DECIMAL and n == 2 and type(v[1]) is str:
            dec = Decimal(v[1])
            if not dec.is_finite():
                raise Refused(f"decimal {v[1]!r} is not finite")
            return dec
        if tag == _BIGINT and n == 2 and type(v[1]) is str:
            return int(v[1])
        if tag == _METHOD and n == 3:
            if type(v[1]) is not int or v[1] != 0 or type(v[2]) is not str \
                    or v[2] not in METHODS[VenueState]:
                raise Refused(f"method {v[2]!r} of object {v[1]!r} is not allowed")
            return getattr(self.objects[0], v[2])
        if tag == _UNDO and n == 1:
            return self.undo
        raise Refused(f"unknown value {v[:4]!r}")


def _array(v: Any, what: str) -> list[Any]:
    if type(v) is not list:
        raise Refused(f"{what} is not an array")
    return v


def _unique_set(items: list[Any]) -> set[Any]:
    out = set(items)
    if len(out) != len(items):
        raise Refused("a set holds an item twice")
    return out


_SEQUENCES: dict[int, Any] = {
    _LIST: list, _TUPLE: tuple, _SET: _unique_set,
    _FROZENSET: lambda items: frozenset(_unique_set(items)), _SORTEDLIST: SortedList,
}


def from_tree(tree: Any) -> VenueState:
    """A fresh venue state from a decoded tree; :class:`Refused` if it is not one."""
    return _Reader().venue(tree)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block: a snapshot's tree is millions of
    small acyclic lists, and collections over them while it is built or decoded cost
    more than the work itself (2.8 s → 1.2 s to write 100,000 orders)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
