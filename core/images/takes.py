"""Planning a project's image run: which scenes get images, one image request per scene (its prompt, the video's
frame size, the scene's and the project's reference images), the take ids and files of its variants, the price.
No network, no money: every problem of every scene is raised at once, before anything is sent."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from core.errors import InvalidRequestError, invalid_requests
from core.images.contract import ImagePlan, ImageProvider, ImageRequest
from core.images.frame_rules import FrameNames, VideoModels, check_frame
from core.video.chains import numbers
from core.video.project import ImageRole, Scene, VideoProject, new_id
from core.video.project_io import ProjectStore
from core.video.render_settings import frame_size

DEFAULT_PROVIDER = "google"
IMAGES_DIR = "images"

ImageProviderGetter = Callable[[str], ImageProvider]


@dataclass
class ImageItem:
    """One scene of an image run: its request's plan and the image take each variant becomes."""

    scene_id: str
    index: int  # 1-based position in the storyboard
    role: ImageRole
    plan: ImagePlan
    take_ids: list[str]
    #: what the scene's video model does with the frame, where it renders without it
    notes: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.plan.cost


@dataclass
class ImageRunPlan:
    provider: str
    model: str
    role: ImageRole
    items: list[ImageItem] = field(default_factory=list)

    @property
    def total_cost(self) -> float:
        return round(sum(i.cost for i in self.items), 4)

    @property
    def images(self) -> int:
        return sum(len(i.take_ids) for i in self.items)

    def notes(self) -> list[str]:
        return [n for i in self.items for n in [f"scene {i.index}: {n}" for n in i.plan.notes()] + i.notes]


def default_scene_ids(project: VideoProject, role: ImageRole) -> list[str]:
    """Without a choice: every scene that has no start frame (or no end frame)."""
    frame = "start_frame" if role == "start" else "end_frame"
    return [s.id for s in project.scenes if not getattr(s, frame)]


def scene_prompt(scene: Scene) -> str:
    return scene.prompt.strip() or scene.title.strip()


def scene_request(store: ProjectStore, scene: Scene, role: ImageRole, output: Path, *, model: Optional[str],
                  variants: int, quality: Optional[str] = None, seed: Optional[int] = None) -> ImageRequest:
    """The image request of one scene: the video's frame size; the scene's own references (refused beyond what the
    model takes) and the project's (used up to it); an end frame also looks at the scene's start frame."""
    project = store.project
    layered = project.scene_settings(scene).settings
    width, height = frame_size(layered.resolution or "720p", layered.aspect_ratio or "16:9")
    own = [r.path for r in scene.reference_images]
    shared = [r.path for r in project.reference_images if r.path not in own] if scene.use_global_references else []
    if role == "end" and scene.start_frame:
        shared = [scene.start_frame] + [p for p in shared if p != scene.start_frame]
    return ImageRequest(prompt=scene_prompt(scene), output_path=output, model=model, width=width, height=height,
                        variants=variants, quality=quality, seed=seed,
                        reference_images=[store.resolve(p) for p in own],
                        project_reference_images=[store.resolve(p) for p in shared],
                        input_names={"reference_images": own, "project_reference_images": shared})


def plan_images(store: ProjectStore, get_provider: ImageProviderGetter, scene_ids: Optional[list[str]] = None, *,
                role: ImageRole = "start", provider: Optional[str] = None, model: Optional[str] = None,
                variants: Optional[int] = None, quality: Optional[str] = None, seed: Optional[int] = None,
                videos: Optional[VideoModels] = None) -> ImageRunPlan:
    """Plan images for these scenes (None: the scenes without that frame). Unset choices come from the project's
    image choice (`project.image`). With `videos` (the front ends always pass it), each scene's video model is
    asked whether it takes the frame: one that would block the scene's render is a problem, before anything is
    bought. Raises one InvalidRequestError naming every scene's problems."""
    project = store.project
    choice = project.image
    name = provider or choice.provider or DEFAULT_PROVIDER
    model = model or (choice.model if (choice.provider or DEFAULT_PROVIDER) == name else None)
    quality = quality or (choice.quality if model == choice.model else None)
    count = variants or choice.variants
    image_provider = get_provider(name)
    caps = image_provider.capabilities()
    run = ImageRunPlan(provider=name, model=caps.model(model).id, role=role)
    ids = default_scene_ids(project, role) if scene_ids is None else list(scene_ids)
    index = numbers(project)
    problems: list[InvalidRequestError] = []
    frames = FrameNames(store.folder)
    for sid in ids:
        _plan_scene(store, image_provider, run, sid, index, problems, frames, videos, role=role, model=model,
                    variants=count, quality=quality, seed=seed)
    if problems:
        raise invalid_requests(problems)
    return run


def _plan_scene(store: ProjectStore, image_provider: ImageProvider, run: ImageRunPlan, sid: str,
                index: dict[str, int], problems: list[InvalidRequestError], frames: FrameNames,
                videos: Optional[VideoModels], *, role: ImageRole, model: Optional[str], variants: int,
                quality: Optional[str], seed: Optional[int]) -> None:
    """One scene's image plan, appended to `run`, or its problems, appended to `problems`."""
    project = store.project
    if sid not in index:
        problems.append(InvalidRequestError(f"no scene with id {sid!r}", field="scenes",
                                            allowed=[f"1-{len(project.scenes)}"]))
        return
    scene, number = project.scene(sid), index[sid]
    stem = f"scene{number}-{role}-{new_id()[:8]}"
    try:
        request = scene_request(store, scene, role, store.output_path(f"{IMAGES_DIR}/{stem}.png"), model=model,
                                variants=variants, quality=quality, seed=seed)
    except InvalidRequestError as exc:
        problems.extend(_scene_problems(number, exc))
        return
    verdict = check_frame(store, videos, scene, number, role, (request.width, request.height), frames) \
        if videos is not None else None
    if verdict is not None and verdict.problem is not None:
        problems.append(verdict.problem)
    try:
        plan = image_provider.prepare(request)
    except InvalidRequestError as exc:
        problems.extend(_scene_problems(number, exc))
        return
    if verdict is not None and verdict.problem is not None:
        return
    run.items.append(ImageItem(scene_id=sid, index=number, role=role, plan=plan,
                               take_ids=[new_id() for _ in plan.outputs],
                               notes=[verdict.note] if verdict is not None and verdict.note else []))


def _scene_problems(number: int, exc: InvalidRequestError) -> list[InvalidRequestError]:
    out = []
    for p in getattr(exc, "problems", None) or [exc]:
        err = InvalidRequestError(f"scene {number}: {p}")
        err.field = p.field  # the message names it already
        out.append(err)
    return out
