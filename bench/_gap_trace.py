"""Where a long UI-thread gap went: a stack sampler for the GUI benchmarks (not part of the package).

:class:`StackSampler` runs a daemon thread that every ``interval_s`` records the UI (main)
thread's Python stack and what every other Python thread is in. :meth:`StackSampler.explain`
takes the gaps a tick recorder saw and, for each one over a threshold, prints the main thread's
most frequent project frames (``gui/``, ``pipeline/``, ``bench/`` callers) inside it, and which
other threads were running project code then (the model thread competing for the interpreter).
A sample whose innermost frame is not project code (``processEvents`` in the bench's wait loop)
means the UI thread was inside Qt's own C++ (paint, layout, event dispatch) without Python.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
_PROJECT = ("/gui/", "/pipeline/")


def _frames(frame, depth: int = 40) -> list[str]:
    """``file:function`` of ``frame`` and its callers, innermost first."""
    out = []
    while frame is not None and len(out) < depth:
        code = frame.f_code
        out.append(f"{code.co_filename}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return out


def _short(entry: str) -> str:
    path, func, line = entry.rsplit(":", 2)
    if path.startswith(ROOT):
        path = path[len(ROOT) + 1:]
    return f"{path}:{line} {func}"


def _project(stack: list[str]) -> list[str]:
    return [e for e in stack if any(p in e for p in _PROJECT) and ".venv" not in e]


def _idle(entry: str) -> bool:
    """A thread waiting on a lock, condition or queue (not competing for the interpreter)."""
    return any(f"/{m}.py:" in entry for m in ("threading", "queue")) or ":_wait_for_tstate_lock:" in entry


class EventLog:
    """Every event the application delivers (an application event filter): (time, type, receiver)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject
        from PySide6.QtWidgets import QApplication

        log = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                log.events.append((time.perf_counter(), event.type(), obj))
                return False

        self.events: list = []
        self.filter = Filter()
        self.app = QApplication.instance()

    def start(self) -> None:
        self.events = []
        self.app.installEventFilter(self.filter)

    def stop(self) -> None:
        self.app.removeEventFilter(self.filter)

    def longest_silence(self, a: float, b: float) -> tuple[float, str]:
        """The longest stretch in [a, b] with no event delivered, and the event that began it."""
        import bisect

        times = [e[0] for e in self.events]
        lo, hi = bisect.bisect_left(times, a), bisect.bisect_right(times, b)
        marks = [(a, "(before any event)")] + [(t, _describe(kind, obj)) for t, kind, obj in self.events[lo:hi]]
        marks.append((b, ""))
        best = max(range(len(marks) - 1), key=lambda i: marks[i + 1][0] - marks[i][0])
        return (marks[best + 1][0] - marks[best][0]) * 1000.0, marks[best][1]


def _describe(kind, obj) -> str:
    try:
        name = type(obj).__name__
        parent = obj.parent() if hasattr(obj, "parent") else None
        if parent is not None and name in ("QWidget", "QObject"):
            name = f"{type(parent).__name__}.{name}"
        return f"{getattr(kind, 'name', kind)} -> {name}"
    except RuntimeError:  # deleted since
        return f"{getattr(kind, 'name', kind)} -> (deleted)"


class StackSampler:
    """Samples the main thread's stack (and other threads' project frames) on a daemon thread."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.samples: list[tuple[float, list[str], dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._main = threading.main_thread().ident

    def start(self) -> None:
        self.samples = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gap-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        names = {}
        while not self._stop.is_set():
            frames = sys._current_frames()
            now = time.perf_counter()
            main = _frames(frames.get(self._main))
            others = {}
            for ident, frame in frames.items():
                if ident in (me, self._main):
                    continue
                stack = _frames(frame, 60)
                proj = _project(stack)
                if proj and not _idle(stack[0]):
                    if ident not in names:
                        names = {t.ident: t.name for t in threading.enumerate()}
                    others[names.get(ident, str(ident))] = _short(proj[0])
            self.samples.append((now, main, others))
            time.sleep(self.interval_s)

    def explain(self, tick_times, threshold_ms: float = 40.0, top: int = 3, out=print, events: EventLog | None = None,
                cpu_times=None) -> None:
        """For each gap between consecutive ``tick_times`` over ``threshold_ms``: where it went.

        ``cpu_times`` (the UI thread's ``time.thread_time`` at each tick) adds the CPU time the UI
        thread itself spent in the gap: the rest was waiting for a core or for the interpreter."""
        times = [s[0] for s in self.samples]
        import bisect

        for k, (a, b) in enumerate(zip(tick_times[:-1], tick_times[1:])):
            gap = (b - a) * 1000.0
            if gap <= threshold_ms:
                continue
            cpu = f", UI CPU {(cpu_times[k + 1] - cpu_times[k]) * 1000.0:.0f} ms" if cpu_times is not None else ""
            lo, hi = bisect.bisect_left(times, a), bisect.bisect_right(times, b)
            inside = self.samples[lo:hi]
            if not inside:
                out(f"    gap {gap:.0f} ms{cpu}: no sample (the sampler was starved: the interpreter was held)")
                continue
            where = Counter()
            leaf = Counter()
            busy = Counter()
            for _, stack, others in inside:
                proj = _project(stack)
                if not proj:
                    lib = [e for e in stack if "site-packages" in e]
                    leaf[f"library {_short(lib[0]).split('site-packages/')[-1]}" if lib
                         else "Qt C++ (no project frame on the stack)"] += 1
                else:
                    lib = "" if stack[0] == proj[0] else f" -> {_short(stack[0]).split('/')[-1]}"
                    leaf[_short(proj[0]) + lib] += 1
                where[" < ".join(_short(e).split(" ")[1] for e in proj[:4]) or "(no project frame)"] += 1
                for name, frame in others.items():
                    busy[f"{name}: {frame}"] += 1
            spread = max(times[hi - 1] - times[lo], 1e-9) * 1000.0 if hi - lo > 1 else 0.0
            out(f"    gap {gap:.0f} ms{cpu} ({len(inside)} samples over {spread:.0f} ms):")
            if events is not None:
                quiet, what = events.longest_silence(a, b)
                out(f"      longest stretch without a new event: {quiet:.0f} ms, inside {what}")
            for k, v in leaf.most_common(top):
                out(f"      {100 * v / len(inside):3.0f}% UI thread in {k}")
            for k, v in where.most_common(top):
                out(f"      {100 * v / len(inside):3.0f}% UI stack {k}")
            for k, v in busy.most_common(top):
                out(f"      {100 * v / len(inside):3.0f}% other thread {k}")

