"""Hostile snapshots: bytes written to attack the loader are refused, run nothing, and cost
little memory.

Every file here is crafted, most of them sealed with a right SHA-256 so that
the refusal tested is the inner one: a method-call gadget (an old pickle, a
tree naming a class or a method off the allow-list), decompression bombs (a
1 MB body that would inflate to 1 GiB, declared honestly and declared small),
truncation, foreign versions, length headers announcing 2**32-1 elements or a
4 GiB string, a class written with other fields, values of types a snapshot
never holds.  Each must raise ``SnapshotError`` naming the problem while
``tracemalloc`` sees less than 50 MB allocated at the peak (an allocation
count, not a timing: the same on any machine).
"""

from __future__ import annotations

import copy
import gc
import hashlib
import io
import json
import pickle
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from test_snapshot import META, busy_venue, envelope, forged, tree_of

from engine import Exchange
from engine.persist.snapshot import MAGIC, MAX_RATIO, SnapshotError

LIMIT = 50 * 2**20  # bytes, tracemalloc's peak while a hostile file is refused


def refusal(data: Any, **kwargs: Any) -> tuple[str, int]:
    """The message ``Exchange.restore(data)`` refuses ``data`` with, and the peak of the
    memory allocated meanwhile."""
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotError) as refused:
            Exchange.restore(data, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(refused.value), peak


def check(data: Any, message: str, **kwargs: Any) -> None:
    import re

    text, peak = refusal(data, **kwargs)
    assert re.search(message, text), text
    assert peak < LIMIT, f"{peak:,} bytes allocated to refuse: {text}"


@pytest.fixture(scope="module")
def tree() -> list:
    return tree_of(busy_venue())


def patched(tree: list, change: Callable[[list], Any]) -> list:
    """A deep copy of ``tree`` with ``change`` applied to it."""
    out = copy.deepcopy(tree)
    change(out)
    return out


def record(tree: list, cls: str, nth: int = 0) -> list:
    """The ``nth`` object record of class ``cls`` (a short name) in ``tree``."""
    index = [i for i, (name, _f) in enumerate(tree[0]) if name.endswith("." + cls)][0]
    return [r for r in tree[2] if r[0] == index][nth]


def field(tree: list, cls: str, name: str) -> int:
    """The place of field ``name`` in the records of class ``cls`` (after the class index)."""
    fields = [f for n, f in tree[0] if n.endswith("." + cls)][0]
    return 1 + fields.index(name)


def set_field(cls: str, name: str, value: Any, nth: int = 0) -> Callable[[list], None]:
    """A change setting field ``name`` of the ``nth`` ``cls`` to ``value`` (if callable:
    to ``value(tree)``)."""
    def change(t: list) -> None:
        record(t, cls, nth)[field(t, cls, name)] = value(t) if callable(value) else value
    return change


def side(value: Any) -> Callable[[list], list]:
    """An enum member of class Side (by its place in the tree's enum table)."""
    return lambda t: [6, t[1].index("engine.core.enums.Side"), value]


# -- method-call gadgets ----------------------------------------------------------------------
class Gadget:
    def __reduce__(self):
        return (print, ("THE GADGET RAN",))


def old_format(body: bytes, meta: dict | None = None) -> bytes:
    """A file in format 2's layout (zlib(pickle) after JSON metadata), its SHA-256 right."""
    meta_bytes = json.dumps(META if meta is None else meta).encode()
    payload = struct.pack(">I", len(meta_bytes)) + meta_bytes + zlib.compress(body)
    return struct.pack(">8sHQ32s", MAGIC, 2, len(payload),
                       hashlib.sha256(payload).digest()) + payload


class _Refs(pickle.Pickler):
    """A pickle whose marker object becomes format 2's persistent id of a venue method."""

    def __init__(self, file: io.BytesIO, name: str) -> None:
        super().__init__(file, protocol=5)
        self.name = name

    def persistent_id(self, obj: object) -> object:
        return ("venue", self.name) if obj is Gadget else None


def method_pickle(name: str) -> bytes:
    buf = io.BytesIO()
    _Refs(buf, name).dump({"x": Gadget})
    return buf.getvalue()


@pytest.mark.parametrize("body", [
    pickle.dumps({"x": Gadget()}), method_pickle("create_account"), method_pickle("replay"),
], ids=["print", "venue.create_account", "venue.replay"])
def test_an_old_pickle_snapshot_is_refused_unread_with_the_way_to_rebuild_it(body, capsys):
    check(old_format(body), r"version 2 is a pickle.*unpickling can run code.*Exchange\.replay")
    assert capsys.readouterr().out == ""


def test_a_pickle_sealed_as_format_3_is_not_unpickled(capsys):
    body = pickle.dumps({"x": Gadget()})
    check(envelope(META, zlib.compress(body), len(body)), "undecodable")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", [
    "builtins.eval", "os.system", "engine.venue.exchange.Exchange",
    "engine.persist.journal.Journal", "engine.core.txn.UndoLog", "Order",
])
def test_a_tree_naming_a_class_off_the_allow_list_is_refused(tree, name):
    def change(t: list) -> None:
        t[0][0][0] = name

    check(forged(patched(tree, change)), f"class '{name}' is not allowed")


