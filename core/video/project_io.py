"""Project folders on disk: `project.json` plus clips/, images/, references/, exports/.

Saves are atomic and keep `project.json.bak`. A file that fails to load raises ProjectFileError naming the file and
the field, and is never modified. Asset paths are relative and must stay inside the folder.

Several processes may have one project open (a render, `project add-scene`, the GUI). Each save takes the folder's
write lock for that one save; if another process wrote the file since this one last read or wrote it, its changes
are merged into the project in memory first (core/video/project_merge.py), so neither side's work is lost. A render
run holds the render lock for its whole length, so two renders of one project never run at once.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

from pydantic import ValidationError

from core.atomic import atomic_write_bytes
from core.errors import InvalidRequestError, ProjectFileError, UnavailableError
from core.video.migrations import migrate
from core.video.project import SCHEMA_VERSION, VideoProject, now
from core.video.project_lock import DEFAULT_WAIT_S, RENDER_LOCK, WRITE_LOCK, ProjectLock
from core.video.project_merge import MergeReport, merge_into
from core.video.relpath import check_relative_path

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
SUBDIRS = ("clips", "images", "references", "exports")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a project file this big is not one we wrote


def _field_of(error: dict) -> str:
    return ".".join(str(p) for p in error.get("loc", ())) or "(top level)"


def parse_project(raw: bytes, label: str) -> VideoProject:
    """Bytes of a project file -> VideoProject, or ProjectFileError naming the file and the field."""
    try:
        return _parse(raw, label)
    except RecursionError:  # e.g. 200,000 nested brackets: the parser gives up before any field is seen
        raise ProjectFileError(f"{label}: nested too deeply to be a project file") from None
    except MemoryError:
        raise ProjectFileError(f"{label}: too large to load into memory") from None


def _parse(raw: bytes, label: str) -> VideoProject:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # a number with thousands of digits
        raise ProjectFileError(f"{label}: not a valid project file ({str(exc)[:200]})") from None
    if not isinstance(doc, dict):
        raise ProjectFileError(f"{label}: the top level must be a JSON object, found {type(doc).__name__}")
    doc = migrate(doc, SCHEMA_VERSION, label)
    try:
        return VideoProject.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        msg = first.get("msg", "invalid")
        if len(msg) > 300:
            msg = msg[:300] + "..."
        raise ProjectFileError(f"{label}: field '{_field_of(first)}': {msg}{more}") from None


def _stat_key(st: os.stat_result) -> tuple:
    # every save replaces the file (a new inode, a new mtime): any of these differing means someone wrote it
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _read_file(path: Path) -> tuple[bytes, tuple]:
    """The file's bytes and the stat of exactly what was read."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > MAX_FILE_BYTES:
                raise ProjectFileError(f"{path}: file is {st.st_size} bytes, more than a project file can be "
                                       f"({MAX_FILE_BYTES} bytes)")
            return f.read(), _stat_key(st)
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot be read ({exc.strerror})") from None


