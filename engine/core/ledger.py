"""The margin ledger: wallets, frozen order margin, positions, fees, realized PnL.  No levels.

Units
-----
Money is integer 10⁻⁸ USDT (``*_e8``); positions are signed lots with a signed
cost ``Σ price × qty`` in 10⁻⁸ USDT.  Unrealized PnL = ``qty × mark − cost``.

Rounding (every rounding is against the account or toward zero, and moves no value)
-----------------------------------------------------------------------------------
* fees: ``ceil(notional × rate)``, paid into the venue's fee account;
* order margin and position initial margin: rounded up;
* realized PnL on a reducing fill: the exact value ``dq × (cost/qty − price)`` is
  rounded toward zero; the remainder stays in the position's cost, so a position
  closed to zero always ends with cost exactly 0.

A fill moves ``dq × price`` of cost between two accounts; a realized PnL moves
value from cost to wallet; a fee moves value from wallet to the fee account.
Hence the conservation law checked by :meth:`Ledger._check`::

    Σ (wallet − position cost) + fee account == Σ deposits − Σ withdrawals

Frozen order margin is the ledger's only running total: ``frozen_e8`` per
account, moved only by :meth:`freeze` and :meth:`release` (the exchange checks
it against the sum over open orders).

Every mutation logs its inverse to the shared undo log first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.core.enums import (
    LONG,
    SHORT,
    IncomeType,
    PositionSide,
    Side,
)
from engine.core.errors import InvariantError

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.txn import UndoLog

DEFAULT_LEVERAGE = 20


class Position:
    """Signed quantity (lots) and signed cost (10⁻⁸ USDT) of one (symbol, positionSide);
    ``open_fee_e8``: the commissions paid on the fills that opened what is held now (a
    reducing fill keeps the held share of it, rounded down; a flip keeps the opening
    part's share of its fee) — what ``breakEvenPrice`` folds into the entry price;
    ``iso_e8``: on an isolated symbol, the position's isolated wallet (the part of the
    account's wallet set aside as its margin; 0 on a cross symbol and when flat)."""

    __slots__ = ("qty", "cost_e8", "update_time", "open_fee_e8", "iso_e8")

    def __init__(self) -> None:
        self.qty = 0
        self.cost_e8 = 0
        self.update_time = 0
        self.open_fee_e8 = 0
        self.iso_e8 = 0

    def __repr__(self) -> str:
        return f"Position(qty={self.qty}, cost_e8={self.cost_e8})"


class AccountState:
    """One account's money: wallet, frozen margin, positions, leverage, mode, history."""

    __slots__ = (
        "name", "wallet_e8", "frozen_e8", "deposits_e8", "positions", "leverage", "dual_side",
        "update_time", "trades", "incomes", "isolated", "margin_log",
    )

    def __init__(self, name: str, now: int) -> None:
        self.name = name
        self.wallet_e8 = 0
        self.frozen_e8 = 0
        self.deposits_e8 = 0
        self.positions: dict[tuple[str, PositionSide], Position] = {}
        self.leverage: dict[str, int] = {}
        self.dual_side = False
        self.update_time = now
        #: (trade_id, symbol, order_id, side, pside, price_ticks, lots, realized_e8, fee_e8,
        #:  maker, time)
        self.trades: list[tuple] = []
        #: (tran_id, symbol, IncomeType, amount_e8, info, time, trade_id)
        self.incomes: list[tuple] = []
        #: the symbols in isolated margin mode (absent: cross)
        self.isolated: dict[str, bool] = {}
        #: position margin changes: (time, symbol, pside, type 1 add / 2 reduce, amount_e8)
        self.margin_log: list[tuple] = []

    def leverage_of(self, symbol: str) -> int:
        return self.leverage.get(symbol, DEFAULT_LEVERAGE)

    def holds(self, symbol: str) -> bool:
        """True when any position side of ``symbol`` is open."""
        return any(p.qty for (s, _ps), p in self.positions.items() if s == symbol)

    def position_qty(self, symbol: str, pside: PositionSide) -> int:
        pos = self.positions.get((symbol, pside))
        return 0 if pos is None else pos.qty

    def __repr__(self) -> str:
        return f"AccountState({self.name!r}, wallet_e8={self.wallet_e8})"


class Ledger:
    """All accounts' money.  ``mark_of(symbol)`` gives the mark price in ticks (or None)."""

    __slots__ = (
        "accounts", "fee_e8", "_undo", "_mark_of", "_income_seq", "_trade_seq", "liquidations",
    )

    def __init__(self, undo: UndoLog, mark_of: Callable[[str], int | None]) -> None:
        self.accounts: dict[str, AccountState] = {}
        self.fee_e8 = 0
        self._undo = undo
        self._mark_of = mark_of
        self._income_seq = 0
        self._trade_seq = 0
        #: (time, account, symbol, positionSide, qty_lots, price_ticks, fee_e8) per closed position
        self.liquidations: list[tuple] = []

    # -- accounts ------------------------------------------------------------------------
    def open_account(self, name: str, balance_e8: int, now: int) -> AccountState:
        """Create an account and deposit ``balance_e8`` (a TRANSFER income)."""
        acct = AccountState(name, now)
        self._undo.append((self.accounts.pop, name))
        self.accounts[name] = acct
        self.deposit(acct, balance_e8, now)
        return acct

    def deposit(self, acct: AccountState, amount_e8: int, now: int) -> None:
        """Add ``amount_e8`` (may be negative: a withdrawal) to the wallet and to deposits."""
        u = self._undo
        u.append((_restore_wallet, acct, acct.wallet_e8, acct.deposits_e8, acct.update_time))
        acct.wallet_e8 += amount_e8
        acct.deposits_e8 += amount_e8
        acct.update_time = now
        self.record_income(acct, "", IncomeType.TRANSFER, amount_e8, "TRANSFER", now, 0)

    def record_income(
        self, acct: AccountState, symbol: str, kind: IncomeType, amount_e8: int, info: str,
        now: int, trade_id: int,
    ) -> None:
        u = self._undo
        u.append((setattr, self, "_income_seq", self._income_seq))
        u.append((acct.incomes.pop,))
        self._add_income(acct, symbol, kind, amount_e8, info, now, trade_id)

    def _add_income(
        self, acct: AccountState, symbol: str, kind: IncomeType, amount_e8: int, info: str,
        now: int, trade_id: int,
    ) -> None:
        """Number and append an income row (the caller has logged its inverse)."""
        self._income_seq += 1
        acct.incomes.append((self._income_seq, symbol, kind, amount_e8, info, now, trade_id))

    def transfer(
        self, acct: AccountState, amount_e8: int, kind: IncomeType, symbol: str, info: str,
        now: int,
    ) -> None:
        """Move ``amount_e8`` from the venue's fee account into the wallet (negative: out).

        Funding, liquidation fees and insurance cover go through here, so the
        fee account is the clearing house and value is conserved exactly.
        """
        u = self._undo
        u.append((_restore_wallet, acct, acct.wallet_e8, acct.deposits_e8, acct.update_time))
        acct.wallet_e8 += amount_e8
        acct.update_time = now
        u.append((setattr, self, "fee_e8", self.fee_e8))
        self.fee_e8 -= amount_e8
        self.record_income(acct, symbol, kind, amount_e8, info, now, 0)

    def record_liquidation(
        self, acct: AccountState, symbol: str, pside: PositionSide, qty: int, price: int,
        fee_e8: int, now: int,
    ) -> None:
        self._undo.append((self.liquidations.pop,))
        self.liquidations.append((now, acct.name, symbol, pside.value, qty, price, fee_e8))

    # -- margin --------------------------------------------------------------------------
    def freeze(self, acct: AccountState, amount_e8: int) -> None:
        """Add ``amount_e8`` to the account's frozen order margin."""
        self._undo.append((setattr, acct, "frozen_e8", acct.frozen_e8))
        acct.frozen_e8 += amount_e8

    def release(self, acct: AccountState, amount_e8: int) -> None:
        """Return ``amount_e8`` of frozen order margin to the available balance."""
        self._undo.append((setattr, acct, "frozen_e8", acct.frozen_e8))
        acct.frozen_e8 -= amount_e8

    def next_trade_id(self) -> int:
        self._undo.append((setattr, self, "_trade_seq", self._trade_seq))
        self._trade_seq += 1
        return self._trade_seq

    # -- fills ---------------------------------------------------------------------------
    def apply_fill(
        self, acct: AccountState, inst: Instrument, pside: PositionSide, dq: int, price: int,
        fee_e8: int, now: int,
    ) -> int:
        """Book a fill of ``dq`` signed lots at ``price`` ticks; charge ``fee_e8``.

        Returns the realized PnL (10⁻⁸ USDT, rounded toward zero).  A fill that
        flips the position through zero realizes on the closing part and opens
        the rest at ``price``.  Runtime complexity: O(1).
        """
        u = self._undo
        key = (inst.symbol, pside)
        pos = acct.positions.get(key)
        if pos is None:
            pos = Position()
            u.append((acct.positions.pop, key))
            acct.positions[key] = pos
        u.append((_restore_position, pos, pos.qty, pos.cost_e8, pos.update_time,
                  pos.open_fee_e8, pos.iso_e8))
        realized = _move_position(acct, inst.symbol, pos, dq, price * inst.notional_unit_e8,
                                  fee_e8, now)
        u.append((_restore_wallet, acct, acct.wallet_e8, acct.deposits_e8, acct.update_time))
        acct.wallet_e8 += realized - fee_e8
        acct.update_time = now
        u.append((setattr, self, "fee_e8", self.fee_e8))
        self.fee_e8 += fee_e8
        return realized

    def book_fill(
        self, acct: AccountState, inst: Instrument, pside: PositionSide, dq: int, price: int,
        fee_e8: int, now: int, trade_id: int, order_id: int, side: Side, maker: bool,
    ) -> int:
        """One side of a fill of an order, with its history: :meth:`apply_fill`, the
        account's trade row, and its REALIZED_PNL and COMMISSION incomes (when non-zero) —
        logged as one undo record.  Returns the realized PnL.  O(1).

        Performance: a LIMIT IOC across 3 levels logged 87 undo records, one per attribute
        write (43 with this one per side; ``fill_ioc_3_levels``, benchmarks/test_targets.py,
        and ``benchmarks/count_instructions.py``).
        """
        symbol = inst.symbol
        key = (symbol, pside)
        pos = acct.positions.get(key)
        created = pos is None
        if pos is None:
            pos = Position()
        incomes = acct.incomes
        self._undo.append((
            _unbook_fill, self, acct, key if created else None, pos, pos.qty, pos.cost_e8,
            pos.update_time, pos.open_fee_e8, pos.iso_e8, acct.wallet_e8, acct.update_time,
            self.fee_e8, self._income_seq, len(incomes),
        ))
        if created:
            acct.positions[key] = pos
        realized = _move_position(acct, symbol, pos, dq, price * inst.notional_unit_e8,
                                  fee_e8, now)
        acct.wallet_e8 += realized - fee_e8
        acct.update_time = now
        self.fee_e8 += fee_e8
        acct.trades.append((trade_id, symbol, order_id, side, pside, price, abs(dq), realized,
                            fee_e8, maker, now))
        if realized:
            self._add_income(acct, symbol, IncomeType.REALIZED_PNL, realized, "", now, trade_id)
        if fee_e8:
            self._add_income(acct, symbol, IncomeType.COMMISSION, -fee_e8, "", now, trade_id)
        return realized

    # -- derived figures -------------------------------------------------------------------
    def margin_figures(self, acct: AccountState, instruments: dict[str, Instrument]) -> tuple[
        int, int, int
    ]:
        """``(unrealized PnL, position initial margin, maintenance margin)`` in 10⁻⁸ USDT.

        Runtime complexity: O(positions of the account).
        """
        return self._figures(acct, instruments, None)

    def _figures(self, acct: AccountState, instruments: dict[str, Instrument],
                 skip: dict[str, bool] | None) -> tuple[int, int, int]:
        """:meth:`margin_figures` of the positions whose symbol is not in ``skip``."""
        upnl = im = mm = 0
        mark_of = self._mark_of
        for (symbol, _pside), pos in acct.positions.items():
            if not pos.qty or (skip is not None and symbol in skip):
                continue
            inst = instruments[symbol]
            mark = mark_of(symbol)
            assert mark is not None, "a position exists only after a trade set a price"
            notional = pos.qty * mark * inst.notional_unit_e8
            upnl += notional - pos.cost_e8
            lev = acct.leverage.get(symbol, DEFAULT_LEVERAGE)
            im += -(-abs(notional) // lev)
            mm += inst.maint_margin_e8(notional)
        return upnl, im, mm

    def cross_figures(self, acct: AccountState, instruments: dict[str, Instrument]) -> tuple[
        int, int, int, int
    ]:
        """``(cross wallet, cross uPnL, cross position IM, cross maintenance margin)``: the
        wallet less the isolated wallets, and the figures of the positions on cross
        symbols — what cross margin and its liquidation read.  O(positions held)."""
        upnl, im, mm = self._figures(acct, instruments, acct.isolated or None)
        return cross_wallet(acct), upnl, im, mm

    def available_e8(self, acct: AccountState, instruments: dict[str, Instrument]) -> int:
        """``cross wallet + cross uPnL − cross position IM − frozen`` (the isolated wallets
        are set aside; without isolated symbols: wallet + uPnL − position IM − frozen).
        O(positions held)."""
        if acct.isolated:
            wallet, upnl, im, _mm = self.cross_figures(acct, instruments)
            return wallet + upnl - im - acct.frozen_e8
        avail = acct.wallet_e8 - acct.frozen_e8
        mark_of = self._mark_of
        for (symbol, _pside), pos in acct.positions.items():
            qty = pos.qty
            if qty:
                mark = mark_of(symbol)
                assert mark is not None, "a position exists only after a trade set a price"
                notional = qty * mark * instruments[symbol].notional_unit_e8
                lev = acct.leverage.get(symbol, DEFAULT_LEVERAGE)
                avail += notional - pos.cost_e8 - (-(-abs(notional) // lev))
        return avail

    # -- checks ----------------------------------------------------------------------------
    def _check(self) -> None:
        """Assert SPEC 6 invariant 3 (conservation) and per-account sanity."""
        total = self.fee_e8
        deposits = 0
        for acct in self.accounts.values():
            if acct.frozen_e8 < 0:
                raise InvariantError(f"{acct.name}: negative frozen margin {acct.frozen_e8}")
            total += acct.wallet_e8 - sum(p.cost_e8 for p in acct.positions.values())
            deposits += acct.deposits_e8
            for (symbol, pside), pos in acct.positions.items():
                if pos.qty == 0 and (pos.cost_e8 != 0 or pos.open_fee_e8 != 0):
                    raise InvariantError(f"{acct.name} {symbol} {pside}: flat with cost")
                if pos.iso_e8 < 0 or (pos.iso_e8 and (not pos.qty
                                                      or symbol not in acct.isolated)):
                    raise InvariantError(f"{acct.name} {symbol} {pside}: isolated wallet "
                                         f"{pos.iso_e8} on a flat or cross position")
                if pside is LONG and pos.qty < 0:
                    raise InvariantError(f"{acct.name} {symbol}: negative LONG position")
                if pside is SHORT and pos.qty > 0:
                    raise InvariantError(f"{acct.name} {symbol}: positive SHORT position")
        if total != deposits:
            raise InvariantError(
                f"value not conserved: Σ(wallet − cost) + fees = {total} != deposits {deposits}"
            )

    def _state(self) -> tuple:
        accts = []
        for name in sorted(self.accounts):
            a = self.accounts[name]
            row: tuple = (
                name, a.name, a.wallet_e8, a.frozen_e8, a.deposits_e8, a.dual_side, a.update_time,
                tuple(sorted((k, p.qty, p.cost_e8, p.update_time) + ((p.iso_e8,) if p.iso_e8
                                                                     else ())
                             for k, p in a.positions.items())),
                tuple(sorted(a.leverage.items())), tuple(a.trades), tuple(a.incomes),
            )
            if a.isolated or a.margin_log:  # only then: the hashes pinned before them hold
                row += (tuple(sorted(a.isolated.items())), tuple(a.margin_log))
            accts.append(row)
        return (self.fee_e8, self._income_seq, self._trade_seq, tuple(accts),
                tuple(self.liquidations))


def cross_wallet(acct: AccountState) -> int:
    """The wallet less the isolated positions' wallets.  O(positions) with isolated
    symbols, O(1) without."""
    isolated = acct.isolated
    if not isolated:
        return acct.wallet_e8
    return acct.wallet_e8 - sum(p.iso_e8 for (s, _ps), p in acct.positions.items()
                                if s in isolated)


def _move_position(acct: AccountState, symbol: str, pos: Position, dq: int, unit: int,
                   fee_e8: int, now: int) -> int:
    """Move ``pos`` by ``dq`` signed lots at ``unit`` (10⁻⁸ USDT a lot at the fill price),
    opening fees ``fee_e8`` included; the realized PnL (rounded toward zero).  Logs nothing:
    the caller has recorded the position's fields."""
    q, c, f = pos.qty, pos.cost_e8, pos.open_fee_e8
    realized = 0
    if q == 0 or (q > 0) == (dq > 0):
        new_q, new_c, new_f = q + dq, c + dq * unit, f + fee_e8
    else:
        close = dq if abs(dq) <= abs(q) else -q
        q_after = q + close
        moved = c + close * unit
        num = c * q_after - moved * q
        realized = abs(num) // abs(q)
        if (num < 0) != (q < 0):
            realized = -realized
        rest = dq - close
        new_q, new_c = q_after + rest, moved + realized + rest * unit
        new_f = f * abs(q_after) // abs(q) if not rest else fee_e8 * abs(rest) // abs(dq)
    if acct.isolated and symbol in acct.isolated:
        pos.iso_e8 = _isolated_after(acct, symbol, pos.iso_e8, q, new_q, dq, unit)
    pos.qty, pos.cost_e8, pos.update_time, pos.open_fee_e8 = new_q, new_c, now, new_f
    return realized


def _unbook_fill(ledger: Ledger, acct: AccountState, created: tuple | None, pos: Position,
                 qty: int, cost: int, update_time: int, fee: int, iso: int, wallet: int,
                 acct_time: int, fee_e8: int, income_seq: int, incomes: int) -> None:
    """Inverse of :meth:`Ledger.book_fill`."""
    if created is not None:
        del acct.positions[created]
    pos.qty, pos.cost_e8, pos.update_time, pos.open_fee_e8 = qty, cost, update_time, fee
    pos.iso_e8 = iso
    acct.wallet_e8, acct.update_time = wallet, acct_time
    ledger.fee_e8, ledger._income_seq = fee_e8, income_seq
    acct.trades.pop()
    del acct.incomes[incomes:]


def _restore_wallet(acct: AccountState, wallet: int, deposits: int, update_time: int) -> None:
    acct.wallet_e8, acct.deposits_e8, acct.update_time = wallet, deposits, update_time


def _restore_position(pos: Position, qty: int, cost: int, update_time: int, fee: int,
                      iso: int) -> None:
    pos.qty, pos.cost_e8, pos.update_time, pos.open_fee_e8 = qty, cost, update_time, fee
    pos.iso_e8 = iso


def _isolated_after(acct: AccountState, symbol: str, iso: int, q: int, new_q: int, dq: int,
                    unit: int) -> int:
    """An isolated position's wallet after a fill of ``dq`` lots (``unit``: 10⁻⁸ USDT a lot
    at the fill price) took it from ``q`` to ``new_q``: a reducing fill hands the closed
    share back to the cross wallet (rounded down), an opening one sets aside the initial
    margin of what it opened, ``ceil(|lots| × price / leverage)``."""
    if q and (q > 0) != (dq > 0):  # reduces (and perhaps flips)
        kept = new_q if (new_q > 0) == (q > 0) else 0
        iso = iso * abs(kept) // abs(q)
        opened = new_q - kept
    else:
        opened = dq
    if opened:
        iso += -(-abs(opened) * unit // acct.leverage.get(symbol, DEFAULT_LEVERAGE))
    return iso
