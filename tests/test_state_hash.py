"""``state_hash()`` sees every part of the venue's state, found by walking the state itself.

The suite's main oracle is "a refused command leaves ``state_hash()`` unchanged";
it is only as good as what the hash reads.  These tests do not list the parts
by hand: they walk the objects a venue holds — every slot of every object
reachable from its :class:`~engine.venue.state.VenueState`, every entry of every
dict, list, set and sorted container, every field of every tuple — and change
each one in turn, alone, in a venue that has something in every part (hedge
and one-way accounts, fills, trades and income of every kind, a liquidation,
TP/SL, trailing and standalone triggers, fired and cancelled rows, algo
orders, client ids, a countdown, a GTD order and its expiry, a price-matched
order, the tape with a quote and queue positions).
Each change must move the hash, and undoing it must bring the hash back.  A
field added to any class is walked too, so it is either hashed or named
below with its reason.

What the hash leaves out, on purpose (``NOT_STATE``): the machinery (the undo
log, the journal, callbacks), a command's scratch (empty between commands,
which ``VenueState._check`` asserts), caches that are rebuilt on demand, and
the speed switch of the fast paths (``tests/test_fast_paths.py`` holds both
paths to the same answers).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sortedcontainers import SortedDict, SortedList

from engine import Exchange
from engine.venue import commands as cmd

#: (class name, slot) → why the hash does not read it
NOT_STATE: dict[tuple[str, str], str] = {
    ("VenueState", "undo"): "the undo log: empty between commands (VenueState._check)",
    ("VenueState", "journal"): "where commands are written, not what the venue holds",
    ("VenueState", "fast_paths"): "a speed switch: both paths give the same answers and states",
    ("VenueState", "dirty"): "settle scratch, false between commands (VenueState._check)",
    ("VenueState", "touched"): "settle scratch, empty between commands (VenueState._check)",
    ("VenueState", "risk_names"): "settle scratch, empty between commands (VenueState._check)",
    ("VenueState", "risk_all"): "settle scratch, false between commands (VenueState._check)",
    ("VenueState", "events"): "the event log: what commands yielded, for readers (streams, "
        "the backtest's callbacks); empty of pending deltas between commands "
        "(EventLog._check), and a restored venue starts with an empty ring",
    ("Ledger", "_undo"): "the shared undo log",
    ("Ledger", "_mark_of"): "a callback reading the markets' marks, which are hashed",
    ("OrderIndex", "_undo"): "the shared undo log",
    ("Position", "open_fee_e8"): "the commissions of the fills that opened the position (for "
        "breakEvenPrice): those fills and their fees are hashed in the account's trade rows; "
        "snapshots carry it and replay rebuilds it; hashing it would move every hash pinned "
        "in tests/fixtures/pre_layout",
    ("Level", "rank"): "the place keys of amended orders in their level's queue, for a "
        "rollback to put an order back at its place: the queue itself, which the hash "
        "reads, is what they describe (and Level._check holds it to them)",
    ("OrderBook", "update_id"): "the book's change count (lastUpdateId of depth/bookTicker): "
        "the levels it counts are hashed; snapshots carry it and replay rebuilds it "
        "(tests/test_book_update_id.py); hashing it would move every hash pinned in "
        "tests/fixtures/pre_layout",
    ("OrderIndex", "open_row_count"): "a running count of open_rows (hashed), which "
                                      "OrderIndex._check recounts; hashing it would move "
                                      "every hash pinned in tests/fixtures/pre_layout",
    ("TriggerRegistry", "_undo"): "the shared undo log",
    ("OrderBook", "_undo"): "the shared undo log",
    ("Market", "_undo"): "the shared undo log",
    ("Order", "tmpl"): "memo of the order's wire template, rebuilt from hashed fields",
    ("TriggerRow", "tmpl"): "memo of the row's wire template, rebuilt from hashed fields",
    ("Instrument", "_price_cache"): "memo of price strings, rebuilt from the tick grid",
    ("Instrument", "_qty_cache"): "memo of quantity strings, rebuilt from the lot grid",
    ("Instrument", "wire_templates"): "memo of order-object templates, rebuilt on demand",
    ("Instrument", "parse_memo"): "memo of wire strings that parsed cleanly",
}

_LEAVES = (int, str, type(None), enum.Enum, Decimal)


def rich_venue() -> Exchange:
    """A venue with something in every part of its state."""
    ex = Exchange()
    for name, balance in (("alice", "50000"), ("bob", "50000"), ("carol", "100000"),
                          ("dave", "50000"), ("erin", "20")):
        ex.create_account(name, balance=balance)
    ex.set_mark_price("BTCUSDT", "30000")
    ex.set_mark_price("ETHUSDT", "2000")
    a, b, c, d, e = (ex.client(n) for n in ("alice", "bob", "carol", "dave", "erin"))
    for i in range(3):
        c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                    quantity="0.050", price=f"{30010 + 10 * i}")
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.050", price=f"{29990 - 10 * i}", newClientOrderId=f"bid{i}")
    # a protected parent, partly filled, its rows armed; a cancelled and a fired row
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.013", price="29995", takeProfitPrice="31000",
                stopLossPrice="29000", newClientOrderId="parent")
    b.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.005")
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.004", price="29000", stopLossPrice="28000")
    a.cancel_order(symbol="BTCUSDT", orderId=ex._s.last_id)  # a cancelled row
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.004", price="28900", stopLossPrice="28000")
    a.cancel_order(symbol="BTCUSDT", orderId=ex._s.last_id - 1)  # a cancelled parent
    c.modify_order(symbol="BTCUSDT", side="BUY", quantity="0.060", price="29975",
                   origClientOrderId="bid2")  # an amended order
    # a GTD order (its scheduled expiry) and one whose price a priceMatch mode chose
    c.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTD",
                quantity="0.010", price="30500", goodTillDate=ex.now + 3_600_000)
    c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.010", priceMatch="QUEUE_5")
    # a reduce-only limit; standalone stops, one by client id; an algo row
    a.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.001", price="30500", reduceOnly="true")
    b.new_order(symbol="BTCUSDT", side="BUY", type="STOP", quantity="0.010", price="31600",
                stopPrice="31500", newClientOrderId="breakout")
    b.new_order(symbol="ETHUSDT", side="SELL", type="STOP_MARKET", quantity="0.2",
                stopPrice="1900")
    cmd.new_algo_order(ex, ex.account_state("bob"), {
        "algoType": "CONDITIONAL", "symbol": "ETHUSDT", "side": "BUY",
        "type": "TAKE_PROFIT_MARKET", "quantity": "0.3", "triggerPrice": "1950"})
    # hedge mode, both sides open; leverage; funding
    d.change_position_mode(dualSidePosition="true")
    d.change_leverage(symbol="BTCUSDT", leverage=7)
    d.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.004",
                positionSide="LONG")
    d.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.004",
                positionSide="SHORT")
    ex.settle_funding("BTCUSDT", "0.0001")
    # isolated margin: dave's ETHUSDT LONG, its wallet topped up
    d.change_margin_type(symbol="ETHUSDT", marginType="ISOLATED")
    c.new_order(symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.5", price="2000")
    d.new_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.5",
                positionSide="LONG")
    d.modify_isolated_position_margin(symbol="ETHUSDT", amount="7.5", type=1,
                                      positionSide="LONG")
    # a stop that fires (its child, triggered_id), and erin's liquidation
    b.new_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", quantity="0.004",
                stopPrice="29700", workingType="MARK_PRICE")
    e.change_leverage(symbol="BTCUSDT", leverage=100)
    e.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.030")
    ex.set_mark_price("BTCUSDT", "29400")
    ex.set_mark_price("BTCUSDT", "30100")
    # a trailing stop, activated: its extreme is set
    a.new_order(symbol="BTCUSDT", side="SELL", type="TRAILING_STOP_MARKET", quantity="0.002",
                callbackRate="1", workingType="MARK_PRICE", reduceOnly="true",
                activationPrice="30150")
    ex.set_mark_price("BTCUSDT", "30200")
    # a parent partly filled: its rows armed while it rests
    a.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="30000", stopLossPrice="29000",
                newClientOrderId="partial")
    c.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.004")
    c.countdown_cancel_order(symbol="ETHUSDT", countdownTime=60000)
    ex.advance(5)
    # replayed market data: a quote, and an order queued behind it
    ex.enable_tape(queue=True)
    ex.tape_quote("BTCUSDT", 299950, 7, 300100, 9, ex.now + 1)
    c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.010", price="29995")
    ex.tape_trade("BTCUSDT", 299900, 3, True, ex.now + 1)
    ex.check_invariants()
    return ex


# -- the walk ------------------------------------------------------------------------------
Change = Callable[[], Callable[[], None]]  # apply a change; returns its undo


def _slots(obj: Any) -> list[str]:
    names: list[str] = []
    for klass in type(obj).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if name not in names and name != "__weakref__":
                names.append(name)
    return names


def _other(value: Any) -> Any:
    """A different value of the same kind (None becomes an int)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, enum.Enum):
        return next(m for m in type(value) if m is not value)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "~"
    if isinstance(value, Decimal):
        return value + 1
    if value is None:
        return 1
    if value == ():
        return (0,)
    raise TypeError(value)


