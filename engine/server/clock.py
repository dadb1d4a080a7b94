"""The served venue's clock: wall time mapped onto venue time at a speed (SPEC 9).

:class:`VenueClock` says what time the venue should have reached now; the server
brings the venue there (its market's prints, then the clock) before each request
and on its own every tick.

* **speed 1** (the default): venue time is wall time;
* **speed X** (``--speed 10``, ``--speed 0.5``): venue time starts at ``start`` and
  runs X times as fast as the wall clock;
* **speed 0 — lockstep** (``--speed 0``): venue time moves only when the operator
  says so (``POST /fapisim/v1/advance`` or ``/step``, :mod:`~engine.server.admin`);
  nothing happens between, so a test drives the market one step at a time and gets
  the same venue every run.

A signed request's ``timestamp`` is accepted within ``recvWindow`` of the wall
clock *or* of the venue clock (:mod:`~engine.server.app`), so a bot that signs
with its own clock and one that adds the offset to ``/fapi/v1/time`` (which
reports the venue clock) both work at any speed.

The speed is a decimal with at most 3 decimals, kept as an integer of thousandths:
no float reaches the clock.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

__all__ = ["MAX_SPEED", "VenueClock", "parse_speed", "wall_ms"]

#: the fastest the venue clock may run, in multiples of the wall clock
MAX_SPEED = 1000


def wall_ms() -> int:
    """Wall-clock time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def parse_speed(text: str) -> int:
    """``--speed``'s value in thousandths: ``"1"`` → 1000, ``"0"`` → 0 (lockstep);
    ``ValueError`` unless a decimal in [0, :data:`MAX_SPEED`] with at most 3 decimals."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,9}(?:\.[0-9]{1,9})?", text,
                                                     re.ASCII):
        raise ValueError(f"--speed takes a number such as 1, 10 or 0.5, not {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"--speed takes a number such as 1, 10 or 0.5, not {text!r}") from None
    if not value.is_finite() or not 0 <= value <= MAX_SPEED or value != value.quantize(
            Decimal("0.001")):
        raise ValueError(f"--speed is between 0 and {MAX_SPEED} with at most 3 decimals, "
                         f"not {text!r}")
    return int(value * 1000)


class VenueClock:
    """Where the venue's clock should be, from the wall clock (see the module docstring).

    ``speed_milli``: the speed in thousandths (0: lockstep); ``start``: the venue time
    at the wall clock's present reading (default: that reading); ``wall``: the wall
    clock in ms (tests give their own).  Thread-safe."""

    def __init__(self, speed_milli: int = 1000, start: int | None = None, *,
                 wall: Callable[[], int] = wall_ms) -> None:
        self.wall = wall
        now = wall()
        self.speed_milli = speed_milli
        self._wall0 = now
        self._venue0 = now if start is None else start
        self._held = self._venue0  # lockstep: the time the operator has allowed
        self._lock = threading.Lock()
        self._check()

    @property
    def lockstep(self) -> bool:
        return self.speed_milli == 0

    def speed(self) -> str:
        """The speed as a decimal string (``"1"``, ``"0.5"``, ``"0"``)."""
        text = str(Decimal(self.speed_milli) / 1000)
        return text.rstrip("0").rstrip(".") if "." in text else text

    def target(self) -> int:
        """The venue time the venue should have reached by now."""
        if self.speed_milli == 0:
            with self._lock:
                return self._held
        elapsed = self.wall() - self._wall0
        if self.speed_milli == 1000:
            return self._venue0 + elapsed
        return self._venue0 + elapsed * self.speed_milli // 1000

    def allow(self, until: int) -> int:
        """Lockstep: let the venue clock move to ``until`` (never back); the time allowed."""
        if self.speed_milli != 0:
            raise ValueError("the clock follows the wall clock; only --speed 0 steps it")
        with self._lock:
            self._held = max(self._held, until)
            return self._held

    def _check(self) -> None:
        if isinstance(self.speed_milli, bool) or not isinstance(self.speed_milli, int) or not (
                0 <= self.speed_milli <= MAX_SPEED * 1000):
            raise ValueError(f"speed {self.speed_milli!r} thousandths is out of range")
        if not isinstance(self._venue0, int):
            raise ValueError("a venue clock starts at an int of ms")