@pytest.mark.parametrize("name", ["builtins.type", "engine.core.enums.Gadget", 7])
def test_a_tree_naming_an_enum_off_the_allow_list_is_refused(tree, name):
    check(forged(patched(tree, lambda t: t[1].append(name))),
          f"enum {name!r} is not allowed")


@pytest.mark.parametrize(("method", "owner"), [
    ("replay", 0), ("create_account", 0), ("restore", 0), ("__class__", 0), ("__init__", 0),
    ("next_order_id", 0), ("set_now", 0), ("mark_of", 1), (["mark_of"], 0), ("mark_of", True),
])
def test_a_tree_holding_any_method_but_the_mark_lookup_is_refused(tree, method, owner):
    change = set_field("Ledger", "_mark_of", [10, owner, method])

    check(forged(patched(tree, change)), r"Ledger\._mark_of: method .* is not allowed")


# -- decompression bombs ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 1 MB of zlib that inflates to 1 GiB of zeros."""
    z = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    return b"".join([*(z.compress(chunk) for _ in range(1024)), z.flush()])


def test_a_bomb_declaring_its_true_size_is_refused_before_inflating(bomb):
    assert 900_000 < len(bomb) < 1_100_000

    check(envelope(META, bomb, 1 << 30), rf"declares 1073741824 bytes .*more than {MAX_RATIO}×")
    check(envelope(META, bomb, 1 << 30), "more than max_size=1000000", max_size=10**6)


@pytest.mark.parametrize("declared", [1000, 10**6, "cap"])
def test_a_bomb_declaring_less_is_refused_once_it_inflates_past_that(bomb, declared):
    declared = MAX_RATIO * len(bomb) if declared == "cap" else declared

    check(envelope(META, bomb, declared), f"inflates past its declared {declared} bytes")


def test_a_body_inflating_to_less_than_declared_or_with_bytes_after_its_stream_is_refused():
    raw = msgspec.msgpack.encode([[], [], []])
    body = zlib.compress(raw)

    check(envelope(META, body, len(raw) + 1), f"inflates to {len(raw)} bytes, not")
    check(envelope(META, body + b"junk", len(raw)), "not one whole zlib stream")
    check(envelope(META, body[:-3], len(raw)), "not one whole zlib stream")
    check(envelope(META, b"not zlib at all", 10), "undecodable")


def test_memory_stays_within_a_fixed_factor_of_the_declared_size_at_worst():
    """The densest decoding msgpack allows: one empty array per byte, at the ratio cap."""
    raw = b"\xdd" + struct.pack(">I", 2**18 - 5) + b"\x90" * (2**18 - 5)
    body = zlib.compress(raw, 0)  # stored: no smaller than the data, within every limit

    text, peak = refusal(envelope(META, body, len(raw)))

    assert "not [classes, enums, objects]" in text
    assert peak < 80 * len(raw) and peak < LIMIT


# -- truncation, versions, lengths in the header ----------------------------------------------
@pytest.mark.parametrize(("cut", "message"), [
    (lambda s: s[:9], "truncated"), (lambda s: s[:40], "truncated"),
    (lambda s: s[:70], "truncated"), (lambda s: s[:-1], "truncated"),
], ids=["in the version", "in the header", "in the metadata", "in the body"])
def test_a_truncated_snapshot_is_refused(cut, message):
    check(cut(busy_venue().snapshot()), message)


@pytest.mark.parametrize(("version", "message"), [
    (0, "version 0 is not supported"), (4, "version 4 is not supported"),
    (65535, "version 65535 is not supported"), (1, "before the engine was split into layers"),
    (2, "version 2 is a pickle"),
])
def test_a_snapshot_of_another_format_version_is_refused(version, message):
    data = busy_venue().snapshot()

    check(data[:8] + struct.pack(">H", version) + data[10:], message)


