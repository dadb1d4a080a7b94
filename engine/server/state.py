"""A served venue's state on disk: ``fapisim serve --state DIR`` (SPEC 9).

``DIR`` holds three files:

* ``journal.jsonl`` — the venue's journal (:mod:`engine.persist.journal`): every
  command that changed state, written before its answer is sent.  The served
  market is deterministic from its parameters, so the journal holds one
  ``market_open`` line (seed, start, history, prints per day) and then, before
  each other line, one ``market`` line with the market's position (prints applied,
  time reached) — not a line per print (:meth:`~engine.server.marketfeed.MarketFeed.advance`
  defers it; replay regenerates the prints).
* ``snapshot.bin`` — the newest snapshot, written every :data:`SNAPSHOT_EVERY_S`
  seconds while the venue changes, on ``POST /fapisim/v1/snapshot`` and at a clean
  shutdown: a small msgpack envelope holding the venue's snapshot
  (:mod:`engine.persist.snapshot`, which names the journal line it follows) and the
  market's progress (its candles, prints and funding).  Written to a temporary
  file, flushed to disk and renamed over the old one: a crash leaves the old one or
  the new one, never half of one.
* ``lock`` — held (``flock``) by the running server: a second server on ``DIR`` is
  refused at start with the holder's pid.

Starting on a ``DIR`` with a journal resumes it: the snapshot (if it is intact and
follows this journal; otherwise the journal from its first line, with a warning),
then the journal's tail, each command checked against the answer it gave; a torn
last line (a crash mid-write) is cut — that command was never answered.  What a
client was told survives a ``kill -9`` at any moment: a line reaches the operating
system before the answer is written (flushed, not fsynced: a power loss may lose
the tail; the snapshot is fsynced).  The market then catches up with the time it
was down, as a real venue's market would have moved meanwhile.

On a resumed ``DIR`` the journal decides the venue: its accounts (``--accounts``
may add new ones, never changes an existing one) and its market (``--seed``,
``--history`` and ``--trades-per-day`` are those of its ``market_open`` line).

Snapshots here are this server's own files, but loading them is as careful as
loading any: the venue part through :func:`engine.persist.snapshot.load` (no
code runs on a file's say, memory bounded), the market part as typed msgpack whose
stores are checked row by row.
"""

from __future__ import annotations

import fcntl
import logging
import os
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from engine.persist.journal import JournalError, JournalTornWarning, replay
from engine.server.feed import SyntheticFeed
from engine.server.marketfeed import MarketFeed
from engine.server.replayfeed import ReplayFeed
from engine.venue.exchange import Exchange

__all__ = ["SNAPSHOT_EVERY_S", "StateDir", "StateError"]

log = logging.getLogger("fapisim.server")

#: how often the server snapshots a venue that changed
SNAPSHOT_EVERY_S = 300
#: the most bytes a state snapshot may hold (and the market part may inflate to)
MAX_SNAPSHOT_BYTES = 1 << 31
_FORMAT = 1


class StateError(ValueError):
    """A state directory that cannot be used (in use, unreadable, not a venue's)."""


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    fapisim_state: int
    venue: bytes
    market_params: dict[str, Any] | None
    market: bytes | None  # zlib(msgpack(MarketFeed.state()))


