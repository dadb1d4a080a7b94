"""The venue: accounts, markets, the simulated clock, and the atomic command runner.

:class:`Exchange` orchestrates; it owns no rule of its own beyond sequencing.
State has one owner per piece:

* ``Market`` (per symbol) — the :class:`~engine.core.book.OrderBook` and the prices;
* :class:`~engine.core.ledger.Ledger` — wallets, frozen margin, positions, fees;
* :class:`~engine.core.orderindex.OrderIndex` — every order, open sets, client ids;
* :class:`~engine.core.triggers.TriggerRegistry` — the fire index of ARMED rows.

The rules live in the mixins: order entry (``entry``), matching and fills
(``matching``), trigger arming/evaluation/firing and reduce-only expiry
(``firing``), cancels (``cancel``), account settings (``settings``) and
read-only views (``views``).

Commands
--------
Every mutating call runs through :meth:`Exchange._run`: validate, then commit
while logging inverses to the undo log (``txn``), then *settle* — expire
reduce-only orders and trigger rows whose position has nothing left to reduce,
and evaluate triggers until nothing more fires — then format the response.
Any exception rolls the whole command back, so a rejected or failed command
leaves :meth:`state_hash` unchanged.  Atomicity costs one log entry per
mutation; nothing is copied.

Durability
----------
``Exchange(journal=path)`` writes every state-changing command to a JSON-lines
journal (:mod:`engine.persist.journal`); :meth:`Exchange.replay` rebuilds a venue from
one.  :meth:`Exchange.snapshot` / :meth:`Exchange.restore` turn the whole venue
into bytes and back (:mod:`engine.persist.snapshot`).  A journaled method starts with
``if self._journal is not None`` — the only cost without a journal.

Determinism
-----------
No wall clock (``now`` is the simulated clock, moved only by :meth:`advance`
and :meth:`set_time`), no randomness (api keys derive from the account name),
and nothing iterates a set into an output: symbols are visited in name order,
orders in id order.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.core.decimals import decimals_of, scaled_exact
from engine.core.enums import (
    CANCELED,
    FILLED,
    NEW,
    OrderStatus,
    PositionSide,
    TriggerState,
)
from engine.core.errors import InvariantError
from engine.core.instrument import Instrument, default_instruments
from engine.core.ledger import AccountState, Ledger
from engine.core.market import Market
from engine.core.orderindex import OrderIndex
from engine.core.triggers import TriggerRegistry
from engine.core.txn import Savepoint, UndoLog, rollback
from engine.venue.algo import AlgoMixin
from engine.venue.cancel import CancelMixin
from engine.venue.entry import EntryMixin
from engine.venue.firing import FiringMixin
from engine.venue.matching import MatchingMixin
from engine.venue.risk import RiskMixin
from engine.venue.settings import SettingsMixin
from engine.venue.tape import TapeMixin
from engine.venue.views import ViewsMixin
from engine.wire.params import parse_price, parse_symbol

if TYPE_CHECKING:
    from engine.core.order import Order
    from engine.persist.journal import Journal
    from engine.venue.client import Client

#: 2024-01-01T00:00:00Z — never 0, since clients skip rows whose updateTime is 0.
DEFAULT_START_MS = 1_704_067_200_000


@dataclass(frozen=True, slots=True)
class Account:
    """An account's identity: name and API credentials.  Immutable."""

    name: str
    api_key: str
    api_secret: str


def _derive_key(kind: str, name: str) -> str:
    return hashlib.sha256(f"fapisim/{kind}/{name}".encode()).hexdigest()


