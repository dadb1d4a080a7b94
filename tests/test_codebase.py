"""The codebase keeps its rules: integers in the engine, no clock or randomness, clean tools."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
SOURCES = sorted(ENGINE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ENGINE).as_posix()


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """Source lines outside docstrings and comments (good enough for a grep-level rule)."""
    out, in_doc = [], False
    for n, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.count('"""') == 1:
            in_doc = not in_doc
            continue
        if in_doc or stripped.startswith("#") or stripped.startswith('"""'):
            continue
        out.append((n, line.split("#", 1)[0]))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_engine_module_computes_without_floats(path):
    pattern = re.compile(r"\bfloat\s*\(|:\s*float\b|->\s*float\b|\bmath\.|\d\.\d+\s*[*/+-]")
    offenders = [f"{_rel(path)}:{n}: {line.strip()}" for n, line in _code_lines(path)
                 if pattern.search(line)]
    assert offenders == []


#: The REST facade is the edge: it sets the simulated clock from wall time (SPEC 3),
#: and generates API keys nobody can derive (``--random-keys``); ``server/clock.py`` owns the
#: wall clock it reads.
EDGE = {"server/app.py", "server/clock.py", "server/keys.py", "server/hub.py"}


@pytest.mark.parametrize("path", [p for p in SOURCES if _rel(p) not in EDGE], ids=_rel)
def test_engine_module_reads_no_wall_clock_and_no_randomness(path):
    pattern = re.compile(
        r"\bimport (time|random|datetime|uuid|secrets)\b|\bfrom (time|random|datetime|uuid|"
        r"secrets) import|\bos\.urandom\b"
    )
    offenders = [f"{_rel(path)}:{n}: {line.strip()}" for n, line in _code_lines(path)
                 if pattern.search(line)]
    assert offenders == []


def test_engine_modules_stay_small():
    sizes = {_rel(p): len(p.read_text().splitlines()) for p in SOURCES}
    assert {name: n for name, n in sizes.items() if n > 600} == {}


def test_ruff_finds_nothing_to_report():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "engine", "tests"], cwd=ROOT,
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_accepts_the_engine():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "engine"], cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
