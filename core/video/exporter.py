"""Export a project to one video file with FFmpeg (synchronous: the GUI calls it on a worker thread).

Plan (research §5): hard cuts of clips that already match the output are joined by stream copy. Otherwise the
video is rendered as segments (clip bodies and transition windows, cached by content hash): all at once by one
FFmpeg pass that the segment muxer splits, or, on a re-export, only the segments whose inputs changed. The audio
(clip audio stem + music) is a separate cheap pass, so a music change reuses every video segment. The result is
written to a temp name beside the output and renamed at the end: a cancel or failure never leaves a partial file.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, Field

from core.config import load_settings
from core.errors import CancelledError, InvalidRequestError, invalid_requests
from core.video import ffmpeg_command as fc
from core.video.export import ExportSettings, music_problems
from core.video.ffmpeg_runner import ExportFailed, run_ffmpeg
from core.video.leftovers import clean_leftovers, partial_path
from core.video.media import MediaInfo, ffmpeg_exe
from core.video.project_io import ProjectStore
from core.video.segment_cache import CACHE_DIR, SegmentCache, key_of
from core.video.lut import check_lut
from core.video.timeline import Timeline, plan_timeline

log = logging.getLogger(__name__)

__all__ = ["ExportProgress", "ExportResult", "export_project", "ExportFailed"]

_FFMPEG_CODEC_NAMES = {"h264": "h264", "h265": "hevc", "vp9": "vp9", "prores": "prores"}
_FFMPEG_AUDIO_NAMES = {"aac": "aac", "mp3": "mp3", "opus": "opus"}
_FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
                    "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
                    "/Library/Fonts/Arial Unicode.ttf", "/System/Library/Fonts/Supplemental/Arial.ttf",
                    "C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/segoeui.ttf")


class ExportProgress(BaseModel):
    fraction: float = Field(0.0, ge=0.0, le=1.0)
    eta_s: Optional[float] = None
    stage: str = "prepare"
    message: str = ""


class ExportResult(BaseModel):
    output_path: Path
    duration: float
    size_bytes: int
    elapsed_s: float
    reused: list[str] = Field(default_factory=list)
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_codec: str = ""
    audio_codec: Optional[str] = None
    mode: str = ""  # "stream-copy" or "segments"


def find_font() -> Optional[str]:
    """A TTF for drawtext: a font beside the app (assets/fonts) first, then common system fonts; None lets
    FFmpeg's fontconfig choose."""
    here = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "DejaVuSans.ttf"
    for candidate in (str(here),) + _FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    return None


def default_output(store: ProjectStore, fmt: str) -> Path:
    name = re.sub(r"[^\w.-]+", "_", store.project.name).strip("._") or "export"
    return store.folder / "exports" / f"{name}.{fmt}"


def _asset(store: ProjectStore, value: Optional[str], field: str) -> Optional[Path]:
    """A project-relative asset path that must exist."""
    if not value:
        return None
    p = store.resolve(value)
    if not p.is_file():
        raise InvalidRequestError(f"{p}: no such file", field=field)
    return p


class _Progress:
    """Weighted progress over named parts (video, audio, mux) that may run at the same time, with an ETA from the
    elapsed time. Thread-safe: the audio pass reports from its own thread."""

    def __init__(self, callback: Optional[Callable[[ExportProgress], None]]):
        self.callback = callback
        self.start = time.monotonic()
        self.parts: dict[str, list[float]] = {}  # name -> [weight, fraction]
        self._lock = threading.Lock()

    def plan(self, weights: dict[str, float]) -> None:
        self.parts = {name: [w, 0.0] for name, w in weights.items() if w > 0}

    def update(self, part: str, frac: float, stage: str, message: str) -> None:
        with self._lock:
            if part in self.parts:
                self.parts[part][1] = max(self.parts[part][1], min(1.0, frac))
            total = sum(w for w, _ in self.parts.values()) or 1.0
            overall = sum(w * f for w, f in self.parts.values()) / total
        self.emit(stage, message, overall)

    def emit(self, stage: str, message: str, frac: float = 0.0) -> None:
        if self.callback is None:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed * (1 - frac) / frac if frac > 0.02 else None
        self.callback(ExportProgress(fraction=min(1.0, frac), eta_s=eta, stage=stage, message=message))

    def runner(self, part: str, stage: str, message: str, offset: float = 0.0, scale: float = 1.0):
        """A run_ffmpeg callback covering [offset, offset + scale] of `part`."""
        def on(frac: float, _speed: Optional[float]) -> None:
            self.update(part, offset + frac * scale, stage, message)
        return on


