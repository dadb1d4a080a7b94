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
    proc, url, lines = start("--accounts", str(accounts), "--no-market",
                             "--mark", "BTCUSDT=30000", "--weight-limit", "6")
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
    assert main(["serve", "--no-market", "--mark", "BTCUSDT=abc", "--port", "0"]) == 2
    assert "--mark: Illegal characters" in capsys.readouterr().err


def test_serve_refuses_a_mark_on_the_moving_market(capsys):
    assert main(["serve", "--mark", "BTCUSDT=30000", "--port", "0"]) == 2
    assert "add --no-market" in capsys.readouterr().err


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


# -- keys anyone can derive stay on loopback -------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_a_non_loopback_host_with_derived_keys_is_refused_before_binding(capsys, host):
    assert main(["serve", "--host", host, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"--host {host} is not a loopback address" in err
    assert "alice, bob" in err and "--accounts FILE" in err and "--random-keys" in err


def test_a_non_loopback_host_names_the_accounts_file_entries_without_keys(tmp_path, capsys):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS)  # carol has keys, dan has none
    assert main(["serve", "--host", "0.0.0.0", "--accounts", str(accounts), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "the keys of dan would be derived" in err and "carol" not in err


def test_random_keys_are_printed_once_work_and_are_not_the_derived_ones():
    proc, url, lines = start("--random-keys")
    try:
        derived = Exchange().create_account("alice", "1")
        words = lines[0].split()
        assert words[:2] == ["account", "alice"]
        key, secret = words[3], words[5]
        assert len(key) == len(secret) == 64 and key != secret
        assert key != derived.api_key and secret != derived.api_secret
        assert RawClient(url, key, secret).ok("GET", "/fapi/v2/balance")[0]["balance"] == (
            "100000")
        r = RawClient(url, derived.api_key, derived.api_secret).signed("GET", "/fapi/v2/balance")
        assert (r.status_code, r.json()["code"]) == (401, -2015)
    finally:
        out = stop(proc, signal.SIGINT)
    assert key not in out  # printed once, at start (the banner was read before)


@pytest.mark.parametrize("flag", ["--header-timeout", "--body-timeout", "--keep-alive",
                                  "--max-connections"])
def test_serve_refuses_a_non_positive_transport_limit_with_exit_2(capsys, flag):
    assert main(["serve", flag, "0", "--port", "0"]) == 2
    assert "must be a positive" in capsys.readouterr().err


@pytest.mark.parametrize("args, problem", [
    (["--speed", "fast"], "--speed takes a number"),
    (["--speed", "-1"], "--speed takes a number"),
    (["--speed", "1001"], "--speed is between 0 and 1000"),
    (["--speed", "0.0001"], "at most 3 decimals"),
    (["--speed", "١"], "--speed takes a number"),
    (["--speed", "1_0"], "--speed takes a number"),
    (["--speed", " 1"], "--speed takes a number"),
    (["--admin-token", "short"], "an admin token is at least 16"),
    (["--admin-token", "sixteen chars here"], "without spaces"),
    (["--symbols", "BTCUSDT,FOOUSDT"], "FOOUSDT"),
], ids=["speed word", "speed negative", "speed too fast", "speed too fine", "speed other digits",
        "speed underscore", "speed space", "token short", "token space", "symbol unknown"])
def test_serve_refuses_a_bad_option_with_exit_2_before_anything_starts(tmp_path, capsys, args,
                                                                       problem):
    state = tmp_path / "venue"
    assert main(["serve", "--port", "0", "--state", str(state), *args]) == 2
    err = capsys.readouterr().err
    assert problem in err and err.startswith("fapisim: error: ")
    assert not (state / "journal.jsonl").exists()  # no venue was started


def test_serve_lists_the_symbols_asked_for_each_with_a_moving_market():
    import requests

    proc, url, _lines = start("--symbols", "solusdt,BTCUSDT,DOGEUSDT", "--history", "60")
    try:
        info = requests.get(f"{url}/fapi/v1/exchangeInfo", timeout=10).json()
        assert sorted(s["symbol"] for s in info["symbols"]) == ["BTCUSDT", "DOGEUSDT", "SOLUSDT"]
        doge = requests.get(f"{url}/fapi/v1/depth", params={"symbol": "DOGEUSDT"}).json()
        assert len(doge["bids"]) == len(doge["asks"]) == 20
        assert doge["bids"][0][0].startswith("0.09") or doge["asks"][0][0].startswith("0.09")
        sol = requests.get(f"{url}/fapi/v1/klines",
                           params={"symbol": "SOLUSDT", "interval": "1m", "limit": 60}).json()
        assert len(sol) == 60 and 80 < float(sol[-1][4]) < 125  # about its 100 USDT start
    finally:
        stop(proc, signal.SIGINT)


def test_serve_algo_only_refuses_conditional_types_on_order_as_binance_now_does(tmp_path):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS)
    proc, url, _lines = start("--accounts", str(accounts), "--no-market",
                              "--mark", "BTCUSDT=30000", "--algo-only")
    try:
        carol = RawClient(url, "carol-key", "carol-secret")
        stop_order = {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET",
                      "quantity": "0.001", "stopPrice": "31000"}
        r = carol.signed("POST", "/fapi/v1/order", stop_order)
        algo = carol.ok("POST", "/fapi/v1/algoOrder", {
            "algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "BUY",
            "type": "STOP_MARKET", "quantity": "0.004", "triggerPrice": "31000"})
    finally:
        stop(proc, signal.SIGINT)
    assert (r.status_code, r.json()["code"]) == (400, -4120)
    assert algo["algoStatus"] == "NEW"
