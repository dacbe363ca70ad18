"""One writer at a time per project across processes, merge on save, the render lease and output paths.

Real processes (python snippets using ProjectStore, and `main.py project ...`) write one project folder at once;
what each reported as saved must be in the file afterwards."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.errors import InvalidRequestError, ProjectLockedError, UnavailableError
from core.video.project import LedgerEntry, Scene, Take
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from core.video.scene_edits import EditHistory, SetSceneField
from tests.cli_helpers import ROOT, cli_env, run_cli, run_json


def child(code: str, *args) -> subprocess.Popen:
    """A python process running `code` with this repository importable; talks over stdin/stdout lines."""
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=cli_env(), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def expect_line(proc: subprocess.Popen, want: str) -> str:
    line = proc.stdout.readline().strip()
    if line != want:
        proc.kill()
        raise AssertionError(f"child said {line!r}, expected {want!r}; stderr: {proc.stderr.read()}")
    return line


def tell(proc: subprocess.Popen, text: str = "go") -> None:
    proc.stdin.write(text + "\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def project(tmp_path) -> ProjectStore:
    store = ProjectStore.create(tmp_path / "proj", "shared", lock_wait_s=30)
    store.project.render = RenderSettings(provider="animatic", resolution="480p")
    store.project.scenes += [Scene(prompt="first", duration=1), Scene(prompt="second", duration=1)]
    store.save()
    return store


def prompts(folder: Path) -> list[str]:
    return [s.prompt for s in ProjectStore.open(folder).project.scenes]


# --- processes saving at once ---------------------------------------------------------------------------------
ADDER = """
import sys
from core.video.project_io import ProjectStore
from core.video.project import Scene
store = ProjectStore.open(sys.argv[1], lock_wait_s=60)  # one copy, kept for the whole run: it goes stale
tag, n = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    store.project.scenes.append(Scene(prompt=f"{tag}-{i}"))
    store.save()
print(len(store.project.scenes), flush=True)
"""


def test_processes_saving_at_once_never_lose_a_scene(project):
    a, b = child(ADDER, project.folder, "a", 20), child(ADDER, project.folder, "b", 20)
    expect_line(a, "ready")
    expect_line(b, "ready")
    tell(a)
    tell(b)
    # meanwhile the real CLI adds scenes too, each from its own fresh read
    added = [run_json("project", "add-scene", project.folder, "-p", f"cli-{i}", "--duration", "1")
             for i in range(3)]
    finish(a), finish(b)
    assert all(r for r in added)
    got = prompts(project.folder)
    want = {"first", "second"} | {f"{t}-{i}" for t in "ab" for i in range(20)} | {f"cli-{i}" for i in range(3)}
    assert sorted(got) == sorted(want)  # every scene once: none lost, none doubled
    assert got[:2] == ["first", "second"]
    # each process's own scenes stay in the order it added them
    for tag in "ab":
        assert [p for p in got if p.startswith(f"{tag}-")] == [f"{tag}-{i}" for i in range(20)]


HOLD_WRITE = """
import sys
import core.video.project_io as io
from core.video.project_io import ProjectStore
def stuck(*a, **k):  # the save holds the write lock and never finishes
    print("holding", flush=True)
    sys.stdin.readline()
io.atomic_write_bytes = stuck
store = ProjectStore.open(sys.argv[1])
store.project.name = "never written"
store.save()
"""


def test_a_writer_killed_mid_save_releases_the_lock(project):
    holder = child(HOLD_WRITE, project.folder)
    expect_line(holder, "holding")
    project.lock_wait_s = 0.2
    project.project.name = "mine"
    with pytest.raises(ProjectLockedError) as err:
        project.save()
    msg = str(err.value)
    assert f"pid {holder.pid}" in msg and "being saved" in msg and socket.gethostname() in msg, msg
    assert "python" in msg and "-c" in msg, msg  # its command line, short
    assert err.value.kind == "project_locked" and err.value.exit_code == 3
    assert isinstance(err.value, UnavailableError)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    project.save()  # the OS released the dead process's lock
    reopened = ProjectStore.open(project.folder).project
    assert reopened.name == "mine" and [s.prompt for s in reopened.scenes] == ["first", "second"]


HOLD_RENDER = """
import sys
from core.video.project_io import ProjectStore
from core.video.project import Take
store = ProjectStore.open(sys.argv[1])
with store.render_lock():
    print("rendering", flush=True)
    sys.stdin.readline()
    take = Take(provider="animatic", status="done", remote_job_id="job-from-the-first-render")
    store.project.scenes[0].takes.append(take)
    store.save()
