"""GPU detection and the memory plan of a local render: which device, dtype, VAE tiling and CPU offload.

CPU runs only when chosen explicitly (`--device cpu` or the setting `ltx_local_device = "cpu"`): it is very slow
for real models. CPU offload is never planned without an accelerator (diffusers raises there)."""
from __future__ import annotations

import os
from typing import Optional

from pydantic import BaseModel, ConfigDict

from core.errors import InvalidRequestError, UnavailableError
from providers.ltx.local_models import LocalModel

DEVICES = ("cuda", "mps", "cpu")
CPU_HINT = ("run on the CPU (very slow) only by choosing it: --device cpu, or the setting ltx_local_device = \"cpu\"")


class Accelerator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str  # "cuda", "mps" or "none"
    name: str = ""
    memory_gb: float = 0.0
    bf16: bool = False
    torch_version: str = ""
    diffusers_version: Optional[str] = None
    cpu_threads: int = 1


class DevicePlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str
    dtype: str  # "bfloat16", "float16", "float32"
    vae_tiling: bool
    offload: str  # "none", "model", "sequential"
    reasons: list[str]

    def describe(self) -> str:
        return (f"device {self.device}, {self.dtype}, VAE tiling {'on' if self.vae_tiling else 'off'}, "
                f"CPU offload {self.offload} ({'; '.join(self.reasons)})")


def detect() -> Accelerator:
    """What this machine offers. Imports torch (call it in the worker or on demand, never at import time)."""
    import torch

    try:
        import diffusers
        dver: Optional[str] = diffusers.__version__
    except ImportError:
        dver = None
    base = dict(torch_version=torch.__version__, diffusers_version=dver, cpu_threads=torch.get_num_threads())
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return Accelerator(kind="cuda", name=props.name, memory_gb=round(props.total_memory / 1024 ** 3, 1),
                           bf16=torch.cuda.is_bf16_supported(), **base)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        # MPS shares the system memory; a GPU may use about two thirds of it
        return Accelerator(kind="mps", name="Apple GPU (MPS)", memory_gb=round(_system_memory_gb() * 0.66, 1),
                           bf16=True, **base)
    return Accelerator(kind="none", name="CPU only", memory_gb=round(_system_memory_gb(), 1), **base)


_DETECTED: Optional[Accelerator] = None


def detect_cached() -> Accelerator:
    global _DETECTED
    if _DETECTED is None:
        _DETECTED = detect()
    return _DETECTED


def _system_memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    except (ValueError, OSError, AttributeError):
        return 0.0


def choose_device(requested: Optional[str], acc: Accelerator) -> str:
    """The device to run on: the requested one when it exists here, else the accelerator; CPU only on request."""
    if requested:
        req = requested.lower()
        if req not in DEVICES:
            raise InvalidRequestError(f"unknown device {requested!r}", field="device", allowed=DEVICES)
        if req == "cpu":
            return "cpu"
        if req != acc.kind:
            found = acc.kind if acc.kind != "none" else "no GPU"
            raise UnavailableError(f"device {req} is not available here ({found} found); {CPU_HINT}")
        return req
    if acc.kind in ("cuda", "mps"):
        return acc.kind
    raise UnavailableError(f"no GPU (CUDA or MPS) found for the local deployment; {CPU_HINT}")


def plan(model: LocalModel, device: str, acc: Accelerator, *, pixels_per_clip: int = 0) -> DevicePlan:
    """dtype, VAE tiling and offload chosen by the memory the device has against what the model needs."""
    reasons: list[str] = []
    if device == "cpu":
        return DevicePlan(device="cpu", dtype="float32", vae_tiling=False, offload="none",
                          reasons=["CPU: float32, no offload (offload needs an accelerator)"])
    dtype = "bfloat16" if acc.bf16 else "float16"
    reasons.append(f"{dtype} ({'supported' if acc.bf16 else 'no bf16 on this GPU'})")
    mem = acc.memory_gb
    if mem >= model.comfortable_vram_gb:
        offload = "none"
        reasons.append(f"{mem:g} GB >= {model.comfortable_vram_gb:g} GB: whole pipeline on the GPU")
    elif mem >= model.min_vram_gb:
        offload = "model"
        reasons.append(f"{mem:g} GB < {model.comfortable_vram_gb:g} GB: model CPU offload")
    else:
        offload = "sequential"
        reasons.append(f"{mem:g} GB < {model.min_vram_gb:g} GB: sequential CPU offload (slow)")
    # decoding a long HD clip at once needs several GB; tile it unless memory is plentiful
    big_clip = pixels_per_clip > 768 * 512 * 121
    tiling = offload != "none" or big_clip
    reasons.append("VAE tiling " + ("on" if tiling else "off") + (" (large clip)" if big_clip else ""))
    return DevicePlan(device=device, dtype=dtype, vae_tiling=tiling, offload=offload, reasons=reasons)


def needs_text(model: LocalModel) -> str:
    return (f"{model.id}: {model.params_b:g}B parameters, about {model.min_vram_gb:g} GB GPU memory with offload "
            f"and tiling, {model.comfortable_vram_gb:g} GB without; weights from {model.repo_id}")
