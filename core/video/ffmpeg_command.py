"""The pure FFmpeg command builder: export settings + the clips' probed facts -> argument lists and filtergraphs.

Nothing here runs a process or touches a file; the exporter writes each graph to `graph_path` and runs `args`.
Graphs always go through a file (`-/filter_complex FILE` on FFmpeg >= 7, `-filter_complex_script` before): a long
project's graph would pass the Windows command-line limit.

Passes (research §3.7/§3.8): one video pass over the whole timeline that the segment muxer splits at every
transition boundary (the segments are the re-export cache), or single-segment renders on a re-export; one audio pass
(clip audio stem + music); one concat-demuxer join that muxes video and audio with stream copy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from core.video.export import ExportSettings
from core.video.filters import (AUDIO_FORMAT, AUDIO_RATE, chain, fit_filters, literal, music_part_filters, num,
                                path_value, rate)
from core.video.media import MediaInfo
from core.video.timeline import Segment, Timeline

# (preset or speed, crf) per quality; research §3.5
_X264 = {"high": ("slow", 18), "medium": ("veryfast", 21), "low": ("ultrafast", 26)}
_X265 = {"high": ("medium", 22), "medium": ("fast", 25), "low": ("ultrafast", 30)}
_VP9 = {"high": ("good", 2, 28), "medium": ("good", 4, 32), "low": ("realtime", 8, 38)}
_PRORES = {"high": ("prores_ks", 3), "medium": ("prores_aw", 2), "low": ("prores_aw", 0)}
AUDIO_ENCODERS = {"aac": ["-c:a", "aac", "-b:a", "192k"], "mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
                  "opus": ["-c:a", "libopus", "-b:a", "128k"]}
MUXERS = {"mp4": "mp4", "mov": "mov", "avi": "avi", "webm": "webm"}
MARGIN = 0.025  # watermark/text distance from the edge, as a fraction of the frame height


@dataclass
class EffectInputs:
    """Facts about the optional inputs (absolute paths; sizes read by the caller)."""
    fontfile: Optional[str] = None
    lut: Optional[Path] = None
    watermark: Optional[Path] = None
    watermark_size: Optional[tuple[int, int]] = None
    music: Optional[MediaInfo] = None


@dataclass
class FFmpegCommand:
    args: list[str]                  # argv, binary first
    graph: Optional[str] = None      # filtergraph text to write to graph_path before running
    graph_path: Optional[Path] = None
    duration_s: float = 0.0          # output length, for progress
    outputs: list[Path] = field(default_factory=list)


def head(ffmpeg: str) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-y"]


def graph_option(graph_path: Path, ffmpeg_major: int) -> list[str]:
    return ["-/filter_complex" if ffmpeg_major >= 7 else "-filter_complex_script", str(graph_path)]


def pix_fmt_for(vcodec: str) -> str:
    return "yuv422p10le" if vcodec == "prores" else "yuv420p"


def segment_container(vcodec: str) -> str:
    """Container of cached segments: MP4 holds H.264/H.265/VP9, only MOV holds ProRes."""
    return "mov" if vcodec == "prores" else "mp4"


def video_encoder_args(settings: ExportSettings, vcodec: str, fmt: str) -> list[str]:
    q, kbps = settings.quality, settings.bitrate_kbps
    target = ["-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k"] if q == "custom" else []
    if vcodec == "h264":
        preset, crf = _X264["medium" if q == "custom" else q]
        args = ["-c:v", "libx264", "-preset", preset] + (target or ["-crf", str(crf)])
    elif vcodec == "h265":
        preset, crf = _X265["medium" if q == "custom" else q]
        # forced-idr: keyframes forced at segment boundaries must be IDR frames, or the segment muxer cannot cut
        args = ["-c:v", "libx265", "-preset", preset, "-x265-params", "log-level=error", "-forced-idr", "1"]
        args += target or ["-crf", str(crf)]
        if fmt in ("mp4", "mov"):
            args += ["-tag:v", "hvc1"]  # Apple players want hvc1
    elif vcodec == "vp9":
        deadline, cpu, crf = _VP9["medium" if q == "custom" else q]
        args = ["-c:v", "libvpx-vp9", "-deadline", deadline, "-cpu-used", str(cpu), "-row-mt", "1"]
        args += target or ["-crf", str(crf), "-b:v", "0"]
    elif vcodec == "prores":
        encoder, profile = _PRORES[q]
        args = ["-c:v", encoder, "-profile:v", str(profile)]
    else:
        raise ValueError(f"unknown video codec {vcodec!r}")
    return args + ["-pix_fmt", pix_fmt_for(vcodec)]


# --- video graphs ----------------------------------------------------------------------------------------------
def _clip_chain(tl: Timeline, input_index: int, label: str, frames: int, pix_fmt: str = "yuv420p") -> str:
    """Normalise one input to the timeline's size/fps/format and take exactly `frames` frames (tpad clones the
    last frame when a stream is a little shorter than its container says)."""
    filters = fit_filters(tl.width, tl.height, tl.fps, pix_fmt)
    filters += ["tpad=stop_mode=clone:stop=-1", f"trim=end_frame={frames}", "setpts=PTS-STARTPTS", "settb=AVTB"]
    return chain(f"{input_index}:v", filters, label)


def effect_chains(settings: ExportSettings, tl: Timeline, fx: EffectInputs, src: str, out: str, vcodec: str,
                  watermark_input: Optional[int], t0_frames: Optional[int] = None) -> list[str]:
    """LUT, watermark and timed text on `src`; `t0_frames` shifts timestamps so a segment sees timeline time."""
    parts: list[str] = []
    filters: list[str] = []
    margin = max(2, round(tl.height * MARGIN))
    shifted = t0_frames is not None and bool(settings.texts)
    if shifted:
        filters.append(f"setpts=PTS+{num(tl.seconds(t0_frames))}/TB")
    if fx.lut is not None:
        filters += [f"lut3d=file={path_value(fx.lut)}:interp=tetrahedral"]
    cur = src
    if fx.watermark is not None and watermark_input is not None:
        iw, ih = fx.watermark_size or (100, 100)
        ww = max(2, round(tl.width * settings.watermark_scale / 2) * 2)
        wh = max(2, round(ww * ih / iw / 2) * 2)
        parts.append(chain(f"{watermark_input}:v", [f"scale={ww}:{wh}", "format=rgba",
                                                      f"colorchannelmixer=aa={num(settings.watermark_opacity)}"],
                           "wm"))
        x, y = _overlay_xy(settings.watermark_position, margin)
        if filters:
            parts.append(chain(cur, filters, "pre"))
            cur, filters = "pre", []
        parts.append(chain([cur, "wm"], [f"overlay=x={x}:y={y}:format=auto"], "wmout"))
        cur = "wmout"
    for t in settings.texts:
        filters.append(drawtext(t, fx.fontfile, margin, tl.height))
    if shifted:
        filters.append("setpts=PTS-STARTPTS")
    filters.append(f"format={pix_fmt_for(vcodec)}")
    parts.append(chain(cur, filters, out))
    return parts


def _overlay_xy(position: str, m: int) -> tuple[str, str]:
    return {"top-left": (f"{m}", f"{m}"), "top-right": (f"W-w-{m}", f"{m}"), "bottom-left": (f"{m}", f"H-h-{m}"),
            "bottom-right": (f"W-w-{m}", f"H-h-{m}"), "center": ("(W-w)/2", "(H-h)/2")}[position]


def _text_xy(position: str, m: int) -> tuple[str, str]:
    cx, cy = "(w-text_w)/2", "(h-text_h)/2"
    return {"top": (cx, f"{m}"), "center": (cx, cy), "bottom": (cx, f"h-text_h-{m}"), "top-left": (f"{m}", f"{m}"),
            "top-right": (f"w-text_w-{m}", f"{m}"), "bottom-left": (f"{m}", f"h-text_h-{m}"),
            "bottom-right": (f"w-text_w-{m}", f"h-text_h-{m}")}[position]


def drawtext(t, fontfile: Optional[str], margin: int, height: int = 1080) -> str:
    """One timed caption; its size is given for a 1080-line frame and scales with the output height."""
    x, y = _text_xy(t.position, margin)
    size = max(6, round(t.size * height / 1080))
    opts = [f"fontfile={path_value(fontfile)}"] if fontfile else []
    opts += ["expansion=none", f"text={literal(t.text)}", f"fontsize={size}", f"fontcolor={literal(t.color)}",
             f"x={literal(x)}", f"y={literal(y)}"]
    if t.box:
        opts += ["box=1", "boxcolor=black@0.5", f"boxborderw={max(2, size // 5)}"]
    opts.append(f"enable={literal(f'between(t,{num(t.start)},{num(t.end)})')}")
    return "drawtext=" + ":".join(opts)


def timeline_video_graph(settings: ExportSettings, tl: Timeline, fx: EffectInputs, vcodec: str,
                         watermark_input: Optional[int]) -> str:
    """The whole timeline, inputs 0..n-1 being the clips: normalise, join (xfade or concat), effects -> [vout]."""
    parts = [_clip_chain(tl, i, f"v{i}", n) for i, n in enumerate(tl.clip_frames)]
    acc, starts = "v0", tl.starts
    for k in range(1, len(tl.clip_frames)):
        cut, out = tl.cut_before(k), f"vj{k}"
        if cut.frames:
            parts.append(chain([acc, f"v{k}"], [f"xfade=transition={cut.xfade}:duration="
                                                f"{num(tl.seconds(cut.frames))}:offset={num(tl.seconds(starts[k]))}"],
                               out))
        else:
            parts.append(chain([acc, f"v{k}"], ["concat=n=2:v=1:a=0"], out))
        acc = out
    parts += effect_chains(settings, tl, fx, acc, "vout", vcodec, watermark_input)
    return ";\n".join(p for p in parts if p) + "\n"


def segment_video_graph(settings: ExportSettings, tl: Timeline, seg: Segment, fx: EffectInputs, vcodec: str,
                        watermark_input: Optional[int]) -> str:
    """One segment alone. Inputs are already seeked to the segment's first source frame: a body has input 0, a
    window has input 0 (the outgoing clip's tail) and input 1 (the incoming clip's head)."""
    if seg.kind == "body":
        parts = [_clip_chain(tl, 0, "s", seg.frames)]
    else:
        cut = tl.cut_before(seg.clip)
        parts = [_clip_chain(tl, 0, "a", seg.frames), _clip_chain(tl, 1, "b", seg.frames),
                 chain(["a", "b"], [f"xfade=transition={cut.xfade}:duration={num(tl.seconds(seg.frames))}:offset=0"],
                       "s")]
    parts += effect_chains(settings, tl, fx, "s", "vout", vcodec, watermark_input, t0_frames=seg.start)
    return ";\n".join(p for p in parts if p) + "\n"


def _effect_inputs(fx: EffectInputs) -> list[str]:
    # image2 would read %d patterns in the file name; pattern_type none takes it literally
    return ["-f", "image2", "-pattern_type", "none", "-i", str(fx.watermark)] if fx.watermark is not None else []


def _seek(tl: Timeline, k: int) -> list[str]:
    """Input seeking to clip k's part (an extension that holds its source footage first); nothing from 0."""
    start = tl.clip_start(k)
    return ["-ss", num(start)] if start else []