print("released", flush=True)
"""


def test_second_render_waits_then_names_the_holder(project):
    holder = child(HOLD_RENDER, project.folder)
    expect_line(holder, "rendering")
    with pytest.raises(ProjectLockedError) as err:
        with project.render_lock(wait_s=0.2):
            raise AssertionError("a second render must not start")
    msg = str(err.value)
    assert msg.startswith(f"project {project.folder} is being rendered by pid {holder.pid} (python"), msg
    assert f"on {socket.gethostname()} since " in msg, msg
    # saves are not blocked by a render: only the write lock serializes them
    project.project.name = "saved during the render"
    project.save()

    seen: list[dict] = []

    def waiting(info):  # called once, when the lock is found busy: the holder may finish now
        seen.append(info)
        tell(holder, "done")

    with project.render_lock(wait_s=60, on_wait=waiting):
        with project.render_lock(wait_s=0):  # re-entered on the same thread (CLI and queue both take it)
            pass
        # the render that waited plans from what the first one saved: its job is not submitted again
        assert [t.remote_job_id for t in project.project.scenes[0].takes] == ["job-from-the-first-render"]
    assert len(seen) == 1 and seen[0]["pid"] == holder.pid and seen[0]["doing"] == "rendered"
    assert finish(holder).strip() == "released"
    assert project.project.name == "saved during the render"


def test_cli_render_refused_while_another_render_runs(project, isolated_config):
    (isolated_config / "settings.json").write_text(json.dumps({"project_lock_wait_s": 0.2}))
    holder = child(HOLD_RENDER, project.folder)
    expect_line(holder, "rendering")
    proc = run_cli("project", "render", project.folder)
    tell(holder)
    finish(holder)
    assert proc.returncode == 3, proc.stderr
    assert f"pid {holder.pid}" in proc.stderr and "being rendered" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    takes = [t.remote_job_id for s in ProjectStore.open(project.folder).project.scenes for t in s.takes]
    assert takes == ["job-from-the-first-render"]  # the refused render submitted nothing


# --- merge on save --------------------------------------------------------------------------------------------
def test_add_scene_during_a_stale_copy_both_survive(project):
    stale = ProjectStore.open(project.folder)
    stale.project.scenes[0].prompt = "first, edited in the stale copy"
    added = run_json("project", "add-scene", project.folder, "-p", "added by the CLI", "--duration", "1")
    assert added
    stale.save()
    assert prompts(project.folder) == ["first, edited in the stale copy", "second", "added by the CLI"]
    assert [s.prompt for s in stale.project.scenes][-1] == "added by the CLI"  # merged into memory too


APPEND_TAKE = """
import sys
from core.video.project_io import ProjectStore
from core.video.project import LedgerEntry, Take
store = ProjectStore.open(sys.argv[1])
scene = store.project.scenes[0]
take = Take(provider="animatic", status="done", remote_job_id="job-77", clip_path="clips/s1.mp4", cost=0.5)
scene.takes.append(take)
scene.selected_take_id = take.id
store.project.ledger.append(LedgerEntry(take_id=take.id, scene_id=scene.id, provider="animatic", cost=0.5))
store.save()
print(take.id, flush=True)
"""


@pytest.mark.parametrize("how", ["save", "autosave"])
def test_gui_edit_saved_after_another_process_appended_a_take(project, how):
    gui = ProjectStore.open(project.folder)
    history = EditHistory(gui.project, lock=gui.lock)
    scene_id = gui.project.scenes[0].id
    history.push(SetSceneField(scene_id, "prompt", "a better prompt"))
    snapshot = gui.snapshot()  # autosave: the snapshot is taken before the other process writes
    take_id = finish(child(APPEND_TAKE, project.folder)).strip()
    if how == "save":
        gui.save()
    else:
        gui.write_snapshot(snapshot)
    saved = ProjectStore.open(project.folder).project
    scene = saved.scene(scene_id)
    assert scene.prompt == "a better prompt"
    assert [t.id for t in scene.takes] == [take_id] and scene.takes[0].remote_job_id == "job-77"
    assert scene.selected_take_id == take_id and saved.total_cost == 0.5
    assert gui.project.scene(scene_id).selected_take.clip_path == "clips/s1.mp4"  # the GUI's copy has it too


def test_merge_mutates_the_objects_the_render_queue_holds(project):
    render = ProjectStore.open(project.folder)
    scenes, scene = render.project.scenes, render.project.scenes[0]
    take = Take(provider="animatic", status="submitted", remote_job_id="job-1")
    scene.takes.append(take)
    takes = scene.takes
    render.save()
    other = ProjectStore.open(project.folder)
    other.project.scenes.insert(0, Scene(prompt="inserted first"))
    other.project.scenes[1].takes[0].status = "done"  # e.g. a resumed run finished it
    other.save()
    take.status = "running"  # the queue moves on with a stale copy
    render.save()
    assert render.project.scenes is scenes and render.project.scenes[1] is scene and scene.takes is takes
    assert scene.takes[0] is take and take.status == "done" and take.remote_job_id == "job-1"
    assert [s.prompt for s in scenes] == ["inserted first", "first", "second"]


def test_merge_rules_for_scenes_takes_ledger_and_settings(project):
    ours, theirs = ProjectStore.open(project.folder), ProjectStore.open(project.folder)
    first, second = (s.id for s in ours.project.scenes)
    ours.project.scenes.append(Scene(prompt="third"))
    third = ours.project.scenes[-1].id
    ours.save()
    theirs.save()  # theirs merges ours in first, like any writer
    theirs_take = Take(provider="animatic", status="done", clip_path="clips/t.mp4")
    theirs.project.scene(second).takes.append(theirs_take)
    theirs.project.scene(second).selected_take_id = theirs_take.id
    theirs.project.ledger.append(LedgerEntry(take_id=theirs_take.id, scene_id=second, provider="animatic", cost=1))
    del theirs.project.scenes[2]  # theirs deletes "third"; ours will change it: kept
    del theirs.project.scenes[0]  # theirs deletes "first"; ours leaves it alone: removed
    theirs.project.render = theirs.project.render.updated(fps=30)
    theirs.project.name = "their name"
    theirs.save()

    ours.project.scene(third).prompt = "third, changed here"
    ours.project.render = ours.project.render.updated(seed=7)
    ours_take = Take(provider="animatic", status="failed")
    ours.project.scene(second).takes.append(ours_take)
    ours.project.ledger.append(LedgerEntry(take_id=ours_take.id, scene_id=second, provider="animatic", cost=2))
    ours.save()

    saved = ProjectStore.open(project.folder).project
    assert [s.id for s in saved.scenes] == [second, third]
    assert saved.scene(third).prompt == "third, changed here"
    assert [t.id for t in saved.scene(second).takes] == [theirs_take.id, ours_take.id]
    assert saved.scene(second).selected_take_id == theirs_take.id  # we did not change the selection
    assert saved.total_cost == 3  # both ledger entries
    assert saved.render.fps == 30 and saved.render.seed == 7 and saved.render.resolution == "480p"  # per key
    assert saved.name == "their name"
    report = ours.last_merge
    assert report.scenes_removed == [first] and report.scenes_kept == [third]


def test_both_changed_one_field_this_process_wins_and_a_new_order_is_kept(project):
    ours, theirs = ProjectStore.open(project.folder), ProjectStore.open(project.folder)
    theirs.project.scenes.reverse()
    theirs.project.scenes[0].prompt = "second, theirs"
    theirs.project.scenes[1].title = "title from theirs"
    theirs.save()
    ours.project.scenes[1].prompt = "second, ours"
    ours.save()
    saved = ProjectStore.open(project.folder).project
    assert [s.prompt for s in saved.scenes] == ["second, ours", "first"]  # their order, our prompt
    assert saved.scenes[1].title == "title from theirs"


def test_an_unreadable_file_from_elsewhere_is_kept_aside_and_ours_written(project):
    ours = ProjectStore.open(project.folder)
    ours.project.name = "still fine"
    garbage = b"{" * 200_000
    project.path.write_bytes(garbage)  # an editor or a broken tool wrote it
    ours.save()
    assert ProjectStore.open(project.folder).project.name == "still fine"
    assert (project.folder / "project.json.unreadable").read_bytes() == garbage


def test_a_stale_autosave_snapshot_never_overwrites_a_newer_save(project):
    store = ProjectStore.open(project.folder)
    snapshot = store.snapshot()
    take = Take(provider="animatic", status="submitted", remote_job_id="job-paid")
    store.project.scenes[0].takes.append(take)
    store.save()  # the render queue saves the job id on another thread
    store.write_snapshot(snapshot)  # the autosave worker then writes its older snapshot
    saved = ProjectStore.open(project.folder).project
    assert saved.scenes[0].takes[0].remote_job_id == "job-paid"


def test_threads_with_their_own_stores_of_one_folder_take_turns(project):
    errors: list[BaseException] = []

    def add(tag: str) -> None:
        try:
            store = ProjectStore.open(project.folder, lock_wait_s=60)
            for i in range(10):
                store.project.scenes.append(Scene(prompt=f"{tag}{i}"))
                store.save()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(prompts(project.folder)) == 22


# --- output paths ---------------------------------------------------------------------------------------------
def test_output_paths_stay_inside_the_project(project, tmp_path):
    assert project.output_path("clips/a.mp4") == project.folder / "clips" / "a.mp4"
    for bad in ("../outside.mp4", "/tmp/x.mp4", "clips/../../x.mp4"):
        with pytest.raises(InvalidRequestError) as err:
            project.output_path(bad)
        assert bad in str(err.value) and "output path" in str(err.value)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project.folder / "clips").rmdir()
    (project.folder / "clips").symlink_to(elsewhere)
    with pytest.raises(InvalidRequestError) as err:
        project.output_path("clips/a.mp4")
    assert "clips/a.mp4" in str(err.value) and str(elsewhere) in str(err.value)
    with pytest.raises(InvalidRequestError):
        project.check_writable("clips")
    assert not list(elsewhere.iterdir())  # nothing was written through the link


def test_check_writable(project):
    assert project.check_writable("exports/renders") == project.folder / "exports" / "renders"
    assert not list((project.folder / "exports" / "renders").iterdir())  # the probe file is gone
    (project.folder / "blocked").write_text("a file where a folder should be")
    with pytest.raises(UnavailableError) as err:
        project.check_writable("blocked/clips")
    assert "blocked" in str(err.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not stop root")
def test_check_writable_read_only_folder(project):
    clips = project.folder / "clips"
    clips.chmod(0o555)
    try:
        with pytest.raises(UnavailableError):
            project.check_writable("clips")
    finally:
        clips.chmod(0o755)
