"""Chains of scenes through the real render queue: a scene that extends another waits for its clip, runs with it as
its video to extend (the fal fake receives the parent's clip), stops with a clear status when its parent fails, is
priced before the run, goes stale when its parent is rendered again, and keeps its order across a SIGKILL."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import InvalidRequestError
from core.render.queue import RenderQueue
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.scene_edits import DeleteScenes, EditHistory, MoveScene, SetSceneField, SetSceneVideoInput
from providers import registry
from tests.cli_helpers import ROOT, cli_env, run_json
from tests.test_crash_resume import PLUGIN
from tests.test_ltx_support import FAST, fal  # noqa: F401  (the fal fake fixture)


def chained_project(tmp_path, *, provider="animatic", **render) -> tuple[ProjectStore, list[Scene]]:
    """Scene 1; scene 2 extends scene 1; scene 3 stands alone."""
    store = ProjectStore.create(tmp_path / "proj", name="chains")
    store.project.render = store.project.render.updated(provider=provider, **render)
    one = Scene(prompt="a red fox runs through snow", duration=1.0)
    two = Scene(prompt="the fox stops and looks back", duration=1.0, extend_scene_id=one.id)
    three = Scene(prompt="a lake at dawn", duration=1.0)
    store.project.scenes += [one, two, three]
    store.save()
    return store, [one, two, three]


def run(store: ProjectStore, events: list, settings: Settings = None, **kw):
    queue = RenderQueue(store, settings or Settings(**FAST), provider_getter=registry.get, on_event=events.append)
    return asyncio.run(queue.run(**kw))


def kinds(events, scene) -> list[str]:
    return [f"{e.kind}:{e.message}" if e.kind == "queued" else e.kind for e in events
            if e.scene_id == scene.id and e.kind not in ("progress", "log")]


def test_the_child_waits_for_its_parent_and_independent_scenes_run_meanwhile(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    events: list = []
    summary = run(store, events)
    assert summary.ok and sorted(summary.done) == sorted(s.id for s in (one, two, three))
    order = [(e.kind, e.scene_id) for e in events if e.kind in ("submitted", "done")]
    assert order.index(("submitted", two.id)) > order.index(("done", one.id))  # after its parent's clip exists
    assert order.index(("submitted", three.id)) < order.index(("done", one.id))  # the free scene did not wait
    assert kinds(events, two)[0] == "queued:waiting for scene 1"
    # the child's take names the parent's clip it extended: the parent rendered again makes it stale
    queue = RenderQueue(store, Settings(), provider_getter=registry.get)
    assert [i.skip_reason for i in queue.plan().items] == ["already rendered with these settings"] * 3
    run(store, [], scene_ids=[one.id], force=True)
    again = RenderQueue(store, Settings(), provider_getter=registry.get).plan()
    assert [bool(i.skip_reason) for i in again.items] == [True, False, True]
    assert again.items[1].after_scene_id is None  # the parent's new clip is there: nothing to wait for


def test_the_fal_child_is_sent_its_parents_clip_and_priced_before_the_run(tmp_path, fal):
    store, (one, two, three) = chained_project(tmp_path, provider="ltx-video", model="ltx-2-19b",
                                               deployment="fal", resolution="480p", fps=24)
    store.project.scenes.remove(three)
    store.save()
    queue = RenderQueue(store, Settings(**FAST), provider_getter=registry.get)
    plan = queue.plan()
    child = plan.items[1]
    assert child.after_scene_id == one.id and child.estimated_cost > 0
    assert plan.total_cost == pytest.approx(plan.items[0].estimated_cost + child.estimated_cost)
    assert fal.counts["submissions"] == 0  # pricing sends nothing
    # priced from the facts of the clip the parent's plan makes: no file is made for it, in the project or elsewhere
    request, parent_plan = child.plan.request, plan.items[0].plan
    assert request.extend_video == store.folder / f"clips/{one.id}_{plan.items[0].take_id}.mp4"
    assert not request.extend_video.exists() and request.pending_video.path == request.extend_video
    assert (request.pending_video.width, request.pending_video.height) == (parent_plan.width, parent_plan.height)
    assert request.pending_video.seconds == parent_plan.expected_seconds

    events: list = []
    summary = asyncio.run(queue.run(plan=plan))
    assert summary.ok, summary
    paths = [r["path"] for r in fal.requests if r["method"] == "POST"]
    assert paths == ["/fal-ai/ltx-2-19b/text-to-video", "/fal-ai/ltx-2-19b/extend-video"]
    body = fal.requests[-1]["body"]
    parent_clip = store.resolve(one.selected_take.clip_path)
    assert fal.resolve(body["video_url"]) == parent_clip.read_bytes()  # the parent's clip, byte for byte
    child_take = two.selected_take
    assert child_take.status == "done" and child_take.cost > 0
    assert len(store.project.ledger) == 2 and store.project.total_cost == pytest.approx(summary.total_cost)
    del events


def test_a_failed_parent_stops_its_children_without_submitting(tmp_path, fal):
    store, (one, two, three) = chained_project(tmp_path, provider="ltx-video", model="ltx-2-19b",
                                               deployment="fal", resolution="480p", fps=24)
    grandchild = Scene(prompt="snow falls on the fox", duration=1.0, extend_scene_id=two.id)
    store.project.scenes.append(grandchild)
    store.save()
    fal.inject("submit", {"status": 400, "json": {"detail": "the prompt was refused"}})
    events: list = []
    summary = run(store, events)
    assert one.id in summary.failed and three.id in summary.done
    assert summary.failed[two.id] == "waiting for scene 1, which failed"
    assert summary.failed[grandchild.id] == "waiting for scene 2, which failed"
    for scene, parent in ((two, 1), (grandchild, 2)):
        take = scene.latest_take()
        assert (take.status, take.error, take.remote_job_id, take.cost) == \
            ("failed", f"waiting for scene {parent}, which failed", None, 0.0)
        assert kinds(events, scene)[-1] == "failed"
    assert fal.counts["submissions"] == 1  # scene 3 only: nothing was sent for the chain
    saved = ProjectStore.open(store.folder).project
    assert saved.scenes[1].latest_take().error == "waiting for scene 1, which failed"


def test_a_cancelled_parent_stops_its_child(tmp_path, fal):
    store, (one, two, three) = chained_project(tmp_path, provider="ltx-video", model="ltx-2-19b",
                                               deployment="fal", resolution="480p", fps=24)
    fal.never_finish = True
    events: list = []

    async def go():
        queue = RenderQueue(store, Settings(**FAST), provider_getter=registry.get, on_event=events.append)
        running = asyncio.ensure_future(queue.run())
        while not one.takes or not one.takes[-1].remote_job_id or not three.takes or \
                not three.takes[-1].remote_job_id:
            await asyncio.sleep(0)  # until both free scenes' jobs exist (no timing: the loop's own turns)
        queue.cancel(one.id)
        fal.never_finish = False
        return await running

    summary = asyncio.run(go())
    assert one.id in summary.cancelled and three.id in summary.done
    assert summary.failed == {two.id: "waiting for scene 1, which was cancelled"}
    assert two.latest_take().status == "failed" and fal.counts["cancels"] == 1


def test_veo_reads_the_size_of_the_parents_clip_to_come_from_its_plan(tmp_path):
    store, (one, two, three) = chained_project(tmp_path, provider="veo", model="veo-3.1-fast-generate-001",
                                               deployment="vertex", resolution="720p")
    before = sorted(p.relative_to(store.folder) for p in store.folder.rglob("*"))
    plan = RenderQueue(store, Settings(), provider_getter=registry.get).plan([one.id, two.id])
    child = plan.items[1]
    assert child.after_scene_id == one.id and child.plan.mode == "extend"
    assert (child.plan.width, child.plan.height) == (plan.items[0].plan.width, plan.items[0].plan.height)
    assert child.plan.expected_seconds == pytest.approx(plan.items[0].plan.expected_seconds + 7)
    assert sorted(p.relative_to(store.folder) for p in store.folder.rglob("*")) == before  # nothing written
    # a parent rendering at 1080p: Veo's limit on the clip to extend is found before the run, from the facts
    one.render = one.render.updated(resolution="1080p")
    with pytest.raises(InvalidRequestError) as err:
        RenderQueue(store, Settings(), provider_getter=registry.get).plan([one.id, two.id])
    assert "is 1920x1080; Veo extends clips of at most 720p" in str(err.value)


def test_a_parent_outside_the_run_without_a_clip_is_a_problem_before_anything_is_spent(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    queue = RenderQueue(store, Settings(), provider_getter=registry.get)
    with pytest.raises(InvalidRequestError) as err:
        queue.plan([two.id, three.id])
    assert "scene 2 extends scene 1, which has no clip: render scene 1 first or include it" in str(err.value)
    assert not two.takes and not three.takes
    run(store, [], scene_ids=[one.id])
    plan = RenderQueue(store, Settings(), provider_getter=registry.get).plan([two.id])
    assert plan.items[0].after_scene_id is None and plan.items[0].plan.request.extend_video == \
        store.resolve(one.selected_take.clip_path)


def test_links_refuse_loops_and_removing_the_parent_clears_the_link_undoably(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    history = EditHistory(store.project)
    with pytest.raises(InvalidRequestError) as err:
        history.push(SetSceneField(one.id, "extend_scene_id", two.id))
    assert "scene 1 cannot extend scene 2: that makes a loop (scene 1 -> scene 2 -> scene 1)" in str(err.value)
    with pytest.raises(InvalidRequestError, match="cannot extend itself"):
        history.push(SetSceneField(three.id, "extend_scene_id", three.id))
    with pytest.raises(InvalidRequestError, match="no scene with id 'nope'"):
        history.push(SetSceneField(three.id, "extend_scene_id", "nope"))
    assert one.extend_scene_id is None and three.extend_scene_id is None
    history.push(SetSceneField(three.id, "extend_scene_id", two.id))  # a longer chain is fine
    with pytest.raises(InvalidRequestError, match="loop"):
        history.push(SetSceneField(one.id, "extend_scene_id", three.id))

    history.push(MoveScene(two.id, 2))  # moving keeps the link (it names the scene, not the place)
    assert two.extend_scene_id == one.id
    edit = history.push(DeleteScenes([one.id]))
    assert edit.text == "Delete scene (scene 3 no longer extends it)" and two.extend_scene_id is None
    history.undo()
    assert two.extend_scene_id == one.id and store.project.scenes[0] is one


def test_one_video_input_at_a_time(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    history = EditHistory(store.project)
    with pytest.raises(InvalidRequestError, match="takes no extend_video"):
        history.push(SetSceneField(two.id, "extend_video", "clips/x.mp4"))
    history.push(SetSceneVideoInput(two.id, extend_video="clips/x.mp4"))
    assert (two.extend_scene_id, two.extend_video) == (None, "clips/x.mp4")
    history.push(SetSceneVideoInput(two.id, extend_scene_id=one.id))
    assert (two.extend_scene_id, two.extend_video) == (one.id, None)
    history.undo()
    assert (two.extend_scene_id, two.extend_video) == (None, "clips/x.mp4")
    with pytest.raises(InvalidRequestError, match="one video"):
        SetSceneVideoInput(two.id, extend_scene_id=one.id, source_video="clips/y.mp4")


def test_a_hand_made_loop_is_a_problem_not_a_hang(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    data = json.loads((store.folder / "project.json").read_text())
    data["scenes"][0]["extend_scene_id"] = two.id  # 1 -> 2 -> 1, as no edit would allow
    (store.folder / "project.json").write_text(json.dumps(data))
    loaded = ProjectStore.open(store.folder)
    with pytest.raises(InvalidRequestError) as err:
        RenderQueue(loaded, Settings(), provider_getter=registry.get).plan()
    assert "makes a loop" in str(err.value)


def test_a_link_to_a_scene_removed_elsewhere_is_a_problem(tmp_path):
    store, (one, two, three) = chained_project(tmp_path)
    store.project.scenes.remove(one)  # as a merge with another process's removal can leave it
    with pytest.raises(InvalidRequestError) as err:
        RenderQueue(store, Settings(), provider_getter=registry.get).plan()
    assert f"scene 1 extends a scene that was removed ({one.id}): choose another scene or none" in str(err.value)


def start_jobserver(tmp_path: Path, latency: float) -> tuple[subprocess.Popen, str]:
    """The loopback job server on the run's state file (jobs survive a restart of the server)."""
    port_file = tmp_path / f"port-{latency:g}"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.jobserver", "--state", str(tmp_path / "jobs.json"),
                             "--latency", str(latency), "--port-file", str(port_file)], cwd=ROOT, env=cli_env())
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():  # the port, once the server listens
        assert proc.poll() is None and time.monotonic() < deadline, "job server did not start"
        time.sleep(0.02)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


