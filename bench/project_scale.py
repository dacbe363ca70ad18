"""Save and load time of a 1,000-scene project (each scene with a take), against a plain json.dumps/loads of the
same data measured in the same run.

    python bench/project_scale.py [--scenes 1000] [--runs 5]

Target: load + save under 1 s on the 2-core reference machine.

Also the cost of one writer per project: each save takes the folder's write lock and stats the file to see whether
another process wrote it (target < 5 ms per save), measured with and without the lock in the same run, and the cost
of a save that has to merge in a scene another process added."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.video.project import Scene, Take  # noqa: E402
from core.video.project_io import ProjectStore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ProjectStore.create(Path(tmp) / "big")
        for i in range(a.scenes):
            take = Take(provider="ltx-video", deployment="fal", model="ltx-2-pro",
                        settings=store.project.render.model_dump(mode="json"), status="done",
                        remote_job_id=f"req-{i:06d}", cost=0.48, clip_path=f"clips/scene_{i:04d}.mp4")
            store.project.scenes.append(Scene(title=f"Scene {i + 1}", prompt=f"A wide shot of scene {i}, " * 6,
                                              duration=5, takes=[take], selected_take_id=take.id))
        saves, loads, raw = [], [], []
        for _ in range(a.runs):
            t = time.perf_counter()
            store.save()
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            ProjectStore.open(store.folder)
            loads.append(time.perf_counter() - t)
            t = time.perf_counter()
            doc = json.loads(store.path.read_text())
            Path(tmp, "plain.json").write_text(json.dumps(doc))
            raw.append(time.perf_counter() - t)
        size = store.path.stat().st_size
        lock_cost, locked, unlocked, merged = lock_figures(store, a.runs)
    s, l, r = statistics.median(saves), statistics.median(loads), statistics.median(raw)
    print(f"{a.scenes} scenes, file {size / 1e6:.2f} MB")
    print(f"save (validate-free dump, fsync, backup)  median {s * 1000:7.1f} ms")
    print(f"load (parse + validate + path checks)     median {l * 1000:7.1f} ms")
    print(f"plain json loads+dumps baseline           median {r * 1000:7.1f} ms")
    print(f"load+save {((s + l) * 1000):.1f} ms = {(s + l) / r:.1f}x the plain JSON round trip; "
          f"target < 1000 ms: {'met' if s + l < 1 else 'NOT met'}")
    print(f"write lock + stat per save (nobody else wrote) median {lock_cost * 1000:7.3f} ms; "
          f"target < 5 ms: {'met' if lock_cost < 0.005 else 'NOT met'}")
    print(f"save with the lock    median {locked * 1000:7.1f} ms")
    print(f"save without the lock median {unlocked * 1000:7.1f} ms  (lock adds {(locked - unlocked) * 1000:+.2f} ms, "
          f"{locked / unlocked:.3f}x)")
    print(f"save merging a scene another process added  median {merged * 1000:7.1f} ms "
          f"({merged / locked:.1f}x a plain save)")


def lock_figures(store: ProjectStore, runs: int) -> tuple[float, float, float, float]:
    """Median seconds: lock+stat alone, save with and without the lock (interleaved), a save that merges."""
    alone = []
    for _ in range(200):
        t = time.perf_counter()
        with store._write_lock():
            store._disk_changed()
        alone.append(time.perf_counter() - t)
    locked, unlocked = [], []
    for _ in range(max(runs, 5)):
        for on, into in ((True, locked), (False, unlocked)):
            store._locking = on
            t = time.perf_counter()
            store.save()
            into.append(time.perf_counter() - t)
    store._locking = True
    merged = []
    for i in range(runs):
        other = ProjectStore.open(store.folder)
        other.project.scenes.append(Scene(title=f"added elsewhere {i}", prompt="p"))
        other.save()
        t = time.perf_counter()
        store.save()
        merged.append(time.perf_counter() - t)
    return (statistics.median(alone), statistics.median(locked), statistics.median(unlocked),
            statistics.median(merged))


if __name__ == "__main__":
    main()
