"""discover(): layouts detected from real folders and CSV files in tmp_path."""
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.items import ImageItem, SkippedFile
from pipeline.io.sources import MISSING_REASON, NOT_IMAGE_REASON, SourceError, discover
from pipeline.io.walk import HIDDEN_REASON


def write_image(path, colour=(10, 200, 30), size=(12, 10), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def names(discovery):
    return [os.path.basename(it.path) for it in discovery.items]


def test_flat_folder_ignores_hidden_and_non_images(tmp_path):
    for name in ("img10.png", "img2.jpg", "IMG1.JPEG"):
        write_image(tmp_path / name)
    write_image(tmp_path / "no_extension", fmt="PNG")
    write_image(tmp_path / ".hidden.png")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "Thumbs.db").write_bytes(b"\0" * 10)
    (tmp_path / "broken.png").write_text("an image extension is always handed to the decoder")
    found = discover(tmp_path)
    assert found.layout == "flat"
    assert names(found) == ["broken.png", "IMG1.JPEG", "img2.jpg", "img10.png", "no_extension"]
    assert all(it.label is None and it.roi is None for it in found.items)
    # ignored types and hidden images are listed with their reason; system files are not
    assert sorted((os.path.basename(s.path), s.reason) for s in found.skipped) == [
        (".hidden.png", HIDDEN_REASON), ("notes.txt", NOT_IMAGE_REASON)]


def test_class_folders(tmp_path):
    write_image(tmp_path / "stop" / "a.png")
    write_image(tmp_path / "stop" / "deeper" / "b.png")
    write_image(tmp_path / "yield" / "c.jpg")
    write_image(tmp_path / "Straße_标志" / "äö.png")
    write_image(tmp_path / ".git" / "x.png")
    write_image(tmp_path / "__MACOSX" / "stop" / "._a.png")
    found = discover(str(tmp_path))
    assert found.layout == "class-folders"
    labels = {os.path.basename(it.path): it.label for it in found.items}
    assert labels == {"a.png": "stop", "b.png": "stop", "c.jpg": "yield", "äö.png": "Straße_标志"}
    assert discover(tmp_path).items == found.items  # deterministic order


