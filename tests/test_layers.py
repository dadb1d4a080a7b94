"""The layers are checked, not hoped for: import-linter's contract in pyproject.toml.

The contract runs on this tree, and — to show it has teeth — on copies of the
engine with one forbidden import added: core reaching up into the venue (at run
time, under ``TYPE_CHECKING``, or through the ``engine`` package's own names),
the venue reaching the server, the backtester reaching persistence.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
PACKAGES = sorted(p.parent for p in ENGINE.rglob("__init__.py"))


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the ``engine`` package found in ``tree`` (its pyproject's contract)."""
    code = (
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.argv = ['lint-imports', '--no-cache', '--no-logo']; lint_imports_command()"
    )
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([sys.executable, "-c", code], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


def test_this_tree_keeps_every_import_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


BREACHES = {
    "core imports the venue": (
        "core/ledger.py", "import engine.venue.exchange\n",
        "engine.core is not allowed to import engine.venue",
    ),
    "core names a venue type for the type checker": (
        "core/book.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from engine.venue.exchange import Exchange\n",
        "engine.core is not allowed to import engine.venue",
    ),
    "core reaches the venue through the package's own names": (
        "core/order.py", "def _probe():\n    from engine import Exchange\n    return Exchange\n",
        "engine.core is not allowed to import engine.venue",
    ),
    "the venue imports the server": (
        "venue/views.py", "def _probe():\n    import engine.server.routes\n",
        "engine.venue is not allowed to import engine.server",
    ),
    "the backtester imports persistence": (
        "backtest/report.py", "def _probe():\n    import engine.persist.journal\n",
        "engine.backtest.report -> engine.persist.journal",
    ),
    "the server imports a strategy": (
        "server/routes.py", "def _probe():\n    import engine.backtest.strategy\n",
        "engine.server.routes -> engine.backtest.strategy",
    ),
}


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_the_contract_fails_when_a_layer_imports_what_it_may_not(tmp_path, breach):
    module, added, complaint = BREACHES[breach]
    shutil.copytree(ENGINE, tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "engine" / module, "a", encoding="utf-8") as f:
        f.write("\n\n" + added)

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert complaint in result.stdout


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_package_says_what_it_owns_and_exports_its_names(package):
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    exported = [
        node for node in tree.body if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]

    assert doc, "a package docstring"
    assert exported, "an __all__"
    if package.parent == ENGINE and package.name in {
        "core", "wire", "venue", "persist", "server", "scenarios", "backtest", "testing",
    }:
        assert "May import" in doc and "Must not import" in doc


def test_no_package_is_a_junk_drawer():
    names = {p.name for p in PACKAGES} | {p.stem for p in ENGINE.rglob("*.py")}

    assert names.isdisjoint({"utils", "util", "common", "misc", "helpers", "lib"})


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return out


def test_nothing_in_the_engine_imports_in_a_circle_at_run_time():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("engine", exclude_type_checking_imports=True, cache_dir=None)
    # the sanctioned delegation, imported inside Exchange's methods, not at import time
    for persisted in ("engine.persist.journal", "engine.persist.snapshot"):
        graph.remove_import(importer="engine.venue.exchange", imported=persisted)

    assert _cycles(graph) == []
