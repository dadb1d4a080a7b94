"""Everything one venue holds, in one place: the state owners and the venue's counters.

:class:`VenueState` is what the rules (``entry``, ``matching``, ``firing``,
``cancel``, ``settings``, ``risk``, ``tape``, ``algo``, ``views``) work on.
Each rule class takes it in its constructor and keeps references to exactly
the owners it touches — read a rule's ``__init__`` to see its room — and
reads the shared scalars (the clock, the id sequence, the update counter, the
settle flags) through it.  :class:`~engine.venue.exchange.Exchange` builds one
and assembles the rules around it; a snapshot is this object's graph, written as
plain values (:mod:`engine.persist.graph`).

Fields
------
State (part of ``state_hash()``, rolled back by the undo log):

* ``instruments`` (symbol → :class:`~engine.core.instrument.Instrument`),
  ``symbols`` (their names, sorted; changed in place), ``markets`` (symbol →
  :class:`~engine.core.market.Market`: book and prices);
* ``ledger`` (money and positions), ``index`` (every order, the open sets),
  ``registry`` (the fire index of ARMED trigger rows);
* ``accounts`` (name → :class:`Account`), ``by_key`` (api key → name),
  ``countdowns`` ((name, symbol) → deadline ms);
* ``expiries``: a ``SortedList`` of ``(goodTillDate, orderId)``, one entry per GTD
  order placed open (:meth:`VenueState.add_expiry`), popped when the clock reaches
  it (:meth:`~engine.venue.cancel.Cancels.advance_to`).  An order that closes
  before then keeps its entry until it falls due, when it is dropped (lazily:
  fills, cancels and liquidations need not know about it).  Every entry lies
  after the clock; hashed only when not empty;
* ``now`` (the venue clock, ms), ``last_id`` (the last order id given),
  ``update_id`` (committed commands that changed something), ``tape`` (the
  replay-mode configuration, or None);
* ``max_num_algo_orders`` (the venue's setting: how many untriggered trigger
  rows — conditional orders — one account may hold across all symbols; see
  :data:`DEFAULT_MAX_NUM_ALGO_ORDERS`).  Set when the venue is built, never
  changed by a command; hashed only when it is not the default, so hashes
  recorded before the setting existed still hold.

Machinery (not hashed): ``undo`` (the undo log every mutation writes to),
``events`` (the event log, :mod:`engine.core.events`: the deltas of the
command in flight and the ring of published ones; a restored venue starts
with an empty ring), ``journal`` (the open journal, or None), ``fast_paths`` (the inline hot paths
of cancel and placement: on unless a test compares them with the general
ones).

Per-command scratch, empty between commands — what the command in flight must
settle before it commits: ``dirty`` (something traded, armed, or moved a
price), ``touched`` ((name, symbol) → account: positions to sweep for
reduce-only expiry), ``risk_names`` (accounts to check for liquidation) and
``risk_all`` (check every account: a mark moved).

Determinism: nothing here reads a clock or draws a random number; api keys
derive from the account name (:func:`derive_key`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from engine.core.errors import InvariantError
from engine.core.events import EventLog
from engine.core.ledger import Ledger
from engine.core.orderindex import OrderIndex
from engine.core.triggers import TriggerRegistry
from engine.core.txn import UndoLog

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState
    from engine.core.market import Market
    from engine.core.order import Order

__all__ = [
    "DEFAULT_MAX_NUM_ALGO_ORDERS", "Account", "VenueState", "check_max_num_algo_orders",
    "derive_key",
]

#: Binance's cap on open conditional orders per account, across all symbols.  Binance's
#: USDⓈ-M change log, 2025-12-29 (https://developers.binance.com/docs/derivatives/change-log):
#: "The parameter "filterType": "MAX_NUM_ALGO_ORDERS" has been removed from the endpoint
#: GET /fapi/v1/exchangeInfo. The condtional order limits is 200 across all symbols."
#: A request past it is refused with -4045 MAX_STOP_ORDER_EXCEEDED "Reach max stop order
#: limit." (engine.venue.entry).
DEFAULT_MAX_NUM_ALGO_ORDERS = 200


def check_max_num_algo_orders(value: object) -> int:
    """``value`` as a cap on conditional orders: a positive int, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"max_num_algo_orders must be a positive int, not {value!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class Account:
    """An account's identity: name and API credentials.  Immutable."""

    name: str
    api_key: str
    api_secret: str


def derive_key(kind: str, name: str) -> str:
    """The deterministic api key (``kind="key"``) or secret of account ``name``."""
    return hashlib.sha256(f"fapisim/{kind}/{name}".encode()).hexdigest()


