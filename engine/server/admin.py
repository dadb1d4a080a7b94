"""The operator's side door: ``/fapisim/v1/...``, which bots never see (SPEC 9).

Served only when ``fapisim serve`` is given an admin token (``--admin-token`` or
the ``FAPISIM_ADMIN_TOKEN`` environment variable; at least :data:`MIN_TOKEN_LEN`
characters); without one these paths are unknown (404 ``-1099``, as any path
Binance does not have).  Every request carries ``Authorization: Bearer <token>``,
checked from the headers alone, in constant time, before the body is read (401
otherwise, with ``Connection: close``).  Parameters come as Binance's do: query
string or form body.  Answers are JSON; errors are ``{"code", "msg"}`` with HTTP
400 (a bad parameter; nothing changed) or 409 (not possible in this mode).

==========================  ==========================================================
``GET  /fapisim/v1/status``  venue clock, wall clock, speed, lockstep, the market's
                             position (seed, prints applied, time reached), the journal
                             (path, seq), the accounts and their wallet balances
``POST /fapisim/v1/deposit`` ``account``, ``amount``: credit a wallet (a journaled
                             venue command, :meth:`~engine.venue.exchange.Exchange.deposit`)
``POST /fapisim/v1/markPrice`` ``symbol``, ``price``: set the mark (a venue without a
                             market only; a served market sets its own marks: 409)
``POST /fapisim/v1/advance`` ``ms``: lockstep (``--speed 0``) only: let the venue clock
                             move ``ms`` on — every print, mark and funding due by then
                             is applied before the answer
``POST /fapisim/v1/step``    ``prints`` (default 1): lockstep only: move the clock to
                             the market's next print ``prints`` times (prints of one
                             millisecond come together), applying what falls due
``GET  /fapisim/v1/stateHash`` the venue's ``state_hash()``
``POST /fapisim/v1/snapshot`` with ``--state DIR``: write ``DIR/snapshot.bin`` now
``GET  /fapisim/v1/snapshot`` the venue's snapshot bytes
                             (``Exchange.restore`` reads them; ``application/octet-stream``)
==========================  ==========================================================

Everything runs under the venue lock, like a request, after the venue is brought up
to date.  Nothing here places orders or reads an API secret.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.errors import ClientError
from engine.server.auth import parse

if TYPE_CHECKING:
    from engine.server.app import Facade

__all__ = ["ADMIN_PREFIX", "MIN_TOKEN_LEN", "Admin", "check_token"]

ADMIN_PREFIX = "/fapisim/v1/"
#: the shortest admin token accepted
MIN_TOKEN_LEN = 16
#: the most prints one ``step`` applies
MAX_STEP = 100_000
#: the longest one ``advance`` moves the clock (a day)
MAX_ADVANCE_MS = 86_400_000
#: the largest body an operator request may have
MAX_BODY = 4096


def check_token(token: str) -> str:
    """``token`` if it is fit to guard the door; else ``ValueError`` saying why."""
    if len(token) < MIN_TOKEN_LEN or not token.isascii() or not token.isprintable() or (
            " " in token):
        raise ValueError(f"an admin token is at least {MIN_TOKEN_LEN} printable ASCII "
                         "characters without spaces")
    return token


class Refused(Exception):
    """An operator request that is refused: HTTP status and message."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


@dataclass(frozen=True)
class Op:
    run: Callable[[Facade, dict[str, str]], Any]
    changes: bool  # a command: refused while the journal cannot be written


class Admin:
    """The door over one :class:`~engine.server.app.Facade`, guarded by ``token``."""

    def __init__(self, facade: Facade, token: str) -> None:
        self.facade = facade
        self._token = ("Bearer " + check_token(token)).encode()
        #: the operations by (verb, name)
        self.ops: dict[tuple[str, str], Op] = {
            ("GET", "status"): Op(_status, False),
            ("POST", "deposit"): Op(_deposit, True),
            ("POST", "markPrice"): Op(_mark_price, True),
            ("POST", "advance"): Op(_advance, True),
            ("POST", "step"): Op(_step, True),
            ("GET", "stateHash"): Op(_state_hash, False),
            ("POST", "snapshot"): Op(_write_snapshot, True),
            ("GET", "snapshot"): Op(_read_snapshot, False),
        }

    def admits(self, authorization: str | None) -> bool:
        """The header check, in constant time."""
        given = (authorization or "").encode("utf-8", "replace")
        return hmac.compare_digest(given, self._token)

    def answer(self, method: str, op_name: str, query: bytes, body: bytes,
               content_type: str | None) -> tuple[int, Any]:
        """``(HTTP status, JSON body or bytes)`` for an admitted request."""
        op = self.ops.get((method, op_name))
        if op is None:
            verbs = [m for m, name in self.ops if name == op_name]
            if verbs:
                return 405, {"code": -1020, "msg": f"{op_name} takes {' or '.join(verbs)}."}
            names = sorted({name for _m, name in self.ops})
            return 404, {"code": -1099, "msg": f"No operator endpoint {op_name!r}; "
                         f"there are {', '.join(names)}."}
        try:
            params = dict(parse(query, body, content_type).params)
        except ClientError as e:
            return 400, e.to_wire()
        facade = self.facade
        with facade.lock:
            if op.changes and facade.journal_failure() is not None:
                return 503, {"code": -1001, "msg": "The journal cannot be written."}
            facade.catch_up(facade.venue_clock.target())
            try:
                return 200, op.run(facade, params)
            except Refused as e:
                return e.status, {"code": -1000 if e.status >= 500 else -1102, "msg": e.msg}
            except ValueError as e:
                return 400, {"code": -1102, "msg": str(e)}


