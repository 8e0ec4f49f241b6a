"""One Newton step (Hessian + Cholesky solve) in JAX, jitted, against numpy/scipy on the same problem, in one process.

  python bench/newton_step.py [--dims 1000,4000] [--n 500] [--repeats 3] [--dtypes float64,float32]

Objective: a dense convex quadratic plus logistic loss,
    f(x) = x'Qx/2 + (1/n) sum_i log(1 + exp(-b_i a_i'x)),   Q = B'B/d + I,
with Hessian  H = Q + A' diag(s_i (1 - s_i)) A / n,  s = sigmoid(b * Ax).  For each dimension d and dtype it times
(median of `repeats` calls, 1 for d > 2000, after one warm-up call for the JAX functions, which compiles them):

  jax_step_closed   jitted: gradient + closed-form Hessian + cho_factor/cho_solve + step      (optbench's linear algebra)
  jax_step_autodiff jitted: the same with H = jax.hessian(f)(x) (forward-over-reverse), as optbench's oracle does
  jax_solve         jitted cho_factor/cho_solve alone, on a Hessian already on the device
  numpy_solve       numpy.linalg.solve(H, g) on the same Hessian (LU)
  scipy_cho_solve   scipy.linalg.cho_factor/cho_solve on the same Hessian
  scipy_step        end-to-end numpy/scipy step: numpy gradient + closed-form Hessian (BLAS) + scipy cho_solve

and prints the times, the ratios numpy-or-scipy / JAX (> 1: JAX is faster) and the agreement of the steps. JAX runs
on its default device (a GPU if JAX has one; not required), numpy and scipy on the CPU. The last line is a JSON
summary. With the defaults it finishes in well under 2 minutes on 2 CPU cores.
"""
import argparse, json, statistics, time
import numpy as np
import scipy.linalg
import jax, jax.numpy as jnp
import jax.scipy.linalg as jsl

def _time(f, repeats, warmup=True):
    "Median wall time of `repeats` calls of f (blocked until ready), after one warm-up call if `warmup` (JAX compiles)."
    t0 = time.perf_counter(); out = jax.block_until_ready(f()); warm = time.perf_counter() - t0
    ts = [] if warmup else [warm]
    for _ in range(repeats - (0 if warmup else 1)):
        t0 = time.perf_counter(); jax.block_until_ready(f()); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), warm, out

def problem(n, d, seed=0):
    "Data of the quadratic-plus-logistic objective (float64 numpy) and a point x."
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(d, d)) / np.sqrt(d)
    Q = B.T @ B / d + np.eye(d)
    A = rng.normal(size=(n, d)) / np.sqrt(d)
    b = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0)
    return Q, A, b, rng.normal(size=d)

def jax_fns(Q, A, b):
    n = A.shape[0]
    def f(x): return 0.5 * x @ (Q @ x) + jnp.mean(jnp.logaddexp(0., -b * (A @ x)))
    def grad(x): return Q @ x - A.T @ (b * jax.nn.sigmoid(-b * (A @ x))) / n
    def hess(x):
        z = b * (A @ x); w = jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)
        return Q + (A.T * w) @ A / n
    def step(H, g, x): return x - jsl.cho_solve(jsl.cho_factor(H, lower=True), g)
    closed = jax.jit(lambda x: step(hess(x), grad(x), x))
    autodiff = jax.jit(lambda x: step(jax.hessian(f)(x), jax.grad(f)(x), x))
    solve = jax.jit(lambda H, g: jsl.cho_solve(jsl.cho_factor(H, lower=True), g))
    return closed, autodiff, solve, jax.jit(hess), jax.jit(grad)

