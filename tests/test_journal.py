"""The journal (SPEC 8): one JSON line per state-changing command; replay rebuilds the venue.

Replay must give the same ``state_hash()`` and the same response to every
command; a torn last line (a crash mid-write) is reported and replay stops
before it; anything else wrong with a journal is refused naming the line.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from durability_support import answer, busy_session, random_session, sol_instrument

from engine import ClientError, Exchange
from engine.core.enums import Side
from engine.persist.journal import (
    COMMANDS,
    JournalError,
    JournalTornError,
    JournalTornWarning,
    decode,
    encode,
    replay,
)
from engine.persist.values import Opaque, digest
from engine.venue import commands as cmd

HERE = Path(__file__).resolve().parent


def lines(path: Path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_bytes().splitlines()]


def journaled_busy_venue(tmp_path: Path) -> tuple[Exchange, list, Path]:
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    return ex, busy_session(ex), path


# -- format -----------------------------------------------------------------------------------
def test_a_journal_is_a_header_then_one_line_per_state_changing_command(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="1000")
    o = ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                     timeInForce="GTC", quantity="0.01", price="30000")
    ex.advance(250)
    ex.client("alice").cancel_order(symbol="BTCUSDT", orderId=o["orderId"])

    head, *body = lines(path)

    assert head["fapisim_journal"] == 1 and head["start_time"] == 1_704_067_200_000
    assert [i["symbol"] for i in head["instruments"]] == ["BTCUSDT", "ETHUSDT"]
    assert [(ln["seq"], ln["cmd"], ln["account"]) for ln in body] == [
        (1, "create_account", None), (2, "new_order", "alice"), (3, "advance", None),
        (4, "cancel_order", "alice"),
    ]
    assert [ln["time"] for ln in body] == [1_704_067_200_000] * 3 + [1_704_067_200_250]
    assert body[1]["params"] == {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                 "timeInForce": "GTC", "quantity": "0.01", "price": "30000"}
    assert body[3]["params"] == {"symbol": "BTCUSDT", "orderId": o["orderId"],
                                 "origClientOrderId": None}
    assert all(len(ln["resp"]) == 16 for ln in body)
    assert path.read_bytes().endswith(b"\n")


def test_refused_commands_and_commands_without_effect_are_not_journaled(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="1000")
    c = ex.client("alice")
    before = path.read_bytes()

    with pytest.raises(ClientError):
        c.cancel_order(symbol="BTCUSDT", orderId=99)
    with pytest.raises(ClientError):
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.01", price="-1")
    with pytest.raises(ValueError):
        ex.create_account("alice")
    c.cancel_open_orders(symbol="BTCUSDT")  # nothing open
    ex.set_time(ex.now - 1)  # the past
    c.cancel_batch_order("BTCUSDT", [98, 99], None)  # every item refused

    assert path.read_bytes() == before
    assert ex.journal.seq == 1


def test_time_that_passes_without_effect_writes_no_line_and_replays_from_the_next_one(
    tmp_path,
):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="1000")
    c = ex.client("alice")
    t0 = ex.now
    assert ex.pass_time(t0 + 500) and ex.now == t0 + 500  # nothing scheduled
    assert ex.journal.seq == 1
    o = c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.01", price="30000")
    c.countdown_cancel_order(symbol="BTCUSDT", countdownTime=1000)
    assert ex.pass_time(t0 + 1400)  # the countdown is due at t0 + 1500
    assert not ex.pass_time(t0 + 1600) and ex.now == t0 + 1400  # that move is a command
    ex.set_time(t0 + 1600)
    assert c.query_order(symbol="BTCUSDT", orderId=o["orderId"])["status"] == "CANCELED"

    cmds = [(ln["cmd"], ln["time"] - t0) for ln in lines(path)[1:]]
    assert cmds == [("create_account", 0), ("new_order", 500), ("countdown_cancel", 500),
                    ("set_time", 1400)]
    twin = Exchange.replay(path)
    assert twin.state_hash() == ex.state_hash()


def test_replay_refuses_a_line_whose_time_passes_a_countdown_without_a_set_time(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="1000")
    c = ex.client("alice")
    c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.01", price="30000")
    c.countdown_cancel_order(symbol="BTCUSDT", countdownTime=1000)
    ex.close_journal()
    forged = lines(path)
    forged.append({**forged[-1], "seq": len(forged), "time": ex.now + 5000,
                   "cmd": "cancel_open_orders", "params": {"symbol": "BTCUSDT"}})
    path.write_text("".join(json.dumps(ln) + "\n" for ln in forged))

    with pytest.raises(JournalError, match="diverged"):
        Exchange.replay(path)


def test_decimal_and_float_values_are_written_as_sent_and_read_back_to_the_same_integers(
    tmp_path,
):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance=Decimal("1000.5"))
    sent = ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                        timeInForce="GTC", quantity=0.013,
                                        price=Decimal("30000.10"))

    body = lines(path)[1:]
    assert body[0]["params"]["balance"] == {"$decimal": "1000.5"}
    assert body[1]["params"]["quantity"] == 0.013  # a JSON number: the float's repr
    assert b'"quantity":0.013,' in path.read_bytes()
    assert body[1]["params"]["price"] == {"$decimal": "30000.10"}
    again = Exchange.replay(path)
    order = again._index.by_id[sent["orderId"]]
    assert (order.price, order.qty) == (300001, 13)  # ticks and lots, as first parsed
    assert again.state_hash() == ex.state_hash()


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 10**30, "", "30000.1", "ü\u2028\ud800", 0.1, 1e-7, 30000.0,
    float("nan"), float("inf"), -float("inf"), Decimal("1E+3"), Decimal("-0.00"),
    [1, "2", [Decimal(3)]], (1, 2), {"a": 1, "$decimal": 2}, {"$tuple": [1]}, {1: "x"},
    object(), b"bytes", {"k": (0.5,)},
], ids=repr)
def test_encoded_values_decode_to_values_the_engine_reads_identically(value):
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))

    if isinstance(value, (int, str, type(None), list, dict, tuple, Decimal)):
        assert back == value and type(back) is type(value)
    elif isinstance(value, float):
        assert repr(back) == repr(value)  # the engine reads a float through repr only
    else:
        assert type(back).__name__ == "Opaque"  # refused everywhere, like the original


def test_a_decimal_id_in_a_batch_replays_as_refused_not_as_the_order_it_spells(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="10000")
    c = ex.client("alice")
    ids = [c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.01", price=f"{29000 + i}")["orderId"] for i in range(2)]

    out = c.cancel_batch_order("BTCUSDT", [ids[1], Decimal(ids[0])], None)

    assert out[0]["status"] == "CANCELED" and out[1]["code"] == -1100
    assert Exchange.replay(path).state_hash() == ex.state_hash()  # order 1 still open


# -- replay -----------------------------------------------------------------------------------
def test_replay_rebuilds_the_same_state_and_gives_every_response_again(tmp_path):
    ex, _answers, path = journaled_busy_venue(tmp_path)
    first: list = []
    with open(path, "rb") as f:
        resps = [json.loads(raw)["resp"] for raw in list(f)[1:]]

    result = replay(path, on_response=lambda seq, cmd, out: first.append((seq, cmd, out)))

    assert result.exchange.state_hash() == ex.state_hash()
    assert result.torn is None and result.seq == result.applied == len(resps)
    assert [seq for seq, _c, _o in first] == list(range(1, len(resps) + 1))
    result.exchange.check_invariants()
    statuses = {o["status"] for o in result.exchange.client("alice").get_all_orders(
        symbol="BTCUSDT")}
    assert "TRIGGERED" in statuses  # the session fired triggers, and replay did too


def test_the_session_exercises_every_journaled_command(tmp_path):
    _ex, _answers, path = journaled_busy_venue(tmp_path)

    assert {ln["cmd"] for ln in lines(path)[1:]} == set(COMMANDS)


def test_every_public_command_is_journaled_or_changes_nothing():
    # the operator's methods of Exchange, and what an account sends (engine.venue.commands)
    read_only = {
        "account", "account_by_key", "account_state", "accounts", "check_invariants", "client",
        "close_journal", "instruments", "journal", "ledger", "now", "replay", "restore",
        "mark_ticks", "snapshot", "state_hash", "tape_band",
        "account_info", "all_algo_orders", "balance_info", "book_ticker", "commission_rate",
        "depth", "exchange_info", "get_account_trades", "get_all_orders", "get_income_history",
        "get_open_order", "get_orders", "get_position_mode", "get_position_risk",
        "leverage_brackets", "mark_price_info", "open_algo_orders", "query_algo_order",
        "query_order", "event_owner", "user_events", "order_amendments", "symbol_config",
        "account_config", "adl_quantile", "force_orders", "position_margin_history",
    }
    # CROSSED only: always refused; the test order is undone whatever it does
    never_changes_state = {"test_order", "change_multi_assets"}
    only_the_clock = {"pass_time"}  # recorded by the next line's time (tested below)
    public = {n for n, _ in inspect.getmembers(Exchange) if not n.startswith("_")}
    public |= set(cmd.__all__) - {"ACCOUNT_COMMANDS"}

    unclassified = public - set(COMMANDS) - read_only - never_changes_state - only_the_clock

    assert unclassified == set(), (
        "journal these in engine.persist.journal.COMMANDS, or list them here"
    )


def test_a_venue_with_other_instruments_and_clock_is_rebuilt_from_the_header(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange([sol_instrument()], start_time=1_600_000_000_000, journal=path)
    ex.create_account("alice", balance="500")
    ex.client("alice").new_order(symbol="SOLUSDT", side="SELL", type="LIMIT",
                                 timeInForce="GTC", quantity="1.5", price="100.25")

    again = Exchange.replay(path)

    assert again.state_hash() == ex.state_hash()
    assert cmd.exchange_info(again) == cmd.exchange_info(ex)
    assert again.client("alice").commission_rate(symbol="SOLUSDT")["makerCommissionRate"] == (
        "0.0001"
    )


def test_journaling_changes_nothing_in_the_venue_it_records(tmp_path):
    plain = Exchange()
    journaled = Exchange(journal=tmp_path / "run.jsonl")

    assert busy_session(plain) == busy_session(journaled)
    assert plain.state_hash() == journaled.state_hash()


def test_a_random_session_replays_to_the_same_state_and_answers(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    random_session(ex, seed=7, steps=400)

    again = Exchange.replay(path)

    assert again.state_hash() == ex.state_hash()
    assert random_session(Exchange(), 7, 400) == random_session(Exchange(), 7, 400)


# -- torn lines and crashes ---------------------------------------------------------------------
CRASH = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from durability_support import busy_session
    from engine import Exchange

    ex = Exchange(journal={path!r})
    busy_session(ex)

    ex.set_mark_price("BTCUSDT", "30000")
    print(ex.state_hash(), flush=True)

    fd = ex.journal._fd

    def dies_mid_write(data):
        os.write(fd, bytes(data[: len(data) // 2]))  # half the line is written...
        os._exit(17)  # ...and the process dies

    ex.journal._sink = dies_mid_write
    ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                 timeInForce="GTC", quantity="0.01", price="29500")
""")


