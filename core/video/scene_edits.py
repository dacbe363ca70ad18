"""Undoable edits of a project's storyboard, without Qt: the GUI, the CLI and tests make the same changes the same way.

Each edit is a small command object with `do(project)` and `undo(project)`. `EditHistory` keeps the undo and redo
stacks; the GUI binds its Undo/Redo actions to it. Edits never touch takes (renders are paid for and are not undone),
except that deleting a scene removes it with its takes and undoing brings both back.
"""
from __future__ import annotations

import threading
from contextlib import nullcontext
from typing import Any, Callable, Optional

from core.errors import InvalidRequestError
from core.video.chains import check_link, numbers
from core.video.project import MAX_REFERENCE_IMAGES, ReferenceImage, Scene, VideoProject, new_id
from core.video.render_settings import RenderSettings

# scene fields a user edits directly; everything else (takes, ids) belongs to the render queue or the model
EDITABLE_FIELDS = ("title", "prompt", "duration", "start_frame", "end_frame", "reference_images",
                   "use_global_references", "render", "keyframes", "source_video", "extend_video", "extend_scene_id")
#: seconds a keyframe may lie past the scene's end (float noise)
KEYFRAME_SLACK = 1e-6


def _index_of(project: VideoProject, scene_id: str) -> int:
    for i, s in enumerate(project.scenes):
        if s.id == scene_id:
            return i
    raise InvalidRequestError(f"no scene with id {scene_id!r}", field="scene_id",
                              allowed=[s.id for s in project.scenes])


class Edit:
    """One undoable change. `text` is what Undo/Redo menus show."""

    text = "Edit"

    def do(self, project: VideoProject) -> None:
        raise NotImplementedError

    def undo(self, project: VideoProject) -> None:
        raise NotImplementedError


class AddScene(Edit):
    def __init__(self, index: Optional[int] = None, scene: Optional[Scene] = None, **fields: Any):
        self.scene = scene or Scene(**fields)
        self.index = index
        self.text = "Add scene"

    def do(self, project: VideoProject) -> None:
        if any(s.id == self.scene.id for s in project.scenes):
            raise InvalidRequestError(f"a scene with id {self.scene.id!r} already exists", field="scene_id")
        index = len(project.scenes) if self.index is None else max(0, min(self.index, len(project.scenes)))
        self.index = index
        project.scenes.insert(index, self.scene)

    def undo(self, project: VideoProject) -> None:
        project.scenes.pop(_index_of(project, self.scene.id))


class DeleteScenes(Edit):
    """Remove scenes with their takes. A scene left that extended a removed one generates instead (its link is
    cleared, and `text` and `unlinked` say so); undo brings the scenes and the links back."""

    def __init__(self, scene_ids: list[str]):
        if not scene_ids:
            raise InvalidRequestError("no scene chosen to delete", field="scene_ids")
        self.scene_ids = list(scene_ids)
        self.removed: list[tuple[int, Scene]] = []
        self.unlinked: list[tuple[Scene, str]] = []  # (scene left, the removed scene it extended)
        self.base_text = "Delete scene" if len(scene_ids) == 1 else f"Delete {len(scene_ids)} scenes"
        self.text = self.base_text

    def do(self, project: VideoProject) -> None:
        indexes = sorted((_index_of(project, sid) for sid in self.scene_ids))
        self.removed = [(i, project.scenes[i]) for i in indexes]
        gone = {s.id for _, s in self.removed}
        number = numbers(project)
        self.unlinked = [(s, s.extend_scene_id) for s in project.scenes
                         if s.id not in gone and s.extend_scene_id in gone]
        for scene, _ in self.unlinked:
            scene.extend_scene_id = None
        for i, _ in reversed(self.removed):
            project.scenes.pop(i)
        self.text = self.base_text
        if self.unlinked:
            which = ", ".join(f"scene {number[s.id]}" for s, _ in self.unlinked)
            self.text += f" ({which} no longer extend{'s' if len(self.unlinked) == 1 else ''} it)"

    def undo(self, project: VideoProject) -> None:
        for i, scene in self.removed:
            project.scenes.insert(i, scene)
        for scene, parent_id in self.unlinked:
            scene.extend_scene_id = parent_id


