"""Every code block of README.md runs here, against a real Chorus: `bin/chorus dev` (conftest.py) plus
a `bin/chorus agent` whose "python" partition runs the README's worker block as its worker process.
Client blocks run as written, with the gateway's real address in place of the documented one."""

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chorus.client import Client

ROOT = Path(__file__).resolve().parents[3]
CHORUS = ROOT / "bin" / "chorus"
README = Path(__file__).resolve().parents[1] / "README.md"
DOC_ADDRESS = '"127.0.0.1:7070"'


def blocks():
    """The README's ```python blocks, in order."""
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def drain(stream, lines):
    threading.Thread(target=lambda: [lines.append(x) for x in stream], daemon=True).start()


@pytest.fixture(scope="module")
def stack(dev_stack, tmp_path_factory):
    data = tmp_path_factory.mktemp("chorus-readme")
    worker_blocks = [b for b in blocks() if "worker.run()" in b]
    if not worker_blocks:
        pytest.fail("README.md has no worker block")
    script = data / "readme_worker.py"
    script.write_text(worker_blocks[0])
    config = data / "agent.yaml"
    config.write_text(f"partitions:\n  - name: python\n    command: {sys.executable}\n    args: [{str(script)!r}]\n"
                      "    processes: 1\n    capacity: 2\n")
    agent_lines = []
    agent = subprocess.Popen([str(CHORUS), "agent", "--config", str(config), "--valkey-addr", dev_stack["Valkey"],
                              "--objstore-dir", str(dev_stack["data"] / "objects"), "--metrics-addr", "", "--log-level", "warn"],
                             stderr=subprocess.PIPE, text=True)
    drain(agent.stderr, agent_lines)
    with Client(dev_stack["gRPC"]) as c:  # the gateway takes the partition once the agent's heartbeat is in
        deadline = time.monotonic() + 60
        while not any(p.partition_id == "python" and p.agents for p in c.partitions()):
            if agent.poll() is not None or time.monotonic() > deadline:
                agent.kill()
                pytest.fail("the README worker's agent did not come up:\n" + "".join(agent_lines))
            time.sleep(0.1)
    yield dev_stack["gRPC"]
    agent.terminate()
    assert agent.wait(timeout=60) == 0, "".join(agent_lines)


def test_readme_has_the_blocks_this_test_expects():
    bs = blocks()
    assert sum("worker.run()" in b for b in bs) == 1
    assert sum(DOC_ADDRESS in b for b in bs) >= 2  # the sync and the asyncio client


@pytest.mark.parametrize("index", [i for i, b in enumerate(blocks()) if "worker.run()" not in b])
def test_readme_block_runs(stack, index):
    code = blocks()[index]
    assert DOC_ADDRESS in code, f"README block {index} does not talk to the documented gateway address"
    env = {"__name__": f"readme_block_{index}"}
    exec(compile(code.replace(DOC_ADDRESS, repr(stack)), f"README.md block {index}", "exec"), env)
