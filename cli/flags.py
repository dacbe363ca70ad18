"""The render flags shared by the single-clip command, `project new` (the project's defaults) and `project render`
(overrides for one run). Every flag defaults to None so that only what the user typed is applied."""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from core.errors import InvalidRequestError, invalid_requests
from core.video.render_settings import RenderSettings
from core.video.ids import ALL_DEPLOYMENTS, ASPECT_RATIOS, CAMERA_MOTIONS, EXTEND_DIRECTIONS

# flag destination -> universal RenderSettings field
SETTING_FLAGS = {
    "provider": "provider", "model": "model", "deployment": "deployment", "resolution": "resolution",
    "aspect": "aspect_ratio", "fps": "fps", "duration": "duration", "seed": "seed", "audio": "include_audio",
    "audio_prompt": "audio_prompt", "camera_motion": "camera_motion", "camera_speed": "camera_speed",
    "negative_prompt": "negative_prompt",
}
# flag destination -> provider option (LTX-Video's options; a provider without them refuses them by name)
OPTION_FLAGS = {
    "lora": "lora_path", "lora_scale": "lora_scale", "guidance": "guidance_scale", "steps": "num_inference_steps",
    "webhook_url": "webhook_url", "direction": "extend_direction", "width": "width", "height": "height",
    "frames": "frames", "device": "device", "model_path": "model_path", "workflow": "workflow",
    "person_generation": "person_generation", "enhance_prompt": "enhance_prompt",  # Veo's
}


def add_render_flags(parser: argparse.ArgumentParser, *, with_provider: bool = True,
                     with_duration: bool = True) -> None:
    g = parser.add_argument_group("render settings")
    if with_provider:
        g.add_argument("--provider", help="ltx-video, veo or animatic (default: animatic)")
    g.add_argument("--model", help="model id, e.g. ltx-2-fast, ltx-2-pro, ltx-2-ultra, ltx-2.3-pro, ltx-2.5-fast, "
                                   "ltx-video-13b, veo-3.1-generate-preview (default: the provider's own)")
    g.add_argument("--deployment", choices=ALL_DEPLOYMENTS,
                   help="LTX-Video: fal (default), replicate, local, comfyui; Veo: gemini (default), vertex")
    g.add_argument("--resolution", help="480p, 720p, 1080p, 1440p, 2160p (or 4K); default: the model's own")
    g.add_argument("--aspect", choices=ASPECT_RATIOS, help="aspect ratio (default: the model's own)")
    g.add_argument("--fps", type=int, help="frames per second (default: the model's own)")
    if not with_duration:  # the command's own --duration is the scene's length, not a render setting
        parser.set_defaults(duration_is_scene_length=True)
    if with_duration:
        g.add_argument("--duration", type=float, help="clip length in seconds (default: the model's own); a model "
                                                      "that renders only some lengths renders the shortest that "
                                                      "covers it")
    g.add_argument("--seed", type=int, help="seed for a reproducible render (where the model takes one)")
    g.add_argument("--negative-prompt", help="what the clip should not show (where the model takes one)")
    g.add_argument("--audio", dest="audio", action="store_true", default=None, help="generate audio")
    g.add_argument("--no-audio", dest="audio", action="store_false", help="no audio")
    g.add_argument("--audio-prompt", help="what the audio should sound like")
    g.add_argument("--camera-motion", choices=CAMERA_MOTIONS, help="camera motion")
    g.add_argument("--camera-speed", type=float, help="camera speed 0.5-2.0")
    g.add_argument("--lora", help="LoRA weights (.safetensors)")
    g.add_argument("--lora-scale", type=float, help="LoRA strength 0-2")
    g.add_argument("--guidance", type=float, help="guidance scale")
    g.add_argument("--steps", type=int, help="inference steps")
    g.add_argument("--webhook-url", help="https URL the service calls when the job ends")
    g.add_argument("--direction", choices=EXTEND_DIRECTIONS, help="direction for --extend")
    g.add_argument("--width", type=int, help="exact width (local and ComfyUI deployments)")
    g.add_argument("--height", type=int, help="exact height (local and ComfyUI deployments)")
    g.add_argument("--frames", type=int, help="exact frame count (local and ComfyUI deployments)")
    g.add_argument("--device", choices=("cuda", "mps", "cpu"), help="device for the local deployment")
    g.add_argument("--model-path", help="folder of a local model (local deployment)")
    g.add_argument("--workflow", help="your own ComfyUI workflow in API format (.json)")
    g.add_argument("--person-generation", choices=("allow_all", "allow_adult", "dont_allow"),
                   help="Veo: whether people may appear (the allowed values depend on the mode and deployment)")
    g.add_argument("--enhance-prompt", dest="enhance_prompt", action="store_true", default=None,
                   help="Veo: let the service rewrite the prompt")
    g.add_argument("--no-enhance-prompt", dest="enhance_prompt", action="store_false", help="Veo: keep the prompt")


