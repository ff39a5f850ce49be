"""decode_image / read_full_image / image_metadata on real files written with Pillow."""
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from pipeline.io.decode import BACKGROUND, DecodeError, decode_image, image_metadata, read_full_image

RED, BLUE = (220, 20, 30), (20, 40, 210)


def halves(w=40, h=20):
    """Left half RED, right half BLUE."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = RED
    arr[:, w // 2 :] = BLUE
    return arr


def close(pixel, colour, tol):
    return np.all(np.abs(np.asarray(pixel, int) - np.asarray(colour, int)) <= tol)


@pytest.mark.parametrize(
    "ext, fmt, tol",
    [
        ("ppm", "PPM", 0),
        ("png", "PNG", 0),
        ("jpg", "JPEG", 40),
        ("bmp", "BMP", 0),
        ("tif", "TIFF", 0),
        ("webp", "WEBP", 40),
        ("gif", "GIF", 12),
    ],
)
def test_common_formats_decode_to_rgb(tmp_path, ext, fmt, tol):
    path = tmp_path / f"img.{ext}"
    Image.fromarray(halves()).save(path, fmt)
    arr = decode_image(path)
    assert arr.dtype == np.uint8 and arr.shape == (20, 40, 3)
    assert close(arr[10, 5], RED, tol) and close(arr[10, 35], BLUE, tol)


def test_resize_to_square_or_given_size(tmp_path):
    path = tmp_path / "img.png"
    Image.fromarray(halves()).save(path)
    assert decode_image(path, 32).shape == (32, 32, 3)
    small = decode_image(path, (30, 12))
    assert small.shape == (12, 30, 3)
    assert close(small[6, 2], RED, 2) and close(small[6, 27], BLUE, 2)


def test_gif_gives_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert close(decode_image(path)[8, 8], (255, 0, 0), 8)


def test_16bit_grey_is_scaled(tmp_path):
    values = np.array([[0, 257 * 64, 32896, 65535]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I;16")
    arr = decode_image(path)
    assert arr[0, :, 0].tolist() == [0, 64, 128, 255]
    assert np.all(arr[..., 0] == arr[..., 2])


def test_32bit_int_and_float_grey(tmp_path):
    ints = tmp_path / "ints.tif"
    Image.fromarray(np.array([[0, 65535]], dtype=np.int32)).save(ints)
    assert decode_image(ints)[0, :, 0].tolist() == [0, 255]
    floats = tmp_path / "floats.tif"
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32)).save(floats)
    assert decode_image(floats)[0, :, 0].tolist() == [0, 128, 255]


def test_palette_transparency_goes_to_background(tmp_path):
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.paste(1, (4, 0, 8, 8))
    path = tmp_path / "pal.png"
    pal.save(path, transparency=0)
    arr = decode_image(path)
    assert tuple(arr[4, 1]) == BACKGROUND
    assert tuple(arr[4, 6]) == (0, 255, 0)


def test_rgba_and_la_are_composited(tmp_path):
    rgba = np.zeros((4, 3, 4), np.uint8)
    rgba[:, 0] = (255, 0, 0, 255)  # opaque red
    rgba[:, 1] = (0, 0, 0, 0)  # fully transparent
    rgba[:, 2] = (0, 0, 0, 128)  # half-transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    arr = decode_image(tmp_path / "a.png")
    assert tuple(arr[0, 0]) == (255, 0, 0)
    assert tuple(arr[0, 1]) == BACKGROUND
    assert close(arr[0, 2], (127, 127, 127), 2)

    la = Image.new("LA", (2, 1))
    la.putpixel((0, 0), (0, 0))
    la.putpixel((1, 0), (0, 255))
    la.save(tmp_path / "la.png")
    arr = decode_image(tmp_path / "la.png")
    assert tuple(arr[0, 0]) == BACKGROUND and tuple(arr[0, 1]) == (0, 0, 0)


def test_cmyk_jpeg_and_bilevel(tmp_path):
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "cmyk.jpg")
    assert close(decode_image(tmp_path / "cmyk.jpg")[4, 4], (0, 255, 255), 8)
    bits = Image.new("1", (8, 8), 0)
    bits.paste(1, (0, 0, 4, 8))
    bits.save(tmp_path / "bits.png")
    arr = decode_image(tmp_path / "bits.png")
    assert tuple(arr[0, 0]) == (255, 255, 255) and tuple(arr[0, 7]) == (0, 0, 0)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    Image.fromarray(halves(40, 20)).save(path, exif=exif, quality=95)
    arr = decode_image(path)
    assert arr.shape == (40, 20, 3)  # portrait once rotated
    assert close(arr[5, 10], RED, 40) and close(arr[35, 10], BLUE, 40)
    full = read_full_image(path)
    assert full.mode == "RGB" and full.size == (20, 40)
    assert image_metadata(path)["exif_orientation"] == 6


def test_roi_is_inclusive_and_clipped(tmp_path):
    arr = np.zeros((30, 40, 3), np.uint8)
    arr[10:20, 5:15] = (0, 255, 0)
    path = tmp_path / "roi.png"
    Image.fromarray(arr).save(path)
    crop = decode_image(path, roi=(5, 10, 14, 19))
    assert crop.shape == (10, 10, 3) and np.all(crop == (0, 255, 0))
    assert decode_image(path, roi=(30, 20, 100, 100)).shape == (10, 10, 3)  # clipped to 40x30
    assert decode_image(path, 8, roi=(5, 10, 14, 19)).shape == (8, 8, 3)
    with pytest.raises(DecodeError, match="outside"):
        decode_image(path, roi=(50, 50, 60, 60))


def test_large_jpeg_with_roi_uses_correct_region(tmp_path):
    """The DCT-domain shortcut for big JPEGs must crop the same region as a full decode."""
    arr = np.full((1200, 1600, 3), 255, np.uint8)
    arr[400:800, 600:1000] = (200, 0, 0)
    path = tmp_path / "big.jpg"
    Image.fromarray(arr).save(path, quality=90)
    out = decode_image(path, 16, roi=(600, 400, 999, 799))
    assert np.all(np.abs(out.astype(int) - (200, 0, 0)) < 40)
    whole = decode_image(path, (32, 24))
    assert close(whole[12, 16], (200, 0, 0), 40) and close(whole[1, 1], (255, 255, 255), 20)


def test_unicode_file_name(tmp_path):
    path = tmp_path / "Straße_äö_标志.png"
    Image.fromarray(halves()).save(path)
    assert decode_image(path, 16).shape == (16, 16, 3)


def _png_header_only(path, width, height):
    """A PNG whose IHDR claims ``width x height`` followed by a tiny IDAT."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_decompression_bomb_refused_from_header(tmp_path):
    path = tmp_path / "bomb.png"
    _png_header_only(path, 100_000, 100_000)
    with pytest.raises(DecodeError, match=r"^decompression bomb \(10000000000 pixels > limit"):
        decode_image(path, 32)
    small = tmp_path / "small.png"
    Image.fromarray(halves()).save(small)
    with pytest.raises(DecodeError, match=r"decompression bomb \(800 pixels > limit 100\)"):
        decode_image(small, max_pixels=100)


