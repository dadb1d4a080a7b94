"""Property test: a generated stream of commands against a venue and a plain cascade model.

Three accounts trade both default symbols: LIMIT/MARKET orders with and
without TP/SL, standalone conditional orders, rows attached later, crossing
orders between accounts, manual closes, mark-price moves that fire triggers,
cancels by id and by client id (own, foreign, stale, wrong symbol), direct
cancels of trigger rows, batch cancels, cancel-all and the countdown.

After every step: ``check_invariants()``; every refused call left
``state_hash()`` unchanged; the outcome of every cancel is the one the model
predicts (success and the exact cascade, or the exact failure code); and every
status change obeys the cascade model (``cascade_model.CascadeModel``).  At
teardown every open order is cancelled: frozen margin is then exactly 0 and
value is conserved to the last unit.

Profiles: the default (CI) runs 200 examples × 50 steps; ``FAPISIM_FUZZ=long``
runs 5,000 × 100.
"""

from __future__ import annotations

import os
from decimal import Decimal

from cascade_model import OPEN, CascadeModel
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from engine import ClientError, Exchange

ACCOUNTS = ("alice", "bob", "carol")
# symbol -> (centre price in ticks, ticks per price step, tick exponent, lots range)
MARKETS = {
    "BTCUSDT": (300_000, 150, 1, (4, 40)),
    "ETHUSDT": (200_000, 100, 2, (10, 500)),
}
SYMBOLS = tuple(MARKETS)
LONG_RUN = os.environ.get("FAPISIM_FUZZ") == "long"


def price(symbol: str, steps: int) -> str:
    centre, unit, exp, _ = MARKETS[symbol]
    ticks = centre + steps * unit
    return f"{ticks // 10**exp}.{ticks % 10**exp:0{exp}d}"


def shift(symbol: str, wire_price: str, steps: int) -> str:
    """``wire_price`` (or the centre, for a MARKET order's "0") moved by ``steps`` steps."""
    centre, unit, exp, _ = MARKETS[symbol]
    ticks = int(Decimal(wire_price).scaleb(exp)) or centre
    ticks = max(ticks + steps * unit, unit)
    return f"{ticks // 10**exp}.{ticks % 10**exp:0{exp}d}"


def qty(symbol: str, lots: int) -> str:
    return f"{lots // 1000}.{lots % 1000:03d}"


symbols = st.sampled_from(SYMBOLS)
accounts = st.sampled_from(ACCOUNTS)
sides = st.sampled_from(("BUY", "SELL"))
lot_counts = st.integers(4, 60)
offsets = st.integers(1, 20)
client_ids = st.one_of(st.none(), st.sampled_from(("c0", "c1", "c2")))
working = st.sampled_from(("CONTRACT_PRICE", "MARK_PRICE"))


