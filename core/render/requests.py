"""Turning a scene into a RenderRequest with absolute paths, and deciding whether a done take already covers it."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

from core.render.contract import PendingVideo, RenderPlan, RenderRequest
from core.video.chains import parent_of
from core.video.project import MAX_REFERENCE_IMAGES, Scene, Take, VideoProject
from core.video.project_io import ProjectStore
from core.video.render_settings import LayeredSettings, RenderSettings, settings_hash


def clip_rel_path(scene: Scene, take: Take) -> str:
    return f"clips/{scene.id}_{take.id}.mp4"


#: where providers write clips before their check (core/render/staging.py cleans it)
STAGING_DIR = "clips/.incoming"


def staging_rel_path(scene: Scene, take_id: str) -> str:
    """Where a provider writes a clip before it is verified (a failed clip never takes the clip path)."""
    return f"{STAGING_DIR}/{scene.id}_{take_id}.mp4"


class ChainInput(NamedTuple):
    """The clip a chained scene extends: its parent's selected clip (or, while a run is planned before the parent
    rendered, the file its clip will have, with `pending` its facts) and who made it (what the child's settings
    hash covers)."""

    path: Path
    identity: dict  # {"scene": parent id, "take": take id, "clip": project-relative clip path}
    pending: Optional[PendingVideo] = None  # the clip is still to be rendered in this run (core/render/chains.py)


def parent_clip(store: ProjectStore, scene: Scene) -> Optional[ChainInput]:
    """The selected done clip of the scene `scene` extends, when it is on disk (None: no link or no clip)."""
    parent = parent_of(store.project, scene)
    take = parent.selected_take if parent is not None else None
    if take is None or take.status != "done" or not take.clip_path or not store.resolve(take.clip_path).is_file():
        return None
    return ChainInput(store.resolve(take.clip_path), chain_identity(parent, take.id, take.clip_path))


def chain_identity(parent: Scene, take_id: str, clip_rel: str) -> dict:
    return {"scene": parent.id, "take": take_id, "clip": clip_rel}


def scene_request(store: ProjectStore, scene: Scene, run: Optional[RenderSettings] = None,
                  output_rel: str = "clips/.incoming/_plan.mp4", chain: Optional[ChainInput] = None) -> RenderRequest:
    """The scene's request; a chained scene extends `chain`, by default its parent's selected clip."""
    project = store.project
    layered = project.scene_settings(scene, run)
    return build_request(store, scene, layered, output_rel, chain)


def build_request(store: ProjectStore, scene: Scene, layered: LayeredSettings, output_rel: str,
                  chain: Optional[ChainInput] = None) -> RenderRequest:
    project = store.project
    if chain is None and scene.extend_scene_id:
        chain = parent_clip(store, scene)
    own = list(scene.reference_images)
    shared = [r for r in project.reference_images if r.path not in {o.path for o in own}] \
        if scene.use_global_references else []
    return RenderRequest(
        prompt=scene.prompt,
        title=scene.title,
        layered=layered,
        cut_seconds=scene.duration,
        start_image=store.maybe_resolve(scene.start_frame),
        end_image=store.maybe_resolve(scene.end_frame),
        keyframes=[(k.seconds, store.resolve(k.image)) for k in scene.keyframes],
        reference_images=[store.resolve(r.path) for r in own],
        project_reference_images=[store.resolve(r.path) for r in shared],
        source_video=store.maybe_resolve(scene.source_video),
        extend_video=chain.path if chain is not None else store.maybe_resolve(scene.extend_video),
        pending_video=chain.pending if chain is not None else None,
        output_path=store.output_path(output_rel),
        work_dir=store.folder / "clips",
        input_names=input_names(scene, project, chain),
    )


def input_names(scene: Scene, project: VideoProject, chain: Optional[ChainInput] = None) -> dict:
    """The scene's inputs by their project-relative names (what the settings hash covers). A chained scene's names
    its parent's take and clip: a parent rendered again makes the child stale."""
    names = {"title": scene.title, "start_image": scene.start_frame, "end_image": scene.end_frame,
             "keyframes": [[k.seconds, k.image] for k in scene.keyframes],
             "reference_images": [r.path for r in scene.get_effective_reference_images(project.reference_images)],
             "source_video": scene.source_video, "extend_video": scene.extend_video}
    if scene.extend_scene_id:  # only then: the hashes of unchained scenes stay as they were
        names["extend_scene"] = chain.identity if chain is not None else {"scene": scene.extend_scene_id}
    return names


def take_covers(take: Take, plan: RenderPlan, scene: Scene, project: VideoProject) -> bool:
    """Whether a done take was rendered with what this plan would render (so it need not be paid again)."""
    if take.hash_version >= 2:
        return take.settings_hash == plan.settings_hash
    return _v1_take_covers(take, plan, scene, project)


def _v1_take_covers(take: Take, plan: RenderPlan, scene: Scene, project: VideoProject) -> bool:
    """A take from a v1 project: its hash covered the prompt, the inputs and its full settings; it covers the plan
    when the scene's prompt and inputs are unchanged and every value the plan sends equals the take's."""
    refs = [r.path for r in scene.get_effective_reference_images(project.reference_images)][:MAX_REFERENCE_IMAGES]
    payload = {"prompt": scene.prompt, "negative_prompt": None, "settings": take.settings,
               "start_image": scene.start_frame, "end_image": scene.end_frame,
               "keyframes": [(k.seconds, k.image) for k in scene.keyframes], "reference_images": refs,
               "source_video": scene.source_video, "extend_video": scene.extend_video}
    if settings_hash(payload) != take.settings_hash:
        return False
    if take.provider != plan.provider:
        return False
    for key, value in plan.sent.items():
        old = take.settings.get(key)
        if old is None:
            continue
        if isinstance(value, (int, float)) and isinstance(old, (int, float)):
            if abs(float(value) - float(old)) > 1e-6:
                return False
        elif old != value:
            return False
    return True
