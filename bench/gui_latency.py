"""GUI responsiveness and start-up.

1. Start-up: `python main.py` (offscreen) until the app logs that its window is shown and the event loop runs,
   against `python -c "import PySide6.QtWidgets"` (the floor: Qt itself), in the same run. Target: under 2 s.
2. Event-loop stalls: a 10-scene Animatic project rendered and then exported through the window (Generate Videos,
   Export Video), while a 5 ms QTimer records the longest gap between its ticks; the same timer on the idle window
   gives the baseline. Repeated (--repeat) and the medians reported, because other load on the machine moves the
   figures. Target: longest stall under 100 ms.
3. Estimating: the cost estimate of a 30-scene LTX-Video project whose scenes have video inputs (source_video,
   extend_video) and keyframes: every estimate prepares every scene, which probes each video with FFmpeg and decodes
   each image. The window plans off the GUI thread; the longest stall while it does is printed next to the stall the
   same plan causes when made on the GUI thread (as the window did before), measured in the same run.
4. Rendering: that 30-scene project rendered through the window (Generate Videos) against the Fal fake, run as its
   own process on 127.0.0.1: inputs uploaded, jobs followed, clips downloaded, decode-checked and thumbnailed, while
   the same stall meter runs. Target: longest stall under 100 ms.

    python bench/gui_latency.py [--runs 3] [--repeat 3] [--scenes 10] [--duration 2] [--estimate-scenes 30]
                                [--skip-startup] [--skip-render] [--skip-ltx-render]
                                [--screenshots Docs/images]

--screenshots also saves the video tab at 1280x800 with Animatic and with LTX-Video chosen (after the render, so the
table shows thumbnails, statuses and clips), and the cost confirmation of an LTX-Video render with its adjustments
and ignored settings (video-tab-cost-confirm.png).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROMPTS = ["A lighthouse on a cliff at dusk, waves crashing below", "A red fox trotting through fresh snow",
           "A steam train crossing a stone viaduct in autumn", "Neon signs reflected in a rainy street at night",
           "A hot-air balloon rising over lavender fields", "A heron lifting off a misty river at sunrise",
           "Lanterns drifting over a mountain lake", "A cyclist racing down an empty coastal road",
           "Snow falling on a quiet temple courtyard", "Fireworks over a harbour, seen from a boat"]


# --- 1. start-up -------------------------------------------------------------------------------------------------
def startup_once(cmd: list[str], log_file: Path | None, env: dict, timeout: float = 60.0) -> float:
    """Seconds from spawn until the log says the window is ready (or, without a log file, until exit)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if log_file is None:
            proc.wait(timeout)
            return time.perf_counter() - t
        while time.perf_counter() - t < timeout:
            if log_file.exists() and "window ready" in log_file.read_text(errors="replace"):
                return time.perf_counter() - t
            if proc.poll() is not None:
                raise RuntimeError(f"main.py exited with {proc.returncode} before its window was ready")
            time.sleep(0.005)
        raise TimeoutError("the window did not become ready")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def bench_startup(runs: int) -> float:
    floor, app = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cfg:
            env = {**os.environ, "IMAGEAI_CONFIG_DIR": cfg, "QT_QPA_PLATFORM": "offscreen"}
            floor.append(startup_once([sys.executable, "-c", "import PySide6.QtWidgets as w; w.QApplication([])"],
                                      None, env))
            app.append(startup_once([sys.executable, str(ROOT / "main.py")], Path(cfg) / "logs" / "imageai-video.log",
                                    env))
    f, a = statistics.median(floor), statistics.median(app)
    print(f"start-up: Qt floor (QApplication only)  median {f:6.2f} s  (min {min(floor):.2f})")
    print(f"start-up: python main.py to window ready median {a:6.2f} s  (min {min(app):.2f}, max {max(app):.2f})")
    print(f"start-up: ratio to the floor {a / f:5.2f}x; target < 2 s: {'met' if a < 2.0 else 'NOT met'}")
    return a


