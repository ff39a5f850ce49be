"""One writer per project: a lock file naming who holds it.

:class:`ProjectLock` creates ``review.lock`` in the project folder with exclusive
creation (the JSON ``{user, host, pid, since, tool, started}`` is written to a temporary
file through :mod:`pipeline.core.atomic` and hard-linked into place, so the lock never
exists half-written). A second window or process gets the :class:`LockHolder` back and
opens the project read-only. A lock left by a process that died (same host, pid gone or
reused by another program) is stale and is taken over.
"""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

from pipeline.core.atomic import atomic_write_bytes

PathLike = Union[str, Path]
LOCK_NAME = "review.lock"


def _user() -> str:
    from pipeline.review.session_db import current_user

    return current_user()


def process_started(pid: int) -> Optional[float]:
    """The start time of ``pid`` in clock ticks since boot (Linux), ``None`` where unknown."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    try:
        return float(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this machine (and is not a zombie)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would stop the process: ask the OS instead
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project: ``user`` on ``host``, process ``pid`` (``tool``), since ``since`` (epoch seconds)."""

    user: str
    host: str
    pid: int
    since: float
    tool: str
    started: Optional[float] = None

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since))
        return f"{self.user} on {self.host} ({self.tool}, process {self.pid}) since {when}"

    def is_stale(self) -> bool:
        """True when the holder is a process of this host that no longer runs."""
        if self.host != socket.gethostname():
            return False  # cannot tell: another machine's process
        if not pid_alive(self.pid):
            return True
        now = process_started(self.pid)
        return self.started is not None and now is not None and now != self.started  # pid reused


def read_holder(path: PathLike) -> Optional[LockHolder]:
    """The holder written in lock file ``path``; ``None`` when there is none or it is unreadable."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        return LockHolder(str(data["user"]), str(data["host"]), int(data["pid"]), float(data["since"]),
                          str(data.get("tool", "")), data.get("started"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ProjectLock:
    """The lock of one project folder; :meth:`acquire` returns ``None`` when it is ours."""

    def __init__(self, project_dir: PathLike, tool: str = "Cluster Review window") -> None:
        self.path = Path(project_dir) / LOCK_NAME
        self.tool = tool
        self.held = False

    def holder(self) -> Optional[LockHolder]:
        return read_holder(self.path)

    def acquire(self) -> Optional[LockHolder]:
        """Take the lock; returns ``None`` on success, else the live holder (then open read-only)."""
        if self.held:
            return None
        me = LockHolder(_user(), socket.gethostname(), os.getpid(), time.time(), self.tool, process_started(os.getpid()))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create(me):
                self.held = True
                return None
            holder = self.holder()
            if holder is None:
                if self._old_unreadable():
                    self._take_over(None)
                else:
                    time.sleep(0.05)  # being written by someone else right now
                continue
            if not holder.is_stale():
                return holder
            self._take_over(holder)
        holder = self.holder()
        return holder or me

    def _create(self, me: LockHolder) -> bool:
        tmp = self.path.with_name(f".{LOCK_NAME}.{uuid.uuid4().hex}.new")
        atomic_write_bytes(tmp, json.dumps(asdict(me)).encode("utf-8"))
        try:
            os.link(tmp, self.path)  # fails if the lock exists: exclusive, and never half-written
            return True
        except FileExistsError:
            return False
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _old_unreadable(self) -> bool:
        try:
            return time.time() - self.path.stat().st_mtime > 10.0
        except OSError:
            return False

    def _take_over(self, stale: Optional[LockHolder]) -> None:
        """Remove a stale lock, unless someone replaced it meanwhile (then it is put back)."""
        aside = self.path.with_name(f".{LOCK_NAME}.{uuid.uuid4().hex}.stale")
        try:
            os.rename(self.path, aside)
        except OSError:
            return
        if read_holder(aside) != stale:
            try:
                os.link(aside, self.path)
            except OSError:
                pass
        try:
            os.unlink(aside)
        except OSError:
            pass

    def release(self) -> None:
        """Drop the lock if this object holds it (and it is still ours)."""
        if not self.held:
            return
        self.held = False
        holder = self.holder()
        if holder is not None and holder.pid == os.getpid() and holder.host == socket.gethostname():
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def __enter__(self) -> "ProjectLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def held_by_other(project_dir: PathLike) -> Optional[LockHolder]:
    """The live holder of ``project_dir``'s lock unless it is this process or its parent (the window)."""
    holder = read_holder(Path(project_dir) / LOCK_NAME)
    if holder is None or holder.is_stale():
        return None
    if holder.host == socket.gethostname() and holder.pid in (os.getpid(), os.getppid()):
        return None
    return holder
