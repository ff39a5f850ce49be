"""The demo set's sign painter: one procedurally rendered traffic sign per call.

Every image is drawn by :func:`render_sign` with Pillow and numpy, at 4x the output
size and then box-downsampled so edges are anti-aliased. Labels are GTSRB ``ClassId``
strings (``"14"`` is a stop sign). Each image gets seeded nuisances: a cluttered
background, small rotation, scale/translation and perspective jitter, a sign pole,
faded paint, lighting (brightness, contrast, gamma, colour cast, shading gradient),
blur, Gaussian noise and sometimes JPEG degradation. :mod:`pipeline.io.demo` renders
whole sets and writes them to folders.
"""
from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: The demo classes as ``(GTSRB ClassId, GTSRB sign name)``.
DEMO_CLASSES: list[tuple[str, str]] = [
    ("1", "Speed limit (30km/h)"),
    ("2", "Speed limit (50km/h)"),
    ("4", "Speed limit (70km/h)"),
    ("12", "Priority road"),
    ("13", "Yield"),
    ("14", "Stop"),
    ("17", "No entry"),
    ("18", "General caution"),
    ("19", "Dangerous curve to the left"),
    ("20", "Dangerous curve to the right"),
    ("32", "End of all speed and passing limits"),
    ("35", "Ahead only"),
    ("38", "Keep right"),
]

_CLASS_NAMES = dict(DEMO_CLASSES)
_SUPERSAMPLE = 4
#: Bump when the renderer changes so cached demo folders are regenerated.
DEMO_VERSION = 2

# Base paint colours; each image perturbs them (see _Paint).
_RED = (200, 28, 38)
_WHITE = (238, 238, 232)
_BLACK = (22, 22, 24)
_BLUE = (18, 78, 170)
_YELLOW = (247, 190, 20)
_GRAY = (70, 70, 72)

# Background palette: foliage, sky, buildings, road, shadow.
_BG_COLOURS = np.array(
    [
        (60, 90, 40), (95, 120, 60), (40, 60, 30), (150, 180, 210), (200, 210, 225),
        (120, 120, 120), (90, 85, 80), (110, 80, 60), (30, 30, 35), (170, 160, 140),
        (70, 100, 130), (140, 140, 90),
    ],
    dtype=float,
)


def class_name(class_id: str | int) -> str:
    """The GTSRB sign name of a demo class."""
    return _CLASS_NAMES[str(class_id)]


# --------------------------------------------------------------------------- drawing


class _Canvas:
    """An RGBA layer with a unit coordinate system: the sign spans ``[-1, 1]``."""

    def __init__(self, side: int, radius: float) -> None:
        self.image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)
        self.c = side / 2.0
        self.r = radius

    def pt(self, u: float, v: float) -> tuple[float, float]:
        return (self.c + u * self.r, self.c + v * self.r)

    def px(self, length: float) -> float:
        return length * self.r

    def disc(self, radius: float, fill, cu: float = 0.0, cv: float = 0.0) -> None:
        x, y = self.pt(cu, cv)
        rr = self.px(radius)
        self.draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=fill)

    def polygon(self, pts: Iterable[tuple[float, float]], fill) -> None:
        self.draw.polygon([self.pt(u, v) for u, v in pts], fill=fill)

    def rounded_regular(
        self, n: int, radius: float, start_deg: float, fill, corner: float = 0.0,
        cu: float = 0.0, cv: float = 0.0,
    ) -> None:
        """A regular ``n``-gon of circumradius ``radius`` with rounded corners."""
        inradius = radius * math.cos(math.pi / n)
        k = 1.0 - corner / inradius if corner > 0 else 1.0
        pts = [
            (cu + k * radius * math.cos(math.radians(start_deg + 360.0 * i / n)),
             cv + k * radius * math.sin(math.radians(start_deg + 360.0 * i / n)))
            for i in range(n)
        ]
        self.polygon(pts, fill)
        if corner > 0:
            width = max(1, int(round(self.px(2 * corner))))
            closed = [self.pt(u, v) for u, v in pts + pts[:1]]
            self.draw.line(closed, fill=fill, width=width)
            for u, v in pts:
                self.disc(corner, fill, u, v)

    def stroke(self, pts: Sequence[tuple[float, float]], width: float, fill) -> None:
        """A thick polyline with round caps and joints."""
        w = max(1, int(round(self.px(width))))
        self.draw.line([self.pt(u, v) for u, v in pts], fill=fill, width=w, joint="curve")
        for u, v in (pts[0], pts[-1]):
            self.disc(width / 2.0, fill, u, v)

    def text(self, text: str, cu: float, cv: float, w: float, h: float, fill) -> None:
        """Bold ``text`` stretched to fill the box of size ``w`` x ``h`` centred on (cu, cv)."""
        mask = _text_mask(text)
        bw, bh = max(1, int(round(self.px(w)))), max(1, int(round(self.px(h))))
        mask = mask.resize((bw, bh), Image.LANCZOS)
        x, y = self.pt(cu, cv)
        box = (int(round(x - bw / 2)), int(round(y - bh / 2)))
        self.image.paste(Image.new("RGBA", (bw, bh), fill), box, mask)


