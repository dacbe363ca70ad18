"""The LTX catalog as data: models, the deployments that serve each, their limits, defaults, endpoint ids and prices.

Sources (November-December 2026): fal's generated endpoint types (@fal-ai/client 1.10.1) and llms.txt pages,
Replicate's model pages, Lightricks' API pricing and inference defaults. Docs/ltx-models.md explains every choice
made here (tiers, camera motions, reference images, the audio prompt, each default) and marks the prices that are
not published.

Keys of a deployment entry:
  schema            which request builder of the backend speaks this endpoint family ("ltx2", "ltx23", "ltx25",
                    "ltx2_19b", "ltxv13b", "ltxv2b" on fal; "r_ltx2", "r_ltx23", "r_ltx23_pro", "r_ltx25", "r_ltxv"
                    on Replicate; "open" for local/comfyui)
  endpoints         mode -> endpoint id (fal) or "owner/name" (Replicate); modes listed here are the generation modes
  lora_endpoints    mode -> endpoint id used when a LoRA is given (fal LTX-2 19B)
  modes             every mode offered (generation modes + "audio", "camera-lora", "lora", "reference-images")
  resolutions, aspect_ratios, fps, durations (explicit list) or min_duration/max_duration
  defaults          {"resolution", "aspect_ratio", "fps", "duration"}: the model's own default on this endpoint (its
                    API's documented default; for open weights the size, rate and length they are tuned for), each
                    one of the entry's allowed values; a render fills every unset value from here
  long_duration     {"above": s, "resolutions": [...], "fps": [...]}: durations above `above` need these values (the
                    first resolution is the one an inherited value moves to)
  pinned            values a tier fixes (Ultra: 2160p at 50 fps); always equal to the defaults
  camera            "lora" (a camera-LoRA field), "native" (the service's camera_motion field) or "prompt"
  params            the optional settings this deployment really takes, from PARAMS only (see below); a setting not
                    listed is ignored with a note, never sent
  extend_directions directions the extend endpoint offers
  max_reference_images
  price_per_second  {resolution or "*": USD}; price_per_video; price_per_megapixel (w x h x frames / 1e6)
  mode_prices       mode -> {resolution or "*": USD per second} for edit endpoints billed differently
  price_published   False where the figure is our estimate (shown as such in Docs/ltx-models.md)

The params vocabulary (PARAMS):
  seed              the request has a seed field (the hosted LTX-2 / 2.3 / 2.5 APIs have none)
  negative_prompt   the request has a negative-prompt field
  guidance          a guidance / CFG scale field
  steps             an inference-steps field
  webhook           the job can call a webhook when it ends (fal queue, Replicate predictions; never local/ComfyUI)
  generate_audio    the request has an on/off audio switch (left out where audio is always on or never made)
  camera_speed      the camera speed reaches the model: as a camera-LoRA strength, or as the adverb of the camera
                    wording added to the prompt; left out where a native camera_motion field takes no speed
"""
from __future__ import annotations

PARAMS = ("seed", "negative_prompt", "guidance", "steps", "webhook", "generate_audio", "camera_speed")
DEFAULT_KEYS = ("resolution", "aspect_ratio", "fps", "duration")

HOSTED_RES = ["1080p", "1440p", "2160p"]
FAST_DURATIONS = [6, 8, 10, 12, 14, 16, 18, 20]
PRO_DURATIONS = [6, 8, 10]
FAST_PRICES = {"1080p": 0.04, "1440p": 0.08, "2160p": 0.16}
PRO_PRICES = {"1080p": 0.06, "1440p": 0.12, "2160p": 0.24}
EDIT_PRICE = {"*": 0.10}  # LTX-2 retake and extend, per second of output

# hosted LTX-2 / 2.3: no seed, no negative prompt; an audio switch; the camera is prompt wording (speed = adverb)
HOSTED_PARAMS = ["webhook", "generate_audio", "camera_speed"]
# a native camera_motion field takes the motion but no speed
NATIVE_CAMERA_PARAMS = ["webhook", "generate_audio"]
# open weights on the user's machine: every sampler knob, no webhook
OPEN_PARAMS = ["seed", "negative_prompt", "guidance", "steps", "camera_speed"]


def _defaults(resolution: str, aspect_ratio: str, fps: int, duration: float) -> dict:
    return {"resolution": resolution, "aspect_ratio": aspect_ratio, "fps": fps, "duration": duration}