def build_timeline_pass(ffmpeg: str, ffmpeg_major: int, settings: ExportSettings, clips: Sequence[MediaInfo],
                        tl: Timeline, fx: EffectInputs, vcodec: str, fmt: str, out_pattern: Path, graph_path: Path,
                        split_frames: Sequence[int]) -> FFmpegCommand:
    """Video-only render of the whole timeline, split by the segment muxer at `split_frames` (keyframes forced
    there) so every segment becomes a cache entry."""
    args = head(ffmpeg)
    for k, c in enumerate(clips):
        args += [*_seek(tl, k), "-an", "-i", str(c.path)]
    args += _effect_inputs(fx)
    wm_index = len(clips) if fx.watermark is not None else None
    graph = timeline_video_graph(settings, tl, fx, vcodec, wm_index)
    args += graph_option(graph_path, ffmpeg_major) + ["-map", "[vout]"]
    args += video_encoder_args(settings, vcodec, fmt)
    if split_frames:
        times = ",".join(num(tl.seconds(f)) for f in split_frames)
        args += ["-force_key_frames", times, "-f", "segment", "-segment_format", segment_container(vcodec),
                 "-segment_frames", ",".join(str(f) for f in split_frames), "-reset_timestamps", "1"]
    else:
        args += ["-f", segment_container(vcodec)]
    args.append(str(out_pattern))
    return FFmpegCommand(args, graph, graph_path, tl.duration)


