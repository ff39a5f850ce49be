"""A folder of bad and odd input files, generated at test time (nothing checked in).

:func:`write_bad_corpus` writes a class-folder demo set and drops in ~30 kinds of bad or
unusual files and names; it returns what it wrote so tests can check each one.
Readable oddities (CMYK, 16-bit, palette, LA, odd names...) must be clustered;
unreadable ones must be listed as skipped with a reason; ignored types must be listed
as "not an image type we read"; symlink loops must be reported, never followed.
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.io.demo import write_demo_folder

#: The non-UTF-8 file name (Latin-1 "bad\xe9.png"), as the str Python gives for it.
NON_UTF8_NAME = os.fsdecode(b"bad\xe9.png")


@dataclass
class Corpus:
    """What :func:`write_bad_corpus` wrote: ``readable`` names must load, ``unreadable``
    must be skipped with a reason, ``ignored`` listed as not an image type, ``loops``
    reported as loops, ``hidden`` listed as hidden, ``silent`` never listed; ``n_good``
    demo images besides."""

    root: Path
    n_good: int
    readable: dict[str, Path] = field(default_factory=dict)
    unreadable: dict[str, Path] = field(default_factory=dict)
    ignored: dict[str, Path] = field(default_factory=dict)
    loops: dict[str, Path] = field(default_factory=dict)
    silent: dict[str, Path] = field(default_factory=dict)
    hidden: dict[str, Path] = field(default_factory=dict)

    @property
    def kinds(self) -> int:
        return sum(len(group) for group in (self.readable, self.unreadable, self.ignored, self.loops, self.silent,
                                            self.hidden))

    @property
    def left_out(self) -> dict[str, Path]:
        """Everything that must be listed as skipped, by kind."""
        return {**self.unreadable, **self.ignored, **self.loops, **self.hidden}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ``width x height`` pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _rgb(seed: int, size: int = 40) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))


def write_bad_corpus(root: Path, *, n_per_class: int = 4) -> Corpus:
    """Write the corpus under ``root`` (created); see the module docstring."""
    root = Path(root)
    items = write_demo_folder(root, n_per_class=n_per_class, seed=5, size=40)
    corpus = Corpus(root, len(items))
    cls = root / "14"  # a class folder the demo wrote
    assert cls.is_dir()
    r, u, ig = corpus.readable, corpus.unreadable, corpus.ignored

    # --- readable oddities (must be clustered)
    _rgb(1).convert("CMYK").save(cls / "cmyk.jpg")
    r["cmyk"] = cls / "cmyk.jpg"
    Image.fromarray((np.arange(40 * 40, dtype=np.uint16).reshape(40, 40) * 40)).save(cls / "grey16.png")
    r["16-bit grey"] = cls / "grey16.png"
    pal = _rgb(2).convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(cls / "palette.png", transparency=0)
    r["palette + transparency"] = cls / "palette.png"
    _rgb(3).convert("LA").save(cls / "grey_alpha.png")
    r["LA"] = cls / "grey_alpha.png"
    _rgb(4).convert("1").save(cls / "onebit.bmp")
    r["1-bit"] = cls / "onebit.bmp"
    Image.fromarray(np.linspace(0, 1, 40 * 40, dtype=np.float32).reshape(40, 40), mode="F").save(cls / "float.tif")
    r["float TIFF"] = cls / "float.tif"
    frames = [_rgb(10 + i) for i in range(3)]
    frames[0].save(cls / "anim.gif", save_all=True, append_images=frames[1:])
    r["animated GIF"] = cls / "anim.gif"
    _rgb(5, size=1).save(cls / "one_pixel.png")
    r["1x1 pixel"] = cls / "one_pixel.png"
    Image.new("RGB", (1, 900), (200, 10, 10)).save(cls / "sliver.png")
    r["1x900 sliver"] = cls / "sliver.png"
    _rgb(6).save(cls / "UPPER.PNG")
    r["upper-case extension"] = cls / "UPPER.PNG"
    _rgb(7).save(cls / "noext", format="PNG")
    r["no extension"] = cls / "noext"
    odd_names = {
        "non-UTF-8 name": NON_UTF8_NAME,
        "newline in name": "new\nline.png",
        "comma in name": "comma,name.png",
        "quotes in name": 'quote"name\'s.png',
        "semicolon and tab": "semi;colon\ttab.png",
        "leading dash and spaces": "-  spaced  .png",
        "unicode name": "Straße_標識.png",
        "spaces around the name": "  spaced out.png ",
    }
    for i, (kind, name) in enumerate(odd_names.items()):
        path = Path(os.fsdecode(os.path.join(os.fsencode(cls), os.fsencode(name))))
        _rgb(20 + i).save(path, format="PNG")
        r[kind] = path

    # --- unreadable (must be skipped with a reason)
    (cls / "zero.png").write_bytes(b"")
    u["zero bytes"] = cls / "zero.png"
    good_png = (cls / "comma,name.png").read_bytes()
    (cls / "corrupt.png").write_bytes(good_png[:16] + os.urandom(200))
    u["corrupt"] = cls / "corrupt.png"
    _rgb(8, size=200).save(root / "full.jpg", quality=95)
    data = (root / "full.jpg").read_bytes()
    (root / "full.jpg").unlink()
    (cls / "truncated.jpg").write_bytes(data[: len(data) // 3])
    u["truncated JPEG"] = cls / "truncated.jpg"
    (cls / "text.png").write_text("this is not a picture\n")
    u["text with image extension"] = cls / "text.png"
    (cls / "bomb.png").write_bytes(bomb_png())
    u["decompression bomb"] = cls / "bomb.png"
    os.symlink(cls / "does-not-exist.png", cls / "dangling.png")
    u["dangling symlink"] = cls / "dangling.png"
    os.mkfifo(cls / "pipe.png")
    u["named pipe"] = cls / "pipe.png"
    locked = cls / "locked.png"
    _rgb(9).save(locked)
    os.chmod(locked, 0)
    if os.access(locked, os.R_OK):  # root reads anything: then it is a readable oddity
        r["mode 000 (readable as root)"] = locked
    else:
        u["unreadable (mode 000)"] = locked
    os.mkdir(cls / "folder.png")  # a folder named like an image: nothing in it to read
    corpus.silent["folder named like an image"] = cls / "folder.png"
    os.mkdir(root / "empty")
    corpus.silent["empty folder"] = root / "empty"
    _rgb(11).save(cls / ".hidden.png")
    corpus.hidden["hidden image"] = cls / ".hidden.png"
    (cls / "._cmyk.jpg").write_bytes(b"\0\5\26\7")  # a macOS resource fork: junk, never listed
    corpus.silent["macOS ._ fork"] = cls / "._cmyk.jpg"
    (root / "Thumbs.db").write_bytes(b"\0" * 32)
    corpus.silent["Thumbs.db"] = root / "Thumbs.db"

    # --- ignored types (must be listed, not silently dropped)
    (cls / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    ig["svg"] = cls / "drawing.svg"
    (root / "notes.txt").write_text("notes")
    ig["text file"] = root / "notes.txt"
    (cls / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    ig["video"] = cls / "clip.mp4"

    # --- links (each real file once; loops reported)
    os.symlink(".", root / "loop")
    corpus.loops["symlink loop at the top"] = root / "loop"
    os.symlink("..", cls / "up")
    corpus.loops["symlink to a parent inside a class"] = cls / "up"
    os.symlink("14", root / "alias_of_14")
    corpus.loops["second link to a class folder"] = root / "alias_of_14"
    os.symlink("cmyk.jpg", cls / "link_to_cmyk.jpg")
    corpus.loops["file symlink to an included file"] = cls / "link_to_cmyk.jpg"
    return corpus
