"""Veo's `prepare`: one request -> one plan, made once, no network.

Fills every unset value from the model's catalog defaults, adapts inherited values the model cannot take (an
adjustment each) and refuses explicit ones (every problem at once), turns a scene longer than one clip into a base
clip plus the extensions it needs, lists the settings Veo does not take, and prices every call of the plan. The
backends build their requests from the resulting VeoPlan and never validate again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from core.render.contract import RenderPlan, RenderRequest
from core.render.planning import InputFacts, PlanBuilder, finish_plan
from core.video.render_settings import frame_size
from providers.veo import catalog
from providers.veo.catalog import EXTENSION, REFERENCE_RULES

# Veo reads the camera from the prompt: a motion becomes a sentence
CAMERA_WORDS = {
    "pan_left": "The camera pans left.", "pan_right": "The camera pans right.",
    "zoom_in": "The camera slowly zooms in.", "zoom_out": "The camera slowly zooms out.",
    "orbit": "The camera orbits around the subject.", "dolly_forward": "The camera dollies forward.",
    "dolly_backward": "The camera dollies backward.", "crane_up": "The camera cranes up.",
    "crane_down": "The camera cranes down.",
}


class VeoOptions(BaseModel):
    """Veo's own settings (the `options` part of the render settings). Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    #: who may appear: the values each mode takes are in the catalog (PERSON_GENERATION); unset = the mode's default
    person_generation: Optional[Literal["allow_all", "allow_adult", "dont_allow"]] = None
    #: let the service rewrite the prompt before rendering; unset = the service's default
    enhance_prompt: Optional[bool] = None


@dataclass
class VeoPlan:
    """Every value of a Veo render resolved: what the backends send, call after call."""

    model: str
    deployment: str
    mode: str                          # the mode of the first call
    prompt: str                        # with the camera and audio wording folded in
    resolution: str                    # the app's id ("2160p"); catalog.wire_resolution gives the service's
    aspect_ratio: str
    duration: Optional[int]            # seconds of the first call (None when every call extends a clip)
    extensions: int                    # extension calls (after the first call, or all of them for "extend")
    include_audio: bool
    person_generation: str             # the first call's
    extension_person_generation: Optional[str]
    output_path: Path
    price_per_second: float
    render_seconds: float              # seconds billed, every call together
    expected_seconds: float            # the length of the final clip
    seed: Optional[int] = None
    negative_prompt: Optional[str] = None
    enhance_prompt: Optional[bool] = None
    start_image: Optional[Path] = None
    end_image: Optional[Path] = None
    references: list[Path] = field(default_factory=list)
    extend_video: Optional[Path] = None

    @property
    def calls(self) -> int:
        return self.extensions + (0 if self.mode == "extend" else 1)

    def call_kind(self, index: int) -> str:
        """"generate" for the base clip, "extend" for every extension."""
        return "generate" if index == 0 and self.mode != "extend" else "extend"

    @property
    def chain_file(self) -> Path:
        """Where the operation of every call is recorded, so a resumed chain never submits a call twice."""
        return self.output_path.with_name(f".{self.output_path.name}.veo-chain.json")

    def cost(self) -> float:
        return round(self.price_per_second * self.render_seconds, 4)


def _options(b: PlanBuilder) -> VeoOptions:
    try:
        return VeoOptions.model_validate(b.layered.settings.options)
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(x) for x in err["loc"]) or "options"
            if err["type"] == "extra_forbidden":
                b.problem(f"Veo has no option {name!r}", field=f"options.{name}", allowed=list(VeoOptions.model_fields))
            else:
                b.problem(err["msg"], field=f"options.{name}",
                          allowed=["allow_all", "allow_adult", "dont_allow"] if name == "person_generation" else None)
        return VeoOptions()


