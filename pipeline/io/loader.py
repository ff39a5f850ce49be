"""Load a whole source into an :class:`ImageSet`: discover, decode in parallel, cache.

Executor choice, measured with ``bench/decode_speed.py`` on the 39,209 GTSRB JPEGs,
2 cores, size 32 with ROI crop: serial ~3,900-4,000 images/s; thread pool (2) 1.04-1.06x
(Pillow's JPEG header parsing is Python code that holds the GIL, so threads barely help
on such small files); process pool (2) 1.75-1.85x. At 2,000 images a spawned pool only
breaks even (start-up ~0.3 s). So ``executor="auto"`` uses a *forked* process pool from
:data:`PROCESS_THRESHOLD` files on Linux when no other Python thread runs (fork is then
safe, starts instantly and does not re-import ``__main__``), and threads otherwise
(e.g. inside a GUI worker thread). ``"process"`` forces a spawned pool (any OS); a
failing process pool falls back to threads.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Optional, Sequence

import numpy as np

from pipeline.io import decode as decode_module
from pipeline.io.decode_cache import DecodeCache, FileKey, file_key
from pipeline.core.items import ImageSet, SkippedFile
from pipeline.core.paths import default_cache_dir
from pipeline.core.progress import Cancelled, CancelToken, ProgressCallback, check_cancel, report
from pipeline.io.sources import Discovery, Source, SourceError, discover

log = logging.getLogger(__name__)

STAGE = "decode"
#: Below this many files to decode, a pool costs more than it saves.
_MIN_PARALLEL = 64
#: From this many files to decode, "auto" uses processes (see the module docstring).
PROCESS_THRESHOLD = 4000
_MAX_WORKERS = 8


def load_images(
    source: Source,
    *,
    size=32,
    crop_roi: bool = True,
    cache_dir=None,
    workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    executor: str = "auto",
) -> ImageSet:
    """Decode every image of ``source`` to ``uint8 (N, size, size, 3)``.

    ``source`` is a folder, a CSV file or a list of :class:`ImageItem` (see
    :func:`pipeline.sources.discover`). ``size`` is an int or ``(w, h)``. ``crop_roi``
    crops to the ROIs a GTSRB CSV gives (or the items carry). Files that cannot be
    decoded are left out and listed in ``ImageSet.skipped`` with their reason.

    ``cache_dir``: ``None`` = :func:`pipeline.paths.default_cache_dir`, a path, or
    ``False`` to disable the cache. ``workers``: pool size (default: CPU count, at most
    8; 1 decodes in the calling thread). ``executor``: ``"auto"`` (see the module
    docstring), ``"thread"``, ``"process"`` (spawned) or ``"fork"`` (POSIX only).
    Reports ``Progress("decode", done, total)`` per chunk; raises
    :class:`~pipeline.progress.Cancelled` when ``cancel`` is set, and
    :class:`~pipeline.sources.SourceError` when no image at all could be decoded.
    """
    if executor not in ("auto", "thread", "process", "fork"):
        raise ValueError(f"executor must be 'auto', 'thread', 'process' or 'fork', not {executor!r}")
    target = decode_module.normalize_size(size)
    if target is None:
        raise ValueError("size is required to stack images")
    check_cancel(cancel)
    found = discover(source, crop_roi=crop_roi)
    items = found.items
    n = len(items)
    w, h = target
    images = np.zeros((n, h, w, 3), dtype=np.uint8)
    ok = np.zeros(n, dtype=bool)
    failures: dict[int, str] = {}
    report(progress, STAGE, 0, n, "scanning")

    cache = _open_cache(cache_dir, source, found, target, crop_roi)
    keys: list[Optional[FileKey]] = [file_key(it.path, it.roi) for it in items] if cache is not None else []
    if cache is not None:
        hit_indices, hit_images, cached_failures = cache.lookup(keys)
        images[hit_indices] = hit_images
        ok[hit_indices] = True
        failures.update(cached_failures)
    todo = [i for i in range(n) if not ok[i] and i not in failures]
    done = n - len(todo)
    report(progress, STAGE, done, n, f"{done} from cache" if done else "decoding")

    if todo:
        for indices, block, failed in _decode_all(items, todo, target, workers, executor, progress, cancel, done, n):
            if len(indices):
                images[indices] = block
                ok[indices] = True
            failures.update(failed)
        if cache is not None:
            cache.store(keys, images, ok, failures)

    keep = np.flatnonzero(ok)
    skipped = list(found.skipped) + [SkippedFile(items[i].path, failures[i]) for i in sorted(failures)]
    if keep.size == 0:
        first = f": {skipped[0].path}: {skipped[0].reason}" if skipped else ""
        raise SourceError(f"no image in {_describe(source)} could be decoded ({len(skipped)} files failed{first})")
    report(progress, STAGE, n, n, f"{keep.size} images, {len(skipped)} skipped")
    return ImageSet([items[i] for i in keep], images[keep] if keep.size < n else images, skipped, found.layout)


def _describe(source) -> str:
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the given list"


def _open_cache(cache_dir, source, found: Discovery, target, crop_roi: bool) -> Optional[DecodeCache]:
    if cache_dir is False:
        return None
    folder = default_cache_dir() if cache_dir is None else cache_dir
    if isinstance(source, (str, os.PathLike)):
        source_id = os.path.abspath(os.fspath(source))
    else:  # a list: its files' common folder, so subsets of one folder share a blob
        try:
            source_id = os.path.commonpath([os.path.abspath(it.path) for it in found.items])
        except ValueError:  # different drives
            source_id = "list"
    return DecodeCache(folder, source_id, target, crop_roi)


# --------------------------------------------------------------------------- decoding


def decode_chunk(tasks: Sequence[tuple[int, str, Optional[tuple]]], size: tuple[int, int]):
    """Decode ``(index, path, roi)`` tasks -> ``(ok indices, uint8 block, {index: reason})``.

    A module-level function so process pools can pickle it.
    """
    indices: list[int] = []
    arrays: list[np.ndarray] = []
    failed: dict[int, str] = {}
    for index, path, roi in tasks:
        try:
            arrays.append(decode_module.decode_image(path, size, roi))
            indices.append(index)
        except decode_module.DecodeError as exc:
            failed[index] = exc.reason
        except Exception as exc:  # a bug or an unforeseen plugin error must not stop the run
            failed[index] = f"cannot decode: {exc or 'unexpected error in the image reader'}"[:120]
    block = np.stack(arrays) if arrays else np.zeros((0, size[1], size[0], 3), np.uint8)
    return np.asarray(indices, dtype=int), block, failed


def default_workers() -> int:
    """CPUs this process may use, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_WORKERS, cpus))


def _decode_all(items, todo, target, workers, executor, progress, cancel, done, total):
    """Yield decoded chunks, reporting progress and honouring ``cancel`` between chunks."""
    workers = default_workers() if workers is None else max(1, int(workers))
    if len(todo) < _MIN_PARALLEL:
        workers = 1
    chunk = max(8, min(256, len(todo) // (workers * 8) or 1))
    tasks = [[(i, items[i].path, items[i].roi) for i in todo[s : s + chunk]] for s in range(0, len(todo), chunk)]

    if workers == 1:
        for batch in tasks:
            check_cancel(cancel)
            result = decode_chunk(batch, target)
            done += len(batch)
            report(progress, STAGE, done, total)
            yield result
        check_cancel(cancel)
        return

    if executor == "auto":
        executor = _auto_executor(len(todo))
    remaining = list(tasks)
    if executor in ("process", "fork"):
        try:
            for batch, result in _run_pool(_make_pool(executor, workers), remaining, target, workers, cancel):
                remaining.remove(batch)
                done += len(batch)
                report(progress, STAGE, done, total)
                yield result
        except Cancelled:
            raise
        except Exception as exc:  # BrokenProcessPool, OSError, a fork warning raised as error...
            # E.g. a script without an ``if __name__ == "__main__"`` guard cannot spawn.
            log.warning("process pool failed (%s); decoding the rest in threads", exc)
    threaded = _run_pool(_make_pool("thread", workers), remaining, target, workers, cancel) if remaining else ()
    for batch, result in threaded:
        done += len(batch)
        report(progress, STAGE, done, total)
        yield result
    check_cancel(cancel)


def _run_pool(pool: Executor, tasks: list, target, workers: int, cancel):
    """Yield ``(batch, result)`` as chunks finish, with a bounded number in flight."""
    try:
        pending = {}
        queue = iter(list(tasks))
        for batch in queue:
            pending[pool.submit(decode_chunk, batch, target)] = batch
            if len(pending) >= workers * 2:
                break
        while pending:
            check_cancel(cancel)
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                batch = pending.pop(future)
                yield batch, future.result()
                following = next(queue, None)
                if following is not None:
                    pending[pool.submit(decode_chunk, following, target)] = following
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _auto_executor(n_files: int) -> str:
    """Processes for big jobs where forking is safe and cheap, threads otherwise.

    Forked workers start in milliseconds and do not re-import the caller's ``__main__``
    (spawned ones do, which can cost seconds when it imports a GUI or TensorFlow). Fork
    is only safe without other Python threads, so a GUI worker thread gets threads.
    """
    if n_files < PROCESS_THRESHOLD:
        return "thread"
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "thread"


def _make_pool(executor: str, workers: int) -> Executor:
    if executor == "fork":
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    if executor == "process":
        # "spawn" is safe inside a GUI or TensorFlow process (fork is not) and works everywhere.
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
