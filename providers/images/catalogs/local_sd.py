"""Open-weights text-to-image models for local-sd (diffusers, on the user's GPU): model id -> Hugging Face repo, the
size it was trained at, its default steps and guidance, and what it needs (memory). A folder of any diffusers
text-to-image pipeline works too (model_path). Local images cost no money.
"""

DISPLAY_NAME = "Local Stable Diffusion"
DEFAULT_MODEL = "sdxl"
PARAMS = ["seed", "negative_prompt", "strength", "steps", "guidance"]
_FREE = {"size_mode": "free", "multiple": 8, "references": "init", "max_reference_images": 1,
         "price_per_image": {"*": 0.0}, "params": PARAMS}
MODELS = [
    {"id": "sdxl", "label": "SDXL 1.0", "repo_id": "stabilityai/stable-diffusion-xl-base-1.0", **_FREE,
     "max_side": 2048, "default_steps": 30, "default_guidance": 7.0, "min_vram_gb": 6, "comfortable_vram_gb": 12},
    {"id": "sd-1.5", "label": "Stable Diffusion 1.5", "repo_id": "stable-diffusion-v1-5/stable-diffusion-v1-5",
     **_FREE, "max_side": 1536, "default_steps": 30, "default_guidance": 7.5, "min_vram_gb": 3,
     "comfortable_vram_gb": 6},
    {"id": "sd3.5-medium", "label": "SD 3.5 Medium", "repo_id": "stabilityai/stable-diffusion-3.5-medium", **_FREE,
     "multiple": 16, "max_side": 2048, "default_steps": 28, "default_guidance": 4.5, "min_vram_gb": 10,
     "comfortable_vram_gb": 20},
    {"id": "sdxl-turbo", "label": "SDXL Turbo", "repo_id": "stabilityai/sdxl-turbo", **_FREE, "max_side": 1024,
     "default_steps": 2, "default_guidance": 0.0, "min_vram_gb": 6, "comfortable_vram_gb": 12},
]
