"""Animatic: the offline, zero-setup renderer. A scene's start frame becomes a clip of exactly the scene's duration,
size and fps with a slow pan and zoom and the prompt as a caption; a scene without one becomes a title card.
H.264 with a silent AAC track, so export treats it like any other clip. Costs nothing; needs no key, GPU or network.
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Optional

from core.child_process import child_kwargs
from core.config import Settings, load_settings
from core.errors import TransientError
from core.video.leftovers import owner_tag
from core.video.media import check_playable_clip, ffmpeg_exe
from core.render.planning import InputFacts, PlanBuilder, finish_plan
from core.video.render_settings import ASPECT_RATIOS, RESOLUTIONS, frame_size
from providers.base import (Capabilities, ModelInfo, ProgressCallback, ProgressEvent, RenderPlan, RenderRequest,
                            RenderResult, VideoProvider, no_progress)

log = logging.getLogger(__name__)

ZOOM = 1.12  # the image is drawn this much larger than the frame, and the frame glides across it
MODEL = ModelInfo(
    id="animatic", label="Animatic (offline pan & zoom)", resolutions=list(RESOLUTIONS),
    aspect_ratios=list(ASPECT_RATIOS), fps=[12, 24, 25, 30, 48, 50, 60], min_duration=0.5, max_duration=120.0,
    modes=["text-to-video", "image-to-video"], price_per_second={"*": 0.0}, deployments=[],
    defaults={"resolution": "720p", "aspect_ratio": "16:9", "fps": 24, "duration": 5.0},
)
DEFAULTS = MODEL.defaults


class AnimaticProvider(VideoProvider):
    name = "animatic"

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or load_settings()

    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, display_name="Animatic", models=[MODEL], offline=True)

    def unavailable_reason(self) -> Optional[str]:
        try:
            ffmpeg_exe(self.settings.ffmpeg_path)
        except Exception as exc:  # the reason is shown to the user as it is
            return str(exc)
        return None

    def prepare(self, request: RenderRequest) -> RenderPlan:
        s = request.settings
        b = PlanBuilder(request, "Animatic")
        if s.model not in (None, MODEL.id):
            b.problem(f"unknown model {s.model!r} for Animatic", field="model", allowed=[MODEL.id])
        resolution = b.choose("resolution", MODEL.resolutions, DEFAULTS["resolution"])
        aspect = b.choose("aspect_ratio", MODEL.aspect_ratios, DEFAULTS["aspect_ratio"])
        fps = b.choose("fps", MODEL.fps, DEFAULTS["fps"], what=f"{s.fps} fps")
        cut = request.cut_seconds if request.cut_seconds is not None else s.duration
        length = b.render_length(cut, [], MODEL.min_duration, MODEL.max_duration, DEFAULTS["duration"],
                                 ways_out="split the scene")
        if not request.prompt.strip() and request.start_image is None and not request.title.strip():
            b.problem("a scene needs a prompt, a title or a start image", field="prompt")
        facts = InputFacts(b)
        facts.image(request.start_image, "start_image")
        for field, why in (("seed", "the animatic is drawn, not generated"),
                           ("negative_prompt", "the animatic draws the prompt as a caption only"),
                           ("audio_prompt", "the animatic has a silent track"),
                           ("camera_motion", "the animatic always glides slowly"),
                           ("camera_speed", "the animatic always glides slowly"), ("deployment", "it runs here")):
            b.not_taken(field, why)
        b.not_taken("include_audio", "the animatic always has a silent track (the export can add music)")
        for name, what in (("end_image", "an end frame"), ("source_video", "a source video"),
                           ("extend_video", "a clip to extend")):
            if getattr(request, name) is not None:
                b.ignore(name, getattr(request, name).name, f"the animatic takes no {what}")
        if request.keyframes:
            b.ignore("keyframes", len(request.keyframes), "the animatic takes no keyframes")
        if request.reference_images:
            b.ignore("reference_images", len(request.reference_images), "the animatic takes no reference images")
        for key in s.options:
            b.problem(f"Animatic has no option {key!r}", field=f"options.{key}", allowed=["none"])
        b.raise_problems()
        width, height = frame_size(resolution, aspect)
        plan = RenderPlan(provider=self.name, model=MODEL.id, mode="image-to-video" if request.start_image else
                          "text-to-video", request=request,
                          sent={"resolution": resolution, "aspect_ratio": aspect, "fps": fps, "duration": length},
                          adjustments=b.adjustments, ignored=b.ignored, cost=0.0, render_seconds=length,
                          cut_seconds=request.cut_seconds, expected_seconds=length, width=width, height=height,
                          fps=fps)
        return finish_plan(plan)

    async def submit(self, plan: RenderPlan, progress: ProgressCallback = no_progress) -> str:
        # nothing leaves the machine: the job id only names the render for the project file
        return f"animatic-{uuid.uuid4().hex[:10]}"

    async def wait(self, job_id: str, plan: RenderPlan, progress: ProgressCallback = no_progress) -> RenderResult:
        request = plan.request
        fps, duration = plan.sent["fps"], plan.sent["duration"]
        width, height = plan.width, plan.height
        out = Path(request.output_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        progress(ProgressEvent(stage="running", fraction=0.0, message="drawing frames"))
        with tempfile.TemporaryDirectory(prefix="animatic-", dir=request.work_dir or out.parent) as tmp:
            base, caption = await asyncio.to_thread(_draw_layers, request, width, height, Path(tmp))
            partial = out.with_name(f".{out.stem}.{owner_tag()}-{uuid.uuid4().hex[:6]}.part.mp4")
            cmd = _ffmpeg_command(ffmpeg_exe(self.settings.ffmpeg_path), base, caption, width, height, fps,
                                  duration, partial)
            try:
                await _run_ffmpeg(cmd, duration, progress)
                info = await asyncio.to_thread(check_playable_clip, partial, duration)
                os.replace(partial, out)
            finally:
                if partial.exists():
                    partial.unlink()
        progress(ProgressEvent(stage="done", fraction=1.0))
        return RenderResult(clip_path=out, duration=info.duration, width=info.width, height=info.height,
                            fps=info.fps, has_audio=info.has_audio, cost=0.0, remote_job_id=job_id)


def _draw_layers(request: RenderRequest, width: int, height: int, tmp: Path) -> tuple[Path, Optional[Path]]:
    """The picture to glide over (ZOOM x the frame) and, over a start frame, a caption strip with the prompt."""
    from PIL import Image, ImageDraw, ImageOps

    big = (int(width * ZOOM) // 2 * 2, int(height * ZOOM) // 2 * 2)
    base_path = tmp / "base.png"
    caption_path: Optional[Path] = None
    if request.start_image is not None:
        with Image.open(request.start_image) as im:
            ImageOps.fit(im.convert("RGB"), big, method=Image.Resampling.LANCZOS).save(base_path)
        text = request.prompt.strip()
        if text:
            caption_path = tmp / "caption.png"
            _caption(text, width, height).save(caption_path)
    else:
        card = Image.new("RGB", big, (18, 22, 34))
        draw = ImageDraw.Draw(card)
        for y in range(big[1]):  # a soft vertical gradient so the pan is visible on a plain card
            shade = int(18 + 30 * y / big[1])
            draw.line([(0, y), (big[0], y)], fill=(shade, shade + 4, shade + 16))
        title = request.title.strip() or request.prompt.strip()
        body = request.prompt.strip() if request.title.strip() else ""
        _draw_centered(draw, big, title, body, height)
        card.save(base_path)
    return base_path, caption_path


def _font(size: int):
    from PIL import ImageFont
    return ImageFont.load_default(size=max(10, size))


def _draw_centered(draw, size: tuple[int, int], title: str, body: str, height: int) -> None:
    w, h = size
    title_font, body_font = _font(height // 14), _font(height // 24)
    lines = [(line, title_font) for line in textwrap.wrap(title, width=max(10, int(w / (height / 14) * 1.6)))[:4]]
    lines += [(line, body_font) for line in textwrap.wrap(body, width=max(10, int(w / (height / 24) * 1.7)))[:6]]
    heights = [draw.textbbox((0, 0), t or " ", font=f)[3] + height // 60 for t, f in lines]
    y = (h - sum(heights)) / 2
    for (text, font), lh in zip(lines, heights):
        tw = draw.textlength(text, font=font)
        draw.text(((w - tw) / 2, y), text, font=font, fill=(235, 238, 245))
        y += lh


def _caption(text: str, width: int, height: int):
    from PIL import Image, ImageDraw

    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(height // 26)
    lines = textwrap.wrap(text, width=max(10, int(width / (height / 26) * 1.7)))[:3]
    line_h = draw.textbbox((0, 0), "Ag", font=font)[3] + height // 80
    strip = line_h * len(lines) + height // 20
    draw.rectangle([0, height - strip, width, height], fill=(0, 0, 0, 150))
    y = height - strip + height // 40
    for line in lines:
        tw = draw.textlength(line, font=font)
        draw.text(((width - tw) / 2, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_h
    return layer


def _ffmpeg_command(ffmpeg: str, base: Path, caption: Optional[Path], width: int, height: int, fps: int,
                    duration: float, out: Path) -> list[str]:
    frames = max(1, round(duration * fps))
    # the crop window glides from the top-left corner to the centre-right: a slow, steady pan-and-drift
    pan = (f"[0:v]crop={width}:{height}:x='(iw-{width})*n/{frames}':y='(ih-{height})*(0.5+0.5*n/{frames})/1.5',"
           f"setsar=1")
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats",
           "-loop", "1", "-framerate", str(fps), "-i", str(base)]
    if caption is not None:
        cmd += ["-loop", "1", "-framerate", str(fps), "-i", str(caption)]
        graph = f"{pan}[p];[p][1:v]overlay=0:0:format=auto,format=yuv420p[v]"
        audio_index = 2
    else:
        graph = f"{pan},format=yuv420p[v]"
        audio_index = 1
    cmd += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
            "-filter_complex", graph, "-map", "[v]", "-map", f"{audio_index}:a",
            "-frames:v", str(frames), "-t", f"{frames / fps:.6f}", "-r", str(fps),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(out)]
    return cmd


async def _run_ffmpeg(cmd: list[str], duration: float, progress: ProgressCallback) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd, **child_kwargs(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    if hasattr(os, "setpriority"):  # a lower priority keeps the app's window smooth while FFmpeg draws
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, 5)
        except OSError as exc:  # the process may already have ended; the priority is only a courtesy
            log.debug("could not lower FFmpeg's priority: %s", exc)
    try:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                progress(ProgressEvent(stage="running", fraction=min(1.0, int(value) / 1e6 / duration)))
        stderr = (await proc.stderr.read()).decode(errors="replace") if proc.stderr else ""
        code = await proc.wait()
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    if code != 0:
        raise TransientError(f"FFmpeg failed while drawing the animatic (exit {code}): {stderr.strip()[-400:]}")


__all__ = ["AnimaticProvider"]
