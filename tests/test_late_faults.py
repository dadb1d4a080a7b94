"""Faults after a command's last change: every undo inverse the engine can log runs, and works.

``test_atomicity*`` fail a command at each of its mutation points, *before*
the change the point protects; so the inverse of a command's last undo record
never ran there.  Here the fault comes after the command has made every
change, at the places a real one can: the journal write fails (``OSError``)
or is interrupted (``KeyboardInterrupt``) after the command ran; the settle
loop raises as it finishes; the response formatter raises once it has built
the response; and a ``KeyboardInterrupt`` arrives at a mutation point.  For
every mutating command of ``test_atomicity_all.CASES`` (and the GTD and
priceMatch ones of ``test_gtd_price_match.FAULT_CASES``) the command raises,
the venue's ``state_hash()``, invariants and journal are those from before,
and the same command then gives the answer it gives without faults.

Then the proof that nothing was left out: every place in ``engine/core`` and
``engine/venue`` that appends an undo record (found in the source) logged a
record whose inverse was executed by these rollbacks.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_atomicity_all import CASES as ATOMIC_CASES
from test_gtd_price_match import FAULT_CASES

from engine import Exchange
from engine.core.txn import InjectedFault, UndoLog, inject_fault
from engine.persist.journal import Journal
from engine.venue.runner import Runner

ROOT = Path(__file__).resolve().parent.parent
#: every mutating command of test_atomicity_all, and the GTD and priceMatch ones
CASES = {**ATOMIC_CASES, **FAULT_CASES}
UNDO_LOGS = {"u", "undo", "self._undo", "self.undo", "s.undo"}


def undo_sites() -> set[tuple[str, int]]:
    """(file, line) of every ``<undo log>.append((inverse, ...))`` in the venue's code."""
    sites = set()
    for base in ("engine/core", "engine/venue"):
        for path in sorted((ROOT / base).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "append"
                        and ast.unparse(node.func.value) in UNDO_LOGS):
                    sites.add((str(path.relative_to(ROOT)), node.lineno))
    return sites


class Recorder:
    """Which undo records were logged where, and which of them were undone."""

    def __init__(self) -> None:
        #: id of an undo record -> the sites that logged it, newest last (a record may be
        #: one shared object logged at several sites: the event log's "drop the newest")
        self.logged: dict[int, list[tuple[str, int]]] = {}
        self.undone: set[tuple[str, int]] = set()

    @contextmanager
    def watching(self, log: UndoLog) -> Iterator[None]:
        """Within the block, record the site of each append to ``log`` and each inverse
        popped from it (a rollback pops; a commit clears)."""
        recorder = self

        def append(self: Any, entry: Any) -> None:
            frame = sys._getframe(1)
            path = os.path.relpath(frame.f_code.co_filename, ROOT)
            recorder.logged.setdefault(id(entry), []).append((path, frame.f_lineno))
            list.append(self, entry)

        def pop(self: Any, *index: int) -> Any:
            entry = list.pop(self, *index)
            sites = recorder.logged.get(id(entry))
            if sites:  # records are undone newest first, so the newest site is this one's
                recorder.undone.add(sites.pop())
            return entry

        original = log.__class__
        log.__class__ = type("RecordingLog", (original,), {
            "__slots__": (), "append": append, "pop": pop,
        })
        try:
            yield
        finally:
            log.__class__ = original


def _reference(build: Callable[[], Exchange], command: Callable[[Exchange], Any]) -> tuple:
    ex = build()
    answer = command(ex)
    return answer, ex.state_hash()


def _assert_rolled_back(ex: Exchange, before: str, command: Callable[[Exchange], Any],
                        reference: tuple) -> None:
    assert ex.state_hash() == before
    assert len(ex._undo) == 0
    ex.check_invariants()
    assert command(ex) == reference[0]
    assert ex.state_hash() == reference[1]


