"""Docs/Video-Provider-Comparison.md, generated from the catalogs (providers/veo/catalog_data.py and
providers/ltx/catalog_data.py), so the page cannot drift from what the app offers and charges:

    python -m providers.comparison_doc --write     (or without --write: print it)

tests/test_provider_comparison_doc.py fails when the page and the catalogs disagree. The judgement ("when to pick
which") is written here; every figure in it comes from the catalogs.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable, Optional

from providers.ltx import catalog as ltx
from providers.veo import catalog as veo

DOC = Path(__file__).resolve().parent.parent / "Docs" / "Video-Provider-Comparison.md"
RES_ORDER = ("480p", "720p", "1080p", "1440p", "2160p")
SHOWN_RES = {"2160p": "4K (2160p)"}
LTX_DEPLOYMENTS = {"fal": "fal", "replicate": "Replicate", "local": "your GPU (local)", "comfyui": "ComfyUI"}
MODE_WORDS = {"text-to-video": "text", "image-to-video": "start frame", "first-last-frame": "start + end frame",
              "multi-keyframe": "keyframes", "reference-images": "references", "extend": "extend a clip",
              "video-to-video": "video-to-video", "audio": "sound", "camera-lora": "camera LoRA",
              "lora": "your LoRA"}
SCENE_RES = "1080p"   # the scene of the cost columns: 16:9 at 1080p (or the nearest the model renders)
SHORT, LONG = 8.0, 20.0


class Row:
    """One model on one deployment, in the words and figures both catalogs share."""

    def __init__(self, provider: str, model: str, deployment: str, deployment_label: str, entry: dict):
        self.provider, self.model, self.deployment, self.deployment_label = provider, model, deployment, \
            deployment_label
        self.e = entry

    # --- shared vocabulary ---
    @property
    def resolutions(self) -> list[str]:
        return list(self.e["resolutions"])

    @property
    def fps(self) -> list[int]:
        return list(self.e["fps"])

    @property
    def aspect_ratios(self) -> list[str]:
        return list(self.e["aspect_ratios"])

    @property
    def modes(self) -> list[str]:
        return list(self.e["modes"]) if self.provider == "veo" else ltx.modes_of(self.e)

    @property
    def references(self) -> int:
        return int(self.e.get("max_reference_images", 0))

    @property
    def seed(self) -> bool:
        return "seed" in self.e.get("params", [])

    @property
    def hosted(self) -> bool:
        return self.deployment not in ("local", "comfyui")

    def audio(self) -> str:
        if self.provider == "veo":
            return "always" if self.e["audio"] == "always" else "on/off"
        if "audio" not in self.modes:
            return "–"
        return "on/off" if "generate_audio" in self.e.get("params", []) else "always"

    def one_call(self) -> tuple[float, float]:
        durations = self.e.get("durations")
        if durations:
            return float(min(durations)), float(max(durations))
        return float(self.e.get("min_duration", 1)), float(self.e.get("max_duration", 10))

    def longest_scene(self) -> float:
        if self.provider == "veo" and self.e["chain"]:
            x = veo.EXTENSION
            return x["base_seconds"] + x["seconds"] * x["max_calls"]
        return self.one_call()[1]

    def lengths(self) -> str:
        durations = self.e.get("durations")
        text = _series(durations) if durations else f"{_n(self.one_call()[0])}-{_n(self.one_call()[1])} s"
        rule = self.e.get("long_duration")
        if rule:
            text += f" (above {_n(rule['above'])} s: {', '.join(rule['resolutions'])} at " \
                    f"{'/'.join(str(f) for f in rule['fps'])} fps)"
        if self.provider == "veo":
            if self.e["eight_seconds_only"]:
                text += f" ({', '.join(_res(r) for r in self.e['eight_seconds_only'])}: 8 s only)"
            if self.e["chain"]:
                text += f"; scenes up to {_n(self.longest_scene())} s as base + extensions at 720p"
        return text

    # --- money ---
    def published(self, resolution: Optional[str] = None) -> bool:
        flag = self.e.get("price_published", True)
        if isinstance(flag, dict):
            return bool(flag.get(resolution, True)) if resolution else all(flag.values())
        return bool(flag)

    def price_text(self) -> str:
        if self.provider == "veo":
            parts = []
            for res in self.resolutions:
                star = "" if self.published(res) else "*"
                text = f"{_res(res)} ${self.e['price_per_second'][res]:.2f}{star}"
                if "price_per_second_silent" in self.e:
                    text += f" (silent ${self.e['price_per_second_silent'][res]:.2f}{star})"
                parts.append(text)
            return ", ".join(parts)
        star = "" if self.published() else "*"
        if not self.hosted:
            return "free (your hardware)"
        if self.e.get("price_per_video") is not None:
            return f"${self.e['price_per_video']:.2f}{star} per clip"
        if "price_per_megapixel" in self.e:
            table = ltx.model_info(self.model, self.deployment).price_per_second
            shown = ", ".join(f"{_res(r)} ${v:.3f}" for r, v in table.items())
            return f"${self.e['price_per_megapixel']:.4f}{star} per megapixel of frames ({shown} per second at " \
                   f"16:9, 25 fps)"
        return ", ".join(f"{_res(r)} ${v:.2f}{star}" for r, v in self.e["price_per_second"].items())

    def per_second(self) -> list[float]:
        if self.provider == "veo":
            return [float(v) for v in self.e["price_per_second"].values()]
        if not self.hosted:
            return [0.0]
        return [float(v) for v in ltx.model_info(self.model, self.deployment).price_per_second.values()]

    def scene_cost(self, seconds: float) -> Optional[tuple[float, float, str]]:
        """(USD, seconds rendered, resolution) of one scene of `seconds` at SCENE_RES (or the nearest resolution
        the model renders) with the model's default frame rate, as the estimate before a render prices it; None
        when the model cannot render such a scene in one take."""
        if self.provider == "veo":
            return self._veo_scene(seconds)
        res = _nearest(SCENE_RES, self.resolutions)
        fps = int(self.e.get("defaults", {}).get("fps") or self.fps[0])
        rule = self.e.get("long_duration")
        if rule and seconds > rule["above"] + 1e-6:
            if res not in rule["resolutions"]:
                res = rule["resolutions"][0]
            if fps not in rule["fps"]:
                fps = rule["fps"][0]
        length = _covering(seconds, self.e.get("durations"), *self.one_call())
        if length is None:
            return None
        return ltx.price(self.e, resolution=res, aspect_ratio="16:9", fps=fps, seconds=length), length, res

    def _veo_scene(self, seconds: float) -> Optional[tuple[float, float, str]]:
        x = veo.EXTENSION
        if seconds <= x["base_seconds"] + 1e-6:
            res = _nearest(SCENE_RES, self.resolutions)
            durations = veo.durations_for(self.e, res, "text-to-video")
            length = _covering(seconds, durations, min(durations), max(durations))
        elif self.e["chain"]:
            res = x["resolutions"][0]
            length = x["base_seconds"] + x["seconds"] * veo.extensions_for(seconds)
        else:
            return None
        return round(veo.price_per_second(self.e, res) * length, 4), length, res


def rows() -> list[Row]:
    out = [Row("veo", m, veo.deployment_of(m), veo.label_of(veo.deployment_of(m)).removeprefix("the "),
               veo.entry(m)) for m in veo.model_ids()]
    for model in ltx.model_ids():
        for dep in ltx.deployments_of(model):
            out.append(Row("ltx-video", model, dep, LTX_DEPLOYMENTS.get(dep, dep), ltx.entry(model, dep)))
    return out


# --- small formatting helpers ---------------------------------------------------------------------------------
def _n(value: float) -> str:
    return f"{value:g}"


def _res(res: str) -> str:
    return "4K" if res == "2160p" else res


def _series(values: Iterable[float]) -> str:
    vals = sorted(float(v) for v in values)
    steps = {round(b - a, 6) for a, b in zip(vals, vals[1:])}
    if len(vals) > 3 and len(steps) == 1:
        return f"{_n(vals[0])}-{_n(vals[-1])} s in {_n(steps.pop())} s steps"
    return ", ".join(_n(v) for v in vals) + " s"


def _nearest(wanted: str, offered: list[str]) -> str:
    if wanted in offered:
        return wanted
    rank = {r: i for i, r in enumerate(RES_ORDER)}
    return min(offered, key=lambda r: (abs(rank[r] - rank[wanted]), -rank[r]))


def _covering(seconds: float, durations: Optional[list], low: float, high: float) -> Optional[float]:
    if durations:
        covering = sorted(float(d) for d in durations if float(d) >= seconds - 1e-6)
        return covering[0] if covering else None
    return max(seconds, low) if seconds <= high + 1e-6 else None


def _sorted_res(values: Iterable[str]) -> list[str]:
    return sorted(set(values), key=RES_ORDER.index)


def _ids(rs: Iterable[Row]) -> str:
    seen = list(dict.fromkeys(r.model for r in rs))
    return ", ".join(f"`{m}`" for m in seen) if seen else "none"


def _money_range(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"${lo:.2f}" if lo == hi else f"${lo:.2f}-${hi:.2f}"


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(r) + " |" for r in body]


# --- the page ---------------------------------------------------------------------------------------------------
def _with(rs: list[Row], test: Callable[[Row], bool]) -> list[Row]:
    return [r for r in rs if test(r)]


def glance(v: list[Row], lx: list[Row]) -> list[str]:
    def col(rs: list[Row]) -> dict[str, str]:
        deps = list(dict.fromkeys(r.deployment_label for r in rs))
        lows, highs = zip(*(r.one_call() for r in rs))
        hosted = [p for r in rs if r.hosted for p in r.per_second() if p > 0]
        local = [r for r in rs if not r.hosted]
        refs = max(r.references for r in rs)

        def mode(m: str) -> str:
            have = _with(rs, lambda r: m in r.modes)
            return "–" if not have else ("every model" if len(have) == len(rs) else _ids(have))

        def mode_param(p: str) -> str:
            have = _with(rs, lambda r: p in r.e.get("params", []))
            return "–" if not have else ("every model" if len(have) == len(rs) else _ids(have))
        return {
            "deployments": ", ".join(deps),
            "models": _ids(rs),
            "resolutions": ", ".join(_res(x) for x in _sorted_res(x for r in rs for x in r.resolutions)),
            "frame rates": ", ".join(str(f) for f in sorted({f for r in rs for f in r.fps})) + " fps",
            "aspect ratios": ", ".join(dict.fromkeys(a for r in rs for a in r.aspect_ratios)),
            "one call renders": f"{_n(min(lows))}-{_n(max(highs))} s",
            "longest scene, one take": f"{_n(max(r.longest_scene() for r in rs))} s",
            "sound": "; ".join(f"{a} ({_ids(_with(rs, lambda r, a=a: r.audio() == a))})"
                               for a in ("always", "on/off") if _with(rs, lambda r, a=a: r.audio() == a)) or "–",
            "reference images": f"up to {refs} ({_ids(_with(rs, lambda r: r.references == refs))})" if refs
            else "–",
            "start + end frame": mode("first-last-frame"),
            "keyframes": mode("multi-keyframe"),
            "video-to-video": mode("video-to-video"),
            "extend a clip": mode("extend"),
            "your LoRA": mode("lora"),
            "seed": _ids(_with(rs, lambda r: r.seed)) if any(r.seed for r in rs) else "–",
            "negative prompt": mode_param("negative_prompt"),
            "USD per second (hosted)": _money_range(hosted) if hosted else "–",
            "on your own hardware": f"free ({_ids(local)})" if local else "–",
        }
    a, b = col(v), col(lx)
    return _table(["", "Veo 3.1 (`veo`)", "LTX-Video (`ltx-video`)"], [[k, a[k], b[k]] for k in a])


def models_table(rs: list[Row]) -> list[str]:
    body = []
    for r in rs:
        modes = ", ".join(MODE_WORDS.get(m, m) for m in r.modes if m != "audio")
        body.append([r.provider, f"`{r.model}`", r.deployment_label, ", ".join(_res(x) for x in r.resolutions),
                     ", ".join(map(str, r.fps)), ", ".join(r.aspect_ratios), r.lengths(), modes,
                     str(r.references) if r.references else "–", r.audio(), "✓" if r.seed else "–"])
    return _table(["provider", "model", "deployment", "resolutions", "fps", "aspect ratios", "lengths", "modes",
                   "refs", "sound", "seed"], body)


def _cost_cell(r: Row, seconds: float) -> str:
    got = r.scene_cost(seconds)
    if got is None:
        return "– (split the scene)"
    usd, length, res = got
    notes = [x for x in (_res(res) if res != SCENE_RES else "", f"renders {_n(length)} s" if abs(length - seconds)
                         > 1e-6 else "") if x]
    star = "" if (r.published(res) if r.provider == "veo" else r.published()) else "*"
    return f"${usd:.2f}{star}" + (f" ({', '.join(notes)})" if notes else "")


def prices_table(rs: list[Row]) -> list[str]:
    body = [[r.provider, f"`{r.model}`", r.deployment_label, r.price_text(), _cost_cell(r, SHORT),
             _cost_cell(r, LONG)] for r in rs]
    return _table(["provider", "model", "deployment", "USD per second of output",
                   f"an {_n(SHORT)} s scene", f"a {_n(LONG)} s scene"], body)


def _cheapest(rs: list[Row], seconds: float) -> Optional[tuple[Row, float]]:
    priced = [(r, got[0]) for r in rs if r.hosted and (got := r.scene_cost(seconds)) is not None]
    return min(priced, key=lambda x: x[1]) if priced else None


def picks(v: list[Row], lx: list[Row]) -> list[str]:
    x = veo.EXTENSION
    ltx_sound = _with(lx, lambda r: r.audio() != "–")
    ltx_long = max(r.one_call()[1] for r in lx)
    ltx_4k = _with(lx, lambda r: "2160p" in r.resolutions)
    veo_refs = max(r.references for r in v)
    ltx_refs = _with(lx, lambda r: r.references > 0)
    portrait = _with(lx, lambda r: "9:16" in r.aspect_ratios)
    cheap_v, cheap_l = _cheapest(v, SHORT), _cheapest(lx, SHORT)
    long_v, long_l = _cheapest(v, LONG), _cheapest(lx, LONG)
    lines = [
        f"- **Sound with the picture**: Veo renders sound with every clip (always on the Gemini API, a switch on "
        f"Vertex AI) and reads dialogue and sound cues from the prompt. LTX models with sound: {_ids(ltx_sound)}.",
        f"- **Long takes**: Veo renders one scene of up to {_n(x['base_seconds'] + x['seconds'] * x['max_calls'])} s "
        f"as one take: an {_n(x['base_seconds'])} s clip plus up to {x['max_calls']} extensions of "
        f"{_n(x['seconds'])} s each, at 720p ({_ids(_with(v, lambda r: r.e['chain']))}). LTX renders up to "
        f"{_n(ltx_long)} s in one call ({_ids(_with(lx, lambda r: r.one_call()[1] == ltx_long))}); a longer "
        f"scene is split into scenes.",
        f"- **Resolution and frame rate**: LTX goes up to 4K and {max(f for r in lx for f in r.fps)} fps "
        f"({_ids(ltx_4k)} render 4K); Veo renders {', '.join(str(f) for f in sorted({f for r in v for f in r.fps}))}"
        f" fps, and 1080p or 4K only in 8 s clips.",
        f"- **Keeping a subject, character or product**: Veo takes up to {veo_refs} reference images "
        f"({_ids(_with(v, lambda r: r.references == veo_refs))}; 8 s clips at 16:9); LTX takes "
        + ", ".join(f"{n} on {_ids(_with(ltx_refs, lambda r, n=n: r.references == n))}"
                    for n in sorted({r.references for r in ltx_refs}, reverse=True)) + ".",
        f"- **Portrait (9:16)**: every Veo model; on LTX {_ids(portrait)}.",
        f"- **Keyframes, video-to-video, your own LoRA**: LTX only (keyframes: "
        f"{_ids(_with(lx, lambda r: 'multi-keyframe' in r.modes))}; video-to-video: "
        f"{_ids(_with(lx, lambda r: 'video-to-video' in r.modes))}; LoRA: {_ids(_with(lx, lambda r: 'lora' in r.modes))}).",
        f"- **The same clip again (seed)**: Veo on Vertex AI ({_ids(_with(v, lambda r: r.seed))}); LTX "
        f"{_ids(_with(lx, lambda r: r.seed))}.",
    ]
    if cheap_v and cheap_l:
        lines.append(f"- **Budget**: the cheapest {_n(SHORT)} s scene is ${cheap_l[1]:.2f} on LTX "
                     f"(`{cheap_l[0].model}` on {cheap_l[0].deployment_label}) and ${cheap_v[1]:.2f} on Veo "
                     f"(`{cheap_v[0].model}`); a {_n(LONG)} s scene: "
                     + (f"${long_l[1]:.2f} on LTX (`{long_l[0].model}` on {long_l[0].deployment_label})"
                        if long_l else "no LTX model in one take")
                     + (f", ${long_v[1]:.2f} on Veo (`{long_v[0].model}`)." if long_v else "."))
    lines += [
        f"- **No money, your own GPU or ComfyUI server**: LTX open weights "
        f"({_ids(_with(lx, lambda r: not r.hosted))}), free apart from your hardware.",
        "- **Timing before spending anything**: the Animatic provider (`animatic`) renders every scene offline "
        "from its start frame or title, free, at the scene's length.",
        "- **Not sure**: render the scene with both and look (below).",
    ]
    return lines


def render() -> str:
    from core.video.take_measures import MEANINGS
    rs = rows()
    v, lx = [r for r in rs if r.provider == "veo"], [r for r in rs if r.provider == "ltx-video"]
    out = [
        "# Video providers compared: Veo 3.1 and LTX-Video",
        "",
        "<!-- Generated from providers/veo/catalog_data.py and providers/ltx/catalog_data.py by "
        "providers/comparison_doc.py: do not edit by hand; regenerate with "
        "`python -m providers.comparison_doc --write`. tests/test_provider_comparison_doc.py fails when this page "
        "and the catalogs disagree. -->",
        "",
        "What each provider offers, what it costs and when to pick which, from the same catalogs the app checks "
        "every render against and prices every estimate from. Prices are USD per second of output; a figure "
        "marked * is not published by the service (our estimate: see Docs/veo.md and Docs/ltx-models.md). "
        "Details: Docs/veo.md (Veo 3.1), Docs/ltx-models.md (LTX-Video).",
        "",
        "## At a glance",
        "",
        *glance(v, lx),
        "",
        "## When to pick which",
        "",
        *picks(v, lx),
        "",
        "## Models and limits",
        "",
        "One row per model and deployment. Lengths are what one call renders (a scene between two lengths renders "
        "the next one up and the export cuts it).",
        "",
        *models_table(rs),
        "",
        "## Prices",
        "",
        f"A scene here is 16:9 at {SCENE_RES} (or the nearest resolution the model renders) at the model's own "
        "frame rate, priced as the estimate before a render prices it. Veo on Vertex AI bills a clip without "
        "sound at the lower \"silent\" rate.",
        "",
        *prices_table(rs),
        "",
        "## Compare them on your own scene",
        "",
        "```",
        "python main.py compare --project DIR --scene N --providers veo:veo-3.1-fast-generate-preview,"
        "ltx-video:ltx-2-fast [--yes] [-o side_by_side.mp4] [--json]",
        "```",
        "",
        "renders the scene with both as two takes of that scene (both costs are shown first and confirmed), writes "
        "the two side by side and prints, per take: provider, model, cost, wall time to render, resolution, fps, "
        "length, sound, and three measures computed here with FFmpeg on both clips at one height:",
        "",
        *[f"- **{name}**: {meaning}" for name, meaning in MEANINGS.items()],
        "",
        "Keep either take with `python main.py project select-take DIR N TAKE_ID`.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--write" in sys.argv[1:]:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        sys.stdout.write(text)
