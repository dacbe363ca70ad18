"""The Export Settings group: every field of core.video.export.ExportSettings (saved as project.export), and the
Export Video button with progress, cancel and "open folder". The export itself (core.video.exporter.export_project)
runs on a worker thread; it reuses the rendered clips, so re-exporting never re-renders."""
from __future__ import annotations

import importlib
import importlib.util
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSlider, QSpinBox,
                               QTabWidget, QWidget)

from core.errors import ImageAIError
from core.video import export as ex
from gui.video import combo_utils, error_text
from gui.video.boundary_transition import BoundaryTransitionEditor
from gui.video.error_details import ErrorDetailsDialog
from gui.video.project_session import ProjectSession
from gui.video.text_overlays import TextOverlaysDialog


def _exporter():
    """core.video.exporter, or None while it is not part of this build."""
    try:
        return importlib.import_module("core.video.exporter")
    except ImportError:
        return None


def _exporter_present() -> bool:
    # checked without importing it, to keep the window's start quick
    return importlib.util.find_spec("core.video.exporter") is not None


class _ExportBridge(QObject):
    progress = Signal(object)   # ExportProgress from the worker thread
    finished = Signal(object)   # ExportResult or an exception


class ExportGroup(QGroupBox):
    problem = Signal(str)
    message = Signal(str, str)  # level, text for the status console
    #: the user wants to watch the finished export
    preview_requested = Signal(str)
    export_finished = Signal(object)

    def __init__(self, session: ProjectSession, parent: Optional[QWidget] = None):
        super().__init__("Export Settings", parent)
        self.setObjectName("exportGroup")
        self.session = session
        self._loading = False
        self._cancel: Optional[threading.Event] = None
        self._thread: Optional[threading.Thread] = None
        self._run_output: Optional[Path] = None  # a destination outside the project, for this session only
        self.last_result = None
        self._bridge = _ExportBridge(self)
        self._bridge.progress.connect(self._on_progress)
        self._bridge.finished.connect(self._on_finished)

        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        tabs.addTab(self._video_tab(), "Video")
        tabs.addTab(self._audio_tab(), "Audio")
        tabs.addTab(self._effects_tab(), "Transitions && effects")

        self.export_button = QPushButton("Export Video", objectName="exportButton")
        self.export_button.setMinimumHeight(30)
        self.cancel_button = QPushButton("Cancel", objectName="cancelExportButton", enabled=False)
        self.open_folder_button = QPushButton("Open folder", objectName="openExportFolderButton", enabled=False)
        self.play_button = QPushButton("Play export", objectName="playExportButton", enabled=False)
        self.progress = QProgressBar(objectName="exportProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.state = QLabel("", objectName="exportStateLabel")
        self.state.setWordWrap(True)
        # a failure is said in one sentence; FFmpeg's own lines are one click away
        self.details_button = QPushButton("Details…", objectName="exportDetailsButton", visible=False)
        self.details_button.setToolTip("The full error, with FFmpeg's own words")
        self.details_button.clicked.connect(self.show_error_details)
        self.error: Optional[tuple[str, str]] = None  # (sentence, details) of the last failed export
        self.details_dialog: Optional[ErrorDetailsDialog] = None
        side = QGridLayout()
        side.addWidget(self.export_button, 0, 0, 1, 2)
        side.addWidget(self.cancel_button, 1, 0)
        side.addWidget(self.open_folder_button, 1, 1)
        side.addWidget(self.play_button, 2, 0, 1, 2)
        side.addWidget(self.progress, 3, 0, 1, 2)
        side.addWidget(self.state, 4, 0, 1, 2)
        side.addWidget(self.details_button, 5, 0)
        side.setRowStretch(6, 1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(200)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.addWidget(tabs, 1)
        lay.addWidget(side_box)

        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.play_button.clicked.connect(
            lambda: self.last_result and self.preview_requested.emit(str(self.last_result.output_path)))
        session.project_replaced.connect(self.load)
        for combo in self.findChildren(QComboBox):  # long labels must not force a wide window
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        if not _exporter_present():
            self.export_button.setEnabled(False)
            self.export_button.setToolTip("The exporter is not part of this build yet")
        else:  # load it in the background now, so the first Export click does not wait for the import
            QTimer.singleShot(0, lambda: threading.Thread(target=_exporter, name="import-exporter",
                                                          daemon=True).start())

    # --- building the tabs ----------------------------------------------------------------------------------
    def _video_tab(self) -> QWidget:
        w = QWidget()
        g = QGridLayout(w)
        g.setContentsMargins(4, 4, 4, 4)
        self.format = combo_utils.id_combo(ex.FORMATS, "formatCombo")
        self.codec = QComboBox(objectName="codecCombo")
        self.quality = combo_utils.id_combo(ex.QUALITIES, "qualityCombo")
        self.bitrate = QSpinBox(objectName="bitrateSpin", minimum=100, maximum=800_000, singleStep=500, suffix=" kb/s")
        self.resolution = combo_utils.id_combo(ex.EXPORT_RESOLUTIONS, "exportResolutionCombo")
        self.fps = QDoubleSpinBox(objectName="exportFpsSpin", minimum=0, maximum=240, decimals=2)
        self.fps.setSpecialValueText("same as clips")
        self.output = QLineEdit(objectName="outputPathEdit")
        out_browse = QPushButton("Browse…")
        g.addWidget(QLabel("Format:"), 0, 0)
        g.addWidget(self.format, 0, 1)
        g.addWidget(QLabel("Codec:"), 0, 2)
        g.addWidget(self.codec, 0, 3)
        g.addWidget(QLabel("Quality:"), 1, 0)
        g.addWidget(self.quality, 1, 1)
        g.addWidget(QLabel("Bitrate:"), 1, 2)
        g.addWidget(self.bitrate, 1, 3)
        g.addWidget(QLabel("Size:"), 2, 0)
        g.addWidget(self.resolution, 2, 1)
        g.addWidget(QLabel("FPS:"), 2, 2)
        g.addWidget(self.fps, 2, 3)
        g.addWidget(QLabel("Output:"), 3, 0)
        g.addWidget(self.output, 3, 1, 1, 2)
        g.addWidget(out_browse, 3, 3)
        g.setColumnStretch(1, 1)
        g.setColumnStretch(3, 1)
        self.format.currentIndexChanged.connect(self._on_format)
        self.codec.currentIndexChanged.connect(lambda: self._set(video_codec=self.codec.currentData()))
        self.quality.currentIndexChanged.connect(self._on_quality)
        self.bitrate.editingFinished.connect(lambda: self._set(bitrate_kbps=self.bitrate.value()))
        self.resolution.currentIndexChanged.connect(lambda: self._set(resolution=self.resolution.currentData()))
        self.fps.editingFinished.connect(lambda: self._set(fps=self.fps.value() or None))
        self.output.editingFinished.connect(self._output_edited)
        out_browse.clicked.connect(self._browse_output)
        return w

    def _audio_tab(self) -> QWidget:
        w = QWidget()
        g = QGridLayout(w)
        g.setContentsMargins(4, 4, 4, 4)
        self.music = QLineEdit(objectName="musicPathEdit")
        self.music.setPlaceholderText("No background music")
        music_browse = QPushButton("Browse…")
        self.volume = QSlider(Qt.Horizontal, objectName="musicVolumeSlider")
        self.volume.setRange(0, 200)
        self.volume_label = QLabel("60%")
        self.fade_in = QDoubleSpinBox(objectName="musicFadeInSpin", maximum=60, singleStep=0.5, suffix=" s")
        self.fade_out = QDoubleSpinBox(objectName="musicFadeOutSpin", maximum=60, singleStep=0.5, suffix=" s")
        self.loop = QCheckBox("Loop short music", objectName="musicLoopCheck")
        self.clip_audio = combo_utils.id_combo(ex.CLIP_AUDIO_MODES, "clipAudioCombo")
        self.audio_codec = QComboBox(objectName="audioCodecCombo")
        g.addWidget(QLabel("Music:"), 0, 0)
        g.addWidget(self.music, 0, 1, 1, 3)
        g.addWidget(music_browse, 0, 4)
        g.addWidget(QLabel("Volume:"), 1, 0)
        g.addWidget(self.volume, 1, 1)
        g.addWidget(self.volume_label, 1, 2)
        g.addWidget(self.loop, 1, 3, 1, 2)
        g.addWidget(QLabel("Fade in:"), 2, 0)
        g.addWidget(self.fade_in, 2, 1)
        g.addWidget(QLabel("Fade out:"), 2, 2)
        g.addWidget(self.fade_out, 2, 3, 1, 2)
        g.addWidget(QLabel("Clip audio:"), 3, 0)
        g.addWidget(self.clip_audio, 3, 1)
        g.addWidget(QLabel("Codec:"), 3, 2)
        g.addWidget(self.audio_codec, 3, 3, 1, 2)
        # the part of the music file to play; end 0 shows "file end" (None in the settings)
        self.music_start = QDoubleSpinBox(objectName="musicStartSpin", maximum=36000, singleStep=0.5, suffix=" s")
        self.music_end = QDoubleSpinBox(objectName="musicEndSpin", maximum=36000, singleStep=0.5, suffix=" s",
                                        specialValueText="file end")
        g.addWidget(QLabel("Music from:"), 4, 0)
        g.addWidget(self.music_start, 4, 1)
        g.addWidget(QLabel("to:"), 4, 2)
        g.addWidget(self.music_end, 4, 3, 1, 2)
        self.music_start.editingFinished.connect(lambda: self._set(music_start=self.music_start.value()))
        self.music_end.editingFinished.connect(lambda: self._set(music_end=self.music_end.value() or None))
        g.setColumnStretch(1, 1)
        music_browse.clicked.connect(lambda: self._browse_file(self.music, "music_path", "Background music",
                                                               "Audio (*.mp3 *.wav *.m4a *.aac *.ogg *.flac)"))
        self.music.editingFinished.connect(lambda: self._set_path(self.music, "music_path"))
        self.volume.valueChanged.connect(self._on_volume)
        self.fade_in.editingFinished.connect(lambda: self._set(music_fade_in=self.fade_in.value()))
        self.fade_out.editingFinished.connect(lambda: self._set(music_fade_out=self.fade_out.value()))
        self.loop.toggled.connect(lambda v: self._set(music_loop=v))
        self.clip_audio.currentIndexChanged.connect(lambda: self._set(clip_audio=self.clip_audio.currentData()))
        self.audio_codec.currentIndexChanged.connect(lambda: self._set(audio_codec=self.audio_codec.currentData()))
        return w

    def _effects_tab(self) -> QWidget:
        w = QWidget()
        g = QGridLayout(w)
        g.setContentsMargins(4, 4, 4, 4)
        self.transition = combo_utils.id_combo(ex.TRANSITIONS, "transitionCombo")
        self.transition_duration = QDoubleSpinBox(objectName="transitionDurationSpin", maximum=ex.MAX_TRANSITION_S,
                                                  singleStep=0.25, suffix=" s")
        self.lut = QLineEdit(objectName="lutPathEdit")
        self.lut.setPlaceholderText("No colour LUT (.cube)")
        lut_browse = QPushButton("Browse…")
        self.watermark = QLineEdit(objectName="watermarkPathEdit")
        self.watermark.setPlaceholderText("No watermark image")
        wm_browse = QPushButton("Browse…")
        self.wm_position = combo_utils.id_combo(ex.WATERMARK_POSITIONS, "watermarkPositionCombo")
        self.wm_scale = QDoubleSpinBox(objectName="watermarkScaleSpin", minimum=0.01, maximum=1.0, singleStep=0.05)
        self.wm_opacity = QDoubleSpinBox(objectName="watermarkOpacitySpin", minimum=0.0, maximum=1.0, singleStep=0.1)
        self.texts_button = QPushButton("Text overlays…", objectName="textOverlaysButton")
        self.boundary = BoundaryTransitionEditor(self.session, self._set)  # one boundary's own transition
        g.addWidget(QLabel("Transition:"), 0, 0)
        g.addWidget(self.transition, 0, 1)
        g.addWidget(QLabel("Length:"), 0, 2)
        g.addWidget(self.transition_duration, 0, 3)
        g.addWidget(self.texts_button, 0, 4)
        g.addWidget(self.boundary, 4, 0, 1, 5)
        g.addWidget(QLabel("LUT:"), 1, 0)
        g.addWidget(self.lut, 1, 1, 1, 3)
        g.addWidget(lut_browse, 1, 4)
        g.addWidget(QLabel("Watermark:"), 2, 0)
        g.addWidget(self.watermark, 2, 1, 1, 3)
        g.addWidget(wm_browse, 2, 4)
        g.addWidget(QLabel("Position:"), 3, 0)
        g.addWidget(self.wm_position, 3, 1)
        scale_row = QHBoxLayout()
        scale_row.addWidget(QLabel("Width"))
        scale_row.addWidget(self.wm_scale)
        scale_row.addWidget(QLabel("Opacity"))
        scale_row.addWidget(self.wm_opacity)
        g.addLayout(scale_row, 3, 2, 1, 3)
        g.setColumnStretch(1, 1)
        self.transition.currentIndexChanged.connect(self._on_transition)
        self.transition_duration.editingFinished.connect(self._on_transition)
        self.lut.editingFinished.connect(lambda: self._set_path(self.lut, "lut_path"))
        self.watermark.editingFinished.connect(lambda: self._set_path(self.watermark, "watermark_path"))
        lut_browse.clicked.connect(lambda: self._browse_file(self.lut, "lut_path", "Colour LUT", "LUT (*.cube)"))
        wm_browse.clicked.connect(lambda: self._browse_file(self.watermark, "watermark_path", "Watermark image",
                                                            "Images (*.png *.jpg *.jpeg *.webp)"))
        self.wm_position.currentIndexChanged.connect(
            lambda: self._set(watermark_position=self.wm_position.currentData()))
        self.wm_scale.editingFinished.connect(lambda: self._set(watermark_scale=self.wm_scale.value()))
        self.wm_opacity.editingFinished.connect(lambda: self._set(watermark_opacity=self.wm_opacity.value()))
        self.texts_button.clicked.connect(self._edit_texts)
        return w

    # --- settings <-> widgets -------------------------------------------------------------------------------
    @property
    def settings(self) -> ex.ExportSettings:
        return self.session.project.export

    def load(self) -> None:
        if self.session.project is None:
            return
        s = self.settings
        self._loading = True
        try:
            combo_utils.select(self.format, s.format)
            self._fill_codecs()
            combo_utils.select(self.quality, s.quality)
            self.bitrate.setValue(s.bitrate_kbps or 8000)
            self.bitrate.setEnabled(s.quality == "custom")
            combo_utils.select(self.resolution, s.resolution)
            self.fps.setValue(s.fps or 0)
            self.output.setText(str(self._run_output) if self._run_output else (s.output_path or ""))
            self.output.setPlaceholderText(f"exports/{self.session.project.name}.{s.format}")
            self.music.setText(s.music_path or "")
            self.volume.setValue(int(round(s.music_volume * 100)))
            self.volume_label.setText(f"{self.volume.value()}%")
            self.fade_in.setValue(s.music_fade_in)
            self.fade_out.setValue(s.music_fade_out)
            self.loop.setChecked(s.music_loop)
            self.music_start.setValue(s.music_start)
            self.music_end.setValue(s.music_end or 0)
            combo_utils.select(self.clip_audio, s.clip_audio)
            combo_utils.select(self.transition, s.transition.kind)
            self.transition_duration.setValue(s.transition.duration)
            self.transition_duration.setEnabled(s.transition.kind != "none")
            self.lut.setText(s.lut_path or "")
            self.watermark.setText(s.watermark_path or "")
            combo_utils.select(self.wm_position, s.watermark_position)
            self.wm_scale.setValue(s.watermark_scale)
            self.wm_opacity.setValue(s.watermark_opacity)
            self.texts_button.setText(f"Text overlays ({len(s.texts)})…" if s.texts else "Text overlays…")
            self.boundary.load()
        finally:
            self._loading = False

    def _fill_codecs(self) -> None:
        fmt = self.settings.format
        allowed_v = set(ex.CODECS_FOR_FORMAT[fmt])
        combo_utils.fill(self.codec, [(label, cid, None if cid == "auto" or cid in allowed_v else
                                       f"{label} cannot be written to {ex.FORMATS[fmt]}")
                                      for cid, label in ex.VIDEO_CODECS.items()], self.settings.video_codec)
        allowed_a = set(ex.AUDIO_CODECS_FOR_FORMAT[fmt])
        combo_utils.fill(self.audio_codec, [(label, cid, None if cid == "auto" or cid in allowed_a else
                                             f"{label} audio cannot be written to {ex.FORMATS[fmt]}")
                                            for cid, label in ex.AUDIO_CODECS.items()], self.settings.audio_codec)

    def _set(self, **changes) -> bool:
        if self._loading or self.session.project is None:
            return False
        try:
            new = ex.ExportSettings.model_validate({**self.settings.model_dump(), **changes})
        except ValueError as exc:
            self.problem.emit(_first(exc))
            self.load()
            return False
        if new != self.settings:
            self.session.project.export = new
            self.session.mark_dirty()
        return True

    def _on_format(self) -> None:
        if self._loading:
            return
        fmt = self.format.currentData()
        changes: dict = {"format": fmt}
        if self.settings.video_codec not in ("auto", *ex.CODECS_FOR_FORMAT[fmt]):
            changes["video_codec"] = "auto"
        if self.settings.audio_codec not in ("auto", *ex.AUDIO_CODECS_FOR_FORMAT[fmt]):
            changes["audio_codec"] = "auto"
        self._set(**changes)
        self.load()

    def _on_quality(self) -> None:
        q = self.quality.currentData()
        self.bitrate.setEnabled(q == "custom")
        self._set(quality=q, **({"bitrate_kbps": self.bitrate.value()} if q == "custom" else {}))

    def _on_volume(self, value: int) -> None:
        self.volume_label.setText(f"{value}%")
        self._set(music_volume=value / 100)

    def _on_transition(self) -> None:
        kind = self.transition.currentData()
        self.transition_duration.setEnabled(kind != "none")
        self._set(transition=ex.TransitionSpec(kind=kind, duration=self.transition_duration.value()))
        self.boundary.load()  # "Project default" shows the project's length

    def _browse_output(self) -> None:
        start = str(self.session.store.folder / "exports") if self.session.store else ""
        path, _ = QFileDialog.getSaveFileName(self, "Export to", start,
                                              ";;".join(f"{label} (*.{fid})" for fid, label in ex.FORMATS.items()))
        if path:
            self.output.setText(path)
            self._output_edited()

    def _output_edited(self) -> None:
        """A destination inside the project is saved (relative); one elsewhere is used for this session's exports
        only, so the project file never names a path outside its folder."""
        text = self.output.text().strip()
        store = self.session.store
        target = Path(text).expanduser() if text else None
        if target is not None and store is not None and target.is_absolute():
            target = target.resolve()
            if not target.is_relative_to(store.folder):
                self._run_output = target
                self._set(output_path=None)
                return
            text = store.relative(target)
            self.output.setText(text)
        self._run_output = None
        self._set(output_path=text or None)

    def _browse_file(self, edit: QLineEdit, field: str, title: str, pattern: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", pattern + ";;All files (*)")
        if path:
            edit.setText(path)
            self._set_path(edit, field)

    def _set_path(self, edit: QLineEdit, field: str) -> None:
        """Music, LUT and watermark files are copied into the project (references/) and stored relative to it."""
        text = edit.text().strip()
        store = self.session.store
        if text and store is not None and Path(text).expanduser().is_absolute():
            source = Path(text).expanduser()
            if not source.is_file():
                self.problem.emit(f"{field.replace('_path', '')}: no such file {text}")
                self.load()
                return
            text = store.import_asset(source, "references")
            edit.setText(text)
        self._set(**{field: text or None})

    def _edit_texts(self) -> None:
        dialog = TextOverlaysDialog(self.settings.texts, self)
        if dialog.exec():
            self._set(texts=dialog.overlays())
            self.load()

    # --- exporting ------------------------------------------------------------------------------------------
    def is_exporting(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_export(self) -> None:
        exporter = _exporter()
        store = self.session.store
        if exporter is None or store is None or self.is_exporting():
            return
        try:
            self.settings.resolved()  # format/codec pairs: refuse before starting FFmpeg
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            return
        settings = self.settings.model_copy(deep=True)
        run_output = self._run_output
        self._cancel = threading.Event()
        cancel = self._cancel
        bridge = self._bridge

        def work() -> None:
            try:
                result = exporter.export_project(store, settings, progress=bridge.progress.emit, cancel=cancel,
                                                 output=run_output)
            except Exception as exc:  # shown in the window; nothing the project holds is touched
                result = exc
            bridge.finished.emit(result)

        self._thread = threading.Thread(target=work, name="export", daemon=True)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.open_folder_button.setEnabled(False)
        self.play_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._clear_error()
        self.state.setText("Exporting…")
        self.message.emit("info", "Export started")
        self._thread.start()

    def cancel_export(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.state.setText("Cancelling…")

    def _on_progress(self, p) -> None:
        fraction = getattr(p, "fraction", None)
        if fraction is not None:
            self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        eta = getattr(p, "eta_s", None)
        stage = getattr(p, "stage", "") or ""
        text = stage + (f" — about {eta:.0f} s left" if eta else "")
        if text:
            self.state.setText(text)
        msg = getattr(p, "message", "")
        if msg and stage != "encoding":
            self.message.emit("debug", f"Export: {msg}")

    def _on_finished(self, result) -> None:
        self._thread = None
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(True)
        if isinstance(result, BaseException):
            self.progress.setFormat("")
            self.progress.setValue(0)
            kind = getattr(result, "kind", "")
            if kind == "cancelled":
                self.state.setText("Export cancelled")
                self.message.emit("warning", "Export cancelled")
            else:
                self._show_error(result)
        else:
            self.last_result = result
            self.progress.setValue(1000)
            reused = getattr(result, "reused", None) or []  # what the exporter could skip, in its own words
            reused = f"; reused: {'; '.join(reused)}" if reused else ""
            size_mb = getattr(result, "size_bytes", 0) / 1e6
            self.state.setText(f"Done: {Path(result.output_path).name}")
            self.message.emit("info", f"Exported {result.output_path} ({result.duration:.1f} s, {size_mb:.1f} MB, "
                                      f"{result.elapsed_s:.1f} s){reused}")
            self.open_folder_button.setEnabled(True)
            self.play_button.setEnabled(True)
        self.export_finished.emit(result)

    def _show_error(self, exc: BaseException) -> None:
        sentence, details = error_text.plain(exc)
        self.error = (sentence, details)
        self.state.setText(f"Export failed. {sentence}")
        self.state.setToolTip(details)
        self.details_button.setVisible(True)
        self.message.emit("error", f"Export failed: {sentence}")
        self.message.emit("debug", f"Export failure details: {details}")

    def _clear_error(self) -> None:
        self.error = None
        self.state.setToolTip("")
        self.details_button.setVisible(False)

    def show_error_details(self) -> None:
        if self.error is None:
            return
        if self.details_dialog is not None:
            self.details_dialog.close()
        self.details_dialog = ErrorDetailsDialog("Export failed", *self.error, parent=self)
        self.details_dialog.show()

    def _open_folder(self) -> None:
        if self.last_result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.last_result.output_path).parent)))

    def shutdown(self) -> None:
        """At exit: stop a running export (FFmpeg is asked to quit) and wait briefly."""
        if self._cancel is not None:
            self._cancel.set()
        if self._thread is not None:
            self._thread.join(10)


def _first(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return str(errors()[0].get("msg", exc)).removeprefix("Value error, ")
        except (IndexError, TypeError):
            pass
    return str(exc)

