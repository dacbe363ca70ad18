"""Junk a killed export or download leaves in a project: partial exports (`exports/.NAME.partial-*`), export work
folders (`exports/.cache/work-*`) and partial downloads (`*.part`). Each name carries the id of the process that
made it and a short hash of its machine (`pid1234h9f0c`); a file whose process is alive is never touched, one whose
process is gone is removed.

Names without an id (written by older versions, or by code that does not tag its temp files yet), or made on
another machine (a project on a shared drive: its process ids mean nothing here), have no owner we can check: they
are removed only when nothing has written to them for an hour and no process here holds them open (checked in
/proc), or, where open files cannot be listed (macOS, Windows), after a day.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Iterable, Optional

from pydantic import BaseModel, Field

from core.child_process import pid_alive

__all__ = ["CleanReport", "Leftover", "clean_leftovers", "owner_tag", "partial_path", "tagged_owner"]

CACHE_DIR = "exports/.cache"  # the re-export cache (segment_cache.py); its work-* folders are one export's temp files
ASSET_DIRS = ("clips", "images", "references", "exports")
UNTAGGED_GRACE_S = 3600.0            # with an open-file check
UNTAGGED_GRACE_BLIND_S = 24 * 3600.0  # without one

_TAG = re.compile(r"(?:^|[.\-_])pid(\d+)(?:h([0-9a-f]{4}))?-")
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:4]


class Leftover(BaseModel):
    path: str                        # relative to the project folder (absolute when outside it)
    size: int = 0                    # bytes (a folder: its files)
    owner_pid: Optional[int] = None  # None: the name carries no process id


class CleanReport(BaseModel):
    removed: list[Leftover] = Field(default_factory=list)
    kept: list[Leftover] = Field(default_factory=list)  # still in use (a live owner, or recent and untagged)

    @property
    def removed_bytes(self) -> int:
        return sum(x.size for x in self.removed)

    @property
    def kept_bytes(self) -> int:
        return sum(x.size for x in self.kept)

    def kept_bytes_outside_cache(self) -> int:
        """Kept leftovers that are not work folders of the cache (SegmentCache.prune counts those itself)."""
        return sum(x.size for x in self.kept if not x.path.startswith(CACHE_DIR + "/"))


def owner_tag() -> str:
    """`pid<this process>h<machine>`: put it in a temp file's name, followed by '-', so a later run can tell
    whether the file's maker is still alive (e.g. `.clip.pid4242h9f0c-1a2b.part`)."""
    return f"pid{os.getpid()}h{_HOST}"


def partial_path(output: Path) -> Path:
    """Where an export is written before it is renamed over `output` (beside it, hidden, tagged)."""
    import uuid
    return output.with_name(f".{output.stem}.partial-{owner_tag()}-{uuid.uuid4().hex[:8]}{output.suffix}")


_OUR_PARTIAL = re.compile(r"^\..*\.partial-pid\d+(h[0-9a-f]{4})?-[0-9a-f]{8}(\.[^.]*)?$")


def tagged_owner(name: str) -> Optional[int]:
    """The id of the process on this machine that wrote a temp name with owner_tag(); None without a tag or for a
    tag of another machine. The last tag wins: the user's part of a name (a project called "pid5-") comes first."""
    found = _TAG.findall(name)
    if not found:
        return None
    pid, host = found[-1]
    return int(pid) if host in ("", _HOST) else None


def _is_partial_download(name: str) -> bool:
    return name.endswith(".part") or (name.startswith(".") and ".part." in name)


def _is_partial_export(name: str) -> bool:
    return name.startswith(".") and ".partial-" in name


def _files(folder: Path) -> list[os.DirEntry]:
    try:
        return [e for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _candidates(folder: Path, extra: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    try:
        found += [Path(e.path) for e in os.scandir(folder / CACHE_DIR)
                  if e.name.startswith("work-") and e.is_dir(follow_symlinks=False)]
    except OSError:  # no cache yet
        pass
    inside = [(folder / d).resolve() for d in ASSET_DIRS]
    for d in inside:
        found += [Path(e.path) for e in _files(d) if _is_partial_download(e.name) or _is_partial_export(e.name)]
    # a folder outside the project belongs to the user (a browser's .part downloads may lie there): only partial
    # exports named exactly as partial_path() names them are ours
    for d in {Path(d).resolve() for d in extra} - set(inside):
        found += [Path(e.path) for e in _files(d) if _OUR_PARTIAL.match(e.name)]
    return found


def _size_and_mtime(path: Path) -> tuple[int, float]:
    try:
        if not path.is_dir():
            st = path.stat()
            return st.st_size, st.st_mtime
        size, newest = 0, path.stat().st_mtime
        for root, _dirs, files in os.walk(path):
            for f in files:
                try:
                    st = os.stat(os.path.join(root, f))
                except OSError:
                    continue
                size += st.st_size
                newest = max(newest, st.st_mtime)
        return size, newest
    except OSError:
        return 0, 0.0


def _open_paths() -> Optional[set[str]]:
    """Every path some process holds open (Linux /proc); None where that cannot be listed."""
    proc = Path("/proc")
    if not sys.platform.startswith("linux") or not proc.is_dir():
        return None
    held: set[str] = set()
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list(os.scandir(pid_dir / "fd"))
        except OSError:  # gone meanwhile, or another user's (unreadable): counted as holding nothing
            continue
        for fd in fds:
            try:
                held.add(os.readlink(fd.path))
            except OSError:
                continue
    return held


def _held(path: Path, held: set[str]) -> bool:
    p = str(path.resolve())
    return p in held or any(h.startswith(p + os.sep) for h in held)


def clean_leftovers(project_folder: Path, *, also: Iterable[Path] = ()) -> CleanReport:
    """Remove the leftovers of processes that are gone; report what was removed and what is still in use.
    `also`: more folders that may hold partial exports (an export path outside exports/)."""
    folder = Path(project_folder)
    report = CleanReport()
    now = time.time()
    held: Optional[set[str]] = None
    scanned = False
    for path in _candidates(folder, also):
        size, mtime = _size_and_mtime(path)
        owner = tagged_owner(path.name)
        if owner is not None:
            stale = owner != os.getpid() and not pid_alive(owner)
        else:
            if not scanned:
                held, scanned = _open_paths(), True
            grace = UNTAGGED_GRACE_S if held is not None else UNTAGGED_GRACE_BLIND_S
            stale = now - mtime > grace and not (held is not None and _held(path, held))
        item = Leftover(path=_relative(path, folder), size=size, owner_pid=owner)
        if not stale:
            report.kept.append(item)
            continue
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue  # its owner finished with it meanwhile
        except OSError:  # e.g. Windows: still open somewhere; counted, tried again next time
            report.kept.append(item)
            continue
        report.removed.append(item)
    return report


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)
