"""ComfyUI API-format workflows: the built-in LTX templates (providers/ltx/workflows/*.json), the user's own
(`--workflow FILE.json`), placeholder filling and the graph edits a render needs (LoRA, extra keyframe guides).

A placeholder `{{name}}` inside a string input is replaced by its value; a placeholder that is the whole string is
replaced by a value of the right type (a number for seed, width, height, num_frames, fps, ...)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from core.errors import InvalidRequestError

TEMPLATE_DIR = Path(__file__).resolve().parent / "workflows"
TEMPLATES = {
    "text-to-video": "text_to_video.json",
    "image-to-video": "image_to_video.json",
    "first-last-frame": "first_last_frame.json",
    "extend": "extend.json",
    "video-to-video": "video_to_video.json",
    "lora": "lora.json",
}
USER_PLACEHOLDERS = ("prompt", "negative_prompt", "seed", "width", "height", "num_frames", "fps", "image",
                     "end_image", "video")
NUMERIC = {"seed", "width", "height", "num_frames", "fps", "steps", "cfg", "lora_strength", "denoise", "overlap",
           "overlap_start", "guide_frame"}
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
# an API-format workflow is node -> inputs -> value (a list at most): a few levels. The limit keeps the recursive
# walks below (placeholders, fill, deepcopy) far from Python's recursion limit.
MAX_DEPTH = 32


def load_template(name: str) -> dict:
    return json.loads((TEMPLATE_DIR / TEMPLATES[name]).read_text(encoding="utf-8"))


def load_user_workflow(path: str | Path) -> dict:
    """A workflow the user exported with "Save (API Format)"; the UI format (nodes + links) is refused."""
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
    if isinstance(graph, dict) and "nodes" in graph and "links" in graph:
        raise InvalidRequestError(f"{p.name} is in ComfyUI's UI format; export it with \"Save (API Format)\"",
                                  field="workflow")
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
