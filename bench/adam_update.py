"""One Adam update on N float32 parameters: optbench's `adam` vs optax.adam, and vs a plain copy of the same bytes.

  python bench/adam_update.py [--log2n 24] [--repeats 20]      # the issue's size on a GPU: --log2n 28

An Adam step reads params, grads, m and v and writes params, m and v: 7 N float32 values. The baseline is the same
memory traffic with no arithmetic (a jitted read of four arrays and write of three, buffers donated), so
`adam_bytes_per_s / copy_bytes_per_s` is the fraction of the attainable memory bandwidth. Both updates are jitted with
their buffers donated (in place), on whatever device JAX picks. Prints one line per measurement and a JSON summary.
"""
import argparse, json, statistics, time
import numpy as np
import jax, jax.numpy as jnp, optax

def _median_time(step, args, repeats):
    "Median wall time of `repeats` calls of step(*args) -> args (donated in place), after one warm-up call."
    args = jax.block_until_ready(step(*args)); ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); args = jax.block_until_ready(step(*args)); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), args

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--log2n', type=int, default=24); ap.add_argument('--repeats', type=int, default=20)
    a = ap.parse_args(argv)
    from optbench.optimizers.adaptive import adam
    N = 2**a.log2n; lr = 1e-3
    key = jax.random.PRNGKey(0)
    g = jax.random.normal(key, (N,), jnp.float32)
    def fresh(): return jnp.zeros((N,), jnp.float32) + 1.0

    def make_step(opt):
        def step(p, s, g):
            u, s = opt.update(g, s, p)
            return optax.apply_updates(p, u), s, g
        return jax.jit(step, donate_argnums=(0, 1))                 # params and state updated in place

    res = {}
    for name, opt in (('optbench', adam(lr)), ('optax', optax.adam(lr))):
        p = fresh(); s = opt.init(p)
        t, (p, s, _) = _median_time(make_step(opt), (p, s, g), a.repeats)
        res[name] = (t, np.asarray(p[:1000]))
        del p, s
    copy = jax.jit(lambda p, m, v, g: (p + 0 * g, m * 1, v * 1, g), donate_argnums=(0, 1, 2))
    t_copy, _ = _median_time(copy, (fresh(), fresh(), fresh(), g), a.repeats)
    # the same result after the same number of steps (warm-up + repeats), to float32 rounding
    err = float(np.max(np.abs(res['optbench'][1] - res['optax'][1])))
    nbytes = 7 * N * 4
    bw = {k: nbytes / t for k, (t, _) in res.items()}; bw_copy = nbytes / t_copy
    ratio = res['optax'][0] / res['optbench'][0]
    print(f"device {jax.devices()[0]}  N = 2^{a.log2n} = {N} float32")
    for k, (t, _) in res.items():
        print(f"  {k:9s} adam step {t*1e3:9.3f} ms  {bw[k]/1e9:8.1f} GB/s  fraction of copy bandwidth {bw[k]/bw_copy:.2f}")
    print(f"  copy of the same bytes {t_copy*1e3:9.3f} ms  {bw_copy/1e9:8.1f} GB/s")
    print(f"  speed ratio optbench/optax {ratio:.2f} (goal >= 0.95)  max |diff| of params after {a.repeats + 1} steps {err:.1e}")
    summary = dict(device=str(jax.devices()[0]), log2n=a.log2n, optbench_ms=res['optbench'][0] * 1e3, optax_ms=res['optax'][0] * 1e3,
                   copy_ms=t_copy * 1e3, ratio_vs_optax=ratio, optbench_fraction_of_copy=bw['optbench'] / bw_copy,
                   optax_fraction_of_copy=bw['optax'] / bw_copy, max_abs_diff=err)
    print(json.dumps(summary))
    return summary

if __name__ == '__main__':
    main()
