"""The trial's bug: switching the window's provider to LTX-Video and back must leave the project's render settings as
they were (an unset provider and model stay unset), and a scene rendered before is then still "already rendered":
the window's estimate and `project render` from the CLI both render nothing again."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from gui.video.scene_table_model import COL
from tests.cli_helpers import run_json
from tests.gui.conftest import render_and_wait
from tests.gui.helpers import choose, estimate, widget


def _project_with_nothing_set(folder) -> ProjectStore:
    store = ProjectStore.create(folder, folder.name)
    assert store.project.render == RenderSettings()  # every value unset: the app's and the model's defaults
    store.project.scenes = [Scene(title="Scene 1", prompt="a lighthouse", duration=1.0),
                            Scene(title="Scene 2", prompt="a fox", duration=1.5)]
    store.save()
    return store


def test_switching_to_ltx_and_back_changes_nothing(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    store = _project_with_nothing_set(tmp_path / "p")
    window = open_window(store.folder)
    assert not window.session.dirty  # opening writes nothing
    before = window.session.project.render.model_copy(deep=True)
    summary = render_and_wait(qtbot, window)  # the app default provider, Animatic
    assert len(summary.done) == 2, summary
    hashes = [s.selected_take.settings_hash for s in window.session.project.scenes]

    provider = widget(window, QComboBox, "providerCombo")
    model = widget(window, QComboBox, "modelCombo")
    assert provider.currentData() == "animatic"
    choose(provider, "ltx-video")
    assert window.session.project.render.provider == "ltx-video"
    assert window.session.project.render.model is None  # "Model default (…)", not a model written for the user
    choose(model, "ltx-2-pro")
    choose(provider, "animatic")
    render = window.session.project.render
    assert render == before and render.provider is None and render.model is None  # null stays null
    # and LTX-Video's own choices come back when it is chosen again
    choose(provider, "ltx-video")
    assert window.session.project.render.model == "ltx-2-pro"
    choose(provider, "animatic")
    assert window.session.project.render == before

    # a scene given its own provider and set back to the project's is as it was too
    table_model = window.video_tab.scene_model
    assert table_model.setData(table_model.index(0, COL["Provider"]), "ltx-video", Qt.EditRole)
    assert window.session.project.scenes[0].render.provider == "ltx-video"
    assert table_model.setData(table_model.index(0, COL["Provider"]), "", Qt.EditRole)
    assert window.session.project.scenes[0].render.is_empty()

    window.video_tab.scenes.select_ids([])
    result = estimate(qtbot, window)
    assert [i.skip_reason for i in result.plan.items] == ["already rendered with these settings"] * 2
    assert "2 already rendered" in window.video_tab.cost_label.text()
    assert not window.video_tab.generate_button.isEnabled()
    assert [i.plan.settings_hash for i in result.plan.items] == hashes  # equal settings, equal hashes

    assert window.save()
    doc = run_json("project", "render", str(store.folder), "--estimate")
    assert doc["estimated_cost"] == 0
    assert [s["skip"] for s in doc["scenes"]] == ["already rendered with these settings"] * 2
    # and a real `project render` renders nothing
    again = run_json("project", "render", str(store.folder))
    assert all(s["skipped"] for s in again["scenes"]), again
    assert sum(len(s.takes) for s in ProjectStore.open(store.folder).project.scenes) == 2


def test_an_explicit_provider_stays_explicit(open_window, tmp_path, qtbot):
    store = _project_with_nothing_set(tmp_path / "p")
    store.project.render = RenderSettings(provider="animatic", resolution="480p")
    store.save()
    window = open_window(store.folder)
    provider = widget(window, QComboBox, "providerCombo")
    choose(provider, "ltx-video")
    # the universal values are the user's and stay; what belonged to Animatic does not follow
    assert window.session.project.render.resolution == "480p"
    choose(provider, "animatic")
    assert window.session.project.render == RenderSettings(provider="animatic", resolution="480p")
