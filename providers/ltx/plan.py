"""LTX-Video's `prepare`: one request -> one plan, made once, no network.

Fills every unset value from the catalog's defaults for the model and deployment, adapts inherited values the
model cannot take (an adjustment each), refuses explicit ones (every problem at once), chooses the render length
that covers the scene, lists the settings the endpoint does not take, and prices what will be rendered. The
backends build their requests from the resulting LTXPlan and never validate again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.render.contract import RenderPlan, RenderRequest
from core.render.planning import InputFacts, PlanBuilder, finish_plan
from core.video.ids import CAMERA_MOTIONS, DEPLOYMENTS, EXTEND_DIRECTIONS
from core.video.render_settings import frame_size
from providers.ltx import camera, catalog
from providers.ltx import comfyui_workflows as wf


class LTXOptions(BaseModel):
    """LTX-Video's own settings (the `options` part of the render settings). Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    lora_path: Optional[str] = None
    lora_scale: float = Field(1.0, ge=0.0, le=2.0)
    guidance_scale: Optional[float] = Field(None, ge=0, le=30)
    num_inference_steps: Optional[int] = Field(None, ge=1, le=200)
    webhook_url: Optional[str] = None
    extend_direction: Optional[str] = None
    # local / ComfyUI: exact size and frame count instead of resolution and duration, device, weights, workflow
    width: Optional[int] = Field(None, ge=16, le=8192)
    height: Optional[int] = Field(None, ge=16, le=8192)
    frames: Optional[int] = Field(None, ge=1, le=2000)
    device: Optional[str] = None
    model_path: Optional[str] = None
    workflow: Optional[str] = None


class LTXGenerationConfig(BaseModel):
    """One LTX render with every value resolved (ids, not labels; paths absolute): what the backends send."""

    model_config = ConfigDict(extra="forbid")

    model: str = catalog.DEFAULT_MODEL
    deployment: str = catalog.DEFAULT_DEPLOYMENT
    prompt: str
    negative_prompt: Optional[str] = None
    resolution: str = "1080p"
    aspect_ratio: str = "16:9"
    fps: int = 25
    duration: float = 6.0
    include_audio: bool = True
    audio_prompt: Optional[str] = None
    start_image: Optional[Path] = None
    end_image: Optional[Path] = None
    keyframes: list[tuple[float, Path]] = Field(default_factory=list)
    reference_images: list[Path] = Field(default_factory=list)
    source_video: Optional[Path] = None
    extend_video: Optional[Path] = None
    extend_direction: str = "forward"
    camera_motion: str = "none"
    camera_speed: float = Field(1.0, ge=0.5, le=2.0)
    lora_path: Optional[str] = None
    lora_scale: float = 1.0
    seed: Optional[int] = None
    guidance_scale: Optional[float] = None
    num_inference_steps: Optional[int] = None
    webhook_url: Optional[str] = None
    output_path: Optional[Path] = None
    work_dir: Optional[Path] = None
    width: Optional[int] = None
    height: Optional[int] = None
    frames: Optional[int] = None
    device: Optional[str] = None
    model_path: Optional[str] = None
    workflow: Optional[str] = None

    def generation_mode(self) -> str:
        if self.extend_video:
            return "extend"
        if self.source_video:
            return "video-to-video"
        if self.keyframes:
            return "multi-keyframe"
        if self.end_image:
            return "first-last-frame"
        if self.start_image:
            return "image-to-video"
        return "text-to-video"


