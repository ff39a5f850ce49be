"""Exports: the corrected-labels CSV row by row, and the per-class folder tree (copies and links)."""
import csv
import os
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.progress import CancelToken, Cancelled
from pipeline.review import (
    CSV_COLUMNS,
    ExportError,
    ReviewSession,
    Taxonomy,
    TaxonomyClass,
    class_folder_name,
    export_csv,
    export_tree,
    safe_name,
)


@pytest.fixture
def project(tmp_path):
    """Six real images in two source folders (two share a file name) and an edited session."""
    src = tmp_path / "src"
    files = [
        src / "a" / "x.png",
        src / "b" / "x.png",  # same name as the first, different folder
        src / "a" / "y.png",
        src / "a" / "z.png",
        src / "b" / "w.png",
        src / "b" / "v.png",
    ]
    for k, f in enumerate(files):
        f.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (10, 10), (k * 40, 0, 0)).save(f)
    s = ReviewSession.from_result(
        str(src), {}, [str(f) for f in files], ["14", "14", "13", None, "14", "2"], [0, 0, 0, 1, 2, 2]
    )
    s.apply(s.name(0, "14"))
    s.apply(s.set_image_label([2], "13"))  # keeps its given label
    s.apply(s.reject([4]))
    s.apply(s.name(1, "custom"))  # an id the taxonomy does not know
    s.apply(s.mark_reviewed([5]))
    return s, files, tmp_path


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_export_csv_rows(project):
    s, files, tmp = project
    out = tmp / "labels.csv"
    assert export_csv(s, out, Taxonomy.gtsrb()) == 6
    rows = read_rows(out)
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    expected = [
        # path, cluster, class_id, class_name, original, changed, reviewed, rejected
        (files[0], "0", "14", "Stop", "14", "no", "yes", "no"),
        (files[1], "0", "14", "Stop", "14", "no", "yes", "no"),
        (files[2], "0", "13", "Yield", "13", "no", "yes", "no"),
        (files[3], "1", "custom", "custom", "", "yes", "yes", "no"),
        (files[4], "2", "", "", "14", "yes", "no", "yes"),
        # unnamed cluster: keeps the label it came with, so not changed
        (files[5], "2", "2", "Speed limit (50km/h)", "2", "no", "yes", "no"),
    ]
    assert [tuple(r.values()) for r in rows] == [(str(e[0]), *e[1:]) for e in expected]


def test_export_csv_refuses_to_overwrite(project):
    s, _, tmp = project
    out = tmp / "labels.csv"
    out.write_text("precious\n")
    with pytest.raises(ExportError, match="already exists"):
        export_csv(s, out, None)
    assert out.read_text() == "precious\n"
    export_csv(s, out, None, overwrite=True)
    assert read_rows(out)[0]["class_name"] == "14"  # no taxonomy: the id is the name
    with pytest.raises(ExportError, match="is a folder"):
        export_csv(s, tmp, None)
    with pytest.raises(ExportError, match="does not exist"):
        export_csv(s, tmp / "no" / "such" / "x.csv", None)


def test_export_tree_copy(project):
    s, files, tmp = project
    out = tmp / "tree"
    counts = export_tree(s, out, Taxonomy.gtsrb())
    assert counts == {"13_Yield": 1, "14_Stop": 2, "_rejected": 1, "2_Speed_limit_50km_h": 1, "custom": 1}
    assert sorted(p.name for p in (out / "14_Stop").iterdir()) == ["x.png", "x_1.png"]
    assert (out / "14_Stop" / "x.png").read_bytes() == files[0].read_bytes()
    assert (out / "14_Stop" / "x_1.png").read_bytes() == files[1].read_bytes()
    assert (out / "_rejected" / "w.png").read_bytes() == files[4].read_bytes()
    assert (out / "2_Speed_limit_50km_h" / "v.png").is_file()
    assert not (out / "14_Stop" / "x.png").is_symlink()


