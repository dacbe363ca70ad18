"""One call of a Veo plan -> google-genai's GenerateVideosSource and GenerateVideosConfig.

Only the fields the plan's deployment takes are set: google-genai 2.34 raises ValueError in Gemini API mode for the
Vertex-only ones (seed, generate_audio, ...), and prepare has already dropped them with a note. Extension calls send
the prompt, the video and the fields extension takes (720p, person generation); never a duration or the frames.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, Optional

from providers.veo import catalog
from providers.veo.plan import VeoPlan


def _image(types: Any, path: Path):
    mime = mimetypes.guess_type(str(path))[0] or "image/png"
    return types.Image(image_bytes=Path(path).read_bytes(), mime_type=mime)


def source_for(types: Any, plan: VeoPlan, index: int, video: Optional[Any] = None):
    """The source of call `index`: the prompt, and the start frame (first call) or the video to extend."""
    if plan.call_kind(index) == "extend":
        return types.GenerateVideosSource(prompt=plan.prompt, video=video)
    image = _image(types, plan.start_image) if plan.start_image is not None else None
    return types.GenerateVideosSource(prompt=plan.prompt, image=image)


def config_for(types: Any, plan: VeoPlan, index: int):
    """The config of call `index`, with the fields its deployment and kind take."""
    extend = plan.call_kind(index) == "extend"
    fields: dict[str, Any] = {"number_of_videos": 1, "aspect_ratio": plan.aspect_ratio,
                              "resolution": catalog.wire_resolution(plan.resolution)}
    if extend:
        fields["person_generation"] = plan.extension_person_generation or plan.person_generation
    else:
        fields["duration_seconds"] = plan.duration
        fields["person_generation"] = plan.person_generation
        if plan.end_image is not None:
            fields["last_frame"] = _image(types, plan.end_image)
        if plan.references:
            fields["reference_images"] = [
                types.VideoGenerationReferenceImage(image=_image(types, p), reference_type="ASSET")
                for p in plan.references]
    if plan.negative_prompt:
        fields["negative_prompt"] = plan.negative_prompt
    if plan.enhance_prompt is not None:
        fields["enhance_prompt"] = plan.enhance_prompt
    if plan.deployment == "vertex":
        fields["generate_audio"] = plan.include_audio
        if plan.seed is not None:
            fields["seed"] = plan.seed
    return types.GenerateVideosConfig(**fields)
