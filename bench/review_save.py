"""Time and bytes written per review edit with the SQLite session store, at 40k and 1M images.

For each size: builds a session (GTSRB-like paths, k clusters with members scattered at
random, half the clusters named, 1% rejected, 25% reviewed), writes it as a database, then
applies edits through a ``SessionJournal`` (one committed transaction each, synchronous=FULL,
so the time includes the fsync) and reports per edit kind the median / 95th percentile time
and the bytes written:

* ``wal``: growth of the write-ahead log per commit, with automatic checkpoints off
  (every byte the commit writes; db + wal size growth);
* ``io``: ``/proc/self/io`` ``wchar`` per edit with checkpoints on (the log plus its share of
  the checkpoints that copy pages back into the main file), where available.

Each merge is followed by its undo and its redo (rows of their own: an undo drops the merge's
cluster alias, a redo adds it again). For comparison it times one save of the same session as
the old JSON file (written whole after every edit before this store). Also: database size, the
time to open it (checks, load, good copy), the journal row of a merge, and the fold of the
merges' aliases into the blocks when the journal closes. The last line sums up the largest
size: the worst edit kind's median and p95 time and p95 bytes against the target.
Columns: wall time per step (median / p95), its CPU time (``process_time``, median: the rest is
waiting for the fsync and for the CPU on a shared machine), the CPU time to build the edit
(the session's queries, e.g. ``cluster_ids``; not part of the save), bytes written.

Usage: .venv/bin/python bench/review_save.py [--sizes 40000 1000000] [--edits 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.project.sessions import load_database  # noqa: E402
from pipeline.review import ReviewSession  # noqa: E402
from pipeline.review.edit_codec import encode_edit  # noqa: E402
from pipeline.review.journal import SessionJournal  # noqa: E402
from pipeline.review.session_db import SessionDB  # noqa: E402


def build(n: int, k: int, seed: int = 0) -> ReviewSession:
    rng = np.random.default_rng(seed)
    given = rng.integers(0, 43, n)
    paths = [f"/home/user/data/gtsrb/Train/{g}/{i // 30:05d}_{i % 30:05d}_{i % 7:05d}.png" for i, g in enumerate(given)]
    s = ReviewSession.from_result("/home/user/data/gtsrb", {"method": "kmeans", "k": k}, paths,
                                  [str(g) for g in given], rng.integers(0, k, n))
    s.cluster_names = {c: str(c % 43) for c in range(0, k, 2)}
    s.rejected = set(rng.choice(n, n // 100, replace=False).tolist())
    s.reviewed = set(rng.choice(n, n // 4, replace=False).tolist())
    return s


def edit_makers(s: ReviewSession, rng: np.random.Generator) -> dict:
    n = len(s)

    def cluster() -> int:
        return int(rng.choice(s.cluster_ids()))

    return {
        "name a cluster": lambda: s.name(cluster(), str(int(rng.integers(43)))),
        "accept a cluster": lambda: s.accept(cluster(), True),
        "mark 20 images reviewed": lambda: s.mark_reviewed(rng.choice(n, 20, replace=False), True),
        "reject 3 images": lambda: s.reject(rng.choice(n, 3, replace=False), True),
        "move 5 images": lambda: s.move(rng.choice(n, 5, replace=False), cluster()),
        "label 1 image": lambda: s.set_image_label([int(rng.integers(n))], str(int(rng.integers(43)))),
        "merge 2 clusters": lambda: s.merge(rng.choice(s.cluster_ids(), 2, replace=False).tolist()),
    }


def wchar() -> int:
    try:
        with open("/proc/self/io") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("wchar:"))
    except (OSError, StopIteration):
        return -1


class Meter:
    """Time, log growth and wchar of one committed step."""

    def __init__(self, path: Path) -> None:
        self.path, self.wal = path, path.with_name(path.name + "-wal")
        self.times: dict[str, list] = {}

    def __call__(self, kind: str, step, moved: int = 0, built: float = float("nan")) -> None:
        size0 = self.path.stat().st_size + (self.wal.stat().st_size if self.wal.exists() else 0)
        w0 = wchar()
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        took = time.perf_counter() - t0
        cpu = time.process_time() - c0
        io = wchar() - w0
        grown = self.path.stat().st_size + self.wal.stat().st_size - size0
        times, grew, ios, _, cpus, builds = self.times.setdefault(kind, ([], [], [], moved, [], []))
        times.append(took)
        grew.append(grown)
        ios.append(io)
        cpus.append(cpu)
        builds.append(built)


def measure(s: ReviewSession, path: Path, n_edits: int, checkpoints: bool, seed: int) -> tuple[dict, dict]:
    db = SessionDB.open(path, check=False)
    if not checkpoints:
        db.conn.execute("PRAGMA wal_autocheckpoint=0")
    journal = SessionJournal(s, db)
    meter = Meter(path)
    rng = np.random.default_rng(seed)
    extra = {"journal bytes of a merge": []}
    for kind, make in edit_makers(s, rng).items():
        for _ in range(n_edits):
            c0 = time.process_time()
            edit = make()
            built = time.process_time() - c0
            if edit.is_empty:
                continue
            meter(kind, lambda: s.apply(edit), len(edit.assign_indices), built)  # the journal commits in apply
            assert journal.last_error is None, journal.last_error
            if kind == "merge 2 clusters":
                extra["journal bytes of a merge"].append(len(encode_edit(edit)))
                meter("undo the merge", journal.undo, len(edit.assign_indices))
                meter("redo the merge", journal.redo, len(edit.assign_indices))
    extra["aliases before the fold"] = db.alias_count()
    t0 = time.perf_counter()
    extra["blocks folded"] = journal.fold()
    extra["fold seconds"] = time.perf_counter() - t0
    journal.close()
    return meter.times, extra


def open_times(path: Path) -> dict:
    """Seconds of each part of opening a review (what ``load_database`` does) and of the whole."""
    out = {}
    t0 = time.perf_counter()
    db = SessionDB.open(path, readonly=True)
    out["quick_check"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    db.load(ReviewSession)
    out["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    db.backup_to(path.with_name("copy.db"))
    out["good copy"] = time.perf_counter() - t0
    db.close()
    t0 = time.perf_counter()
    load_database(path)
    out["total"] = time.perf_counter() - t0
    return out


def ms(values: list[float]) -> str:
    a = np.asarray(values) * 1000
    return f"{np.median(a):7.2f} / {np.percentile(a, 95):7.2f}"


def kb(values: list[int]) -> str:
    a = np.asarray(values) / 1024
    return f"{np.median(a):8.1f} / {np.percentile(a, 95):8.1f}"


def run(n: int, k: int, n_edits: int) -> None:
    load = " (load average %.1f %.1f %.1f)" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"\n== {n:,} images, {k} clusters =={load}")
    t0 = time.perf_counter()
    s = build(n, k)
    print(f"built the session in {time.perf_counter() - t0:.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "review.db"
        t0 = time.perf_counter()
        SessionDB.create(path, s).close()
        print(f"create database: {time.perf_counter() - t0:.2f}s, {path.stat().st_size / 2**20:.1f} MiB")
        opened = open_times(path)
        print(f"open (load_database: quick_check + load + good copy): {opened['total']:.2f}s "
              f"(parts measured apart: quick_check {opened['quick_check']:.2f}s, load {opened['load']:.2f}s, "
              f"good copy {opened['good copy']:.2f}s)")
        s = load_database(path)
        json_path = Path(tmp) / "review.json"
        saves = []
        for _ in range(3):
            t0 = time.perf_counter()
            s.save(json_path)
            saves.append(time.perf_counter() - t0)
        print(f"old JSON session, saved whole after every edit: {statistics.median(saves) * 1000:.0f} ms, "
              f"{json_path.stat().st_size / 2**20:.1f} MiB per edit")
        no_ckpt, extra = measure(s, path, n_edits, checkpoints=False, seed=1)
        with_ckpt, extra2 = measure(s, path, n_edits, checkpoints=True, seed=2)
        print(f"{'edit (n per kind = ' + str(n_edits) + ')':28s} {'ms median / p95':>17s}  {'cpu ms':>6s}  "
              f"{'build':>6s}  {'KiB written (wal) med / p95':>27s}   {'KiB wchar (with checkpoints)':>28s}  moved")
        worst = [0.0, 0.0, 0.0]
        for kind in no_ckpt:
            times, grown, _, moved, cpu, built = no_ckpt[kind]
            times2, _, io, _, cpu2, built2 = with_ckpt[kind]
            io_text = kb(io) if io and io[0] >= 0 else "n/a"
            build_ms = np.asarray(built + built2) * 1000
            build_text = f"{np.median(build_ms):6.2f}" if np.isfinite(build_ms).all() else "     -"
            print(f"{kind:28s} {ms(times + times2):>17s}  {np.median(np.asarray(cpu + cpu2)) * 1000:6.2f}  "
                  f"{build_text}  {kb(grown):>27s}   {io_text:>28s}  {moved}")
            both = np.asarray(times + times2) * 1000
            worst = [max(worst[0], np.median(both)), max(worst[1], np.percentile(both, 95)),
                     max(worst[2], np.percentile(np.asarray(grown) / 1024, 95))]
        merges = extra["journal bytes of a merge"] + extra2["journal bytes of a merge"]
        print(f"journal row of a merge (zlib'd JSON): median {np.median(merges) / 1024:.1f} KiB")
        for e in (extra, extra2):
            print(f"closing the journal: {e['aliases before the fold']} cluster aliases folded into "
                  f"{e['blocks folded']} blocks in {e['fold seconds']:.2f}s")
        return {"n": n, "worst": worst, "open": opened["total"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[40_000, 1_000_000])
    ap.add_argument("--clusters", type=int, nargs="+", default=None,
                    help="clusters per size (default: 500 for 40k, 1000 for 1M)")
    ap.add_argument("--edits", type=int, default=40, help="edits per kind and pass")
    args = ap.parse_args()
    clusters = args.clusters or [500 if n <= 100_000 else 1000 for n in args.sizes]
    results = [run(n, k, args.edits) for n, k in zip(args.sizes, clusters)]
    big = results[-1]
    med, p95, kib = big["worst"]
    met = "met" if p95 <= 20 and kib <= 64 else "not met"
    print(f"\nreview_save: n {big['n']}, worst edit median {med:.1f} ms, worst p95 {p95:.1f} ms, "
          f"worst p95 {kib:.1f} KiB written, open {big['open']:.2f} s (target 20 ms, 64 KB per edit: {met})")


if __name__ == "__main__":
    main()
