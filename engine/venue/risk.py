"""Funding and liquidation: the venue's risk engine.

Funding (``settle_funding``)
----------------------------
At a funding time every position on the symbol pays ``qty × mark × rate``:
longs pay shorts when the rate is positive.  What an account pays is rounded
up, what it receives rounded down (against the account); the venue's fee
account is the clearing house, so it keeps the rounding remainder and value is
conserved to the last unit.  Each payment is a ``FUNDING_FEE`` income row.

Liquidation
-----------
After every command that traded, moved a price or settled funding, each
account holding a position is checked: when its margin balance (wallet +
unrealized PnL at mark) falls to its maintenance margin (Σ over positions of
Binance's bracket formula ``|notional| × mmr − cum``), the venue liquidates it:

1. every position is closed at the mark price against the venue's insurance
   account (``@insurance``), without a trading fee; the attached TP/SL rows of
   those positions EXPIRE (nothing is left to reduce), so a later cancel of one
   of them answers -2092;
2. a liquidation fee of ``ceil(|notional| × liquidationFee)`` (0.0125 by
   default) is charged, capped at what the wallet still holds, and paid to the
   fee account (income ``INSURANCE_CLEAR``, negative);
3. if the wallet is still negative (the price went through the bankruptcy
   price), the fee account covers the deficit and the wallet is set to 0
   (income ``INSURANCE_CLEAR``, positive);
4. every remaining open order of the account is cancelled.

The bankruptcy price of a position is the mark at which the account's margin
balance would be exactly 0, other positions held at their marks
(:meth:`Risk.bankruptcy_price`); the liquidation price is the mark at
which the margin balance equals the maintenance margin, with the bracket of
the position's current notional (:meth:`Risk.liquidation_price`).
Both are reported in ticks: the first tick at or beyond the exact value (below
it for a long, above it for a short).

Margin call: at the same checks, an account that is not liquidated but whose
maintenance margin is at least :data:`MARGIN_CALL_PCT` % of its margin balance
yields a ``MARGIN_CALL`` event (:mod:`engine.core.events`; Binance's user-data
``MARGIN_CALL``), at every such check — each mark move, each fill of the account —
for as long as it stays there, in a command that changed something (a print that
moved nothing yields none: the event's undo record would make it count as an
update, and a backtest's skip-ahead relies on that count).  Binance documents no
threshold; 80 % is the margin ratio its app first warns at.  It changes no state.

Accounts whose names start with ``@`` are the venue's own (insurance, replayed
tape liquidity): never margin-checked, never liquidated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.decimals import parse_decimal, scaled_exact
from engine.core.enums import (
    BOTH,
    BUY,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    IncomeType,
    PositionSide,
)
from engine.core.errors import reject
from engine.core.events import LIQUIDATION, MARGIN_CALL
from engine.core.instrument import E8
from engine.core.ledger import cross_wallet
from engine.venue.rule import Rule
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.cancel import Cancels
    from engine.venue.firing import Firing
    from engine.venue.runner import Runner

__all__ = ["INSURANCE", "MARGIN_CALL_PCT", "Risk"]

INSURANCE = "@insurance"
#: the margin ratio (maintenance margin ÷ margin balance, in %) from which a check
#: yields a MARGIN_CALL event
MARGIN_CALL_PCT = 80


class Risk(Rule):
    """Funding settlement and liquidation.

    Room: the instruments, the markets, the ledger, the order index, the undo
    log, the clock and the settle scratch; peers: ``runner`` (commands),
    ``firing`` (a liquidated position's rows expire) and ``cancels`` (its
    remaining orders are cancelled).
    """

    PEERS = ("runner", "firing", "cancels")

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    _undo: UndoLog
    _events: EventLog
    _touched: dict[tuple[str, str], AccountState]
    _risk_names: set[str]
    # the rules it calls
    _runner: Runner
    _firing: Firing
    _cancels: Cancels

    # -- funding --------------------------------------------------------------------------
    def settle_funding(self, symbol: str, rate: Any) -> list[dict]:
        """Settle one funding payment of ``rate`` (e.g. ``"0.0001"``) at the current mark.

        Returns the payments as ``{"account", "income"}`` rows, by account name.
        """
        journal = self._s.journal
        if journal is not None:
            return journal.record("settle_funding", None, symbol, rate)
        inst = parse_symbol({"symbol": symbol}, self._instruments)
        rate_e8 = scaled_exact(parse_decimal(rate, "rate"), 8)
        if rate_e8 is None:
            raise reject("ILLEGAL_CHARS", "rate", "at most 8 decimals")
        return self._runner.run(self._funding, inst, rate_e8)

    def _funding(self, inst: Instrument, rate_e8: int) -> list[dict]:
        mark = self._markets[inst.symbol].mark_price()
        if mark is None or not rate_e8:
            return []
        out = []
        ledger = self._ledger
        for name in sorted(ledger.accounts):
            acct = ledger.accounts[name]
            qty = sum(
                p.qty for (sym, _ps), p in acct.positions.items() if sym == inst.symbol
            )
            if not qty:
                continue
            owed = qty * mark * inst.notional_unit_e8 * rate_e8  # in 1e-16 USDT
            # the wallet's change, floored: a payment rounds up, a receipt down
            amount = (-owed) // E8
            ledger.transfer(acct, amount, IncomeType.FUNDING_FEE, inst.symbol, "FUNDING_FEE",
                            self._s.now)
            self._events.account(acct, "FUNDING_FEE", amount, (), inst.symbol)
            out.append({"account": name, "income": amount})
        self._s.risk_all = True
        self._s.dirty = True
        return out

    # -- prices of a position ---------------------------------------------------------------
    def _position_and_rest(
        self, acct: AccountState, symbol: str, pside: PositionSide
    ) -> tuple[int, int, int, int]:
        """``(qty, cost, rest_balance, rest_maint)``: this position, and the account's margin
        balance and maintenance margin from everything else (other positions at mark)."""
        isolated = acct.isolated
        if symbol in isolated:  # an isolated position answers for itself, with its wallet
            pos = acct.positions.get((symbol, pside))
            if pos is None:
                return 0, 0, 0, 0
            return pos.qty, pos.cost_e8, pos.iso_e8, 0
        balance = acct.wallet_e8
        maint = 0
        qty = cost = 0
        for (sym, ps), pos in acct.positions.items():
            if sym in isolated:
                balance -= pos.iso_e8
                continue
            if not pos.qty:
                continue
            if sym == symbol and ps is pside:
                qty, cost = pos.qty, pos.cost_e8
                continue
            inst = self._instruments[sym]
            mark = self._markets[sym].mark_price()
            assert mark is not None
            notional = pos.qty * mark * inst.notional_unit_e8
            balance += notional - pos.cost_e8
            maint += inst.maint_margin_e8(notional)
        return qty, cost, balance, maint

    def bankruptcy_price(
        self, acct: AccountState, symbol: str, pside: PositionSide = BOTH
    ) -> int | None:
        """Mark (ticks) at which the account's margin balance is 0, or None (flat / never)."""
        qty, cost, balance, _maint = self._position_and_rest(acct, symbol, pside)
        if not qty:
            return None
        unit = self._instruments[symbol].notional_unit_e8
        # balance + qty × p × unit − cost = 0; rounded like the liquidation price
        num, den = cost - balance, qty * unit
        price = num // den if qty > 0 else -(-num // den)
        return price if price > 0 else None

    def liquidation_price(
        self, acct: AccountState, symbol: str, pside: PositionSide = BOTH
    ) -> int | None:
        """Mark (ticks) at which margin balance meets maintenance margin, or None.

        Uses the bracket of the position's notional at the current mark.
        """
        qty, cost, balance, maint = self._position_and_rest(acct, symbol, pside)
        if not qty:
            return None
        inst = self._instruments[symbol]
        mark = self._markets[symbol].mark_price()
        assert mark is not None
        unit = inst.notional_unit_e8
        bracket = inst.bracket_for(qty * mark * unit)
        mmr = bracket.mmr_ppm
        sign = 1 if qty > 0 else -1
        # balance + q·p·u − cost = maint + |q·p·u|·mmr − cum   (×1e6 to stay integral)
        num = (cost - balance + maint - bracket.cum_e8) * 1_000_000
        den = qty * unit * (1_000_000 - sign * mmr)
        if den == 0:
            return None
        # the first tick at which it is liquidated: a long's is below, a short's above
        price = num // den if qty > 0 else -(-num // den)
        return price if price > 0 else None

    # -- liquidation ----------------------------------------------------------------------
    def check_liquidations(self) -> bool:
        """Liquidate every account at or below maintenance; True when any was."""
        ledger = self._ledger
        s = self._s
        names = sorted(self._risk_names) if not s.risk_all else sorted(ledger.accounts)
        self._risk_names.clear()
        s.risk_all = False
        liquidated = False
        for name in names:
            if name.startswith("@"):
                continue
            acct = ledger.accounts[name]
            if not any(p.qty for p in acct.positions.values()):
                continue
            if acct.isolated:
                liquidated |= self._liquidate_isolated(acct)
                if not any(p.qty for (sym, _ps), p in acct.positions.items()
                           if sym not in acct.isolated):
                    continue
            wallet, upnl, _im, mm = ledger.cross_figures(acct, self._instruments)
            balance = wallet + upnl
            if balance <= mm:
                self._liquidate(acct, [k for k, p in sorted(acct.positions.items())
                                       if p.qty and k[0] not in acct.isolated])
                liquidated = True
            elif balance * MARGIN_CALL_PCT <= mm * 100 and self._undo:
                # only in a command that changed something: an event's undo record would
                # turn a command that changed nothing into an update (engine.venue.tapeloop)
                self._margin_call(acct)
        return liquidated

    def _margin_call(self, acct: AccountState) -> None:
        """A MARGIN_CALL event: the cross wallet and the account's cross positions, their
        marks, unrealized PnL and maintenance margin (see :data:`MARGIN_CALL_PCT`)."""
        rows = []
        for (symbol, pside), pos in sorted(acct.positions.items()):
            if not pos.qty or symbol in acct.isolated:
                continue
            inst = self._instruments[symbol]
            mark = self._markets[symbol].mark_price()
            assert mark is not None
            notional = pos.qty * mark * inst.notional_unit_e8
            rows.append((symbol, pside._value_, pos.qty, mark, notional - pos.cost_e8,
                         inst.maint_margin_e8(notional)))
        self._events.other(MARGIN_CALL, acct.name, cross_wallet(acct), tuple(rows))

    def _insurance(self) -> AccountState:
        acct = self._ledger.accounts.get(INSURANCE)
        if acct is None:
            acct = self._ledger.open_account(INSURANCE, 0, self._s.now)
        return acct

    def _liquidate_isolated(self, acct: AccountState) -> bool:
        """Liquidate each isolated position whose wallet + unrealized PnL has fallen to its
        maintenance margin, on its own; True when any was."""
        due = []
        for key, pos in sorted(acct.positions.items()):
            if not pos.qty or key[0] not in acct.isolated:
                continue
            inst = self._instruments[key[0]]
            mark = self._markets[key[0]].mark_price()
            assert mark is not None
            notional = pos.qty * mark * inst.notional_unit_e8
            if pos.iso_e8 + notional - pos.cost_e8 <= inst.maint_margin_e8(notional):
                due.append(key)
        if due:
            self._liquidate(acct, due, isolated=True)
        return bool(due)

    def _liquidate(self, acct: AccountState, keys: list[tuple[str, PositionSide]],
                   isolated: bool = False) -> None:
        """Close the positions ``keys`` at the mark against the insurance account.  Cross
        (``isolated`` False): the fee is capped at the cross wallet, a negative cross
        wallet is covered, every open order is cancelled.  Isolated: each position's loss
        and fee are capped at its wallet — the fee account covers a loss beyond it, so the
        cross wallet never pays for an isolated position — and the symbol's orders are
        cancelled."""
        ledger = self._ledger
        insurance = self._insurance()
        now = self._s.now
        for symbol, pside in keys:
            pos = acct.positions[(symbol, pside)]
            qty = pos.qty
            iso = pos.iso_e8
            inst = self._instruments[symbol]
            market = self._markets[symbol]
            mark = market.mark_price()
            assert mark is not None
            trade_id = ledger.next_trade_id()
            realized = ledger.apply_fill(acct, inst, pside, -qty, mark, 0, now)
            ledger.apply_fill(insurance, inst, BOTH, qty, mark, 0, now)
            side = SELL if qty > 0 else BUY
            self._undo.append((acct.trades.pop,))
            acct.trades.append((trade_id, symbol, 0, side, pside, mark, abs(qty), realized, 0,
                                False, now))
            if realized:
                ledger.record_income(acct, symbol, IncomeType.REALIZED_PNL, realized,
                                     "LIQUIDATION", now, trade_id)
            notional = abs(qty) * mark * inst.notional_unit_e8
            fee = -(-notional * inst.liquidation_fee_e8 // E8)
            if isolated:
                cover = max(0, -realized - iso)
                if cover:
                    ledger.transfer(acct, cover, IncomeType.INSURANCE_CLEAR, symbol,
                                    "INSURANCE_COVER", now)
                    self._events.account(acct, "INSURANCE_CLEAR", cover, ())
                fee = min(fee, max(0, iso + realized))
            else:
                fee = min(fee, max(0, cross_wallet(acct)))
            if fee:
                ledger.transfer(acct, -fee, IncomeType.INSURANCE_CLEAR, symbol,
                                "LIQUIDATION_FEE", now)
            ledger.record_liquidation(acct, symbol, pside, qty, mark, fee, now)
            self._touched[(acct.name, symbol)] = acct
            events = self._events
            events.other(LIQUIDATION, acct.name, symbol, pside._value_, qty, mark, realized,
                         trade_id)
            events.account(acct, "ORDER", 0, ((symbol, pside._value_, pos.qty, pos.cost_e8, mark,
                                               pos.iso_e8 if isolated else None, 0),))
            if fee:
                events.account(acct, "INSURANCE_CLEAR", -fee, ())
        cross = cross_wallet(acct)
        if cross < 0 and not isolated:
            ledger.transfer(acct, -cross, IncomeType.INSURANCE_CLEAR, "", "INSURANCE_COVER",
                            now)
            self._events.account(acct, "INSURANCE_CLEAR", -cross, ())
        for key in [k for k in self._touched if k[0] == acct.name]:
            del self._touched[key]
            self._firing.sweep_reducers(key)  # attached TP/SL EXPIRE before orders are cancelled
        symbols = {sym for sym, _ps in keys}
        for order in self._index.open_of(acct.name, None):
            if order.status is NEW or order.status is PARTIALLY_FILLED:
                if not isolated or order.inst.symbol in symbols:
                    self._cancels.cancel_commit(order)
        self._s.dirty = True
