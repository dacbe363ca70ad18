"""Opening a project whose takes were submitted (the app closed mid-render) follows those jobs by their ids:
the take finishes, and no new take or job is created."""
from core.video.project import Take
from core.video.project_io import ProjectStore
from tests.gui.conftest import make_project


def test_opening_a_project_resumes_submitted_takes(tmp_path, qtbot, open_window):
    store = make_project(tmp_path / "p", ["a lighthouse", "a fox"])
    scene = store.project.scenes[0]
    layered = store.project.scene_settings(scene)
    take = Take(provider="animatic", settings=layered.settings.model_dump(mode="json"), status="submitted",
                remote_job_id="animatic-before-close", request=layered.model_dump(mode="json"))
    scene.takes.append(take)
    store.save()

    window = open_window(store.folder)
    # the resume is planned off the GUI thread, then followed on the loop thread
    qtbot.waitUntil(lambda: window.session.project.scenes[0].takes[0].status == "done", timeout=60_000)
    qtbot.waitUntil(lambda: not window.video_tab.busy(), timeout=60_000)
    reloaded = ProjectStore.open(store.folder).project
    resumed = reloaded.scenes[0]
    assert len(resumed.takes) == 1 and resumed.takes[0].status == "done"
    assert resumed.takes[0].remote_job_id == "animatic-before-close"
    assert resumed.selected_take_id == take.id
    assert reloaded.scenes[1].takes == []  # the resume renders nothing that was not submitted
    assert "Resuming 1 job" in window.video_tab.console.visible_text()
