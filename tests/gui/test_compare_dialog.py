"""Compare… from the video tab: one scene rendered by Veo and LTX-Video (on fal) as two takes of that scene, through
the real window, the real providers and SDKs against the Veo fake and the fal fake (processes on 127.0.0.1): both
costs in the confirmation before anything is spent, the side-by-side file with both widths, the facts table
filled, and "Keep this take" selecting that take (undoable)."""
from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from core.config import Settings
from core.video.media import probe
from tests.gui.conftest import make_project, render_and_wait
from tests.gui.helpers import choose
from tests.test_veo_e2e import REASON, fal, quick_polls, veo  # noqa: F401  (fixtures)

FAST = "veo-3.1-fast-generate-preview"
VEO_SIDE, LTX_SIDE = f"veo:{FAST}", "ltx-video:ltx-2-fast@fal"
SHOTS = os.environ.get("IMAGEAI_SCREENSHOTS")  # a folder: the tests save what they show there


@pytest.fixture
def fast_polls():
    return Settings(autosave_interval_s=0, confirm_cost_above=100.0, veo_poll_interval_s=0.05, poll_interval_s=0.05)


def _open_compare(qtbot, open_window, tmp_path, fast_polls):
    store = make_project(tmp_path / "p", ["a lighthouse in a storm"], duration=8.0, resolution=None)
    window = open_window(store.folder, fast_polls)
    assert len(render_and_wait(qtbot, window).done) == 1  # the Animatic take the user has now
    tab = window.video_tab
    qtbot.mouseClick(tab.compare_button, Qt.LeftButton)  # Compare… beside the render controls
    dialog = tab._compare_dialog
    assert dialog.isVisible() and dialog.scene.currentData() == window.session.project.scenes[0].id
    choose(dialog.side_a, VEO_SIDE)
    choose(dialog.side_b, LTX_SIDE)
    return window, dialog