def _model(b: PlanBuilder) -> tuple[str, str]:
    """(model, deployment): the model decides the deployment; a deployment alone picks its default model."""
    s = b.layered.settings
    wanted = s.deployment
    if wanted is not None and wanted not in catalog.DEPLOYMENTS:
        if b.layered.explicit("deployment"):
            b.problem(f"Veo has no {wanted!r} deployment", field="deployment", allowed=catalog.DEPLOYMENTS)
        else:
            b.adjust("deployment", wanted, None, f"{wanted} is another provider's deployment; Veo picks its own")
        wanted = None
    if s.model is None:
        model = catalog.default_model(wanted)
        return model, catalog.deployment_of(model)
    if s.model not in catalog.model_ids():
        b.problem(f"unknown Veo model {s.model!r}", field="model", allowed=catalog.model_ids(wanted))
        b.raise_problems()
    deployment = catalog.deployment_of(s.model)
    if wanted is not None and wanted != deployment:
        if b.layered.explicit("model"):
            b.problem(f"{s.model} runs on {catalog.label_of(deployment)}, not on {catalog.label_of(wanted)}",
                      field="model", allowed=catalog.model_ids(wanted))
        else:
            model = catalog.default_model(wanted)
            b.adjust("model", s.model, model, f"{s.model} does not run on {catalog.label_of(wanted)}; uses {model}")
            return model, wanted
    return s.model, deployment


def _mode(b: PlanBuilder, e: dict, request: RenderRequest) -> str:
    if request.keyframes:
        b.problem("Veo takes a start frame and an end frame, not keyframes", field="keyframes",
                  allowed=["start_image", "end_image"])
    if request.source_video is not None:
        b.problem("Veo has no video-to-video mode", field="source_video", allowed=[m for m in e["modes"]])
    if request.extend_video is not None:
        mode = "extend"
    elif request.reference_images:
        mode = "reference-images"
        if request.start_image is not None or request.end_image is not None:
            b.problem("reference images cannot be combined with a start or end frame on Veo", field="reference_images",
                      allowed=["reference images alone", "start/end frames alone"])
    elif request.end_image is not None:
        mode = "first-last-frame"
        if request.start_image is None:
            b.problem("an end frame needs a start frame too", field="end_image", allowed=["start_image + end_image"])
    elif request.start_image is not None:
        mode = "image-to-video"
    else:
        mode = "text-to-video"
    if mode not in e["modes"]:
        offering = [m for m in catalog.model_ids() if mode in catalog.entry(m)["modes"]]
        way_out = "clear the scene's end frame, or choose a model with it" if mode == "first-last-frame" else \
            "models with it"
        b.problem(f"{b.label} has no {mode} mode; {way_out}: {', '.join(offering) or 'none'}", field="mode",
                  allowed=[m for m in e["modes"] if m != "audio"])
    return mode


def _long_scene(b: PlanBuilder, e: dict, mode: str, cut: float) -> int:
    """The extensions a scene longer than one clip needs (problems where the model or the mode cannot chain)."""
    longest = EXTENSION["base_seconds"] + EXTENSION["seconds"] * EXTENSION["max_calls"]
    if not e["chain"]:
        b.problem(f"{cut:g} s is longer than {b.label} renders (at most {EXTENSION['base_seconds']:g} s); models "
                  f"that extend: {', '.join(catalog.chain_models(e['deployment']))}", field="duration",
                  allowed=[f"at most {EXTENSION['base_seconds']:g} s"] + catalog.chain_models(e["deployment"]))
    if mode == "first-last-frame":
        b.problem(f"an end frame closes the first {EXTENSION['base_seconds']:g} s clip: a scene with one is at most "
                  f"{EXTENSION['base_seconds']:g} s", field="end_image", allowed=["a scene of at most 8 s"])
    n = catalog.extensions_for(cut)
    if n > EXTENSION["max_calls"]:
        b.problem(f"{cut:g} s is longer than Veo's longest extended clip ({longest:g} s)", field="duration",
                  allowed=[f"at most {longest:g} s"])
    return min(n, EXTENSION["max_calls"])