class StateDir:
    """An open, locked state directory (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock_fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StateError(f"--state {self.path}: {e.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._lock_fd, 32, 0).decode(errors="replace").strip()
            os.close(self._lock_fd)
            raise StateError(
                f"--state {self.path} is in use by another fapisim serve (pid {holder or '?'}); "
                "stop it first, or choose another directory") from None
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)
        self.journal = self.path / "journal.jsonl"
        self.snapshot_path = self.path / "snapshot.bin"
        #: the journal seq of the newest snapshot written or loaded
        self.snapshot_seq = -1

    def close(self) -> None:
        """Release the lock (the process's exit does too)."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    @property
    def fresh(self) -> bool:
        """True when ``DIR`` holds no journal yet (a new venue starts here).
        :class:`StateError` when it holds a snapshot but no journal: the venue it
        describes cannot be resumed, and starting over would overwrite it."""
        empty = not self.journal.exists() or self.journal.stat().st_size == 0
        if empty and self.snapshot_path.exists():
            raise StateError(
                f"--state {self.path} holds a snapshot but no journal ({self.journal.name} "
                "is missing or empty): the venue cannot be resumed from it; move the "
                "directory aside to start a new venue")
        return empty

    # -- a new venue -------------------------------------------------------------------
    def create(self, exchange_factory: Callable[[str], Exchange]) -> Exchange:
        """The new venue, journaling to ``DIR``: ``exchange_factory(journal_path)``."""
        if not self.fresh:
            raise StateError(f"--state {self.path} already holds a venue")
        if self.journal.exists():
            self.journal.unlink()  # empty: a start that failed before its header
        return exchange_factory(str(self.journal))

    # -- resuming ----------------------------------------------------------------------
    def resume(self) -> tuple[Exchange, MarketFeed | None]:
        """The venue and market ``DIR`` describes, journaling on (see the docstring)."""
        market: list[MarketFeed] = []
        data = self._read_snapshot()

        def opened(ex: Exchange, params: Any) -> Any:
            if market:
                raise JournalError("a second market_open line")
            feed = _feed(ex, params, open_venue=True)
            market.append(feed)
            return dict(feed.params)

        def advanced(ex: Exchange, params: Any) -> Any:
            if not market:
                raise JournalError("a market line before market_open")
            return market[0].redo(params)

        def restored(ex: Exchange, header: dict[str, Any]) -> None:
            if data is None or data.market_params is None:
                return
            feed = _feed(ex, data.market_params, open_venue=False)
            try:
                state = msgspec.msgpack.decode(_inflate(data.market or b""))
            except (msgspec.DecodeError, zlib.error) as e:
                raise ValueError(f"the market state is unreadable ({e})") from None
            feed.restore_state(state)
            market.append(feed)

        handlers = {"market_open": opened, "market": advanced}
        kwargs: dict[str, Any] = {"resume": True, "handlers": handlers, "on_header": restored}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", JournalTornWarning)
                try:
                    result = replay(self.journal, snapshot=None if data is None else data.venue,
                                    **kwargs)
                except (JournalError, ValueError) as e:
                    if data is None:
                        raise
                    log.warning("%s: the snapshot does not resume this journal (%s); "
                                "replaying the journal from its first line", self.path, e)
                    market.clear()
                    data = None
                    result = replay(self.journal, **kwargs)
        except (JournalError, ValueError, OSError) as e:
            raise StateError(f"--state {self.path}: cannot resume: {e}") from None
        for w in caught:
            log.warning("%s", w.message)
        if result.torn is not None:
            log.warning("%s, line %d: a torn last line of %d bytes (a crash mid-write) was "
                        "cut; that command was never answered", self.journal,
                        result.torn.line, len(result.torn.data))
        self.snapshot_seq = -1 if data is None else self._seq_of(data)
        log.info("resumed %s: %d journal lines, %d replayed", self.path, result.seq,
                 result.applied)
        return result.exchange, (market[0] if market else None)

    def _read_snapshot(self) -> _Envelope | None:
        try:
            raw = self.snapshot_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StateError(f"--state {self.path}: cannot read the snapshot: {e}") from None
        try:
            if len(raw) > MAX_SNAPSHOT_BYTES:
                raise ValueError("too large")
            env = msgspec.msgpack.decode(raw, type=_Envelope)
            if env.fapisim_state != _FORMAT:
                raise ValueError(f"format {env.fapisim_state}")
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as e:
            log.warning("%s: the snapshot is unreadable (%s); replaying the journal from its "
                        "first line", self.snapshot_path, e)
            return None
        return env

    @staticmethod
    def _seq_of(env: _Envelope) -> int:
        from engine.persist.snapshot import info

        journal = info(env.venue).get("journal") or {}
        return int(journal.get("seq", -1))

    # -- snapshots ---------------------------------------------------------------------
    def capture(self, exchange: Exchange, market: MarketFeed | None) -> bytes | None:
        """The snapshot of the venue now (call under the venue lock; the deferred market
        line is written first, so the snapshot follows a whole journal line); None when
        nothing changed since the last one."""
        journal = exchange.journal
        if journal is None:
            raise StateError("the venue is not journaling")
        journal.flush()
        if journal.seq == self.snapshot_seq:
            return None
        env = _Envelope(
            _FORMAT, exchange.snapshot(),
            None if market is None else dict(market.params),
            None if market is None else zlib.compress(
                msgspec.msgpack.encode(market.state()), 1),
        )
        self.snapshot_seq = journal.seq
        return msgspec.msgpack.encode(env)

    def write(self, data: bytes, journal: Any = None) -> None:
        """Replace ``snapshot.bin`` with ``data``, durably (outside the lock), once
        ``journal`` (the venue's) is on disk up to it: a snapshot is never ahead of
        the journal it follows, even after a power loss."""
        if journal is not None:
            journal.sync()
        tmp = self.snapshot_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.snapshot_path)
        dir_fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _feed(ex: Exchange, params: Any, *, open_venue: bool) -> MarketFeed:
    """The market a ``market_open`` line (or a snapshot) describes: synthetic (its seed,
    start, history and prints per day) or a replay (its files, their digests, start
    and warmup)."""
    if isinstance(params, dict) and params.get("kind") == "replay":
        names: tuple[str, ...] = ("kind", "files", "digests", "now_ms", "start", "warmup_ms",
                                  "fill", "queue")
        if sorted(params) != sorted(names) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v)
                for v in (params["files"], params["digests"])) or any(
                type(params[n]) is not int for n in names[3:6]):
            raise JournalError(f"replay parameters {params!r} are not {', '.join(names)}")
        return ReplayFeed(ex, files=params["files"], now_ms=params["now_ms"],
                          start=params["start"], warmup_ms=params["warmup_ms"],
                          digests=params["digests"], fill=params["fill"],
                          queue=params["queue"], open_venue=open_venue)
    names = ("seed", "now_ms", "history_minutes", "trades_per_day", "open_ticks", "fill",
             "queue")
    if not isinstance(params, dict) or sorted(params) != sorted(names) or any(
            type(params[n]) is not int for n in names[:4]) or not isinstance(
            params["open_ticks"], dict):
        raise JournalError(f"market parameters {params!r} are not {', '.join(names)}")
    try:
        return SyntheticFeed(ex, seed=params["seed"], now_ms=params["now_ms"],
                             history_minutes=params["history_minutes"],
                             trades_per_day=params["trades_per_day"],
                             open_ticks=params["open_ticks"], fill=params["fill"],
                             queue=params["queue"], open_venue=open_venue)
    except ValueError as e:
        raise JournalError(f"market parameters {params!r}: {e}") from None


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_SNAPSHOT_BYTES)
    if d.unconsumed_tail or not d.eof:
        raise ValueError("the market state is truncated or too large")
    return out
