"""Bad arguments and configs: refused up front, one plain ``error: ...`` line, exit status 2."""
from __future__ import annotations

import json

import pytest

from pipeline.cli.main import main
from pipeline.config import PipelineConfig
from pipeline.io.demo import DEMO_CLASSES, write_demo_folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("v") / "demo"
    write_demo_folder(folder, n_per_class=3, seed=1, size=32, classes=[c for c, _ in DEMO_CLASSES[:5]])
    return folder  # 15 images in 5 classes


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("v") / "tiny"
    write_demo_folder(folder, n_per_class=1, seed=1, size=32, classes=[c for c, _ in DEMO_CLASSES[:5]])
    return folder  # 5 images


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # "[  0.1s] decode ..." progress
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("argv, needles", [
    (["run", "{demo}", "--out", "{out}", "--k", "0"], ["--k", "2 or more", "got 0"]),
    (["run", "{demo}", "--out", "{out}", "--k", "1"], ["--k", "2 or more", "got 1"]),
    (["run", "{demo}", "--out", "{out}", "--k", "many"], ["--k", "whole number", "'many'"]),
    (["run", "{demo}", "--out", "{out}", "--k-range", "1:5"], ["2 <= lo <= hi"]),
    (["suspects", "{demo}", "--out", "{out}/s.csv", "--top", "-5"], ["--top", "0 or more", "got -5"]),
    (["suspects", "{demo}", "--out", "{out}/s.csv", "--neighbors", "0"], ["--neighbors", "1 or more", "got 0"]),
    (["suspects", "{demo}", "--out", "{out}/s.csv", "--cv", "1"], ["--cv", "2 or more"]),
    (["demo", "{out}/d", "--n-per-class", "0"], ["--n-per-class", "1 or more"]),
    (["run", "{demo}", "--out", "{out}", "--preset", "nope"], ["--preset", "invalid choice"]),
])
def test_bad_arguments_are_refused_before_any_work(demo, tmp_path, capsys, argv, needles):
    argv = [a.format(demo=demo, out=tmp_path / "out") for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    one_line_error(capsys, *needles)
    assert not (tmp_path / "out").exists()


def test_k_above_the_number_of_images_is_refused_not_clamped(demo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(demo), "--out", str(out), "--k", "1000", "--preset", "hog-kmeans", "--no-cache"]) == 2
    one_line_error(capsys, "k=1000", "15 images", "between 2 and 15")
    assert not out.exists()


