"""Celery peer: zero-work throughput from 16 client threads and latency one at a time and in batches
of 10 and 100, with valkey-server as broker and result backend and a prefork worker of 2 processes.

    bench/.venv/bin/python bench/peers/python/celery_peer.py --out bench/results/peers/celery.json [--full]
"""

import argparse
import os
import subprocess
import sys
import traceback

import peerlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/peers/celery.json")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--util-pool", default="prefork", help="worker pool of the utilization runs (prefork or threads)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: latency, throughput")
    args = ap.parse_args()
    import celery

    result = {"system": "celery", "version": celery.__version__,
              "setup": f"valkey-server (AOF everysec) as broker and result backend, prefork worker with {args.concurrency} processes, "
                       "prefetch multiplier 4 (default), results stored; utilization: a "
                       f"{args.util_pool} pool of as many slots as Chorus's"}
    vk = peerlib.Valkey()
    worker = None
    try:
        os.environ["PEER_BROKER"], os.environ["PEER_BACKEND"] = vk.url(0), vk.url(1)
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        worker = start_worker(here, ["--pool", "prefork", "--concurrency", str(args.concurrency)])
        from celery_app import app, noop

        # Wait for the worker: a task round trip.
        noop.apply_async().get(timeout=120)
        if "latency" not in args.skip:
            result["latency"] = latency(noop, args.full)
        if "throughput" not in args.skip:
            result["throughput"] = throughput(noop, 100000 if args.full else 20000)
        stop_worker(worker)
        # Utilization: sleep tasks on as many slots as Chorus's scenario.
        slots, plan = peerlib.utilization_plan(args.full)
        worker = start_worker(here, ["--pool", args.util_pool, "--concurrency", str(slots)])
        from celery_app import sleep_ms

        result["utilization"] = [utilization(sleep_ms, slots, ms, n) for ms, n in plan]
    except Exception as e:  # the report shows why a peer could not run
        result["error"] = f"{type(e).__name__}: {e}"
        peerlib.log("celery peer failed:", traceback.format_exc())
    finally:
        stop_worker(worker)
        vk.close()
    peerlib.write_result(args.out, result)
    return 1 if "error" in result else 0


def start_worker(here, pool_args):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "--quiet", "-A", "celery_app", "worker", *pool_args, "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=here, env=os.environ.copy())


def stop_worker(worker):
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def utilization(sleep_ms, slots, ms, tasks):
    from celery.result import ResultSet

    sleep_ms.apply_async(args=[1]).get(timeout=120)  # the new worker is up
    rs = ResultSet([sleep_ms.apply_async(args=[ms]) for _ in range(tasks)])
    spans = rs.join_native(timeout=1200, propagate=True)
    u = peerlib.utilization_result(ms, slots, spans)
    peerlib.log("celery utilization", ms, "ms on", slots, "slots:", round(100 * u["utilization"], 2), "%")
    return u


def latency(noop, full):
    return peerlib.latency("celery", full, lambda batch: [noop.apply_async() for _ in range(batch)],
                           lambda rs: (r.get(timeout=60) for r in rs))


def throughput(noop, tasks):
    from celery.result import ResultSet

    def client(n):
        rs = ResultSet([noop.apply_async() for _ in range(n)])
        rs.join_native(timeout=1200, propagate=True)

    return peerlib.run_clients("celery", tasks, client)

if __name__ == "__main__":
    peerlib.exit_now(main())