class ProjectStore:
    """A project and its folder. Thread-safe save; everything that touches the folder goes through here."""

    def __init__(self, folder: Path, project: VideoProject, *, lock_wait_s: Optional[float] = None):
        self.folder = Path(folder).resolve()
        self.project = project
        self._lock = threading.RLock()
        #: seconds a save or render waits for another process's lock; None: the app setting project_lock_wait_s
        self.lock_wait_s = lock_wait_s
        #: called after a save merged another process's changes in (on the saving thread, under the store's lock)
        self.on_merge: Optional[Callable[[MergeReport], None]] = None
        self.last_merge: Optional[MergeReport] = None
        self._locking = True  # off only in the benchmark, to measure what the lock costs
        # the file as this process last read or wrote it: the base of a merge, and its stat to notice other writers
        self._base: Optional[bytes] = None
        self._base_stat: Optional[tuple] = None
        self._writes = 0
        self._snapshot: tuple[int, Optional[bytes]] = (0, None)
        self._render_owner: Optional[int] = None  # thread holding the render lock (re-entered, not taken again)
        self._render_depth = 0

    # --- opening and creating -------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: Path, name: Optional[str] = None, *, lock_wait_s: Optional[float] = None
               ) -> "ProjectStore":
        folder = Path(folder)
        if (folder / PROJECT_FILE).exists():
            raise ProjectFileError(f"{folder / PROJECT_FILE}: a project already exists here")
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, VideoProject(name=name or folder.resolve().name), lock_wait_s=lock_wait_s)
        store.ensure_folders()
        store.save()
        return store

    @classmethod
    def open(cls, folder: Path, *, lock_wait_s: Optional[float] = None) -> "ProjectStore":
        folder = Path(folder)
        path = folder / PROJECT_FILE if folder.is_dir() or not folder.suffix else folder
        if path.name != PROJECT_FILE:
            folder = path.parent
        else:
            folder = path.parent
        if not path.exists():
            raise ProjectFileError(f"{path}: no project here (expected a folder holding {PROJECT_FILE})")
        raw, stat = _read_file(path)
        store = cls(folder, parse_project(raw, str(path)), lock_wait_s=lock_wait_s)
        store._check_assets_inside()
        # the base as the model holds it: a migrated file, or ids filled in on load, then compare like for like
        store._base = store.project.model_dump_json(indent=1).encode("utf-8")
        store._base_stat = stat
        return store

    def ensure_folders(self) -> None:
        for sub in SUBDIRS:
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    @property
    def lock(self) -> threading.RLock:
        """Held while the project is written; edits from another thread take it so they never interleave a save."""
        return self._lock

    @property
    def path(self) -> Path:
        return self.folder / PROJECT_FILE

    # --- saving ---------------------------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The project as file bytes, taken under the lock (cheap; the write can then happen on another thread)."""
        with self._lock:
            self.project.modified_at = now()
            data = self.project.model_dump_json(indent=1).encode("utf-8")
            self._snapshot = (self._writes, data)
            return data

    def save(self) -> None:
        """Write the project, first merging in what another process saved since this one last read or wrote it.
        Raises ProjectLockedError if another process's save holds the folder longer than the lock wait."""
        with self._lock:
            self.ensure_folders()
            with self._write_lock():
                self._merge_from_disk()
                self._write(self.snapshot())

    def write_snapshot(self, data: bytes) -> None:
        """Write bytes from snapshot(): autosave takes the snapshot on its thread and writes on a worker. If the
        file or this store changed since the snapshot, it saves afresh instead (a stale snapshot is never written
        over newer state)."""
        with self._lock:
            with self._write_lock():
                taken_at, taken = self._snapshot
                if taken is data and taken_at == self._writes and not self._disk_changed():
                    self._write(data)
                    return
                self._merge_from_disk()
                self._write(self.snapshot())

    def save_as(self, folder: Path) -> "ProjectStore":
        """Copy the project and its assets into another folder and continue there."""
        folder = Path(folder).resolve()
        if folder == self.folder:
            self.save()
            return self
        with self._lock:
            for sub in SUBDIRS:
                src = self.folder / sub
                if src.exists():
                    # the export cache is rebuilt on demand; copying it would only double the disk use
                    shutil.copytree(src, folder / sub, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".cache"))
            self.folder = folder
            self.ensure_folders()
            with self._write_lock():
                self._write(self.snapshot())  # a new home: whatever was there is replaced, not merged
        return self

    def refresh(self) -> Optional[MergeReport]:
        """Bring in what other processes saved since this one last read or wrote the file, without writing; None
        when nobody did. Unsaved changes here stay (and still win on the next save)."""
        with self._lock:
            with self._write_lock():
                return self._merge_from_disk(adopt=True)

    @contextmanager
    def render_lock(self, wait_s: Optional[float] = None,
                    on_wait: Optional[Callable[[Optional[dict]], None]] = None) -> Iterator[None]:
        """Held for a whole render run: a second render of this project (another process, or another thread) waits
        up to `wait_s` (None: the setting project_lock_wait_s), then raises ProjectLockedError naming the holder.
        Once it has the lock, the project in memory is refreshed from the file, so a render that waited plans from
        the takes the other one saved (and does not pay for them again). Re-entered on the thread that holds it.
        `on_wait(holder_info)` is called once if it has to wait."""
        me = threading.get_ident()
        if self._render_owner == me:
            self._render_depth += 1
            try:
                yield
            finally:
                self._render_depth -= 1
            return
        lock = ProjectLock(self.folder, RENDER_LOCK, "rendered")
        lock.acquire(self._wait_s() if wait_s is None else wait_s, on_wait)
        self._render_owner, self._render_depth = me, 1
        try:
            self.refresh()
            yield
        finally:
            self._render_owner, self._render_depth = None, 0
            lock.release()

    # --- saving: internals ----------------------------------------------------------------------------------
    def _wait_s(self) -> float:
        if self.lock_wait_s is None:
            try:
                from core.config import load_settings
                self.lock_wait_s = load_settings().project_lock_wait_s
            except Exception as exc:  # settings are a convenience here; a save must not fail on them
                log.warning("reading project_lock_wait_s: %s", exc)
                self.lock_wait_s = DEFAULT_WAIT_S
        return self.lock_wait_s

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        if not self._locking:
            yield
            return
        lock = ProjectLock(self.folder, WRITE_LOCK, "saved")
        lock.acquire(self._wait_s())
        try:
            yield
        finally:
            lock.release()

    def _write(self, data: bytes) -> None:
        atomic_write_bytes(self.path, data, backup=True)
        self._base, self._base_stat = data, _stat_key(os.stat(self.path))  # under the write lock: ours
        self._writes += 1

    def _disk_changed(self) -> bool:
        try:
            return _stat_key(os.stat(self.path)) != self._base_stat
        except FileNotFoundError:
            return False  # nothing there to merge (new project, or the file was removed)

    def _merge_from_disk(self, adopt: bool = False) -> Optional[MergeReport]:
        """Under the write lock: bring in what another process wrote since our base. Cheap when nobody did.
        `adopt`: nothing is written next, so the file becomes the base (it is merged in now)."""
        if not self._disk_changed():
            return None
        raw, stat = _read_file(self.path)
        if raw == self._base:
            self._base_stat = stat
            return None
        try:
            theirs = parse_project(raw, str(self.path))
        except ProjectFileError as exc:
            # not ours to repair, and our copy is whole: keep theirs aside for the user and write ours
            aside = self.path.with_name(PROJECT_FILE + ".unreadable")
            atomic_write_bytes(aside, raw)
            log.warning("%s; it was kept as %s and this process's copy replaces it", exc, aside.name)
            return None
        base = json.loads(self._base) if self._base else None
        theirs_json = theirs.model_dump_json(indent=1)
        report = merge_into(self.project, base, json.loads(theirs_json))
        self.last_merge = report
        if adopt:
            self._base, self._base_stat = theirs_json.encode("utf-8"), stat
        if report.changed:
            log.info("merged what another process saved into %s: %s", self.path, report)
            if self.on_merge is not None:
                try:
                    self.on_merge(report)
                except Exception:  # a listener's bug must not stop a save
                    log.exception("on_merge listener failed")
        return report

    # --- output files ---------------------------------------------------------------------------------------
    def output_path(self, rel: str) -> Path:
        """Absolute path for a file this app is about to write (a clip, an export), given relative to the folder.
        Symlinks are resolved: a path that lands outside the project folder raises InvalidRequestError."""
        try:
            check_relative_path(rel)
        except ValueError as exc:
            raise InvalidRequestError(f"{exc}; output files are written inside the project folder",
                                      field="output path") from None
        path = (self.folder / rel).resolve()
        if not path.is_relative_to(self.folder):
            raise InvalidRequestError(f"{rel!r} resolves to {path}, outside the project folder {self.folder} (a "
                                      f"link out of the folder is refused); output files stay inside the folder",
                                      field="output path")
        return path

    def check_writable(self, rel_folder: str) -> Path:
        """The folder (inside the project, created if missing) where outputs go; UnavailableError if this process
        cannot write there, InvalidRequestError if it lies outside the project. Check before paying for a render."""
        folder = self.output_path(rel_folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".writable-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise UnavailableError(f"{folder}: this process cannot write there ({exc.strerror or exc}); "
                                   f"outputs of project {self.folder.name} go there") from None
        return folder

    # --- assets ---------------------------------------------------------------------------------------------
    def resolve(self, rel: str) -> Path:
        """Absolute path of a relative asset path; refuses one that leaves the folder (also through a link)."""
        path = (self.folder / rel).resolve()
        if not path.is_relative_to(self.folder):
            raise ProjectFileError(f"{self.path}: asset path {rel!r} points outside the project folder")
        return path

    def maybe_resolve(self, rel: Optional[str]) -> Optional[Path]:
        return self.resolve(rel) if rel else None

    def relative(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.folder).as_posix()

    def import_asset(self, src: Path, kind: str) -> str:
        """Copy a file from anywhere into the project's `kind` folder; returns its relative path. A file already
        inside the project is used where it is."""
        if kind not in SUBDIRS:
            raise ValueError(f"unknown asset folder {kind!r} (allowed: {', '.join(SUBDIRS)})")
        src = Path(src).expanduser().resolve()
        if not src.is_file():
            raise FileNotFoundError(f"{src}: no such file")
        if src.is_relative_to(self.folder):
            return self.relative(src)
        dest_dir = self.folder / kind
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / src.name
        n = 1
        while dest.exists():
            if dest.stat().st_size == src.stat().st_size and _same_bytes(dest, src):
                return self.relative(dest)
            dest = dest_dir / f"{src.stem}_{n}{src.suffix}"
            n += 1
        shutil.copy2(src, dest)
        return self.relative(dest)

    def _check_assets_inside(self) -> None:
        for rel in self.project.asset_paths():
            self.resolve(rel)

    def missing_assets(self) -> list[str]:
        return [rel for rel in self.project.asset_paths() if not self.resolve(rel).exists()]


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return False
            if not ca:
                return True