@dataclass
class LTXPlan:
    """A resolved config and what it turns into on its endpoint (the backends build requests from this)."""

    config: LTXGenerationConfig
    entry: dict
    mode: str
    endpoint: str
    prompt: str                      # with the camera wording and the audio prompt folded in where needed
    start_image: Optional[Path]      # the start image, or the reference standing in for it
    references: list[Path]           # references passed as conditioning (13B multiconditioning)
    camera_lora: Optional[str]
    camera_scale: Optional[float]
    source_seconds: Optional[float]  # length of the source / extended video
    expected_duration: Optional[float]
    min_duration: Optional[float]
    billed_seconds: float
    extra: dict = field(default_factory=dict)
    #: the clip to extend when it is still to be rendered in this run (no file yet: backends do not look for it)
    pending_video: Optional[Path] = None

    @property
    def schema(self) -> str:
        return self.entry["schema"]

    def cost(self, seconds: Optional[float] = None) -> float:
        c = self.config
        return catalog.price(self.entry, resolution=c.resolution, aspect_ratio=c.aspect_ratio, fps=c.fps,
                             seconds=self.billed_seconds if seconds is None else seconds, mode=self.mode)


def _defaults(e: dict) -> dict:
    """The model's own defaults on this endpoint (every catalog entry states them; a tier's pins win)."""
    return {**e["defaults"], **e.get("pinned", {})}


def _options(b: PlanBuilder) -> LTXOptions:
    try:
        return LTXOptions.model_validate(b.layered.settings.options)
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(x) for x in err["loc"]) or "options"
            if err["type"] == "extra_forbidden":
                b.problem(f"LTX-Video has no option {name!r}", field=f"options.{name}",
                          allowed=list(LTXOptions.model_fields))
            else:
                b.problem(err["msg"], field=f"options.{name}")
        return LTXOptions()