def test_a_process_killed_mid_write_leaves_a_torn_line_that_replay_reports_and_skips(tmp_path):
    path = tmp_path / "run.jsonl"
    script = CRASH.format(tests=str(HERE), path=str(path))

    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)

    assert proc.returncode == 17, proc.stderr
    hash_before_the_fatal_command = proc.stdout.split()[0]
    assert not path.read_bytes().endswith(b"\n")
    with pytest.warns(JournalTornWarning, match=r"line \d+ \(byte \d+\): torn last line"):
        again = Exchange.replay(path)
    assert again.state_hash() == hash_before_the_fatal_command
    with pytest.raises(JournalTornError) as torn:
        Exchange.replay(path, strict=True)
    assert torn.value.torn.data.startswith(b'{"seq":')


def test_every_cut_of_the_journal_replays_to_the_last_complete_line(tmp_path):
    ex = Exchange(journal=tmp_path / "full.jsonl")
    a, b = ex.client, ex.client
    steps = [
        lambda: ex.create_account("alice", balance="5000"),
        lambda: ex.create_account("bob", balance="5000"),
        lambda: ex.set_mark_price("BTCUSDT", "30000"),
        lambda: a("alice").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                     timeInForce="GTC", quantity="0.01", price="30000",
                                     stopLossPrice="29000"),
        lambda: b("bob").new_order(symbol="BTCUSDT", side="SELL", type="MARKET",
                                   quantity="0.004"),
        lambda: a("alice").cancel_order(symbol="BTCUSDT", orderId=1),
    ]
    after_lines = {1: ex.state_hash()}  # complete lines (header included) -> state
    for n, step in enumerate(steps, start=2):
        step()
        after_lines[n] = ex.state_hash()
    data = (tmp_path / "full.jsonl").read_bytes()
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    assert len(ends) == len(after_lines)
    cut = tmp_path / "cut.jsonl"

    for size in range(ends[0], len(data) + 1):
        cut.write_bytes(data[:size])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            again = Exchange.replay(cut)
        complete = sum(1 for e in ends if e <= size)
        assert again.state_hash() == after_lines[complete], size
        torn = [w for w in caught if w.category is JournalTornWarning]
        assert len(torn) == (0 if size in ends else 1), size


