"""Binance's limits on websocket connections beyond a connection's own frames.

* **Handshakes per IP address**: at most :data:`MAX_CONNECTS_PER_IP` in any
  :data:`CONNECT_WINDOW_MS` (Binance: 300 connections per 5 minutes per IP).  Past
  it the handshake is refused with HTTP 429 and ``{"code": -1003, "msg": …}``
  (:meth:`Handshakes.refusal`; the server answers a handshake with a response where
  its websocket layer can; else the handshake is refused, 403).  Refused handshakes
  do not count: a client that retries in a loop waits out the window rather than
  extending it.
* **Lifetime**: a connection is closed (code 1000) once it has been open
  :data:`MAX_LIFETIME_MS` of *venue* time (Binance: "a single connection is only
  valid for 24 hours; expect to be disconnected at the 24 hour mark").  Venue time,
  as for listen keys, so a lockstep test moves the clock a day and sees it; a live
  venue's clock follows the wall clock.  Checked by the fan-out every second.

What one handshake costs before it is admitted: a deque append per IP address; the
table of addresses is pruned as their windows pass (:meth:`Handshakes.prune`).
"""

from __future__ import annotations

from collections import deque

from engine.core.errors import InvariantError

__all__ = ["CONNECT_WINDOW_MS", "MAX_CONNECTS_PER_IP", "MAX_LIFETIME_MS", "Handshakes"]

#: handshakes one IP address may make in :data:`CONNECT_WINDOW_MS` (Binance's)
MAX_CONNECTS_PER_IP = 300
CONNECT_WINDOW_MS = 5 * 60_000
#: venue time a connection stays open (Binance's 24 hours)
MAX_LIFETIME_MS = 24 * 3_600_000


class Handshakes:
    """The admitted handshakes of each IP address within the window (monotonic ms)."""

    def __init__(self, limit: int = MAX_CONNECTS_PER_IP,
                 window_ms: int = CONNECT_WINDOW_MS) -> None:
        self.limit, self.window_ms = limit, window_ms
        #: address -> times of its admitted handshakes in the window, oldest first
        self.by_ip: dict[str, deque[int]] = {}
        #: handshakes refused for the limit, since the server started
        self.refused = 0

    def admit(self, ip: str, now_ms: int) -> bool:
        """Count a handshake from ``ip`` and say whether it is within the limit."""
        times = self.by_ip.get(ip)
        if times is None:
            times = self.by_ip[ip] = deque()
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        if len(times) >= self.limit:
            self.refused += 1
            return False
        times.append(now_ms)
        return True

    def refusal(self) -> dict[str, object]:
        """The body of a refused handshake: -1003, Binance's code for too many requests,
        worded for connections (Binance documents no message for this limit)."""
        w = self.window_ms
        window = f"{w // 60_000} minutes" if w % 60_000 == 0 else f"{w} ms"
        return {"code": -1003, "msg": f"Too many requests; current limit is {self.limit} "
                f"websocket connections per {window} per IP."}

    def prune(self, now_ms: int) -> None:
        """Forget the addresses whose handshakes have all left the window."""
        old = now_ms - self.window_ms
        for ip in [ip for ip, times in self.by_ip.items() if not times or times[-1] <= old]:
            del self.by_ip[ip]

    def _check(self) -> None:
        for ip, times in self.by_ip.items():
            if len(times) > self.limit or any(a > b for a, b in zip(times, list(times)[1:],
                                                                    strict=False)):
                raise InvariantError(f"{ip}: handshakes over the limit or out of order")