def build_segment_pass(ffmpeg: str, ffmpeg_major: int, settings: ExportSettings, clips: Sequence[MediaInfo],
                       tl: Timeline, seg: Segment, fx: EffectInputs, vcodec: str, fmt: str, output: Path,
                       graph_path: Path) -> FFmpegCommand:
    """One cached segment: input seeking starts each clip at the segment's first source frame."""
    args = head(ffmpeg)
    if seg.kind == "body":
        args += ["-ss", num(tl.clip_start(seg.clip) + tl.seconds(seg.src_start)), "-an", "-i",
                 str(clips[seg.clip].path)]
    else:
        args += ["-ss", num(tl.clip_start(seg.clip - 1) + tl.seconds(seg.src_start)), "-an", "-i",
                 str(clips[seg.clip - 1].path)]
        args += [*_seek(tl, seg.clip), "-an", "-i", str(clips[seg.clip].path)]
    args += _effect_inputs(fx)
    wm_index = (1 if seg.kind == "body" else 2) if fx.watermark is not None else None
    graph = segment_video_graph(settings, tl, seg, fx, vcodec, wm_index)
    args += graph_option(graph_path, ffmpeg_major) + ["-map", "[vout]"]
    args += video_encoder_args(settings, vcodec, fmt) + ["-f", segment_container(vcodec), str(output)]
    return FFmpegCommand(args, graph, graph_path, tl.seconds(seg.frames), [output])


