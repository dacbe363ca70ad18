"""The clip preview: a real MP4 played with QtMultimedia (duration, play/pause/stop, position, the picture that
reaches the video widget), a file that is no video, and the FFmpeg-frame fallback for machines without a multimedia
backend. Only the QtMultimedia playback test needs QtMultimedia (the `qt_multimedia` fixture skips it, with the
reason, where the module cannot load); the others run everywhere."""
from __future__ import annotations

import pytest

from tests.media_factory import make_clip

COLOR = (0x33, 0x66, 0xCC)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # 1.5 s with sound: long enough to see the position move, short enough to play to the end quickly
    return make_clip(tmp_path_factory.mktemp("preview") / "blue clip.mp4", duration=1.5, color="0x3366cc")


@pytest.fixture
def preview(qtbot):
    from gui.video.preview import PreviewWidget

    widget = PreviewWidget()
    qtbot.addWidget(widget)
    widget.resize(480, 360)
    widget.show()
    yield widget
    widget.stop()


def _close_to(color, expected, tol=16) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(color, expected))


def _center_rgb(image):
    c = image.pixelColor(image.width() // 2, image.height() // 2)
    return c.red(), c.green(), c.blue()


def test_plays_a_clip_with_picture_position_pause_and_stop(qt_multimedia, preview, clip, qtbot):
    from PySide6.QtMultimedia import QMediaPlayer

    from gui.video.preview import QT

    with qtbot.waitSignal(preview.started, timeout=5000) as started:
        preview.play(clip)
    assert started.args == [str(clip)]
    assert preview.backend == QT, preview.fallback_reason
    player = preview.player
    assert preview.caption.text() == "blue clip.mp4"
    # made in C++ (QML), not by Python constructors: see _make_qt_player on the GIL deadlock that avoids
    import shiboken6

    assert not shiboken6.createdByPython(player) and not shiboken6.createdByPython(preview.audio)
    assert player.audioOutput() is not None

    # the media is loaded with the file's length, and it plays
    qtbot.waitUntil(lambda: abs(player.duration() - 1500) <= 100, timeout=10_000)
    assert player.mediaStatus() in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferingMedia,
                                    QMediaPlayer.MediaStatus.BufferedMedia)
    qtbot.waitUntil(lambda: player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=10_000)
    assert preview.is_playing() and preview.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: player.position() > 150 and preview.frames_shown > 3, timeout=10_000)
    assert preview.slider.isEnabled() and preview.slider.maximum() == player.duration()
    qtbot.waitUntil(lambda: preview.slider.value() > 0, timeout=5000)
    assert "/ 0:01.5" in preview.time_label.text()
    # the picture that reaches the video widget is the clip's
    frame = preview.video.videoSink().videoFrame()
    assert frame.isValid() and _close_to(_center_rgb(frame.toImage()), COLOR)

    # pause holds the position; the button resumes
    qtbot.mouseClick(preview.play_button, _left())
    qtbot.waitUntil(lambda: player.playbackState() == QMediaPlayer.PlaybackState.PausedState, timeout=5000)
    assert not preview.is_playing() and preview.play_button.text() == "Play"
    held = player.position()
    assert held < 1500
    # dragging the slider seeks
    preview.slider.setSliderDown(True)
    preview.slider.setSliderPosition(1000)
    preview.slider.setSliderDown(False)
    qtbot.waitUntil(lambda: abs(player.position() - 1000) <= 50, timeout=5000)
    assert player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    qtbot.mouseClick(preview.play_button, _left())
    qtbot.waitUntil(lambda: player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=5000)

    # stop returns to 0 and lets go of the file
    with qtbot.waitSignal(preview.finished, timeout=5000):
        qtbot.mouseClick(preview.stop_button, _left())
    assert player.playbackState() == QMediaPlayer.PlaybackState.StoppedState
    assert player.position() == 0 and preview.slider.value() == 0
    assert player.source().isEmpty()
    assert not preview.stop_button.isEnabled() and preview.play_button.isEnabled()

    # Play starts the clip again; at the end the last picture stays and the file is released
    with qtbot.waitSignal(preview.finished, timeout=20_000):
        qtbot.mouseClick(preview.play_button, _left())
    assert player.source().isEmpty() and not preview.is_playing()
    assert preview.slider.value() == preview.slider.maximum() and abs(preview.slider.maximum() - 1500) <= 100
    assert preview.time_label.text().startswith("0:01.")
    still = preview.screen.pixmap()
    assert preview.stack.currentWidget() is preview.screen and not still.isNull()
    assert _close_to(_center_rgb(still.toImage()), COLOR)


def test_a_file_that_is_no_video_shows_an_error(preview, tmp_path, qtbot):
    notes = tmp_path / "notes.mp4"
    notes.write_text("these are notes, not a video\n" * 20)
    with qtbot.waitSignal(preview.finished, timeout=15_000):
        preview.play(notes)
    qtbot.waitUntil(lambda: "Cannot play notes.mp4" in preview.message(), timeout=5000)
    assert not preview.is_playing() and not preview.stop_button.isEnabled()

    preview.play(tmp_path / "gone.mp4")
    assert "Cannot play gone.mp4: no such file" in preview.message()
    assert not preview.play_button.isEnabled()


def test_falls_back_to_ffmpeg_frames_without_a_multimedia_backend(preview, clip, tmp_path, qtbot, monkeypatch):
    import gui.video.preview as preview_mod

    def no_backend(parent):
        raise RuntimeError("no multimedia backend on this machine")

    monkeypatch.setattr(preview_mod, "_make_qt_player", no_backend)
    with qtbot.waitSignal(preview.started, timeout=5000):
        preview.play(clip)
    assert preview.backend == preview_mod.FFMPEG and preview.player is None
    assert "no multimedia backend on this machine" in preview.message()
    assert "FFmpeg" in preview.message()
    qtbot.waitUntil(lambda: preview.frames_shown > 3, timeout=15_000)
    assert preview.is_playing()
    assert _close_to(_center_rgb(preview.screen.pixmap().toImage()), COLOR)
    qtbot.mouseClick(preview.play_button, _left())  # pause
    assert not preview.is_playing()
    with qtbot.waitSignal(preview.finished, timeout=5000):
        preview.stop()

    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    with qtbot.waitSignal(preview.finished, timeout=15_000):
        preview.play(notes)
    assert "Cannot play notes.mp4" in preview.message()


def _left():
    from PySide6.QtCore import Qt

    return Qt.LeftButton