def test_compare_two_providers_from_the_dialog(veo, fal, open_window, qtbot, tmp_path, fast_polls):
    window, dialog = _open_compare(qtbot, open_window, tmp_path, fast_polls)
    scene = window.session.project.scenes[0]
    animatic = scene.selected_take_id
    assert dialog.side_a.currentData() == VEO_SIDE  # Veo first, LTX-Video second where both can run

    with qtbot.waitSignal(dialog.confirmation_requested, timeout=60_000) as asked:
        assert dialog.render_both()
    confirm = asked.args[0]
    sides = dialog.runner.comparison.sides
    text = confirm.text()
    for side in sides:  # both costs, read before anything is spent
        assert f"${side.item.estimated_cost:.2f}" in text
        assert side.item.estimated_cost > 0
    assert f"${sum(s.item.estimated_cost for s in sides):.2f}" in text
    assert veo.requests() == [] and fal.requests() == []
    if SHOTS:
        confirm.resize(720, 420)
        confirm.grab().save(os.path.join(SHOTS, "compare-cost-confirm.png"))
    with qtbot.waitSignal(dialog.compared, timeout=180_000) as done:
        confirm.start_button.click()
    outcome = done.args[0]
    assert outcome.ok, (outcome.failed, outcome.error)
    result = outcome.result
    assert veo.counts()["submissions"] == 1 and fal.counts()["submissions"] == 1

    # two new takes of the scene; a comparison is not a choice: the Animatic take stays chosen
    takes = [scene.take(r.take_id) for r in result.takes]
    assert [(t.provider, t.model, t.status) for t in takes] == [("veo", FAST, "done"),
                                                                 ("ltx-video", "ltx-2-fast", "done")]
    assert scene.selected_take_id == animatic and len(scene.takes) == 3

    # the side-by-side file holds both pictures at one height
    side = probe(result.output)
    height = min(r.height for r in result.takes)
    widths = [r.width * height // r.height for r in result.takes]
    assert side.height == height and abs(side.width - sum(widths)) <= 4

    # the facts table: every fact of both takes, and what each measure means
    for n, row in enumerate(result.takes, 1):
        assert dialog.facts.cell("provider", n) == row.provider
        assert dialog.facts.cell("cost", n) == f"${row.cost:.2f}" and row.cost > 0
        assert dialog.facts.cell("resolution", n) == f"{row.width}x{row.height}"
        for fact in ("render time", "fps", "length", "audio", "sharpness", "motion", "flicker"):
            assert dialog.facts.cell(fact, n) not in ("", "-"), fact
    assert "sharpness" in dialog.facts.meanings.text() and "flicker" in dialog.facts.meanings.text()
    if SHOTS:
        dialog.resize(1280, 800)
        qtbot.waitUntil(lambda: all(c.preview.frames_shown > 2 for c in dialog.columns), timeout=30_000)
        dialog.grab().save(os.path.join(SHOTS, "compare-dialog.png"))

    # keep the second take: it becomes the scene's chosen one, and Undo gives the Animatic take back
    keep = dialog.columns[1].keep_button
    assert keep.isEnabled()
    qtbot.mouseClick(keep, Qt.LeftButton)
    assert scene.selected_take_id == result.takes[1].take_id
    assert dialog.columns[1].keep_button.text().startswith("Kept") and dialog.columns[0].keep_button.isEnabled()
    window.session.undo()
    assert scene.selected_take_id == animatic


def test_cancelling_the_confirmation_spends_nothing(veo, fal, open_window, qtbot, tmp_path, fast_polls):
    window, dialog = _open_compare(qtbot, open_window, tmp_path, fast_polls)
    with qtbot.waitSignal(dialog.confirmation_requested, timeout=60_000) as asked:
        assert dialog.render_both()
    asked.args[0].cancel_button.click()
    assert "nothing was spent" in dialog.status.text()
    assert dialog.render_button.isEnabled()
    assert veo.requests() == [] and fal.requests() == []
    assert len(window.session.project.scenes[0].takes) == 1


def test_a_side_the_service_refuses_is_named_and_the_other_can_be_kept(veo, fal, open_window, qtbot, tmp_path,
                                                                       fast_polls):
    window, dialog = _open_compare(qtbot, open_window, tmp_path, fast_polls)
    veo.inject("job", {"filtered": [REASON]})
    with qtbot.waitSignal(dialog.confirmation_requested, timeout=60_000) as asked:
        assert dialog.render_both()
    with qtbot.waitSignal(dialog.compared, timeout=180_000) as done:
        asked.args[0].start_button.click()
    outcome = done.args[0]
    assert not outcome.ok and len(outcome.failed) == 1
    veo_take, ltx_take = outcome.facts
    assert veo_take.status == "failed" and veo_take.take_id in outcome.failed
    assert "usage guidelines" in dialog.status.text() and "failed" in dialog.status.text()
    assert ltx_take.status == "done" and dialog.facts.cell("cost", 2) == f"${ltx_take.cost:.2f}"
    assert not dialog.columns[0].keep_button.isEnabled()
    qtbot.mouseClick(dialog.columns[1].keep_button, Qt.LeftButton)
    assert window.session.project.scenes[0].selected_take_id == ltx_take.take_id
    # again: the LTX take this comparison rendered is reused, only Veo is priced (and paid) anew
    assert dialog.render_button.isEnabled()
    with qtbot.waitSignal(dialog.confirmation_requested, timeout=60_000) as asked:
        assert dialog.render_both()
    again = asked.args[0]
    veo_side, ltx_side = dialog.runner.comparison.sides
    assert ltx_side.resumed and ltx_side.take_id == ltx_take.take_id and not veo_side.resumed
    assert again.plan.total_cost == pytest.approx(veo_side.item.estimated_cost) and again.plan.total_cost > 0
    again.cancel_button.click()
    assert fal.counts()["submissions"] == 1
