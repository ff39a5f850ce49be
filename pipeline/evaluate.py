"""Score a clustering against known classes.

:func:`evaluate_clustering` compares true labels with cluster ids: accuracy under the
best one-to-one cluster-to-class matching (Hungarian), purity, NMI, ARI, macro-F1 and
per-class precision/recall after matching, and the class x cluster confusion counts.
Cluster id ``-1`` (or ``"-1"``) is noise: it is scored as its own cluster for NMI/ARI
but never matches a class, so noise points always count as wrong for accuracy,
purity and recall. :func:`evaluate_assignments` scores an ``assignments.csv``.

Every value in the returned dict is a plain Python type, so ``json.dumps`` works.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Optional, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

NOISE = -1


def _natural_key(value: Hashable) -> tuple:
    """Sort numbers numerically, numeric strings ("2" < "10") too, then other strings."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (0, int(value), "")
    text = str(value)
    if re.fullmatch(r"-?\d+", text.strip()):
        return (0, int(text), text)
    return (1, 0, text)


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars (JSON-safe)."""
    return value.item() if isinstance(value, np.generic) else value


def _factorize(values: Sequence[Hashable]) -> tuple[np.ndarray, list]:
    """Integer codes and the naturally sorted list of distinct values."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = np.asarray(list(values), dtype=object)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind in "iu":
        uniq, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.intp), [int(u) for u in uniq]
    seen: dict = {}
    codes = np.empty(len(arr), dtype=np.intp)
    for i, v in enumerate(arr.tolist()):
        codes[i] = seen.setdefault(v, len(seen))
    uniq = sorted(seen, key=_natural_key)
    remap = np.empty(len(uniq), dtype=np.intp)
    for new, v in enumerate(uniq):
        remap[seen[v]] = new
    return remap[codes], [_plain(u) for u in uniq]


def _is_noise(value: Any) -> bool:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value) == NOISE
    return isinstance(value, str) and value.strip() == str(NOISE)


