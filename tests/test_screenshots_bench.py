"""bench/screenshots.py runs offscreen and writes a non-empty PNG of every view."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ("clusters", "suspects", "map", "move", "class_picker", "more_like_this")


@pytest.mark.slow  # 8-22 s: a pipeline run, a t-SNE and a mislabel search in a child process
def test_screenshots_bench_writes_every_view(tmp_path):
    out = tmp_path / "shots"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CLUSTER_REVIEW_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "screenshots.py"), "--out", str(out),
                           "--sizes", "800x500", "--n-per-class", "6", "--store", str(tmp_path / "store")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    for view in VIEWS:
        path = out / f"{view}_800x500.png"
        image = QImage(str(path))
        assert not image.isNull(), f"{path.name} missing or unreadable"
        assert image.width() == 800 and image.height() >= 500
        # Not a blank grab: many distinct colours in a sample of pixels.
        colours = {image.pixel(x, y) for x in range(0, 800, 13) for y in range(0, image.height(), 13)}
        assert len(colours) > 50, f"{path.name} looks empty ({len(colours)} colours)"


def test_bad_size_is_refused_with_a_clear_message(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "screenshots.py"), "--sizes", "big",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and "sizes look like 1024x640" in proc.stderr
    assert "Traceback" not in proc.stderr
