"""Timing helper shared by the benchmark scripts (run them as `python bench/<script>.py`)."""
import statistics, time
import jax

def median_time(f, n):
    "Median wall time of n calls f(0), ..., f(n-1), each blocked until its result is ready."
    ts = []
    for i in range(n):
        t0 = time.perf_counter(); jax.block_until_ready(f(i)); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
