"""A failed export says what went wrong in one plain sentence in the export panel; the full text (FFmpeg's own
lines) is one click away. The failures are real: FFmpeg run on bad input, and a real export of a project that
cannot be exported."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from core.errors import InvalidRequestError
from core.video.ffmpeg_command import FFmpegCommand, head
from core.video.ffmpeg_runner import ExportFailed, run_ffmpeg
from core.video.media import ffmpeg_exe
from gui.video.error_text import MAX_SENTENCE, plain
from tests.gui.conftest import make_project


def ffmpeg_failure(*args: str) -> ExportFailed:
    cmd = FFmpegCommand(args=head(ffmpeg_exe()) + ["-f", "lavfi", "-i", "testsrc2=d=0.2:s=64x36", *args],
                        duration_s=0.2)
    with pytest.raises(ExportFailed) as info:
        run_ffmpeg(cmd)
    return info.value


def _one_plain_sentence(sentence: str) -> None:
    assert sentence.endswith(".") and len(sentence) <= MAX_SENTENCE + 1
    assert "|" not in sentence and "@ 0x" not in sentence and "\n" not in sentence  # none of FFmpeg's raw lines


@pytest.mark.parametrize("args,words", [
    (["-c:v", "libnotthere", "out.mp4"], "no encoder for the chosen codec"),
    (["-vf", "lut3d=file=/no/such/grade.cube", "-f", "null", "-"], "colour LUT could not be read"),
])
def test_ffmpeg_failures_become_one_sentence_with_the_details_kept(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exc = ffmpeg_failure(*args)
    sentence, details = plain(exc)
    _one_plain_sentence(sentence)
    assert words in sentence
    assert str(exc).startswith("FFmpeg failed") and details.startswith("FFmpeg failed")
    assert len(details.splitlines()) > 1 and " | " not in details  # FFmpeg's lines, one per line


def test_an_unknown_ffmpeg_failure_still_reads_as_a_sentence():
    sentence, details = plain(ExportFailed("FFmpeg failed (exit 187): [out#0] something odd | Conversion failed!"))
    _one_plain_sentence(sentence)
    assert "exit 187" in sentence and "details" in sentence and "Conversion failed!" in details


def test_a_long_message_is_cut_at_a_clause():
    long = InvalidRequestError("clip file(s) missing: " + ", ".join(f"clips/{i:040d}.mp4" for i in range(8)))
    sentence, details = plain(long)
    _one_plain_sentence(sentence)
    assert sentence.startswith("Clip file(s) missing: clips/") and sentence.endswith(" more.") and details == str(long)


def test_the_export_panel_shows_the_sentence_and_the_details_one_click_away(open_window, tmp_path, qtbot):
    window = open_window(make_project(tmp_path / "p", ["a", "b"]).folder)
    group = window.video_tab.export_group
    # a real export of a project without rendered clips fails before FFmpeg runs
    with qtbot.waitSignal(group.export_finished, timeout=60_000) as blocker:
        qtbot.mouseClick(group.export_button, Qt.LeftButton)
    assert isinstance(blocker.args[0], InvalidRequestError)
    assert group.state.text() == "Export failed. No finished clip is selected for scene(s) 1, 2."
    assert group.details_button.isVisibleTo(group)

    # FFmpeg's own failure, handed over as the export worker hands it
    exc = ffmpeg_failure("-c:v", "libnotthere", str(tmp_path / "out.mp4"))
    group._bridge.finished.emit(exc)
    qtbot.waitUntil(lambda: "no encoder" in group.state.text(), timeout=5000)
    sentence = group.state.text().removeprefix("Export failed. ")
    _one_plain_sentence(sentence)
    assert "Unknown encoder 'libnotthere'" in group.state.toolTip()
    assert "Export failed: " + sentence in window.video_tab.console.visible_text()
    qtbot.mouseClick(group.details_button, Qt.LeftButton)
    dialog = group.details_dialog
    assert dialog is not None and dialog.isVisible()
    shown = dialog.findChild(QPlainTextEdit, "errorDetails").toPlainText()
    assert "Unknown encoder 'libnotthere'" in shown and "Error selecting an encoder" in shown
    dialog.close()

    # the next export starts clean
    with qtbot.waitSignal(group.export_finished, timeout=60_000):
        qtbot.mouseClick(group.export_button, Qt.LeftButton)
    assert group.error is not None  # it failed again, for the same plain reason
    group._clear_error()
    assert not group.details_button.isVisibleTo(group) and group.state.toolTip() == ""
