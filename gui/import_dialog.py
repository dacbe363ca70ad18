"""File > Import ImageAI project…: choose the ImageAI file or folder, the new project folder and folders to search;
the import runs on the app's loop thread (the source is only read); the report — copied, missing, not mapped — is
shown here, the project opens, and missing files can be looked for again later (here, or `project relink`)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from core.video.imageai_import import IMAGEAI_FILE, import_imageai, relink
from gui.async_runner import AsyncRunner


class _Bridge(QObject):
    done = Signal(object, object)  # (what ran, its result or the exception)


class ImportDialog(QDialog):
    #: the project folder to open (after the import, and again after missing files were found)
    open_requested = Signal(Path)
    #: a run ended: its report (ImportReport / RelinkReport) or the exception
    finished = Signal(object)

    def __init__(self, runner: AsyncRunner, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle("Import ImageAI project")
        self.setObjectName("importDialog")
        self.runner = runner
        self.project_folder: Optional[Path] = None
        self._bridge = _Bridge()
        self._bridge.done.connect(self._on_done)
        self.source = QLineEdit(objectName="importSourceEdit")
        self.source.setPlaceholderText(f"ImageAI's {IMAGEAI_FILE}, or its project folder (only read)")
        self.dest = QLineEdit(objectName="importDestEdit")
        self.dest.setPlaceholderText("A new folder for the imported project")
        self.search = QListWidget(objectName="importSearchList")
        self.search.setMaximumHeight(72)
        self.status = QLabel(objectName="importStatus", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.report = QTreeWidget(objectName="importReport")
        self.report.setHeaderLabels(["What", "Where"])
        self.report.setColumnWidth(0, 330)
        self.import_button = QPushButton("Import", objectName="importButton", default=True)
        self.relink_button = QPushButton("Find missing files…", objectName="relinkButton", enabled=False)
        self.relink_button.setToolTip("Look in a folder for the files the import did not find, by name")
        self._build()

    def _build(self) -> None:
        grid = QGridLayout()
        file_btn, folder_btn = QPushButton("File…"), QPushButton("Folder…")
        dest_btn = QPushButton("Browse…")
        add_btn, remove_btn = QPushButton("Add…"), QPushButton("Remove")
        grid.addWidget(QLabel("ImageAI project:"), 0, 0)
        grid.addWidget(self.source, 0, 1)
        grid.addWidget(file_btn, 0, 2)
        grid.addWidget(folder_btn, 0, 3)
        grid.addWidget(QLabel("New project folder:"), 1, 0)
        grid.addWidget(self.dest, 1, 1)
        grid.addWidget(dest_btn, 1, 2, 1, 2)
        grid.addWidget(QLabel("Also search in:"), 2, 0, Qt.AlignTop)
        grid.addWidget(self.search, 2, 1)
        side = QVBoxLayout()
        side.addWidget(add_btn)
        side.addWidget(remove_btn)
        side.addStretch(1)
        grid.addLayout(side, 2, 2, 1, 2)
        grid.setColumnStretch(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.relink_button)
        row.addStretch(1)
        row.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(QLabel("Files are found beside the ImageAI file, then in these folders by name; what is "
                             "not found stays listed as missing and can be found later.", wordWrap=True))
        lay.addWidget(self.status)
        lay.addWidget(self.report, 1)
        lay.addLayout(row)
        file_btn.clicked.connect(self._pick_file)
        folder_btn.clicked.connect(lambda: self._pick_folder(self.source, "ImageAI project folder"))
        dest_btn.clicked.connect(self._pick_dest)
        add_btn.clicked.connect(self._add_search)
        remove_btn.clicked.connect(lambda: [self.search.takeItem(self.search.row(i))
                                            for i in self.search.selectedItems()])
        self.import_button.clicked.connect(self.start_import)
        self.relink_button.clicked.connect(self._pick_relink)
        self.resize(760, 520)

    # --- choosing ------------------------------------------------------------------------------------------------
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "ImageAI project file", "", "ImageAI project (*.json)")
        if path:
            self.source.setText(path)

    def _pick_folder(self, edit: QLineEdit, title: str) -> None:
        path = QFileDialog.getExistingDirectory(self, title)
        if path:
            edit.setText(path)

    def _pick_dest(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project folder", str(Path.home() / "Imported"))
        if path:
            self.dest.setText(path)

    def _add_search(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder to search for the project's files")
        if path:
            self.add_search_folder(Path(path))

    def add_search_folder(self, folder: Path) -> None:
        if str(folder) not in self.search_folders():
            self.search.addItem(str(folder))

    def search_folders(self) -> list[str]:
        return [self.search.item(i).text() for i in range(self.search.count())]

    def _pick_relink(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder that holds the missing files")
        if path:
            self.start_relink([Path(path)])

    # --- running -------------------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything wrong with the choices, all at once (nothing runs while there is one)."""
        out = []
        src = Path(self.source.text().strip()).expanduser()
        if not self.source.text().strip():
            out.append(f"choose the ImageAI project ({IMAGEAI_FILE} or its folder)")
        elif src.is_dir() and not (src / IMAGEAI_FILE).is_file():
            out.append(f"{src} holds no {IMAGEAI_FILE}")
        elif not src.exists():
            out.append(f"{src}: no such file")
        dest = Path(self.dest.text().strip()).expanduser()
        if not self.dest.text().strip():
            out.append("choose a folder for the new project")
        elif dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            out.append(f"{dest} already exists and is not empty (choose a new folder)")
        out += [f"search folder {f}: no such folder" for f in self.search_folders() if not Path(f).is_dir()]
        return out

    def start_import(self) -> bool:
        bad = self.problems()
        if bad:
            self.status.setText("Cannot import yet: " + "; ".join(bad) + ".")
            return False
        src, dest = Path(self.source.text().strip()).expanduser(), Path(self.dest.text().strip()).expanduser()
        search = [Path(f) for f in self.search_folders()]
        self._run("import", lambda: import_imageai(src, dest, search), f"Importing {src.name}…")
        return True

    def start_relink(self, folders: list[Path]) -> None:
        folder = self.project_folder
        self._run("relink", lambda: relink(folder, folders), "Looking for the missing files…")

    def _run(self, what: str, work: Callable, message: str) -> None:
        self.import_button.setEnabled(False)
        self.relink_button.setEnabled(False)
        self.status.setText(message)
        future = self.runner.submit(asyncio.to_thread(work))
        future.add_done_callback(lambda f: self._bridge.done.emit(
            what, f.exception() if f.exception() is not None else f.result()))

    def _on_done(self, what: str, result) -> None:
        if isinstance(result, BaseException):
            self.import_button.setEnabled(what == "import")
            self.relink_button.setEnabled(what == "relink")
            self.status.setText(f"{'Import' if what == 'import' else 'Relink'} failed: {result}")
            self.finished.emit(result)
            return
        if what == "import":
            self.project_folder = Path(result.project)
            self._show_import(result)
        else:
            self._show_relink(result)
        self.relink_button.setEnabled(bool(result.missing))
        self.finished.emit(result)
        self.open_requested.emit(self.project_folder)

    # --- the report ----------------------------------------------------------------------------------------------
    def _group(self, title: str, rows: list[tuple[str, str]], expand: bool = True) -> None:
        top = QTreeWidgetItem([f"{title} ({len(rows)})", ""])
        top.setFirstColumnSpanned(True)
        self.report.addTopLevelItem(top)
        for what, where in rows:
            item = QTreeWidgetItem([what, where])
            item.setToolTip(0, what)
            item.setToolTip(1, where)
            top.addChild(item)
            item.setFirstColumnSpanned(not where)  # a note alone takes the whole row
        top.setExpanded(expand and bool(rows))

    def _show_import(self, r) -> None:
        self.report.clear()
        relink = (f" Find them later with Find missing files… here, or: python main.py project relink "
                  f"\"{r.project}\" --search FOLDER" if r.missing else "")
        self.status.setText(f"Imported {r.scenes} scene(s) of “{r.name}” into {r.project}: {len(r.copied)} file(s) "
                            f"found and copied, {len(r.missing)} missing.{relink}")
        self._group("Missing", [(a.role, a.original) for a in r.missing])
        self._group("Found and copied", [(a.role, f"{a.found} → {a.rel}") for a in r.copied], expand=False)
        self._group("Not mapped", [(note, "") for note in r.not_mapped])
        self._group("Other images of a scene (not imported)",
                    [(f"scene {row['scene']}", img) for row in r.other_images for img in row["images"]],
                    expand=False)

    def _show_relink(self, r) -> None:
        self.report.clear()
        self.status.setText(f"{len(r.relinked)} file(s) found and copied in, {len(r.missing)} still missing.")
        self._group("Still missing", [(a.role, a.original) for a in r.missing])
        self._group("Found now", [(a.role, f"{a.found} → {a.rel}") for a in r.relinked])
