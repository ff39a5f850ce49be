"""Start-up check for the Qt window on Linux/X11, run before the QApplication is built.

Without a display, or without the shared libraries of Qt's ``xcb`` platform plugin, Qt
aborts with "Could not load the Qt platform plugin xcb" and a core dump. This module finds
those problems first and describes them in plain words, with the ``apt-get`` command that
installs what is missing. Pure Python: nothing here imports Qt.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

# Every system library that libqxcb.so and libQt6XcbQpa.so.6 of PySide6 6.11 link
# (``readelf -d`` / ``ldd``), with the Debian/Ubuntu package that ships it. Keep in step
# with the ``sysdeps`` target of the Makefile.
XCB_LIBRARIES: Dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
}

EXIT_STATUS = 2


def requested_platforms(env: Mapping[str, str]) -> List[str]:
    """Plugin names in ``QT_QPA_PLATFORM`` ("xcb:arg;wayland" -> ["xcb", "wayland"])."""
    value = env.get("QT_QPA_PLATFORM", "") or ""
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


def needs_check(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """True when Qt would load the xcb plugin with no fallback: Linux, platform unset or "xcb"."""
    if not platform.startswith("linux"):
        return False
    names = requested_platforms(env)
    return not names or names == ["xcb"]


def display_problem(env: Mapping[str, str]) -> Optional[str]:
    """A sentence saying why there is no display to open the window on, or ``None``."""
    names = requested_platforms(env)
    if env.get("DISPLAY"):
        return None
    if not names and env.get("WAYLAND_DISPLAY"):
        return None
    if names == ["xcb"]:
        what = "QT_QPA_PLATFORM=xcb needs an X display, but DISPLAY is not set."
    else:
        what = "no display found: neither DISPLAY nor WAYLAND_DISPLAY is set."
    return (
        f"Cluster Review cannot open its window: {what}\n"
        "Start it from a desktop session, over `ssh -X`, or under a virtual display:\n"
        "  xvfb-run -a cluster-review gui --demo\n"
        "Without a window, use the command line (cluster-review run FOLDER ...) or set "
        "QT_QPA_PLATFORM=offscreen."
    )


def xcb_plugin_path() -> Optional[Path]:
    """PySide6's ``libqxcb.so``, found without importing Qt; ``None`` when absent."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        plugin = Path(location) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def _ldd_missing(plugin: Path) -> Optional[List[str]]:
    """Sonames that ``ldd`` cannot resolve for ``plugin``; ``None`` when ldd cannot tell."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 and "not found" not in out.stdout:
        return None
    return list(dict.fromkeys(_NOT_FOUND.findall(out.stdout)))


def _can_load(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Optional[Path] = None) -> List[Tuple[str, Optional[str]]]:
    """``(soname, Debian package or None)`` for every library the xcb plugin cannot load.

    Asks ``ldd`` about the plugin itself when possible (this follows libQt6XcbQpa and the
    rest of the chain); otherwise tries to load each library of :data:`XCB_LIBRARIES`.
    """
    plugin = plugin if plugin is not None else xcb_plugin_path()
    missing = _ldd_missing(plugin) if plugin is not None else None
    if missing is None:
        missing = [soname for soname in XCB_LIBRARIES if not _can_load(soname)]
    return [(soname, XCB_LIBRARIES.get(soname)) for soname in missing]


def install_command(packages: Sequence[str], root: Optional[bool] = None) -> str:
    if root is None:
        root = hasattr(os, "geteuid") and os.geteuid() == 0
    return ("" if root else "sudo ") + "apt-get install -y " + " ".join(packages)


def libraries_problem(missing: Sequence[Tuple[str, Optional[str]]]) -> Optional[str]:
    """Plain-words report of the missing libraries and how to install them, or ``None``."""
    if not missing:
        return None
    lines = ["Cluster Review cannot open its window: the Qt \"xcb\" platform plugin needs "
             "these system libraries, which are not installed:"]
    for soname, package in missing:
        lines.append(f"  {soname}  (Debian/Ubuntu package {package})" if package
                     else f"  {soname}")
    packages = list(dict.fromkeys(package for _, package in missing if package))
    if packages:
        lines.append("Install them with:")
        lines.append("  " + install_command(packages))
        lines.append("(`make sysdeps` or `make run`, run as root, installs them too.)")
    unknown = [soname for soname, package in missing if not package]
    if unknown:
        lines.append("Install the package of your distribution that provides "
                     + ", ".join(unknown) + ".")
    return "\n".join(lines)


def _qt_application_exists() -> bool:
    """True when a Qt application object already exists (its platform is loaded already)."""
    qtgui = sys.modules.get("PySide6.QtGui")
    if qtgui is None:
        return False
    try:
        return qtgui.QGuiApplication.instance() is not None
    except Exception:  # pragma: no cover - a broken Qt is Qt's to report
        return False


def platform_problem(env: Optional[Mapping[str, str]] = None,
                     platform: str = sys.platform) -> Optional[str]:
    """What stops Qt from opening a window here, in plain words, or ``None`` when nothing does."""
    env = os.environ if env is None else env
    if not needs_check(env, platform) or _qt_application_exists():
        return None
    problems = []
    no_display = display_problem(env)
    if no_display:
        problems.append(no_display)
    if env.get("DISPLAY") or requested_platforms(env) == ["xcb"] or no_display:
        libs = libraries_problem(missing_libraries())
        if libs:
            problems.append(libs)
    return "\n\n".join(problems) or None


def check_platform(env: Optional[Mapping[str, str]] = None, stream=None) -> int:
    """0 when the window can open; else prints the problem to ``stream`` (stderr) and returns 2."""
    problem = platform_problem(env)
    if problem is None:
        return 0
    print(problem, file=stream if stream is not None else sys.stderr)
    return EXIT_STATUS