def _is_leaf(value: Any) -> bool:
    return isinstance(value, _LEAVES) or (
        isinstance(value, tuple) and all(_is_leaf(v) for v in value)
    )


def _variants(value: Any) -> Iterator[tuple[str, Any]]:
    """Each way to change one field of a leaf: (where, the changed value)."""
    if isinstance(value, tuple) and value:
        for i, v in enumerate(value):
            for where, w in _variants(v):
                yield f"[{i}]{where}", value[:i] + (w,) + value[i + 1:]
    else:
        yield "", _other(value)


def walk(root: Any, empty: set[str] | None = None) -> Iterator[tuple[str, Change]]:
    """Every changeable place under ``root``: (its kind, a function that changes it).

    ``empty`` collects the kinds of the empty containers met (nothing to change there)."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(type(root).__name__, root)]
    while stack:
        kind, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if empty is not None and isinstance(obj, (dict, list, set)) and not obj:
            empty.add(kind)
        if isinstance(obj, (dict, SortedDict)):
            yield from _dict_places(kind, obj, stack)
        elif isinstance(obj, (list, SortedList, set)):
            yield from _seq_places(kind, obj, stack)
        elif isinstance(obj, tuple):
            for v in obj:
                if not _is_leaf(v):
                    stack.append((kind + "[*]", v))
        elif hasattr(type(obj), "__slots__") or hasattr(obj, "__dict__"):
            names = _slots(obj) if hasattr(type(obj), "__slots__") else sorted(vars(obj))
            for name in names:
                if not hasattr(obj, name):
                    continue
                place = f"{type(obj).__name__}.{name}"
                if (type(obj).__name__, name) in NOT_STATE:
                    yield place, _not_state
                    continue
                value = getattr(obj, name)
                if _is_leaf(value):
                    for where, other in _variants(value):
                        yield place + where, _set_attr(obj, name, value, other)
                else:
                    stack.append((place, value))


def _not_state() -> Callable[[], None]:
    raise AssertionError("not a change")


def _set_attr(obj: Any, name: str, value: Any, other: Any) -> Change:
    def change() -> Callable[[], None]:
        object.__setattr__(obj, name, other)
        return lambda: object.__setattr__(obj, name, value)
    return change


def _dict_places(kind: str, d: Any, stack: list) -> Iterator[tuple[str, Change]]:
    # an empty table under a key is not state (the owners create them freely)
    droppable = [k for k, v in d.items() if not (hasattr(v, "__len__") and not len(v)
                                                 and not isinstance(v, (str, tuple)))]
    for key, value in list(d.items()):
        if droppable and key == droppable[0]:
            def drop(key: Any = key) -> Callable[[], None]:
                items = list(d.items())  # a dict keeps its order: put it back as it was
                del d[key]
                return lambda: (d.clear(), d.update(items))
            yield kind + "{-}", drop
        if _is_leaf(value):
            for where, other in _variants(value):
                def change(key: Any = key, value: Any = value, other: Any = other) -> Change:
                    d[key] = other
                    return lambda: d.__setitem__(key, value)
                yield kind + "{*}" + where, change
        else:
            stack.append((kind + "{*}", value))


def _seq_places(kind: str, seq: Any, stack: list) -> Iterator[tuple[str, Change]]:
    items = list(seq)
    for i, value in enumerate(items):
        if i == 0:
            if isinstance(seq, list):
                def drop() -> Callable[[], None]:
                    first = seq.pop(0)
                    return lambda: seq.insert(0, first)
            else:
                def drop(value: Any = value) -> Callable[[], None]:
                    seq.remove(value)
                    return lambda: seq.add(value)
            yield kind + "[-]", drop
        if _is_leaf(value) and isinstance(seq, list):
            for where, other in _variants(value):
                def change(i: int = i, value: Any = value, other: Any = other) -> Change:
                    seq[i] = other
                    return lambda: seq.__setitem__(i, value)
                yield kind + "[*]" + where, change
        elif not _is_leaf(value):
            stack.append((kind + "[*]", value))


# -- the tests ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def venue() -> Exchange:
    return rich_venue()


def test_every_part_of_the_state_moves_the_hash_and_only_the_named_parts_do_not(venue):
    base = venue.state_hash()
    blind: list[str] = []
    places: dict[str, int] = {}
    for kind, change in walk(venue._s):
        places[kind] = places.get(kind, 0) + 1
        if change is _not_state:
            continue
        undo = change()
        try:
            moved = venue.state_hash() != base
        except (AttributeError, TypeError, KeyError):
            moved = True  # an int where an object was: the hash reads the place
        finally:
            undo()
        if not moved and kind not in blind:
            blind.append(kind)
        assert venue.state_hash() == base, f"undoing the change of {kind} left it changed"
    assert blind == [], f"state_hash() does not see: {blind}"
    # the walk reached every part named in the module docstring
    assert len(places) > 80, sorted(places)


def test_the_venue_has_something_in_every_kind_of_container(venue):
    empty: set[str] = set()
    places = {kind for kind, _change in walk(venue._s, empty)}
    filled = {kind[:-3] for kind in places if kind.endswith(("[-]", "{-}"))}

    # a container that is empty everywhere would leave its entries' fields unwalked
    assert empty - filled == set()


def test_every_part_named_as_not_state_still_exists(venue):
    found = {kind for kind, change in walk(venue._s) if change is _not_state}

    assert found == {f"{k}.{n}" for k, n in NOT_STATE}
