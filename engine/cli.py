"""The ``fapisim`` command line.

``fapisim run FILE|DIR`` replays one scenario, or every ``*.toml`` of a
directory in name order, printing a transcript (see :mod:`engine.scenario`)
and a summary line.  Exit status: 0 when every expectation held; 1 when one
failed or a scenario is malformed; 2 when there is nothing to run (no such
path, an empty directory) or the command line is wrong.

Subcommands ``serve`` (the REST facade) and ``backtest`` will join ``run``
as further subparsers.

>>> main(["run", "no/such/dir"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine import scenario

EXIT_OK, EXIT_FAILED, EXIT_NOTHING = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fapisim",
        description="A deterministic simulator of a Binance-style USDⓈ-M futures venue.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="replay scenario files and check their expectations",
        description="Replay a scenario file, or every *.toml in a directory (by name).",
    )
    run.add_argument("path", metavar="FILE|DIR", help="a scenario file or a directory of them")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fapisim`` console script and ``python -m engine``."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.path)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse allows no other


def _run(path: str) -> int:
    try:
        files = scenario.scenario_files(path)
    except scenario.ScenarioError as e:
        print(f"fapisim: error: {e}", file=sys.stderr)
        return EXIT_NOTHING
    passed = failed = malformed = checks = 0
    for file in files:
        print(f"== {file}")
        try:
            report = scenario.run_file(file)
        except scenario.ScenarioError as e:
            print(f"    ERROR malformed scenario: {e}")
            malformed += 1
            continue
        print(report.transcript)
        checks += report.checks
        verdict = "ok" if report.ok else f"{len(report.failures)} FAILED"
        print(f"-- {file.name}: {report.checks} checks, {verdict}")
        if report.ok:
            passed += 1
        else:
            failed += 1
    total = len(files)
    summary = (
        f"{total} scenario{'s' if total != 1 else ''}: {passed} passed, "
        f"{failed} failed, {malformed} malformed ({checks} checks)"
    )
    print(summary)
    return EXIT_OK if passed == total else EXIT_FAILED
