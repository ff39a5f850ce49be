"""gui/platform_check.py: plain-words start-up errors instead of a Qt platform-plugin abort."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from gui import platform_check as pc

LINUX = "linux"


@pytest.fixture
def no_qt_app(monkeypatch):
    """Pretend no QApplication exists yet (pytest-qt may have built one in this process)."""
    monkeypatch.setattr(pc, "_qt_application_exists", lambda: False)


@pytest.fixture
def all_libs_present(monkeypatch):
    monkeypatch.setattr(pc, "missing_libraries", lambda plugin=None: [])


def test_only_xcb_without_fallback_is_checked():
    assert pc.needs_check({}, LINUX)
    assert pc.needs_check({"QT_QPA_PLATFORM": ""}, LINUX)
    assert pc.needs_check({"QT_QPA_PLATFORM": "xcb"}, LINUX)
    assert pc.needs_check({"QT_QPA_PLATFORM": "XCB:nomitshm"}, LINUX)
    for other in ("offscreen", "minimal", "wayland", "eglfs", "vnc", "xcb;offscreen"):
        assert not pc.needs_check({"QT_QPA_PLATFORM": other}, LINUX), other
    assert not pc.needs_check({}, "darwin")
    assert not pc.needs_check({}, "win32")


def test_offscreen_skips_everything(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("must not look for libraries when offscreen")

    monkeypatch.setattr(pc, "missing_libraries", boom)
    assert pc.platform_problem({"QT_QPA_PLATFORM": "offscreen"}, LINUX) is None
    assert pc.check_platform({"QT_QPA_PLATFORM": "minimal"}) == 0


def test_missing_library_names_it_and_its_package(monkeypatch, no_qt_app, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    ldd_out = (
        "\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x1)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "\tlibxcb-util.so.1 => /lib/libxcb-util.so.1 (0x2)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibweird-thing.so.3 => not found\n"
    )
    monkeypatch.setattr(pc, "xcb_plugin_path", lambda: plugin)
    monkeypatch.setattr(pc.shutil, "which", lambda name: "/usr/bin/ldd")
    monkeypatch.setattr(
        pc.subprocess, "run",
        lambda cmd, **k: subprocess.CompletedProcess(cmd, 0, stdout=ldd_out, stderr=""))

    assert pc.missing_libraries() == [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libweird-thing.so.3", None),
    ]
    err = io.StringIO()
    status = pc.check_platform({"DISPLAY": ":0"}, stream=err)
    message = err.getvalue()
    assert status == 2
    assert "libxcb-cursor.so.0" in message and "libxcb-icccm.so.4" in message
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4" in message
    assert "libweird-thing.so.3" in message  # no known package, still named
    assert "libxcb-util" not in message  # present libraries are not listed
    assert "DISPLAY" not in message  # the display is fine


def test_fallback_without_ldd_tries_each_known_library(monkeypatch, no_qt_app):
    monkeypatch.setattr(pc, "xcb_plugin_path", lambda: None)
    monkeypatch.setattr(pc, "_can_load", lambda soname: soname != "libxcb-keysyms.so.1")
    message = pc.platform_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":1"}, LINUX)
    assert message is not None
    assert "libxcb-keysyms.so.1" in message and "libxcb-keysyms1" in message
    assert "libxcb-icccm" not in message


def test_no_display_is_said_plainly(monkeypatch, no_qt_app, all_libs_present):
    err = io.StringIO()
    assert pc.check_platform({}, stream=err) == 2
    message = err.getvalue()
    assert "no display" in message
    assert "DISPLAY" in message and "WAYLAND_DISPLAY" in message
    assert "xvfb-run" in message and "offscreen" in message

    explicit = pc.platform_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, LINUX)
    assert explicit is not None and "QT_QPA_PLATFORM=xcb needs an X display" in explicit


def test_no_display_and_missing_libraries_both_reported(monkeypatch, no_qt_app):
    monkeypatch.setattr(pc, "missing_libraries", lambda plugin=None: [("libxcb-icccm.so.4", "libxcb-icccm4")])
    message = pc.platform_problem({}, LINUX)
    assert "no display" in message and "libxcb-icccm4" in message


def test_everything_present_passes(no_qt_app, all_libs_present):
    assert pc.platform_problem({"DISPLAY": ":0"}, LINUX) is None
    assert pc.platform_problem({"WAYLAND_DISPLAY": "wayland-0"}, LINUX) is None
    assert pc.check_platform({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}) == 0


def test_install_command_uses_sudo_unless_root():
    assert pc.install_command(["a", "b"], root=False) == "sudo apt-get install -y a b"
    assert pc.install_command(["a"], root=True) == "apt-get install -y a"


def test_real_plugin_is_found_and_ldd_parses_it():
    plugin = pc.xcb_plugin_path()
    if plugin is None or not sys.platform.startswith("linux"):
        pytest.skip("PySide6 xcb plugin not present here")
    assert plugin.name == "libqxcb.so" and plugin.is_file()
    missing = pc._ldd_missing(plugin)
    if missing is None:
        pytest.skip("ldd not available")
    # Whatever is missing on this machine has a known package (the table covers ldd's list).
    assert all(soname in pc.XCB_LIBRARIES for soname in missing), missing


def test_module_does_not_import_qt_gui():
    # Loaded from its file, without the gui package's __init__, to test this module alone.
    path = Path(pc.__file__).resolve()
    code = ("import sys, importlib.util as u;"
            f"spec = u.spec_from_file_location('platform_check', {str(path)!r});"
            "pc = u.module_from_spec(spec); spec.loader.exec_module(pc);"
            "pc.platform_problem({'DISPLAY': ':9'});"
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


def test_main_exits_2_before_building_the_application(monkeypatch):
    import gui.app as app

    monkeypatch.setattr(pc, "platform_problem", lambda env=None: "no display found (test)")
    monkeypatch.setattr(app, "make_application",
                        lambda *a, **k: pytest.fail("QApplication built despite the problem"))
    assert app.main(["--demo"]) == 2
