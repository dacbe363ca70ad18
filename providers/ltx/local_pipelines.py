"""Loading and running the diffusers LTX pipelines inside the local worker: load from a repo id or a folder, apply the
device plan, snap sizes to what the loaded VAE accepts, run each mode with per-step progress and cancel, manage LoRA
adapters, and write the clip (with its audio track for LTX-2). Runs in the worker process only (imports torch)."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict, Field

from core.child_process import child_kwargs

from core.errors import CancelledError, InvalidRequestError
from core.video.media import ffmpeg_exe
from providers.ltx.local_device import DevicePlan
from providers.ltx.local_models import PIPELINES

# every LTX / LTX-2 pipeline's check_inputs requires width and height divisible by 32
PIPELINE_SIZE_MULTIPLE = 32


class RenderSpec(BaseModel):
    """One render, as the app sends it to the worker (paths absolute)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    mode: str  # text, image, keyframes, extend, video
    prompt: str
    negative_prompt: Optional[str] = None
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float
    seed: Optional[int] = None
    images: list[tuple[float, str]] = Field(default_factory=list)  # (time in s, or -1 for the last frame; path)
    video: Optional[str] = None
    extend_direction: str = "forward"
    denoise_strength: float = 0.6
    loras: list[tuple[str, float]] = Field(default_factory=list)
    include_audio: bool = True
    output_path: str


class StepReport(BaseModel):
    step: int
    total: int


def snap_size(width: int, height: int, frames: int, spatial: int, temporal: int) -> tuple[int, int, int, list[str]]:
    """Nearest size and frame count the model accepts: sides a multiple of lcm(VAE ratio, 32), frames k*ratio+1."""
    import math

    mult = math.lcm(spatial, PIPELINE_SIZE_MULTIPLE)
    notes = []
    w = max(mult, int(round(width / mult)) * mult)
    h = max(mult, int(round(height / mult)) * mult)
    if (w, h) != (width, height):
        notes.append(f"size {width}x{height} -> {w}x{h} (multiples of {mult} for this model)")
    f = max(1, int(round((frames - 1) / temporal))) * temporal + 1
    if f != frames:
        notes.append(f"frames {frames} -> {f} (k*{temporal}+1 for this model)")
    return w, h, f, notes


