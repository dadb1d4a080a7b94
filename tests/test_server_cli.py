"""``fapisim serve``: prints its accounts and keys, serves, and stops gracefully on a signal."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from rest_support import RawClient

from engine import Exchange
from engine.cli import main

ACCOUNTS = """\
[[account]]
name = "carol"
balance = "2500"
api_key = "carol-key"
api_secret = "carol-secret"

[[account]]
name = "dan"
balance = "10"
"""


def start(*args: str) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    assert banner.startswith("fapisim serve: http://127.0.0.1:"), banner
    lines = [proc.stdout.readline() for _ in range(2)]
    return proc, banner.split()[2].removesuffix("/fapi"), lines


def stop(proc: subprocess.Popen, sig: int) -> str:
    proc.send_signal(sig)
    out, _err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_prints_demo_keys_serves_and_stops_gracefully(sig):
    proc, url, lines = start()
    try:
        alice = Exchange().create_account("alice", "1")  # keys derive from the name
        assert f"account alice  api_key {alice.api_key}  api_secret {alice.api_secret}" in (
            lines[0])
        assert lines[1].startswith("  account bob ")
        balance = RawClient(url, alice.api_key, alice.api_secret).ok("GET", "/fapi/v2/balance")
        assert balance[0]["balance"] == "100000"
    finally:
        out = stop(proc, sig)
    assert out.rstrip().endswith("fapisim serve: stopped")


def test_serve_takes_accounts_keys_and_marks_from_the_command_line(tmp_path):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS)
    proc, url, lines = start("--accounts", str(accounts), "--mark", "BTCUSDT=30000",
                             "--weight-limit", "6")
    try:
        assert "account carol  api_key carol-key  api_secret carol-secret" in lines[0]
        assert lines[1].startswith("  account dan  api_key ")
        carol = RawClient(url, "carol-key", "carol-secret")
        assert carol.ok("GET", "/fapi/v2/balance")[0]["balance"] == "2500"
        assert carol.session.get(url + "/fapi/v1/premiumIndex",
                                 params={"symbol": "BTCUSDT"}).json()["markPrice"] == "30000"
        assert carol.signed("GET", "/fapi/v2/balance").status_code == 429
    finally:
        stop(proc, signal.SIGINT)


@pytest.mark.parametrize("text, problem", [
    ("", "expected one or more [[account]] tables"),
    ('[[account]]\nname = "x"\n', "needs name and balance"),
    ('[[account]]\nname = "x"\nbalance = 5\n', "values are strings"),
    ('[[account]]\nname = "x"\nbalance = "-1"\n', "must be ≥ 0"),
    ("not toml [", "accounts.toml"),
])
def test_serve_refuses_a_bad_accounts_file_with_exit_2(tmp_path, capsys, text, problem):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(text)
    assert main(["serve", "--accounts", str(accounts), "--port", "0"]) == 2
    assert problem in capsys.readouterr().err


def test_serve_refuses_a_bad_mark_with_exit_2(capsys):
    assert main(["serve", "--mark", "BTCUSDT=abc", "--port", "0"]) == 2
    assert "--mark: Illegal characters" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "module", "extra"),
    [
        (["serve"], "server", "server"),
        (["backtest", "trades.csv", "--strategy", "x:Y"], "backtest", "backtest"),
    ],
    ids=["serve", "backtest"],
)
def test_a_command_whose_extra_is_missing_names_it_and_exits_2(
    monkeypatch, capsys, argv, module, extra
):
    import engine

    monkeypatch.delattr(engine, module, raising=False)
    monkeypatch.setitem(sys.modules, f"engine.{module}", None)  # the import now fails
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"fapisim: error: {argv[0]} needs the {extra} extra (engine.{module} is missing)" in err
    assert f"pip install 'fapisim[{extra}]'" in err
