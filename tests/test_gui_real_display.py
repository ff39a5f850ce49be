"""The real window on a real X server (Xvfb) through Qt's xcb plugin, not offscreen.

Catches what the offscreen suite cannot: a missing xcb system library or a broken platform
plugin aborts ``make run`` on users' machines. Needs Xvfb, xdotool and ImageMagick's
``import`` (``make sysdeps`` installs them as root); skips without them.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gui import platform_check

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("Xvfb", "xdotool", "import")
SCREEN = (1600, 1000)
QT_PLATFORM_ERROR = "Could not load the Qt platform plugin"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 test, Linux only")


def _need_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"real-display test needs {', '.join(missing)} on PATH "
                    "(Debian: apt-get install xvfb xdotool imagemagick, or `make sysdeps` as root)")


def _need_xcb_libraries() -> None:
    missing = platform_check.missing_libraries()
    if not missing:
        return
    message = platform_check.libraries_problem(missing)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        pytest.fail("`make sysdeps` should have installed these:\n" + message)
    pytest.skip(message)


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


@pytest.fixture
def xvfb(tmp_path):
    """A private Xvfb on a free display number (``-displayfd``); yields ``":N"``, then stops it."""
    _need_tools()
    read_fd, write_fd = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=log, stderr=subprocess.STDOUT)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 10
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.2)
            if ready:
                chunk = os.read(read_fd, 64)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            _stop(proc)
            log.close()
            pytest.fail("Xvfb did not start: " + (tmp_path / "xvfb.log").read_text(errors="replace"))
        yield ":" + number.decode().strip()
    finally:
        os.close(read_fd)
        _stop(proc)
        log.close()
    assert proc.poll() is not None  # no Xvfb left behind


def _windows(display_env: dict, pattern: str) -> list[str]:
    out = subprocess.run(["xdotool", "search", "--name", pattern], env=display_env,
                         capture_output=True, text=True, timeout=10)
    return out.stdout.split()


def _wait_for_window(display_env, pattern, app, timeout) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _windows(display_env, pattern)
        if found or app.poll() is not None:
            return found
        time.sleep(0.25)
    return []


def _child_env(display: str, tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700, exist_ok=True)
    return env


@pytest.mark.slow
def test_window_opens_on_a_real_x_display(xvfb, tmp_path):
    from PIL import Image

    _need_xcb_libraries()
    env = _child_env(xvfb, tmp_path)
    out_path, err_path = tmp_path / "app.out", tmp_path / "app.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        app = subprocess.Popen(
            [sys.executable, "-m", "gui.app", "--demo", "--store", str(tmp_path / "store")],
            cwd=REPO, env=env, stdout=out, stderr=err)
    try:
        def stderr() -> str:
            return err_path.read_text(errors="replace")

        shown = _wait_for_window(env, "^Cluster Review", app, timeout=25)
        assert app.poll() is None, f"window process exited with {app.returncode}:\n{stderr()}"
        assert shown, "no window titled 'Cluster Review…' appeared within 25 s:\n" + stderr()
        # The title gains the folder name once the demo session is loaded and shown.
        loaded = _wait_for_window(env, "^Cluster Review — ", app, timeout=20)
        assert loaded, "the demo session did not load within 20 s:\n" + stderr()
        # Thumbnails decode on loader threads after the session shows: shoot until they are in.
        shot = tmp_path / "shot.png"
        deadline = time.monotonic() + 20
        while True:
            time.sleep(1.0)
            subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True,
                           capture_output=True, timeout=20)
            image = Image.open(shot).convert("RGB")
            colours = image.getcolors(maxcolors=image.width * image.height)
            if len(colours) > 500 or time.monotonic() > deadline:
                break
        assert image.size == SCREEN
        commonest = max(count for count, _ in colours)
        assert len(colours) > 500, f"screenshot has only {len(colours)} colours: blank window?"
        assert commonest < 0.8 * image.width * image.height, "screenshot is mostly one colour"

        # Close like a user: Ctrl+Q (File ▸ Quit) on the focused window.
        subprocess.run(["xdotool", "windowfocus", "--sync", loaded[0], "key", "--clearmodifiers",
                        "ctrl+q"], env=env, capture_output=True, timeout=10)
        try:
            status = app.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail("the window did not close on Ctrl+Q:\n" + stderr())
        assert status == 0, f"exit status {status}:\n{stderr()}"
        assert QT_PLATFORM_ERROR not in stderr()
    finally:
        _stop(app)


def test_no_display_prints_a_message_instead_of_a_qt_abort(tmp_path):
    """Without a display the window command exits 2 with plain words, not a Qt core dump."""
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(
        [sys.executable, "-m", "gui.app", "--demo", "--store", str(tmp_path / "store")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "needs an X display, but DISPLAY is not set" in done.stderr
    assert QT_PLATFORM_ERROR not in done.stderr
    assert done.returncode != -signal.SIGABRT
