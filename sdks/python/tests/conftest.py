"""A real Chorus for the client tests: `bin/chorus dev` (valkey-server, gateway, an agent running the Go
example worker in partition "go"), once per test session."""

import re
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHORUS = ROOT / "bin" / "chorus"


def start_dev(data, *args, until="Press Ctrl-C", want=("gRPC", "Valkey")):
    """Starts `bin/chorus dev` (its data in the folder data, more flags in args) and reads its banner up
    to the line starting with until. Returns the process, the banner's values ({"gRPC": address,
    "Valkey": address, "TOKEN": the printed token with --auth, "data": data}) and the lines read; fails
    the test when a value named in want is missing."""
    if not (CHORUS.exists() and (ROOT / "bin" / "chorus-worker-go").exists()):
        pytest.fail(f"{CHORUS} or bin/chorus-worker-go is missing: run `make build` (make test-python does)")
    proc = subprocess.Popen([str(CHORUS), "dev", "--data-dir", str(data), "--grpc-addr", "127.0.0.1:0",
                             "--http-addr", "127.0.0.1:0", "--log-level", "warn", "--python", "/nonexistent", *args],
                            stderr=subprocess.PIPE, text=True)
    found, lines = {"data": data}, []
    for line in proc.stderr:
        lines.append(line)
        m = re.match(r"\s+(gRPC|Valkey)\s+(\S+)", line) or re.match(r"\s+export CHORUS_(TOKEN)=(\S+)", line)
        if m:
            found[m.group(1)] = m.group(2)
        if line.startswith(until):
            break
    if any(k not in found for k in want):
        proc.kill()
        pytest.fail(f"chorus dev {' '.join(args)} did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [lines.append(x) for x in proc.stderr], daemon=True).start()
    return proc, found, lines


def stop_dev(proc, lines):
    """Stops a `chorus dev` of start_dev and checks it exited cleanly."""
    proc.terminate()
    assert proc.wait(timeout=60) == 0, "".join(lines)


@pytest.fixture(scope="session")
def chorus_dev():
    """start_dev and stop_dev, for the tests that run a `chorus dev` with flags of their own."""
    return start_dev, stop_dev


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory):
    """Yields {"gRPC": address, "Valkey": address, "data": folder} of a running `chorus dev`."""
    proc, found, lines = start_dev(tmp_path_factory.mktemp("chorus-dev"))
    yield found
    stop_dev(proc, lines)
