"""The layers of DESIGN.md: core has no Qt and no provider SDK; providers have no Qt; --help stays light."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")
SDKS = ("fal_client", "replicate", "google.genai", "torch", "diffusers", "transformers", "peft", "accelerate")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(folder: str, banned: tuple[str, ...], allow_files: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in (ROOT / folder).rglob("*.py"):
        if path.name in allow_files:
            continue
        for name in imports_of(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def test_core_has_no_qt_and_no_sdk():
    assert offenders("core", QT + SDKS) == []


def test_core_uses_only_the_provider_contract():
    # core may name the contract (providers.base); only the CLI entry modules reach the registry or a provider
    bad = []
    for path in (ROOT / "core").rglob("*.py"):
        for name in imports_of(path):
            if name.startswith("providers") and name != "providers.base":
                if not path.name.startswith("cli") and not (name == "providers" and path.name == "queue.py"):
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_providers_have_no_qt():
    assert offenders("providers", QT) == []


def test_help_imports_nothing_heavy():
    proc = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), "--help"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "usage" in proc.stdout
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    heavy = [m for m in loaded if m.split(".")[0] in ("torch", "diffusers", "PySide6", "transformers",
                                                     "fal_client", "replicate")]
    assert heavy == []