def add_media_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("inputs")
    g.add_argument("--image", help="start frame (image-to-video)")
    g.add_argument("--end-image", help="last frame")
    g.add_argument("--keyframe", action="append", default=[], metavar="SECONDS:PATH",
                   help="a keyframe image at a time (repeatable)")
    g.add_argument("--reference", action="append", default=[], metavar="PATH", help="reference image (up to 3)")
    g.add_argument("--source-video", help="video to transform (video-to-video)")
    g.add_argument("--extend", help="video to extend (see --direction)")


def settings_from_args(args: argparse.Namespace) -> RenderSettings:
    """The settings the user typed (only those), with file paths made absolute. Bad values raise one
    InvalidRequestError naming every flag at fault and what it allows."""
    settings, problems = checked_settings(args)
    if problems:
        raise invalid_requests(problems)
    return settings


def checked_settings(args: argparse.Namespace) -> tuple[RenderSettings, list[InvalidRequestError]]:
    """The settings the user typed with every flag that fails the basic checks left out, and those flags'
    problems: the plan then checks the rest, so one run reports everything and nothing twice."""
    values = {f: getattr(args, d) for d, f in SETTING_FLAGS.items() if getattr(args, d, None) is not None}
    if getattr(args, "duration_is_scene_length", False):
        values.pop("duration", None)  # add-scene/edit-scene check --duration as the scene's length themselves
    options = {f: getattr(args, d) for d, f in OPTION_FLAGS.items() if getattr(args, d, None) is not None}
    for field in ("lora_path", "model_path", "workflow"):
        if field in options and not str(options[field]).startswith("https://"):
            options[field] = str(Path(options[field]).expanduser().resolve())
    flag_of = {f: d for d, f in SETTING_FLAGS.items()}
    try:
        return RenderSettings.model_validate({**values, "options": options}), []
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        error = validation_error(exc, lambda loc: "--" + flag_of.get(loc, loc).replace("_", "-"))
        kept = {k: v for k, v in values.items() if k not in bad}
        return RenderSettings.model_validate({**kept, "options": options}), problems_of(error)


def problems_of(error: InvalidRequestError) -> list[InvalidRequestError]:
    return list(getattr(error, "problems", None) or [error])


def validation_error(exc: ValidationError, name_of) -> InvalidRequestError:
    """A pydantic error as one InvalidRequestError naming each field (as the user typed it) and its problem; the
    value typed is added where the message does not show it already."""
    problems = []
    for err in exc.errors():
        loc = str(err["loc"][0]) if err["loc"] else "value"
        message = err["msg"].removeprefix("Value error, ").removeprefix(f"{loc}: ")
        value = err.get("input")
        shown = "(allowed:" in message or repr(value) in message or (isinstance(value, str) and value in message)
        problems.append(InvalidRequestError(f"{name_of(loc)}: {message}" + ("" if shown else f" (got {value!r})")))
    return invalid_requests(problems)


# what a plan calls a field -> the flag that sets it (the plans are shared with the GUI and name fields by id)
OPTION_NAMES = {f: "--" + d.replace("_", "-") for d, f in OPTION_FLAGS.items()}
FIELD_FLAGS = {
    **{f: "--" + d.replace("_", "-") for d, f in SETTING_FLAGS.items()},
    **{f"options.{f}": flag for f, flag in OPTION_NAMES.items()},
    "start_image": "--image", "end_image": "--end-image", "keyframes": "--keyframe", "reference_images": "--reference",
    "source_video": "--source-video", "extend_video": "--extend", "extend_scene_id": "--extend-scene",
}
_FIELD = re.compile(r"^(?P<scene>(?:[^:;]+: )?)(?P<field>[a-z_]+(?:\.[a-z_]+)?): (?P<rest>.*)$", re.S)
_ALLOWED = re.compile(r"\(allowed: (?P<items>[^()]*)\)$")


