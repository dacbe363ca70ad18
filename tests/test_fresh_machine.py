"""What a fresh machine meets: README's commands and .ci/run install the same system packages and torch build; the
app and the tests where QtMultimedia cannot load (a subprocess with the module made unloadable: the window
builds and the preview plays FFmpeg frames; the preview tests collect, one skips with its reason); `local check`
where torch is not installed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cli.local import TORCH_VERSION

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

# a module that cannot load, the way PySide6.QtMultimedia fails on a machine without libpulse0
_SHIM = '''import importlib.abc, sys
BLOCKED = {blocked!r}
class _Unloadable(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED:
            raise {error}({message!r})
        return None
sys.meta_path.insert(0, _Unloadable())
'''
QT_MULTIMEDIA = ("PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets")

# opens the app through gui.app.run_gui (what `python main.py` runs), plays a clip in the window's preview and prints
# what the user sees
_WINDOW_PROBE = r'''import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui.app import run_gui

clip = sys.argv[1]
app = QApplication([])
out = {}

def probe():
    window = next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")
    preview = window.video_tab.preview
    preview.play(clip)
    deadline = time.monotonic() + 60

    def check():
        if preview.frames_shown <= 3 and time.monotonic() < deadline:
            QTimer.singleShot(20, check)
            return
        image = preview.screen.pixmap().toImage()
        c = image.pixelColor(image.width() // 2, image.height() // 2)
        out.update(window_visible=window.isVisible(), preview_visible=preview.isVisible(), backend=preview.backend,
                   reason=preview.fallback_reason, message=preview.message(), frames=preview.frames_shown,
                   playing=preview.is_playing(), center=[c.red(), c.green(), c.blue()],
                   qt_multimedia_loaded="PySide6.QtMultimedia" in sys.modules)
        preview.stop()
        window.close()
        app.exit(0)
    check()

QTimer.singleShot(0, probe)
code = run_gui([])
print(json.dumps(out))
sys.exit(code)
'''


def _shim(folder: Path, blocked: tuple[str, ...], error: str = "ImportError",
          message: str = "libpulse.so.0: cannot open shared object file: No such file or directory") -> dict[str, str]:
    """The environment of a Python in which importing any of `blocked` raises `error`(message)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SHIM.format(blocked=blocked, error=error, message=message),
                                             encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]), "QT_QPA_PLATFORM": "offscreen"}


def _readme_block(marker: str) -> str:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    return next(b for b in blocks if marker in b)


def _apt_list(text: str) -> list[str]:
    m = re.search(r"apt-get install -y(?: -qq)? ((?:[a-z0-9][a-z0-9.+-]* ?)+)", text)
    assert m, "no apt-get install line"
    return m.group(1).split()


# -- README and .ci/run ---------------------------------------------------------------------------------------------
def test_readme_and_ci_install_the_same_system_packages():
    setup = _readme_block("main.py")
    assert setup.lstrip().startswith("sudo apt-get update && sudo apt-get install -y"), "system packages come first"
    packages = _apt_list(setup)
    assert "libpulse0" in packages and "libxcb-cursor0" in packages and "python3-venv" in packages
    ci = re.search(r'PACKAGES="([^"]+)"', CI)
    assert ci, ".ci/run names its package list in PACKAGES=\"...\""
    assert sorted(ci.group(1).split()) == sorted(packages)


def test_readme_ci_and_local_check_pin_the_same_torch():
    test_cmd = _readme_block("pytest")
    assert f"torch=={TORCH_VERSION}" in test_cmd and f"torch=={TORCH_VERSION}" in CI
    assert "pytest" in CI and "lint-imports" in CI
    assert CI.index("lint-imports") < CI.index("-m pytest")


def _needed(elf: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.+)\]", out)


def _owners(libs: list[Path]) -> dict[Path, set[str]]:
    """The Debian packages that installed each library, in one dpkg call (merged /usr: dpkg may know a file under
    /lib or /usr/lib, by its link or its target)."""
    names: dict[str, Path] = {}
    for lib in libs:
        for path in (str(lib), str(lib.resolve())):
            for alias in (path, re.sub(r"^/usr/lib/", "/lib/", path), re.sub(r"^/lib/", "/usr/lib/", path)):
                names[alias] = lib
    out = subprocess.run(["dpkg", "-S", *names], capture_output=True, text=True).stdout  # rc 1: some aliases unknown
    owners: dict[Path, set[str]] = {lib: set() for lib in libs}
    for line in out.splitlines():  # "pkg:amd64, other:amd64: /usr/lib/..."
        pkgs, _, path = line.rpartition(": ")
        if path in names:
            owners[names[path]].update(pkg.split(":")[0] for pkg in pkgs.split(", "))
    return owners


