"""The journal: every state-changing command as one JSON line, and replay (SPEC 8).

``Exchange(journal="run.jsonl")`` appends to that file; ``Exchange.replay(path)``
builds a new venue from it with the same ``state_hash()``, checking on the way
that every command gives the response it gave the first time.

Format (JSON lines, UTF-8, ASCII-escaped, strict JSON)
------------------------------------------------------
Line 1, the header, describes the venue as it was built::

    {"fapisim_journal": 1, "start_time": 1704067200000, "instruments": [{...}, ...],
     "max_num_algo_orders": 200}

``instruments`` holds every listed instrument's constructor parameters (in
listing order) and ``max_num_algo_orders`` the venue's cap on conditional
orders per account (``Exchange(max_num_algo_orders=...)``), so a non-default
venue is rebuilt exactly.  A header without ``max_num_algo_orders`` (written
before the setting existed) replays with the default, 200.  Then one line per
command that changed state::

    {"seq": 3, "time": 1704067200000, "cmd": "cancel_order", "account": "alice",
     "params": {"symbol": "BTCUSDT", "orderId": 1, "origClientOrderId": null},
     "resp": "5f0c2a9d41b7e3c8"}

``seq`` counts from 1 without gaps; ``time`` is the simulated clock when the
command began.  The clock may have moved since the previous line without a line
of its own — :meth:`~engine.venue.exchange.Exchange.pass_time`, over a stretch
where nothing falls due, is not a command (the REST server moves the clock that
way on every request, SPEC 9) — so replay moves the clock to ``time`` the same
way, and refuses a line whose ``time`` is in the past or lies beyond a countdown
deadline (that move would have changed state, so it would have had its own
``set_time`` line).  A replayed venue's clock is therefore that of its last
line, not of the last request its original answered.

``cmd`` is the command's name — a function of :mod:`engine.venue.commands`
for what an account sends, an operator method of
:class:`~engine.venue.exchange.Exchange` for the venue's own commands — and
:data:`COMMANDS` is the table from those names to their implementations (the
names journals have always written: a journal from before the engine's layers
replays unchanged); ``account`` the caller's name (null for venue commands:
``create_account``, ``add_instrument``, ``set_mark_price``, ``deposit``, ``advance``,
``set_time``, the tape's and funding);
``params`` the arguments under their wire names, as sent; ``resp`` the first
16 hex digits of the SHA-256 of the response's canonical JSON, which replay
compares.  The journaled methods are the keys of :data:`COMMANDS`: every
mutating method the client, the REST facade and the algo endpoints call.
``change_margin_type`` never changes state here and is not journaled.  The
replay-mode methods (``enable_tape``, ``tape_*``) and ``settle_funding`` are
journaled like the rest, so a backtest can be journaled and replayed too.

What is written: a command that changed state (it moved the venue's update
counter; ``add_instrument`` always).  A refused command changes nothing
(SPEC 2.1) and neither does one that succeeds without effect (``set_time`` to
the past, ``cancel_open_orders`` with nothing open); neither is written.

Deferred lines: a deterministic source
--------------------------------------
A source of commands that is deterministic from a few parameters — the served
synthetic market (:mod:`engine.server.feed`), whose every print, ladder move, mark
and funding follows from its seed — is not journaled command by command.  Its
progress runs through :meth:`Journal.defer` with the journal detached and is
described by one line, written only when another command is about to be (or at
:meth:`Journal.flush`): ``{"cmd": "market", "account": null, "params": {"prints":
191, "to": 1767225717000}, ...}`` says "the market has applied 191 prints and
reached this time".  Lines of consecutive deferred runs are merged, so a busy
market writes one line per bot command, not one per print.  Their ``resp`` is the
digest of their parameters.  Replaying such a journal needs the handlers that
regenerate that progress (``replay(handlers=...)``); without them replay stops
at the first such line with a message naming ``fapisim serve --state``, which
supplies them (:mod:`engine.server.state`).  A crash between deferred progress
and its line loses nothing: nobody was answered in between, and the progress is
regenerated when the source next advances.

Values, as sent
---------------
Parameters are written as sent, tagged where JSON cannot tell two values apart
(:mod:`engine.persist.values`).  The journal holds what was sent, credentials
too (``create_account``'s ``api_key``/``api_secret``): keep it private.

Durability
----------
Append-only.  Each line goes to the file in one unbuffered write, so it
reaches the operating system before the command returns (flushed, not
fsynced: a process crash loses nothing acknowledged; a power loss may tear
the tail).  A journaled command runs inside a savepoint (``txn``): if its
line cannot be written, the command is rolled back, the error propagates and
the journal refuses every later command (the file may end in a torn line).
``add_instrument`` is not undoable and stays listed.

A torn last line — no final newline, as a crash mid-write leaves it — is
reported, and replay stops cleanly before it: ``Exchange.replay`` warns with
:class:`JournalTornWarning` (``strict=True`` raises :class:`JournalTornError`
instead); :func:`replay` returns it as :attr:`Replay.torn`.  Anything else
wrong — a bad header, a line that is not JSON, a gap in ``seq``, a command
refused on replay, a different response — raises :class:`JournalError` naming
the line.  ``Exchange(journal=path)`` refuses a file that already holds a
journal; ``Exchange.replay(path, resume=True)`` continues one, cutting a torn
tail first (the only write that is not an append: that command never
returned).

Divergence: the journal remembers the venue's update counter after its last
line; a command that finds it moved (the venue was changed by an unjournaled
method) raises :class:`JournalError` instead of running.

Snapshots
---------
A snapshot of a journaled venue records ``seq`` and the SHA-256 of the
journal's bytes so far; ``Exchange.replay(path, snapshot=data)`` restores it,
checks that the journal's prefix is that one, and applies only the tail.

Performance
-----------
Without a journal each journaled command pays one ``s.journal is not None``
check (``s`` the venue's :class:`~engine.venue.state.VenueState`).  With one,
a command costs its JSON encoding and one write.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from engine.persist.commands import COMMANDS, Command, invoke, record_params, replay_args
from engine.persist.values import decode, digest, encode, instrument_from, instrument_params
from engine.venue.exchange import Exchange
from engine.venue.state import DEFAULT_MAX_NUM_ALGO_ORDERS, check_max_num_algo_orders

if TYPE_CHECKING:
    from engine.core.ledger import AccountState

__all__ = [
    "COMMANDS", "Command", "Journal", "JournalError", "JournalTornError", "JournalTornWarning",
    "Replay", "TornLine", "decode", "digest", "encode", "replay", "replay_exchange",
]

FORMAT_VERSION = 1

#: ``handler(venue, params) -> params reached``: replays a deferred line
Handler = Callable[[Exchange, Any], Any]
#: the deferred commands ``fapisim serve --state`` writes (its market's progress)
DEFERRED_BY_SERVER = frozenset({"market_open", "market"})


class JournalError(ValueError):
    """A journal that cannot be replayed or continued; the message names the line."""


class JournalTornError(JournalError):
    """The journal's last line is torn (``strict`` replay); ``torn`` describes it."""

    def __init__(self, message: str, torn: TornLine) -> None:
        super().__init__(message)
        self.torn = torn


