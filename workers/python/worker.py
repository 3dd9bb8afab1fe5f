"""The Python example worker: the conformance methods every Chorus example worker serves.

echo, sha256, fail, sleep and fanout (with its reducer, concat), and flaky (fails retryably on its first
attempt, echoes on later ones) for retry tests, as the Go example worker does. The agent launches it with
CHORUS_AGENT_SOCKET and CHORUS_WORKER_TOKEN set; CHORUS_WORKER_CAPACITY (default 1) says how many tasks
it runs at once.
"""

import hashlib

from chorus.worker import PermanentError, Subtask, Worker

worker = Worker()


@worker.method("echo")
def echo(ctx):
    return ctx.payload


@worker.method("sha256")
def sha256(ctx):
    return hashlib.sha256(ctx.payload).hexdigest().encode("ascii")


@worker.method("fail")
def fail(ctx):
    raise PermanentError(ctx.payload.decode("utf-8", errors="replace"))  # the conformance fail is final


@worker.method("flaky")
def flaky(ctx):
    if ctx.attempt == 1:
        raise RuntimeError("flaky: attempt 1 fails on purpose")  # a plain exception: retryable by default
    return ctx.payload


@worker.method("sleep")
def sleep(ctx):
    ms = _count(ctx.payload, "sleep")
    ctx.sleep(ms / 2000)  # raises chorus.worker.Cancelled if the task is cancelled meanwhile
    ctx.progress(0.5, "half way")
    ctx.sleep(ms / 2000)
    return ctx.payload


@worker.method("fanout")
def fanout(ctx):
    n = _count(ctx.payload, "fanout")
    if len(ctx.expected_output_ids) != 1:
        raise PermanentError(f"fanout: expects one output, got {len(ctx.expected_output_ids)}")
    parts = ctx.create_results(n)
    subtasks = [Subtask("sha256", str(i).encode(), expected_output_ids=[rid]) for i, rid in enumerate(parts)]
    # The reducer completes this task's own output: the hand-off.
    subtasks.append(Subtask("concat", data_dependencies=parts, expected_output_ids=ctx.expected_output_ids))
    ctx.submit_many(subtasks)
    return None


@worker.method("concat")
def concat(ctx):
    return b"".join(ctx.inputs.values())


def _count(payload, method):
    text = payload.decode("ascii", errors="replace")
    if not text.isdigit():
        raise PermanentError(f"{method}: payload {text!r} is not a non-negative whole number")
    return int(text)


if __name__ == "__main__":
    worker.run()
