"""The backtest report: what the strategy's account did, as exact, deterministic JSON.

Contents (:class:`Report`)
--------------------------
* ``summary`` — the figures below, one dict;
* ``trades`` — every fill of the account, as ``get_account_trades`` answers
  (liquidation closes included, with ``orderId`` 0), by trade id;
* ``orders`` — every order and trigger row, as ``get_all_orders`` answers, by id;
* ``liquidations`` — each position the venue closed: time, symbol,
  positionSide, quantity (signed, as held), mark price, liquidation fee;
* ``equity`` — ``[time_ms, margin balance]`` samples: at the start, at each
  sampling boundary the replay reached (before that instant's event), and at
  the end.

Summary figures (money as minimal decimal strings of USDT)
----------------------------------------------------------
From the account's income history: ``realized_pnl`` (Σ REALIZED_PNL),
``fees`` (commission paid, Σ −COMMISSION), ``funding`` (Σ FUNDING_FEE, signed:
positive received), ``liquidation_fees`` and ``insurance_cover`` (the two
kinds of INSURANCE_CLEAR), so that ``wallet_balance = starting_balance +
realized_pnl − fees + funding − liquidation_fees + insurance_cover`` exactly.
``equity`` = wallet + unrealized PnL at mark at the end; ``net_pnl`` = equity −
starting balance; ``return`` = net_pnl / starting balance (8 decimals,
half-even).  ``max_drawdown``: the largest fall of the sampled equity from an
earlier peak (the running maximum), exact; ``max_drawdown_ratio``: the largest
such fall relative to that peak (8 decimals, half-even).  Counts of trades (maker/taker), orders by
status, trigger rows, liquidations; traded ``volume`` (Σ quoteQty); open
``positions`` at the end; the venue's ``state_hash``; the run's ``config``; and
``strategy_stats``, the strategy's own ``stats`` dict if it keeps one.

Determinism: only ints, strings, bools, lists and dicts; keys sorted on output;
nothing depends on hash order or the clock, so two runs of the same backtest
give byte-identical JSON in any process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.decimals import fmt_ratio
from engine.core.enums import IncomeType
from engine.core.instrument import E8, money_str
from engine.venue.tapeloop import margin_balance_e8

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange

_PAGE = 1000


def max_drawdown(equity: list[int]) -> tuple[int, int, int]:
    """``(largest fall, largest relative fall as (num, den))`` of a series, exactly.

    Returns ``(drawdown, num, den)``: the largest ``peak − value`` with ``peak``
    the running maximum (the highest value so far), and the largest
    ``(peak − value) / peak`` as a fraction (0/1 when the series never falls or
    no peak is positive).  Runtime complexity: O(n).

    >>> max_drawdown([100, 120, 90, 130, 65, 70])
    (65, 65, 130)
    >>> max_drawdown([5, 6, 7])
    (0, 0, 1)
    """
    peak: int | None = None
    worst, num, den = 0, 0, 1
    for value in equity:
        if peak is None or value > peak:
            peak = value
        fall = peak - value
        if fall > worst:
            worst = fall
        if peak > 0 and fall * den > num * peak:
            num, den = fall, peak
    return worst, num, den


@dataclass(eq=False)
class Report:
    """A finished backtest.  ``to_json()`` is the deterministic report; ``exchange`` is
    the venue as the replay left it (for inspection; not part of the report)."""

    summary: dict[str, Any]
    trades: list[dict]
    orders: list[dict]
    liquidations: list[dict]
    equity: list[tuple[int, int]]
    exchange: Exchange | None = field(default=None, repr=False)
    #: how the replay went (events applied one by one, ...): not part of the report,
    #: since the fast path and stepping differ there and nowhere else
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def state_hash(self) -> str:
        """The venue's ``state_hash()`` at the end of the backtest."""
        return str(self.summary["state_hash"])

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain JSON types (ints and strings, no floats)."""
        return {
            "summary": self.summary,
            "trades": self.trades,
            "orders": self.orders,
            "liquidations": self.liquidations,
            "equity": [[t, money_str(e)] for t, e in self.equity],
        }

    def to_json(self) -> str:
        """Deterministic JSON text: sorted keys, two-space indent, a final newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=True) + "\n"

    def text(self) -> str:
        """A short human-readable summary (what ``fapisim backtest`` prints)."""
        s = self.summary
        by_status = ", ".join(f"{k} {v}" for k, v in sorted(s["orders_by_status"].items()))
        lines = [
            f"account {s['account']}  symbols {', '.join(s['symbols'])}  "
            f"events {s['events']}  {s['start_time']} .. {s['end_time']} ms",
            f"starting balance   {s['starting_balance']:>20} USDT",
            f"wallet balance     {s['wallet_balance']:>20} USDT",
            f"equity (at mark)   {s['equity']:>20} USDT",
            f"net PnL            {s['net_pnl']:>20} USDT  (return {s['return']})",
            f"realized PnL       {s['realized_pnl']:>20} USDT",
            f"fees paid          {s['fees']:>20} USDT",
            f"funding            {s['funding']:>20} USDT",
            f"liquidation fees   {s['liquidation_fees']:>20} USDT",
            f"max drawdown       {s['max_drawdown']:>20} USDT  "
            f"(ratio {s['max_drawdown_ratio']})",
            f"trades {s['trades']} (maker {s['maker_trades']}, taker {s['taker_trades']}), "
            f"volume {s['volume']} USDT",
            f"orders {s['orders']} ({by_status or 'none'}), trigger rows {s['trigger_orders']}",
            f"liquidations {s['liquidations']}",
            f"state hash {s['state_hash']}",
        ]
        return "\n".join(lines)

    def write(self, out_dir: str | Path, *, plot: bool = True) -> list[Path]:
        """Write ``report.json`` (and ``equity.png`` when ``plot`` and matplotlib is
        installed) into ``out_dir``; return the paths written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "report.json"
        path.write_text(self.to_json(), encoding="ascii")
        written = [path]
        if plot:
            from engine.backtest.plot import equity_png

            png = equity_png(self, out / "equity.png")
            if png is not None:
                written.append(png)
        return written


def build_report(
    ex: Exchange, account: str, symbols: list[str], *, starting_balance_e8: int, events: int,
    start_time: int, equity: list[tuple[int, int]], config: dict[str, Any],
    strategy_stats: dict[str, Any] | None = None,
) -> Report:
    """Read the account's history from the venue and make the :class:`Report`."""
    client = ex.client(account)
    trades = sorted((t for s in symbols for t in _all_trades(client, s)), key=_by("id"))
    orders = sorted((o for s in symbols for o in _all_orders(client, s)), key=_by("orderId"))
    acct = ex.account_state(account)
    sums = {"realized": 0, "fees": 0, "funding": 0, "liq_fees": 0, "cover": 0}
    for _tran, _sym, kind, amount, _info, _t, _trade in acct.incomes:
        if kind is IncomeType.REALIZED_PNL:
            sums["realized"] += amount
        elif kind is IncomeType.COMMISSION:
            sums["fees"] -= amount
        elif kind is IncomeType.FUNDING_FEE:
            sums["funding"] += amount
        elif kind is IncomeType.INSURANCE_CLEAR:
            sums["liq_fees" if amount < 0 else "cover"] += abs(amount)
    liquidations = [
        {"time": t, "symbol": sym, "positionSide": pside,
         "qty": ex.instruments[sym].signed_qty_str(qty),
         "price": ex.instruments[sym].price_str(price), "fee": money_str(fee)}
        for t, name, sym, pside, qty, price, fee in ex.ledger.liquidations if name == account
    ]
    final = margin_balance_e8(ex, account)
    drawdown, dd_num, dd_den = max_drawdown([e for _t, e in equity])
    by_status: dict[str, int] = {}
    rows = 0
    for o in orders:
        if "parentOrderId" in o:
            rows += 1
        else:
            by_status[o["status"]] = by_status.get(o["status"], 0) + 1
    volume = sum((Decimal(t["quoteQty"]) for t in trades), Decimal(0))
    positions = {
        f"{sym}:{ps.value}": ex.instruments[sym].signed_qty_str(p.qty)
        for (sym, ps), p in sorted(acct.positions.items()) if p.qty
    }
    net = final - starting_balance_e8
    summary = {
        "account": account,
        "symbols": list(symbols),
        "events": events,
        "start_time": start_time,
        "end_time": ex.now,
        "starting_balance": money_str(starting_balance_e8),
        "wallet_balance": money_str(acct.wallet_e8),
        "unrealized_pnl": money_str(final - acct.wallet_e8),
        "equity": money_str(final),
        "net_pnl": money_str(net),
        "return": fmt_ratio(net, starting_balance_e8, 8) if starting_balance_e8 else "0",
        "realized_pnl": money_str(sums["realized"]),
        "fees": money_str(sums["fees"]),
        "funding": money_str(sums["funding"]),
        "liquidation_fees": money_str(sums["liq_fees"]),
        "insurance_cover": money_str(sums["cover"]),
        "max_drawdown": money_str(drawdown),
        "max_drawdown_ratio": fmt_ratio(dd_num, dd_den, 8),
        "trades": len(trades),
        "maker_trades": sum(1 for t in trades if t["maker"]),
        "taker_trades": sum(1 for t in trades if not t["maker"] and t["orderId"]),
        "volume": money_str(int(volume * E8)),
        "orders": len(orders) - rows,
        "orders_by_status": by_status,
        "trigger_orders": rows,
        "liquidations": len(liquidations),
        "positions": positions,
        "equity_samples": len(equity),
        "state_hash": ex.state_hash(),
        "config": config,
        "strategy_stats": {str(k): v if isinstance(v, (int, str)) else str(v)
                           for k, v in sorted((strategy_stats or {}).items())},
    }
    return Report(summary, trades, orders, liquidations, equity, ex)


def _by(key: str) -> Any:
    def get(d: dict) -> Any:
        return d[key]

    return get


def _all_trades(client: Any, symbol: str) -> list[dict]:
    out: list[dict] = []
    while True:
        page = client.get_account_trades(symbol=symbol, fromId=out[-1]["id"] + 1 if out else 0,
                                         limit=_PAGE)
        out += page
        if len(page) < _PAGE:
            return out


def _all_orders(client: Any, symbol: str) -> list[dict]:
    out: list[dict] = []
    while True:
        page = client.get_all_orders(symbol=symbol,
                                     orderId=out[-1]["orderId"] + 1 if out else 0, limit=_PAGE)
        out += page
        if len(page) < _PAGE:
            return out
