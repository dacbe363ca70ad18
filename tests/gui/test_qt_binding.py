"""The Qt binding must not leak references to None: PySide6 6.12.0 on Python 3.11 drops one per Qt call that returns
nothing, and a long session then aborts with "Fatal Python error: none_dealloc"."""
import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 50