def test_empty_and_missing_sources(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images found in"):
        discover(empty)
    (empty / "readme.txt").write_text("x")
    (empty / "sub").mkdir()
    with pytest.raises(SourceError, match="no images found in"):
        discover(empty)
    with pytest.raises(SourceError, match="not found"):
        discover(tmp_path / "nowhere")
    picture = write_image(tmp_path / "one.png")
    with pytest.raises(SourceError, match="expected a folder or a CSV"):
        discover(picture)
    assert issubclass(SourceError, ValueError)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read a chmod 000 folder")
def test_unreadable_folder(tmp_path):
    locked = tmp_path / "locked"
    write_image(locked / "a.png")
    locked.chmod(0)
    try:
        with pytest.raises(SourceError, match="permission denied"):
            discover(locked)
    finally:
        locked.chmod(0o755)


GT_HEADER = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"


def make_official(root):
    """GTSRB/Final_Training/Images/000CC with GT-000CC.csv, in miniature."""
    images = root / "GTSRB" / "Final_Training" / "Images"
    for class_id in (0, 12):
        folder = images / f"{class_id:05d}"
        rows = []
        for i in range(3):
            name = f"00000_{i:05d}.ppm"
            write_image(folder / name, size=(30, 28))
            rows.append(f"{name};30;28;5;6;24;22;{class_id}\n")
        rows.append(f"00000_00099.ppm;30;28;5;5;24;22;{class_id}\n")  # listed, absent
        (folder / f"GT-{class_id:05d}.csv").write_text(GT_HEADER + "".join(rows))
    write_image(images / "00012" / "extra.ppm")  # present but not in the CSV
    return images


def test_gtsrb_official_layout_from_any_level(tmp_path):
    images = make_official(tmp_path)
    for start in (tmp_path, tmp_path / "GTSRB", images.parent, images):
        found = discover(start, crop_roi=True)
        assert found.layout == "gtsrb-official", start
        assert [it.label for it in found.items] == ["0"] * 3 + ["12"] * 4
        assert found.items[0].roi == (5, 6, 24, 22)
        assert "extra.ppm" in names(found)
        missing = sorted(os.path.basename(s.path) for s in found.skipped)
        assert missing == ["00000_00099.ppm", "00000_00099.ppm"]
        assert all(s.reason == MISSING_REASON for s in found.skipped)
    no_roi = discover(images)
    assert all(it.roi is None for it in no_roi.items)
    one_class = discover(images / "00012", crop_roi=True)
    assert {it.label for it in one_class.items} == {"12"} and len(one_class.items) == 4


def make_kaggle(root):
    rows = ["Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n"]
    for class_id in (0, 12):
        for i in range(3):
            rel = f"Train/{class_id}/{class_id:05d}_00000_{i:05d}.png"
            write_image(root / rel, size=(30, 28))
            rows.append(f"30,28,5,6,24,22,{class_id},{rel}\n")
    rows.append("30,28,5,6,24,22,12,Train/12/gone.png\n")
    (root / "Train.csv").write_text("".join(rows))
    write_image(root / "Meta" / "0.png")  # not part of the training list
    return root / "Train.csv"


def test_gtsrb_kaggle_layout(tmp_path):
    csv_path = make_kaggle(tmp_path)
    for start in (tmp_path, csv_path, str(csv_path)):
        found = discover(start, crop_roi=True)
        assert found.layout == "gtsrb-kaggle"
        assert [it.label for it in found.items] == ["0"] * 3 + ["12"] * 3
        assert found.items[0].roi == (5, 6, 24, 22)
        assert found.skipped == [SkippedFile(str(tmp_path / "Train" / "12" / "gone.png"), MISSING_REASON)]
    assert all(it.roi is None for it in discover(tmp_path).items)
    assert discover(tmp_path / "Train", crop_roi=True).items == discover(tmp_path, crop_roi=True).items


def test_gtsrb_test_set_csv_without_class_ids(tmp_path):
    folder = tmp_path / "Final_Test" / "Images"
    write_image(folder / "00000.ppm")
    write_image(folder / "00001.ppm")
    (folder / "GT-final_test.test.csv").write_text(
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n00000.ppm;12;10;1;1;10;8\n00001.ppm;12;10;1;1;10;8\n"
    )
    for start in (folder, folder / "GT-final_test.test.csv"):
        found = discover(start, crop_roi=True)
        assert found.layout == "gtsrb-official" and len(found.items) == 2
        assert all(it.label is None and it.roi == (1, 1, 10, 8) for it in found.items)


def test_both_gtsrb_layouts_give_the_same_labels(tmp_path):
    official = discover(make_official(tmp_path / "official"))
    kaggle = discover(make_kaggle(tmp_path / "kaggle"))
    assert sorted(set(it.label for it in official.items)) == sorted(set(it.label for it in kaggle.items)) == ["0", "12"]


def test_csv_of_paths_and_labels(tmp_path):
    write_image(tmp_path / "imgs" / "a.png")
    write_image(tmp_path / "imgs" / "Straße_äö_标志.png")
    absolute = write_image(tmp_path / "elsewhere" / "c.jpg")
    write_image(tmp_path / "imgs" / "d.png")
    rows = [
        "path,label",
        "imgs/a.png,stop",
        "imgs/Straße_äö_标志.png,yield",
        f"{absolute},stop",
        "imgs/d.png,",
        "imgs/a.png,stop",
        "imgs/missing.png,stop",
    ]
    listing = tmp_path / "labels.csv"
    listing.write_text("\n".join(rows) + "\n", encoding="utf-8")
    found = discover(listing)
    assert found.layout == "csv"
    assert [(os.path.basename(it.path), it.label) for it in found.items] == [
        ("c.jpg", "stop"), ("a.png", "stop"), ("d.png", None), ("Straße_äö_标志.png", "yield"),  # sorted
    ]
    reasons = sorted((os.path.basename(s.path), s.reason) for s in found.skipped)
    assert reasons == [("a.png", "listed more than once in CSV"), ("missing.png", MISSING_REASON)]


def test_csv_without_header_and_with_semicolons(tmp_path):
    write_image(tmp_path / "x1.png")
    write_image(tmp_path / "x2.png")
    plain = tmp_path / "plain.csv"
    plain.write_text("x1.png,a\nx2.png,b\n")
    found = discover(plain)
    assert [it.label for it in found.items] == ["a", "b"] and found.skipped == []
    semi = tmp_path / "semi.csv"
    semi.write_text("\ufefffile;class\nx2.png;b\nx1.png;a\n", encoding="utf-8")
    assert [it.label for it in discover(semi).items] == ["a", "b"]
    only_paths = tmp_path / "paths.csv"
    only_paths.write_text("x1.png\nx2.png\n")
    assert [it.label for it in discover(only_paths).items] == [None, None]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SourceError):
        discover(empty)
    nothing_there = tmp_path / "nothing.csv"
    nothing_there.write_text("path,label\nnope.png,a\n")
    with pytest.raises(SourceError, match="no images found"):
        discover(nothing_there)


