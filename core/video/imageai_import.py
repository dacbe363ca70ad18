"""Bring an ImageAI video project (`imageai.video_project.v1`, its `project.iaproj.json`) into a new project folder.

ImageAI stores absolute paths, often from another machine or OS (`G:\\Downloads\\...`). Each file is looked up at
its path, then beside the source file, then by name in the search folders; what is found is copied in, what is not
stays a missing asset at the relative path it would have had (images/NAME), recorded in imported/report.json so that
`relink` can fill it later. The source file is only read; a copy is kept as imported/source.json.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterable, Optional

from core.errors import ProjectFileError
from core.video.ids import ASPECT_RATIOS, RESOLUTIONS
from core.video.project import MAX_REFERENCE_IMAGES, ReferenceImage, Scene, Take, now
from core.video.project_io import ProjectStore
from core.video.render_settings import normalize_resolution

SCHEMA = "imageai.video_project.v1"
IMAGEAI_FILE = "project.iaproj.json"
IMPORT_DIR = "imported"
SOURCE_COPY = f"{IMPORT_DIR}/source.json"
REPORT_FILE = f"{IMPORT_DIR}/report.json"
MAX_SOURCE_BYTES = 64 * 1024 * 1024
# ImageAI's video providers (ids and the display labels its files hold) -> this app's provider
_PROVIDERS = {"veo": "veo", "gemini veo": "veo", "google veo": "veo", "veo3": "veo", "veo 3.1": "veo",
              "slideshow": "animatic", "ffmpeg slideshow": "animatic", "ffmpeg": "animatic"}
_VEO_MODELS = ("veo-3.1-generate-001", "veo-3.1-fast-generate-001", "veo-3.1-generate-preview",
               "veo-3.1-fast-generate-preview")


@dataclass
class Asset:
    """One file the ImageAI project named: where it was, where it lives (or would live) in the new project."""
    role: str          # "scene 2 start frame", "music", ...
    original: str      # the path as the ImageAI file wrote it
    rel: str           # relative path in the new project
    found: Optional[str] = None  # where it was found (None: missing)


@dataclass
class ImportReport:
    project: str
    name: str
    scenes: int
    copied: list[Asset] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)
    #: images of a scene that were not its chosen one (not copied; the chosen one is the start frame)
    other_images: list[dict] = field(default_factory=list)
    #: what the ImageAI file held that this app has no place for
    not_mapped: list[str] = field(default_factory=list)
    #: a missing music file is not set in the export settings until `relink` finds it
    music_pending: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)


# --- reading the source ---------------------------------------------------------------------------------------
def read_imageai(path: Path) -> dict:
    """The ImageAI project document, or ProjectFileError (exit 2) saying what the file is instead."""
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(f"{path}: no such file (give the ImageAI project file, project.iaproj.json)")
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ProjectFileError(f"{path}: {path.stat().st_size} bytes, too large to be an ImageAI project file")
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ProjectFileError(f"{path}: not text (binary data), not an ImageAI video project "
                               f"(expected JSON with \"schema\": \"{SCHEMA}\")") from None
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ProjectFileError(f"{path}: not JSON{where}, so not an ImageAI video project "
                               f"(expected JSON with \"schema\": \"{SCHEMA}\")") from None
    if not isinstance(doc, dict):
        raise ProjectFileError(f"{path}: JSON {type(doc).__name__}, not an ImageAI video project (expected an "
                               f"object with \"schema\": \"{SCHEMA}\")")
    schema = doc.get("schema")
    if schema == SCHEMA or (schema is None and _looks_like_v1(doc)):
        if not isinstance(doc.get("scenes", []), list):
            raise ProjectFileError(f"{path}: field 'scenes' is {type(doc['scenes']).__name__}, expected a list")
        return doc
    if isinstance(schema, str) and schema.startswith("imageai."):
        raise ProjectFileError(f"{path}: ImageAI schema {schema!r}, which this import does not read "
                               f"(allowed: {SCHEMA})")
    if "schema_version" in doc and "scenes" in doc:
        raise ProjectFileError(f"{path}: a project file of this app (schema_version {doc['schema_version']}), not "
                               f"an ImageAI one; open its folder directly, no import needed")
    keys = ", ".join(list(doc)[:6]) or "none"
    raise ProjectFileError(f"{path}: JSON but not an ImageAI video project (keys: {keys}; expected \"schema\": "
                           f"\"{SCHEMA}\")")


def _looks_like_v1(doc: dict) -> bool:
    # ImageAI never checked its schema string: an early file may lack it but has its scene shape
    scenes = doc.get("scenes")
    return isinstance(scenes, list) and bool(scenes) and all(
        isinstance(s, dict) and "duration_sec" in s for s in scenes)


# --- finding files --------------------------------------------------------------------------------------------
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_windows_path(original: str) -> bool:
    return "\\" in original or bool(_DRIVE.match(original))


def file_name(original: str) -> str:
    """The file name of a path from any OS (backslashes and drive letters included)."""
    return (PureWindowsPath if is_windows_path(original) else PurePosixPath)(original).name


def _tail(original: str) -> list[str]:
    p = (PureWindowsPath if is_windows_path(original) else PurePosixPath)(original)
    return [part for part in p.parts if part not in (p.anchor, "")]


class Finder:
    """Looks a file up at its own path, then beside the source file, then by name in the search folders."""

    def __init__(self, beside: Optional[Path], search: Iterable[Path], exclude: Optional[Path] = None):
        self.beside = beside
        self.search = [Path(s).expanduser() for s in search]
        # the project being filled: a file already in it is never "found" for another of its paths
        self.exclude = Path(exclude).resolve() if exclude else None
        self._index: Optional[dict[str, str]] = None

    def find(self, original: str) -> Optional[Path]:
        name = file_name(original)
        if not name:
            return None
        foreign = is_windows_path(original) and os.sep != "\\"  # a Windows path read on Linux or macOS
        own = Path(original).expanduser()
        if not foreign and own.is_absolute() and own.is_file():
            return own
        if self.beside is not None:
            tail = _tail(original)
            # beside the source: a relative path, the file's own folder name + name (images/x.png), the bare name
            for cand in (self.beside / original if not foreign and not own.is_absolute() else None,
                         self.beside.joinpath(*tail[-2:]) if len(tail) >= 2 else None, self.beside / name):
                if cand is not None and cand.is_file():
                    return cand
        hit = self._by_name().get(name)
        return Path(hit) if hit else None

    def _by_name(self) -> dict[str, str]:
        if self._index is None:  # one walk of each search folder, first (sorted) match per name wins
            self._index = {}
            for root in self.search:
                for folder, dirs, files in os.walk(root):
                    if self.exclude and self.exclude.parts == Path(folder).resolve().parts[:len(self.exclude.parts)]:
                        dirs.clear()
                        continue
                    dirs.sort()
                    for f in sorted(files):
                        self._index.setdefault(f, os.path.join(folder, f))  # str: a Path per file costs
        return self._index


# --- the import -----------------------------------------------------------------------------------------------
class _Importer:
    def __init__(self, store: ProjectStore, finder: Finder, report: ImportReport):
        self.store, self.finder, self.report = store, finder, report
        self._taken: set[str] = set()  # relative paths given out, found or missing
        self._seen: dict[tuple[str, str], str] = {}  # (kind, original) -> rel: a file named twice is copied once

    def asset(self, original: Any, kind: str, role: str) -> Optional[str]:
        if not isinstance(original, str) or not original.strip():
            return None
        original = original.strip()
        if (kind, original) in self._seen:
            return self._seen[(kind, original)]
        found = self.finder.find(original)
        rel = self._free_rel(kind, found.name if found is not None else file_name(original) or "missing")
        if found is not None:
            dest = self.store.output_path(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, dest)
            self.report.copied.append(Asset(role, original, rel, str(found)))
        else:
            self.report.missing.append(Asset(role, original, rel))
        self._seen[(kind, original)] = rel
        return rel

    def _free_rel(self, kind: str, name: str) -> str:
        # a missing file keeps its name free too, so that relink can put it exactly where the project expects it
        stem, suffix = os.path.splitext(name)
        rel, n = f"{kind}/{name}", 1
        while rel in self._taken or (self.store.folder / rel).exists():
            rel, n = f"{kind}/{stem}_{n}{suffix}", n + 1
        self._taken.add(rel)
        return rel


def import_imageai(source: Path, folder: Path, search: Iterable[Path] = ()) -> ImportReport:
    """Create the project `folder` from the ImageAI file `source`. Files not found are listed in the report and
    kept as missing assets. ProjectFileError if `source` is not an ImageAI project or `folder` holds a project."""
    source = Path(source)
    if source.is_dir() and (source / IMAGEAI_FILE).is_file():  # the ImageAI project folder itself
        source = source / IMAGEAI_FILE
    doc = read_imageai(source)
    name = str(doc.get("name") or source.stem)[:500]
    store = ProjectStore.create(Path(folder), name)
    report = ImportReport(project=str(store.folder), name=name, scenes=0)
    imp = _Importer(store, Finder(source.resolve().parent, search), report)
    project = store.project
    _map_style(doc, project.render, report)
    _map_provider(doc, project.render, report)
    for ref in _dicts(doc.get("global_reference_images"))[:MAX_REFERENCE_IMAGES]:
        rel = imp.asset(ref.get("path"), "references", "project reference")
        if rel:
            project.reference_images.append(ReferenceImage(path=rel, label=_ref_label(ref)))
    if len(_dicts(doc.get("global_reference_images"))) > MAX_REFERENCE_IMAGES:
        report.not_mapped.append(f"project references beyond the first {MAX_REFERENCE_IMAGES}")
    scenes = sorted(enumerate(_dicts(doc.get("scenes"))), key=lambda p: (_num(p[1].get("order"), p[0]), p[0]))
    for number, (_, raw) in enumerate(scenes, start=1):
        project.scenes.append(_scene(raw, number, imp, doc))
    report.scenes = len(project.scenes)
    _map_audio(doc, imp, store, report)
    _note_unmapped(doc, report)
    store.save()
    (store.folder / IMPORT_DIR).mkdir(exist_ok=True)
    shutil.copyfile(source, store.folder / SOURCE_COPY)  # for reference; the source itself is only read
    write_report(store.folder, report)
    return report


def _scene(raw: dict, number: int, imp: _Importer, doc: dict) -> Scene:
    video_model = _video_model(doc)
    source_text = str(raw.get("source") or "").strip()
    prompt = str(raw.get("video_prompt") or raw.get("prompt") or "")
    duration = _num(raw.get("duration_sec"), 8.0)  # ImageAI's default scene length
    if not 0 < duration <= 600:
        imp.report.not_mapped.append(f"scene {number} length {duration:g} s (allowed: more than 0 and at most "
                                     f"600 s; set to {min(max(duration, 0.1), 600.0):g} s)")
    scene = Scene(title=f"lyric: {source_text}"[:20_000] if source_text else "", prompt=prompt[:20_000],
                  duration=min(max(duration, 0.1), 600.0),
                  use_global_references=bool(raw.get("use_global_references", True)))
    images = [i for i in _dicts(raw.get("images")) if isinstance(i.get("path"), str)]
    chosen = raw.get("approved_image") or (images[0]["path"] if images else None) or raw.get("first_frame")
    scene.start_frame = imp.asset(chosen, "images", f"scene {number} start frame")
    others = [i["path"] for i in images if i["path"] != chosen]
    if others:
        imp.report.other_images.append({"scene": number, "images": others})
    scene.end_frame = imp.asset(raw.get("end_frame"), "images", f"scene {number} end frame")
    for ref in _dicts(raw.get("reference_images"))[:MAX_REFERENCE_IMAGES]:
        rel = imp.asset(ref.get("path"), "references", f"scene {number} reference")
        if rel:
            scene.reference_images.append(ReferenceImage(path=rel, label=_ref_label(ref)))
    clip = imp.asset(raw.get("video_clip"), "clips", f"scene {number} clip")
    if clip:
        take = Take(provider="import", model=video_model, status="done", clip_path=clip, finished_at=now(),
                    notes=["imported from ImageAI"])
        scene.takes.append(take)
        scene.selected_take_id = take.id
    return scene


def _map_style(doc: dict, render, report: ImportReport) -> None:
    style = doc.get("style") if isinstance(doc.get("style"), dict) else {}
    pick = lambda key: style.get(key) if style.get(key) not in (None, "") else doc.get(key)  # noqa: E731
    aspect, res, seed, negative = pick("aspect_ratio"), pick("resolution"), pick("seed"), pick("negative_prompt")
    if aspect:
        if aspect in ASPECT_RATIOS:
            render.aspect_ratio = aspect
        else:
            report.not_mapped.append(f"aspect ratio {aspect!r} (allowed here: {', '.join(ASPECT_RATIOS)})")
    if res:
        r = normalize_resolution(str(res).split("x")[-1] + "p" if "x" in str(res) else str(res))
        if r in RESOLUTIONS:
            render.resolution = r
        else:
            report.not_mapped.append(f"resolution {res!r} (allowed here: {', '.join(RESOLUTIONS)})")
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= 2**32 - 1:
        render.seed = seed
    elif seed not in (None, "", -1):
        report.not_mapped.append(f"seed {seed!r} (a whole number 0-{2**32 - 1} is allowed)")
    if isinstance(negative, str) and negative.strip():
        render.negative_prompt = negative[:20_000]
    if style.get("quality"):
        report.not_mapped.append(f"image quality {style['quality']!r} (an image-generation setting)")


def _video_provider(doc: dict) -> tuple[Optional[str], Optional[str]]:
    prov = doc.get("provider")
    video = prov.get("video") if isinstance(prov, dict) else None
    if isinstance(video, dict):
        return video.get("provider"), video.get("model")
    if isinstance(video, str):
        return video, doc.get("video_model")
    return doc.get("video_provider"), doc.get("video_model")


def _video_model(doc: dict) -> Optional[str]:
    provider, model = _video_provider(doc)
    return model if isinstance(model, str) and model else None


def _map_provider(doc: dict, render, report: ImportReport) -> None:
    provider, model = _video_provider(doc)
    if not provider:
        return
    ours = _PROVIDERS.get(str(provider).strip().lower())
    if ours is None:
        report.not_mapped.append(f"video provider {provider!r}: no match here (veo and the slideshow map; the "
                                 f"project uses the app's default, animatic)")
        return
    render.provider = ours
    if ours == "veo" and model:
        if model in _VEO_MODELS:
            render.model = model
        else:
            report.not_mapped.append(f"Veo model {model!r}: not one this app offers (Veo's default is used)")


def _map_audio(doc: dict, imp: _Importer, store: ProjectStore, report: ImportReport) -> None:
    audio = doc.get("audio") if isinstance(doc.get("audio"), dict) else {}
    tracks = _dicts(audio.get("tracks") if audio else doc.get("audio_tracks"))
    music = [t for t in tracks if str(t.get("track_type", "music")).lower() == "music"]
    for t in tracks:
        if t not in music[:1]:
            report.not_mapped.append(f"{t.get('track_type', 'audio')} track {file_name(str(t.get('file_path')))} "
                                     f"(the export mixes one music track)")
    if not music:
        return
    track = music[0]
    export = store.project.export
    export.music_volume = min(max(_num(track.get("volume"), 1.0), 0.0), 4.0)
    export.music_fade_in = min(max(_num(track.get("fade_in", track.get("fade_in_duration")), 0.0), 0.0), 60.0)
    export.music_fade_out = min(max(_num(track.get("fade_out", track.get("fade_out_duration")), 0.0), 0.0), 60.0)
    # ImageAI's offsets are positions in the music file; 0 is its start (end_offset 0: play to the file's end)
    start, end = max(_num(track.get("start_offset"), 0.0), 0.0), _num(track.get("end_offset"), 0.0)
    export.music_start = start
    if end > start:
        export.music_end = end
    elif end > 0:
        report.not_mapped.append(f"music end_offset {end:g} s: not after its start_offset {start:g} s (the export "
                                 f"plays the music to the file's end)")
    before = len(report.missing)
    rel = imp.asset(track.get("file_path"), "references", "music")
    if rel and len(report.missing) == before:
        export.music_path = rel
    elif rel:
        report.music_pending = rel  # an export with a missing music file would fail: set once relinked


def _note_unmapped(doc: dict, report: ImportReport) -> None:
    gen = doc.get("generation") if isinstance(doc.get("generation"), dict) else {}
    for key in ("ken_burns", "transitions", "captions"):
        if gen.get(key):
            report.not_mapped.append(f"generation.{key} (choose it in the export settings)")
    for key in ("midi", "whisper", "karaoke", "suno_package", "veo_batches"):
        if doc.get(key):
            report.not_mapped.append(f"{key} data (no place for it here; kept in {SOURCE_COPY})")


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _num(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def _ref_label(ref: dict) -> str:
    return str(ref.get("name") or ref.get("ref_type") or ref.get("label") or "")[:200]


# --- the report file and relinking ----------------------------------------------------------------------------
def write_report(folder: Path, report: ImportReport) -> None:
    from core.atomic import atomic_write_bytes
    atomic_write_bytes(Path(folder) / REPORT_FILE, json.dumps(report.to_dict(), indent=1).encode("utf-8"))


def read_report(folder: Path) -> Optional[ImportReport]:
    path = Path(folder) / REPORT_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("copied", "missing"):
            data[key] = [Asset(**a) for a in data.get(key, [])]
        return ImportReport(**data)
    except (ValueError, TypeError) as exc:
        raise ProjectFileError(f"{path}: not an import report this app wrote ({exc})") from None


@dataclass
class RelinkReport:
    project: str
    relinked: list[Asset] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def relink(folder: Path, search: Iterable[Path]) -> RelinkReport:
    """Find the project's missing assets by name in the search folders and copy each to the path the project
    expects. Uses the import report's original names where there is one (a missing music file is set in the
    export settings once found)."""
    store = ProjectStore.open(Path(folder))
    imported = read_report(store.folder)
    known = {a.rel: a for a in imported.missing} if imported else {}
    wanted = list(dict.fromkeys(store.missing_assets() + ([imported.music_pending]
                                                          if imported and imported.music_pending else [])))
    finder = Finder(None, search, exclude=store.folder)
    out = RelinkReport(project=str(store.folder))
    for rel in wanted:
        asset = known.get(rel) or Asset("asset", rel, rel)
        found = finder.find(file_name(asset.original)) or finder.find(PurePosixPath(rel).name)
        if found is None:
            out.missing.append(asset)
            continue
        dest = store.output_path(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(found, dest)
        out.relinked.append(Asset(asset.role, asset.original, rel, str(found)))
    if imported:
        done = {a.rel for a in out.relinked}
        if imported.music_pending in done:
            store.project.export.music_path = imported.music_pending
            imported.music_pending = None
            store.save()
        imported.copied += out.relinked
        imported.missing = [a for a in imported.missing if a.rel not in done]
        write_report(store.folder, imported)
    return out
