"""Clustering metrics: hand-checked cases, CSV scoring, and invariance properties."""
import csv
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.evaluate import (
    evaluate_assignments,
    evaluate_clustering,
    format_metrics,
    load_assignments_csv,
    load_labels_csv,
)


def test_perfect_clustering_under_permuted_ids_scores_one():
    y_true = ["stop", "stop", "yield", "yield", "30", "30", "30"]
    y_pred = [7, 7, 2, 2, 5, 5, 5]
    m = evaluate_clustering(y_true, y_pred)
    for key in ("acc", "purity", "nmi", "ari", "macro_f1"):
        assert m[key] == pytest.approx(1.0), key
    assert m["mapping"] == {7: "stop", 2: "yield", 5: "30"}
    assert m["n"] == 7 and m["n_clusters"] == 3 and m["n_classes"] == 3 and m["n_noise"] == 0


def test_hungarian_beats_greedy_matching():
    # Confusion (rows A, B; columns clusters 0, 1): A=[3, 2], B=[3, 0].
    # Greedy takes A->0 (3) and leaves B->1 (0): 3 correct.
    # The optimum is A->1 (2) + B->0 (3): 5 of 8 correct.
    y_true = ["A"] * 5 + ["B"] * 3
    y_pred = [0, 0, 0, 1, 1, 0, 0, 0]
    m = evaluate_clustering(y_true, y_pred)
    assert m["confusion"]["matrix"] == [[3, 2], [3, 0]]
    assert m["mapping"] == {1: "A", 0: "B"}
    assert m["acc"] == pytest.approx(5 / 8)
    assert m["purity"] == pytest.approx(5 / 8)  # cluster 0: max 3, cluster 1: max 2
    a, b = m["per_class"]["A"], m["per_class"]["B"]
    assert (a["precision"], a["recall"], a["support"], a["cluster"]) == (1.0, 0.4, 5, 1)
    assert a["f1"] == pytest.approx(2 * 1.0 * 0.4 / 1.4)
    assert (b["precision"], b["recall"], b["support"], b["cluster"]) == (0.5, 1.0, 3, 0)
    assert m["macro_f1"] == pytest.approx((2 * 0.4 / 1.4 + 2 * 0.5 / 1.5) / 2)


def test_more_clusters_than_classes_leaves_clusters_unmatched():
    m = evaluate_clustering(["a", "a", "b", "b"], [0, 1, 2, 3])
    assert m["acc"] == pytest.approx(0.5)
    assert m["purity"] == pytest.approx(1.0)
    assert m["n_clusters"] == 4 and m["n_classes"] == 2
    assert len(m["mapping"]) == 2
    assert m["per_class"]["a"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["a"]["precision"] == pytest.approx(1.0)


def test_fewer_clusters_than_classes_leaves_classes_unmatched():
    m = evaluate_clustering(["a", "b", "c", "c"], [0, 0, 0, 0])
    assert m["acc"] == pytest.approx(0.5)
    assert m["mapping"] == {0: "c"}
    assert m["per_class"]["a"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "cluster": None}
    assert m["macro_f1"] == pytest.approx((2 * 0.5 * 1.0 / 1.5) / 3)


def test_noise_is_never_matched():
    y_true = ["a", "a", "a", "b", "b", "b"]
    y_pred = [0, 0, -1, 1, 1, -1]
    m = evaluate_clustering(y_true, y_pred)
    assert m["n_noise"] == 2 and m["n_clusters"] == 2
    assert m["acc"] == pytest.approx(4 / 6)
    assert m["purity"] == pytest.approx(4 / 6)
    assert m["confusion"]["clusters"] == [0, 1, -1]
    assert m["confusion"]["matrix"] == [[2, 0, 1], [0, 2, 1]]
    assert -1 not in m["mapping"]
    assert m["per_class"]["a"]["precision"] == 1.0
    assert m["per_class"]["a"]["recall"] == pytest.approx(2 / 3)


def test_all_noise_scores_zero():
    m = evaluate_clustering(["a", "b", "b"], [-1, -1, -1])
    assert m["acc"] == 0.0 and m["purity"] == 0.0 and m["macro_f1"] == 0.0
    assert m["n_clusters"] == 0 and m["n_noise"] == 3 and m["mapping"] == {}


def test_string_cluster_ids_and_string_noise():
    m = evaluate_clustering([1, 1, 2, 2, 2], ["x", "x", "y", "y", "-1"])
    assert m["mapping"] == {"x": 1, "y": 2}
    assert m["n_noise"] == 1
    assert m["acc"] == pytest.approx(4 / 5)
    assert m["confusion"]["clusters"][-1] == "-1"


def test_numeric_string_classes_sort_naturally():
    m = evaluate_clustering(["10", "2", "1", "10"], np.array([0, 1, 2, 0]))
    assert m["confusion"]["classes"] == ["1", "2", "10"]
    assert m["acc"] == 1.0


def test_float_cluster_ids_with_noise():
    m = evaluate_clustering(["a", "a", "b"], np.array([0.0, 0.0, -1.0]))
    assert m["n_noise"] == 1 and m["mapping"] == {0: "a"}


def test_result_is_json_serialisable():
    m = evaluate_clustering(np.array([3, 3, 4]), np.array([1, 1, 1]))
    back = json.loads(json.dumps(m, allow_nan=False))
    assert back["acc"] == pytest.approx(2 / 3) and back["n_clusters"] == 1 and back["nmi"] == 0.0
    assert set(back["per_class"]) == {"3", "4"} and back["mapping"] == {"1": 3}


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="y_pred"):
        evaluate_clustering(["a", "b"], [0])
    with pytest.raises(ValueError, match="empty"):
        evaluate_clustering([], [])


