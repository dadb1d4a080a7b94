"""Compare the hot paths of this working tree with another git revision, in alternating runs.

Usage::

    python benchmarks/compare_revisions.py f1d91a9                  # 100,000-order book
    python benchmarks/compare_revisions.py HEAD~3 --depth 1000 --pairs 7
    python benchmarks/compare_revisions.py 8a58ea4 --ops cancel,backtest_every_trade

The other revision is checked out in a temporary ``git worktree``.  Each pair
runs one measuring process on that revision's engine, then one on this tree's,
so slow and fast spells of the machine fall on both alike; each process builds
the deep venue and times ``--rounds`` rounds of each workload
(``benchmarks/workload.py``'s ``COMPARED``, through public names only, so older
engines run them too; the quiet methods need an engine that has them): ``K``
operations of a venue mix, or one every-trade backtest of
``BACKTEST_EVENTS`` events (an operation is then an event).
Printed: the median nanoseconds per operation over the pairs, the speed-up as
the median of the pairs' own ratios with their range, and a verdict: a path is
*slower* only when its whole range is more than 3 % slower (every pair's ratio
below 0.97), *faster* when every pair's ratio is above 1.03.  An op that an
engine cannot run (an old revision lacking a method, an import error) is left
out with its error on stderr.

The pieces serve the CI's benchmark guard too (tests/test_benchmark_guard.py):
:func:`worktree` (a revision in a temporary worktree, removed whatever happens),
:func:`paired` (the alternating pairs: figures, ratios and the ops a side could
not run), :func:`run_measure` (one measuring process) and :func:`repeated` (an op
done N times over, to check that a guard catches a slowdown).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OPS = "place_limit,cancel,cancel_cascade,backtest_every_trade"


def repeated(work: Any, times: int) -> Any:
    """``work`` done ``times`` over per round: ``times`` set-ups, their runs timed together,
    ``times`` tear-downs, still counted as ``work.ops`` operations — the same mix made
    ``times`` slower per operation by construction (the guard's self-check,
    tests/test_benchmark_guard.py)."""

    def setup():
        return tuple(work.setup() for _ in range(times))

    def run(*argsets):
        for args in argsets:
            work.run(*args)

    def teardown(*argsets):
        for args in argsets:
            work.teardown(*args)

    return type(work)(setup, run, teardown if work.teardown is not None else None, work.ops)


def measure(tree: str, depth: int, ops: list[str], rounds: int,
            errors: dict[str, str] | None = None,
            slow: Mapping[str, int] | None = None) -> dict[str, float]:
    """Nanoseconds per operation (median round) of each op on ``tree``'s engine.

    ``errors``: when given, an op that cannot run on that engine (an import error on an
    old revision, a name it lacks) is left out and its error stored there, instead of
    raising.  ``slow``: op → times, ops done that many times over (:func:`repeated`)."""
    sys.path.insert(0, tree)  # ``engine`` resolves to that tree's package
    out: dict[str, float] = {}
    try:
        spec = importlib.util.spec_from_file_location("_compared_workload",
                                                      HERE / "workload.py")
        assert spec is not None and spec.loader is not None
        workload = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(workload)
    except Exception as e:
        if errors is None:
            raise
        errors.update({op: _describe(e) for op in ops})
        return out
    client = None
    on_venue = [op for op in ops
                if op in workload.WORKS or op in getattr(workload, "VENUE_WORKS", ())]
    if on_venue:
        try:
            ex, _ids = workload.new_venue(depth)
            client = ex.client(workload.MAKER)
        except Exception as e:
            if errors is None:
                raise
            errors.update({op: _describe(e) for op in on_venue})
    for op in ops:
        if errors is not None and op in errors:
            continue
        try:
            if op not in workload.COMPARED:
                raise KeyError(f"no compared mix is named {op!r} (benchmarks/workload.py)")
            work = workload.COMPARED[op](client, random.Random(1))
            if slow and slow.get(op, 1) > 1:
                work = repeated(work, slow[op])
            seconds = [work.timed_round() for _ in range(rounds)]
        except Exception as e:
            if errors is None:
                raise
            errors[op] = _describe(e)
            continue
        out[op] = statistics.median(seconds) / work.ops * 1e9
    return out


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}".splitlines()[0][:300]


class MeasureError(RuntimeError):
    """A measuring process failed as a whole (it printed no figures)."""


class Measured(NamedTuple):
    """One measuring process: ns per operation, the ops it could not run (with the
    error), and the ``engine`` package it imported."""

    ns: dict[str, float]
    errors: dict[str, str]
    engine: str


def run_measure(tree: Path, ops: list[str], *, depth: int, rounds: int,
                slow: Mapping[str, int] | None = None,
                timeout: float | None = None) -> Measured:
    """:func:`measure` in a fresh process (``sys.executable``) on ``tree``'s engine."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(tree),
           "--depth", str(depth), "--rounds", str(rounds), "--ops", ",".join(ops)]
    if slow:
        cmd += ["--slow", ",".join(f"{op}:{n}" for op, n in slow.items())]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise MeasureError(f"measuring {tree} did not finish in {timeout} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        said = done.stderr.strip()
        raise MeasureError(f"measuring {tree} failed (exit status {done.returncode})"
                           + (f":\n{said[-3000:]}" if said else ", saying nothing"))
    got = json.loads(lines[-1])
    return Measured(got["ns"], got["errors"], got["engine"])


def _run(tree: Path, args: argparse.Namespace, ops: list[str]) -> dict[str, float]:
    """ns per operation of ``ops`` on ``tree``, measured in a fresh process (raises when
    an op cannot run there)."""
    m = run_measure(tree, ops, depth=args.depth, rounds=args.rounds)
    if m.errors:
        raise MeasureError(f"{tree}: " + "; ".join(f"{op}: {e}" for op, e in m.errors.items()))
    return m.ns


class Pairs(NamedTuple):
    """:func:`paired`'s figures: ns per operation per pair, on the other tree and on this
    one; the ops either side could not run, with the error (left out after it)."""

    theirs: dict[str, list[float]]
    ours: dict[str, list[float]]
    their_errors: dict[str, str]
    our_errors: dict[str, str]

    def ratios(self) -> dict[str, list[float]]:
        """Per op measured on both sides: each pair's other-tree ns / this-tree ns
        (above 1: this tree is faster), sorted."""
        return {op: sorted(a / b for a, b in zip(self.theirs[op], self.ours[op], strict=True))
                for op in self.theirs if op in self.ours and self.theirs[op]}


def paired(other: Path, ops: list[str], *, depth: int, pairs: int, rounds: int,
           this: Path = ROOT, slow: Mapping[str, int] | None = None,
           timeout: float | None = None, progress: bool = False) -> Pairs:
    """``pairs`` alternating pairs of measuring processes: one on ``other``'s engine, then
    one on ``this`` tree's (``slow``: ops done that many times over on this side only),
    so slow and fast spells of the machine fall on both alike.  An op one side cannot
    run is dropped from the pairs that follow, and so is every op when the other tree's
    process fails as a whole (a crash); this tree's failing raises :class:`MeasureError`,
    as does an engine imported from outside its tree."""
    theirs: dict[str, list[float]] = {op: [] for op in ops}
    ours: dict[str, list[float]] = {op: [] for op in ops}
    their_errors: dict[str, str] = {}
    our_errors: dict[str, str] = {}
    live = list(ops)
    for i in range(pairs):
        for tree, into, errors, slowed in ((other, theirs, their_errors, None),
                                           (this, ours, our_errors, slow)):
            if not live:
                break
            try:
                m = run_measure(tree, live, depth=depth, rounds=rounds, slow=slowed,
                                timeout=timeout)
            except MeasureError as e:
                if into is ours:
                    raise
                last = str(e).strip().splitlines()[-1][:300]  # the error's own line
                m = Measured({}, {op: f"its measuring process failed: {last}" for op in live},
                             "")
            if m.engine and not Path(m.engine).resolve().is_relative_to(Path(tree).resolve()):
                raise MeasureError(f"measuring {tree} imported the engine at {m.engine}")
            errors.update(m.errors)
            for op, ns in m.ns.items():
                into[op].append(ns)
            live = [op for op in live if op not in m.errors]
        if progress:
            print(f"pair {i + 1}/{pairs} done", file=sys.stderr)
    return Pairs({op: v for op, v in theirs.items() if op in live},
                 {op: v for op, v in ours.items() if op in live}, their_errors, our_errors)


@contextlib.contextmanager
def worktree(rev: str, root: Path = ROOT) -> Iterator[Path]:
    """A temporary ``git worktree`` of ``rev`` (detached), removed on the way out whatever
    happens inside; ``CalledProcessError`` when git cannot add it."""
    with tempfile.TemporaryDirectory(prefix="fapisim-compare-") as tmp:
        path = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "-q", str(path),
                        rev], check=True, capture_output=True, text=True)
        try:
            yield path
        finally:
            done = subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force",
                                   str(path)], check=False, capture_output=True)
            if done.returncode:  # gone already, or half made: forget its registration
                subprocess.run(["git", "-C", str(root), "worktree", "prune"], check=False,
                               capture_output=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", nargs="?", help="the git revision to compare with")
    ap.add_argument("--depth", type=int, default=100_000)
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--ops", default=DEFAULT_OPS, help=f"default {DEFAULT_OPS}")
    ap.add_argument("--measure", metavar="TREE", help=argparse.SUPPRESS)
    ap.add_argument("--slow", default="", help=argparse.SUPPRESS)  # op:times,...
    args = ap.parse_args(argv)
    ops = args.ops.split(",")
    if args.measure:
        slow = {op: int(n) for op, n in (s.split(":") for s in args.slow.split(",") if s)}
        errors: dict[str, str] = {}
        ns = measure(args.measure, args.depth, ops, args.rounds, errors, slow)
        engine = sys.modules.get("engine")
        print(json.dumps({"ns": ns, "errors": errors,
                          "engine": str(getattr(engine, "__file__", "") or "")}))
        return 0
    if not args.rev:
        ap.error("name a revision to compare with")
    with worktree(args.rev) as other:
        got = paired(other, ops, depth=args.depth, pairs=args.pairs, rounds=args.rounds,
                     progress=True)
    for side, errors in ((args.rev, got.their_errors), ("this tree", got.our_errors)):
        for op, e in errors.items():
            print(f"{op}: left out, {side} cannot run it: {e}", file=sys.stderr)
    print(f"{args.depth:,} resting orders, median ns/operation over {args.pairs} alternating pairs")
    print(f"{'operation':<30}{args.rev:>14}{'this tree':>14}{'speed-up':>10}  (pairs' range)")
    for op, ratios in got.ratios().items():
        verdict = "slower" if ratios[-1] < 0.97 else "faster" if ratios[0] > 1.03 else "same"
        print(f"{op:<30}{statistics.median(got.theirs[op]):>14,.0f}"
              f"{statistics.median(got.ours[op]):>14,.0f}"
              f"{statistics.median(ratios):>9.2f}×  ({ratios[0]:.2f}–{ratios[-1]:.2f}×)  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
