"""The estimate and the cost confirmation: planned off the GUI thread (prepare decodes images and probes videos),
shown with the plan's adjustments and ignored settings beside the cost, and the run uses that very plan (no second
prepare). A render of a project another process is rendering is refused with the holder named."""
from __future__ import annotations

import threading

from core.video.project import Keyframe, Scene
from core.video.project_io import ProjectStore
from core.video.project_lock import RENDER_LOCK, ProjectLock
from core.video.render_settings import RenderSettings
from tests.gui.conftest import PICKY
from tests.gui.helpers import estimate, generate_and_confirm
from tests.media_factory import make_clip, make_image


def _project(folder, render: RenderSettings, scenes: list[Scene]) -> ProjectStore:
    store = ProjectStore.create(folder, folder.name)
    store.project.render = render
    store.project.scenes = scenes
    store.save()
    return store


def test_estimate_is_made_off_the_gui_thread(open_window, tmp_path, qtbot, monkeypatch):
    import core.video.media as media
    from providers.ltx_video import LTXVideoProvider

    folder = tmp_path / "p"
    folder.mkdir()
    make_clip(folder / "source.mp4", duration=3.0)
    make_image(folder / "key.png", 320, 180)
    scenes = [Scene(prompt="a river", duration=3.0, source_video="source.mp4"),
              Scene(prompt="more river", duration=2.0, extend_video="source.mp4"),
              Scene(prompt="a bird", duration=4.2, start_frame="key.png",
                    keyframes=[Keyframe(seconds=2.0, image="key.png")])]
    store = _project(folder, RenderSettings(provider="ltx-video", model="ltx-video-13b"), scenes)
    calls: list[tuple[str, threading.Thread]] = []
    for name in ("probe", "is_image"):
        real = getattr(media, name)
        monkeypatch.setattr(media, name, lambda *a, _r=real, _n=name, **k: calls.append(
            (_n, threading.current_thread())) or _r(*a, **k))
    real_prepare = LTXVideoProvider.prepare
    monkeypatch.setattr(LTXVideoProvider, "prepare", lambda self, request: calls.append(
        ("prepare", threading.current_thread())) or real_prepare(self, request))

    window = open_window(store.folder)
    result = estimate(qtbot, window)
    assert result.error is None, result.error
    assert len(result.plan.to_render) == 3
    names = [n for n, _ in calls]
    assert names.count("prepare") >= 3 and "probe" in names and "is_image" in names
    assert all(t is not threading.main_thread() for _, t in calls), [(n, t.name) for n, t in calls]
    modes = [i.plan.mode for i in result.plan.to_render]
    assert modes == ["video-to-video", "extend", "multi-keyframe"]


def test_cost_confirmation_lists_adjustments_and_ignored_settings(open_window, tmp_path, qtbot, monkeypatch,
                                                                  settings):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    settings.confirm_cost_above = 0.1
    store = _project(tmp_path / "p", RenderSettings(provider="ltx-video", seed=7),
                     [Scene(prompt="a lighthouse", duration=4.2), Scene(prompt="a fox", duration=6.0)])
    window = open_window(store.folder)
    tab = window.video_tab
    estimate(qtbot, window)
    # beside the cost, before anything is spent
    assert "$0.48" in tab.cost_label.text()
    beside = tab.plan_notes.toolTip()
    assert "scene 1: renders 6 s, the shortest ltx-2-fast on fal renders that covers 4.2 s; the export cuts it to " \
           "4.2 s" in beside
    assert "scenes 1, 2: ignored seed: ltx-2-fast on fal takes no seed" in beside  # one note for both
    assert tab.plan_notes.isVisible()

    text = generate_and_confirm(qtbot, window, answer=False)
    assert "will cost about $0.48" in text
    assert "scene 1: ltx-2-fast on fal, renders 6 s (cut to 4.2 s), $0.24" in text
    assert "scene 1: renders 6 s, the shortest ltx-2-fast on fal renders that covers 4.2 s" in text
    assert "scenes 1, 2: ignored seed: ltx-2-fast on fal takes no seed" in text
    assert all(not s.takes for s in window.session.project.scenes)  # cancelled: nothing submitted, nothing paid


def test_the_run_uses_the_confirmed_plan(open_window, tmp_path, qtbot, monkeypatch, settings):
    from tests.gui.picky_provider import PickyProvider

    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    settings.confirm_cost_above = 0.1
    # inherited values picky-1 does not offer or take: adjusted and ignored, and said so
    store = _project(tmp_path / "p", RenderSettings(provider="picky", resolution="1080p", camera_motion="pan_left"),
                     [Scene(prompt="one", duration=1.0), Scene(prompt="two", duration=2.0)])
    prepared = []
    real = PickyProvider.prepare
    monkeypatch.setattr(PickyProvider, "prepare",
                        lambda self, r: prepared.append(threading.current_thread().name) or real(self, r))
    window = open_window(store.folder)
    tab = window.video_tab
    with qtbot.waitSignal(tab.confirmation_requested, timeout=60_000) as blocker:
        assert tab.generate()
    dialog = blocker.args[0]
    assert "picky-1 does not offer 1080p (the project's setting); uses 720p" in dialog.text()
    assert "ignored camera_motion" in dialog.text()
    plan_takes = {i.scene_id: i.take_id for i in dialog.plan.to_render}
    with qtbot.waitSignal(tab.controller.finished, timeout=120_000) as done:
        dialog.start_button.click()
    assert len(done.args[0].done) == 2
    # every prepare was a plan's, on a plan worker (the image group's frame check asks the video model too): the
    # run prepared nothing again
    assert any(name.startswith("render-plan") for name in prepared), prepared
    assert all(name.startswith(("render-plan", "image-plan")) for name in prepared), prepared
    for scene in window.session.project.scenes:
        take = scene.selected_take
        assert take.id == plan_takes[scene.id]  # the very takes the confirmed plan named
        assert any("uses 720p" in n for n in take.notes) and take.settings["resolution"] == "720p"
    assert window.session.project.total_cost == 0.75


def test_a_render_waits_for_another_process_then_names_it(open_window, tmp_path, qtbot, settings):
    settings.project_lock_wait_s = 0.2
    store = _project(tmp_path / "p", RenderSettings(), [Scene(prompt="one", duration=1.0)])
    window = open_window(store.folder)
    tab = window.video_tab
    other = ProjectLock(store.folder, RENDER_LOCK, "rendered")  # a CLI render of the same project
    other.acquire(0)
    try:
        with qtbot.waitSignal(tab.controller.finished, timeout=60_000) as blocker:
            assert tab.generate()
        error = blocker.args[0]
        assert getattr(error, "kind", "") == "project_locked", error
    finally:
        other.release()
    console = tab.console.visible_text()
    assert "is being rendered by pid" in console and "waiting for pid" in console
    assert not window.session.project.scenes[0].takes  # nothing was submitted
    with qtbot.waitSignal(tab.controller.finished, timeout=60_000) as blocker:
        assert tab.generate()
    assert blocker.args[0].done == [window.session.project.scenes[0].id]
