"""load_images(): parallel decoding, skipped files, progress, cancel and the on-disk cache."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.io import decode as decode_module
from pipeline.io.loader import load_images
from pipeline.core.paths import CACHE_ENV_VAR, default_cache_dir
from pipeline.core.progress import CancelToken, Cancelled
from pipeline.io.sources import SourceError, discover


def write_images(folder, n, prefix="img"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    paths = []
    for i in range(n):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        path = folder / f"{prefix}{i:03d}.png"
        Image.new("RGB", (20 + i % 7, 18), colour).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def count_decodes(monkeypatch):
    """Count calls to the decoder (thread and serial paths look it up at call time)."""
    calls = []
    real = decode_module.decode_image

    def counting(path, *args, **kwargs):
        calls.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(decode_module, "decode_image", counting)
    return calls


def test_bad_files_are_skipped_with_reasons(tmp_path):
    write_images(tmp_path, 4)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture")
    full = tmp_path / "full.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(full)
    (tmp_path / "cut.jpg").write_bytes(full.read_bytes()[:600])
    full.unlink()
    result = load_images(tmp_path, size=16, cache_dir=False)
    assert result.images.shape == (4, 16, 16, 3) and result.images.dtype == np.uint8
    assert result.layout == "flat" and result.labels is None
    reasons = {os.path.basename(s.path): s.reason for s in result.skipped}
    assert reasons == {"empty.jpg": "empty file (0 bytes)", "text.png": "not an image", "cut.jpg": "truncated image"}


def test_csv_entry_that_is_a_folder_is_reported(tmp_path):
    """Stands in for an unreadable file when tests run as root (root reads chmod 000 files)."""
    write_images(tmp_path, 2)
    (tmp_path / "folder.png").mkdir()
    listing = tmp_path / "list.csv"
    listing.write_text("img000.png,a\nimg001.png,b\nfolder.png,c\n")
    result = load_images(listing, size=8, cache_dir=False)
    assert result.labels == ["a", "b"] and result.layout == "csv"
    assert [(os.path.basename(s.path), s.reason) for s in result.skipped] == [("folder.png", "unreadable: is a directory")]


def test_nothing_decodable_is_a_source_error(tmp_path):
    (tmp_path / "a.png").write_text("x")
    with pytest.raises(SourceError, match="could be decoded"):
        load_images(tmp_path, cache_dir=False)


def test_kaggle_layout_with_roi_crop_and_labels(tmp_path):
    rows = ["Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path"]
    for class_id in (3, 14):
        arr = np.zeros((30, 40, 3), np.uint8)
        arr[:] = (255, 0, 0)
        arr[5:25, 10:30] = (0, 255, 0)  # the sign, inside the ROI
        rel = f"Train/{class_id}/a.png"
        (tmp_path / "Train" / str(class_id)).mkdir(parents=True)
        Image.fromarray(arr).save(tmp_path / rel)
        rows.append(f"40,30,10,5,29,24,{class_id},{rel}")
    (tmp_path / "Train.csv").write_text("\n".join(rows) + "\n")
    cropped = load_images(tmp_path, size=8, cache_dir=False)
    assert cropped.layout == "gtsrb-kaggle" and cropped.labels == ["3", "14"]
    assert np.all(cropped.images == (0, 255, 0))
    whole = load_images(tmp_path, size=8, crop_roi=False, cache_dir=False)
    assert tuple(whole.images[0, 0, 0]) == (255, 0, 0)


def test_progress_and_size_tuple(tmp_path):
    write_images(tmp_path / "a", 5)
    write_images(tmp_path / "b", 4)
    seen = []
    result = load_images(tmp_path, size=(12, 10), cache_dir=False, progress=seen.append)
    assert result.images.shape == (9, 10, 12, 3) and result.layout == "class-folders"
    assert result.labels == ["a"] * 5 + ["b"] * 4
    assert {p.stage for p in seen} == {"decode"}
    dones = [p.done for p in seen]
    assert dones == sorted(dones) and seen[-1].done == seen[-1].total == 9


def test_cancel(tmp_path):
    write_images(tmp_path, 40)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        load_images(tmp_path, cache_dir=False, cancel=token)

    token = CancelToken()
    seen = []

    def cancel_after_first_chunk(p):
        seen.append(p.done)
        if p.done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        load_images(tmp_path, cache_dir=False, workers=1, cancel=token, progress=cancel_after_first_chunk)
    assert max(seen) < 40

    write_images(tmp_path / "more", 120)
    for executor in ("thread", "process"):
        token, seen = CancelToken(), []
        with pytest.raises(Cancelled):
            load_images(tmp_path / "more", cache_dir=False, workers=2, executor=executor,
                        cancel=token, progress=cancel_after_first_chunk)
        assert max(seen) < 120, executor


def test_pools_give_the_same_images(tmp_path):
    write_images(tmp_path, 70)  # above the size where a pool is used
    serial = load_images(tmp_path, size=16, cache_dir=False, workers=1)
    threads = load_images(tmp_path, size=16, cache_dir=False, workers=2, executor="thread")
    processes = load_images(tmp_path, size=16, cache_dir=False, workers=2, executor="process")
    assert np.array_equal(serial.images, threads.images)
    assert np.array_equal(serial.images, processes.images)
    assert serial.paths == threads.paths == processes.paths
    if os.name == "posix":
        forked = load_images(tmp_path, size=16, cache_dir=False, workers=2, executor="fork")
        assert np.array_equal(serial.images, forked.images)


def test_failing_process_pool_falls_back_to_threads(tmp_path, monkeypatch, caplog):
    from pipeline.io import loader

    write_images(tmp_path, 70)
    real_make_pool = loader._make_pool

    class Unstartable:
        def submit(self, *args, **kwargs):
            raise OSError("cannot start worker processes")

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(loader, "_make_pool", lambda kind, n: Unstartable() if kind == "process" else real_make_pool(kind, n))
    result = load_images(tmp_path, size=8, cache_dir=False, workers=2, executor="process")
    assert len(result) == 70 and result.skipped == []
    assert "decoding the rest in threads" in caplog.text


def test_second_load_comes_from_cache(tmp_path, count_decodes):
    paths = write_images(tmp_path / "data", 6)
    (tmp_path / "data" / "bad.png").write_text("nope")
    cache = tmp_path / "cache"
    first = load_images(tmp_path / "data", size=16, cache_dir=cache)
    assert len(count_decodes) == 7
    blobs = list(cache.glob("*.npy"))
    assert len(blobs) == 1 and len(list(cache.glob("*.json"))) == 1  # one blob, not one file per image
    count_decodes.clear()
    second = load_images(tmp_path / "data", size=16, cache_dir=cache)
    assert count_decodes == []  # neither good nor bad files are decoded again
    assert np.array_equal(first.images, second.images) and first.items == second.items
    assert second.skipped == first.skipped

    other_size = load_images(tmp_path / "data", size=8, cache_dir=cache)
    assert len(count_decodes) == 7 and other_size.images.shape[1:] == (8, 8, 3)

    count_decodes.clear()
    Image.new("RGB", (20, 18), (1, 2, 3)).save(paths[2])
    st = paths[2].stat()
    os.utime(paths[2], ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    third = load_images(tmp_path / "data", size=16, cache_dir=cache)
    assert count_decodes == [str(paths[2])]
    assert np.all(third.images[2] == (1, 2, 3))
    assert np.array_equal(np.delete(third.images, 2, axis=0), np.delete(first.images, 2, axis=0))
    assert len(list(cache.glob("decoded-16x16*.npy"))) == 1  # the old blob was replaced


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, count_decodes):
    write_images(tmp_path / "data", 5)
    cache = tmp_path / "cache"
    reference = load_images(tmp_path / "data", size=16, cache_dir=cache)
    for blob in cache.glob("*.npy"):
        blob.write_bytes(b"garbage")
    count_decodes.clear()
    again = load_images(tmp_path / "data", size=16, cache_dir=cache)
    assert len(count_decodes) == 5 and np.array_equal(again.images, reference.images)
    for index in cache.glob("*.json"):
        index.write_text("{ not json")
    count_decodes.clear()
    assert np.array_equal(load_images(tmp_path / "data", size=16, cache_dir=cache).images, reference.images)
    assert len(count_decodes) == 5
    count_decodes.clear()
    load_images(tmp_path / "data", size=16, cache_dir=cache)
    assert count_decodes == []  # rebuilt


def test_cache_index_with_wrong_shape_is_ignored(tmp_path, count_decodes):
    write_images(tmp_path / "data", 3)
    cache = tmp_path / "cache"
    load_images(tmp_path / "data", size=16, cache_dir=cache)
    index_path = next(cache.glob("*.json"))
    index = json.loads(index_path.read_text())
    index["entries"] = index["entries"][:2]  # no longer matches the blob's 3 rows
    index_path.write_text(json.dumps(index))
    count_decodes.clear()
    assert len(load_images(tmp_path / "data", size=16, cache_dir=cache)) == 3
    assert len(count_decodes) == 3


def test_item_lists_share_a_cache_with_subsets(tmp_path, count_decodes):
    write_images(tmp_path / "data", 8)
    items = discover(tmp_path / "data").items
    cache = tmp_path / "cache"
    load_images(items[:3], size=16, cache_dir=cache)
    count_decodes.clear()
    full = load_images(items, size=16, cache_dir=cache)
    assert len(count_decodes) == 5 and len(full) == 8
    count_decodes.clear()
    load_images(items[:3], size=16, cache_dir=cache)
    load_images(items, size=16, cache_dir=cache)
    assert count_decodes == []


def test_cache_disabled_and_default_location(tmp_path, monkeypatch):
    write_images(tmp_path / "data", 2)
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    load_images(tmp_path / "data", size=8, cache_dir=False)
    assert not (tmp_path / "env-cache").exists()
    load_images(tmp_path / "data", size=8)
    assert list((tmp_path / "env-cache").glob("*.npy"))
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert default_cache_dir().name == "cluster-review"


def test_unwritable_cache_does_not_fail_the_load(tmp_path):
    write_images(tmp_path / "data", 2)
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    assert len(load_images(tmp_path / "data", size=8, cache_dir=blocker)) == 2


@pytest.mark.gtsrb
def test_shared_gtsrb_sample(gtsrb_dir):
    items = discover(gtsrb_dir, crop_roi=True).items[::400]
    result = load_images(items, size=32, cache_dir=False)
    assert len(result) == len(items) and result.skipped == []
    assert result.images.shape == (len(items), 32, 32, 3)
    assert set(result.labels) <= {str(c) for c in range(43)}
    assert Path(result.paths[0]).suffix == ".jpg"


def test_unicode_and_undecodable_file_names(tmp_path, count_decodes):
    folder = tmp_path / "data"
    write_images(folder, 1)
    Image.new("RGB", (10, 10), (5, 6, 7)).save(folder / "Straße_äö_标志.png")
    try:  # a Latin-1 name that is not valid UTF-8 (Linux allows any bytes)
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.png"), "wb") as fh:
            Image.new("RGB", (10, 10), (9, 9, 9)).save(fh, "PNG")
    except OSError:
        pass
    cache = tmp_path / "cache"
    first = load_images(folder, size=8, cache_dir=cache)
    assert "Straße_äö_标志.png" in [os.path.basename(p) for p in first.paths] and first.skipped == []
    count_decodes.clear()
    second = load_images(folder, size=8, cache_dir=cache)
    assert count_decodes == [] and second.paths == first.paths