@pytest.mark.parametrize(("place", "value", "message"), [
    (11, 2**32 - 1, "4294967295 bytes of metadata"),
    (15, 2**64 - 1, "truncated"),
    (23, 2**64 - 1, "more than max_size"),
    (10, 7, "unknown seal 7"),
], ids=["metadata length", "body length", "declared length", "seal"])
def test_huge_or_unknown_header_fields_are_refused_before_anything_is_read(place, value, message):
    data = bytearray(busy_venue().snapshot())
    size = {10: ">B", 11: ">I", 15: ">Q", 23: ">Q"}[place]
    struct.pack_into(size, data, place, value)
    head = bytes(data[:31])
    payload = bytes(data[63:])
    data[31:63] = hashlib.sha256(head + payload).digest()  # resealed: the field is the fault

    check(bytes(data), message)


# -- lengths inside the msgpack ---------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"\xdd\xff\xff\xff\xff" + b"\xc0" * 64,  # an array of 2**32-1 elements
    b"\xdf\xff\xff\xff\xff" + b"\xc0" * 64,  # a map of 2**32-1 pairs
    b"\xdb\xff\xff\xff\xff" + b"a" * 64,  # a 4 GiB string
    b"\xc6\xff\xff\xff\xff" + b"a" * 64,  # 4 GiB of bytes
    b"\xc9\xff\xff\xff\xff\x05" + b"a" * 64,  # a 4 GiB extension
    b"\x93\x90\x90\xdd\xff\xff\xff\xff\xc0",  # a huge object table inside the tree
    b"\x91" * 100_000 + b"\xc0",  # arrays nested 100,000 deep
], ids=["array", "map", "str", "bin", "ext", "nested table", "deep"])
def test_msgpack_headers_announcing_more_than_the_body_holds_are_refused_unallocated(raw):
    check(envelope(META, zlib.compress(raw, 0), len(raw)), "undecodable")


# -- the tree against the allow-list: shape, fields, values -----------------------------------
def _drop(name: str) -> Callable[[list], None]:
    def change(t: list) -> None:
        fields = [f for n, f in t[0] if n.endswith(".Order")][0]
        fields.remove(name)
    return change


SHAPES: list[tuple[str, Any, str]] = [
    ("not an array", lambda t: "tree", "not \\[classes, enums, objects\\]"),
    ("four parts", lambda t: [*t, []], "not \\[classes, enums, objects\\]"),
    ("a class table that is not an array", lambda t: [7, t[1], t[2]],
     "class table is not an array"),
    ("a class record without fields", lambda t: [[["x"]], t[1], t[2]],
     "class record is not"),
    ("a class listed twice", lambda t: [[t[0][0], t[0][0]], t[1], t[2]], "listed twice"),
    ("no objects", lambda t: [t[0], t[1], []], "must be the venue state"),
    ("the venue state twice", lambda t: [t[0], t[1], [t[2][0], t[2][0]]],
     "must be the venue state"),
    ("an object before the venue", lambda t: [t[0], t[1], [t[2][1], t[2][0]]],
     "must be the venue state"),
    ("a class index out of range", lambda t: [t[0], t[1], [t[2][0], [99]]],
     "class index 99 is not in the class table"),
    ("an object record that is not an array", lambda t: [t[0], t[1], [t[2][0], 5]],
     "object record is not"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in SHAPES],
                         ids=[c[0] for c in SHAPES])
def test_a_tree_of_another_shape_is_refused(tree, change, message):
    check(forged(change(copy.deepcopy(tree))), message)


FIELDS: list[tuple[str, Any, str]] = [
    ("a field missing", _drop("price"), "the fields of engine.core.order.Order are"),
    ("a memo written", lambda t: [f for n, f in t[0] if n.endswith(".Order")][0].append(
        "tmpl"), "the fields of engine.core.order.Order are"),
    ("a field renamed", lambda t: [f for n, f in t[0] if n.endswith(".Order")][0].__setitem__(
        0, "order_no"), "the fields of engine.core.order.Order are"),
    ("a field twice", lambda t: [f for n, f in t[0] if n.endswith(".Order")][0].__setitem__(
        1, "order_id"), "the fields of engine.core.order.Order are"),
    ("a field name that is not a string",
     lambda t: [f for n, f in t[0] if n.endswith(".Level")][0].__setitem__(0, 1),
     "the fields of engine.core.book.Level are"),
    ("the undo log written as a field of the venue", lambda t: t[0][0][1].append("undo"),
     "the fields of engine.venue.state.VenueState are"),
    ("a value missing", lambda t: record(t, "Order").pop(), "Order record has 2[0-9] values for"),
    ("a value too many", lambda t: record(t, "Position").append(0),
     "Position record has 6 values for 5 fields"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in FIELDS],
                         ids=[c[0] for c in FIELDS])