# --- 2. stalls during render and export ---------------------------------------------------------------------------
class StallMeter:
    """The longest gap between ticks of a fast QTimer: how long the GUI thread was unable to run its event loop."""

    def __init__(self, interval_ms: int = 5):
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps) if self.gaps else 0.0

    def p99(self) -> float:
        return sorted(self.gaps)[int(len(self.gaps) * 0.99)] if self.gaps else 0.0


def wait_for(signal, timeout_s: float):
    """Run the event loop until `signal` fires; returns its argument."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, box = QEventLoop(), []
    signal.connect(lambda *args: (box.append(args[0] if args else None), loop.quit()))
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    if not box:
        raise TimeoutError(f"no signal within {timeout_s} s")
    return box[0]


def idle(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def bench_stalls(scenes: int, duration: float, screenshots: Path | None, repeat: int = 3) -> float:
    from PySide6.QtWidgets import QApplication

    from core.config import Settings
    from core.video.project import Scene
    from core.video.project_io import ProjectStore

    app = QApplication.instance() or QApplication([])
    from gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGEAI_CONFIG_DIR"] = str(Path(tmp) / "config")
        store = ProjectStore.create(Path(tmp) / "Bench project", "Bench project")
        store.project.render = store.project.render.model_validate(
            {**store.project.render.model_dump(), "provider": "animatic", "resolution": "480p", "fps": 24,
             "duration": duration})
        store.project.scenes = [Scene(title=f"Scene {i + 1}", prompt=PROMPTS[i % len(PROMPTS)], duration=duration)
                                for i in range(scenes)]
        store.save()
        window = MainWindow(Settings(autosave_interval_s=5), open_last=False)
        window.resize(1280, 800)
        window.show()
        window.open_project(store.folder)
        tab = window.video_tab
        while not tab.render_group.ready:
            idle(0.05)
        meter = StallMeter()
        rows = []
        for run in range(repeat):
            meter.start()
            idle(3.0)
            baseline = (meter.stop(), meter.p99())

            tab.force_check.setChecked(run > 0)  # later runs render new takes of every scene
            tab.update_estimate()
            meter.start()
            t = time.perf_counter()
            tab.generate_button.click()
            summary = wait_for(tab.controller.finished, 600)
            render = (meter.stop(), meter.p99(), time.perf_counter() - t)
            if not getattr(summary, "ok", False) or len(summary.done) != scenes:
                raise RuntimeError(f"render failed: {summary}")
            idle(1.0)  # thumbnails load

            meter.start()
            t = time.perf_counter()
            tab.export_group.export_button.click()
            result = wait_for(tab.export_group.export_finished, 600)
            export = (meter.stop(), meter.p99(), time.perf_counter() - t)
            if isinstance(result, BaseException):
                raise RuntimeError(f"export failed: {result}")
            rows.append((baseline, render, export))
            print(f"run {run + 1}: idle longest {baseline[0] * 1000:6.1f} ms (p99 {baseline[1] * 1000:5.1f}) | "
                  f"render {scenes} scenes longest {render[0] * 1000:6.1f} ms (p99 {render[1] * 1000:5.1f}, "
                  f"{render[2]:.1f} s) | export longest {export[0] * 1000:6.1f} ms (p99 {export[1] * 1000:5.1f}, "
                  f"{export[2]:.1f} s, {result.output_path.name})")

        med = statistics.median
        base = med(r[0][0] for r in rows)
        rend, rend99 = med(r[1][0] for r in rows), med(r[1][1] for r in rows)
        expo, expo99 = med(r[2][0] for r in rows), med(r[2][1] for r in rows)
        worst = max(rend, expo)
        print(f"stalls (median of {repeat} runs): idle baseline {base * 1000:.1f} ms; render longest "
              f"{rend * 1000:.1f} ms (p99 {rend99 * 1000:.1f}); export longest {expo * 1000:.1f} ms "
              f"(p99 {expo99 * 1000:.1f})")
        print(f"stalls: worst {worst * 1000:.1f} ms = {worst / max(base, 1e-3):.1f}x the idle baseline; "
              f"target < 100 ms: {'met' if worst < 0.1 else 'NOT met'}")

        if screenshots is not None:
            take_screenshots(window, screenshots)
        window.close()
        app.sendPostedEvents()  # deliver the close's pending events before the temporary folder goes
    return worst


# --- 3. stalls while estimating -----------------------------------------------------------------------------------
def estimate_project(folder: Path, scenes: int) -> Path:
    """An LTX-Video (ltx-video-13b on fal) project: a third of the scenes restyle a source video, a third extend a
    clip, a third have a start frame and a keyframe."""
    from core.video.project import Keyframe, Scene
    from core.video.project_io import ProjectStore
    from core.video.render_settings import RenderSettings
    from tests.media_factory import make_clip, make_image

    store = ProjectStore.create(folder, folder.name)
    for i in range(3):  # a few distinct files: the plan probes each scene's input (no cache between scenes)
        make_clip(store.folder / "clips" / f"source{i}.mp4", duration=3.0)
        make_image(store.folder / "images" / f"key{i}.png", 640, 360)
    store.project.render = RenderSettings(provider="ltx-video", model="ltx-video-13b", seed=42)
    out = []
    for i in range(scenes):
        n = i % 3
        if i % 3 == 0:
            out.append(Scene(title=f"Scene {i + 1}", prompt=PROMPTS[i % len(PROMPTS)], duration=3.0,
                             source_video=f"clips/source{n}.mp4"))
        elif i % 3 == 1:
            out.append(Scene(title=f"Scene {i + 1}", prompt=PROMPTS[i % len(PROMPTS)], duration=2.0,
                             extend_video=f"clips/source{n}.mp4"))
        else:
            out.append(Scene(title=f"Scene {i + 1}", prompt=PROMPTS[i % len(PROMPTS)], duration=4.2,
                             start_frame=f"images/key{n}.png",
                             keyframes=[Keyframe(seconds=2.0, image=f"images/key{(n + 1) % 3}.png")]))
    store.project.scenes = out
    store.save()
    return store.folder


def bench_estimate(scenes: int, repeat: int, render: bool = True) -> float:
    from PySide6.QtWidgets import QApplication

    from core.config import Settings
    from core.render.queue import RenderQueue
    from providers import registry
    from tests.service_procs import FakeProcess

    app = QApplication.instance() or QApplication([])
    from gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGEAI_CONFIG_DIR"] = str(Path(tmp) / "config")
        # the Fal fake in its own process (as the real service is): the renders of phase 4 go to it
        fake = FakeProcess("tests.fakes.fal_fake", Path(tmp) / "fal-state.json", latency=0.05) if render else None
        if fake is not None:
            os.environ["FAL_KEY"] = "fal-bench-key-0001"
            os.environ["IMAGEAI_FAL_URL"] = fake.url
        folder = estimate_project(Path(tmp) / "Estimate project", scenes)
        window = MainWindow(Settings(autosave_interval_s=0, confirm_cost_above=1000.0, poll_interval_s=0.05),
                            open_last=False)
        window.resize(1280, 800)
        window.show()
        window.open_project(folder)
        tab = window.video_tab
        while not tab.render_group.ready:
            idle(0.05)
        meter = StallMeter()

        def estimate_once() -> tuple:
            meter.start()
            t = time.perf_counter()
            tab.update_estimate()
            token = tab._estimate_token
            while True:  # a change that arrived meanwhile asks for a newer estimate: wait for the newest
                result = wait_for(tab.estimate_shown, 300)
                if result.token >= token and result.token == tab._estimate_token:
                    break
            if result.error is not None or len(result.plan.to_render) != scenes:
                raise RuntimeError(f"estimate failed: {result.error}")
            return meter.stop(), meter.p99(), time.perf_counter() - t, result.seconds

        # LTX-Video shown: the window looks for a GPU on a thread, which imports torch (its own stall, not the
        # estimate's): let it finish first
        while tab.render_group._checking_device:
            idle(0.05)
        # the first estimate after opening also imports what planning needs (Pillow, the LTX plan): apart
        first = estimate_once()
        print(f"first estimate after opening: longest stall {first[0] * 1000:6.1f} ms, plan {first[3]:.2f} s")
        rows = []
        for run in range(repeat):
            meter.start()
            idle(1.0)
            baseline = meter.stop()
            off = estimate_once()

            # the same plan made on the GUI thread, as the window did before: the loop stalls for all of it
            meter.start()
            idle(0.02)
            t = time.perf_counter()
            RenderQueue(tab.session.store, provider_getter=registry.get).plan()
            on_gui = time.perf_counter() - t
            idle(0.02)
            on = meter.stop()
            rows.append((baseline, off, on, on_gui))
            print(f"run {run + 1}: idle longest {baseline * 1000:6.1f} ms | estimate {scenes} scenes off the GUI "
                  f"thread: longest stall {off[0] * 1000:6.1f} ms (p99 {off[1] * 1000:5.1f}), plan {off[3]:.2f} s, "
                  f"on screen after {off[2]:.2f} s | same plan on the GUI thread: stall {on * 1000:7.1f} ms")
        med = statistics.median
        base, stall, before = med(r[0] for r in rows), med(r[1][0] for r in rows), med(r[2] for r in rows)
        plan_s = med(r[1][3] for r in rows)
        print(f"estimate (median of {repeat}): {scenes} scenes with video inputs and keyframes, plan {plan_s:.2f} s on "
              f"the plan worker; longest stall {stall * 1000:.1f} ms (idle baseline {base * 1000:.1f} ms) against "
              f"{before * 1000:.0f} ms on the GUI thread = {before / max(stall, 1e-3):.1f}x less; "
              f"target < 100 ms: {'met' if stall < 0.1 else 'NOT met'}")
        if fake is not None:
            try:
                stall = max(stall, bench_ltx_render(tab, meter, scenes, repeat))
            finally:
                fake.stop()
        window.close()
        app.sendPostedEvents()
    return stall


def bench_ltx_render(tab, meter: StallMeter, scenes: int, repeat: int) -> float:
    """4. Rendering the same 30-scene project through the Fal fake (video inputs uploaded, keyframes sent, results
    downloaded and decode-checked, thumbnails made) while the stall meter runs."""
    rows = []
    for run in range(repeat):
        tab.force_check.setChecked(run > 0)  # later runs render new takes of every scene
        shown: list = []
        tab.estimate_shown.connect(shown.append)  # before asking: a quick estimate may arrive at once
        tab.update_estimate()
        deadline = time.perf_counter() + 300
        while not any(r.token == tab._estimate_token for r in shown):
            if time.perf_counter() > deadline:
                raise TimeoutError("no estimate within 300 s")
            idle(0.05)
        tab.estimate_shown.disconnect(shown.append)
        meter.start()
        idle(1.0)
        baseline = meter.stop()  # the same window idle just before: how much the machine's own load stalls it
        meter.start()
        t = time.perf_counter()
        tab.generate_button.click()
        summary = wait_for(tab.controller.finished, 900)
        idle(1.0)  # the thumbnails of the new clips load
        stall, p99, wall = meter.stop(), meter.p99(), time.perf_counter() - t
        if not getattr(summary, "ok", False) or len(summary.done) != scenes:
            raise RuntimeError(f"LTX render failed: {summary}")
        rows.append((stall, p99, wall, baseline))
        print(f"run {run + 1}: idle longest {baseline * 1000:6.1f} ms | render {scenes} LTX-Video scenes through the "
              f"Fal fake: longest stall {stall * 1000:6.1f} ms (p99 {p99 * 1000:5.1f}), {wall:.1f} s")
    med = statistics.median
    stall, base = med(r[0] for r in rows), med(r[3] for r in rows)
    print(f"LTX render (median of {repeat}): {scenes} scenes with video inputs and keyframes through the Fal fake, "
          f"longest stall {stall * 1000:.1f} ms (p99 {med(r[1] for r in rows) * 1000:.1f}; idle baseline "
          f"{base * 1000:.1f} ms, load average {os.getloadavg()[0]:.1f}); "
          f"target < 100 ms: {'met' if stall < 0.1 else 'NOT met'}")
    return stall


def take_screenshots(window, folder: Path) -> None:
    tab = window.video_tab
    folder.mkdir(parents=True, exist_ok=True)
    tab.scenes.select_ids([window.session.project.scenes[1].id])
    combo = tab.render_group.provider
    for provider, name in (("animatic", "video-tab-animatic.png"), ("ltx-video", "video-tab-ltx.png")):
        index = combo.findData(provider)
        if index < 0:
            continue
        combo.setCurrentIndex(index)
        if provider == "ltx-video":
            tab.render_group.ltx.set_advanced_shown(True)
        if tab.export_group.last_result is not None:  # show a frame of the export in the preview
            tab.preview.play(tab.export_group.last_result.output_path)
        idle(1.2)
        window.grab().save(str(folder / name))
        tab.preview.stop()
        print(f"screenshot: {folder / name}")


def screenshot_cost_confirmation(folder: Path) -> None:
    """The window at 1280x800 with the cost confirmation of an LTX-Video render whose plan adjusts the render
    lengths and ignores a seed: window and dialog drawn into one picture."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication

    from core.config import Settings
    from core.video.project import Scene
    from core.video.project_io import ProjectStore
    from core.video.render_settings import RenderSettings

    app = QApplication.instance() or QApplication([])
    from gui.main_window import MainWindow

    os.environ.setdefault("FAL_KEY", "screenshot-placeholder-key")  # only so the deployment shows as usable
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGEAI_CONFIG_DIR"] = str(Path(tmp) / "config")
        store = ProjectStore.create(Path(tmp) / "Harbour film", "Harbour film")
        store.project.render = RenderSettings(provider="ltx-video", seed=1234, camera_motion="dolly_forward")
        lengths = [4.2, 6.0, 7.5, 3.0, 9.0]
        store.project.scenes = [Scene(title=f"Scene {i + 1}", prompt=PROMPTS[i], duration=d)
                                for i, d in enumerate(lengths)]
        store.save()
        window = MainWindow(Settings(autosave_interval_s=0, confirm_cost_above=0.0), open_last=False)
        window.resize(1280, 800)
        window.show()
        window.open_project(store.folder)
        tab = window.video_tab
        while not tab.render_group.ready:
            idle(0.05)
        tab.update_estimate()
        wait_for(tab.estimate_shown, 60)
        tab.generate()
        dialog = wait_for(tab.confirmation_requested, 60)
        geo = window.geometry()
        dialog.move(geo.x() + (geo.width() - dialog.width()) // 2, geo.y() + (geo.height() - dialog.height()) // 2)
        idle(0.8)
        picture = window.grab()
        painter = QPainter(picture)
        painter.drawPixmap(QPoint(dialog.geometry().x() - geo.x(), dialog.geometry().y() - geo.y()), dialog.grab())
        painter.end()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "video-tab-cost-confirm.png"
        picture.save(str(path))
        print(f"screenshot: {path} ({picture.width()}x{picture.height()})")
        dialog.cancel_button.click()
        window.close()
        app.sendPostedEvents()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenes", type=int, default=10)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--screenshots", type=Path)
    ap.add_argument("--repeat", type=int, default=3, help="render+export rounds (the median is reported)")
    ap.add_argument("--estimate-scenes", type=int, default=30)
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--skip-render", action="store_true", help="skip phase 2 (render and export)")
    ap.add_argument("--skip-ltx-render", action="store_true", help="skip phase 4 (the LTX render of the estimate "
                    "project through the Fal fake)")
    args = ap.parse_args()
    if not args.skip_startup:
        bench_startup(args.runs)
    if not args.skip_render:
        bench_stalls(args.scenes, args.duration, args.screenshots, args.repeat)
    if args.estimate_scenes:
        bench_estimate(args.estimate_scenes, args.repeat, render=not args.skip_ltx_render)
    if args.screenshots is not None:
        screenshot_cost_confirmation(args.screenshots)


if __name__ == "__main__":
    main()
