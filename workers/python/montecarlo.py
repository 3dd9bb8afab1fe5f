"""The demo's Python worker: the example worker's methods plus mc_price, one Monte-Carlo pricing task.

mc_price prices a European call by simulating `paths` terminal prices under geometric Brownian motion
(seeded, so a retried task gives the same numbers) and returns the sums the Go reducer (mc_reduce)
merges: {"n": paths, "sum": Σ discounted payoff, "sumsq": Σ discounted payoff²}.
"""

import json
import math
import random

from worker import worker  # the conformance methods of the example worker


@worker.method("mc_price")
def mc_price(ctx):
    p = json.loads(ctx.payload)
    s0, k, r, sigma, t, n = p["s0"], p["k"], p["r"], p["sigma"], p["t"], int(p["paths"])
    rng = random.Random(p["seed"])
    drift, vol, discount = (r - sigma * sigma / 2) * t, sigma * math.sqrt(t), math.exp(-r * t)
    total = total_sq = 0.0
    for _ in range(n):
        payoff = s0 * math.exp(drift + vol * rng.gauss(0.0, 1.0)) - k
        if payoff > 0:
            v = payoff * discount
            total += v
            total_sq += v * v
    return json.dumps({"n": n, "sum": total, "sumsq": total_sq}).encode()


if __name__ == "__main__":
    worker.run()
