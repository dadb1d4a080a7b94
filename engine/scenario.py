"""Scenarios: stories of the venue written in TOML, replayed step by step and checked.

A scenario declares accounts, then ordered steps.  Each step does one thing —
a client call, a mark-price move or a clock advance — and may carry
expectations that the runner checks right after it.  :func:`load` parses and
validates a file (every mistake is a :class:`ScenarioError` naming the file and
the step); :func:`run` replays it on a fresh :class:`~engine.exchange.Exchange`
and returns a :class:`Report` holding the transcript and the verdict.

Format
------
Top level: ``[[account]]`` tables, then ``[[step]]`` tables, nothing else.

``[[account]]``
    ``name`` and ``balance`` (a decimal string); optional ``position_mode``
    (``"one-way"``, the default, or ``"hedge"``) and ``leverage``, a table
    ``{ SYMBOL = int }`` (default 20).

``[[step]]`` — exactly one action:
    ``call`` (any public method of :class:`~engine.client.Client`, e.g.
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

import inspect
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.client import Client
from engine.errors import ClientError
from engine.exchange import Exchange

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATH = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*|\[\d+\])(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*\Z")
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STEP_KEYS = frozenset("call account params set_mark_price advance save expect error check".split())
_ACTIONS = ("call", "set_mark_price", "advance")
_CLIENT_METHODS = frozenset(
    n for n, f in vars(Client).items() if not n.startswith("_") and callable(f)
)


class ScenarioError(Exception):
    """A malformed scenario; the message names the file and, where it applies, the step."""


# -- the parsed form ------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountSpec:
    name: str
    balance: str | int
    hedge: bool
    leverage: dict[str, int]


@dataclass(frozen=True)
class Step:
    number: int
    action: str  # "call" | "set_mark_price" | "advance"
    method: str = ""  # the Client method, for "call"
    account: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    save: dict[str, tuple] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    error: tuple[int, str | None] | None = None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    path: str
    accounts: list[AccountSpec]
    steps: list[Step]


@dataclass
class Report:
    """What :func:`run` saw: the transcript lines, how many checks ran and which failed."""

    path: str
    lines: list[str] = field(default_factory=list)
    checks: int = 0
    failures: list[str] = field(default_factory=list)

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


# -- loading ----------------------------------------------------------------------------------
def scenario_files(path: str | Path) -> list[Path]:
    """The scenario file ``path``, or every ``*.toml`` in directory ``path`` sorted by name."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.toml") if f.is_file())
        if not files:
            raise ScenarioError(f"{p}: no scenarios (*.toml) in this directory")
        return files
    if not p.is_file():
        raise ScenarioError(f"{p}: no such file or directory")
    return [p]


