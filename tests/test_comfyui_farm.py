"""A farm of fake ComfyUI servers (each like the real one: one socket per client id, a queue run in order) through
the real render queue: a server that stops answering mid-render loses no scene (its scenes finish elsewhere, each
prompt run to completion once, its own copies removed when it answers again), the CLI says which server went
down, faster servers take more scenes, and a server lacking a node or a model file is refused before anything is
submitted (CLI exit 2, naming it). A queue answer older than a submission does not free that server, and a frozen
fake keeps its port (no stranger answers for it)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from core.config import Settings
from core.video.project import Scene
from core.video.project_io import ProjectStore
from providers.ltx.comfyui_backend import ComfyUIBackend
from providers.ltx.comfyui_probe import probe_all
from providers.ltx_video import LTXVideoProvider
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import image, project, request, run_queue

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parent.parent


def farm_settings(servers: dict, **kw) -> Settings:
    kw.setdefault("poll_interval_s", 0.05)
    kw.setdefault("render_concurrency", {"comfyui": 6})
    return Settings(comfyui_servers={k: s.url for k, s in servers.items()}, **kw)


def completions(servers: dict) -> Counter:
    total: Counter = Counter()
    for s in servers.values():
        total.update(s.completions)
    return total


def test_a_server_down_mid_render_loses_no_scene(farm, tmp_path):
    down = farm["b"]
    down.freeze_at_start = 1  # it stops answering as its first prompt starts
    store = project(tmp_path, [Scene(prompt=f"scene {i}") for i in range(6)])
    events = []
    settings = farm_settings(farm, render_retries=0, render_timeout_s=90)  # no retry needed to move a scene
    summary = run_queue(store, settings, events)
    assert len(summary.done) == 6 and not summary.failed
    on_b = {e.message.split()[-1].split("@")[0] for e in events if e.kind == "submitted" and e.message.endswith("@b")}
    assert on_b and len(down.received) == len(on_b)  # the one it runs, and one waiting when placed before
    moved = [e.message for e in events if e.kind == "retry"]
    assert len(moved) == len(on_b) and all(m.startswith("ComfyUI server b went down (3 polls unanswered): this scene "
                                                 "moved to ") for m in moved), moved
    # every scene's prompt ran to completion exactly once, none on the server that went down
    takes = [s.selected_take for s in ProjectStore.open(store.folder).project.scenes]
    pids = {t.remote_job_id.split("@")[0] for t in takes}
    assert len(pids) == 6 and on_b <= pids
    assert completions(farm) == Counter({pid: 1 for pid in pids}) and not down.completions
    # each take names the server it finished on (a moved scene keeps its prompt id)
    assert all(t.remote_job_id.split("@")[1] in ("a", "c") for t in takes)
    for t in takes:
        server = farm[t.remote_job_id.split("@")[1]]
        assert server.completions[t.remote_job_id.split("@")[0]] == 1

    # a restarted app following a take that still names b finds its prompt where it moved (nothing queued again)
    pid = sorted(on_b)[0]
    received = sum(len(s.received) for s in farm.values())
    fresh = LTXVideoProvider(settings)
    plan = fresh.prepare(request(tmp_path, "again.mp4", prompt="scene again"))
    result = asyncio.run(fresh.wait(f"{pid}@b", plan))
    assert result.remote_job_id.split("@")[1] in ("a", "c") and result.remote_job_id.startswith(pid)
    assert sum(len(s.received) for s in farm.values()) == received

    # b answers again: its copies are removed before it runs them (queued: deleted; running: interrupted)
    down.thaw(run=False)
    views = asyncio.run(probe_all(settings))
    assert [v.state for v in views] == ["up", "up", "up"]
    assert down.call(lambda: [p[1] for p in down.pending]) == []
    assert set(down.deleted) | {i for i in down.interrupts if i} == on_b
    assert down.running in on_b and down.running in down.interrupts
    down.run_again()
    assert not down.completions


def test_the_cli_says_which_server_went_down(farm, tmp_path, monkeypatch):
    farm["c"].freeze_at_start = 1
    store = project(tmp_path, [Scene(prompt=f"scene {i}") for i in range(4)])
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.json").write_text(json.dumps({"poll_interval_s": 0.05, "render_concurrency": {"comfyui": 6}}))
    env = {**os.environ, "IMAGEAI_CONFIG_DIR": str(cfg),
           "IMAGEAI_COMFYUI_URL": ",".join(f"{k}={s.url}" for k, s in farm.items())}
    proc = subprocess.run([sys.executable, "main.py", "project", "render", str(store.folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    said = f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, said
    lines = [line for line in proc.stderr.splitlines() if "went down" in line]
    assert lines and all("ComfyUI server c went down (3 polls unanswered): this scene moved to " in line
                         for line in lines), said
    assert all(line.startswith("scene ") for line in lines), said
    assert sum(completions(farm).values()) == 4 and not farm["c"].completions, said
    # the CLI ended before c came back: the next process that reaches c (here the GUI's check) removes its copies
    moved = json.loads((cfg / "comfyui_moved.json").read_text())[farm["c"].url]
    assert len(moved) == len(lines) == len(farm["c"].received), (moved, said)
    monkeypatch.setenv("IMAGEAI_CONFIG_DIR", str(cfg))
    farm["c"].thaw(run=False)
    asyncio.run(probe_all(Settings(comfyui_servers={k: s.url for k, s in farm.items()})))
    assert farm["c"].call(lambda: list(farm["c"].pending)) == []
    assert set(farm["c"].deleted) | set(farm["c"].interrupts) >= set(moved)
    assert json.loads((cfg / "comfyui_moved.json").read_text()) == {}


def test_faster_servers_take_more_scenes(tmp_path):
    speeds = {"fast": 0.01, "mid": 0.04, "slow": 0.16}
    servers = {k: FakeComfyUI(step_delay=v).start() for k, v in speeds.items()}
    try:
        store = project(tmp_path, [Scene(prompt=f"scene {i}") for i in range(12)])
        summary = run_queue(store, farm_settings(servers, render_concurrency={"comfyui": 12}))
        assert len(summary.done) == 12
        got = {k: len(s.received) for k, s in servers.items()}
        assert got["fast"] > got["slow"] and sum(got.values()) == 12, got
        assert completions(servers) == Counter({pid: 1 for pid in completions(servers)})
    finally:
        for s in servers.values():
            s.stop()


def test_capacity_weights_must_be_positive():
    b = ComfyUIBackend(Settings(comfyui_servers={"a": "http://127.0.0.1:9"}, comfyui_server_weights={"a": 0}))
    assert "capacity weights must be above 0 (a=0)" in b.unavailable_reason()


@pytest.mark.parametrize("lacks, says", [
    (dict(missing_nodes=("LTXVAddGuide",)), "no node LTXVAddGuide (node "),
    (dict(checkpoints=("sdxl.safetensors",)), "no LTX checkpoint for ltx-video-2b (found: sdxl.safetensors); put "
                                              "one in ComfyUI's models/checkpoints"),
])
def test_the_cli_refuses_a_server_lacking_a_node_or_model_with_nothing_submitted(tmp_path, lacks, says):
    server = FakeComfyUI(**lacks).start()
    try:
        start, end = image(tmp_path, "s.png", (9, 9, 9)), image(tmp_path, "e.png", (99, 9, 9))
        env = {**os.environ, "IMAGEAI_COMFYUI_URL": server.url, "IMAGEAI_CONFIG_DIR": str(tmp_path / "cfg")}
        proc = subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui",
                               "--model", "ltx-video-2b", "--image", str(start), "--end-image", str(end), "--width",
                               "64", "--height", "64", "--frames", "9", "-p", "a kite", "-o",
                               str(tmp_path / "o.mp4")], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert says in proc.stderr, proc.stderr[-2000:]
        if "missing_nodes" in lacks:
            assert "install ComfyUI-LTXVideo" in proc.stderr
        assert not server.received and not server.uploads
        assert [p for m, p in server.requests if m == "POST"] == []
    finally:
        server.stop()


def test_placement_counts_held_scenes_and_waits_for_a_measurement():
    from providers.ltx.comfyui_farm import Farm
    from providers.ltx.comfyui_servers import ComfyServer

    f = Farm()
    fast, slow = ComfyServer("fast", "http://127.0.0.1:1"), ComfyServer("slow", "http://127.0.0.1:2")
    f.server(fast, 4.0)
    f.server(slow, 1.0)
    assert f.best([slow, fast]) == fast  # weights stand in before a measurement: 4 = four times as fast
    f.job_added(fast, "p1")
    assert not f.has_room(fast)  # unmeasured: one prompt at a time
    f.measured(fast, "p0", 1.0)
    assert f.has_room(fast) and f.seconds_per_prompt(slow) == 4.0  # the measured unit scaled by the weights
    f.job_added(fast, "p2")
    assert not f.has_room(fast)  # one waiting behind the one it runs is its depth
    for i in range(3):  # scenes held for it count there: the next one sees them ahead
        f.job_added(fast, f"held:{i}", "held")
    assert f.expected_finish(fast) == 6.0 and f.best([fast, slow]) == slow
    for i in range(3):
        f.unhold(fast, f"held:{i}")
    assert f.expected_finish(fast) == 3.0 and f.best([slow, fast]) == fast
    f.mark_down(fast, "3 polls unanswered")
    assert f.is_down(fast) and f.snapshot([fast])[0].state == "down"
    f.answered(fast, queue=0)
    assert not f.is_down(fast)


def test_a_queue_answer_older_than_a_submission_leaves_it_counted(monkeypatch):
    """The farm asks a busy server's queue while scenes wait for room; a prompt that another scene queued there
    while that answer was on its way is not in it. It stays counted: a server that has not been measured yet holds
    one prompt only, so no second scene goes there (on a loaded machine answers are read late)."""
    from providers.ltx import comfyui_probe
    from providers.ltx.comfyui_client import ComfyUIClient
    from providers.ltx.comfyui_farm import FARM
    from providers.ltx.comfyui_servers import ComfyServer

    fake = FakeComfyUI().start()
    server = ComfyServer("late-answer", fake.url)
    asked = ComfyUIClient.queue_state

    async def answered_then_submitted(self):
        state = await asked(self)  # the server's queue as it answered: empty
        FARM.job_added(server, "queued-meanwhile")  # another scene's /prompt returned before the answer was read
        return state

    try:
        FARM.server(server)
        monkeypatch.setattr(ComfyUIClient, "queue_state", answered_then_submitted)
        asyncio.run(comfyui_probe.refresh(ComfyUIClient(server)))
        assert FARM.server(server).jobs == {"queued-meanwhile": "queued"}
        assert not FARM.has_room(server)
    finally:
        FARM.job_ended(server, "queued-meanwhile")
        fake.stop()


def test_a_frozen_fake_keeps_its_port():
    """A frozen fake refuses connections but keeps its port: no other server can start on it meanwhile (the app
    would hear a stranger that knows none of its prompts, and thaw() could not listen there again)."""
    import socket

    fake = FakeComfyUI().start()
    try:
        fake.freeze()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", fake.port), timeout=5).close()
        for reuse in (False, True):  # a stranger's server on that port, with or without SO_REUSEADDR
            stranger = socket.socket()
            stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
            with pytest.raises(OSError, match="in use"):
                stranger.bind(("127.0.0.1", fake.port))
            stranger.close()
        fake.thaw()
        assert fake.call(lambda: fake.frozen) is False
        socket.create_connection(("127.0.0.1", fake.port), timeout=5).close()
        fake.freeze()  # again: the port is still its own
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", fake.port), timeout=5).close()
    finally:
        fake.stop()
