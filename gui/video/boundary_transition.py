""""Into the selected scene: [Project default | none | fade | ...] + length": the transition of one scene boundary,
stored in ExportSettings.boundary_transitions under the id of the scene after the boundary ("Project default"
removes the entry, so the project-wide transition applies)."""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from core.video import export as ex
from gui.video import combo_utils
from gui.video.project_session import ProjectSession

#: the combo's data for "Project default"
DEFAULT = ""


class BoundaryTransitionEditor(QWidget):
    def __init__(self, session: ProjectSession, apply: Callable[..., bool], parent: Optional[QWidget] = None):
        """apply(boundary_transitions=...) validates and stores a change of the export settings (ExportGroup._set)."""
        super().__init__(parent)
        self.session = session
        self._apply = apply
        self._scene_id: Optional[str] = None
        self._loading = False
        self.kind = combo_utils.id_combo({DEFAULT: "Project default", **ex.TRANSITIONS}, "boundaryTransitionCombo")
        self.kind.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.kind.setMinimumContentsLength(6)
        self.duration = QDoubleSpinBox(objectName="boundaryTransitionDurationSpin", maximum=ex.MAX_TRANSITION_S,
                                       singleStep=0.25, suffix=" s")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Into the selected scene:"))
        lay.addWidget(self.kind, 1)
        lay.addWidget(QLabel("Length:"))
        lay.addWidget(self.duration)
        self.kind.currentIndexChanged.connect(self._edited)
        self.duration.editingFinished.connect(self._edited)
        self.load()

    def set_selected(self, scene_ids: list[str]) -> None:
        """The scenes selected in the scene table: the editor works on one scene that has a scene before it."""
        self._scene_id = scene_ids[0] if len(scene_ids) == 1 else None
        self.load()

    def _why_disabled(self) -> Optional[str]:
        project = self.session.project
        if project is None:
            return "No project is open"
        if self._scene_id is None:
            return "Select one scene in the scene table to choose the transition into it"
        ids = [s.id for s in project.scenes]
        if self._scene_id not in ids:
            return "Select one scene in the scene table to choose the transition into it"
        if ids.index(self._scene_id) == 0:
            return "The first scene has no scene before it"
        return None

    def load(self) -> None:
        why = self._why_disabled()
        spec = None
        if why is None:
            export = self.session.project.export
            spec = export.boundary_transitions.get(self._scene_id)
            shown = spec or export.transition
        else:
            shown = ex.TransitionSpec()
        self._loading = True
        try:
            combo_utils.select(self.kind, spec.kind if spec else DEFAULT)
            self.duration.setValue(shown.duration)
        finally:
            self._loading = False
        self.kind.setEnabled(why is None)
        self.kind.setToolTip(why or "The transition from the scene before into the selected scene; "
                                    "“Project default” uses the transition chosen above")
        self.duration.setEnabled(why is None and spec is not None and spec.kind != "none")
        self.duration.setToolTip(why or "")

    def _edited(self) -> None:
        if self._loading or self._why_disabled() is not None:
            return
        kind = self.kind.currentData()
        transitions = dict(self.session.project.export.boundary_transitions)
        if kind == DEFAULT:
            transitions.pop(self._scene_id, None)
        else:
            transitions[self._scene_id] = ex.TransitionSpec(kind=kind, duration=self.duration.value())
        self._apply(boundary_transitions=transitions)
        self.load()
