"""Lazy thumbnail loading on a thread pool with a bounded LRU cache.

Thumbnails are made off the GUI thread as ``QImage`` (from the decoded working-size
array when one is available and large enough, else from the file on disk) and handed
to the GUI thread through a queued signal, where they become ``QPixmap`` in the cache.
Requests run newest-first so the rows the user is looking at now come before rows
scrolled past; :meth:`ThumbnailLoader.discard_pending` drops queued work.
"""
from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

DEFAULT_CACHE_BYTES = 192 * 1024 * 1024


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


def load_file_qimage(path: str, max_side: Optional[int] = None) -> QImage:
    """Decode an image file with Pillow (any format it reads), optionally downsized."""
    from PIL import Image

    with Image.open(path) as im:
        if max_side:
            im.draft("RGB", (max_side, max_side))
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return array_to_qimage(np.asarray(im))


def make_thumbnail(
    index: int, size: int, paths: Sequence[str], images: Optional[np.ndarray]
) -> QImage:
    """Thumbnail of image ``index`` fitting ``size`` x ``size``."""
    qimg: Optional[QImage] = None
    if images is not None:
        side = int(images.shape[1])
        if size <= 2 * side or not paths:
            qimg = array_to_qimage(np.asarray(images[index]))
    if qimg is None:
        try:
            qimg = load_file_qimage(paths[index], max_side=max(size, 16))
        except Exception:
            if images is None:
                blank = QImage(size, size, QImage.Format.Format_RGB888)
                blank.fill(Qt.GlobalColor.darkGray)
                return blank
            qimg = array_to_qimage(np.asarray(images[index]))
    return qimg.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class _Emitter(QObject):
    done = Signal(int, int, QImage)  # image index, size, thumbnail


class _Task(QRunnable):
    def __init__(self, loader: "ThumbnailLoader", index: int, size: int, generation: int) -> None:
        super().__init__()
        self.loader, self.index, self.size, self.generation = loader, index, size, generation

    def run(self) -> None:  # pool thread
        loader = self.loader
        if self.generation != loader._generation:
            loader._drop_pending(self.index, self.size)
            return
        try:
            img = make_thumbnail(self.index, self.size, loader.paths, loader.images)
        except Exception:
            loader._drop_pending(self.index, self.size)
            return
        loader._emitter.done.emit(self.index, self.size, img)


class ThumbnailLoader(QObject):
    """Thumbnail cache for one image collection; emits :attr:`loaded` when one is ready."""

    loaded = Signal(int, int)  # image index, size

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
        self.paths = list(paths)
        self.images = images
        self.max_bytes = max_bytes
        self._cache: "OrderedDict[tuple[int, int], QPixmap]" = OrderedDict()
        self._bytes = 0
        self._pending: set[tuple[int, int]] = set()
        self._pending_lock = threading.Lock()
        self._generation = 0
        self._priority = itertools.count(1)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, threads))
        self._emitter = _Emitter()
        self._emitter.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

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

    # -- requests --------------------------------------------------------------
    def request(self, index: int, size: int) -> Optional[QPixmap]:
        """The cached thumbnail, or ``None`` after queueing it (``loaded`` follows)."""
        pix = self.cached(index, size)
        if pix is not None:
            return pix
        key = (index, size)
        with self._pending_lock:
            if key in self._pending:
                return None
            self._pending.add(key)
        self.pool.start(_Task(self, index, size, self._generation), next(self._priority))
        return None

    def load_now(self, index: int, size: int) -> QPixmap:
        """Synchronous variant for the few images the window needs at once (centers)."""
        pix = self.cached(index, size)
        if pix is None:
            pix = QPixmap.fromImage(make_thumbnail(index, size, self.paths, self.images))
            self._insert((index, size), pix)
        return pix

    def discard_pending(self) -> None:
        """Forget queued (not yet started) requests, e.g. when the grid shows another cluster."""
        self._generation += 1
        self.pool.clear()
        with self._pending_lock:
            self._pending.clear()

    def wait_idle(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)

    def _drop_pending(self, index: int, size: int) -> None:
        with self._pending_lock:
            self._pending.discard((index, size))

    def _on_done(self, index: int, size: int, img: QImage) -> None:
        self._drop_pending(index, size)
        self._insert((index, size), QPixmap.fromImage(img))
        self.loaded.emit(index, size)

    def shutdown(self) -> None:
        self.discard_pending()
        self.pool.waitForDone(5000)


def _pix_bytes(pix: QPixmap) -> int:
    return max(1, pix.width() * pix.height() * 4)
