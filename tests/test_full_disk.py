"""A full disk never leaves a truncated output: CLI files, suspects CSVs and both exports.

Two ways to run out of space: a child process with ``RLIMIT_FSIZE`` (any user on POSIX;
writes past the limit fail with EFBIG) and, where the machine allows it (root, not
refused by the container), a tiny tmpfs (ENOSPC). Each test checks the failure is one
plain message, the old outputs are untouched and no partial or temporary file is left.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.io.demo import DEMO_CLASSES, write_demo_folder

resource = pytest.importorskip("resource")  # POSIX only

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("disk") / "demo"
    write_demo_folder(folder, n_per_class=6, seed=2, size=32, classes=[c for c, _ in DEMO_CLASSES[:6]])
    # one big file among small ones: a copy that runs out of space half-way through the tree
    noise = np.random.default_rng(0).integers(0, 255, (160, 160, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "14" / "14_big.png")
    return folder  # 37 images


def _limited(limit: int):
    def set_limit():
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


def run_limited(args: list[str], limit: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CLUSTER_REVIEW_DEBUG", None)
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          errors="backslashreplace", preexec_fn=_limited(limit), timeout=300)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_cli_run_on_a_full_disk_leaves_the_old_outputs(demo, tmp_path):
    out = tmp_path / "out"
    ok = run_limited(["-m", "pipeline.cli.main", "run", str(demo), "--out", str(out), "--preset", "hog-kmeans",
                      "--k", "6", "--no-cache"], limit=1 << 30)
    assert ok.returncode == 0, ok.stderr
    before = snapshot(out)
    assert set(before) == {"assignments.csv", "metrics.json", "clusters.json", "skipped.csv"}
    failed = run_limited(["-m", "pipeline.cli.main", "run", str(demo), "--out", str(out), "--preset", "hog-kmeans",
                          "--k", "4", "--no-cache"], limit=2048)  # assignments.csv is ~3 KB
    line = error_line(failed)
    assert "cannot write the results" in line and "File too large" in line and "Traceback" not in failed.stderr
    assert snapshot(out) == before  # old files whole, no temporary file left

    fresh = tmp_path / "fresh"
    failed = run_limited(["-m", "pipeline.cli.main", "run", str(demo), "--out", str(fresh), "--preset",
                          "hog-kmeans", "--k", "4", "--no-cache"], limit=2048)
    error_line(failed)
    assert snapshot(fresh) == {}  # nothing half-written


def test_cli_suspects_on_a_full_disk_leaves_no_empty_or_partial_csv(demo, tmp_path):
    out = tmp_path / "s" / "suspects.csv"
    failed = run_limited(["-m", "pipeline.cli.main", "suspects", str(demo), "--out", str(out), "--preset",
                          "hog-kmeans", "--no-cache"], limit=1024)
    line = error_line(failed)
    assert "File too large" in line
    assert snapshot(out.parent) == {}


EXPORT_SCRIPT = """
import sys
from pipeline.io.loader import load_images
from pipeline.review.export import ExportError, export_csv, export_tree
from pipeline.review.session import ReviewSession
image_set = load_images(sys.argv[1], size=16, cache_dir=False)
s = ReviewSession.from_result(sys.argv[1], {}, image_set.paths, image_set.labels, [i % 3 for i in range(len(image_set))])
try:
    if sys.argv[2] == "tree":
        export_tree(s, sys.argv[3], None)
    else:
        export_csv(s, sys.argv[3], None, overwrite=True)
except ExportError as exc:
    print(exc)
    sys.exit(3)
"""


def test_tree_export_on_a_full_disk_leaves_nothing(demo, tmp_path):
    big = (demo / "14" / "14_big.png").stat().st_size
    target = tmp_path / "exports" / "tree"
    failed = run_limited(["-c", EXPORT_SCRIPT, str(demo), "tree", str(target)], limit=big // 2)
    assert failed.returncode == 3, failed.stderr
    assert "failed" in failed.stdout and "File too large" in failed.stdout and "nothing of the export" in failed.stdout
    assert sorted(os.listdir(tmp_path / "exports")) == []  # neither the target nor a staging folder
    ok = run_limited(["-c", EXPORT_SCRIPT, str(demo), "tree", str(target)], limit=1 << 30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert sum(len(files) for _, _, files in os.walk(target)) == 37
    assert sorted(os.listdir(tmp_path / "exports")) == ["tree"]


def test_csv_export_on_a_full_disk_keeps_the_old_file(demo, tmp_path):
    target = tmp_path / "labels.csv"
    target.write_text("old,content\n")
    failed = run_limited(["-c", EXPORT_SCRIPT, str(demo), "csv", str(target)], limit=512)
    assert failed.returncode == 3, failed.stderr
    assert "cannot write" in failed.stdout and "nothing was written" in failed.stdout
    assert sorted(os.listdir(tmp_path)) == ["labels.csv"] and target.read_text() == "old,content\n"


# --------------------------------------------------------------------------- a real full file system


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 256 KiB tmpfs, when this machine lets the tests mount one (root, not refused)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=20)


def test_tree_export_onto_a_full_tmpfs_leaves_nothing(demo, tiny_tmpfs):
    from pipeline.io.loader import load_images
    from pipeline.review.export import ExportError, export_tree
    from pipeline.review.session import ReviewSession

    filler = tiny_tmpfs / "filler.bin"
    filler.write_bytes(b"\0" * (256 * 1024 - 3 * (demo / "14" / "14_big.png").stat().st_size // 2))
    image_set = load_images(demo, size=16, cache_dir=False)
    s = ReviewSession.from_result(str(demo), {}, image_set.paths, image_set.labels, [0] * len(image_set))
    with pytest.raises(ExportError, match="No space left on device"):
        export_tree(s, tiny_tmpfs / "tree", None)
    assert sorted(os.listdir(tiny_tmpfs)) == ["filler.bin"]


def test_cli_run_onto_a_full_tmpfs_leaves_no_partial_file(demo, tiny_tmpfs, capsys):
    from pipeline.cli.main import main

    (tiny_tmpfs / "filler.bin").write_bytes(b"\0" * (256 * 1024 - 8192))
    rc = main(["run", str(demo), "--out", str(tiny_tmpfs / "out"), "--preset", "hog-kmeans", "--k", "6",
               "--no-cache"])
    assert rc == 2
    assert "No space left on device" in capsys.readouterr().err
    left = {p.name: p.stat().st_size for p in (tiny_tmpfs / "out").iterdir()}
    # whatever fitted is complete (each file is renamed into place only when whole); no temporary files
    assert not any(name.startswith(".") for name in left)
    if "assignments.csv" in left:
        assert (tiny_tmpfs / "out" / "assignments.csv").read_text().count("\n") == 38
