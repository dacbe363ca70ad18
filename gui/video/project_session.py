"""The open project as the widgets see it: the ProjectStore, its undo history, and signals that say what changed.

Widgets only listen to these signals and call these methods (napari's "models without Qt, widgets that listen"):
every change itself is made by core (ProjectStore, core.video.scene_edits), which the CLI and tests use too.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal

from core.video.project_io import ProjectStore
from core.video.scene_edits import Edit, EditHistory


class ProjectSession(QObject):
    #: a different project (or the first one) is now open
    project_replaced = Signal()
    #: the list of scenes changed shape (added, removed, moved) or many rows changed
    scenes_reset = Signal()
    #: one scene's data changed (prompt, takes, status...)
    scene_changed = Signal(str)
    #: project-wide reference images changed
    references_changed = Signal()
    #: unsaved changes appeared or were saved
    dirty_changed = Signal(bool)
    #: undo/redo availability changed
    history_changed = Signal()

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.store: Optional[ProjectStore] = None
        self.history: Optional[EditHistory] = None
        self.untitled = False  # True for the scratch project of a fresh start, which Save turns into Save As
        self._dirty = False
        #: counts every change (edits, settings, another project): a plan made at an older revision is stale
        self.revision = 0

    # --- the project ----------------------------------------------------------------------------------------
    def set_store(self, store: ProjectStore, untitled: bool = False) -> None:
        self.store = store
        self.untitled = untitled
        self.history = EditHistory(store.project, lock=store.lock, on_change=self._after_edit)
        self.revision += 1
        self._set_dirty(False)
        self.project_replaced.emit()
        self.scenes_reset.emit()
        self.references_changed.emit()
        self.history_changed.emit()

    @property
    def project(self):
        return self.store.project if self.store else None

    def scene(self, scene_id: Optional[str]):
        """The open project's scene with this id, or None (no project, no id, or the scene was removed)."""
        project = self.project
        if project is None or scene_id is None:
            return None
        try:
            return project.scene(scene_id)
        except KeyError:
            return None

    # --- edits ----------------------------------------------------------------------------------------------
    def apply(self, edit: Edit) -> Edit:
        """Apply a scene edit through the undo history. Raises the core error (InvalidRequestError) on bad input."""
        assert self.history is not None
        return self.history.push(edit)

    def undo(self) -> None:
        if self.history:
            self.history.undo()

    def redo(self) -> None:
        if self.history:
            self.history.redo()

    def _after_edit(self, edit: Edit, action: str) -> None:
        from core.video.scene_edits import SetProjectReferences, SetSceneField, SelectTake

        if isinstance(edit, SetProjectReferences):
            self.references_changed.emit()
        elif isinstance(edit, (SetSceneField, SelectTake)):
            self.scene_changed.emit(edit.scene_id)
        else:
            self.scenes_reset.emit()
        self.mark_dirty()
        self.history_changed.emit()

    # --- dirty state ----------------------------------------------------------------------------------------
    def mark_dirty(self) -> None:
        self.revision += 1
        self._set_dirty(True)

    def mark_saved(self) -> None:
        if self.history:
            self.history.mark_clean()
        self._set_dirty(False)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.dirty_changed.emit(value)