class Exchange(
    EntryMixin, MatchingMixin, FiringMixin, CancelMixin, SettingsMixin, ViewsMixin, AlgoMixin,
    RiskMixin, TapeMixin,
):
    """An in-memory USDⓈ-M perpetual futures venue.  Independent of every other instance.

    >>> ex = Exchange()
    >>> acct = ex.create_account("alice", balance="10000")
    >>> c = ex.client("alice")
    >>> o = c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
    ...                 quantity="0.010", price="30000", stopLossPrice="29000")
    >>> [o["status"], o["triggerOrders"][0]["type"]]
    ['NEW', 'STOP_MARKET']
    >>> c.cancel_order(symbol="BTCUSDT", orderId=o["orderId"])["triggerOrders"][0]["status"]
    'CANCELED'
    >>> ex.check_invariants()
    """

    def __init__(
        self,
        instruments: list[Instrument] | None = None,
        *,
        start_time: int = DEFAULT_START_MS,
        journal: str | os.PathLike[str] | None = None,
    ) -> None:
        """A venue listing ``instruments`` (default: SPEC 3's BTCUSDT and ETHUSDT) whose
        clock starts at ``start_time``; with ``journal``, every state-changing command
        is appended to that file (a new or empty one; see :mod:`engine.persist.journal`)."""
        #: the open journal, or None (then each journaled method pays one ``is None``)
        self._journal: Journal | None = None
        self._undo = UndoLog()
        self.now = start_time
        self._instruments: dict[str, Instrument] = {}
        self._markets: dict[str, Market] = {}
        self._symbols: list[str] = []
        self._ledger = Ledger(self._undo, self._mark_of)
        self._index = OrderIndex(self._undo)
        self._registry = TriggerRegistry(self._undo)
        self._accounts: dict[str, Account] = {}
        self._by_key: dict[str, str] = {}
        self._last_id: int = 0
        self._update_id = 0
        self._countdowns: dict[tuple[str, str], int] = {}
        #: inline hot paths for plain cancels and resting placements (not state; tests
        #: turn them off to show both paths leave identical venues)
        self._fast_paths = True
        #: replay mode (see ``tape``): None on a plain venue
        self._tape = None
        # per-command scratch (not state): positions touched, whether to settle, and
        # which accounts the risk check must look at (all of them after a mark move)
        self._dirty = False
        self._touched: dict[tuple[str, str], AccountState] = {}
        self._risk_names: set[str] = set()
        self._risk_all = False
        for inst in default_instruments() if instruments is None else instruments:
            self.add_instrument(inst)
        if journal is not None:
            from engine.persist.journal import Journal

            self._journal = Journal.create(self, journal)

    # -- set-up ------------------------------------------------------------------------
    def add_instrument(self, inst: Instrument) -> None:
        """List another perpetual.  Raises ``ValueError`` on a duplicate symbol."""
        if self._journal is not None:
            return self._journal.record(self, "add_instrument", None, inst)
        if inst.symbol in self._instruments:
            raise ValueError(f"symbol {inst.symbol!r} already listed")
        self._instruments[inst.symbol] = inst
        self._markets[inst.symbol] = Market(inst, self._undo)
        self._symbols = sorted(self._instruments)

    @property
    def instruments(self) -> dict[str, Instrument]:
        return dict(self._instruments)

    def create_account(
        self,
        name: str,
        balance: str | int | Decimal = "0",
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> Account:
        """Open an account with a USDT wallet of ``balance`` and return its :class:`Account`.

        Keys are derived from the name when not given (deterministic).  Raises
        ``ValueError`` on a duplicate name or key, or a balance that is not a
        non-negative amount with at most 8 decimals.
        """
        if self._journal is not None:
            return self._journal.record(
                self, "create_account", None, name, balance, api_key, api_secret
            )
        if not isinstance(name, str) or not name:
            raise ValueError(f"account name must be a non-empty string, not {name!r}")
        if name.startswith("@"):
            raise ValueError(f"account names starting with '@' are the venue's own: {name!r}")
        if name in self._accounts:
            raise ValueError(f"account {name!r} already exists")
        if isinstance(balance, bool) or not isinstance(balance, (str, int, Decimal)):
            raise ValueError(f"balance must be a str, int or Decimal, not {balance!r}")
        try:
            amount = Decimal(balance)
        except ArithmeticError:
            raise ValueError(f"balance {balance!r} is not a number") from None
        if not amount.is_finite() or amount < 0 or decimals_of(amount) > 8:
            raise ValueError(f"balance {balance!r} must be ≥ 0 with at most 8 decimals")
        e8 = scaled_exact(amount, 8)
        assert e8 is not None
        key = _derive_key("key", name) if api_key is None else api_key
        secret = _derive_key("secret", name) if api_secret is None else api_secret
        if key in self._by_key:
            raise ValueError(f"api key {key!r} already in use")
        account = Account(name, key, secret)

        def commit() -> Account:
            self._undo.append((self._accounts.pop, name))
            self._accounts[name] = account
            self._undo.append((self._by_key.pop, key))
            self._by_key[key] = name
            self._ledger.open_account(name, e8, self.now)
            return account

        return self._run(commit)

    def client(self, name: str) -> Client:
        """The in-process, UMFutures-shaped client of account ``name`` (``KeyError`` if none)."""
        from engine.venue.client import Client

        if name not in self._accounts:
            raise KeyError(name)
        return Client(self, self._ledger.accounts[name])

    def account(self, name: str) -> Account:
        """The :class:`Account` called ``name`` (``KeyError`` if none)."""
        return self._accounts[name]

    def account_state(self, name: str) -> AccountState:
        """The ledger state of account ``name``, which the API methods take (``KeyError``)."""
        if name not in self._accounts:
            raise KeyError(name)
        return self._ledger.accounts[name]

    def account_by_key(self, api_key: str) -> Account | None:
        name = self._by_key.get(api_key)
        return None if name is None else self._accounts[name]

    @property
    def accounts(self) -> list[Account]:
        return [self._accounts[n] for n in sorted(self._accounts)]

    # -- prices and clock -----------------------------------------------------------------
    def _mark_of(self, symbol: str) -> int | None:
        return self._markets[symbol].mark_price()

    def set_mark_price(self, symbol: str, price: str | int | Decimal) -> None:
        """Set the mark price of ``symbol``; triggers are evaluated before this returns."""
        if self._journal is not None:
            return self._journal.record(self, "set_mark_price", None, symbol, price)
        inst = parse_symbol({"symbol": symbol}, self._instruments)
        ticks = parse_price(price, inst)
        market = self._markets[symbol]

        def commit() -> None:
            market.set_mark(ticks)
            self._dirty = True
            self._risk_all = True  # every holder of a position is re-checked at the new mark

        self._run(commit)

    def advance(self, ms: int) -> None:
        """Move the simulated clock forward by ``ms`` (≥ 0); run countdowns that fall due."""
        if self._journal is not None:
            return self._journal.record(self, "advance", None, ms)
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise ValueError(f"advance needs a non-negative int of ms, not {ms!r}")
        self.set_time(self.now + ms)

    def set_time(self, ms: int) -> None:
        """Move the clock to ``ms`` if that is later (the REST server uses wall time)."""
        if self._journal is not None:
            return self._journal.record(self, "set_time", None, ms)
        if isinstance(ms, bool) or not isinstance(ms, int):
            raise ValueError(f"set_time needs an int of ms, not {ms!r}")
        if ms <= self.now:
            return
        self._run(self._advance_to, ms)

    def _advance_to(self, target: int) -> None:
        if not self._countdowns:  # the common case: nothing can fall due
            self._set_now(target)
            return
        while True:
            due = [(t, k) for k, t in self._countdowns.items() if t <= target]
            if not due:
                break
            deadline, key = min(due)
            self._set_now(deadline)
            self._undo.append((self._countdowns.__setitem__, key, deadline))
            del self._countdowns[key]
            name, symbol = key
            self._cancel_all(self._ledger.accounts[name], symbol)
        self._set_now(target)

    def _set_now(self, ms: int) -> None:
        if ms != self.now:
            self._undo.append((setattr, self, "now", self.now))
            self.now = ms

    def _next_order_id(self) -> int:
        self._undo.append((setattr, self, "_last_id", self._last_id))
        self._last_id += 1
        return self._last_id

    # -- the command runner -----------------------------------------------------------
    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one command atomically: commit, settle, or roll everything back."""
        return self._run_fmt(fn, None, *args)

    def _run_fmt(
        self, fn: Callable[..., Any], fmt: Callable[[Any], Any] | None, *args: Any
    ) -> Any:
        """Run one command atomically — commit, settle (reduce-only expiry, triggers,
        liquidation), or roll everything back — then format the result with ``fmt``."""
        try:
            result = fn(*args)
            if self._dirty:
                self._settle()
            out = result if fmt is None else fmt(result)
        except BaseException:
            self._abort()
            raise
        if self._undo:
            self._undo.clear()
            self._update_id += 1
        return out

    def _abort(self) -> None:
        """Roll the current command back: every logged mutation undone, settle flags reset."""
        self._dirty = False
        self._touched.clear()
        self._risk_names.clear()
        self._risk_all = False
        rollback(self._undo)

    def _atomic(self) -> _Atomic:
        """Run several commands as one transaction (``txn.Savepoint``): each still
        succeeds or is refused on its own, but an exception escaping the block undoes
        them all, update counter included.  Used by batch cancels and the journal."""
        return _Atomic(self)

    # -- durability ------------------------------------------------------------------------
    @property
    def journal(self) -> Journal | None:
        """The open :class:`~engine.persist.journal.Journal` (``path``, ``seq``), or None."""
        return self._journal

    def close_journal(self) -> None:
        """Close the journal file; the venue carries on without one."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def snapshot(self) -> bytes:
        """The whole venue as bytes (:mod:`engine.persist.snapshot`).  O(size of the venue)."""
        from engine.persist.snapshot import dump

        return dump(self)

    @classmethod
    def restore(cls, data: bytes) -> Exchange:
        """A new venue from :meth:`snapshot` bytes: the same ``state_hash()`` and the same
        answer to every later command.  Raises ``engine.persist.snapshot.SnapshotError`` (a
        ``ValueError``) on bytes that are not a whole, intact snapshot.  Trusted input
        only: the payload is a pickle."""
        from engine.persist.snapshot import load

        return load(data, cls)[0]

    @classmethod
    def replay(
        cls, path: str | os.PathLike[str], *, snapshot: bytes | None = None,
        resume: bool = False, strict: bool = False,
    ) -> Exchange:
        """A new venue rebuilt from the journal at ``path`` (:mod:`engine.persist.journal`).

        Every command must give the response it gave when journaled, else
        ``JournalError``.  A torn last line is skipped with a ``JournalTornWarning``
        (``strict``: ``JournalTornError``).  ``snapshot``: start from it and apply only
        the journal's tail.  ``resume``: keep journaling to ``path``.
        """
        from engine.persist.journal import replay_exchange

        return replay_exchange(path, snapshot=snapshot, resume=resume, strict=strict, cls=cls)

    # -- invariants and hashing --------------------------------------------------------
    def check_invariants(self) -> None:
        """Check every SPEC 6 invariant; raise :class:`~engine.core.errors.InvariantError`."""
        for m in self._markets.values():
            m.book._check()
        self._ledger._check()
        self._index._check()
        self._registry._check()
        self._check_orders()
        self._check_positions()
        self._check_views()

    def _check_orders(self) -> None:
        frozen: dict[str, int] = {name: 0 for name in self._ledger.accounts}
        resting: dict[int, Order] = {}
        for m in self._markets.values():
            for levels in (m.book.bids, m.book.asks):
                for level in levels.values():
                    for oid, o in level.orders.items():
                        if oid in resting:
                            raise InvariantError(f"order {oid} rests twice")
                        resting[oid] = o
        for oid, o in self._index.by_id.items():
            if o.is_trigger:
                self._check_row(o)  # type: ignore[arg-type]
                continue
            frozen[o.owner.name] += o.frozen_e8()
            in_book = oid in resting
            if o.is_open != in_book:
                raise InvariantError(f"{o!r}: open={o.is_open} but in book={in_book}")
            if o.executed > o.qty or o.executed < 0:
                raise InvariantError(f"{o!r}: executed outside [0, qty]")
            if o.status is FILLED and o.executed != o.qty:
                raise InvariantError(f"{o!r}: FILLED with leaves")
            if o.status is NEW and o.executed:  # the inline cancel relies on it
                raise InvariantError(f"{o!r}: NEW with fills")
        for name, acct in self._ledger.accounts.items():
            if acct.frozen_e8 != frozen[name]:
                raise InvariantError(
                    f"{name}: frozen {acct.frozen_e8} != Σ open orders' frozen {frozen[name]}"
                )

    def _check_row(self, r: Any) -> None:
        state = r.state
        armed_indexed = r.order_id in self._registry.armed
        if armed_indexed != (state is TriggerState.ARMED):
            raise InvariantError(f"{r!r}: indexed={armed_indexed} but state {state}")
        if state is TriggerState.ARMED and r.reduce_only and self._reducible(r) == 0:
            raise InvariantError(f"{r!r} ARMED on a flat position")
        parent = r.parent
        if parent is None:
            if state is TriggerState.PENDING:
                raise InvariantError(f"{r!r}: standalone row is PENDING")
            return
        if r not in (parent.rows or ()):
            raise InvariantError(f"{r!r} missing from its parent's OCO group")
        if state is TriggerState.PENDING and not parent.is_open:
            raise InvariantError(f"{r!r} PENDING but parent {parent.status}")
        if state is TriggerState.PENDING and parent.executed:
            raise InvariantError(f"{r!r} PENDING but parent has fills")
        if state is TriggerState.ARMED and parent.status is CANCELED:
            raise InvariantError(f"{r!r} ARMED but parent CANCELED")
        fired = sum(1 for s in parent.rows if s.status is OrderStatus.TRIGGERED)
        if fired > 1:
            raise InvariantError(f"parent {parent.order_id}: {fired} OCO rows TRIGGERED")

    def _check_positions(self) -> None:
        for symbol in self._symbols:
            total = 0
            for acct in self._ledger.accounts.values():
                for pside in PositionSide:
                    total += acct.position_qty(symbol, pside)
            if total:
                raise InvariantError(f"{symbol}: positions sum to {total}, not 0")

    def state_hash(self) -> str:
        """Hex SHA-256 of the whole venue state (canonical, order-independent of dicts)."""
        orders = tuple(_order_state(self._index.by_id[i]) for i in sorted(self._index.by_id))
        state = (
            self.now, self._last_id, self._update_id,
            None if self._tape is None else self._tape._state(),
            tuple(sorted(self._countdowns.items())),
            tuple(sorted((a.name, a.api_key, a.api_secret) for a in self._accounts.values())),
            tuple(self._markets[s]._state() for s in self._symbols),
            self._ledger._state(), self._index._state(), self._registry._state(), orders,
        )
        return hashlib.sha256(repr(state).encode()).hexdigest()


class _Atomic(Savepoint):
    """:meth:`Exchange._atomic`: a savepoint that also restores the update counter on
    failure, and commits to the enclosing level on success."""

    __slots__ = ("_ex", "_update_id")

    def __init__(self, ex: Exchange) -> None:
        super().__init__(ex._undo)
        self._ex, self._update_id = ex, ex._update_id

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        super().__exit__(kind, exc, tb)
        if kind is not None:
            self._ex._update_id = self._update_id
        else:
            self.log.clear()  # commit: at the top level this empties the log


def _order_state(o: Any) -> tuple:
    # ``_value_`` is ``value`` without the enum property's call: the property tests hash
    # the venue before every call, and this tuple is built for every order
    base = (
        o.order_id, o.owner.name, o.inst.symbol, o.side._value_, o.pside._value_,
        o.type._value_, o.orig_type._value_, o.tif._value_, o.price, o.stop_price, o.qty,
        o.executed, o.cum_quote_e8, o.reduce_only, o.status._value_, o.time, o.update_time,
        o.cid, o.stp._value_, o.margin0_e8, o.working_type._value_,
        None if o.rows is None else tuple(r.order_id for r in o.rows),
    )
    if not o.is_trigger:
        return base
    return base + (
        o.armed, None if o.parent is None else o.parent.order_id, o.cap, o.close_position,
        o.price_protect, o.activation, o.rate, o.extreme, o.triggered_id,
    )
