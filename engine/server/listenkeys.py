"""User-data stream keys (``/fapi/v1/listenKey``), as Binance hands them out.

One key per account: ``POST`` creates it, or returns the active one and
extends it; ``PUT`` extends the active one (Binance's USDⓈ-M endpoints take no
parameter: the key is found from the API key; a ``listenKey`` parameter, which
some clients send, must then name it); ``DELETE`` closes it.  A key lives
:data:`VALIDITY_MS` (60 minutes) of *venue* time after its last ``POST`` or
``PUT``, so a lockstep venue (``--speed 0``) expires keys only when its clock
is moved; the stream hub (:mod:`~engine.server.hub`) then sends
``listenKeyExpired`` on each connection reading it and closes those.  A
``PUT`` or ``DELETE`` for an account without an active key is refused with
-1125.

Keys are 64 hex digits, HMAC-SHA256 of a counter under the account's API
secret: unguessable without the secret, deterministic (no random number), and
a new one after each expiry or close.  Keys are the server's, not the venue's:
they are not journaled or snapshotted, and a restart forgets them (clients
re-``POST``, as after any reconnect).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.errors import InvariantError, reject

if TYPE_CHECKING:
    from engine.server.hub import Hub

__all__ = ["VALIDITY_MS", "ListenKey", "ListenKeys", "listen_key_routes"]

#: a key's life after its last POST or PUT, in venue milliseconds
VALIDITY_MS = 60 * 60_000


@dataclass(slots=True)
class ListenKey:
    key: str
    account: str
    expires: int


class ListenKeys:
    """The active keys, by key and by account."""

    __slots__ = ("by_key", "by_account", "_made")

    def __init__(self) -> None:
        self.by_key: dict[str, ListenKey] = {}
        self.by_account: dict[str, ListenKey] = {}
        #: keys made per account so far (the counter each new key is derived from)
        self._made: dict[str, int] = {}

    def create(self, account: str, secret: str, now: int) -> str:
        """``POST``: the account's active key, extended, or a new one."""
        lk = self.by_account.get(account)
        if lk is None:
            n = self._made.get(account, 0) + 1
            self._made[account] = n
            key = hmac.new(secret.encode(), f"listenKey/{n}".encode(),
                           hashlib.sha256).hexdigest()
            lk = ListenKey(key, account, now + VALIDITY_MS)
            self.by_key[key] = lk
            self.by_account[account] = lk
        else:
            lk.expires = now + VALIDITY_MS
        return lk.key

    def _active(self, account: str, key: str | None) -> ListenKey:
        lk = self.by_account.get(account)
        if lk is None or (key is not None and key != lk.key):
            raise reject("INVALID_LISTEN_KEY")
        return lk

    def keepalive(self, account: str, key: str | None, now: int) -> str:
        """``PUT``: extend the active key (-1125 if none, or ``key`` is not it)."""
        lk = self._active(account, key)
        lk.expires = now + VALIDITY_MS
        return lk.key

    def close(self, account: str, key: str | None) -> str:
        """``DELETE``: close the active key (-1125 if none); the key closed."""
        lk = self._active(account, key)
        self._drop(lk)
        return lk.key

    def account_of(self, key: str) -> str | None:
        """The account an active key belongs to, or None."""
        lk = self.by_key.get(key)
        return None if lk is None else lk.account

    def expire(self, now: int) -> list[ListenKey]:
        """Forget the keys whose time is up at ``now``; those keys, by key."""
        gone = sorted((lk for lk in self.by_key.values() if lk.expires <= now),
                      key=lambda lk: lk.key)
        for lk in gone:
            self._drop(lk)
        return gone

    def _drop(self, lk: ListenKey) -> None:
        del self.by_key[lk.key]
        del self.by_account[lk.account]

    def _check(self) -> None:
        """The two indexes hold the same keys."""
        if {lk.key for lk in self.by_account.values()} != set(self.by_key) or any(
            self.by_account.get(lk.account) is not lk for lk in self.by_key.values()
        ):
            raise InvariantError("listen keys: the indexes by key and by account disagree")


def listen_key_routes(hub: Hub) -> dict[str, Any]:
    """``/fapi/v1/listenKey``: POST, PUT, DELETE over ``hub``'s keys (the API key only,
    no signature: Binance's USER_STREAM); closing a key closes the connections reading it."""
    from engine.server.routes import Endpoint

    keys = hub.keys

    def post(ex: Any, acct: Any, p: Any) -> dict[str, str]:
        secret = ex.account(acct.name).api_secret
        return {"listenKey": keys.create(acct.name, secret, ex.now)}

    def put(ex: Any, acct: Any, p: Any) -> dict[str, str]:
        return {"listenKey": keys.keepalive(acct.name, p.get("listenKey"), ex.now)}

    def delete(ex: Any, acct: Any, p: Any) -> dict[str, str]:
        key = keys.close(acct.name, p.get("listenKey"))
        for conn in list(hub.by_key.get(key, {})):
            conn.close(1000, "listenKey closed")
        return {}

    def endpoint(fn: Callable[..., Any]) -> Endpoint:
        return Endpoint(fn, False, 1, keyed=True)

    return {"/fapi/v1/listenKey": {"POST": endpoint(post), "PUT": endpoint(put),
                                   "DELETE": endpoint(delete)}}
