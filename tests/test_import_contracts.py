"""The layers of DESIGN.md as import-linter contracts (pyproject.toml's [tool.importlinter]): `lint-imports` passes
on the code, and each contract catches the import it forbids (a copy of the packages with one bad module each)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "providers", "gui", "cli")


def lint_imports() -> str:
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        exe = ROOT / ".venv" / "bin" / "lint-imports"
    assert exe.exists(), 'lint-imports is missing: pip install -e ".[dev]" (import-linter)'
    return str(exe)


def run_lint(cwd: Path) -> subprocess.CompletedProcess:
    # --no-cache: nothing written into the working tree
    return subprocess.run([lint_imports(), "--no-cache", "--no-logo"], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_code_keeps_every_layer_contract():
    proc = run_lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


# one module per contract importing what the contract forbids; imports inside functions count too
VIOLATIONS = {
    "core/_bad_import.py": "def load():\n    from providers import registry\n    import PySide6\n    import torch\n",
    "providers/_bad_import.py": "import gui.app\n",
    "providers/ltx/_bad_import.py": "from providers import ltx_video\n",
    "gui/_bad_import.py": "def run():\n    import cli.main\n",
}


def test_each_contract_catches_the_import_it_forbids(tmp_path):
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, text in VIOLATIONS.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    proc = run_lint(tmp_path)
    out = proc.stdout
    assert proc.returncode == 1, out[-6000:] + proc.stderr[-2000:]
    assert "0 kept, 4 broken" in out, out[-6000:]
    for line in ("core._bad_import -> providers.registry", "core._bad_import -> PySide6", "core._bad_import -> torch",
                 "providers._bad_import -> gui.app", "providers.ltx._bad_import -> providers.ltx_video",
                 "gui._bad_import -> cli.main"):
        assert line in out, f"{line!r} not reported:\n{out[-6000:]}"
