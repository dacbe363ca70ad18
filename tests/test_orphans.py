"""No orphans, no junk: a killed app takes its FFmpeg with it, and the next export removes what the killed one left
(work folders, partial exports, partial downloads) without touching what a live process still writes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Optional

import pytest

from core.child_process import child_kwargs, pid_alive
from core.video.leftovers import clean_leftovers, owner_tag, partial_path, tagged_owner
from core.video.media import count_frames
from core.video.project_io import ProjectStore
from core.video.segment_cache import SegmentCache
from tests.cli_helpers import cli_env
from tests.media_factory import make_clip, project_with_clips

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")


def _stat(pid: int) -> Optional[list[str]]:
    """Fields of /proc/PID/stat after the command name (which may hold spaces): [state, ppid, pgrp, session, ...]."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def _gone(pid: int) -> bool:
    st = _stat(pid)
    return st is None or st[0] in ("Z", "X")  # a zombie holds no CPU and no files; only its id waits for a reaper


def _children(pid: int) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _stat(int(d.name))
            if st is not None and st[1] == str(pid):
                found.append(int(d.name))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _wait_for(what: str, cond: Callable[[], object], timeout: float):
    """Poll a condition until it holds (bounded): the value it returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


@linux_only
def test_sigkill_of_the_cli_ends_ffmpeg_and_the_next_export_cleans_up(tmp_path):
    clips = [make_clip(tmp_path / f"c{i}.mp4", 320, 180, 24, 3.0, freq=300 + 100 * i) for i in range(3)]
    store = project_with_clips(tmp_path / "proj", clips)
    # upscaled to 1080p with x264's slow preset: the video pass runs far longer than the bound checked below
    cli = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "export", str(store.folder),
                            "--quality", "high", "--resolution", "1080p", "--clip-audio", "mute"],
                           cwd=ROOT, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def encoder() -> Optional[int]:
            return next((c for c in _children(cli.pid) if "libx264" in _cmdline(c)), None)

        ffmpeg = _wait_for("the CLI to start the video encode", encoder, 60)
        _wait_for("FFmpeg to report progress", lambda: _stat(ffmpeg) and float(_stat(ffmpeg)[11]) > 0, 30)
        cli.send_signal(signal.SIGKILL)
        cli.wait(10)
        _wait_for("the orphaned FFmpeg to end", lambda: _gone(ffmpeg), 5)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()

    # the killed export left its work folder; plant what a killed download and older runs leave too
    cache = store.folder / "exports" / ".cache"
    work = [p for p in cache.iterdir() if p.name.startswith("work-")]
    assert work and all(tagged_owner(p.name) == cli.pid for p in work)
    exports, clips_dir = store.folder / "exports", store.folder / "clips"
    stale = [exports / f".proj.partial-pid{cli.pid}-0123abcd.mp4", clips_dir / f".scene.pid{cli.pid}-x1.part",
             clips_dir / ".old.a1b2c3.part.mp4"]  # the last one has no owner id and is two hours old
    live = [clips_dir / f".rendering.{owner_tag()}-y2.part",  # this test process is alive
            exports / ".proj.partial-77aa88bb.mp4"]  # no owner id, but written just now
    for p in stale + live:
        p.write_bytes(b"x" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(stale[-1], (two_hours_ago, two_hours_ago))

    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "project", "export", str(store.folder),
                           "--quality", "low", "--resolution", "source", "--clip-audio", "keep", "--json"],
                          cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = store.folder / "exports" / "proj.mp4"
    assert count_frames(out) == 3 * 72
    assert not any(p.exists() for p in work + stale)
    assert all(p.exists() for p in live)
    assert not [p for p in cache.iterdir() if p.name.startswith("work-")]


@linux_only
def test_a_child_dies_with_its_parent_and_stays_out_of_its_terminal_group(tmp_path):
    # the parent starts the child from a worker thread that waits for it, as the exporter does
    parent_code = textwrap.dedent(f"""
        import subprocess, sys, threading
        sys.path.insert(0, {str(ROOT)!r})
        from core.child_process import child_kwargs
        def run():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], **child_kwargs())
            print(child.pid, flush=True)
            child.wait()
        t = threading.Thread(target=run)
        t.start()
        t.join()
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert not _gone(child)
        assert os.getsid(child) == child != os.getsid(parent.pid)  # its own session: a terminal's Ctrl-C skips it
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        _wait_for("the child of the killed parent to end", lambda: _gone(child), 5)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_child_kwargs_work_with_subprocess_and_merge_windows_flags():
    kw = child_kwargs(creationflags=0)
    out = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True, **kw)
    assert out.stdout.strip() == "ok"
    if sys.platform == "win32":
        assert kw["creationflags"] & subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        assert kw["start_new_session"] is True and "creationflags" not in kw


