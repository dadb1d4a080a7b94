"""Scenarios: stories of the venue written in TOML, replayed step by step and checked.

A scenario declares accounts, then ordered steps.  Each step does one thing —
a client call, a mark-price move or a clock advance — and may carry
expectations that the runner checks right after it.  :func:`load` parses and
validates a file (every mistake is a :class:`ScenarioError` naming the file and
the step); :func:`run` replays it on a fresh :class:`~engine.venue.exchange.Exchange`
and returns a :class:`Report` holding the transcript and the verdict.

Format
------
Top level: ``[[account]]`` tables, then ``[[step]]`` tables, nothing else.

``[[account]]``
    ``name`` and ``balance`` (a decimal string); optional ``position_mode``
    (``"one-way"``, the default, or ``"hedge"``) and ``leverage``, a table
    ``{ SYMBOL = int }`` (default 20).

``[[step]]`` — exactly one action:
    ``call`` (any public method of :class:`~engine.venue.client.Client`, e.g.
    ``"new_order"``) with ``account`` (a declared name) and ``params`` (the
    method's camelCase parameters exactly as ``UMFutures`` takes them);
    ``set_mark_price = { symbol = ..., price = ... }``; or ``advance = <ms>``.
    Then, all optional:

    * ``save = { name = "path" }`` — remember a value of the response, e.g.
      ``{ parent = "orderId", sl = "triggerOrders[1].orderId" }``;
    * ``expect = { "path" = value }`` — response fields, compared exactly as the
      wire gives them (strings to strings, ints to ints, bools to bools);
    * ``error = { code = -2091, msg = "..." }`` — the call must fail with that
      code (and message, when given) and leave ``state_hash()`` unchanged;
    * ``check.<account> = { ... }`` — the state after the step: ``orders``
      (``{ "$name" or "id" = "STATUS" }``), ``positions`` (``{ SYMBOL = "amt" }``,
      ``"SYMBOL:LONG"`` in hedge mode), ``open_orders`` (the length of
      ``get_orders()``, trigger rows included), and any other key is a field
      of ``client.account()`` (``availableBalance``, ``totalWalletBalance``,
      ``totalOpenOrderInitialMargin``…).

A *path* is a field name, list indices and dots: ``status``,
``triggerOrders[0].orderId``, ``[1].code`` (a batch answers a list).  In
params and expected values a string ``"$name"`` stands for a saved value (with
its type: an ``orderId`` stays an int), and ``${name}`` inside a longer string
is replaced by its text.  Floats are refused: decimals are written as strings.
After every step the runner calls ``check_invariants()``.  An unexpected error,
a broken invariant or a value that cannot be saved stops the scenario.

Example
-------
.. code-block:: toml

    # Alice rests a buy with TP and SL, the mark moves, then she cancels it.
    [[account]]
    name = "alice"
    balance = "10000"
    leverage = { BTCUSDT = 20 }

    [[step]]
    call = "new_order"
    account = "alice"
    save = { parent = "orderId", sl = "triggerOrders[1].orderId" }
    expect = { status = "NEW", "triggerOrders[1].type" = "STOP_MARKET" }
    check.alice = { availableBalance = "9985", totalOpenOrderInitialMargin = "15", open_orders = 3 }

    [step.params]                    # long tables read better as sub-tables
    symbol = "BTCUSDT"
    side = "BUY"
    type = "LIMIT"
    timeInForce = "GTC"
    quantity = "0.010"
    price = "30000"
    takeProfitPrice = "33000"
    stopLossPrice = "29000"

    [[step]]
    set_mark_price = { symbol = "BTCUSDT", price = "30500" }

    [[step]]
    advance = 1000

    [[step]]
    call = "cancel_order"
    account = "alice"
    params = { symbol = "BTCUSDT", orderId = "$parent" }
    expect = { orderId = "$parent", status = "CANCELED", "triggerOrders[1].status" = "CANCELED" }

    [step.check.alice]
    orders = { "$sl" = "CANCELED" }
    positions = { BTCUSDT = "0" }
    availableBalance = "10000"
    open_orders = 0

    [[step]]
    call = "cancel_order"
    account = "alice"
    params = { symbol = "BTCUSDT", orderId = "$sl" }
    error = { code = -2091, msg = "Trigger order ${sl} is already canceled." }

Transcript
----------
One line per step (the action and its key result: status and orderId, the
rows of a parent, or the error code), then one ``PASS``/``FAIL`` line per
expectation, then a summary line per scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import ClientError
from engine.scenarios.format import (  # noqa: F401  (re-exported: the scenario API)
    _INTERP,
    _NAME,
    AccountSpec,
    Scenario,
    ScenarioError,
    Step,
    _dig,
    _parse_path,
    load,
    loads,
    scenario_files,
)
from engine.venue.client import Client
from engine.venue.exchange import Exchange


@dataclass
class Report:
    """What :func:`run` saw: the transcript lines, how many checks ran and which failed."""

    path: str
    lines: list[str] = field(default_factory=list)
    checks: int = 0
    failures: list[str] = field(default_factory=list)
    #: the venue's ``state_hash()`` when the scenario ended (or stopped)
    state_hash: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def transcript(self) -> str:
        return "\n".join(self.lines)

    def _check(self, passed: bool, text: str) -> None:
        self.checks += 1
        self.lines.append(f"    {'PASS' if passed else 'FAIL'} {text}")
        if not passed:
            self.failures.append(text)

    def _stop(self, text: str) -> None:
        self.lines.append(f"    FAIL {text}; scenario stopped")
        self.failures.append(text)


# -- running ----------------------------------------------------------------------------------
def run_file(path: str | Path) -> Report:
    """Load and run the scenario at ``path`` (:class:`ScenarioError` if malformed)."""
    return run(load(path))


def run(scenario: Scenario) -> Report:
    """Replay ``scenario`` on a fresh venue; the :class:`Report` says what passed."""
    return _Runner(scenario).run()


class _Runner:
    def __init__(self, scenario: Scenario) -> None:
        self.sc = scenario
        self.ex = Exchange()
        self.saved: dict[str, Any] = {}
        self.report = Report(scenario.path)

    def run(self) -> Report:
        for a in self.sc.accounts:
            self.open_account(a)
        for step in self.sc.steps:
            if not self.step(step):
                break
        self.report.state_hash = self.ex.state_hash()
        return self.report

    def open_account(self, a: AccountSpec) -> None:
        try:
            self.ex.create_account(a.name, balance=a.balance)
            client = self.ex.client(a.name)
            if a.hedge:
                client.change_position_mode(dualSidePosition="true")
            for symbol, lev in a.leverage.items():
                client.change_leverage(symbol=symbol, leverage=lev)
        except (ValueError, ClientError) as e:
            raise ScenarioError(f"{self.sc.path}: account {a.name!r}: {e}") from None

    def step(self, step: Step) -> bool:
        """Run one step and its checks; False when the scenario cannot go on."""
        rep = self.report
        params = self.resolve(step.params)
        before = self.ex.state_hash() if step.error is not None else ""
        response: Any = None
        error: ClientError | None = None
        try:
            response = self.act(step, params)
        except ClientError as e:
            error = e
        except Exception as e:  # an engine crash: report it, do not hide it
            rep.lines.append(f"{step.number:>3}  {_describe(step, params)}")
            rep._stop(f"step {step.number} raised {type(e).__name__}: {e}")
            return False
        result = _summary(step, response, error, self.ex)
        rep.lines.append(f"{step.number:>3}  {_describe(step, params)}  ->  {result}")
        if step.error is not None:
            self.check_error(step.error, error, before)
        elif error is not None:
            rep._stop(f"unexpected error {error.error_code} {error.error_message!r}")
            return False
        for name, path in step.save.items():
            try:
                self.saved[name] = _dig(response, path)
            except KeyError:
                rep._stop(f"cannot save {name!r}: the response has no {_path_text(path)}")
                return False
        for p, want in step.expect.items():
            self.compare(p, _dig_or_missing(response, _parse_path(p)), self.resolve(want))
        try:
            self.ex.check_invariants()
        except AssertionError as e:
            rep._stop(f"invariants broken after step {step.number}: {e}")
            return False
        for name, checks in step.checks.items():
            self.check_state(name, checks)
        return True

    def act(self, step: Step, params: dict[str, Any]) -> Any:
        if step.action == "call":
            return getattr(self.ex.client(step.account), step.method)(**params)
        if step.action == "advance":
            return self.ex.advance(params["ms"])
        return self.ex.set_mark_price(params["symbol"], params["price"])

    def check_error(
        self, want: tuple[int, str | None], got: ClientError | None, before: str
    ) -> None:
        code, msg = want
        rep = self.report
        if got is None:
            rep._check(False, f"error {code}: the call succeeded")
            return
        self.compare("error code", got.error_code, code)
        if msg is not None:
            self.compare("error msg", got.error_message, self.resolve(msg))
        rep._check(self.ex.state_hash() == before, "state unchanged (state_hash equal)")

    def compare(self, what: str, got: Any, want: Any) -> None:
        same = type(got) is type(want) and got == want
        text = f"{what} = {_show(want)}" + ("" if same else f": got {_show(got)}")
        self.report._check(same, text)

    def check_state(self, name: str, checks: dict[str, Any]) -> None:
        client = self.ex.client(name)
        info = client.account()
        for key, want in checks.items():
            if key == "orders":
                for ref, status in want.items():
                    oid = self.resolve(ref) if ref.startswith("$") else int(ref)
                    label = f"{name} order {ref}" + (f" (#{oid})" if ref.startswith("$") else "")
                    self.compare(f"{label} status", self.order_status(client, oid), status)
            elif key == "positions":
                for spec, amount in want.items():
                    got = self.position(client, spec)
                    self.compare(f"{name} position {spec}", got, amount)
            elif key == "open_orders":
                self.compare(f"{name} open orders", len(client.get_orders()), want)
            else:
                self.compare(f"{name} {key}", info.get(key, _MISSING), self.resolve(want))

    def order_status(self, client: Client, oid: Any) -> Any:
        for symbol in sorted(self.ex.instruments):
            try:
                return client.query_order(symbol=symbol, orderId=oid)["status"]
            except ClientError:
                continue
        return _MISSING

    def position(self, client: Client, spec: str) -> Any:
        symbol, _, side = spec.partition(":")
        try:
            rows = client.get_position_risk(symbol=symbol)
        except ClientError as e:
            return f"<error {e.error_code}>"
        for row in rows:
            if row["positionSide"] == (side or "BOTH"):
                return row["positionAmt"]
        return "0"  # positionRisk (v3) lists no flat side without open orders

    def resolve(self, value: Any) -> Any:
        """Replace ``"$name"`` by the saved value and ``${name}`` by its text."""
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str):
            if value.startswith("$") and _NAME.match(value[1:]):
                return self.saved[value[1:]]
            return _INTERP.sub(lambda m: str(self.saved[m.group(1)]), value)
        return value


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _dig_or_missing(value: Any, path: tuple) -> Any:
    try:
        return _dig(value, path)
    except KeyError:
        return _MISSING


def _path_text(path: tuple) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.lstrip(".")


def _show(value: Any) -> str:
    """A value as the transcript shows it: JSON for wire values."""
    if isinstance(value, (str, int, bool, list, dict)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _describe(step: Step, params: dict[str, Any]) -> str:
    if step.action == "advance":
        return f"advance {params['ms']} ms"
    if step.action == "set_mark_price":
        return f"set_mark_price {params['symbol']} {params['price']}"
    args = " ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v}"
        for k, v in params.items()
    )
    return f"{step.account} {step.method} {args}".rstrip()


def _summary(step: Step, response: Any, error: ClientError | None, ex: Exchange) -> str:
    """The key result of a step: status and id, rows, error code."""
    if error is not None:
        return f"error {error.error_code} {error.error_message}"
    if step.action == "advance":
        return f"now {ex.now}"
    if step.action == "set_mark_price":
        return "ok"
    if isinstance(response, list):
        return "[" + "; ".join(_item(r) for r in response) + "]"
    return _item(response)


def _item(r: Any) -> str:
    if not isinstance(r, dict):
        return _show(r)
    if "orderId" in r and "status" in r:
        text = f"{r['status']} #{r['orderId']}"
        if r.get("triggeredOrderId"):
            text += f" (placed #{r['triggeredOrderId']})"
        rows = r.get("triggerOrders")
        if rows:
            text += " (rows " + ", ".join(f"#{x['orderId']} {x['status']}" for x in rows) + ")"
        return text
    if "code" in r and "msg" in r:
        return f"{r['code']} {r['msg']}"
    scalars = [f"{k}={v}" for k, v in r.items() if isinstance(v, (str, int, bool))]
    return " ".join(scalars[:3]) + (" …" if len(scalars) > 3 else "")
