"""API keys at the server's edge: which hosts are loopback, and keys nobody can derive.

Accounts created without keys get keys *derived from their names*
(:func:`engine.venue.state.derive_key`) so tutorials and tests are
reproducible — anyone who knows an account's name knows its keys.  That is
fine on a loopback address, where only this machine's users can connect, and
nowhere else: :func:`is_loopback` tells the two apart, and ``fapisim serve``
refuses a non-loopback ``--host`` unless every account's keys were given
(``--accounts FILE``) or generated here (``--random-keys``).

This module is part of the edge: it draws randomness from :mod:`secrets`.
"""

from __future__ import annotations

import ipaddress
import secrets

__all__ = ["is_loopback", "random_key"]


def is_loopback(host: str) -> bool:
    """True when ``host`` binds loopback only: ``localhost`` or a loopback address
    (``127.0.0.0/8``, ``::1``).  ``0.0.0.0``, ``::``, other addresses and host names
    are not.

    >>> [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::", "10.0.0.5")]
    [True, True, True, False, False, False]
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def random_key() -> str:
    """A new API key or secret: 64 hex digits from the operating system's CSPRNG."""
    return secrets.token_hex(32)
