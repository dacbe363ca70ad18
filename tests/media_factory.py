"""Real media for tests and benches, made with the FFmpeg binary the app uses (no fixtures checked into git).

make_clip: a video of any size/fps/codec with an optional tone; make_tone: an audio file; make_lut: a .cube LUT;
make_image: a PNG (RGBA). Every function returns the path it wrote.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional

from core.video.media import ffmpeg_exe

_VCODEC = {"h264": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "48"],
           "h265": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
           "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"],
           "prores": ["-c:v", "prores_aw"], "mpeg4": ["-c:v", "mpeg4", "-q:v", "5"]}
_ACODEC = {".webm": ["-c:a", "libopus", "-b:a", "96k"], ".mkv": ["-c:a", "libopus", "-b:a", "96k"],
           ".avi": ["-c:a", "libmp3lame", "-b:a", "128k"]}


def _run(args: list[str]) -> None:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr[-2000:]}")


def make_clip(path: Path, width: int = 320, height: int = 180, fps: float = 24, duration: float = 1.0,
              audio: bool = True, color: Optional[str] = None, codec: str = "h264", freq: float = 440.0,
              audio_rate: int = 48000, audio_channels: int = 2, preset: str = "ultrafast") -> Path:
    """A test clip: `color` gives a solid colour (e.g. "red", "0x336699"), None the moving testsrc2 pattern. Odd
    sizes are encoded 4:4:4 (4:2:0 needs even sizes), which also exercises pixel-format normalisation."""
    path = Path(path)
    src = (f"color=c={color}:s={width}x{height}:r={fps}:d={duration}" if color
           else f"testsrc2=size={width}x{height}:rate={fps}:duration={duration}")
    args = ["-f", "lavfi", "-i", src]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={audio_rate}:duration={duration}"]
    odd = width % 2 or height % 2
    pix = "yuv422p10le" if codec == "prores" else ("yuv444p" if odd else "yuv420p")
    vargs = list(_VCODEC[codec])
    if "-preset" in vargs:
        vargs[vargs.index("-preset") + 1] = preset
    args += vargs + ["-pix_fmt", pix]
    if audio:
        args += _ACODEC.get(path.suffix.lower(), ["-c:a", "aac", "-b:a", "128k"]) + ["-ac", str(audio_channels)]
    args += ["-t", str(duration), str(path)]
    _run(args)
    return path


def make_tone(path: Path, seconds: float = 5.0, freq: float = 440.0, volume: float = 0.5,
              sample_rate: int = 44100, noise: float = 0.0) -> Path:
    """A sine tone of peak amplitude `volume` (format from the extension: .wav, .mp3, .m4a, .opus ...). `noise`
    adds pink noise of that amplitude: closer to real music than a bare sine, which is a slow worst case for
    FFmpeg's AAC encoder."""
    path = Path(path)
    # lavfi's sine has a peak of 1/8
    sine = f"sine=frequency={freq}:sample_rate={sample_rate}:duration={seconds}"
    if noise > 0:
        src = ["-f", "lavfi", "-i", sine, "-f", "lavfi", "-i",
               f"anoisesrc=c=pink:a={noise}:r={sample_rate}:d={seconds}", "-filter_complex",
               f"[0:a]volume={volume * 8}[s];[s][1:a]amix=inputs=2:normalize=0"]
    else:
        src = ["-f", "lavfi", "-i", sine, "-af", f"volume={volume * 8}"]
    _run(src + ["-ac", "2", str(path)])
    return path


def make_lut(path: Path, kind: str = "invert", size: int = 17) -> Path:
    """A .cube 3D LUT: "invert" maps each colour to 1 - colour, "identity" leaves it."""
    lines = ["TITLE \"test\"", f"LUT_3D_SIZE {size}"]
    step = 1.0 / (size - 1)
    for b in range(size):          # red changes fastest
        for g in range(size):
            for r in range(size):
                rgb = (r * step, g * step, b * step)
                if kind == "invert":
                    rgb = tuple(1.0 - v for v in rgb)
                lines.append(" ".join(f"{v:.6f}" for v in rgb))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def make_image(path: Path, width: int = 64, height: int = 32, color: tuple = (255, 0, 0, 255)) -> Path:
    from PIL import Image
    Image.new("RGBA", (width, height), color).save(path)
    return Path(path)


def frame_rgb(video: Path, seconds: float, width: Optional[int] = None):
    """The frame at `seconds` as a Pillow RGB image (decoded by FFmpeg)."""
    import io

    from PIL import Image
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", str(seconds),
                           "-i", str(video), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
                          capture_output=True)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"no frame at {seconds}s: {proc.stderr.decode(errors='replace')[-500:]}")
    return Image.open(io.BytesIO(proc.stdout)).convert("RGB")


def audio_level_db(media: Path, start: float, duration: float, band: Optional[str] = None) -> float:
    """Mean volume (dBFS) of the audio between start and start+duration; -91 for digital silence. `band` is an
    optional filter run first, e.g. "lowpass=f=400" to hear only a low tone."""
    import re
    af = (band + "," if band else "") + "volumedetect"
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-ss", str(start), "-t", str(duration),
                           "-i", str(media), "-map", "0:a:0", "-af", af, "-f", "null", "-"],
                          capture_output=True, text=True, errors="replace")
    m = re.search(r"mean_volume:\s*(-?[\d.]+|-inf) dB", proc.stderr)
    if not m:
        raise RuntimeError(f"no audio level: {proc.stderr[-500:]}")
    return -91.0 if m.group(1) == "-inf" else float(m.group(1))


def project_with_clips(folder: Path, clips: list[Path], name: Optional[str] = None):
    """A saved project whose scenes each have one done, selected take pointing at a clip (copied in)."""
    from core.video.project import Scene, Take
    from core.video.project_io import ProjectStore
    store = ProjectStore.create(Path(folder), name)
    for clip in clips:
        rel = store.import_asset(Path(clip), "clips")
        take = Take(provider="import", status="done", clip_path=rel)
        store.project.scenes.append(Scene(takes=[take], selected_take_id=take.id))
    store.save()
    return store
