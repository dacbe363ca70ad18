"""OpenAI's GPT image models through the official SDK (images.generate, images.edit with reference images).

Ids and rules from the installed openai SDK (types/image_model.py, image_generate_params.py): gpt-image-1 was shut
down on 2026-10-23 and DALL-E retired on 2026-05-12, so neither is offered. gpt-image-2 and 2.5 take any WxH with
both sides divisible by 16, a shape between 1:3 and 3:1, at most 3840x2160; the others take the three standard
sizes. `quality` sets the price. Prices are list prices per 1024x1024 image (larger ones scale with the area),
estimates shown before spending, never a bill.
"""

STANDARD = ["1024x1024", "1536x1024", "1024x1536"]
FREE = {"size_mode": "free", "multiple": 16, "min_pixels": 655_360, "max_pixels": 3840 * 2160, "max_side": 3840,
        "max_ratio": 3.0}
QUALITIES = ["low", "medium", "high", "auto"]
PRICE_1024 = {"low": 0.011, "medium": 0.042, "high": 0.167, "auto": 0.167}
PRICE_1024_15 = {"low": 0.009, "medium": 0.034, "high": 0.133, "auto": 0.133}

DISPLAY_NAME = "OpenAI"
DEFAULT_MODEL = "gpt-image-2"
_COMMON = {"references": "reference", "max_reference_images": 16, "max_per_request": 10,
           "default_quality": "medium", "price_pixels": 1024 * 1024, "params": ["quality"]}
MODELS = [
    {"id": "gpt-image-2", "label": "GPT Image 2", **FREE, **_COMMON, "qualities": QUALITIES,
     "price_per_image": PRICE_1024, "price_note": "list price per 1024x1024 image by quality (estimate)"},
    {"id": "gpt-image-2.5-sunburst", "label": "GPT Image 2.5 Sunburst", **FREE, **_COMMON,
     "qualities": QUALITIES[:3] + ["xhigh", "max", "auto"],
     "price_per_image": {**PRICE_1024, "xhigh": 0.25, "max": 0.33}, "price_note": "estimate"},
    {"id": "gpt-image-2.5-flare", "label": "GPT Image 2.5 Flare", **FREE, **_COMMON,
     "qualities": QUALITIES[:3] + ["xhigh", "max", "auto"],
     "price_per_image": {"low": 0.006, "medium": 0.02, "high": 0.08, "xhigh": 0.12, "max": 0.16, "auto": 0.08},
     "price_note": "estimate"},
    {"id": "gpt-image-1.5", "label": "GPT Image 1.5", "size_mode": "fixed", "sizes": STANDARD, **_COMMON,
     "qualities": QUALITIES, "price_per_image": PRICE_1024_15, "price_note": "list price per image (estimate)",
     "params": ["quality", "input_fidelity"]},
    {"id": "gpt-image-1-mini", "label": "GPT Image 1 mini", "size_mode": "fixed", "sizes": STANDARD, **_COMMON,
     "qualities": QUALITIES, "price_per_image": {"low": 0.005, "medium": 0.011, "high": 0.036, "auto": 0.036},
     "price_note": "list price per image (estimate)"},
]