def _failing_sink(error: BaseException) -> Callable[[memoryview], int]:
    def sink(_data: memoryview) -> int:
        raise error
    return sink


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["OSError", "KeyboardInterrupt"])
@pytest.mark.parametrize("name", list(CASES))
def test_a_journal_write_that_fails_after_the_command_ran_undoes_all_of_it(
    name: str, error: BaseException, tmp_path: Path,
) -> None:
    build, command, _minimum = CASES[name]
    reference = _reference(build, command)
    ex = build()
    before = ex.state_hash()
    path = tmp_path / "venue.jsonl"
    journal = Journal.create(ex, path)
    ex._s.journal = journal
    journal._sink = _failing_sink(error)
    written = path.read_bytes()

    with pytest.raises(type(error)):
        command(ex)

    assert path.read_bytes() == written
    ex.close_journal()
    _assert_rolled_back(ex, before, command, reference)


@contextmanager
def _raising_after(cls: type, name: str, wrap: Callable[..., Any]) -> Iterator[list[int]]:
    original = getattr(cls, name)
    calls = [0]
    setattr(cls, name, wrap(original, calls))
    try:
        yield calls
    finally:
        setattr(cls, name, original)


def _settle_then_raise(original: Callable[..., Any], calls: list[int]) -> Callable[..., Any]:
    def settle(self: Runner) -> None:
        original(self)
        calls[0] += 1
        raise InjectedFault("after settling")
    return settle


def _format_then_raise(original: Callable[..., Any], calls: list[int]) -> Callable[..., Any]:
    def run_fmt(self: Runner, fn: Callable[..., Any], fmt: Any, *args: Any) -> Any:
        def formatter(result: Any) -> Any:
            out = result if fmt is None else fmt(result)
            calls[0] += 1
            raise InjectedFault(f"after formatting {out!r:.40}")
        return original(self, fn, formatter, *args)
    return run_fmt


PHASES = {"settle": ("settle", _settle_then_raise), "format": ("run_fmt", _format_then_raise)}


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_fault_as_settling_or_formatting_ends_undoes_the_whole_command(phase: str) -> None:
    method, wrap = PHASES[phase]
    hit = []
    for name, (build, command, _minimum) in CASES.items():
        reference = _reference(build, command)
        ex = build()
        before = ex.state_hash()
        with _raising_after(Runner, method, wrap) as calls:
            try:
                command(ex)
            except InjectedFault:
                pass
        if not calls[0]:  # this command does not settle / format through the runner
            assert ex.state_hash() == reference[1]
            continue
        hit.append(name)
        _assert_rolled_back(ex, before, command, reference)
    # the table has commands of both kinds
    assert len(hit) >= 10, hit


@pytest.mark.parametrize("name", list(CASES))
def test_a_keyboard_interrupt_at_a_mutation_point_undoes_the_command(name: str) -> None:
    build, command, _minimum = CASES[name]
    reference = _reference(build, command)
    probe = build()
    with inject_fault(probe._undo, 0) as count:
        command(probe)
    for k in sorted({1, (count[0] + 1) // 2, count[0]}):
        ex = build()
        before = ex.state_hash()
        with inject_fault(ex._undo, k, KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
            command(ex)
        _assert_rolled_back(ex, before, command, reference)


def test_every_undo_record_the_engine_logs_is_undone_by_a_late_fault(tmp_path: Path) -> None:
    recorder = Recorder()
    for i, (build, command, _minimum) in enumerate(CASES.values()):
        ex = build()
        journal = ex._s.journal = Journal.create(ex, tmp_path / f"{i}.jsonl")
        journal._sink = _failing_sink(OSError(5, "Input/output error"))
        with recorder.watching(ex._undo), pytest.raises(OSError):
            command(ex)
        ex.close_journal()
    sites = undo_sites()
    assert len(sites) > 50, "the scan for undo records found too few"

    never = sorted(sites - recorder.undone)

    assert never == [], f"inverses never executed: {never}"