def numpy_step(Q, A, b, x):
    "The end-to-end numpy/scipy Newton step (closed-form gradient and Hessian, Cholesky solve)."
    n = A.shape[0]
    z = b * (A @ x); s = 1 / (1 + np.exp(z))                # sigmoid(-z)
    g = Q @ x - A.T @ (b * s) / n
    H = Q + (A.T * (s * (1 - s))) @ A / n
    return x - scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, lower=True, check_finite=False), g, check_finite=False)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dims', default='1000,4000'); ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--dtypes', default='float64,float32')
    a = ap.parse_args(argv)
    jax.config.update('jax_enable_x64', True)
    dev = jax.devices()[0]
    print(f"jax {jax.__version__} on {dev.platform} ({dev.device_kind}); numpy {np.__version__}, scipy {scipy.__version__}")
    summary, t_start = [], time.perf_counter()
    for d in [int(v) for v in a.dims.split(',')]:
        Q64, A64, b64, x64 = problem(a.n, d)
        for dt in a.dtypes.split(','):
            Q, A, b, x = (v.astype(dt) for v in (Q64, A64, b64, x64))
            closed, autodiff, solve, hess, grad = jax_fns(*(jnp.asarray(v) for v in (Q, A, b)))
            xj = jnp.asarray(x)
            r = {'d': d, 'n': a.n, 'dtype': dt, 'device': dev.platform}
            reps = a.repeats if d <= 2000 else 1
            r['jax_step_closed'], r['jax_step_closed_warmup'], step_j = _time(lambda: closed(xj), reps)
            r['jax_step_autodiff'], r['jax_step_autodiff_warmup'], step_ad = _time(lambda: autodiff(xj), reps)
            Hj, gj = jax.block_until_ready(hess(xj)), jax.block_until_ready(grad(xj))
            H, g = np.asarray(Hj), np.asarray(gj)
            r['jax_solve'], _, sol_j = _time(lambda: solve(Hj, gj), reps)
            r['numpy_solve'], _, sol_np = _time(lambda: np.linalg.solve(H, g), reps, warmup=False)
            r['scipy_cho_solve'], _, sol_sp = _time(
                lambda: scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, lower=True, check_finite=False), g, check_finite=False),
                reps, warmup=False)
            r['scipy_step'], _, step_sp = _time(lambda: numpy_step(Q, A, b, x), reps, warmup=False)
            ref = x64 - np.linalg.solve(*[np.asarray(v, np.float64) for v in (H, g)])   # float64 reference on the same H
            scale = np.abs(x64 - ref).max()
            r['rel_err'] = {k: float(np.abs(np.asarray(v, np.float64) - w).max() / scale) for k, v, w in
                            (('jax_step_closed', step_j, ref), ('jax_step_autodiff', step_ad, ref), ('scipy_step', step_sp, ref),
                             ('jax_solve', sol_j, x64 - ref), ('numpy_solve', sol_np, x64 - ref), ('scipy_cho_solve', sol_sp, x64 - ref))}
            r['ratio_numpy_solve_over_jax_solve'] = r['numpy_solve'] / r['jax_solve']
            r['ratio_scipy_cho_solve_over_jax_solve'] = r['scipy_cho_solve'] / r['jax_solve']
            r['ratio_scipy_step_over_jax_step'] = r['scipy_step'] / r['jax_step_closed']
            r['ratio_autodiff_over_closed'] = r['jax_step_autodiff'] / r['jax_step_closed']
            print(f"d={d:5d} {dt:7s} step: jax {r['jax_step_closed']*1e3:8.1f} ms (autodiff H {r['jax_step_autodiff']*1e3:8.1f} ms, "
                  f"first call {r['jax_step_closed_warmup']:.2f} s) | scipy {r['scipy_step']*1e3:8.1f} ms | "
                  f"scipy/jax {r['ratio_scipy_step_over_jax_step']:.2f}")
            print(f"{'':13s} solve on the same H: jax cho {r['jax_solve']*1e3:8.1f} ms | numpy solve {r['numpy_solve']*1e3:8.1f} ms "
                  f"({r['ratio_numpy_solve_over_jax_solve']:.2f}x) | scipy cho {r['scipy_cho_solve']*1e3:8.1f} ms "
                  f"({r['ratio_scipy_cho_solve_over_jax_solve']:.2f}x) | max rel err {max(r['rel_err'].values()):.1e}")
            summary.append(r)
    print(f"total {time.perf_counter() - t_start:.1f} s")
    print(json.dumps(summary))
    return summary

if __name__ == '__main__':
    main()
