"""Timing helpers shared by the benchmark scripts (run them as `python bench/<script>.py`)."""
import statistics, time
import jax

def median_time(f, n):
    "Median wall time of n calls f(0), ..., f(n-1), each blocked until its result is ready."
    ts = []
    for i in range(n):
        t0 = time.perf_counter(); jax.block_until_ready(f(i)); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def interleaved_times(fs:dict, rounds:int) -> dict:
    """Wall times of `rounds` rounds in which every f(i) of `fs` runs once, blocked until ready: {name: [seconds]}.
    Interleaving makes load on a shared machine hit all contenders alike; the minimum over rounds is the least
    disturbed measurement, the median a typical one."""
    ts = {k: [] for k in fs}
    for i in range(rounds):
        for k, f in fs.items():
            t0 = time.perf_counter(); jax.block_until_ready(f(i)); ts[k].append(time.perf_counter() - t0)
    return ts
