"""Fixtures shared by the test modules.

A module defines its own ``ex`` (the venue it needs); these hand out the
in-process clients of its accounts.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def alice(ex):
    return ex.client("alice")


@pytest.fixture
def bob(ex):
    return ex.client("bob")


@pytest.fixture
def carol(ex):
    return ex.client("carol")


@pytest.fixture
def dave(ex):
    return ex.client("dave")