# --- audio -----------------------------------------------------------------------------------------------------
def stem_graph(tl: Timeline, clips: Sequence[MediaInfo]) -> str:
    """The clips' own audio joined like the video (acrossfade where the video crossfades) -> [stem]. A clip with
    no audio track contributes silence; each clip's audio is forced to its video length so joins stay in sync."""
    parts = []
    for i, (c, n) in enumerate(zip(clips, tl.clip_frames)):
        samples = round(tl.seconds(n) * AUDIO_RATE)
        tail = [AUDIO_FORMAT, "apad", f"atrim=end_sample={samples}", "asetpts=PTS-STARTPTS"]
        if c.has_audio:
            parts.append(chain(f"{i}:a", tail, f"a{i}"))
        else:
            parts.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo," + ",".join(tail) + f"[a{i}]")
    acc = "a0"
    for k in range(1, len(clips)):
        cut, out = tl.cut_before(k), f"aj{k}"
        if cut.frames:
            parts.append(chain([acc, f"a{k}"], [f"acrossfade=d={num(tl.seconds(cut.frames))}:c1=tri:c2=tri"], out))
        else:
            parts.append(chain([acc, f"a{k}"], ["concat=n=2:v=0:a=1"], out))
        acc = out
    parts.append(chain(acc, ["anull"], "stem"))
    return ";\n".join(parts)


