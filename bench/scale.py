"""How the pipeline scales with the number of images: seconds, peak memory and ACC per N.

Inputs are built without copying data into the project: the shared GTSRB Train JPEGs are
hard-linked several times into a cache folder outside the repository (reused across runs);
without the shared data, a synthetic demo set is written there once and linked instead.
Each N gets a GTSRB-style CSV (ROI, class) over a seeded shuffle of every copy, so the first
N rows are a random draw. Each run is its own subprocess. Its memory is the whole process
tree's (the driver and the pool's workers), sampled from ``/proc`` every 0.25 s
(:class:`TreeMemory`): ``peak MB`` is the largest sum of the tree's RSS (pages the forked
workers share with the driver count twice, so it is an upper bound), ``PSS`` the largest
sum of proportional set sizes (shared pages split), plus each process's own peak (the
driver's from ``wait4``'s rusage). Every run gets a fresh, empty decode cache and stream
store (no cache hits from earlier runs), removed after the run.

    python bench/scale.py --n 10000,40000,160000,640000,1000000 [--compare 40000] [--no-crop]
                          [--preset best] [--cache DIR] [--pca-sample N] [--seed S]

``--compare N,..`` also runs today's in-memory path (``streaming=False``) at those N for the
ACC / time / memory ratios. The time and memory exponents are log-log fits over the streamed
runs (and over the runs from 40k up). Last line:
``scale: n N, seconds S, peak_mb M, time_exponent E``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _common import DEFAULT_GTSRB, ROOT, machine_line, markdown_table

DEFAULT_CACHE = Path.home() / ".cache" / "cluster-review" / "scale"


def base_rows(cache: Path) -> tuple[Path, list[dict]]:
    """``(folder, rows)`` of the base set: the shared GTSRB Train split, or a demo set written once."""
    if (DEFAULT_GTSRB / "Train.csv").is_file():
        with open(DEFAULT_GTSRB / "Train.csv", newline="", encoding="utf-8") as fh:
            return DEFAULT_GTSRB, list(csv.DictReader(fh))
    demo = cache / "demo-base"
    listing = demo / "rows.json"
    if not listing.is_file():
        from pipeline.io.demo import write_demo_folder

        items = write_demo_folder(demo, n_per_class=400, seed=0, size=32, fmt="jpg")
        rows = [{"Width": 32, "Height": 32, "Roi.X1": 0, "Roi.Y1": 0, "Roi.X2": 32, "Roi.Y2": 32,
                 "ClassId": it.label, "Path": os.path.relpath(it.path, demo)} for it in items]
        listing.write_text(json.dumps(rows), encoding="utf-8")
    return demo, json.loads(listing.read_text(encoding="utf-8"))


def build_set(n: int, cache: Path) -> Path:
    """A CSV of ``n`` images over hard-linked copies of the base set (links made once)."""
    base, rows = base_rows(cache)
    copies = -(-n // len(rows))
    farm = cache / "links"
    for c in range(copies):
        done = farm / f"copy{c:02d}.done"
        if done.is_file():
            continue
        for row in rows:
            target = farm / f"copy{c:02d}" / row["Path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                try:
                    os.link(base / row["Path"], target)
                except OSError:  # another file system: a symbolic link still copies nothing
                    os.symlink(base / row["Path"], target)
        done.write_text("ok", encoding="utf-8")
    out = farm / f"n{n}.csv"
    if not out.is_file():
        fields = ["Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId", "Path"]
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(fields)
            written = 0
            for c in range(copies):
                order = np.random.default_rng(c).permutation(len(rows))
                for i in order[: n - written]:
                    row = rows[i]
                    writer.writerow([row[f] for f in fields[:-1]] + [f"copy{c:02d}/{row['Path']}"])
                written = min(n, written + len(rows))
    return out


def progress_log(t0: float, every: float = 60.0):
    """A progress callback printing one line per stage change or ``every`` seconds (to stderr,
    so a long run's log says how far it got)."""
    last = {"t": 0.0, "stage": None}

    def log(p) -> None:
        now = time.perf_counter()
        if p.stage != last["stage"] or now - last["t"] >= every:
            last["t"], last["stage"] = now, p.stage
            print(f"  [{now - t0:7.0f} s] {p.stage}: {p.done}/{p.total} {p.message}".rstrip(), file=sys.stderr, flush=True)

    return log


def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)


