"""Google Veo 3.1 (google-genai): the Gemini API and Vertex AI deployments. See providers/veo/provider.py."""
from providers.veo.provider import VeoProvider  # noqa: F401  (the registry's target: providers.veo:VeoProvider)
