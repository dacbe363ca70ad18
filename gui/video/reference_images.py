"""Reference images: the project's (for every scene) and the selected scene's own, with the scene's use-global toggle.
At most 3 each (core.video.project.MAX_REFERENCE_IMAGES). Add by file dialog or by dropping image files, remove,
and click one to see it large. Files are copied into the project's references/ folder by ProjectStore.import_asset;
changes go through the undo history."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from core.errors import ImageAIError
from core.video.media import is_image
from core.video.project import MAX_REFERENCE_IMAGES, ReferenceImage
from core.video.scene_edits import SetProjectReferences, SetSceneField
from gui.video.project_session import ProjectSession

ICON = QSize(64, 64)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp)"


def _scaled_pixmap(path: Path, size: QSize) -> QPixmap:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid():
        reader.setScaledSize(original.scaled(size, Qt.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


class _RefRow(QWidget):
    """One row of up to 3 thumbnails plus an Add button; accepts dropped image files."""

    add_files = Signal(list)
    remove_at = Signal(int)
    show_at = Signal(int)

    def __init__(self, title: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.title = QLabel(title)
        self.slots = QHBoxLayout()
        self.slots.setSpacing(4)
        self.add_button = QToolButton(text="+ Add")
        self.add_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.add_button.setMinimumHeight(ICON.height() + 8)
        self.add_button.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(self.slots)
        row.addWidget(self.add_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addLayout(row)
        self.count = 0

    def show_images(self, paths: list[Optional[Path]], labels: list[str]) -> None:
        while self.slots.count():
            item = self.slots.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for i, (path, label) in enumerate(zip(paths, labels)):
            slot = QWidget()
            v = QVBoxLayout(slot)
            v.setContentsMargins(0, 0, 0, 0)
            v.setSpacing(0)
            thumb = QToolButton()
            thumb.setIconSize(ICON)
            thumb.setFixedSize(ICON + QSize(8, 8))
            if path is not None and path.is_file():
                thumb.setIcon(QIcon(_scaled_pixmap(path, ICON)))
                thumb.setToolTip(f"{label}\nClick to view")
            else:
                thumb.setText("missing")
                thumb.setToolTip(f"{label}: the file is missing")
            thumb.clicked.connect(lambda _=False, i=i: self.show_at.emit(i))
            remove = QToolButton(text="Remove")
            remove.setToolTip(f"Remove {label}")
            remove.clicked.connect(lambda _=False, i=i: self.remove_at.emit(i))
            v.addWidget(thumb)
            v.addWidget(remove)
            self.slots.addWidget(slot)
        self.count = len(paths)
        full = self.count >= MAX_REFERENCE_IMAGES
        self.add_button.setEnabled(self.isEnabled() and not full)
        self.add_button.setToolTip(f"At most {MAX_REFERENCE_IMAGES} reference images" if full
                                   else "Add images (or drop image files here)")

    def _browse(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add reference images", "", IMAGE_FILTER)
        if files:
            self.add_files.emit(files)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.add_button.isEnabled():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.add_files.emit(files)
            event.acceptProposedAction()


class ReferenceImagesWidget(QWidget):
    problem = Signal(str)

    def __init__(self, session: ProjectSession, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("referenceImagesWidget")
        self.session = session
        self.scene_id: Optional[str] = None
        self.project_row = _RefRow("Project references (all scenes)")
        self.scene_row = _RefRow("Selected scene's references")
        self.use_global = QCheckBox("Scene also uses the project references", objectName="useGlobalReferencesCheck")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("<b>Reference images</b> (at most 3)"))
        lay.addWidget(self.project_row)
        lay.addWidget(self.scene_row)
        lay.addWidget(self.use_global)

        self.project_row.add_files.connect(lambda files: self.add(files, scene=False))
        self.scene_row.add_files.connect(lambda files: self.add(files, scene=True))
        self.project_row.remove_at.connect(lambda i: self.remove(i, scene=False))
        self.scene_row.remove_at.connect(lambda i: self.remove(i, scene=True))
        self.project_row.show_at.connect(lambda i: self._show(i, scene=False))
        self.scene_row.show_at.connect(lambda i: self._show(i, scene=True))
        self.use_global.toggled.connect(self._on_use_global)
        session.references_changed.connect(self.refresh)
        session.project_replaced.connect(lambda: self.set_scene(None))
        session.scene_changed.connect(lambda sid: self.refresh() if sid == self.scene_id else None)
        session.scenes_reset.connect(self._check_scene_exists)
        self._loading = False

    # --- which scene --------------------------------------------------------------------------------------
    def set_scene(self, scene_id: Optional[str]) -> None:
        self.scene_id = scene_id
        self.refresh()

    def _scene(self):
        return self.session.scene(self.scene_id)

    def _check_scene_exists(self) -> None:
        if self.scene_id is not None and self._scene() is None:
            self.scene_id = None
        self.refresh()

    # --- showing ------------------------------------------------------------------------------------------
    def _refs(self, scene: bool) -> list[ReferenceImage]:
        if scene:
            s = self._scene()
            return list(s.reference_images) if s else []
        return list(self.session.project.reference_images) if self.session.project else []

    def refresh(self) -> None:
        store = self.session.store
        if store is None:
            return
        self._loading = True
        try:
            for row, scene in ((self.project_row, False), (self.scene_row, True)):
                refs = self._refs(scene)
                row.setEnabled(not scene or self._scene() is not None)
                row.show_images([_safe_resolve(store, r.path) for r in refs], [r.label or r.path for r in refs])
            s = self._scene()
            self.use_global.setEnabled(s is not None)
            self.use_global.setChecked(s.use_global_references if s else True)
            self.scene_row.title.setText(f"Scene “{s.title or s.prompt[:30] or s.id}” references" if s
                                         else "Scene references (select one scene)")
        finally:
            self._loading = False

    # --- changing -----------------------------------------------------------------------------------------
    def add(self, files: list[str], scene: bool) -> None:
        store = self.session.store
        refs = self._refs(scene)
        for f in files:
            path = Path(f)
            if len(refs) >= MAX_REFERENCE_IMAGES:
                self.problem.emit(f"reference_images: at most {MAX_REFERENCE_IMAGES} images; {path.name} was not added")
                break
            if not path.is_file() or not is_image(path):
                self.problem.emit(f"reference_images: {path.name} is not an image file (PNG, JPEG, WebP, BMP)")
                continue
            try:
                rel = store.import_asset(path, "references")
            except (OSError, ImageAIError, ValueError) as exc:
                self.problem.emit(f"reference_images: {path.name} could not be copied into the project: {exc}")
                continue
            if rel not in [r.path for r in refs]:
                refs.append(ReferenceImage(path=rel, label=path.name))
        self._store_refs(refs, scene)

    def remove(self, index: int, scene: bool) -> None:
        refs = self._refs(scene)
        if 0 <= index < len(refs):
            del refs[index]
            self._store_refs(refs, scene)

    def _store_refs(self, refs: list[ReferenceImage], scene: bool) -> None:
        if refs == self._refs(scene):
            return
        try:
            if scene:
                if self._scene() is not None:
                    self.session.apply(SetSceneField(self.scene_id, "reference_images", refs))
            else:
                self.session.apply(SetProjectReferences(refs))
        except ImageAIError as exc:
            self.problem.emit(str(exc))
        self.refresh()

    def _on_use_global(self, checked: bool) -> None:
        if self._loading or self._scene() is None:
            return
        try:
            self.session.apply(SetSceneField(self.scene_id, "use_global_references", checked))
        except ImageAIError as exc:
            self.problem.emit(str(exc))

    def _show(self, index: int, scene: bool) -> None:
        refs = self._refs(scene)
        if not 0 <= index < len(refs):
            return
        path = _safe_resolve(self.session.store, refs[index].path)
        if path is None or not path.is_file():
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(refs[index].label or path.name)
        label = QLabel()
        label.setPixmap(_scaled_pixmap(path, QSize(900, 700)))
        area = QScrollArea()
        area.setWidget(label)
        QVBoxLayout(dialog).addWidget(area)
        dialog.resize(940, 740)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()


def _safe_resolve(store, rel: str) -> Optional[Path]:
    try:
        return store.resolve(rel)
    except ImageAIError:
        return None
