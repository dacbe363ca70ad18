"""Several fields of one scene changed as one undo step (the inspector's "what the scene does" sets the video inputs
and the chain link together: one user action, one Undo). It is a SetSceneField, so everything that follows scene
edits (the session's signals, the table) treats it as an edit of that one scene."""
from __future__ import annotations

from typing import Any

from core.errors import InvalidRequestError
from core.video.project import VideoProject
from core.video.scene_edits import EDITABLE_FIELDS, SetSceneField


class SetSceneFields(SetSceneField):
    def __init__(self, scene_id: str, values: dict[str, Any], text: str = "Edit scene"):
        bad = [f for f in values if f not in EDITABLE_FIELDS]
        if bad:
            raise InvalidRequestError(f"field {bad[0]!r} cannot be edited", field="field", allowed=EDITABLE_FIELDS)
        if not values:
            raise InvalidRequestError("no field to change", field="field", allowed=EDITABLE_FIELDS)
        # inputs cleared first: a scene takes one video input at a time, and each step is validated on its own
        ordered = sorted(values.items(), key=lambda kv: kv[1] is not None)
        self.parts = [SetSceneField(scene_id, f, v) for f, v in ordered]
        self.scene_id, self.field, self.value = scene_id, ",".join(values), dict(values)
        self.old = None
        self.text = text

    def do(self, project: VideoProject) -> None:
        done: list[SetSceneField] = []
        try:
            for part in self.parts:
                part.do(project)
                done.append(part)
        except Exception:
            for part in reversed(done):  # nothing half-changed
                part.undo(project)
            raise

    def undo(self, project: VideoProject) -> None:
        for part in reversed(self.parts):
            part.undo(project)
