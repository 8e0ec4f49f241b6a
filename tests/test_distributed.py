"""grid_sweep on a Dask LocalCluster of two worker processes: a worker killed in the middle of a sweep costs only its
running part, and the finished table equals the single-process one exactly (same chunking, so the same batch shapes and
the same arithmetic); interrupted sweeps resume with only the missing parts; Dask stays optional."""
import logging, os, signal, subprocess, sys
import numpy as np
import pytest

pytest.importorskip('pyarrow')
pd = pytest.importorskip('pandas')
import optbench.distributed as od

STEPS = 2000
GRID = dict(learning_rate=np.logspace(-3, 0, 12).tolist(), momentum=[0.0, 0.5, 0.9], kappa=np.logspace(0, 3, 8).tolist(),
            noise=[0.0, 0.1])
N, PARTS = 12 * 3 * 8 * 2 * 5, 30                    # 2880 configurations (5 seeds) in 30 parts of 96
KW = dict(seeds=5, chunk_size=96, target=1e-6, progress=False, **GRID)

def sweep_into(out, **kw): return od.grid_sweep('heavy_ball', 'quadratic', STEPS, out=out, **{**KW, **kw})

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "The single-process result."
    return sweep_into(tmp_path_factory.mktemp('reference'))

@pytest.fixture(scope='module')
def client():
    distributed = pytest.importorskip('distributed')
    cluster = c = None
    try:
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                           host='127.0.0.1', silence_logs=logging.CRITICAL)
        c = distributed.Client(cluster)
        yield c
    finally:
        if c is not None: c.close()
        if cluster is not None: cluster.close()

def check_complete(df, ref):
    "Every configuration once, in order, and every value equal to the reference's (NaN where it has NaN)."
    assert len(df) == N and df.config.tolist() == list(range(N)) and not df.config.duplicated().any()
    assert list(df.columns) == list(ref.columns)
    for c in df.columns:
        a, b = df[c].to_numpy(), ref[c].to_numpy()
        assert a.dtype == b.dtype, c
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == 'f'), c

def test_reference(reference):
    "The grid has runs that diverge and runs that reach the target (the notebook checks the parts against sweep)."
    assert (reference.diverged_at >= 0).any() and (reference.hit_step >= 0).any() and reference.seed.nunique() == 5

def test_worker_killed_mid_sweep(tmp_path, reference, client):
    pids = client.run(os.getpid)                     # worker address -> process id
    killed = {}
    def kill_after_three_parts(i):
        on_disk = len(list(tmp_path.glob('part-*.parquet')))
        if not killed and on_disk >= 3:              # the event: three parts written
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
            victim = (busy or sorted(pids))[0]
            killed.update(pid=pids[victim], on_disk=on_disk, busy=bool(busy))
            os.kill(pids[victim], signal.SIGKILL)
    df = sweep_into(tmp_path, client=client, on_part=kill_after_three_parts)
    assert killed and killed['busy'], killed          # a worker with a part in hand was killed ...
    assert killed['on_disk'] < PARTS                  # ... in the middle of the sweep
    assert killed['pid'] not in client.run(os.getpid).values()
    assert df.attrs['computed'] == PARTS
    check_complete(df, reference)
    assert not list(tmp_path.glob('.part-*'))         # no temporary file left by the killed writer

def test_dask_resume(tmp_path, reference, client):
    class Stop(Exception): pass
    def stop_after_five(i, n=[0]):
        n[0] += 1
        if n[0] == 5: raise Stop
    with pytest.raises(Stop): sweep_into(tmp_path, client=client, on_part=stop_after_five)
    df = sweep_into(tmp_path, client=client)
    # parts that were running when the first call stopped may still have been written after it
    assert df.attrs['on_disk'] >= 5 and df.attrs['computed'] == PARTS - df.attrs['on_disk'] > 0
    check_complete(df, reference)

def test_resume_in_process(tmp_path, reference):
    class Stop(Exception): pass
    done = []
    def stop_after_four(i):
        done.append(i)
        if len(done) == 4: raise Stop
    with pytest.raises(Stop): sweep_into(tmp_path, on_part=stop_after_four)
    assert sorted(p.name for p in tmp_path.glob('part-*.parquet')) == [f"part-{i:05d}.parquet" for i in range(4)]
    again = []
    df = sweep_into(tmp_path, on_part=again.append)
    assert (df.attrs['on_disk'], df.attrs['computed']) == (4, PARTS - 4)
    assert again == list(range(4, PARTS))            # only the missing parts
    check_complete(df, reference)
    assert sweep_into(tmp_path).attrs['computed'] == 0

def test_other_configuration_refused(tmp_path):
    (tmp_path / 'config.json').write_text('not json')
    with pytest.raises(ValueError, match="differs in: config.json is unreadable"): sweep_into(tmp_path)
    d = tmp_path / 'd'
    sweep_into(d, momentum=[0.5], learning_rate=[0.1], seeds=1)
    with pytest.raises(ValueError, match=r"differs in: axes\.learning_rate, n_configs, seeds\)"):
        sweep_into(d, momentum=[0.5], learning_rate=[0.2, 0.3])

def test_unreachable_scheduler(tmp_path, monkeypatch):
    pytest.importorskip('distributed')
    monkeypatch.setattr(od, 'CONNECT_TIMEOUT', '1s')
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'"):
        sweep_into(tmp_path, scheduler='tcp://127.0.0.1:1', learning_rate=[0.1], momentum=[0.5], seeds=1)
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler at 'nohost'"):
        sweep_into(tmp_path, scheduler='nohost', learning_rate=[0.1], momentum=[0.5], seeds=1)

def test_dask_is_optional(tmp_path, monkeypatch):
    "Without dask installed the module imports, runs in process, and names the extra when Dask is asked for."
    code = "import sys, optbench.distributed; assert 'distributed' not in sys.modules and 'dask' not in sys.modules"
    subprocess.run([sys.executable, '-c', code], check=True)
    monkeypatch.setitem(sys.modules, 'distributed', None)              # import distributed now fails
    with pytest.raises(ImportError, match=r"pip install 'optbench\[dask\]'"):
        sweep_into(tmp_path, scheduler='local', learning_rate=[0.1], momentum=[0.5], seeds=1)
    df = sweep_into(tmp_path, learning_rate=[0.1], momentum=[0.5], seeds=1)
    assert len(df) == 16 and df.attrs['computed'] == 1
