"""probe_folder: a bounded look that finds the first image, a label CSV, or says it cannot tell."""
from __future__ import annotations

import os

import pytest
from PIL import Image

from pipeline.io.probe import probe_folder


def test_finds_an_image_deep_down_and_stops_there(tmp_path):
    deep = tmp_path / "Train" / "7"
    deep.mkdir(parents=True)
    for i in range(50):
        Image.new("RGB", (4, 4)).save(deep / f"{i}.ppm")
    probe = probe_folder(tmp_path)
    assert probe.has_image and probe.may_have_images and probe.entries_read <= 3


def test_empty_hidden_and_text_only_folders_have_no_images(tmp_path):
    (tmp_path / ".cache").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / ".cache" / "x.png")  # hidden folders are not image folders
    Image.new("RGB", (4, 4)).save(tmp_path / ".hidden.png")
    (tmp_path / "notes.txt").write_text("no images")
    probe = probe_folder(tmp_path)
    assert not probe.may_have_images and not probe.truncated


def test_a_label_csv_counts_and_a_cut_scan_cannot_tell(tmp_path):
    (tmp_path / "labels.csv").write_text("path,label\n/elsewhere/a.png,1\n")
    assert probe_folder(tmp_path).has_listing and probe_folder(tmp_path).may_have_images
    many = tmp_path / "many"
    many.mkdir()
    for i in range(30):
        (many / f"{i}.txt").write_text("")
    probe = probe_folder(many, max_entries=10)
    assert probe.truncated and probe.may_have_images and probe.entries_read == 11


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_raises(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(OSError):
            probe_folder(locked)
    finally:
        locked.chmod(0o755)


def test_a_missing_folder_raises(tmp_path):
    with pytest.raises(OSError):
        probe_folder(tmp_path / "nope")
