"""Every invariant check fires on the corruption it exists for.

The property tests run ``check_invariants()`` after every step, and it has
never raised there — which is only worth something if each of its checks can
raise.  Each case below corrupts one thing in a venue that has something in
every part of its state (``test_state_hash.rich_venue``), minimally, so that
exactly one check is the first to notice; the test asserts that
``check_invariants()`` raises ``InvariantError`` from that check.  The last
test finds every ``raise InvariantError`` in ``engine/core`` and
``engine/venue`` in the source and asserts a case reaches each one.
"""

from __future__ import annotations

import ast
import copy
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_state_hash import rich_venue

from engine import Exchange
from engine.core.book import Level
from engine.core.enums import OrderStatus, PositionSide, Side
from engine.core.errors import InvariantError
from engine.core.ledger import AccountState
from engine.core.order import Order
from engine.core.orderindex import OrderIndex
from engine.venue.state import Account

ROOT = Path(__file__).resolve().parent.parent
NEW = OrderStatus.NEW


# -- finding things in the rich venue ------------------------------------------------------
def orders(ex: Exchange, **match: Any) -> list[Order]:
    """Every order (or row) of the venue whose attributes equal ``match``."""
    return [o for _, o in sorted(ex._index.by_id.items())
            if all(getattr(o, k) == v for k, v in match.items())]


def resting(ex: Exchange, side: Side = Side.SELL) -> tuple[Any, int, Level, Order]:
    """(levels, key, level, order) of the best unfilled resting order on ``side`` of BTCUSDT."""
    book = ex._markets["BTCUSDT"].book
    levels = book.asks if side is Side.SELL else book.bids
    for key, level in levels.items():
        for o in level.orders.values():
            if o.status is NEW:
                return levels, key, level, o
    raise LookupError(side)


def row(ex: Exchange, **match: Any) -> Any:
    return orders(ex, is_trigger=True, **match)[0]


def partly_filled_parent(ex: Exchange) -> Order:
    return orders(ex, cid="parent")[0]


def resting_parent_with_fills(ex: Exchange) -> Order:
    parent = orders(ex, cid="partial")[0]
    assert parent.status is OrderStatus.PARTIALLY_FILLED
    return parent


def trailing(ex: Exchange) -> Any:
    return orders(ex, is_trigger=True, status=NEW, rate=10)[0]


def standalone_armed(ex: Exchange) -> Any:
    return orders(ex, is_trigger=True, status=NEW, armed=True, parent=None, rate=0)[0]


def cancelled_parent_row(ex: Exchange) -> Any:
    """The stop-loss row of alice's cancelled bare parent (both CANCELED)."""
    return next(r for r in orders(ex, is_trigger=True, status=OrderStatus.CANCELED)
                if r.parent is not None and r.parent.status is OrderStatus.CANCELED)


def settled(ex: Exchange) -> None:
    """Forget the undo records an engine call made while corrupting (not part of the case)."""
    ex._undo.clear()


# -- the corruptions -------------------------------------------------------------------------
def _crossed(ex: Exchange) -> None:
    _levels, ask_key, _level, ask = resting(ex, Side.SELL)
    o = copy.copy(ask)
    o.order_id, o.side, o.price = 10**9, Side.BUY, ask_key + 1
    level = Level()
    level.orders[o.order_id] = o
    level.total = o.qty - o.executed
    ex._markets["BTCUSDT"].book.bids[-(ask_key + 1)] = level


def _not_fifo(ex: Exchange) -> None:
    _levels, _key, level, o = resting(ex)
    del level.orders[o.order_id]
    level.orders[o.order_id + 10**6] = o


def _unindex_row(ex: Exchange, r: Any) -> None:
    ex._registry.unindex(r)
    settled(ex)


def _row_pending(ex: Exchange, r: Any) -> None:
    _unindex_row(ex, r)
    r.armed = False


