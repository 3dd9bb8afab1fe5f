"""A real Chorus for the client tests: `bin/chorus dev` (valkey-server, gateway, an agent running the Go
example worker in partition "go"), once per test session."""

import re
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHORUS = ROOT / "bin" / "chorus"


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory):
    """Yields {"gRPC": address, "Valkey": address, "data": folder} of a running `chorus dev`."""
    if not (CHORUS.exists() and (ROOT / "bin" / "chorus-worker-go").exists()):
        pytest.fail(f"{CHORUS} or bin/chorus-worker-go is missing: run `make build` (make test-python does)")
    data = tmp_path_factory.mktemp("chorus-dev")
    proc = subprocess.Popen([str(CHORUS), "dev", "--data-dir", str(data), "--grpc-addr", "127.0.0.1:0",
                             "--http-addr", "127.0.0.1:0", "--log-level", "warn", "--python", "/nonexistent"],
                            stderr=subprocess.PIPE, text=True)
    found, lines = {"data": data}, []
    for line in proc.stderr:
        lines.append(line)
        m = re.match(r"\s+(gRPC|Valkey)\s+(\S+)", line)
        if m:
            found[m.group(1)] = m.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    if "gRPC" not in found or "Valkey" not in found:
        proc.kill()
        pytest.fail("chorus dev did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [lines.append(x) for x in proc.stderr], daemon=True).start()
    yield found
    proc.terminate()
    assert proc.wait(timeout=60) == 0, "".join(lines)