def in_flag_words(problem: InvalidRequestError) -> InvalidRequestError:
    """A plan's problem named by the flag that sets the field ('--lora' rather than 'options.lora_path'), option
    ids in its message and allowed list as flags too. A line that names no known field is kept as it is."""
    text = str(problem)
    m = _FIELD.match(text)
    if not m or m["field"] not in FIELD_FLAGS:
        return problem
    rest = m["rest"]
    if m["field"].startswith("options."):
        for name, flag in OPTION_NAMES.items():
            rest = rest.replace(repr(name), flag)
        rest = _ALLOWED.sub(lambda a: "(allowed: " + ", ".join(OPTION_NAMES.get(x, x) for x in a["items"].split(", "))
                            + ")", rest)
    if m["field"] == "extend_scene_id":
        rest = chain_flags(rest)
    out = InvalidRequestError(f"{m['scene']}{FIELD_FLAGS[m['field']]}: {rest}")
    out.field, out.allowed = problem.field, problem.allowed
    return out


def chain_flags(text: str) -> str:
    """A chain problem's ways out (core words them for every front end) with the flags that take them."""
    link = re.search(r"scene (\d+) extends scene (\d+)", text)
    if link:
        n, m = link.groups()
        text = text.replace(f"render scene {m} in the same run", f"render scene {m} in the same run (--scenes {m},{n})")
    return re.sub(r"clear (the|a) link", r"clear \1 link (--extend-scene none)", text)


def all_problems(problems: list[InvalidRequestError], error: InvalidRequestError | None = None, *,
                 flag_words: bool = True) -> None:
    """Raise every problem at once (the flags' own and a plan's), each named by its flag; nothing when none."""
    found = list(problems) + (problems_of(error) if error is not None else [])
    if found:
        raise invalid_requests([in_flag_words(p) if flag_words else p for p in found]) from None


def parse_keyframe(text: str) -> tuple[float, Path]:
    seconds, sep, path = text.partition(":")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if not sep or not path or value < 0:
        raise InvalidRequestError(f"--keyframe {text!r} must look like SECONDS:PATH, e.g. 2.5:frame.png",
                                  field="keyframe")
    return value, Path(path).expanduser()


def optional_path(value: Optional[str]) -> Optional[Path]:
    return Path(value).expanduser().resolve() if value else None


def parse_with_sub_usage(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, with a flag the command does not know refused by that command's parser (its usage shown, not
    the parent's 'COMMAND ...')."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        subs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        owner = subs.choices.get(getattr(args, subs.dest, None)) if subs is not None else None
        (owner or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def parse_scene_list(text: Optional[str], count: int, field: str = "--scenes") -> Optional[list[int]]:
    """'1,3,5-7' -> [1, 3, 5, 6, 7] (sorted, each once); None when the flag was not given (every scene). A reversed,
    open or empty range, a word or a number outside the storyboard is refused, every bad part named at once: a
    selection quietly widened to every scene would render, and pay for, every scene."""
    if text is None:
        return None
    numbers: set[int] = set()
    bad: list[str] = []
    parts = text.split(",")
    for raw in parts:
        part = raw.strip()
        lo, dash, hi = part.partition("-")
        if not part:
            bad.append(f"{text!r} names no scene" if len(parts) == 1 else f"{text!r} has an empty part")
            continue
        if not dash:
            if not _number(part):
                bad.append(f"{part!r} is not a scene number")
                continue
            span = [int(part)]
        elif _number(lo.strip()) and _number(hi.strip()) and int(hi) >= int(lo):
            span = list(range(int(lo), int(hi) + 1))
        else:
            bad.append(f"{part} is not a range")
            continue
        outside = [n for n in span if not 1 <= n <= count]
        if outside:
            bad.append(f"no scene {outside[0]}" if len(outside) == 1 else f"no scenes {outside[0]}-{outside[-1]}"
                       if outside == list(range(outside[0], outside[-1] + 1)) else f"no scenes {part}")
        numbers.update(n for n in span if 1 <= n <= count)
    if bad:
        has = (f"scenes 1-{count}" if count > 1 else "scene 1") if count else "no scenes"
        raise InvalidRequestError("; ".join(bad), field=field,
                                  allowed=["N", "N-M with M >= N", f"lists like 1,3-5; this project has {has}"])
    return sorted(numbers)


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()
