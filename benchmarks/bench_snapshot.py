"""Snapshot serializers compared on the same venue: msgspec's msgpack, stdlib json, old pickle.

The venue rests 2,000 LIMIT orders (``benchmarks.workload.new_venue``) and
holds 1,000 trigger rows: 400 parents each with a PENDING take-profit and
stop-loss, and 200 standalone stops, ARMED (spread over accounts of 100 rows
each, under the venue's cap on conditional orders per account); 20 market
orders have traded.  Format 3 turns it into a tree
(``engine.persist.graph.to_tree``) and back (``from_tree``); the serializer is
the only difference between the rows below, so each is timed on that same tree:

* ``msgpack`` — ``msgspec.msgpack.encode`` / ``decode`` (what format 3 uses);
* ``json`` — ``json.dumps`` (compact separators) / ``json.loads`` of the same tree;
* ``pickle`` — format 2, for reference: the venue's state pickled as the old
  module did (memos included), written only, never loaded.

Each round times, per serializer, *dump* (tree, serialize, zlib level 6) and
*load* (inflate, parse, rebuild the venue; the state-hash and invariant checks
common to every format are left out), and the serialize and parse steps alone,
with the garbage collector paused where the snapshot module pauses it.
The json and pickle rounds run in the untimed set-up of each msgpack round, so
the ratios compare medians over the same stretch of machine time, as the hot
paths' floor rounds do.  Run with::

    python -m pytest benchmarks/bench_snapshot.py

The figures are printed after the summary table (and kept in
``.benchmarks/summary.json``); ``engine/persist/snapshot.py`` quotes them.
"""

from __future__ import annotations

import io
import json
import pickle
import statistics
import time
import zlib
from collections.abc import Callable
from types import MethodType
from typing import Any

import msgspec
import pytest

from benchmarks.conftest import EXTRA, record
from benchmarks.workload import BID_BASE, LEVELS, LOT, NEW, SYMBOL, new_venue, price_str
from engine.persist.graph import from_tree, gc_paused, to_tree
from engine.venue.state import VenueState

ORDERS, PARENTS, STOPS = 2_000, 400, 200
ROWS_PER_ACCOUNT = 100
ROUNDS = 15


def snapshot_venue():
    """The benchmark's venue: see the module docstring."""
    ex, _ids = new_venue(ORDERS)
    clients: list = []

    def client(rows: int):
        """A client with room for ``rows`` more trigger rows (a new account when full)."""
        if not clients or clients[-1][1] + rows > ROWS_PER_ACCOUNT:
            name = f"trigger{len(clients)}"
            ex.create_account(name, balance="100000000000")
            clients.append([ex.client(name), 0])
        clients[-1][1] += rows
        return clients[-1][0]

    for i in range(PARENTS):
        ticks = BID_BASE + i % LEVELS
        client(2).new_order(side="BUY", price=price_str(ticks),
                            takeProfitPrice=price_str(ticks + 20_000),
                            stopLossPrice=price_str(ticks - 1_000), **NEW)
    for i in range(STOPS):
        client(1).new_order(symbol=SYMBOL, side="SELL", type="STOP_MARKET", quantity=LOT,
                            stopPrice=price_str(280_000 + i))
    taker = ex.client("taker")
    for _ in range(20):
        taker.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity=LOT)
    assert len(ex._s.index.by_id) >= ORDERS + 3 * PARENTS + STOPS
    return ex


class _OldPickler(pickle.Pickler):
    """Format 2's pickler: the state and its bound mark lookup become persistent ids."""

    def __init__(self, file: io.BytesIO, venue: VenueState) -> None:
        super().__init__(file, protocol=5)
        self.venue = venue

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.venue:
            return "venue"
        if type(obj) is MethodType and obj.__self__ is self.venue:
            return ("venue", obj.__func__.__name__)
        return None


def _old_pickle(venue: VenueState) -> bytes:
    buf = io.BytesIO()
    _OldPickler(buf, venue).dump({k: getattr(venue, k) for k in VenueState.__slots__
                                  if k != "journal"})
    return buf.getvalue()


SERIALIZERS: dict[str, tuple[Callable[[Any], bytes], Callable[[Any], Any]]] = {
    "msgpack": (msgspec.msgpack.encode, msgspec.msgpack.decode),
    "json": (lambda tree: json.dumps(tree, separators=(",", ":")).encode(), json.loads),
}


class Timings:
    """Per serializer and phase, the seconds of every round."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], list[float]] = {}
        self.sizes: dict[str, tuple[int, int]] = {}

    def add(self, name: str, phase: str, seconds: float) -> None:
        self.seconds.setdefault((name, phase), []).append(seconds)

    def median(self, name: str, phase: str) -> float:
        return statistics.median(self.seconds[(name, phase)])


def round_trip(venue: VenueState, name: str, timings: Timings) -> None:
    """Dump and load ``venue`` through serializer ``name``, timing each phase."""
    encode, decode = SERIALIZERS[name]
    with gc_paused():  # as the snapshot module runs them
        t0 = time.perf_counter()
        tree = to_tree(venue)
        t1 = time.perf_counter()
        raw = encode(tree)
        t2 = time.perf_counter()
    body = zlib.compress(raw, 6)
    t3 = time.perf_counter()
    inflated = zlib.decompress(body)
    with gc_paused():
        t4 = time.perf_counter()
        back = decode(inflated)
        t5 = time.perf_counter()
        from_tree(back)
        t6 = time.perf_counter()
    for phase, seconds in (("dump", t3 - t0), ("load", t6 - t3), ("serialize", t2 - t1),
                           ("parse", t5 - t4)):
        timings.add(name, phase, seconds)
    timings.sizes[name] = (len(raw), len(body))


def pickle_dump(venue: VenueState, timings: Timings) -> None:
    t0 = time.perf_counter()
    raw = _old_pickle(venue)
    body = zlib.compress(raw, 6)
    timings.add("pickle", "dump", time.perf_counter() - t0)
    timings.sizes["pickle"] = (len(raw), len(body))


@pytest.fixture(scope="module")
def venue() -> VenueState:
    return snapshot_venue()._s


def test_snapshot_serializers(benchmark, venue):
    timings = Timings()

    def setup():
        round_trip(venue, "json", timings)
        pickle_dump(venue, timings)

    benchmark.pedantic(round_trip, args=(venue, "msgpack", timings), setup=setup,
                       rounds=ROUNDS, warmup_rounds=1)
    record(benchmark, "snapshot_msgpack_round_trip", len(venue.index.by_id), 1)

    ms = 1000
    figures = {
        name: {
            "raw_bytes": timings.sizes[name][0], "zlib_bytes": timings.sizes[name][1],
            "dump_ms": round(timings.median(name, "dump") * ms, 1),
            **({} if name == "pickle" else {
                "load_ms": round(timings.median(name, "load") * ms, 1),
                "serialize_ms": round(timings.median(name, "serialize") * ms, 2),
                "parse_ms": round(timings.median(name, "parse") * ms, 2),
            }),
        }
        for name in ("msgpack", "json", "pickle")
    }
    mp, js = figures["msgpack"], figures["json"]
    figures["msgpack / json"] = {
        key: round(mp[key] / js[key], 3) for key in mp if js.get(key)
    }
    EXTRA[f"snapshot serializers ({len(venue.index.by_id):,} orders and rows)"] = figures
    # the reasons format 3 uses msgpack: smaller before and after zlib, and faster to
    # serialize and parse the same tree
    assert mp["raw_bytes"] < js["raw_bytes"] and mp["zlib_bytes"] <= js["zlib_bytes"]
