"""The project data model: a storyboard of scenes, each with its takes (render attempts).

Asset paths are stored relative to the project folder (posix separators); core/video/project_io.py resolves them
and refuses any that point outside the folder.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.video.export import ExportSettings
from core.video.relpath import check_relative_path
from core.video.render_settings import LayeredSettings, RenderSettings, layer_settings

SCHEMA_VERSION = 2
MAX_REFERENCE_IMAGES = 3
MAX_TEXT = 20_000  # longest prompt or title accepted; longer strings are refused on load

TakeStatus = Literal["queued", "submitted", "running", "done", "failed", "cancelled"]
ACTIVE_STATUSES = ("submitted", "running")


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ReferenceImage(_Model):
    path: str
    label: str = ""

    _path = field_validator("path")(classmethod(lambda cls, v: check_relative_path(v)))


class Keyframe(_Model):
    seconds: float = Field(ge=0)
    image: str

    _image = field_validator("image")(classmethod(lambda cls, v: check_relative_path(v)))


class Take(_Model):
    """One render attempt. Its remote job id is saved the moment the job is submitted."""

    id: str = Field(default_factory=new_id)
    provider: str
    deployment: Optional[str] = None
    model: Optional[str] = None
    #: what was sent to the service (the plan's resolved settings); hash_version 1 = a pre-v2 take's settings
    settings: dict = Field(default_factory=dict)
    settings_hash: str = ""
    hash_version: int = 2
    #: the plan's adjustments and ignored settings, as shown before the render
    notes: list[str] = Field(default_factory=list)
    rendered_seconds: Optional[float] = None  # the clip's length as rendered (the export cuts it to the scene)
    #: where the scene starts inside the clip: an extension returned with its source footage (forward: after the
    #: source; backward: at 0). None: at 0
    scene_start_s: Optional[float] = None
    seed: Optional[int] = None
    remote_job_id: Optional[str] = None
    status: TakeStatus = "queued"
    error: Optional[str] = None
    error_kind: Optional[str] = None
    estimated_cost: float = 0.0
    cost: float = 0.0
    clip_path: Optional[str] = None
    created_at: datetime = Field(default_factory=now)
    submitted_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    #: the job finished at the service but its result was not fetched or failed its check: fetch it again by id
    refetch: bool = False
    #: the service no longer has the paid result: a new render pays again (only when the user confirms)
    result_gone: bool = False
    #: the ComfyUI server (its id in the settings) the job runs on
    server: Optional[str] = None
    #: the layered settings the take was planned from (to follow its job again after a restart)
    request: dict = Field(default_factory=dict)

    _clip = field_validator("clip_path")(classmethod(lambda cls, v: check_relative_path(v)))

    @property
    def render_seconds(self) -> Optional[float]:
        if self.submitted_at and self.finished_at:
            return (self.finished_at - self.submitted_at).total_seconds()
        return None


ImageRole = Literal["start", "end"]


class ImageTake(_Model):
    """One generated image of a scene (a variant): a candidate start or end frame. Saved the moment it arrives;
    choosing it (core.video.scene_edits.ChooseImageTake) copies its path into the scene's start or end frame."""

    id: str = Field(default_factory=new_id)
    role: ImageRole = "start"
    path: str
    provider: str
    model: Optional[str] = None
    prompt: str = Field("", max_length=MAX_TEXT)
    seed: Optional[int] = None
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    #: what reached the service besides the prompt and the images (the plan's `sent`), and its hash
    settings: dict = Field(default_factory=dict)
    settings_hash: str = ""
    references: list[str] = Field(default_factory=list)  # the input images sent, project-relative
    estimated_cost: float = 0.0
    cost: float = 0.0
    created_at: datetime = Field(default_factory=now)

    _path = field_validator("path")(classmethod(lambda cls, v: check_relative_path(v)))


class ImageChoice(_Model):
    """The project's image provider and model (the image group, `project images`); None: the provider's default."""

    provider: Optional[str] = None
    model: Optional[str] = None
    quality: Optional[str] = None
    variants: int = Field(1, ge=1, le=10)


