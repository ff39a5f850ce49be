"""Ward linkage over weighted points (micro-cluster centres), optionally along a graph.

Merging clusters ``a`` and ``b`` raises the within-cluster sum of squares by
``n_a n_b / (n_a + n_b) * |c_a - c_b|^2``; starting from centres with sizes this is exactly
ward over the images they stand for, with each micro-cluster kept whole. With a
connectivity graph only neighbouring clusters merge (as scikit-learn's constrained ward);
what the graph leaves apart is joined at the end by the same cost, without the graph.
The tree comes back as scikit-learn ``children_`` (merge ``i`` creates node ``n + i``).
"""
from __future__ import annotations

import heapq
from typing import Optional

import numpy as np

from pipeline.core.progress import CancelToken, check_cancel


def _cost(na: float, ca: np.ndarray, nb: float, cb: np.ndarray) -> float:
    d = ca - cb
    return na * nb / (na + nb) * float(d @ d)


def weighted_ward_children(
    centres: np.ndarray, sizes: np.ndarray, connectivity=None, *, cancel: Optional[CancelToken] = None
) -> np.ndarray:
    """``(n - 1, 2)`` merges of size-weighted ward over ``centres`` (sparse ``connectivity``
    restricts merges to neighbours; ``None`` allows all pairs, O(n^2) memory)."""
    n = len(centres)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    cent = [np.asarray(c, dtype=np.float64) for c in centres]
    size = [float(s) for s in sizes]
    alive = [True] * n
    children: list[tuple[int, int]] = []
    if connectivity is None:
        return _join_all(cent, size, alive, children, list(range(n)), n)
    graph = connectivity.tocoo()
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in zip(graph.row.tolist(), graph.col.tolist()):
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    heap = [(_cost(size[i], cent[i], size[j], cent[j]), i, j) for i in range(n) for j in neighbours[i] if i < j]
    heapq.heapify(heap)
    while heap:
        _, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b]):
            continue
        if len(children) % 1024 == 0:
            check_cancel(cancel)
        node = len(cent)
        total = size[a] + size[b]
        cent.append((size[a] * cent[a] + size[b] * cent[b]) / total)
        size.append(total)
        alive[a] = alive[b] = False
        alive.append(True)
        children.append((a, b))
        around = (neighbours[a] | neighbours[b]) - {a, b}
        neighbours.append(around)
        neighbours[a] = neighbours[b] = set()
        for x in around:
            neighbours[x].discard(a)
            neighbours[x].discard(b)
            neighbours[x].add(node)
            heapq.heappush(heap, (_cost(total, cent[node], size[x], cent[x]), x, node))
    roots = [i for i, live in enumerate(alive) if live]
    return _join_all(cent, size, alive, children, roots, n)


def _join_all(cent, size, alive, children, roots: list[int], n: int) -> np.ndarray:
    """Merge the ``roots`` by ward cost without a graph (vectorised over the remaining pairs)."""
    roots = list(roots)
    if len(roots) > 1:
        c = np.stack([cent[r] for r in roots])
        s = np.array([size[r] for r in roots])
        d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
        cost = s[:, None] * s[None, :] / (s[:, None] + s[None, :]) * d2
        np.fill_diagonal(cost, np.inf)
        while len(roots) > 1:
            i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
            i, j = (i, j) if i < j else (j, i)
            node = len(cent)
            total = s[i] + s[j]
            merged = (s[i] * c[i] + s[j] * c[j]) / total
            cent.append(merged)
            size.append(float(total))
            children.append((roots[i], roots[j]))
            roots[i] = node
            c[i], s[i] = merged, total
            row = s[i] * s / (s[i] + s) * ((c - merged) ** 2).sum(-1)
            cost[i, :] = row
            cost[:, i] = row
            cost[i, i] = np.inf
            keep = np.arange(len(roots)) != j
            roots.pop(j)
            c, s, cost = c[keep], s[keep], cost[np.ix_(keep, keep)]
    return np.asarray(children, dtype=np.int64).reshape(-1, 2)
