"""The pieces of the freqtrade end-to-end test (``tests/test_freqtrade.py``).

* :func:`ensure_freqtrade` — a virtual environment with ``freqtrade==2026.9`` (its other
  packages pinned by ``constraints.txt``), cached across runs in
  ``~/.cache/fapisim/freqtrade-2026.9-py311`` (``$XDG_CACHE_HOME`` is honoured); a marker
  file written after a successful install, holding a digest of what was installed, says it
  can be reused.  A file lock keeps two test processes from installing at once.
* :class:`Venue` — ``fapisim serve --port 0`` as a subprocess on 127.0.0.1, its URL and
  demo accounts parsed from what it prints at start, and signed GETs as Binance signs them.
* :func:`write_config` — ``config.template.json`` filled in with the venue's URL and an
  account's keys.  Every other API URL ccxt's binance class knows is pointed at a path the
  venue does not serve, so nothing the test runs can reach Binance itself.
* :class:`Bot` — ``freqtrade trade`` from that environment, its sqlite database and log.

POSIX only (signals, ``fcntl``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

FREQTRADE_VERSION = "2026.9"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONSTRAINTS = HERE / "constraints.txt"
TEMPLATE = HERE / "config.template.json"
STRATEGY = "QuickFlip"  # quick_flip.py, next to this file
SYMBOL = "BTCUSDT"
MARKER = ".fapisim-installed"

#: every API URL of ccxt's ``binance`` class (ccxt 4.5.90) and the path it ends in
CCXT_BINANCE_URLS = {
    "public": "/api/v3", "private": "/api/v3", "v1": "/api/v1",
    "sapi": "/sapi/v1", "sapiV2": "/sapi/v2", "sapiV3": "/sapi/v3", "sapiV4": "/sapi/v4",
    "fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2", "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1", "fapiPrivateV2": "/fapi/v2", "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/futures/data",
    "dapiPublic": "/dapi/v1", "dapiPrivate": "/dapi/v1", "dapiPrivateV2": "/dapi/v2",
    "dapiData": "/futures/data",
    "eapiPublic": "/eapi/v1", "eapiPrivate": "/eapi/v1",
    "papi": "/papi/v1", "papiV2": "/papi/v2",
}


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would point another Python at our packages,
    and without pytest's variables: freqtrade configures no logging (no ``--logfile``) when
    it sees ``PYTEST_VERSION``, taking itself for its own test suite."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
           and not k.startswith("PYTEST_")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text[-lines:])


# -- the virtual environment ------------------------------------------------------------------

@dataclass
class Install:
    python: Path
    seconds: float  # 0 when reused
    reused: bool
    log: Path


def venv_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return Path(cache) / "fapisim" / f"freqtrade-{FREQTRADE_VERSION}-{tag}"


def _stamp() -> str:
    """What the marker holds: which freqtrade, with which pins."""
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return f"freqtrade=={FREQTRADE_VERSION} constraints {digest}\n"


def _works(venv: Path) -> bool:
    marker = venv / MARKER
    if not marker.is_file() or marker.read_text() != _stamp():
        return False
    try:
        out = subprocess.run([str(venv / "bin" / "python"), "-m", "freqtrade", "--version"],
                             capture_output=True, text=True, timeout=120, env=_clean_env())
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and f"freqtrade {FREQTRADE_VERSION}" in out.stdout


def ensure_freqtrade(deadline: float) -> Install:
    """The cached environment if it works, else a fresh install (which must end by
    ``deadline``, a ``time.monotonic()`` value); raises ``RuntimeError`` on failure."""
    venv = venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.install.log"
    python = venv / "bin" / "python"
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        while True:  # another test process may be installing: wait for it, up to the deadline
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out waiting for the lock on {venv}") from None
                time.sleep(0.5)
        if _works(venv):
            return Install(python, 0.0, True, log)
        shutil.rmtree(venv, ignore_errors=True)
        start = time.monotonic()
        with open(log, "w") as out:
            for cmd in ([sys.executable, "-m", "venv", str(venv)],
                        [str(python), "-m", "pip", "install", "--disable-pip-version-check",
                         "--no-input", f"freqtrade=={FREQTRADE_VERSION}",
                         "--constraint", str(CONSTRAINTS)]):
                out.write(f"$ {' '.join(cmd)}\n")
                out.flush()
                left = deadline - time.monotonic()
                try:
                    done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT,
                                          env=_clean_env(), timeout=max(left, 1))
                except subprocess.TimeoutExpired:
                    raise RuntimeError(
                        f"installing freqtrade took over {time.monotonic() - start:.0f}s "
                        f"(log {log}):\n{tail(log, 30)}") from None
                if done.returncode != 0:
                    raise RuntimeError(f"`{' '.join(cmd)}` failed (log {log}):\n{tail(log, 40)}")
        (venv / MARKER).write_text(_stamp())
        seconds = time.monotonic() - start
        if not _works(venv):
            raise RuntimeError(f"freqtrade does not run after its install (log {log})")
        return Install(python, seconds, False, log)


# -- the venue ------------------------------------------------------------------------------

_BANNER = re.compile(r"^fapisim serve: (http://127\.0\.0\.1:\d+)/fapi\b")
_ACCOUNT = re.compile(r"^\s+account (\S+)\s+api_key (\S+)\s+api_secret (\S+)\s*$")


class Venue:
    """``fapisim serve`` in a subprocess, as a context manager that stops it (SIGINT):
    its synthetic market with ``history_minutes`` of history, and the ``options`` given
    (``--state DIR``, ``--replay DATA``)."""

    def __init__(self, workdir: Path, history_minutes: int, *options: str) -> None:
        self.out_path, self.err_path = workdir / "fapisim.out", workdir / "fapisim.err"
        self.url = ""
        self.accounts: dict[str, tuple[str, str]] = {}
        self._lines: list[str] = []
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", "--host", "127.0.0.1", "--port", "0",
             "--history", str(history_minutes), *options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._err, text=True,
            env=_clean_env(PYTHONPATH=str(ROOT)))
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.out_path, "w") as out:
            for line in self.proc.stdout:
                self._lines.append(line)
                out.write(line)
                out.flush()

    def __enter__(self) -> Venue:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in list(self._lines):
                if m := _BANNER.match(line):
                    self.url = m.group(1)
                elif m := _ACCOUNT.match(line):
                    self.accounts[m.group(1)] = (m.group(2), m.group(3))
            if self.url and "alice" in self.accounts:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("fapisim serve did not start:\n" + self.logs())

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._drain.join(timeout=5)
        self._err.close()

    def get(self, path: str, account: str, **params: Any) -> tuple[int, Any]:
        """A signed GET on behalf of ``account``: (HTTP status, decoded JSON)."""
        key, secret = self.accounts[account]
        query = urllib.parse.urlencode({**params, "timestamp": int(time.time() * 1000)})
        query += "&signature=" + hmac.new(secret.encode(), query.encode(),
                                          hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{self.url}{path}?{query}",
                                         headers={"X-MBX-APIKEY": key})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def logs(self) -> str:
        return (f"--- fapisim serve stdout ({self.out_path}) ---\n{tail(self.out_path, 20)}\n"
                f"--- fapisim serve stderr ({self.err_path}) ---\n{tail(self.err_path, 40)}")


def write_config(path: Path, url: str, key: str, secret: str) -> dict[str, Any]:
    """``config.template.json`` for this venue and account, written to ``path``."""
    config = json.loads(Template(TEMPLATE.read_text()).substitute(
        BASE=url, API_KEY=key, API_SECRET=secret))
    urls = config["exchange"]["ccxt_config"]["urls"]["api"]
    for name, suffix in CCXT_BINANCE_URLS.items():  # never Binance: a 404 from the venue
        urls.setdefault(name, f"{url}/not-used-by-freqtrade/{name}{suffix}")
    path.write_text(json.dumps(config, indent=2))
    return config


# -- freqtrade --------------------------------------------------------------------------------

class Bot:
    """``freqtrade trade`` with this directory's strategy, its own database and log file."""

    def __init__(self, python: Path, config: Path, workdir: Path) -> None:
        self.db = workdir / "tradesv3.sqlite"
        self.log = workdir / "freqtrade.log"
        self.out_path = workdir / "freqtrade.out"
        userdir = workdir / "user_data"
        userdir.mkdir(exist_ok=True)
        self._out = open(self.out_path, "w")
        self.proc = subprocess.Popen(
            [str(python), "-m", "freqtrade", "trade", "--config", str(config),
             "--strategy", STRATEGY, "--strategy-path", str(HERE), "--userdir", str(userdir),
             "--db-url", f"sqlite:///{self.db}", "--logfile", str(self.log)],
            cwd=workdir, stdout=self._out, stderr=subprocess.STDOUT, env=_clean_env())

    def closed_trades(self) -> int:
        try:
            with contextlib.closing(self._connect()) as db:
                return db.execute("SELECT COUNT(*) FROM trades WHERE is_open = 0").fetchone()[0]
        except sqlite3.Error:  # not created yet, or being written
            return 0

    def wait_for_round_trips(self, n: int, deadline: float) -> float:
        """Seconds until the database shows ``n`` closed trades; raises on timeout or exit."""
        start = time.monotonic()
        while self.closed_trades() < n:
            if self.proc.poll() is not None:
                raise RuntimeError(f"freqtrade exited early (code {self.proc.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.closed_trades()} of {n} round trips closed in "
                                   f"{time.monotonic() - start:.0f}s")
            time.sleep(0.5)
        return time.monotonic() - start

    def stop(self) -> None:
        """SIGINT, as Ctrl-C; SIGTERM (freqtrade handles it the same way) if SIGINT was
        ignored (a shell's background job inherits SIGINT ignored); kill as a last resort."""
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)
        self._out.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        db.row_factory = sqlite3.Row
        return db

    def rows(self, sql: str) -> list[dict[str, Any]]:
        with contextlib.closing(self._connect()) as db:
            return [dict(row) for row in db.execute(sql)]

    def logs(self) -> str:
        return (f"--- freqtrade log ({self.log}) ---\n{tail(self.log, 80)}\n"
                f"--- freqtrade stdout/stderr ({self.out_path}) ---\n{tail(self.out_path, 15)}")


_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \S+ - ([A-Z]+) - ")
_EXCHANGE = re.compile(r"binance|exchange|ccxt|fapi|order|stoploss", re.IGNORECASE)


def log_records(path: Path) -> Iterator[tuple[str, str]]:
    """(level, text) of each record of a freqtrade log, a traceback kept with its record."""
    level, lines = "", []
    for line in path.read_text(errors="replace").splitlines():
        if m := _RECORD.match(line):
            if lines:
                yield level, "\n".join(lines)
            level, lines = m.group(1), [line]
        else:
            lines.append(line)
    if lines:
        yield level, "\n".join(lines)


def exchange_records(path: Path, levels: tuple[str, ...]) -> list[str]:
    """The records at ``levels`` that mention the exchange, its orders or ccxt."""
    return [text for level, text in log_records(path)
            if level in levels and _EXCHANGE.search(text)]
