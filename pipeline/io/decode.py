"""Decode one image file into an RGB ``uint8`` array, or fail with a short human reason.

Conventions (shared by :func:`decode_image` and :func:`read_full_image`):

* Animated formats (GIF, WebP, multi-page TIFF) give their first frame.
* The EXIF orientation tag is applied first, so ROIs are in the coordinates a viewer
  shows.
* Colour modes: palette, 1-bit, grey and CMYK go through Pillow's conversion to RGB.
  16-bit grey (``I;16*``) is scaled by 255/65535. 32-bit integer grey (``I``) is kept
  when it fits 0..255, scaled by 255/65535 when it fits 0..65535, otherwise
  stretched min..max. Float grey (``F``) is multiplied by 255 when it fits 0..1, kept
  when it fits 0..255, otherwise stretched.
* Transparency (alpha channel or a palette/tRNS transparent colour) is composited onto
  :data:`BACKGROUND`, white, because transparent files are mostly pictograms and
  scans, which viewers and printers show on white.
* ROIs are ``(x1, y1, x2, y2)`` with *inclusive* corners (GTSRB convention), clipped
  to the image; a ROI entirely outside the image is an error.
* Resizing to the working size stretches to exactly ``(w, h)`` with Lanczos
  (antialiased). Large JPEGs are first scaled in the DCT domain (``Image.draft``)
  by a power of two that keeps at least the requested resolution.
* Decompression bombs are refused from the header size, before any pixel is read:
  more than ``max_pixels`` pixels (default ``PIL.Image.MAX_IMAGE_PIXELS``).
* Paths may be fsspec URLs (``s3://...``, see :mod:`pipeline.io.remote`): the file is
  fetched whole and decoded from its bytes, with the same checks and reasons.
* Pillow warnings never escape as exceptions: even when warnings are turned into
  errors, a warning while reading becomes a :class:`DecodeError` (or, for corrupt EXIF,
  is ignored).
"""
from __future__ import annotations

import io
import math
import os
import re
import stat
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.io import remote

#: Bump when decoding changes its output, so cached arrays are rebuilt.
DECODE_VERSION = 1

#: Colour that transparent pixels are composited onto.
BACKGROUND = (255, 255, 255)

Size = Union[None, int, tuple[int, int]]
Roi = Optional[tuple[int, int, int, int]]

_ORIENTATION_TAG = 0x0112
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)
_BOMB_MESSAGE = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+)")