def child(args: argparse.Namespace) -> None:
    """One run in this process; prints one JSON line. A SIGTERM ends it through ``SystemExit``,
    so its pool is shut down and its scratch folder removed (a bare kill left both behind)."""
    import signal

    signal.signal(signal.SIGTERM, _stop)
    from pipeline.config import get_preset
    from pipeline.run import run_pipeline

    config = get_preset(args.preset)
    config.crop_roi = not args.no_crop
    config.seed = args.seed
    if args.pca_sample:
        import pipeline.streaming as streaming

        streaming.PCA_SAMPLE = args.pca_sample
    scratch = Path(tempfile.mkdtemp(prefix="scale-run-", dir=args.cache))
    try:
        t0 = time.perf_counter()
        result = run_pipeline(config, args.child_csv, cache_dir=scratch / "decode", store_dir=scratch / "store",
                              streaming=args.mode == "stream", progress=progress_log(t0))
        seconds = time.perf_counter() - t0
        metrics = result.metrics or {}
        print(json.dumps({"n": len(result.image_set), "seconds": seconds, "acc": metrics.get("acc"),
                          "nmi": metrics.get("nmi"), "timings": result.timings, "notes": result.notes,
                          "skipped": len(result.image_set.skipped)}), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _tree(root: int) -> list[int]:
    """``root`` and every live descendant (from ``/proc/<pid>/stat``'s parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    """``(rss, pss)`` of one process in KiB (zeros once it has gone)."""
    values = {"Rss:": 0, "Pss:": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                parts = line.split()
                key = parts[0].decode()
                if key in values:
                    values[key] = int(parts[1])
    except (OSError, IndexError, ValueError):
        pass
    return values["Rss:"], values["Pss:"]


class TreeMemory:
    """Samples a process tree's memory every ``every`` seconds on a thread until :meth:`stop`."""

    def __init__(self, root: int, every: float = 0.25) -> None:
        self.root, self.every = root, every
        self.peak_rss_kb = self.peak_pss_kb = 0
        self.own_peak_kb: dict[int, int] = {}  # pid -> its largest sampled RSS
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.root)
            sizes = [_rss_pss_kb(pid) for pid in pids]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(r for r, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in sizes))
            self.processes = max(self.processes, len(pids))
            for pid, (rss, _) in zip(pids, sizes):
                self.own_peak_kb[pid] = max(self.own_peak_kb.get(pid, 0), rss)
            self._stop.wait(self.every)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        workers = [kb for pid, kb in self.own_peak_kb.items() if pid != self.root]
        return {"tree_rss_mb": self.peak_rss_kb / 1024.0, "tree_pss_mb": self.peak_pss_kb / 1024.0,
                "worker_peak_mb": max(workers, default=0) / 1024.0, "processes": self.processes}


def run_child(csv_path: Path, mode: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child-csv", str(csv_path), "--mode", mode, "--preset", args.preset,
           "--cache", str(args.cache), "--seed", str(args.seed)] + (["--no-crop"] if args.no_crop else [])
    cmd += ["--pca-sample", str(args.pca_sample)] if args.pca_sample else []
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    memory = TreeMemory(proc.pid)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    tree = memory.stop()
    tree.update(driver_peak_mb=usage.ru_maxrss / 1024.0)
    tree["peak_mb"] = max(tree["tree_rss_mb"], tree["driver_peak_mb"])
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        return {"error": f"exit {os.waitstatus_to_exitcode(status)}", "wall": wall, **tree}
    data = json.loads(lines[-1])
    data.update(wall=wall, **tree)
    return data


