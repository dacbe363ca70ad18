"""Every relative link in README.md and Docs/*.md names a file that exists, and a #anchor one of its headings
(GitHub's slugs), so a renamed or moved doc (local-setup.md -> LTX-Video-Local-Setup.md) leaves no dead link."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.M)}


def dead_links(path: Path, root: Path = ROOT) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    out = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            out.append(f"{path.relative_to(root)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            out.append(f"{path.relative_to(root)}: {target} (no heading #{anchor})")
    return out


def test_the_docs_links_resolve():
    found = [d for p in [ROOT / "README.md", *sorted((ROOT / "Docs").glob("*.md"))] for d in dead_links(p)]
    assert found == [], "\n".join(found)


def test_the_checker_sees_a_dead_link_and_a_dead_anchor(tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("# Top\n## 2. Install\n[x](a.md#2-install) [y](gone.md) [z](#nope) [w](https://example.com)\n")
    assert dead_links(doc, tmp_path) == ["a.md: gone.md (no such file)", "a.md: #nope (no heading #nope)"]
