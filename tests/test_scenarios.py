"""The bundled scenarios pass, and the scenario runner reports what it should."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import InvariantError, scenarios
from engine.cli import main
from engine.venue.exchange import Exchange

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLED = sorted(SCENARIO_DIR.glob("*.toml"))

ONE_ORDER = """\
[[account]]
name = "alice"
balance = "10000"

[[step]]
call = "new_order"
account = "alice"
save = { parent = "orderId" }
expect = { status = "NEW" }
check.alice = { availableBalance = "9985", totalOpenOrderInitialMargin = "15", open_orders = 1 }
[step.params]
symbol = "BTCUSDT"
side = "BUY"
type = "LIMIT"
timeInForce = "GTC"
quantity = "0.010"
price = "30000"
"""

CANCEL_TWICE = (
    ONE_ORDER
    + """
[[step]]
call = "cancel_order"
account = "alice"
params = { symbol = "BTCUSDT", orderId = "$parent" }
expect = { status = "CANCELED" }

[[step]]
call = "cancel_order"
account = "alice"
params = { symbol = "BTCUSDT", orderId = "$parent" }
error = { code = -2011, msg = "Unknown order sent." }
"""
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _docstring_example() -> str:
    doc = scenarios.runner.__doc__ or ""
    block = doc.split(".. code-block:: toml\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


# -- the bundled scenarios --------------------------------------------------------------------
@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_scenario_meets_every_expectation(path: Path) -> None:
    report = scenarios.run_file(path)

    assert report.ok, f"{path.name} failed:\n{report.transcript}"
    assert report.checks > 0


def test_the_stories_of_spec_4_and_5_are_all_bundled() -> None:
    names = {p.name for p in BUNDLED}

    assert len(names) >= 8
    assert {
        "cascade_cancel.toml",
        "margin_release_partial_fill.toml",
        "trigger_already_triggered.toml",
        "trigger_already_canceled.toml",
        "trigger_position_closed.toml",
        "trigger_not_owned.toml",
        "oco_sibling_canceled.toml",
        "expiry_on_manual_close.toml",
        "batch_cancel_mixed.toml",
    } <= names


def test_every_bundled_scenario_opens_with_a_story_comment() -> None:
    for path in BUNDLED:
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


def test_the_example_in_the_module_docstring_passes() -> None:
    report = scenarios.run(scenarios.loads(_docstring_example(), "docstring example"))

    assert report.ok, report.transcript
    assert report.checks >= 15


# -- the runner reports failures ----------------------------------------------------------------
def test_a_wrong_expected_figure_fails_the_run_with_nonzero_exit(tmp_path, capsys) -> None:
    path = _write(tmp_path, "wrong.toml", ONE_ORDER.replace('"9985"', '"9985.00000001"'))

    code = main(["run", str(path)])

    out = capsys.readouterr().out
    assert code == 1
    assert 'FAIL alice availableBalance = "9985.00000001": got "9985"' in out
    assert "1 scenario: 0 passed, 1 failed" in out


def test_a_value_of_the_wrong_wire_type_is_a_mismatch(tmp_path) -> None:
    path = _write(
        tmp_path,
        "types.toml",
        ONE_ORDER.replace(
            'expect = { status = "NEW" }', 'expect = { status = "NEW", orderId = "1" }'
        ),
    )

    report = scenarios.run_file(path)

    assert report.failures == ['orderId = "1": got 1']


def test_a_passing_scenario_exits_zero_and_prints_a_transcript(tmp_path, capsys) -> None:
    path = _write(tmp_path, "good.toml", CANCEL_TWICE)

    code = main(["run", str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "alice cancel_order symbol=BTCUSDT orderId=1  ->  CANCELED #1" in out
    assert "->  error -2011 Unknown order sent." in out
    assert "PASS state unchanged (state_hash equal)" in out
    assert out.rstrip().endswith("1 scenario: 1 passed, 0 failed, 0 malformed (8 checks)")


def test_an_expected_error_that_does_not_happen_is_a_failure(tmp_path) -> None:
    text = ONE_ORDER + textwrap.dedent("""
        [[step]]
        call = "cancel_order"
        account = "alice"
        params = { symbol = "BTCUSDT", orderId = "$parent" }
        error = { code = -2011 }
        """)

    report = scenarios.run(scenarios.loads(text))

    assert report.failures == ["error -2011: the call succeeded"]


def test_an_error_with_another_code_or_message_is_a_failure(tmp_path) -> None:
    text = CANCEL_TWICE.replace(
        'code = -2011, msg = "Unknown order sent."', 'code = -2091, msg = "Something else."'
    )

    report = scenarios.run(scenarios.loads(text))

    assert report.failures == [
        "error code = -2091: got -2011",
        'error msg = "Something else.": got "Unknown order sent."',
    ]


def test_an_unexpected_client_error_fails_and_stops_the_scenario() -> None:
    text = CANCEL_TWICE.replace(
        'error = { code = -2011, msg = "Unknown order sent." }', 'expect = { status = "CANCELED" }'
    )

    report = scenarios.run(scenarios.loads(text))

    assert report.failures == ["unexpected error -2011 'Unknown order sent.'"]
    assert report.lines[-1].endswith("scenario stopped")


def test_a_rejected_call_that_changes_the_state_hash_is_a_failure(monkeypatch) -> None:
    hashes = iter(f"{i:064x}" for i in range(100))
    monkeypatch.setattr(Exchange, "state_hash", lambda self: next(hashes))

    report = scenarios.run(scenarios.loads(CANCEL_TWICE))

    assert report.failures == ["state unchanged (state_hash equal)"]


def test_a_broken_invariant_fails_and_stops_the_scenario(monkeypatch) -> None:
    def broken(self: Exchange) -> None:
        raise InvariantError("frozen total drifted")

    monkeypatch.setattr(Exchange, "check_invariants", broken)

    report = scenarios.run(scenarios.loads(CANCEL_TWICE))

    assert report.failures == ["invariants broken after step 1: frozen total drifted"]
    assert sum(line.startswith("  ") and "->" in line for line in report.lines) == 1


def test_saving_a_field_the_response_lacks_stops_the_scenario() -> None:
    text = ONE_ORDER.replace(
        'save = { parent = "orderId" }', 'save = { parent = "triggerOrders[0].orderId" }'
    )

    report = scenarios.run(scenarios.loads(text))

    assert report.failures == ["cannot save 'parent': the response has no triggerOrders[0].orderId"]


def test_order_status_checks_accept_a_saved_name_or_a_literal_id() -> None:
    text = CANCEL_TWICE + '\ncheck.alice = { orders = { "$parent" = "CANCELED", "1" = "NEW" } }\n'

    report = scenarios.run(scenarios.loads(text))

    assert report.failures == ['alice order 1 status = "NEW": got "CANCELED"']


# -- malformed scenarios and empty folders ------------------------------------------------------
MALFORMED_RUNS = [
        ("[[account]\n", "bad.toml: invalid TOML"),
        (
            ONE_ORDER.replace('call = "new_order"', 'call = "no_such_call"'),
            "bad.toml: step 1: 'no_such_call' is not a client method",
        ),
        (
            ONE_ORDER.replace('account = "alice"\nsave', 'account = "bob"\nsave'),
            "bad.toml: step 1: 'account' must name a declared account, not 'bob'",
        ),
        (
            CANCEL_TWICE.replace('orderId = "$parent" }\nexpect', 'orderId = "$parnet" }\nexpect'),
            "bad.toml: step 2: 'parnet' is used before any earlier step saved it",
        ),
        (
            ONE_ORDER.replace('price = "30000"', "price = 30000.5"),
            'bad.toml: step 1: 30000.5 is a TOML float; write decimals as strings ("30000.5")',
        ),
        (
            ONE_ORDER
            + '\n[[step]]\nadvance = 5\nset_mark_price = { symbol = "BTCUSDT", price = "1" }\n',
            "bad.toml: step 2: needs exactly one of 'call', 'set_mark_price', 'advance'",
        ),
        (
            ONE_ORDER.replace('symbol = "BTCUSDT"\n', "").replace("new_order", "cancel_order"),
            "bad.toml: step 1: bad params for cancel_order: missing a required argument: 'symbol'",
        ),
        (
            ONE_ORDER.replace('expect = { status = "NEW" }', 'expect = { "status[" = "NEW" }'),
            "bad.toml: step 1: bad path 'status['",
        ),
        ('[[account]]\nname = "alice"\nbalance = "10000"\n', "bad.toml: no [[step]] tables"),
        (
            ONE_ORDER.replace('balance = "10000"', 'balance = "ten"'),
            "bad.toml: account 'alice': balance 'ten' is not a number",
        ),
    ]


@pytest.mark.parametrize(("text", "message"), MALFORMED_RUNS)
def test_a_malformed_scenario_is_an_error_naming_file_and_step(
    tmp_path, capsys, text: str, message: str
) -> None:
    path = _write(tmp_path, "bad.toml", text)

    code = main(["run", str(path)])

    out = capsys.readouterr().out
    assert code == 1
    assert f"ERROR malformed scenario: {path}{message.removeprefix('bad.toml')}" in out
    assert "1 scenario: 0 passed, 0 failed, 1 malformed" in out


def test_an_empty_directory_exits_nonzero(tmp_path, capsys) -> None:
    _write(tmp_path, "notes.txt", "not a scenario")

    code = main(["run", str(tmp_path)])

    assert code == 2
    assert "no scenarios (*.toml)" in capsys.readouterr().err


def test_a_missing_path_exits_nonzero(tmp_path, capsys) -> None:
    code = main(["run", str(tmp_path / "nowhere.toml")])

    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_a_directory_runs_every_scenario_in_name_order(tmp_path, capsys) -> None:
    _write(tmp_path, "b_second.toml", CANCEL_TWICE)
    _write(tmp_path, "a_first.toml", ONE_ORDER)
    _write(tmp_path, "c_broken.toml", "[[step]]\nadvance = -1\n")

    code = main(["run", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 1
    assert out.index("a_first.toml") < out.index("b_second.toml") < out.index("c_broken.toml")
    assert "3 scenarios: 2 passed, 0 failed, 1 malformed" in out


def test_run_needs_a_subcommand() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])

    assert exit_info.value.code == 2


def test_python_dash_m_engine_runs_the_command_line(tmp_path) -> None:
    path = _write(tmp_path, "good.toml", CANCEL_TWICE)

    done = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 scenario: 1 passed" in done.stdout


# -- every refusal of the scenario format ---------------------------------------------------------
ACCOUNT = '[[account]]\nname = "alice"\nbalance = "10000"\n'
STEP = "[[step]]\nadvance = 5\n"
CHECK = ACCOUNT + STEP + "check.alice = {}\n"

MALFORMED = [
    ("foo = 1\n" + ACCOUNT + STEP, "unknown top-level key 'foo' (expected [[account]], [[step]])"),
    ("step = 5\n", "'step' must be written as [[step]] tables"),
    (ACCOUNT + 'colour = "red"\n' + STEP, "account 1: unknown key 'colour'"),
    ('[[account]]\nbalance = "1"\n' + STEP, "account 1: 'name' must be a non-empty string"),
    (ACCOUNT + ACCOUNT + STEP, "account 2: account 'alice' declared twice"),
    ('[[account]]\nname = "alice"\nbalance = true\n' + STEP,
     "account 1: 'balance' must be a decimal string"),
    (ACCOUNT + 'position_mode = "both"\n' + STEP,
     "account 1: 'position_mode' must be \"one-way\" or \"hedge\", not 'both'"),
    (ACCOUNT + "leverage = 5\n" + STEP, "account 1: 'leverage' must be a table { SYMBOL = int }"),
    (ACCOUNT + STEP + "foo = 1\n", "step 1: unknown key 'foo'"),
    (ACCOUNT + STEP + 'account = "alice"\n',
     "step 1: 'account' and 'params' belong to a 'call', not 'advance'"),
    (ACCOUNT + "[[step]]\nadvance = -1\n",
     "step 1: 'advance' must be a non-negative int of milliseconds"),
    (ACCOUNT + '[[step]]\nset_mark_price = "1"\n',
     "step 1: 'set_mark_price' must be { symbol = ..., price = ... }"),
    (ACCOUNT + STEP + "error = 5\n", "step 1: 'error' must be { code = int, msg = \"...\" }"),
    (ACCOUNT + STEP + 'error = { code = "x" }\n',
     "step 1: 'error.code' must be an int, e.g. -2011"),
    (ACCOUNT + STEP + "error = { code = 1, msg = 5 }\n", "step 1: 'error.msg' must be a string"),
    (ACCOUNT + STEP + 'error = { code = 1 }\nexpect = { status = "NEW" }\n',
     "step 1: a step with 'error' cannot also have 'expect' or 'save'"),
    (ACCOUNT + STEP + 'save = { "1x" = "orderId" }\n',
     "step 1: save: '1x' must be a plain name mapped to a path string"),
    (ACCOUNT + STEP + "expect = 5\n", "step 1: 'expect' must be a table"),
    (ACCOUNT + STEP + "check.bob = {}\n", "step 1: check: 'bob' is not a declared account"),
    (ACCOUNT + STEP + "check.alice = 5\n", "step 1: check.alice must be a table"),
    (CHECK.replace("{}", "{ orders = { 1 = 2 } }"),
     "step 1: check.alice.orders must map to strings"),
    (CHECK.replace("{}", '{ open_orders = "1" }'),
     "step 1: check.alice.open_orders must be an int"),
    (CHECK.replace("{}", "{ walletBalance = [1] }"),
     "step 1: check.alice.walletBalance: account fields are compared as scalars"),
    (CHECK.replace("{}", '{ orders = { abc = "NEW" } }'),
     "step 1: check.alice.orders: key 'abc' is neither \"$name\" nor an id"),
    (CHECK.replace("{}", '{ positions = { "BTCUSDT:UP" = "0" } }'),
     "step 1: check.alice.positions: bad key 'BTCUSDT:UP' (SYMBOL[:LONG|SHORT])"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED, ids=[m for _t, m in MALFORMED])
def test_each_rule_of_the_scenario_format_refuses_with_its_own_message(text, message) -> None:
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.loads(text, "bad.toml")

    assert str(info.value) == f"bad.toml: {message}"


def test_a_scenario_file_that_is_not_text_is_refused_naming_it(tmp_path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00[[step]]")

    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load(path)

    assert str(info.value).startswith(f"{path}: cannot read: ")


def test_every_refusal_in_the_scenario_format_has_a_case(tmp_path) -> None:
    import ast
    import traceback

    source = Path(scenarios.format.__file__)
    sites = {n.lineno for n in ast.walk(ast.parse(source.read_text()))
             if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
             and ast.unparse(n.exc.func) in ("ScenarioError", "self.fail", "parser.fail")}
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff")
    (tmp_path / "empty").mkdir()
    # (the table of whole runs also holds a balance the parser accepts and the run refuses)
    attempts = [lambda t=t: scenarios.loads(t, "bad.toml")
                for t, _m in MALFORMED + MALFORMED_RUNS]
    attempts += [lambda: scenarios.load(binary),
                 lambda: scenarios.format.scenario_files(tmp_path / "missing"),
                 lambda: scenarios.format.scenario_files(tmp_path / "empty")]
    reached = set()
    for attempt in attempts:
        try:
            attempt()
        except scenarios.ScenarioError as e:
            reached.add(traceback.extract_tb(e.__traceback__)[-1].lineno)

    assert sorted(sites - reached) == []
