"""Shared pieces of every provider's `prepare`: collecting every problem at once, adapting inherited values to the
nearest allowed one, choosing the render length that covers a scene, checking input files once, and the settings
hash of a plan. No network, no provider."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from core.errors import InvalidRequestError, invalid_requests
from core.render.contract import Adjustment, IgnoredSetting, RenderPlan, RenderRequest
from core.video.ids import RESOLUTIONS
from core.video.render_settings import settings_hash

LEVEL_WORDS = {"app": "the app default", "project": "the project's setting", "scene": "the scene's setting",
               "run": "this render's setting"}


class Collector:
    """Problems, adjustments and ignored settings gathered while one request is prepared (video or image), so that
    every problem is raised at once."""

    def __init__(self, label: str):
        self.label = label  # "ltx-2-fast on fal": named in every message
        self.problems: list[InvalidRequestError] = []
        self.adjustments: list[Adjustment] = []
        self.ignored: list[IgnoredSetting] = []

    def problem(self, message: str, *, field: Optional[str] = None, allowed: Optional[Iterable[Any]] = None) -> None:
        self.problems.append(InvalidRequestError(message, field=field, allowed=allowed))

    def adjust(self, field: str, requested: Any, used: Any, reason: str) -> None:
        self.adjustments.append(Adjustment(field=field, requested=requested, used=used, reason=reason))

    def ignore(self, field: str, value: Any, reason: str) -> None:
        self.ignored.append(IgnoredSetting(field=field, value=value, reason=reason))

    def raise_problems(self) -> None:
        if self.problems:
            raise invalid_requests(self.problems)


class PlanBuilder(Collector):
    """Collects problems, adjustments and ignored settings while a provider prepares one request."""

    def __init__(self, request: RenderRequest, label: str):
        super().__init__(label)
        self.request = request
        self.layered = request.layered

    # --- choosing values ---
    def choose(self, field: str, allowed: Sequence[Any], default: Any, *, what: str = "") -> Any:
        """The value to use for a universal field: unset -> the model's default; allowed -> itself; inherited and
        not allowed -> the nearest allowed value (an adjustment); explicit and not allowed -> a problem."""
        value = getattr(self.layered.settings, field)
        if value is None:
            return default
        if value in allowed:
            return value
        shown = what or f"{value}"
        if self.layered.explicit(field):
            self.problem(f"{shown} is not offered by {self.label}", field=field, allowed=allowed)
            return default
        used = nearest(field, value, allowed, default)
        origin = LEVEL_WORDS.get(self.layered.origin(field) or "app", "the default")
        self.adjust(field, value, used, f"{self.label} does not offer {shown} ({origin}); uses {used}")
        return used

    def not_taken(self, field: str, reason: str) -> None:
        """A universal setting that this endpoint does not take: listed as ignored when it was set."""
        value = getattr(self.layered.settings, field)
        if value is not None:
            self.ignore(field, value, reason)

    def render_length(self, cut: Optional[float], durations: Sequence[float], min_s: float, max_s: float,
                      default: float, *, ways_out: str = "split the scene or extend it") -> float:
        """The shortest length this model renders that covers the scene's length (the export cuts the rest)."""
        if cut is None:
            return float(default)
        cut = float(cut)
        if durations:
            options = sorted(float(d) for d in durations)
            covering = [d for d in options if d >= cut - 1e-6]
            if not covering:
                self.problem(f"{cut:g} s is longer than {self.label} renders (at most {options[-1]:g} s); "
                             f"{ways_out}", field="duration", allowed=[f"{d:g}" for d in options])
                return options[-1]
            length = covering[0]
        else:
            if cut > max_s + 1e-6:
                self.problem(f"{cut:g} s is longer than {self.label} renders (at most {max_s:g} s); {ways_out}",
                             field="duration", allowed=[f"{min_s:g}-{max_s:g} s"])
                return max_s
            length = max(cut, min_s)
        if abs(length - cut) > 1e-6:
            self.adjust("duration", cut, length, f"renders {length:g} s, the shortest {self.label} renders that "
                                                  f"covers {cut:g} s; the export cuts it to {cut:g} s")
        return length


