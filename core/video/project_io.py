"""Project folders on disk: `project.json` plus clips/, images/, references/, exports/.

Saves are atomic and keep `project.json.bak`. A file that fails to load raises ProjectFileError naming the file and
the field, and is never modified. Asset paths are relative and must stay inside the folder.
"""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from core.atomic import atomic_write_bytes
from core.errors import ProjectFileError
from core.video.migrations import migrate
from core.video.project import SCHEMA_VERSION, VideoProject, now

PROJECT_FILE = "project.json"
SUBDIRS = ("clips", "images", "references", "exports")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a project file this big is not one we wrote


def _field_of(error: dict) -> str:
    return ".".join(str(p) for p in error.get("loc", ())) or "(top level)"


def parse_project(raw: bytes, label: str) -> VideoProject:
    """Bytes of a project file -> VideoProject, or ProjectFileError naming the file and the field."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
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


class ProjectStore:
    """A project and its folder. Thread-safe save; everything that touches the folder goes through here."""

    def __init__(self, folder: Path, project: VideoProject):
        self.folder = Path(folder).resolve()
        self.project = project
        self._lock = threading.RLock()

    # --- opening and creating -------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: Path, name: Optional[str] = None) -> "ProjectStore":
        folder = Path(folder)
        if (folder / PROJECT_FILE).exists():
            raise ProjectFileError(f"{folder / PROJECT_FILE}: a project already exists here")
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, VideoProject(name=name or folder.resolve().name))
        store.ensure_folders()
        store.save()
        return store

    @classmethod
    def open(cls, folder: Path) -> "ProjectStore":
        folder = Path(folder)
        path = folder / PROJECT_FILE if folder.is_dir() or not folder.suffix else folder
        if path.name != PROJECT_FILE:
            folder = path.parent
        else:
            folder = path.parent
        if not path.exists():
            raise ProjectFileError(f"{path}: no project here (expected a folder holding {PROJECT_FILE})")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectFileError(f"{path}: file is {size} bytes, more than a project file can be "
                                   f"({MAX_FILE_BYTES} bytes)")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ProjectFileError(f"{path}: cannot be read ({exc.strerror})") from None
        store = cls(folder, parse_project(raw, str(path)))
        store._check_assets_inside()
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
            return self.project.model_dump_json(indent=1).encode("utf-8")

    def save(self) -> None:
        with self._lock:
            data = self.snapshot()
            self.ensure_folders()
            atomic_write_bytes(self.path, data, backup=True)

    def write_snapshot(self, data: bytes) -> None:
        """Write bytes from snapshot(): autosave takes the snapshot on its thread and writes on a worker."""
        with self._lock:
            atomic_write_bytes(self.path, data, backup=True)

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
            self.save()
        return self

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
