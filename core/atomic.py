"""Atomic file writes: write a temp file beside the target, fsync, then replace. A crash leaves old or new, never half.

tempfile.mkstemp creates its file 0600; a file that ends up in a project (a clip, an image, project.json) gets the
mode any other new file gets under the process's umask (`file_mode`), the same as FFmpeg's own outputs."""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Union


@functools.lru_cache(maxsize=1)
def file_mode() -> int:
    """0o666 less the process's umask: the mode open() gives a new file. Read once; Linux shows the umask in
    /proc without changing it, elsewhere it is set and put back (done once, so no other thread's file is made
    in the instant the umask is changed more than once)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def give_file_mode(path: Union[str, Path]) -> None:
    """Give a finished file made by mkstemp (0600) the mode of any new file (`file_mode`)."""
    os.chmod(path, file_mode())


def atomic_write_bytes(path: Path, data: bytes, *, backup: bool = False, mode: int | None = None) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode if mode is not None else file_mode())
        if backup and path.exists():
            bak = path.with_name(path.name + ".bak")
            # a hard link keeps the previous version as the backup without a copy; the replace below is atomic
            try:
                if bak.exists():
                    bak.unlink()
                os.link(path, bak)
            except OSError:
                import shutil
                shutil.copy2(path, bak)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, **kw) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), **kw)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (and Windows) cannot fsync a folder; the replace is still atomic
    finally:
        os.close(fd)
