"""bench/unseen.py and the track-disjoint subsample the benches share (no GTSRB data needed)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _common import track_disjoint  # noqa: E402


def test_track_disjoint_keeps_three_spaced_frames_per_track():
    from pipeline.core.items import ImageItem

    items = [ImageItem(f"Train/14/00014_00003_{i:05d}.png", "14") for i in range(30)]
    items += [ImageItem(f"Train/1/00001_00007_{i:05d}.png", "1") for i in range(2)]
    items += [ImageItem("other/photo.jpg", "x"), ImageItem("other/a_b.jpg", "x")]
    keep = track_disjoint(items)
    frames = [Path(items[i].path).stem for i in keep]
    assert frames[:3] == ["00014_00003_00000", "00014_00003_00014", "00014_00003_00029"]  # first, middle, last
    assert "00001_00007_00000" in frames and "00001_00007_00001" in frames  # short track kept whole
    assert {30 + 2, 30 + 3} <= set(keep)  # names without the pattern are their own track
    assert keep == sorted(keep)
    assert len(track_disjoint(items, per_track=1)) == 1 + 1 + 2


def test_unseen_bench_runs_on_digits_and_ends_with_the_summary_line(tmp_path):
    out = tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "unseen.py"), "--digits", str(tmp_path / "digits"), "--limit", "300",
         "--presets", "hog-kmeans", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT / "bench",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"unseen: ACC 0\.\d{3}, NMI 0\.\d{3}, k_auto \d+", last), last
    assert "baseline pixels-kmeans: ACC" in proc.stdout
    table = out.read_text()
    for row in ("| hog-kmeans | 300 | 10 | 10 |", "| guarded |", "| pixels-kmeans |", "k from a taxonomy of 10 (9..11)"):
        assert row in table
    assert len(list((tmp_path / "digits").rglob("*.png"))) == 1797