def _resolution(b: PlanBuilder, e: dict, default: str, extending: bool, long_cut: Optional[float] = None) -> str:
    """The resolution; a clip that is extended (the user's, or a scene longer than one clip) renders at 720p."""
    if not extending:
        return b.choose("resolution", e["resolutions"], default)
    s = b.layered.settings
    if s.resolution is None or s.resolution in EXTENSION["resolutions"]:
        return EXTENSION["resolutions"][0]
    shown = "/".join(EXTENSION["resolutions"])
    why = f"Veo extends {shown} clips only"
    if b.layered.explicit("resolution") and long_cut is not None:  # the length asks for extensions, not the user
        base = EXTENSION["base_seconds"]
        b.problem(f"a {long_cut:g} s scene is longer than one Veo clip ({base:g} s), so it needs extensions, which "
                  f"Veo makes at {shown} only, not at {s.resolution}", field="resolution",
                  allowed=EXTENSION["resolutions"] + [f"a scene of at most {base:g} s"])
    elif b.layered.explicit("resolution"):
        b.problem(f"{s.resolution} cannot be extended: {why}", field="resolution", allowed=EXTENSION["resolutions"])
    else:
        b.adjust("resolution", s.resolution, EXTENSION["resolutions"][0], f"{why}; this scene is extended")
    return EXTENSION["resolutions"][0]


def _length(b: PlanBuilder, e: dict, mode: str, resolution: str, cut: Optional[float]) -> tuple[str, float]:
    """(resolution, seconds of the clip) for a scene of at most one clip."""
    durations = catalog.durations_for(e, resolution, mode)
    if cut is not None and float(cut) in [float(d) for d in e["durations"]] and float(cut) not in durations:
        # the length would render at another resolution or without references: refuse only explicit pairs
        if mode == "reference-images":
            if b.layered.explicit("duration"):
                b.problem(f"reference images need {'/'.join(str(d) for d in REFERENCE_RULES['durations'])} s clips",
                          field="duration", allowed=[f"{d} s" for d in REFERENCE_RULES["durations"]])
        elif b.layered.explicit("resolution") and b.layered.explicit("duration"):
            b.problem(f"{_shown(resolution)} renders {'/'.join(f'{d:g}' for d in durations)} s clips only on "
                      f"{b.label}", field="duration", allowed=[f"{d:g} s at {_shown(resolution)}" for d in durations] +
                      [f"{'/'.join(str(d) for d in e['durations'])} s at 720p"])
        elif not b.layered.explicit("resolution"):
            origin = b.layered.origin("resolution") or "app"
            b.adjust("resolution", resolution, "720p", f"{_shown(resolution)} ({origin} default) renders 8 s clips only; "
                                                        f"a {cut:g} s scene renders at 720p")
            resolution = "720p"
            durations = catalog.durations_for(e, resolution, mode)
    length = b.render_length(cut, durations, min(durations), max(durations), float(e["defaults"]["duration"])
                             if e["defaults"]["duration"] in durations else max(durations))
    return resolution, length


def _shown(resolution: str) -> str:
    return "4K (2160p)" if resolution == "2160p" else resolution


def _references(b: PlanBuilder, e: dict, mode: str, request: RenderRequest, aspect: str,
                cut: Optional[float]) -> tuple[str, list[Path]]:
    """(mode, references): the scene's own are refused beyond what the model takes; the project's fill the rest
    where they can be used, and those left out are an adjustment."""
    own = list(request.reference_images)
    limit = int(e["max_reference_images"]) if "reference-images" in e["modes"] else 0
    if mode == "reference-images" and len(own) > limit:
        b.problem(f"{len(own)} reference images on the scene; {b.label} takes at most {limit}",
                  field="reference_images", allowed=[f"0-{limit} images"])
        own = own[:limit]
    shared = [p for p in request.project_reference_images if p not in own]
    if not shared:
        return mode, own
    why = ""
    if limit == 0:
        why = f"{b.label} takes no reference images"
    elif mode not in ("text-to-video", "reference-images"):
        why = "the scene has a start or end frame, which Veo does not combine with references"
    elif aspect not in REFERENCE_RULES["aspect_ratios"]:
        why = f"references render {'/'.join(REFERENCE_RULES['aspect_ratios'])} only, this scene is {aspect}"
    elif cut is not None and cut <= 6:
        why = f"references need 8 s clips; this {cut:g} s scene renders without them"
    room = max(0, limit - len(own)) if not why else 0
    used, left = shared[:room], shared[room:]
    if left:
        b.adjust("reference_images", [p.name for p in left], [p.name for p in used],
                 (why or f"{b.label} takes {limit} reference images") + "; left out: " +
                 ", ".join(p.name for p in left))
    refs = own + used
    return ("reference-images" if refs else mode), refs