def _selected_clips(store: ProjectStore) -> list[Path]:
    paths, missing = [], []
    for i, scene in enumerate(store.project.scenes, start=1):
        take = scene.selected_take
        if take is None or take.status != "done" or not take.clip_path:
            missing.append(i)
            continue
        paths.append(store.resolve(take.clip_path))
    if not store.project.scenes:
        raise InvalidRequestError("the project has no scenes to export", field="scenes")
    if missing:
        raise InvalidRequestError("no finished clip is selected for scene(s) " + ", ".join(map(str, missing)),
                                  field="scenes")
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise InvalidRequestError("clip file(s) missing: " + ", ".join(absent), field="scenes")
    return paths


def _stream_copy_ok(settings: ExportSettings, tl: Timeline, clips: list[MediaInfo], vcodec: str,
                    fx: fc.EffectInputs, cache: SegmentCache) -> bool:
    """True when the clips can be joined without decoding: hard cuts only, no video effects, and every clip
    already has the output's codec, size, frame rate, pixel format and the same encoder parameter sets."""
    if tl.has_transitions or fx.lut or fx.watermark or settings.texts or settings.quality == "custom":
        return False
    want = _FFMPEG_CODEC_NAMES[vcodec]
    for c in clips:
        if (c.vcodec != want or (c.width, c.height) != (tl.width, tl.height) or abs(c.fps - float(tl.fps)) > 0.01
                or c.pix_fmt != fc.pix_fmt_for(vcodec)):
            return False
    return len({cache.header_hash(c.path, c.vcodec) for c in clips}) == 1


def _audio_copy_ok(settings: ExportSettings, clips: list[MediaInfo], acodec: str, music) -> bool:
    first = clips[0]
    return (music is None and settings.clip_audio == "keep" and all(c.has_audio for c in clips)
            and all((c.acodec, c.sample_rate, c.channels_layout) == (first.acodec, first.sample_rate,
                                                                    first.channels_layout) for c in clips)
            and first.acodec == _FFMPEG_AUDIO_NAMES[acodec])


