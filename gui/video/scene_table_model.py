"""A Qt table model over the open project's scenes (the live list, not a copy). Edits go through the undo history
(core.video.scene_edits); render state comes from each scene's selected (or latest) take plus live progress."""
from __future__ import annotations

import json
from typing import Any, Optional

from PySide6.QtCore import QAbstractTableModel, QMimeData, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from core.errors import ImageAIError
from core.video.project import Scene, Take
from core.video.scene_edits import MoveScene, SetSceneField, SetSceneProvider
from gui.video import error_text
from gui.video.plan_notes import item_line, item_notes, what
from gui.video.project_session import ProjectSession
from gui.video.take_names import SEP, take_details, take_name, take_number
from gui.video.thumbnails import ThumbnailCache

# what a narrow table must show comes first (status and take before the provider and the frames, which the
# inspector also shows): the columns past the width scroll
COLUMNS = ("#", "Thumbnail", "Title", "Prompt", "Length", "Status", "Take", "Cost", "Provider", "Start frame",
           "End frame")
#: shorter header words where the column's key is long
HEADER_LABELS = {"Thumbnail": "", "Start frame": "Start", "End frame": "End"}
#: what each column holds, shown as its header's tooltip
HEADER_TIPS = {"Thumbnail": "The scene's clip, else its start frame", "Start frame": "The scene's start frame",
               "End frame": "The scene's end frame", "Title": "The scene's name (double-click to edit)",
               "Prompt": "What the scene shows (double-click to edit)",
               "Length": "The scene's length in the film (double-click to edit)",
               "Provider": "Who renders the scene (double-click to give it its own)",
               "Take": "The take the export uses: its number, where it rendered and its length (double-click to play)"}
COL = {name: i for i, name in enumerate(COLUMNS)}
MIME = "application/x-imageai-scene-rows"
_ROLES = (Qt.DisplayRole, Qt.EditRole, Qt.UserRole, Qt.ToolTipRole, Qt.DecorationRole, Qt.ForegroundRole,
          Qt.TextAlignmentRole)
UNTITLED_COLOR = "#757575"  # a title the scene does not have yet, shown as its number
STATUS_COLORS = {"done": "#2e7d32", "failed": "#c62828", "cancelled": "#8d6e63", "running": "#1565c0",
                 "submitted": "#1565c0", "queued": "#6a1b9a"}


def short_take_name(scene: Scene, take: Optional[Take]) -> str:
    """'Take 2 · 6 s' for the narrow Take column (where it rendered is the Provider column's word)."""
    if take is None:
        return ""
    name = f"Take {take_number(scene, take) or '?'}"
    return f"{name}{SEP}{take.rendered_seconds:g} s" if take.rendered_seconds else name


def shown_take(scene: Scene) -> Optional[Take]:
    """The take whose state the table shows: the selected one, unless a newer attempt is running or failed."""
    latest = scene.latest_take()
    selected = scene.selected_take
    if latest is not None and (selected is None or latest.created_at > selected.created_at):
        return latest
    return selected