class VenueState:
    """One venue's state, its counters and the scratch of the command in flight."""

    #: the fields that are rebound, not mutated in place: read them through the state
    #: (a rule that copied one would hold a stale value)
    SCALARS = frozenset({
        "now", "last_id", "update_id", "tape", "journal", "fast_paths", "dirty", "risk_all",
        "max_num_algo_orders",
    })

    __slots__ = (
        "instruments", "symbols", "markets", "ledger", "index", "registry", "accounts",
        "by_key", "countdowns", "now", "last_id", "update_id", "tape", "max_num_algo_orders",
        "undo", "events", "journal", "fast_paths", "dirty", "touched",
        "risk_names", "risk_all", "amendments", "expiries",
    )

    def __init__(
        self, start_time: int, max_num_algo_orders: int = DEFAULT_MAX_NUM_ALGO_ORDERS
    ) -> None:
        """An empty venue state whose clock reads ``start_time``; ``max_num_algo_orders``
        is checked by :func:`check_max_num_algo_orders` (``ValueError``)."""
        self.max_num_algo_orders = check_max_num_algo_orders(max_num_algo_orders)
        self.undo = UndoLog()
        self.events = EventLog(self.undo, self)
        self.instruments: dict[str, Instrument] = {}
        self.symbols: list[str] = []
        self.markets: dict[str, Market] = {}
        self.ledger = Ledger(self.undo, self.mark_of)
        self.index = OrderIndex(self.undo)
        self.registry = TriggerRegistry(self.undo)
        self.accounts: dict[str, Account] = {}
        self.by_key: dict[str, str] = {}
        self.countdowns: dict[tuple[str, str], int] = {}
        self.now = start_time
        self.last_id = 0
        self.update_id = 0
        self.tape: Any = None  # engine.venue.tape.TapeConfig in replay mode
        self.journal: Any = None  # engine.persist.journal.Journal when journaling
        self.fast_paths = True
        self.dirty = False
        self.touched: dict[tuple[str, str], AccountState] = {}
        self.risk_names: set[str] = set()
        self.risk_all = False
        #: order id -> its amendments, oldest first (engine.venue.amend): each (event
        #: number, time, price, qty and margin0 before, then after, interleaved)
        self.amendments: dict[int, list[tuple[int, int, int, int, int, int, int, int]]] = {}
        #: (goodTillDate, order id) of each GTD order placed open, earliest first
        self.expiries: SortedList = SortedList()

    @property
    def event_seq(self) -> int:
        """The number of the newest event of the event log (how many events the venue's
        commands have yielded; a snapshot's metadata carries it)."""
        return self.events.last()  # type: ignore[no-any-return]

    def mark_of(self, symbol: str) -> int | None:
        """The mark price of ``symbol`` in ticks (the ledger's view of prices)."""
        return self.markets[symbol].mark_price()

    def next_order_id(self) -> int:
        """Take the next id of the venue-wide order sequence (undoable).  O(1)."""
        self.undo.append((setattr, self, "last_id", self.last_id))
        self.last_id += 1
        return self.last_id

    def add_expiry(self, order: Order) -> None:
        """Schedule the expiry of GTD ``order`` at its ``gtd`` (undoable).  O(log n)."""
        entry = (order.gtd, order.order_id)
        self.undo.append((self.expiries.remove, entry))
        self.expiries.add(entry)

    def set_now(self, ms: int) -> None:
        """Move the clock to ``ms`` (undoable; the caller checks it is not backwards)."""
        if ms != self.now:
            self.undo.append((setattr, self, "now", self.now))
            self.now = ms

    def _check(self) -> None:
        """Between commands: the scratch is empty and the undo log too; instruments,
        markets and symbols list the same contracts; accounts, keys and the ledger agree."""
        if self.undo or self.dirty or self.touched or self.risk_names or self.risk_all:
            raise InvariantError("a command's scratch or undo log outlived it")
        self.events._check()
        if not (sorted(self.instruments) == sorted(self.markets) == self.symbols):
            raise InvariantError(
                f"symbols {self.symbols} != instruments {sorted(self.instruments)}"
            )
        for symbol, market in self.markets.items():
            if market.inst is not self.instruments[symbol]:
                raise InvariantError(f"{symbol}: the market's instrument is not the listed one")
        if {a.api_key: a.name for a in self.accounts.values()} != self.by_key:
            raise InvariantError("api keys and accounts disagree")
        ledger_names = {n for n in self.ledger.accounts if not n.startswith("@")}
        if ledger_names != set(self.accounts):
            raise InvariantError("the ledger's accounts are not the venue's")
        if any(a.name != n for n, a in self.accounts.items()):
            raise InvariantError("an account is filed under another name")
        for oid, amends in self.amendments.items():  # each "after" is the next "before"
            o = self.index.by_id.get(oid)
            now = None if o is None else (o.price, o.qty, o.margin0_e8)
            if not amends or now != amends[-1][3::2] or any(
                    a[0] >= b[0] or a[3::2] != b[2::2]
                    for a, b in zip(amends, amends[1:], strict=False)):
                raise InvariantError(f"order {oid}: its amendments do not chain to it")
        self._check_expiries()

    def _check_expiries(self) -> None:
        """Each expiry entry is after the clock, once, and names an order of that
        goodTillDate (``check_orders`` holds every open GTD order to its entry)."""
        exp = self.expiries
        if exp and exp[0][0] <= self.now:
            raise InvariantError(f"expiry {exp[0]} is due at or before now {self.now}")
        if len(set(exp)) != len(exp):
            raise InvariantError("an expiry is scheduled twice")
        for gtd, oid in exp:
            o = self.index.by_id.get(oid)
            if o is None or o.gtd != gtd:
                raise InvariantError(f"expiry ({gtd}, {oid}) names no order of that goodTillDate")

    def clear_scratch(self) -> None:
        """Forget what the command in flight was to settle (it is being rolled back)."""
        self.dirty = False
        self.touched.clear()
        self.risk_names.clear()
        self.risk_all = False