def test_sigkill_while_the_parent_renders_then_resume_keeps_the_order(tmp_path):
    # the parent's job never finishes on this server: the kill always lands while the parent renders, however
    # late this test reads the CLI's output (a job that finished meanwhile let the child start before the kill)
    server, url = start_jobserver(tmp_path, latency=86400)
    config = tmp_path / "config"
    config.mkdir()
    env = cli_env(IMAGEAI_PROVIDER_PLUGINS=PLUGIN, JOBSERVER_URL=url, IMAGEAI_CONFIG_DIR=str(config))
    proj = tmp_path / "proj"
    try:
        run_json("project", "new", proj, "--provider", "jobs", "--resolution", "480p", env=env)
        run_json("project", "add-scene", proj, "-p", "parent", "--duration", "1", env=env)
        run_json("project", "add-scene", proj, "-p", "child", "--duration", "1", "--extend-scene", "previous",
                 env=env)
        cli = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "render", str(proj)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        said = []
        for line in cli.stderr:  # the parent's job id is saved once "submitted" is printed
            said.append(line)
            if line.startswith("scene 1: submitted"):
                break
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        cli.stderr.close()
    finally:
        server.kill()
        server.wait()
    killed = ProjectStore.open(proj).project
    assert killed.scenes[0].takes[-1].remote_job_id, said
    assert not killed.scenes[1].takes, said  # the child never started

    server, url = start_jobserver(tmp_path, latency=0.01)  # the same jobs, finished now
    try:
        out = run_json("project", "render", proj, env={**env, "JOBSERVER_URL": url}, timeout=120)
    finally:
        server.kill()
        server.wait()
    assert [r["status"] for r in out["scenes"]] == ["done", "done"], out
    jobs = json.loads((tmp_path / "jobs.json").read_text())["jobs"]
    assert [j["request"]["prompt"] for j in jobs.values()] == ["parent", "child"]  # one job each, the parent's first


