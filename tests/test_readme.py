"""The README's "Use it from Python" runs as printed and names the whole public surface.

The other sections' Python blocks are run by the tests of their own subject:
"Point your bot at it" by ``test_readme_bots``, "Backtest in five minutes" by
``test_backtest_report``, "Fuzz your own cancel semantics" by
``test_fuzz_example``; the last test here checks that no block lives elsewhere.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import engine
from engine import Exchange
from engine.venue.client import Client

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
RUN_ELSEWHERE = {"Point your bot at it", "Backtest in five minutes",
                 "Fuzz your own cancel semantics"}


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"the README has no section {title!r}"
    return match.group(1)


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


USE = section("Use it from Python")


@pytest.mark.parametrize("n", range(len(python_blocks(USE))))
def test_the_use_it_from_python_block_runs_as_printed(n):
    exec(compile(python_blocks(USE)[n], f"README block {n}", "exec"), {})  # noqa: S102


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


def _named_in_code(name: str) -> bool:
    """``name`` opens a code span of the section, alone or after a dotted path
    (`` `ledger` ``, `` `restore(data)` ``, `` `Exchange.replay` ``)."""
    return any(re.match(rf"(\w+\.)*{re.escape(name)}\b", span)
               for span in re.findall(r"`([^`\n]+)`", USE))


@pytest.mark.parametrize("names", [
    pytest.param(_public(Exchange), id="Exchange"),
    pytest.param(_public(Client), id="Client"),
    pytest.param(set(engine.__all__), id="engine"),
    pytest.param(set(__import__("engine.backtest").backtest.__all__), id="engine.backtest"),
    pytest.param(set(__import__("engine.scenarios").scenarios.__all__), id="engine.scenarios"),
])
def test_use_it_from_python_names_every_public_name(names):
    missing = {name for name in names if not _named_in_code(name)}

    assert missing == set()


def test_exchange_has_only_the_operators_methods():
    commands = {"new_order", "cancel_order", "cancel_batch", "query_order", "get_orders",
                "account_info", "exchange_info", "new_algo_order", "change_leverage"}

    assert _public(Exchange) & commands == set()


def test_every_python_block_of_the_readme_is_run_by_a_test():
    sections = re.findall(r"^## (.+)\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    with_code = {title for title, body in sections if python_blocks(body)}

    assert with_code <= RUN_ELSEWHERE | {"Use it from Python"}
