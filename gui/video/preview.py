"""Clip preview inside the app: a clip or the last export played with QtMultimedia (QMediaPlayer, QAudioOutput,
QVideoWidget): picture and sound, play/pause, stop, a position slider and the file name.

QtMultimedia is loaded on the first play, so opening the app does not wait for it. Where it cannot be loaded or
created (no multimedia backend on this machine), and for a file it reports an error on, the preview falls back to
frames decoded by FFmpeg (preview_ffmpeg.py, picture only) and says why under the picture. The player opens its file
only while a clip plays or is paused: a stopped or finished preview never keeps an export locked (Windows), so
exporting again to the same file works."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QStackedWidget, QVBoxLayout,
                               QWidget)

from gui.video.preview_ffmpeg import FramePlayer

log = logging.getLogger(__name__)

QT = "qtmultimedia"
FFMPEG = "ffmpeg"


_QML_PLAYER = b"import QtMultimedia\nMediaPlayer { audioOutput: AudioOutput {} }\n"


def _make_qt_player(parent: QWidget):
    """(player, audio output, video widget, note) or raises with the reason QtMultimedia cannot play here. Tests
    replace this to exercise the fallback.

    The player and its audio output are made by QML, i.e. in C++, not by calling their Python constructors: an
    object constructed from Python is a PySide wrapper whose virtual functions take the GIL, and Qt's FFmpeg backend
    destroys its audio renderer on a worker thread, which calls the audio output's disconnectNotify() while holding
    a signal-slot lock. With a wrapper, a player call on the GUI thread (which holds the GIL) at that moment waits
    for that lock forever (seen with PySide6 6.12: stop() right after a clip ended)."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtMultimedia import QMediaDevices
    from PySide6.QtMultimediaWidgets import QVideoWidget
    from PySide6.QtQml import QQmlComponent, QQmlEngine

    engine = QQmlEngine()
    component = QQmlComponent(engine)
    component.setData(QByteArray(_QML_PLAYER), QUrl())
    player = component.create()
    if player is None:
        engine.deleteLater()
        raise RuntimeError(component.errorString().strip() or "the QML MediaPlayer could not be created")
    player.setParent(parent)
    engine.setParent(player)
    if not player.isAvailable():
        player.deleteLater()
        raise RuntimeError("no multimedia backend on this machine")
    audio = player.audioOutput()
    video = QVideoWidget(parent)
    video.setObjectName("previewVideo")
    player.setVideoOutput(video)
    note = "" if QMediaDevices.audioOutputs() else "No sound output device was found: picture only."
    return player, audio, video, note


def _clock(ms: int) -> str:
    s = max(0, ms) / 1000
    return f"{int(s // 60)}:{s % 60:04.1f}"