class Scene(_Model):
    id: str = Field(default_factory=new_id)
    title: str = Field("", max_length=MAX_TEXT)
    prompt: str = Field("", max_length=MAX_TEXT)
    duration: float = Field(5.0, gt=0, le=600)
    start_frame: Optional[str] = None
    end_frame: Optional[str] = None
    keyframes: list[Keyframe] = Field(default_factory=list)
    reference_images: list[ReferenceImage] = Field(default_factory=list, max_length=MAX_REFERENCE_IMAGES)
    use_global_references: bool = True
    source_video: Optional[str] = None
    extend_video: Optional[str] = None
    #: a chain: the scene whose selected take's clip this scene extends (core/video/chains.py)
    extend_scene_id: Optional[str] = None
    #: the scene's own render settings (same shape as the project's; unset fields inherit)
    render: RenderSettings = Field(default_factory=RenderSettings)
    takes: list[Take] = Field(default_factory=list)
    selected_take_id: Optional[str] = None
    #: generated images (variants) for the start and end frames; the chosen ones' paths are start/end_frame
    image_takes: list[ImageTake] = Field(default_factory=list)
    start_image_take_id: Optional[str] = None
    end_image_take_id: Optional[str] = None

    _paths = field_validator("start_frame", "end_frame", "source_video", "extend_video")(
        classmethod(lambda cls, v: check_relative_path(v)))

    @model_validator(mode="after")
    def _selected_exists(self) -> "Scene":
        if self.selected_take_id and not any(t.id == self.selected_take_id for t in self.takes):
            raise ValueError(f"selected_take_id {self.selected_take_id!r} names no take of this scene")
        for name in ("start_image_take_id", "end_image_take_id"):
            chosen = getattr(self, name)
            if chosen and not any(t.id == chosen for t in self.image_takes):
                raise ValueError(f"{name} {chosen!r} names no image take of this scene")
        return self

    @model_validator(mode="after")
    def _one_video_input(self) -> "Scene":
        if self.extend_scene_id is not None:
            if self.extend_scene_id == self.id:
                raise ValueError("a scene cannot extend itself (extend_scene_id)")
            given = [n for n in ("extend_video", "source_video") if getattr(self, n)]
            if given:
                raise ValueError(f"a scene that extends another scene's clip (extend_scene_id) takes no "
                                 f"{' or '.join(given)}; clear it first")
        return self

    def get_effective_reference_images(self, global_refs: list[ReferenceImage]) -> list[ReferenceImage]:
        """The scene's own references first; with the use-global toggle on, the project's fill the rest (max 3)."""
        refs = list(self.reference_images)
        if self.use_global_references:
            own = {r.path for r in refs}
            refs += [g for g in global_refs if g.path not in own]
        return refs[:MAX_REFERENCE_IMAGES]

    @property
    def selected_take(self) -> Optional[Take]:
        for take in self.takes:
            if take.id == self.selected_take_id:
                return take
        return None

    def image_take(self, take_id: str) -> ImageTake:
        for t in self.image_takes:
            if t.id == take_id:
                return t
        raise KeyError(take_id)

    def latest_take(self) -> Optional[Take]:
        return self.takes[-1] if self.takes else None

    def take(self, take_id: str) -> Take:
        for t in self.takes:
            if t.id == take_id:
                return t
        raise KeyError(take_id)


class LedgerEntry(_Model):
    take_id: str  # a video take's id, or an image take's (kind "image")
    scene_id: str
    provider: str
    model: Optional[str] = None
    estimated: float = 0.0
    cost: float = 0.0
    at: datetime = Field(default_factory=now)
    kind: Literal["video", "image"] = "video"


class VideoProject(_Model):
    schema_version: int = SCHEMA_VERSION
    name: str = Field("Untitled", max_length=500)
    render: RenderSettings = Field(default_factory=RenderSettings)
    reference_images: list[ReferenceImage] = Field(default_factory=list, max_length=MAX_REFERENCE_IMAGES)
    scenes: list[Scene] = Field(default_factory=list)
    export: ExportSettings = Field(default_factory=ExportSettings)
    ledger: list[LedgerEntry] = Field(default_factory=list)
    image: ImageChoice = Field(default_factory=ImageChoice)
    created_at: datetime = Field(default_factory=now)
    modified_at: datetime = Field(default_factory=now)

    @model_validator(mode="after")
    def _unique_scene_ids(self) -> "VideoProject":
        seen: set[str] = set()
        for i, scene in enumerate(self.scenes):
            if scene.id in seen:
                raise ValueError(f"scenes.{i}.id: duplicate scene id {scene.id!r}")
            seen.add(scene.id)
        return self

    def scene(self, scene_id: str) -> Scene:
        for s in self.scenes:
            if s.id == scene_id:
                return s
        raise KeyError(scene_id)

    def scene_settings(self, scene: Scene, run: Optional[RenderSettings] = None) -> LayeredSettings:
        """The project's settings, then the scene's own (its duration is the scene's length in the edit), then
        this run's, each value with the level it came from."""
        own = scene.render.updated(duration=scene.duration)
        return layer_settings([("project", self.render), ("scene", own), ("run", run)])

    @property
    def total_cost(self) -> float:
        return round(sum(e.cost for e in self.ledger), 4)

    def asset_paths(self) -> list[str]:
        """Every relative asset path the project references (for checks and for copying a project)."""
        paths = [r.path for r in self.reference_images]
        for s in self.scenes:
            paths += [p for p in (s.start_frame, s.end_frame, s.source_video, s.extend_video) if p]
            paths += [k.image for k in s.keyframes] + [r.path for r in s.reference_images]
            paths += [t.clip_path for t in s.takes if t.clip_path]
            paths += [t.path for t in s.image_takes]
        return paths
