"""The plan worker: plans off the GUI thread from a snapshot of the project, and while one estimate is being made
only the newest waiting one is kept (typing in a field asks for many; only the last one matters). A plan for a run
is never dropped."""
from __future__ import annotations

import threading

from core.config import Settings
from core.video.project import Scene
from core.video.project_io import ProjectStore
from gui.video.plan_worker import PlanWorker
from providers.animatic import AnimaticProvider


class GatedAnimatic(AnimaticProvider):
    """Animatic whose prepare waits until the test opens the gate, and counts its calls and threads."""

    def __init__(self, gate: threading.Event):
        super().__init__(Settings())
        self.gate = gate
        self.threads: list[str] = []

    def prepare(self, request):
        self.threads.append(threading.current_thread().name)
        assert self.gate.wait(60)
        return super().prepare(request)


def test_estimates_coalesce_and_run_plans_are_kept(qtbot, tmp_path):
    store = ProjectStore.create(tmp_path / "p", "p")
    store.project.scenes = [Scene(prompt="a fox", duration=1.0)]
    gate = threading.Event()
    provider = GatedAnimatic(gate)
    worker = PlanWorker(lambda name, settings: provider, lambda: Settings())
    results = []
    worker.done.connect(results.append)
    first = worker.request(store, "estimate", None, False, 0)
    waiting = [worker.request(store, "estimate", None, False, i) for i in range(1, 5)]
    run = worker.request(store, "generate", None, False, 5)
    # an edit made after the requests is in the plans: each is made from the project as it is when its turn comes
    store.project.scenes[0].prompt = "a heron"
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 3, timeout=60_000)
    tokens = sorted(r.token for r in results)
    assert tokens == sorted([first, run, waiting[-1]])  # the three estimates in between were never made
    assert len(provider.threads) == 3 and all(n.startswith("render-plan") for n in provider.threads)
    assert all(r.error is None and len(r.plan.to_render) == 1 for r in results)
    newest = next(r for r in results if r.token == waiting[-1])
    assert newest.plan.to_render[0].plan.request.prompt == "a heron"
    worker.shutdown()
