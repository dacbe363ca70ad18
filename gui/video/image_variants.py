"""The variants picker: a scene's image takes as thumbnails, start frames and end frames apart; choosing one makes
it the scene's start (or end) frame through the undo history (core.video.scene_edits.ChooseImageTake), so Undo
brings the previous frame back and the scene's video settings hash follows the frame."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGroupBox, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from core.errors import ImageAIError
from core.video.scene_edits import ChooseImageTake
from gui.video.project_session import ProjectSession
from gui.video.thumbnails import load_image

ICON = QSize(160, 90)
ROLES = (("start", "Start frame"), ("end", "End frame"))


class ImageVariantsDialog(QDialog):
    problem = Signal(str)

    def __init__(self, session: ProjectSession, scene_id: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("imageVariantsDialog")
        self.session, self.scene_id = session, scene_id
        number = next(i for i, s in enumerate(session.project.scenes) if s.id == scene_id) + 1
        self.setWindowTitle(f"Images of scene {number}")
        self.lists: dict[str, QListWidget] = {}
        self.use_buttons: dict[str, QPushButton] = {}
        self.empty: dict[str, QLabel] = {}
        lay = QVBoxLayout(self)
        for role, title in ROLES:
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            view = QListWidget(objectName=f"{role}Variants")
            view.setViewMode(QListView.IconMode)
            view.setIconSize(ICON)
            view.setGridSize(QSize(ICON.width() + 24, ICON.height() + 48))
            view.setResizeMode(QListView.Adjust)
            view.setMovement(QListView.Static)
            view.setWordWrap(True)
            view.setMinimumHeight(ICON.height() + 60)
            view.itemDoubleClicked.connect(lambda item, r=role: self.choose(r, item.data(Qt.UserRole)))
            view.currentItemChanged.connect(lambda *_: self._update_buttons())
            empty = QLabel("No images yet: Generate Images" + (" with “End frames” ticked" if role == "end" else ""))
            use = QPushButton(f"Use as {title.lower()}", objectName=f"use{role.title()}Button")
            use.clicked.connect(lambda _=False, r=role: self._use_current(r))
            row = QHBoxLayout()
            row.addWidget(empty, 1)
            row.addWidget(use)
            inner.addWidget(view)
            inner.addLayout(row)
            lay.addWidget(box, 1)
            self.lists[role], self.use_buttons[role], self.empty[role] = view, use, empty
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        session.scene_changed.connect(self._scene_changed)
        self.resize(760, 560)
        self.refresh()

    @property
    def scene(self):
        return self.session.project.scene(self.scene_id)

    def refresh(self) -> None:
        scene = self.scene
        for role, _ in ROLES:
            view = self.lists[role]
            current = view.currentItem().data(Qt.UserRole) if view.currentItem() else None
            chosen = getattr(scene, f"{role}_image_take_id")
            frame = getattr(scene, f"{role}_frame")
            view.clear()
            for take in (t for t in scene.image_takes if t.role == role):
                is_chosen = take.id == chosen and take.path == frame
                mark = "✓ chosen\n" if is_chosen else ""
                seed = f"seed {take.seed} · " if take.seed is not None else ""
                item = QListWidgetItem(f"{mark}{take.model or take.provider}\n{seed}${take.cost:.3f}")
                item.setData(Qt.UserRole, take.id)
                item.setToolTip(f"{take.path}\n{take.provider} {take.model or ''} {take.width}x{take.height}\n"
                                f"{take.prompt}")
                image = load_image(self.session.store.resolve(take.path), ICON.width(), ICON.height())
                if image is not None:
                    item.setIcon(QIcon(QPixmap.fromImage(image)))
                view.addItem(item)
                if take.id == (current or chosen):
                    view.setCurrentItem(item)
            self.empty[role].setVisible(view.count() == 0)
        self._update_buttons()

    def chosen_id(self, role: str) -> Optional[str]:
        return getattr(self.scene, f"{role}_image_take_id")

    def choose(self, role: str, take_id: str) -> bool:
        try:
            self.session.apply(ChooseImageTake(self.scene_id, take_id, role))
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            return False
        self.refresh()
        return True

    def _use_current(self, role: str) -> None:
        item = self.lists[role].currentItem()
        if item is not None:
            self.choose(role, item.data(Qt.UserRole))

    def _update_buttons(self) -> None:
        for role, _ in ROLES:
            item = self.lists[role].currentItem()
            self.use_buttons[role].setEnabled(item is not None and item.data(Qt.UserRole) != self.chosen_id(role))

    def _scene_changed(self, scene_id: str) -> None:
        if scene_id == self.scene_id and any(s.id == scene_id for s in self.session.project.scenes):
            self.refresh()  # a new variant arrived, or Undo changed the choice
