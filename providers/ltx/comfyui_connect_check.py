"""The ComfyUI server test of the Settings dialog, made the way krita-ai-diffusion checks on connect: one server is
asked for /system_stats (version, devices) and /object_info (nodes, model lists), and the answer is held against what
the built-in LTX templates need: every node class (with the custom-node pack that provides it), a text encoder, and
an LTX checkpoint per model (the one the ComfyUI backend would choose, or the file named in comfyui_checkpoints).

Qt-free: the dialog imports this and runs `check_server` on the app's asyncio loop thread (importing it loads
aiohttp and the backend: a fraction of a second the GUI thread should not wait)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from core.config import Settings
from core.errors import ImageAIError
from providers.ltx import comfyui_workflows as wf
from providers.ltx.comfyui_backend import CKPT_HINTS, ComfyUIBackend, _input
from providers.ltx.comfyui_checks import MODEL_FOLDERS, MissingOnServer, options, where_from
from providers.ltx.comfyui_client import ComfyUIClient
from providers.ltx.comfyui_servers import ComfyServer


@dataclass
class MissingNode:
    node_class: str
    pack: str
    templates: list[str]

    def describe(self) -> str:
        return f"{self.node_class} (for {', '.join(self.templates)}): install {self.pack}"


@dataclass
class ServerReport:
    server: ComfyServer
    reachable: bool = False
    error: Optional[str] = None             # why it could not be asked (unreachable, not ComfyUI, ...)
    version: str = ""
    devices: list[str] = field(default_factory=list)
    missing_nodes: list[MissingNode] = field(default_factory=list)
    missing_models: list[str] = field(default_factory=list)  # files a render would need, with their folder
    checkpoints: dict[str, Optional[str]] = field(default_factory=dict)  # LTX model id -> checkpoint (None: none)

    @property
    def ok(self) -> bool:
        """It answers, has every node and at least one LTX model it can render."""
        return (self.reachable and not self.missing_nodes and not self.missing_models
                and any(self.checkpoints.values()))

    def lines(self) -> list[str]:
        """The report in words, one fact a line."""
        s = self.server
        if not self.reachable:
            return [f"{s.id} ({s.url}): not reachable: {self.error}"]
        out = [f"{s.id} ({s.url}): {'ready' if self.ok else 'answers, but lacks what the templates need'}",
               f"ComfyUI {self.version or 'version unknown'}; devices: {', '.join(self.devices) or 'none listed'}"]
        out += [f"missing node {n.describe()}" for n in self.missing_nodes]
        out += [f"missing model {m}" for m in self.missing_models]
        for model, ckpt in self.checkpoints.items():
            out.append(f"{model}: {ckpt}" if ckpt else f"{model}: no checkpoint (put one in ComfyUI's "
                                                        f"models/checkpoints to render it here)")
        return out


async def check_server(server: ComfyServer, settings: Settings) -> ServerReport:
    """Ask one server; never raises for what the server answers (the report says it)."""
    report = ServerReport(server)
    client = ComfyUIClient(server)
    try:
        info = await client.object_info()
    except ImageAIError as exc:
        report.error = str(exc)
        return report
    report.reachable = True
    try:
        _, stats = await client._json("GET", "/system_stats")
    except ImageAIError as exc:  # an old server without the route still renders
        stats = {}
        report.version = f"unknown ({exc})"
    _read_stats(report, stats if isinstance(stats, dict) else {})
    report.missing_nodes = missing_nodes(info)
    report.missing_models, report.checkpoints = missing_models(info, settings, server.id)
    return report


def _read_stats(report: ServerReport, stats: dict) -> None:
    system = stats.get("system") if isinstance(stats.get("system"), dict) else {}
    report.version = report.version or str(system.get("comfyui_version") or "")
    for dev in stats.get("devices") or []:
        if isinstance(dev, dict):
            vram = dev.get("vram_total")
            size = f", {vram / 1024 ** 3:.0f} GB" if isinstance(vram, (int, float)) and vram > 0 else ""
            report.devices.append(f"{dev.get('name') or dev.get('type') or '?'}{size}")


def missing_nodes(info: dict) -> list[MissingNode]:
    """Node classes the built-in templates use that the server lacks, each with the templates that need it."""
    needed: dict[str, list[str]] = {}
    for name in wf.TEMPLATES:
        for cls in sorted(wf.node_classes(wf.load_template(name))):
            needed.setdefault(cls, []).append(name)
    return [MissingNode(cls, where_from(cls), names) for cls, names in sorted(needed.items()) if cls not in info]


def missing_models(info: dict, settings: Settings, server_id: str) -> tuple[list[str], dict[str, Optional[str]]]:
    """(missing files with their folder, LTX model id -> the checkpoint a render would load here)."""
    missing: list[str] = []
    encoders = options(_input(info, "CLIPLoader", "clip_name")) or []
    if "CLIPLoader" in info and not encoders:
        missing.append(f"a T5 text encoder (e.g. t5xxl_fp16.safetensors) in models/{MODEL_FOLDERS['clip_name']}")
    ckpts = [str(c) for c in options(_input(info, "CheckpointLoaderSimple", "ckpt_name")) or []]
    backend = ComfyUIBackend(settings)  # the backend's own choice of checkpoint, so the test says what a render does
    found: dict[str, Optional[str]] = {}
    for model in CKPT_HINTS:
        try:
            found[model] = backend._checkpoint(info, model, server_id)
        except MissingOnServer:
            found[model] = None
            continue
        if found[model] not in ckpts:  # a name from comfyui_checkpoints the server does not have
            missing.append(f"{found[model]} (comfyui_checkpoints for {model}) in models/"
                           f"{MODEL_FOLDERS['ckpt_name']}")
            found[model] = None
    return missing, found
