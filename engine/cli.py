"""The ``fapisim`` command line.

``fapisim run FILE|DIR`` replays one scenario, or every ``*.toml`` of a
directory in name order, printing a transcript (see :mod:`engine.scenario`)
and a summary line.  Exit status: 0 when every expectation held; 1 when one
failed or a scenario is malformed; 2 when there is nothing to run (no such
path, an empty directory) or the command line is wrong.

``fapisim serve [--host H] [--port P] [--accounts FILE] [--weight-limit N]
[--mark SYMBOL=PRICE]`` serves a venue over the REST facade
(:mod:`engine.server`, needs the ``server`` extra) until SIGINT/SIGTERM, then
shuts down gracefully.  The accounts and their API keys are printed at start:
the demo accounts ``alice`` and ``bob`` (100000 USDT each, keys derived from the
names), or those of ``FILE``, a TOML file of ``[[account]]`` tables with
``name``, ``balance`` and optional ``api_key`` / ``api_secret``.  Exit status 2
on a bad command line or accounts file.

A ``backtest`` subcommand will join these as a further subparser.

>>> main(["run", "no/such/dir"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine import scenario
from engine.errors import ClientError

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
    serve = sub.add_parser(
        "serve",
        help="serve the venue over a Binance-style /fapi REST API",
        description="Serve a venue over HMAC-signed /fapi REST; Ctrl-C stops it gracefully.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    serve.add_argument("--accounts", metavar="FILE", help="TOML file of [[account]] tables")
    serve.add_argument(
        "--weight-limit", type=int, metavar="N",
        help="request weight per account per minute before 429 / -1003 (default: no limit)",
    )
    serve.add_argument(
        "--mark", action="append", default=[], metavar="SYMBOL=PRICE",
        help="set a mark price at start (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fapisim`` console script and ``python -m engine``."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.path)
    if args.command == "serve":
        return _serve(args)
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


DEMO_ACCOUNTS = (("alice", "100000"), ("bob", "100000"))


def load_accounts(path: str) -> list[dict[str, str]]:
    """The ``[[account]]`` tables of a TOML file: ``name``, ``balance`` and optional
    ``api_key`` / ``api_secret`` (strings).  Raises ``ValueError`` naming the problem."""
    import tomllib

    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{path}: {e}") from None
    tables = doc.get("account")
    if set(doc) != {"account"} or not isinstance(tables, list) or not tables:
        raise ValueError(f"{path}: expected one or more [[account]] tables and nothing else")
    keys = {"name", "balance", "api_key", "api_secret"}
    out = []
    for i, t in enumerate(tables, 1):
        if not isinstance(t, dict) or not {"name", "balance"} <= set(t) or set(t) - keys:
            raise ValueError(
                f"{path}: account {i}: needs name and balance; may have api_key, api_secret"
            )
        if not all(isinstance(v, str) for v in t.values()):
            raise ValueError(f"{path}: account {i}: values are strings (balance too)")
        out.append(t)
    return out


def _serve(args: argparse.Namespace) -> int:
    from engine.exchange import Exchange

    try:
        from engine import server
    except ImportError as e:
        print(f"fapisim: error: serve needs the server extra ({e.name} is missing): "
              "pip install 'fapisim[server]'", file=sys.stderr)
        return EXIT_NOTHING
    ex = Exchange()
    try:
        specs = load_accounts(args.accounts) if args.accounts else [
            {"name": n, "balance": b} for n, b in DEMO_ACCOUNTS
        ]
        for spec in specs:
            ex.create_account(
                spec["name"], spec["balance"], api_key=spec.get("api_key"),
                api_secret=spec.get("api_secret"),
            )
        for item in args.mark:
            symbol, _eq, price = item.partition("=")
            ex.set_mark_price(symbol, price)
        if args.weight_limit is not None and args.weight_limit < 1:
            raise ValueError("--weight-limit must be a positive number")
    except ValueError as e:
        print(f"fapisim: error: {e}", file=sys.stderr)
        return EXIT_NOTHING
    except ClientError as e:
        print(f"fapisim: error: --mark: {e.error_message}", file=sys.stderr)
        return EXIT_NOTHING

    def ready(url: str) -> None:
        print(f"fapisim serve: {url}/fapi  (Binance USDⓈ-M REST, HMAC-SHA256; Ctrl-C stops)")
        for a in ex.accounts:
            print(f"  account {a.name}  api_key {a.api_key}  api_secret {a.api_secret}")
        sys.stdout.flush()

    try:
        server.serve(ex, args.host, args.port, weight_limit=args.weight_limit, on_ready=ready)
    except OSError as e:
        print(f"fapisim: error: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return EXIT_NOTHING
    print("fapisim serve: stopped")
    return EXIT_OK
