"""The venue's state and its rule objects check themselves (``check_invariants``)."""

from __future__ import annotations

import pytest

from engine import Exchange, InvariantError
from engine.venue.rule import Rule
from engine.venue.state import VenueState


@pytest.fixture
def ex() -> Exchange:
    ex = Exchange()
    ex.create_account("alice", balance="1000")
    ex.check_invariants()
    return ex


def test_a_rule_whose_room_was_replaced_is_caught(ex):
    ex._s.symbols = list(ex._s.symbols)  # the rules still hold the old list

    with pytest.raises(InvariantError, match="symbols is no longer the venue's"):
        ex.check_invariants()


def test_scratch_left_behind_by_a_command_is_caught(ex):
    ex._s.risk_names.add("alice")

    with pytest.raises(InvariantError, match="scratch"):
        ex.check_invariants()


def test_api_keys_that_disagree_with_the_accounts_are_caught(ex):
    ex._s.by_key["stolen"] = "alice"

    with pytest.raises(InvariantError, match="api keys"):
        ex.check_invariants()


def test_an_instrument_listed_without_a_market_is_caught(ex):
    inst = ex._s.instruments.pop("ETHUSDT")
    ex._s.instruments["ETHUSDX"] = inst

    with pytest.raises(InvariantError, match="symbols"):
        ex.check_invariants()


def test_a_rule_takes_its_room_from_the_state_and_refuses_other_peers():
    class Probe(Rule):
        PEERS = ("runner",)
        _ledger: object
        _runner: object

    s = VenueState(0)
    probe = Probe(s)

    assert probe._ledger is s.ledger
    with pytest.raises(TypeError, match="takes peers"):
        probe.bind(runner=1, risk=2)
    with pytest.raises(InvariantError, match="peer runner unbound"):
        probe._check()
    probe.bind(runner=object())
    probe._check()


def test_a_rule_may_not_take_a_scalar_of_the_state_as_room():
    with pytest.raises(TypeError, match="through self._s"):
        class Stale(Rule):  # noqa: F841 - the class statement itself is refused
            _now: int
