"""Bad input gets a clear error of the right type naming the argument (and, for names, the closest valid one), across
the Python API (`run`, `sweep`, `Problem`/`get_problem`), the figures, the widgets and the CLI. What is *not* an error
is flagged instead of raised: a stepsize that diverges, a start point where f is not finite (diverged at step 0, the
same in `run` and in a `sweep` slice). Missing optional extras name the extra to install. Files are written atomically
and never pickled.

Decisions documented here (and in the notebooks):
- f (or its gradient) not finite at x0: not an error; the Trace says `diverged_at == 0` and stays at x0, so one bad
  configuration never aborts a sweep and benchmarks count it as a failure.
- steps = 0: a ValueError (`steps=0 must be >= 1`); a run has at least one step.
- An objective that is not a JAX-traceable real scalar (vector output, integer cast, Python float()/if on x): a TypeError
  naming `fn` and the problem, raised by `run`, `sweep`, the figures and the explorer before anything is compiled.
"""
import contextlib, functools, importlib, io, os, re, signal, subprocess, sys, textwrap, time, types
from pathlib import Path
import numpy as np
import pytest
import jax.numpy as jnp
from optbench.core import PROBLEMS, Problem, UnknownNameError, check_problem, get_problem, run, sweep

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------------------------------
# Objectives for the cases (module-level: the runner caches compiled code on them)
def _vector(x, knobs): return x**2                                  # not a scalar
def _to_int(x, knobs): return jnp.sum(x**2).astype(jnp.int32)      # integer-valued: not differentiable
def _py_float(x, knobs): return float(jnp.sum(x**2))                # Python conversion: fails under tracing
def _py_branch(x, knobs): return jnp.sum(x**2) if x[0] > 0 else -x[0]   # Python `if` on a traced value
def _complex(x, knobs): return jnp.sum(x**2) + 0j                   # not real
def _barrier(x, knobs): return jnp.sum(x**2) - jnp.log(x[0] + knobs['shift'])   # NaN where x0 + shift <= 0
def _cube(x, knobs): return jnp.sum(x**2)

VEC = Problem('vector_out', _vector, x0=(1., 2.), bounds=((-2., 2.), (-2., 2.)))
INT = Problem('int_out', _to_int, x0=(1., 2.))
PYF = Problem('py_float', _py_float, x0=(1., 2.))
PYB = Problem('py_branch', _py_branch, x0=(1., 2.))
CPX = Problem('complex_out', _complex, x0=(1., 2.))
BARRIER = Problem('barrier', _barrier, x0=(1., 1.), bounds=((-2., 2.), (-2., 2.)), knobs={'shift': 5.0},
                  knob_ranges={'shift': (-10.0, 10.0, False)})
CUBE = Problem('cube', _cube, x0=(1., 1., 1.))

@functools.cache
def _ex():
    "One explorer per test process (a FigureWidget takes a second or two to build)."
    from optbench.explore import explore
    return explore('quadratic', ('gd',), steps=300, n=24, learning_rate=0.05)

def _viz(): return importlib.import_module('optbench.viz')
def _explore(*a, **kw): return importlib.import_module('optbench.explore').explore(*a, n=kw.pop('n', 24), **kw)

