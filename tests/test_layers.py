"""--help stays light: it loads no Qt, no provider SDK and no torch. The layers themselves (core has no Qt, no SDK
and no provider; providers have no Qt; the front ends are independent) are import-linter contracts in
pyproject.toml, checked by tests/test_import_contracts.py."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_help_imports_nothing_heavy():
    proc = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), "--help"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "usage" in proc.stdout
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    heavy = [m for m in loaded if m.split(".")[0] in ("torch", "diffusers", "PySide6", "transformers",
                                                     "fal_client", "replicate")]
    assert heavy == []
