"""Built-in demo set: determinism, shapes, files on disk, and non-trivial separability."""
import csv
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.io.demo import (
    DEMO_CLASSES,
    class_name,
    demo_folder,
    render_sign,
    render_signs,
    write_demo_folder,
)
from pipeline.evaluate import evaluate_clustering


def test_demo_classes_are_gtsrb_ids():
    ids = [c for c, _ in DEMO_CLASSES]
    assert len(ids) == len(set(ids)) >= 12
    expected = {"1": "30", "2": "50", "4": "70", "14": "Stop", "13": "Yield", "17": "No entry",
                "18": "General caution", "19": "left", "20": "right", "35": "Ahead only",
                "38": "Keep right", "12": "Priority road", "32": "End of all"}
    for cid, fragment in expected.items():
        assert fragment in class_name(cid)
    assert all(0 <= int(c) <= 42 for c in ids)


@pytest.mark.parametrize("size", [24, 48])
def test_render_sign_shape_and_dtype(size):
    img = render_sign("14", np.random.default_rng(0), size=size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    assert img.std() > 5  # not a flat image


def test_render_sign_rejects_unknown_class():
    with pytest.raises(ValueError, match="unknown demo class"):
        render_sign("42", np.random.default_rng(0))


def test_render_signs_deterministic_and_balanced():
    a, la = render_signs(3, seed=5, size=24)
    b, lb = render_signs(3, seed=5, size=24)
    c, _ = render_signs(3, seed=6, size=24)
    assert a.shape == (3 * len(DEMO_CLASSES), 24, 24, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and la == lb
    assert not np.array_equal(a, c)
    assert Counter(la) == {cid: 3 for cid, _ in DEMO_CLASSES}
    # A class subset renders exactly the same images as the full set.
    sub, lsub = render_signs(3, seed=5, size=24, classes=[14, "2"])
    assert lsub == ["14"] * 3 + ["2"] * 3
    idx = [i for i, lab in enumerate(la) if lab == "14"] + [i for i, lab in enumerate(la) if lab == "2"]
    assert np.array_equal(sub, a[idx])


def test_classes_separable_but_not_trivial():
    """Raw pixels + KMeans find much of the structure, but nuisances keep it far from perfect.

    Measured on seeds 0-4 (12 classes x 30, 32 px, 16x16 pixels, KMeans n_init=4):
    NMI 0.38-0.53, accuracy 0.34-0.52; random labels give NMI 0.06-0.08.
    """
    from sklearn.cluster import KMeans

    classes = [c for c, _ in DEMO_CLASSES][:12]
    images, labels = render_signs(30, seed=0, size=32, classes=classes)
    x = images[:, ::2, ::2].reshape(len(images), -1).astype(float) / 255
    x -= x.mean(axis=1, keepdims=True)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pred = KMeans(12, n_init=4, random_state=0).fit_predict(x)
    m = evaluate_clustering(labels, pred)
    assert 0.3 < m["nmi"] < 0.8
    assert m["acc"] < 0.8
    # Images of one class differ from each other (mean absolute difference, 0-255 scale).
    same = [np.abs(images[i].astype(int) - images[i + 1].astype(int)).mean()
            for i in range(len(images) - 1) if labels[i] == labels[i + 1]]
    assert min(same) > 5


def test_write_class_folders(tmp_path):
    items = write_demo_folder(tmp_path / "demo", n_per_class=2, seed=1, size=32, classes=["14", "1"])
    images, labels = render_signs(2, seed=1, size=32, classes=["14", "1"])
    assert [it.label for it in items] == labels
    for it, img in zip(items, images):
        p = Path(it.path)
        assert p.is_absolute() and p.parent.name == it.label and p.name.startswith(f"{it.label}_")
        assert np.array_equal(np.asarray(Image.open(p).convert("RGB")), img)  # PNG is lossless
    assert sorted(os.listdir(tmp_path / "demo")) == ["1", "14"]


def test_write_flat_with_labels_csv_and_jpeg(tmp_path):
    root = tmp_path / "flat"
    items = write_demo_folder(root, n_per_class=3, seed=2, size=24, layout="flat", fmt="jpg")
    assert len(items) == 3 * len(DEMO_CLASSES)
    with open(root / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["path"], r["label"]) for r in rows} == {(Path(it.path).name, it.label) for it in items}
    for it in items:
        assert Path(it.path).parent == root and re.fullmatch(r"img_\d+\.jpg", Path(it.path).name)
        with Image.open(it.path) as im:
            assert im.format == "JPEG" and im.size == (24, 24)
    # Shuffled: file order does not follow the classes.
    assert [it.label for it in items] != sorted(it.label for it in items)


def test_write_rejects_bad_options(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        write_demo_folder(tmp_path, layout="nested")
    with pytest.raises(ValueError, match="fmt"):
        write_demo_folder(tmp_path, fmt="gif")


def test_demo_folder_is_built_once(tmp_path):
    first = demo_folder(tmp_path, n_per_class=2, size=24)
    files = sorted(first.rglob("*.png"))
    assert len(files) == 2 * len(DEMO_CLASSES)
    stamp = files[0].stat().st_mtime_ns
    again = demo_folder(tmp_path, n_per_class=2, size=24)
    assert again == first and files[0].stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo-tmp-")]


def test_demo_folder_loads_with_class_labels(tmp_path):
    loader = pytest.importorskip("pipeline.io.loader")
    folder = demo_folder(tmp_path, n_per_class=2, size=24)
    image_set = loader.load_images(folder, size=24, crop_roi=False, workers=1)
    assert len(image_set) == 2 * len(DEMO_CLASSES) and not image_set.skipped
    assert Counter(image_set.labels) == {cid: 2 for cid, _ in DEMO_CLASSES}