def prepare(request: RenderRequest) -> RenderPlan:
    s = request.settings
    deployment = s.deployment or catalog.DEFAULT_DEPLOYMENT
    model = s.model or catalog.default_model(deployment)
    b = PlanBuilder(request, f"{model} on {deployment}")
    if deployment not in DEPLOYMENTS:
        b.problem(f"unknown deployment {deployment!r}", field="deployment", allowed=DEPLOYMENTS)
        b.raise_problems()
    try:
        e = catalog.entry(model, deployment)
    except Exception as exc:  # InvalidRequestError naming the models/deployments that exist
        b.problems.append(exc)  # type: ignore[arg-type]
        b.raise_problems()
        raise
    opts = _options(b)
    defaults = _defaults(e)
    modes = catalog.modes_of(e)
    params = set(e.get("params", []))
    open_weights = e["schema"] == "open"

    # the mode follows from the inputs
    probe = LTXGenerationConfig(prompt=request.prompt, start_image=request.start_image,
                                end_image=request.end_image, keyframes=list(request.keyframes),
                                source_video=request.source_video, extend_video=request.extend_video)
    mode = probe.generation_mode()
    if mode not in modes:
        way_out = {"first-last-frame": "clear the scene's end frame", "multi-keyframe": "clear its keyframes"}.get(mode)
        b.problem(f"{b.label} has no {mode} mode" + (f": {way_out}, or choose a model with it on {deployment}: "
                                                      f"{', '.join(_models_with(deployment, mode=mode)) or 'none'}"
                                                      if way_out else ""), field="mode",
                  allowed=[m for m in modes if m in catalog.GENERATION_MODES])
    if mode == "first-last-frame" and request.start_image is None:
        b.problem("an end image needs a start image too", field="end_image")

    # values: unset -> the model's default; inherited and not offered -> nearest (an adjustment)
    pinned = e.get("pinned", {})
    res_allowed = e.get("mode_resolutions", {}).get(mode, e["resolutions"])
    exact_size = open_weights and bool(opts.width and opts.height)
    resolution = b.choose("resolution", [pinned["resolution"]] if "resolution" in pinned else res_allowed,
                          defaults["resolution"] if defaults["resolution"] in res_allowed else res_allowed[0])
    aspect = b.choose("aspect_ratio", e["aspect_ratios"], defaults["aspect_ratio"]) if not exact_size else \
        (s.aspect_ratio or defaults["aspect_ratio"])
    fps = (s.fps or defaults["fps"]) if open_weights and opts.workflow else b.choose(  # a custom workflow: as given
        "fps", [pinned["fps"]] if "fps" in pinned else e["fps"], defaults["fps"], what=f"{s.fps} fps")
    durations = [float(d) for d in e.get("durations", [])]
    if "duration" in pinned:
        durations = [float(pinned["duration"])]
    cut = request.cut_seconds if request.cut_seconds is not None else s.duration
    if open_weights and opts.frames:
        length = round((opts.frames - 1) / fps, 3)
    elif mode == "extend" or (mode == "video-to-video" and e["schema"] not in ("ltxv13b", "open")):
        length = float(cut if cut is not None else defaults["duration"])  # the added length / the source's
    else:
        length = b.render_length(cut, durations, float(e.get("min_duration", min(durations or [1]))),
                                 float(e.get("max_duration", max(durations or [10]))), float(defaults["duration"]),
                                 ways_out="extend it with a following scene or split the scene")
    rule = e.get("long_duration")
    if rule and length > rule["above"]:
        if resolution not in rule["resolutions"] or fps not in rule["fps"]:
            if b.layered.explicit("resolution") or b.layered.explicit("fps"):
                b.problem(f"clips longer than {rule['above']} s need {'/'.join(rule['resolutions'])} at "
                          f"{'/'.join(str(f) for f in rule['fps'])} fps", field="duration",
                          allowed=[f"{d:g}" for d in durations if d <= rule["above"]])
            else:
                new_res, new_fps = rule["resolutions"][0], rule["fps"][-1] if 25 not in rule["fps"] else 25
                b.adjust("resolution", resolution, new_res, f"clips longer than {rule['above']} s render at "
                                                            f"{new_res} {new_fps} fps on {b.label}")
                resolution, fps = new_res, new_fps

    # inputs: decoded / probed once
    facts = InputFacts(b)
    facts.check_all(request, length)
    source_seconds = facts.video(request.source_video, "source_video") or facts.video(request.extend_video,
                                                                                       "extend_video")
    if mode == "video-to-video" and e["schema"] in ("ltx2", "ltx23", "r_ltx23_pro") and source_seconds is not None:
        if not 2 <= source_seconds <= 20:
            b.problem(f"the source video is {source_seconds:.1f} s; retake takes 2-20 s", field="source_video",
                      allowed=["2-20 s"])

    start_image, conditioning_refs = _references(b, e, modes, mode, request)
    if start_image is not None and request.start_image is None and mode == "text-to-video":
        mode = "image-to-video"

    # extend direction
    direction = opts.extend_direction
    if mode == "extend":
        allowed_dirs = e.get("extend_directions", [])
        direction = direction or "forward"
        if direction not in EXTEND_DIRECTIONS or direction not in allowed_dirs:
            b.problem(f"{b.label} cannot extend {direction}", field="extend_direction", allowed=allowed_dirs)
    elif direction is not None:
        b.ignore("extend_direction", direction, "no video to extend in this scene")

    # options and optional settings this endpoint takes or ignores
    if opts.lora_path:
        if "lora" not in modes:
            b.problem(f"{b.label} takes no LoRA", field="lora",
                      allowed=[f"models with LoRA on {deployment}: " +
                               ", ".join(_models_with(deployment, mode="lora"))])
        elif not opts.lora_path.startswith("https://") and not Path(opts.lora_path).is_file():
            b.problem(f"{opts.lora_path}: no such LoRA file", field="lora",
                      allowed=["a .safetensors file", "an https:// URL"])
    for opt, param, label in (("guidance_scale", "guidance", "guidance scale"),
                              ("num_inference_steps", "steps", "inference-steps setting")):
        if getattr(opts, opt) is not None and param not in params:
            b.ignore(opt, getattr(opts, opt), f"{b.label} has no {label}; models with it: "
                                              f"{', '.join(_models_with(deployment, param=param)) or 'none here'}")
    if opts.webhook_url is not None:
        if "webhook" not in params:
            b.ignore("webhook_url", opts.webhook_url, f"the {deployment} deployment calls no webhook")
        elif not opts.webhook_url.startswith("https://"):
            b.problem(f"webhook URL {opts.webhook_url!r} is not https", field="webhook_url", allowed=["https://..."])
    for opt in ("width", "height", "frames", "device", "model_path", "workflow"):
        value = getattr(opts, opt)
        if value is not None and not open_weights:
            b.ignore(opt, value, f"only the local and ComfyUI deployments take {opt}")
        elif value is not None and opt == "workflow" and deployment != "comfyui":
            b.ignore(opt, value, "only the ComfyUI deployment takes a workflow")
        elif value is not None and opt in ("device", "model_path") and deployment != "local":
            b.ignore(opt, value, f"only the local deployment takes {opt.replace('_', ' ')}")
    if s.seed is not None and "seed" not in params:
        b.ignore("seed", s.seed, f"{b.label} takes no seed: the same prompt renders differently each time")
    if s.negative_prompt and "negative_prompt" not in params:
        b.ignore("negative_prompt", s.negative_prompt, f"{b.label} takes no negative prompt")
    has_audio, no_audio_why = _audio_here(e, modes, model, deployment, mode, opts, b.label)
    include_audio = s.include_audio if s.include_audio is not None else has_audio
    if deployment == "comfyui" and s.include_audio is None:
        include_audio = has_audio and bool(s.audio_prompt)  # a graph of its own: asked for, never a default
    if not has_audio:
        if s.include_audio:
            b.ignore("include_audio", True, no_audio_why)
        if s.audio_prompt:
            b.ignore("audio_prompt", s.audio_prompt, no_audio_why)
        include_audio = False
    else:
        if s.include_audio is False and "generate_audio" not in params and mode not in ("video-to-video",):
            b.ignore("include_audio", False, f"{b.label} always renders audio (the export can mute it)")
            include_audio = True
        if s.audio_prompt and not include_audio:
            b.problem("an audio prompt needs audio turned on (--audio)", field="audio_prompt")
    motion = s.camera_motion or "none"
    if motion not in CAMERA_MOTIONS:
        b.problem(f"unknown camera motion {motion!r}", field="camera_motion", allowed=CAMERA_MOTIONS)
    speed = s.camera_speed if s.camera_speed is not None else 1.0
    camera_kind = e.get("camera", "prompt")
    if deployment == "comfyui" and (opts.workflow or not wf.takes_camera_lora(model, mode, audio=include_audio)):
        camera_kind = "prompt"  # no camera-LoRA template for this render: the motion is prompt wording
    # the prompt's wording carries the speed where no camera field takes the motion (zoom, orbit) and for a pan
    speed_in_prompt = camera_kind == "prompt" or camera.lora_id(motion) is None or motion.startswith("pan_")
    if s.camera_speed is not None and (motion == "none" or ("camera_speed" not in params and not speed_in_prompt)):
        b.ignore("camera_speed", s.camera_speed, "no camera motion is set" if motion == "none" else
                 f"{b.label}'s camera motion has no speed")
    if request.output_path is None:
        b.problem("no output path", field="output_path")
    b.raise_problems()
    if deployment == "comfyui" and not opts.workflow:
        _template_takes(b, model, mode, opts, audio=include_audio,
                        camera_lora=camera_kind == "lora" and camera.lora_id(motion) is not None)

    for name, reason in _decided_elsewhere(e, mode, opts):
        if name == "include_audio" and s.include_audio is None:  # the default too: no sound is asked for or required
            b.ignore(name, include_audio, reason)
        else:
            b.not_taken(name, reason)
    ignored = {i.field for i in b.ignored}
    config = LTXGenerationConfig(
        model=model, deployment=deployment, prompt=request.prompt,
        negative_prompt=None if "negative_prompt" in ignored else s.negative_prompt, resolution=resolution,
        aspect_ratio=aspect, fps=fps, duration=length, include_audio=include_audio,
        audio_prompt=s.audio_prompt if has_audio else None, start_image=request.start_image,
        end_image=request.end_image, keyframes=list(request.keyframes), reference_images=conditioning_refs,
        source_video=request.source_video, extend_video=request.extend_video,
        extend_direction=direction or "forward", camera_motion=motion, camera_speed=speed,
        lora_path=opts.lora_path, lora_scale=opts.lora_scale,
        seed=None if "seed" in ignored else s.seed,
        guidance_scale=None if "guidance_scale" in ignored else opts.guidance_scale,
        num_inference_steps=None if "num_inference_steps" in ignored else opts.num_inference_steps,
        webhook_url=None if "webhook_url" in ignored else opts.webhook_url, output_path=request.output_path,
        work_dir=request.work_dir, **{k: (None if k in ignored else getattr(opts, k))
                                      for k in ("width", "height", "frames", "device", "model_path", "workflow")})
    prompt, lora, scale = camera.apply(request.prompt, motion, speed, camera_kind)
    if config.audio_prompt:
        # no API has an audio-prompt field: LTX-2 reads sound cues from the prompt itself
        prompt = f"{prompt.rstrip()} Audio: {config.audio_prompt.strip()}"
    endpoint = ("" if open_weights else
                catalog.endpoint_for(e, mode, lora=bool(config.lora_path), references=bool(conditioning_refs)))
    expected: Optional[float] = float(length)
    min_duration = None
    billed = float(length)
    if mode == "extend":
        expected, min_duration = None, float(length)
    elif mode == "video-to-video" and e["schema"] not in ("ltxv13b", "open"):
        expected = source_seconds
        billed = float(source_seconds or length)
        config.duration = billed  # a retake keeps its source's length
        if cut is not None and abs(float(cut) - billed) > 0.01:
            b.adjust("duration", cut, billed, f"a retake keeps its source video's length ({billed:g} s)")
    ltx = LTXPlan(config=config, entry=e, mode=mode, endpoint=endpoint, prompt=prompt, start_image=start_image,
                  references=conditioning_refs, camera_lora=lora, camera_scale=scale, source_seconds=source_seconds,
                  expected_duration=expected, min_duration=min_duration, billed_seconds=billed,
                  pending_video=request.pending_video.path if request.pending_video else None)
    width, height = (config.width, config.height) if exact_size else frame_size(resolution, aspect)
    sent = _sent(config, ltx, ignored)
    plan = RenderPlan(provider="ltx-video", model=model, deployment=deployment, mode=mode, request=request,
                      sent=sent, adjustments=b.adjustments, ignored=b.ignored, cost=ltx.cost(),
                      render_seconds=billed, cut_seconds=request.cut_seconds, expected_seconds=expected,
                      width=width, height=height, fps=fps, detail=ltx)
    return finish_plan(plan)


