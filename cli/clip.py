"""`python main.py --provider NAME -p PROMPT -o OUT.mp4 ...`: render one clip, no project."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.flags import (add_media_flags, add_render_flags, all_problems, checked_settings, optional_path,
                       parse_keyframe)
from cli.output import EXIT_OK, ProgressPrinter, emit_json, money, print_estimate, say
from core.errors import InvalidRequestError

DESCRIPTION = """Render one clip, or work on projects.

Commands:
  python main.py --provider NAME -p PROMPT -o OUT.mp4 [render flags]   one clip
  python main.py project new|add-scene|render|info|export DIR ...        projects (python main.py project --help)
  python main.py image --provider P -p PROMPT -o OUT.png                 one image (a start or end frame)
  python main.py compare A.mp4 B.mp4 -o side_by_side.mp4                 compare two clips
  python main.py compare --project DIR --scene N --providers A,B         render one scene with two providers
  python main.py local check                                            local GPU report
  python main.py lora train --data DIR --output FILE.safetensors        LoRA fine-tuning
  python main.py                                                        open the app window
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-p", "--prompt", help="what the clip shows")
    p.add_argument("-o", "--output", help="where to write the clip (.mp4)")
    p.add_argument("--estimate", action="store_true", help="print the cost and spend nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--verbose", action="store_true", help="log to stderr too")
    add_render_flags(p)
    add_media_flags(p)
    return p


def request_from_args(args: argparse.Namespace, output: Path, settings):
    from core.render.contract import RenderRequest
    from core.video.render_settings import layer_settings
    # the provider's prepare checks the references with every other problem
    staging = output.with_name(f".{output.stem}.incoming{output.suffix}")
    return RenderRequest(
        prompt=args.prompt or "", layered=layer_settings([("run", settings)]),
        cut_seconds=settings.duration,
        start_image=optional_path(args.image), end_image=optional_path(args.end_image),
        keyframes=[(s, p.resolve()) for s, p in map(parse_keyframe, args.keyframe)],
        reference_images=[Path(r).expanduser().resolve() for r in args.reference],
        source_video=optional_path(args.source_video), extend_video=optional_path(args.extend),
        output_path=staging, work_dir=output.parent,
        input_names={"start_image": args.image, "end_image": args.end_image, "keyframes": args.keyframe,
                     "reference_images": args.reference, "source_video": args.source_video,
                     "extend_video": args.extend},
    )


def plan_payload(plan) -> dict:
    return {"provider": plan.provider, "model": plan.model, "deployment": plan.deployment, "mode": plan.mode,
            "estimated_cost": plan.cost, "render_seconds": plan.render_seconds, "cut_seconds": plan.cut_seconds,
            "resolution": plan.sent.get("resolution"), "fps": plan.sent.get("fps"),
            "adjustments": [a.model_dump(mode="json") for a in plan.adjustments],
            "ignored": [i.model_dump(mode="json") for i in plan.ignored]}


def say_plan(plan) -> None:
    for a in plan.adjustments:
        say(f"adjusted {a}")
    for i in plan.ignored:
        say(f"ignored {i}")


def clip_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    settings, problems = checked_settings(args)  # every problem is reported at once, the flags' and the plan's
    if not args.prompt and not args.image:
        problems.append(InvalidRequestError("give a prompt with -p (or a start image with --image)", field="prompt"))
    if not args.output and not args.estimate:
        problems.append(InvalidRequestError("give the output file with -o OUT.mp4", field="output"))
    output = Path(args.output or "estimate.mp4").expanduser().resolve()
    if output.suffix.lower() not in (".mp4", ".mov"):
        problems.append(InvalidRequestError(f"output {output.name} must end in .mp4 or .mov", field="output",
                                            allowed=[".mp4", ".mov"]))
    from core.config import load_settings
    from providers import registry
    try:
        request = request_from_args(args, output, settings)
        app_settings = load_settings()
        provider = registry.get(request.settings.provider, app_settings)
        plan = provider.prepare(request)
    except InvalidRequestError as exc:
        all_problems(problems, exc)
        raise
    all_problems(problems)
    say_plan(plan)
    if args.estimate:
        return print_estimate(args.json, plan_payload(plan), plan.cost,
                              f"estimated cost: {money(plan.cost)} ({plan.provider}, {plan.model}, "
                              f"{plan.sent.get('resolution')}, {plan.render_seconds:g} s)")
    provider.check_available(plan)
    import asyncio
    output.parent.mkdir(parents=True, exist_ok=True)
    result, job_id = asyncio.run(_render(provider, plan, app_settings, output))
    payload = {**plan_payload(plan), "output": str(result.clip_path), "job_id": job_id,
               "duration": result.duration, "width": result.width, "height": result.height,
               "fps": result.fps, "has_audio": result.has_audio, "cost": result.cost, "seed": result.seed}
    if args.json:
        emit_json(payload)
    else:
        say(f"wrote {result.clip_path} ({result.duration:.2f} s, {result.width}x{result.height}, "
            f"{result.fps:g} fps, {money(result.cost)})")
    return EXIT_OK


async def _render(provider, plan, settings, output: Path):
    from asyncio import CancelledError, to_thread

    from core.render.events import RenderEvent
    from core.render.retry import cancel_job, follow_job, submit_job
    from core.render.verify_step import verify_result
    from core.video.trim import trim_clip
    from providers.base import ProgressEvent
    printer = ProgressPrinter({"clip": "clip"})

    def progress(event: ProgressEvent) -> None:
        printer(RenderEvent(kind="progress", scene_id="clip", fraction=event.fraction, message=event.message))

    def on_retry(exc, attempt, delay, what):
        say(f"{what}: {exc} (retry {attempt} in {delay:g} s)")

    job_id = None
    try:
        job_id = await submit_job(provider, plan, progress, retries=settings.render_retries, on_retry=on_retry)
        say(f"submitted job {job_id}")
        result = await follow_job(provider, job_id, plan, progress, retries=settings.render_retries,
                                  timeout_s=settings.render_timeout_s, on_retry=on_retry)
        await to_thread(verify_result, result, plan, output)
        if plan.cut_seconds and plan.render_seconds - plan.cut_seconds > 0.01:
            say(f"cutting the {plan.render_seconds:g} s clip to {plan.cut_seconds:g} s")
            result.duration = await to_thread(trim_clip, output, plan.cut_seconds)
        return result, job_id
    except (CancelledError, KeyboardInterrupt):
        await cancel_job(provider, job_id, plan)
        raise
    finally:
        await provider.aclose()
