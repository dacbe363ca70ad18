"""The main window: project menu (New / Open / Recent / Save / Save As), undo/redo, Settings, autosave, and the video
tab. Window state lives in a Qt settings file in the app's config folder; the last-used render settings in the app
Settings (core.config)."""
from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget

from core.config import Settings, load_settings, save_settings
from core.errors import ImageAIError
from core.paths import config_dir
from core.render import journal
from core.video.project_io import PROJECT_FILE, ProjectStore
from core.video.render_settings import RenderSettings
from gui.async_runner import AsyncRunner
from gui.settings_dialog import SettingsDialog
from gui.video.project_session import ProjectSession
from gui.video.video_tab import VideoTab

log = logging.getLogger(__name__)
MAX_RECENT = 10
APP_TITLE = "ImageAI Video"


class MainWindow(QMainWindow):
    def __init__(self, settings: Optional[Settings] = None, open_last: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or load_settings()
        self.runner = AsyncRunner()
        self.runner.start()
        self.session = ProjectSession(self)
        self.video_tab = VideoTab(self.session, self.runner, self.settings)
        self.tabs = QTabWidget(objectName="mainTabs")
        self.tabs.addTab(self.video_tab, "Video")
        self.setCentralWidget(self.tabs)
        self._autosave_thread: Optional[threading.Thread] = None
        self._scratch: Optional[tempfile.TemporaryDirectory] = None
        #: the Save / Discard / Cancel question of a close with unsaved changes, while it is on screen
        self.close_question: Optional[QMessageBox] = None
        self._closing = False  # the question was answered: close without asking again
        self._build_menus()
        self.session.dirty_changed.connect(self.setWindowModified)
        self.session.history_changed.connect(self._update_undo_actions)
        self.session.project_replaced.connect(self._update_title)
        self.video_tab.render_settings_changed.connect(self._remember_render_settings)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self._apply_autosave_interval()
        self.resize(1280, 800)
        self._restore_window_state()
        if not (open_last and self._open_last()):
            self.new_scratch_project()

    # --- menus ----------------------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if name:
            action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("&New Project…", self._new_dialog, QKeySequence.New, "newAction"))
        file_menu.addAction(self._action("&Open Project…", self._open_dialog, QKeySequence.Open, "openAction"))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addAction(self._action("&Import ImageAI project…", self.show_import_dialog, None,
                                         "importImageAIAction"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save", self.save, QKeySequence.Save, "saveAction"))
        file_menu.addAction(self._action("Save &As…", self._save_as_dialog, QKeySequence.SaveAs, "saveAsAction"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.Quit, "quitAction"))
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action("&Undo", self.session.undo, QKeySequence.Undo, "undoAction")
        self.redo_action = self._action("&Redo", self.session.redo, QKeySequence.Redo, "redoAction")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self._action("&Settings…", self.show_settings, QKeySequence.Preferences,
                                         "settingsAction"))
        self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        history = self.session.history
        self.undo_action.setEnabled(bool(history and history.can_undo()))
        self.redo_action.setEnabled(bool(history and history.can_redo()))
        self.undo_action.setText(f"&Undo {history.undo_text()}" if history and history.can_undo() else "&Undo")
        self.redo_action.setText(f"&Redo {history.redo_text()}" if history and history.can_redo() else "&Redo")

    def _update_title(self) -> None:
        project = self.session.project
        name = project.name if project else ""
        where = " (not saved yet)" if self.session.untitled else f" — {self.session.store.folder}"
        self.setWindowTitle(f"{name}[*]{where} — {APP_TITLE}")

    # --- projects -------------------------------------------------------------------------------------------
    def _busy(self) -> bool:
        if self.video_tab.busy() or self.video_tab.export_group.is_exporting():
            self.video_tab.console.warning("Wait for the render or export to finish (or cancel it) first")
            return True
        return False

    def _initial_render(self) -> RenderSettings:
        saved = self.settings.last_render_settings or {}
        try:
            return RenderSettings.model_validate(saved)
        except ValueError:
            pass
        try:  # remembered by an older version: the old flat shape, turned into today's as projects are
            from core.video.migrations import _v1_settings
            return RenderSettings.model_validate(_v1_settings(saved, drop_app_defaults=True))
        except (ImportError, ValueError):
            return RenderSettings()

    def new_scratch_project(self) -> None:
        """A fresh start: an untitled project in a temporary folder; Save asks where to keep it."""
        self._scratch = tempfile.TemporaryDirectory(prefix="imageai-untitled-")
        store = ProjectStore.create(Path(self._scratch.name) / "Untitled", "Untitled")
        store.project.render = self._initial_render()
        self.session.set_store(store, untitled=True)

    def new_project(self, folder: Path, name: Optional[str] = None) -> bool:
        if self._busy():
            return False
        try:
            store = ProjectStore.create(Path(folder), name)
            store.project.render = self._initial_render()
            store.save()
        except (ImageAIError, OSError) as exc:
            self._error("Cannot create the project", exc)
            return False
        self._set_store(store)
        return True

    def open_project(self, folder: Path) -> bool:
        if self._busy():
            return False
        try:
            store = ProjectStore.open(Path(folder))
        except (ImageAIError, OSError) as exc:
            self._error("Cannot open the project", exc)
            return False
        try:
            restored = journal.apply(store)  # job ids a failed save kept in the journal come back first
        except (ImageAIError, OSError) as exc:
            restored = 0
            self.video_tab.console.warning(f"the job journal could not be applied yet: {exc}")
        self._set_store(store)
        if restored:
            self.video_tab.console.info(f"restored {restored} take(s) from the job journal")
        missing = store.missing_assets()
        if missing:
            self.video_tab.console.warning(f"{len(missing)} file(s) of this project are missing: "
                                           + ", ".join(missing[:5]))
        self.video_tab.resume_submitted()
        return True

    def _set_store(self, store: ProjectStore) -> None:
        self.session.set_store(store)
        self._add_recent(store.folder)
        self._drop_scratch()

    def save(self) -> bool:
        if self.session.store is None:
            return False
        if self.session.untitled:
            return self._save_as_dialog()
        try:
            self.session.store.save()
        except (ImageAIError, OSError) as exc:
            self._error("Cannot save the project", exc)
            return False
        self.session.mark_saved()
        self.statusBar().showMessage("Saved", 3000)
        return True

    def save_as(self, folder: Path) -> bool:
        if self.session.store is None or self._busy():
            return False
        folder = Path(folder)
        if (folder / PROJECT_FILE).exists() and folder.resolve() != self.session.store.folder:
            self._error("Cannot save the project", f"{folder} already holds a project")
            return False
        try:
            store = self.session.store.save_as(folder)
            if self.session.untitled and store.project.name == "Untitled":
                store.project.name = folder.name
                store.save()
        except (ImageAIError, OSError) as exc:
            self._error("Cannot save the project", exc)
            return False
        self.session.untitled = False
        self.session.mark_saved()
        self._add_recent(store.folder)
        self._update_title()
        return True

    def _drop_scratch(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _new_dialog(self) -> None:
        folder, _ = QFileDialog.getSaveFileName(self, "New project folder", str(Path.home() / "Untitled"))
        if folder:
            self.new_project(Path(folder))

    def _open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            self.open_project(Path(folder))

    def show_import_dialog(self):
        """The import runs in the dialog; the project it made opens here (again once missing files are found)."""
        from gui.import_dialog import ImportDialog
        if self._busy():
            return None
        dialog = ImportDialog(self.runner, self)
        dialog.open_requested.connect(self.open_project)
        dialog.show()
        return dialog

    def _save_as_dialog(self) -> bool:
        folder, _ = QFileDialog.getSaveFileName(self, "Save project as (a new folder)",
                                                str(Path.home() / (self.session.project.name or "Untitled")))
        return bool(folder) and self.save_as(Path(folder))

    def _add_recent(self, folder: Path) -> None:
        path = str(Path(folder).resolve())
        recent = [path] + [p for p in self.settings.recent_projects if p != path]
        self.settings.recent_projects = recent[:MAX_RECENT]
        self._save_settings()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_projects:
            action = self.recent_menu.addAction(path)
            action.setEnabled(Path(path, PROJECT_FILE).exists())
            action.triggered.connect(lambda _=False, p=path: self.open_project(Path(p)))
        if not self.settings.recent_projects:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _open_last(self) -> bool:
        for path in self.settings.recent_projects[:1]:
            if Path(path, PROJECT_FILE).exists():
                return self.open_project(Path(path))
        return False

    # --- autosave -------------------------------------------------------------------------------------------
    def _apply_autosave_interval(self) -> None:
        seconds = self.settings.autosave_interval_s
        if seconds > 0:
            self.autosave_timer.start(int(seconds * 1000))
        else:
            self.autosave_timer.stop()

    def autosave(self) -> None:
        """Snapshot on the GUI thread (cheap, under the store's lock); write the file on a worker thread."""
        store = self.session.store
        if store is None or self.session.untitled or not self.session.dirty:
            return
        if self._autosave_thread is not None and self._autosave_thread.is_alive():
            return
        data = store.snapshot()
        self._autosave_thread = threading.Thread(target=self._write_snapshot, args=(store, data),
                                                 name="autosave", daemon=True)
        self._autosave_thread.start()
        self.session.mark_saved()

    def _write_snapshot(self, store: ProjectStore, data: bytes) -> None:
        try:
            store.write_snapshot(data)
        except (ImageAIError, OSError) as exc:  # the next save or autosave tries again
            log.warning("autosave failed: %s", exc)

    # --- settings -------------------------------------------------------------------------------------------
    def show_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self, runner=self.runner,
                                device=self.video_tab.info.local_device_result())
        if dialog.exec():
            self.apply_settings_dialog(dialog)

    def apply_settings_dialog(self, dialog: SettingsDialog) -> None:
        try:
            new = dialog.result_settings()
        except ValueError as exc:
            self._error("Settings not saved", exc)
            return
        changed = dialog.apply_keys()
        for field in type(new).model_fields:
            setattr(self.settings, field, getattr(new, field))
        self._save_settings()
        self._apply_autosave_interval()
        self.video_tab.info.settings = self.settings
        self.video_tab.controller.forget_providers()
        self.video_tab.render_group.recheck()
        self.video_tab.console.info("Settings saved" + (f"; keys: {', '.join(changed)}" if changed else ""))

    def _remember_render_settings(self) -> None:
        if self.session.project is not None:
            self.settings.last_render_settings = self.session.project.render.model_dump(mode="json")

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def _error(self, title: str, exc) -> None:
        self.video_tab.console.error(f"{title}: {exc}")
        self.statusBar().showMessage(f"{title}: {exc}", 8000)

    # --- window state ---------------------------------------------------------------------------------------
    def _qsettings(self) -> QSettings:
        return QSettings(str(config_dir() / "window.ini"), QSettings.IniFormat)

    def _restore_window_state(self) -> None:
        qs = self._qsettings()
        geometry = qs.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = qs.value("state")
        if state is not None:
            self.restoreState(state)
        for name, splitter in self.video_tab.splitters().items():
            sizes = qs.value(name)
            if sizes is not None:
                splitter.restoreState(sizes)

    def save_window_state(self) -> None:
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        for name, splitter in self.video_tab.splitters().items():
            qs.setValue(name, splitter.saveState())
        qs.sync()

    def closeEvent(self, event) -> None:
        if not self._closing:
            question = self._unsaved_question()
            if question is not None:
                # asked without a nested event loop: the answer closes the window (or not) in _close_answered
                event.ignore()
                self.close_question = question
                question.open()
                return
            if self.session.store is not None and not self.session.untitled and self.session.dirty:
                self._final_save()  # autosave on: saving the changes is what the user chose
        self._remember_render_settings()
        self._save_settings()
        self.save_window_state()
        self.video_tab.shutdown()
        if self._autosave_thread is not None:
            self._autosave_thread.join(5)
        self.runner.stop()
        self._drop_scratch()
        super().closeEvent(event)

    def _unsaved_question(self) -> Optional[QMessageBox]:
        """Save / Discard / Cancel for unsaved changes the user did not choose to autosave (a project never saved,
        or autosave off), else None. A question already on screen is not asked twice."""
        session = self.session
        if self.close_question is not None or session.store is None or not session.dirty:
            return self.close_question
        if session.untitled:
            if not session.project.scenes:
                return None
            text = "This project was never saved. Save it before closing?"
        elif self.settings.autosave_interval_s > 0:
            return None
        else:
            text = (f"“{session.project.name}” has changes that are not saved (autosave is off). "
                    "Save them before closing?")
        box = QMessageBox(QMessageBox.Question, "Unsaved changes", text,
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, self,
                          objectName="closeQuestion")
        box.setDefaultButton(QMessageBox.Save)
        box.finished.connect(lambda _code, b=box: self._close_answered(b))
        return box

    def _close_answered(self, box: QMessageBox) -> None:
        self.close_question = None
        box.deleteLater()
        answer = box.standardButton(box.clickedButton()) if box.clickedButton() else QMessageBox.Cancel
        if answer == QMessageBox.Save:
            if not self.save():  # a failed save (or a cancelled Save As) keeps the window open
                return
        elif answer != QMessageBox.Discard:
            return
        self._closing = True
        self.close()

    def _final_save(self) -> None:
        try:
            self.session.store.save()
        except (ImageAIError, OSError) as exc:
            log.warning("final save failed: %s", exc)
