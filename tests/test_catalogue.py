"""The catalogue of bad inputs (``tests/catalogue.py``) through the in-process client.

Every case runs on a freshly prepared venue and must be refused with exactly its
Binance status, code and message — a Python exception escaping instead is a bug
— and leave ``state_hash()`` as it was.  Batch cancels whose every item fails
answer their items and change nothing either.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from catalogue import CASES, ENDPOINTS, Id, build_venue

from engine import ClientError
from engine.venue.client import Client


def canonical(value: Any) -> Any:
    """A comparable stand-in for a parameter value (ints are never turned into text)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple, set, frozenset)):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    return (type(value).__name__, repr(value))


def request_key(case) -> tuple:
    sent = sorted((k, canonical(v)) for k, v in case.params.items() if v is not None)
    return case.method, case.caller, tuple(sent)


# -- the catalogue itself ------------------------------------------------------------------------


def test_catalogue_holds_at_least_150_distinct_requests():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({request_key(c) for c in CASES}) == len(CASES)


def test_catalogue_covers_every_client_method_that_takes_parameters():
    takes_parameters = {
        name for name, fn in inspect.getmembers(Client, inspect.isfunction)
        if not name.startswith("_") and any(
            p.kind is not p.VAR_KEYWORD for p in list(inspect.signature(fn).parameters.values())[1:]
        )
    }
    reads_keywords = {"get_orders", "get_income_history", "get_position_risk"}
    covered = {c.method for c in CASES} | {f"{m}_quiet" for m in QUIET}  # run below
    assert takes_parameters | reads_keywords <= covered
    assert {c.method for c in CASES} == set(ENDPOINTS)


def test_new_order_has_by_far_the_most_cases():
    counts = {m: sum(c.method == m for c in CASES) for m in ENDPOINTS}
    others = max(n for m, n in counts.items() if m != "new_order")
    assert counts["new_order"] > 2 * others


def test_catalogue_has_in_process_only_cases_and_a_wire_form_for_the_rest():
    in_process = [c for c in CASES if not c.wire]
    assert in_process and len(in_process) < len(CASES)
    for case in CASES:
        if case.wire:
            verb, path, params = case.http()
            assert (verb, path) == ENDPOINTS[case.method][:2]
            assert all(isinstance(v, str) for v in params.values())
        else:
            with pytest.raises(ValueError):
                case.http()


def test_prepared_venue_holds_trigger_rows_in_every_state():
    ex = build_venue()
    state = {i: ex._index.by_id[i].state for i in (
        Id.PENDING_TP, Id.ARMED_TP, Id.ARMED_SL, Id.STANDALONE_STOP, Id.TRIGGERED_SL,
        Id.OCO_CANCELED_TP, Id.DIRECT_CANCELED_SL, Id.CASCADE_CANCELED_TP, Id.EXPIRED_TP,
        Id.BOB_TP,
    )}
    assert state == {
        Id.PENDING_TP: "PENDING", Id.ARMED_TP: "ARMED", Id.ARMED_SL: "ARMED",
        Id.STANDALONE_STOP: "ARMED", Id.TRIGGERED_SL: "TRIGGERED",
        Id.OCO_CANCELED_TP: "CANCELED", Id.DIRECT_CANCELED_SL: "CANCELED",
        Id.CASCADE_CANCELED_TP: "CANCELED", Id.EXPIRED_TP: "EXPIRED", Id.BOB_TP: "PENDING",
    }
    alice = ex.client("alice")
    statuses = {i: alice.query_order(symbol=s, orderId=i)["status"] for s, i in (
        ("BTCUSDT", Id.FILLED_PARENT), ("BTCUSDT", Id.PARTIAL_PARENT),
        ("BTCUSDT", Id.OPEN_PARENT), ("BTCUSDT", Id.CANCELED_PARENT),
        ("ETHUSDT", Id.EXPIRED_MARKET),
    )}
    assert statuses == {
        Id.FILLED_PARENT: "FILLED", Id.PARTIAL_PARENT: "PARTIALLY_FILLED",
        Id.OPEN_PARENT: "NEW", Id.CANCELED_PARENT: "CANCELED", Id.EXPIRED_MARKET: "EXPIRED",
    }
    positions = {n: ex.client(n).get_position_risk(symbol="BTCUSDT")[0]["positionAmt"]
                 for n in ("alice", "bob", "carol")}
    assert positions == {"alice": "0.01", "bob": "-0.03", "carol": "0.02"}
    assert ex.client("hedger").get_position_mode() == {"dualSidePosition": True}
    ex.check_invariants()


def test_prepared_venue_is_the_same_every_time():
    assert build_venue().state_hash() == build_venue().state_hash()


# -- every case ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_request_is_refused_exactly_and_changes_nothing(case):
    # Arrange
    ex = build_venue()
    client = ex.client(case.caller)
    before = ex.state_hash()

    # Act
    try:
        result = case.call(client)
    except ClientError as e:
        answer: Any = (e.status_code, e.error_code, e.error_message)
    except Exception as e:  # a Python exception escaping is a bug, not a Binance answer
        pytest.fail(f"{type(e).__name__} escaped instead of a Binance error: {str(e)[:200]}")
    else:
        answer = (200, result)

    # Assert
    if case.items is None:
        assert answer == (case.status, case.code, case.msg)
    else:
        assert answer == (200, case.expected_items())
    assert ex.state_hash() == before
    ex.check_invariants()


#: the quiet variants (no response dict) answer every case of their documented method
QUIET = ("new_order", "cancel_order")
QUIET_CASES = [c for c in CASES if c.method in QUIET]


@pytest.mark.parametrize("case", QUIET_CASES, ids=[c.id for c in QUIET_CASES])
def test_the_quiet_variant_refuses_the_same_way_and_changes_nothing(case):
    ex = build_venue()
    client = ex.client(case.caller)
    before = ex.state_hash()

    with pytest.raises(ClientError) as e:
        getattr(client, f"{case.method}_quiet")(**case.params)

    assert (e.value.status_code, e.value.error_code, e.value.error_message) == (
        case.status, case.code, case.msg)
    assert ex.state_hash() == before
