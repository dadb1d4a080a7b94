"""Reading scenario files: TOML into a checked :class:`Scenario`.

The format is documented in :mod:`engine.scenarios.runner`.

Every mistake is a :class:`ScenarioError` naming the file and the step; floats,
unknown keys, references to names not yet saved and impossible parameter
combinations are refused before anything runs.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.venue.client import Client

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
    engine.scenarios.format.ScenarioError: x.toml: step 1: unknown key 'foo'
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


