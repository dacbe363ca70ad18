"""A tiny random Stable Diffusion pipeline (UNet, VAE, CLIP text encoder and tokenizer), built offline and saved with
save_pretrained, so the local-sd provider loads it through its own from_pretrained path (`--model-path DIR`).

Weights are random (seeded) and sizes tiny: a 64x36 image in 2 steps takes well under a second on CPU. The VAE has
two blocks (scale factor 2), so the pipeline's own rule (sides divisible by 8) is the one the product snaps to.
"""
from __future__ import annotations

import string
from pathlib import Path


def _clip_tokenizer():
    from transformers import CLIPTokenizer

    # byte-level BPE with no merges: every character is a token; anything else maps to <|endoftext|>
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase + string.digits + string.punctuation:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_sd(folder: Path) -> Path:
    """A StableDiffusionPipeline folder (also loadable as the image-to-image pipeline)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _clip_tokenizer()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=4, attention_head_dim=4)
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"))
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-5,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=len(tokenizer), projection_dim=32)).eval()
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              steps_offset=1, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


if __name__ == "__main__":  # python -m tests.fakes.tiny_sd OUT_DIR
    import sys

    print(build_sd(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-sd")))