def nearest(field: str, value: Any, allowed: Sequence[Any], default: Any) -> Any:
    """The allowed value closest to `value` (ties go to the larger one)."""
    if not allowed:
        return default
    if field == "resolution":
        order = {r: i for i, r in enumerate(RESOLUTIONS)}
        key = order.get(value, 0)
        return min(allowed, key=lambda r: (abs(order.get(r, 0) - key), -order.get(r, 0)))
    if field == "aspect_ratio":
        def ratio(a: str) -> float:
            w, h = a.split(":")
            return float(w) / float(h)
        return min(allowed, key=lambda a: (abs(ratio(a) - ratio(value)), -ratio(a)))
    try:
        return min(allowed, key=lambda v: (abs(float(v) - float(value)), -float(v)))
    except (TypeError, ValueError):
        return default


class InputFacts:
    """Input files checked once per prepare: each image decoded at most once, each video probed at most once."""

    def __init__(self, builder: PlanBuilder):
        self.b = builder
        self.videos: dict[str, Any] = {}  # path -> MediaInfo (None: not a readable video)
        # images still to be made (an image run asking about a frame): taken as images by name
        self.pending_images: set[Path] = set(builder.request.pending_images)

    def image(self, path: Optional[Path], field: str) -> None:
        from core.video.media import is_image  # imports Pillow only when an image is checked
        if path is None or Path(path) in self.pending_images:
            return
        if not Path(path).is_file():
            self.b.problem(f"{path}: no such file; give an image file", field=field, allowed=["PNG", "JPEG", "WebP"])
        elif not is_image(Path(path)):
            self.b.problem(f"{Path(path).name} is not an image", field=field, allowed=["PNG", "JPEG", "WebP"])

    def video(self, path: Optional[Path], field: str, allowed: Sequence[str] = ("MP4", "MOV", "WebM")
              ) -> Optional[float]:
        """The video's length in seconds (None, with a problem, when it is not a readable video)."""
        info = self.video_info(path, field, allowed)
        return info.duration if info is not None else None

    def video_info(self, path: Optional[Path], field: str, allowed: Sequence[str] = ("MP4", "MOV", "WebM")):
        """The video's MediaInfo, probed once; a clip still to be rendered in this run (the request's
        `pending_video`) is answered from its facts, never probed. None, with a problem, when it is not a video."""
        from core.video.media import MediaInfo, video_input
        if path is None:
            return None
        key = str(path)
        if key in self.videos:
            return self.videos[key]
        pending = self.b.request.pending_video
        info = None
        if pending is not None and Path(pending.path) == Path(path):
            info = MediaInfo(path=Path(path), duration=pending.seconds, width=pending.width, height=pending.height,
                             fps=pending.fps, has_video=True)
        elif not Path(path).is_file():
            self.b.problem(f"{path}: no such file; give a video file", field=field, allowed=list(allowed))
        else:
            info, why = video_input(Path(path))  # a still probes as a one-frame video: refused before it is paid
            if why:
                self.b.problem(why, field=field, allowed=list(allowed))
        self.videos[key] = info
        return info

    def check_all(self, request: RenderRequest, length: float) -> None:
        """Every image input, and keyframe times within the rendered clip."""
        self.image(request.start_image, "start_image")
        self.image(request.end_image, "end_image")
        for i, p in enumerate(request.reference_images):
            self.image(p, f"reference_images[{i}]")
        for i, p in enumerate(request.project_reference_images):
            self.image(p, f"project reference {i + 1}")
        for seconds, p in request.keyframes:
            self.image(p, "keyframes")
            limit = request.cut_seconds if request.cut_seconds is not None else length
            if not 0 <= seconds <= limit + 1e-6:
                self.b.problem(f"a keyframe at {seconds:g} s is past the end of the {limit:g} s clip",
                               field="keyframes", allowed=[f"0-{limit:g} s"])


def finish_plan(plan: RenderPlan) -> RenderPlan:
    """Set the settings hash: what reached the service, the prompt and the inputs (ignored settings excluded)."""
    req = plan.request
    payload = {"provider": plan.provider, "model": plan.model, "deployment": plan.deployment, "mode": plan.mode,
               "sent": plan.sent, "prompt": req.prompt, "inputs": req.input_names,
               "render_seconds": plan.render_seconds}
    plan.settings_hash = settings_hash(payload)
    return plan