def test_a_failed_write_rolls_the_command_back_and_the_journal_refuses_what_follows(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="5000")
    c = ex.client("alice")
    before = ex.state_hash()

    def disk_full(data):
        raise OSError(28, "No space left on device")

    real, ex.journal._sink = ex.journal._sink, disk_full
    with pytest.raises(OSError, match="No space"):
        c.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.01", price="29000")
    ex.journal._sink = real

    assert ex.state_hash() == before
    with pytest.raises(JournalError, match="a write failed"):
        ex.set_mark_price("BTCUSDT", "30000")
    assert ex.state_hash() == before
    assert Exchange.replay(path).state_hash() == before


def test_resume_cuts_a_torn_tail_and_continues_the_sequence(tmp_path):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="5000")
    ex.set_mark_price("BTCUSDT", "30000")
    ex.close_journal()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"seq":3,"time":17040')  # the crash

    with pytest.warns(JournalTornWarning):
        resumed = Exchange.replay(path, resume=True)
    resumed.set_mark_price("BTCUSDT", "30100")
    resumed.close_journal()

    assert path.read_bytes().startswith(whole)
    assert [ln["seq"] for ln in lines(path)[1:]] == [1, 2, 3]
    assert Exchange.replay(path).state_hash() == resumed.state_hash()


