"""Atomic file writes: write a temp file beside the target, fsync, then replace. A crash leaves old or new, never half."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, backup: bool = False, mode: int | None = None) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
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