# fal and Replicate document 1080p, 25 fps, 6 s for every hosted LTX-2.x tier (16:9 where the ratio is a field)
def _hosted_defaults() -> dict:
    return _defaults("1080p", "16:9", 25, 6)


def _ultra_defaults() -> dict:
    return _defaults("2160p", "16:9", 50, 6)


# Open weights run locally or through ComfyUI: sizes are multiples of 32 and frame counts 8k+1 (the backends snap).
_OPEN_COMMON = {
    "schema": "open",
    "aspect_ratios": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
    "price_per_second": {"*": 0.0},
    "price_published": True,
    "params": OPEN_PARAMS,
    "extend_directions": ["forward", "backward", "both"],
    "camera": "lora",
    "max_reference_images": 0,  # neither the local pipelines nor the ComfyUI templates take reference images
}


def _open(**kw) -> dict:
    return {**_OPEN_COMMON, **kw}


def _comfyui(**kw) -> dict:
    # the ComfyUI templates extend one way per job
    return _open(extend_directions=["forward", "backward"], **kw)


# LTX-Video 0.9.x (2B and 13B) on the user's own hardware: the same pipelines and templates for both sizes
_LTXV_OPEN = dict(resolutions=["480p", "720p"], fps=[24, 25, 30], min_duration=1, max_duration=10,
                  modes=["text-to-video", "image-to-video", "first-last-frame", "multi-keyframe", "extend",
                         "video-to-video", "lora"], camera="prompt")
# tuned sizes (the model cards): 0.9 2B 768x512 at 24 fps, 0.9.7 13B 1216x704 at 30 fps, both 121 frames;
# 3:2 is not offered, so the nearest ratio (4:3) stands in
_LTXV_2B_DEFAULTS = _defaults("480p", "4:3", 24, 5)
_LTXV_13B_DEFAULTS = _defaults("720p", "16:9", 30, 4)
# LTX-2 one-stage defaults (ltx-pipelines constants): 768x512, 121 frames at 24 fps
_LTX2_OPEN_DEFAULTS = _defaults("480p", "4:3", 24, 5)

# LTX-2.3 / 2.5 open weights on ComfyUI (providers/ltx/workflows/ltx2_3, ltx2_5): the built-in templates render
# text and image to video, sound (text to video only) and a camera LoRA; sampled on manual sigmas, so no steps
# setting. Both hosted tiers run the same weights there. Defaults: ComfyUI's own LTX-2.x templates (1280x720,
# 5 s; 25 fps for 2.3, 24 fps for 2.5). One sampling pass at the asked size: up to 10 s, 1080p at most.
_LTX2X_COMFYUI = dict(resolutions=["480p", "720p", "1080p"], fps=[24, 25, 48, 50], min_duration=1, max_duration=10,
                      modes=["text-to-video", "image-to-video", "audio", "camera-lora"], extend_directions=[],
                      params=["seed", "negative_prompt", "guidance", "generate_audio", "camera_speed"])
_LTX23_COMFYUI_DEFAULTS = _defaults("720p", "16:9", 25, 5)
_LTX25_COMFYUI_DEFAULTS = _defaults("720p", "16:9", 24, 5)


