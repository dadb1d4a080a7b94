"""Mutation testing of the venue's heart: one small change to the code at a time, then the tests.

    python scripts/mutate.py                               # every heart module, every mutant
    python scripts/mutate.py --modules cancel ledger --sample 40 --seed 1

A *mutant* is the engine with one small change in one function of a heart
module — ``<`` for ``<=``, ``or`` for ``and``, a ``not`` dropped, a constant off
by one, a string garbled, a call or an assignment to state left out, a
returned value replaced by None, ``break`` for ``continue``.  It is *killed*
when a test fails on it (or runs past its time limit), *survives* when every
test passes.  The score of a module is killed / (mutants − the ones judged
equivalent, i.e. that no test could tell apart from the original).

How it runs: the test suite runs once under coverage.py with one context per
test, which names the tests that execute each line; then, for each mutant, a
process forked from one that has imported pytest and collected the suite
swaps the mutated function's code object in (``function.__code__``) and runs
only the tests that execute the mutated lines, fastest first, stopping at the
first failure.  Hypothesis runs derandomized, without its example database,
so a run is reproducible.  Mutants whose lines no test executes count as
surviving.

``scripts/mutation_equivalent.toml`` lists the surviving mutants judged
equivalent, each with its reason, keyed by module, function, the source line
and the change — not by a number, so the list survives edits elsewhere.  A
listed mutant that no longer exists, or one that is killed, is reported: the
list cannot rot silently.

The full run prints a table per module, writes ``--json`` if asked, and exits
1 if a module misses its target (``TARGETS``).  ``--sample N --seed S`` draws N
of the modules' mutants not listed as equivalent (seeded, so CI always tests
the same ones for the same code) and exits 1 if any survives; the quick
check in ``tests/test_mutation.py`` runs that on ``cancel`` and ``ledger``.

Why not mutmut or cosmic-ray: both were tried on this code.  mutmut 3 selects
tests per *function* and runs the whole selection before the first mutant;
the property tests execute nearly every function, so a surviving mutant of
the heart cost the full suite and a run of the seven modules took over an
hour on two cores, and the CI sample could not start within two minutes.
Line-level selection from coverage contexts is what makes both fit, and it is
a few hundred lines over the standard library and coverage.py.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import random
import signal
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the engine of this checkout; test helpers
EQUIVALENT_FILE = ROOT / "scripts" / "mutation_equivalent.toml"
CACHE = ROOT / ".mutation-cache"

HEART = {
    "cancel": "engine/venue/cancel.py",
    "ledger": "engine/core/ledger.py",
    "triggers": "engine/core/triggers.py",
    "firing": "engine/venue/firing.py",
    "matching": "engine/venue/matching.py",
    "entry": "engine/venue/entry.py",
    "risk": "engine/venue/risk.py",
}
#: the least share (%) of non-equivalent mutants a module's tests must kill
TARGETS = {"cancel": 97.0, "ledger": 97.0, "triggers": 97.0,
           "firing": 93.0, "matching": 93.0, "entry": 93.0, "risk": 93.0}

#: the tests that run in this process (the ones that start a server or a CLI
#: process run the unmutated engine from disk, and the meta tests read files)
SELECTION = [
    "tests",
    "--ignore=tests/test_layers.py", "--ignore=tests/test_codebase.py",
    "--ignore=tests/test_readme.py", "--ignore=tests/test_readme_bots.py",
    "--ignore=tests/test_server_clients.py", "--ignore=tests/test_server_load.py",
    "--ignore=tests/test_server_cli.py", "--ignore=tests/test_server_wire.py",
    "--ignore=tests/test_server_security.py", "--ignore=tests/test_mutation.py",
    "--ignore=tests/test_server_signatures.py", "--ignore=tests/test_server_hardening.py",
    "--ignore=tests/test_server_transport.py", "--ignore=tests/test_server_market.py",
    "--ignore=tests/test_server_state.py", "--ignore=tests/test_server_replay.py",
    "--ignore=tests/test_server_admin.py", "--ignore=tests/test_freqtrade.py",
    "--ignore=tests/freqtrade", "--ignore-glob=tests/test_streams*.py",
]
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts="]


# -- mutants -------------------------------------------------------------------------------
_SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
             ast.In: ast.NotIn, ast.NotIn: ast.In}
_SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv,
             ast.FloorDiv: ast.Mult, ast.Div: ast.Mult, ast.Mod: ast.FloorDiv,
             ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.LShift: ast.RShift,
             ast.RShift: ast.LShift, ast.Pow: ast.Mult}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
           ast.NotIn: "not in", ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//",
           ast.Div: "/", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<",
           ast.RShift: ">>", ast.Pow: "**", ast.And: "and", ast.Or: "or"}


@dataclass
class Mutant:
    module: str          # a HEART key
    function: str        # qualified name of the top-level function or method changed
    lineno: int
    end_lineno: int
    line: str            # the first source line of the changed node, stripped
    change: str          # what was changed, in words
    site: int            # which node of the function, in ast.walk order
    op: int              # which change of that node
    col: int = 0         # where the node starts on its line
    status: str = "pending"
    tests: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.function, self.line, self.change)

    def describe(self) -> str:
        return f"{self.module}:{self.lineno} {self.function}: {self.change} in `{self.line}`"


def _units(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef]]:
    """The top-level functions and methods of a module, with qualified names."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield f"{node.name}.{item.name}", item


