"""What local-sd's worker process and the image path (plan, worker round trip, crop and scale, temp file) cost over
calling the diffusers pipeline directly, and what one cloud image costs over the wire against a loopback fake.

    python bench/image_overhead.py [--model-path DIR] [--runs 7] [--size 64x40] [--steps 2]

Without --model-path it builds the tiny random Stable Diffusion pipeline (tests/fakes/tiny_sd.py) in a temp folder.
- direct warm: the same pipeline object called in this process and its image saved as PNG (median of --runs);
- product cold: local-sd's first image (starts the worker, which imports torch and loads the pipeline);
- product warm: later images from the warm worker (median of --runs).
Warm direct and product calls alternate, so load from other processes on the machine hits both alike.
- cloud: one Stability request through the provider against tests/fakes/stability_fake.py against a bare httpx POST
  of the same form to the same fake (median of --runs, alternating).
  The writing (decode, crop to the asked shape, scale, PNG encode, fsync) is timed alone on the same bytes, so the
  rest (planning, the multipart form, the client) shows as its own ratio.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# after its direct call this process's OpenMP threads would spin-wait and take the cores the worker needs (the app
# computes nothing with torch, so it has no such threads): passive waiting keeps the comparison fair
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def direct_pipeline(folder: Path):
    import diffusers
    import torch
    pipe = diffusers.AutoPipelineForText2Image.from_pretrained(str(folder), dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def direct_once(pipe, w: int, h: int, steps: int, out: Path) -> float:
    import torch
    t = time.perf_counter()
    image = pipe(prompt="a lighthouse at dusk", width=w, height=h, num_inference_steps=steps,
                 generator=torch.Generator("cpu").manual_seed(1)).images[0]
    image.save(out, format="PNG")
    return time.perf_counter() - t


async def local(args, folder: Path, tmp: Path) -> None:
    from core.config import Settings
    from core.images.contract import ImageRequest
    from providers.images.registry import get_image

    w, h = (int(x) for x in args.size.split("x"))
    provider = get_image("local-sd", Settings())

    async def product_once(i: int) -> float:
        t = time.perf_counter()
        req = ImageRequest(prompt="a lighthouse at dusk", output_path=tmp / f"p{i}.png", width=w, height=h, seed=1,
                           options={"model_path": str(folder), "device": "cpu", "steps": args.steps})
        await provider.generate(provider.prepare(req))
        return time.perf_counter() - t

    try:
        cold = await product_once(0)
        pipe = await asyncio.to_thread(direct_pipeline, folder)
        direct_once(pipe, w, h, args.steps, tmp / "d.png")  # first call warms caches, as the worker's first did
        product, direct = [], []
        for i in range(args.runs):
            product.append(await product_once(i + 1))
            direct.append(await asyncio.to_thread(direct_once, pipe, w, h, args.steps, tmp / "d.png"))
    finally:
        await provider.aclose()
    pm, dm = statistics.median(product), statistics.median(direct)
    print(f"local-sd {args.size}, {args.steps} steps, {args.runs} runs")
    print(f"  direct warm   {dm * 1000:8.1f} ms")
    print(f"  product warm  {pm * 1000:8.1f} ms   ratio {pm / dm:.2f}")
    print(f"  product cold  {cold * 1000:8.1f} ms   cold / warm {cold / pm:.1f} (the worker imports torch and loads)")


async def cloud(args, tmp: Path) -> None:
    import httpx

    from core.config import Settings
    from core.images.contract import ImageRequest
    from providers.images.registry import get_image
    from tests.fakes.stability_fake import StabilityFake

    with StabilityFake() as fake:
        os.environ["IMAGEAI_STABILITY_URL"] = fake.url
        os.environ["STABILITY_API_KEY"] = "sk-bench-key-0000"
        provider = get_image("stability", Settings())
        bare = httpx.AsyncClient()
        form = {"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "seed": "1", "output_format": "png"}

        async def product_once(i: int) -> float:
            t = time.perf_counter()
            req = ImageRequest(prompt="a lighthouse at dusk", output_path=tmp / f"s{i}.png", width=1280,
                               height=720, seed=1)
            await provider.generate(provider.prepare(req))
            return time.perf_counter() - t

        async def bare_once() -> float:
            t = time.perf_counter()
            r = await bare.post(f"{fake.url}/v2beta/stable-image/generate/core", data=form,
                                files={"none": ("", b"")}, headers={"Authorization": "Bearer sk-bench-key-0000",
                                                                    "Accept": "image/*"})
            (tmp / "bare.png").write_bytes(r.content)
            return time.perf_counter() - t

        def write_once() -> float:
            from core.images.output import write_image
            t = time.perf_counter()
            write_image((tmp / "bare.png").read_bytes(), tmp / "w.png", 1280, 720, what="bench")
            return time.perf_counter() - t

        try:
            await product_once(0)
            await bare_once()
            product, direct, writing = [], [], []
            for i in range(args.runs):
                product.append(await product_once(i + 1))
                direct.append(await bare_once())
                writing.append(write_once())
        finally:
            await provider.aclose()
            await bare.aclose()
    pm, dm, wm = statistics.median(product), statistics.median(direct), statistics.median(writing)
    print(f"stability core via the fake, 1280x720 written from 1344x768, {args.runs} runs")
    print(f"  bare POST     {dm * 1000:8.1f} ms")
    print(f"  provider      {pm * 1000:8.1f} ms   ratio {pm / dm:.2f}")
    print(f"  of it writing {wm * 1000:8.1f} ms   (provider - writing) / bare POST {(pm - wm) / dm:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-path", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size", default="64x40")
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        folder = args.model_path
        if folder is None:
            from tests.fakes.tiny_sd import build_sd
            folder = build_sd(tmp_path / "tiny-sd")
        asyncio.run(local(args, folder, tmp_path))
        asyncio.run(cloud(args, tmp_path))


if __name__ == "__main__":
    main()