class LoadedModel:
    """One model loaded on one device with its pipelines (created on demand from the same components)."""

    def __init__(self, source: str, plan: DevicePlan, log: Callable[[str], None] = print):
        import diffusers
        import torch

        self.plan = plan
        self.torch = torch
        dtype = getattr(torch, plan.dtype)
        base = diffusers.DiffusionPipeline.from_pretrained(source, dtype=dtype)
        cls = type(base).__name__
        self.family = "ltx2" if cls.startswith("LTX2") else "ltx"
        self.classes = PIPELINES[self.family]
        if hasattr(base, "scheduler") and base.scheduler.config.get("use_dynamic_shifting") and self.family == "ltx":
            # the condition pipeline never passes `mu`; a static shift keeps all LTX pipelines working
            base.scheduler = type(base.scheduler).from_config(base.scheduler.config, use_dynamic_shifting=False)
        self.pipes: dict[str, object] = {cls: base}
        self.base = base
        self.spatial = int(base.vae_spatial_compression_ratio) * int(getattr(base, "transformer_spatial_patch_size", 1))
        self.temporal = int(base.vae_temporal_compression_ratio) * int(getattr(base, "transformer_temporal_patch_size", 1))
        if plan.vae_tiling:
            base.vae.enable_tiling()
        if plan.offload == "model":
            base.enable_model_cpu_offload(device=plan.device)
        elif plan.offload == "sequential":
            base.enable_sequential_cpu_offload(device=plan.device)
        else:
            base.to(plan.device)
        base.set_progress_bar_config(disable=True)
        self.adapters: dict[str, str] = {}  # path key -> adapter name
        self._pass = (0, 1)  # (pass, passes) of a render that calls the pipeline more than once
        log(f"loaded {cls} from {source}: VAE ratios {self.spatial} (spatial) / {self.temporal} (temporal); "
            f"{plan.describe()}")

    def pipe(self, kind: str):
        import diffusers

        name = self.classes[kind]
        if name not in self.pipes:
            p = getattr(diffusers, name).from_pipe(self.base)
            p.set_progress_bar_config(disable=True)
            self.pipes[name] = p
        return self.pipes[name]

    # ---- LoRA -------------------------------------------------------------------------------------------------
    def apply_loras(self, loras: list[tuple[str, float]]) -> None:
        """Load each LoRA once (diffusers or ComfyUI key format) and activate exactly the requested ones."""
        names, weights = [], []
        for path, scale in loras:
            st = os.stat(path)
            key = hashlib.sha1(f"{os.path.abspath(path)}:{st.st_mtime_ns}:{st.st_size}".encode()).hexdigest()[:12]
            if key not in self.adapters:
                name = f"lora_{key}"
                self.base.load_lora_weights(path, adapter_name=name)
                self.adapters[key] = name
            names.append(self.adapters[key])
            weights.append(float(scale))
        if not self.adapters:
            return
        if names:
            self.base.enable_lora()
            self.base.set_adapters(names, adapter_weights=weights)
        else:
            self.base.disable_lora()

    # ---- running ----------------------------------------------------------------------------------------------
    def run(self, spec: RenderSpec, on_step: Callable[[int, int], None], cancelled: Callable[[], bool],
            log: Callable[[str], None]) -> dict:
        torch = self.torch
        width, height, frames, notes = snap_size(spec.width, spec.height, spec.frames, self.spatial, self.temporal)
        for n in notes:
            log("adjusted: " + n)
        seed = spec.seed if spec.seed is not None else random.randrange(2 ** 32)
        self.apply_loras(spec.loras)
        generator = torch.Generator(device="cpu").manual_seed(seed)

        def step_end(pipe, i, t, kwargs):
            n, passes = self._pass
            on_step(n * spec.steps + i + 1, spec.steps * passes)
            if cancelled():
                raise CancelledError("render cancelled between denoising steps")
            return kwargs

        common = dict(prompt=spec.prompt, negative_prompt=spec.negative_prompt, width=width, height=height,
                      num_frames=frames, num_inference_steps=spec.steps, guidance_scale=spec.guidance,
                      generator=generator, output_type="np", callback_on_step_end=step_end)
        if self.family == "ltx":
            common.update(frame_rate=spec.fps, decode_timestep=0.05, decode_noise_scale=0.025)
        else:
            common.update(frame_rate=float(spec.fps), **self._ltx2_guidance())
        from PIL import Image

        kind, extra = "text", {}
        if spec.mode == "image":
            kind, extra = "image", {"image": _load_image(spec.images[0][1])}
            if self.family == "ltx2" and _CRF is not None:
                extra["image_crf"] = _CRF
        elif spec.mode == "keyframes":
            kind, extra = "condition", self._image_conditions(spec, frames)
        elif spec.mode == "video":
            source_frames = read_video_frames(Path(spec.video), width, height)
            kind, extra = "condition", self._v2v_conditions(spec, source_frames, frames)
        if spec.mode == "extend":
            # "both" is a backward pass on the clip, then a forward pass on that result
            directions = ["backward", "forward"] if spec.extend_direction == "both" else [spec.extend_direction]
            clip = read_video_frames(Path(spec.video), width, height)
            pipe = self.pipe("condition")
            for n, direction in enumerate(directions):
                overlap, extra = self._extension_conditions(clip, frames, direction)
                self._pass = (n, len(directions))
                with torch.inference_mode():
                    out = pipe(**common, **extra)
                new = (out.frames[0] * 255).round().clip(0, 255).astype("uint8")
                video = _join_extension(clip, new, overlap, direction)
                clip = [Image.fromarray(f) for f in video]
            self._pass = (0, 1)
        else:
            pipe = self.pipe(kind)
            with torch.inference_mode():
                out = pipe(**common, **extra)
            video = (out.frames[0] * 255).round().clip(0, 255).astype("uint8")
        audio, rate = None, 0
        # an extension's audio would cover only the new frames: extended clips stay silent
        if (self.family == "ltx2" and spec.include_audio and spec.mode != "extend"
                and getattr(out, "audio", None) is not None):
            audio = out.audio[0].float().cpu().numpy()
            rate = int(self.base.vocoder.config.output_sampling_rate)
        write_clip(video, spec.fps, Path(spec.output_path), audio=audio, sample_rate=rate)
        return {"width": width, "height": height, "frames": int(video.shape[0]), "fps": spec.fps, "seed": seed,
                "has_audio": audio is not None, "notes": notes}

    def _ltx2_guidance(self) -> dict:
        """Spatio-temporal guidance needs the blocks it names; skip STG on transformers with fewer layers."""
        layers = int(getattr(self.base.transformer.config, "num_layers", 48))
        blocks = [b for b in (28,) if b < layers]
        if blocks:
            return {}
        return dict(stg_scale=0.0, audio_stg_scale=0.0, spatio_temporal_guidance_blocks=None, modality_scale=1.0,
                    audio_modality_scale=1.0, guidance_rescale=0.0, audio_guidance_rescale=0.0,
                    use_cross_timestep=False)

    def _image_conditions(self, spec: RenderSpec, frames: int) -> dict:
        conds = []
        for t, path in spec.images:
            index = frames - 1 if t < 0 else min(frames - 1, max(0, int(round(t * spec.fps))))
            image = _load_image(path)
            if self.family == "ltx":
                from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
                conds.append(LTXVideoCondition(image=image, frame_index=index, strength=1.0))
            else:
                from diffusers.pipelines.ltx2 import pipeline_ltx2_condition as m
                conds.append(m.LTX2VideoCondition(frames=image, index=-1 if t < 0 else index, strength=1.0,
                                                  crf=_CRF))
        return {"conditions": conds}

    def _v2v_conditions(self, spec: RenderSpec, source: list, frames: int) -> dict:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        k = (min(len(source), frames) - 1) // self.temporal * self.temporal + 1
        return {"conditions": [LTXVideoCondition(video=source[:k], frame_index=0)],
                "denoise_strength": spec.denoise_strength}

    def _extension_conditions(self, source: list, frames: int, direction: str) -> tuple[int, dict]:
        """The clip's edge frames (k*ratio+1 of them) condition the start (forward) or the end (backward)."""
        overlap = max(1, min(len(source), (frames - 1) // 2 + 1) - 1) // self.temporal * self.temporal + 1
        if direction == "backward":
            edge, index = source[:overlap], frames - overlap
        else:
            edge, index = source[-overlap:], 0
        if self.family == "ltx":
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
            return overlap, {"conditions": [LTXVideoCondition(video=edge, frame_index=index)]}
        from diffusers.pipelines.ltx2 import pipeline_ltx2_condition as m
        return overlap, {"conditions": [m.LTX2VideoCondition(frames=edge, index=index)]}


def _join_extension(source: list, new, overlap: int, direction: str):
    """The clip then the new frames after the overlap (forward), or the new frames then the clip (backward)."""
    import numpy as np

    src = np.stack([np.asarray(f) for f in source])
    if direction == "backward":
        return np.concatenate([new[: len(new) - overlap], src])
    return np.concatenate([src, new[overlap:]])


def _crf() -> Optional[int]:
    """LTX-2 re-compresses image conditions with H.264 through PyAV to match its training data; without PyAV,
    crf=0 skips that step instead of failing."""
    return None if importlib.util.find_spec("av") is not None else 0


_CRF = _crf()


def _load_image(path: str):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def read_video_frames(path: Path, width: int, height: int) -> list:
    """Every frame of a clip as PIL images of the given size (FFmpeg decodes and scales)."""
    import numpy as np
    from PIL import Image

    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-vf",
                           f"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, timeout=600, **child_kwargs())
    size = width * height * 3
    if proc.returncode != 0 or len(proc.stdout) < size:
        raise InvalidRequestError(f"{path.name}: no video frames could be read", field="video")
    data = np.frombuffer(proc.stdout[: len(proc.stdout) // size * size], dtype=np.uint8)
    return [Image.fromarray(f) for f in data.reshape(-1, height, width, 3)]


def write_clip(video, fps: int, output: Path, *, audio=None, sample_rate: int = 0) -> None:
    """H.264 MP4 from uint8 frames (F, H, W, 3), with an AAC track when audio (channels, samples) is given; written
    to a temp file in the same folder, then moved into place."""
    import numpy as np

    frames, h, w, _ = video.shape
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".mp4", prefix=".render-", dir=output.parent)
    os.close(fd)
    wav = None
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", str(fps), "-i", "-"]
    try:
        if audio is not None:
            wav = tmp[:-4] + ".wav"
            pcm = (np.clip(np.asarray(audio, dtype=np.float32), -1, 1) * 32767).astype("<i2")
            with wave.open(wav, "wb") as wf:
                wf.setnchannels(pcm.shape[0])
                wf.setsampwidth(2)
                wf.setframerate(sample_rate)
                wf.writeframes(pcm.T.tobytes())
            # the track is padded or cut to exactly the picture's length (-shortest overshoots by the muxer's
            # interleaving buffer, which made a 9-frame clip last 1 s)
            seconds = f"{frames / fps:.6f}"
            cmd += ["-i", wav, "-map", "0:v", "-map", "1:a", "-c:a", "aac",
                    "-af", f"apad=whole_dur={seconds},atrim=0:{seconds}"]
        cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-crf", "18",
                "-movflags", "+faststart", tmp]
        proc = subprocess.run(cmd, input=np.ascontiguousarray(video).tobytes(), capture_output=True, timeout=600,
                              **child_kwargs())
        if proc.returncode != 0:
            raise RuntimeError("FFmpeg could not write the clip: " + proc.stderr.decode(errors="replace")[-500:])
        os.replace(tmp, output)
    finally:
        for p in (tmp, wav):
            if p and os.path.exists(p):
                os.unlink(p)