def _revive_cancelled_row(ex: Exchange, armed: bool) -> Any:
    r = cancelled_parent_row(ex)
    r.status, r.armed = NEW, armed
    ex._index.open_rows.setdefault((r.owner.name, r.inst.symbol), {})[r.order_id] = r
    _count_rows(ex, r.owner.name, 1)
    if armed:
        ex._registry.index(r)
        settled(ex)
    return r


def _two_rows_triggered(ex: Exchange) -> None:
    parent = partly_filled_parent(ex)
    for r in parent.rows:
        _unindex_row(ex, r)
        r.status = OrderStatus.TRIGGERED
        key = (r.owner.name, r.inst.symbol)
        del ex._index.open_rows[key][r.order_id]
        _count_rows(ex, r.owner.name, -1)
        ex._index.reducers.get(key, {}).pop(r.order_id, None)


def _count_rows(ex: Exchange, name: str, delta: int) -> None:
    """Keep the open-row count with the open sets (only the case's own check must notice)."""
    ex._index.count_rows(name, delta)
    settled(ex)


def _rename_account(ex: Exchange) -> None:
    a = ex._s.accounts["alice"]
    ex._s.accounts["alice"] = Account("alicia", a.api_key, a.api_secret)
    ex._s.by_key[a.api_key] = "alicia"


def _open_but_not_in_book(ex: Exchange) -> None:
    levels, key, level, o = resting(ex)
    if len(level.orders) == 1:
        del levels[key]
    else:
        del level.orders[o.order_id]
        level.total -= o.qty - o.executed


def _new_with_fills(ex: Exchange) -> None:
    _levels, _key, level, o = resting(ex)
    o.executed += 1
    level.total -= 1


def _filled(ex: Exchange) -> Order:
    return orders(ex, is_trigger=False, status=OrderStatus.FILLED)[0]


def _wrong_open_set(ex: Exchange) -> None:
    _levels, _key, _level, o = resting(ex)
    ex._index.open_orders.setdefault(("bob", "BTCUSDT"), {})[o.order_id] = o


def _cid_elsewhere(ex: Exchange) -> None:
    o = orders(ex, cid="bid0")[0]
    ex._index.cids["carol"]["bid0"] = orders(ex, cid="bid1")[0]
    assert o.cid == "bid0"


