"""The benchmark scripts in bench/ run (tiny sizes) and print their JSON summary with the ratios they promise.
Speed goals are checked by running the scripts at full size, not here: this only keeps them from rotting."""
import json, subprocess, sys
from pathlib import Path
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
CASES = {
    "trajectory.py": (["--steps", "50", "--calls", "3", "--configs", "20", "--repeats", "1"], ["run_ratio", "sweep_throughput_ratio"]),
    "sweep_rosenbrock.py": (["--configs", "40", "--steps", "50", "--repeats", "1"], ["ratio", "max_abs_diff"]),
    "adam_update.py": (["--log2n", "12", "--repeats", "2"], ["ratio_vs_optax", "optbench_fraction_of_copy"]),
    "newton_step.py": (["--dims", "50", "--repeats", "1"], None),
}

@pytest.mark.parametrize("script", sorted(CASES))
def test_bench_script_runs(script):
    args, keys = CASES[script]
    r = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600,
                       env={"JAX_PLATFORMS": "cpu", **__import__("os").environ})
    assert r.returncode == 0, r.stderr[-3000:]
    if keys is None: return
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    for k in keys: assert k in summary and summary[k] == summary[k], (k, summary)   # present and not NaN
