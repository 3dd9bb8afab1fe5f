"""Dask distributed peer: zero-work throughput from 16 client threads and latency one at a time and in
batches of 10 and 100, on a LocalCluster of 2 worker processes with 1 thread each.

    bench/.venv/bin/python bench/peers/python/dask_peer.py --out bench/results/peers/dask.json [--full]

Dask's Client.submit returns before the scheduler has the task, so "submission" here is the time of
the submit/map call (not an acknowledged write, unlike Chorus's SubmitTasks and Celery's publish).
"""

import argparse
import time
import traceback

import peerlib


def noop(_i):
    return None


def sleep_ms(ms):
    start = time.time()
    time.sleep(ms / 1000)
    return (start, time.time())


def utilization(client, slots, ms, tasks):
    futs = client.map(sleep_ms, [ms] * tasks, pure=False)
    spans = client.gather(futs)
    u = peerlib.utilization_result(ms, slots, spans)
    peerlib.log("dask utilization", ms, "ms on", slots, "slots:", round(100 * u["utilization"], 2), "%")
    return u


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/peers/dask.json")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    import distributed
    from distributed import Client, LocalCluster

    result = {"system": "dask-distributed", "version": distributed.__version__,
              "setup": f"LocalCluster, {args.workers} worker processes x 1 thread, in-memory scheduler (no broker, nothing persisted)"}
    try:
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            client.submit(noop, -1, pure=False).result(timeout=60)
            result["latency"] = latency(client, args.full)
            result["throughput"] = throughput(client, 100000 if args.full else 20000)
        # Utilization: sleep tasks on as many slots as Chorus's scenario (threads: sleeping needs no CPU).
        slots, plan = peerlib.utilization_plan(args.full)
        with LocalCluster(n_workers=args.workers, threads_per_worker=slots // args.workers, processes=True,
                          dashboard_address=None, host="127.0.0.1") as cluster, Client(cluster) as client:
            client.submit(sleep_ms, 1, pure=False).result(timeout=60)
            result["utilization"] = [utilization(client, slots, ms, n) for ms, n in plan]
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"
        peerlib.log("dask peer failed:", traceback.format_exc())
    peerlib.write_result(args.out, result)
    return 1 if "error" in result else 0


def latency(client, full):
    from distributed import as_completed

    def submit(batch):
        return client.map(noop, range(batch), pure=False) if batch > 1 else [client.submit(noop, 0, pure=False)]

    return peerlib.latency("dask", full, submit, lambda futs: (f.result() for f in as_completed(futs)))


def throughput(client, tasks):
    from distributed import wait

    def run(n):
        futs = client.map(noop, range(n), pure=False)
        wait(futs, timeout=1200)
        bad = [f for f in futs if f.status != "finished"]
        if bad:
            raise RuntimeError(f"{len(bad)} dask tasks did not finish")

    return peerlib.run_clients("dask", tasks, run)

if __name__ == "__main__":
    peerlib.exit_now(main())