def test_clean_leftovers_removes_only_what_ended_processes_left(tmp_path):
    store = ProjectStore.create(tmp_path / "p")
    dead = _dead_pid()
    exports, clips, cache = store.folder / "exports", store.folder / "clips", store.folder / "exports" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    dead_work = cache / f"work-pid{dead}-abc"
    live_work = cache / f"work-{owner_tag()}-def"
    for d in (dead_work, live_work):
        d.mkdir()
        (d / "seg00000.mp4").write_bytes(b"v" * 500)
    old = time.time() - 7200
    other_host = "ffff" if not owner_tag().endswith("ffff") else "0000"  # a shared drive: ids of another machine
    files = {
        "dead partial": (exports / f".my film.partial-pid{dead}-0a1b2c3d.mp4", None),
        "dead download": (clips / f".take.pid{dead}-zz.part", None),
        "live download": (clips / f".take.{owner_tag()}-zz.part", None),
        "old untagged download": (clips / ".take.k3j4.part", old),
        "new untagged download": (clips / ".take.m5n6.part", None),
        "other machine, new": (clips / f".take.pid{dead}h{other_host}-aa.part", None),
        "other machine, old": (clips / f".take.pid{dead}h{other_host}-bb.part", old),
        "old untagged partial export": (exports / ".my film.partial-0a1b2c3d.mp4", old),
        "a clip called part": (clips / "intro.part.mp4", old),  # the user's own file: not hidden, not ours
        "cache entry": (cache / "0123456789abcdef0123.mp4", old),
    }
    for path, mtime in files.values():
        path.write_bytes(b"x" * 100)
        if mtime:
            os.utime(path, (mtime, mtime))
    held_open = clips / ".held.q1.part"  # no owner id and old, but a live process (this one) still writes it
    held_open.write_bytes(b"x" * 100)
    os.utime(held_open, (old, old))
    with open(held_open, "ab"):
        report = clean_leftovers(store.folder)
    removed = {x.path for x in report.removed}
    assert removed == {f"exports/.cache/work-pid{dead}-abc", f"exports/.my film.partial-pid{dead}-0a1b2c3d.mp4",
                       f"clips/.take.pid{dead}-zz.part", "clips/.take.k3j4.part",
                       "exports/.my film.partial-0a1b2c3d.mp4", f"clips/.take.pid{dead}h{other_host}-bb.part"}
    assert not dead_work.exists() and live_work.exists()
    for label, (path, _) in files.items():
        assert path.exists() == (path.relative_to(store.folder).as_posix() not in removed), label
    assert held_open.exists()
    kept = {x.path for x in report.kept}
    assert kept == {f"exports/.cache/work-{owner_tag()}-def", f"clips/.take.{owner_tag()}-zz.part",
                    "clips/.take.m5n6.part", "clips/.held.q1.part", f"clips/.take.pid{dead}h{other_host}-aa.part"}
    assert report.removed_bytes == 500 + 5 * 100 and report.kept_bytes == 500 + 4 * 100
    assert report.kept_bytes_outside_cache() == 400


def test_outside_the_project_only_our_own_partial_exports_are_touched(tmp_path):
    store = ProjectStore.create(tmp_path / "p")
    elsewhere = tmp_path / "Downloads"
    elsewhere.mkdir()
    dead = _dead_pid()
    ours = partial_path(elsewhere / "final.mp4").name.replace(owner_tag(), f"pid{dead}")
    old = time.time() - 3 * 86400
    names = [ours, "video.mp4.part", ".browser.pid1-x.part", ".final.partial-0a1b2c3d.mp4"]
    for n in names:
        (elsewhere / n).write_bytes(b"x")
        os.utime(elsewhere / n, (old, old))
    report = clean_leftovers(store.folder, also=[elsewhere])
    assert [x.path for x in report.removed] == [str((elsewhere / ours).resolve())]
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(names[1:])


def test_the_cache_limit_counts_the_leftovers_that_remain(tmp_path):
    root = tmp_path / "cache"
    root.mkdir()
    entries = []
    for i in range(4):
        p = root / f"{i:020d}.mp4"
        p.write_bytes(b"s" * 1000)
        os.utime(p, (1_000_000 + i, 1_000_000 + i))  # entry 0 is the least recently used
        entries.append(p)
    assert SegmentCache(root, max_bytes=4000).prune() == 0  # 4000 bytes of entries fit
    work = root / f"work-{owner_tag()}-abc"  # a live export's temp files take space too
    work.mkdir()
    (work / "seg00000.mp4").write_bytes(b"w" * 1500)
    assert SegmentCache(root, max_bytes=4000).prune() == 2000
    assert [p.exists() for p in entries] == [False, False, True, True]
    # bytes held outside the cache folder (a live partial export) count as well; kept entries are never removed
    assert SegmentCache(root, max_bytes=4000).prune(keep=[entries[2]], extra_bytes=1000) == 1000
    assert [p.exists() for p in entries] == [False, False, True, False]
