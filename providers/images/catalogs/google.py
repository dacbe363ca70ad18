"""Gemini image models on the Gemini API (an AI Studio key), called through google-genai's generate_content.

Ids from the installed google-genai's model list (_gaos/types/interactions/model.py). The service sizes the image
by aspect ratio and, on the newer models, a size tier (1K, 2K, 4K). Prices are Google's list prices per image as
published in 2025-2026, not confirmed by any call here: estimates shown before spending, never a bill.
"""

# aspect ratio -> the 1K image the service returns
NATIVE_1K = {"1:1": "1024x1024", "2:3": "832x1248", "3:2": "1248x832", "3:4": "864x1184", "4:3": "1184x864",
             "4:5": "896x1152", "5:4": "1152x896", "9:16": "768x1344", "16:9": "1344x768", "21:9": "1536x672"}
TIERS = {"1K": 1.0, "2K": 2.0, "4K": 4.0}
PARAMS = ["seed"]

DISPLAY_NAME = "Google Gemini"
DEFAULT_MODEL = "gemini-3.1-flash-image"
MODELS = [
    {"id": "gemini-3.1-flash-image", "label": "Gemini 3.1 Flash Image", "size_mode": "aspect",
     "native_sizes": NATIVE_1K, "tiers": TIERS, "references": "reference", "max_reference_images": 14,
     "price_per_image": {"1K": 0.067, "2K": 0.101, "4K": 0.151}, "params": PARAMS,
     "price_note": "list price per image by size tier (estimate)"},
    {"id": "gemini-3-pro-image", "label": "Gemini 3 Pro Image", "size_mode": "aspect", "native_sizes": NATIVE_1K,
     "tiers": TIERS, "references": "reference", "max_reference_images": 14,
     "price_per_image": {"1K": 0.134, "2K": 0.134, "4K": 0.24}, "params": PARAMS,
     "price_note": "list price per image by size tier (estimate)"},
    {"id": "gemini-3.1-flash-lite-image", "label": "Gemini 3.1 Flash Lite Image", "size_mode": "aspect",
     "native_sizes": NATIVE_1K, "references": "reference", "max_reference_images": 3,
     "price_per_image": {"*": 0.02}, "params": PARAMS, "price_note": "estimate; no list price seen"},
    {"id": "gemini-2.5-flash-image", "label": "Gemini 2.5 Flash Image", "size_mode": "aspect",
     "native_sizes": NATIVE_1K, "references": "reference", "max_reference_images": 3,
     "price_per_image": {"*": 0.039}, "params": PARAMS, "price_note": "list price per 1K image (estimate)"},
]
