"""The ids users choose from, shared by settings, the CLI and the GUI. Plain constants (no pydantic) so that
`--help` stays fast."""

RESOLUTIONS = ("480p", "720p", "1080p", "1440p", "2160p")
RESOLUTION_ALIASES = {"4k": "2160p", "uhd": "2160p", "fhd": "1080p", "hd": "720p", "2k": "1440p"}
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
CAMERA_MOTIONS = ("none", "pan_left", "pan_right", "zoom_in", "zoom_out", "orbit", "dolly_forward",
                  "dolly_backward", "crane_up", "crane_down")
EXTEND_DIRECTIONS = ("forward", "backward", "both")
DEPLOYMENTS = ("fal", "replicate", "local", "comfyui")  # LTX-Video's
VEO_DEPLOYMENTS = ("gemini", "vertex")
ALL_DEPLOYMENTS = DEPLOYMENTS + VEO_DEPLOYMENTS  # each provider checks its own in prepare
