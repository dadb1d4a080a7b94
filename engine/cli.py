"""The ``fapisim`` command line.

``fapisim run FILE|DIR`` replays one scenario, or every ``*.toml`` of a
directory in name order, printing a transcript (see :mod:`engine.scenarios.runner`)
and a summary line.  Exit status: 0 when every expectation held; 1 when one
failed or a scenario is malformed; 2 when there is nothing to run (no such
path, an empty directory) or the command line is wrong.

``fapisim serve [--host H] [--port P] [--accounts FILE] [--random-keys]
[--weight-limit N | --no-limits] [--algo-only] [--mark SYMBOL=PRICE] [--header-timeout S]
[--body-timeout S] [--keep-alive S] [--max-connections N]`` serves a venue over the REST facade
(:mod:`engine.server`, needs the ``server`` extra) until SIGINT/SIGTERM, then
shuts down gracefully.  The accounts and their API keys are printed at start:
the demo accounts ``alice`` and ``bob`` (100000 USDT each), or those of
``FILE``, a TOML file of ``[[account]]`` tables with ``name``, ``balance`` and
optional ``api_key`` / ``api_secret``.  An account without keys gets keys
derived from its name — public knowledge — unless ``--random-keys`` generates
fresh ones (printed once, here).  So on a ``--host`` that is not loopback
(``0.0.0.0``, a LAN address) ``serve`` refuses to start while any account has
derived keys.  The transport options are :class:`engine.server.Limits`.  Exit
status 2 on a bad command line or accounts file, or derived keys on a
non-loopback host.  Binance's rate limits are on (:class:`engine.server.RateLimits`:
2400 request weight a minute per IP, or ``--weight-limit N``; 300 orders per 10 s
and 1200 a minute per account; IP bans): ``--no-limits`` turns them all off.
``--algo-only`` refuses conditional types on ``POST /fapi/v1/order`` and
``batchOrders`` with -4120, as Binance has since 2025-12-09 (default: accepted, SPEC 2.3).

``fapisim sample-data DIR [--days N] [--seed S] [--symbols SYM...] [--start DAY]
[--trades-per-day N] [--header alternate|all|none] [--check]`` writes seeded
synthetic market-data files in data.binance.vision's layout
(:mod:`engine.backtest.sample`, needs the ``backtest`` extra); ``--check`` reads them
back.  Exit status 2 on a bad argument.

``fapisim backtest DATA... --strategy MODULE:CLASS [options]`` replays
Binance market-data files (or directories of them) through a strategy
(:func:`engine.backtest.run`, needs the ``backtest`` extra) and prints the
report's summary (``--json``: the whole report as JSON); ``--out DIR`` writes
``report.json`` and, with the ``plot`` extra, ``equity.png``.  Exit status 2
on a bad command line, unreadable data (the file, line and reason are
printed) or a strategy that cannot be loaded.

>>> main(["run", "no/such/dir"])
2
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from engine import scenarios
from engine.core.errors import ClientError

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
    limiting = serve.add_mutually_exclusive_group()
    limiting.add_argument(
        "--weight-limit", type=int, metavar="N",
        help="request weight per IP address per minute before 429 / -1003 (default 2400)",
    )
    limiting.add_argument(
        "--no-limits", action="store_true",
        help="no rate limits: Binance's request weight per IP (2400/min), orders per "
             "account (300/10 s, 1200/min) and IP bans are all off",
    )
    serve.add_argument(
        "--algo-only", action="store_true",
        help="as Binance since 2025-12-09: conditional order types on POST /fapi/v1/order "
             "and batchOrders are refused -4120 (use /fapi/v1/algoOrder)",
    )
    serve.add_argument(
        "--mark", action="append", default=[], metavar="SYMBOL=PRICE",
        help="set a mark price at start (repeatable; with --no-market)",
    )
    serve.add_argument(
        "--no-market", action="store_true",
        help="serve an empty venue: no synthetic market, no market-data endpoints",
    )
    serve.add_argument(
        "--replay", nargs="+", metavar="DATA",
        help="serve Binance public-data files (aggTrades or trades, bookTicker, "
             "markPriceKlines, fundingRate; csv or zip; directories searched) as the market, "
             "rebased to now, instead of the synthetic one",
    )
    serve.add_argument(
        "--start", metavar="TIME",
        help="with --replay: the point in the data served as now (YYYY-MM-DD, "
             "YYYY-MM-DDTHH:MM[:SS] UTC, or epoch ms; default: the data's start plus the "
             "warmup, at most its middle)",
    )
    serve.add_argument(
        "--warmup", metavar="DURATION",
        help="with --replay: how much data before the start is served as history "
             "(e.g. 500h, 3d, 90m; default 500h)",
    )
    serve.add_argument(
        "--fill", choices=["through", "touch"], default="through",
        help="a resting order fills when a print goes through its price (default) or "
             "touches it, as in fapisim backtest",
    )
    serve.add_argument(
        "--queue", action="store_true",
        help="a resting order waits behind the volume quoted ahead of it (as in backtest)",
    )
    serve.add_argument(
        "--symbols", default=None, metavar="SYM[,SYM...]",
        help="perpetuals to list, from a dated table of twelve real contracts with Binance's "
             "filters and brackets: BTCUSDT ETHUSDT BNBUSDT SOLUSDT XRPUSDT DOGEUSDT ADAUSDT "
             "AVAXUSDT LINKUSDT LTCUSDT DOTUSDT TRXUSDT (default BTCUSDT,ETHUSDT; a --replay "
             "lists its data's symbols)",
    )
    serve.add_argument("--seed", type=int, default=7,
                       help="the synthetic market's seed (default 7)")
    serve.add_argument("--history", type=int, default=500 * 60, metavar="MINUTES",
                       help="minutes of candles before now (default 30000: 500 hours)")
    serve.add_argument("--trades-per-day", type=int, default=86_400, metavar="N",
                       help="prints per symbol per day, on average (default 86400)")
    serve.add_argument(
        "--random-keys", action="store_true",
        help="give accounts without keys random ones (printed once) instead of keys "
             "derived from their names; needed on a non-loopback --host",
    )
    for flag, default, what in (
        ("--header-timeout", 10, "seconds to receive a request's headers"),
        ("--body-timeout", 10, "seconds to receive its body after the headers"),
        ("--keep-alive", 5, "seconds an idle connection is kept open"),
    ):
        serve.add_argument(flag, type=int, default=default, metavar="S",
                           help=f"{what} (default {default})")
    serve.add_argument(
        "--state", metavar="DIR",
        help="keep the venue in DIR (journal, snapshots) and resume it from there at the "
             "next start; one server per DIR (default: in memory only, gone at exit)",
    )
    serve.add_argument(
        "--speed", default="1", metavar="X",
        help="venue time per wall time: 1 (default) is wall time, 10 runs ten times as "
             "fast, 0 is lockstep (the clock moves only by POST /fapisim/v1/advance)",
    )
    serve.add_argument(
        "--admin-token", metavar="TOKEN", default=os.environ.get("FAPISIM_ADMIN_TOKEN"),
        help="open the operator's endpoints /fapisim/v1/... to 'Authorization: Bearer "
             "TOKEN' (at least 16 characters; default $FAPISIM_ADMIN_TOKEN; unset: closed)",
    )
    serve.add_argument(
        "--max-connections", type=int, metavar="N",
        help="open connections at most; past it the oldest idle or half-open one is closed "
             "(default: the file-descriptor limit minus a reserve)",
    )
    _backtest_parser(sub)
    _sample_parser(sub)
    return parser


def _sample_parser(sub: argparse._SubParsersAction) -> None:
    sd = sub.add_parser(
        "sample-data",
        help="write seeded sample market-data files in Binance's layout and formats",
        description="Write synthetic Binance USDⓈ-M market-data files (aggTrades, "
                    "bookTicker, 1m klines, markPriceKlines, fundingRate) under DIR, in "
                    "data.binance.vision's layout: a market whose volatility clusters and "
                    "jumps, the same files for the same seed.",
    )
    sd.add_argument("outdir", metavar="DIR", help="where the futures/um/... tree goes")
    sd.add_argument("--days", type=int, default=2, help="days of data (default 2)")
    sd.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sd.add_argument("--symbols", nargs="+", default=["BTCUSDT"], metavar="SYMBOL",
                    help="BTCUSDT and/or ETHUSDT (default BTCUSDT)")
    sd.add_argument("--start", default="2024-01-01", metavar="YYYY-MM-DD",
                    help="the first day (default 2024-01-01)")
    sd.add_argument("--trades-per-day", type=int, default=100_000, metavar="N",
                    help="prints per day on average (default 100000; more when volatile)")
    sd.add_argument("--header", choices=["alternate", "all", "none"], default="alternate",
                    help="header rows on aggTrades files (default: every other day)")
    sd.add_argument("--check", action="store_true",
                    help="read the files back with the backtester's loader and say what it read")


def _backtest_parser(sub: argparse._SubParsersAction) -> None:
    bt = sub.add_parser(
        "backtest",
        help="replay Binance market data through a strategy and report",
        description="Replay Binance USDⓈ-M market-data files (aggTrades or trades, "
        "bookTicker, markPriceKlines, fundingRate; .csv or .zip; files or directories) "
        "through a strategy, then report trades, PnL, fees, funding, liquidations and "
        "drawdown.",
    )
    bt.add_argument("data", nargs="+", metavar="DATA", help="data files or directories")
    bt.add_argument("--strategy", required=True, metavar="MODULE:CLASS",
                    help="the strategy class (or FILE.py:CLASS)")
    bt.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a strategy parameter (repeatable; passed as strings)")
    bt.add_argument("--symbols", metavar="SYM[,SYM]", help="symbols to replay (default: all)")
    bt.add_argument("--balance", default="10000", help="starting USDT balance (default 10000)")
    bt.add_argument("--maker-fee", metavar="RATE", help="maker fee rate (default 0.0002)")
    bt.add_argument("--taker-fee", metavar="RATE", help="taker fee rate (default 0.0005)")
    bt.add_argument("--leverage", type=int, default=20, help="leverage per symbol (default 20)")
    bt.add_argument("--fill", choices=["through", "touch"], default="through",
                    help="resting orders fill when prints go through (default) or touch")
    bt.add_argument("--queue", action="store_true",
                    help="queue model: wait behind the quoted size at the same price")
    bt.add_argument("--slippage-ticks", type=int, default=0, metavar="N",
                    help="market orders without quotes fill N ticks off the last trade")
    bt.add_argument("--funding-rate", metavar="RATE",
                    help="a constant funding rate instead of fundingRate files")
    bt.add_argument("--funding-interval", default="8h", metavar="INTERVAL",
                    help="funding interval with --funding-rate (default 8h)")
    bt.add_argument("--equity-interval", default="1m", metavar="INTERVAL",
                    help="equity curve sampling interval (default 1m)")
    bt.add_argument("--account", default="strategy", help="account name (default strategy)")
    bt.add_argument("--out", metavar="DIR", help="write report.json (and equity.png) here")
    bt.add_argument("--json", action="store_true", help="print the whole report as JSON")
    bt.add_argument("--no-plot", action="store_true", help="do not draw equity.png")
    bt.add_argument("--step", action="store_true",
                    help="step every event (no skipping ahead; same report, slower)")
    bar = bt.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show the progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show it (default: on long replays, on a terminal)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fapisim`` console script and ``python -m engine``."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.path)
    if args.command == "serve":
        return _serve(args)
    if args.command == "backtest":
        return _backtest(args)
    if args.command == "sample-data":
        return _sample_data(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse allows no other


def _run(path: str) -> int:
    try:
        files = scenarios.scenario_files(path)
    except scenarios.ScenarioError as e:
        print(f"fapisim: error: {e}", file=sys.stderr)
        return EXIT_NOTHING
    passed = failed = malformed = checks = 0
    for file in files:
        print(f"== {file}")
        try:
            report = scenarios.run_file(file)
        except scenarios.ScenarioError as e:
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


def _missing_extra(command: str, extra: str, e: ImportError) -> int:
    """Say which optional extra ``command`` needs (``e`` names the missing module); exit 2."""
    print(f"fapisim: error: {command} needs the {extra} extra ({e.name} is missing): "
          f"pip install 'fapisim[{extra}]'", file=sys.stderr)
    return EXIT_NOTHING


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
    try:
        from engine import server
    except ImportError as e:
        return _missing_extra("serve", "server", e)
    from engine.server.admin import check_token
    from engine.server.clock import VenueClock, parse_speed, wall_ms
    from engine.server.keys import is_loopback
    from engine.server.state import StateDir, StateError
    from engine.venue.state import derive_key

    state = None
    try:
        speed = parse_speed(args.speed)
        if args.admin_token is not None:
            check_token(args.admin_token)
        limits = server.Limits(args.header_timeout, args.body_timeout, args.keep_alive,
                               args.max_connections)
        if args.mark and not args.no_market:
            raise ValueError("--mark sets the mark of an empty venue: add --no-market "
                             "(the synthetic market moves the mark itself)")
        if args.weight_limit is not None and args.weight_limit < 1:
            raise ValueError("--weight-limit must be a positive number")
        if args.history < 0 or args.trades_per_day < 1:
            raise ValueError("--history must be ≥ 0 and --trades-per-day ≥ 1")
        specs = load_accounts(args.accounts) if args.accounts else [
            {"name": n, "balance": b} for n, b in DEMO_ACCOUNTS
        ]
        if not is_loopback(args.host) and not args.random_keys:
            _refuse_derived(args.host, [s["name"] for s in specs
                                        if not ("api_key" in s and "api_secret" in s)])
        if args.state:
            state = StateDir(args.state)
        if state is not None and not state.fresh:
            ex, market = state.resume()
            _add_accounts(ex, [s for s in specs if s["name"] not in
                               {a.name for a in ex.accounts}], args.random_keys)
            resumed = f"resumed {state.path} at journal line {ex.journal.seq}"  # type: ignore[union-attr]
        else:
            files = _replay_files(args)
            ex = _new_venue(args, specs, state, server, files)
            try:
                market = _new_market(args, ex, files, server)
            except Exception:
                if state is not None:  # no half-made venue is left to resume
                    ex.close_journal()
                    state.journal.unlink()
                raise
            resumed = "" if state is None else f"new venue in {state.path}"
        if not is_loopback(args.host):  # a resumed venue's accounts have their keys
            _refuse_derived(args.host, [a.name for a in ex.accounts
                                        if a.api_key == derive_key("key", a.name)])
        # at speed 1 the venue clock is the wall clock; at another it runs from where
        # the venue is: now for a new venue, its last time for a resumed one
        venue_clock = VenueClock(speed, start=None if speed == 1000 else (
            ex.now if resumed.startswith("resumed") else max(ex.now, wall_ms())))
    except (ValueError, StateError) as e:
        if state is not None:
            state.close()
        print(f"fapisim: error: {e}", file=sys.stderr)
        return EXIT_NOTHING
    except ClientError as e:
        if state is not None:
            state.close()
        print(f"fapisim: error: --mark: {e.error_message}", file=sys.stderr)
        return EXIT_NOTHING

    def ready(url: str) -> None:
        print(f"fapisim serve: {url}/fapi  (Binance USDⓈ-M REST, HMAC-SHA256; Ctrl-C stops)")
        for a in ex.accounts:
            print(f"  account {a.name}  api_key {a.api_key}  api_secret {a.api_secret}")
        print(f"  state: {resumed}" if resumed else
              "  state: in memory only (--state DIR keeps it across restarts)")
        if speed != 1000:
            print(f"  speed: {venue_clock.speed()}" + (
                " (lockstep: POST /fapisim/v1/advance moves the clock)" if speed == 0 else ""))
        if args.admin_token is not None:
            print(f"  operator: {url}/fapisim/v1/status  (Authorization: Bearer <admin token>)")
        sys.stdout.flush()

    try:
        rate_limits = None if args.no_limits else server.RateLimits.binance(args.weight_limit)
        server.serve(ex, args.host, args.port, on_ready=ready, rate_limits=rate_limits,
                     limits=limits, market=market, venue_clock=venue_clock, state=state,
                     admin_token=args.admin_token, algo_only=args.algo_only)
    except (OSError, ValueError) as e:
        print(f"fapisim: error: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return EXIT_NOTHING
    finally:
        if state is not None:
            state.close()
    print("fapisim serve: stopped")
    return EXIT_OK


def _refuse_derived(host: str, derived: list[str]) -> None:

    if derived:
        raise ValueError(
            f"--host {host} is not a loopback address, and the keys of "
            f"{', '.join(derived)} would be derived from the account names, which anyone "
            "can do: give every account its own api_key and api_secret with --accounts "
            "FILE, or pass --random-keys to generate keys (printed once, at start)"
        )


def _replay_files(args: argparse.Namespace) -> list[Any] | None:
    """The data files of ``--replay`` (None without it), the options checked."""
    if args.replay is None:
        for flag in ("start", "warmup"):
            if getattr(args, flag) is not None:
                raise ValueError(f"--{flag} goes with --replay DATA")
        return None
    if args.no_market:
        raise ValueError("--replay serves a market; --no-market serves none: choose one")
    if args.symbols is not None:
        raise ValueError("--replay lists the symbols its data carries; drop --symbols")
    from engine.server.replayfeed import data_files

    return data_files(args.replay)


def _new_market(args: argparse.Namespace, ex: Any, files: list[Any] | None, server: Any) -> Any:
    """The market a new venue serves: none, the synthetic one, or a replay."""
    from engine.server.clock import wall_ms

    if args.no_market:
        return None
    if files is None:
        return server.market_feed(ex, seed=args.seed, history_minutes=args.history,
                                  trades_per_day=args.trades_per_day, fill=args.fill,
                                  queue=args.queue)
    from engine.server.replayfeed import ReplayFeed

    return ReplayFeed(ex, files=files, now_ms=max(wall_ms(), ex.now),
                      start=None if args.start is None else parse_time(args.start, "--start"),
                      warmup_ms=None if args.warmup is None else parse_duration(args.warmup),
                      fill=args.fill, queue=args.queue)


def parse_time(text: str, what: str) -> int:
    """Epoch ms of ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM[:SS]`` (UTC) or an int of ms.

    >>> parse_time("2024-01-01", "--start"), parse_time("2024-01-01T08:30", "--start")
    (1704067200000, 1704097800000)
    """
    from engine.backtest.sample import epoch_day

    if text.isascii() and text.isdigit():
        return int(text)
    day, _t, clock = text.partition("T")
    parts = clock.split(":") if clock else []
    if clock and (not 2 <= len(parts) <= 3 or not all(
            p.isascii() and p.isdigit() and len(p) == 2 for p in parts)):
        raise ValueError(f"{what} is YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or epoch ms, not {text!r}")
    h, m, sec = ([int(p) for p in parts] + [0])[:3] if parts else (0, 0, 0)
    if h > 23 or m > 59 or sec > 59:
        raise ValueError(f"{what}: {text!r} is not a time of day")
    try:
        days = epoch_day(day)
    except ValueError:
        raise ValueError(f"{what} is YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or epoch ms, "
                         f"not {text!r}") from None
    return ((days * 24 + h) * 60 + m) * 60_000 + sec * 1000


def parse_duration(text: str) -> int:
    """Milliseconds of ``<n>s``, ``<n>m``, ``<n>h`` or ``<n>d``.

    >>> parse_duration("500h"), parse_duration("90m"), parse_duration("0d")
    (1800000000, 5400000, 0)
    """
    units = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    n, unit = text[:-1], text[-1:]
    if unit not in units or not (n.isascii() and n.isdigit()) or len(n) > 9:
        raise ValueError(f"--warmup is a number with s, m, h or d (e.g. 500h), not {text!r}")
    return int(n) * units[unit]


def _new_venue(args: argparse.Namespace, specs: list[dict], state: Any, server: Any,
               files: list[Any] | None) -> Any:
    """A new venue: journaling into ``state`` if given, its accounts, its marks; it lists
    ``--symbols``, or the symbols of the replayed ``files``."""
    from engine.core.listing import listed
    from engine.venue.exchange import Exchange

    if files is not None:
        from engine.server.replayfeed import data_symbols

        symbols = data_symbols(files)
    else:
        symbols = [s.strip().upper() for s in (args.symbols or "BTCUSDT,ETHUSDT").split(",")
                   if s.strip()]
    instruments = listed(symbols)
    ex = Exchange(instruments) if state is None else state.create(
        lambda path: Exchange(instruments, journal=path))
    _add_accounts(ex, specs, args.random_keys)
    for item in args.mark:
        symbol, _eq, price = item.partition("=")
        ex.set_mark_price(symbol, price)
    return ex


def _add_accounts(ex: Any, specs: list[dict], random_keys: bool) -> None:
    from engine.server.keys import random_key

    for spec in specs:
        key, secret = spec.get("api_key"), spec.get("api_secret")
        if random_keys:
            key, secret = key or random_key(), secret or random_key()
        ex.create_account(spec["name"], spec["balance"], api_key=key, api_secret=secret)


def _sample_data(args: argparse.Namespace) -> int:
    try:
        from engine.backtest.sample import write_sample
    except ImportError as e:
        return _missing_extra("sample-data", "backtest", e)
    try:
        paths = write_sample(args.outdir, args.symbols, args.days, args.seed, start=args.start,
                             trades_per_day=args.trades_per_day, header=args.header)
    except (ValueError, OSError) as e:
        print(f"fapisim: error: sample-data: {e}", file=sys.stderr)
        return EXIT_NOTHING
    for path in paths:
        print(path)
    if args.check:
        from engine.backtest.data import load
        from engine.core.instrument import default_instruments

        for stream in load(args.outdir, default_instruments()):
            print(f"read back: {stream.symbol} {stream.kind.value:<7} {len(stream):>8} events")
    return EXIT_OK


def _backtest(args: argparse.Namespace) -> int:
    try:
        from engine import backtest
        from engine.backtest.runner import parse_interval
    except ImportError as e:
        return _missing_extra("backtest", "backtest", e)
    try:
        params = {}
        for item in args.param:
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise ValueError(f"--param {item!r} is not KEY=VALUE")
            params[key] = value
        report = backtest.run(
            args.data, args.strategy, params=params,
            symbols=args.symbols.split(",") if args.symbols else None,
            balance=args.balance, maker_fee=args.maker_fee, taker_fee=args.taker_fee,
            leverage=args.leverage, fill=args.fill, queue=args.queue,
            slippage_ticks=args.slippage_ticks, funding_rate=args.funding_rate,
            funding_interval_ms=parse_interval(args.funding_interval),
            equity_interval_ms=parse_interval(args.equity_interval), account=args.account,
            fast=not args.step, progress=args.progress,
        )
    except (ValueError, OSError) as e:
        print(f"fapisim: error: {e}", file=sys.stderr)
        return EXIT_NOTHING
    print(report.to_json() if args.json else report.text(), end="\n" if not args.json else "")
    if args.out:
        for path in report.write(args.out, plot=not args.no_plot):
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK
