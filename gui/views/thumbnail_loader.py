"""Lazy thumbnail loading on worker threads with a bounded LRU cache.

Thumbnails are made off the GUI thread as ``QImage`` (from the decoded working-size
array when one is available and large enough, else from the file on disk) and handed
to the GUI thread through a queued signal, where they become ``QPixmap`` in the cache.
Requests run newest-first so the rows the user is looking at now come before rows
scrolled past; :meth:`ThumbnailLoader.discard_pending` drops queued work. With
``auto_contrast`` on, each thumbnail gets a per-image percentile stretch
(:func:`stretch_contrast`) on the worker thread; it changes what is shown, never a file.
(A QThreadPool whose runnables emitted signals crashed PySide6 6.12 under load, so the
pool is two plain threads and a queue drained by a GUI-thread timer.)
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from gui.thread_priority import lower_thread_priority

DEFAULT_CACHE_BYTES = 192 * 1024 * 1024
DRAIN_INTERVAL_MS = 10
DRAIN_BUDGET_S = 0.008
#: Thumbnails up to this factor above the working size are scaled from the decoded array
#: (measured: smoother scrolling than decoding files); larger ones are read from disk.
ARRAY_UPSCALE_LIMIT = 2.0
#: Auto-contrast maps these percentiles of an image's pixel values to 0 and 255.
STRETCH_PERCENTILES = (1.0, 99.0)


def stretch_contrast(array: np.ndarray, percentiles: tuple[float, float] = STRETCH_PERCENTILES) -> np.ndarray:
    """A copy of ``uint8`` image ``array`` with its ``percentiles`` stretched to 0..255.

    One range for all channels (colours keep their balance); an image whose range is
    already under 2 levels (flat) comes back unchanged.
    """
    a = np.asarray(array)
    rgb = a[..., :3] if a.ndim == 3 else a
    lo, hi = np.percentile(rgb, percentiles)
    if hi - lo < 2:
        return np.array(a, dtype=np.uint8, copy=True)
    out = np.array(a, dtype=np.float32, copy=True)
    view = out[..., :3] if a.ndim == 3 else out
    view -= lo
    view *= 255.0 / (hi - lo)
    np.clip(out, 0, 255, out=out)
    if a.ndim == 3 and a.shape[2] == 4:
        out[..., 3] = a[..., 3]
    return out.astype(np.uint8)


def array_to_qimage(array: np.ndarray) -> QImage:
    """``uint8`` HxWx3 (or HxW) array -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(array)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    h, w = a.shape[:2]
    if a.shape[2] == 4:
        return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def load_file_array(path: str, max_side: Optional[int] = None) -> np.ndarray:
    """Decode an image file with Pillow (any format it reads) to RGB ``uint8``, optionally downsized."""
    from PIL import Image

    with Image.open(path) as im:
        if max_side:
            im.draft("RGB", (max_side, max_side))
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return np.asarray(im)


def load_file_qimage(path: str, max_side: Optional[int] = None, auto_contrast: bool = False) -> QImage:
    """:func:`load_file_array` as a QImage (contrast-stretched with ``auto_contrast``)."""
    array = load_file_array(path, max_side)
    return array_to_qimage(stretch_contrast(array) if auto_contrast else array)


def make_thumbnail(
    index: int, size: int, paths: Sequence[str], images: Optional[np.ndarray], auto_contrast: bool = False
) -> QImage:
    """Thumbnail of image ``index`` fitting ``size`` x ``size`` (contrast-stretched with ``auto_contrast``)."""
    array: Optional[np.ndarray] = None
    if images is not None:
        side = int(images.shape[1])
        # The decoded working-size array is enough for small thumbnails (no disk access);
        # larger ones come from the file so they stay sharp.
        if size <= ARRAY_UPSCALE_LIMIT * side or not paths:
            array = np.asarray(images[index])
    if array is None:
        try:
            array = load_file_array(paths[index], max_side=max(size, 16))
        except Exception:
            if images is None:
                blank = QImage(size, size, QImage.Format.Format_RGB888)
                blank.fill(Qt.GlobalColor.darkGray)
                return blank
            array = np.asarray(images[index])
    qimg = array_to_qimage(stretch_contrast(array) if auto_contrast else array)
    return qimg.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class ThumbnailLoader(QObject):
    """Thumbnail cache for one image collection; emits :attr:`loaded` when one is ready.

    Worker threads (plain Python threads, newest request first) make ``QImage``s and
    put them on a queue; a timer on the GUI thread turns them into cached pixmaps and
    emits :attr:`loaded`, so no Qt signal is ever emitted off the GUI thread.
    """

    loaded = Signal(int, int)  # image index, size
    reset = Signal()  # every cached thumbnail was dropped (display option changed): ask again

    def __init__(
        self,
        paths: Sequence[str],
        images: Optional[np.ndarray] = None,
        *,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        threads: int = 2,
        parent: Optional[QObject] = None,
    ) -> None:
        super().__init__(parent)
        self.auto_contrast = False
        self.max_bytes = max_bytes
        self._cache: "OrderedDict[tuple[int, int], QPixmap]" = OrderedDict()
        self._bytes = 0
        self._pending: set[tuple[int, int]] = set()
        self._q = _WorkQueue(paths if isinstance(paths, list) else list(paths), images)  # a million-path copy: 80 ms
        # Lock-free on the GUI side (a worker that holds a lock while the scheduler has put it aside would
        # stall a paint): requests gather in ``_outbox`` and go to the queue once per turn; results come
        # back through a deque (``append`` / ``popleft`` are atomic).
        self._outbox: list[tuple[int, int, int, bool]] = []
        self._handoff_timer = QTimer(self)
        self._handoff_timer.setSingleShot(True)
        self._handoff_timer.setInterval(0)
        self._handoff_timer.timeout.connect(self._handoff)
        self._n_threads = max(1, threads)
        self._started = False  # the threads start at the first request (an install stays short)
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    @property
    def paths(self) -> list:
        return self._q.paths

    @property
    def images(self) -> Optional[np.ndarray]:
        return self._q.images

    # -- cache -----------------------------------------------------------------
    @property
    def cache_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._cache)

    def cached(self, index: int, size: int) -> Optional[QPixmap]:
        key = (index, size)
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
        return pix

    def _insert(self, key: tuple[int, int], pix: QPixmap) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._bytes -= _pix_bytes(old)
        self._cache[key] = pix
        self._bytes += _pix_bytes(pix)
        while self._bytes > self.max_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._bytes -= _pix_bytes(evicted)

    # -- requests (GUI thread) ------------------------------------------------------
    def request(self, index: int, size: int) -> Optional[QPixmap]:
        """The cached thumbnail, or ``None`` after queueing it (``loaded`` follows)."""
        pix = self.cached(index, size)
        if pix is not None:
            return pix
        key = (int(index), int(size))
        if key in self._pending:
            return None
        self._pending.add(key)
        self._outbox.append((key[0], key[1], self._q.generation, self.auto_contrast))
        if not self._handoff_timer.isActive():
            self._handoff_timer.start()
        if not self._timer.isActive():
            self._timer.start()
        return None

    def _handoff(self, wait: bool = False) -> None:
        """Queue the turn's requests for the workers; when a worker holds the lock, try again next turn."""
        if not self._outbox:
            return
        q = self._q
        if not self._started:  # started here, not in a paint (a start waits for the thread to run)
            self._started = True
            for i in range(self._n_threads):
                threading.Thread(target=q.work, name=f"thumbnails-{i}", daemon=True).start()
        if not q.cond.acquire(blocking=wait):
            self._handoff_timer.start(1)
            return
        try:
            q.todo.extend(self._outbox)
            q.cond.notify(len(self._outbox))
        finally:
            q.cond.release()
        self._outbox = []
        self._handoff_timer.setInterval(0)

    def load_now(self, index: int, size: int) -> QPixmap:
        """Synchronous variant for the few images the window needs at once (centers)."""
        pix = self.cached(index, size)
        if pix is None:
            pix = QPixmap.fromImage(make_thumbnail(index, size, self.paths, self.images, self.auto_contrast))
            self._insert((index, size), pix)
        return pix

    def set_auto_contrast(self, on: bool) -> None:
        """Stretch each thumbnail's contrast (or not): drops the cache and emits :attr:`reset`."""
        if bool(on) == self.auto_contrast:
            return
        self.discard_pending()
        self.auto_contrast = bool(on)
        self._cache.clear()
        self._bytes = 0
        self.reset.emit()

    def discard_pending(self) -> None:
        """Forget queued (not yet started) requests, e.g. when the grid shows another cluster."""
        q = self._q
        with q.cond:
            q.generation += 1
            q.todo.clear()
        self._outbox = []
        self._pending.clear()

    def idle(self) -> bool:
        return not self._q.busy() and not self._outbox and not self._q.done

    def wait_idle(self, msecs: int = 30000) -> bool:
        """Wait for the workers to finish queued work (results still need :meth:`_drain`)."""
        deadline = time.monotonic() + msecs / 1000.0
        self._handoff(wait=True)
        while time.monotonic() < deadline:
            if not self._q.busy():
                return True
            time.sleep(0.002)
        return False

    # -- GUI thread ----------------------------------------------------------------
    def _drain(self) -> None:
        deadline = time.perf_counter() + DRAIN_BUDGET_S  # leave the event loop free between batches
        while time.perf_counter() < deadline:
            try:
                index, size, contrast, img = self._q.done.popleft()
            except IndexError:
                break
            key = (index, size)
            if contrast != self.auto_contrast:
                continue  # made before the display option changed; a new request follows
            self._pending.discard(key)
            if img is None:
                continue
            self._insert(key, QPixmap.fromImage(img))
            self.loaded.emit(index, size)
        if self.idle():
            self._timer.stop()

    def shutdown(self) -> None:
        self.discard_pending()
        with self._q.cond:
            self._q.stopped = True
            self._q.cond.notify_all()
        # Not joined: a worker finishes the thumbnail it is making, drops it and ends (waiting for it
        # here held the UI thread while a new review was installed).
        self._handoff_timer.stop()
        self._timer.stop()


class _WorkQueue:
    """What the worker threads share with the loader: requests, results and the stop flag.

    A plain object, so the threads never hold the loader: a worker that dropped the last reference to
    a shut-down loader would destroy a QObject (and its timers) off the GUI thread, which crashed.
    """

    def __init__(self, paths: Sequence[str], images: Optional[np.ndarray]) -> None:
        self.paths, self.images = paths, images
        self.cond = threading.Condition()
        self.todo: list[tuple[int, int, int, bool]] = []  # (index, size, generation, contrast); popped from the end
        self.done: "deque[tuple[int, int, bool, Optional[QImage]]]" = deque()
        self.generation = 0
        self.running = 0
        self.stopped = False

    def busy(self) -> bool:
        """Requests queued or a thumbnail being made."""
        with self.cond:
            return bool(self.todo) or self.running > 0

    def work(self) -> None:
        """One worker thread: newest request first, until :attr:`stopped`."""
        lower_thread_priority()  # scrolling keeps the CPU
        while True:
            with self.cond:
                while not self.todo and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                index, size, generation, contrast = self.todo.pop()  # newest first
                if generation != self.generation:
                    continue
                self.running += 1
            try:
                img: Optional[QImage] = make_thumbnail(index, size, self.paths, self.images, contrast)
            except Exception:
                img = None
            finally:
                with self.cond:
                    self.running -= 1
            self.done.append((index, size, contrast, img))


def _pix_bytes(pix: QPixmap) -> int:
    return max(1, pix.width() * pix.height() * 4)