def export_project(store: ProjectStore, settings: Optional[ExportSettings] = None, *,
                   progress: Optional[Callable[[ExportProgress], None]] = None,
                   cancel: Optional[threading.Event] = None, output: Optional[Path] = None) -> ExportResult:
    """`output`: a destination for this run only (anywhere the user chose); else the settings' relative path or
    the project's exports/ folder."""
    settings = settings or store.project.export
    fmt, vcodec, acodec = settings.resolved()
    paths = _selected_clips(store)
    music_path = _asset(store, settings.music_path, "music")
    lut_path = _asset(store, settings.lut_path, "lut")
    wm_path = _asset(store, settings.watermark_path, "watermark")
    ffmpeg = ffmpeg_exe(load_settings().ffmpeg_path)
    prog = _Progress(progress)
    prog.emit("probe", "reading the clips")

    cache = SegmentCache(store.folder / CACHE_DIR, ffmpeg)
    major = cache.ffmpeg_major()
    facts = [cache.facts(p) for p in paths]
    # a clip longer than its scene (a model renders only some lengths) is cut to the scene's length in the edit,
    # from where the scene starts in it (an extension returned with its source footage: after that footage)
    scenes = store.project.scenes
    starts = [s.selected_take.scene_start_s or 0.0 for s in scenes]
    longer = [bool(st) or c.duration > s.duration + 0.5 / (c.fps or 24.0)
              for (c, _), s, st in zip(facts, scenes, starts)]
    clips = [c.model_copy(update={"duration": min(s.duration, c.duration - st) if st else s.duration}) if cut else c
             for (c, _), s, st, cut in zip(facts, scenes, starts, longer)]
    # a segment's cache key names the part of the clip it shows
    hashes = [f"{h}@{st:g}" if st else h for (_, h), st in zip(facts, starts)]
    for i, c in enumerate(clips, start=1):
        if not c.has_video:
            raise InvalidRequestError(f"scene {i}: {c.path.name} holds no video", field="scenes")
    if lut_path:
        check_lut(lut_path)
    fx = fc.EffectInputs(fontfile=find_font() if settings.texts else None, lut=lut_path, watermark=wm_path)
    effect_hash: dict = {"lut": cache.facts(lut_path, need_probe=False)[1] if lut_path else None}
    if wm_path:
        from PIL import Image, UnidentifiedImageError
        try:
            with Image.open(wm_path) as im:
                fx.watermark_size = im.size
        except (UnidentifiedImageError, OSError):
            raise InvalidRequestError(f"{wm_path.name}: not an image (use a PNG, JPEG or WebP)",
                                      field="watermark") from None
        effect_hash["wm"] = [cache.facts(wm_path, need_probe=False)[1], settings.watermark_position,
                             settings.watermark_scale, settings.watermark_opacity]
    if music_path:
        fx.music, _ = cache.facts(music_path)
        if not fx.music.has_audio:
            raise InvalidRequestError(f"{music_path.name}: the file holds no audio", field="music")
        music_bad = music_problems(settings, fx.music.duration)
        if music_bad:
            raise invalid_requests(music_bad)
    transitions = [settings.transition_before(s.id) for s in store.project.scenes[1:]]
    tl = plan_timeline(settings, clips, transitions, starts)

    if output is not None:
        output = Path(output).expanduser().resolve()
    elif settings.output_path:
        output = store.resolve(settings.output_path)
    else:
        output = default_output(store, fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    # what a killed export (or download) left behind goes first; what a live process still uses counts against
    # the cache limit below
    left = clean_leftovers(store.folder, also=[output.parent])
    if left.removed:
        log.info("removed %d leftover(s) of ended processes (%d bytes)", len(left.removed), left.removed_bytes)
    tmp_out = partial_path(output)
    work = cache.work_dir()
    reused: list[str] = []
    used_entries: list[Path] = []
    mode = "segments"
    try:
        copy_video = not any(longer) and _stream_copy_ok(settings, tl, clips, vcodec, fx, cache)
        with_audio = fc.has_audio_output(settings, clips, fx.music)
        copy_audio = copy_video and with_audio and _audio_copy_ok(settings, clips, acodec, fx.music)
        list_path = work / "join.txt"
        if copy_video:
            mode = "stream-copy"
            todo = []
            reused.append(f"stream copy of {len(clips)} clips (no video re-encode)")
            seg_files: list[Path] = []
            video_weight = 0.0
        else:
            seg_files, todo, video_weight = _plan_segments(settings, tl, clips, hashes, effect_hash, fx, vcodec,
                                                           fmt, cache, reused)
        audio_weight = 0.08 * tl.duration if with_audio and not copy_audio else 0.0
        prog.plan({"video": video_weight, "audio": audio_weight, "mux": 0.01 * tl.duration + 0.01})
        if with_audio and not copy_audio and (copy_video or not todo):
            # no video to render: one process mixes the audio and writes the file around the copied video
            _write_video_list(list_path, copy_video, clips, seg_files, used_entries)
            target = fc.MuxTarget(list_path, fmt, vcodec, tl.fps)
            _render_audio(ffmpeg, major, settings, tl, clips, hashes, fx, acodec, cache, work, prog, cancel,
                          reused, used_entries, mux=target, out=tmp_out)
            _replace(tmp_out, output)
            return _finish(store, cache, prog, output, tl, clips, copy_video, reused, used_entries, vcodec, acodec,
                           with_audio, mode, left.kept_bytes_outside_cache())
        # the audio pass is small and mostly single-threaded: run it beside the video pass
        stop = threading.Event()  # set on cancel, or when one side fails so the other stops too
        relay = _relay_cancel(cancel, stop)
        audio_job = None
        errors: list[BaseException] = []
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-audio")
        try:
            if with_audio and not copy_audio:
                audio_job = pool.submit(_stop_on_error, stop, _render_audio, ffmpeg, major, settings, tl, clips,
                                        hashes, fx, acodec, cache, work, prog, stop, reused, used_entries)
            try:
                if not copy_video:
                    _render_segments(ffmpeg, major, settings, tl, clips, fx, vcodec, fmt, cache, work, todo, prog,
                                     stop)
                _write_video_list(list_path, copy_video, clips, seg_files, used_entries)
            except BaseException as exc:
                stop.set()
                errors.append(exc)
            audio_file = None
            if audio_job is not None:
                try:
                    audio_file = audio_job.result()
                except BaseException as exc:
                    errors.append(exc)
        finally:
            pool.shutdown(wait=True)
            relay.set()
        if cancel is not None and cancel.is_set():
            raise CancelledError("export cancelled")
        if errors:  # the failure that stopped the other side, not the cancel it caused
            raise next((e for e in errors if not isinstance(e, CancelledError)), errors[0])
        join = fc.build_join(ffmpeg, list_path, audio_file, tmp_out, fmt, vcodec,
                             None if copy_video else tl.duration, copy_audio_from_list=copy_audio,
                             fps=tl.fps)
        join.duration_s = join.duration_s or sum(c.duration for c in clips)
        run_ffmpeg(join, prog.runner("mux", "mux", "joining"), cancel)
        _replace(tmp_out, output)
    except BaseException:
        tmp_out.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        cache.save_index()
    return _finish(store, cache, prog, output, tl, clips, copy_video, reused, used_entries, vcodec, acodec,
                   with_audio, mode, left.kept_bytes_outside_cache())


def _finish(store, cache, prog, output, tl, clips, copy_video, reused, used_entries, vcodec, acodec, with_audio,
            mode, leftover_bytes: int) -> ExportResult:
    cache.prune(keep=used_entries, extra_bytes=leftover_bytes)
    prog.emit("done", f"exported {output.name}", 1.0)
    duration = sum(c.duration for c in clips) if copy_video else tl.duration
    return ExportResult(output_path=output, duration=duration, size_bytes=output.stat().st_size,
                        elapsed_s=round(time.monotonic() - prog.start, 3), reused=reused, width=tl.width,
                        height=tl.height, fps=float(tl.fps), video_codec=vcodec,
                        audio_codec=acodec if with_audio else None, mode=mode)


def _replace(tmp: Path, output: Path) -> None:
    try:
        os.replace(tmp, output)
    except OSError as exc:  # e.g. Windows: a player holds the old file open
        raise ExportFailed(f"cannot write {output} ({exc.strerror}); close any program using it and export "
                           f"again") from None


def _write_video_list(list_path: Path, copy_video: bool, clips, seg_files, used_entries) -> None:
    list_path.write_text(fc.concat_list([c.path for c in clips] if copy_video else seg_files), encoding="utf-8")
    if not copy_video:
        used_entries += seg_files


def _video_format_key(settings: ExportSettings, tl: Timeline, effect_hash: dict, fx: fc.EffectInputs, vcodec: str,
                      fmt: str, ffmpeg: str) -> dict:
    # the FFmpeg binary is part of the key: segments joined by stream copy must come from the same encoder build
    return {"v": 1, "size": [tl.width, tl.height], "fps": str(tl.fps), "enc": fc.video_encoder_args(settings,
            vcodec, fmt), "fx": effect_hash, "font": fx.fontfile, "ffmpeg": ffmpeg,
            "texts": [t.model_dump() for t in settings.texts]}


def _plan_segments(settings, tl, clips, hashes, effect_hash, fx, vcodec, fmt, cache, reused):
    """Cache path of every segment, the ones to render, and the render weight (output seconds to encode)."""
    base = _video_format_key(settings, tl, effect_hash, fx, vcodec, fmt, cache.ffmpeg)
    ext = fc.segment_container(vcodec)
    files, todo = [], []
    for seg in tl.segments():
        parts = dict(base, kind=seg.kind, frames=seg.frames, src=seg.src_start, clip=hashes[seg.clip],
                     clip_frames=tl.clip_frames[seg.clip])
        if seg.kind == "window":
            parts.update(prev=hashes[seg.clip - 1], prev_frames=tl.clip_frames[seg.clip - 1],
                         xfade=tl.cut_before(seg.clip).xfade)
        if settings.texts:
            parts["start"] = seg.start  # timed text depends on where the segment sits
        key = key_of(parts)
        hit = cache.get(key, ext)
        files.append(cache.path(key, ext))
        if hit is None:
            todo.append((seg, key))
    n_hit = len(files) - len(todo)
    if n_hit:
        reused.append(f"{n_hit} of {len(files)} video segments from the cache")
    weight = sum(tl.seconds(seg.frames) for seg, _ in todo) if len(todo) * 2 <= len(files) else tl.duration
    return files, todo, weight


def _render_segments(ffmpeg, major, settings, tl, clips, fx, vcodec, fmt, cache, work, todo, prog, cancel):
    """Few missing segments: render each alone. Many: one pass over the whole timeline, split into all
    segments (faster than many small runs, and it refreshes the whole cache)."""
    if not todo:
        return
    ext = fc.segment_container(vcodec)
    segs = tl.segments()
    if len(todo) * 2 > len(segs):
        keys = _all_keys(todo, segs)
        # the segment muxer expands % in the whole name: a literal % in the folder must be doubled (a single
        # segment is written by the plain muxer, which takes the name as it is)
        pattern = (Path(str(work).replace("%", "%%")) / f"seg%05d.{ext}" if len(segs) > 1
                   else work / f"seg00000.{ext}")
        split = [s.start for s in segs[1:]]
        cmd = fc.build_timeline_pass(ffmpeg, major, settings, clips, tl, fx, vcodec, fmt, pattern,
                                     work / "video_graph.txt", split)
        run_ffmpeg(cmd, prog.runner("video", "video", f"rendering {len(clips)} clips"), cancel)
        produced = sorted(work.glob(f"seg*.{ext}"))
        if len(produced) == len(segs):
            for f, key in zip(produced, keys):
                if key is not None:
                    cache.put(f, key, ext)
            return
        # the encoder did not cut where asked (no keyframe there): render each segment on its own instead
        log.warning("segment split gave %d files, expected %d; rendering segments one by one",
                    len(produced), len(segs))
        for f in produced:
            f.unlink(missing_ok=True)
    total = sum(tl.seconds(s.frames) for s, _ in todo)
    done = 0.0
    for seg, key in todo:
        weight = tl.seconds(seg.frames)
        tmp = work / f"one.{ext}"
        cmd = fc.build_segment_pass(ffmpeg, major, settings, clips, tl, seg, fx, vcodec, fmt, tmp,
                                    work / "segment_graph.txt")
        what = "transition" if seg.kind == "window" else "clip"
        run_ffmpeg(cmd, prog.runner("video", "video", f"rendering the {what} at scene {seg.clip + 1}",
                                    done / total, weight / total), cancel)
        cache.put(tmp, key, ext)
        done += weight


def _stop_on_error(stop: threading.Event, fn, *args):
    try:
        return fn(*args)
    except BaseException:
        stop.set()
        raise


def _relay_cancel(cancel: Optional[threading.Event], stop: threading.Event) -> threading.Event:
    """Copy a set `cancel` into `stop` until the returned event is set."""
    finished = threading.Event()
    if cancel is None:
        return finished

    def relay() -> None:
        while not finished.wait(0.05):
            if cancel.is_set():
                stop.set()
                return

    threading.Thread(target=relay, daemon=True, name="export-cancel").start()
    return finished


def _all_keys(todo, segs):
    """Key per segment in output order; None for segments already cached (the split pass rewrites them anyway,
    but the cached file is kept)."""
    by_seg = {seg: key for seg, key in todo}
    return [by_seg.get(s) for s in segs]


def _render_audio(ffmpeg, major, settings, tl, clips, hashes, fx, acodec, cache, work, prog, cancel, reused,
                  used_entries, mux: Optional[fc.MuxTarget] = None, out: Optional[Path] = None) -> Path:
    """Final audio track; the clip-audio stem is cached so a music-only change skips decoding the clips."""
    use_stem = settings.clip_audio != "mute" and any(c.has_audio for c in clips)
    stem_key = key_of({"a": 1, "clips": hashes, "audio": [c.has_audio for c in clips], "frames": tl.clip_frames,
                       "cuts": [c.frames for c in tl.cuts], "fps": str(tl.fps)})  # audio ignores the wipe's shape
    stem_in = cache.get(stem_key, "wav") if use_stem else None
    stem_tmp = work / "stem.wav" if use_stem and stem_in is None else None
    if stem_in is not None:
        reused.append("clip audio from the cache")
        used_entries.append(stem_in)
    out = out or work / "audio.mka"
    cmd = fc.build_audio_pass(ffmpeg, major, settings, clips, tl, fx, acodec, work / "audio_graph.txt", out,
                              stem_in=stem_in, stem_out=stem_tmp, mux=mux)
    run_ffmpeg(cmd, prog.runner("audio", "audio", "mixing the audio"), cancel)
    if stem_tmp is not None and stem_tmp.exists():
        used_entries.append(cache.put(stem_tmp, stem_key, "wav"))
    return out
