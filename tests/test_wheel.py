"""A built wheel works on its own: installed --no-deps into a scratch venv (which sees the
project venv's third-party packages), the CLI runs the demo set and finds the taxonomy."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd, **kw):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy so the build leaves nothing (build/, *.egg-info) in the source tree.
    src = out / "src"
    files = _run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).split("\0")
    for rel in filter(None, files):
        source = ROOT / rel
        target = src / rel
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            target.write_bytes(source.read_bytes())
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, src])
    (whl,) = out.glob("cluster_review-*.whl")
    return whl


def test_wheel_holds_every_package_and_the_taxonomy(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for top in ("pipeline", "gui") for p in (ROOT / top).rglob("__init__.py")}
    assert {p for p in packages if f"{p}/__init__.py" not in names} == set()
    assert "pipeline/resources/gtsrb_classes.csv" in names


def test_installed_wheel_runs_the_cli_on_the_demo(wheel, tmp_path):
    scratch = tmp_path / "venv"
    venv.create(scratch, with_pip=False)
    bin_dir = scratch / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    # The project venv's third-party packages, but not its editable install of this project.
    (site / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", "--no-index", wheel])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = _run([py, "-c", "import pipeline, gui; print(pipeline.__file__); print(gui.__file__)"], cwd=tmp_path, env=env)
    assert all(line.startswith(str(site)) for line in where.split()), where
    classes = _run([py, "-c", "from pipeline.review import Taxonomy; print(len(Taxonomy.gtsrb()))"], cwd=tmp_path, env=env)
    assert classes.strip() == "43"

    cli = bin_dir / "cluster-review"
    assert " gui " in _run([cli, "--help"], cwd=tmp_path, env=env).replace("{", " ").replace(",", " ").replace("}", " ")
    _run([cli, "demo", tmp_path / "demo", "--n-per-class", "4"], cwd=tmp_path, env=env)
    _run([cli, "run", tmp_path / "demo", "--preset", "hog-kmeans", "--k", "5", "--out", tmp_path / "out",
          "--cache-dir", tmp_path / "cache"], cwd=tmp_path, env=env)
    rows = (tmp_path / "out" / "assignments.csv").read_text("utf-8").splitlines()
    n_images = sum(1 for _ in (tmp_path / "demo").rglob("*.png"))
    assert n_images > 0 and len(rows) == n_images + 1
