"""`sweep` shards its configurations over all local devices. CI has one CPU device, so these tests start a fresh Python
with XLA's host-platform device count set to 2 (the flag must be set before JAX starts) and compare with one device."""
import json, os, subprocess, sys, textwrap

SCRIPT = textwrap.dedent('''
    import json, jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    from optbench.core import sweep
    import optbench.algorithms
    out = {"devices": len(jax.local_devices())}
    for rec in ("full", "final"):
        # 7 learning rates x 3 seeds = 21 configurations: not a multiple of 2 devices, and 2 chunks of 12
        kw = dict(learning_rate=np.geomspace(1e-4, 2e-3, 7), seeds=3, noise=0.5, record=rec)
        a = sweep("heavy_ball", "rosenbrock", 200, **kw)
        b = sweep("heavy_ball", "rosenbrock", 200, devices=jax.local_devices()[:1], **kw)
        c = sweep("heavy_ball", "rosenbrock", 200, chunk_size=11, **kw)
        out[rec] = {"shape": list(a.params.shape),
                    "sharded_vs_one": max(float(np.nanmax(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b)),
                    "chunked_vs_one": max(float(np.nanmax(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(c, b)),
                    "out_devices": len(a.params.sharding.device_set) if hasattr(a.params, "sharding") else 0}
    print(json.dumps(out))
''')

def test_sweep_sharded_over_two_devices_equals_one_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    assert out["full"]["shape"] == [7, 3, 201, 2] and out["final"]["shape"] == [7, 3, 2]
    for rec in ("full", "final"):
        # the same arithmetic per configuration; XLA may vectorize a batch of another size differently (rounding only)
        assert out[rec]["sharded_vs_one"] < 1e-12, out
        assert out[rec]["chunked_vs_one"] < 1e-12, out
    assert out["final"]["out_devices"] == 2                 # the result stays sharded: it was computed on both devices