class DecodeError(Exception):
    """A file could not be decoded; ``reason`` is a short human-readable explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_image(path, size: Size = None, roi: Roi = None, *, max_pixels: Optional[int] = None) -> np.ndarray:
    """Decode ``path`` to ``uint8`` RGB of shape ``(H, W, 3)``.

    ``size`` is ``None`` (keep the decoded/cropped size), an int (square) or ``(w, h)``.
    ``roi`` is cropped (after EXIF orientation, before resizing). Raises
    :class:`DecodeError`.
    """
    target = normalize_size(size)
    with _opened(path, max_pixels) as im:
        try:
            rgb = _render(im, target, roi)
            arr = np.asarray(rgb, dtype=np.uint8)
        except DecodeError:
            raise
        except Exception as exc:  # any reader/plugin error, or a warning raised as error
            raise DecodeError(_reason_for(exc)) from exc
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DecodeError(f"unexpected decoded shape {arr.shape}")
    return np.ascontiguousarray(arr)


def read_full_image(path, *, max_pixels: Optional[int] = None) -> Image.Image:
    """The whole image as an RGB :class:`PIL.Image.Image` (EXIF orientation applied).

    For full-size viewing; same conversions and errors as :func:`decode_image`.
    """
    with _opened(path, max_pixels) as im:
        try:
            rgb = _render(im, None, None)
            if rgb is im:  # the opened file's own image is closed on exit: detach it
                rgb = rgb.copy()
        except DecodeError:
            raise
        except Exception as exc:
            raise DecodeError(_reason_for(exc)) from exc
    return rgb


def image_metadata(path) -> dict:
    """Facts about ``path`` for a viewer, read from the header only.

    Keys: ``path``, ``bytes``, ``mtime`` (seconds since the epoch), ``format``, ``mode``,
    ``size`` (``(w, h)`` as stored), ``frames``, ``exif_orientation`` and ``error``
    (``None``, or the reason the header could not be read, in which case the image
    keys are ``None``). Raises :class:`DecodeError` only when the file cannot be
    ``stat``-ed at all.
    """
    if remote.is_url(path) and remote.local_path(path) is None:
        return _url_metadata(path)
    st = _stat(path)
    meta = {
        "path": os.fspath(path),
        "bytes": st.st_size,
        "mtime": st.st_mtime,
        "format": None,
        "mode": None,
        "size": None,
        "frames": None,
        "exif_orientation": None,
        "error": None,
    }
    try:
        _check_regular(st)
        with open(path, "rb") as fp:
            _header_facts(fp, meta)
    except DecodeError as exc:
        meta["error"] = exc.reason
    except Exception as exc:
        meta["error"] = _reason_for(exc)
    return meta


def _header_facts(fp, meta: dict) -> None:
    with Image.open(fp) as im:
        meta["format"] = im.format
        meta["mode"] = im.mode
        meta["size"] = tuple(im.size)
        meta["frames"] = int(getattr(im, "n_frames", 1))
        # Header-only: PNG keeps EXIF after the pixels sometimes, and finding it would decode them.
        header_exif = "exif" in im.info or im.format in ("JPEG", "MPO", "TIFF")
        meta["exif_orientation"] = _exif_orientation(im) if header_exif else 1


def _url_metadata(url: str) -> dict:
    """:func:`image_metadata` of a file in a store (``mtime`` is ``None``: stores differ in what they keep)."""
    data = _fetch(url)
    meta = {"path": url, "bytes": len(data), "mtime": None, "format": None, "mode": None, "size": None,
            "frames": None, "exif_orientation": None, "error": None}
    try:
        _header_facts(io.BytesIO(data), meta)
    except Exception as exc:
        meta["error"] = _reason_for(exc)
    return meta


# --------------------------------------------------------------------------- opening


def _stat(path) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise DecodeError("unreadable: broken symbolic link") from None
        raise DecodeError("file not found") from None
    except PermissionError:
        raise DecodeError("unreadable: permission denied") from None
    except OSError as exc:
        raise DecodeError(f"unreadable: {exc.strerror or exc}") from None


def _fetch(url: str) -> bytes:
    """The bytes of a file in a store, or :class:`DecodeError` with the local reasons."""
    try:
        data = remote.read_bytes(url)
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    except PermissionError:
        raise DecodeError("unreadable: permission denied") from None
    except IsADirectoryError:
        raise DecodeError("unreadable: is a directory") from None
    except (OSError, ValueError) as exc:  # network errors; a URL fsspec cannot open
        raise DecodeError(f"unreadable: {getattr(exc, 'strerror', None) or exc}"[:120]) from None
    if not data:
        raise DecodeError("empty file (0 bytes)")
    return data


def _open_binary(path):
    """An open binary file for ``path`` (a URL's bytes in memory), after the regular-file checks."""
    if remote.is_url(path):
        local = remote.local_path(path)
        if local is None:
            return io.BytesIO(_fetch(path))
        path = local
    _check_regular(_stat(path))
    try:
        return open(path, "rb")
    except PermissionError:
        raise DecodeError("unreadable: permission denied") from None
    except OSError as exc:
        raise DecodeError(f"unreadable: {exc.strerror or exc}") from None


def _check_regular(st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError("unreadable: is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise DecodeError("unreadable: not a regular file")
    if st.st_size == 0:
        raise DecodeError("empty file (0 bytes)")


@contextmanager
def _opened(path, max_pixels: Optional[int]) -> Iterator[Image.Image]:
    """Open ``path`` lazily (header only) and refuse decompression bombs."""
    fp = _open_binary(path)
    with fp:
        try:
            im = Image.open(fp)
        except UnidentifiedImageError:
            raise DecodeError("not an image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError(_bomb_reason(exc)) from None
        except Exception as exc:
            raise DecodeError(_reason_for(exc)) from exc
        with im:
            limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
            pixels = im.size[0] * im.size[1]
            if limit is not None and pixels > limit:
                raise DecodeError(f"decompression bomb ({pixels} pixels > limit {limit})")
            if pixels == 0:
                raise DecodeError("empty image (0 pixels)")
            yield im


def _bomb_reason(exc: BaseException) -> str:
    match = _BOMB_MESSAGE.search(str(exc))
    if match:
        return f"decompression bomb ({match.group(1)} pixels > limit {match.group(2)})"
    return "decompression bomb"


def _reason_for(exc: BaseException) -> str:
    """A short human reason for an exception raised while reading an image."""
    if isinstance(exc, DecodeError):
        return exc.reason
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return _bomb_reason(exc)
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    if isinstance(exc, MemoryError):
        return "out of memory while decoding"
    text = str(exc).strip()
    low = text.lower()
    if "truncated" in low or isinstance(exc, EOFError) or "premature end" in low:
        return "truncated image"
    if "broken data stream" in low:
        return "corrupt image data"
    if len(text) > 80:
        text = text[:77] + "..."
    return f"corrupt image ({type(exc).__name__}: {text})" if text else f"corrupt image ({type(exc).__name__})"


# --------------------------------------------------------------------------- rendering


def normalize_size(size: Size) -> Optional[tuple[int, int]]:
    """``None`` -> ``None``; ``n`` -> ``(n, n)``; ``(w, h)`` -> ``(w, h)`` (positive ints)."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        w = h = int(size)
    else:
        w, h = (int(v) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return w, h


def _exif_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1..8); 1 when absent or unreadable."""
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
        value = int(value)
    except Exception:  # corrupt EXIF, or an EXIF warning raised as error
        return 1
    return value if 1 <= value <= 8 else 1


def _render(im: Image.Image, target: Optional[tuple[int, int]], roi: Roi) -> Image.Image:
    """First frame -> oriented -> RGB -> ROI crop -> resized, as an RGB image."""
    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)
    jpeg = im.format in ("JPEG", "MPO")
    if not jpeg:
        # Pixels first: PNG's getexif() loads the image itself and a decoding error
        # there would otherwise be swallowed with the EXIF problem.
        im.load()
    orientation = _exif_orientation(im)
    swap = orientation in _SWAPPING_ORIENTATIONS
    full_w, full_h = (im.size[1], im.size[0]) if swap else im.size
    box = _roi_box(roi, full_w, full_h)
    if jpeg:  # EXIF sits in the header: decide on DCT scaling, then decode
        scale = _draft(im, target, box, full_w, full_h) if target is not None else 1.0
        im.load()
    else:
        scale = 1.0
    if orientation != 1:
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:  # keep the stored orientation rather than lose the image
            pass
    rgb = _to_rgb(im)
    if box is not None:
        rgb = rgb.crop(_scaled_box(box, scale, rgb.size))
    if target is not None and rgb.size != target:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _roi_box(roi: Roi, width: int, height: int) -> Optional[tuple[int, int, int, int]]:
    """Inclusive ROI -> half-open crop box clipped to the image, or None for no ROI."""
    if roi is None:
        return None
    x1, y1, x2, y2 = (int(v) for v in roi)
    left, top = max(0, min(x1, x2)), max(0, min(y1, y2))
    right, bottom = min(width, max(x1, x2) + 1), min(height, max(y1, y2) + 1)
    if right <= left or bottom <= top:
        raise DecodeError(f"ROI {tuple(roi)} lies outside the {width}x{height} image")
    if (left, top, right, bottom) == (0, 0, width, height):
        return None
    return left, top, right, bottom


def _scaled_box(box, scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    if scale == 1.0:
        return box
    left, top, right, bottom = box
    w, h = size
    return (
        min(w - 1, int(left / scale)),
        min(h - 1, int(top / scale)),
        max(1, min(w, math.ceil(right / scale))),
        max(1, min(h, math.ceil(bottom / scale))),
    )


def _draft(im: Image.Image, target, box, full_w: int, full_h: int) -> float:
    """Let JPEG decode at 1/2, 1/4 or 1/8 scale when that still covers ``target``."""
    region_w, region_h = (box[2] - box[0], box[3] - box[1]) if box else (full_w, full_h)
    allowed = min(region_w // target[0], region_h // target[1])
    factor = next((s for s in (8, 4, 2) if allowed >= s), 1)
    if factor == 1:
        return 1.0
    raw_w, raw_h = im.size
    try:
        result = im.draft(None, (max(1, raw_w // factor), max(1, raw_h // factor)))
    except Exception:
        return 1.0
    if not result:
        return 1.0
    return raw_w / im.size[0]


def _to_rgb(im: Image.Image) -> Image.Image:
    mode = im.mode
    has_transparency = "transparency" in im.info
    if mode == "RGB" and not has_transparency:
        return im
    if mode.startswith("I") or mode == "F":
        return _grey_to_rgb(_scaled_grey(im))
    if mode in ("RGBA", "LA", "La", "PA", "RGBa") or has_transparency or (
        mode == "P" and im.palette is not None and im.palette.mode == "RGBA"
    ):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    try:
        return im.convert("RGB")
    except ValueError:
        raise DecodeError(f"unsupported colour mode {mode}") from None


def _scaled_grey(im: Image.Image) -> np.ndarray:
    """16/32-bit integer or float grey -> uint8 grey, scaled as documented above."""
    mode = im.mode
    if mode.startswith("I;16"):
        arr = np.asarray(im.convert("I"), dtype=np.float64)
        return np.clip(np.rint(arr * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
    arr = np.asarray(im, dtype=np.float64)
    if arr.ndim == 3:  # unusual multi-channel integer modes: keep the first channel
        arr = arr[..., 0]
    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if mode == "F" and lo >= 0.0 and hi <= 1.0:
        arr = arr * 255.0
    elif lo >= 0.0 and hi <= 255.0:
        pass
    elif mode != "F" and lo >= 0.0 and hi <= 65535.0:
        arr = arr * (255.0 / 65535.0)
    elif hi > lo:
        arr = (arr - lo) * (255.0 / (hi - lo))
    else:
        arr = np.zeros_like(arr)
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def _grey_to_rgb(grey: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2)), "RGB")
