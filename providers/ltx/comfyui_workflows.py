"""ComfyUI workflows: the built-in LTX templates (providers/ltx/workflows/, one set per LTX version, chosen by the
model through workflows/sets.json; within a set the plan's mode, audio and camera pick the template:
template_for), the user's own (`--workflow FILE.json`, API or UI format: the UI format is
converted with the server's /object_info, comfyui_convert.py), placeholder filling and the graph edits a render
needs (LoRA, extra keyframe guides).

A placeholder `{{name}}` inside a string input is replaced by its value; a placeholder that is the whole string is
replaced by a value of the right type (a number for seed, width, height, num_frames, fps, ...)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from core.errors import InvalidRequestError
from providers.ltx.comfyui_checks import choices
from providers.ltx.comfyui_convert import is_ui_format, without_notes

TEMPLATE_DIR = Path(__file__).resolve().parent / "workflows"
SETS = json.loads((TEMPLATE_DIR / "sets.json").read_text(encoding="utf-8"))
#: the LTX-Video 0.9 set, the templates a model without a set of its own renders with
TEMPLATES = SETS["sets"][SETS["default"]]["templates"]
USER_PLACEHOLDERS = ("prompt", "negative_prompt", "seed", "width", "height", "num_frames", "fps", "image",
                     "end_image", "video")
NUMERIC = {"seed", "width", "height", "num_frames", "fps", "steps", "cfg", "lora_strength", "denoise", "overlap",
           "overlap_start", "guide_frame"}
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
# an API-format workflow is node -> inputs -> value (a list at most): a few levels. The limit keeps the recursive
# walks below (placeholders, fill, deepcopy) far from Python's recursion limit.
MAX_DEPTH = 32


def template_set(model: str | None) -> str:
    return SETS["models"].get(model or "", SETS["default"])


def load_template(name: str, model: str | None = None) -> dict:
    """The built-in template for a mode, from the set of the model's LTX version."""
    chosen = SETS["sets"][template_set(model)]
    if name not in chosen["templates"]:
        raise InvalidRequestError(f"the {chosen['label']} ComfyUI templates have no {name} workflow", field="mode",
                                  allowed=sorted(chosen["templates"]))
    return json.loads((TEMPLATE_DIR / chosen["templates"][name]).read_text(encoding="utf-8"))


def template_for(model: str | None, mode: str, *, audio: bool = False, camera_lora: bool = False,
                 lora: bool = False) -> str:
    """The built-in template a render uses: the mode's own (keyframes ride on first/last frame); a text-to-video
    render with audio takes the set's audio template, one with a camera LoRA its camera-LoRA template (audio
    first: no template has both, so the camera then becomes prompt wording), one with a LoRA of the user's the
    LoRA template where the set has one."""
    mode = "first-last-frame" if mode == "multi-keyframe" else mode
    if mode != "text-to-video":
        return mode
    templates = SETS["sets"][template_set(model)]["templates"]
    for wanted, name in ((audio, "audio"), (camera_lora, "camera-lora"), (lora, "lora")):
        if wanted and name in templates:
            return name
    return mode


def template_uses(model: str | None, name: str, placeholder: str) -> bool:
    """Whether the set's template has the placeholder (the LTX-2.x templates sample on manual sigmas: no steps)."""
    return placeholder in placeholders(load_template(name, model))


def takes_audio(model: str | None, mode: str) -> bool:
    """Whether a render of this mode can have sound: the model's set has an audio template for it."""
    return template_for(model, mode, audio=True) == "audio"


def takes_camera_lora(model: str | None, mode: str, *, audio: bool) -> bool:
    """Whether a camera LoRA can reach this render: the set's camera-LoRA template is the one chosen."""
    return template_for(model, mode, audio=audio, camera_lora=True) == "camera-lora"


def camera_lora_file(model: str | None, lora_id: str, info: dict) -> str:
    """The server's camera-control LoRA for a motion: a file in its loras list whose name has "camera" and the
    motion (dolly-in, dolly_in or dollyin), one naming the model's version first; else Lightricks' LTX-2 file name
    (the check before queueing then names it as missing, with models/loras)."""
    found = choices(info, "LoraLoaderModelOnly", "lora_name")
    forms = {lora_id, lora_id.replace("_", "-"), lora_id.replace("_", "")}
    hits = [c for c in found if "camera" in c.lower() and any(f in c.lower() for f in forms)]
    version = SETS["sets"][template_set(model)]["label"].split()[0].lower()  # "ltx-2.3"
    hits.sort(key=lambda c: version not in c.lower())
    return hits[0] if hits else f"ltx-2-19b-lora-camera-control-{lora_id.replace('_', '-')}.safetensors"


def model_values(model: str | None, info: dict) -> dict[str, str]:
    """The model files a set's templates name beyond the checkpoint, picked from what the server offers: the first
    file with one of the set's words (and all of its `also` words), else the set's default name (the check before
    queueing then names it as missing)."""
    out: dict[str, str] = {}
    for placeholder, want in SETS["sets"][template_set(model)]["models"].items():
        found = choices(info, want["node"], want["input"])
        hits = [c for c in found if any(h in c.lower() for h in want["hints"])
                and all(a in c.lower() for a in want.get("also", []))]
        out[placeholder] = hits[0] if hits else want["default"]
    return out