@lru_cache(maxsize=32)
def _text_mask(text: str) -> Image.Image:
    """A tight greyscale mask of ``text`` in a bold sans face (Pillow's bundled font)."""
    size = 160
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: bitmap font, upscaled below
        font = ImageFont.load_default()
    probe = Image.new("L", (1, 1))
    stroke = max(1, size // 14) if isinstance(font, ImageFont.FreeTypeFont) else 0
    x0, y0, x1, y1 = ImageDraw.Draw(probe).textbbox((0, 0), text, font=font, stroke_width=stroke)
    mask = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(mask).text((2 - x0, 2 - y0), text, fill=255, font=font,
                              stroke_width=stroke, stroke_fill=255)
    bbox = mask.getbbox()
    return mask.crop(bbox) if bbox else mask


def _rot(pts: Iterable[tuple[float, float]], deg: float) -> list[tuple[float, float]]:
    """Rotate unit-space points clockwise on screen by ``deg`` about the origin."""
    a = math.radians(deg)
    ca, sa = math.cos(a), math.sin(a)
    return [(u * ca - v * sa, u * sa + v * ca) for u, v in pts]


def _arrow(length: float, shaft: float, head_w: float, head_l: float) -> list[tuple[float, float]]:
    """An arrow pointing up (towards -v), centred on the origin."""
    top, bottom = -length / 2, length / 2
    neck = top + head_l
    return [
        (0.0, top), (head_w / 2, neck), (shaft / 2, neck), (shaft / 2, bottom),
        (-shaft / 2, bottom), (-shaft / 2, neck), (-head_w / 2, neck),
    ]


class _Paint:
    """Per-image paint colours: faded, tinted versions of the base colours."""

    def __init__(self, rng: np.random.Generator) -> None:
        fade = rng.uniform(0.0, 0.35)
        self._fade = fade
        self._rng = rng

    def __call__(self, base: tuple[int, int, int]) -> tuple[int, int, int, int]:
        c = np.asarray(base, dtype=float) + self._rng.normal(0.0, 10.0, 3)
        c = (1 - self._fade) * c + self._fade * c.mean()
        return tuple(int(v) for v in np.clip(c, 0, 255)) + (255,)


def _draw_speed(cv: _Canvas, paint: _Paint, rng: np.random.Generator, digits: str) -> None:
    cv.disc(1.0, paint(_WHITE))
    cv.disc(0.96, paint(_RED))
    cv.disc(0.75, paint(_WHITE))
    cv.text(digits, 0.0, 0.0, 0.98 * rng.uniform(0.93, 1.05), 0.74 * rng.uniform(0.95, 1.05), paint(_BLACK))


def _draw_priority(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    cv.rounded_regular(4, 1.0, -90, paint(_BLACK), corner=0.06)
    cv.rounded_regular(4, 0.96, -90, paint(_WHITE), corner=0.05)
    cv.rounded_regular(4, 0.62, -90, paint(_YELLOW), corner=0.03)


def _triangle(cv: _Canvas, paint: _Paint, down: bool) -> tuple[float, float]:
    """A red-bordered white triangle; returns its centre in unit space."""
    start = 90 if down else -90
    cv_off = -0.22 if down else 0.22
    cv.rounded_regular(3, 1.12, start, paint(_WHITE), corner=0.1, cv=cv_off)
    cv.rounded_regular(3, 1.06, start, paint(_RED), corner=0.09, cv=cv_off)
    cv.rounded_regular(3, 0.64, start, paint(_WHITE), corner=0.02, cv=cv_off)
    return 0.0, cv_off


def _draw_yield(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    _triangle(cv, paint, down=True)


def _draw_caution(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    cu, cvv = _triangle(cv, paint, down=False)
    black = paint(_BLACK)
    cv.polygon([(-0.075, cvv - 0.36), (0.075, cvv - 0.36), (0.045, cvv + 0.12), (-0.045, cvv + 0.12)], black)
    cv.disc(0.065, black, 0.0, cvv + 0.25)


def _draw_curve(cv: _Canvas, paint: _Paint, rng: np.random.Generator, left: bool) -> None:
    cu, cvv = _triangle(cv, paint, down=False)
    s = -1.0 if left else 1.0
    black = paint(_BLACK)
    p0, p1, p2 = (-s * 0.1, cvv + 0.36), (-s * 0.1, cvv - 0.02), (s * 0.1, cvv - 0.2)
    cv.stroke([p0, p1, p2], 0.11, black)
    d = np.subtract(p2, p1)
    d /= np.linalg.norm(d)
    n = np.array([-d[1], d[0]])
    tip = np.add(p2, d * 0.2)
    base_l, base_r = np.add(p2, n * 0.15), np.subtract(p2, n * 0.15)
    cv.polygon([tuple(tip), tuple(base_l), tuple(base_r)], black)


def _draw_stop(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    cv.rounded_regular(8, 1.0, 22.5, paint(_WHITE), corner=0.03)
    cv.rounded_regular(8, 0.93, 22.5, paint(_RED), corner=0.02)
    cv.text("STOP", 0.0, 0.0, 1.32 * rng.uniform(0.95, 1.04), 0.5 * rng.uniform(0.95, 1.05), paint(_WHITE))


def _draw_no_entry(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    cv.disc(1.0, paint(_WHITE))
    cv.disc(0.96, paint(_RED))
    h = rng.uniform(0.15, 0.19)
    cv.polygon([(-0.7, -h), (0.7, -h), (0.7, h), (-0.7, h)], paint(_WHITE))


def _draw_end_limits(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    cv.disc(1.0, paint(_GRAY))
    cv.disc(0.95, paint(_WHITE))
    gray = paint(_GRAY)
    d = np.array([1.0, -1.0]) / math.sqrt(2)
    n = np.array([1.0, 1.0]) / math.sqrt(2)
    for off in np.linspace(-0.3, 0.3, 5):
        half = math.sqrt(0.9**2 - off**2)
        a, b = off * n - half * d, off * n + half * d
        w = max(1, int(round(cv.px(0.055))))
        cv.draw.line([cv.pt(*a), cv.pt(*b)], fill=gray, width=w)


def _draw_blue_arrow(cv: _Canvas, paint: _Paint, rng: np.random.Generator, angle: float) -> None:
    cv.disc(1.0, paint(_WHITE))
    cv.disc(0.96, paint(_BLUE))
    length = 1.35 if angle == 0 else 1.2
    pts = _rot(_arrow(length, 0.22, 0.7, 0.42), angle)
    cv.polygon(pts, paint(_WHITE))


def _draw_end_speed(cv: _Canvas, paint: _Paint, rng: np.random.Generator, digits: str) -> None:
    _draw_end_limits(cv, paint, rng)
    cv.text(digits, 0.0, 0.0, 0.9, 0.66, paint(_GRAY))


def _draw_ring(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    """The red-ringed white disc of the prohibition signs (alone: "no vehicles")."""
    cv.disc(1.0, paint(_WHITE))
    cv.disc(0.96, paint(_RED))
    cv.disc(0.74, paint(_WHITE))


def _draw_no_passing(cv: _Canvas, paint: _Paint, rng: np.random.Generator, truck: bool) -> None:
    _draw_ring(cv, paint, rng)
    w = 0.36 if truck else 0.26
    for cu, col in ((-0.27, _RED), (0.27, _BLACK)):
        cv.polygon([(cu - w / 2, -0.32), (cu + w / 2, -0.32), (cu + w / 2, 0.3), (cu - w / 2, 0.3)], paint(col))


def _draw_end_no_passing(cv: _Canvas, paint: _Paint, rng: np.random.Generator) -> None:
    _draw_end_limits(cv, paint, rng)
    gray = paint(_GRAY)
    for cu in (-0.27, 0.27):
        cv.polygon([(cu - 0.13, -0.3), (cu + 0.13, -0.3), (cu + 0.13, 0.28), (cu - 0.13, 0.28)], gray)


def _draw_turn(cv: _Canvas, paint: _Paint, rng: np.random.Generator, left: bool) -> None:
    """Blue disc, an arrow going up then bending to one side ("turn right/left ahead")."""
    cv.disc(1.0, paint(_WHITE))
    cv.disc(0.96, paint(_BLUE))
    s = -1.0 if left else 1.0
    white = paint(_WHITE)
    cv.stroke([(-s * 0.25, 0.55), (-s * 0.25, -0.1), (s * 0.15, -0.1)], 0.2, white)
    cv.polygon([(s * 0.6, -0.1), (s * 0.15, -0.45), (s * 0.15, 0.25)], white)


_DRAWERS: dict[str, Callable[[_Canvas, _Paint, np.random.Generator], None]] = {
    "0": lambda c, p, r: _draw_speed(c, p, r, "20"),
    "3": lambda c, p, r: _draw_speed(c, p, r, "60"),
    "5": lambda c, p, r: _draw_speed(c, p, r, "80"),
    "6": lambda c, p, r: _draw_end_speed(c, p, r, "80"),
    "7": lambda c, p, r: _draw_speed(c, p, r, "100"),
    "8": lambda c, p, r: _draw_speed(c, p, r, "120"),
    "9": lambda c, p, r: _draw_no_passing(c, p, r, truck=False),
    "10": lambda c, p, r: _draw_no_passing(c, p, r, truck=True),
    "15": _draw_ring,
    "33": lambda c, p, r: _draw_turn(c, p, r, left=False),
    "34": lambda c, p, r: _draw_turn(c, p, r, left=True),
    "39": lambda c, p, r: _draw_blue_arrow(c, p, r, -135.0),
    "41": _draw_end_no_passing,
    "1": lambda c, p, r: _draw_speed(c, p, r, "30"),
    "2": lambda c, p, r: _draw_speed(c, p, r, "50"),
    "4": lambda c, p, r: _draw_speed(c, p, r, "70"),
    "12": _draw_priority,
    "13": _draw_yield,
    "14": _draw_stop,
    "17": _draw_no_entry,
    "18": _draw_caution,
    "19": lambda c, p, r: _draw_curve(c, p, r, left=True),
    "20": lambda c, p, r: _draw_curve(c, p, r, left=False),
    "32": _draw_end_limits,
    "35": lambda c, p, r: _draw_blue_arrow(c, p, r, 0.0),
    "38": lambda c, p, r: _draw_blue_arrow(c, p, r, 135.0),
}


# ----------------------------------------------------------------------- nuisances


def _background(rng: np.random.Generator, out_side: int) -> Image.Image:
    """Clutter: a two-colour gradient, low-frequency noise, blurred blobs.

    Drawn at half of ``out_side`` and upsampled: it is out of focus anyway.
    """
    side = max(8, out_side // 2)
    c0, c1 = _BG_COLOURS[rng.choice(len(_BG_COLOURS), 2)] + rng.normal(0, 15, (2, 3))
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.ogrid[0:side, 0:side]
    t = np.clip(0.5 + (xx / side - 0.5) * math.cos(ang) + (yy / side - 0.5) * math.sin(ang), 0, 1)[..., None]
    img = (1 - t) * c0 + t * c1
    # Low-frequency texture, mostly in brightness with a little chroma.
    gh, gw = rng.integers(3, 9, 2)
    grid = rng.normal(0, 22, (gh, gw, 1)) + rng.normal(0, 6, (gh, gw, 3))
    low = np.stack(
        [np.asarray(Image.fromarray(np.ascontiguousarray(grid[..., k], dtype=np.float32)).resize(
            (side, side), Image.BICUBIC)) for k in range(3)], axis=-1)
    img = np.clip(img + low, 0, 255).astype(np.uint8)
    bg = Image.fromarray(img)
    draw = ImageDraw.Draw(bg)
    for _ in range(rng.integers(2, 10)):
        col = tuple(int(v) for v in np.clip(_BG_COLOURS[rng.integers(len(_BG_COLOURS))] + rng.normal(0, 20, 3), 0, 255))
        x, y = rng.uniform(-0.2, 1.2, 2) * side
        w, h = rng.uniform(0.05, 0.6, 2) * side
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse((x - w / 2, y - h / 2, x + w / 2, y + h / 2), fill=col)
        elif kind == 1:
            draw.rectangle((x - w / 2, y - h / 2, x + w / 2, y + h / 2), fill=col)
        else:
            x2, y2 = rng.uniform(0, 1, 2) * side
            draw.line((x, y, x2, y2), fill=col, width=int(rng.uniform(0.01, 0.06) * side) + 1)
    bg = bg.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.5) * side / 48))
    return bg.resize((out_side, out_side), Image.BILINEAR)


def _homography(src: np.ndarray, dst: np.ndarray) -> tuple[float, ...]:
    """PIL PERSPECTIVE coefficients mapping output points ``dst`` back to input ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return tuple(np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)))


def _place_sign(layer: _Canvas, rng: np.random.Generator, side: int) -> Image.Image:
    """Warp the sign layer onto a ``side`` x ``side`` canvas: scale, shift, rotation, perspective."""
    radius = rng.uniform(0.33, 0.45) * side
    centre = side / 2 + rng.uniform(-0.08, 0.08, 2) * side
    ang = math.radians(rng.uniform(-10, 10))
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    src = np.array([layer.pt(u, v) for u, v in unit])
    persp = rng.uniform(-0.07, 0.07, (4, 2))
    dst = centre + (unit * rng.uniform(0.92, 1.0, 2) + persp) @ rot.T * radius
    coeffs = _homography(src, dst)
    return layer.image.transform((side, side), Image.PERSPECTIVE, coeffs, Image.BILINEAR)


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting, shading, blur, noise and JPEG on the final-size image."""
    x = img.astype(np.float32) / 255.0
    h, w = x.shape[:2]
    # Shading gradient across the image (sun/shadow).
    if rng.random() < 0.5:
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w) - 0.5
        g = 1.0 + rng.uniform(0.15, 0.45) * (xx * math.cos(ang) + yy * math.sin(ang)) * 2
        x *= g[..., None]
    # Colour cast, contrast, gamma, brightness (GTSRB has many dark images).
    x *= rng.uniform(0.85, 1.15, 3)
    mean = x.mean()
    x = (x - mean) * rng.uniform(0.55, 1.2) + mean
    x = np.clip(x, 0, 1) ** rng.uniform(0.75, 1.5)
    x *= math.exp(rng.uniform(math.log(0.3), math.log(1.25)))
    out = Image.fromarray((np.clip(x, 0, 1) * 255).round().astype(np.uint8))
    if rng.random() < 0.7:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.0) * w / 48))
    arr = np.asarray(out).astype(np.float32)
    arr += rng.normal(0, rng.uniform(0, 9), arr.shape)
    arr = np.clip(arr, 0, 255).round().astype(np.uint8)
    if rng.random() < 0.3:
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=int(rng.integers(12, 45)))
        buf.seek(0)
        arr = np.asarray(Image.open(buf).convert("RGB"))
    return arr


# ---------------------------------------------------------------------------- API


def pictogram_classes() -> list[str]:
    """Every GTSRB ClassId this module can draw (the demo set uses :data:`DEMO_CLASSES` of them)."""
    return sorted(_DRAWERS, key=int)


class _CleanPaint(_Paint):
    """Exact base colours (for icons)."""

    def __call__(self, base: tuple[int, int, int]) -> tuple[int, int, int, int]:
        return tuple(int(v) for v in base) + (255,)


def pictogram(class_id: str | int, size: int = 64) -> np.ndarray:
    """A clean ``uint8`` RGBA icon of a drawable class on a transparent background."""
    key = str(class_id)
    if key not in _DRAWERS:
        raise ValueError(f"no pictogram for class {class_id!r}; drawable: {pictogram_classes()}")
    side = size * _SUPERSAMPLE
    cv = _Canvas(side, radius=0.5 * side / 1.12)
    rng = np.random.default_rng(0)
    _DRAWERS[key](cv, _CleanPaint(rng), rng)
    return np.asarray(cv.image.reduce(_SUPERSAMPLE))


def render_icon(icon: np.ndarray, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A photograph-like rendering of a class icon (``uint8`` RGB or RGBA, any size).

    The icon is pasted as the sign (its alpha, or all of it, is the sign's shape) and gets
    the same nuisances as :func:`render_sign`: background, pole, warp, lighting, blur, noise.
    """
    icon = np.asarray(icon)
    if icon.ndim != 3 or icon.shape[2] not in (3, 4) or min(icon.shape[:2]) < 4:
        raise ValueError("an icon must be an RGB or RGBA picture of at least 4 x 4 pixels")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    side = size * _SUPERSAMPLE
    layer = _Canvas(2 * side, radius=0.45 * side)
    if rng.random() < 0.4:
        pole = tuple(int(v) for v in np.clip(rng.normal(125, 30) + rng.normal(0, 6, 3), 0, 255)) + (255,)
        layer.polygon([(-0.07, 0.0), (0.07, 0.0), (0.07, 3.0), (-0.07, 3.0)], pole)
    pic = Image.fromarray(icon.astype(np.uint8), "RGBA" if icon.shape[2] == 4 else "RGB").convert("RGBA")
    box = int(round(layer.px(2.0)))
    pic = pic.resize((box, box), Image.LANCZOS)
    x, y = layer.pt(-1.0, -1.0)
    layer.image.alpha_composite(pic, (int(round(x)), int(round(y))))
    bg = _background(rng, side)
    sign = _place_sign(layer, rng, side)
    bg.paste(sign, (0, 0), sign)
    return _degrade(np.asarray(bg.reduce(_SUPERSAMPLE)), rng)


def render_sign(class_id: str | int, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """Render one sign of ``class_id`` (a GTSRB ClassId) as ``uint8`` ``(size, size, 3)``.

    All randomness comes from ``rng``, so the same generator state gives the same image.
    """
    key = str(class_id)
    if key not in _DRAWERS:
        raise ValueError(f"unknown demo class {class_id!r}; known: {pictogram_classes()}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    side = size * _SUPERSAMPLE
    layer = _Canvas(2 * side, radius=0.45 * side)
    if rng.random() < 0.6:  # a pole behind the sign
        pole = tuple(int(v) for v in np.clip(rng.normal(125, 30) + rng.normal(0, 6, 3), 0, 255)) + (255,)
        layer.polygon([(-0.07, 0.0), (0.07, 0.0), (0.07, 3.0), (-0.07, 3.0)], pole)
    _DRAWERS[key](layer, _Paint(rng), rng)
    bg = _background(rng, side)
    sign = _place_sign(layer, rng, side)
    bg.paste(sign, (0, 0), sign)
    small = np.asarray(bg.reduce(_SUPERSAMPLE))
    return _degrade(small, rng)
