"""Account settings: leverage per symbol, margin type, position mode.

* ``change_leverage``: an integer 1–125 (-4028 otherwise).  Frozen order margin
  is never recomputed; a position must still be covered at the new leverage,
  else -2028 (judged after the change and rolled back).
* ``change_margin_type``: only CROSSED exists here (isolated margin is on the
  roadmap): CROSSED answers -4046 "No need to change margin type.", ISOLATED
  answers -1020 "This operation is not supported.", anything else -1130.
* ``change_position_mode``: one-way (``false``) or hedge (``true``); -4059 when
  unchanged, -4067 with open orders, -4068 with a position (any symbol).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.decimals import parse_bool, parse_int, present
from engine.core.errors import reject, reject_quoting
from engine.core.events import CONFIG
from engine.core.instrument import money_str
from engine.core.ledger import DEFAULT_LEVERAGE
from engine.venue.rule import Rule
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.events import EventLog
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger
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
    _ledger: Ledger
    _index: OrderIndex
    _undo: UndoLog
    _events: EventLog
    # the rules it calls
    _runner: Runner

    def change_leverage(self, acct: AccountState, symbol: Any, leverage: Any) -> dict:
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
            if lev < (old or DEFAULT_LEVERAGE) and (
                self._ledger.available_e8(acct, self._instruments) < 0
            ):
                raise reject("MIN_LEVERAGE_RATIO")
            self._events.other(CONFIG, acct.name, inst.symbol, lev)

        self._runner.run(commit)
        cap = max((b.cap_e8 for b in inst.brackets if b.initial_leverage >= lev), default=0)
        return {"leverage": lev, "maxNotionalValue": money_str(cap), "symbol": inst.symbol}

    def change_margin_type(self, acct: AccountState, symbol: Any, margin_type: Any) -> dict:
        parse_symbol({"symbol": symbol}, self._instruments)
        if not present(margin_type):
            raise reject("MANDATORY_PARAM", "marginType")
        if margin_type in ("CROSSED", "CROSS"):
            raise reject("NO_NEED_TO_CHANGE_MARGIN_TYPE")
        if margin_type == "ISOLATED":
            raise reject("UNSUPPORTED_OPERATION")
        raise reject("INVALID_PARAMETER", "marginType")

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


def _restore_leverage(table: dict, symbol: str, old: int | None) -> None:
    if old is None:
        table.pop(symbol, None)
    else:
        table[symbol] = old