def test_large_input_many_clusters_is_consistent():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 43, 40_000)
    y_pred = (y_true * 4 + rng.integers(0, 4, y_true.size)) % 200  # each class split in 4
    y_pred[rng.random(y_true.size) < 0.05] = -1
    m = evaluate_clustering(y_true.astype(str), y_pred)
    assert sum(map(sum, m["confusion"]["matrix"])) == 40_000
    assert m["n_classes"] == 43 and m["n_clusters"] == 172
    assert 0.2 < m["acc"] < 0.3  # one of four parts per class matched, minus noise
    assert m["purity"] == pytest.approx(1 - m["n_noise"] / 40_000)


# ---------------------------------------------------------------- assignments CSV


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_evaluate_assignments_uses_label_column_and_skips_empty(tmp_path):
    f = _write_csv(tmp_path / "assignments.csv", ["path", "cluster", "label"], [
        ["/x/a1.png", "0", "14"], ["/x/a2.png", "0", "14"], ["/x/b1.png", "1", "13"],
        ["/x/b2.png", "1", ""], ["/x/n.png", "-1", "13"],
    ])
    a = load_assignments_csv(f)
    assert a.clusters == [0, 0, 1, 1, -1] and a.labels[3] is None
    m = evaluate_assignments(f)
    assert m["n_rows"] == 5 and m["n_unlabeled"] == 1 and m["n"] == 4
    assert m["acc"] == pytest.approx(3 / 4) and m["n_noise"] == 1
    text = format_metrics(m)
    assert "acc 0.750" in text and "unlabeled (skipped) 1" in text and "worst classes: 13" in text


def test_evaluate_assignments_with_labels_source(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    labels = _write_csv(data / "labels.csv", ["path", "label"], [
        ["img_0.png", "1"], ["img_1.png", "1"], ["sub/img_2.png", "2"], ["img_3.png", "2"],
    ])
    f = _write_csv(tmp_path / "assignments.csv", ["path", "cluster", "label"], [
        [str(data / "img_0.png"), "5", ""],          # absolute, resolved against labels.csv
        ["data/img_1.png", "5", ""],                 # relative to the assignments CSV
        ["elsewhere/img_2.png", "6", ""],            # unique file name
        [str(data / "img_3.png"), "5", "ignored"],   # labels_source wins
        ["unknown.png", "6", ""],
    ])
    m = evaluate_assignments(f, labels_source=labels)
    assert m["n"] == 4 and m["n_unlabeled"] == 1
    assert m["confusion"]["matrix"] == [[2, 0], [1, 1]]
    assert m["acc"] == pytest.approx(3 / 4)


def test_labels_csv_accepts_gtsrb_columns(tmp_path):
    f = _write_csv(tmp_path / "Train.csv", ["Width", "Height", "ClassId", "Path"], [
        [30, 30, 20, "Train/20/a.png"], [31, 29, 0, "Train/0/b.png"],
    ])
    table = load_labels_csv(f)
    assert table["Train/20/a.png"] == "20"
    assert table[str((tmp_path / "Train/0/b.png").resolve())] == "0"


def test_evaluate_assignments_without_any_truth_raises(tmp_path):
    f = _write_csv(tmp_path / "a.csv", ["path", "cluster", "label"], [["a.png", "0", ""]])
    with pytest.raises(ValueError, match="no row has a ground-truth label"):
        evaluate_assignments(f)
    g = _write_csv(tmp_path / "b.csv", ["path", "label"], [["a.png", "x"]])
    with pytest.raises(ValueError, match="cluster"):
        evaluate_assignments(g)


# ---------------------------------------------------------------------- properties

_pairs = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.lists(st.integers(-1, 7), min_size=n, max_size=n),
        st.permutations(list(range(8))),
    )
)


@settings(max_examples=150, deadline=None)
@given(_pairs)
def test_metric_ranges_and_cluster_relabelling_invariance(data):
    y_true, y_pred, perm = data
    m = evaluate_clustering(y_true, y_pred)
    assert 0.0 <= m["acc"] <= m["purity"] + 1e-12 <= 1.0 + 1e-12
    assert 0.0 <= m["macro_f1"] <= 1.0
    assert -1e-9 <= m["nmi"] <= 1.0 + 1e-9
    assert -1.0 - 1e-9 <= m["ari"] <= 1.0 + 1e-9
    assert m["n_noise"] == y_pred.count(-1)
    assert sum(map(sum, m["confusion"]["matrix"])) == len(y_true)
    for cls, stats in m["per_class"].items():
        assert 0.0 <= stats["precision"] <= 1.0 and 0.0 <= stats["recall"] <= 1.0

    relabelled = [c if c == -1 else perm[c] + 100 for c in y_pred]
    r = evaluate_clustering(y_true, relabelled)
    for key in ("acc", "purity", "nmi", "ari", "macro_f1"):
        assert r[key] == pytest.approx(m[key], abs=1e-12), key