def _docstrings(fn: ast.FunctionDef) -> set[int]:
    out = set()
    for node in ast.walk(fn):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
            body[0].value, ast.Constant
        ) and isinstance(body[0].value.value, str):
            out.add(id(body[0]))
            out.add(id(body[0].value))
    return out


def _changes(node: ast.AST, skip: set[int]) -> list[str]:
    """The changes this script makes to ``node``, in words (index = ``Mutant.op``)."""
    if id(node) in skip:
        return []
    if isinstance(node, ast.Compare):
        return [f"`{_SYMBOL[_SWAP_CMP[type(op)]]}` for `{_SYMBOL[type(op)]}`"
                for op in node.ops if type(op) in _SWAP_CMP]
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAP_BIN:
        out = [f"`{_SYMBOL[_SWAP_BIN[type(node.op)]]}` for `{_SYMBOL[type(node.op)]}`"]
        if isinstance(node, ast.AugAssign) and _is_state_target(node.target):
            out.append("statement left out")
        return out
    if isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        return [f"`{_SYMBOL[other]}` for `{_SYMBOL[type(node.op)]}`"]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        return ["`not` left out" if isinstance(node.op, ast.Not) else "unary `-` left out"]
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return [f"`{not v}` for `{v}`"]
        if isinstance(v, int):
            return [f"`{v + 1}` for `{v}`"]
        if isinstance(v, str) and v:
            return ["string garbled"]
        return []
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return ["call left out"]
    if isinstance(node, ast.Assign) and all(_is_state_target(t) for t in node.targets):
        return ["assignment left out"]
    if isinstance(node, ast.Delete):
        return ["`del` left out"]
    if isinstance(node, ast.Return) and node.value is not None and not (
        isinstance(node.value, ast.Constant) and node.value.value is None
    ):
        return ["`return None` for the value"]
    if isinstance(node, ast.Break):
        return ["`continue` for `break`"]
    if isinstance(node, ast.Continue):
        return ["`break` for `continue`"]
    return []


def _is_state_target(t: ast.AST) -> bool:
    return isinstance(t, (ast.Attribute, ast.Subscript)) or (
        isinstance(t, ast.Tuple) and all(_is_state_target(e) for e in t.elts)
    )


def _apply(node: ast.AST, op: int, parents: dict[int, tuple[ast.AST, str, int | None]]) -> None:
    """Make change ``op`` of :func:`_changes` to ``node``, in place."""
    if isinstance(node, ast.Compare):
        swappable = [i for i, o in enumerate(node.ops) if type(o) in _SWAP_CMP]
        i = swappable[op]
        node.ops[i] = _SWAP_CMP[type(node.ops[i])]()
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and op == 0:
        node.op = _SWAP_BIN[type(node.op)]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        _replace(node, node.operand, parents)
    elif isinstance(node, ast.Constant):
        v = node.value
        node.value = (not v) if isinstance(v, bool) else (v + 1 if isinstance(v, int)
                                                           else f"XX{v}XX")
    elif isinstance(node, ast.Return):
        node.value = ast.Constant(None)
    elif isinstance(node, ast.Break):
        _replace(node, ast.Continue(), parents)
    elif isinstance(node, ast.Continue):
        _replace(node, ast.Break(), parents)
    else:  # a statement left out
        _replace(node, ast.Pass(), parents)


Parents = dict[int, tuple[ast.AST, str, int | None]]


def _replace(old: ast.AST, new: ast.AST, parents: Parents) -> None:
    parent, name, index = parents[id(old)]
    ast.copy_location(new, old)
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new


