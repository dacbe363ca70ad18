"""Checking a filled workflow against one server's /object_info before anything is uploaded or queued: every node
class exists, every model file the workflow names is installed (in the folder ComfyUI looks in), every choice is
one the server offers, every number is inside the server's min/max and no required input is missing. These are the
checks the server itself makes on /prompt (it checks min/max, not the UI's step), made early so that a refused
render leaves nothing on the server and the message names the node and what to install."""
from __future__ import annotations

from typing import Any, Optional

from core.errors import InvalidRequestError

#: the models/ folder each loader input reads from
MODEL_FOLDERS = {
    "ckpt_name": "checkpoints", "clip_name": "text_encoders", "clip_name1": "text_encoders",
    "clip_name2": "text_encoders", "text_encoder": "text_encoders", "lora_name": "loras", "vae_name": "vae",
    "unet_name": "diffusion_models", "upscale_model": "latent_upscale_models", "control_net_name": "controlnet",
}
MODEL_EXT = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
#: custom-node packs, by the prefix or the names of the nodes they provide
NODE_PACKS = (
    ("VHS_", "ComfyUI-VideoHelperSuite"),
    ("LTXV", "ComfyUI-LTXVideo (or a newer ComfyUI: the core LTX nodes grow with each release)"),
    ("LTXAV", "a newer ComfyUI (LTX-2 audio nodes)"),
    ("STGGuider", "ComfyUI-LTXVideo"),
    ("MultimodalGuider", "ComfyUI-LTXVideo"),
    ("GuiderParameters", "ComfyUI-LTXVideo"),
    ("LTXICLoRA", "ComfyUI-LTXVideo"),
    ("LTXAddVideoICLoRAGuide", "ComfyUI-LTXVideo"),
    ("STGAdvancedPresets", "ComfyUI-LTXVideo"),
    ("APGGuider", "ComfyUI-LTXVideo"),
    ("MultiPromptProvider", "ComfyUI-LTXVideo"),
)


class MissingOnServer(InvalidRequestError):
    """The server lacks a node, a model file or a choice the workflow needs (another server may have it)."""

    def __init__(self, message: str, **kw):
        self.reason = message  # without the field's prefix: several servers' reasons are joined into one message
        super().__init__(message, **kw)


def where_from(node_class: str) -> str:
    for prefix, pack in NODE_PACKS:
        if node_class.startswith(prefix):
            return pack
    return "a newer ComfyUI or the custom-node pack that provides it"


def _spec(info: dict, node_class: str, name: str) -> tuple[Optional[list], bool]:
    """(the input's spec, whether it is required); (None, False) when the class has no such input."""
    inputs = (info.get(node_class) or {}).get("input") or {}
    for section, required in (("required", True), ("optional", False), ("hidden", False)):
        spec = (inputs.get(section) or {}).get(name)
        if spec is not None:
            return (spec if isinstance(spec, list) else [spec]), required
    return None, False


def node_input(info: dict, node: str, field: str) -> Optional[list]:
    """A node's required input spec in /object_info (its choices first), or None where the server lacks it."""
    spec = (((info.get(node) or {}).get("input") or {}).get("required") or {}).get(field)
    return spec if isinstance(spec, list) else None


def choices(info: dict, node: str, field: str) -> list[str]:
    """The files (or values) a server offers for a node's combo input; [] where it has none."""
    return [str(c) for c in options(node_input(info, node, field)) or []]


def options(spec: Optional[list]) -> Optional[list]:
    """The choices of a combo input (old form: a list first; new form: "COMBO" with options), else None."""
    if not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return spec[1].get("options")
    return None


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def problems(graph: dict, info: dict, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """What the server lacks or refuses in this API-format graph, one line each. Values in `skip` (the names of
    files still to upload) are not checked against the server's lists."""
    out: list[str] = []
    missing = sorted({n["class_type"] for n in graph.values()} - set(info))
    for cls in missing:
        ids = ", ".join(k for k, n in graph.items() if n["class_type"] == cls)
        out.append(f"no node {cls} (node {ids}); install {where_from(cls)}")
    for node_id, node in graph.items():
        cls = node["class_type"]
        if cls in missing:
            continue
        where = f"node {node_id} ({cls})"
        inputs = node.get("inputs") or {}
        required = ((info[cls].get("input") or {}).get("required") or {})
        for name in required:
            if name not in inputs:
                out.append(f"{where} lacks its required input {name}")
        for name, value in inputs.items():
            spec, _ = _spec(info, cls, name)
            if spec is None or _is_link(value) or (isinstance(value, str) and value in skip):
                continue
            choices = options(spec)
            if choices is not None:
                if value not in choices:
                    out.append(_not_offered(where, name, value, choices))
                continue
            kind, extra = spec[0], spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if kind in ("INT", "FLOAT") and not isinstance(value, bool):
                try:
                    number = int(value) if kind == "INT" else float(value)
                except (TypeError, ValueError):
                    out.append(f"{where} input {name}: {value!r} is not a number ({kind})")
                    continue
                if "min" in extra and number < extra["min"]:
                    out.append(f"{where} input {name}: {number} is below the server's minimum {extra['min']}")
                elif "max" in extra and number > extra["max"]:
                    out.append(f"{where} input {name}: {number} is above the server's maximum {extra['max']}")
    return out


def _not_offered(where: str, name: str, value: Any, choices: list) -> str:
    shown = ", ".join(str(c) for c in choices[:12]) + (f", ... ({len(choices)} in all)" if len(choices) > 12 else "")
    folder = MODEL_FOLDERS.get(name)
    if folder or (isinstance(value, str) and value.lower().endswith(MODEL_EXT)):
        return (f"model file {value} ({where} input {name}) is not installed; put it in ComfyUI's "
                f"models/{folder or '<its folder>'} (found: {shown or 'none'})")
    return f"{where} input {name}: {value!r} is not offered (allowed: {shown or 'none'})"


def require(graph: dict, info: dict, server: str, *, skip: frozenset[str] = frozenset()) -> None:
    """MissingOnServer listing everything the server lacks for this graph, or nothing."""
    found = problems(graph, info, skip=skip)
    if found:
        raise MissingOnServer(f"ComfyUI server {server} cannot run this workflow: " + "; ".join(found),
                              field="workflow")
