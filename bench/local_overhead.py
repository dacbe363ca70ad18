"""What the local deployment's worker process costs over calling the diffusers pipeline directly.

    python bench/local_overhead.py [--model-path DIR] [--runs 5] [--width 64 --height 64 --frames 17 --steps 4]

Without --model-path it builds the tiny random LTX pipeline (tests/fakes/tiny_ltx.py) in a temp folder. Both sides
do the same work: from_pretrained of the same folder, the same call (size, frames, steps, seed) and the same H.264
writer (providers.ltx.local_pipelines.write_clip).
- direct cold: a fresh Python process that imports diffusers, loads, renders and writes once;
- direct warm: the same pipeline object called again in this process (median of --runs);
- product cold: LocalBackend's first render (starts the worker, which imports and loads);
- product warm: later renders in the warm worker (median of --runs).
Warm direct and product calls alternate, so load from other processes on the machine hits both alike.
Targets: product warm / direct warm <= 1.2; product cold / product warm >= 5.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIRECT = r"""
import sys, time, torch
t0 = float(sys.argv[1])
from diffusers import DiffusionPipeline
from providers.ltx.local_pipelines import write_clip
from pathlib import Path
pipe = DiffusionPipeline.from_pretrained(sys.argv[2], dtype=torch.float32)
pipe.set_progress_bar_config(disable=True)
w, h, f, steps = (int(x) for x in sys.argv[3:7])
out = pipe(prompt="a lighthouse at dusk", width=w, height=h, num_frames=f, num_inference_steps=steps,
           guidance_scale=3.0, generator=torch.Generator().manual_seed(1), output_type="np", frame_rate=24,
           decode_timestep=0.05, decode_noise_scale=0.025)
write_clip((out.frames[0] * 255).round().clip(0, 255).astype("uint8"), 24, Path(sys.argv[7]))
print(time.time() - t0)
"""


def direct_cold(model: str, args, out: Path) -> float:
    proc = subprocess.run([sys.executable, "-c", DIRECT, repr(time.time()), model, str(args.width), str(args.height),
                           str(args.frames), str(args.steps), str(out)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return float(proc.stdout.strip().splitlines()[-1])


def load_direct(model: str):
    import torch
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(model, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def direct_once(pipe, args, out: Path) -> float:
    import torch

    from providers.ltx.local_pipelines import write_clip

    t = time.perf_counter()
    res = pipe(prompt="a lighthouse at dusk", width=args.width, height=args.height, num_frames=args.frames,
               num_inference_steps=args.steps, guidance_scale=3.0, generator=torch.Generator().manual_seed(1),
               output_type="np", frame_rate=24, decode_timestep=0.05, decode_noise_scale=0.025,
               callback_on_step_end=lambda p, i, t, kw: kw)
    write_clip((res.frames[0] * 255).round().clip(0, 255).astype("uint8"), 24, out)
    return time.perf_counter() - t


def interleaved(model: str, args, tmp: Path) -> tuple[float, list[float], list[float]]:
    """Product cold, then warm product and direct calls taken in turns, so machine load hits both alike."""
    from core.config import Settings
    from core.video.render_settings import RenderSettings
    from providers.base import RenderRequest
    from providers.ltx.local_backend import LocalBackend

    backend = LocalBackend(Settings())
    request = RenderRequest(prompt="a lighthouse at dusk", output_path=tmp / "product.mp4", settings=RenderSettings(
        provider="ltx-video", model="ltx-video-2b", deployment="local", model_path=model, device="cpu",
        width=args.width, height=args.height, frames=args.frames, num_inference_steps=args.steps, seed=1,
        guidance_scale=3.0))

    async def product_once() -> float:
        t = time.perf_counter()
        job = await backend.submit(request)
        await backend.wait(job, request)
        return time.perf_counter() - t

    async def all_runs():
        cold = await product_once()
        pipe = load_direct(model)
        direct_once(pipe, args, tmp / "direct.mp4")  # warm-up calls on both sides
        await product_once()
        p_times, d_times = [], []
        for _ in range(args.runs):
            d_times.append(direct_once(pipe, args, tmp / "direct.mp4"))
            p_times.append(await product_once())
        return cold, p_times, d_times
    try:
        return asyncio.run(all_runs())
    finally:
        backend.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-path")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="local-bench-"))
    model = args.model_path
    if not model:
        from tests.fakes.tiny_ltx import build_ltx
        model = str(build_ltx(tmp / "tiny-ltx"))
    print(f"model {model}; {args.width}x{args.height}, {args.frames} frames, {args.steps} steps, CPU", flush=True)
    d_cold = direct_cold(model, args, tmp / "direct-cold.mp4")
    p_cold, p_runs, d_runs = interleaved(model, args, tmp)
    p_warm, d_warm = statistics.median(p_runs), statistics.median(d_runs)
    print("warm runs, direct :", " ".join(f"{t:.3f}" for t in d_runs))
    print("warm runs, product:", " ".join(f"{t:.3f}" for t in p_runs))
    print(f"direct  cold {d_cold:7.3f} s   warm {d_warm:7.3f} s (median of {args.runs})")
    print(f"product cold {p_cold:7.3f} s   warm {p_warm:7.3f} s (median of {args.runs})")
    print(f"warm overhead ratio product/direct = {p_warm / d_warm:.2f}  (target <= 1.2)")
    print(f"cold/warm ratio of the product     = {p_cold / p_warm:.1f}  (target >= 5)")
    print(f"product cold / direct cold         = {p_cold / d_cold:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
