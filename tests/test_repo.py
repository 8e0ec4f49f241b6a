"""Repository hygiene: notebooks are clean (no outputs, nbdev-clean is a no-op) and the package is in sync with them
(exporting the notebooks reproduces optbench/ byte for byte). Notebooks are the only source."""
import json, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "nbs").rglob("*.ipynb"))

def _bin(name):
    p = Path(sys.executable).parent / name
    return str(p) if p.exists() else shutil.which(name)

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(nb):
    d = json.loads(nb.read_text())
    for i, c in enumerate(d["cells"]):
        assert not c.get("outputs"), f"{nb.name} cell {i} has stored outputs: clear them"
        assert c.get("execution_count") is None, f"{nb.name} cell {i} has an execution count"
        assert set(c.get("metadata", {})) <= {"tags"}, f"{nb.name} cell {i} metadata {c['metadata']}"
    assert "widgets" not in d.get("metadata", {}), f"{nb.name} stores widget state"

def test_nbdev_clean_is_noop(tmp_path):
    if not _bin("nbdev_clean"): pytest.skip("nbdev is not installed (pip install -e '.[dev]')")
    shutil.copytree(ROOT / "nbs", tmp_path / "nbs"); shutil.copy(ROOT / "settings.ini", tmp_path)
    subprocess.run([_bin("nbdev_clean")], cwd=tmp_path, check=True, capture_output=True)
    changed = [str(p) for p in NOTEBOOKS if (tmp_path / p.relative_to(ROOT)).read_bytes() != p.read_bytes()]
    assert not changed, f"nbdev_clean changes {changed}: run nbdev_clean and commit"

def test_package_in_sync_with_notebooks(tmp_path):
    if not _bin("nbdev_export"): pytest.skip("nbdev is not installed (pip install -e '.[dev]')")
    shutil.copytree(ROOT / "nbs", tmp_path / "nbs"); shutil.copy(ROOT / "settings.ini", tmp_path)
    subprocess.run([_bin("nbdev_export")], cwd=tmp_path, check=True, capture_output=True)
    ours = {p.relative_to(ROOT / "optbench") for p in (ROOT / "optbench").rglob("*.py")}
    theirs = {p.relative_to(tmp_path / "optbench") for p in (tmp_path / "optbench").rglob("*.py")}
    assert ours == theirs, f"module sets differ: only in repo {ours - theirs}, only in export {theirs - ours}"
    stale = [str(p) for p in sorted(ours) if (ROOT / "optbench" / p).read_bytes() != (tmp_path / "optbench" / p).read_bytes()]
    assert not stale, f"optbench/ is out of sync with nbs/ for {stale}: run nbdev_export (never edit optbench/*.py)"

def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "<!-- test-command -->" in readme and "<!-- main-command -->" in readme
    assert "README.md" in (ROOT / ".ci" / "run").read_text(), ".ci/run must take its test command from README.md"
