"""Binance's REST rate limits: request weight per IP, orders per account, IP bans.

Counters (always kept and reported; :class:`RateLimits` says which refuse)
-------------------------------------------------------------------------
* **Request weight, per IP address** (Binance's REQUEST_WEIGHT, 2400 a minute):
  every request's weight goes to its client's IP address, signed or not, whichever
  account it names.  ``X-MBX-USED-WEIGHT-1M`` on every response is the IP's count.
* **Orders, per account** (Binance's ORDERS, 300 per 10 seconds and 1200 a minute):
  an order-placing request counts against its account what its endpoint says
  (:attr:`~engine.server.routes.Endpoint.orders`: one order on each counter, a batch
  5 on the 10-second one and 1 on the minute, as Binance's pages say); every
  answer of an order-placing endpoint past authentication carries
  ``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1M``.

Windows are fixed, as Binance's: a request at 00:01:23.456 counts towards the
00:01:00 minute and the 00:01:20 ten seconds.  The meter is told the wall time
(ms); it never reads a clock.  It never goes back: a request stamped in an earlier
window than one already seen (concurrent requests read the clock a moment apart)
counts in the latest one.

Limits
------
* past the weight limit: 429 ``-1003`` "Too many requests; current limit is 2400
  requests per minute. …" with ``Retry-After`` (seconds to the minute's end,
  rounded up);
* past an order limit: 429 ``-1015`` "Too many new orders; current limit is 300
  orders per 10 SECOND." (or "1200 orders per 1 MINUTE"; the minute's is named
  when both are past), without ``Retry-After``, as Binance sends none for orders.

A refused request is not counted (neither its weight nor its orders) and never
reaches the venue.  A weight refusal is checked before the order limits.

IP bans (418): the rule
-----------------------
Every 429 answered to an IP address is a strike against it in the current
minute.  A request that arrives from an address already struck
:data:`BAN_AFTER_429S` (5) times in the current minute is answered 418 and bans
the address: for :data:`FIRST_BAN_MS` (2 minutes) the first time, doubling with
each further ban of that address (4, 8, 16 … minutes), at most :data:`MAX_BAN_MS`
(3 days: Binance's "from 2 minutes to 3 days").  While banned, every request from
the address is answered 418 ``-1003`` "Way too many requests; IP banned until
<epoch ms the ban ends>. …" from its request line and headers alone (before any
body is read; ``Connection: close``) with ``Retry-After`` (seconds until the ban
lifts, rounded up); it costs no weight and no strike.  An address's bans are
remembered until :data:`BAN_MEMORY_MS` (a day) after its last one ended; then its
next ban is 2 minutes again.

Memory
------
The weight and order counters hold the addresses and accounts seen in the current
minute only: all are forgotten when a request opens the next minute.  Ban records
are forgotten a day after their ban ended (checked at each new minute) and at most
:data:`MAX_BAN_RECORDS` are kept, the oldest ban dropped first — so neither a
long run nor a client cycling through addresses grows the meter without bound.

>>> m = Meter(RateLimits(weight=5))
>>> m.charge("127.0.0.1", None, 4, (0, 0), 60_000).headers
{'X-MBX-USED-WEIGHT-1M': '4'}
>>> m.charge("127.0.0.1", "alice", 2, (0, 0), 60_001).refusal.error_code
-1003
>>> m.charge("127.0.0.1", None, 2, (0, 0), 120_000).headers   # a new minute
{'X-MBX-USED-WEIGHT-1M': '2'}
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.core.errors import ClientError, InvariantError, reject

__all__ = ["BAN_AFTER_429S", "BAN_MEMORY_MS", "FIRST_BAN_MS", "MAX_BAN_MS",
           "MAX_BAN_RECORDS", "Charge", "Meter", "RateLimits"]

MINUTE_MS = 60_000
TEN_SECONDS_MS = 10_000
#: 429s an address may be answered in a minute; its next request that minute is banned
BAN_AFTER_429S = 5
FIRST_BAN_MS = 2 * MINUTE_MS
MAX_BAN_MS = 3 * 24 * 60 * MINUTE_MS
#: how long after its last ban ended an address's bans still make the next one longer
BAN_MEMORY_MS = 24 * 60 * MINUTE_MS
#: the most ban records kept (the oldest ban is forgotten first)
MAX_BAN_RECORDS = 65_536


def _limit(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ValueError(f"{name} must be a positive int or None, not {value!r}")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Which counters refuse: ``weight`` per IP per minute, ``orders_10s`` and
    ``orders_1m`` per account; None: counted and reported, never refused.
    :meth:`binance` gives Binance's defaults.

    >>> RateLimits.binance().rate_limits()[0]
    {'rateLimitType': 'REQUEST_WEIGHT', 'interval': 'MINUTE', 'intervalNum': 1, 'limit': 2400}
    """

    weight: int | None = None
    orders_10s: int | None = None
    orders_1m: int | None = None

    def __post_init__(self) -> None:
        _limit("weight", self.weight)
        _limit("orders_10s", self.orders_10s)
        _limit("orders_1m", self.orders_1m)

    @classmethod
    def binance(cls, weight: int | None = None) -> RateLimits:
        """Binance's defaults: 2400 weight a minute per IP (or ``weight``), 300 orders per
        10 seconds and 1200 a minute per account."""
        return cls(2400 if weight is None else weight, 300, 1200)

    @classmethod
    def resolve(cls, weight_limit: int | None,
                rate_limits: RateLimits | None) -> RateLimits | None:
        """The limits of ``create_app(weight_limit=…, rate_limits=…)``: at most one given;
        ``weight_limit`` alone limits the weight only."""
        if weight_limit is not None and rate_limits is not None:
            raise ValueError("give weight_limit or rate_limits, not both")
        return rate_limits if weight_limit is None else cls(weight=weight_limit)

    def rate_limits(self) -> list[dict[str, object]]:
        """The limits set, as ``exchangeInfo``'s ``rateLimits`` lists them."""
        rows = [("REQUEST_WEIGHT", "MINUTE", 1, self.weight),
                ("ORDERS", "MINUTE", 1, self.orders_1m), ("ORDERS", "SECOND", 10, self.orders_10s)]
        return [{"rateLimitType": t, "interval": i, "intervalNum": n, "limit": limit}
                for t, i, n, limit in rows if limit is not None]


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of :meth:`Meter.charge`: the response's rate-limit headers, and the
    429 refusal (None when the request may run)."""

    headers: dict[str, str]
    refusal: ClientError | None


class Meter:
    """The request weight of each IP address, the orders of each account, and the bans
    of addresses (see the module docstring); ``limits`` None: nothing is refused."""

    __slots__ = ("limits", "_minute", "_ten", "_ips", "_accounts", "_bans")

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._minute = self._ten = -1  # the latest windows seen
        #: address -> [weight used, 429s answered], this minute
        self._ips: dict[str, list[int]] = {}
        #: account -> [ten-second window, orders in it, orders this minute]
        self._accounts: dict[str, list[int]] = {}
        #: address -> [ban ends (ms), bans remembered], the latest ban last
        self._bans: dict[str, list[int]] = {}

    def _roll(self, now_ms: int) -> None:
        """Open the windows ``now_ms`` falls in; at a new minute forget the last one's."""
        minute = now_ms // MINUTE_MS
        if minute > self._minute:
            self._minute = minute
            self._ips.clear()
            self._accounts.clear()
            forget = now_ms - BAN_MEMORY_MS
            for ip in [ip for ip, (until, _n) in self._bans.items() if until <= forget]:
                del self._bans[ip]
        self._ten = max(self._ten, now_ms // TEN_SECONDS_MS)

    def admit(self, ip: str, now_ms: int) -> ClientError | None:
        """Step 1, before anything else: the 418 refusal when ``ip`` is banned, or is
        banned now for its 429s this minute (a ban starts); else None.  Costs nothing.

        Runtime complexity: O(1) amortised (O(addresses) once a minute)."""
        self._roll(now_ms)
        ban = self._bans.get(ip)
        if ban is None or ban[0] <= now_ms:
            used = self._ips.get(ip)
            if used is None or used[1] < BAN_AFTER_429S:
                return None
            n = 1 if ban is None else ban[1] + 1
            ms = min(FIRST_BAN_MS << min(n - 1, 20), MAX_BAN_MS)
            self._bans.pop(ip, None)  # re-inserted last: the oldest ban goes first
            ban = self._bans[ip] = [now_ms + ms, n]
            used[1] = 0
            while len(self._bans) > MAX_BAN_RECORDS:
                del self._bans[next(iter(self._bans))]
        err = reject("IP_BANNED", ban[0], status=418)
        err.header = {"X-MBX-USED-WEIGHT-1M": str(self._used(ip)),
                      "Retry-After": str(-(-(ban[0] - now_ms) // 1000)), "Connection": "close"}
        return err

    def _used(self, ip: str) -> int:
        used = self._ips.get(ip)
        return 0 if used is None else used[0]

    def charge(self, ip: str, account: str | None, weight: int, orders: tuple[int, int],
               now_ms: int) -> Charge:
        """Count a request of ``weight`` against ``ip`` and its ``orders`` — ``(on the
        10-second counter, on the minute counter)`` — against ``account``, or refuse it
        429 (counting nothing but a strike against ``ip``).

        Runtime complexity: O(1) amortised."""
        ten_s, minute = orders
        self._roll(now_ms)
        used = self._ips.get(ip)
        if used is None:
            used = self._ips[ip] = [0, 0]
        headers = {"X-MBX-USED-WEIGHT-1M": str(used[0])}
        counts = None
        if (ten_s or minute) and account is not None:
            counts = self._accounts.get(account)
            if counts is None or counts[0] != self._ten:
                counts = self._accounts[account] = [self._ten, 0, 0 if counts is None
                                                    else counts[2]]
        limits, refusal = self.limits, None
        if limits.weight is not None and used[0] + weight > limits.weight:
            refusal = reject("TOO_MANY_REQUESTS", limits.weight, status=429)
            left = (self._minute + 1) * MINUTE_MS - now_ms
            headers["Retry-After"] = str(-(-left // 1000))
        elif counts is not None and limits.orders_1m is not None and (
                counts[2] + minute > limits.orders_1m):
            refusal = reject("TOO_MANY_ORDERS", limits.orders_1m, "1 MINUTE", status=429)
        elif counts is not None and limits.orders_10s is not None and (
                counts[1] + ten_s > limits.orders_10s):
            refusal = reject("TOO_MANY_ORDERS", limits.orders_10s, "10 SECOND", status=429)
        if refusal is not None:
            used[1] += 1
        else:
            used[0] += weight
            headers["X-MBX-USED-WEIGHT-1M"] = str(used[0])
            if counts is not None:
                counts[1] += ten_s
                counts[2] += minute
        if counts is not None:
            headers["X-MBX-ORDER-COUNT-10S"] = str(counts[1])
            headers["X-MBX-ORDER-COUNT-1M"] = str(counts[2])
        return Charge(headers, refusal)

    def charge_refused(self, ip: str, weight: int, now_ms: int) -> dict[str, str]:
        """Count a request refused before its endpoint ran (404, 401, a bad signature…):
        ``weight`` against ``ip`` when it fits the limit, never a 429; its headers."""
        self._roll(now_ms)
        used = self._ips.get(ip)
        if used is None:
            used = self._ips[ip] = [0, 0]
        if self.limits.weight is None or used[0] + weight <= self.limits.weight:
            used[0] += weight
        return {"X-MBX-USED-WEIGHT-1M": str(used[0])}

    def tracked(self) -> tuple[int, int, int]:
        """How many addresses, accounts and ban records the meter holds."""
        return len(self._ips), len(self._accounts), len(self._bans)

    def _check(self) -> None:
        """Counts are ≥ 0 and within their limits, no account's window is ahead of the
        latest, and every ban record counts a ban and fits the cap."""
        lim = self.limits
        for ip, (used, strikes) in self._ips.items():
            if not 0 <= used <= (used if lim.weight is None else lim.weight) or strikes < 0:
                raise InvariantError(f"{ip}: weight {used} or strikes {strikes} out of range")
        for name, (ten, in_ten, in_minute) in self._accounts.items():
            if (ten > self._ten or ten // 6 > self._minute or in_ten < 0 or in_minute < 0
                    or lim.orders_10s is not None and in_ten > lim.orders_10s
                    or lim.orders_1m is not None and in_minute > lim.orders_1m):
                raise InvariantError(f"{name}: order counts {in_ten}/{in_minute} out of range")
        if len(self._bans) > MAX_BAN_RECORDS or any(n < 1 for _u, n in self._bans.values()):
            raise InvariantError("ban records: too many, or one without a ban")
