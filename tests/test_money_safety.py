"""A paid render is never lost and never paid twice (issue 9): each of the issue's ten cases, reproduced with the
real CLI in a subprocess against a hostile fake service on 127.0.0.1 (tests/fakes/hostile.py). Every test counts the
jobs the fake created and compares the project's ledger with what the fake billed.

Cases covered elsewhere: 6 (keys with CR/LF, echoed secrets) mostly in tests/test_secrets.py — here only the echo
in a status answer of a job that exists; 8 (SIGKILL of `project export`) in tests/test_orphans.py — here the same for
`project render` killed mid-download; 9 (ComfyUI) belongs to the ComfyUI tests.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from core.render.journal import journal_path
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from core.video.verify import verify_clip
from tests.cli_helpers import ROOT, cli_env, make_image, run_cli, wait_until
from tests.fakes.hostile import FAKES, billed

PRICE = 0.04  # ltx-2-fast at 1080p, per second, on fal and Replicate
SECONDS = 6.0
FAL_ID, FAL_SECRET = "5b1e2c3d-aaaa-4bbb-8ccc-0123456789ab", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


# --- the fake, the settings, the project --------------------------------------------------------------------
def write_settings(config: Path, **values) -> Path:
    base = {"poll_interval_s": 0.05, "render_retries": 1, "project_lock_wait_s": 5}
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({**base, **values}))
    return config


def start_fake(kind: str, monkeypatch, config: Path):
    fake = FAKES[kind](latency=0.2).start()
    if kind == "fal":
        monkeypatch.setenv("FAL_KEY", f"{FAL_ID}:{FAL_SECRET}")
        monkeypatch.setenv("IMAGEAI_FAL_URL", fake.url)
    else:
        monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_money_safety_token_0001")
        monkeypatch.setenv("IMAGEAI_REPLICATE_URL", fake.url)
    fake.deployment = kind
    write_settings(config)
    return fake


@pytest.fixture
def fal(monkeypatch, isolated_config):
    fake = start_fake("fal", monkeypatch, isolated_config)
    yield fake
    fake.release_stalls()
    fake.stop()


@pytest.fixture(params=["fal", "replicate"])
def service(request, monkeypatch, isolated_config):
    """Each hostile service in turn."""
    fake = start_fake(request.param, monkeypatch, isolated_config)
    yield fake
    fake.release_stalls()
    fake.stop()


def make_project(folder: Path, scenes: int = 1, deployment: str = "fal") -> Path:
    store = ProjectStore.create(folder, folder.name)
    store.project.render = RenderSettings(provider="ltx-video", deployment=deployment, model="ltx-2-fast",
                                          resolution="1080p", fps=25)
    store.project.scenes += [Scene(prompt=f"shot {i} of {folder.name}", duration=SECONDS) for i in range(scenes)]
    store.save()
    return folder


def render(folder: Path, *args: str, env: dict | None = None, timeout: float = 240) -> tuple[int, dict, str]:
    proc = run_cli("project", "render", folder, "--json", *args, env=env, timeout=timeout)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON (exit {proc.returncode}): {proc.stdout!r} {proc.stderr}") from None
    return proc.returncode, out, proc.stderr


def takes(folder: Path) -> list:
    return [t for s in ProjectStore.open(folder).project.scenes for t in s.takes]


def ledger_total(folder: Path) -> float:
    return round(sum(e.cost for e in ProjectStore.open(folder).project.ledger), 4)


def assert_settled(folder: Path) -> None:
    """After a CLI run ends: no take is left running or queued, and every submitted one names its job."""
    for take in takes(folder):
        assert take.status not in ("running", "queued"), take
        if take.status == "submitted":
            assert take.remote_job_id and take.error, take


def assert_all_done(folder: Path, fake) -> None:
    store = ProjectStore.open(folder)
    for scene in store.project.scenes:
        take = scene.selected_take
        assert take is not None and take.status == "done", scene.takes
        report = verify_clip(store.resolve(take.clip_path), expected_duration=SECONDS)
        assert report.frames == 150
    assert ledger_total(folder) == billed(fake.snapshot(), PRICE)
    assert len(store.project.ledger) == len({e.take_id for e in store.project.ledger})


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def popen_render(folder: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "render", str(folder), "--json",
                             *args], cwd=ROOT, env=env or cli_env(), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


# --- 1. two renders at once, and an add-scene during them ---------------------------------------------------
def test_1_two_renders_at_once_pay_each_scene_once_and_an_added_scene_survives(fal, tmp_path, isolated_config):
    folder = make_project(tmp_path / "proj", scenes=3)
    impatient = cli_env(IMAGEAI_CONFIG_DIR=str(write_settings(tmp_path / "impatient", project_lock_wait_s=0.3)))
    patient = cli_env(IMAGEAI_CONFIG_DIR=str(write_settings(tmp_path / "patient", project_lock_wait_s=300)))
    fal.never_finish = True  # the first render holds its jobs (and the render lock) until the test lets go
    first = popen_render(folder)
    try:
        wait_until("3 submissions", lambda: fal.counts["submissions"] == 3)
        code, out, err = render(folder, env=impatient)
        assert code == 3 and out["error_kind"] == "project_locked", err
        assert f"being rendered by pid {first.pid}" in err, err

        added = run_cli("project", "add-scene", folder, "-p", "added during the renders", "--duration", "6")
        assert added.returncode == 0, added.stderr

        second = popen_render(folder, "--scenes", "1-3", env=patient)
        line = wait_until("the second render to wait", lambda: second.stderr.readline())
        assert "waiting for the other render" in line, line
        fal.never_finish = False
        out1, err1 = first.communicate(timeout=240)
        out2, err2 = second.communicate(timeout=240)
    finally:
        for proc in [first] + ([second] if "second" in locals() else []):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert [r["skipped"] for r in json.loads(out2)["scenes"]] == [True, True, True]  # planned from the file
    assert fal.counts["submissions"] == 3 and fal.counts["submit_attempts"] == 3
    project = ProjectStore.open(folder).project
    assert [s.prompt for s in project.scenes][-1] == "added during the renders" and not project.scenes[-1].takes
    assert [len(s.takes) for s in project.scenes[:3]] == [1, 1, 1]
    assert len(project.ledger) == 3 and ledger_total(folder) == billed(fal.snapshot(), PRICE)
    assert_settled(folder)


# --- 2. a save that fails right after the submit ------------------------------------------------------------
def test_2_a_full_disk_right_after_submit_keeps_the_job_id_and_the_next_render_follows_it(service, tmp_path,
                                                                                       isolated_config):
    fal = service
    folder = make_project(tmp_path / "proj", deployment=service.deployment)
    # when the job is made, the render process gets RLIMIT_FSIZE just above project.json's size: its next save
    # (the one with the job id) fails with EFBIG, as on a full disk
    fal.hostile("submit", {"limit_fsize": str(folder), "extra": 8})
    code, out, err = render(folder)
    [job_id] = fal.jobs
    assert code == 1, err
    assert out["failed"] == 1 and out["scenes"][0]["job_id"] == job_id
    assert f"job {job_id} was submitted but project.json could not be written" in err, err
    on_disk = takes(folder)
    assert [(t.status, t.remote_job_id) for t in on_disk] == [("queued", None)]  # the intent, saved before submit
    assert any(job_id in p.read_text() for p in journal_path(folder).iterdir())

    code, out, err = render(folder)
    assert code == 0, err
    assert fal.counts["submissions"] == 1 and fal.counts["submit_attempts"] == 1
    assert [t.remote_job_id for t in takes(folder)] == [job_id]
    assert not journal_path(folder).exists()
    assert_all_done(folder, fal)


def test_2_a_save_failing_once_the_clip_is_done_keeps_it_selected_and_the_next_render_pays_nothing(fal, tmp_path):
    folder = make_project(tmp_path / "proj")
    real = folder / "project.json"
    aside = tmp_path / "project.json.aside"

    def break_the_file(_fake):  # as the clip downloads, project.json turns into something that cannot be written
        real.rename(aside)
        real.mkdir()

    fal.hostile("media", {"call": break_the_file})
    code, out, err = render(folder)
    assert code == 1 and out["failed"] == 1, err
    assert "could not be written" in out["scenes"][0]["error"] and "journal" in out["scenes"][0]["error"]
    real.rmdir()
    aside.rename(real)

    code, out, err = render(folder)  # the done take comes back from the journal, selected: nothing is rendered
    assert code == 0 and out["scenes"][0]["skipped"], err
    assert fal.counts["submissions"] == 1 and fal.counts["downloads"] == 1
    assert_all_done(folder, fal)


# --- 3. a download failure past the retries -----------------------------------------------------------------
def test_3_a_download_failing_past_its_retries_is_fetched_again_by_id_and_paid_once(service, tmp_path,
                                                                                 isolated_config):
    fal = service
    write_settings(isolated_config, render_retries=0)
    folder = make_project(tmp_path / "proj", deployment=service.deployment)
    fal.inject("media", *[{"drop": True}] * 3)  # every attempt of the download cut short
    code, out, err = render(folder)
    assert code == 1 and out["failed"] == 1, err
    [take] = takes(folder)
    assert take.status == "failed" and take.refetch and take.remote_job_id
    assert "the next render fetches it again" in take.error
    assert ledger_total(folder) == billed(fal.snapshot(), PRICE) == PRICE * SECONDS  # charged: the job finished
    assert not [p for p in files_under(folder / "clips")]  # no clip, no .part

    code, out, err = render(folder)
    assert code == 0, err
    assert fal.counts["submissions"] == 1 and fal.counts["downloads"] == 1
    if service.deployment == "fal":  # the result fetched by its request id once per render
        assert fal.counts["result_gets"] == 2
    assert [t.remote_job_id for t in takes(folder)] == [take.remote_job_id]
    assert_all_done(folder, fal)


# --- 4. broken clips are never done -------------------------------------------------------------------------
def test_4_a_cut_clip_or_a_short_clip_never_becomes_a_done_take(service, tmp_path, isolated_config):
    fal = service
    folder = make_project(tmp_path / "proj", scenes=2, deployment=service.deployment)
    fal.hostile("media", {"cut": 1 / 3}, {"seconds": 2.0})  # a faststart MP4 cut to a third; 2 s of 6
    code, out, err = render(folder)
    assert code == 1 and out["failed"] == 2, err
    failed = takes(folder)
    assert all(t.status == "failed" and t.refetch and t.clip_path is None for t in failed)
    errors = sorted(t.error for t in failed)
    assert any("frames decode" in e for e in errors), errors
    assert any("2.00 s, expected about 6.00 s" in e for e in errors), errors
    assert not files_under(folder / "clips")  # nothing at a clip path, no staged junk
    assert all(r["clip"] is None for r in out["scenes"])
    assert ledger_total(folder) == billed(fal.snapshot(), PRICE)  # the service charged for both

    code, out, err = render(folder)  # fetched again by id: the service's copy is whole
    assert code == 0, err
    assert fal.counts["submissions"] == 2
    assert_all_done(folder, fal)


def test_4_a_result_that_stays_broken_is_fetched_again_free_and_rendered_anew_only_with_pay_again(fal, tmp_path):
    folder = make_project(tmp_path / "proj")
    fal.hostile("media", {"cut": 1 / 3}, {"cut": 1 / 3})
    for _ in range(2):  # the first fetch and the free one by id: both cut
        code, out, err = render(folder)
        assert code == 1 and "--pay-again" in out["scenes"][0]["error"], err
    [take] = takes(folder)
    assert take.refetch and not take.result_gone and fal.counts["submissions"] == 1
    assert [where for where, _ in fal.hostile_used] == ["media", "media"]  # fetched twice, paid once

    code, out, err = render(folder, "--pay-again")  # the user chose to pay for a new job
    assert code == 0, err
    assert fal.counts["submissions"] == 2
    old, new = takes(folder)
    assert not old.refetch and new.status == "done" and new.id in old.error
    code, out, err = render(folder)  # the given-up take is not fetched again, the new one is kept
    assert code == 0 and out["scenes"][0]["skipped"] and fal.counts["downloads"] == 1
    assert_all_done(folder, fal)


# --- 5. errors outside the typed set ------------------------------------------------------------------------
@pytest.mark.parametrize("fault, words", [
    pytest.param(("media", {"redirect_loop": True}), "redirects more than 5 times", id="redirect-loop"),
    pytest.param(("result", {"url": 12345}), "is the number 12345, not a URL", id="url-a-number"),
])
def test_5_a_hostile_result_ends_its_take_failed_and_is_fetched_again(fal, tmp_path, fault, words):
    folder = make_project(tmp_path / "proj")
    fal.hostile(*fault)
    code, out, err = render(folder)
    assert code == 1 and out["failed"] == 1, err
    [take] = takes(folder)
    assert take.status == "failed" and words in take.error and out["scenes"][0]["error"] == take.error
    assert_settled(folder)
    assert not files_under(folder / "clips")

    code, out, err = render(folder)
    assert code == 0 and fal.counts["submissions"] == 1, err
    assert_all_done(folder, fal)


def test_5_a_clips_path_that_is_a_file_or_leads_outside_is_refused_before_paying(fal, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    file_case = make_project(tmp_path / "file")
    os.rmdir(file_case / "clips")
    (file_case / "clips").write_text("not a folder")
    link_case = make_project(tmp_path / "link")
    os.rmdir(link_case / "clips")
    (link_case / "clips").symlink_to(outside)
    for folder, exit_code, words in [(file_case, 3, "clips"), (link_case, 2, "outside the project folder")]:
        code, out, err = render(folder)
        assert code == exit_code and words in out["error"], err
        assert takes(folder) == []
    assert fal.counts["submit_attempts"] == 0 and not files_under(outside)


def test_5_clips_turned_into_a_link_out_of_the_project_during_the_job(fal, tmp_path):
    folder = make_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    incoming = folder / "clips" / ".incoming"
    moved = folder / "clips" / ".incoming-real"

    def swap(_fake):  # while the service makes the job, clips/.incoming becomes a link out of the project
        incoming.mkdir(parents=True, exist_ok=True)
        incoming.rename(moved)
        incoming.symlink_to(outside, target_is_directory=True)

    fal.hostile("submit", {"call": swap})
    code, out, err = render(folder)
    assert code == 1 and out["failed"] == 1, err
    assert not files_under(outside)  # nothing written out of the project
    [take] = takes(folder)
    assert take.remote_job_id and "outside the project folder" in take.error
    assert take.status == "submitted" and out["scenes"][0]["error"] == take.error  # the paid job is followed later
    assert_settled(folder)

    incoming.unlink()
    moved.rename(incoming)
    code, out, err = render(folder)
    assert code == 0, err
    assert fal.counts["submissions"] == 1 and not files_under(outside)
    assert_all_done(folder, fal)


# --- 6. key hygiene (the rest: tests/test_secrets.py) -------------------------------------------------------
def test_6_a_pasted_key_renders_and_an_echo_of_its_secret_half_in_a_status_answer_is_masked(fal, tmp_path,
                                                                                         isolated_config,
                                                                                         monkeypatch):
    write_settings(isolated_config, render_retries=0)
    monkeypatch.setenv("FAL_KEY", f"{FAL_ID}:{FAL_SECRET}\r\n")
    folder = make_project(tmp_path / "proj")
    fal.inject("status", {"status": 500, "json": {"detail": f"backend error for {FAL_ID}:{FAL_SECRET} "
                                                            f"(secret {FAL_SECRET})"}})
    first = run_cli("project", "render", folder, "--json", "--verbose")
    assert first.returncode == 1, first.stderr
    [take] = takes(folder)
    assert take.status == "submitted" and take.remote_job_id and "***" in take.error  # the job exists: followed
    second = run_cli("project", "render", folder, "--json", "--verbose")
    assert second.returncode == 0, second.stderr
    assert fal.counts["submissions"] == 1
    assert {r["auth"] for r in fal.requests} == {"Key "}
    seen = first.stdout + first.stderr + second.stdout + second.stderr + (folder / "project.json").read_text()
    assert FAL_SECRET not in seen and FAL_SECRET[:12] not in seen and "\r" not in seen
    assert_all_done(folder, fal)


# --- 7. a 1 GiB body ----------------------------------------------------------------------------------------
RSS_WRAPPER = """
import os, resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    with open(os.environ["RSS_OUT"], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))  # KiB on Linux
"""


def render_measured(folder: Path, rss_file: Path) -> tuple[int, dict, int]:
    proc = subprocess.run([sys.executable, "-c", RSS_WRAPPER, str(ROOT / "main.py"), "project", "render",
                           str(folder), "--json"], cwd=ROOT, env=cli_env(RSS_OUT=str(rss_file)),
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, json.loads(proc.stdout), int(rss_file.read_text()) * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS in KiB from getrusage: Linux")
def test_7_a_1_gib_body_is_capped_leaves_no_part_file_and_memory_stays_small(fal, tmp_path):
    baseline = make_project(tmp_path / "baseline")
    code, _, baseline_rss = render_measured(baseline, tmp_path / "rss0")
    assert code == 0

    folder = make_project(tmp_path / "proj")
    fal.hostile("media", {"huge": 1 << 30})  # no Content-Length: only the cap while streaming can stop it
    code, out, rss = render_measured(folder, tmp_path / "rss1")
    assert code == 1 and out["failed"] == 1
    [take] = takes(folder)
    assert take.status == "failed" and "cap" in take.error and take.refetch
    assert not files_under(folder / "clips")  # the .part file is gone
    assert fal.hostile_bytes_sent < (1 << 30) // 2  # the client hung up at its cap
    assert rss < baseline_rss + 64 * 2 ** 20, (rss, baseline_rss)  # streamed, never held in memory
    print(f"RSS: clean render {baseline_rss / 2 ** 20:.0f} MiB, capped 1 GiB body {rss / 2 ** 20:.0f} MiB; "
          f"sent {fal.hostile_bytes_sent / 2 ** 20:.0f} MiB before the client hung up")

    code, out, err = render(folder)
    assert code == 0, err
    assert fal.counts["submissions"] == 2  # one per project
    assert ledger_total(folder) + ledger_total(baseline) == billed(fal.snapshot(), PRICE)


# --- 8. SIGKILL mid-download (`project export`: tests/test_orphans.py) --------------------------------------
def test_8_a_render_killed_mid_download_leaves_nothing_behind_after_the_next_render(fal, tmp_path):
    folder = make_project(tmp_path / "proj")
    fal.hostile("media", {"stall": True})
    proc = popen_render(folder)
    try:
        wait_until("a partial download", lambda: [p for p in files_under(folder / "clips")
                                                  if p.name.endswith(".part")])
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    fal.release_stalls()
    [take] = takes(folder)
    assert take.status in ("submitted", "running") and take.remote_job_id

    code, out, err = render(folder)
    assert code == 0, err
    assert fal.counts["submissions"] == 1
    assert [p.name for p in files_under(folder / "clips")] == [Path(takes(folder)[0].clip_path).name]
    assert_all_done(folder, fal)


@pytest.mark.skip(reason="case 9 (ComfyUI server ids, unknown prompt ids) is covered by the ComfyUI tests")
def test_9_comfyui():
    pass


# --- 10. references and prompts -----------------------------------------------------------------------------
def png_bomb(path: Path, side: int = 30000) -> Path:
    """A 1-bit PNG of side x side pixels that compresses to a few hundred KB (Pillow refuses it as a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    row = b"\0" * (1 + side // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [
    30000,  # past Pillow's bomb limit: Image.open refuses it
    11000,  # past Pillow's warning limit only: is_image turns the warning into a refusal
])
def test_10_add_reference_refuses_a_non_image_and_a_decompression_bomb(tmp_path, side):
    folder = make_project(tmp_path / "proj")
    before = (folder / "project.json").read_bytes()
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for path in (text, png_bomb(tmp_path / "bomb.png", side)):
        proc = run_cli("project", "add-reference", folder, path)
        assert proc.returncode == 2, proc.stderr
        assert path.name in proc.stderr and "Traceback" not in proc.stderr
    assert (folder / "project.json").read_bytes() == before
    assert not files_under(folder / "references")


def test_10_remove_reference_and_prompts_printed_escaped(tmp_path):
    folder = make_project(tmp_path / "proj")
    image = make_image(tmp_path / "ref.png")
    assert run_cli("project", "add-reference", folder, image).returncode == 0
    missing = run_cli("project", "remove-reference", folder, "2")
    assert missing.returncode == 2 and "1 (ref.png)" in missing.stderr
    removed = run_cli("project", "remove-reference", folder, "ref.png")
    assert removed.returncode == 0, removed.stderr
    assert ProjectStore.open(folder).project.reference_images == []

    added = run_cli("project", "add-scene", folder, "-p", "red \x1b[31malert\x07 now", "--duration", "6")
    assert added.returncode == 0, added.stderr
    info = run_cli("project", "info", folder)
    assert "red \\x1b[31malert\\x07 now" in info.stderr and "\x1b" not in info.stderr + info.stdout
    as_json = run_cli("project", "info", folder, "--json")
    assert "\x1b" not in as_json.stdout and json.loads(as_json.stdout)["scenes"][-1]["prompt"].endswith(
        "\x1b[31malert\x07 now")