def test_a_class_written_with_other_fields_is_refused(tree, change, message):
    check(forged(patched(tree, change)), message)


def test_fields_written_in_another_order_are_read_by_name(tree):
    """The field list is a set: a file listing them in another order means the same."""
    ex = busy_venue()

    def reverse(t: list) -> None:
        ci = [i for i, (n, _f) in enumerate(t[0]) if n.endswith(".Position")][0]
        t[0][ci][1].reverse()
        for rec in t[2]:
            if rec[0] == ci:
                rec[1:] = rec[:0:-1]

    data = forged(patched(tree, reverse), json.loads(json.dumps(
        {"state_hash": ex.state_hash(), "now": ex.now, "journal": None})))
    assert Exchange.restore(data).state_hash() == ex.state_hash()


def _nested(depth: int) -> list:
    """A tuple in a tuple ... ``depth`` deep."""
    v: Any = 1
    for _ in range(depth):
        v = [1, v]
    return v


VALUES: list[tuple[str, str, str, Any, str]] = [
    ("a float", "Order", "price", 3.5, "Order.price: float is not a type"),
    ("a map", "Level", "orders", {"1": 2}, "Level.orders: dict is not a type"),
    ("an extension", "Order", "qty", msgspec.msgpack.Ext(5, b"x"), "Ext is not a type"),
    ("an empty array", "Order", "qty", [], "Order.qty: an array value without a tag"),
    ("a bool tag", "Order", "qty", [True, 1], "without a tag"),
    ("an unknown tag", "Order", "qty", [99, 1], r"unknown value \[99, 1\]"),
    ("an enum value not a member", "Order", "side", side("SIDEWAYS"),
     "Order.side: 'SIDEWAYS' is not a Side"),
    ("an enum value of another type", "Order", "side", side(1), "1 is not a Side"),
    ("an enum index out of range", "Order", "side", [6, 99, "BUY"], "unknown value"),
    ("an object index out of range", "Order", "owner", [7, 10**6], "unknown value"),
    ("a negative object index", "Order", "owner", [7, -1], "unknown value"),
    ("an object reference with two indexes", "Order", "owner", [7, 1, 2], "unknown value"),
    ("a decimal that is not a number", "Instrument", "tick_size", [5, "ten"],
     "Instrument.tick_size: .*InvalidOperation"),
    ("a decimal that is not finite", "Instrument", "tick_size", [5, "NaN"], "not finite"),
    ("a decimal that is not a string", "Instrument", "tick_size", [5, 10], "unknown value"),
    ("a big integer that is not one", "Order", "qty", [11, "1e9"], "Order.qty: .*ValueError"),
    ("a big integer too long to parse", "Order", "qty", [11, "9" * 5000], "ValueError"),
    ("a dict key without a value", "Level", "orders", [2, 1], "a key but no value"),
    ("a dict key twice", "Level", "orders", [2, 1, None, 1, None], "a key twice"),
    ("an unhashable dict key", "Level", "orders", [2, [0, 1], None], "unhashable"),
    ("a set item twice", "VenueState", "risk_names", [3, "a", "a"], "an item twice"),
    ("unorderable sorted items", "TriggerRegistry", "_rise", [2, [1, "k"], [9, 1, "a"]],
     "TypeError"),
    ("the undo log with an argument", "Ledger", "_undo", [12, 0], "unknown value"),
    ("values nested too deep", "Order", "cid", _nested(40), "nested more than 32 deep"),
]


@pytest.mark.parametrize(("cls", "name", "value", "message"), [c[1:] for c in VALUES],
                         ids=[c[0] for c in VALUES])
def test_a_value_of_a_type_a_snapshot_never_holds_is_refused_naming_the_field(
    tree, cls, name, value, message,
):
    check(forged(patched(tree, set_field(cls, name, value))), message)


def test_a_forged_venue_of_the_engine_s_own_classes_is_still_checked_whole(tree):
    """Well-formed values in the wrong places get past the allow-list; the state hash and
    the invariants then refuse the venue, and nothing is returned."""
    check(forged(patched(tree, set_field("Order", "qty", "lots"))),
          "state hash mismatch|undecodable|broken venue")
    check(forged(patched(tree, set_field("Order", "owner", None))),
          "state hash mismatch|undecodable|broken venue")
