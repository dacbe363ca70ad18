"""Which open-weights models the local deployment runs: model id -> Hugging Face repo, pipeline family, the diffusers
pipeline class per mode, and what the model needs (memory). Data, not code paths; no torch import here."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict

from core.errors import InvalidRequestError


class LocalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    repo_id: str
    family: str  # "ltx" (LTX-Video 0.9.x) or "ltx2" (LTX-2: video with audio)
    params_b: float
    min_vram_gb: float  # with CPU offload and VAE tiling
    comfortable_vram_gb: float  # whole pipeline on the GPU in bf16
    distilled: bool = False
    default_steps: int = 30
    default_guidance: float = 3.0


LOCAL_MODELS: dict[str, LocalModel] = {m.id: m for m in (
    LocalModel(id="ltx-video-2b", repo_id="Lightricks/LTX-Video-0.9.5", family="ltx", params_b=2.0,
               min_vram_gb=8, comfortable_vram_gb=16),
    LocalModel(id="ltx-video-13b", repo_id="Lightricks/LTX-Video-0.9.7-distilled", family="ltx", params_b=13.0,
               min_vram_gb=16, comfortable_vram_gb=40, distilled=True, default_steps=8, default_guidance=1.0),
    LocalModel(id="ltx-2-19b", repo_id="Lightricks/LTX-2", family="ltx2", params_b=19.0, min_vram_gb=24,
               comfortable_vram_gb=80, default_steps=40, default_guidance=4.0),
)}
DEFAULT_LOCAL_MODEL = "ltx-video-2b"

# diffusers class per family and kind of call; the LTX-Video condition pipeline covers keyframes, first/last frame,
# extension and video-to-video (LTXVideoCondition), the LTX-2 one covers keyframes and extension
PIPELINES: dict[str, dict[str, str]] = {
    "ltx": {"text": "LTXPipeline", "image": "LTXImageToVideoPipeline", "condition": "LTXConditionPipeline"},
    "ltx2": {"text": "LTX2Pipeline", "image": "LTX2ImageToVideoPipeline", "condition": "LTX2ConditionPipeline"},
}
FAMILY_OF_CLASS = {cls: fam for fam, kinds in PIPELINES.items() for cls in kinds.values()}


def local_model(model_id: Optional[str]) -> LocalModel:
    mid = model_id or DEFAULT_LOCAL_MODEL
    if mid not in LOCAL_MODELS:
        raise InvalidRequestError(f"model {mid!r} has no open weights for the local deployment", field="model",
                                  allowed=list(LOCAL_MODELS))
    return LOCAL_MODELS[mid]


def folder_family(folder: Path) -> Optional[str]:
    """The family of a diffusers pipeline folder, from its model_index.json (None when it is not one)."""
    index = Path(folder) / "model_index.json"
    try:
        cls = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
    except (OSError, ValueError):
        return None
    return FAMILY_OF_CLASS.get(cls) or ("ltx2" if cls.startswith("LTX2") else "ltx" if cls.startswith("LTX") else None)


def folder_size_gb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return total / 1024 ** 3