def exponent(ns, values) -> float:
    if len(ns) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns), np.log(values), 1)[0])


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", default="10000,40000,160000,640000,1000000")
    parser.add_argument("--compare", default="", help="N's to also run in memory (streaming=False)")
    parser.add_argument("--preset", default="best")
    parser.add_argument("--no-crop", action="store_true", help="whole frames instead of the GTSRB ROIs")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--pca-sample", type=int, default=0, help="images the streamed PCA fits on (default: the pipeline's)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (PCA sample, micro-clusters, PCA solver)")
    parser.add_argument("--child-csv", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="stream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.child_csv:
        return child(args)
    ns = [int(v) for v in args.n.split(",") if v]
    compare = {int(v) for v in args.compare.split(",") if v}
    print(f"# {machine_line()}; preset {args.preset}, {'whole frames' if args.no_crop else 'ROI crops'}; "
          f"seed {args.seed}; load at start {load()}", flush=True)
    rows, done = [], []
    for n in sorted(set(ns) | compare):
        csv_path = build_set(n, args.cache)
        modes = (["memory"] if n in compare else []) + (["stream"] if n in ns else [])
        for mode in modes:
            r = run_child(csv_path, mode, args)
            if "error" in r:
                print(f"n {n} {mode}: FAILED ({r['error']}) after {r['wall']:.0f} s, peak {r['peak_mb']:.0f} MB", flush=True)
                continue
            line = (f"n {n} {mode}: {r['seconds']:.1f} s, {n / r['seconds']:.0f} images/s, peak {r['peak_mb']:.0f} MB "
                    f"(tree of {r['processes']}: PSS {r['tree_pss_mb']:.0f} MB; driver {r['driver_peak_mb']:.0f} MB, "
                    f"largest worker {r['worker_peak_mb']:.0f} MB), "
                    f"ACC {r['acc']:.3f}, NMI {r['nmi']:.3f} (features {r['timings'].get('features', r['timings'].get('load', 0)):.0f} s, "
                    f"cluster {r['timings']['cluster']:.0f} s; load {load()})")
            print(line, flush=True)
            rows.append([n, mode, round(r["seconds"], 1), round(n / r["seconds"]), round(r["peak_mb"]), round(r["tree_pss_mb"]),
                         round(r["driver_peak_mb"]), round(r["worker_peak_mb"]), r["acc"], r["nmi"]])
            if mode == "stream":
                done.append((n, r["seconds"], r["peak_mb"]))
    for n in sorted(compare & set(ns)):
        mem = [row for row in rows if row[0] == n and row[1] == "memory"]
        st = [row for row in rows if row[0] == n and row[1] == "stream"]
        if mem and st:
            print(f"n {n}: streamed / in memory: time {st[0][2] / mem[0][2]:.2f}x, peak {st[0][4] / mem[0][4]:.2f}x, "
                  f"ACC {st[0][8] - mem[0][8]:+.3f}", flush=True)
    print(markdown_table(["N", "path", "seconds", "images/s", "peak MB (tree RSS)", "tree PSS MB", "driver MB",
                          "worker MB", "ACC", "NMI"], rows), flush=True)
    if not done:
        sys.exit("no streamed run finished")
    n_all, t_all, m_all = zip(*done)
    upper = [d for d in done if d[0] >= 40000]
    print(f"exponents over all N: time {exponent(n_all, t_all):.2f}, memory {exponent(n_all, m_all):.2f}", flush=True)
    e_time = exponent([d[0] for d in upper], [d[1] for d in upper]) if len(upper) > 1 else exponent(n_all, t_all)
    if len(upper) > 1:
        print(f"exponents from 40k: time {e_time:.2f}, memory {exponent([d[0] for d in upper], [d[2] for d in upper]):.2f}", flush=True)
    print(f"load at end {load()}", flush=True)
    n, seconds, peak = done[-1]
    print(f"scale: n {n}, seconds {seconds:.0f}, peak_mb {peak:.0f}, time_exponent {e_time:.2f}", flush=True)


if __name__ == "__main__":
    main()