MODELS: dict[str, dict] = {
    # ---------------- LTX-2 hosted tiers (Lightricks' model behind fal and Replicate) ----------------
    "ltx-2-fast": {
        "label": "LTX-2 Fast",
        "deployments": {
            "fal": {
                "schema": "ltx2",
                "endpoints": {"text-to-video": "fal-ai/ltx-2/text-to-video/fast",
                              "image-to-video": "fal-ai/ltx-2/image-to-video/fast",
                              "extend": "fal-ai/ltx-2/extend-video",
                              "video-to-video": "fal-ai/ltx-2/retake-video"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9"], "fps": [25, 50],
                "durations": FAST_DURATIONS,
                "long_duration": {"above": 10, "resolutions": ["1080p"], "fps": [25]},
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "extend_directions": ["forward", "backward"],
                "max_reference_images": 1,
                "price_per_second": FAST_PRICES, "mode_prices": {"extend": EDIT_PRICE, "video-to-video": EDIT_PRICE},
                "price_published": True,
            },
            "replicate": {
                "schema": "r_ltx2",
                "endpoints": {"text-to-video": "lightricks/ltx-2-fast", "image-to-video": "lightricks/ltx-2-fast"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9"], "fps": [25, 50],
                "durations": FAST_DURATIONS,
                "long_duration": {"above": 10, "resolutions": ["1080p"], "fps": [25]},
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "max_reference_images": 1,
                "price_per_second": FAST_PRICES, "price_published": False,
            },
        },
    },
    "ltx-2-pro": {
        "label": "LTX-2 Pro",
        "deployments": {
            "fal": {
                "schema": "ltx2",
                "endpoints": {"text-to-video": "fal-ai/ltx-2/text-to-video",
                              "image-to-video": "fal-ai/ltx-2/image-to-video",
                              "extend": "fal-ai/ltx-2/extend-video",
                              "video-to-video": "fal-ai/ltx-2/retake-video"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9"], "fps": [25, 50], "durations": PRO_DURATIONS,
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "extend_directions": ["forward", "backward"],
                "max_reference_images": 1,
                "price_per_second": PRO_PRICES, "mode_prices": {"extend": EDIT_PRICE, "video-to-video": EDIT_PRICE},
                "price_published": True,
            },
            "replicate": {
                "schema": "r_ltx2",
                "endpoints": {"text-to-video": "lightricks/ltx-2-pro", "image-to-video": "lightricks/ltx-2-pro"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9"], "fps": [25, 50], "durations": PRO_DURATIONS,
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "max_reference_images": 1,
                "price_per_second": PRO_PRICES, "price_published": False,
            },
        },
    },
    # Ultra is the plan's name for the Pro endpoint pinned to its best output: 2160p at 50 fps.
    "ltx-2-ultra": {
        "label": "LTX-2 Ultra (Pro at 2160p / 50 fps)",
        "deployments": {
            "fal": {
                "schema": "ltx2",
                "endpoints": {"text-to-video": "fal-ai/ltx-2/text-to-video",
                              "image-to-video": "fal-ai/ltx-2/image-to-video"},
                "modes": ["audio", "reference-images"],
                "resolutions": ["2160p"], "aspect_ratios": ["16:9"], "fps": [50], "durations": PRO_DURATIONS,
                "pinned": {"resolution": "2160p", "fps": 50}, "defaults": _ultra_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "max_reference_images": 1,
                "price_per_second": {"2160p": 0.24}, "price_published": True,
            },
            "replicate": {
                "schema": "r_ltx2",
                "endpoints": {"text-to-video": "lightricks/ltx-2-pro", "image-to-video": "lightricks/ltx-2-pro"},
                "modes": ["audio", "reference-images"],
                "resolutions": ["2160p"], "aspect_ratios": ["16:9"], "fps": [50], "durations": PRO_DURATIONS,
                "pinned": {"resolution": "2160p", "fps": 50}, "defaults": _ultra_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "max_reference_images": 1,
                "price_per_second": {"2160p": 0.24}, "price_published": False,
            },
        },
    },
    # ---------------- LTX-2.3 hosted ----------------
    "ltx-2.3-fast": {
        "label": "LTX-2.3 Fast",
        "deployments": {
            "fal": {
                "schema": "ltx23",
                "endpoints": {"text-to-video": "fal-ai/ltx-2.3/text-to-video/fast",
                              "image-to-video": "fal-ai/ltx-2.3/image-to-video/fast",
                              "first-last-frame": "fal-ai/ltx-2.3/image-to-video/fast",
                              "extend": "fal-ai/ltx-2.3/extend-video",
                              "video-to-video": "fal-ai/ltx-2.3/retake-video"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9", "9:16"], "fps": [24, 25, 48, 50],
                "durations": FAST_DURATIONS,
                "long_duration": {"above": 10, "resolutions": ["1080p"], "fps": [24, 25]},
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "extend_directions": ["forward", "backward"],
                "max_reference_images": 1,
                "price_per_second": FAST_PRICES, "mode_prices": {"extend": EDIT_PRICE, "video-to-video": EDIT_PRICE},
                "price_published": True,
            },
            "replicate": {
                "schema": "r_ltx23",
                "endpoints": {"text-to-video": "lightricks/ltx-2.3-fast",
                              "image-to-video": "lightricks/ltx-2.3-fast",
                              "first-last-frame": "lightricks/ltx-2.3-fast"},
                "modes": ["audio", "camera-lora", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9", "9:16"], "fps": [24, 25, 48, 50],
                "durations": FAST_DURATIONS,
                "long_duration": {"above": 10, "resolutions": ["1080p"], "fps": [24, 25]},
                "defaults": _hosted_defaults(),
                "camera": "native", "params": NATIVE_CAMERA_PARAMS, "max_reference_images": 1,
                "price_per_second": FAST_PRICES, "price_published": False,
            },
            "comfyui": _open(**_LTX2X_COMFYUI, defaults=dict(_LTX23_COMFYUI_DEFAULTS)),
        },
    },
    "ltx-2.3-pro": {
        "label": "LTX-2.3 Pro",
        "deployments": {
            "fal": {
                "schema": "ltx23",
                "endpoints": {"text-to-video": "fal-ai/ltx-2.3/text-to-video",
                              "image-to-video": "fal-ai/ltx-2.3/image-to-video",
                              "first-last-frame": "fal-ai/ltx-2.3/image-to-video",
                              "extend": "fal-ai/ltx-2.3/extend-video",
                              "video-to-video": "fal-ai/ltx-2.3/retake-video"},
                "modes": ["audio", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9", "9:16"], "fps": [24, 25, 48, 50],
                "durations": PRO_DURATIONS,
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "extend_directions": ["forward", "backward"],
                "max_reference_images": 1,
                "price_per_second": PRO_PRICES, "mode_prices": {"extend": EDIT_PRICE, "video-to-video": EDIT_PRICE},
                "price_published": False,
            },
            "replicate": {
                "schema": "r_ltx23_pro",
                "endpoints": {"text-to-video": "lightricks/ltx-2.3-pro",
                              "image-to-video": "lightricks/ltx-2.3-pro",
                              "first-last-frame": "lightricks/ltx-2.3-pro",
                              "extend": "lightricks/ltx-2.3-pro",
                              "video-to-video": "lightricks/ltx-2.3-pro"},
                "modes": ["audio", "camera-lora", "reference-images"],
                "resolutions": HOSTED_RES, "aspect_ratios": ["16:9", "9:16"], "fps": [24, 25, 48, 50],
                "durations": PRO_DURATIONS,
                # Replicate documents audio-to-video, retake and extend at 1080p only
                "mode_resolutions": {"extend": ["1080p"], "video-to-video": ["1080p"]},
                "defaults": _hosted_defaults(),
                # Replicate documents no direction field for its extend task: forward only
                "camera": "native", "params": NATIVE_CAMERA_PARAMS, "extend_directions": ["forward"],
                "max_reference_images": 1,
                "price_per_second": PRO_PRICES, "mode_prices": {"extend": EDIT_PRICE, "video-to-video": EDIT_PRICE},
                "price_published": False,
            },
            "comfyui": _open(**_LTX2X_COMFYUI, defaults=dict(_LTX23_COMFYUI_DEFAULTS)),
        },
    },
    # ---------------- LTX-2.5 hosted (Lightricks' partner endpoints on fal: owner "lightricks", not "fal-ai") ----
    # fal's own default length is "auto" (the model picks); a scene always has a length, so the default here is 6 s.
    # Above 10 s only at 720p/1080p and 24/25 fps; no extend or retake endpoint; no seed.
    "ltx-2.5-fast": {
        "label": "LTX-2.5 Fast",
        "deployments": {
            "fal": {
                "schema": "ltx25",
                "endpoints": {"text-to-video": "lightricks/ltx-2.5/text-to-video/fast",
                              "image-to-video": "lightricks/ltx-2.5/image-to-video/fast",
                              "first-last-frame": "lightricks/ltx-2.5/image-to-video/fast"},
                "modes": ["audio", "camera-lora", "reference-images"],
                "resolutions": ["720p", "1080p", "1440p", "2160p"], "aspect_ratios": ["16:9", "9:16"],
                "fps": [24, 25, 48, 50], "durations": FAST_DURATIONS,
                "long_duration": {"above": 10, "resolutions": ["1080p", "720p"], "fps": [24, 25]},
                "defaults": _hosted_defaults(),
                "camera": "native", "params": NATIVE_CAMERA_PARAMS, "max_reference_images": 1,
                "price_per_second": {"720p": 0.09, "1080p": 0.13, "1440p": 0.19, "2160p": 0.30},
                "price_published": True,
            },
            # one model for every mode (a picture in `image` makes it image-to-video); 2-5 s clips too; no camera
            # field is documented, so the camera is prompt wording
            "replicate": {
                "schema": "r_ltx25",
                "endpoints": {"text-to-video": "lightricks/ltx-2.5-fast",
                              "image-to-video": "lightricks/ltx-2.5-fast",
                              "first-last-frame": "lightricks/ltx-2.5-fast"},
                "modes": ["audio", "reference-images"],
                "resolutions": ["720p", "1080p", "1440p", "2160p"], "aspect_ratios": ["16:9", "9:16"],
                "fps": [24, 25, 48, 50], "durations": [2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20],
                "long_duration": {"above": 10, "resolutions": ["1080p", "720p"], "fps": [24, 25]},
                "defaults": _hosted_defaults(),
                "camera": "prompt", "params": HOSTED_PARAMS, "max_reference_images": 1,
                # the model page's figures, read by third parties; they equal LTX-2.3 Fast's, so unverified
                "price_per_second": {"720p": 0.03, "1080p": 0.06, "1440p": 0.12, "2160p": 0.24},
                "price_published": False,
            },
            "comfyui": _open(**_LTX2X_COMFYUI, defaults=dict(_LTX25_COMFYUI_DEFAULTS)),
        },
    },
    # Pro: 720p/1080p, no 48 fps, 6-10 s; not on Replicate
    "ltx-2.5-pro": {
        "label": "LTX-2.5 Pro",
        "deployments": {
            "fal": {
                "schema": "ltx25",
                "endpoints": {"text-to-video": "lightricks/ltx-2.5/text-to-video/pro",
                              "image-to-video": "lightricks/ltx-2.5/image-to-video/pro",
                              "first-last-frame": "lightricks/ltx-2.5/image-to-video/pro"},
                "modes": ["audio", "camera-lora", "reference-images"],
                "resolutions": ["720p", "1080p"], "aspect_ratios": ["16:9", "9:16"], "fps": [24, 25, 50],
                "durations": PRO_DURATIONS,
                "defaults": _hosted_defaults(),
                "camera": "native", "params": NATIVE_CAMERA_PARAMS, "max_reference_images": 1,
                "price_per_second": {"720p": 0.12, "1080p": 0.17}, "price_published": True,
            },
            "comfyui": _open(**_LTX2X_COMFYUI, defaults=dict(_LTX25_COMFYUI_DEFAULTS)),
        },
    },
    # ---------------- LTX-2 19B open weights (fal runs them; local/comfyui too) ----------------
    "ltx-2-19b": {
        "label": "LTX-2 19B (open weights)",
        "deployments": {
            "fal": {
                "schema": "ltx2_19b",
                "endpoints": {"text-to-video": "fal-ai/ltx-2-19b/text-to-video",
                              "image-to-video": "fal-ai/ltx-2-19b/image-to-video",
                              "first-last-frame": "fal-ai/ltx-2-19b/image-to-video",
                              "extend": "fal-ai/ltx-2-19b/extend-video",
                              "video-to-video": "fal-ai/ltx-2-19b/video-to-video"},
                "lora_endpoints": {"text-to-video": "fal-ai/ltx-2-19b/text-to-video/lora",
                                   "image-to-video": "fal-ai/ltx-2-19b/image-to-video/lora",
                                   "first-last-frame": "fal-ai/ltx-2-19b/image-to-video/lora",
                                   "extend": "fal-ai/ltx-2-19b/extend-video/lora",
                                   "video-to-video": "fal-ai/ltx-2-19b/video-to-video/lora"},
                "modes": ["audio", "camera-lora", "lora", "reference-images"],
                "resolutions": ["480p", "720p", "1080p"], "aspect_ratios": ["16:9", "9:16", "1:1", "4:3", "3:4"],
                "fps": [24, 25], "min_duration": 1, "max_duration": 19,
                # fal's text-to-video defaults: video_size landscape_4_3 (1024x768), 121 frames at 25 fps
                "defaults": _defaults("720p", "4:3", 25, 4.8),
                "camera": "lora",
                "params": ["seed", "negative_prompt", "guidance", "steps", "webhook", "generate_audio",
                           "camera_speed"],
                "extend_directions": ["forward", "backward"], "max_reference_images": 1,
                "price_per_megapixel": 0.0018, "price_published": True,
            },
            # the LTX-2 condition pipeline has no denoise strength, so video-to-video is not offered locally
            "local": _open(resolutions=["480p", "720p", "1080p"], fps=[24, 25], min_duration=1, max_duration=10,
                           modes=["text-to-video", "image-to-video", "first-last-frame", "multi-keyframe", "extend",
                                  "audio", "camera-lora", "lora"],
                           defaults=dict(_LTX2_OPEN_DEFAULTS),
                           params=["seed", "negative_prompt", "guidance", "steps", "generate_audio",
                                   "camera_speed"]),
            # sound comes from the LTX-2 audio template (text to video only; asked for with --audio or an audio
            # prompt); the set has no camera-LoRA template, so a motion is prompt wording there
            "comfyui": _comfyui(resolutions=["480p", "720p", "1080p"], fps=[24, 25], min_duration=1, max_duration=10,
                                modes=["text-to-video", "image-to-video", "first-last-frame", "multi-keyframe",
                                       "extend", "video-to-video", "audio", "camera-lora", "lora"],
                                defaults=dict(_LTX2_OPEN_DEFAULTS),
                                params=["seed", "negative_prompt", "guidance", "steps", "generate_audio",
                                        "camera_speed"]),
        },
    },
    # ---------------- LTX-Video 0.9.x ----------------
    "ltx-video-13b": {
        "label": "LTX-Video 13B distilled",
        "deployments": {
            "fal": {
                "schema": "ltxv13b",
                "endpoints": {"text-to-video": "fal-ai/ltx-video-13b-distilled",
                              "image-to-video": "fal-ai/ltx-video-13b-distilled/image-to-video",
                              "first-last-frame": "fal-ai/ltx-video-13b-distilled/multiconditioning",
                              "multi-keyframe": "fal-ai/ltx-video-13b-distilled/multiconditioning",
                              "video-to-video": "fal-ai/ltx-video-13b-distilled/multiconditioning",
                              "extend": "fal-ai/ltx-video-13b-distilled/extend"},
                # references ride on the multiconditioning endpoint as weak conditioning images
                "reference_endpoint": "fal-ai/ltx-video-13b-distilled/multiconditioning",
                "modes": ["lora", "reference-images"],
                "resolutions": ["480p", "720p"], "aspect_ratios": ["16:9", "9:16", "1:1"], "fps": [24, 25, 30],
                "min_duration": 1, "max_duration": 10,
                # fal: resolution 720p, aspect 16:9, 121 frames at frame_rate 24
                "defaults": _defaults("720p", "16:9", 24, 5),
                # steps = first_pass_num_inference_steps; the 13B endpoints have no guidance field
                "camera": "prompt", "params": ["seed", "negative_prompt", "steps", "webhook", "camera_speed"],
                "extend_directions": ["forward", "backward"], "max_reference_images": 3,
                "price_per_video": 0.04, "price_published": True,
            },
            "local": _open(**_LTXV_OPEN, defaults=dict(_LTXV_13B_DEFAULTS)),
            "comfyui": _comfyui(**_LTXV_OPEN, defaults=dict(_LTXV_13B_DEFAULTS)),
        },
    },
    "ltx-video-2b": {
        "label": "LTX-Video 2B (0.9)",
        "deployments": {
            # fal's 2B endpoint has no size or length fields: it always returns its default clip
            "fal": {
                "schema": "ltxv2b",
                "endpoints": {"text-to-video": "fal-ai/ltx-video", "image-to-video": "fal-ai/ltx-video/image-to-video"},
                "modes": [],
                "resolutions": ["480p"], "aspect_ratios": ["16:9"], "fps": [24], "durations": [5],
                "pinned": {"resolution": "480p", "fps": 24, "duration": 5},
                "defaults": _defaults("480p", "16:9", 24, 5),
                "camera": "prompt",
                "params": ["seed", "negative_prompt", "guidance", "steps", "webhook", "camera_speed"],
                "max_reference_images": 0,
                "price_per_video": 0.02, "price_published": False,
            },
            "replicate": {
                "schema": "r_ltxv",
                "endpoints": {"text-to-video": "lightricks/ltx-video", "image-to-video": "lightricks/ltx-video"},
                "modes": [],
                "resolutions": ["480p"], "aspect_ratios": ["16:9", "9:16", "1:1", "4:3", "3:4"], "fps": [24],
                "min_duration": 1, "max_duration": 10,
                # Replicate: target_size 640, aspect_ratio 3:2 (nearest offered: 4:3), length 97 frames at 24 fps
                "defaults": _defaults("480p", "4:3", 24, 4),
                "camera": "prompt",
                "params": ["seed", "negative_prompt", "guidance", "steps", "webhook", "camera_speed"],
                "max_reference_images": 0,
                "price_per_video": 0.03, "price_published": False,
            },
            "local": _open(**_LTXV_OPEN, defaults=dict(_LTXV_2B_DEFAULTS)),
            "comfyui": _comfyui(**_LTXV_OPEN, defaults=dict(_LTXV_2B_DEFAULTS)),
        },
    },
}

# Deployment order the GUI shows and the default when a request names none.
DEPLOYMENT_ORDER = ("fal", "replicate", "local", "comfyui")
DEFAULT_MODEL = "ltx-2-fast"
DEFAULT_DEPLOYMENT = "fal"
