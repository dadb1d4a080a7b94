"""The account views — account, balance, positionRisk — in Binance's v2 and v3 shapes.

Binance serves two generations of each (USDⓈ-M *Account Information V2/V3*,
*Position Information V2/V3*, *Futures Account Balance V2/V3*); each version here has
its own documented field set and row selection:

* ``/fapi/v2/account``: ``feeTier``, ``feeBurn``, ``canTrade``, ``canDeposit``,
  ``canWithdraw``, ``updateTime``, ``multiAssetsMargin``, ``tradeGroupId``, the
  totals, ``assets`` (every margin asset, :data:`MARGIN_ASSETS`, with
  ``marginAvailable``) and ``positions`` for *every* listed symbol — flat ones too —
  one row per position side of the account's mode, each with ``isolated``,
  ``maxNotional``, ``bidNotional`` and ``askNotional``.
* ``/fapi/v3/account``: the totals, ``assets`` (the quote assets USDT, USDC, BTC,
  without ``marginAvailable``) and ``positions`` only for sides that hold a position
  or open orders, with v3's ten fields.
* ``/fapi/v2/positionRisk``: every listed symbol (or the one asked for), each side of
  the mode, flat or not, with ``marginType``, ``isAutoAddMargin``, ``leverage``,
  ``maxNotionalValue``; ``/fapi/v3/positionRisk``: only sides with a position or
  open orders (with ``symbol``: of that symbol — none when it is flat and has no
  open orders), with ``initialMargin``, ``maintMargin``, the margin split, ``adl``,
  ``bidNotional``/``askNotional``, and no configuration fields (those are
  ``symbolConfig``'s).
* ``/fapi/v1/symbolConfig`` and ``/fapi/v1/accountConfig`` answer that configuration
  (leverage, margin type, position mode).
* ``/fapi/v2/balance`` and ``/fapi/v3/balance`` are the same list: USDT, then the
  other margin assets with zero balances (single-asset mode: only USDT is margin).

The in-process :class:`~engine.venue.client.Client` answers v3, as ``UMFutures``
calls v3.  How the computed fields are defined:

* ``entryPrice`` = cost / quantity, half-even to 8 decimals; ``breakEvenPrice`` =
  (cost + the commissions paid opening what is held) / quantity for a long, (cost −
  those commissions) / quantity for a short — the price at which closing, fees of
  the opening fills included, is flat (Binance's examples are entry × (1 ± the fee
  rate paid)); "0" when flat.
* ``bidNotional`` / ``askNotional``: Σ price × open quantity of the account's open
  BUY / SELL orders on that symbol and position side (trigger rows excluded).
* ``adl``: the position's place in the auto-deleveraging queue of its symbol and
  direction, 0 when flat, else 1–4: every open position of that symbol and
  direction (all accounts but the venue's own) is scored as Binance ranks them —
  PnL% × effective leverage when in profit, PnL% ÷ effective leverage at a loss,
  where PnL% = unrealized PnL ÷ |cost| and effective leverage = |notional| ÷ the
  account's margin balance — and a position whose score exceeds that of k of the
  other n − 1 positions gets 1 + ⌊4k / n⌋ (exact rationals, no floats).  Binance
  recomputes it every 30 s; here at each read.
* ``liquidationPrice``: the mark at which the account would be liquidated
  (:mod:`~engine.venue.risk`), "0" if never; an isolated position's own.
* Isolated margin: ``isolatedWallet`` is the position's wallet, ``isolatedMargin``
  that wallet + its unrealized PnL (as Binance reports them), ``marginType``
  "isolated", ``isolated`` true; the cross figures (``crossWalletBalance``,
  ``crossUnPnl``, ``availableBalance``) leave isolated positions out, while the
  totals (``totalWalletBalance``, ``totalUnrealizedProfit``, the margins) count all.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from engine.core.decimals import fmt_ratio, present
from engine.core.enums import BOTH, BUY, LONG, SHORT, PositionSide
from engine.core.errors import InvariantError, reject
from engine.core.instrument import money_str
from engine.venue.history import inside, limit_of, window
from engine.venue.rule import Rule
from engine.wire.params import parse_symbol

if TYPE_CHECKING:
    from engine.core.instrument import Instrument
    from engine.core.ledger import AccountState, Ledger, Position
    from engine.core.market import Market
    from engine.core.orderindex import OrderIndex
    from engine.venue.risk import Risk

__all__ = ["MARGIN_ASSETS", "Accounts"]

#: the margin assets Binance lists (``exchangeInfo.assets``, ``balance``); only USDT
#: is margin in single-asset mode, the only mode offered
MARGIN_ASSETS = ("USDT", "BTC", "BNB", "ETH", "USDC", "FDUSD", "BFUSD")
#: v3 account's ``assets``: the quote assets
_V3_ASSETS = ("USDT", "USDC", "BTC")

_V2_RISK = ("symbol", "positionAmt", "entryPrice", "breakEvenPrice", "markPrice",
            "unRealizedProfit", "liquidationPrice", "leverage", "maxNotionalValue",
            "marginType", "isolatedMargin", "isAutoAddMargin", "positionSide", "notional",
            "isolatedWallet", "updateTime")
_V3_RISK = ("symbol", "positionSide", "positionAmt", "entryPrice", "breakEvenPrice",
            "markPrice", "unRealizedProfit", "liquidationPrice", "isolatedMargin", "notional",
            "marginAsset", "isolatedWallet", "initialMargin", "maintMargin",
            "positionInitialMargin", "openOrderInitialMargin", "adl", "bidNotional",
            "askNotional", "updateTime")
_V2_ACCOUNT_POSITION = ("symbol", "initialMargin", "maintMargin", "unrealizedProfit",
                        "positionInitialMargin", "openOrderInitialMargin", "leverage",
                        "isolated", "entryPrice", "breakEvenPrice", "maxNotional",
                        "bidNotional", "askNotional", "positionSide", "positionAmt",
                        "updateTime")
_V3_ACCOUNT_POSITION = ("symbol", "positionSide", "positionAmt", "unrealizedProfit",
                        "isolatedMargin", "notional", "isolatedWallet", "initialMargin",
                        "maintMargin", "updateTime")


def _pick(row: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: row[k] for k in keys}


class Accounts(Rule):
    """account, balance and positionRisk, v2 and v3 (see the module docstring).

    Room: reads the instruments, symbols, markets, ledger and order index; changes
    nothing.  Peer: ``risk`` (liquidation prices).
    """

    PEERS = ("risk",)

    # the state it touches (engine.venue.rule)
    _instruments: dict[str, Instrument]
    _symbols: list[str]
    _markets: dict[str, Market]
    _ledger: Ledger
    _index: OrderIndex
    # the rules it calls
    _risk: Risk

    # -- rows -------------------------------------------------------------------------------
    def _open_order_sums(self, acct: AccountState) -> dict[tuple[str, PositionSide], list[int]]:
        """(symbol, side) → [frozen margin, bid notional, ask notional] of open orders."""
        out: dict[tuple[str, PositionSide], list[int]] = {}
        for (name, sym), table in self._index.open_orders.items():
            if name != acct.name or not table:
                continue
            unit = self._instruments[sym].notional_unit_e8
            for o in table.values():
                sums = out.setdefault((sym, o.pside), [0, 0, 0])
                sums[0] += o.frozen_e8()
                sums[1 if o.side is BUY else 2] += o.price * (o.qty - o.executed) * unit
        return out

    def _rows(self, acct: AccountState, symbol: str | None, every: bool,
              adl: bool = False) -> list[dict[str, Any]]:
        """The superset row of each position side: of ``symbol`` or of every symbol; all
        sides of the mode (``every``) or those with a position or open orders."""
        sums = self._open_order_sums(acct)
        sides = (LONG, SHORT) if acct.dual_side else (BOTH,)
        rows = []
        for sym in self._symbols if symbol is None else [symbol]:
            inst = self._instruments[sym]
            has_rows = bool(self._index.open_rows.get((acct.name, sym)))
            for pside in sides:
                pos = acct.positions.get((sym, pside))
                qty = 0 if pos is None else pos.qty
                if not every and not qty and (sym, pside) not in sums and not has_rows:
                    continue
                row = self._row(acct, inst, pside, pos, sums.get((sym, pside), [0, 0, 0]))
                if adl:
                    row["adl"] = self._adl(acct, inst, pside, pos)
                rows.append(row)
        return rows

    def _row(self, acct: AccountState, inst: Instrument, pside: PositionSide,
             pos: Position | None, sums: list[int]) -> dict[str, Any]:
        sym = inst.symbol
        mark = self._markets[sym].mark_price() or 0
        qty = 0 if pos is None else pos.qty
        cost = 0 if pos is None else pos.cost_e8
        notional = qty * mark * inst.notional_unit_e8
        lev = acct.leverage_of(sym)
        im = -(-abs(notional) // lev)
        mm = inst.maint_margin_e8(notional) if qty else 0
        entry = bep = "0"
        if qty:
            per_lot = qty * inst.step_m * 10 ** (8 - inst.qty_exp)
            entry = fmt_ratio(cost, per_lot, 8)
            fee = pos.open_fee_e8 if pos is not None else 0
            bep = fmt_ratio(cost + fee, per_lot, 8)  # signed: a short's entry less the fee
        cap = money_str(inst.max_notional_e8(lev))
        liq = self._risk.liquidation_price(acct, sym, pside) if qty else None
        frozen, bids, asks = sums
        upnl = money_str(notional - cost)
        isolated = sym in acct.isolated
        iso = 0 if pos is None else pos.iso_e8
        return {
            "symbol": sym, "positionSide": pside._value_,
            "positionAmt": inst.signed_qty_str(qty), "entryPrice": entry,
            "breakEvenPrice": bep, "markPrice": inst.price_str(mark),
            "unRealizedProfit": upnl, "unrealizedProfit": upnl,
            "liquidationPrice": inst.price_str(liq) if liq else "0",
            "isolatedMargin": money_str(iso + notional - cost) if iso else "0",
            "notional": money_str(notional),
            "marginAsset": inst.margin_asset, "isolatedWallet": money_str(iso),
            "initialMargin": money_str(im + frozen), "maintMargin": money_str(mm),
            "positionInitialMargin": money_str(im), "openOrderInitialMargin": money_str(frozen),
            "adl": 0, "bidNotional": money_str(bids), "askNotional": money_str(asks),
            "leverage": str(lev), "marginType": "isolated" if isolated else "cross",
            "isAutoAddMargin": "false",
            "isolated": isolated, "maxNotionalValue": cap, "maxNotional": cap,
            "updateTime": 0 if pos is None else pos.update_time,
        }

    def _balance(self, acct: AccountState) -> int:
        """The account's margin balance: wallet + every position's unrealized PnL."""
        return acct.wallet_e8 + self._ledger.margin_figures(acct, self._instruments)[0]

    def _score(self, balance: int, inst: Instrument, pos: Position) -> Fraction:
        """Binance's deleveraging rank of a position whose account holds ``balance``."""
        mark = self._markets[inst.symbol].mark_price() or 0
        notional = pos.qty * mark * inst.notional_unit_e8
        upnl = notional - pos.cost_e8
        pnl = Fraction(upnl, abs(pos.cost_e8) or 1)
        lev = Fraction(abs(notional), balance) if balance > 0 else Fraction(abs(notional) + 1)
        return pnl * lev if upnl >= 0 else pnl / (lev or 1)

    def _adl(self, acct: AccountState, inst: Instrument, pside: PositionSide,
             pos: Position | None) -> int:
        if pos is None or not pos.qty:
            return 0
        long = pos.qty > 0
        scores = []
        for other in self._ledger.accounts.values():
            if other.name[0] == "@":
                continue
            held = [p for (sym, _side), p in other.positions.items()
                    if sym == inst.symbol and p.qty and (p.qty > 0) == long and p is not pos]
            if held:
                balance = self._balance(other)
                scores += [self._score(balance, inst, p) for p in held]
        mine = self._score(self._balance(acct), inst, pos)
        below = sum(1 for s in scores if s < mine)
        return 1 + 4 * below // (len(scores) + 1)

    # -- the endpoints ------------------------------------------------------------------------
    def position_risk(self, acct: AccountState, params: Mapping[str, Any],
                      version: int = 3) -> list[dict]:
        """``GET /fapi/v{version}/positionRisk``."""
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        if version == 2:
            return [_pick(r, _V2_RISK) for r in self._rows(acct, symbol, True)]
        return [_pick(r, _V3_RISK) for r in self._rows(acct, symbol, False, adl=True)]

    def symbol_config(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/symbolConfig``: each listed symbol's (or ``symbol``'s) margin type,
        auto-add flag, leverage (an int here, as Binance's example) and the notional cap of
        that leverage — the configuration v3 moved out of positionRisk."""
        symbols = self._symbols
        if present(params.get("symbol")):
            symbols = [parse_symbol(params, self._instruments).symbol]
        out = []
        for sym in symbols:
            inst, lev = self._instruments[sym], acct.leverage_of(sym)
            cap = inst.max_notional_e8(lev)
            out.append({"symbol": sym,
                        "marginType": "ISOLATED" if sym in acct.isolated else "CROSSED",
                        "isAutoAddMargin": False,
                        "leverage": lev, "maxNotionalValue": money_str(cap)})
        return out

    def account_config(self, acct: AccountState) -> dict:
        """``GET /fapi/v1/accountConfig``: the configuration v3 moved out of account."""
        return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                "dualSidePosition": acct.dual_side, "updateTime": 0,
                "multiAssetsMargin": False, "tradeGroupId": -1}

    def adl_quantile(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/adlQuantile``: per symbol with a position, each side's ``adl``.
        One-way mode: the held direction's value under ``LONG`` or ``SHORT`` and under
        ``BOTH``, the other 0; hedge mode: ``LONG`` and ``SHORT``, and ``HEDGE`` 0 (cross
        margin, as Binance marks it)."""
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        out = []
        for sym in self._symbols if symbol is None else [symbol]:
            inst = self._instruments[sym]
            held = {side: p for (s, side), p in acct.positions.items() if s == sym and p.qty}
            if not held:
                continue
            q = {side: self._adl(acct, inst, side, p) for side, p in held.items()}
            if acct.dual_side:
                quantile = {"LONG": q.get(LONG, 0), "SHORT": q.get(SHORT, 0), "HEDGE": 0}
            else:
                both = q[BOTH]
                long = held[BOTH].qty > 0
                quantile = {"LONG": both if long else 0, "SHORT": 0 if long else both,
                            "BOTH": both}
            out.append({"symbol": sym, "adlQuantile": quantile})
        return out

    def force_orders(self, acct: AccountState, params: Mapping[str, Any]) -> list[dict]:
        """``GET /fapi/v1/forceOrders``: the account's liquidation orders, oldest first —
        ``symbol``, ``autoCloseType`` (LIQUIDATION; ADL is never done here), the window of
        :mod:`~engine.venue.history` (default: the 7 days before ``endTime`` or now),
        ``limit`` (50; 1..100).  A liquidation closes at the mark against the venue's
        insurance account without an order of the book, so ``orderId`` is 0 and
        ``clientOrderId`` ``autoclose-<time>``."""
        symbol = None
        if present(params.get("symbol")):
            symbol = parse_symbol(params, self._instruments).symbol
        kind = params.get("autoCloseType")
        if present(kind) and kind not in ("LIQUIDATION", "ADL"):
            raise reject("INVALID_PARAMETER", "autoCloseType")
        start, end = window(params, self._s.now, capped=False)
        limit = limit_of(params, 50, 100)
        out: list[dict] = []
        if kind == "ADL":
            return out
        for time, name, sym, pside, qty, price, _fee in self._ledger.liquidations:
            if name != acct.name or (symbol is not None and sym != symbol):
                continue
            if not inside(time, start, end):
                continue
            inst = self._instruments[sym]
            p, lots = inst.price_str(price), inst.qty_str(abs(qty))
            out.append({
                "orderId": 0, "symbol": sym, "status": "FILLED",
                "clientOrderId": f"autoclose-{time}", "price": p, "avgPrice": p,
                "origQty": lots, "executedQty": lots,
                "cumQuote": money_str(abs(qty) * price * inst.notional_unit_e8),
                "timeInForce": "IOC", "type": "LIMIT", "reduceOnly": False,
                "closePosition": False, "side": "SELL" if qty > 0 else "BUY",
                "positionSide": pside, "stopPrice": "0", "workingType": "CONTRACT_PRICE",
                "origType": "LIMIT", "time": time, "updateTime": time,
            })
        return out[-limit:]

    def change_multi_assets(self, acct: AccountState, params: Mapping[str, Any]) -> dict:
        """``POST /fapi/v1/multiAssetsMargin``: multi-assets mode is not offered (SPEC 10),
        so ``true`` is -1020 and ``false`` Binance's -4171 (it is already so).  Changes
        nothing either way."""
        value = params.get("multiAssetsMargin")
        if not present(value):
            raise reject("MANDATORY_PARAM", "multiAssetsMargin")
        text = str(value).lower()
        if text == "true":
            raise reject("UNSUPPORTED_OPERATION")
        if text == "false":
            raise reject("NO_NEED_TO_CHANGE_JOINT_MARGIN")
        raise reject("INVALID_PARAMETER", "multiAssetsMargin")

    def _totals(self, acct: AccountState) -> dict[str, int]:
        """Every position's uPnL, IM and MM; the cross wallet and cross figures; frozen
        margin; available = cross wallet + cross uPnL − cross IM − frozen."""
        upnl, im, mm = self._ledger.margin_figures(acct, self._instruments)
        cwallet, cupnl, cim, _cmm = self._ledger.cross_figures(acct, self._instruments)
        wallet, frozen = acct.wallet_e8, acct.frozen_e8
        available = cwallet + cupnl - cim - frozen
        return {
            "wallet": wallet, "upnl": upnl, "im": im, "mm": mm, "frozen": frozen,
            "cross_wallet": cwallet, "cross_upnl": cupnl, "cross_im": cim,
            "available": available, "max_withdraw": max(0, min(cwallet, available)),
        }

    def _asset(self, acct: AccountState, asset: str, t: dict[str, int] | None,
               v2: bool) -> dict[str, Any]:
        z = "0"
        wallet, upnl = (money_str(t["wallet"]), money_str(t["upnl"])) if t else (z, z)
        row = {
            "asset": asset, "walletBalance": wallet, "unrealizedProfit": upnl,
            "marginBalance": money_str(t["wallet"] + t["upnl"]) if t else z,
            "maintMargin": money_str(t["mm"]) if t else z,
            "initialMargin": money_str(t["im"] + t["frozen"]) if t else z,
            "positionInitialMargin": money_str(t["im"]) if t else z,
            "openOrderInitialMargin": money_str(t["frozen"]) if t else z,
            "crossWalletBalance": money_str(t["cross_wallet"]) if t else z,
            "crossUnPnl": money_str(t["cross_upnl"]) if t else z,
            "availableBalance": money_str(t["available"]) if t else z,
            "maxWithdrawAmount": money_str(t["max_withdraw"]) if t else z,
            "marginAvailable": True,
            "updateTime": acct.update_time if t else 0,
        }
        if not v2:
            del row["marginAvailable"]
        return row

    def account_info(self, acct: AccountState, version: int = 3) -> dict:
        """``GET /fapi/v{version}/account``."""
        t = self._totals(acct)
        wallet, upnl = money_str(t["wallet"]), money_str(t["upnl"])
        totals = {
            "totalInitialMargin": money_str(t["im"] + t["frozen"]),
            "totalMaintMargin": money_str(t["mm"]),
            "totalWalletBalance": wallet,
            "totalUnrealizedProfit": upnl,
            "totalMarginBalance": money_str(t["wallet"] + t["upnl"]),
            "totalPositionInitialMargin": money_str(t["im"]),
            "totalOpenOrderInitialMargin": money_str(t["frozen"]),
            "totalCrossWalletBalance": money_str(t["cross_wallet"]),
            "totalCrossUnPnl": money_str(t["cross_upnl"]),
            "availableBalance": money_str(t["available"]),
            "maxWithdrawAmount": money_str(t["max_withdraw"]),
        }
        v2 = version == 2
        assets = [self._asset(acct, a, t if a == "USDT" else None, v2)
                  for a in (MARGIN_ASSETS if v2 else _V3_ASSETS)]
        keys = _V2_ACCOUNT_POSITION if v2 else _V3_ACCOUNT_POSITION
        positions = [_pick(r, keys) for r in self._rows(acct, None, v2)]
        if not v2:
            return {**totals, "assets": assets, "positions": positions}
        return {
            "feeTier": 0, "feeBurn": False, "canTrade": True, "canDeposit": True,
            "canWithdraw": True, "updateTime": 0, "multiAssetsMargin": False,
            "tradeGroupId": -1, **totals, "assets": assets, "positions": positions,
        }

    def balance_info(self, acct: AccountState) -> list[dict]:
        """``GET /fapi/v2/balance`` and ``/fapi/v3/balance`` (the same list)."""
        t = self._totals(acct)
        out = [{
            "accountAlias": "SgsR" + acct.name[:4],
            "asset": "USDT",
            "balance": money_str(t["wallet"]),
            "crossWalletBalance": money_str(t["cross_wallet"]),
            "crossUnPnl": money_str(t["cross_upnl"]),
            "availableBalance": money_str(t["available"]),
            "maxWithdrawAmount": money_str(t["max_withdraw"]),
            "marginAvailable": True,
            "updateTime": acct.update_time,
        }]
        for asset in MARGIN_ASSETS[1:]:
            out.append({**out[0], "asset": asset, "balance": "0", "crossWalletBalance": "0",
                        "crossUnPnl": "0", "availableBalance": "0",
                        "maxWithdrawAmount": "0", "updateTime": 0})
        return out

    def check(self) -> None:
        """SPEC 6 invariant 2: account(), balance() and positionRisk agree, in both versions."""
        e8 = _money_e8
        for name, acct in self._ledger.accounts.items():
            info = self.account_info(acct, 2)
            bal = self.balance_info(acct)[0]
            rows = self._rows(acct, None, True)
            avail = e8(info["availableBalance"])
            cross = [r for r in rows if not r["isolated"]]
            expect = (
                e8(info["totalCrossWalletBalance"]) + e8(info["totalCrossUnPnl"])
                - sum(e8(r["positionInitialMargin"]) for r in cross)
                - e8(info["totalOpenOrderInitialMargin"])
            )
            checks = [
                (avail, expect,
                 "available != cross wallet + cross uPnL − cross position IM − frozen"),
                (e8(info["totalWalletBalance"]) - e8(info["totalCrossWalletBalance"]),
                 sum(e8(r["isolatedWallet"]) for r in rows),
                 "wallet − cross wallet != Σ isolated wallets"),
                (e8(info["totalCrossUnPnl"]), sum(e8(r["unRealizedProfit"]) for r in cross),
                 "Σ cross positions' uPnL != cross uPnL"),
                (avail, e8(bal["availableBalance"]), "account/balance available differ"),
                (e8(info["totalWalletBalance"]), e8(bal["balance"]), "wallet differs"),
                (e8(info["totalUnrealizedProfit"]),
                 sum(e8(r["unRealizedProfit"]) for r in rows), "Σ position uPnL != total"),
                (e8(info["totalPositionInitialMargin"]),
                 sum(e8(r["positionInitialMargin"]) for r in rows), "Σ position IM != total"),
                (e8(info["totalOpenOrderInitialMargin"]),
                 sum(e8(r["openOrderInitialMargin"]) for r in rows), "Σ order IM != total"),
                (e8(info["totalMaintMargin"]),
                 sum(e8(r["maintMargin"]) for r in rows), "Σ maint margin != total"),
                (len(info["positions"]), len(self._symbols) * (2 if acct.dual_side else 1),
                 "v2 positions do not list every symbol"),
            ]
            for got, want, what in checks:
                if got != want:
                    raise InvariantError(f"{name}: {what} ({got} != {want})")


def _money_e8(text: str) -> int:
    """Inverse of ``money_str``: a minimal decimal string with ≤ 8 decimals → 10⁻⁸ USDT.

    Exact, and without ``Decimal``: the invariant check reads back every money
    field of every account once per property-test step.
    """
    digits = text[1:] if text[:1] == "-" else text
    head, _dot, tail = digits.partition(".")
    if len(tail) > 8 or not head.isdigit() or not (tail.isdigit() or not tail):
        raise InvariantError(f"{text!r} is not an amount of money")
    value = int(head) * 100_000_000 + int(tail.ljust(8, "0") or "0")
    return -value if digits is not text else value
