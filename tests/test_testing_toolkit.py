"""The fuzz toolkit's own promises (``engine.testing``): what its strategies draw, what its
checks catch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from engine import ClientError, Exchange, InvariantError
from engine.testing import (
    ACCOUNTS,
    SYMBOLS,
    Call,
    check_venue,
    invalid_commands,
    refused_changes_nothing,
    valid_orders,
    value_e8,
)
from engine.testing.strategies import price_text

#: codes that say a request was malformed, as opposed to refused by the venue's state
FORMAT_CODES = {-1100, -1102, -1106, -1111, -1115, -1116, -1117, -1121, -1130, -4001, -4002,
                -4003, -4004, -4005, -4013, -4014, -4015, -4023, -4031, -5039}


def venue() -> Exchange:
    ex = Exchange()
    for name in ACCOUNTS:
        ex.create_account(name, balance="100000")
    for symbol in SYMBOLS:
        ex.set_mark_price(symbol, price_text(symbol, 0))
    return ex


@settings(max_examples=300, deadline=None)
@given(call=invalid_commands())
def test_an_invalid_command_is_refused_with_a_code_it_names_and_changes_nothing(call):
    ex = venue()

    refused = refused_changes_nothing(ex, lambda: _raise(call, ex))

    assert refused.error_code in call.expect
    assert eval(repr(call)) == call  # pastes back as Python


def _raise(call: Call, ex: Exchange) -> object:
    out = call(ex)
    if isinstance(out, ClientError):
        raise out
    return out


@settings(max_examples=300, deadline=None)
@given(call=valid_orders())
def test_a_valid_order_is_never_refused_as_malformed(call):
    ex = venue()

    out = call(ex)

    assert not (isinstance(out, ClientError) and out.error_code in FORMAT_CODES), (call, out)
    check_venue(ex, value_e8(ex))


def test_check_venue_reports_value_that_appeared_from_nowhere():
    ex = venue()
    deposits = value_e8(ex)
    check_venue(ex, deposits)

    with pytest.raises(InvariantError, match="value"):
        check_venue(ex, deposits - 1)


def test_refused_changes_nothing_fails_on_a_call_that_succeeds():
    ex = venue()

    with pytest.raises(AssertionError, match="expected a refusal"):
        refused_changes_nothing(ex, lambda: ex.set_mark_price("BTCUSDT", "30001"))
