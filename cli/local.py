"""`python main.py local check` (GPU detection and what the model needs), `python main.py local install` (torch in
the build for this hardware, the `local` extra, the weights: resumable, verified, their folder in settings) and
`python main.py lora train` (LoRA fine-tuning). --dry-run of install prints every step and changes nothing (no pip,
no download, no settings write; the hub is asked for the file list, read-only, so the disk check has real numbers).
torch, diffusers and providers.ltx are imported inside the functions, never at module level, so the rest of the CLI
stays fast."""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

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
                               f"Install them: python main.py local install (or by hand: {torch_install_hint()})"
                               ) from None


def local_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="main.py local", description="Local GPU deployment of LTX-Video")
    sub = ap.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="report the accelerator, versions and what the model needs")
    check.add_argument("--device", choices=("cuda", "mps", "cpu"), help="device to plan for")
    check.add_argument("--model-path", help="a diffusers LTX pipeline folder")
    check.add_argument("--model", help="model id (ltx-video-2b, ltx-video-13b, ltx-2-19b)")
    check.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    inst = sub.add_parser("install", help="install torch and the local extra, download and verify the weights")
    build = inst.add_mutually_exclusive_group()
    for flag in ("cuda", "cpu", "mps"):
        build.add_argument(f"--{flag}", dest="build", action="store_const", const=flag,
                           help=f"the {flag.upper()} torch build (default: the one this hardware fits)")
    inst.add_argument("--models", help="model ids separated by commas (default: ltx-video-2b)")
    inst.add_argument("--dir", help="folder for the weights, one subfolder per model (default: <data dir>/models)")
    inst.add_argument("--dry-run", action="store_true", help="print every step and change nothing")
    inst.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args(argv)
    if args.command == "install":
        return install(args)
    return _check(args)


def check_report(args) -> tuple[dict, object]:
    """`local check`'s report (and the model it planned for); args: model, model_path, device."""
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
    return report, info


def _check(args) -> int:
    report, info = check_report(args)
    if args.json:
        emit_json(report)
    else:
        print_check(report, info)
    return EXIT_OK if report["ok"] else EXIT_UNAVAILABLE


def print_check(report: dict, info) -> None:
    from providers.ltx.local_device import Accelerator, plan

    acc = Accelerator(**report["accelerator"])
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


ROOT = Path(__file__).resolve().parent.parent


def default_models_dir() -> Path:
    import platformdirs

    from core.paths import APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def install(args) -> int:
    from core.config import load_settings, save_settings
    from core.errors import UnavailableError
    from providers.ltx import local_install as li
    from providers.ltx.local_models import DEFAULT_LOCAL_MODEL, local_model

    dry = args.dry_run
    report: dict = {"dry_run": dry, "steps": []}

    def step(name: str, text: str, **extra) -> None:
        report["steps"].append({"step": name, "text": text, **extra})
        if not args.json:
            say(f"{'[dry run] ' if dry else ''}{name}: {text}")

    ids = [m.strip() for m in (args.models or DEFAULT_LOCAL_MODEL).split(",") if m.strip()]
    models = [local_model(mid) for mid in ids]  # unknown ids fail here, before anything is done
    base = Path(args.dir).expanduser() if args.dir else default_models_dir()

    hw = li.probe_hardware()
    build = li.choose_torch_build(hw, args.build)
    step("hardware", f"{hw.platform} {hw.machine}" + (f", NVIDIA {hw.gpu_name} (driver {hw.nvidia_driver}, CUDA "
                                                      f"{hw.cuda_version})" if hw.nvidia_driver else ""))
    step("torch build", f"{build.kind} ({build.reason})", build=build.model_dump())

    missing = li.missing_packages(build, li.local_extra_requirements(ROOT))
    commands = li.pip_commands(build, TORCH_VERSION, ROOT)
    if not missing:
        step("packages", "the local extra is already installed: pip is not run")
    else:
        step("packages", f"missing: {', '.join(missing)}; runs " + " && ".join(" ".join(c) for c in commands),
             commands=commands)
        if not dry:
            for cmd in commands:
                # pip's output goes to stderr: stdout stays one JSON object with --json
                if subprocess.run(cmd, stdout=sys.stderr).returncode != 0:
                    raise UnavailableError(f"pip failed: {' '.join(cmd)} (its output is above)")

    if dry and missing and importlib.util.find_spec("huggingface_hub") is None:
        step("download", f"{', '.join(ids)} into {base}: the file list and the disk check come once the "
                         "packages are installed")
        if args.json:
            emit_json(report)
        return EXIT_OK
    repos = [(m, li.remote_repo(m.repo_id), base / m.id) for m in models]
    needed = sum(li.bytes_to_fetch(repo, folder) for _, repo, folder in repos)
    free = li.check_disk(needed, base)
    step("disk", f"{li.gb(needed)} to download into {base}, {li.gb(free)} free", needed=needed, free=free)

    for m, repo, folder in repos:
        step("download", f"{m.id}: {repo.repo_id} at {repo.commit[:12]}, {len(repo.files)} files, "
                         f"{li.gb(repo.size)} into {folder}", model=m.id, folder=str(folder))
        if dry:
            continue
        li.download(repo, folder, log=lambda text: step("resume", text))
        problems = li.verify(repo, folder)
        if problems:
            raise UnavailableError(f"{m.id}: the download does not match the hub ({'; '.join(problems)}); the bad "
                                   "files were removed: run the same command again to fetch them")
        step("verify", f"{m.id}: {len(repo.files)} files match the hub's sizes and hashes", model=m.id)

    first = repos[0][2]
    step("settings", f"ltx_local_path = {first}" + (" and ltx_local_device = cpu" if args.build == "cpu" else ""))
    if not dry:
        settings = load_settings()
        settings.ltx_local_path = str(first)
        if args.build == "cpu":
            settings.ltx_local_device = "cpu"
        save_settings(settings)

    if dry:
        step("check", f"python main.py local check --model {models[0].id} --model-path {first}")
        if args.json:
            emit_json(report)
        return EXIT_OK
    check, info = check_report(argparse.Namespace(model=models[0].id, model_path=str(first),
                                                  device="cpu" if args.build == "cpu" else None))
    report["check"] = check
    if args.json:
        emit_json(report)
    else:
        print_check(check, info)
    return EXIT_OK if check["ok"] else EXIT_UNAVAILABLE