class JournalTornWarning(UserWarning):
    """Replay stopped before a torn last line (a crash mid-write)."""


@dataclass(frozen=True)
class TornLine:
    """An incomplete last line: its 1-based line number, byte offset and bytes."""

    line: int
    offset: int
    data: bytes


@dataclass
class Replay:
    """What :func:`replay` did: the venue, the last ``seq`` read, how many lines it
    applied (fewer than ``seq`` after a snapshot), and the torn tail, if any."""

    exchange: Exchange
    seq: int
    applied: int
    torn: TornLine | None
    _end: tuple[int, Any] = field(default=(0, None), repr=False)  # byte offset, SHA-256


# -- lines ---------------------------------------------------------------------------------
def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode()


# -- writing ---------------------------------------------------------------------------------
class Journal:
    """An open journal file: appends one line per state-changing command.

    Created by ``Exchange(journal=path)`` or ``Exchange.replay(path, resume=True)``
    for one venue; ``path`` and ``seq`` (the last line written) are public.
    """

    __slots__ = ("path", "seq", "_ex", "_fd", "_sink", "_sha", "_uid", "_broken", "_pending")

    def __init__(self, ex: Exchange, path: str, fd: int, seq: int, sha: Any) -> None:
        self.path, self.seq = path, seq
        self._ex = ex
        self._fd, self._sha, self._uid = fd, sha, ex._s.update_id
        #: ``write(data) -> bytes written``: one unbuffered write(2) (tests swap it)
        self._sink: Callable[[memoryview], int] = partial(os.write, fd)
        self._broken: str | None = None
        #: a deferred line not yet written: (cmd, clock when it began, its params then)
        self._pending: tuple[str, int, Callable[[], dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"Journal({self.path!r}, seq={self.seq})"

    @classmethod
    def create(cls, ex: Exchange, path: str | os.PathLike[str],
               extra: dict[str, Any] | None = None) -> Journal:
        """Start a journal for a freshly built venue: the header line, then nothing.
        ``extra``: more header fields (JSON values) for whoever replays it, under names
        the header does not use."""
        path = os.fspath(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(fd).st_size:
            os.close(fd)
            raise JournalError(
                f"{path}: the file already holds a journal; continue it with "
                "Exchange.replay(path, resume=True), or choose a new file"
            )
        header = {
            "fapisim_journal": FORMAT_VERSION,
            "start_time": ex.now,
            "instruments": [instrument_params(i) for i in ex._s.instruments.values()],
            "max_num_algo_orders": ex._s.max_num_algo_orders,
        }
        for name, value in (extra or {}).items():
            if name in header:
                os.close(fd)
                raise ValueError(f"the journal header already has {name!r}")
            header[name] = value
        journal = cls(ex, path, fd, 0, hashlib.sha256())
        journal._write(_dumps(header))
        return journal

    def close(self) -> None:
        """Close the file; the journal refuses later commands."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._broken = self._broken or "it was closed"

    def __del__(self) -> None:
        # every line is already written: closing on collection loses nothing
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)

    @property
    def failure(self) -> str | None:
        """Why the journal refuses commands (a write failed, it was closed), or None."""
        return self._broken

    def sync(self) -> None:
        """Flush every line written so far to the disk (fsync): a snapshot taken after
        them may be written only once they cannot be lost."""
        if self._fd >= 0:
            os.fsync(self._fd)

    def prefix_digest(self) -> str:
        """SHA-256 of every byte written so far (what a snapshot records)."""
        return self._sha.hexdigest()

    def check_in_step(self) -> None:
        """Raise :class:`JournalError` if the journal can no longer describe its venue."""
        if self._broken is not None:
            raise JournalError(f"journal {self.path} refuses commands: {self._broken}")
        update_id = self._ex._s.update_id
        if update_id != self._uid:
            raise JournalError(
                f"journal {self.path}: the venue was changed by a method that is not "
                f"journaled (update {self._uid} -> {update_id}); replay could not "
                "rebuild it"
            )

    def record(self, cmd: str, acct: AccountState | None, *args: Any) -> Any:
        """Run ``cmd`` on the venue and, if it changed state, append its line — atomically."""
        if self._pending is not None:
            self.flush()
        self.check_in_step()
        ex = self._ex
        s = ex._s
        spec = COMMANDS[cmd]
        if acct is not None and s.ledger.accounts.get(acct.name) is not acct:
            raise ValueError(f"{acct!r} is not an account of this venue")
        time = s.now
        s.journal = None  # the call below, and any command it runs, is not journaled again
        try:
            with ex._runner.atomic():
                out = invoke(ex, cmd, acct, args)
                if spec.always or s.update_id != self._uid:
                    line = {
                        "seq": self.seq + 1, "time": time, "cmd": cmd,
                        "account": None if acct is None else acct.name,
                        "params": record_params(cmd, spec, args), "resp": digest(out),
                    }
                    self._write(_dumps(line))
                    self.seq += 1
        finally:
            s.journal = self
        self._uid = s.update_id
        return out

    def defer(self, cmd: str, run: Callable[[], Any],
              describe: Callable[[], dict[str, Any]],
              moved: Callable[[], bool] | None = None) -> Any:
        """Run ``run()`` with the journal detached, and describe what it changed by one
        ``cmd`` line written later: just before the next line of any other command, or
        at :meth:`flush`, with the parameters ``describe()`` gives then.  Consecutive
        deferred runs of one ``cmd`` share that line (its ``time`` is the clock when the
        first began).  For a deterministic source whose progress a replay handler
        regenerates from the line alone (the served market: ``replay(handlers=)``).  A
        run that changes nothing in the venue writes nothing unless ``moved()`` says the
        source moved on (the market's line carries the venue clock too).  ``run`` must
        leave the venue consistent even if it raises (each command it runs is atomic)."""
        pending = self._pending
        if pending is not None and pending[0] != cmd:
            self.flush()
            pending = None
        if pending is None:
            self.check_in_step()
        s = self._ex._s
        start = s.now if pending is None else pending[1]
        s.journal = None
        try:
            out = run()
        finally:
            s.journal = self
            if pending is not None or s.update_id != self._uid or (
                    moved is not None and moved()):
                self._pending = (cmd, start, describe)
        return out

    def flush(self) -> None:
        """Write the deferred line, if any (see :meth:`defer`)."""
        pending = self._pending
        if pending is None:
            return
        if self._broken is not None:
            raise JournalError(f"journal {self.path} refuses commands: {self._broken}")
        cmd, start, describe = pending
        params = describe()
        line = {"seq": self.seq + 1, "time": start, "cmd": cmd, "account": None,
                "params": params, "resp": digest(params)}
        self._write(_dumps(line))
        self.seq += 1
        self._pending = None
        self._uid = self._ex._s.update_id

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = self._sink(view)
                view = view[n:]
        except BaseException as e:
            self._broken = f"a write failed ({e!r}); the file may end in a torn line"
            raise
        self._sha.update(data)


# -- replay ----------------------------------------------------------------------------------
def _line_error(path: str, lineno: int, what: str) -> JournalError:
    return JournalError(f"{path}, line {lineno}: {what}")


def _header(path: str, raw: bytes) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise _line_error(path, 1, "no complete header line (is this a fapisim journal?)")
    try:
        head = json.loads(raw)
    except ValueError:
        head = None
    if not isinstance(head, dict) or "fapisim_journal" not in head:
        raise _line_error(path, 1, "not a fapisim journal header")
    if head["fapisim_journal"] != FORMAT_VERSION:
        raise _line_error(
            path, 1, f"journal format {head['fapisim_journal']!r} is not supported "
            f"(this build reads {FORMAT_VERSION})"
        )
    return head


def replay(
    path: str | os.PathLike[str], *, snapshot: bytes | None = None, resume: bool = False,
    on_response: Callable[[int, str, Any], None] | None = None,
    cls: type[Exchange] | None = None, key: bytes | None = None,
    handlers: Mapping[str, Handler] | None = None,
    on_header: Callable[[Exchange, dict[str, Any]], None] | None = None,
) -> Replay:
    """Rebuild the venue a journal describes; see the module docstring.

    ``snapshot``: start from it and apply only the lines after its ``seq``.
    ``resume``: keep journaling to ``path`` (a torn tail is cut first).
    ``on_response(seq, cmd, response)`` sees every replayed response.
    ``cls``: the venue's class (default ``Exchange``).  ``key``: the snapshot's key.
    ``handlers``: the replay of lines written by :meth:`Journal.defer` (not
    :data:`COMMANDS`), by ``cmd``: ``handler(venue, params)`` redoes the change and
    returns the parameters it reached, which must equal the line's.  ``on_header(venue,
    header)`` runs once the venue is built (or restored), before the first line.
    Runtime complexity: O(size of the journal + work of the commands applied).
    """
    from engine.persist.snapshot import load

    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.readline()
        head = _header(path, raw)
        sha = hashlib.sha256(raw)
        offset = len(raw)
        after, prefix = 0, None
        if snapshot is not None:
            ex, meta = load(snapshot, cls, key=key)
            if meta.get("journal") is None:
                raise JournalError("the snapshot was not taken from a journaled venue")
            after, prefix = meta["journal"]["seq"], meta["journal"]["sha256"]
            if after == 0 and sha.hexdigest() != prefix:
                raise _line_error(path, 1, "the snapshot was taken from another journal")
        else:
            instruments = [instrument_from(p) for p in head["instruments"]]
            cap = head.get("max_num_algo_orders", DEFAULT_MAX_NUM_ALGO_ORDERS)
            try:
                check_max_num_algo_orders(cap)
            except ValueError as e:
                raise _line_error(path, 1, str(e)) from None
            ex = (cls or Exchange)(
                instruments, start_time=head["start_time"], max_num_algo_orders=cap
            )
        if on_header is not None:
            on_header(ex, head)
        seq = applied = 0
        torn = None
        for lineno, raw in enumerate(f, start=2):
            if not raw.endswith(b"\n"):
                torn = TornLine(lineno, offset, raw)
                break
            try:
                line = json.loads(raw)
                number, time, cmd = line["seq"], line["time"], line["cmd"]
                name, params, resp = line["account"], line["params"], line["resp"]
                spec = COMMANDS.get(cmd) if type(cmd) is str else None
                handler = None if spec is not None else (handlers or {}).get(cmd)
            except (ValueError, KeyError, TypeError):
                raise _line_error(path, lineno, "not a journal line") from None
            if spec is None and handler is None:
                raise _line_error(path, lineno, f"unknown command {cmd!r}" + (
                    " (written by a served market: resume it with fapisim serve --state)"
                    if cmd in DEFERRED_BY_SERVER else ""))
            if number != seq + 1:
                raise _line_error(path, lineno, f"seq {number!r}, expected {seq + 1}")
            seq += 1
            sha.update(raw)
            offset += len(raw)
            if seq <= after:
                if seq == after and sha.hexdigest() != prefix:
                    raise _line_error(path, lineno, "the snapshot was taken from another journal")
                continue
            if time != ex.now and not (type(time) is int and ex.pass_time(time)
                                       and time == ex.now):
                raise _line_error(
                    path, lineno, f"the clock is {ex.now} but the line says {time!r}: "
                    "journal and venue diverged"
                )
            acct = None if name is None else ex._s.ledger.accounts.get(name)
            if spec is not None and spec.account and acct is None:
                raise _line_error(path, lineno, f"no account {name!r}")
            try:
                if spec is None:
                    assert handler is not None
                    out = handler(ex, params)
                else:
                    out = invoke(ex, cmd, acct, replay_args(cmd, spec, params))
            except Exception as e:
                raise _line_error(path, lineno, f"{cmd} failed on replay: {e!r}") from e
            if digest(out) != resp:
                raise _line_error(path, lineno, f"{cmd} answered differently on replay")
            applied += 1
            if on_response is not None:
                on_response(seq, cmd, out)
    if seq < after:
        raise JournalError(f"{path}: ends at seq {seq}, before the snapshot's seq {after}")
    result = Replay(ex, seq, applied, torn, (offset, sha))
    if resume:
        _resume(result, path)
    return result


def _resume(result: Replay, path: str) -> None:
    """Reattach the replayed venue to its journal, after its last complete line."""
    offset, sha = result._end
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.ftruncate(fd, offset)  # cut a torn tail: the command it described never returned
    ex = result.exchange
    ex._s.journal = Journal(ex, path, fd, result.seq, sha)


def replay_exchange(
    path: str | os.PathLike[str], *, snapshot: bytes | None, resume: bool, strict: bool,
    cls: type[Exchange] | None = None, key: bytes | None = None,
) -> Exchange:
    """:meth:`Exchange.replay`: :func:`replay`, reporting a torn tail with a
    :class:`JournalTornWarning` or, ``strict``, a :class:`JournalTornError` (then
    nothing is cut or reopened)."""
    result = replay(path, snapshot=snapshot, cls=cls, key=key)
    if result.torn is not None:
        message = _torn_message(path, result.torn)
        if strict:
            raise JournalTornError(message, result.torn)
        warnings.warn(JournalTornWarning(message), stacklevel=3)
    if resume:
        _resume(result, os.fspath(path))
    return result.exchange


def _torn_message(path: str | os.PathLike[str], torn: TornLine) -> str:
    return (
        f"{os.fspath(path)}, line {torn.line} (byte {torn.offset}): torn last line of "
        f"{len(torn.data)} bytes ignored; replay stopped after the line before it"
    )
