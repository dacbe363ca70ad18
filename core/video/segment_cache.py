"""The re-export cache inside the project (exports/.cache/): probed facts and content hashes of clips, rendered
video segments and clip-audio stems, each named by a hash of everything that shapes it. A changed clip, transition
or effect changes the hash, so stale entries are never used; they are pruned oldest-first above a size limit."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Iterable, Optional

from core.atomic import atomic_write_text
from core.video.leftovers import CACHE_DIR, owner_tag
from core.video.media import MediaInfo, probe

__all__ = ["CACHE_DIR", "DEFAULT_MAX_BYTES", "SegmentCache", "file_sha1", "key_of"]

DEFAULT_MAX_BYTES = 4 * 1024**3


def file_sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def key_of(parts: dict) -> str:
    """A stable short hash of a JSON-able description."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class SegmentCache:
    def __init__(self, root: Path, ffmpeg: Optional[str] = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root)
        self.ffmpeg = ffmpeg
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._index_path = self.root / "files.json"
        self._index: Optional[dict] = None

    # --- probed facts and content hashes, refreshed when size or mtime change ---------------------------------
    def _load_index(self) -> dict:
        if self._index is None:
            try:
                self._index = json.loads(self._index_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._index = {}
        return self._index

    def facts(self, path: Path, *, need_probe: bool = True) -> tuple[Optional[MediaInfo], str]:
        """(probe result, content sha1) of a file, from the index when the file is unchanged."""
        path = Path(path).resolve()
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        with self._lock:
            entry = self._load_index().get(str(path))
        if entry and entry.get("stamp") == stamp and (entry.get("info") or not need_probe):
            info = MediaInfo.model_validate(entry["info"]) if entry.get("info") else None
            return info, entry["sha1"]
        info = probe(path, self.ffmpeg) if need_probe else None
        sha = entry["sha1"] if entry and entry.get("stamp") == stamp else file_sha1(path)
        with self._lock:
            self._load_index()[str(path)] = {"stamp": stamp, "sha1": sha,
                                             "info": info.model_dump(mode="json") if info else None}
        return info, sha

    def ffmpeg_major(self) -> int:
        """FFmpeg's major version, remembered per binary (path, size, mtime): a re-export starts no `-version`."""
        from core.video.ffmpeg_runner import ffmpeg_major
        if not self.ffmpeg:
            raise ValueError("the cache was made without an FFmpeg binary")
        try:
            st = os.stat(self.ffmpeg)
            stamp = [st.st_size, st.st_mtime_ns]
        except OSError:
            return ffmpeg_major(self.ffmpeg)
        key = "ffmpeg:" + self.ffmpeg
        with self._lock:
            entry = self._load_index().get(key)
        if entry and entry.get("stamp") == stamp and isinstance(entry.get("major"), int):
            return entry["major"]
        major = ffmpeg_major(self.ffmpeg)
        with self._lock:
            self._load_index()[key] = {"stamp": stamp, "major": major}
        return major

    def header_hash(self, path: Path, vcodec: Optional[str]) -> str:
        """Hash of a clip's H.264/H.265 parameter sets (SPS/PPS/VPS). Clips joined by stream copy must share them:
        the output file carries one set, and strict players fail on clips encoded with other settings."""
        if vcodec not in ("h264", "hevc"):
            return ""
        path = Path(path).resolve()
        with self._lock:
            entry = self._load_index().get(str(path)) or {}
        if "hdr" in entry:
            return entry["hdr"]
        import subprocess
        from core.video.media import ffmpeg_exe
        proc = subprocess.run([self.ffmpeg or ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-map",
                               "0:v:0", "-c", "copy", "-frames:v", "1", "-f", vcodec, "-"], capture_output=True,
                              timeout=60)
        wanted = (7, 8) if vcodec == "h264" else (32, 33, 34)
        sets = [nal for nal in _annexb_units(proc.stdout)
                if nal and ((nal[0] & 0x1F) if vcodec == "h264" else ((nal[0] >> 1) & 0x3F)) in wanted]
        digest = hashlib.sha1(b"".join(sets)).hexdigest() if sets else f"unknown-{path}"
        with self._lock:
            if str(path) in self._load_index():
                self._index[str(path)]["hdr"] = digest
        return digest

    def save_index(self) -> None:
        with self._lock:
            if self._index is not None:
                self.root.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self._index_path, json.dumps(self._index))

    # --- entries ----------------------------------------------------------------------------------------------
    def path(self, key: str, ext: str) -> Path:
        return self.root / f"{key}.{ext}"

    def get(self, key: str, ext: str) -> Optional[Path]:
        p = self.path(key, ext)
        if p.is_file() and p.stat().st_size > 0:
            os.utime(p)  # most recently used: pruned last
            return p
        return None

    def put(self, tmp: Path, key: str, ext: str) -> Path:
        """Move a finished file into the cache (atomic rename: a cancelled render never leaves a half entry)."""
        dest = self.path(key, ext)
        os.replace(tmp, dest)
        return dest

    def work_dir(self) -> Path:
        """A fresh folder for one export's temporary files (removed by the caller; named with this process's id so
        that leftovers.clean_leftovers removes it after a crash, and never while this process runs)."""
        import tempfile
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"work-{owner_tag()}-", dir=self.root))

    def prune(self, keep: Iterable[Path] = (), extra_bytes: int = 0) -> int:
        """Delete least recently used entries above max_bytes; never those in `keep`. Work folders in the cache
        and `extra_bytes` (leftovers elsewhere that a live process still owns) count against the limit too: the
        limit is what the cache folder may take on disk. Returns bytes freed."""
        keep_set = {Path(p).resolve() for p in keep}
        entries, work = [], 0
        for p in self.root.iterdir() if self.root.is_dir() else ():
            try:
                if p.is_dir():
                    work += _tree_size(p)
                elif p.name != "files.json" and "." in p.name:
                    st = p.stat()
                    entries.append((st.st_mtime, st.st_size, p))
            except OSError:  # removed meanwhile (another export of the same project)
                continue
        entries.sort(key=lambda e: e[0])
        total = sum(size for _, size, _ in entries) + work + extra_bytes
        freed = 0
        for _, size, p in entries:
            if total <= self.max_bytes:
                break
            if p.resolve() in keep_set:
                continue
            p.unlink(missing_ok=True)
            total -= size
            freed += size
        return freed


def _tree_size(folder: Path) -> int:
    size = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                size += os.stat(os.path.join(root, f)).st_size
            except OSError:  # removed by its export meanwhile
                pass
    return size


def _annexb_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    units, i, start = [], 0, None
    while i + 3 <= len(data):
        if data[i:i + 3] == b"\x00\x00\x01":
            if start is not None:
                units.append(data[start:i].rstrip(b"\x00"))
            i += 3
            start = i
        else:
            i += 1
    if start is not None:
        units.append(data[start:])
    return units
