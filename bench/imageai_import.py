"""What an ImageAI import costs beyond copying its files: a project of N scenes (each with a chosen image and two
others, every third with a clip), its files found by name under a search folder that also holds many unrelated
files, and a quarter of the images missing.

Each round, in the same run so load from other processes hits both alike:
  baseline   shutil.copy2 of exactly the files the import copies (the floor: the bytes must move)
  import     import_imageai(...) of the same file into a new folder (parse, walk the search folder, copy, save)
and prints the median wall time of each and the ratio import / baseline.

    python bench/imageai_import.py [--scenes 300] [--noise 5000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.video.imageai_import import import_imageai  # noqa: E402

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(200_000)  # only copied, never decoded: the size is what counts
CLIP = bytes(2_000_000)


def make_source(root: Path, scenes: int, noise: int) -> tuple[Path, Path, list[Path]]:
    search = root / "backup"
    for i in range(noise):  # unrelated files the walk has to pass
        d = search / f"junk{i % 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"note_{i}.txt").write_bytes(b"x")
    files, rows = [], []
    for i in range(scenes):
        base = f"G:\\Users\\lee\\ImageAI\\video_projects\\Song\\images\\scene_{i}"
        images = [f"{base}_v{v}.png" for v in (1, 2, 3)]
        if i % 4:  # a quarter of the chosen images are lost
            files.append(search / "images" / f"scene_{i}_v1.png")
        clip = f"G:\\clips\\scene_{i}.mp4" if i % 3 == 0 else None
        if clip:
            files.append(search / "clips" / f"scene_{i}.mp4")
        rows.append({"source": f"line {i}", "prompt": f"prompt {i}", "duration_sec": 2.0,
                     "images": [{"path": p} for p in images], "approved_image": images[0], "video_clip": clip})
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(CLIP if f.suffix == ".mp4" else IMAGE)
    source = root / "old" / "project.iaproj.json"
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps({"schema": "imageai.video_project.v1", "name": "Bench", "scenes": rows}))
    return source, search, files


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--noise", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, search, files = make_source(root, args.scenes, args.noise)
        base_t, imp_t = [], []
        for r in range(args.rounds):
            dest = root / f"copy{r}"
            dest.mkdir()
            t0 = time.perf_counter()
            for i, f in enumerate(files):
                shutil.copy2(f, dest / f"{i}{f.suffix}")
            base_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = import_imageai(source, root / f"import{r}", [search])
            imp_t.append(time.perf_counter() - t0)
            assert len(report.copied) == len(files) and report.scenes == args.scenes
        b, i = statistics.median(base_t), statistics.median(imp_t)
        print(f"scenes {args.scenes}, files copied {len(files)}, missing {len(report.missing)}, "
              f"unrelated files searched {args.noise}")
        print(f"baseline (copy only)  {b * 1000:8.1f} ms")
        print(f"import                {i * 1000:8.1f} ms")
        print(f"ratio import/baseline {i / b:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
