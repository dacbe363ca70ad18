"""The shared `prepare` of every image provider, driven by the model's catalog entry: the size asked for and the
size the model renders, the input images it takes (the scene's refused beyond that, the project's used up to it),
the settings it takes or ignores, the requests the variants need, the price. No network, no provider.

A provider calls `plan_image` and may then adjust the plan's `sent` (its own wire rules) through the builder."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.images import sizing
from core.images.contract import ImageCall, ImageCapabilities, ImageModelInfo, ImagePlan, ImageRequest
from core.images.output import FORMATS, variant_paths
from core.render.planning import Collector

DEFAULT_STRENGTH = 0.7  # image-to-image: keep the reference's look, let the prompt change the picture


class ImagePlanBuilder(Collector):
    """Collects problems, adjustments and ignored settings while one image request is prepared."""

    def __init__(self, request: ImageRequest, label: str):
        super().__init__(label)  # "gpt-image-2 on OpenAI": named in every message
        self.request = request


def _check_image(b: ImagePlanBuilder, path: Path, field: str) -> None:
    from PIL import Image, UnidentifiedImageError  # only when there are input images

    if not Path(path).is_file():
        b.problem(f"{path}: no such file; give an image file", field=field, allowed=["PNG", "JPEG", "WebP"])
        return
    try:
        with Image.open(path) as im:
            im.verify()
    except (UnidentifiedImageError, OSError, ValueError):
        b.problem(f"{Path(path).name} is not an image", field=field, allowed=["PNG", "JPEG", "WebP"])


def target_size(b: ImagePlanBuilder) -> tuple[int, int]:
    r = b.request
    if (r.width is None) != (r.height is None):
        b.problem("give both width and height (or neither: the project's aspect ratio decides)", field="size",
                  allowed=["e.g. 1280x720"])
    if r.width and r.height:
        return r.width, r.height
    return sizing.size_for_aspect(r.aspect_ratio, r.short_side)


def render_size(b: ImagePlanBuilder, m: ImageModelInfo, width: int, height: int, sent: dict) -> tuple[int, int]:
    """The size the model renders for an asked size, recording what reaches the service in `sent`."""
    if m.size_mode == "fixed":
        rw, rh = sizing.nearest_size(width, height, m.sizes)
        sent["size"] = sizing.size_text(rw, rh)
    elif m.size_mode == "aspect":
        aspect = sizing.nearest_aspect(width, height, m.native_sizes)
        sent["aspect_ratio"] = aspect
        base = m.native_sizes[aspect]
        rw, rh = sizing.parse_size(base)
        if m.tiers:
            options = sorted(m.tiers.items(), key=lambda kv: kv[1])
            tier, factor = options[-1]
            for name, f in options:  # the smallest tier that covers the asked size
                w, h = sizing.scaled(base, f)
                if w >= width and h >= height:
                    tier, factor = name, f
                    break
            rw, rh = sizing.scaled(base, factor)
            sent["image_size"] = tier
    else:
        rw, rh = sizing.free_size(width, height, multiple=m.multiple, min_pixels=m.min_pixels,
                                  max_pixels=m.max_pixels, max_side=m.max_side, max_ratio=m.max_ratio)
        sent["size"] = sizing.size_text(rw, rh)
    if (rw, rh) != (width, height):
        shape = "cropped to the asked shape and " if abs(rw / rh - width / height) > 0.005 else ""
        b.adjust("size", sizing.size_text(width, height), sizing.size_text(rw, rh),
                 f"{b.label} renders {rw}x{rh}; the image is {shape}scaled to {width}x{height}")
    return rw, rh


def references(b: ImagePlanBuilder, m: ImageModelInfo, models_taking: list[str]) -> list[Path]:
    """The input images to send: the scene's own first (refused beyond what the model takes), then the project's
    up to what is left (the rest is an adjustment)."""
    r = b.request
    scene, project = list(r.reference_images), list(r.project_reference_images)
    for i, p in enumerate(scene):
        _check_image(b, p, f"reference_images[{i}]")
    if m.references == "none" or m.max_reference_images == 0:
        if scene:
            b.problem(f"{b.label} takes no reference images", field="reference_images", allowed=models_taking)
        if project:
            b.ignore("project reference images", len(project), f"{b.label} takes no input images")
        return []
    limit = m.max_reference_images
    if len(scene) > limit:
        b.problem(f"{len(scene)} reference images given; {b.label} takes at most {limit}", field="reference_images",
                  allowed=[f"at most {limit}"])
        scene = scene[:limit]
    room = limit - len(scene)
    used = project[:room]
    if len(project) > room:
        b.adjust("project reference images", len(project), len(used),
                 f"{b.label} takes {limit} input image(s); uses {len(used)} of the project's {len(project)}")
    for i, p in enumerate(used):
        _check_image(b, p, f"project reference {i + 1}")
    return scene + used


def settings(b: ImagePlanBuilder, m: ImageModelInfo, refs: list[Path], sent: dict) -> None:
    r = b.request
    label = b.label
    if r.seed is not None:
        if "seed" in m.params:
            sent["seed"] = r.seed
        else:
            b.ignore("seed", r.seed, f"{label} takes no seed")
    if r.negative_prompt:
        if "negative_prompt" in m.params:
            sent["negative_prompt"] = r.negative_prompt
        else:
            b.ignore("negative_prompt", r.negative_prompt, f"{label} takes no negative prompt")
    if m.qualities:
        quality = r.quality or m.default_quality
        if quality not in m.qualities:
            b.problem(f"quality {quality!r} is not offered by {label}", field="quality", allowed=m.qualities)
            quality = m.default_quality
        sent["quality"] = quality
    elif r.quality:
        b.ignore("quality", r.quality, f"{label} has one quality")
    if m.references == "init" and refs:
        sent["strength"] = r.strength if r.strength is not None else DEFAULT_STRENGTH
    elif r.strength is not None:
        b.ignore("strength", r.strength, "strength applies to image-to-image only (give a reference image)"
                 if m.references == "init" else f"{label} does not start from an input image")


def calls_for(m: ImageModelInfo, r: ImageRequest, seeded: bool) -> list[ImageCall]:
    """One request per variant, or fewer where one request returns several (OpenAI's n). With a seed, variant i
    carries seed + i, so each variant is reproducible on its own."""
    paths = variant_paths(r.output_path, r.variants)
    per = max(1, m.max_per_request)
    calls = []
    for start in range(0, len(paths), per):
        seed = (r.seed + start) % 2 ** 32 if (seeded and r.seed is not None) else None
        calls.append(ImageCall(index=len(calls), outputs=paths[start:start + per], seed=seed))
    return calls


def plan_image(provider: str, caps: ImageCapabilities, request: ImageRequest, *, label_of=None,
               finish=None) -> ImagePlan:
    """The plan of one request. `label_of(model)` names the model in messages; `finish(builder, model, plan)` lets
    the provider apply its own wire rules before the problems are raised."""
    b = ImagePlanBuilder(request, caps.display_name)
    m = caps.model(request.model)
    b.label = label_of(m) if label_of else f"{m.id} on {caps.display_name}"
    if not request.prompt.strip():
        b.problem("give a prompt: what the image shows", field="prompt")
    if Path(request.output_path).suffix.lower() not in FORMATS:
        b.problem(f"{Path(request.output_path).name} is not an image file name", field="output",
                  allowed=list(FORMATS))
    width, height = target_size(b)
    sent: dict[str, Any] = {}
    rw, rh = render_size(b, m, width, height, sent)
    taking = [x.id for x in caps.models if x.references != "none" and x.max_reference_images > 0]
    refs = references(b, m, taking)
    settings(b, m, refs, sent)
    mode = "text-to-image" if not refs else ("image-to-image" if m.references == "init" else "reference-images")
    calls = calls_for(m, request, "seed" in m.params)
    per_image = m.price(sent.get("quality") or sent.get("image_size"), rw * rh)
    plan = ImagePlan(provider=provider, model=m.id, mode=mode, request=request, width=width, height=height,
                     render_width=rw, render_height=rh, sent=sent, references=refs, calls=calls,
                     cost_per_image=per_image, cost=round(per_image * request.variants, 4))
    if finish is not None:
        finish(b, m, plan)
    b.raise_problems()
    plan.adjustments, plan.ignored = b.adjustments, b.ignored
    plan.settings_hash = settings_hash(plan)
    return plan


def settings_hash(plan: ImagePlan) -> str:
    """What reached the service, the prompt, the inputs and the size written (ignored settings excluded)."""
    r = plan.request
    payload = {"provider": plan.provider, "model": plan.model, "mode": plan.mode, "sent": plan.sent,
               "prompt": r.prompt, "size": [plan.width, plan.height],
               "inputs": r.input_names or [str(p) for p in plan.references]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