def test_list_of_items(tmp_path):
    items = [ImageItem(str(write_image(tmp_path / "a.png")), "x", (1, 1, 5, 5))]
    assert discover(items, crop_roi=True).items == items
    assert discover(items).items[0].roi is None
    assert discover(items).layout == "list"
    assert discover([tmp_path / "a.png"]).items == [ImageItem(str(tmp_path / "a.png"))]


def test_flat_folder_with_labels_csv_uses_it(tmp_path):
    from pipeline.io.demo import write_demo_folder

    items = write_demo_folder(tmp_path, n_per_class=2, size=24, layout="flat")
    found = discover(tmp_path)
    assert found.layout == "csv"
    assert sorted((Path(i.path).name, i.label) for i in found.items) == sorted(
        (Path(i.path).name, i.label) for i in items
    )


def test_linked_folders_are_read_once_and_real_folders_keep_their_labels(tmp_path):
    root = tmp_path / "set"
    write_image(root / "a" / "a1.png")
    write_image(root / "b" / "b1.png")
    write_image(tmp_path / "outside" / "o1.png")
    os.symlink(root / "b", root / "a" / "zz_link_to_b")  # met inside "a" before "b" itself in a depth-first walk
    os.symlink(tmp_path / "outside", root / "c")  # a class folder kept elsewhere: followed
    os.symlink(root / "a" / "a1.png", root / "b" / "same_as_a1.png")
    found = discover(root)
    assert sorted((os.path.basename(it.path), it.label) for it in found.items) == [
        ("a1.png", "a"), ("b1.png", "b"), ("o1.png", "c")]
    reasons = {os.path.basename(s.path): s.reason for s in found.skipped}
    assert reasons == {"zz_link_to_b": f"link to a folder already read as {root / 'b'}; not read twice",
                       "same_as_a1.png": f"same file as {root / 'a' / 'a1.png'}; listed once"}


def test_a_loop_deep_inside_is_reported_not_followed(tmp_path):
    root = tmp_path / "set"
    write_image(root / "a" / "deep" / "er" / "x.png")
    os.symlink(root / "a", root / "a" / "deep" / "er" / "back_to_a")
    os.symlink(".", root / "a" / "deep" / "er" / "self")
    found = discover(root)
    assert names(found) == ["x.png"]
    assert sorted(os.path.basename(s.path) for s in found.skipped) == ["back_to_a", "self"]
    assert all("loop" in s.reason for s in found.skipped)