def music_has_part(settings: ExportSettings) -> bool:
    """A music start or end is set: the graph trims (and loops) the part, so the input is not -stream_loop'ed."""
    return settings.music_start > 0 or settings.music_end is not None


def mix_graph(settings: ExportSettings, tl: Timeline, stem: Optional[str], music: Optional[str],
              music_duration: float = 0.0) -> str:
    """[stem] (clip audio) and/or [music input] -> [aout] of exactly the timeline's length."""
    total = tl.duration
    samples = round(total * AUDIO_RATE)
    parts = []
    if music is not None:
        part = (music_part_filters(settings.music_start, settings.music_end, music_duration, settings.music_loop,
                                   total) if music_has_part(settings) else [])
        mf = [AUDIO_FORMAT, *part, f"atrim=end_sample={samples}", "asetpts=PTS-STARTPTS",
              f"volume={num(settings.music_volume)}"]
        if settings.music_fade_in > 0:
            mf.append(f"afade=t=in:st=0:d={num(min(settings.music_fade_in, total))}")
        if settings.music_fade_out > 0:
            d = min(settings.music_fade_out, total)
            mf.append(f"afade=t=out:st={num(total - d)}:d={num(d)}")
        parts.append(chain(music, mf, "music"))
    if stem is not None and music is not None:
        if settings.clip_audio == "duck":
            # the clips' audio drives a compressor on the music: music drops while someone speaks
            parts.append(chain(stem, ["asplit=2"], "stem_mix][stem_sc"))
            parts.append(chain(["music", "stem_sc"], ["sidechaincompress=threshold=0.02:ratio=8:attack=20:"
                                                       "release=400:makeup=1"], "ducked"))
            parts.append(chain(["stem_mix", "ducked"], ["amix=inputs=2:duration=first:dropout_transition=0:"
                                                        "normalize=0", "alimiter=limit=0.95"], "aout"))
        else:
            parts.append(chain([stem, "music"], ["amix=inputs=2:duration=first:dropout_transition=0:normalize=0",
                                                 "alimiter=limit=0.95"], "aout"))
    elif music is not None:
        parts.append(chain("music", ["apad", f"atrim=end_sample={samples}"], "aout"))
    elif stem is not None:
        parts.append(chain(stem, ["anull"], "aout"))
    return ";\n".join(parts) + "\n"


@dataclass
class MuxTarget:
    """Write the final file directly: the audio pass also copies the video from a concat list (used when no video
    needs rendering, e.g. a music-only change: one process instead of mix + join)."""
    list_path: Path
    fmt: str
    vcodec: str
    fps: Optional[Fraction] = None


