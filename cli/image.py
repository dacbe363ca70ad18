"""`python main.py image --provider P [--model M] -p PROMPT -o out.png [--size WxH] [--reference PATH]...`: one image
(or several variants) from an image provider, no project. `--estimate` prices it and spends nothing; `--list` shows
the providers, their models and the price of one image. Keys come from core.secrets (never from a flag)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.clip import say_plan
from cli.output import EXIT_OK, emit_json, money, print_estimate, say
from core.errors import ImageAIError, InvalidRequestError
from core.video.ids import ASPECT_RATIOS

DESCRIPTION = """Make an image (a start or end frame, a reference) with an image provider.

  python main.py image --provider google -p "a red fox in snow" -o fox.png --size 1280x720
  python main.py image --provider openai -p "the same fox, running" -o run.png --reference fox.png
  python main.py image --provider stability -p "..." -o x.png --estimate --json
  python main.py image --list

Providers: google (Gemini image models; GEMINI_API_KEY), openai (GPT image models; OPENAI_API_KEY), stability
(Stable Image / SD 3.5; STABILITY_API_KEY), local-sd (diffusers on your GPU; --device cpu to run on the CPU).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py image", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provider", help="google (default), openai, stability or local-sd")
    p.add_argument("--model", help="model id (default: the provider's own; --list shows them)")
    p.add_argument("-p", "--prompt", help="what the image shows")
    p.add_argument("-o", "--output", help="where to write the image (.png, .jpg, .webp); variants get -1, -2, ...")
    p.add_argument("--size", help="WIDTHxHEIGHT of the image written (default: --aspect at --short-side)")
    p.add_argument("--aspect", choices=ASPECT_RATIOS, help="aspect ratio when no --size is given (default 16:9)")
    p.add_argument("--short-side", type=int, default=720, help="short side when no --size is given (default 720)")
    p.add_argument("--reference", action="append", default=[], metavar="PATH",
                   help="input image the model keeps to (repeatable; image-to-image models use the first)")
    p.add_argument("--variants", type=int, default=1, help="how many images (1-10)")
    p.add_argument("--seed", type=int, help="seed for a reproducible image (where the model takes one)")
    p.add_argument("--negative-prompt", help="what the image should not show (where the model takes one)")
    p.add_argument("--quality", help="OpenAI: low, medium, high, auto (the price depends on it)")
    p.add_argument("--strength", type=float, help="image-to-image: how far from the reference (0-1, default 0.7)")
    p.add_argument("--model-path", help="local-sd: a folder holding a diffusers text-to-image pipeline")
    p.add_argument("--device", choices=("cuda", "mps", "cpu"), help="local-sd: the device")
    p.add_argument("--steps", type=int, help="local-sd: denoising steps")
    p.add_argument("--guidance", type=float, help="local-sd: guidance scale")
    p.add_argument("--estimate", action="store_true", help="print the cost and spend nothing")
    p.add_argument("--list", action="store_true", help="list the image providers and models")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--verbose", action="store_true", help="log to stderr too")
    return p


def request_from_args(args: argparse.Namespace):
    from pydantic import ValidationError

    from core.images import sizing
    from core.images.contract import ImageRequest

    width = height = None
    if args.size:
        width, height = sizing.parse_size(args.size)
    options = {k: v for k, v in (("model_path", args.model_path), ("device", args.device), ("steps", args.steps),
                                 ("guidance", args.guidance)) if v is not None}
    output = Path(args.output or "estimate.png").expanduser().resolve()
    try:
        return ImageRequest(
            prompt=args.prompt or "", output_path=output, model=args.model, width=width, height=height,
            aspect_ratio=args.aspect, short_side=args.short_side, variants=args.variants, seed=args.seed,
            negative_prompt=args.negative_prompt, quality=args.quality, strength=args.strength,
            reference_images=[Path(r).expanduser().resolve() for r in args.reference], options=options,
            input_names={"reference_images": list(args.reference)})
    except ValidationError as exc:
        from cli.output import describe_validation
        raise InvalidRequestError(describe_validation(exc)) from None


