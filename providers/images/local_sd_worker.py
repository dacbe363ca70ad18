"""The local image worker process: `python -m providers.images.local_sd_worker --source DIR|REPO --plan JSON`.

It loads one diffusers text-to-image pipeline on one device (with the device plan: dtype, VAE tiling, CPU offload),
makes its image-to-image sibling on demand from the same components (from_pipe: no second copy in memory), then
serves images one at a time. Messages are JSON lines as in the LTX worker (providers/ltx/local_worker.py): the app
writes render / cancel / shutdown to stdin; the worker answers ready, progress, result, error or fatal on its
original stdout, and everything the libraries print goes to stderr. Ending the process frees all GPU memory."""
from __future__ import annotations

import argparse
import json
import math
import os
import queue
import random
import sys
import threading
import traceback
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict


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


class Channel:
    def __init__(self) -> None:
        # keep the real stdout for messages; point fd 1 (and sys.stdout) at stderr for everything else
        self._out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def send(self, **msg) -> None:
        with self._lock:
            self._out.write(json.dumps(msg, default=str) + "\n")
            self._out.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="local_sd_worker")
    ap.add_argument("--source", required=True, help="a diffusers pipeline folder or Hugging Face repo id")
    ap.add_argument("--plan", required=True, help="DevicePlan as JSON")
    args = ap.parse_args(argv)
    chan = Channel()

    from core.errors import CancelledError, ImageAIError
    from providers.ltx.local_device import DevicePlan

    plan = DevicePlan.model_validate_json(args.plan)
    try:
        pipes = Pipelines(args.source, plan, log=lambda text: chan.send(type="log", message=text))
    except Exception as exc:  # a model that cannot load is reported, not a traceback on a dead pipe
        chan.send(type="fatal", kind="unavailable", message=f"could not load the model from {args.source}: {exc}",
                  detail=traceback.format_exc()[-2000:])
        return 3
    chan.send(type="ready", pid=os.getpid(), multiple=pipes.multiple, plan=plan.model_dump())

    jobs: "queue.Queue[dict | None]" = queue.Queue()
    cancelled: set[str] = set()

    def read_commands() -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("type") == "cancel":
                cancelled.add(msg.get("job", ""))
            elif msg.get("type") == "render":
                jobs.put(msg)
            elif msg.get("type") == "shutdown":
                break
        jobs.put(None)  # stdin closed or shutdown: the app is gone or wants us gone

    threading.Thread(target=read_commands, daemon=True).start()
    while True:
        msg = jobs.get()
        if msg is None:
            return 0
        try:
            spec = ImageSpec.model_validate(msg["spec"])
        except Exception as exc:
            chan.send(type="error", job=(msg.get("spec") or {}).get("job_id"), kind="invalid_request",
                      message=str(exc))
            continue
        job = spec.job_id
        try:
            result = pipes.run(spec, on_step=lambda i, n: chan.send(type="progress", job=job, step=i, total=n),
                               cancelled=lambda: job in cancelled)
            chan.send(type="result", job=job, result=result)
        except CancelledError as exc:
            chan.send(type="error", job=job, kind="cancelled", message=str(exc))
        except ImageAIError as exc:
            chan.send(type="error", job=job, kind=exc.kind, message=str(exc))
        except ValueError as exc:  # the pipelines' own input checks
            chan.send(type="error", job=job, kind="invalid_request", message=str(exc))
        except Exception as exc:
            chan.send(type="error", job=job, kind="error", message=f"{type(exc).__name__}: {exc}",
                      detail=traceback.format_exc()[-2000:])
        finally:
            cancelled.discard(job)


if __name__ == "__main__":
    sys.exit(main())
