"""Whether a scene's video model can use the frame an image run would make for it, asked before any image is bought.

The scene's render request is prepared twice, as the render prepares it (no network): without the frame and with the
frame it would get, named but not made yet (the request's `pending_images`: prepare takes them as images and never
opens them, so nothing is written anywhere; an end frame also gets a start frame where the scene has none yet: the
question is whether the model takes end frames at all). A problem only the frame brings
blocks the scene's render, so the image is refused; a frame the model ignores (the Animatic's end frame) is a note."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from core.errors import ImageAIError, InvalidRequestError
from core.render.contract import RenderPlan, RenderRequest, VideoProvider
from core.render.requests import scene_request
from core.video.project import ImageRole, Scene
from core.video.project_io import ProjectStore

#: the mode a frame needs and the request field it fills
FRAME_MODE = {"start": "image-to-video", "end": "first-last-frame"}
FRAME_FIELD = {"start": "start_image", "end": "end_image"}
MAX_NAMED = 6  # models named in one message


@dataclass(frozen=True)
class VideoOffer:
    """One video model on one deployment, as plans name it ("ltx-2.3-fast on fal"), and the modes it has there."""

    label: str
    provider: str
    model: str
    deployment: Optional[str]
    modes: tuple[str, ...]


@dataclass
class VideoModels:
    """What the image run asks the video side: each provider's own `prepare` and every model it offers (the
    front ends build it from the registry and the catalogs)."""

    provider_for: Callable[[str], VideoProvider]
    #: every model offered; asked only when a frame is refused or ignored (loading every catalog takes a while)
    find_offers: Callable[[], list[VideoOffer]] = list
    _offers: Optional[list[VideoOffer]] = field(default=None, init=False, repr=False)

    @property
    def offers(self) -> list[VideoOffer]:
        if self._offers is None:
            self._offers = list(self.find_offers())
        return self._offers

    def taking(self, role: ImageRole, provider: Optional[str], deployment: Optional[str]) -> list[str]:
        """The models that take this frame: the scene's own provider and deployment first."""
        found = [o for o in self.offers if FRAME_MODE[role] in o.modes]

        def rank(o: VideoOffer) -> int:
            if o.provider != provider:
                return 2
            return 0 if o.deployment == deployment else 1
        return [o.label for o in sorted(found, key=rank)]


class FrameProblem(InvalidRequestError):
    """A frame the scene's video model cannot take: its render would refuse it."""

    def __init__(self, *, scene_id: str, number: int, role: ImageRole, what: str, named: str):
        frames = f"{role} frames"
        super().__init__(f"scene {number}: {what}; models that take {frames}: {named}. Make {frames} only for "
                         f"scenes on such a model, or change scene {number}'s model")
        self.field, self.scene_id, self.number, self.role = f"{role}_frame", scene_id, number, role
        self.what, self.named = what, named  # the parts, for a front end that lists several scenes


@dataclass
class FrameVerdict:
    problem: Optional[FrameProblem] = None  # the frame would block the scene's render
    note: Optional[str] = None                      # the model renders without it


class FrameNames:
    """Names for the frames an image run would make, in the project's images folder; never written (the requests
    list them as `pending_images`)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder) / "images"

    def image(self, role: ImageRole, width: int, height: int) -> Path:
        return self.folder / f".not-made-{role}-{width}x{height}.png"


def check_frame(store: ProjectStore, videos: VideoModels, scene: Scene, number: int, role: ImageRole,
                size: tuple[int, int], names: FrameNames) -> FrameVerdict:
    """Whether scene `number`'s video model takes the frame `role` (of `size`) an image run would make."""
    try:
        request = scene_request(store, scene)
        provider = videos.provider_for(request.settings.provider or "animatic")
    except ImageAIError:
        return FrameVerdict()  # no video provider here to ask: the render names it
    frame = names.image(role, *size)
    pending = [frame]
    if role == "end":
        start = request.start_image or names.image("start", *size)
        pending.append(start)
        base = request.model_copy(update={"end_image": None, "start_image": start, "pending_images": pending})
    else:
        base = request.model_copy(update={"start_image": None, "pending_images": pending})
    framed = base.model_copy(update={FRAME_FIELD[role]: frame})
    base_plan, base_problems = _prepare(provider, base)
    plan, problems = _prepare(provider, framed)
    new = [p for p in problems if str(p) not in {str(b) for b in base_problems}]
    label = _label(base_plan or plan, request)
    frames = f"{role} frames"
    ignored = [i for i in (plan.ignored if plan is not None else []) if i.field == FRAME_FIELD[role]]
    if ignored and base_plan and any(i.field == FRAME_FIELD[role] for i in base_plan.ignored):
        ignored = []
    if not new and not ignored:
        return FrameVerdict()
    near = base_plan or plan
    taking = videos.taking(role, near.provider if near else request.settings.provider or "animatic",
                           near.deployment if near else request.settings.deployment)
    named = ", ".join(taking[:MAX_NAMED]) + (f" and {len(taking) - MAX_NAMED} more" if len(taking) > MAX_NAMED
                                               else "") or "none"
    if new:
        if all(p.field == "mode" for p in new):
            what = f"{label} takes no {frames} (it has no {FRAME_MODE[role]} mode)"
        else:  # the model takes the frame, not with what else the scene has
            what = f"{label} cannot render this scene with {role} frames ({'; '.join(str(p) for p in new)})"
        return FrameVerdict(problem=FrameProblem(scene_id=scene.id, number=number, role=role, what=what,
                                                 named=named))
    return FrameVerdict(note=f"scene {number}: {label} renders without {frames}; they are used once the scene "
                             f"renders on a model that takes them: {named}")


def _prepare(provider: VideoProvider, request: RenderRequest
             ) -> tuple[Optional[RenderPlan], list[InvalidRequestError]]:
    try:
        return provider.prepare(request), []
    except InvalidRequestError as exc:
        return None, list(getattr(exc, "problems", None) or [exc])


def _label(plan: Optional[RenderPlan], request: RenderRequest) -> str:
    """How plans name a model: "ltx-2-fast on fal"."""
    s = request.settings
    model = (plan.model if plan is not None else None) or s.model or f"the default {s.provider or 'animatic'} model"
    deployment = (plan.deployment if plan is not None else None) or s.deployment
    return f"{model} on {deployment}" if deployment else model
