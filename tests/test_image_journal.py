"""A paid image is never lost (issue 9's promise for image takes): each image is written to the job journal before
project.json's save. A save that fails (project.json turned into a folder, as in tests/test_money_safety.py) leaves
the entry, and the next `project info` / `project images` / open applies it: the take, its frame and its ledger entry
appear once however often it is applied; a save that works removes it. A disk that is full for the image itself
(RLIMIT_FSIZE, for real) is an error naming the image and its cost, and the ledger keeps the charge. A `project
images` killed (SIGKILL) between the image's arrival and the save loses nothing and pays nothing twice. All through
the real ImageQueue and the Stability client against its fake on 127.0.0.1."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings
from core.images.run import ImageQueue
from core.images.takes import plan_images
from core.render import journal
from core.render.journal import journal_path
from core.render.queue import RenderQueue
from core.video.project_io import ProjectStore
from core.video.project_lock import WRITE_LOCK, ProjectLock
from providers import registry as video_registry
from providers.images.registry import get_image
from tests.cli_helpers import ROOT, cli_env, run_cli, run_json, wait_until
from tests.images_support import image_project, stability_fake  # noqa: F401

SETTINGS = Settings(render_retries=0, render_timeout_s=60, render_concurrency={"default": 1})
PRICE = 0.03  # Stability's default model, per image


def _getter(name: str):
    return get_image(name, SETTINGS)


def _delivering(then):
    """A getter whose provider runs `then(call)` once the service's answer is in (paid), before it is written."""
    def getter(name):
        provider = get_image(name, SETTINGS)
        original = provider.deliver

        async def deliver(plan, call, progress):
            delivered = await original(plan, call, progress)
            then(plan)
            return delivered

        provider.deliver = deliver
        return provider
    return getter


def _run(store: ProjectStore, plan, getter):
    return asyncio.run(ImageQueue(store, SETTINGS, provider_getter=getter).run(plan))


def _break(folder: Path) -> None:
    """project.json turns into something that cannot be written (a folder where the file was)."""
    (folder / "project.json").rename(folder / "project.json.aside")
    (folder / "project.json").mkdir()


def _mend(folder: Path) -> None:
    (folder / "project.json").rmdir()
    (folder / "project.json.aside").rename(folder / "project.json")


def _entries(folder: Path) -> list[Path]:
    where = journal_path(folder)
    return sorted(where.glob("*.json")) if where.is_dir() else []


def _once(folder: Path):
    """The project on disk holds each image take and each charge once; (takes of scene 1, image ledger)."""
    project = ProjectStore.open(folder).project
    takes = [t for s in project.scenes for t in s.image_takes]
    assert len(takes) == len({t.id for t in takes}), takes
    assert len(project.ledger) == len({e.take_id for e in project.ledger}), project.ledger
    return project.scenes[0].image_takes, [e for e in project.ledger if e.kind == "image"]