def _audio_here(e: dict, modes: list[str], model: str, deployment: str, mode: str, opts: LTXOptions,
                label: str) -> tuple[bool, str]:
    """(whether this render can have sound, why not). On ComfyUI that is where the model's template set has an
    audio template for the mode; a workflow of the user's own makes whatever sound it makes."""
    if "audio" not in modes:
        return False, f"{label} makes no audio"
    if deployment != "comfyui":
        return True, ""
    if opts.workflow:
        return False, "a workflow of your own (--workflow) decides its sound; the audio settings do not reach it"
    if not wf.takes_audio(model, mode):
        return False, f"the {label} ComfyUI templates render sound in text-to-video only (no start image or video)"
    return True, ""


def _template_takes(b: PlanBuilder, model: str, mode: str, opts: LTXOptions, *, audio: bool,
                    camera_lora: bool) -> None:
    """The sampler settings the chosen built-in template has no input for are ignored, each with a note."""
    name = wf.template_for(model, mode, audio=audio, camera_lora=camera_lora, lora=bool(opts.lora_path))
    done = {i.field for i in b.ignored}
    for opt, placeholder in (("num_inference_steps", "steps"), ("guidance_scale", "cfg")):
        value = getattr(opts, opt)
        if value is not None and opt not in done and not wf.template_uses(model, name, placeholder):
            b.ignore(opt, value, f"the {name} template for {b.label} has no {placeholder} input (it samples on "
                                 f"fixed sigmas)" if placeholder == "steps" else
                     f"the {name} template for {b.label} has no {placeholder} input")


