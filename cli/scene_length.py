"""A scene longer than the project's model renders, said at add-scene/edit-scene (not refused: the provider or the
model may still change before the render, and the render refuses it with the same words)."""
from __future__ import annotations

from core.errors import ImageAIError, InvalidRequestError
from core.video.project import Scene
from core.video.project_io import ProjectStore


def length_warnings(store: ProjectStore, scene: Scene) -> list[str]:
    """The plan's own length problems for this scene with its settings as they stand (the maximum named)."""
    from core.config import load_settings
    from core.render.requests import scene_request
    from providers import registry
    try:
        request = scene_request(store, scene)
        registry.get(request.settings.provider or "animatic", load_settings()).prepare(request)
    except InvalidRequestError as exc:
        found = [p for p in getattr(exc, "problems", None) or [exc] if p.field == "duration"]
        return [f"{_without_allowed(p)} (kept: the provider or the model may change before the render)"
                for p in found]
    except ImageAIError:  # no key, no server: nothing to say about the length here
        return []
    return []


def _without_allowed(problem: InvalidRequestError) -> str:
    text = str(problem).removeprefix(f"{problem.field}: ")
    return text.removesuffix(f" (allowed: {', '.join(problem.allowed)})") if problem.allowed else text
