"""The scene table and its buttons: add, duplicate, delete, move up/down (or drag rows), compare takes."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QEvent, QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QMenu, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from core.errors import ImageAIError
from core.video.media import is_image
from core.video.scene_edits import AddScene, DeleteScenes, DuplicateScene, MoveScene, SetSceneField
from gui.video.project_session import ProjectSession
from gui.video.scene_table_model import COL, COLUMNS, SceneTableModel
from gui.video.thumbnails import THUMB_H, THUMB_W

#: the thumbnail as drawn in a row (the cache keeps THUMB_W x THUMB_H; the view scales it down)
ROW_THUMB_H = 27
ROW_THUMB_W = round(ROW_THUMB_H * THUMB_W / THUMB_H)
# the visible columns fit a 1280 px window beside both side panels (cells elide; their tooltips hold all)
COLUMN_WIDTHS = {"#": 24, "Thumbnail": ROW_THUMB_W + 8, "Title": 76, "Length": 50, "Status": 88, "Take": 82,
                 "Cost": 52, "Provider": 70, "Start frame": 70, "End frame": 70}
#: shown by the inspector: hidden until the header's context menu shows them
HIDDEN_BY_DEFAULT = ("Start frame", "End frame")
#: always shown (the header's menu does not offer to hide them)
ALWAYS_SHOWN = ("#", "Prompt")
MIN_PROMPT_W, MAX_PROMPT_W = 80, 900


class SceneTableWidget(QWidget):
    #: the user wants to preview a clip (absolute path)
    preview_requested = Signal(str)
    #: the selected scenes changed (their ids)
    selection_changed = Signal(list)
    #: the user asked to compare the takes of a scene
    takes_requested = Signal(str)
    problem = Signal(str)

    def __init__(self, session: ProjectSession, model: SceneTableModel, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.session = session
        self.model = model
        #: the length of a new scene (the video tab hands in the render settings' answer: the project's choice, or
        #: the model's default length)
        self.default_length: Callable[[], float] = lambda: 5.0
        self.table = QTableView(objectName="sceneTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed
                                   | QAbstractItemView.SelectedClicked)
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDragDropMode(QAbstractItemView.InternalMove)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropOverwriteMode(False)
        self.table.setWordWrap(False)
        # dense rows: a 16:9 thumbnail the height of two lines of text, so a dozen scenes show at once
        self.table.setIconSize(QSize(ROW_THUMB_W, ROW_THUMB_H))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setMinimumSectionSize(ROW_THUMB_H + 4)
        self.table.verticalHeader().setDefaultSectionSize(ROW_THUMB_H + 4)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setMinimumSectionSize(24)
        for name, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(COL[name], width)
        for name in HIDDEN_BY_DEFAULT:
            self.table.setColumnHidden(COL[name], True)
        header.setContextMenuPolicy(Qt.CustomContextMenu)
        header.customContextMenuRequested.connect(lambda pos: self.column_menu().exec(header.mapToGlobal(pos)))
        # the prompt takes the room the other columns leave, down to a readable width (then the last ones scroll)
        header.sectionResized.connect(lambda index, *_: index != COL["Prompt"] and self._fit_prompt())
        self.table.viewport().installEventFilter(self)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add scene", objectName="addSceneButton")
        self.duplicate_button = QPushButton("Duplicate", objectName="duplicateSceneButton")
        self.delete_button = QPushButton("Delete", objectName="deleteSceneButton")
        self.up_button = QPushButton("Move up", objectName="moveUpButton")
        self.down_button = QPushButton("Move down", objectName="moveDownButton")
        self.takes_button = QPushButton("Takes…", objectName="takesButton")
        self.takes_button.setToolTip("Compare the takes of the selected scene and choose one")
        self.table.setToolTip("Double-click a title, prompt or length to edit it, a provider to give the scene its "
                              "own, a start or end frame to choose an image, a take to play it; right-click for more")
        for b in (self.add_button, self.duplicate_button, self.delete_button, self.up_button, self.down_button,
                  self.takes_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(buttons)
        lay.addWidget(self.table, 1)

        self.add_button.clicked.connect(self.add_scene)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        self.takes_button.clicked.connect(self._on_takes)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        model.modelReset.connect(self._on_selection)
        self._on_selection()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Resize:
            self._fit_prompt()
        return super().eventFilter(watched, event)

    def column_menu(self) -> QMenu:
        """The header's context menu: a check per column that can be hidden."""
        menu = QMenu(self)
        for name in COLUMNS:
            if name in ALWAYS_SHOWN:
                continue
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(COL[name]))
            action.toggled.connect(lambda on, c=COL[name]: self.show_column(c, on))
        return menu

    def show_column(self, column: int, shown: bool) -> None:
        self.table.setColumnHidden(column, not shown)
        self._fit_prompt()

    def _fit_prompt(self) -> None:
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(i) for i in range(header.count())
                     if i != COL["Prompt"] and not header.isSectionHidden(i))
        room = self.table.viewport().width() - others
        width = max(MIN_PROMPT_W, min(MAX_PROMPT_W, room))
        if header.sectionSize(COL["Prompt"]) != width:
            header.resizeSection(COL["Prompt"], width)

    # --- selection ------------------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [s.id for s in (self.model.scene_at(r) for r in rows) if s is not None]

    def select_ids(self, ids: list[str]) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        for sid in ids:
            row = self.model.row_of(sid)
            if row >= 0:
                sel.select(self.model.index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
        if ids and self.model.row_of(ids[0]) >= 0:
            self.table.setCurrentIndex(self.model.index(self.model.row_of(ids[0]), COL["Prompt"]))

    def _on_selection(self, *args) -> None:
        ids = self.selected_ids()
        has = bool(ids)
        for b in (self.duplicate_button, self.delete_button, self.up_button, self.down_button):
            b.setEnabled(has)
        self.takes_button.setEnabled(len(ids) == 1)
        self.selection_changed.emit(ids)

    # --- actions --------------------------------------------------------------------------------------------
    def _apply(self, edit):
        try:
            return self.session.apply(edit)
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            return None

    def add_scene(self) -> None:
        project = self.session.project
        if project is None:
            return
        ids = self.selected_ids()
        index = self.model.row_of(ids[-1]) + 1 if ids else None
        edit = self._apply(AddScene(index=index, duration=self.default_length(),
                                    prompt="", title=f"Scene {len(project.scenes) + 1}"))
        if edit is not None:
            self.select_ids([edit.scene.id])
            self.table.edit(self.model.index(self.model.row_of(edit.scene.id), COL["Prompt"]))

    def duplicate_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            edit = self._apply(DuplicateScene(ids[0]))
            if edit is not None:
                self.select_ids([edit.copy_id])

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._apply(DeleteScenes(ids))

    def move_selected(self, step: int) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        rows = [self.model.row_of(i) for i in ids]
        n = len(self.model.scenes)
        if (step < 0 and min(rows) == 0) or (step > 0 and max(rows) == n - 1):
            return
        ordered = sorted(ids, key=self.model.row_of, reverse=step > 0)
        for sid in ordered:
            self._apply(MoveScene(sid, self.model.row_of(sid) + step))
        self.select_ids(ids)

    def _on_takes(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.takes_requested.emit(ids[0])

    def _on_double_click(self, index) -> None:
        scene = self.model.scene_at(index.row())
        if scene is None or self.session.store is None:
            return
        if index.column() in (COL["Take"], COL["Thumbnail"], COL["Status"]):
            self._preview(scene.id)
        elif index.column() == COL["Start frame"]:
            self.choose_frame(scene.id, "start_frame")
        elif index.column() == COL["End frame"]:
            self.choose_frame(scene.id, "end_frame")

    def _preview(self, scene_id: str) -> None:
        take = self.session.project.scene(scene_id).selected_take
        if take is not None and take.clip_path:
            self.preview_requested.emit(str(self.session.store.resolve(take.clip_path)))

    # --- start and end frames -------------------------------------------------------------------------------
    def choose_frame(self, scene_id: str, field: str) -> None:
        label = "start" if field == "start_frame" else "end"
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {label} frame", "",
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.set_frame(scene_id, field, Path(path))

    def set_frame(self, scene_id: str, field: str, path: Optional[Path]) -> bool:
        """Copy an image into the project's images/ folder and make it the scene's start or end frame (None
        clears it). Undoable."""
        rel = None
        if path is not None:
            if not path.is_file() or not is_image(path):
                self.problem.emit(f"{field}: {path.name} is not an image file (PNG, JPEG, WebP, BMP)")
                return False
            try:
                rel = self.session.store.import_asset(path, "images")
            except (OSError, ValueError, ImageAIError) as exc:
                self.problem.emit(f"{field}: {path.name} could not be copied into the project: {exc}")
                return False
        return self._apply(SetSceneField(scene_id, field, rel)) is not None

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        scene = self.model.scene_at(index.row()) if index.isValid() else None
        menu = QMenu(self)
        menu.addAction("Add scene", self.add_scene)
        if scene is not None:
            sid = scene.id
            if sid not in self.selected_ids():
                self.select_ids([sid])
            menu.addAction("Duplicate", self.duplicate_selected)
            menu.addAction("Delete", self.delete_selected)
            menu.addSeparator()
            menu.addAction("Set start frame…", lambda: self.choose_frame(sid, "start_frame"))
            clear = menu.addAction("Clear start frame", lambda: self.set_frame(sid, "start_frame", None))
            clear.setEnabled(scene.start_frame is not None)
            menu.addAction("Set end frame…", lambda: self.choose_frame(sid, "end_frame"))
            clear = menu.addAction("Clear end frame", lambda: self.set_frame(sid, "end_frame", None))
            clear.setEnabled(scene.end_frame is not None)
            menu.addSeparator()
            play = menu.addAction("Play clip", lambda: self._preview(sid))
            play.setEnabled(scene.selected_take is not None and bool(scene.selected_take.clip_path))
            menu.addAction("Takes…", lambda: self.takes_requested.emit(sid)).setEnabled(bool(scene.takes))
        menu.exec(self.table.viewport().mapToGlobal(pos))
