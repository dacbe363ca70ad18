"""Docs/CodeMap.md names every module of the app (main.py and every .py under core/, providers/, gui/, cli/) with a
one-line job, and no module that is gone. A new module fails this test until its line is added."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "Docs" / "CodeMap.md"
PACKAGES = ("core", "providers", "gui", "cli")
ROW = re.compile(r"^\|\s*`([^`]+\.py)`\s*\|(.*)\|\s*$")


def modules_on_disk(root: Path = ROOT) -> list[str]:
    found = ["main.py"] if (root / "main.py").is_file() else []
    for package in PACKAGES:
        found += [p.relative_to(root).as_posix() for p in (root / package).rglob("*.py")
                  if "__pycache__" not in p.parts]
    return sorted(found)


def map_entries(text: str) -> list[tuple[str, str]]:
    """(module, job) for every table row of the map that names a module."""
    return [(m.group(1), m.group(2).strip()) for line in text.splitlines() if (m := ROW.match(line.strip()))]


def problems(on_disk: list[str], entries: list[tuple[str, str]]) -> list[str]:
    named = [module for module, _ in entries]
    out = [f"missing from Docs/CodeMap.md: {m} (give it a row with its job in its section)"
           for m in on_disk if m not in named]
    out += [f"Docs/CodeMap.md names {m}, which is not on disk (remove or rename its line)"
            for m in sorted(set(named)) if m not in on_disk]
    out += [f"Docs/CodeMap.md names {m} {named.count(m)} times" for m in sorted(set(named)) if named.count(m) > 1]
    out += [f"Docs/CodeMap.md gives {m} no job" for m, job in entries if len(job) < 8]
    return out


def test_the_code_map_names_every_module_and_only_those():
    found = problems(modules_on_disk(), map_entries(MAP.read_text(encoding="utf-8")))
    assert found == [], "\n".join(found)


def test_the_check_catches_a_new_module_a_gone_one_a_twice_named_one_and_an_empty_job(tmp_path):
    for rel in ("main.py", "core/__init__.py", "core/new_thing.py", "gui/video/pane.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "core" / "__pycache__").mkdir()
    (tmp_path / "core" / "__pycache__" / "x.py").write_text("")
    text = """| module | job |
|---|---|
| `main.py` | Opens the window or runs the CLI. |
| `core/__init__.py` | Package marker (empty). |
| `gui/video/pane.py` | |
| `core/old_thing.py` | Something that was removed. |
| `main.py` | Named again. |
"""
    assert modules_on_disk(tmp_path) == ["core/__init__.py", "core/new_thing.py", "gui/video/pane.py", "main.py"]
    assert problems(modules_on_disk(tmp_path), map_entries(text)) == [
        "missing from Docs/CodeMap.md: core/new_thing.py (give it a row with its job in its section)",
        "Docs/CodeMap.md names core/old_thing.py, which is not on disk (remove or rename its line)",
        "Docs/CodeMap.md names main.py 2 times",
        "Docs/CodeMap.md gives gui/video/pane.py no job",
    ]


def test_readme_links_the_code_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs_line = readme[readme.index("## Documentation"):]
    assert "(Docs/CodeMap.md)" in docs_line
