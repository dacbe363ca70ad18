"""OS-level locks on a project folder, so that processes (CLI, GUI, renders) take turns.

Two lock files under `<project>/.imageai/`: `write.lock`, held by every save for that one save, and `render.lock`,
held for a whole render run. The OS releases a lock when its process dies (even by SIGKILL), so a crash never leaves
a project locked. The holder writes who it is (pid, command line, host, since when) into the file as JSON, so a
process that cannot get the lock can say who has it.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from core.errors import ProjectLockedError

LOCK_DIR = ".imageai"
WRITE_LOCK = "write.lock"
RENDER_LOCK = "render.lock"
DEFAULT_WAIT_S = 5.0
_MAX_COMMAND = 160

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    # Windows locks are mandatory: lock one byte far past the JSON so that a waiter can still read who holds it
    _WIN_LOCK_OFFSET = 1 << 30

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def short_command() -> str:
    """This process's command line, short: `python main.py project render P`."""
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    if argv:
        argv[0] = Path(argv[0]).name
    text = " ".join(argv)
    return text if len(text) <= _MAX_COMMAND else text[:_MAX_COMMAND - 3] + "..."


def holder_text(info: Optional[dict]) -> str:
    """`pid 1234 (python main.py project render P) on host since 12:03:04`, or what little is known."""
    if not info:
        return "another process (it has not said who it is yet)"
    since = ""
    try:
        at = datetime.fromisoformat(str(info.get("since"))).astimezone()
        fmt = "%H:%M:%S" if at.date() == datetime.now().astimezone().date() else "%Y-%m-%d %H:%M:%S"
        since = f" since {at.strftime(fmt)}"
    except (TypeError, ValueError):
        pass
    command = f" ({info['command']})" if info.get("command") else ""
    host = f" on {info['host']}" if info.get("host") else ""
    return f"pid {info.get('pid', '?')}{command}{host}{since}"


class ProjectLock:
    """One lock file. `acquire` waits up to `wait_s`, then raises ProjectLockedError naming the holder.

    Not reentrant: a second ProjectLock on the same file, even in this process, waits for the first."""

    def __init__(self, folder: Path, name: str, doing: str):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_DIR / name
        self.doing = doing  # "saved" or "rendered": words for the message
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait_s: float = DEFAULT_WAIT_S, on_wait: Optional[Callable[[Optional[dict]], None]] = None
                ) -> None:
        """Take the lock. `on_wait(holder)` is called once if it is busy (to say "waiting for pid ...")."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            if not _try_lock(fd):
                if on_wait is not None:
                    on_wait(self.holder())
                deadline = time.monotonic() + max(0.0, wait_s)
                pause = 0.002
                while not _try_lock(fd):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ProjectLockedError(self._busy_message(wait_s))
                    # the OS has no portable "lock with a timeout": poll, starting fast since saves are short
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, 0.05)
            self._write_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # a later waiter must not read this process as the holder
            _unlock(fd)
        finally:
            os.close(fd)

    def holder(self) -> Optional[dict]:
        """Who holds (or last held) the lock, as its holder wrote it; None if unknown."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read(4096)
            info = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def __enter__(self) -> "ProjectLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # --- internals ------------------------------------------------------------------------------------------
    def _write_holder(self, fd: int) -> None:
        info = {"pid": os.getpid(), "command": short_command(), "host": socket.gethostname(),
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds"), "doing": self.doing}
        data = json.dumps(info).encode("utf-8")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)  # no fsync: the note only matters while this process lives

    def _busy_message(self, wait_s: float) -> str:
        return (f"project {self.folder} is being {self.doing} by {holder_text(self.holder())}; waited {wait_s:g} s. "
                f"Try again when it has finished, or end that process if it hangs (its lock ends with it)")