def _parents(root: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out: dict[int, tuple[ast.AST, str, int | None]] = {}
    for node in ast.walk(root):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        out[id(child)] = (node, name, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (node, name, None)
    return out


def generate(module: str) -> list[Mutant]:
    """Every mutant of a heart module, in source order."""
    source = (ROOT / HEART[module]).read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    out: list[Mutant] = []
    for qualname, fn in _units(tree):
        skip = _docstrings(fn)
        signature = _signature_ids(fn)
        for site, node in enumerate(ast.walk(fn)):
            if node is fn or isinstance(node, (ast.arguments, ast.arg)):
                continue
            if id(node) in signature:
                continue
            for op, change in enumerate(_changes(node, skip)):
                out.append(Mutant(module, qualname, node.lineno, node.end_lineno or node.lineno,
                                  lines[node.lineno - 1].strip(), change, site, op,
                                  node.col_offset))
    # in source order; the same change twice on one line is numbered left to right, so
    # each key names one mutant
    out.sort(key=lambda m: (m.lineno, m.col, m.op))
    seen: dict[tuple, int] = {}
    for m in out:
        n = seen[m.key] = seen.get(m.key, 0) + 1
        if n > 1:
            m.change += f" (#{n} on the line)"
    return out


def _signature_ids(fn: ast.FunctionDef) -> set[int]:
    """The ids of the nodes of ``fn``'s signature (annotations, default values) and
    decorators: evaluated once, when the ``def`` runs, so swapping the code object cannot
    change them. Computed per tree while it is alive: an id outlives nothing, so a cache
    keyed by ids would hand a later tree an earlier tree's set."""
    roots: list[ast.AST] = [fn.args, *fn.decorator_list]
    if fn.returns is not None:
        roots.append(fn.returns)
    roots += [n.annotation for n in ast.walk(fn) if isinstance(n, ast.AnnAssign)]
    return {id(x) for root in roots for x in ast.walk(root)}


def mutated_code(m: Mutant) -> CodeType:
    """The code object of ``m.function`` with the change made."""
    path = ROOT / HEART[m.module]
    tree = ast.parse(path.read_text())
    fn = dict(_units(tree))[m.function]
    node = list(ast.walk(fn))[m.site]
    _apply(node, m.op, _parents(fn))
    ast.fix_missing_locations(tree)
    code = compile(tree, str(path), "exec", dont_inherit=True)
    first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
    found = _find_code(code, fn.name, first)
    if found is None:
        raise LookupError(f"no code object for {m.function}")
    return found


def _find_code(code: CodeType, name: str, lineno: int) -> CodeType | None:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_name == name and const.co_firstlineno == lineno:
                return const
            inner = _find_code(const, name, lineno)
            if inner is not None:
                return inner
    return None


def _live_function(m: Mutant) -> FunctionType:
    mod = importlib.import_module(HEART[m.module][:-3].replace("/", "."))
    obj: Any = mod
    for part in m.function.split("."):
        obj = vars(obj)[part] if isinstance(obj, type) else getattr(obj, part)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    return obj  # type: ignore[no-any-return]


# -- which tests run which lines ------------------------------------------------------------
def _digest(selection: list[str]) -> str:
    h = hashlib.sha256(json.dumps(selection).encode())
    for base in ("engine", "tests"):
        for p in sorted((ROOT / base).rglob("*.py")):
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def coverage_map(selection: list[str]) -> dict[str, Any]:
    """Which tests run which lines of the heart modules, from one run of ``selection``
    under coverage (cached by the content of engine/ and tests/): ``{"tests": [test id],
    "seconds": [its time], "lines": {file: {line: [test number]}}}``."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"map-{_digest(selection)}.json"
    if not path.exists():
        import subprocess

        done = subprocess.run(
            [sys.executable, __file__, "--write-map", str(path), "--", *selection],
            cwd=ROOT, capture_output=True, text=True,
        )
        if done.returncode != 0 or not path.exists():
            sys.exit("the tests fail without any mutant:\n"
                     f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _write_map(out: str, selection: list[str]) -> int:
    import coverage
    import pytest

    _hypothesis_profile()
    files = [str(ROOT / f) for f in HEART.values()]
    # config_file=False: not the project's settings (those measure subprocesses too)
    cov = coverage.Coverage(data_file=None, include=files, branch=False, config_file=False)
    durations: dict[str, float] = {}

    class Contexts:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Iterator[None]:
            cov.switch_context(item.nodeid)
            start = time.perf_counter()
            yield
            durations[item.nodeid] = time.perf_counter() - start
            cov.switch_context("")

    cov.start()
    code = pytest.main([*selection, *PYTEST_ARGS, "-x"], plugins=[Contexts()])
    cov.stop()
    if code != 0:
        return int(code)
    data = cov.get_data()
    tests = sorted(durations)
    number = {t: i for i, t in enumerate(tests)}
    lines = {}
    for f in files:
        by_line = data.contexts_by_lineno(f)
        lines[str(Path(f).relative_to(ROOT))] = {
            str(n): sorted(number[c] for c in ctx if c in number) for n, ctx in by_line.items()
        }
    Path(out).write_text(json.dumps({
        "tests": tests, "seconds": [durations[t] for t in tests], "lines": lines,
    }))
    return 0


def tests_for(m: Mutant, cmap: dict[str, Any]) -> list[str]:
    """The tests that execute a line of the mutant's node, fastest first."""
    by_line = cmap["lines"][HEART[m.module]]
    numbers: set[int] = set()
    for n in range(m.lineno, m.end_lineno + 1):
        numbers.update(by_line.get(str(n), ()))
    seconds, tests = cmap["seconds"], cmap["tests"]
    return [tests[i] for i in sorted(numbers, key=lambda i: (seconds[i], tests[i]))]


def durations_of(cmap: dict[str, Any]) -> dict[str, float]:
    return dict(zip(cmap["tests"], cmap["seconds"], strict=True))


# -- running mutants ------------------------------------------------------------------------
def _hypothesis_profile() -> None:
    from hypothesis import settings

    settings.register_profile("mutation", database=None, derandomize=True,
                              print_blob=False)
    settings.load_profile("mutation")


def _warm_up(selection: list[str]) -> None:
    """Import pytest, hypothesis, the engine and the test modules once, before forking."""
    import pytest

    _hypothesis_profile()
    with open(os.devnull, "w") as null:
        saved = os.dup(1), os.dup(2)
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            pytest.main([*selection, *PYTEST_ARGS, "--collect-only"])
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    for module in HEART.values():
        importlib.import_module(module[:-3].replace("/", "."))


class MutantTimeout(BaseException):
    """A test ran far past its time without the mutant: the mutant loops (killed)."""


def _child(m: Mutant, durations: dict[str, float]) -> None:
    """In the forked process: swap the code in, run the tests, exit with pytest's code.

    Each test may take 5 s plus five times its time on the unmutated code."""
    import pytest

    def alarm(_signum: int, _frame: Any) -> None:
        raise MutantTimeout(m.describe())

    class Limit:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item: Any) -> Iterator[None]:
            signal.setitimer(signal.ITIMER_REAL, 5.0 + 5 * durations.get(item.nodeid, 0.0))
            yield
            signal.setitimer(signal.ITIMER_REAL, 0)

    signal.signal(signal.SIGALRM, alarm)

    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        fn = _live_function(m)
        fn.__code__ = mutated_code(m)
    except Exception:
        os._exit(97)  # not a runnable mutant
    code = pytest.main([*m.tests, *PYTEST_ARGS, "-x"], plugins=[Limit()])
    os._exit(int(code))


def run_mutants(mutants: list[Mutant], cmap: dict[str, Any], jobs: int,
                progress: bool = True) -> None:
    """Set each mutant's ``status``: killed, timeout (counts as killed), survived,
    uncovered (no test runs its lines; counts as survived) or invalid."""
    durations = durations_of(cmap)
    queue = []
    for m in mutants:
        m.tests = tests_for(m, cmap)
        if m.tests:
            queue.append(m)
        else:
            m.status = "uncovered"
    queue.reverse()
    running: dict[int, tuple[Mutant, float]] = {}
    done = 0
    while queue or running:
        while queue and len(running) < jobs:
            m = queue.pop()
            limit = 30.0 + 6 * sum(durations.get(t, 0.0) for t in m.tests)
            pid = os.fork()
            if pid == 0:
                _child(m, durations)
            m.seconds = time.monotonic()
            running[pid] = (m, m.seconds + limit)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for p, (m, deadline) in list(running.items()):
                if now > deadline:
                    os.kill(p, signal.SIGKILL)
                    os.waitpid(p, 0)
                    m.status = "timeout"
                    m.seconds = now - m.seconds
                    del running[p]
                    done += 1
            time.sleep(0.005)
            continue
        m, _deadline = running.pop(pid)
        m.seconds = time.monotonic() - m.seconds
        code = os.waitstatus_to_exitcode(status)
        m.status = {0: "survived", 1: "killed", 97: "invalid"}.get(code, "killed")
        done += 1
        if progress:
            print(f"\r{done}/{len(mutants) - sum(x.status == 'uncovered' for x in mutants)}"
                  f" {m.status:9} {m.describe()[:90]:90}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)


# -- the verdict ----------------------------------------------------------------------------
def load_equivalents() -> dict[tuple[str, str, str, str], str]:
    data = tomllib.loads(EQUIVALENT_FILE.read_text())
    return {(e["module"], e["function"], e["line"], e["change"]): e["reason"]
            for e in data.get("equivalent", [])}


def score(mutants: list[Mutant], equivalent: dict) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for m in mutants:
        row = table.setdefault(m.module, {"mutants": 0, "killed": 0, "equivalent": 0,
                                          "survived": [], "invalid": 0})
        row["mutants"] += 1
        if m.status in ("killed", "timeout"):
            row["killed"] += 1
        elif m.status == "invalid":
            row["invalid"] += 1
        elif m.key in equivalent:
            row["equivalent"] += 1
        else:
            row["survived"].append(m)
    for row in table.values():
        judged = row["mutants"] - row["equivalent"] - row["invalid"]
        row["score"] = 100.0 * row["killed"] / judged if judged else 100.0
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modules", nargs="+", choices=sorted(HEART), default=list(HEART))
    ap.add_argument("--sample", type=int, default=0,
                    help="test only N mutants not listed as equivalent, drawn with --seed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", help="write every mutant's result here")
    ap.add_argument("--match", metavar="TEXT",
                    help="test only the mutants whose description contains TEXT")
    ap.add_argument("--rerun", metavar="JSON",
                    help="test only the mutants that survived in this earlier --json result")
    ap.add_argument("--write-map", help=argparse.SUPPRESS)
    ap.add_argument("selection", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.write_map:
        return _write_map(args.write_map, args.selection)

    os.chdir(ROOT)
    equivalent = load_equivalents()
    mutants = [m for module in args.modules for m in generate(module)]
    generated = {m.key for m in mutants}
    stale = sorted(k for k in equivalent if k[0] in args.modules and k not in generated)
    if args.rerun:
        earlier = json.loads(Path(args.rerun).read_text())
        again = {(r["module"], r["function"], r["line"], r["change"]) for r in earlier
                 if r["status"] in ("survived", "uncovered")}
        mutants = [m for m in mutants if m.key in again]
    if args.match:
        mutants = [m for m in mutants if args.match in m.describe()]
    if args.sample:
        pool = [m for m in mutants if m.key not in equivalent]
        mutants = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
    started = time.monotonic()
    cmap = coverage_map(SELECTION)
    _warm_up(SELECTION)
    run_mutants(mutants, cmap, args.jobs)
    table = score(mutants, equivalent)
    killed_listed = sorted(m.key for m in mutants if m.key in equivalent
                           and m.status in ("killed", "timeout"))

    print(f"{'module':10} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'survived':>9} "
          f"{'score':>7} {'target':>7}")
    failed = False
    for module in args.modules:
        row = table.get(module)
        if row is None:
            continue
        target = 100.0 if args.sample else TARGETS[module]
        miss = row["score"] < target
        failed |= miss
        print(f"{module:10} {row['mutants']:8} {row['killed']:7} {row['equivalent']:7} "
              f"{len(row['survived']):9} {row['score']:6.1f}% {target:6.1f}%"
              f"{'  BELOW TARGET' if miss else ''}")
    survivors = [m for row in table.values() for m in row["survived"]]
    if survivors:
        print("\nsurviving, not judged equivalent:")
        for m in survivors:
            print(f"  {m.describe()}" + ("  [no test runs this line]"
                                        if m.status == "uncovered" else ""))
    for key in stale:
        print(f"listed as equivalent but no longer a mutant: {key}")
    for key in killed_listed:
        print(f"listed as equivalent but killed: {key}")
    print(f"\n{len(mutants)} mutants in {time.monotonic() - started:.0f} s")
    slow = sorted(mutants, key=lambda m: -m.seconds)[:5]
    print("slowest:", ", ".join(f"{m.describe()[:60]} {m.seconds:.1f} s" for m in slow))
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"module": m.module, "function": m.function, "lineno": m.lineno, "line": m.line,
              "change": m.change, "status": m.status,
              "equivalent": equivalent.get(m.key)} for m in mutants], indent=1))
    return 1 if failed or stale or killed_listed else 0


if __name__ == "__main__":
    sys.exit(main())