def test_metrics_record_the_k_actually_used(demo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(demo), "--out", str(out), "--k", "5", "--preset", "hog-kmeans", "--no-cache"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["k"] == 5 and metrics["n_clusters"] == 5
    # a k range above the number of images is cut to it, and the file says so
    assert main(["run", str(demo), "--out", str(out), "--k-range", "3:1000", "--preset", "hog-kmeans",
                 "--no-cache"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["k_range"] == [3, 15] and metrics["config"]["k"] is None
    clusters = json.loads((out / "clusters.json").read_text())
    assert 3 <= clusters["k_selection"]["best_k"] <= 15 and max(clusters["k_selection"]["ks"]) <= 15


def test_too_few_images_for_the_method_names_the_minimum(tiny, tmp_path, capsys):
    # "best" clusters on a 10-nearest-neighbour graph: 5 images are not enough
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--k", "3", "--no-cache"]) == 2
    one_line_error(capsys, "too few images", "5 loaded", "at least 11", "nearest-neighbour")
    # the preset's own k (43) on 5 images
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--preset", "hog-kmeans", "--no-cache"]) == 2
    one_line_error(capsys, "k=43", "5 images", "between 2 and 5")


def test_suspects_with_too_few_labelled_images_names_the_minimum(tmp_path, capsys):
    folder = tmp_path / "two"
    write_demo_folder(folder, n_per_class=1, seed=1, size=32, classes=[c for c, _ in DEMO_CLASSES[:2]])
    assert main(["suspects", str(folder), "--out", str(tmp_path / "s.csv"), "--no-cache"]) == 2
    one_line_error(capsys, "too few labelled images", "2 in 2", "at least 3")


@pytest.mark.parametrize("content, needles", [
    ('{"image_size": "abc"}', ["image_size", "whole number of pixels", "'abc'"]),
    ("42", ["named settings", "a number (42)"]),
    ('["best"]', ["named settings", "a list"]),
    ('{"k": 0}', ["k must be", "2 or more", "a number (0)"]),
    ('{"k": "ten"}', ["k must be", "'ten'"]),
    ('{"pca": -3}', ["pca must be"]),
    ('{"crop_roi": "yes"}', ["crop_roi", "true or false"]),
    ('{"features": [{"params": {}}]}', ["feature spec without a name"]),
    ('{"features": "hog"}', ["at least one feature extractor"]),
    ('{"k_range": [1, 5]}', ["k_range", "2 <= lo <= hi"]),
    ('{"k_criterion": "best"}', ["k_criterion", "silhouette"]),
    ('{"seed": 1.5}', ["seed", "whole number"]),
    ('{"bogus": 1}', ["unknown pipeline config keys", "bogus"]),
    ('{"image_size": ', ["not valid JSON"]),
])
def test_bad_configs_say_what_is_wrong(demo, tmp_path, capsys, content, needles):
    config = tmp_path / "bad.json"
    config.write_text(content)
    assert main(["run", str(demo), "--out", str(tmp_path / "o"), "--config", str(config), "--no-cache"]) == 2
    one_line_error(capsys, str(config), *needles)
    assert not (tmp_path / "o").exists()


def test_bad_toml_config_and_missing_config(demo, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("image_size = [")
    assert main(["run", str(demo), "--out", str(tmp_path / "o"), "--config", str(config)]) == 2
    one_line_error(capsys, "not valid TOML")
    assert main(["run", str(demo), "--out", str(tmp_path / "o"), "--config", str(tmp_path / "none.json")]) == 2
    one_line_error(capsys, "cannot read config", "none.json")


def test_valid_configs_still_load_and_save_atomically(tmp_path):
    cfg = PipelineConfig.from_dict({"image_size": 24, "k": 7, "pca": 0.9})
    cfg.save(tmp_path / "ok.json")
    assert PipelineConfig.load(tmp_path / "ok.json") == cfg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]


def test_unexpected_errors_are_one_line_too(demo, tmp_path, capsys, monkeypatch):
    import pipeline.run

    def broken(*args, **kwargs):
        raise KeyError("features")

    monkeypatch.setattr(pipeline.run, "run_pipeline", broken)
    monkeypatch.delenv("CLUSTER_REVIEW_DEBUG", raising=False)
    assert main(["run", str(demo), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "error: 'features'" and "CLUSTER_REVIEW_DEBUG=1" in lines[1] and "Traceback" not in err
    monkeypatch.setenv("CLUSTER_REVIEW_DEBUG", "1")
    assert main(["run", str(demo), "--out", str(tmp_path / "o")]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_suspects_mlp_works_from_its_minimum(demo, tmp_path, capsys):
    # 15 labelled images work; 5 do not (the mlp's early stopping needs a validation set per fold)
    assert main(["suspects", str(demo), "--out", str(tmp_path / "s.csv"), "--no-cache", "--classifier", "mlp",
                 "--preset", "hog-kmeans"]) == 0
    capsys.readouterr()


def test_suspects_mlp_on_too_few_images_names_its_minimum(tiny, tmp_path, capsys):
    assert main(["suspects", str(tiny), "--out", str(tmp_path / "s.csv"), "--no-cache", "--classifier", "mlp"]) == 2
    one_line_error(capsys, "mlp classifier", "5 found", "at least 15", "--classifier logreg")
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("params, needles", [
    ({"method": "hdbscan", "k": None}, ["at least 15", "min_samples=15", "min_cluster_size"]),
    ({"method": "spectral", "k": 3}, ["at least 11", "10-nearest-neighbour", "n_neighbors"]),
    ({"method": "agglomerative", "k": 3, "method_params": {"n_neighbors": 20}}, ["at least 21"]),
])
def test_methods_name_their_minimum(tiny, tmp_path, capsys, params, needles):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"features": [{"name": "hog", "params": {}}], "pca": None, **params}))
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--config", str(config), "--no-cache"]) == 2
    one_line_error(capsys, "too few images", "5 loaded", *needles)
