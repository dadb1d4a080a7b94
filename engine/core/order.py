"""Order records: ordinary orders and trigger rows, as slotted integer records.

An :class:`Order` is owned by the exchange's order index; the book holds the
resting ones, the trigger registry holds the :class:`TriggerRow` ones.  Fields
are integers in engine units (``price`` in ticks, ``qty``/``executed`` in
lots, ``cum_quote_e8`` and ``margin0_e8`` in 10⁻⁸ USDT) plus wire enums.

Frozen margin (SPEC 6): ``margin0_e8`` is fixed at placement and never
recomputed; what is still frozen is ``ceil(margin0 × leaves / qty)``
(:meth:`Order.frozen_e8`), so a fill releases the order's share and a cancel
releases the rest, and nothing is ever recomputed from prices.

A trigger row's wire ``status`` is NEW while it is PENDING or ARMED (``armed``
tells them apart), then TRIGGERED, CANCELED or EXPIRED; :attr:`TriggerRow.state`
derives the lifecycle state from those two fields, so it cannot disagree.

Time in force GTD: ``gtd`` is the order's ``goodTillDate`` in ms (whole seconds), 0
for any other order; a GTD order is stored with ``tif`` GTC, so it rests and
matches as GTC does until the venue clock reaches ``gtd`` and expires it
(:meth:`engine.venue.cancel.Cancels.advance_to`).  ``price_match`` is the
``priceMatch`` mode that chose the order's price ("NONE" when a price was sent).

Client order ids: an order placed without ``newClientOrderId`` stores
``cid=None`` and reports ``AUTO_CID_PREFIX + orderId`` (saves a string per
order; the order index resolves such ids back to the order).

Memory: an ordinary resting order is one slotted object (no ``__dict__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.enums import (
    BUY,
    CONTRACT_PRICE,
    GTC,
    NEW,
    OPEN_STATUSES,
    STOP,
    STOP_MARKET,
    STP_NONE,
    TRAILING_STOP_MARKET,
    OrderStatus,
    OrderType,
    PositionSide,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerState,
    WorkingType,
)

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState

AUTO_CID_PREFIX = "x-sim-"


def row_rises(type_: OrderType, side: Side) -> bool:
    """True when a row of that type and side fires on a rising price (see TriggerRow.rises)."""
    buy = side is BUY
    if (
        type_ is STOP or type_ is STOP_MARKET
        or type_ is TRAILING_STOP_MARKET
    ):
        return buy
    return not buy


class Order:
    """One ordinary order (LIMIT or MARKET, including the child a trigger placed)."""

    __slots__ = (
        "order_id", "owner", "inst", "side", "pside", "type", "orig_type", "tif",
        "price", "stop_price", "qty", "executed", "cum_quote_e8", "reduce_only", "status",
        "time", "update_time", "cid", "stp", "margin0_e8", "rows", "working_type", "tmpl",
        "gtd", "price_match",
    )

    order_id: int
    owner: AccountState
    inst: Instrument
    side: Side
    pside: PositionSide
    type: OrderType
    orig_type: OrderType
    tif: TimeInForce
    price: int
    stop_price: int
    qty: int
    executed: int
    cum_quote_e8: int
    reduce_only: bool
    status: OrderStatus
    time: int
    update_time: int
    cid: str | None
    stp: SelfTradePrevention
    margin0_e8: int
    rows: list[TriggerRow] | None
    working_type: WorkingType
    #: memo of the wire template of this order's static fields (not state; see ``wire``)
    tmpl: dict | None
    #: goodTillDate in ms, 0 when the order is not GTD
    gtd: int
    #: the priceMatch mode that chose ``price`` ("NONE", "OPPONENT", "QUEUE_5", ...)
    price_match: str

    is_trigger = False

    def __init__(
        self, order_id: int, owner: AccountState, inst: Instrument, side: Side,
        pside: PositionSide, type_: OrderType, tif: TimeInForce, price: int, qty: int,
        reduce_only: bool, now: int, cid: str | None, stp: SelfTradePrevention,
        gtd: int = 0, price_match: str = "NONE",
    ) -> None:
        self.order_id = order_id
        self.owner = owner
        self.inst = inst
        self.side = side
        self.pside = pside
        self.type = type_
        self.orig_type = type_
        self.tif = tif
        self.price = price
        self.stop_price = 0
        self.qty = qty
        self.executed = 0
        self.cum_quote_e8 = 0
        self.reduce_only = reduce_only
        self.status = NEW
        self.time = now
        self.update_time = now
        self.cid = cid
        self.stp = stp
        self.margin0_e8 = 0
        self.rows = None
        self.working_type = CONTRACT_PRICE
        self.tmpl = None
        self.gtd = gtd
        self.price_match = price_match

    @property
    def client_order_id(self) -> str:
        """The wire clientOrderId (a derived one when none was sent)."""
        cid = self.cid
        return AUTO_CID_PREFIX + str(self.order_id) if cid is None else cid

    @property
    def leaves(self) -> int:
        """Lots still open (0 once the order is closed)."""
        return self.qty - self.executed if self.status in OPEN_STATUSES else 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def frozen_e8(self) -> int:
        """Margin still frozen for this order: ``ceil(margin0 × leaves / qty)``."""
        m = self.margin0_e8
        if not m or self.status not in OPEN_STATUSES:
            return 0
        return -(-m * (self.qty - self.executed) // self.qty)

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id}, {self.inst.symbol}, {self.side}, {self.type}, "
            f"price={self.price}, qty={self.qty}, executed={self.executed}, {self.status})"
        )


class TriggerRow(Order):
    """A conditional order in the trigger registry: attached TP/SL or standalone.

    Extra fields: ``armed`` (PENDING vs ARMED while NEW), ``parent`` (the order
    it protects, or None), ``cap`` (quantity cap sent with parentOrderId),
    ``close_position``, ``price_protect``, trailing ``activation`` (ticks or
    None), ``rate`` (callback in tenths of a percent), ``extreme`` (highest /
    lowest watched price since activation, None before), ``triggered_id``
    (the child's orderId once fired).
    """

    __slots__ = (
        "armed", "parent", "cap", "close_position", "price_protect", "activation", "rate",
        "extreme", "triggered_id",
    )

    armed: bool
    parent: Order | None
    cap: int | None
    close_position: bool
    price_protect: bool
    activation: int | None
    rate: int
    extreme: int | None
    triggered_id: int | None

    is_trigger = True

    def __init__(
        self, owner: AccountState, inst: Instrument, side: Side, pside: PositionSide,
        type_: OrderType, price: int, qty: int, now: int,
    ) -> None:
        """An unregistered row (id 0, GTC, not reduce-only yet); the caller sets the rest."""
        super().__init__(
            0, owner, inst, side, pside, type_, GTC, price, qty, False, now, None,
            STP_NONE,
        )
        self.armed = False
        self.parent = None
        self.cap = None
        self.close_position = False
        self.price_protect = False
        self.activation = None
        self.rate = 0
        self.extreme = None
        self.triggered_id = None

    @property
    def state(self) -> TriggerState:
        """PENDING / ARMED / TRIGGERED / CANCELED / EXPIRED, derived from status and armed."""
        status = self.status
        if status is NEW:
            return TriggerState.ARMED if self.armed else TriggerState.PENDING
        return TriggerState(status.value)

    @property
    def rises(self) -> bool:
        """True when the row fires on a rising price (price ≥ trigger), else on a falling one.

        STOP buys and TAKE_PROFIT sells fire upwards; STOP sells and TAKE_PROFIT buys
        downwards.  A trailing sell fires downwards, a trailing buy upwards.
        """
        return row_rises(self.orig_type, self.side)

    def __repr__(self) -> str:
        return (
            f"TriggerRow({self.order_id}, {self.inst.symbol}, {self.side}, {self.orig_type}, "
            f"stop={self.stop_price}, qty={self.qty}, {self.state})"
        )