class VenueMachine(RuleBasedStateMachine):
    orders = Bundle("orders")  # ids of ordinary orders
    rows = Bundle("rows")  # ids of trigger rows

    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange()
        self.clients = {}
        self.model = CascadeModel()
        self.cids: dict[int, str] = {}

    @initialize()
    def open_accounts(self) -> None:
        for name in ACCOUNTS:
            self.ex.create_account(name, balance="100000")
            self.clients[name] = self.ex.client(name)
        for symbol in SYMBOLS:
            self.ex.set_mark_price(symbol, price(symbol, 0))

    # -- helpers ------------------------------------------------------------------------
    def _snapshot(self) -> dict[int, tuple[str, str]]:
        return {oid: (r.status, r.executed) for oid, r in self.model.orders.items()}

    def _observe(self) -> None:
        """Refresh the model with every known order's wire state (and discover children)."""
        for oid in sorted(self.model.orders):
            rec = self.model.orders[oid]
            wire = self.clients[rec.owner].query_order(symbol=rec.symbol, orderId=oid)
            if rec.is_row and wire["status"] != rec.status:
                event(f"row -> {wire['status']}")
            self.model.learn(rec.owner, wire)
            child = wire.get("triggeredOrderId")
            if child is not None and child not in self.model.orders:
                self.model.learn(
                    rec.owner,
                    self.clients[rec.owner].query_order(symbol=rec.symbol, orderId=child),
                )

    def _call(self, account: str, method: str, **params):
        """Call the client; a refusal must leave the venue's state hash unchanged."""
        note(f"{account}.{method}({params!r})")
        before = self.ex.state_hash()
        try:
            resp = getattr(self.clients[account], method)(**params)
        except ClientError as e:
            event(f"{method} {params.get('type', '')} -> {e.error_code}")
            note(f"  -> {e.error_code} {e.error_message}")
            assert self.ex.state_hash() == before, f"refused {method} changed the state"
            return None, e
        if method == "new_order":
            self._record(account, resp)  # before the step's observation refreshes it
        status = resp.get("status", "ok") if isinstance(resp, dict) else "ok"
        event(f"{method} {params.get('type', '')} -> {status}")
        return resp, None

    def _step(self, action, cancelled: set[int] | None = None):
        before = self._snapshot()
        result = action()
        self._observe()
        self.model.check_step(before, cancelled or set())
        return result

    def _record(self, account: str, resp: dict) -> None:
        self.model.learn(account, resp)
        for wire in (resp, *resp.get("triggerOrders", ())):
            self.cids[wire["orderId"]] = wire["clientOrderId"]

    # -- placing ------------------------------------------------------------------------
    @rule(
        target=orders, acct=accounts, symbol=symbols, side=sides, off=st.integers(-12, 12),
        lots=lot_counts, tif=st.sampled_from(("GTC", "GTC", "GTC", "IOC", "FOK", "GTX")),
        tp=st.one_of(st.none(), offsets), sl=st.one_of(st.none(), offsets), cid=client_ids,
        wt=working,
    )
    def place_limit(self, acct, symbol, side, off, lots, tif, tp, sl, cid, wt):
        sign = 1 if side == "BUY" else -1
        params = dict(
            symbol=symbol, side=side, type="LIMIT", timeInForce=tif, price=price(symbol, off),
            quantity=qty(symbol, lots),
        )
        if tp is not None:
            params["takeProfitPrice"] = price(symbol, off + sign * tp)
        if sl is not None:
            params["stopLossPrice"] = price(symbol, off - sign * sl)
        if tp is not None or sl is not None:
            params["tpslWorkingType"] = wt
        if cid is not None:
            params["newClientOrderId"] = cid
        resp, _e = self._step(lambda: self._call(acct, "new_order", **params))
        return self._bundle(acct, resp, "orders")

    @rule(
        target=orders, acct=accounts, symbol=symbols, side=sides, lots=lot_counts,
        sl=st.one_of(st.none(), offsets),
    )
    def place_market(self, acct, symbol, side, lots, sl):
        params = dict(symbol=symbol, side=side, type="MARKET", quantity=qty(symbol, lots))
        if sl is not None:
            sign = 1 if side == "BUY" else -1
            params["stopLossPrice"] = price(symbol, -sign * sl)
        resp, _e = self._step(lambda: self._call(acct, "new_order", **params))
        return self._bundle(acct, resp, "orders")

    @rule(
        target=rows, acct=accounts, symbol=symbols, side=sides,
        kind=st.sampled_from(
            ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET")
        ),
        off=st.integers(-20, 20), lots=lot_counts, reduce=st.booleans(), wt=working,
    )
    def place_conditional(self, acct, symbol, side, kind, off, lots, reduce, wt):
        params = dict(
            symbol=symbol, side=side, type=kind, quantity=qty(symbol, lots), workingType=wt,
        )
        if kind == "TRAILING_STOP_MARKET":
            params["callbackRate"] = "1"
            params["activationPrice"] = price(symbol, off)
        else:
            params["stopPrice"] = price(symbol, off)
        if kind in ("STOP", "TAKE_PROFIT"):
            params["price"] = price(symbol, off)
        if reduce:
            params["reduceOnly"] = "true"
        resp, _e = self._step(lambda: self._call(acct, "new_order", **params))
        return self._bundle(acct, resp, "rows")

    @rule(
        target=rows, acct=accounts, parent=orders,
        kind=st.sampled_from(("STOP_MARKET", "TAKE_PROFIT_MARKET")), off=offsets,
        capped=st.booleans(),
    )
    def attach_row(self, acct, parent, kind, off, capped):
        rec = self.model.orders[parent]
        wire = self.clients[rec.owner].query_order(symbol=rec.symbol, orderId=parent)
        side = "SELL" if wire["side"] == "BUY" else "BUY"
        sign = 1 if wire["side"] == "BUY" else -1
        steps = off if kind == "TAKE_PROFIT_MARKET" else -off
        params = dict(
            symbol=rec.symbol, side=side, type=kind, parentOrderId=parent,
            stopPrice=shift(rec.symbol, wire["price"], sign * steps),
        )
        if capped:
            params["quantity"] = qty(rec.symbol, MARKETS[rec.symbol][3][0])
        resp, _e = self._step(lambda: self._call(acct, "new_order", **params))
        return self._bundle(acct, resp, "rows")

    def _bundle(self, acct, resp, kind):
        if resp is None:
            return multiple()
        rows = [r["orderId"] for r in resp.get("triggerOrders", ())]
        if kind == "rows":
            return multiple(resp["orderId"])
        # row ids of an entry go to the same bundle as orders here; cancels draw from both
        return multiple(resp["orderId"], *rows)

    @rule(
        target=orders, acct=accounts, other=accounts, symbol=symbols, side=sides,
        lots=lot_counts, tp=offsets, sl=offsets, wt=working,
    )
    def open_protected(self, acct, other, symbol, side, lots, tp, sl, wt):
        """``other`` rests at the mark; ``acct`` crosses it with a TP/SL-protected LIMIT."""
        mark = self.clients[acct].mark_price(symbol=symbol)["markPrice"]
        maker = dict(
            symbol=symbol, side="SELL" if side == "BUY" else "BUY", type="LIMIT",
            timeInForce="GTC", price=mark, quantity=qty(symbol, lots),
        )
        made, _e = self._step(lambda: self._call(other, "new_order", **maker))
        sign = 1 if side == "BUY" else -1
        taker = dict(
            symbol=symbol, side=side, type="LIMIT", timeInForce="GTC", price=mark,
            quantity=qty(symbol, lots), takeProfitPrice=shift(symbol, mark, sign * tp),
            stopLossPrice=shift(symbol, mark, -sign * sl), tpslWorkingType=wt,
        )
        taken, _e = self._step(lambda: self._call(acct, "new_order", **taker))
        ids = []
        for resp in (made, taken):
            if resp is not None:
                ids += [resp["orderId"], *(r["orderId"] for r in resp.get("triggerOrders", ()))]
        return multiple(*ids)

    @rule(target=orders, acct=accounts, symbol=symbols, lots=lot_counts, spread=offsets)
    def quote_both_sides(self, acct, symbol, lots, spread):
        """Rest a bid and an ask around the current mark, so market orders find liquidity."""
        mark = self.clients[acct].mark_price(symbol=symbol)["markPrice"]
        placed = []
        for side, sign in (("BUY", -1), ("SELL", 1)):
            params = dict(
                symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                price=shift(symbol, mark, sign * (spread % 3 + 1)), quantity=qty(symbol, lots * 3),
            )
            resp, _e = self._step(lambda p=params: self._call(acct, "new_order", **p))
            if resp is not None:
                placed.append(resp["orderId"])
        return multiple(*placed)

    # -- market moves and closes ------------------------------------------------------
    @rule(symbol=symbols, off=st.integers(-30, 30))
    def move_mark(self, symbol, off):
        note(f"set_mark_price({symbol!r}, {price(symbol, off)!r})")
        self._step(lambda: self.ex.set_mark_price(symbol, price(symbol, off)))

    @rule(acct=accounts, symbol=symbols)
    def close_position(self, acct, symbol):
        rows = self.clients[acct].get_position_risk(symbol=symbol)
        amt = rows[0]["positionAmt"]
        lots = abs(int(Decimal(amt).scaleb(3)))
        if not lots:
            resp, err = self._step(lambda: self._call(
                acct, "new_order", symbol=symbol, side="SELL", type="MARKET",
                quantity=qty(symbol, MARKETS[symbol][3][0]), reduceOnly="true",
            ))
            assert err is not None and err.error_code == -2022
            return
        side = "SELL" if not amt.startswith("-") else "BUY"
        self._step(lambda: self._call(
            acct, "new_order", symbol=symbol, side=side, type="MARKET",
            quantity=qty(symbol, lots), reduceOnly="true",
        ))

    # -- cancels ----------------------------------------------------------------------
    @rule(
        caller=accounts, victim=st.one_of(orders, rows, rows, st.integers(1, 2000)),
        by_cid=st.booleans(), wrong_symbol=st.booleans(),
    )
    def cancel(self, caller, victim, by_cid, wrong_symbol):
        rec = self.model.orders.get(victim)
        symbol = rec.symbol if rec is not None else "BTCUSDT"
        if wrong_symbol:
            symbol = "ETHUSDT" if symbol == "BTCUSDT" else "BTCUSDT"
        if by_cid and victim in self.cids:
            cid = self.cids[victim]
            resolved = self._resolve_cid(caller, cid)
            expected_id = resolved
            params = dict(symbol=symbol, origClientOrderId=cid)
        else:
            expected_id = victim
            params = dict(symbol=symbol, orderId=victim)
        expected = (
            -2011 if expected_id is None
            else self.model.expected_cancel(caller, symbol, expected_id)
        )
        cascade = (
            self.model.cascade_of(expected_id)
            if expected is None and not self.model.orders[expected_id].is_row else []
        )
        cancelled = set() if expected_id is None else {expected_id, *cascade}

        def act():
            resp, err = self._call(caller, "cancel_order", **params)
            if expected is None:
                assert err is None, f"expected success, got {err}"
                assert resp["status"] == "CANCELED" and resp["orderId"] == expected_id
                got = [r["orderId"] for r in resp.get("triggerOrders", [])]
                assert got == cascade, f"cascade {got} != model {cascade}"
                assert all(r["status"] == "CANCELED" for r in resp.get("triggerOrders", []))
            else:
                assert err is not None and err.error_code == expected, (
                    f"expected {expected}, got {err or resp}"
                )

        self._step(act, cancelled)

    @rule(
        pick=st.integers(0, 10**6), foreign=st.booleans(),
        status=st.sampled_from(("TRIGGERED", "CANCELED", "EXPIRED")),
    )
    def cancel_finished_row(self, pick, foreign, status):
        """Cancel a row that already ended (fired, cancelled, expired), by its owner or not."""
        ended = [oid for oid, r in self.model.orders.items() if r.is_row and r.status not in OPEN]
        done = sorted(oid for oid in ended if self.model.orders[oid].status == status) or sorted(
            ended
        )
        if not done:
            return
        rec = self.model.orders[done[pick % len(done)]]
        caller = rec.owner
        if foreign:
            caller = ACCOUNTS[(ACCOUNTS.index(rec.owner) + 1 + pick % 2) % len(ACCOUNTS)]
        expected = self.model.expected_cancel(caller, rec.symbol, rec.order_id)
        assert expected in (-2090, -2091, -2092, -2093)

        def act():
            _resp, err = self._call(caller, "cancel_order", symbol=rec.symbol,
                                    orderId=rec.order_id)
            assert err is not None and err.error_code == expected, (err, expected)
            if expected == -2090:
                assert f"placed order {rec.child}." in err.error_message

        self._step(act)

    def _resolve_cid(self, caller: str, cid: str) -> int | None:
        """The caller's order with that client id: the open one, else the most recent."""
        mine = [
            oid for oid, c in self.cids.items()
            if c == cid and self.model.orders[oid].owner == caller
        ]
        if not mine:
            return None
        open_ = [oid for oid in mine if self.model.orders[oid].status in OPEN]
        return max(open_) if open_ else max(mine)

    @rule(
        caller=accounts, symbol=symbols,
        ids=st.lists(st.one_of(orders, rows, st.integers(1, 2000)), min_size=1, max_size=12),
    )
    def cancel_batch(self, caller, symbol, ids):
        if len(ids) > 10:
            resp, err = self._step(lambda: self._call(
                caller, "cancel_batch_order", symbol=symbol, orderIdList=ids,
                origClientOrderIdList=None,
            ))
            assert err is not None and err.error_code == -4032
            return
        cancelled: set[int] = set()
        expectations = []
        # predict sequentially: each item sees the previous items' effects
        shadow = {oid: rec.status for oid, rec in self.model.orders.items()}
        for oid in ids:
            code = self._expected_with(shadow, caller, symbol, oid)
            cascade = []
            if code is None:
                rec = self.model.orders[oid]
                if not rec.is_row:
                    cascade = [r for r in rec.group if shadow[r] == "NEW"]
                shadow[oid] = "CANCELED"
                for r in cascade:
                    shadow[r] = "CANCELED"
                cancelled |= {oid, *cascade}
            expectations.append((oid, code, cascade))

        def act():
            resp, err = self._call(
                caller, "cancel_batch_order", symbol=symbol, orderIdList=ids,
                origClientOrderIdList=None,
            )
            assert err is None, err
            assert len(resp) == len(ids)
            for item, (oid, code, cascade) in zip(resp, expectations, strict=True):
                if code is None:
                    assert item["orderId"] == oid and item["status"] == "CANCELED", item
                    assert [r["orderId"] for r in item.get("triggerOrders", [])] == cascade
                else:
                    assert item["code"] == code, (oid, item, code)

        self._step(act, cancelled)

    def _expected_with(self, shadow, caller, symbol, oid):
        rec = self.model.orders.get(oid)
        if rec is None:
            return -2011
        saved = rec.status
        rec.status = shadow[oid]
        try:
            return self.model.expected_cancel(caller, symbol, oid)
        finally:
            rec.status = saved

    @rule(caller=accounts, symbol=symbols)
    def cancel_all(self, caller, symbol):
        cancelled = {
            oid for oid, r in self.model.orders.items()
            if r.owner == caller and r.symbol == symbol and r.status in OPEN
        }

        def act():
            resp, err = self._call(caller, "cancel_open_orders", symbol=symbol)
            assert resp == {"code": 200, "msg": "The operation of cancel all open order is done."}
            left = self.clients[caller].get_orders(symbol=symbol)
            assert left == [], left

        self._step(act, cancelled)

    @rule(caller=accounts, symbol=symbols, countdown=st.sampled_from((0, 500, 3000)),
          wait=st.sampled_from((0, 1000, 5000)))
    def countdown_then_wait(self, caller, symbol, countdown, wait):
        self._call(caller, "countdown_cancel_order", symbol=symbol, countdownTime=countdown)
        fires = countdown and wait >= countdown
        cancelled = {
            oid for oid, r in self.model.orders.items()
            if r.owner == caller and r.symbol == symbol and r.status in OPEN
        } if fires else set()
        self._step(lambda: self.ex.advance(wait), cancelled)
        if fires:
            assert self.clients[caller].get_orders(symbol=symbol) == []
        # a pending countdown from an earlier step may also fire: disarm to keep steps local
        self._call(caller, "countdown_cancel_order", symbol=symbol, countdownTime=0)

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def venue_invariants_hold(self) -> None:
        self.ex.check_invariants()

    def teardown(self) -> None:
        if not self.clients:
            return
        for client in self.clients.values():
            for symbol in SYMBOLS:
                client.cancel_open_orders(symbol=symbol)
            acct = client.account()
            assert acct["totalOpenOrderInitialMargin"] == "0", acct
        ledger = self.ex._ledger
        total = ledger.fee_e8 + sum(
            a.wallet_e8 - sum(p.cost_e8 for p in a.positions.values())
            for a in ledger.accounts.values()
        )
        assert total == 3 * 100_000 * 10**8, "value not conserved to the last unit"
        self.ex.check_invariants()


VenueMachine.TestCase.settings = settings(
    max_examples=5000 if LONG_RUN else 200,
    stateful_step_count=100 if LONG_RUN else 50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestVenueStateMachine = VenueMachine.TestCase