class PreviewWidget(QWidget):
    #: playback started (path) / ended (played to the end, stopped or failed)
    started = Signal(str)
    finished = Signal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("previewWidget")
        self.screen = QLabel("No clip", objectName="previewScreen")  # messages, stills and the fallback's frames
        self.screen.setAlignment(Qt.AlignCenter)
        self.screen.setWordWrap(True)
        self.screen.setMinimumSize(240, 135)
        self.screen.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.screen.setStyleSheet("background:#111; color:#aaa;")
        self.stack = QStackedWidget()
        self.stack.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.stack.addWidget(self.screen)
        self.notice = QLabel("", objectName="previewNotice")  # why the fallback is used; no sound device
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color:#a60;")
        self.notice.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.notice.hide()
        self.caption = QLabel("", objectName="previewCaption")
        self.caption.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.caption.setMinimumWidth(40)
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.play_button = QPushButton("Play", objectName="previewPlayButton")
        self.stop_button = QPushButton("Stop", objectName="previewStopButton")
        self.play_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        self.slider = QSlider(Qt.Horizontal, objectName="previewPositionSlider")
        self.slider.setEnabled(False)
        self.time_label = QLabel(_clock(0), objectName="previewTimeLabel")
        seek_row = QHBoxLayout()
        seek_row.addWidget(self.slider, 1)
        seek_row.addWidget(self.time_label)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.notice)
        lay.addLayout(seek_row)
        lay.addLayout(row)

        self.path: Optional[Path] = None
        self.frames_shown = 0
        #: QT or FFMPEG (no usable QtMultimedia) once the first clip was played; a file QtMultimedia reports an
        #: error on falls back on its own (`_mode`) while `backend` stays QT
        self.backend: Optional[str] = None
        self.fallback_reason = ""
        self.player = None          # QMediaPlayer
        self.audio = None           # QAudioOutput
        self.video: Optional[QWidget] = None  # QVideoWidget
        self._note = ""
        self._mode: Optional[str] = None      # what plays the current file: QT or FFMPEG
        self._active = False        # a clip is playing or paused; `finished` not emitted yet
        self._duration = 0
        self._last_frame = None     # QVideoFrame, shown as a still when the clip ends
        self._qt_error = ""
        self._releasing = False
        self._generation = 0        # counts play() calls: deferred work for an older clip is dropped
        self._frames = FramePlayer(self)
        self._frames.frame.connect(self._show_frame)
        self._frames.ended.connect(self._frames_ended)
        self.play_button.clicked.connect(self.toggle)
        self.stop_button.clicked.connect(self.stop)
        self.slider.sliderMoved.connect(self._seek)

    # -- the API the rest of the GUI uses -------------------------------------------------------------------------
    def is_playing(self) -> bool:
        if self._mode == QT and self.player is not None:
            from PySide6.QtMultimedia import QMediaPlayer

            return self._active and self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        return self._frames.is_running()

    def play(self, path) -> None:
        """Start playing a clip or an export from its beginning. Loading runs off the GUI thread (QMediaPlayer's
        own threads, or the FFmpeg decoder thread)."""
        self.stop()
        self._generation += 1
        self.path = Path(path)
        self.frames_shown = 0
        self._last_frame = None
        self._qt_error = ""
        self.caption.setText(self.path.name)
        self.caption.setToolTip(str(self.path))
        self._set_duration(0)
        if not self.path.is_file():
            self._show_text(f"Cannot play {self.path.name}: no such file")
            self._sync_controls()
            self.play_button.setEnabled(False)
            return
        self._active = True
        if self._ensure_player() is not None:
            self._mode = QT
            self.stack.setCurrentWidget(self.video)
            self.player.setSource(QUrl.fromLocalFile(str(self.path)))
            self.player.play()
        else:
            self._start_frames()
        self._sync_controls()
        self.started.emit(str(self.path))

    def cue(self, path, title: str) -> None:
        """Ready the selected scene's clip without playing it (Play starts it), or say why there is none (path
        None). A clip that is playing or paused is left alone."""
        if self._active:
            return
        self.path = Path(path) if path else None
        self.caption.setText(title)
        self.caption.setToolTip(str(self.path) if self.path else "")
        self._set_duration(0)
        if self.path is not None and not self.path.is_file():
            self._show_text(f"{title}: its clip {self.path.name} is missing")
            self.path = None
        else:
            self._show_text(f"{title}\n\nPress Play to watch it" if self.path else title)
        self._sync_controls()

    def stop(self) -> None:
        """Stop and go back to the start; the file is released."""
        self._frames.stop()
        if self.player is not None:
            self.player.stop()
            self._release()
        if self._active:
            self._keep_still()
            self._end(at_end=False)

    # -- more controls --------------------------------------------------------------------------------------------
    def toggle(self) -> None:
        """The Play/Pause button: pause or resume the current clip, or play the last one again."""
        if not self._active:
            if self.path is not None:
                self.play(self.path)
            return
        if self._mode == QT:
            if self.is_playing():
                self.player.pause()
            else:
                self.player.play()
        elif self._frames.is_running():
            self._frames.pause()
        else:
            self._frames.resume()
        self._sync_controls()

    def message(self) -> str:
        """The text the preview shows the user now: an error, a note about the fallback or sound."""
        parts = [self.screen.text()] if self.stack.currentWidget() is self.screen and self.screen.text() else []
        if self.notice.isVisibleTo(self) and self.notice.text():
            parts.append(self.notice.text())
        return "\n".join(parts)

    # -- QtMultimedia -------------------------------------------------------------------------------------------
    def _ensure_player(self):
        if self.backend is None:
            try:
                self.player, self.audio, self.video, self._note = _make_qt_player(self)
            except Exception as exc:  # noqa: BLE001 - any failure here means: play with the fallback
                log.warning("QtMultimedia unavailable, preview falls back to FFmpeg frames: %s", exc)
                self.backend = FFMPEG
                self.fallback_reason = str(exc) or type(exc).__name__
                self._set_notice(f"Video playback (QtMultimedia) is unavailable: {self.fallback_reason}. "
                                 f"Showing frames decoded by FFmpeg, without sound.")
                return None
            self.backend = QT
            self.video.setMinimumSize(240, 135)
            self.video.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
            self.stack.addWidget(self.video)
            p = self.player
            p.durationChanged.connect(lambda ms: None if self._releasing else self._set_duration(ms))
            p.positionChanged.connect(self._on_position)
            p.playbackStateChanged.connect(lambda _state: self._sync_controls())
            p.mediaStatusChanged.connect(self._on_status)
            p.errorOccurred.connect(self._on_error)
            self.video.videoSink().videoFrameChanged.connect(self._on_video_frame)
        if self.backend == QT:
            self._set_notice(self._note)
        return self.player if self.backend == QT else None

    def _on_video_frame(self, frame) -> None:
        if self._mode == QT and self._active and frame.isValid():
            self.frames_shown += 1
            self._last_frame = frame

    def _on_status(self, status) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if status == QMediaPlayer.MediaStatus.EndOfMedia and self._mode == QT and self._active:
            gen = self._generation  # not from inside the player's own signal; only for this clip
            QTimer.singleShot(0, lambda: gen == self._generation and self._qt_ended())

    def _qt_ended(self) -> None:
        if self._mode != QT or not self._active:
            return
        self._keep_still()
        self._release()
        self._end(at_end=True)

    def _on_error(self, error, text: str) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if error == QMediaPlayer.Error.NoError or self._mode != QT or not self._active:
            return
        self._qt_error = text or str(error)
        log.warning("QtMultimedia cannot play %s (%s): trying FFmpeg frames", self.path, self._qt_error)
        gen = self._generation
        QTimer.singleShot(0, lambda: gen == self._generation and self._fall_back_for_file())

    def _fall_back_for_file(self) -> None:
        if self._mode != QT or not self._active:
            return
        self.player.stop()
        self._release()
        self._set_notice(f"QtMultimedia could not play {self.path.name} ({self._qt_error}). "
                         f"Showing frames decoded by FFmpeg, without sound.")
        self._start_frames()
        self._sync_controls()

    def _release(self) -> None:
        """Close the file: QMediaPlayer keeps it open while it has a source."""
        if self.player is not None and not self.player.source().isEmpty():
            self._releasing = True  # the slider keeps the clip's length
            try:
                self.player.setSource(QUrl())
            finally:
                self._releasing = False

    def _seek(self, ms: int) -> None:
        if self._mode == QT and self._active:
            self.player.setPosition(ms)

    # -- the FFmpeg fallback ----------------------------------------------------------------------------------------
    def _start_frames(self) -> None:
        self._mode = FFMPEG
        self.frames_shown = 0
        self.screen.setText("")
        self.stack.setCurrentWidget(self.screen)
        self._frames.start(self.path)

    def _show_frame(self, image: QImage) -> None:
        self.frames_shown = self._frames.frames_shown
        self._show_image(image)
        self._on_position(self._frames.position_ms())

    def _frames_ended(self, error: str) -> None:
        if self._mode != FFMPEG or not self._active:
            return
        if error:
            if self._qt_error:  # neither could play it: the fallback's note would mislead
                error = f"{error} (QtMultimedia: {self._qt_error})"
                self._set_notice(self._note)
            self._show_text(f"Cannot play {self.path.name}: {error}")
        self._end(at_end=not error)

    # -- shared -------------------------------------------------------------------------------------------------------
    def _end(self, at_end: bool) -> None:
        self._active = False
        self._on_position(self._duration if at_end else 0)
        self._sync_controls()
        self.finished.emit()

    def _keep_still(self) -> None:
        """Show the last picture on the screen label while no file is open."""
        if self._mode == QT and self._last_frame is not None:
            image = self._last_frame.toImage()
            if not image.isNull():
                self._show_image(image)

    def _show_image(self, image: QImage) -> None:
        self.stack.setCurrentWidget(self.screen)
        pix = QPixmap.fromImage(image)
        self.screen.setPixmap(pix.scaled(self.screen.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def _show_text(self, text: str) -> None:
        self.screen.setText(text)
        self.stack.setCurrentWidget(self.screen)

    def _set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _set_duration(self, ms: int) -> None:
        self._duration = max(0, int(ms))
        self.slider.setRange(0, self._duration)
        self._on_position(self.slider.value() if self._active else 0)

    def _on_position(self, ms: int) -> None:
        # the player reports the position ~20 times a second: touch the widgets only when what they show changes
        # (tenths of a second). Fewer calls matter with PySide6 6.12 on Python 3.11, where each call of a method
        # that returns nothing drops a reference to None (the interpreter aborts when None's count reaches 0).
        ms = int(ms)
        if not self.slider.isSliderDown() and (abs(ms - self.slider.value()) >= 100 or ms in (0, self._duration)):
            self.slider.setValue(ms)
        total = f" / {_clock(self._duration)}" if self._duration else ""
        text = _clock(ms) + total
        if text != self.time_label.text():
            self.time_label.setText(text)

    def _sync_controls(self) -> None:
        playing = self.is_playing()
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setEnabled(self.path is not None)
        self.stop_button.setEnabled(self._active)
        self.slider.setEnabled(self._active and self._mode == QT and self._duration > 0)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