def test_an_existing_journal_is_never_overwritten(tmp_path):
    path = tmp_path / "run.jsonl"
    Exchange(journal=path).create_account("alice")
    before = path.read_bytes()

    with pytest.raises(JournalError, match="already holds a journal"):
        Exchange(journal=path)

    assert path.read_bytes() == before


@pytest.mark.parametrize("damage, message", [
    (lambda b: b"hello\n" + b, "line 1: not a fapisim journal header"),
    (lambda b: b.replace(b'"fapisim_journal":1', b'"fapisim_journal":9'), "format 9"),
    (lambda b: b.replace(b'{"seq":2', b'{"seq":3'), "line 3: seq 3, expected 2"),
    (lambda b: b.replace(b'{"seq":2', b'{"sex":2'), "line 3: not a journal line"),
    (lambda b: b.replace(b'"quantity":"0.01"', b'"quantity":"0.02"'), "answered differently"),
    (lambda b: b.replace(b'"cmd":"set_mark_price"', b'"cmd":"set_mark_prize"'),
     "line 3: unknown command 'set_mark_prize'$"),
    (lambda b: b.replace(b'"cmd":"set_mark_price"', b'"cmd":"market"'),
     "unknown command 'market' .written by a served market: resume it with fapisim serve"),
    (lambda b: b.replace(b'"cmd":"set_mark_price"', b'"cmd":["set_mark_price"]'),
     "line 3: not a journal line"),
    (lambda b: b.replace(b'"price":"30000"', b'"price":"-5"'), "failed on replay"),
    (lambda b: b.replace(b'"time":1704067200000,"cmd":"set', b'"time":1,"cmd":"set'),
     "diverged"),
    (lambda b: b.split(b"\n")[0], "line 1: no complete header line"),
    (lambda b: b.replace(b'"account":"alice","params":{"symbol"',
                         b'"account":"zed","params":{"symbol"'), "line 4: no account 'zed'"),
], ids=["header", "version", "gap", "garbage", "response", "command", "served command",
                               "command not a name", "refused", "clock",
        "torn header", "account"])