def _views_disagree(ex: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    views = type(ex._accounts)
    real = views.balance_info

    def balance_info(self: Any, acct: Any) -> list[dict]:
        rows = real(self, acct)
        rows[0] = dict(rows[0], balance="0.00000001")
        return rows

    monkeypatch.setattr(views, "balance_info", balance_info)


def _view_not_money(ex: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    views = type(ex._accounts)
    real = views.account_info

    def account_info(self: Any, acct: Any, version: int = 3) -> dict:
        return dict(real(self, acct, version), availableBalance="1.5e3")

    monkeypatch.setattr(views, "account_info", account_info)


def _position(ex: Exchange, name: str, pside: PositionSide, symbol: str = "BTCUSDT") -> Any:
    return ex._ledger.accounts[name].positions[(symbol, pside)]


LONG, SHORT, BOTH = PositionSide.LONG, PositionSide.SHORT, PositionSide.BOTH

#: (what is corrupted, how, the start of the message the check raises)
def _delta(ex: Exchange, i: int, change: Callable[[tuple], tuple]) -> None:
    """Replace delta ``i`` of the event log's ring with ``change(delta)``."""
    ring = ex._s.events.ring
    ring[i] = change(ring[i])


def _fired_elsewhere(ex: Exchange) -> None:
    """The map of which row placed which order names another row for one of them."""
    events = ex._s.events
    events.fired_by(0)  # built on first use
    fired = events._fired
    child = min(fired)
    other = next(o.order_id for o in ex._index.by_id.values() if o.is_trigger
                 and o.order_id != fired[child])
    fired[child] = other


def _amendment(ex: Exchange, change: Callable[[tuple], tuple]) -> None:
    """Replace the last amendment of the (only) amended order with ``change(it)``."""
    (amends,) = ex._s.amendments.values()
    amends[-1] = change(amends[-1])


def _gtd_order(ex: Exchange) -> Order:
    """The rich venue's open GTD order."""
    (o,) = (o for o in ex._index.by_id.values() if o.gtd and o.is_open)
    return o


CASES: list[tuple[str, Callable[..., None], str]] = [
    # the books
    ("an empty price level", lambda ex: ex._markets["BTCUSDT"].book.asks.__setitem__(
        10**7, Level()), "BTCUSDT: empty level"),
    ("a level keyed by another id", _not_fifo, "BTCUSDT: level"),
    ("a resting order's price", lambda ex: setattr(resting(ex)[3], "price",
                                                   resting(ex)[3].price + 1), "Order("),
    ("a resting order closed", lambda ex: setattr(resting(ex)[3], "status",
                                                  OrderStatus.CANCELED), "Order("),
    ("a level's total", lambda ex: setattr(resting(ex)[2], "total", resting(ex)[2].total + 1),
     "BTCUSDT: level"),
    ("a bid above the best ask", _crossed, "BTCUSDT: book crossed"),
    # the ledger
    ("frozen margin below zero", lambda ex: setattr(ex._ledger.accounts["alice"], "frozen_e8",
                                                    -1), "alice: negative frozen margin"),
    ("a flat position with cost", lambda ex: setattr(_position(ex, "bob", BOTH), "qty", 0),
     "bob BTCUSDT BOTH: flat with cost"),
    ("a flat position with opening fees only",
     lambda ex: [setattr(_position(ex, "bob", BOTH), field, 0) for field in ("qty", "cost_e8")],
     "bob BTCUSDT BOTH: flat with cost"),
    ("an isolated wallet on a cross position",
     lambda ex: setattr(_position(ex, "bob", BOTH), "iso_e8", 5),
     "bob BTCUSDT BOTH: isolated wallet 5 on a flat or cross position"),
    ("a LONG position below zero", lambda ex: setattr(_position(ex, "dave", LONG), "qty", -1),
     "dave BTCUSDT: negative LONG position"),
    ("a SHORT position above zero", lambda ex: setattr(_position(ex, "dave", SHORT), "qty", 1),
     "dave BTCUSDT: positive SHORT position"),
    ("a wallet", lambda ex: setattr(ex._ledger.accounts["bob"], "wallet_e8",
                                    ex._ledger.accounts["bob"].wallet_e8 + 1),
     lambda ex: "value not conserved: Σ(wallet − cost) + fees = {} != deposits {}".format(
         *(lambda d: (d + 1, d))(sum(a.deposits_e8 for a in ex._ledger.accounts.values())))),
    # the order index
    ("an open set's order replaced", lambda ex: ex._index.by_id.__setitem__(
        resting(ex)[3].order_id, copy.copy(resting(ex)[3])), "open set holds stray order"),
    ("an order in another account's open set", _wrong_open_set, "Order("),
    ("an open order missing from its open set", lambda ex: ex._index.open_orders[
        ("carol", "BTCUSDT")].pop(resting(ex)[3].order_id), "an open order is missing"),
    ("a filled order among the reducers", lambda ex: ex._index.reducers.setdefault(
        ("alice", "BTCUSDT"), {}).__setitem__(_filled(ex).order_id, _filled(ex)),
     "reducer set holds"),
    ("a client id pointing at another order", _cid_elsewhere, "client id 'bid0'"),
    ("an account's count of open rows", lambda ex: _count_rows(ex, "bob", 1),
     lambda ex: f"bob: the open-row count says {ex._index.open_row_count['bob']}, "
                f"the open sets hold {ex._index.open_row_count['bob'] - 1} rows"),
    ("an open-row count of zero kept as an entry", lambda ex: ex._index.open_row_count
     .__setitem__("carol", 0), "carol: the open-row count says 0, the open sets hold 0"),
    # the trigger index
    ("a stray id in the fire index", lambda ex: ex._registry._fall[
        ("BTCUSDT", standalone_armed(ex).working_type)].add((-1, 10**9)),
     "trigger index holds stray id 1000000000"),
    ("an armed row's stop price", lambda ex: setattr(
        row(ex, cid="breakout"), "stop_price", row(ex, cid="breakout").stop_price + 1),
     lambda ex: f"{row(ex, cid='breakout')!r} indexed at the wrong price or side"),
    ("a stray id in the trailing index", lambda ex: ex._registry._trailing[
        ("BTCUSDT", trailing(ex).working_type)].__setitem__(10**9, trailing(ex)),
     "trailing index holds stray id 1000000000"),
    ("an armed row outside the fire index", lambda ex: ex._registry.armed.__setitem__(
        10**9, trailing(ex)),
     lambda ex: f"trigger index size {len(ex._registry) - 1} != armed rows "
                f"{len(ex._registry)}"),
    ("an indexed row not ARMED", lambda ex: setattr(trailing(ex), "armed", False),
     lambda ex: f"{trailing(ex)!r} is indexed but not ARMED"),
    # the venue's own tables
    ("the scratch of a command", lambda ex: setattr(ex._s, "dirty", True),
     "a command's scratch"),
    ("the list of symbols", lambda ex: ex._s.symbols.append("XRPUSDT"), "symbols"),
    ("a market's instrument", lambda ex: setattr(ex._markets["ETHUSDT"], "inst", copy.copy(
        ex._markets["ETHUSDT"].inst)), "ETHUSDT: the market's instrument"),
    ("the api-key table", lambda ex: ex._s.by_key.__setitem__("k", "alice"),
     "api keys and accounts disagree"),
    ("an account only in the ledger", lambda ex: ex._ledger.accounts.__setitem__(
        "zed", AccountState("zed", 0)), "the ledger's accounts are not the venue's"),
    ("an account filed under another name", _rename_account, "an account is filed"),
    ("a rule's room", lambda ex: setattr(ex._cancels, "_index", OrderIndex(ex._undo)),
     "Cancels: its index"),
    ("a rule's peer", lambda ex: delattr(ex._cancels, "_runner"), "Cancels: peer runner"),
    # orders, rows and positions across owners
    ("an open order out of the book", _open_but_not_in_book, "Order("),
    ("a filled order executed past its quantity", lambda ex: setattr(
        _filled(ex), "executed", _filled(ex).qty + 1), "Order("),
    ("a filled order with leaves", lambda ex: setattr(
        _filled(ex), "executed", _filled(ex).qty - 1), "Order("),
    ("a NEW order with fills", _new_with_fills, "Order("),
    ("frozen margin against the open orders", lambda ex: setattr(
        ex._ledger.accounts["carol"], "frozen_e8", ex._ledger.accounts["carol"].frozen_e8 + 1),
     "carol: frozen"),
    ("an ARMED row out of the fire index", lambda ex: _unindex_row(ex, standalone_armed(ex)),
     "TriggerRow("),
    ("a reduce-only row armed with nothing to reduce", lambda ex: setattr(
        trailing(ex), "pside", SHORT), "TriggerRow("),
    ("a standalone row PENDING", lambda ex: _row_pending(ex, standalone_armed(ex)),
     "TriggerRow("),
    ("a row missing from its parent", lambda ex: partly_filled_parent(ex).rows.pop(),
     "TriggerRow("),
    ("a PENDING row of a closed parent", lambda ex: _revive_cancelled_row(ex, False),
     "TriggerRow("),
    ("a PENDING row of a parent with fills", lambda ex: _row_pending(
        ex, resting_parent_with_fills(ex).rows[0]), "TriggerRow("),
    ("an ARMED row of a cancelled parent", lambda ex: _revive_cancelled_row(ex, True),
     "TriggerRow("),
    ("two rows of one parent TRIGGERED", _two_rows_triggered, "parent"),
    ("positions that do not sum to zero", lambda ex: setattr(
        _position(ex, "bob", BOTH), "qty", _position(ex, "bob", BOTH).qty + 1),
     "BTCUSDT: positions sum to"),
    # the event log
    ("an event back in time", lambda ex: _delta(ex, -1, lambda d: (*d[:2], 0, *d[3:])),
     "an event goes back in time"),
    ("an event of an unknown order", lambda ex: ex._s.events.ring.append(10**9),
     "an event of an unknown order"),
    ("a placed order filed under another row", _fired_elsewhere, "order "),
    # order modify: the amendments kept chain to the order as it is
    ("an amendment's price after", lambda ex: _amendment(ex, lambda a: (*a[:3], a[3] + 1, *a[4:])),
     "order "),
    # GTD expiries: each entry after the clock, once, naming its order; each open
    # GTD order scheduled
    ("an expiry due at the clock", lambda ex: setattr(ex._s, "now", ex._s.expiries[0][0]),
     "expiry ("),
    ("an expiry scheduled twice", lambda ex: ex._s.expiries.add(ex._s.expiries[0]),
     "an expiry is scheduled twice"),
    ("a GTD order's goodTillDate", lambda ex: setattr(_gtd_order(ex), "gtd",
                                                      _gtd_order(ex).gtd + 1000), "expiry ("),
    ("an open GTD order unscheduled", lambda ex: ex._s.expiries.pop(0), "Order("),
    # the account views
    ("a view of the balance", _views_disagree, "alice: wallet differs"),
    ("a view that is not an amount of money", _view_not_money, "'1.5e3' is not an amount"),
]


def _raised_at(excinfo: pytest.ExceptionInfo) -> tuple[str, int]:
    frame = traceback.extract_tb(excinfo.tb)[-1]
    return str(Path(frame.filename).resolve().relative_to(ROOT)), frame.lineno or 0


def _provoke(corrupt: Callable[..., None], monkeypatch: pytest.MonkeyPatch
             ) -> tuple[Exchange, pytest.ExceptionInfo]:
    ex = rich_venue()
    if corrupt.__code__.co_argcount == 2:
        corrupt(ex, monkeypatch)
    else:
        corrupt(ex)
    with pytest.raises(InvariantError) as excinfo:
        ex.check_invariants()
    return ex, excinfo


def _message_pattern(site: tuple[str, int]) -> str:
    """A regex for the message raised at ``site``: its literal text, each formatted value
    a group."""
    path, line = site
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Raise) and node.lineno == line:
            arg = node.exc.args[0]  # type: ignore[union-attr]
            values = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
            return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else "(.*)"
                           for v in values)
    raise LookupError(site)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_check_raises_on_the_corruption_it_guards_against(case, monkeypatch):
    _what, corrupt, message = case

    ex, excinfo = _provoke(corrupt, monkeypatch)

    text = str(excinfo.value)
    if callable(message):  # the whole message, values and all
        assert text == message(ex)
    else:
        assert text.startswith(message), text
    # the whole message is the check's own text around the values it names
    assert re.fullmatch(_message_pattern(_raised_at(excinfo)), text), text


def check_sites() -> set[tuple[str, int]]:
    """(file, line) of every ``raise InvariantError`` in the venue's code."""
    sites = set()
    for base in ("engine/core", "engine/venue"):
        for path in sorted((ROOT / base).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                        getattr(node.exc.func, "id", None) == "InvariantError":
                    sites.add((str(path.relative_to(ROOT)), node.lineno))
    return sites


def test_every_check_in_the_engine_is_reached_by_a_case(monkeypatch):
    reached = set()
    for _what, corrupt, _message in CASES:
        with monkeypatch.context() as m:
            _ex, excinfo = _provoke(corrupt, m)
        frame = _raised_at(excinfo)
        # a message spread over lines raises from its first line
        reached.add(frame)
    sites = check_sites()

    assert len(sites) > 40
    assert sorted(sites - reached) == []
