"""Stability AI's stable-image endpoints (REST v2beta, multipart): ultra, core and sd3 (the SD 3.5 models).

The service sizes the image by aspect ratio (about one megapixel; ultra a little more). ultra and sd3 take one
input image (image-to-image, with `strength`); core takes none. Prices: credits per image at $0.01 a credit, as
published in 2025, estimates shown before spending.
"""

NATIVE = {"16:9": "1344x768", "1:1": "1024x1024", "21:9": "1536x640", "2:3": "832x1216", "3:2": "1216x832",
          "4:5": "896x1088", "5:4": "1088x896", "9:16": "768x1344", "9:21": "640x1536"}
PARAMS = ["seed", "negative_prompt", "strength"]

DISPLAY_NAME = "Stability AI"
DEFAULT_MODEL = "stable-image-core"
# model id -> (endpoint, the `model` field of sd3 or None)
ENDPOINTS = {"stable-image-ultra": ("ultra", None), "stable-image-core": ("core", None),
             "sd3.5-large": ("sd3", "sd3.5-large"), "sd3.5-large-turbo": ("sd3", "sd3.5-large-turbo"),
             "sd3.5-medium": ("sd3", "sd3.5-medium")}
MODELS = [
    {"id": "stable-image-core", "label": "Stable Image Core", "size_mode": "aspect", "native_sizes": NATIVE,
     "price_per_image": {"*": 0.03}, "params": ["seed", "negative_prompt"], "price_note": "3 credits"},
    {"id": "stable-image-ultra", "label": "Stable Image Ultra", "size_mode": "aspect", "native_sizes": NATIVE,
     "references": "init", "max_reference_images": 1, "price_per_image": {"*": 0.08}, "params": PARAMS,
     "price_note": "8 credits"},
    {"id": "sd3.5-large", "label": "SD 3.5 Large", "size_mode": "aspect", "native_sizes": NATIVE,
     "references": "init", "max_reference_images": 1, "price_per_image": {"*": 0.065}, "params": PARAMS,
     "price_note": "6.5 credits"},
    {"id": "sd3.5-large-turbo", "label": "SD 3.5 Large Turbo", "size_mode": "aspect", "native_sizes": NATIVE,
     "references": "init", "max_reference_images": 1, "price_per_image": {"*": 0.04},
     "params": ["seed", "strength"], "price_note": "4 credits; takes no negative prompt"},
    {"id": "sd3.5-medium", "label": "SD 3.5 Medium", "size_mode": "aspect", "native_sizes": NATIVE,
     "references": "init", "max_reference_images": 1, "price_per_image": {"*": 0.035}, "params": PARAMS,
     "price_note": "3.5 credits"},
]
