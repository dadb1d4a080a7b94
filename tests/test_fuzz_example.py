"""The README's "Fuzz your own cancel semantics" example, run exactly as printed.

``fuzz_example.py`` holds the example's code; importing its ``TestMyMachine``
here makes pytest run it.  Once the README carries the section, its code block
must be this file, character for character.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_example import MyMachine, TestMyMachine  # noqa: F401 - collected and run by pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = Path(__file__).with_name("fuzz_example.py")


def test_the_example_rule_and_invariant_run_on_a_fresh_machine():
    machine = MyMachine()
    machine.open_accounts()
    machine.open_protected("carol", "alice", "BTCUSDT", "BUY", 4, 1, 1, "MARK_PRICE")

    machine.cancel_all_twice("carol", "BTCUSDT")

    machine.open_rows_protect_a_live_parent()
    assert machine.clients["carol"].get_orders(symbol="BTCUSDT") == []
    machine.teardown()


def test_the_readme_section_shows_exactly_this_example():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Fuzz your own cancel semantics$(.*?)(?=^## |\Z)", readme,
                        re.S | re.M)
    if section is None:
        pytest.skip("the README has no 'Fuzz your own cancel semantics' section yet")
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)

    assert EXAMPLE.read_text() in blocks


def test_import_engine_does_not_import_hypothesis():
    code = "import sys, engine; engine.Exchange(); print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)

    assert out.stdout.strip() == "False"