def test_csv_paths_keep_spaces_and_backslashes_that_are_part_of_the_name(tmp_path):
    names = [" lead.png", "trail.png ", "back\\slash.png", "plain.png"]
    for name in names:
        write_image(tmp_path / name, fmt="PNG")
    write_image(tmp_path / "sub" / "win.png")
    listing = tmp_path / "list.csv"
    rows = [f'"{n}",a' for n in names] + ["sub\\win.png, b ", "  missing.png ,c"]
    listing.write_text("path,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    found = discover(listing)
    assert sorted(os.path.basename(it.path) for it in found.items) == sorted(names + ["win.png"])
    assert {os.path.basename(it.path): it.label for it in found.items}["win.png"] == "b"
    assert [(os.path.basename(s.path), s.reason) for s in found.skipped] == [("missing.png", MISSING_REASON)]


def test_the_chosen_folder_may_itself_be_a_link_to_a_parent(tmp_path):
    write_image(tmp_path / "a" / "x.png")
    os.symlink(".", tmp_path / "here")  # the user opens tmp_path/here, a link to tmp_path itself
    found = discover(tmp_path / "here")
    assert [(os.path.basename(it.path), it.label) for it in found.items] == [("x.png", "a")]
    assert [os.path.basename(s.path) for s in found.skipped] == ["here"]  # met again inside: a loop


def test_a_meta_folder_of_class_icons_is_listed_not_clustered(tmp_path):
    for cls in ("0", "1"):
        write_image(tmp_path / cls / f"{cls}_a.png")
    write_image(tmp_path / "Meta" / "0.png")
    write_image(tmp_path / "Meta" / "1.png")
    found = discover(tmp_path)
    assert sorted({it.label for it in found.items}) == ["0", "1"]
    icons = [s for s in found.skipped if "taxonomy icon" in s.reason]
    assert sorted(os.path.basename(s.path) for s in icons) == ["0.png", "1.png"]


def test_a_meta_folder_of_other_pictures_stays_a_class(tmp_path):
    write_image(tmp_path / "0" / "a.png")
    write_image(tmp_path / "Meta" / "holiday.png")  # not an <int>.png icon set: a class of its own
    found = discover(tmp_path)
    assert sorted({it.label for it in found.items}) == ["0", "Meta"]
    assert not found.skipped


def test_split_folders_of_class_folders_label_by_the_inner_folder(tmp_path):
    """The Kaggle GTSRB root without its CSVs: Train/<ClassId>/, Meta/ icons, a flat Test/."""
    for cls in ("0", "1", "12"):
        write_image(tmp_path / "Train" / cls / f"{cls}_00000_00000.png")
    write_image(tmp_path / "Meta" / "0.png")
    write_image(tmp_path / "Meta" / "1.png")
    write_image(tmp_path / "Test" / "00000.png")
    write_image(tmp_path / "Test" / "00001.png")
    found = discover(tmp_path)
    labels = {os.path.relpath(it.path, tmp_path): it.label for it in found.items}
    assert labels == {os.path.join("Train", c, f"{c}_00000_00000.png"): c for c in ("0", "1", "12")} | {
        os.path.join("Test", "00000.png"): None, os.path.join("Test", "00001.png"): None}  # a split, not a class
    assert sorted(os.path.basename(s.path) for s in found.skipped if "taxonomy icon" in s.reason) == ["0.png", "1.png"]


def test_a_split_folder_with_one_subfolder_or_a_class_named_like_a_split_stays_a_class(tmp_path):
    write_image(tmp_path / "train" / "a.png")  # a class that happens to be called "train"
    write_image(tmp_path / "test" / "day1" / "b.png")  # one subfolder: not a split of classes
    write_image(tmp_path / "cat" / "c.png")
    found = discover(tmp_path)
    assert sorted(it.label for it in found.items) == ["cat", "test", "train"]


def test_linked_split_and_icon_folders_are_read_like_real_ones(tmp_path):
    """``Train -> elsewhere`` labels by its class folders; a linked ``Meta/`` of icons is listed, not clustered."""
    data = tmp_path / "data"
    for cls in ("0", "1"):
        write_image(data / "train" / cls / f"{cls}_a.png")
    write_image(data / "icons" / "0.png")
    write_image(data / "icons" / "1.png")
    root = tmp_path / "set"
    root.mkdir()
    os.symlink(data / "train", root / "Train")
    os.symlink(data / "icons", root / "Meta")
    found = discover(root)
    assert sorted((os.path.basename(it.path), it.label) for it in found.items) == [("0_a.png", "0"), ("1_a.png", "1")]
    icons = [s for s in found.skipped if "taxonomy icon" in s.reason]
    assert sorted(os.path.basename(s.path) for s in icons) == ["0.png", "1.png"]
    # a real Meta/ beside a linked Train/ is listed too
    os.unlink(root / "Meta")
    write_image(root / "Meta" / "0.png")
    found = discover(root)
    assert sorted({it.label for it in found.items}) == ["0", "1"]
    assert [os.path.basename(s.path) for s in found.skipped if "taxonomy icon" in s.reason] == ["0.png"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
@pytest.mark.parametrize("linked", ["Train", "Test", "both"])
def test_a_flat_test_split_beside_a_split_is_unlabeled_whether_either_is_linked(tmp_path, linked):
    """Kaggle's flat ``Test/`` beside ``Train/<ClassId>/`` gives no label, real or linked, on either side."""
    data = tmp_path / "data"
    for cls in ("0", "1"):
        write_image(data / "train" / cls / f"{cls}_a.png")
    write_image(data / "test" / "t1.png")
    root = tmp_path / "set"
    root.mkdir()
    for name, target in (("Train", data / "train"), ("Test", data / "test")):
        if linked in (name, "both"):
            os.symlink(target, root / name)
        else:
            shutil.copytree(target, root / name)
    found = discover(root)
    assert sorted((os.path.basename(it.path), it.label) for it in found.items) == [
        ("0_a.png", "0"), ("1_a.png", "1"), ("t1.png", None)]
