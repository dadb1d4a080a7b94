"""Invariant checks to call from any test, after any command.

* :func:`check_venue` — every SPEC 6 invariant (``Exchange.check_invariants``)
  plus value conservation to the last unit;
* :func:`refused_changes_nothing` — run a call that must be refused and prove
  it left ``state_hash()`` unchanged;
* :func:`check_replays` — a journaled venue's journal rebuilds it exactly.

None of them needs hypothesis.

>>> from engine import Exchange
>>> ex = Exchange(); _ = ex.create_account("alice", balance="100")
>>> check_venue(ex)
>>> refused_changes_nothing(ex, lambda: ex.client("alice").cancel_order(
...     symbol="BTCUSDT", orderId=7)).error_code
-2011
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.core.errors import ClientError, InvariantError

if TYPE_CHECKING:
    from engine.venue.exchange import Exchange


def value_e8(ex: Exchange) -> int:
    """Σ (wallet − position cost) over accounts, plus the fee account, in 10⁻⁸ USDT: what
    SPEC 6.3 says stays equal to Σ deposits (no command creates or destroys value)."""
    ledger = ex.ledger
    return ledger.fee_e8 + sum(
        a.wallet_e8 - sum(p.cost_e8 for p in a.positions.values())
        for a in ledger.accounts.values()
    )


def check_venue(ex: Exchange, deposits: int | None = None) -> None:
    """Every SPEC 6 invariant; with ``deposits`` (10⁻⁸ USDT), value conservation too.

    Raises :class:`~engine.core.errors.InvariantError`.  O(size of the venue).
    """
    ex.check_invariants()
    if deposits is not None:
        total = value_e8(ex)
        if total != deposits:
            raise InvariantError(f"value {total} e-8 USDT != deposits {deposits}")


def refused_changes_nothing(ex: Exchange, call: Callable[[], Any]) -> ClientError:
    """Run ``call``, which must raise :class:`~engine.ClientError`; return the error after
    checking that ``state_hash()`` did not move.  Raises ``AssertionError`` otherwise."""
    before = ex.state_hash()
    try:
        out = call()
    except ClientError as e:
        after = ex.state_hash()
        assert after == before, f"refused call ({e.error_code}) changed the venue"
        return e
    raise AssertionError(f"expected a refusal, got {out!r}")


def check_replays(ex: Exchange) -> None:
    """For a journaled venue: replaying its journal gives the same ``state_hash()``."""
    from engine.venue.exchange import Exchange

    journal = ex.journal
    assert journal is not None, "the venue has no journal"
    again = Exchange.replay(journal.path)
    assert again.state_hash() == ex.state_hash(), "journal replay diverged"