def load(path: str | Path) -> Scenario:
    """Parse and validate the scenario file ``path``; raise :class:`ScenarioError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}") from None
    return loads(text, str(path))


def loads(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario ``text``; ``path`` names it in messages.

    >>> s = loads('[[account]]\\nname = "a"\\nbalance = "100"\\n[[step]]\\nadvance = 5\\n')
    >>> [(st.number, st.action, st.params) for st in s.steps]
    [(1, 'advance', {'ms': 5})]
    >>> loads('[[step]]\\nadvance = 5\\nfoo = 1\\n', "x.toml")
    Traceback (most recent call last):
    ...
    engine.scenario.ScenarioError: x.toml: step 1: unknown key 'foo'
    """
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: invalid TOML: {e}") from None
    return _Parser(path).scenario(doc)


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.where = ""
        self.accounts: dict[str, AccountSpec] = {}
        self.saved: set[str] = set()

    def fail(self, msg: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: {self.where}{msg}")

    def scenario(self, doc: dict[str, Any]) -> Scenario:
        for key in doc:
            if key not in ("account", "step"):
                raise self.fail(f"unknown top-level key {key!r} (expected [[account]], [[step]])")
        for i, a in enumerate(_table_list(doc.get("account", []), "account", self), 1):
            self.where = f"account {i}: "
            spec = self.account(a)
            self.accounts[spec.name] = spec
        self.where = ""
        raw_steps = _table_list(doc.get("step"), "step", self)
        if not raw_steps:
            raise self.fail("no [[step]] tables")
        steps = []
        for n, raw in enumerate(raw_steps, 1):
            self.where = f"step {n}: "
            steps.append(self.step(n, raw))
        return Scenario(self.path, list(self.accounts.values()), steps)

    def account(self, a: dict[str, Any]) -> AccountSpec:
        _no_floats(a, self)
        for key in a:
            if key not in ("name", "balance", "position_mode", "leverage"):
                raise self.fail(f"unknown key {key!r}")
        name, balance = a.get("name"), a.get("balance")
        if not isinstance(name, str) or not name:
            raise self.fail("'name' must be a non-empty string")
        if name in self.accounts:
            raise self.fail(f"account {name!r} declared twice")
        if isinstance(balance, bool) or not isinstance(balance, (str, int)):
            raise self.fail("'balance' must be a decimal string")
        mode = a.get("position_mode", "one-way")
        if mode not in ("one-way", "hedge"):
            raise self.fail(f'\'position_mode\' must be "one-way" or "hedge", not {mode!r}')
        lev = a.get("leverage", {})
        if not isinstance(lev, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in lev.values()
        ):
            raise self.fail("'leverage' must be a table { SYMBOL = int }")
        return AccountSpec(name, balance, mode == "hedge", dict(lev))

    def step(self, n: int, raw: dict[str, Any]) -> Step:
        _no_floats(raw, self)
        for key in raw:
            if key not in _STEP_KEYS:
                raise self.fail(f"unknown key {key!r}")
        actions = [a for a in _ACTIONS if a in raw]
        if len(actions) != 1:
            raise self.fail("needs exactly one of 'call', 'set_mark_price', 'advance'")
        action = actions[0]
        method, account, params = "", "", dict[str, Any]()
        if action == "call":
            method, account, params = self.call(raw)
        else:
            if "account" in raw or "params" in raw:
                raise self.fail(f"'account' and 'params' belong to a 'call', not {action!r}")
            params = self.venue_action(action, raw[action])
        self.refs(params)
        error = self.error(raw.get("error"))
        expect = _flatten(self.table(raw, "expect"))
        if error is not None and (expect or "save" in raw):
            raise self.fail("a step with 'error' cannot also have 'expect' or 'save'")
        save: dict[str, tuple] = {}
        for name, p in self.table(raw, "save").items():
            if not _NAME.match(name) or not isinstance(p, str):
                raise self.fail(f"save: {name!r} must be a plain name mapped to a path string")
            save[name] = self.path_ok(p)
        self.saved.update(save)  # a step's own saves are usable in its expect and check
        for p, v in expect.items():
            self.path_ok(p)
            self.refs(v)
        checks = {name: self.check(name, c) for name, c in self.table(raw, "check").items()}
        return Step(n, action, method, account, params, save, expect, error, checks)

    def call(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        method, account = raw["call"], raw.get("account")
        if method not in _CLIENT_METHODS:
            raise self.fail(f"{method!r} is not a client method")
        if account not in self.accounts:
            raise self.fail(f"'account' must name a declared account, not {account!r}")
        params = self.table(raw, "params")
        try:
            inspect.signature(getattr(Client, method)).bind(None, **params)
        except TypeError as e:
            raise self.fail(f"bad params for {method}: {e}") from None
        return method, account, params

    def venue_action(self, action: str, value: Any) -> dict[str, Any]:
        if action == "advance":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise self.fail("'advance' must be a non-negative int of milliseconds")
            return {"ms": value}
        if not isinstance(value, dict) or set(value) != {"symbol", "price"}:
            raise self.fail("'set_mark_price' must be { symbol = ..., price = ... }")
        return dict(value)

    def error(self, value: Any) -> tuple[int, str | None] | None:
        if value is None:
            return None
        if not isinstance(value, dict) or not set(value) <= {"code", "msg"}:
            raise self.fail("'error' must be { code = int, msg = \"...\" }")
        code, msg = value.get("code"), value.get("msg")
        if isinstance(code, bool) or not isinstance(code, int):
            raise self.fail("'error.code' must be an int, e.g. -2011")
        if msg is not None and not isinstance(msg, str):
            raise self.fail("'error.msg' must be a string")
        self.refs(msg)
        return code, msg

    def check(self, name: str, c: Any) -> dict[str, Any]:
        if name not in self.accounts:
            raise self.fail(f"check: {name!r} is not a declared account")
        if not isinstance(c, dict):
            raise self.fail(f"check.{name} must be a table")
        for key, v in c.items():
            if key in ("orders", "positions"):
                if not isinstance(v, dict) or not all(isinstance(s, str) for s in v.values()):
                    raise self.fail(f"check.{name}.{key} must map to strings")
            elif key == "open_orders":
                if isinstance(v, bool) or not isinstance(v, int):
                    raise self.fail(f"check.{name}.open_orders must be an int")
            elif isinstance(v, (dict, list)):
                raise self.fail(f"check.{name}.{key}: account fields are compared as scalars")
        for ref in c.get("orders", {}):
            if not ref.isdigit() and not (ref.startswith("$") and _NAME.match(ref[1:])):
                raise self.fail(f'check.{name}.orders: key {ref!r} is neither "$name" nor an id')
            self.refs(ref)
        for key in c.get("positions", {}):
            sym, _, side = key.partition(":")
            if not sym or side not in ("", "BOTH", "LONG", "SHORT"):
                raise self.fail(f"check.{name}.positions: bad key {key!r} (SYMBOL[:LONG|SHORT])")
        return dict(c)

    def table(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        v = raw.get(key, {})
        if not isinstance(v, dict):
            raise self.fail(f"{key!r} must be a table")
        return v

    def path_ok(self, p: str) -> tuple:
        if not _PATH.match(p):
            raise self.fail(f"bad path {p!r} (e.g. status, triggerOrders[0].orderId, [1].code)")
        return _parse_path(p)

    def refs(self, value: Any) -> None:
        """Every ``$name`` / ``${name}`` in ``value`` must be saved by an earlier step."""
        for leaf in _leaves(value):
            if not isinstance(leaf, str):
                continue
            names = _INTERP.findall(leaf)
            if leaf.startswith("$") and _NAME.match(leaf[1:]):
                names.append(leaf[1:])
            for name in names:
                if name not in self.saved:
                    raise self.fail(f"{name!r} is used before any earlier step saved it")


def _table_list(value: Any, key: str, parser: _Parser) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise parser.fail(f"{key!r} must be written as [[{key}]] tables")
    return value


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _no_floats(value: Any, parser: _Parser) -> None:
    for leaf in _leaves(value):
        if isinstance(leaf, Decimal):
            raise parser.fail(f'{leaf} is a TOML float; write decimals as strings ("{leaf}")')


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{a = {b = 1}}`` (TOML dotted keys) → ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix and not k.startswith("[") else prefix + k
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _parse_path(p: str) -> tuple:
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(p))


def _dig(value: Any, path: tuple) -> Any:
    """The value at ``path`` in a response; ``KeyError`` when absent."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                raise KeyError(part)
        elif not isinstance(value, dict) or part not in value:
            raise KeyError(part)
        value = value[part]
    return value


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
        return _MISSING

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
