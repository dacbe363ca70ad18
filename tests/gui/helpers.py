"""Helpers for the GUI tests that wait through the window's own signals (the estimate is made off the GUI thread)."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from gui.video import combo_utils


def estimate(qtbot, window, timeout: int = 60_000):
    """Ask for the estimate and wait until it is on screen; returns its PlanResult."""
    tab = window.video_tab
    with qtbot.waitSignal(tab.estimate_shown, timeout=timeout) as blocker:
        tab.update_estimate()
    # a change that arrived while this estimate was made asks for another one: wait for the newest
    while blocker.args[0].token != tab._estimate_token:
        with qtbot.waitSignal(tab.estimate_shown, timeout=timeout) as blocker:
            pass
    return blocker.args[0]


def generate_and_confirm(qtbot, window, answer: bool, scene_ids=None, timeout: int = 60_000):
    """Click-equivalent of Generate Videos for a render above the cost threshold: waits for the cost confirmation,
    answers it, and returns the dialog's text (what the user read)."""
    tab = window.video_tab
    with qtbot.waitSignal(tab.confirmation_requested, timeout=timeout) as blocker:
        assert tab.generate(scene_ids)
    dialog = blocker.args[0]
    text = dialog.text()
    (dialog.start_button if answer else dialog.cancel_button).click()
    return text


def choose(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in {combo.objectName()}"
    assert combo_utils.is_enabled(combo, index), combo_utils.reason(combo, index)
    combo.setCurrentIndex(index)


def enabled(combo: QComboBox, data) -> bool:
    return combo_utils.is_enabled(combo, combo.findData(data))


def widget(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, name
    return found
