"""Slowloris: a flood of half-open connections does not lock out a new client.

The server runs as ``fapisim serve`` under ``prlimit --nofile=1024`` (the common
default), in its own process; this test raises its own soft limit so that it can
hold 1,100 connections, each of which has sent part of a request head and then
nothing.  Past its connection cap the server closes the oldest half-open
connections, so a new client gets its real answer at once — long before the
header timeout would have freed anything.
"""

from __future__ import annotations

import resource
import selectors
import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

from engine.server.transport import FD_RESERVE

HALF_OPEN = 1100
HEADER_TIMEOUT_S = 30

pytestmark = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit")


def _raise_own_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"this process may hold at most {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _open_half_open(addr: tuple[str, int], n: int) -> list[socket.socket]:
    """``n`` connections that each send an unfinished request head, then nothing."""
    socks = []
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(addr)
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    pending, deadline = n, time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _mask in sel.select(timeout=1):
            try:
                key.fileobj.send(b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                pass  # refused or already closed by the server: it counts as tried
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    return socks


def _closed_by_server(socks: list[socket.socket]) -> int:
    closed = 0
    for s in socks:
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def test_1100_half_open_connections_under_1024_descriptors_do_not_lock_out_a_client():
    _raise_own_fd_limit(HALF_OPEN + 512)
    proc = subprocess.Popen(
        ["prlimit", "--nofile=1024", sys.executable, "-m", "engine", "serve", "--port", "0",
         "--header-timeout", str(HEADER_TIMEOUT_S)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    socks: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("fapisim serve: http://127.0.0.1:"), banner
        url = banner.split()[2].removesuffix("/fapi")
        host, port = url.removeprefix("http://").rsplit(":", 1)
        socks = _open_half_open((host, int(port)), HALF_OPEN)
        # the kernel hands the server the connections its backlog dropped as their SYNs
        # are retried: wait until every one past the cap has been shed
        shed_all = HALF_OPEN - (1024 - FD_RESERVE)
        deadline = time.monotonic() + 15
        while _closed_by_server(socks) < shed_all and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _closed_by_server(socks) >= shed_all  # the oldest half-open ones

        t = time.monotonic()
        r = requests.get(url + "/fapi/v1/time", timeout=HEADER_TIMEOUT_S + 10)
        waited = time.monotonic() - t

        assert r.status_code == 200 and "serverTime" in r.json()
        print(f"{HALF_OPEN} half-open connections, {_closed_by_server(socks)} shed; a new "
              f"client answered 200 in {waited * 1e3:.1f} ms")
        assert waited < HEADER_TIMEOUT_S / 3, waited  # served by shedding, not by timeouts
        assert proc.poll() is None
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert "Traceback" not in err and "Too many open files" not in err, err[-2000:]