def test_a_save_failing_after_payment_keeps_the_image_in_the_journal_and_project_info_restores_it(
        stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a fox in snow"])
    scene = store.project.scenes[0]
    summary = _run(store, plan_images(store, _getter), _delivering(lambda plan: _break(store.folder)))
    [path] = [t.path for t in scene.image_takes]
    message = summary.failed[scene.id]
    assert "project.json could not be written" in message and path in message and f"${PRICE:.2f}" in message
    assert str(journal_path(store.folder)) in message and "project info" in message
    assert summary.total_cost == pytest.approx(PRICE)
    [entry] = _entries(store.folder)
    assert json.loads(entry.read_text())["image_take"]["path"] == path
    _mend(store.folder)
    assert ProjectStore.open(store.folder).project.scenes[0].image_takes == []  # only in the journal

    out = run_json("project", "info", store.folder)  # a new process
    assert out["total_cost"] == pytest.approx(PRICE) and out["missing_assets"] == []
    [take], [charge] = _once(store.folder)
    assert take.path == path and path.startswith("images/") and store.resolve(path).is_file()
    assert (charge.take_id, charge.cost) == (take.id, PRICE)
    saved = ProjectStore.open(store.folder).project.scenes[0]
    assert (saved.start_frame, saved.start_image_take_id) == (path, take.id)  # the empty frame took it
    assert not journal_path(store.folder).exists()

    out = run_json("project", "images", store.folder)  # the scene has its frame now: nothing to pay for
    assert out["scenes"] == [] and stability_fake.counts["submissions"] == 1


def test_the_journal_applied_twice_or_after_the_window_saved_at_last_adds_each_image_once(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a fox", "a hen"])
    plan = plan_images(store, _getter, [store.project.scenes[0].id], variants=2)
    summary = _run(store, plan, _delivering(lambda plan: _break(store.folder)))
    assert list(summary.failed) == [store.project.scenes[0].id]
    copies = {p: p.read_bytes() for p in _entries(store.folder)}
    assert len(copies) == 1  # the scene ended at the failing save: its second image was never asked for
    _mend(store.folder)

    def put_back():
        journal_path(store.folder).mkdir(parents=True, exist_ok=True)
        for p, data in copies.items():
            p.write_bytes(data)

    assert journal.apply(ProjectStore.open(store.folder)) == 1
    put_back()  # the same entry a second time: a crash between the save and the removal
    assert RenderQueue(ProjectStore.open(store.folder), SETTINGS, provider_getter=video_registry.get
                       ).apply_journal() == 1
    takes, charges = _once(store.folder)
    assert len(takes) == 1 and len(charges) == 1
    store.save()  # the window that kept the take in memory saves at last (merged with what is on disk)
    put_back()
    assert journal.apply(ProjectStore.open(store.folder)) == 1
    takes, charges = _once(store.folder)
    assert len(takes) == 1 and [c.take_id for c in charges] == [takes[0].id]
    assert not _entries(store.folder) and stability_fake.counts["submissions"] == 1


def test_a_later_save_that_works_removes_the_entry_of_the_one_that_failed(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["one", "two"])
    first, second = store.project.scenes
    answers: list[str] = []

    def after(plan):  # one request at a time: the first answer breaks project.json, the second mends it
        answers.append(plan.request.prompt)
        (_break if len(answers) == 1 else _mend)(store.folder)

    summary = _run(store, plan_images(store, _getter), _delivering(after))
    assert answers == ["one", "two"] and list(summary.failed) == [first.id] and summary.done == [second.id]
    assert not _entries(store.folder)
    project = ProjectStore.open(store.folder).project
    assert [len(s.image_takes) for s in project.scenes] == [1, 1]
    assert sorted(e.scene_id for e in project.ledger) == sorted([first.id, second.id])


def test_when_the_journal_cannot_be_written_either_the_error_says_so_and_the_window_keeps_the_image(
        stability_fake, tmp_path, isolated_config):
    store = image_project(tmp_path / "p", ["a fox"])
    (isolated_config / "journal").write_text("")  # where the journal's folders go: a file, so none can be made
    summary = _run(store, plan_images(store, _getter), _delivering(lambda plan: _break(store.folder)))
    message = summary.failed[store.project.scenes[0].id]
    assert "neither could the job journal" in message and store.project.scenes[0].image_takes[0].path in message
    _mend(store.folder)
    store.save()  # the window's next save
    takes, charges = _once(store.folder)
    assert len(takes) == 1 and [c.take_id for c in charges] == [takes[0].id]


def _limited(limit: int, *args: str) -> list[str]:
    """The CLI in a process whose files cannot grow past `limit` bytes (RLIMIT_FSIZE: a full disk, for real)."""
    boot = ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), "
            "resource.RLIM_INFINITY)); os.execv(sys.executable, [sys.executable] + sys.argv[2:])")
    return [sys.executable, "-c", boot, str(limit), str(ROOT / "main.py"), *args]


def test_an_image_the_disk_has_no_room_for_is_an_error_naming_it_and_its_cost_and_the_ledger_has_the_charge(
        stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a lighthouse at dusk"], resolution="1080p")  # a 1920x1080 PNG: ~9 kB
    folder = store.folder
    assert (folder / "project.json").stat().st_size < 3000
    proc = subprocess.run(_limited(6000, "project", "images", str(folder), "--json"), capture_output=True,
                          text=True, env=cli_env(), cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    [row] = out["scenes"]
    error = row["error"]
    assert "could not be written" in error and "scene1-start-" in error and f"${PRICE:.2f}" in error, error
    assert "ledger" in error and row["takes"] == [] and row["frame"] is None
    assert out["ledger_total"] == pytest.approx(PRICE) and out["total_cost"] == pytest.approx(PRICE)
    project = ProjectStore.open(folder).project
    assert [(e.kind, e.cost, e.scene_id) for e in project.ledger] == [("image", PRICE, project.scenes[0].id)]
    assert not [p for p in (folder / "images").iterdir()]  # no half-written image, no temp file
    assert not _entries(folder) and stability_fake.counts["submissions"] == 1


def test_project_images_killed_between_the_answer_and_the_save_loses_nothing_and_pays_nothing_twice(
        stability_fake, tmp_path, isolated_config):
    (isolated_config / "settings.json").write_text(json.dumps({"project_lock_wait_s": 120}))
    store = image_project(tmp_path / "p", ["a fox in snow"])
    lock = ProjectLock(store.folder, WRITE_LOCK, "saved")
    lock.acquire(5)  # project.json's save waits for it: the image is paid for and on disk, not yet saved
    try:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "images", str(store.folder),
                                 "--json"], cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        [entry] = wait_until("the image in the journal", lambda: _entries(store.folder))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        lock.release()
    assert ProjectStore.open(store.folder).project.scenes[0].image_takes == []  # the save never happened
    path = json.loads(entry.read_text())["image_take"]["path"]

    out = run_json("project", "info", store.folder)
    assert out["total_cost"] == pytest.approx(PRICE)
    [take], [charge] = _once(store.folder)
    assert take.path == path and store.resolve(path).is_file() and charge.take_id == take.id
    proc = run_cli("project", "images", store.folder, "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["scenes"] == [], proc.stderr
    assert stability_fake.counts["submissions"] == 1 and stability_fake.counts["submit_attempts"] == 1
