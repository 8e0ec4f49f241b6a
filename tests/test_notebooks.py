"""Execute every notebook with papermill (its `parameters` cell gets quick values) and compare the metrics it records
with the golden file tests/golden/<notebook>.json: {"metric": {"value": v, "rtol": r, "atol": a}}.
Set OPTBENCH_UPDATE_GOLDEN=1 to (re)write golden values from a run (tolerances of existing entries are kept; new entries
get rtol 1e-4, atol 1e-12). Rounding-level metrics (parity errors, deviations) are stored with rtol 0, atol 1e-10: they
pass while they stay below 1e-10."""
import json, math, os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(str(p.relative_to(ROOT / "nbs")) for p in (ROOT / "nbs").rglob("*.ipynb")
             if p.name != "index.ipynb" and not any(part.startswith((".", "_")) for part in p.relative_to(ROOT / "nbs").parts))
GOLDEN = ROOT / "tests" / "golden"

def _close(a, b, rtol, atol):
    if isinstance(b, dict): return isinstance(a, dict) and a.keys() == b.keys() and all(_close(a[k], b[k], rtol, atol) for k in b)
    if isinstance(b, list): return isinstance(a, list) and len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        if isinstance(b, float) and math.isnan(b): return isinstance(a, float) and math.isnan(a)
        if not isinstance(a, (int, float)): return False
        if math.isinf(a) or math.isinf(b): return a == b
        return abs(a - b) <= atol + rtol * abs(b)
    return a == b

@pytest.mark.parametrize("nb", NBS)
def test_notebook(nb, tmp_path):
    pm = pytest.importorskip("papermill")
    metrics_path = tmp_path / "metrics.json"
    pm.execute_notebook(str(ROOT / "nbs" / nb), str(tmp_path / Path(nb).name), parameters=dict(quick=True, metrics_path=str(metrics_path)),
                        kernel_name="python3", cwd=str((ROOT / "nbs" / nb).parent), progress_bar=False)
    assert metrics_path.exists(), f"{nb} did not record its metrics (end it with save_metrics(metrics_path, metrics))"
    got = json.loads(metrics_path.read_text())
    gfile = GOLDEN / (nb[:-len(".ipynb")].replace("/", "__") + ".json")
    if os.environ.get("OPTBENCH_UPDATE_GOLDEN"):
        old = json.loads(gfile.read_text()) if gfile.exists() else {}
        new = {k: {"value": v, "rtol": old.get(k, {}).get("rtol", 1e-4), "atol": old.get(k, {}).get("atol", 1e-12)} for k, v in got.items()}
        gfile.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    assert gfile.exists(), f"no golden file {gfile.relative_to(ROOT)}; create it with OPTBENCH_UPDATE_GOLDEN=1"
    golden = json.loads(gfile.read_text())
    assert golden, f"{gfile.name} is empty"
    bad = {k: (got.get(k), g["value"]) for k, g in golden.items()
           if k not in got or not _close(got[k], g["value"], g.get("rtol", 0.0), g.get("atol", 0.0))}
    assert not bad, f"{nb}: metrics differ from {gfile.name} (got, golden): {bad}"