class SceneTableModel(QAbstractTableModel):
    #: an edit was refused; the message names the field and what is allowed
    problem = Signal(str)

    def __init__(self, session: ProjectSession, thumbnails: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.session = session
        self.thumbs = thumbnails
        self.progress: dict[str, float] = {}  # scene id -> live fraction while a render runs
        self.waiting: dict[str, str] = {}  # scene id -> "waiting for scene N" while a chained scene waits
        self.estimates: dict = {}  # scene id -> PlanItem of the last estimate (cost, length, notes)
        self._rows: dict[str, dict] = {}  # scene id -> {(role, column): value, "thumb": thumbnail key}
        session.scenes_reset.connect(self._reset)
        session.scene_changed.connect(self.refresh_scene)
        thumbnails.ready.connect(self._thumbnail_ready)

    # --- shape ----------------------------------------------------------------------------------------------
    @property
    def scenes(self) -> list[Scene]:
        project = self.session.project
        return project.scenes if project is not None else []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.scenes)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole) -> Any:
        if orientation != Qt.Horizontal:
            return None
        if _role(role) == Qt.DisplayRole:
            return HEADER_LABELS.get(COLUMNS[section], COLUMNS[section])
        if _role(role) == Qt.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section])
        return None

    def scene_at(self, row: int) -> Optional[Scene]:
        scenes = self.scenes
        return scenes[row] if 0 <= row < len(scenes) else None

    def row_of(self, scene_id: str) -> int:
        for i, s in enumerate(self.scenes):
            if s.id == scene_id:
                return i
        return -1

    # --- data -----------------------------------------------------------------------------------------------
    def data(self, index: QModelIndex, role=Qt.DisplayRole) -> Any:
        # a view asks for a dozen roles per cell on every paint: answer from a per-row cache built once per change
        role = _role(role)
        if role not in _ROLES:
            return None
        scene = self.scene_at(index.row())
        if scene is None:
            return None
        row = self._rows.get(scene.id)
        if row is None:
            row = self._rows[scene.id] = self._build_row(scene, index.row())
        col = index.column()
        if role == Qt.DecorationRole:
            if col != COL["Thumbnail"] or row["thumb"] is None:
                return None
            return self.thumbs.pixmap(row["thumb"], scene.id)
        return row.get((role, col))

    def _build_row(self, scene: Scene, row_index: int) -> dict:
        take = shown_take(scene)
        row: dict = {"thumb": self.thumbs.source_key(self.session.store, scene)}
        for col in range(len(COLUMNS)):
            row[(Qt.DisplayRole, col)] = self._text(scene, take, col, Qt.DisplayRole, row_index)
        row[(Qt.EditRole, COL["Title"])] = scene.title
        row[(Qt.EditRole, COL["Prompt"])] = scene.prompt
        row[(Qt.EditRole, COL["Length"])] = scene.duration
        own = scene.render.provider
        row[(Qt.EditRole, COL["Provider"])] = own or ""
        row[(Qt.ToolTipRole, COL["Provider"])] = (f"{self._renders_with(scene, take)[1]}\n"
                                                 + self._provider_tip(scene))
        cost_tip = self._cost_tip(scene, take)
        if cost_tip:
            row[(Qt.ToolTipRole, COL["Cost"])] = cost_tip
        row[(Qt.UserRole, 0)] = scene.id
        row[(Qt.ToolTipRole, COL["Prompt"])] = scene.prompt
        if take is not None and take.error:
            row[(Qt.ToolTipRole, COL["Status"])] = take.error
        selected = scene.selected_take
        if selected is not None:
            tip = f"{take_name(scene, selected)}\n{take_details(selected)}"
            if len(scene.takes) > 1:
                tip += f"\n{len(scene.takes)} takes: Takes… compares them and chooses"
            row[(Qt.ToolTipRole, COL["Take"])] = tip + ("\nDouble-click to play" if selected.clip_path else "")
        if not scene.title:
            row[(Qt.ForegroundRole, COL["Title"])] = QBrush(QColor(UNTITLED_COLOR))
        row[(Qt.ToolTipRole, COL["Title"])] = scene.title or "No title yet: double-click to name the scene"
        if take is not None and take.status in STATUS_COLORS:
            row[(Qt.ForegroundRole, COL["Status"])] = QBrush(QColor(STATUS_COLORS[take.status]))
        if scene.id in self.waiting:  # the whole text in the tooltip: the column is narrow
            row[(Qt.ToolTipRole, COL["Status"])] = f"{self.waiting[scene.id]}: it renders once that clip is done"
            row[(Qt.ForegroundRole, COL["Status"])] = QBrush(QColor(STATUS_COLORS["queued"]))
        for col in (COL["#"], COL["Length"], COL["Cost"]):
            row[(Qt.TextAlignmentRole, col)] = int(Qt.AlignRight | Qt.AlignVCenter)
        return row

    def _text(self, scene: Scene, take: Optional[Take], col: int, role, row_index: int) -> Any:
        if col == COL["#"]:
            return str(row_index + 1)
        if col == COL["Title"]:
            return scene.title or f"Scene {row_index + 1}"
        if col == COL["Prompt"]:
            return scene.prompt
        if col == COL["Length"]:
            return f"{scene.duration:g} s"
        if col == COL["Start frame"]:
            return _name(scene.start_frame)
        if col == COL["End frame"]:
            return _name(scene.end_frame)
        if col == COL["Provider"]:
            # one word that fits the narrow column (the model and where it runs are in the tooltip)
            return self._renders_with(scene, take)[0]
        if col == COL["Status"]:
            return self._status(scene, take)
        if col == COL["Cost"]:
            if take is None:
                item = self.estimates.get(scene.id)
                return f"~${item.estimated_cost:.2f}" if item is not None and not item.skip_reason else ""
            return f"${take.cost:.2f}" if take.status == "done" else f"~${take.estimated_cost:.2f}"
        if col == COL["Take"]:
            return short_take_name(scene, scene.selected_take)
        return ""

    def _renders_with(self, scene: Scene, take: Optional[Take]) -> tuple[str, str]:
        """(provider, 'model on deployment') of the shown take, else of the last estimate (the model's default
        included), else of the scene's settings."""
        if take is not None:
            return take.provider, (take.model or take.provider) + (f" on {take.deployment}" if take.deployment
                                                                   else "")
        item = self.estimates.get(scene.id)
        if item is not None:
            return item.provider, what(item)
        settings = self.session.project.scene_settings(scene).settings
        return settings.provider, settings.provider + (f" / {settings.model}" if settings.model else "")

    def _provider_tip(self, scene: Scene) -> str:
        own = scene.render.set_fields()
        provider = own.pop("provider", None)
        project_provider = self.session.project.render.provider or "animatic"
        text = f"This scene's own provider: {provider}" if provider else f"Project default ({project_provider})"
        settings = [f"{k.replace('_', ' ')} {v}" for k, v in own.items() if k != "duration"]
        settings += [f"{k.replace('_', ' ')} {v}" for k, v in scene.render.options.items()]
        if settings:
            text += "\nIts own settings: " + ", ".join(settings)
        return text + "\nDouble-click to change the provider"

    def _cost_tip(self, scene: Scene, take: Optional[Take]) -> str:
        if take is not None:
            lines = [f"rendered {take.rendered_seconds:g} s" if take.rendered_seconds else ""] + list(take.notes)
            return "\n".join(x for x in lines if x)
        item = self.estimates.get(scene.id)
        if item is None:
            return ""
        return "\n".join([item_line(item)] + item_notes(item))

    def set_estimates(self, items: dict) -> None:
        """The last estimate's plan items by scene id (shown in the Provider and Cost columns)."""
        if items or self.estimates:
            self.estimates = items
            self.refresh_all()

    def _status(self, scene: Scene, take: Optional[Take]) -> str:
        if scene.id in self.waiting:  # its take of this run is made once its parent's clip exists
            return self.waiting[scene.id]
        if take is None:
            return "not rendered"
        text = take.status
        if scene.id in self.progress and take.status in ("queued", "submitted", "running"):
            text += f" {int(self.progress[scene.id] * 100)}%"
        if take.status == "failed" and take.error:
            text += f": {error_text.sentence(take.error)}"  # the whole error is the cell's tooltip
        return text

    # --- editing --------------------------------------------------------------------------------------------
    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if not index.isValid():
            return base | Qt.ItemIsDropEnabled
        flags = base | Qt.ItemIsDragEnabled
        if index.column() in (COL["Title"], COL["Prompt"], COL["Length"], COL["Provider"]):
            flags |= Qt.ItemIsEditable
        return flags

    def setData(self, index: QModelIndex, value: Any, role=Qt.EditRole) -> bool:
        scene = self.scene_at(index.row())
        if scene is None or _role(role) != Qt.EditRole:
            return False
        col = index.column()
        if col == COL["Provider"]:
            return self._set_provider(scene, str(value or "") or None)
        field = {COL["Title"]: "title", COL["Prompt"]: "prompt", COL["Length"]: "duration"}.get(col)
        if field is None:
            return False
        if field == "duration":
            try:
                value = float(str(value).replace("s", "").strip())
            except ValueError:
                self.problem.emit(f"duration: {value!r} is not a number of seconds")
                return False
        elif field == "title":
            value = str(value or "").strip()
        if getattr(scene, field) == value:
            return False
        try:
            self.session.apply(SetSceneField(scene.id, field, value))
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            return False
        return True

    def _set_provider(self, scene: Scene, provider: Optional[str]) -> bool:
        """The scene's own provider (None: the project's), as an undoable edit."""
        if provider == scene.render.provider:
            return False
        try:
            self.session.apply(SetSceneProvider(scene.id, provider))
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            return False
        return True

    # --- drag to reorder ------------------------------------------------------------------------------------
    def supportedDropActions(self):
        return Qt.MoveAction

    def supportedDragActions(self):
        return Qt.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes) -> QMimeData:
        rows = sorted({i.row() for i in indexes})
        ids = [self.scenes[r].id for r in rows if 0 <= r < len(self.scenes)]
        mime = QMimeData()
        mime.setData(MIME, json.dumps(ids).encode())
        return mime

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:
        if action != Qt.MoveAction or not data.hasFormat(MIME):
            return False
        ids = json.loads(bytes(data.data(MIME)).decode())
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.scenes)
        self.move_scenes(ids, row)
        return False  # we moved the rows ourselves; the view must not remove the "source" rows

    def move_scenes(self, scene_ids: list[str], target_row: int) -> None:
        """Move scenes (in their current order) so they sit together before the scene now at target_row."""
        order = [s.id for s in self.scenes]
        moving = [sid for sid in order if sid in set(scene_ids)]
        keep_before = sum(1 for sid in order[:max(0, target_row)] if sid not in moving)
        others = [sid for sid in order if sid not in moving]
        new_order = others[:keep_before] + moving + others[keep_before:]
        for pos, sid in enumerate(new_order):
            if self.row_of(sid) != pos:
                try:
                    self.session.apply(MoveScene(sid, pos))
                except ImageAIError as exc:
                    self.problem.emit(str(exc))
                    return

    # --- updates from outside -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def refresh_all(self) -> None:
        self._rows.clear()
        if self.scenes:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.scenes) - 1, len(COLUMNS) - 1))

    def refresh_scene(self, scene_id: str) -> None:
        self._rows.pop(scene_id, None)
        row = self.row_of(scene_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _thumbnail_ready(self, scene_id: str) -> None:
        row = self.row_of(scene_id)
        if row >= 0:
            i = self.index(row, COL["Thumbnail"])
            self.dataChanged.emit(i, i, [Qt.DecorationRole])


def _role(role) -> Qt.ItemDataRole:
    """Views may pass a role as a plain int; compare roles as the enum."""
    return role if isinstance(role, Qt.ItemDataRole) else Qt.ItemDataRole(int(role))


def _name(rel: Optional[str]) -> str:
    return rel.rsplit("/", 1)[-1] if rel else ""