def _find_lib(name: str) -> Path | None:
    """Where the dynamic loader finds a library by its soname (the system folders; not every soname link is in
    ldconfig's cache, libbz2.so.1 for one)."""
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    for folder in (f"/lib/{arch}", f"/usr/lib/{arch}", "/lib64", "/usr/lib64", "/lib", "/usr/lib"):
        if (Path(folder) / name).exists():
            return Path(folder) / name
    return None


@pytest.mark.skipif(not (shutil.which("readelf") and shutil.which("dpkg")),
                    reason="needs readelf and dpkg (Debian/Ubuntu with binutils)")
def test_the_package_list_covers_every_system_library_qt_links_to():
    """Every library the Qt parts the app loads link to directly (platform plugins, QtMultimedia and its FFmpeg
    plugin, the bound modules) is in README's list or in every Debian system (dpkg's own dependencies)."""
    qt = Path(__import__("PySide6").__file__).parent
    files = [*qt.glob("Qt/plugins/platforms/libq[xo]*.so"), *qt.glob("Qt/plugins/xcbglintegrations/*.so"),
             *qt.glob("Qt/plugins/multimedia/*.so"), *qt.glob("Qt/plugins/imageformats/*.so"),
             *qt.glob("Qt/lib/libQt6*.so.6"), *qt.glob("Qt/lib/libav*.so.*"), *qt.glob("Qt/lib/libsw*.so.*"),
             *qt.glob("Qt*.abi3.so")]
    # the libraries Python's import of PySide6 loads: the bound modules the app uses and what they pull in
    files = [f for f in files if not f.name.startswith("libQt6") or re.match(
        r"libQt6(Core|Gui|Widgets|DBus|XcbQpa|OpenGL|Multimedia|MultimediaWidgets|MultimediaQuick|Qml\w*|Quick|"
        r"Network)\.so", f.name)]
    bundled = {p.name for p in qt.rglob("*.so*")} | {p.name for p in qt.parent.rglob("*.so*")}
    base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "libbz2-1.0", "liblzma5"}
    wanted = set(_apt_list(_readme_block("main.py"))) | base
    libs = {lib: _find_lib(lib) for lib in sorted({n for f in files for n in _needed(f)} - bundled)}
    missing = [lib for lib, path in libs.items() if path is None]
    owners = _owners([path for path in libs.values() if path is not None])
    outside = [f"{path} ({', '.join(sorted(pkgs)) or 'no package'})" for path, pkgs in owners.items()
               if not pkgs & wanted]
    assert outside == [], "add these packages to README's apt-get line and .ci/run"
    assert missing == [], "not installed here: run README's apt-get line (if it is, add their packages to it)"


# -- QtMultimedia cannot load ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("error", ["ImportError", "OSError"])
def test_the_window_opens_and_the_preview_plays_ffmpeg_frames_without_qtmultimedia(tmp_path, error):
    from tests.media_factory import make_clip

    clip = make_clip(tmp_path / "blue.mp4", duration=1.5, color="0x3366cc")
    probe = tmp_path / "probe.py"
    probe.write_text(_WINDOW_PROBE, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(probe), str(clip)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=_shim(tmp_path / "shim", QT_MULTIMEDIA, error))
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["window_visible"] and seen["preview_visible"]
    assert seen["backend"] == "ffmpeg" and not seen["qt_multimedia_loaded"]
    assert "libpulse.so.0" in seen["reason"]
    assert "QtMultimedia" in seen["message"] and "FFmpeg" in seen["message"]
    assert seen["frames"] > 3 and seen["playing"]
    assert all(abs(a - b) <= 16 for a, b in zip(seen["center"], (0x33, 0x66, 0xCC))), seen["center"]


def test_the_preview_tests_collect_and_pass_without_qtmultimedia(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/gui/test_preview.py"], cwd=ROOT, capture_output=True, text=True, timeout=280,
                          env=_shim(tmp_path / "shim", QT_MULTIMEDIA))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"\b2 passed, 1 skipped\b", proc.stdout), proc.stdout[-2000:]
    assert "QtMultimedia cannot load on this machine (ImportError: libpulse.so.0" in proc.stdout


# -- torch not installed --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("json_flag", [False, True])
def test_local_check_without_torch_says_what_to_install(tmp_path, json_flag):
    env = _shim(tmp_path / "shim", ("torch",), "ModuleNotFoundError", "No module named 'torch'")
    proc = subprocess.run([sys.executable, "main.py", "local", "check", *(["--json"] if json_flag else [])],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "torch is not installed" in proc.stderr
    assert f"pip install torch=={TORCH_VERSION}" in proc.stderr and 'pip install -e ".[local]"' in proc.stderr
    if json_flag:
        assert json.loads(proc.stdout)["error_kind"] == "unavailable"