def _match(real: np.ndarray, support: np.ndarray, cluster_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best one-to-one class->cluster matching (Hungarian, rectangular allowed).

    Maximises matched items; among matchings with the same count it maximises the summed
    per-class F1, so ties break the same way however clusters are numbered. Pairs with
    no overlap are dropped: such a cluster is not "matched" to anything.
    """
    if real.size == 0:
        return np.array([], dtype=np.intp), np.array([], dtype=np.intp)
    pair_f1 = 2.0 * real / (support[:, None] + cluster_size[None, :] + 1e-300)
    # Counts are integers, so a secondary term summing to < 1 only breaks ties.
    eps = 0.5 / max(1, min(real.shape))
    rows, cols = linear_sum_assignment(real + eps * pair_f1, maximize=True)
    keep = real[rows, cols] > 0
    return rows[keep], cols[keep]


def evaluate_clustering(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> dict:
    """Compare true classes with cluster ids; labels may be strings or ints.

    Returns a dict with ``acc`` (Hungarian one-to-one matching; with more clusters than
    classes the unmatched clusters count as wrong), ``purity`` (each cluster votes for
    its majority class), ``nmi``, ``ari``, ``macro_f1`` (over true classes, after
    matching), ``per_class`` (``{class: {precision, recall, f1, support, cluster}}``),
    ``mapping`` (matched cluster -> class), ``confusion`` (``{"classes", "clusters",
    "matrix"}``, rows = classes, columns = clusters, noise last), ``n``,
    ``n_clusters`` (noise excluded), ``n_classes`` and ``n_noise``.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    n = len(y_true)
    if n == 0:
        raise ValueError("cannot evaluate an empty clustering")
    t_codes, classes = _factorize(y_true)
    p_codes, clusters = _factorize(y_pred)
    noise_idx = [i for i, c in enumerate(clusters) if _is_noise(c)]
    # Put noise (at most one id) last so columns [0, n_real) are the real clusters.
    if noise_idx:
        j = noise_idx[0]
        order = [i for i in range(len(clusters)) if i != j] + [j]
        inv = np.empty(len(order), dtype=np.intp)
        inv[order] = np.arange(len(order))
        p_codes = inv[p_codes]
        clusters = [clusters[i] for i in order]
    n_real = len(clusters) - (1 if noise_idx else 0)

    n_cls, n_col = len(classes), len(clusters)
    matrix = np.bincount(t_codes * n_col + p_codes, minlength=n_cls * n_col).reshape(n_cls, n_col)
    real = matrix[:, :n_real]
    n_noise = int(matrix[:, n_real:].sum())

    support = matrix.sum(axis=1)
    cluster_size = real.sum(axis=0)
    rows, cols = _match(real, support, cluster_size)
    matched = int(real[rows, cols].sum())
    purity = int(real.max(axis=0).sum()) / n if n_real else 0.0
    col_of_class = dict(zip(rows.tolist(), cols.tolist()))
    per_class: dict = {}
    f1s = []
    for ci, cls in enumerate(classes):
        col = col_of_class.get(ci)
        tp = int(real[ci, col]) if col is not None else 0
        predicted = int(cluster_size[col]) if col is not None else 0
        precision = tp / predicted if predicted else 0.0
        recall = tp / int(support[ci]) if support[ci] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[cls] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(support[ci]),
            "cluster": clusters[col] if col is not None else None,
        }

    return {
        "acc": matched / n,
        "purity": purity,
        "nmi": float(normalized_mutual_info_score(t_codes, p_codes)),
        "ari": float(adjusted_rand_score(t_codes, p_codes)),
        "macro_f1": float(np.mean(f1s)),
        "per_class": per_class,
        "mapping": {clusters[c]: classes[r] for r, c in col_of_class.items()},
        "confusion": {"classes": list(classes), "clusters": list(clusters), "matrix": matrix.tolist()},
        "n": n,
        "n_clusters": n_real,
        "n_classes": n_cls,
        "n_noise": n_noise,
    }


# ------------------------------------------------------------------ assignments CSV


@dataclass
class Assignments:
    """Rows of an ``assignments.csv``: path, cluster id, and label (``None`` when empty)."""

    paths: list[str]
    clusters: list
    labels: list[Optional[str]]


_PATH_COLUMNS = ("path", "filename", "file", "image")
_LABEL_COLUMNS = ("label", "classid", "class", "class_id")


def _find_column(fieldnames: Sequence[str], wanted: Sequence[str], csv_path: Path) -> str:
    lower = {f.strip().lower(): f for f in fieldnames}
    for w in wanted:
        if w in lower:
            return lower[w]
    raise ValueError(f"{csv_path}: no column named any of {list(wanted)} (columns: {list(fieldnames)})")


def _read_rows(csv_path: Path) -> tuple[list[dict], list[str]]:
    with open(csv_path, newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:  # file names as bytes
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ValueError(f"{csv_path}: empty file or no header row")
        return list(reader), list(reader.fieldnames)


def load_assignments_csv(path: str | os.PathLike) -> Assignments:
    """Read ``path,cluster,label`` rows; cluster ids become ints when all are integers."""
    csv_path = Path(path)
    rows, fields = _read_rows(csv_path)
    path_col = _find_column(fields, _PATH_COLUMNS, csv_path)
    cluster_col = _find_column(fields, ("cluster", "cluster_id"), csv_path)
    label_col = next((f for f in fields if f.strip().lower() == "label"), None)
    paths = [r[path_col] for r in rows]
    raw = [(r[cluster_col] or "").strip() for r in rows]
    if any(c == "" for c in raw):
        bad = raw.index("")
        raise ValueError(f"{csv_path}: row {bad + 2} has an empty cluster id")
    clusters: list = [int(c) for c in raw] if all(re.fullmatch(r"-?\d+", c) for c in raw) else raw
    labels = [((r.get(label_col) or "").strip() or None) if label_col else None for r in rows]
    return Assignments(paths, clusters, labels)


def load_labels_csv(path: str | os.PathLike) -> dict[str, str]:
    """Map path -> label from a ``path,label`` CSV (GTSRB ``Path,ClassId`` works too).

    Each path is stored as written and also resolved against the CSV's folder, so
    relative and absolute references both match.
    """
    csv_path = Path(path)
    rows, fields = _read_rows(csv_path)
    path_col = _find_column(fields, _PATH_COLUMNS, csv_path)
    label_col = _find_column(fields, _LABEL_COLUMNS, csv_path)
    base = csv_path.resolve().parent
    out: dict[str, str] = {}
    for r in rows:
        p, lab = (r[path_col] or "").strip(), (r[label_col] or "").strip()
        if not p or not lab:
            continue
        out[p] = lab
        out[_norm(base / p)] = lab
    return out


def _norm(p: str | os.PathLike) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(p)))


