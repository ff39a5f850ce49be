"""fsspec URL sources: a memory:// copy of a real folder loads like the folder itself."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

fsspec = pytest.importorskip("fsspec")

from pipeline.io.decode import DecodeError, decode_image, image_metadata  # noqa: E402
from pipeline.io.demo import write_demo_folder  # noqa: E402
from pipeline.io.loader import load_images  # noqa: E402
from pipeline.io.remote import is_url, local_path  # noqa: E402
from pipeline.io.sources import DUPLICATE_REASON, MISSING_REASON, SourceError, discover  # noqa: E402


@pytest.fixture
def store():
    """A fresh ``memory://`` folder; ``mirror(local_folder)`` copies a tree into it."""
    fs = fsspec.filesystem("memory")
    root = f"/t-{uuid.uuid4().hex[:8]}"

    def mirror(folder: Path, name: str = "set") -> str:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                fs.pipe(f"{root}/{name}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        return f"memory://{root}/{name}"

    yield mirror
    fs.rm(root, recursive=True)


def _by_name(skipped):
    return sorted((os.path.basename(s.path), s.reason) for s in skipped)


def test_class_folders_in_a_store_load_like_the_local_folder(tmp_path, store):
    folder = tmp_path / "set"
    write_demo_folder(folder, n_per_class=3, seed=0)
    (folder / "notes.txt").write_text("not an image")
    (folder / "14" / "broken.png").write_bytes(b"not a png")
    (folder / "14" / "empty.png").write_bytes(b"")
    Image.new("RGB", (8, 8)).save(folder / "14" / ".hidden.png")
    Image.new("RGB", (8, 8)).save(folder / "1" / "Thumbs.db", "PNG")
    (folder / ".git").mkdir()
    Image.new("RGB", (8, 8)).save(folder / ".git" / "x.png")
    url = store(folder)

    local = load_images(folder, size=24, cache_dir=False)
    remote = load_images(url, size=24, cache_dir=tmp_path / "cache")  # URLs are never cached: no stat
    assert remote.layout == local.layout == "class-folders"
    assert all(it.path.startswith("memory://") for it in remote.items)
    assert [os.path.basename(it.path) for it in remote.items] == [os.path.basename(it.path) for it in local.items]
    assert [it.label for it in remote.items] == [it.label for it in local.items]
    np.testing.assert_array_equal(remote.images, local.images)
    assert _by_name(remote.skipped) == _by_name(local.skipped) == [
        (".hidden.png", "hidden file (its name starts with a dot); not read"),
        ("broken.png", "not an image"), ("empty.png", "empty file (0 bytes)"),
        ("notes.txt", "not an image type we read")]


def test_flat_folder_with_labels_csv_and_csv_urls(tmp_path, store):
    folder = tmp_path / "flat"
    write_demo_folder(folder, n_per_class=2, seed=1, layout="flat")
    url = store(folder)
    local, remote = discover(folder), discover(url)
    assert remote.layout == local.layout == "csv"
    assert [it.label for it in remote.items] == [it.label for it in local.items]
    assert discover(url + "/labels.csv").items == remote.items

    rows = (folder / "labels.csv").read_text().splitlines()
    first = rows[1].split(",")[0]
    (folder / "extra").mkdir()
    (folder / "extra" / "list.csv").write_text(f"path,label\n../{first},a\n../{first},b\n../gone.png,c\n")
    found = discover(store(folder, "again") + "/extra/list.csv")
    assert [it.label for it in found.items] == ["a"]
    assert found.items[0].path.endswith("/again/" + first)
    assert [s.reason for s in found.skipped] == [DUPLICATE_REASON, MISSING_REASON]


def test_gtsrb_kaggle_csv_in_a_store_keeps_its_rois(tmp_path, store):
    folder = tmp_path / "kaggle"
    (folder / "Train" / "3").mkdir(parents=True)
    colours = [(200, 10, 10), (10, 200, 10)]
    lines = ["Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path"]
    for i, colour in enumerate(colours):
        image = Image.new("RGB", (40, 30), (255, 255, 255))
        image.paste(colour, (5, 5, 25, 20))
        image.save(folder / "Train" / "3" / f"0000{i}.png")
        lines.append(f"40,30,5,5,24,19,3,Train/3/0000{i}.png")
    (folder / "Train.csv").write_text("\n".join(lines) + "\n")
    url = store(folder)
    local = load_images(folder, size=16, crop_roi=True, cache_dir=False)
    remote = load_images(url, size=16, crop_roi=True, cache_dir=False)
    assert remote.layout == "gtsrb-kaggle" and [it.roi for it in remote.items] == [(5, 5, 24, 19)] * 2
    assert [it.label for it in remote.items] == ["3", "3"]
    np.testing.assert_array_equal(remote.images, local.images)
    assert tuple(remote.images[0, 8, 8]) == colours[0]  # cropped to the ROI: no white left


def test_unusable_urls_are_one_plain_error(store, tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.md").write_text("x")
    url = store(tmp_path / "empty")
    with pytest.raises(SourceError, match=r"^no images found in memory://"):
        discover(url)
    with pytest.raises(SourceError, match=r"^not found: memory://"):
        discover(url + "/nowhere")
    with pytest.raises(SourceError, match="expected a folder or a CSV file, got readme.md"):
        discover(url + "/sub/readme.md")
    with pytest.raises(SourceError, match="Protocol not known"):
        discover("nosuchstore://bucket/images")


def test_decoding_from_a_url_gives_the_local_pixels_and_reasons(tmp_path, store):
    folder = tmp_path / "one"
    folder.mkdir()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(folder / "a.png")
    url = store(folder)
    np.testing.assert_array_equal(decode_image(url + "/a.png", 8), decode_image(folder / "a.png", 8))
    with pytest.raises(DecodeError, match="^file not found$"):
        decode_image(url + "/missing.png", 8)
    meta = image_metadata(url + "/a.png")
    assert meta["format"] == "PNG" and meta["size"] == (20, 10) and meta["error"] is None
    assert meta["bytes"] == (folder / "a.png").stat().st_size


def test_file_urls_are_local_paths_and_what_counts_as_a_url(tmp_path):
    write_demo_folder(tmp_path / "set", n_per_class=1, seed=0)
    found = discover("file://" + str(tmp_path / "set"))
    assert found.items == discover(tmp_path / "set").items  # plain local paths, every local layout
    assert local_path("file:///data/a%20b") == "/data/a b" and local_path("s3://bucket/x") is None
    assert is_url("s3://bucket/x") and is_url("memory://x")
    assert not is_url("C:\\images") and not is_url("c://x") and not is_url(Path("/tmp")) and not is_url("/tmp/a")
