"""SIGKILL in the middle of a multi-scene render and of a save loop: the project always loads, and a restarted
render finishes without submitting any job twice. The jobs live in a separate server process that counts them."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.video.project_io import ProjectStore
from tests.cli_helpers import ROOT, cli_env, run_json

PLUGIN = "jobs=tests.fakes.jobserver_provider:JobServerProvider"


@pytest.fixture
def jobserver(tmp_path):
    state = tmp_path / "jobs-state.json"
    port_file = tmp_path / "port"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.jobserver", "--state", str(state),
                             "--latency", "2.5", "--port-file", str(port_file)], cwd=ROOT, env=cli_env())
    deadline = time.time() + 20
    while not port_file.exists() or not port_file.read_text():
        assert time.time() < deadline, "job server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port_file.read_text()}", state
    proc.kill()
    proc.wait()


def submissions(state: Path) -> int:
    return json.loads(state.read_text())["submissions"] if state.exists() else 0


@pytest.mark.parametrize("concurrency", [3, 1])
def test_sigkill_mid_render_then_resume_submits_nothing_twice(tmp_path, jobserver, concurrency):
    url, state = jobserver
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"render_concurrency": {"jobs": concurrency}}))
    env = cli_env(IMAGEAI_PROVIDER_PLUGINS=PLUGIN, JOBSERVER_URL=url, IMAGEAI_CONFIG_DIR=str(config))
    proj = tmp_path / "proj"
    run_json("project", "new", proj, "--provider", "jobs", "--resolution", "480p", env=env)
    for i in range(3):
        run_json("project", "add-scene", proj, "-p", f"scene {i}", "--duration", "1", env=env)

    cli = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "render", str(proj)], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while submissions(state) < 1:
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # let the job id reach the project file (it is saved right after submit)
    cli.send_signal(signal.SIGKILL)
    cli.wait()

    killed = ProjectStore.open(proj).project  # always loads
    in_flight = [t for s in killed.scenes for t in s.takes if t.status in ("submitted", "running")]
    assert in_flight and all(t.remote_job_id for t in in_flight)
    before = submissions(state)
    assert before == len(in_flight)

    out = run_json("project", "render", proj, env=env, timeout=120)
    assert [r["status"] for r in out["scenes"]] == ["done", "done", "done"]
    assert submissions(state) == 3
    final = ProjectStore.open(proj)
    assert all(final.resolve(s.selected_take.clip_path).is_file() for s in final.project.scenes)
    assert len(final.project.ledger) == 3


SAVE_LOOP = r"""
import sys
from core.video.project import Scene
from core.video.project_io import ProjectStore
store = ProjectStore.open(sys.argv[1])
i = 0
while True:
    i += 1
    store.project.scenes.append(Scene(prompt="scene %d " % i + "x" * 2000))
    store.project.name = "save %d" % i
    store.save()
"""


def test_sigkill_during_save_loop_never_corrupts(tmp_path):
    proj = tmp_path / "p"
    ProjectStore.create(proj)
    last = 0
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(proj)], cwd=ROOT, env=cli_env())
        deadline = time.time() + 60
        while True:  # wait until this process is saving (its count passes the last one seen), then kill it mid-loop
            name = json.loads((proj / "project.json").read_text())["name"]
            if name.startswith("save") and int(name.split()[1]) > 0 and name != f"save {last}":
                break
            assert time.time() < deadline, "the save loop never saved"
            time.sleep(0.01)
        time.sleep(0.05 + 0.037 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        store = ProjectStore.open(proj)  # must load every time
        assert store.project.name.startswith("save")
        last = int(store.project.name.split()[1])
        assert len(store.project.scenes) >= last  # the scenes the last complete save held are all there
