"""Relinking a review whose image folder moved: the session, the stored project, the CLI."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from pipeline.cli.main import main
from pipeline.config import get_preset
from pipeline.project.run_and_store import load_stored, run_and_store
from pipeline.project.store import ProjectStore
from pipeline.review.edits import ReviewError
from pipeline.review.export import missing_images
from pipeline.review.relink import plan_relink, relink
from pipeline.review.session import ReviewSession

ODD = os.fsdecode(b"caf\xe9.png")


def make_folder(folder, n=12):
    for i in range(n):
        sub = folder / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        name = ODD if i == 0 else f"img_{i}.png"
        pixels = np.random.default_rng(i).integers(0, 255, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(sub, name), format="PNG")
    return folder


def session_of(folder) -> ReviewSession:
    paths = sorted(os.path.join(d, f) for d, _, files in os.walk(folder) for f in files)
    return ReviewSession.from_result(str(folder), {}, paths, [os.path.basename(os.path.dirname(p)) for p in paths],
                                     [i % 3 for i in range(len(paths))])


def test_relink_points_the_session_at_the_moved_images(tmp_path):
    old = make_folder(tmp_path / "old")
    s = session_of(old)
    named = s.name(0, "14")
    s.apply(named)
    new = tmp_path / "new"
    os.rename(old, new)
    assert len(missing_images(s)) == len(s)
    plan = relink(s, new)
    assert plan.found == plan.moved == len(s) and not plan.missing
    assert s.folder == str(new) and all(os.path.isfile(p) for p in s.paths)
    assert any(os.path.basename(p) == ODD for p in s.paths)
    assert missing_images(s) == [] and s.cluster_names == {0: "14"}  # the review itself is kept


def test_relink_refuses_a_folder_without_the_images_and_keeps_the_session(tmp_path):
    old = make_folder(tmp_path / "old")
    s = session_of(old)
    before = list(s.paths)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ReviewError, match="none of the 12 images is under"):
        relink(s, tmp_path / "elsewhere")
    with pytest.raises(ReviewError, match="not a folder"):
        relink(s, tmp_path / "nowhere")
    partial = tmp_path / "partial"
    shutil.copytree(old, partial)
    os.unlink(partial / "a" / "img_1.png")
    with pytest.raises(ReviewError, match="only 11 of 12 images found.*img_1.png"):
        relink(s, partial)
    assert s.paths == before and s.folder == str(old)
    plan = relink(s, partial, allow_missing=True)
    assert plan.found == 11 and plan.missing == [str(partial / "a" / "img_1.png")]


def test_paths_outside_the_folder_are_left_alone(tmp_path):
    old = make_folder(tmp_path / "old")
    outside = tmp_path / "outside.png"
    Image.new("RGB", (8, 8)).save(outside)
    s = session_of(old)
    s.paths.append(str(outside))
    s.given_labels.append(None)
    s.assignments = list(s.assignments) + [0]
    s = ReviewSession(s.folder, {}, s.paths, s.given_labels, s.assignments)
    shutil.copytree(old, tmp_path / "new")
    plan = plan_relink(s, tmp_path / "new")
    assert plan.moved == 12 and plan.new_paths[-1] == str(outside)


def test_cli_relink_moves_the_stored_project(tmp_path, capsys):
    old = make_folder(tmp_path / "old", n=16)
    store_root = tmp_path / "store"
    cfg = get_preset("hog-kmeans").with_k(2)
    run_and_store(cfg, str(old), str(old), str(store_root))
    new = tmp_path / "moved"
    os.rename(old, new)
    assert main(["relink", str(old), str(new), "--store", str(store_root)]) == 0
    assert "16 of 16 images found" in capsys.readouterr().out
    store = ProjectStore(store_root)
    assert store.has_project(new)
    data, session = load_stored(str(store_root), str(new))
    assert session.folder == str(new) and all(os.path.isfile(p) for p in session.paths)
    assert [it.path for it in data.items] == session.paths
    # refused, with the reason, in one line each
    assert main(["relink", str(old), str(new), "--store", str(store_root)]) == 2
    assert "has a project of its own" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["relink", str(tmp_path / "nope"), str(tmp_path / "empty"), "--store", str(store_root)]) == 2
    assert "no project for" in capsys.readouterr().err
