"""The local image worker process: `python -m providers.images.local_sd_worker --source DIR|REPO --plan JSON`.

It loads one diffusers text-to-image pipeline on one device (with the device plan: dtype, VAE tiling, CPU offload),
makes its image-to-image sibling on demand from the same components (from_pipe: no second copy in memory), then
serves images one at a time. Messages are JSON lines (providers/worker_protocol.py, shared with the LTX worker): the app
writes render / cancel / shutdown to stdin; the worker answers ready, progress, result, error or fatal on its
original stdout, and everything the libraries print goes to stderr. Ending the process frees all GPU memory."""
from __future__ import annotations

import math
import os
import random
import sys
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict

from providers.worker_protocol import run_worker


class ImageSpec(BaseModel):
    """One image, as the app sends it (paths absolute)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    prompt: str
    negative_prompt: Optional[str] = None
    width: int
    height: int
    steps: int
    guidance: float
    seed: Optional[int] = None
    init_image: Optional[str] = None
    strength: float = 0.7
    render_path: str  # where the image is written at the size rendered (the app crops and scales it)


class Pipelines:
    def __init__(self, source: str, plan, log: Callable[[str], None]):
        import diffusers
        import torch

        self.torch = torch
        dtype = getattr(torch, plan.dtype)
        self.t2i = diffusers.AutoPipelineForText2Image.from_pretrained(source, dtype=dtype)
        if plan.vae_tiling and hasattr(self.t2i, "vae"):
            self.t2i.vae.enable_tiling()
        if plan.offload == "model":
            self.t2i.enable_model_cpu_offload(device=plan.device)
        elif plan.offload == "sequential":
            self.t2i.enable_sequential_cpu_offload(device=plan.device)
        else:
            self.t2i.to(plan.device)
        self.t2i.set_progress_bar_config(disable=True)
        self.i2i = None
        # every diffusers text-to-image pipeline wants sides divisible by 8; transformer ones by VAE x patch too
        patch = int(getattr(getattr(getattr(self.t2i, "transformer", None), "config", None), "patch_size", 1) or 1)
        self.multiple = math.lcm(8, int(getattr(self.t2i, "vae_scale_factor", 8)) * patch)
        log(f"loaded {type(self.t2i).__name__} from {source}: {plan.describe()}")

    def image_to_image(self):
        import diffusers
        if self.i2i is None:
            self.i2i = diffusers.AutoPipelineForImage2Image.from_pipe(self.t2i)
            self.i2i.set_progress_bar_config(disable=True)
        return self.i2i

    def run(self, spec: ImageSpec, on_step: Callable[[int, int], None], cancelled: Callable[[], bool]) -> dict:
        from PIL import Image

        from core.errors import CancelledError

        torch = self.torch
        m = self.multiple  # rendered a little larger where needed: the app crops and scales to the asked size
        width, height = math.ceil(spec.width / m) * m, math.ceil(spec.height / m) * m
        seed = spec.seed if spec.seed is not None else random.randrange(2 ** 32)
        generator = torch.Generator(device="cpu").manual_seed(seed)  # the same seed gives the same pixels anywhere
        total = spec.steps

        def step_end(pipe, i, t, kwargs):
            on_step(i + 1, total)
            if cancelled():
                raise CancelledError("image cancelled between denoising steps")
            return kwargs

        common = dict(prompt=spec.prompt, negative_prompt=spec.negative_prompt, num_inference_steps=spec.steps,
                      guidance_scale=spec.guidance, generator=generator, callback_on_step_end=step_end,
                      output_type="pil")
        with torch.inference_mode():
            if spec.init_image:
                init = Image.open(spec.init_image).convert("RGB").resize((width, height),
                                                                         Image.Resampling.LANCZOS)
                # image-to-image runs int(steps * strength) steps
                total = max(1, int(spec.steps * spec.strength))
                out = self.image_to_image()(image=init, strength=spec.strength, **common)
            else:
                out = self.t2i(width=width, height=height, **common)
        image = out.images[0]
        image.save(spec.render_path, format="PNG")
        return {"width": image.size[0], "height": image.size[1], "seed": seed}


def _load(source: str, plan_json: str, log):
    from providers.ltx.local_device import DevicePlan

    plan = DevicePlan.model_validate_json(plan_json)
    pipes = Pipelines(source, plan, log=log)
    return pipes, dict(pid=os.getpid(), multiple=pipes.multiple, plan=plan.model_dump())


def _run(pipes: Pipelines, spec: ImageSpec, on_step, cancelled, log) -> dict:
    return pipes.run(spec, on_step=on_step, cancelled=cancelled)


def main(argv: list[str] | None = None) -> int:
    return run_worker("local_sd_worker", argv, _load, ImageSpec.model_validate, _run)


if __name__ == "__main__":
    sys.exit(main())