def _references(b: PlanBuilder, e: dict, modes: list[str], mode: str,
                request: RenderRequest) -> tuple[Optional[Path], list[Path]]:
    """(start image, conditioning references): the scene's own references are refused beyond what the deployment
    takes; the project's fill the rest, and those left out are an adjustment."""
    max_refs = int(e.get("max_reference_images", 0)) if "reference-images" in modes else 0
    stands_in = e.get("reference_endpoint") is None and e["schema"] != "open"
    start_image = request.start_image
    why = f"{b.label} takes {'at most ' + str(max_refs) if max_refs else 'no reference images'}"
    if stands_in and max_refs and (start_image is not None or mode not in ("text-to-video", "image-to-video")):
        max_refs = 0  # the single reference would stand in for a start frame the scene already has
        why = f"the scene has a start frame (or a video), which a reference stands in for on {b.label}"
    own = list(request.reference_images)
    if len(own) > max_refs:
        b.problem(f"{len(own)} reference images on the scene; {why}", field="reference_images",
                  allowed=[f"0-{max_refs} images" if max_refs else "none here"])
        own = own[:max_refs]
    room = max_refs - len(own)
    project = [p for p in request.project_reference_images if p not in own]
    used, left = project[:room], project[room:]
    if left:
        b.adjust("reference_images", [p.name for p in left], [p.name for p in used],
                 f"{why}; left out: " + ", ".join(p.name for p in left))
    refs = own + used
    if refs and stands_in:
        # no reference field on this API: the reference becomes the start frame (see Docs/ltx-models.md)
        return refs[0], []
    return start_image, refs