def load_user_workflow(path: str | Path) -> dict:
    """A workflow the user saved: API format ("Save (API Format)": node id -> class_type and inputs) as it is, UI
    format ("Save", a template: nodes and links) without its notes, to be converted once the server's /object_info
    is known (comfyui_convert.to_api)."""
    p = Path(path)
    try:
        graph = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {p}: {exc.strerror}", field="workflow") from exc
    except RecursionError:  # json's decoder recurses once per level
        raise InvalidRequestError(_too_deep(p), field="workflow") from None
    except ValueError as exc:
        raise InvalidRequestError(f"{p.name} is not JSON: {exc}", field="workflow") from exc
    if _depth_exceeds(graph, MAX_DEPTH):
        raise InvalidRequestError(_too_deep(p), field="workflow")
    if is_ui_format(graph):
        graph = without_notes(graph)
        if not graph["nodes"]:
            raise InvalidRequestError(f"{p.name} has no nodes (only notes, or none): save the workflow again in "
                                      f"ComfyUI, or export it with \"Save (API Format)\"", field="workflow")
        return graph
    if not isinstance(graph, dict) or not graph or not all(
            isinstance(n, dict) and "class_type" in n and isinstance(n.get("inputs", {}), dict)
            for n in graph.values()):
        raise InvalidRequestError(f"{p.name} is not an API-format workflow (node id -> class_type and inputs)",
                                  field="workflow")
    return graph


def _too_deep(p: Path) -> str:
    return (f"{p.name} is nested too deeply (more than {MAX_DEPTH} levels): not an API-format workflow "
            f"(node id -> class_type and inputs)")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists/objects nest deeper than `limit`; iterative, so any depth is safe to check."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children)
    return False


def placeholders(graph: dict) -> set[str]:
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.update(_PLACEHOLDER.findall(v))
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
    walk(graph)
    return found


def fill(graph: dict, values: dict[str, Any], *, allowed: tuple[str, ...] | None = None) -> dict:
    """A copy of the graph with every placeholder replaced. Unknown or unset placeholders are errors."""
    names = placeholders(graph)
    if allowed is not None:
        unknown = sorted(names - set(allowed))
        if unknown:
            raise InvalidRequestError(f"unknown placeholder {{{{{unknown[0]}}}}} in the workflow", field="workflow",
                                      allowed=[f"{{{{{a}}}}}" for a in allowed])
    for name in sorted(names):
        if values.get(name) is None:
            need = {"image": "start_image", "end_image": "end_image", "video": "source_video"}.get(name, name)
            raise InvalidRequestError(f"the workflow uses {{{{{name}}}}} but no value was given", field=need)

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            whole = _PLACEHOLDER.fullmatch(v.strip())
            if whole:
                value = values[whole.group(1)]
                return _typed(whole.group(1), value)
            return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), v)
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        return v
    return sub(copy.deepcopy(graph))


def _typed(name: str, value: Any) -> Any:
    if name in NUMERIC:
        f = float(value)
        return int(f) if f.is_integer() and name not in ("cfg", "lora_strength", "denoise") else f
    return value


def node_classes(graph: dict) -> set[str]:
    return {n["class_type"] for n in graph.values()}


def _next_id(graph: dict) -> str:
    return str(max((int(k) for k in graph if str(k).isdigit()), default=0) + 1)


def add_lora(graph: dict, lora_name: str, strength: float) -> dict:
    """Route every consumer of the checkpoint's MODEL output through a LoraLoaderModelOnly node."""
    loaders = [k for k, n in graph.items() if n["class_type"] == "CheckpointLoaderSimple"]
    if not loaders:
        raise InvalidRequestError("the workflow has no CheckpointLoaderSimple to attach a LoRA to", field="lora_path")
    src = loaders[0]
    new = _next_id(graph)
    for node in graph.values():
        for key, v in node["inputs"].items():
            if v == [src, 0] and node["class_type"] != "LoraLoaderModelOnly":
                node["inputs"][key] = [new, 0]
    graph[new] = {"class_type": "LoraLoaderModelOnly",
                  "inputs": {"model": [src, 0], "lora_name": lora_name, "strength_model": strength}}
    return graph


def add_keyframe_guides(graph: dict, guides: list[tuple[int, str]]) -> dict:
    """Insert LoadImage + LTXVAddGuide nodes for extra keyframes after the last guide of the first/last template."""
    last = max((k for k, n in graph.items() if n["class_type"] == "LTXVAddGuide"), key=int)
    vae = graph[last]["inputs"]["vae"]
    consumers = [(k, key) for k, n in graph.items() for key, v in n["inputs"].items()
                 if isinstance(v, list) and len(v) == 2 and v[0] == last and k != last]
    prev = last
    for frame, image in guides:
        load = _next_id(graph)
        graph[load] = {"class_type": "LoadImage", "inputs": {"image": image}}
        guide = _next_id(graph)
        graph[guide] = {"class_type": "LTXVAddGuide", "inputs": {
            "positive": [prev, 0], "negative": [prev, 1], "vae": vae, "latent": [prev, 2], "image": [load, 0],
            "frame_idx": int(frame), "strength": 1.0}}
        prev = guide
    for k, key in consumers:
        graph[k]["inputs"][key] = [prev, graph[k]["inputs"][key][1]]
    return graph