def test_pillow_warnings_never_escape(tmp_path, monkeypatch):
    """Even with warnings as errors, a Pillow warning becomes a DecodeError."""
    path = tmp_path / "img.png"
    Image.fromarray(halves()).save(path)  # 800 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow warns between 500 and 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DecodeError, match="decompression bomb"):
            decode_image(path)


def test_bad_files_have_readable_reasons(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("hello, I am not a picture")
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    folder = tmp_path / "folder.png"
    folder.mkdir()
    cases = {
        empty: "empty file (0 bytes)",
        text: "not an image",
        noise: "not an image",
        folder: "unreadable: is a directory",
        tmp_path / "missing.png": "file not found",
    }
    for path, reason in cases.items():
        with pytest.raises(DecodeError) as info:
            decode_image(path, 32)
        assert info.value.reason == reason, path


def test_truncated_and_corrupt(tmp_path):
    noisy = np.random.default_rng(1).integers(0, 256, (120, 120, 3), dtype=np.uint8)
    full = tmp_path / "full.jpg"
    Image.fromarray(noisy).save(full, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(DecodeError, match="^truncated image$"):
        decode_image(cut, 32)

    png = tmp_path / "ok.png"
    Image.fromarray(np.tile(np.arange(120, dtype=np.uint8), (120, 1))).save(png)  # compressible
    data = bytearray(png.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 40] = b"\xff" * 30  # garble the deflate stream
    broken = tmp_path / "broken.png"
    broken.write_bytes(bytes(data))
    with pytest.raises(DecodeError) as info:
        decode_image(broken, 32)
    assert info.value.reason and len(info.value.reason) < 120


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root (or Windows) can read a chmod 000 file")
def test_permission_denied(tmp_path):
    path = tmp_path / "locked.png"
    Image.fromarray(halves()).save(path)
    path.chmod(0)
    try:
        with pytest.raises(DecodeError, match="permission denied"):
            decode_image(path)
    finally:
        path.chmod(0o644)


def test_image_metadata(tmp_path):
    path = tmp_path / "img.png"
    Image.fromarray(halves()).save(path)
    meta = image_metadata(path)
    assert meta["format"] == "PNG" and meta["mode"] == "RGB" and meta["size"] == (40, 20)
    assert meta["bytes"] == path.stat().st_size and meta["mtime"] == pytest.approx(path.stat().st_mtime)
    assert meta["error"] is None
    text = tmp_path / "text.png"
    text.write_text("nope")
    assert image_metadata(text)["error"] == "not an image"
    with pytest.raises(DecodeError):
        image_metadata(tmp_path / "absent.png")


def test_permission_errors_are_reported_even_as_root(tmp_path, monkeypatch):
    """Simulate EACCES at stat() and at open(): root bypasses chmod 000."""
    import builtins

    path = tmp_path / "locked.png"
    Image.fromarray(halves()).save(path)
    real_open, real_stat = builtins.open, os.stat

    def deny_open(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny_open)
    with pytest.raises(DecodeError, match="^unreadable: permission denied$"):
        decode_image(path)
    monkeypatch.setattr(builtins, "open", real_open)

    def deny_stat(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(file, *args, **kwargs)

    monkeypatch.setattr(os, "stat", deny_stat)
    with pytest.raises(DecodeError, match="^unreadable: permission denied$"):
        decode_image(path)
