"""Turning a scene (or a take) into a RenderRequest with absolute paths, and checking the input files."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from core.errors import InvalidRequestError
from core.video.media import is_image
from core.video.project import Scene, Take
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings, settings_hash
from providers.base import RenderRequest


def clip_rel_path(scene: Scene, take: Take) -> str:
    return f"clips/{scene.id}_{take.id}.mp4"


def scene_settings(store: ProjectStore, scene: Scene, run_overrides: Optional[dict] = None) -> RenderSettings:
    settings = store.project.scene_settings(scene)
    if run_overrides:
        settings = settings.with_overrides(run_overrides)
    return settings


def build_request(store: ProjectStore, scene: Scene, settings: RenderSettings,
                  output_rel: str = "clips/_plan.mp4") -> RenderRequest:
    refs = scene.get_effective_reference_images(store.project.reference_images)
    return RenderRequest(
        prompt=scene.prompt,
        title=scene.title,
        settings=settings,
        start_image=store.maybe_resolve(scene.start_frame),
        end_image=store.maybe_resolve(scene.end_frame),
        keyframes=[(k.seconds, store.resolve(k.image)) for k in scene.keyframes],
        reference_images=[store.resolve(r.path) for r in refs],
        source_video=store.maybe_resolve(scene.source_video),
        extend_video=store.maybe_resolve(scene.extend_video),
        output_path=store.folder / output_rel,
        work_dir=store.folder / "clips",
    )


def request_hash(store: ProjectStore, request: RenderRequest) -> str:
    return settings_hash(request.hash_payload(store.folder))


def check_inputs(request: RenderRequest) -> None:
    """Inputs every provider needs to exist: image files that are images, videos that are files. No network."""
    images = [("image", request.start_image), ("end_image", request.end_image)]
    images += [(f"keyframe {s:g}s", p) for s, p in request.keyframes]
    images += [(f"reference {i + 1}", p) for i, p in enumerate(request.reference_images)]
    for field, path in images:
        if path is None:
            continue
        if not Path(path).is_file():
            raise InvalidRequestError(f"{path}: no such file", field=field)
        if not is_image(path):
            raise InvalidRequestError(f"{Path(path).name} is not an image (PNG, JPEG or WebP expected)", field=field)
    for field, path in (("source_video", request.source_video), ("extend_video", request.extend_video)):
        if path is not None and not Path(path).is_file():
            raise InvalidRequestError(f"{path}: no such file", field=field)
    for seconds, _ in request.keyframes:
        if seconds > request.settings.duration:
            raise InvalidRequestError(f"keyframe at {seconds:g} s is past the end of the {request.settings.duration:g} s "
                                      f"clip", field="keyframe", allowed=[f"0-{request.settings.duration:g} s"])