def test_a_damaged_journal_is_refused_naming_the_line(tmp_path, damage, message):
    path = tmp_path / "run.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="5000")
    ex.set_mark_price("BTCUSDT", "30000")
    ex.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                 timeInForce="GTC", quantity="0.01", price="29000")
    ex.close_journal()
    path.write_bytes(damage(path.read_bytes()))

    with pytest.raises(JournalError, match=message):
        Exchange.replay(path)


def test_a_change_outside_the_journal_stops_it_before_the_next_command(tmp_path):
    ex = Exchange(journal=tmp_path / "run.jsonl")
    ex.create_account("alice", balance="5000")
    ex._runner.run(ex._markets["BTCUSDT"].set_mark, 300_000)  # a change the journal never saw
    before = ex.state_hash()

    with pytest.raises(JournalError, match="not journaled"):
        ex.set_mark_price("BTCUSDT", "30000")

    assert ex.state_hash() == before


def test_two_journaled_venues_in_one_process_are_independent(tmp_path):
    one, two = Exchange(journal=tmp_path / "1.jsonl"), Exchange(journal=tmp_path / "2.jsonl")
    one.create_account("alice", balance="1")
    two.create_account("bob", balance="2")
    answer(lambda: one.client("alice").cancel_order(symbol="BTCUSDT", orderId=1))

    assert [ln["params"]["name"] for ln in lines(tmp_path / "1.jsonl")[1:]] == ["alice"]
    assert [ln["params"]["name"] for ln in lines(tmp_path / "2.jsonl")[1:]] == ["bob"]
    assert os.path.getsize(tmp_path / "1.jsonl") > 0


def test_commands_sent_over_rest_are_journaled_and_replay_to_the_same_venue(tmp_path):
    from rest_support import (
        ALICE_KEY,
        ALICE_SECRET,
        BOB_KEY,
        BOB_SECRET,
        SYMBOL,
        RawClient,
        live,
    )

    path = tmp_path / "rest.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", "10000", api_key=ALICE_KEY, api_secret=ALICE_SECRET)
    ex.create_account("bob", "10000", api_key=BOB_KEY, api_secret=BOB_SECRET)
    ex.set_mark_price(SYMBOL, "30000")
    with live(ex) as (url, _app):
        alice, bob = RawClient(url, ALICE_KEY, ALICE_SECRET), RawClient(url, BOB_KEY, BOB_SECRET)
        parent = alice.ok("POST", "/fapi/v1/order", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.010", "price": "30000", "stopLossPrice": "29000"}, body=True)
        bob.ok("POST", "/fapi/v1/order", {"symbol": SYMBOL, "side": "SELL", "type": "MARKET",
                                          "quantity": "0.004"})
        alice.ok("POST", "/fapi/v1/algoOrder", {
            "algoType": "CONDITIONAL", "symbol": SYMBOL, "side": "SELL",
            "type": "TAKE_PROFIT_MARKET", "quantity": "0.004", "triggerPrice": "31000",
            "reduceOnly": "true"})
        alice.ok("DELETE", "/fapi/v1/batchOrders", {
            "symbol": SYMBOL, "orderIdList": json.dumps([parent["orderId"], 99])})
        alice.ok("POST", "/fapi/v1/leverage", {"symbol": SYMBOL, "leverage": "15"})
    ex.close_journal()

    cmds = [ln["cmd"] for ln in lines(path)[1:]]
    assert {"new_order", "new_algo_order", "cancel_batch", "change_leverage"} <= set(cmds)
    # the server moves the clock to wall time without a line of its own (nothing falls
    # due): each command's line carries its time, and replay moves the clock to it
    assert "set_time" not in cmds
    times = [ln["time"] for ln in lines(path)[1:]]
    assert times == sorted(times) and times[-1] > times[0]
    batch = next(ln for ln in lines(path)[1:] if ln["cmd"] == "cancel_batch")
    assert isinstance(batch["params"]["orderIdList"], str)  # as sent: the wire's JSON text
    assert Exchange.replay(path).state_hash() == ex.state_hash()


def test_a_replay_mode_run_with_funding_and_a_liquidation_is_journaled_and_replayed(tmp_path):
    path = tmp_path / "tape.jsonl"
    ex = Exchange(journal=path)
    ex.create_account("alice", balance="100")
    ex.enable_tape(fill="touch", slippage_ticks=2)
    ex.tape_quote("BTCUSDT", 299_995, 7, 300_005, 3, ex.now + 1)
    ex.tape_trade("BTCUSDT", 300_000, 5, False, ex.now + 2)
    c = ex.client("alice")
    c.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.040",
                stopLossPrice="29000")
    ex.tape_touch("BTCUSDT", 300_010, ex.now + 3)
    ex.settle_funding("BTCUSDT", "0.0001")
    ex.tape_mark("BTCUSDT", 270_000, ex.now + 4)  # gaps through bankruptcy: liquidated
    assert ex._ledger.liquidations
    replayed = Exchange.replay(path)
    assert replayed.state_hash() == ex.state_hash()