# -- the operations (under the lock, the venue up to date) -------------------------------
def _int(params: dict[str, str], name: str, default: int | None, lo: int, hi: int) -> int:
    text = params.get(name)
    if text is None:
        if default is None:
            raise Refused(400, f"Mandatory parameter '{name}' was not sent.")
        return default
    if not (text.isascii() and text.isdigit()) or not lo <= int(text) <= hi:
        raise Refused(400, f"'{name}' is an integer from {lo} to {hi}.")
    return int(text)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise Refused(400, f"Mandatory parameter '{name}' was not sent, was empty/null, or "
                      "malformed.")
    return value


def _status(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    ex, clock, market = f.exchange, f.venue_clock, f.market
    journal = ex.journal
    return {
        "time": ex.now,
        "wallTime": clock.wall(),
        "speed": clock.speed(),
        "lockstep": clock.lockstep,
        "market": None if market is None else {
            "kind": market.kind,
            **{k: v for k, v in market.params.items() if k not in ("kind", "digests")},
            "printsApplied": market.applied, "reached": market.reached,
            "symbols": list(market.symbols), "ended": market.ended,
        },
        "journal": None if journal is None else {"path": journal.path, "seq": journal.seq},
        "accounts": [{"name": a.name, "walletBalance": ex.client(a.name).balance()[0]["balance"]}
                     for a in ex.accounts],
    }


def _deposit(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    name, amount = _required(params, "account"), _required(params, "amount")
    wallet = f.exchange.deposit(name, amount)
    return {"account": name, "amount": amount, "walletBalance": wallet}


def _mark_price(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    if f.market is not None:
        raise Refused(409, "The served market sets the mark at every minute's close; "
                      "markPrice is for a venue served with --no-market.")
    symbol, price = _required(params, "symbol"), _required(params, "price")
    try:
        f.exchange.set_mark_price(symbol, price)
    except ClientError as e:
        raise Refused(400, e.error_message) from None
    return {"symbol": symbol, "markPrice": price}


def _lockstep(f: Facade) -> None:
    if not f.venue_clock.lockstep:
        raise Refused(409, "The venue clock follows the wall clock; advance and step need "
                      "--speed 0 (lockstep).")


def _advance(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    _lockstep(f)
    ms = _int(params, "ms", None, 0, MAX_ADVANCE_MS)
    target = f.venue_clock.allow(f.exchange.now + ms)
    while not f.catch_up(target):
        pass
    return {"time": f.exchange.now, **_position(f)}


def _step(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    _lockstep(f)
    count = _int(params, "prints", 1, 1, MAX_STEP)
    market = f.market
    if market is None:
        raise Refused(409, "There is no market to step (--no-market).")
    for _ in range(count):
        target = f.venue_clock.allow(max(market.next_print_time(), f.exchange.now))
        while not f.catch_up(target):
            pass
    return {"time": f.exchange.now, **_position(f)}


def _position(f: Facade) -> dict[str, Any]:
    m = f.market
    return {} if m is None else {"printsApplied": m.applied, "reached": m.reached}


def _state_hash(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    return {"stateHash": f.exchange.state_hash(), "time": f.exchange.now}


def _write_snapshot(f: Facade, params: dict[str, str]) -> dict[str, Any]:
    state = f.state
    if state is None:
        raise Refused(409, "No --state DIR to write a snapshot to; GET /fapisim/v1/snapshot "
                      "returns one.")
    journal = f.exchange.journal
    data = state.capture(f.exchange, f.market)
    if data is not None:
        state.write(data, journal)  # under the lock: the operator asked for it now
    return {"path": str(state.snapshot_path), "seq": journal.seq if journal else 0,
            "written": data is not None}


def _read_snapshot(f: Facade, params: dict[str, str]) -> bytes:
    return f.exchange.snapshot()
