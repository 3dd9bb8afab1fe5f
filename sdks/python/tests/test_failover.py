"""The Python client across several gateways: one SIGKILLed and one frozen (SIGSTOP) mid-wait."""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from chorus.client import Client, Graph

ROOT = Path(__file__).resolve().parents[3]
CHORUS = ROOT / "bin" / "chorus"


def _start(args, pattern):
    proc = subprocess.Popen([str(CHORUS), *args], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CHORUS_PYTHON": "/nonexistent"})
    found, lines = {}, []
    for line in proc.stderr:
        lines.append(line)
        for name, rx in pattern.items():
            m = re.search(rx, line)
            if m:
                found[name] = m.group(1)
        if len(found) == len(pattern):
            break
    if len(found) < len(pattern):
        proc.kill()
        pytest.fail(f"chorus {args[0]} did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, found


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not (CHORUS.exists() and (ROOT / "bin" / "chorus-worker-go").exists()):
        pytest.fail(f"{CHORUS} or bin/chorus-worker-go is missing: run `make build` (make test-python does)")
    data = tmp_path_factory.mktemp("chorus-dev")
    dev, found = _start(["dev", "--data-dir", str(data), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
                         "--log-level", "warn"], {"grpc": r"^\s+gRPC\s+(\S+)", "valkey": r"^\s+Valkey\s+(\S+)"})
    gateways = []
    for _ in range(2):
        gw, addr = _start(["gateway", "--valkey-addr", found["valkey"], "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
                           "--objstore-dir", str(data / "objects"), "--log-level", "error"], {"grpc": r"gRPC on ([^,\s]+)"})
        gateways.append((gw, addr["grpc"]))
    yield found["grpc"], gateways
    for gw, _ in gateways:
        gw.send_signal(signal.SIGCONT)
        gw.kill()
        gw.wait()
    dev.terminate()
    assert dev.wait(timeout=60) == 0


def test_wait_and_submit_survive_two_gateways_failing(stack):
    dev_addr, gateways = stack
    (g1, a1), (g2, a2) = gateways
    with Client(f"{a1},{a2},{dev_addr}") as c:
        s = c.create_session(partition="go")
        g = Graph()
        slow = g.task("sleep", b"3000")
        s.submit(g)
        got = {}
        waiter = threading.Thread(target=lambda: got.update(data=s.wait_and_download(slow.output)))
        waiter.start()
        while s.task(slow.task_id).status != 4:  # TASK_STATUS_RUNNING: the wait's watch is open
            time.sleep(0.05)
        g1.kill()  # the gateway the client uses dies ...
        g2.send_signal(signal.SIGSTOP)  # ... and the next one freezes
        start = time.monotonic()
        waiter.join(timeout=120)
        assert not waiter.is_alive(), "wait_and_download did not return after two of three gateways failed"
        assert got.get("data"), "wait_and_download returned no data"
        print(f"the wait ended {time.monotonic() - start:.1f}s after two of three gateways failed")
        g = Graph()
        h = g.task("sha256", b"hello")
        s.submit(g)
        assert s.wait_and_download(h.output)[:16] == b"2cf24dba5fb0a30e"
    # A call that cannot reach a dead gateway goes to the next, idempotent or not.
    with Client([a1, dev_addr]) as c:
        assert c.create_session(partition="go").id
    # A call to a frozen gateway has a deadline and moves on to the next one.
    with Client([a2, dev_addr], call_timeout=5) as c:
        start = time.monotonic()
        assert c.session(s.id).get().session_id == s.id
        print(f"a call found its way past the frozen gateway in {time.monotonic() - start:.1f}s")
