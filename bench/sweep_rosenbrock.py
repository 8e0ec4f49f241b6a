"""A sweep of R Adam configurations x T steps on 2-D Rosenbrock: `optbench.sweep` vs optax.adam + vmap + scan.

  python bench/sweep_rosenbrock.py [--configs 1000] [--steps 1000] [--record final|full] [--chunk N] [--x64]
  (on a GPU: --configs 100000, and --configs 1000000 for the one-call million-configuration sweep)

The configurations are a learning-rate x b1 grid. With --record final (the default) both sides keep only the end of
each run (optbench's `Final`: last finite iterate, its value and gradient norm, best value, divergence step); with
--record full both record the whole history (iterates, f(x_k), |grad f(x_k)|). Both are jitted once and timed on new
grid values (no recompilation). Prints the throughput ratio (goal >= 1.0 on a GPU, >= 0.9 on CPU at R = 1000), the
largest difference of the final iterates, and a JSON summary. On CPU, `sweep` compiles with its own XLA options
(`optbench.core._compiler_options`); with --record final the script also times optax compiled with those options and
keeping the same summary, which shows how much of the difference comes from the options and how much from the summary.
"""
import argparse, json, math, resource, statistics, time
import numpy as np
import jax, jax.numpy as jnp, optax
from _timing import interleaved_times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--configs', type=int, default=1000); ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--record', choices=('final', 'full'), default='final'); ap.add_argument('--chunk', type=int, default=None)
    ap.add_argument('--x64', action='store_true'); ap.add_argument('--repeats', type=int, default=30)
    a = ap.parse_args(argv)
    if a.x64: jax.config.update('jax_enable_x64', True)
    import optbench.core as ob, optbench.algorithms  # noqa: F401  (registers the algorithms)
    p = ob.get_problem('rosenbrock'); T, R = a.steps, a.configs
    f = lambda x: p.fn(x, p.knobs)
    dt = jnp.result_type(float); x0 = jnp.asarray(p.x0, dt)
    nb = max(1, int(round(math.sqrt(R / 10)))) if R >= 10 else 1
    b1s = np.linspace(0.5, 0.95, nb); lrs = np.geomspace(1e-3, 1e-1, R // nb)
    R = lrs.size * b1s.size
    LR, B1 = (jnp.asarray(v.ravel(), dt) for v in np.meshgrid(lrs, b1s, indexing='ij'))

    def one(lr, b1):
        opt = optax.adam(lr, b1=b1)
        def step(carry, _):
            x, s = carry
            v, g = jax.value_and_grad(f)(x)
            u, s = opt.update(g, s, x)
            return (optax.apply_updates(x, u), s), ((x, v, jnp.linalg.norm(g)) if a.record == 'full' else None)
        (x, _), h = jax.lax.scan(step, (x0, opt.init(x0)), None, length=T + (a.record == 'full'))
        return h if a.record == 'full' else (x, f(x), jnp.linalg.norm(jax.grad(f)(x)))
    ref = jax.jit(jax.vmap(one))

    def one_summary(lr, b1):
        # optax with the per-step summary that record='final' keeps: first non-finite step, last finite iterate, best value
        opt = optax.adam(lr, b1=b1)
        def step(carry, k):
            x, s, div, xf, best = carry
            v, g = jax.value_and_grad(f)(x)
            div = jnp.where((div < 0) & ~(jnp.isfinite(v) & jnp.all(jnp.isfinite(g))), k, div)
            alive = div < 0
            u, s = opt.update(g, s, x)
            return (optax.apply_updates(x, u), s, div, jnp.where(alive, x, xf), jnp.where(alive, jnp.minimum(best, v), best)), None
        c0 = (x0, opt.init(x0), jnp.int32(-1), x0, jnp.array(jnp.inf, dt))
        (_, _, div, xf, best), _ = jax.lax.scan(step, c0, jnp.arange(T + 1, dtype=jnp.int32))
        return xf, f(xf), jnp.linalg.norm(jax.grad(f)(xf)), best, div
    ref_summary = jax.jit(jax.vmap(one_summary))
    opts = ob._compiler_options(True)   # sweep's XLA options (none on a GPU)
    ref_summary_opts = jax.jit(jax.vmap(one_summary), compiler_options=opts)
    ours = lambda s: ob.sweep('adam', p, T, learning_rate=lrs * s, b1=b1s, record=a.record, chunk_size=a.chunk)

    t0 = time.perf_counter(); jax.block_until_ready(ref(LR, B1)); c_ref = time.perf_counter() - t0
    summary_too, opts_too = a.record == 'final', a.record == 'final' and bool(opts)
    if summary_too: jax.block_until_ready(ref_summary(LR, B1))
    if opts_too: jax.block_until_ready(ref_summary_opts(LR, B1))
    t0 = time.perf_counter(); jax.block_until_ready(ours(1.0)); c_ours = time.perf_counter() - t0
    n0 = ob.compile_count()
    # new grid values in every call (no recompilation); rounds interleaved, so that load on the machine hits both alike
    fs = {'optax': lambda i: ref(LR * (1 + 1e-3 * (i + 1)), B1), 'optbench': lambda i: ours(1 + 1e-3 * (i + 1))}
    if summary_too: fs['optax_summary'] = lambda i: ref_summary(LR * (1 + 1e-3 * (i + 1)), B1)
    if opts_too: fs['optax_summary_opts'] = lambda i: ref_summary_opts(LR * (1 + 1e-3 * (i + 1)), B1)
    ts = interleaved_times(fs, a.repeats)
    t_ref, t_ours = min(ts['optax']), min(ts['optbench'])
    ratio_median = statistics.median(ts['optax']) / statistics.median(ts['optbench'])
    recompiles = ob.compile_count() - n0
    got, want = ours(1.0), ref(LR, B1)
    xs_ours = np.asarray(got.params).reshape(R, -1, 2)[:, -1] if a.record == 'full' else np.asarray(got.params).reshape(R, 2)
    xs_ref = np.asarray(want[0])[:, -1] if a.record == 'full' else np.asarray(want[0])
    ok = np.all(np.isfinite(xs_ref), axis=1)
    err = float(np.max(np.abs(xs_ours[ok] - xs_ref[ok]))) if ok.any() else float('nan')
    ratio = t_ref / t_ours
    if summary_too:   # the two summaries agree: same divergence steps, best values to rounding (float32: chaotic paths differ)
        div_s = np.asarray(ref_summary(LR, B1)[4])
        div_match = float(np.mean(np.asarray(got.diverged_at).reshape(R) == div_s))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"device {jax.devices()[0]}  {R} Adam configurations x {T} steps, record={a.record}, dtype {dt}")
    print(f"  optbench.sweep   {t_ours*1e3:10.1f} ms  ({R*T/t_ours/1e6:8.1f} M steps/s)  compile {c_ours:.1f} s")
    print(f"  optax+vmap+scan  {t_ref*1e3:10.1f} ms  ({R*T/t_ref/1e6:8.1f} M steps/s)  compile {c_ref:.1f} s")
    if summary_too:
        t_sum = min(ts['optax_summary'])
        print(f"  optax+vmap+scan keeping the same summary (divergence step, last finite iterate, best value) "
              f"{t_sum*1e3:.1f} ms: ratio {t_sum / t_ours:.2f}" + (f"; the same compiled with sweep's XLA options "
              f"{min(ts['optax_summary_opts'])*1e3:.1f} ms: ratio {min(ts['optax_summary_opts']) / t_ours:.2f}" if opts_too else ''))
    print(f"  throughput ratio {ratio:.2f} of the fastest calls, {ratio_median:.2f} of the median ones (goal >= 0.9 on CPU, "
          f">= 1.0 on GPU)  recompiles {recompiles}  "
          f"max |x_T diff| {err:.1e}  peak RSS {rss:.2f} GiB" + (f"  same divergence step: {div_match:.0%}" if summary_too else ''))
    summary = dict(device=str(jax.devices()[0]), configs=R, steps=T, record=a.record, dtype=str(dt), optbench_ms=t_ours * 1e3,
                   optax_ms=t_ref * 1e3, ratio=ratio, ratio_median=ratio_median, rounds=a.repeats,
                   ratio_same_summary=(min(ts['optax_summary']) / t_ours) if summary_too else None,
                   ratio_same_summary_same_options=(min(ts['optax_summary_opts']) / t_ours) if opts_too else None,
                   recompiles=recompiles, max_abs_diff=err, peak_rss_gib=rss)
    print(json.dumps(summary))
    return summary

if __name__ == '__main__':
    main()