class DuplicateScene(Edit):
    """A copy right after the original, with the same prompt and inputs but none of its takes."""

    def __init__(self, scene_id: str):
        self.scene_id = scene_id
        self.copy_id = new_id()
        self.text = "Duplicate scene"

    def do(self, project: VideoProject) -> None:
        i = _index_of(project, self.scene_id)
        data = project.scenes[i].model_dump()
        data.update(id=self.copy_id, takes=[], selected_take_id=None)
        project.scenes.insert(i + 1, Scene.model_validate(data))

    def undo(self, project: VideoProject) -> None:
        project.scenes.pop(_index_of(project, self.copy_id))


class MoveScene(Edit):
    def __init__(self, scene_id: str, new_index: int):
        self.scene_id = scene_id
        self.new_index = new_index
        self.old_index: Optional[int] = None
        self.text = "Move scene"

    def do(self, project: VideoProject) -> None:
        n = len(project.scenes)
        if not 0 <= self.new_index < n:
            raise InvalidRequestError(f"position {self.new_index} is outside the storyboard",
                                      field="new_index", allowed=[f"0..{n - 1}"])
        self.old_index = _index_of(project, self.scene_id)
        project.scenes.insert(self.new_index, project.scenes.pop(self.old_index))

    def undo(self, project: VideoProject) -> None:
        project.scenes.insert(self.old_index, project.scenes.pop(_index_of(project, self.scene_id)))