def _person(b: PlanBuilder, deployment: str, mode: str, wanted: Optional[str]) -> str:
    values = catalog.person_values(deployment, mode)
    if wanted is None or wanted in values:
        return wanted or values[0]
    text = f"person generation {wanted} is not taken for {mode} on {catalog.label_of(deployment)}"
    if b.layered.explicit("options.person_generation"):
        b.problem(text, field="options.person_generation", allowed=values)
    else:
        b.adjust("options.person_generation", wanted, values[0], f"{text}; uses {values[0]}")
    return values[0]


def prepare(request: RenderRequest) -> RenderPlan:
    s = request.settings
    b = PlanBuilder(request, "Veo")
    opts = _options(b)
    model, deployment = _model(b)
    e = catalog.entry(model)
    b.label = f"{model} on {catalog.label_of(deployment)}"
    defaults = e["defaults"]
    mode = _mode(b, e, request)
    cut = request.cut_seconds if request.cut_seconds is not None else s.duration
    extensions, source = 0, None  # source: the user's clip to extend
    long_scene = mode != "extend" and cut is not None and cut > EXTENSION["base_seconds"] + 1e-6
    if long_scene:
        extensions = _long_scene(b, e, mode, float(cut))
    elif mode == "extend":
        extensions = catalog.extension_calls(cut or EXTENSION["seconds"])
        source = _extend_source(b, request, extensions)
    aspect = b.choose("aspect_ratio", e["aspect_ratios"], defaults["aspect_ratio"])
    if source is not None:  # an extension keeps the shape of the clip it continues
        aspect = _source_aspect(b, source, aspect)
    b.choose("fps", e["fps"], defaults["fps"], what=f"{s.fps} fps")
    mode, references = _references(b, e, mode, request, aspect, cut)
    if mode == "reference-images" and aspect not in REFERENCE_RULES["aspect_ratios"]:
        if b.layered.explicit("aspect_ratio"):
            b.problem(f"reference images render {'/'.join(REFERENCE_RULES['aspect_ratios'])} only", field="aspect_ratio",
                      allowed=REFERENCE_RULES["aspect_ratios"])
        else:
            b.adjust("aspect_ratio", aspect, "16:9", "reference images render 16:9 only")
        aspect = REFERENCE_RULES["aspect_ratios"][0]
    resolution = _resolution(b, e, defaults["resolution"], long_scene or mode == "extend",
                             float(cut) if long_scene else None)
    base = EXTENSION["base_seconds"]
    if long_scene:
        duration: Optional[int] = int(base)
        rendered = base + EXTENSION["seconds"] * extensions
        b.adjust("duration", cut, rendered,
                 f"renders {rendered:g} s: one {base:g} s clip and {extensions} extension{'s' if extensions != 1 else ''}"
                 f" of {EXTENSION['seconds']:g} s, as one take" + (f"; the export cuts it to {cut:g} s"
                                                                    if abs(rendered - cut) > 1e-6 else ""))
        expected, billed = rendered, rendered
    elif mode == "extend":
        duration = None
        billed = EXTENSION["seconds"] * extensions
        expected = (source.duration if source else 0.0) + billed
    else:
        resolution, length = _length(b, e, mode, resolution, cut)
        duration = int(length)
        expected = billed = float(length)

    person = _person(b, deployment, mode, opts.person_generation)
    ext_person = _person(b, deployment, "extend", opts.person_generation) if extensions and mode != "extend" else None
    include_audio = _audio(b, e, s)
    facts = InputFacts(b)
    facts.check_all(request, expected)
    prompt = _prompt(b, request.prompt, s)
    seed = s.seed
    if seed is not None and "seed" not in e["params"]:
        b.ignore("seed", seed, f"{catalog.label_of(deployment)} takes no seed: the same prompt renders differently "
                               "each time; the Vertex AI models take one")
        seed = None
    b.raise_problems()

    price = catalog.price_per_second(e, resolution, include_audio)
    plan = VeoPlan(model=model, deployment=deployment, mode=mode, prompt=prompt, resolution=resolution,
                   aspect_ratio=aspect, duration=duration, extensions=extensions, include_audio=include_audio,
                   person_generation=person, extension_person_generation=ext_person, output_path=request.output_path,
                   price_per_second=price, render_seconds=billed, expected_seconds=expected, seed=seed,
                   negative_prompt=s.negative_prompt, enhance_prompt=opts.enhance_prompt,
                   start_image=request.start_image, end_image=request.end_image, references=references,
                   extend_video=request.extend_video)
    width, height = (source.width, source.height) if source is not None else frame_size(resolution, aspect)
    render = RenderPlan(provider="veo", model=model, deployment=deployment, mode=mode, request=request,
                        sent=_sent(plan), adjustments=b.adjustments, ignored=b.ignored, cost=plan.cost(),
                        render_seconds=billed, cut_seconds=request.cut_seconds, expected_seconds=expected,
                        width=width, height=height, fps=24, detail=plan)
    return finish_plan(render)


