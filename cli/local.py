"""`python main.py local check` (GPU detection and what the model needs) and `python main.py lora train` (LoRA
fine-tuning). torch, diffusers and providers.ltx are imported inside the functions, never at module level, so the
rest of the CLI stays fast."""
from __future__ import annotations

import argparse

from cli.output import EXIT_OK, EXIT_UNAVAILABLE, emit_json, say

#: the torch release README's test command and .ci/run install (tests/test_fresh_machine.py keeps them equal)
TORCH_VERSION = "2.13.0"


def _settings():
    from core.config import load_settings
    return load_settings()


def torch_install_hint() -> str:
    """The commands that install the local extras on this machine; torch first, in the build for its hardware
    (PyPI's Linux wheel is the CUDA build, gigabytes of CUDA libraries a machine without an NVIDIA GPU never uses)."""
    import os
    import shutil
    import sys

    pin = f"pip install torch=={TORCH_VERSION}"
    if sys.platform.startswith("linux") and not (shutil.which("nvidia-smi") or os.path.exists("/proc/driver/nvidia")):
        torch_cmd = f"{pin} --index-url https://download.pytorch.org/whl/cpu (the CPU build)"
    elif sys.platform.startswith("linux"):
        torch_cmd = f"{pin} (the CUDA build; for another CUDA version see https://pytorch.org)"
    else:
        torch_cmd = pin
    return f"{torch_cmd}, then pip install -e \".[local]\""


def _detect():
    """The accelerator, or UnavailableError (exit 3) saying what to install where torch cannot be imported."""
    from core.errors import UnavailableError
    from providers.ltx.local_device import detect

    try:
        return detect()
    except (ImportError, OSError) as exc:  # OSError: torch is there but one of its libraries cannot load
        problem = "torch is not installed" if isinstance(exc, ModuleNotFoundError) else f"torch cannot load ({exc})"
        raise UnavailableError(f"the local deployment needs torch and diffusers; {problem}. "
                               f"Install them: {torch_install_hint()}") from None


def local_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="main.py local", description="Local GPU deployment of LTX-Video")
    sub = ap.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="report the accelerator, versions and what the model needs")
    check.add_argument("--device", choices=("cuda", "mps", "cpu"), help="device to plan for")
    check.add_argument("--model-path", help="a diffusers LTX pipeline folder")
    check.add_argument("--model", help="model id (ltx-video-2b, ltx-video-13b, ltx-2-19b)")
    check.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args(argv)
    return _check(args)


def _check(args) -> int:
    from core.errors import ImageAIError
    from providers.ltx.local_device import choose_device, needs_text, plan
    from providers.ltx.local_models import LocalModel, folder_family, folder_size_gb, local_model

    settings = _settings()
    acc = _detect()
    info = local_model(args.model)
    folder = args.model_path or settings.ltx_local_path
    report: dict = {"accelerator": acc.model_dump(), "model": info.id, "needs": needs_text(info)}
    if folder:
        family = folder_family(folder)
        report["model_path"] = {"path": str(folder), "family": family,
                                "size_gb": round(folder_size_gb(folder), 3) if family else None}
        if family and family != info.family:
            info = LocalModel(**{**info.model_dump(), "family": family})
    requested = args.device or settings.ltx_local_device
    try:
        device = choose_device(requested, acc)
        the_plan = plan(info, device, acc)
        report.update(device=device, offered_as="CPU (very slow)" if device == "cpu" else f"GPU ({acc.name})",
                      plan=the_plan.model_dump(), ok=True)
    except ImageAIError as exc:
        report.update(device=None, ok=False, problem=str(exc))
    if args.json:
        emit_json(report)
    else:
        mem = f", {acc.memory_gb:g} GB" if acc.kind != "none" else ""
        say(f"accelerator: {acc.kind.upper() if acc.kind != 'none' else 'none'} ({acc.name}{mem})")
        say(f"torch {acc.torch_version}, diffusers {acc.diffusers_version or 'not installed'}")
        say(f"model: {report['needs']}")
        if "model_path" in report:
            mp = report["model_path"]
            say(f"model folder: {mp['path']} ({mp['family'] or 'not a diffusers LTX pipeline'})")
        if report["ok"]:
            say(f"local deployment: {report['offered_as']}; {plan(info, report['device'], acc).describe()}")
        else:
            say(f"local deployment unavailable: {report['problem']}")
    return EXIT_OK if report["ok"] else EXIT_UNAVAILABLE


def lora_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="main.py lora", description="LoRA fine-tuning of the local LTX-Video model")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a LoRA on a folder of captioned clips or images")
    tr.add_argument("--data", required=True, help="folder of clips/images, each with a .txt caption of the same name")
    tr.add_argument("--output", required=True, help="the LoRA file to write (.safetensors)")
    tr.add_argument("--steps", type=int, default=500)
    tr.add_argument("--rank", type=int, default=16)
    tr.add_argument("--lr", type=float, default=1e-4)
    tr.add_argument("--resume", action="store_true", help="continue from the checkpoint next to --output")
    tr.add_argument("--checkpoint-every", type=int, default=100)
    tr.add_argument("--width", type=int, default=512)
    tr.add_argument("--height", type=int, default=320)
    tr.add_argument("--frames", type=int, default=25)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--model", help="model id (ltx-video-2b, ltx-video-13b)")
    tr.add_argument("--model-path", help="a diffusers LTX-Video pipeline folder")
    tr.add_argument("--device", choices=("cuda", "mps", "cpu"))
    tr.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    return _train(args)


def _train(args) -> int:
    from pathlib import Path

    from core.errors import InvalidRequestError
    from providers.ltx.local_device import choose_device
    from providers.ltx.lora_train import TrainConfig, default_source, train

    if not args.output.endswith(".safetensors"):
        raise InvalidRequestError("the LoRA file must end in .safetensors", field="output")
    for name, low in (("steps", 1), ("rank", 1), ("checkpoint_every", 1)):
        if getattr(args, name) < low:
            raise InvalidRequestError(f"must be at least {low}", field=name)
    if not 0 < args.lr < 1:
        raise InvalidRequestError("must be between 0 and 1", field="lr")
    settings = _settings()
    source = default_source(args.model_path or settings.ltx_local_path, args.model)
    acc = _detect()
    device = choose_device(args.device or settings.ltx_local_device, acc)
    dtype = "float32" if device == "cpu" else ("bfloat16" if acc.bf16 else "float16")
    cfg = TrainConfig(data=Path(args.data), output=Path(args.output), model_source=source, device=device,
                      dtype=dtype, steps=args.steps, rank=args.rank, lr=args.lr, width=args.width,
                      height=args.height, frames=args.frames, checkpoint_every=args.checkpoint_every,
                      resume=args.resume, seed=args.seed)
    result = train(cfg, log=say)
    if args.json:
        emit_json(result.model_dump(mode="json"))
    return EXIT_OK
