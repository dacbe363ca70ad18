"""Soak: many renders through the real CLI on hostile fal and Replicate fakes (separate processes), with faults at
every step, then one clean run; a paid render must never be lost or paid twice.

Faults, drawn with a seeded generator before each CLI run: 429, 5xx and dropped connections on submit, status, result
and download; malformed answers; truncated results (cut mid-body, a faststart MP4 cut to a third served whole, a 2 s
clip for a 6 s scene); a redirect loop and a result URL that is a number; one failed save (the render process gets
RLIMIT_FSIZE just above project.json's size as the service makes a job); SIGKILLs of the CLI at random moments.
Once every project had its faulty runs, the faults are cleared and each project is rendered once more.

    python bench/soak.py [--renders 200] [--scenes 20] [--seed 7] [--kill-rate 0.35] [--rounds 4]

Prints renders, faults, kills, submissions, clips verified (full decode), lost renders (target 0), duplicate
submissions (target 0) and the ledger against what the fakes billed (target equal). A SIGKILL that lands between
the service's answer to a submit and the save of its job id leaves a job nobody can look up (neither fal nor
Replicate takes an idempotency key); such jobs are counted apart ("submit window"), never hidden.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRICE = 0.04  # ltx-2-fast at 1080p, per second, on both services
SECONDS = 6.0
RATE = {"status": 429, "json": {"detail": "Request was throttled"}, "headers": {"Retry-After": "0.2"}}
INGRESS = {"status": 503, "text": "<html><h1>503 Service Temporarily Unavailable</h1></html>"}
# (where, fault, admin route, services): the base fakes' one-shot faults and the hostile ones
FAULTS = [
    ("submit", RATE, "faults", ("fal", "replicate")),
    ("submit", INGRESS, "faults", ("fal",)),
    ("submit", {"status": 500, "json": {"detail": "internal"}}, "faults", ("fal", "replicate")),
    ("submit", {"drop": True}, "faults", ("fal", "replicate")),
    ("status", RATE, "faults", ("fal", "replicate")),
    ("status", {"status": 502, "json": {"detail": "bad gateway"}}, "faults", ("fal", "replicate")),
    ("status", {"drop": True}, "faults", ("fal", "replicate")),
    ("status", {"malformed": True}, "faults", ("fal", "replicate")),
    ("result", {"status": 500, "json": {"detail": "internal"}}, "faults", ("fal",)),
    ("result", {"drop": True}, "faults", ("fal",)),
    ("media", {"drop": True}, "faults", ("fal", "replicate")),
    ("media", {"status": 503, "json": {"detail": "busy"}}, "faults", ("fal", "replicate")),
    ("media", {"cut": 1 / 3}, "hostile", ("fal", "replicate")),
    ("media", {"seconds": 2.0}, "hostile", ("fal", "replicate")),
    ("media", {"redirect_loop": True}, "hostile", ("fal", "replicate")),
    ("result", {"url": 12345}, "hostile", ("fal", "replicate")),
]


class Fake:
    """A hostile fake service in its own process (its jobs outlive every CLI run)."""

    def __init__(self, kind: str, latency: float, log):
        self.kind = kind
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.hostile", kind, "--port", "0",
                                      "--latency", str(latency)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                     stderr=log)
        self.url = json.loads(self.proc.stdout.readline())["url"]

    def post(self, route: str, body: dict) -> None:
        req = urllib.request.Request(f"{self.url}/_admin/{route}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()

    def state(self) -> dict:
        return json.loads(urllib.request.urlopen(f"{self.url}/_admin/state", timeout=30).read())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def prompt_of(kind: str, job: dict) -> str:
    return str((job.get("body") if kind == "fal" else job.get("input")) or {}).strip()


def make_projects(work: Path, n: int, scenes: int) -> list[tuple[Path, str]]:
    from core.video.project import Scene
    from core.video.project_io import ProjectStore
    from core.video.render_settings import RenderSettings
    out = []
    for p in range(n):
        kind = ("fal", "replicate")[p % 2]
        store = ProjectStore.create(work / f"p{p:02d}", f"soak {p}")
        store.project.render = RenderSettings(provider="ltx-video", deployment=kind, model="ltx-2-fast",
                                              resolution="1080p", fps=25)
        store.project.scenes += [Scene(prompt=f"soak-p{p:02d}-s{s:02d} a lighthouse", duration=SECONDS)
                                 for s in range(scenes)]
        store.save()
        out.append((store.folder, kind))
    return out


def known_jobs(folder: Path) -> set[str]:
    """Every job id the project knows (its takes, and the journal of takes it could not save)."""
    from core.render.journal import journal_path
    from core.video.project_io import ProjectStore
    ids = {t.remote_job_id for s in ProjectStore.open(folder).project.scenes for t in s.takes if t.remote_job_id}
    jdir = journal_path(folder)
    if jdir.is_dir():
        for path in jdir.glob("*.json"):
            ids.add(json.loads(path.read_text())["take"].get("remote_job_id"))
    return ids


def orphans(folder: Path, fake_state: dict, kind: str) -> set[str]:
    tag = f"soak-{folder.name}-"
    mine = {jid for jid, job in fake_state["jobs"].items() if tag in prompt_of(kind, job)}
    return mine - known_jobs(folder)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renders", type=int, default=200, help="scenes rendered in all")
    ap.add_argument("--scenes", type=int, default=20, help="scenes per project")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kill-rate", type=float, default=0.35, help="share of faulty runs SIGKILLed")
    ap.add_argument("--rounds", type=int, default=4, help="faulty runs per project before the clean run")
    ap.add_argument("--latency", type=float, default=0.3, help="seconds each fake job takes")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="imageai-soak-"))
    print(f"projects, settings and fake logs in {work}", flush=True)
    config = work / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({
        "poll_interval_s": 0.05, "render_retries": 2, "render_concurrency": {"default": 5},
        "project_lock_wait_s": 60, "render_timeout_s": 300}))
    os.environ["IMAGEAI_CONFIG_DIR"] = str(config)  # never the user's settings, keys or journal
    from tests.fakes.clips import make_clip
    make_clip(SECONDS, 25)
    make_clip(2.0, 25)
    fake_log = open(work / "fakes.log", "w")  # clients hanging up mid-answer make the servers print tracebacks
    fakes = {kind: Fake(kind, args.latency, fake_log) for kind in ("fal", "replicate")}
    env = dict(os.environ, PYTHONPATH=str(ROOT), IMAGEAI_CONFIG_DIR=str(config), FAL_KEY="soak-id:soak-secret-0001",
               REPLICATE_API_TOKEN="r8_soak_token_0001", IMAGEAI_FAL_URL=fakes["fal"].url,
               IMAGEAI_REPLICATE_URL=fakes["replicate"].url)
    n_projects = max(1, -(-args.renders // args.scenes))
    projects = make_projects(work, n_projects, args.scenes)
    stats: Counter = Counter()
    exits: Counter = Counter()
    window: set[str] = set()
    failed_save = (rng.randrange(n_projects), rng.randrange(args.rounds))
    runs: list[float] = []
    kills_in_window: list[str] = []
    typical = 3.0  # seconds of a run, until runs are measured (the median of those not killed)
    try:
        for p, (folder, kind) in enumerate(projects):
            fake = fakes[kind]
            for rnd in range(args.rounds):
                menu = [f for f in FAULTS if kind in f[3]]
                for where, fault, route, _ in rng.sample(menu, rng.randint(2, 5)):
                    fake.post(route, {where: [fault]})
                    stats[f"fault {where}"] += 1
                if (p, rnd) == failed_save:
                    fake.post("hostile", {"submit": [{"limit_fsize": str(folder), "extra": 8}]})
                    stats["fault save"] += 1
                cli = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "project", "render", str(folder),
                                        "--json"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
                stats["runs"] += 1
                # a moment anywhere in a typical run (start-up, planning, submits, polls, downloads, saves)
                kill_at = rng.uniform(0.2, 1.2 * typical) if rng.random() < args.kill_rate else None
                t0 = time.monotonic()
                try:
                    cli.wait(kill_at)
                    exits[cli.returncode] += 1
                    runs.append(time.monotonic() - t0)
                    typical = sorted(runs)[len(runs) // 2]
                except subprocess.TimeoutExpired:
                    cli.send_signal(signal.SIGKILL)
                    cli.wait()
                    stats["kills"] += 1
                    fresh = orphans(folder, fake.state(), kind)  # the killed process can add nothing more
                    window |= fresh
                    if fresh:
                        kills_in_window.append(f"{folder.name} round {rnd} killed at {kill_at:.2f} s: {len(fresh)}")
        for fake in fakes.values():
            fake.post("clear", {})
        for folder, _kind in projects:
            proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "project", "render", str(folder),
                                   "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            stats["clean runs"] += 1
            exits[f"clean {proc.returncode}"] += 1
        report(projects, fakes, stats, exits, window, time.monotonic() - started)
        for line in kills_in_window:
            print(f"  submit-window kill: {line}")
    finally:
        for fake in fakes.values():
            fake.stop()
    return 0


def report(projects, fakes, stats: Counter, exits: Counter, window: set[str], wall: float) -> None:
    from core.video.project_io import ProjectStore
    from core.video.verify import verify_clip
    from tests.fakes.hostile import billed
    states = {kind: fake.state() for kind, fake in fakes.items()}
    verified = lost = dupes = 0
    ledger = 0.0
    gone = []
    dupe_notes: list[str] = []
    unknown = set()  # paid jobs that no take (and no journal) knows, apart from the submit window's
    for folder, kind in projects:
        unknown |= orphans(folder, states[kind], kind) - window
        store = ProjectStore.open(folder)
        ledger += sum(e.cost for e in store.project.ledger)
        jobs = states[kind]["jobs"]
        for scene in store.project.scenes:
            tag = scene.prompt.split()[0] + " "
            made = [jid for jid, job in jobs.items() if tag in prompt_of(kind, job) + " "]
            paid = [j for j in made if j not in window]
            if len(paid) > 1:
                dupes += len(paid) - 1
                dupe_notes.append(f"{folder.name}/{tag.strip()}: jobs {paid}; takes " + "; ".join(
                    f"{t.status} {t.remote_job_id} {t.error_kind or ''} {(t.error or '')[:150]}" for t in scene.takes))
            take = scene.selected_take
            if take is None or take.status != "done":
                lost += 1
                if scene.takes and scene.takes[-1].result_gone:
                    gone.append(scene.takes[-1].error)
                continue
            verify_clip(store.resolve(take.clip_path), expected_duration=SECONDS)
            verified += 1
    charged = round(sum(billed(s, PRICE) for s in states.values()), 4)
    window_cost = round(sum(j["seconds"] * PRICE for s in states.values() for jid, j in s["jobs"].items()
                            if jid in window), 4)
    submissions = sum(s["counts"]["submissions"] for s in states.values())
    attempts = sum(s["counts"]["submit_attempts"] for s in states.values())
    faults = {k[6:]: v for k, v in stats.items() if k.startswith("fault ")}
    print(f"renders:               {sum(len(ProjectStore.open(f).project.scenes) for f, _ in projects)} scenes in "
          f"{len(projects)} projects, {stats['runs']} faulty CLI runs + {stats['clean runs']} clean ones "
          f"({wall:.0f} s)")
    print(f"faults:                {sum(faults.values())} ({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))})")
    print(f"kills:                 {stats['kills']} SIGKILLs of the CLI")
    print(f"exit codes:            {dict(sorted(exits.items(), key=str))}")
    print(f"submissions:           {submissions} jobs made ({attempts} submit requests)")
    print(f"clips verified:        {verified} (full decode, 6 s each)")
    print(f"lost renders:          {lost}  (target 0); paid jobs no take knows: {len(unknown)}"
          + (f"; {gone[:3]}" if gone else ""))
    print(f"duplicate submissions: {dupes}  (target 0); plus {len(window)} job(s) made in the submit window of a "
          f"killed run (no id saved, no idempotency key at the service)")
    for line in dupe_notes:
        print(f"  duplicate: {line}")
    print(f"ledger vs billed:      ${ledger:.2f} vs ${charged:.2f}"
          + ("  (equal)" if abs(ledger - charged) < 1e-6 else
             f"  (differ by ${charged - ledger:.2f}; submit-window jobs: ${window_cost:.2f})"))


if __name__ == "__main__":
    sys.exit(main())