def gray_frame(path: Path, at: float) -> bytes:
    """One frame at `at` seconds, 32x18 grey, for comparing pictures across encodes."""
    from core.video.media import ffmpeg_exe
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
                          "-s", "32x18", "-pix_fmt", "gray", "-f", "rawvideo", "-"], capture_output=True, check=True)
    assert len(out.stdout) == 32 * 18, out.stderr
    return out.stdout


def differs(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_the_export_shows_the_new_part_of_an_extension_that_came_back_with_its_source(tmp_path, fal, direction):
    from core.video.exporter import export_project
    from core.video.media import probe
    store, (one, two, three) = chained_project(tmp_path, provider="ltx-video", model="ltx-2-19b",
                                               deployment="fal", resolution="480p", fps=24)
    two.render = two.render.updated(options={"extend_direction": direction})
    store.save()
    summary = run(store, [])
    assert summary.ok, summary
    source = probe(store.resolve(one.selected_take.clip_path)).duration
    child_clip = store.resolve(two.selected_take.clip_path)
    new_part = fal.jobs[max(fal.jobs, key=lambda j: fal.jobs[j]["t0"])]["seconds"] - source
    assert probe(child_clip).duration == pytest.approx(source + new_part, abs=0.1)  # the fake returns both
    start = source if direction == "forward" else 0.0
    assert two.selected_take.scene_start_s == pytest.approx(start, abs=1e-3)
    assert ProjectStore.open(store.folder).project.scenes[1].selected_take.scene_start_s == \
        two.selected_take.scene_start_s  # saved

    result = export_project(store)
    assert probe(result.output_path).duration == pytest.approx(3.0, abs=0.1)  # the sum of the scenes' lengths
    for t in (0.25, 0.75):  # the child's scene is seconds 1-2 of the export
        shown = gray_frame(result.output_path, 1.0 + t)
        wrong = source + t if direction == "backward" else t  # the other part of the clip
        assert differs(shown, gray_frame(child_clip, start + t)) < 4 < differs(shown, gray_frame(child_clip, wrong))


def test_a_scene_extending_a_video_file_exports_only_its_new_part(tmp_path, fal):
    from core.video.exporter import export_project
    from core.video.media import probe
    from tests.fakes.clips import write_clip
    store, (one, two, three) = chained_project(tmp_path, provider="ltx-video", model="ltx-2-19b",
                                               deployment="fal", resolution="480p", fps=24)
    write_clip(store.folder / "clips" / "source.mp4", 2.0, 24)
    two.extend_scene_id, two.extend_video = None, "clips/source.mp4"
    store.save()
    assert run(store, []).ok
    assert two.selected_take.scene_start_s == pytest.approx(2.0, abs=0.05)  # after the 2 s of source footage
    assert probe(export_project(store).output_path).duration == pytest.approx(3.0, abs=0.1)


def test_every_export_pass_seeks_each_clip_to_its_scenes_part(tmp_path):
    from core.video import ffmpeg_command as fc
    from core.video.export import ExportSettings, TransitionSpec
    from core.video.media import MediaInfo
    from core.video.timeline import plan_timeline
    clips = [MediaInfo(path=tmp_path / n, duration=1.0, width=320, height=180, fps=24.0, has_video=True,
                       has_audio=True) for n in ("a.mp4", "b.mp4")]
    settings = ExportSettings()
    tl = plan_timeline(settings, clips, [TransitionSpec(kind="fade", duration=0.25)], starts=[0.0, 2.0])
    window, body = [s for s in tl.segments() if s.clip == 1]
    fx = fc.EffectInputs()

    def seeks(cmd) -> list[tuple]:  # (the -ss before it or None, the file) for each input
        out, seek = [], None
        for i, a in enumerate(cmd.args):
            if a == "-ss":
                seek = cmd.args[i + 1]
            elif a == "-i":
                out.append((seek, cmd.args[i + 1]))
                seek = None
        return out

    a, b = str(clips[0].path), str(clips[1].path)
    one = fc.build_segment_pass("ffmpeg", 6, settings, clips, tl, window, fx, "h264", "mp4", tmp_path / "w.mp4",
                                tmp_path / "g.txt")
    assert seeks(one) == [("0.75", a), ("2", b)]  # the outgoing clip's tail, the incoming clip's part
    own = fc.build_segment_pass("ffmpeg", 6, settings, clips, tl, body, fx, "h264", "mp4", tmp_path / "b.mp4",
                                tmp_path / "g.txt")
    assert seeks(own) == [("2.25", b)]  # its part, after the window
    whole = fc.build_timeline_pass("ffmpeg", 6, settings, clips, tl, fx, "h264", "mp4", tmp_path / "s%d.mp4",
                                   tmp_path / "g.txt", [])
    assert seeks(whole) == [(None, a), ("2", b)]
    audio = fc.build_audio_pass("ffmpeg", 6, settings, clips, tl, fx, "aac", tmp_path / "a.txt", tmp_path / "a.mka")
    assert seeks(audio) == [(None, a), ("2", b)]
