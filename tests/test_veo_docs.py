"""Docs/veo.md's model table is the catalog's: generated from providers/veo/catalog_data.py, so it cannot drift."""
from __future__ import annotations

from pathlib import Path

from providers.veo import catalog

DOC = Path(__file__).resolve().parent.parent / "Docs" / "veo.md"
SHOWN = {"2160p": "4K"}
MODES = {"text-to-video": "text", "image-to-video": "start frame", "first-last-frame": "start + end frame",
         "reference-images": "references", "extend": "extend your clip"}


def _price(e: dict) -> str:
    parts = []
    for res in e["resolutions"]:
        star = "" if e["price_published"][res] else "*"
        text = f"{SHOWN.get(res, res)} ${e['price_per_second'][res]:.2f}{star}"
        if "price_per_second_silent" in e:
            text += f" (silent ${e['price_per_second_silent'][res]:.2f}{star})"
        parts.append(text)
    return ", ".join(parts)


def model_table() -> str:
    rows = ["| model | deployment | resolutions | modes | long scenes | audio | seed | USD per second |",
            "|---|---|---|---|---|---|---|---|"]
    for model in catalog.model_ids():
        e = catalog.entry(model)
        modes = ", ".join(MODES[m] for m in e["modes"] if m in MODES)
        rows.append(f"| `{model}` | {catalog.label_of(e['deployment']).removeprefix('the ')} | "
                    f"{', '.join(SHOWN.get(r, r) for r in e['resolutions'])} | {modes} | "
                    f"{'base + extensions' if e['chain'] else 'at most 8 s'} | "
                    f"{'always' if e['audio'] == 'always' else 'on/off'} | {'✓' if 'seed' in e['params'] else '–'} | "
                    f"{_price(e)} |")
    return "\n".join(rows)


def test_the_doc_holds_the_catalog_table():
    assert model_table() in DOC.read_text(encoding="utf-8"), "regenerate the table: python -m tests.test_veo_docs"


if __name__ == "__main__":
    print(model_table())