def plan_payload(plan) -> dict:
    return {"provider": plan.provider, "model": plan.model, "mode": plan.mode, "width": plan.width,
            "height": plan.height, "render_size": (f"{plan.render_width}x{plan.render_height}"
                                                   if plan.render_width else None),
            "variants": plan.request.variants, "requests": len(plan.calls), "cost_per_image": plan.cost_per_image,
            "estimated_cost": plan.cost, "sent": plan.sent, "references": [str(p) for p in plan.references],
            "outputs": [str(p) for p in plan.outputs], "settings_hash": plan.settings_hash,
            "adjustments": [a.model_dump(mode="json") for a in plan.adjustments],
            "ignored": [i.model_dump(mode="json") for i in plan.ignored]}


def list_payload(settings) -> dict:
    from providers.images import registry

    out = []
    for status in registry.image_statuses(settings):
        caps = registry.get_image(status.name, settings).capabilities()
        out.append({"name": status.name, "display_name": status.display_name, "available": status.available,
                    "reason": status.reason, "default_model": caps.default_model,
                    "models": [{"id": m.id, "label": m.label, "price_per_image": m.price_per_image,
                                "references": m.references, "max_reference_images": m.max_reference_images,
                                "price_note": m.price_note} for m in caps.models]})
    return {"providers": out}


def image_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from core.config import load_settings
    settings = load_settings()
    if args.list:
        payload = list_payload(settings)
        if args.json:
            emit_json(payload)
        else:
            for p in payload["providers"]:
                state = "ready" if p["available"] else f"unavailable: {p['reason']}"
                print(f"{p['name']} ({p['display_name']}): {state}")
                for m in p["models"]:
                    prices = ", ".join(f"{k if k != '*' else 'each'} ${v:g}" for k, v in m["price_per_image"].items())
                    print(f"  {m['id']:<28} {prices}")
        return EXIT_OK
    if not args.prompt:
        raise InvalidRequestError("give a prompt with -p", field="prompt")
    if not args.output and not args.estimate:
        raise InvalidRequestError("give the output file with -o OUT.png", field="output",
                                  allowed=[".png", ".jpg", ".webp"])
    from providers.images import registry
    provider = registry.get_image(args.provider or registry.DEFAULT, settings)
    plan = provider.prepare(request_from_args(args))
    say_plan(plan)  # the same lines as a clip's plan: adjusted ..., ignored ...
    if args.estimate:
        return print_estimate(args.json, plan_payload(plan), plan.cost,
                              f"estimated cost: {money(plan.cost)} ({plan.provider}, {plan.model}, "
                              f"{plan.request.variants} x {money(plan.cost_per_image)}, {plan.width}x{plan.height})")
    provider.check_available(plan)
    import asyncio
    results = asyncio.run(_generate(provider, plan, settings))
    payload = {**plan_payload(plan), "cost": round(sum(r.cost for r in results), 4),
               "images": [{"path": str(r.path), "width": r.width, "height": r.height, "seed": r.seed,
                           "rendered": list(r.rendered) if r.rendered else None} for r in results]}
    if args.json:
        emit_json(payload)
    else:
        for r in results:
            say(f"wrote {r.path} ({r.width}x{r.height}" + (f", seed {r.seed}" if r.seed is not None else "") + ")")
        say(f"cost: {money(payload['cost'])}")
    return EXIT_OK


async def _generate(provider, plan, settings):
    from types import SimpleNamespace

    from cli.output import ProgressPrinter
    printer = ProgressPrinter({"image": "image"})

    def progress(event) -> None:
        printer(SimpleNamespace(kind="progress", scene_id="image", fraction=event.fraction, message=event.message,
                                cost=None))

    def on_retry(exc, attempt, delay, what):
        say(f"{what}: {exc} (retry {attempt} in {delay:g} s)")

    try:
        return await provider.generate(plan, progress, retries=settings.render_retries,
                                       timeout_s=settings.render_timeout_s, on_retry=on_retry)
    except ImageAIError as exc:
        for r in getattr(exc, "partial", []):
            say(f"kept {r.path} (made before the error)")
        raise
    finally:
        await provider.aclose()
