"""The venue state machine: generated command streams against a venue and the cascade model.

Three accounts trade both default symbols: LIMIT/MARKET orders with and without TP/SL,
standalone conditional orders, rows attached later, crossing orders between accounts,
manual closes, mark-price moves that fire triggers, order modify, cancels by id and
by client id (own, foreign, stale, wrong symbol), direct cancels of trigger rows,
batch cancels, cancel-all, the countdown, margin-type changes and isolated margin
transfers (carol starts isolated on ETHUSDT), refusals, and a restored venue.

Checked after every step: ``check_invariants()`` and value conservation
(:func:`~engine.testing.checks.check_venue`); every refused call left
``state_hash()`` unchanged; the outcome of every cancel is the one the
model predicts (success and the exact cascade, or the exact failure code);
every status change obeys the cascade model
(:class:`~engine.testing.model.CascadeModel`).  At teardown: terminal orders
stayed terminal; every open order is cancelled, after which frozen margin is
exactly 0; with :meth:`VenueMachine.journal_path`, the journal replays to the
same state, from the start and from a mid-run snapshot.

Extending: subclass, add ``@rule``\\ s and ``@invariant``\\ s.  ``self.ex`` is the
venue, ``self.clients[name]`` its clients, ``self.model`` the model.  In a rule,
wrap what it does in :meth:`VenueMachine.step` (observe, then check the step
on the model; pass the ids cancelled on purpose — :meth:`VenueMachine.open_of`
names those of a cancel-all), and call the client through
:meth:`VenueMachine.call` (a refusal must change nothing).  Override
:meth:`VenueMachine.make_exchange` for another venue, or
:meth:`VenueMachine.journal_path` to journal each example.  Run under pytest
with ``TestMine = MyMachine.TestCase``, or for a number of steps with
:func:`~engine.testing.strategies.run`.

Performance: the observer re-reads only orders the model holds open (via ``get_orders``)
and the ones that closed since; terminal orders are re-read once, at teardown.
:attr:`VenueMachine.steps` counts steps (rule executions, the initializing one
included), as the invariants see them.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from engine.core.errors import ClientError
from engine.testing.checks import check_venue, value_e8
from engine.testing.model import OPEN, CascadeModel
from engine.testing.strategies import (
    ACCOUNTS,
    MARKETS,
    SYMBOLS,
    Call,
    accounts,
    conditional_orders,
    invalid_commands,
    limit_orders,
    market_orders,
    price_text,
    qty_text,
    shift,
    sides,
    symbols,
    working_types,
)
from engine.testing.strategies import (
    event_here as _event,
)
from engine.testing.strategies import (
    note_here as _note,
)
from engine.venue.exchange import Exchange

offsets = st.integers(1, 20)
lot_counts = st.integers(4, 60)


class VenueMachine(RuleBasedStateMachine):
    """A venue, its clients and the cascade model, driven by hypothesis (see the module)."""

    orders = Bundle("orders")  # ids of ordinary orders (and the rows created with them)
    rows = Bundle("rows")  # ids of trigger rows

    #: USDT each account deposits
    BALANCE: ClassVar[int] = 100_000
    #: steps run, over every instance (the long profile reports it)
    steps: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.ex = self.make_exchange()
        self.clients: dict[str, Any] = {}
        self.model = CascadeModel()
        self.cids: dict[int, str] = {}
        self.deposits = len(ACCOUNTS) * self.BALANCE * 10**8
        self._snapshot: bytes | None = None

    def make_exchange(self) -> Exchange:
        """The venue under test; with :meth:`journal_path`, journaled there."""
        path = self.journal_path()
        if path is not None and os.path.exists(path):
            os.remove(path)
        return Exchange(journal=path)

    def journal_path(self) -> str | None:
        """Where to journal each example (the file is replaced; replayed at teardown), or
        None (the default: no journal)."""
        return None

    @initialize()
    def open_accounts(self) -> None:
        for name in ACCOUNTS:
            self.ex.create_account(name, balance=str(self.BALANCE))
            self.clients[name] = self.ex.client(name)
        for symbol in SYMBOLS:
            self.ex.set_mark_price(symbol, price_text(symbol, 0))
        self.clients["carol"].change_margin_type(symbol=SYMBOLS[-1], marginType="ISOLATED")

    # -- calling and observing ---------------------------------------------------------------
    def call(self, account: str, method: str, **params: Any) -> tuple[Any, ClientError | None]:
        """Call the client; a refusal must leave the venue's state hash unchanged."""
        _note(f"{Call(account, method, params)!r}")
        before = self.ex.state_hash()
        try:
            resp = getattr(self.clients[account], method)(**params)
        except ClientError as e:
            _event(f"{method} {params.get('type', '')} -> {e.error_code}")
            _note(f"  -> {e.error_code} {e.error_message}")
            assert self.ex.state_hash() == before, f"refused {method} changed the state"
            return None, e
        if method == "new_order":
            self._record(account, resp)  # before the step's observation refreshes it
        _event(f"{method} {params.get('type', '')} -> ok")
        return resp, None

    def step(self, action: Any, cancelled: set[int] | None = None) -> Any:
        """Run ``action``, observe the venue, check every status change on the model.

        ``cancelled``: the ids the action cancels on purpose (with their cascades);
        any other cancellation must be one the cascade rules explain.
        """
        before = self.model.snapshot()
        result = action()
        self.observe()
        self.model.check_step(before, cancelled or set())
        return result

    def observe(self) -> None:
        """Refresh the model: open orders from ``get_orders``, closed ones by id, children."""
        model = self.model
        for name, client in self.clients.items():
            seen = {w["orderId"]: w for w in client.get_orders()}
            for oid in sorted(model.open_ids):
                rec = model.orders[oid]
                if rec.owner != name:
                    continue
                wire = seen.pop(oid, None)
                if wire is None:
                    wire = client.query_order(symbol=rec.symbol, orderId=oid)
                    if rec.is_row:
                        _event(f"row -> {wire['status']}")
                model.learn(name, wire)
                child = wire.get("triggeredOrderId")
                if child is not None and child not in model.orders:
                    model.learn(name, client.query_order(symbol=rec.symbol, orderId=child))
            for oid, wire in seen.items():  # a fired row's child still open
                if oid not in model.orders:
                    model.learn(name, wire)

    def open_of(self, account: str, symbol: str) -> set[int]:
        """Ids the model holds open for ``account`` on ``symbol``: what a cancel-all or a
        countdown cancels (pass them to :meth:`step` as ``cancelled``)."""
        orders = self.model.orders
        return {
            oid for oid in self.model.open_ids
            if orders[oid].owner == account and orders[oid].symbol == symbol
        }

    def _record(self, account: str, resp: dict) -> None:
        self.model.learn(account, resp)
        for wire in (resp, *resp.get("triggerOrders", ())):
            self.cids[wire["orderId"]] = wire["clientOrderId"]

    def _bundle(self, resp: dict | None, kind: str) -> Any:
        if resp is None:
            return multiple()
        if kind == "rows":
            return multiple(resp["orderId"])
        # row ids of an entry go to the same bundle as orders here; cancels draw from both
        return multiple(resp["orderId"], *(r["orderId"] for r in resp.get("triggerOrders", ())))

    def _place(self, call: Call) -> dict | None:
        return self.step(lambda: self.call(call.account, call.method, **call.params))[0]

    # -- placing ------------------------------------------------------------------------
    @rule(target=orders, call=limit_orders())
    def place_limit(self, call: Call) -> Any:
        return self._bundle(self._place(call), "orders")

    @rule(target=orders, call=market_orders())
    def place_market(self, call: Call) -> Any:
        return self._bundle(self._place(call), "orders")

    @rule(target=rows, call=conditional_orders())
    def place_conditional(self, call: Call) -> Any:
        return self._bundle(self._place(call), "rows")

    @rule(
        target=rows, acct=accounts, parent=orders,
        kind=st.sampled_from(("STOP_MARKET", "TAKE_PROFIT_MARKET")), off=offsets,
        capped=st.booleans(),
    )
    def attach_row(self, acct: str, parent: int, kind: str, off: int, capped: bool) -> Any:
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
            params["quantity"] = qty_text(rec.symbol, MARKETS[rec.symbol][3][0])
        return self._bundle(self._place(Call(acct, "new_order", params)), "rows")

    @rule(
        target=orders, acct=accounts, other=accounts, symbol=symbols, side=sides,
        lots=lot_counts, tp=offsets, sl=offsets, wt=working_types,
    )
    def open_protected(
        self, acct: str, other: str, symbol: str, side: str, lots: int, tp: int, sl: int,
        wt: str,
    ) -> Any:
        """``other`` rests at the mark; ``acct`` crosses it with a TP/SL-protected LIMIT."""
        mark = self.clients[acct].mark_price(symbol=symbol)["markPrice"]
        maker = dict(
            symbol=symbol, side="SELL" if side == "BUY" else "BUY", type="LIMIT",
            timeInForce="GTC", price=mark, quantity=qty_text(symbol, lots),
        )
        made = self._place(Call(other, "new_order", maker))
        sign = 1 if side == "BUY" else -1
        taker = dict(
            symbol=symbol, side=side, type="LIMIT", timeInForce="GTC", price=mark,
            quantity=qty_text(symbol, lots), takeProfitPrice=shift(symbol, mark, sign * tp),
            stopLossPrice=shift(symbol, mark, -sign * sl), tpslWorkingType=wt,
        )
        taken = self._place(Call(acct, "new_order", taker))
        ids: list[int] = []
        for resp in (made, taken):
            if resp is not None:
                ids += [resp["orderId"], *(r["orderId"] for r in resp.get("triggerOrders", ()))]
        return multiple(*ids)

    @rule(target=orders, acct=accounts, symbol=symbols, lots=lot_counts, spread=offsets)
    def quote_both_sides(self, acct: str, symbol: str, lots: int, spread: int) -> Any:
        """Rest a bid and an ask around the current mark, so market orders find liquidity."""
        mark = self.clients[acct].mark_price(symbol=symbol)["markPrice"]
        placed = []
        for side, sign in (("BUY", -1), ("SELL", 1)):
            params = dict(
                symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                price=shift(symbol, mark, sign * (spread % 3 + 1)),
                quantity=qty_text(symbol, lots * 3),
            )
            resp = self._place(Call(acct, "new_order", params))
            if resp is not None:
                placed.append(resp["orderId"])
        return multiple(*placed)

    # -- market moves and closes ------------------------------------------------------
    @rule(symbol=symbols, off=st.integers(-30, 30))
    def move_mark(self, symbol: str, off: int) -> None:
        _note(f"ex.set_mark_price({symbol!r}, {price_text(symbol, off)!r})")
        self.step(lambda: self.ex.set_mark_price(symbol, price_text(symbol, off)))

    @rule(acct=accounts, symbol=symbols)
    def close_position(self, acct: str, symbol: str) -> None:
        rows = self.clients[acct].get_position_risk(symbol=symbol)  # none while flat (v3)
        amt = rows[0]["positionAmt"] if rows else "0"
        lots = abs(int(Decimal(amt).scaleb(3)))
        if not lots:
            _resp, err = self.step(lambda: self.call(
                acct, "new_order", symbol=symbol, side="SELL", type="MARKET",
                quantity=qty_text(symbol, MARKETS[symbol][3][0]), reduceOnly="true",
            ))
            assert err is not None and err.error_code == -2022
            return
        side = "SELL" if not amt.startswith("-") else "BUY"
        self.step(lambda: self.call(
            acct, "new_order", symbol=symbol, side=side, type="MARKET",
            quantity=qty_text(symbol, lots), reduceOnly="true",
        ))

    @rule(acct=accounts, symbol=symbols, isolated=st.booleans())
    def switch_margin_type(self, acct: str, symbol: str, isolated: bool) -> None:
        """Cross ↔ isolated (refused, changing nothing, with orders or a position)."""
        _resp, err = self.step(lambda: self.call(
            acct, "change_margin_type", symbol=symbol,
            marginType="ISOLATED" if isolated else "CROSSED"))
        assert err is None or err.error_code in (-4046, -4047, -4048), err

    @rule(acct=accounts, symbol=symbols, cents=st.sampled_from((1, 2_500, 10**9)),
          add=st.booleans(), pick=st.integers(0, 10**6))
    def transfer_margin(self, acct: str, symbol: str, cents: int, add: bool, pick: int) -> None:
        """Margin into or out of an isolated wallet, one of a position when there is one."""
        held = sorted((a, s) for a in self.clients for (s, _), p in
                      self.ex.account_state(a).positions.items()
                      if p.qty and s in self.ex.account_state(a).isolated)
        acct, symbol = held[pick % len(held)] if held else (acct, symbol)
        _resp, err = self.step(lambda: self.call(
            acct, "modify_isolated_position_margin", symbol=symbol,
            amount=f"{cents // 100}.{cents % 100:02d}", type=1 if add else 2))
        assert err is None or err.error_code in (-4049, -4050, -4051, -4054), err

    # -- refusals and restarts -----------------------------------------------------------------
    @rule(call=invalid_commands())
    def refused_command(self, call: Call) -> None:
        """A command that must be refused, with one of the codes it names; nothing changes."""
        _resp, err = self.step(lambda: self.call(call.account, call.method, **call.params))
        assert err is not None and call.expect and err.error_code in call.expect, (
            f"{call!r} answered {err or _resp}"
        )

    @rule(now=st.integers(0, 3))
    def restart_from_snapshot(self, now: int) -> None:
        """Carry on with a venue restored from a snapshot of this one (SPEC 8); a journaled
        venue is rebuilt from the snapshot and its journal's tail, and keeps journaling.
        One draw in four restarts (a restart costs a few steps' time)."""
        if now:
            return
        data, expected = self.ex.snapshot(), self.ex.state_hash()
        journal = self.ex.journal
        if journal is None:
            restored = Exchange.restore(data)
        else:
            self.ex.close_journal()
            restored = Exchange.replay(journal.path, snapshot=data, resume=True)
            self._snapshot = data
        assert restored.state_hash() == expected
        self.ex = restored
        self.clients = {name: restored.client(name) for name in self.clients}

    # -- cancels ----------------------------------------------------------------------
    @rule(
        caller=accounts, victim=st.one_of(orders, rows, rows, st.integers(1, 2000)),
        by_cid=st.booleans(), wrong_symbol=st.booleans(),
    )
    def cancel(self, caller: str, victim: int, by_cid: bool, wrong_symbol: bool) -> None:
        rec = self.model.orders.get(victim)
        symbol = rec.symbol if rec is not None else "BTCUSDT"
        if wrong_symbol:
            symbol = "ETHUSDT" if symbol == "BTCUSDT" else "BTCUSDT"
        params: dict[str, Any]
        if by_cid and victim in self.cids:
            cid = self.cids[victim]
            expected_id = self._resolve_cid(caller, cid)
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
            if expected is None and expected_id is not None
            and not self.model.orders[expected_id].is_row else []
        )
        cancelled = set() if expected_id is None else {expected_id, *cascade}

        def act() -> None:
            resp, err = self.call(caller, "cancel_order", **params)
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

        self.step(act, cancelled)

    @rule(pick=st.integers(0, 10**6), off=st.integers(-25, 25), lots=lot_counts,
          same=st.booleans())
    def amend(self, pick: int, off: int, lots: int, same: bool) -> None:
        """Modify an open ordinary order: a new price and size (it may cancel it, rows too)."""
        ordinary = sorted(i for i in self.model.open_ids if not self.model.orders[i].is_row)
        if not ordinary:
            return
        rec = self.model.orders[ordinary[pick % len(ordinary)]]
        wire = self.clients[rec.owner].query_order(symbol=rec.symbol, orderId=rec.order_id)
        params = dict(symbol=rec.symbol, side=wire["side"], orderId=rec.order_id,
                      price=wire["price"] if same else price_text(rec.symbol, off),
                      quantity=wire["origQty"] if same else qty_text(rec.symbol, lots))

        def act() -> None:  # a refusal changes nothing (self.call checks it)
            resp, err = self.call(rec.owner, "modify_order", **params)
            code = None if err is None else err.error_code
            if same or wire["type"] != "LIMIT":
                assert code == (-5027 if wire["type"] == "LIMIT" else -1116), err
            elif err is None and resp["status"] not in ("CANCELED", "EXPIRED", "FILLED"):
                assert [Decimal(resp[k]) for k in ("price", "origQty")] == [
                    Decimal(params[k]) for k in ("price", "quantity")]
            assert code in (None, -5027, -1116, -2019, -4016, -4024), err

        self.step(act, {rec.order_id, *self.model.cascade_of(rec.order_id)})

    @rule(
        pick=st.integers(0, 10**6), foreign=st.booleans(),
        status=st.sampled_from(("TRIGGERED", "CANCELED", "EXPIRED")),
    )
    def cancel_finished_row(self, pick: int, foreign: bool, status: str) -> None:
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

        def act() -> None:
            _resp, err = self.call(caller, "cancel_order", symbol=rec.symbol,
                                   orderId=rec.order_id)
            assert err is not None and err.error_code == expected, (err, expected)
            if expected == -2090:
                assert f"placed order {rec.child}." in err.error_message

        self.step(act)

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
    def cancel_batch(self, caller: str, symbol: str, ids: list[int]) -> None:
        if len(ids) > 10:
            _resp, err = self.step(lambda: self.call(
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

        def act() -> None:
            resp, err = self.call(
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

        self.step(act, cancelled)

    def _expected_with(
        self, shadow: dict[int, str], caller: str, symbol: str, oid: int
    ) -> int | None:
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
    def cancel_all(self, caller: str, symbol: str) -> None:
        cancelled = self.open_of(caller, symbol)

        def act() -> None:
            resp, _err = self.call(caller, "cancel_open_orders", symbol=symbol)
            assert resp == {"code": 200, "msg": "The operation of cancel all open order is done."}
            left = self.clients[caller].get_orders(symbol=symbol)
            assert left == [], left

        self.step(act, cancelled)

    @rule(caller=accounts, symbol=symbols, countdown=st.sampled_from((0, 500, 3000)),
          wait=st.sampled_from((0, 1000, 5000)))
    def countdown_then_wait(self, caller: str, symbol: str, countdown: int, wait: int) -> None:
        self.call(caller, "countdown_cancel_order", symbol=symbol, countdownTime=countdown)
        fires = countdown and wait >= countdown
        cancelled = self.open_of(caller, symbol) if fires else set()
        self.step(lambda: self.ex.advance(wait), cancelled)
        if fires:
            assert self.clients[caller].get_orders(symbol=symbol) == []
        # a pending countdown from an earlier step may also fire: disarm to keep steps local
        self.call(caller, "countdown_cancel_order", symbol=symbol, countdownTime=0)

    @rule(ms=st.sampled_from((0, 1, 700, 4000)))
    def time_passes(self, ms: int) -> None:
        """The server's clock sync: no countdown is pending between steps, so the clock
        moves, changes nothing else and writes no journal line."""
        target = self.ex.now + ms
        journal = self.ex.journal
        seq = None if journal is None else journal.seq
        assert self.step(lambda: self.ex.pass_time(target)) and self.ex.now == target
        assert journal is None or journal.seq == seq

    @rule(acct=accounts, cents=st.sampled_from((1, 2_500, 1_000_000)))
    def operator_deposits(self, acct: str, cents: int) -> None:
        """The operator credits a wallet: the total deposited grows by exactly that, the
        wallet and available balance with it, and nothing else moves."""
        amount = f"{cents // 100}.{cents % 100:02d}"
        before = self.clients[acct].balance()[0]
        wallet = self.step(lambda: self.ex.deposit(acct, amount))
        self.deposits += cents * 10**6
        after = self.clients[acct].balance()[0]
        for key in ("balance", "availableBalance", "crossWalletBalance"):
            assert Decimal(after[key]) - Decimal(before[key]) == Decimal(amount), key
        assert Decimal(wallet) == Decimal(after["balance"])

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def venue_invariants_hold(self) -> None:
        VenueMachine.steps += 1  # hypothesis checks invariants once per step
        check_venue(self.ex, self.deposits)

    def teardown(self) -> None:
        if not self.clients:
            return
        seen: dict[int, dict] = {}
        for client in self.clients.values():
            for symbol in SYMBOLS:
                from_id = 0
                while True:  # a page holds at most 1000 orders
                    page = client.get_all_orders(symbol=symbol, orderId=from_id, limit=1000)
                    seen.update((w["orderId"], w) for w in page)
                    if len(page) < 1000:
                        break
                    from_id = page[-1]["orderId"] + 1
        self.model.check_final(seen)
        for client in self.clients.values():
            for symbol in SYMBOLS:
                client.cancel_open_orders(symbol=symbol)
            acct = client.account()
            assert acct["totalOpenOrderInitialMargin"] == "0", acct
        assert value_e8(self.ex) == self.deposits, "value not conserved to the last unit"
        check_venue(self.ex, self.deposits)
        journal = self.ex.journal
        if journal is not None:
            self.ex.close_journal()
            # a replayed venue's clock is its last line's; time that passed after it
            # changed nothing else, and passes again the same way
            whole = Exchange.replay(journal.path)
            assert whole.pass_time(self.ex.now) and whole.state_hash() == self.ex.state_hash()
            if self._snapshot is not None:
                tail = Exchange.replay(journal.path, snapshot=self._snapshot)
                assert tail.pass_time(self.ex.now)
                assert tail.state_hash() == self.ex.state_hash()