def evaluate_assignments(
    assignments_csv: str | os.PathLike, labels_source: str | os.PathLike | None = None
) -> dict:
    """Score an ``assignments.csv`` (columns ``path,cluster,label``).

    Ground truth is the ``label`` column, or, when ``labels_source`` (a ``path,label``
    CSV) is given, the label it lists for each path: matched as written, then as an
    absolute path (relative paths resolve against each CSV's folder), then by file name
    when that is unique. Rows without ground truth are left out and counted in
    ``n_unlabeled``; the result is :func:`evaluate_clustering`'s dict plus ``n_rows``
    and ``n_unlabeled``.
    """
    csv_path = Path(assignments_csv)
    a = load_assignments_csv(csv_path)
    if labels_source is None:
        truth = a.labels
    else:
        table = load_labels_csv(labels_source)
        by_name: dict[str, Optional[str]] = {}
        for p, lab in table.items():
            name = os.path.basename(p)
            by_name[name] = lab if by_name.get(name, lab) == lab else None  # None = ambiguous
        base = csv_path.resolve().parent
        truth = []
        for p in a.paths:
            lab = table.get(p) or table.get(_norm(base / p)) or by_name.get(os.path.basename(p))
            truth.append(lab)
    keep = [i for i, lab in enumerate(truth) if lab]
    if not keep:
        where = f"in {labels_source}" if labels_source is not None else "in the label column"
        raise ValueError(f"{csv_path}: no row has a ground-truth label {where}")
    metrics = evaluate_clustering([truth[i] for i in keep], [a.clusters[i] for i in keep])
    metrics["n_rows"] = len(a.paths)
    metrics["n_unlabeled"] = len(a.paths) - len(keep)
    return metrics


# -------------------------------------------------------------------------- summary


def format_metrics(metrics: dict, worst: int = 3) -> str:
    """A short human summary: headline scores and the worst-recovered classes."""
    lines = [
        f"items {metrics['n']}  classes {metrics['n_classes']}  clusters {metrics['n_clusters']}"
        f"  noise {metrics['n_noise']}"
        + (f"  unlabeled (skipped) {metrics['n_unlabeled']}" if metrics.get("n_unlabeled") else ""),
        f"acc {metrics['acc']:.3f}  purity {metrics['purity']:.3f}  NMI {metrics['nmi']:.3f}"
        f"  ARI {metrics['ari']:.3f}  macro-F1 {metrics['macro_f1']:.3f}",
    ]
    per_class = metrics.get("per_class") or {}
    if per_class and worst > 0:
        ranked = sorted(per_class.items(), key=lambda kv: (kv[1]["f1"], _natural_key(kv[0])))[:worst]
        parts = [f"{cls} (F1 {m['f1']:.2f}, n={m['support']})" for cls, m in ranked]
        lines.append("worst classes: " + ", ".join(parts))
    return "\n".join(lines)
