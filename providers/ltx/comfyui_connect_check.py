"""The ComfyUI server test of the Settings dialog, made the way krita-ai-diffusion checks on connect: one server is
asked for /system_stats (version, devices) and /object_info (nodes, model lists), and the answer is held against what
each LTX template set (providers/ltx/workflows/sets.json) needs: every node class of its templates (with the
custom-node pack that provides it), the model files its placeholders name (picked as a render picks them) and, where
its templates load a checkpoint, the one the ComfyUI backend would choose per model (or the comfyui_checkpoints file).

Qt-free: the dialog imports this and runs `check_server` on the app's asyncio loop thread (importing it loads
aiohttp and the backend: a fraction of a second the GUI thread should not wait)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from core.config import Settings
from core.errors import ImageAIError
from providers.ltx import comfyui_workflows as wf
from providers.ltx.comfyui_backend import ComfyUIBackend
from providers.ltx.comfyui_checks import MODEL_FOLDERS, MissingOnServer, choices, where_from
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
class SetReport:
    """What one template set (one LTX version) needs that the server lacks."""
    label: str
    models: list[str]
    missing_nodes: list[MissingNode] = field(default_factory=list)
    missing_models: list[str] = field(default_factory=list)  # files, each with the folder it belongs in
    checkpoints: dict[str, Optional[str]] = field(default_factory=dict)  # model id -> checkpoint (None: none)

    @property
    def ready(self) -> bool:
        """Every node and file is there, and a checkpoint for at least one model where the templates load one."""
        return (not self.missing_nodes and not self.missing_models
                and (not self.checkpoints or any(self.checkpoints.values())))

    def lines(self) -> list[str]:
        out = [f"{self.label} ({', '.join(self.models)}): {'ready' if self.ready else 'not ready'}"]
        out += [f"  missing node {n.describe()}" for n in self.missing_nodes]
        out += [f"  missing model {m}" for m in self.missing_models]
        for model, ckpt in self.checkpoints.items():
            out.append(f"  {model}: {ckpt}" if ckpt else f"  {model}: no checkpoint (put one in ComfyUI's "
                                                          f"models/checkpoints to render it here)")
        return out


@dataclass
class ServerReport:
    server: ComfyServer
    reachable: bool = False
    error: Optional[str] = None             # why it could not be asked (unreachable, not ComfyUI, ...)
    version: str = ""
    devices: list[str] = field(default_factory=list)
    sets: list[SetReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """It answers and can render at least one LTX version."""
        return self.reachable and any(s.ready for s in self.sets)

    @property
    def missing_nodes(self) -> list[MissingNode]:
        """Every node some set lacks, once (the templates of all sets that need it)."""
        by_class: dict[str, MissingNode] = {}
        for s in self.sets:
            for n in s.missing_nodes:
                seen = by_class.setdefault(n.node_class, MissingNode(n.node_class, n.pack, []))
                seen.templates += [f"{s.label} {t}" for t in n.templates]
        return list(by_class.values())

    @property
    def missing_models(self) -> list[str]:
        return list(dict.fromkeys(m for s in self.sets for m in s.missing_models))

    def lines(self) -> list[str]:
        """The report in words, one fact a line."""
        s = self.server
        if not self.reachable:
            return [f"{s.id} ({s.url}): not reachable: {self.error}"]
        ready = [x.label for x in self.sets if x.ready]
        head = f"ready for {', '.join(ready)}" if ready else "answers, but lacks what every template set needs"
        out = [f"{s.id} ({s.url}): {head}",
               f"ComfyUI {self.version or 'version unknown'}; devices: {', '.join(self.devices) or 'none listed'}"]
        for x in self.sets:
            out += x.lines()
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
        stats = await client.system_stats()
    except ImageAIError as exc:  # an old server without the route still renders
        stats = {}
        report.version = f"unknown ({exc})"
    _read_stats(report, stats if isinstance(stats, dict) else {})
    backend = ComfyUIBackend(settings)  # the backend's own choice of checkpoint: the test says what a render does
    report.sets = [check_set(set_id, info, backend, server.id) for set_id in wf.SETS["sets"]]
    return report


def _read_stats(report: ServerReport, stats: dict) -> None:
    system = stats.get("system") if isinstance(stats.get("system"), dict) else {}
    report.version = report.version or str(system.get("comfyui_version") or "")
    for dev in stats.get("devices") or []:
        if isinstance(dev, dict):
            vram = dev.get("vram_total")
            size = f", {vram / 1024 ** 3:.0f} GB" if isinstance(vram, (int, float)) and vram > 0 else ""
            report.devices.append(f"{dev.get('name') or dev.get('type') or '?'}{size}")


def check_set(set_id: str, info: dict, backend: ComfyUIBackend, server_id: str) -> SetReport:
    spec = wf.SETS["sets"][set_id]
    models = [m for m, s in wf.SETS["models"].items() if s == set_id]
    model = models[0] if models else None
    report = SetReport(spec.get("label", set_id), models)
    needed: dict[str, list[str]] = {}
    placeholders: set[str] = set()
    for name in spec["templates"]:
        graph = wf.load_template(name, model)
        placeholders |= wf.placeholders(graph)
        for cls in sorted(wf.node_classes(graph)):
            needed.setdefault(cls, []).append(name)
    report.missing_nodes = [MissingNode(c, where_from(c), t) for c, t in sorted(needed.items()) if c not in info]
    # the files the set's placeholders name, picked from the server's lists as a render picks them
    for placeholder, value in wf.model_values(model, info).items():
        want = spec["models"][placeholder]
        if want["node"] in info and value not in choices(info, want["node"], want["input"]):
            report.missing_models.append(f"{value} ({want['node']} {want['input']}) in models/"
                                         f"{MODEL_FOLDERS.get(want['input'], '<its folder>')}")
    if "clip_name" in placeholders and "CLIPLoader" in info and not choices(info, "CLIPLoader", "clip_name"):
        report.missing_models.append(f"a T5 text encoder (e.g. t5xxl_fp16.safetensors) in "
                                     f"models/{MODEL_FOLDERS['clip_name']}")
    if "ckpt_name" in placeholders and "CheckpointLoaderSimple" in info:
        ckpts = choices(info, "CheckpointLoaderSimple", "ckpt_name")
        for m in models:
            try:
                chosen: Optional[str] = backend.checkpoint_for(info, m, server_id)
            except MissingOnServer:
                chosen = None
            if chosen is not None and chosen not in ckpts:  # a comfyui_checkpoints name the server lacks
                report.missing_models.append(f"{chosen} (comfyui_checkpoints for {m}) in models/"
                                             f"{MODEL_FOLDERS['ckpt_name']}")
                chosen = None
            report.checkpoints[m] = chosen
    return report