def _decided_elsewhere(e: dict, mode: str, opts: LTXOptions) -> list[tuple[str, str]]:
    """Universal settings this request does not send because something else decides them: an edit endpoint keeps
    its source video's size and rate, exact local sizes and frame counts replace resolution and duration."""
    out: list[tuple[str, str]] = []
    if e["schema"] in ("ltx2", "ltx23") and mode in ("extend", "video-to-video"):
        what = "the extend endpoint keeps" if mode == "extend" else "a retake keeps"
        out += [(f, f"{what} the source video's {f.replace('_', ' ')}") for f in ("resolution", "fps", "aspect_ratio")]
        if mode == "extend":
            out.append(("include_audio", "the extend endpoint keeps the source video's sound"))
    if e["schema"] == "open" and opts.width and opts.height:
        out += [(f, "the exact width and height replace it") for f in ("resolution", "aspect_ratio")]
    if e["schema"] == "open" and opts.frames:
        out.append(("duration", "the exact frame count replaces it (the export still cuts to the scene)"))
    return out


def _sent(c: LTXGenerationConfig, ltx: LTXPlan, ignored: set[str]) -> dict:
    """What the take records: the resolved values that reach the service (ignored ones left out)."""
    out = {"model": c.model, "deployment": c.deployment, "mode": ltx.mode, "endpoint": ltx.endpoint}
    out.update({k: getattr(c, k) for k in ("resolution", "aspect_ratio", "fps", "duration", "include_audio",
                                           "camera_motion") if k not in ignored})
    for k in ("seed", "negative_prompt", "audio_prompt", "lora_path", "guidance_scale", "num_inference_steps",
              "webhook_url", "width", "height", "frames", "device", "model_path", "workflow"):
        v = getattr(c, k)
        if v is not None and k not in ignored:
            out[k] = v
    if c.camera_motion != "none" and "camera_speed" not in ignored:
        out["camera_speed"] = c.camera_speed
    if c.lora_path:
        out["lora_scale"] = c.lora_scale
    if ltx.mode == "extend":
        out["extend_direction"] = c.extend_direction
    return out


def _models_with(deployment: str, *, mode: Optional[str] = None, param: Optional[str] = None) -> list[str]:
    out = []
    for m in catalog.model_ids():
        if deployment not in catalog.deployments_of(m):
            continue
        e = catalog.entry(m, deployment)
        if (mode and mode in catalog.modes_of(e)) or (param and param in e.get("params", [])):
            out.append(m)
    return out