def _source_aspect(b: PlanBuilder, source, aspect: str) -> str:
    shape = "16:9" if source.width >= source.height else "9:16"
    if aspect != shape and b.layered.settings.aspect_ratio is not None:
        b.adjust("aspect_ratio", aspect, shape, f"the clip to extend is {source.width}x{source.height}: the "
                                                f"extension keeps its {shape} shape")
    return shape


def _extend_source(b: PlanBuilder, request: RenderRequest, extensions: int):
    """The user's clip to extend (its MediaInfo), with problems when Veo cannot extend it."""
    path = request.extend_video
    if path is None:
        b.problem("no video to extend", field="extend_video", allowed=["MP4", "MOV"])
        return None
    # read through InputFacts: a parent scene's clip still to be rendered in this run is known by its facts
    info = InputFacts(b).video_info(path, "extend_video", ("MP4", "MOV"))
    if info is None:
        return None
    if min(info.width, info.height) > 720:
        b.problem(f"{Path(path).name} is {info.width}x{info.height}; Veo extends clips of at most 720p",
                  field="extend_video", allowed=["a clip of at most 720p"])
    total = info.duration + EXTENSION["seconds"] * extensions
    if info.duration > EXTENSION["max_input_seconds"] or total > EXTENSION["base_seconds"] + EXTENSION["seconds"] * \
            EXTENSION["max_calls"] + 0.5:
        b.problem(f"{Path(path).name} is {info.duration:.1f} s; extended it would be {total:.1f} s, longer than Veo "
                  "extends", field="extend_video", allowed=[f"at most {EXTENSION['max_input_seconds']:g} s"])
    return info


def _audio(b: PlanBuilder, e: dict, s) -> bool:
    if e["audio"] == "always":
        if s.include_audio is False:
            b.ignore("include_audio", False, f"{b.label} always renders sound with the picture; the export can "
                                             "mute it")
        include = True
    else:
        include = s.include_audio if s.include_audio is not None else bool(e["defaults"]["include_audio"])
    if s.audio_prompt and not include:
        b.problem("an audio prompt needs audio turned on (--audio)", field="audio_prompt")
    return include


def _prompt(b: PlanBuilder, prompt: str, s) -> str:
    """The prompt with the camera and the audio wording folded in: Veo reads both from the prompt."""
    text = prompt.strip()
    motion = s.camera_motion or "none"
    if motion in CAMERA_WORDS:
        text = f"{text} {CAMERA_WORDS[motion]}"
    if s.camera_speed is not None:
        b.ignore("camera_speed", s.camera_speed, "Veo's camera wording takes no speed")
    if s.audio_prompt:
        text = f"{text} Audio: {s.audio_prompt.strip()}"
    return text


def _sent(p: VeoPlan) -> dict:
    """What the take records: the resolved values that reach the service."""
    out = {"model": p.model, "deployment": p.deployment, "mode": p.mode, "resolution": p.resolution,
           "aspect_ratio": p.aspect_ratio, "fps": 24, "include_audio": p.include_audio,
           "person_generation": p.person_generation}
    if p.duration is not None:
        out["duration"] = p.duration
    if p.extensions:
        out["extensions"] = p.extensions
    if p.extension_person_generation:
        out["extension_person_generation"] = p.extension_person_generation
    for key in ("seed", "negative_prompt", "enhance_prompt"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    if p.references:
        out["references"] = len(p.references)
    return out