# ---------------------------------------------------------------------------------------------------------------------
# Errors: (id, call, error type, text the message must contain: it names the argument)
CASES = [
    # --- run: names
    ("unknown algorithm", lambda: run('adamm', 'quadratic', 10), UnknownNameError, "Unknown algorithm 'adamm'"),
    ("unknown algorithm lists names", lambda: run('heavyball', 'quadratic', 10), UnknownNameError, "Did you mean 'heavy_ball'?"),
    ("unknown landscape", lambda: run('gd', 'rosenbrok', 10), UnknownNameError, "Did you mean 'rosenbrock'?"),
    ("unknown landscape lists names", lambda: run('gd', 'nope', 10), UnknownNameError, "Valid names:"),
    ("unknown keyword", lambda: run('gd', 'quadratic', 10, lr=0.1), TypeError, "'lr' is neither a hyperparameter"),
    ("unknown knob suggests", lambda: run('gd', 'quadratic', 10, kapa=3.), TypeError, "Did you mean 'kappa'?"),
    ("problem wrong type", lambda: run('gd', 42, 10), TypeError, "problem must be a Problem or a problem name"),
    ("opt wrong type", lambda: run(42, 'quadratic', 10), TypeError, "opt must be an algorithm name"),
    # --- run: start points
    ("x0 wrong shape", lambda: run('gd', 'quadratic', 10, x0=[1., 2., 3.]), ValueError, "pass x0 of shape (2,)"),
    ("x0 scalar", lambda: run('gd', 'quadratic', 10, x0=1.), ValueError, "x0 has shape ()"),
    ("x0 empty", lambda: run('gd', 'quadratic', 10, x0=[]), ValueError, "x0 has shape (0,)"),
    ("x0 2-D", lambda: run('gd', 'quadratic', 10, x0=[[1., 2.]]), ValueError, "x0 has shape (1, 2)"),
    ("x0 nan", lambda: run('gd', 'quadratic', 10, x0=[np.nan, 1.]), ValueError, "x0=[nan, 1.0] is not finite"),
    ("x0 inf", lambda: run('gd', 'quadratic', 10, x0=[np.inf, 1.]), ValueError, "x0=[inf, 1.0] is not finite"),
    ("x0 integer", lambda: run('gd', 'quadratic', 10, x0=[1, 2]), TypeError, "x0 has integer dtype"),
    ("x0 integer array", lambda: run('gd', 'quadratic', 10, x0=np.array([1, 2])), TypeError, "pass floats"),
    ("x0 bool", lambda: run('gd', 'quadratic', 10, x0=[True, False]), TypeError, "x0 has integer dtype bool"),
    ("x0 strings", lambda: run('gd', 'quadratic', 10, x0=['a', 'b']), TypeError, "x0 must be an array of floats"),
    # --- run: stepsizes and hyperparameters
    ("negative stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=-0.1), ValueError, "learning_rate=-0.1 is invalid"),
    ("zero stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=0.0), ValueError, "learning_rate=0.0 is invalid"),
    ("nan stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=np.nan), ValueError, "learning_rate=nan is invalid"),
    ("inf stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=np.inf), ValueError, "learning_rate=inf is invalid"),
    ("string stepsize", lambda: run('gd', 'quadratic', 10, learning_rate='big'), TypeError, "learning_rate must be a number"),
    ("stepsize list in run", lambda: run('gd', 'quadratic', 10, learning_rate=[0.1, 0.2]), ValueError,
     "learning_rate must be a single number in run"),
    ("momentum >= 1", lambda: run('heavy_ball', 'quadratic', 10, momentum=1.0), ValueError, "momentum=1.0 is invalid"),
    ("momentum < 0", lambda: run('heavy_ball', 'quadratic', 10, momentum=-0.1), ValueError, "momentum=-0.1 is invalid"),
    ("polyak without fstar", lambda: run('polyak', 'saddle', 10), ValueError, "polyak needs fstar"),
    # --- run: knobs
    ("kappa < 1", lambda: run('gd', 'quadratic', 10, kappa=0.5), ValueError, "kappa=0.5 is out of range"),
    ("kappa nan", lambda: run('gd', 'quadratic', 10, kappa=np.nan), ValueError, "kappa=nan must be finite"),
    ("kappa inf", lambda: run('gd', 'quadratic', 10, kappa=np.inf), ValueError, "kappa=inf must be finite"),
    ("kappa string", lambda: run('gd', 'quadratic', 10, kappa='big'), TypeError, "knob kappa must be a number"),
    ("noise < 0", lambda: run('gd', 'quadratic', 10, noise=-1.0), ValueError, "noise=-1.0 is out of range"),
    ("noise nan", lambda: run('gd', 'quadratic', 10, noise=np.nan), ValueError, "noise=nan must be finite"),
    # --- run: steps and key
    ("steps = 0", lambda: run('gd', 'quadratic', 0), ValueError, "steps=0 must be >= 1"),
    ("steps negative", lambda: run('gd', 'quadratic', -3), ValueError, "steps=-3 must be >= 1"),
    ("steps float", lambda: run('gd', 'quadratic', 10.5), TypeError, "steps must be a positive integer"),
    ("steps None", lambda: run('gd', 'quadratic', None), TypeError, "steps must be a positive integer, got None"),
    ("steps bool", lambda: run('gd', 'quadratic', True), TypeError, "steps must be a positive integer, got True"),
    ("key string", lambda: run('gd', 'quadratic', 10, key='a'), TypeError, "key must be an integer seed"),
    # --- objectives that are not differentiable real scalars: the message names fn and the problem
    ("non-scalar fn", lambda: run('gd', VEC, 10), TypeError, "fn of problem vector_out must return a real floating-point scalar"),
    ("integer-valued fn", lambda: run('gd', INT, 10), TypeError, "fn of problem int_out must return a real floating-point scalar"),
    ("complex fn", lambda: run('gd', CPX, 10), TypeError, "fn of problem complex_out must return a real floating-point scalar"),
    ("Python float() in fn", lambda: run('gd', PYF, 10), TypeError, "fn of problem py_float cannot be traced by JAX"),
    ("Python if on x in fn", lambda: run('gd', PYB, 10), TypeError, "fn of problem py_branch cannot be traced by JAX"),
    ("non-scalar fn in sweep", lambda: sweep('gd', VEC, 10, learning_rate=[0.1, 0.2]), TypeError, "fn of problem vector_out"),
    ("check_problem non-scalar fn", lambda: check_problem(VEC), TypeError, "fn of problem vector_out"),
    # --- Problem and get_problem
    ("Problem fn not callable", lambda: Problem('p', 3, x0=(1., 1.)), TypeError, "fn must be a function"),
    ("Problem x0 nan", lambda: Problem('p', _cube, x0=(np.nan, 1.)), ValueError, "x0=[nan, 1.0] is not finite"),
    ("Problem x0 empty", lambda: Problem('p', _cube, x0=()), ValueError, "x0 must be a non-empty 1-D sequence"),
    ("Problem x0 strings", lambda: Problem('p', _cube, x0=('a', 1.)), TypeError, "x0 must be a sequence of numbers"),
    ("get_problem unknown name", lambda: get_problem('quadratc'), UnknownNameError, "Did you mean 'quadratic'?"),
    ("get_problem wrong type", lambda: get_problem(3.5), TypeError, "problem must be a Problem or a problem name"),
    ("get_problem unknown knob", lambda: get_problem('quadratic', kapa=3.), TypeError, "has no knob 'kapa'. Did you mean 'kappa'?"),
    ("get_problem kappa < 1", lambda: get_problem('quadratic', kappa=0.0), ValueError, "kappa=0.0 is out of range"),
    ("get_problem noise < 0", lambda: get_problem('quadratic', noise=-0.1), ValueError, "noise=-0.1 is out of range"),
    ("get_problem kappa string", lambda: get_problem('quadratic', kappa='big'), TypeError, "knob kappa must be a number"),
    ("constructor kappa < 1", lambda: PROBLEMS['quadratic'](kappa=0.5), ValueError, "kappa=0.5 is out of range"),
    ("with_knobs knob of another problem", lambda: get_problem('rosenbrock').with_knobs(kappa=3.), TypeError,
     "rosenbrock has no knob 'kappa'"),
    # --- sweep: grids
    ("empty sweep grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[]), ValueError, "learning_rate must be a non-empty"),
    ("empty knob grid", lambda: sweep('gd', 'quadratic', 10, kappa=[]), ValueError, "sweep grid kappa must be a non-empty"),
    ("2-D grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[[0.1, 0.2]]), ValueError,
     "sweep grid learning_rate must be a non-empty 1-D sequence, got shape (1, 2)"),
    ("mismatched grid: hyperparameter gd lacks", lambda: sweep('gd', 'quadratic', 10, momentum=[0.5, 0.9]), TypeError,
     "'momentum' is neither a hyperparameter of gd"),
    ("grid of strings", lambda: sweep('gd', 'quadratic', 10, learning_rate=['a', 'b']), TypeError,
     "sweep grid learning_rate must be a sequence of numbers"),
    ("negative stepsize in grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[0.1, -0.1]), ValueError, "learning_rate="),
    ("nan in grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[0.1, np.nan]), ValueError, "learning_rate=[0.1 nan] is invalid"),
    ("kappa grid out of range", lambda: sweep('gd', 'quadratic', 10, kappa=[0.5, 2.]), ValueError,
     "is out of range for quadratic: use 1.0 <= kappa"),
    ("empty seeds", lambda: sweep('gd', 'quadratic', 10, seeds=[]), ValueError, "seeds must name at least one seed"),
    ("float seeds", lambda: sweep('gd', 'quadratic', 10, seeds=[0.5, 1.]), ValueError, "seeds must be non-negative integers"),
    ("chunk_size 0", lambda: sweep('gd', 'quadratic', 10, learning_rate=[0.1], chunk_size=0), ValueError,
     "chunk_size=0 must be a positive integer"),
    ("sweep steps = 0", lambda: sweep('gd', 'quadratic', 0, learning_rate=[0.1]), ValueError, "steps=0 must be >= 1"),
    ("sweep batch of x0", lambda: sweep('gd', 'quadratic', 10, x0=[[1., 2.], [3., 4.]]), ValueError, "pass x0 of shape (2,)"),
    # --- figures
    ("figure: unknown problem", lambda: _viz().paths_figure('rosenbrok', {}), UnknownNameError, "Did you mean 'rosenbrock'?"),
    ("figure: 3-D problem", lambda: _viz().paths_figure(CUBE, {}), ValueError, "landscape plots need a 2-D problem"),
    ("figure: non-scalar fn", lambda: _viz().paths_figure(VEC, {}), TypeError, "fn of problem vector_out"),
    ("figure: sweep result as a trace", lambda: _viz().paths_figure('quadratic', {'gd': sweep('gd', 'quadratic', 300, learning_rate=[.1, .2])}),
     ValueError, "pass single runs"),
    ("figure: not a Trace", lambda: _viz().loss_figure({'a': [1., 2.]}), TypeError, "traces['a'] must be a Trace"),
    ("figure: contour n=1", lambda: _viz().contour_trace('quadratic', n=1), ValueError, "n=1 (contour grid points per axis)"),
    ("figure: knob out of range", lambda: _viz().contour_trace('quadratic', knobs={'kappa': 0.5}), ValueError, "kappa=0.5 is out of range"),
    ("static explainer: empty values", lambda: _viz().static_explainer('quadratic', ['gd'], values=[]), ValueError,
     "values must be a non-empty 1-D sequence"),
    ("static explainer: no algorithms", lambda: _viz().static_explainer('quadratic', [], values=[0.1]), ValueError, "algorithms is empty"),
    ("static explainer: unknown param", lambda: _viz().static_explainer('quadratic', ['gd'], param='lr'), ValueError, "param='lr' is neither"),
    ("static explainer: active out of range", lambda: _viz().static_explainer('quadratic', ['gd'], values=[.1, .2], steps=5, active=5),
     ValueError, "active=5 must be the index"),
    ("static explainer: negative stepsize", lambda: _viz().static_explainer('quadratic', ['gd'], values=[.1, -.1], steps=5), ValueError,
     "is invalid for gd"),
    ("theory rates: unknown algorithm", lambda: _viz().theory_rates('quadratic', ['gdd']), UnknownNameError, "Did you mean 'gd'?"),
    # --- explore(): construction
    ("explore: unknown problem", lambda: _explore('quadratik'), UnknownNameError, "Did you mean 'quadratic'?"),
    ("explore: unknown algorithm", lambda: _explore('quadratic', ('gd', 'nesterv')), UnknownNameError, "Did you mean 'nesterov'?"),
    ("explore: no algorithms", lambda: _explore('quadratic', ()), ValueError, "algorithms is empty"),
    ("explore: 3-D problem", lambda: _explore(CUBE), ValueError, "needs a 2-D landscape"),
    ("explore: steps = 0", lambda: _explore('quadratic', ('gd',), steps=0), ValueError, "steps=0 must be >= 1"),
    ("explore: kappa < 1", lambda: _explore('quadratic', ('gd',), kappa=0.5), ValueError, "kappa=0.5 is out of range"),
    ("explore: noise < 0", lambda: _explore('quadratic', ('gd',), noise=-1.), ValueError, "noise=-1.0 is out of range"),
    ("explore: negative stepsize", lambda: _explore('quadratic', ('gd',), learning_rate=-0.1), ValueError, "learning_rate=-0.1 must be positive"),
    ("explore: x0 wrong shape", lambda: _explore('quadratic', ('gd',), x0=[1., 2., 3.]), ValueError, "x0=[1.0, 2.0, 3.0] must be 2 finite numbers"),
    ("explore: unknown control", lambda: _explore('quadratic', ('gd',), lr=0.1), TypeError, "'lr' is not a control"),
    ("explore: non-scalar fn", lambda: _explore(VEC, ('gd',)), TypeError, "fn of problem vector_out"),
    ("explore: contour n=1", lambda: _explore('quadratic', ('gd',), n=1), ValueError, "n=1 (contour grid points per axis)"),
    # --- the explorer's controls (what a slider, a text box or a click passes on)
    ("widget: steps = 0", lambda: _ex().set(steps=0), ValueError, "steps=0 must be >= 1"),
    ("widget: steps float", lambda: _ex().set(steps=2.5), TypeError, "steps must be an integer"),
    ("widget: seed < 0", lambda: _ex().set(seed=-1), ValueError, "seed=-1 must be >= 0"),
    ("widget: stepsize inf", lambda: _ex().set(learning_rate=np.inf), ValueError, "learning_rate=inf must be finite"),
    ("widget: stepsize nan", lambda: _ex().set(learning_rate=np.nan), ValueError, "learning_rate=nan must be finite"),
    ("widget: stepsize 0", lambda: _ex().set(learning_rate=0.0), ValueError, "learning_rate=0.0 must be positive"),
    ("widget: stepsize string", lambda: _ex().set(learning_rate='big'), TypeError, "learning_rate must be a number"),
    ("widget: kappa < 1", lambda: _ex().set(kappa=0.5), ValueError, "kappa=0.5 is out of range"),
    ("widget: kappa string", lambda: _ex().set(kappa='big'), TypeError, "knob kappa must be a number"),
    ("widget: noise < 0", lambda: _ex().set(noise=-1.), ValueError, "noise=-1.0 is out of range"),
    ("widget: unknown landscape", lambda: _ex().set(problem='rosenbrok'), UnknownNameError, "Did you mean 'rosenbrock'?"),
    ("widget: unknown algorithm", lambda: _ex().set(algorithms=('adamm',)), UnknownNameError, "Unknown algorithm 'adamm'"),
    ("widget: knob of another landscape", lambda: _ex().set(b=10.), TypeError, "'b' is not a control"),
    ("widget: start point nan", lambda: _ex().set_start(np.nan, 0.), ValueError, "(x, y)=(nan, 0.0) must be 2 finite numbers"),
    ("widget: x0 wrong shape", lambda: _ex().set(x0=[1., 2., 3.]), ValueError, "x0=[1.0, 2.0, 3.0] must be 2 finite numbers"),
]

@pytest.mark.parametrize("call,exc,text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, text):
    with pytest.raises(exc) as e: call()
    assert text in str(e.value), f"message {str(e.value)!r} lacks {text!r}"

def test_enough_cases():
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)

# ---------------------------------------------------------------------------------------------------------------------
# Flagged, not raised: divergence and a non-finite start are recorded in the Trace, marked in figures and named in the
# explorer's status line. (id, call returning something, check on it)
def _no_silent_nan(fig):
    "Every trace with data has at least one finite number: nothing is drawn as a NaN-only (blank) curve."
    for t in fig.data:
        for ax in ('x', 'y', 'z'):
            v = getattr(t, ax, None)
            if v is None or len(v) == 0: continue
            a = np.asarray(np.where(np.equal(np.asarray(v, object), None), np.nan, np.asarray(v, object)), float)
            assert np.isfinite(a).any(), f"trace {t.meta!r} has only non-finite {ax}"
    return True

def _trace_of(fig, meta): return fig.data[_viz().trace_index(fig)[meta]]

def _diverged_figure_check(fig, tr, name='gd'):
    k = int(tr.diverged_at)
    assert k > 0
    assert _trace_of(fig, f'path_div:{name}').text == (f"{name} diverged at step {k}",)
    assert len(_trace_of(fig, f'path:{name}').x) == k + 1            # drawn up to the last finite iterate
    (x0, x1), (y0, y1) = _viz().plot_bounds(get_problem('quadratic'))
    m = _trace_of(fig, f'path_div:{name}')
    assert x0 <= m.x[0] <= x1 and y0 <= m.y[0] <= y1                 # the marker stays in the window
    return _no_silent_nan(fig)

def _check_nan_start(tr, x0=(1., 1.)):
    assert int(tr.diverged_at) == 0
    assert np.array_equal(np.asarray(tr.params), np.tile(x0, (tr.steps + 1, 1)))
    assert np.all(np.isnan(np.asarray(tr.value))) and not np.isfinite(float(tr.final_value))
    return True

def _widget_diverges(ex):
    ex.set(problem='quadratic', algorithms=('gd',), x0=None, steps=300, kappa=10., learning_rate=0.05)
    assert 'diverged' not in ex.status.value
    ex.hp['learning_rate'].value = 1.0            # as a user dragging the slider: the widget callback reruns
    k = int(ex.traces['gd'].diverged_at)
    assert k > 0 and f"gd diverged at step {k}: lower the stepsize" in ex.status.value, ex.status.value
    assert _trace_of(ex.fig, 'path_div:gd').text == (f"gd diverged at step {k}",)
    return _no_silent_nan(ex.fig)

def _widget_click_outside(ex):
    ex.set(problem='quadratic', algorithms=('gd',), x0=None, steps=300, kappa=10., learning_rate=1.0)
    contour = _trace_of(ex.fig, 'contour')
    ex._on_click(contour, types.SimpleNamespace(xs=[9.], ys=[-9.]), None)   # outside the plotting window [-2, 2]^2
    s = _trace_of(ex.fig, 'start')
    assert (s.x[0], s.y[0]) == (9., -9.)                                    # the start is where the user clicked
    k = int(ex.traces['gd'].diverged_at)
    assert k > 0 and f"gd diverged at step {k}" in ex.status.value
    m = _trace_of(ex.fig, 'path_div:gd')
    assert -2 <= m.x[0] <= 2 and -2 <= m.y[0] <= 2                          # clipped into the window
    before = np.asarray(_trace_of(ex.fig, 'path:gd').x)
    ex._on_click(contour, types.SimpleNamespace(xs=[], ys=[]), None)        # a click elsewhere: nothing happens
    assert np.array_equal(np.asarray(_trace_of(ex.fig, 'path:gd').x), before)
    return _no_silent_nan(ex.fig)

def _widget_nan_start():
    ex = _explore(BARRIER, ('gd', 'heavy_ball'), steps=10)
    assert 'not finite' not in ex.status.value
    ex.knobs['shift'].value = -1.5               # the knob slider moves the domain (x1 > 1.5) past the start point
    for n in ('gd', 'heavy_ball'):
        assert int(ex.traces[n].diverged_at) == 0
        assert f"{n}: f is not finite at the start point" in ex.status.value, ex.status.value
    assert _trace_of(ex.fig, 'loss_div:gd').text == ("gd diverged at step 0 (f is not finite at the start point)",)
    return _no_silent_nan(ex.fig)

def _static_diverges():
    fig = _viz().static_explainer('quadratic', ['gd'], values=[0.1, 1.0], steps=300, kappa=10.)
    upd, ids = fig.layout.sliders[0].steps[1].args
    j = _viz().trace_index(fig)['path_div:gd']
    k = int(run('gd', 'quadratic', 300, learning_rate=1.0, kappa=10.).diverged_at)
    assert upd['text'][ids.index(j)] == [f"gd diverged at step {k}"]
    for y in upd['y']: assert y is None or len(y) == 0 or np.isfinite(np.asarray(y, float)).any()
    return _no_silent_nan(fig)

FLAGGED = [
    ("huge stepsize diverges at step 1", lambda: run('gd', 'quadratic', 300, learning_rate=1e300),
     lambda t: int(t.diverged_at) == 1 and np.all(np.isfinite(np.asarray(t.params))) and np.all(np.isnan(np.asarray(t.value[1:])))),
    ("huge stepsize in a sweep", lambda: sweep('gd', 'quadratic', 300, learning_rate=[0.01, 1e300]),
     lambda t: np.asarray(t.diverged_at).tolist() == [-1, 1]),
    ("f nan at x0: run", lambda: run('gd', BARRIER, 10, shift=-2.), _check_nan_start),
    ("f nan at x0: with noise", lambda: run('gd', BARRIER, 10, shift=-2., noise=0.1, key=3), _check_nan_start),
    ("f nan at x0: a line search does not hang", lambda: run('armijo', BARRIER, 10, shift=-2.), _check_nan_start),
    ("f nan at x0: sweep slice equals run", lambda: sweep('gd', BARRIER, 10, shift=[5., -2.]),
     lambda s: np.asarray(s.diverged_at).tolist() == [-1, 0] and _check_nan_start(s[1])
     and np.array_equal(np.asarray(s[1].params), np.asarray(run('gd', BARRIER, 10, shift=-2.).params))),
    ("paths figure marks divergence", lambda: _viz().paths_figure('quadratic', {'gd': run('gd', 'quadratic', 300, learning_rate=1.)}, n=24),
     lambda f: _diverged_figure_check(f, run('gd', 'quadratic', 300, learning_rate=1.))),
    ("explainer figure marks divergence", lambda: _viz().explainer_figure('quadratic', {'gd': run('gd', 'quadratic', 300, learning_rate=1.),
                                                                            'heavy_ball': run('heavy_ball', 'quadratic', 300)}, n=24),
     lambda f: _diverged_figure_check(f, run('gd', 'quadratic', 300, learning_rate=1.))),
    ("loss figure of a nan start", lambda: _viz().loss_figure({'gd': run('gd', BARRIER, 10, shift=-2.)}),
     lambda f: len(_trace_of(f, 'loss:gd').y) == 0 and _trace_of(f, 'loss_div:gd').text[0].startswith("gd diverged at step 0")
     and _no_silent_nan(f)),
    ("static explainer marks divergence", _static_diverges, lambda ok: ok),
    ("widget: slider to a diverging stepsize", lambda: _widget_diverges(_ex()), lambda ok: ok),
    ("widget: click outside the window", lambda: _widget_click_outside(_ex()), lambda ok: ok),
    ("widget: knob slider makes f nan at the start", _widget_nan_start, lambda ok: ok),
    ("widget: steps below the slider minimum are used exactly", lambda: _ex().set(problem='quadratic', x0=None, learning_rate=0.05, steps=3),
     lambda ex: ex.steps.value == 3 and len(_trace_of(ex.fig, 'path:gd').x) == 4),
]

@pytest.mark.parametrize("call,check", [c[1:] for c in FLAGGED], ids=[c[0] for c in FLAGGED])
def test_flagged_not_raised(call, check):
    assert check(call())

# ---------------------------------------------------------------------------------------------------------------------
# Missing optional extras: the ImportError names the extra to install. (id, modules made unimportable, call)
def _import(name): return lambda: importlib.import_module(name)

def _cli(*argv):
    from optbench.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main(list(argv))
        except SystemExit as e: rc = e.code
    return rc, out.getvalue() + err.getvalue()

def _cli_rc2(*argv):
    rc, text = _cli(*argv)
    assert rc == 2, (rc, text)
    raise ImportError(text)   # the message the user sees, checked like the others

EXTRAS = [
    ("viz without plotly", ('plotly',), _import('optbench.viz')),
    ("explore without ipywidgets", ('ipywidgets',), _import('optbench.explore')),
    ("explore without anywidget", ('anywidget',), _import('optbench.explore')),
    ("explore without plotly", ('plotly',), _import('optbench.explore')),
    ("cli run --out without plotly", ('plotly',), lambda: _cli_rc2('run', 'gd', 'quadratic', '--steps', '300', '--out', '/tmp/never.html')),
    ("cli gallery without plotly", ('plotly',), lambda: _cli_rc2('gallery', '--steps', '5', '--out', '/tmp/never')),
]

@pytest.mark.parametrize("missing,call", [c[1:] for c in EXTRAS], ids=[c[0] for c in EXTRAS])
def test_missing_extra(missing, call, monkeypatch):
    for m in missing: monkeypatch.setitem(sys.modules, m, None)   # `import m` now raises ImportError
    for m in ('optbench.viz', 'optbench.explore'): monkeypatch.delitem(sys.modules, m, raising=False)
    with pytest.raises(ImportError) as e: call()
    assert "optbench[viz]" in str(e.value), str(e.value)
    assert not Path('/tmp/never.html').exists()

# ---------------------------------------------------------------------------------------------------------------------
# The CLI: exit status 2 and a one-line message naming the argument. (id, argv, exit status, text in stdout + stderr)
CLI_CASES = [
    ("no command", (), 2, "the following arguments are required: command"),
    ("unknown command", ('frob',), 2, "invalid choice: 'frob'"),
    ("list: extra argument", ('list', 'x'), 2, "unrecognized arguments: x"),
    ("run: missing problem", ('run', 'gd'), 2, "the following arguments are required: problem"),
    ("run: steps not an integer", ('run', 'gd', 'quadratic', '--steps', 'abc'), 2, "argument --steps: invalid int value: 'abc'"),
    ("run: steps = 0", ('run', 'gd', 'quadratic', '--steps', '0'), 2, "steps=0 must be >= 1"),
    ("run: unknown algorithm", ('run', 'nesterv', 'quadratic'), 2, "Did you mean 'nesterov'?"),
    ("run: unknown problem", ('run', 'gd', 'himmelblu'), 2, "Did you mean 'himmelblau'?"),
    ("run: lr nan", ('run', 'gd', 'quadratic', '--lr', 'nan'), 2, "learning_rate=nan is invalid"),
    ("run: lr 0", ('run', 'gd', 'quadratic', '--lr', '0'), 2, "learning_rate=0.0 is invalid"),
    ("run: unknown --set name", ('run', 'gd', 'quadratic', '--set', 'learning_rat=0.1'), 2, "Did you mean 'learning_rate'?"),
    ("run: --set not a number", ('run', 'gd', 'quadratic', '--set', 'kappa=abc'), 2, "--set kappa: 'abc' is not a number"),
    ("run: --set without value", ('run', 'gd', 'quadratic', '--set', 'kappa'), 2, "NAME=VALUE"),
    ("run: kappa < 1", ('run', 'gd', 'quadratic', '--set', 'kappa=0.5'), 2, "kappa=0.5 is out of range"),
    ("run: kappa inf", ('run', 'gd', 'quadratic', '--set', 'kappa=inf'), 2, "kappa=inf must be finite"),
    ("run: noise < 0", ('run', 'gd', 'quadratic', '--set', 'noise=-1'), 2, "noise=-1.0 is out of range"),
    ("run: method needs fstar", ('run', 'polyak', 'saddle', '--steps', '5'), 2, "polyak needs fstar"),
    ("run: huge stepsize is flagged, not an error", ('run', 'gd', 'quadratic', '--steps', '300', '--lr', '1e300'), 0, "DIVERGED at step 1"),
    ("gallery: steps = 0", ('gallery', '--steps', '0', '--out', '/tmp/never'), 2, "steps=0 must be >= 1"),
]

@pytest.mark.parametrize("argv,rc,text", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(argv, rc, text):
    got, msg = _cli(*argv)
    assert got == rc, (got, msg[-500:])
    assert text in msg, f"output {msg[-500:]!r} lacks {text!r}"

@pytest.mark.parametrize("argv", [('run', 'gd', 'quadratic', '--steps', '300', '--out', '{f}/x.html'),
                                  ('gallery', '--out', '{f}/g'), ('bench', '--suite', 'landscapes', '--out', '{f}/b'),
                                  ('report', '{tmp}', '--out', '{f}/r.html')])
def test_cli_out_path_under_a_file(tmp_path, argv):
    (tmp_path / 'f').write_text('')
    t0 = time.time()
    rc, msg = _cli(*(a.format(f=tmp_path / 'f', tmp=tmp_path) for a in argv))
    assert rc == 2 and '--out' in msg and 'is a file, not a directory' in msg, msg
    assert time.time() - t0 < 5, "the output path is checked before any computation"

def test_cli_run_nan_at_start(monkeypatch):
    monkeypatch.setitem(PROBLEMS, 'barrier_start', lambda: BARRIER.with_knobs(shift=-2.))
    rc, msg = _cli('run', 'gd', 'barrier_start', '--steps', '10')
    assert rc == 0 and 'DIVERGED at step 0' in msg, msg

# ---------------------------------------------------------------------------------------------------------------------
# Files: atomic writes survive SIGKILL; nothing is pickled
WRITER = textwrap.dedent("""
    import os, sys, time
    from optbench.core import atomic_write
    path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == 'fsync':            # stop between writing the temporary file and renaming it
        def fsync(fd): print('fsync', flush=True); time.sleep(60)
        os.fsync = fsync
    print('ready', flush=True)
    i = 0
    while True:
        atomic_write(path, bytes([65 + i % 2]) * n); i += 1
""")

def _kill_writer(path, n, mode, delay):
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(path), str(n), mode], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'ready'
        if mode == 'fsync': assert p.stdout.readline().strip() == 'fsync'
        else: time.sleep(delay)
    finally:
        os.kill(p.pid, signal.SIGKILL); p.wait(); p.stdout.close()
    assert p.returncode == -signal.SIGKILL

def _complete_or_absent(path, n, old=None):
    if not path.exists(): return True
    data = path.read_bytes()
    if old is not None and data == old: return True
    assert len(data) == n and data in (b'A' * n, b'B' * n), f"partial file: {len(data)} of {n} bytes"
    return True

@pytest.mark.parametrize("mode,delay", [('fsync', 0.0), ('loop', 0.1), ('loop', 0.5)])
def test_killed_writer_leaves_no_partial_file(tmp_path, mode, delay):
    n, path, old = 16 * 2**20, tmp_path / 'results.json', b'{"complete": true}'
    path.write_bytes(old)                                   # a complete earlier result
    _kill_writer(path, n, mode, delay)
    assert _complete_or_absent(path, n, old)
    if mode == 'fsync': assert path.read_bytes() == old    # killed before the rename: the old file is untouched
    for f in os.listdir(tmp_path):                          # leftovers are hidden temporaries, never the target's name
        assert f == path.name or re.fullmatch(rf"\.{re.escape(path.name)}\..+\.tmp", f), f

PICKLE = re.compile(r"\b(c?pickle|dill|joblib|shelve|marshal)\b|allow_pickle\s*=\s*True|np\.(save|load)\(|"
                    r"\.to_pickle\(|read_pickle\(|torch\.(save|load)\(")

def test_package_never_pickles():
    hits = [f"{f.relative_to(ROOT)}:{i}: {line.strip()}" for f in sorted((ROOT / 'optbench').rglob('*.py'))
            for i, line in enumerate(f.read_text().splitlines(), 1) if PICKLE.search(line)]
    assert not hits, "pickle-like persistence in the package (write JSON or Parquet):\n" + "\n".join(hits)

def test_metrics_are_json_and_leave_no_temporaries(tmp_path):
    import json
    from optbench.core import save_metrics
    m = save_metrics(tmp_path / 'm.json', {'a': np.float64(0.5), 'b': np.arange(3), 'c': 'text'})
    assert json.loads((tmp_path / 'm.json').read_text()) == m == {'a': 0.5, 'b': [0, 1, 2], 'c': 'text'}
    assert os.listdir(tmp_path) == ['m.json']