def test_export_tree_links(project):
    s, files, tmp = project
    out = tmp / "linked"
    out.mkdir()  # an existing empty folder is fine
    counts = export_tree(s, out, Taxonomy.gtsrb(), mode="link")
    assert sum(counts.values()) == 6
    link = out / "13_Yield" / "y.png"
    if link.is_symlink():
        assert Path(os.readlink(link)) == files[2].resolve()
    else:  # hard-link fallback
        assert os.path.samefile(link, files[2])
    assert link.read_bytes() == files[2].read_bytes()


def test_export_tree_refuses_non_empty_target_unless_overwrite(project):
    s, files, tmp = project
    out = tmp / "tree"
    (out / "14_Stop").mkdir(parents=True)
    (out / "14_Stop" / "x.png").write_bytes(b"old")
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_tree(s, out, Taxonomy.gtsrb())
    assert (out / "14_Stop" / "x.png").read_bytes() == b"old"
    export_tree(s, out, Taxonomy.gtsrb(), overwrite=True)
    assert (out / "14_Stop" / "x.png").read_bytes() == files[0].read_bytes()
    assert (out / "keep.txt").read_text() == "mine"
    with pytest.raises(ExportError, match="is a file"):
        export_tree(s, out / "keep.txt", None)
    with pytest.raises(ExportError, match="unknown export mode"):
        export_tree(s, tmp / "t2", None, mode="move")


def test_export_tree_checks_sources_before_writing(project):
    s, files, tmp = project
    files[3].unlink()
    out = tmp / "tree"
    with pytest.raises(ExportError, match="1 source image"):
        export_tree(s, out, None)
    assert not out.exists()


def test_export_tree_progress_and_cancel(project):
    s, _, tmp = project
    seen = []
    export_tree(s, tmp / "t1", None, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 6 and seen[-1].stage == "export"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        export_tree(s, tmp / "t2", None, cancel=token)


def test_folder_names_are_safe_and_distinct():
    assert safe_name("Speed limit (20km/h)") == "Speed_limit_20km_h"
    assert safe_name("../../etc") == "etc"
    assert safe_name("///") == "x"
    assert safe_name("CON") == "CON_"
    tax = Taxonomy([TaxonomyClass("a/b", "Über"), TaxonomyClass("7", "7")])
    assert class_folder_name("a/b", tax) == "a_b_Über"
    assert class_folder_name("7", tax) == "7"
    assert class_folder_name("0", Taxonomy.gtsrb()) == "0_Speed_limit_20km_h"


def _staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".export-" in p.name]


@pytest.mark.parametrize("target_exists", [False, True])
def test_export_tree_failing_half_way_leaves_nothing(project, monkeypatch, target_exists):
    import pipeline.review.export as export_module

    s, files, tmp = project
    out = tmp / "tree"
    if target_exists:
        out.mkdir()
    real_place, calls = export_module._place, []

    def place_then_fail(src, dst, mode):
        calls.append(dst)
        if len(calls) == 4:
            raise OSError(28, "No space left on device", str(dst))
        real_place(src, dst, mode)

    monkeypatch.setattr(export_module, "_place", place_then_fail)
    with pytest.raises(ExportError, match="No space left on device.*nothing of the export was left"):
        export_tree(s, out, None)
    assert len(calls) == 4
    assert (out.is_dir() and list(out.iterdir()) == []) if target_exists else not out.exists()
    assert _staging_left(tmp) == []


def test_export_tree_cancelled_half_way_leaves_nothing(project, monkeypatch):
    import pipeline.review.export as export_module

    s, files, tmp = project
    token = CancelToken()
    real_place, calls = export_module._place, []

    def place_and_cancel(src, dst, mode):
        calls.append(dst)
        real_place(src, dst, mode)
        if len(calls) == 3:
            token.cancel()

    monkeypatch.setattr(export_module, "_place", place_and_cancel)
    with pytest.raises(Cancelled):
        export_tree(s, tmp / "tree", None, cancel=token)
    assert len(calls) == 3 and not (tmp / "tree").exists() and _staging_left(tmp) == []


def test_export_tree_keeps_the_folder_permissions_of_a_normal_folder(project):
    s, files, tmp = project
    export_tree(s, tmp / "tree", None)
    reference = tmp / "plain"
    reference.mkdir()
    assert (tmp / "tree").stat().st_mode == reference.stat().st_mode