def build_audio_pass(ffmpeg: str, ffmpeg_major: int, settings: ExportSettings, clips: Sequence[MediaInfo],
                     tl: Timeline, fx: EffectInputs, acodec: str, graph_path: Path, out_audio: Path,
                     stem_in: Optional[Path] = None, stem_out: Optional[Path] = None,
                     mux: Optional[MuxTarget] = None) -> FFmpegCommand:
    """Final audio track (encoded with the export's audio codec, in Matroska so any container can take a copy),
    or with `mux` the finished file. With `stem_in` the clip audio comes from the cached stem; otherwise from the
    clips, saving a stem to `stem_out` for later music-only re-exports. Needs music or clip audio."""
    args = head(ffmpeg)
    parts: list[str] = []
    use_stem = settings.clip_audio != "mute" and any(c.has_audio for c in clips)
    stem_label = None
    outputs = [out_audio]
    if use_stem and stem_in is not None:
        args += ["-i", str(stem_in)]
        stem_label = "0:a"
    elif use_stem:
        for k, c in enumerate(clips):
            args += [*_seek(tl, k), "-vn", "-i", str(c.path)] if c.has_audio else ["-f", "lavfi", "-i", "anullsrc"]
        parts.append(stem_graph(tl, clips))
        stem_label = "stem"
        if stem_out is not None:
            parts.append(chain("stem", ["asplit=2"], "stem_a][stem_b"))
            stem_label = "stem_a"
    music_label = None
    if fx.music is not None:
        music_index = args.count("-i")
        if settings.music_loop and not music_has_part(settings):
            args += ["-stream_loop", "-1"]
        args += ["-vn", "-i", str(fx.music.path)]
        music_label = f"{music_index}:a"
    video_index = args.count("-i")
    if mux is not None:
        args += ["-f", "concat", "-safe", "0", "-i", str(mux.list_path)]
    parts.append(mix_graph(settings, tl, stem_label, music_label, fx.music.duration if fx.music else 0.0))
    graph = ";\n".join(p.rstrip("\n") for p in parts) + "\n"
    args += graph_option(graph_path, ffmpeg_major)
    if mux is not None:
        args += ["-map", f"{video_index}:v:0", "-map", "[aout]", "-c:v", "copy"] + AUDIO_ENCODERS[acodec]
        args += container_args(mux.fmt, mux.vcodec, mux.fps) + ["-t", num(tl.duration), "-f", MUXERS[mux.fmt],
                                                                  str(out_audio)]
    else:
        args += ["-map", "[aout]"] + AUDIO_ENCODERS[acodec] + ["-f", "matroska", str(out_audio)]
    if stem_out is not None and stem_label == "stem_a":
        args += ["-map", "[stem_b]", "-c:a", "pcm_s16le", "-f", "wav", str(stem_out)]
        outputs.append(stem_out)
    return FFmpegCommand(args, graph, graph_path, tl.duration, outputs)


def has_audio_output(settings: ExportSettings, clips: Sequence[MediaInfo], music: Optional[MediaInfo]) -> bool:
    return music is not None or (settings.clip_audio != "mute" and any(c.has_audio for c in clips))


# --- joining ---------------------------------------------------------------------------------------------------
def concat_list(paths: Sequence[Path]) -> str:
    """A concat-demuxer list; a quote in a path is written as '\\'' like in a shell."""
    return "".join("file '" + str(Path(p).as_posix()).replace("'", "'\\''") + "'\n" for p in paths)


def container_args(fmt: str, vcodec: str, fps: Optional[Fraction]) -> list[str]:
    """Options for the final file when the video is stream-copied into it."""
    args = []
    if vcodec == "h265" and fmt in ("mp4", "mov"):
        args += ["-tag:v", "hvc1"]
    if fmt in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]
    if fmt == "avi" and fps:  # AVI takes its frame rate from the stream timebase, which concat leaves fine-grained
        args += ["-r", rate(fps)]
    return args


def build_join(ffmpeg: str, list_path: Path, audio: Optional[Path], output: Path, fmt: str, vcodec: str,
               duration_s: Optional[float], copy_audio_from_list: bool = False,
               fps: Optional[Fraction] = None) -> FFmpegCommand:
    """Join video segments (or compatible clips) by stream copy and mux the audio track; nothing is re-encoded."""
    args = head(ffmpeg) + ["-f", "concat", "-safe", "0", "-i", str(list_path)]
    if audio is not None:
        args += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    elif copy_audio_from_list:
        args += ["-map", "0:v:0", "-map", "0:a:0"]
    else:
        args += ["-map", "0:v:0"]
    args += ["-c", "copy"] + container_args(fmt, vcodec, fps)
    if duration_s:  # segments: cut the audio to the video's exact length
        args += ["-t", num(duration_s)]
    args += ["-f", MUXERS[fmt], str(output)]
    return FFmpegCommand(args, None, None, duration_s or 0.0, [output])
