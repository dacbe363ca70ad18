"""The scene table's Provider cell editor: "Project default (<provider>)" or one of the registry's providers, the
unavailable ones disabled with the reason as tooltip. The choice is stored by the model in the scene's own render
settings (core.video.scene_edits.SetSceneProvider, undoable; "Project default" clears them)."""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QWidget

from core.video.render_settings import DEFAULT_PROVIDER
from gui.video import combo_utils
from gui.video.provider_info import ProviderInfo

#: the combo's data for "Project default" (a combo's data cannot be None and be found again)
DEFAULT = ""


class ProviderDelegate(QStyledItemDelegate):
    def __init__(self, info: ProviderInfo, ready: Callable[[], bool], project_provider: Callable[[], Optional[str]],
                 parent=None):
        super().__init__(parent)
        self.info = info
        self._ready = ready  # the providers are checked on a worker thread; until then nothing is offered
        self._project_provider = project_provider

    def createEditor(self, parent: QWidget, option, index):
        if not self._ready():
            return None
        combo = QComboBox(parent, objectName="sceneProviderCombo")
        statuses = self.info.statuses()  # cached by the background check: no import or network here
        names = {s.name: s.display_name for s in statuses}
        project = self._project_provider() or DEFAULT_PROVIDER
        items = [(f"Project default ({names.get(project, project)})", DEFAULT, None)]
        items += [(s.display_name if s.available else f"{s.display_name} (unavailable)", s.name,
                   None if s.available else (s.reason or "unavailable")) for s in statuses]
        combo_utils.fill(combo, items)
        combo.activated.connect(lambda _: (self.commitData.emit(combo), self.closeEditor.emit(combo)))
        return combo

    def setEditorData(self, editor: QComboBox, index) -> None:
        current = index.data(Qt.EditRole) or DEFAULT
        if editor.findData(current) < 0:  # a saved provider this build does not know: shown as saved
            editor.addItem(f"{current} (unknown)", current)
            combo_utils.set_enabled(editor, editor.count() - 1, False, f"no provider named {current!r} here")
        combo_utils.select(editor, current, allow_disabled=True)

    def setModelData(self, editor: QComboBox, model, index) -> None:
        if combo_utils.is_enabled(editor, editor.currentIndex()):
            model.setData(index, editor.currentData() or DEFAULT, Qt.EditRole)

    def updateEditorGeometry(self, editor, option, index) -> None:
        editor.setGeometry(option.rect)