def test_a_snapshot_is_refused_with_a_journal_shorter_than_its_sequence(tmp_path):
    ex, _answers, path = journaled_busy_venue(tmp_path)
    snap = ex.snapshot()
    seq = ex.journal.seq
    ex.close_journal()
    raw = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(raw[:3]))

    with pytest.raises(JournalError, match=f"ends at seq 2, before the snapshot's seq {seq}"):
        Exchange.replay(path, snapshot=snap)


def test_a_snapshot_taken_before_any_command_is_refused_with_another_journal(tmp_path):
    first = Exchange(journal=tmp_path / "first.jsonl")
    snap = first.snapshot()
    Exchange(journal=tmp_path / "second.jsonl", start_time=1).close_journal()

    with pytest.raises(JournalError, match="line 1: the snapshot was taken from another journal"):
        Exchange.replay(tmp_path / "second.jsonl", snapshot=snap)


def test_closing_a_journal_twice_is_harmless_and_it_stays_closed(tmp_path):
    ex = Exchange(journal=tmp_path / "run.jsonl")
    journal = ex.journal
    journal.close()
    journal.close()

    with pytest.raises(JournalError, match="it was closed"):
        journal.check_in_step()


def test_a_journal_records_commands_of_its_own_venues_accounts_only(tmp_path):
    ex = Exchange(journal=tmp_path / "run.jsonl")
    ex.create_account("alice", balance="100")
    other = Exchange()
    other.create_account("alice", balance="100")
    stranger = other.account_state("alice")

    with pytest.raises(ValueError, match="is not an account of this venue"):
        ex.journal.record("cancel_open_orders", stranger, "BTCUSDT")


class _Fancy(float):
    def __repr__(self) -> str:
        return "fancy"


class _Count(int):
    pass


@pytest.mark.parametrize(("value", "encoded", "decoded"), [
    (_Fancy(1.5), {"$opaque": "_Fancy: fancy"}, "Opaque('_Fancy: fancy')"),
    (Side.BUY, "BUY", "'BUY'"),
    (_Count(7), 7, "7"),
    (Opaque("list: [1]"), {"$opaque": "list: [1]"}, "Opaque('list: [1]')"),
], ids=["float subclass with its own repr", "str enum", "int subclass", "opaque"])
def test_values_of_odd_types_are_journaled_as_the_engine_reads_them(value, encoded, decoded):
    assert encode(value) == encoded
    assert repr(decode(json.loads(json.dumps(encode(value))))) == decoded


def test_a_response_digest_reads_a_decimal_as_its_journaled_form():
    assert digest({"price": Decimal("1.50")}) == digest({"price": {"$decimal": "1.50"}})
