"""Bad input gets a clear error of the right type naming the argument (and, for names, the valid choices)."""
import numpy as np
import pytest
from optbench.core import UnknownNameError, run, sweep, get_problem

CASES = [  # (id, call, error type, text the message must contain)
    ("unknown algorithm", lambda: run('adamm', 'quadratic', 10), UnknownNameError, "Unknown algorithm 'adamm'"),
    ("unknown algorithm lists names", lambda: run('heavyball', 'quadratic', 10), UnknownNameError, "Did you mean 'heavy_ball'?"),
    ("unknown landscape", lambda: run('gd', 'rosenbrok', 10), UnknownNameError, "Did you mean 'rosenbrock'?"),
    ("unknown landscape lists names", lambda: run('gd', 'nope', 10), UnknownNameError, "Valid names:"),
    ("x0 wrong shape", lambda: run('gd', 'quadratic', 10, x0=[1., 2., 3.]), ValueError, "pass x0 of shape (2,)"),
    ("x0 scalar", lambda: run('gd', 'quadratic', 10, x0=1.), ValueError, "x0 has shape ()"),
    ("x0 nan", lambda: run('gd', 'quadratic', 10, x0=[np.nan, 1.]), ValueError, "x0=[nan, 1.0] is not finite"),
    ("x0 inf", lambda: run('gd', 'quadratic', 10, x0=[np.inf, 1.]), ValueError, "not finite"),
    ("x0 integer", lambda: run('gd', 'quadratic', 10, x0=[1, 2]), TypeError, "x0 has integer dtype"),
    ("x0 integer array", lambda: run('gd', 'quadratic', 10, x0=np.array([1, 2])), TypeError, "pass floats"),
    ("negative stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=-0.1), ValueError, "learning_rate=-0.1 is invalid"),
    ("zero stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=0.0), ValueError, "learning_rate=0.0 is invalid"),
    ("nan stepsize", lambda: run('gd', 'quadratic', 10, learning_rate=np.nan), ValueError, "must be finite"),
    ("string stepsize", lambda: run('gd', 'quadratic', 10, learning_rate='big'), TypeError, "learning_rate must be a number"),
    ("momentum >= 1", lambda: run('heavy_ball', 'quadratic', 10, momentum=1.0), ValueError, "momentum=1.0 is invalid"),
    ("kappa < 1", lambda: run('gd', 'quadratic', 10, kappa=0.5), ValueError, "kappa=0.5 is out of range"),
    ("noise < 0", lambda: run('gd', 'quadratic', 10, noise=-1.0), ValueError, "noise=-1.0 is out of range"),
    ("unknown keyword", lambda: run('gd', 'quadratic', 10, lr=0.1), TypeError, "'lr' is neither a hyperparameter"),
    ("steps = 0", lambda: run('gd', 'quadratic', 0), ValueError, "steps=0 must be >= 1"),
    ("steps float", lambda: run('gd', 'quadratic', 10.5), TypeError, "steps must be a positive integer"),
    ("problem wrong type", lambda: run('gd', 42, 10), TypeError, "problem must be a Problem or a problem name"),
    ("opt wrong type", lambda: run(42, 'quadratic', 10), TypeError, "opt must be an algorithm name"),
    ("empty sweep grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[]), ValueError, "learning_rate must be a non-empty"),
    ("negative stepsize in grid", lambda: sweep('gd', 'quadratic', 10, learning_rate=[0.1, -0.1]), ValueError, "learning_rate="),
    ("knob out of range via get_problem", lambda: get_problem('quadratic', kappa=0.0), ValueError, "kappa=0.0 is out of range"),
]

@pytest.mark.parametrize("call,exc,text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, text):
    with pytest.raises(exc) as e: call()
    assert text in str(e.value), f"message {str(e.value)!r} lacks {text!r}"

def test_divergence_is_flagged():
    tr = run('gd', 'quadratic', 500, learning_rate=5.0, kappa=10.0)
    k = int(tr.diverged_at)
    assert k > 0 and bool(tr.diverged)
    assert np.all(np.isfinite(np.asarray(tr.params))), "frozen iterates stay finite"
    assert np.all(np.isnan(np.asarray(tr.value[k:]))) and np.all(np.isfinite(np.asarray(tr.value[:k])))
