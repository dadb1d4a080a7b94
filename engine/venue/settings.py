"""Account settings: leverage per symbol, margin type, position mode.

* ``change_leverage``: an integer 1–125 (-4028 otherwise).  Frozen order margin
  is never recomputed; a position must still be covered at the new leverage,
  else -2028 (judged after the change and rolled back).
* ``change_margin_type``: ISOLATED or CROSSED per symbol (``CROSS`` is read as
  CROSSED; anything else -1130); the symbol's current type → -4046, open orders or
  untriggered trigger rows of the account on it → -4047, a position → -4048.
* ``modify_position_margin`` (``POST /fapi/v1/positionMargin``): ``type`` 1 moves
  ``amount`` from the available (cross) balance into an isolated position's wallet
  (more than available → -4050), 2 moves it back (allowed while the wallet stays
  ≥ 0 and wallet + unrealized PnL still covers the position's initial margin at the
  mark, else -4051); a cross symbol → -4049, a flat position → -4054, ``amount`` ≤ 0
  → -4055.  Each change is kept for ``GET /fapi/v1/positionMargin/history`` and sent
  as an ``ACCOUNT_UPDATE`` with reason ``MARGIN_TRANSFER`` (the position's new ``iw``).
* ``change_leverage`` on an isolated symbol with a position may not lower the
  leverage (-4161), as on Binance.

An isolated position's wallet (``Position.iso_e8``) is part of the account's wallet
set aside: fills add the initial margin of what they open and hand back the closed
share (:meth:`~engine.core.ledger.Ledger.apply_fill`); PnL, fees and funding go
through the wallet as on cross; :mod:`~engine.venue.risk` liquidates the position on
its own and caps its loss at its wallet.
* ``change_position_mode``: one-way (``false``) or hedge (``true``); -4059 when
  unchanged, -4067 with open orders, -4068 with a position (any symbol).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.core.decimals import parse_bool, parse_decimal, parse_int, present, scaled_exact
from engine.core.enums import BOTH, PositionSide
from engine.core.errors import reject, reject_quoting
from engine.core.events import CONFIG
from engine.core.instrument import money_str
from engine.core.ledger import DEFAULT_LEVERAGE
from engine.venue.history import DAY_MS, limit_of, opt_int
from engine.venue.rule import Rule
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger, Position
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.core.txn import UndoLog
    from engine.venue.runner import Runner

__all__ = ["MAX_LEVERAGE", "Settings"]

MAX_LEVERAGE = 125


class Settings(Rule):
    """Leverage, margin type and position mode.

    Room: the instruments, the ledger, the order index (open orders block a mode
    change) and the undo log; peer: ``runner`` (commands).
    """

    PEERS = ("runner",)

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    _undo: UndoLog
    _events: EventLog
    # the rules it calls
    _runner: Runner

    def change_leverage(self, acct: AccountState, symbol: Any, leverage: Any) -> dict:
        """``POST /fapi/v1/leverage`` (see the module docstring)."""
        journal = self._s.journal
        if journal is not None:
            return journal.record("change_leverage", acct, symbol, leverage)
        inst = parse_symbol({"symbol": symbol}, self._instruments)
        if not present(leverage):
            raise reject("MANDATORY_PARAM", "leverage")
        try:
            lev = parse_int(leverage, "leverage")
        except Exception:
            raise reject_quoting("INVALID_LEVERAGE", "INVALID_LEVERAGE_PLAIN", leverage) from None
        if not 1 <= lev <= MAX_LEVERAGE:
            raise reject_quoting("INVALID_LEVERAGE", "INVALID_LEVERAGE_PLAIN", lev)

        def commit() -> None:
            old = acct.leverage.get(inst.symbol)
            self._undo.append((_restore_leverage, acct.leverage, inst.symbol, old))
            acct.leverage[inst.symbol] = lev
            if (lev < (old or DEFAULT_LEVERAGE) and inst.symbol in acct.isolated
                    and acct.holds(inst.symbol)):
                raise reject("ISOLATED_LEVERAGE_REJECT_WITH_POSITION")
            if lev < (old or DEFAULT_LEVERAGE) and (
                self._ledger.available_e8(acct, self._instruments) < 0
            ):
                raise reject("MIN_LEVERAGE_RATIO")
            self._events.other(CONFIG, acct.name, inst.symbol, lev)

        self._runner.run(commit)
        cap = inst.max_notional_e8(lev)
        return {"leverage": lev, "maxNotionalValue": money_str(cap), "symbol": inst.symbol}

    def change_margin_type(self, acct: AccountState, symbol: Any, margin_type: Any) -> dict:
        journal = self._s.journal
        if journal is not None:
            return journal.record("change_margin_type", acct, symbol, margin_type)
        sym = parse_symbol({"symbol": symbol}, self._instruments).symbol
        if not present(margin_type):
            raise reject("MANDATORY_PARAM", "marginType")
        if margin_type not in ("ISOLATED", "CROSSED", "CROSS"):
            raise reject("INVALID_PARAMETER", "marginType")
        isolated = margin_type == "ISOLATED"
        if isolated == (sym in acct.isolated):
            raise reject("NO_NEED_TO_CHANGE_MARGIN_TYPE")
        key = (acct.name, sym)
        if self._index.open_orders.get(key) or self._index.open_rows.get(key):
            raise reject("THERE_EXISTS_OPEN_ORDERS")
        if acct.holds(sym):
            raise reject("THERE_EXISTS_QUANTITY")

        def commit() -> None:
            self._undo.append((_restore_flag, acct.isolated, sym, sym in acct.isolated))
            if isolated:
                acct.isolated[sym] = True
            else:
                del acct.isolated[sym]

        self._runner.run(commit)
        return {"code": 200, "msg": "success"}

    def modify_position_margin(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        journal = self._s.journal
        if journal is not None:
            return journal.record("modify_position_margin", acct, params)  # type: ignore[no-any-return]
        inst = parse_symbol(params, self._instruments)
        sym = inst.symbol
        ps_v = params.get("positionSide")
        try:
            pside = PositionSide(str(ps_v)) if present(ps_v) else BOTH
        except ValueError:
            raise reject("INVALID_POSITION_SIDE") from None
        if acct.dual_side == (pside is BOTH):
            raise reject("POSITION_SIDE_NOT_MATCH")
        amount_v, type_v = params.get("amount"), params.get("type")
        if not present(amount_v):
            raise reject("MANDATORY_PARAM", "amount")
        amount = scaled_exact(parse_decimal(amount_v, "amount"), 8)
        if amount is None:
            raise reject("BAD_PRECISION")
        if not present(type_v):
            raise reject("MANDATORY_PARAM", "type")
        if str(type_v) not in ("1", "2"):
            raise reject("INVALID_PARAMETER", "type")
        kind = int(str(type_v))
        if amount <= 0:
            raise reject("AMOUNT_MUST_BE_POSITIVE")
        if sym not in acct.isolated:
            raise reject("ADD_ISOLATED_MARGIN_REJECT")
        pos = acct.positions.get((sym, pside))
        if pos is None or not pos.qty:
            raise reject("ADD_ISOLATED_MARGIN_NO_POSITION_REJECT")
        if kind == 1 and amount > self._ledger.available_e8(acct, self._instruments):
            raise reject("CROSS_BALANCE_INSUFFICIENT")
        if kind == 2 and amount > self._removable(acct, inst, pos):
            raise reject("ISOLATED_BALANCE_INSUFFICIENT")

        def commit() -> None:
            now = self._s.now
            self._undo.append((setattr, pos, "iso_e8", pos.iso_e8))
            pos.iso_e8 += amount if kind == 1 else -amount
            self._undo.append((acct.margin_log.pop,))
            acct.margin_log.append((now, sym, pside._value_, kind, amount))
            self._events.account(acct, "MARGIN_TRANSFER", 0, ((
                sym, pside._value_, pos.qty, pos.cost_e8, self._markets[sym].mark_price(),
                pos.iso_e8, pos.open_fee_e8),))

        self._runner.run(commit)
        return {"amount": Decimal(money_str(amount)), "code": 200,
                "msg": "Successfully modify position margin.", "type": kind}

    def _removable(self, acct: AccountState, inst: Instrument, pos: Position) -> int:
        """What may leave an isolated wallet: all of it that wallet + unrealized PnL does
        not need to cover the position's initial margin at the mark."""
        mark = self._markets[inst.symbol].mark_price() or 0
        notional = pos.qty * mark * inst.notional_unit_e8
        im = -(-abs(notional) // acct.leverage_of(inst.symbol))
        return min(pos.iso_e8, pos.iso_e8 + notional - pos.cost_e8 - im)

    def margin_history(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/positionMargin/history``: ``symbol``'s margin changes, oldest
        first — ``type`` (1/2), a window of at most 30 days (-4165; default the last 30),
        ``limit`` (500; 1..1000)."""
        sym = parse_symbol(params, self._instruments).symbol
        type_v = params.get("type")
        if present(type_v) and str(type_v) not in ("1", "2"):
            raise reject("INVALID_PARAMETER", "type")
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        span = 30 * DAY_MS
        if start is not None and end is not None and end - start > span:
            raise reject("INVALID_TIME_INTERVAL", 30)
        end = self._s.now if end is None else end
        start = end - span if start is None else start
        limit = limit_of(params, 500, 1000)
        rows = [{"symbol": s, "type": k, "deltaType": "USER_ADJUST",
                 "amount": money_str(a), "asset": "USDT", "time": t, "positionSide": ps}
                for t, s, ps, k, a in acct.margin_log
                if s == sym and start <= t <= end
                and (not present(type_v) or k == int(str(type_v)))]
        return rows[:limit]

    def change_position_mode(self, acct: AccountState, dual: Any) -> dict:
        journal = self._s.journal
        if journal is not None:
            return journal.record("change_position_mode", acct, dual)
        if not present(dual):
            raise reject("MANDATORY_PARAM", "dualSidePosition")
        value = parse_bool(dual, "dualSidePosition")
        if value == acct.dual_side:
            raise reject("NO_NEED_TO_CHANGE_POSITION_SIDE")
        if self._index.open_of(acct.name, None):
            raise reject("POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS")
        if any(p.qty for p in acct.positions.values()):
            raise reject("POSITION_SIDE_CHANGE_EXISTS_QUANTITY")

        def commit() -> None:
            self._undo.append((setattr, acct, "dual_side", acct.dual_side))
            acct.dual_side = value

        self._runner.run(commit)
        return {"code": 200, "msg": "success"}

    def get_position_mode(self, acct: AccountState) -> dict:
        return {"dualSidePosition": acct.dual_side}


def _restore_flag(table: dict, key: str, was: bool) -> None:
    if was:
        table[key] = True
    else:
        table.pop(key, None)


def _restore_leverage(table: dict, symbol: str, old: int | None) -> None:
    if old is None:
        table.pop(symbol, None)
    else:
        table[symbol] = old
