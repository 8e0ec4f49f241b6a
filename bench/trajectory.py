"""Runner overhead and sweep throughput, each measured against a baseline in the same process.

  python bench/trajectory.py [--steps 1000] [--calls 50] [--configs 1000] [--x64]

1. A `steps`-step gradient-descent trajectory on 2-D Rosenbrock, with a NEW stepsize on every call, through
   `optbench.run` vs a hand-written jitted `lax.scan` of the same update (goal: ratio <= 1.5, 0 recompiles).
2. `optbench.sweep` over `configs` learning rates x `steps` steps vs optax.sgd + vmap + scan recording the same
   trajectory (goal: throughput ratio >= 0.9).
Prints one line per measurement and a JSON summary on the last line.
"""
import argparse, json, math, statistics, time
import numpy as np
import jax, jax.numpy as jnp, optax
from _timing import median_time as _time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=1000); ap.add_argument('--calls', type=int, default=50)
    ap.add_argument('--configs', type=int, default=1000); ap.add_argument('--x64', action='store_true')
    ap.add_argument('--repeats', type=int, default=5)
    a = ap.parse_args(argv)
    if a.x64: jax.config.update('jax_enable_x64', True)
    import optbench.core as ob
    p = ob.get_problem('rosenbrock'); T = a.steps
    f = lambda x: p.fn(x, p.knobs)
    x0 = jnp.asarray(p.x0, jnp.result_type(float))
    lrs = np.geomspace(1e-4, 1.5e-3, a.calls + 1)

    # --- 1. single trajectory, new stepsize each call ---------------------------------------------------------
    @jax.jit
    def baseline(lr, x0):
        def step(x, _):
            return x - lr * jax.grad(f)(x), x
        x, xs = jax.lax.scan(step, x0, None, length=T)
        return jnp.concatenate([xs, x[None]])
    @jax.jit
    def baseline_hist(lr, x0):
        "The same update, recording what a Trace holds: iterates, f(x_k) and |grad f(x_k)|."
        def step(x, _):
            v, g = jax.value_and_grad(f)(x)
            return x - lr * g, (x, v, jnp.linalg.norm(g))
        return jax.lax.scan(step, x0, None, length=T + 1)[1]
    baseline(lrs[0], x0).block_until_ready(); jax.block_until_ready(baseline_hist(lrs[0], x0))
    ob.run('gd', p, T, learning_rate=float(lrs[0]))
    n0 = ob.compile_count()
    t_base = t_base_hist = t_ours = math.inf
    for _ in range(a.repeats):   # interleaved, so that a load spike on the machine hits all three alike
        t_base = min(t_base, _time(lambda i: baseline(lrs[i + 1], x0), a.calls))
        t_base_hist = min(t_base_hist, _time(lambda i: baseline_hist(lrs[i + 1], x0), a.calls))
        t_ours = min(t_ours, _time(lambda i: ob.run('gd', p, T, learning_rate=float(lrs[i + 1])).params, a.calls))
    recompiles = ob.compile_count() - n0
    tr = ob.run('gd', p, T, learning_rate=float(lrs[3])); ref = baseline(lrs[3], x0)
    err = float(jnp.max(jnp.abs(tr.params - ref)))
    r1 = t_ours / t_base
    print(f"trajectory  {T} steps: optbench.run {t_ours*1e3:8.3f} ms  hand-written scan {t_base*1e3:8.3f} ms  "
          f"ratio {r1:.2f} (goal <= 1.5)  recompiles {recompiles} (goal 0)  max |diff| {err:.1e}")
    print(f"  same history (iterates, f, |grad f|): hand-written scan {t_base_hist*1e3:8.3f} ms  ratio {t_ours / t_base_hist:.2f}")

    # --- 2. sweep throughput ----------------------------------------------------------------------------------
    R = a.configs; grid = jnp.asarray(np.geomspace(1e-4, 1.5e-3, R))
    def opt_one(lr):
        opt = optax.sgd(lr)
        def step(carry, _):
            x, s = carry
            u, s = opt.update(jax.grad(f)(x), s, x)
            return (optax.apply_updates(x, u), s), x
        (x, _), xs = jax.lax.scan(step, (x0, opt.init(x0)), None, length=T)
        return jnp.concatenate([xs, x[None]])
    optax_sweep = jax.jit(jax.vmap(opt_one))
    def opt_hist(lr):
        "The same, recording what a Trace holds: iterates, f(x_k) and |grad f(x_k)| (plus oracle calls)."
        opt = optax.sgd(lr)
        def step(carry, k):
            x, s = carry
            v, g = jax.value_and_grad(f)(x)
            u, s = opt.update(g, s, x)
            return (optax.apply_updates(x, u), s), (x, v, jnp.linalg.norm(g), k)
        _, h = jax.lax.scan(step, (x0, opt.init(x0)), jnp.arange(T + 1))
        return h
    optax_hist = jax.jit(jax.vmap(opt_hist))
    optax_sweep(grid).block_until_ready(); jax.block_until_ready(optax_hist(grid)); ob.sweep('gd', p, T, learning_rate=grid)
    t_optax = t_hist = t_sweep = math.inf
    for _ in range(a.repeats):   # interleaved, so that a load spike on the machine hits all three alike
        t_optax = min(t_optax, _time(lambda i: optax_sweep(grid * (1 + 1e-3 * i)), 5))
        t_hist = min(t_hist, _time(lambda i: optax_hist(grid * (1 + 1e-3 * i)), 5))
        t_sweep = min(t_sweep, _time(lambda i: ob.sweep('gd', p, T, learning_rate=grid * (1 + 1e-3 * i)).params, 5))
    sw = ob.sweep('gd', p, T, learning_rate=grid)
    err2 = float(jnp.max(jnp.abs(sw.params - optax_sweep(grid))))
    thr = R * T / t_sweep; thr_optax = R * T / t_optax; r2 = thr / thr_optax; r3 = t_hist / t_sweep
    print(f"sweep {R} x {T} steps: optbench.sweep {t_sweep*1e3:8.1f} ms ({thr/1e6:.1f} M steps/s)  "
          f"optax+vmap+scan {t_optax*1e3:8.1f} ms ({thr_optax/1e6:.1f} M steps/s)  throughput ratio {r2:.2f} (goal >= 0.9)  "
          f"max |diff| {err2:.1e}")
    print(f"  same history (iterates, f, |grad f|, calls): optax+vmap+scan {t_hist*1e3:8.1f} ms  throughput ratio {r3:.2f}")
    summary = dict(device=str(jax.devices()[0]), dtype=str(x0.dtype), steps=T, run_ms=t_ours * 1e3, scan_ms=t_base * 1e3,
                   run_ratio=r1, run_ratio_same_history=t_ours / t_base_hist, recompiles=recompiles, sweep_configs=R, sweep_ms=t_sweep * 1e3, optax_ms=t_optax * 1e3,
                   sweep_throughput_ratio=r2, optax_same_history_ms=t_hist * 1e3, sweep_throughput_ratio_same_history=r3)
    print(json.dumps(summary))
    return summary

if __name__ == '__main__':
    main()