class SetSceneField(Edit):
    """Change one editable field of a scene; the model validates the value (bad values raise, nothing changes)."""

    def __init__(self, scene_id: str, field: str, value: Any):
        if field not in EDITABLE_FIELDS:
            raise InvalidRequestError(f"field {field!r} cannot be edited", field="field", allowed=EDITABLE_FIELDS)
        self.scene_id, self.field, self.value = scene_id, field, value
        self.old: Any = None
        self.text = f"Edit {field.replace('_', ' ')}"

    def do(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        self.old = getattr(scene, self.field)
        if self.field == "extend_scene_id":
            check_link(project, scene.id, self.value)
        elif self.field in ("duration", "keyframes"):
            _check_keyframes(scene, self.field, self.value)
        try:
            setattr(scene, self.field, self.value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise InvalidRequestError(_first_error(exc), field=self.field) from None

    def undo(self, project: VideoProject) -> None:
        setattr(project.scenes[_index_of(project, self.scene_id)], self.field, self.old)


class SetSceneProvider(SetSceneField):
    """Give a scene its own provider, or None for the project's. A model chosen for another provider does not carry
    over: when the scene's provider changes, its model, deployment and options are cleared; back to the project
    default, the provider and those are cleared."""

    def __init__(self, scene_id: str, provider: Optional[str]):
        super().__init__(scene_id, "render", None)
        self.provider = provider or None
        self.text = "Change scene provider"

    def do(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        self.value = render_with_provider(scene.render, self.provider, project.render.provider or "animatic")
        super().do(project)


def _check_keyframes(scene: Scene, field: str, value: Any) -> None:
    """A new length or new keyframes must leave every keyframe inside the scene."""
    if field == "duration":
        problem = late_keyframe_problem([k.seconds for k in scene.keyframes], value, shortened=True)
    else:
        problem = late_keyframe_problem([k["seconds"] if isinstance(k, dict) else k.seconds for k in value or []],
                                        scene.duration, shortened=False)
    if problem is not None:
        raise problem


def late_keyframe_problem(seconds: list[float], duration: Any, *, shortened: bool,
                          duration_field: str = "duration", keyframe_field: str = "keyframes",
                          remove_flag: Optional[str] = None) -> Optional[InvalidRequestError]:
    """The problem of keyframes at `seconds` in a scene `duration` long (None: all inside). `shortened`: the
    length is what changes (the message offers a longer length or removing the keyframe)."""
    if not isinstance(duration, (int, float)):
        return None  # the model refuses a length that is no number
    late = [s for s in seconds if s > duration + KEYFRAME_SLACK]
    if not late:
        return None
    last = max(late)
    if shortened:
        return InvalidRequestError(f"a {duration:g} s scene would leave its keyframe at {last:g} s past the end",
                                   field=duration_field,
                                   allowed=[f"at least {last:g} s", f"with {remove_flag} {last:g}" if remove_flag
                                            else f"without the keyframe at {last:g} s"])
    return InvalidRequestError(f"a keyframe at {last:g} s is past the end of the {duration:g} s scene",
                               field=keyframe_field, allowed=[f"0-{duration:g} s"])


class SetSceneVideoInput(Edit):
    """What the scene starts from, in one undoable step: nothing (it generates), a scene whose selected clip it
    extends (`extend_scene_id`), a clip it extends (`extend_video`) or a video it transforms (`source_video`).
    At most one is given; the others are cleared."""

    FIELDS = ("extend_scene_id", "extend_video", "source_video")

    def __init__(self, scene_id: str, *, extend_scene_id: Optional[str] = None, extend_video: Optional[str] = None,
                 source_video: Optional[str] = None):
        self.scene_id = scene_id
        self.values = {"extend_scene_id": extend_scene_id, "extend_video": extend_video,
                       "source_video": source_video}
        given = [k for k, v in self.values.items() if v]
        if len(given) > 1:
            raise InvalidRequestError(f"a scene extends or transforms one video; {' and '.join(given)} given",
                                      field="video input", allowed=["one of " + ", ".join(self.FIELDS), "none"])
        self.old: dict[str, Any] = {}
        self.text = {"extend_scene_id": "Extend a scene", "extend_video": "Extend a clip",
                     "source_video": "Transform a video"}.get(given[0] if given else "", "Generate the scene")

    def do(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        check_link(project, scene.id, self.values["extend_scene_id"])
        self.old = {k: getattr(scene, k) for k in self.FIELDS}
        try:
            self._set(scene, self.values)
        except ValueError as exc:
            self._set(scene, self.old)
            raise InvalidRequestError(_first_error(exc), field="video input") from None

    def undo(self, project: VideoProject) -> None:
        self._set(project.scenes[_index_of(project, self.scene_id)], self.old)

    def _set(self, scene: Scene, values: dict[str, Any]) -> None:
        for key in sorted(self.FIELDS, key=lambda k: bool(values[k])):  # clear first: one input at a time
            setattr(scene, key, values[key])


def render_with_provider(render: RenderSettings, provider: Optional[str], project_provider: str) -> RenderSettings:
    """A scene's settings with the provider set to `provider` (None: the project's), following SetSceneProvider's
    rules: what belonged to the provider before (model, deployment, options) does not carry over."""
    before = render.provider or project_provider
    after = provider or project_provider
    if after == before and provider == render.provider:
        return render
    changes: dict[str, Any] = {"provider": provider}
    if after != before or provider is None:
        changes.update(model=None, deployment=None)
        data = render.updated(**changes).model_dump()
        data["options"] = {}
        return RenderSettings.model_validate(data)
    return render.updated(**changes)


class SetProjectReferences(Edit):
    """Replace the project-wide reference images (at most MAX_REFERENCE_IMAGES)."""

    def __init__(self, references: list[ReferenceImage]):
        if len(references) > MAX_REFERENCE_IMAGES:
            raise InvalidRequestError(f"{len(references)} reference images given, at most {MAX_REFERENCE_IMAGES}",
                                      field="reference_images")
        self.references = list(references)
        self.old: list[ReferenceImage] = []
        self.text = "Change reference images"

    def do(self, project: VideoProject) -> None:
        self.old = list(project.reference_images)
        project.reference_images = list(self.references)

    def undo(self, project: VideoProject) -> None:
        project.reference_images = self.old


class SelectTake(Edit):
    def __init__(self, scene_id: str, take_id: Optional[str]):
        self.scene_id, self.take_id = scene_id, take_id
        self.old: Optional[str] = None
        self.text = "Choose take"

    def do(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        if self.take_id is not None and not any(t.id == self.take_id for t in scene.takes):
            raise InvalidRequestError(f"scene {self.scene_id} has no take {self.take_id!r}", field="take_id",
                                      allowed=[t.id for t in scene.takes])
        self.old = scene.selected_take_id
        scene.selected_take_id = self.take_id

    def undo(self, project: VideoProject) -> None:
        project.scenes[_index_of(project, self.scene_id)].selected_take_id = self.old


class ChooseImageTake(SetSceneField):
    """Use one of a scene's image takes as its start or end frame (None: that frame's choice is cleared and the
    frame with it). The frame's path changes, so the scene's video settings hash changes with it."""

    def __init__(self, scene_id: str, take_id: Optional[str], role: str = "start"):
        if role not in ("start", "end"):
            raise InvalidRequestError(f"role {role!r} is not a frame", field="role", allowed=["start", "end"])
        super().__init__(scene_id, f"{role}_frame", None)
        self.take_id, self.role = take_id, role
        self.old_choice: Optional[str] = None
        self.text = f"Choose {role} image"

    def do(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        takes = scene.image_takes  # any of them: an image made as a start frame may end the scene too
        take = next((t for t in takes if t.id == self.take_id), None)
        if self.take_id is not None and take is None:
            raise InvalidRequestError(f"scene {self.scene_id} has no image take {self.take_id!r}",
                                      field="take_id", allowed=[t.id for t in takes] or ["none: generate images"])
        self.value = take.path if take else None
        self.old_choice = getattr(scene, f"{self.role}_image_take_id")
        with _frame_choice(scene, self.role, self.take_id):
            super().do(project)

    def undo(self, project: VideoProject) -> None:
        scene = project.scenes[_index_of(project, self.scene_id)]
        with _frame_choice(scene, self.role, self.old_choice):
            super().undo(project)


class _frame_choice:
    """Sets the scene's chosen image take id once the frame itself was set (a failing frame change keeps both)."""

    def __init__(self, scene: Scene, role: str, take_id: Optional[str]):
        self.scene, self.name, self.take_id = scene, f"{role}_image_take_id", take_id

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            setattr(self.scene, self.name, self.take_id)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return str(errors()[0].get("msg", exc))
        except (IndexError, TypeError):
            pass
    return str(exc)


class EditHistory:
    """Undo and redo stacks over one project. `lock` (the ProjectStore's) keeps edits apart from a save in progress
    on another thread; `on_change` is called after every do/undo/redo with the edit and what happened."""

    def __init__(self, project: VideoProject, lock: Optional[threading.RLock] = None,
                 on_change: Optional[Callable[[Edit, str], None]] = None, limit: int = 200):
        self.project = project
        self._lock = lock
        self.on_change = on_change
        self.limit = limit
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self.clean_index = 0  # depth of the undo stack when the project was last saved

    def _locked(self):
        return self._lock if self._lock is not None else nullcontext()

    def push(self, edit: Edit) -> Edit:
        """Apply an edit and remember it. A failing edit raises and changes nothing."""
        with self._locked():
            edit.do(self.project)
        self._undo.append(edit)
        if len(self._undo) > self.limit:
            self._undo.pop(0)
            self.clean_index -= 1
        self._redo.clear()
        self._notify(edit, "do")
        return edit

    def undo(self) -> Optional[Edit]:
        if not self._undo:
            return None
        edit = self._undo.pop()
        with self._locked():
            edit.undo(self.project)
        self._redo.append(edit)
        self._notify(edit, "undo")
        return edit

    def redo(self) -> Optional[Edit]:
        if not self._redo:
            return None
        edit = self._redo.pop()
        with self._locked():
            edit.do(self.project)
        self._undo.append(edit)
        self._notify(edit, "redo")
        return edit

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    def mark_clean(self) -> None:
        self.clean_index = len(self._undo)

    def is_clean(self) -> bool:
        return self.clean_index == len(self._undo)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self.clean_index = 0

    def _notify(self, edit: Edit, action: str) -> None:
        if self.on_change is not None:
            self.on_change(edit, action)
