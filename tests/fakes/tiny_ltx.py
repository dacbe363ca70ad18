"""Tiny random LTX-Video (0.9.x) and LTX-2 pipelines, built offline and saved with save_pretrained, so the product
loads them through its own from_pretrained path (`--model-path DIR`). Recipe: shared/research/local-backends.md 2.2/2.3.

Weights are random (seeded), sizes are tiny: a 9-frame 32x32 render takes well under a second on CPU. The VAE
ratios are 4 and 4 (LTX) and 2 and 2 (LTX-2), not the real 32 and 8: the product reads them from the loaded VAE.
"""
from __future__ import annotations

import string
from pathlib import Path

_PUNCT = string.punctuation  # 32 characters


def _t5_tokenizer():
    import transformers

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in string.ascii_lowercase + string.digits + _PUNCT]
    pieces += [("\u2581" + c, -3.5) for c in string.ascii_lowercase]
    return transformers.T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=128)


def build_ltx(folder: Path, *, timestep_conditioning: bool = False) -> Path:
    """An LTXPipeline folder (also loadable as LTXImageToVideoPipeline / LTXConditionPipeline)."""
    import torch
    from diffusers import (AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline,
                           LTXVideoTransformer3DModel)
    from transformers import T5Config, T5EncoderModel

    tokenizer = _t5_tokenizer()
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0)).eval()
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=timestep_conditioning,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    pipe = LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False), vae=vae,
                       text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer)
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


def _gemma_tokenizer():
    from transformers import GemmaTokenizer

    vocab: dict[str, int] = {}
    for tok in ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "\u2581"]:
        vocab[tok] = len(vocab)
    for c in string.ascii_letters + string.digits + _PUNCT:
        vocab.setdefault(c, len(vocab))
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for tok in ["<start_of_image>", "<end_of_image>", "<image_soft_token>"]:
        vocab[tok] = len(vocab)
    return GemmaTokenizer(vocab=vocab, merges=[])


def build_ltx2(folder: Path) -> Path:
    """An LTX2Pipeline folder: joint video + audio."""
    import torch
    from diffusers import (AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, FlowMatchEulerDiscreteScheduler,
                           LTX2Pipeline, LTX2VideoTransformer3DModel)
    from diffusers.pipelines.ltx2 import LTX2TextConnectors, LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    tokenizer = _gemma_tokenizer()
    n = len(tokenizer)
    torch.manual_seed(0)
    config = Gemma3Config(
        text_config=dict(vocab_size=n, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
                         sliding_window=64, pad_token_id=0, eos_token_id=1, bos_token_id=2),
        vision_config=dict(hidden_size=16, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2,
                           image_size=28, patch_size=14),
        mm_tokens_per_image=4, boi_token_index=n - 3, eoi_token_index=n - 2, image_token_index=n - 1)
    text_encoder = Gemma3ForConditionalGeneration(config).eval()
    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=32, rope_double_precision=False, rope_type="split")
    torch.manual_seed(0)
    connectors = LTX2TextConnectors(
        caption_channels=32, text_proj_in_factor=3, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=1e4,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    torch.manual_seed(0)
    vocoder = LTX2Vocoder(
        in_channels=2 * 8, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[4, 4], upsample_factors=[2, 2],
        resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]], leaky_relu_negative_slope=0.1,
        output_sampling_rate=16000)
    pipe = LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae,
                        text_encoder=text_encoder, tokenizer=tokenizer, connectors=connectors,
                        transformer=transformer, vocoder=vocoder)
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


if __name__ == "__main__":  # python -m tests.fakes.tiny_ltx OUT_DIR: build both for manual tries and the bench
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-ltx")
    print(build_ltx(out / "ltx"), build_ltx2(out / "ltx2"))


def build_lora(model_folder: Path, out_file: Path, *, comfy_keys: bool = False, rank: int = 4, seed: int = 1) -> Path:
    """A random LoRA for the tiny LTX (or LTX-2) transformer, in diffusers keys (transformer.…) or ComfyUI keys
    (diffusion_model.…), so loading it at scale 1 visibly changes the output."""
    import json

    import diffusers
    import torch
    from peft import LoraConfig, get_peft_model_state_dict
    from safetensors.torch import save_file

    folder = Path(model_folder) / "transformer"
    cls = getattr(diffusers, json.loads((folder / "config.json").read_text())["_class_name"])
    transformer = cls.from_pretrained(folder)
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                       target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    torch.manual_seed(seed)
    state = get_peft_model_state_dict(transformer)
    prefix = "diffusion_model." if comfy_keys else "transformer."
    tensors = {prefix + k: (torch.randn_like(v) * 0.5).contiguous() for k, v in state.items()}
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_file))
    return out_file


def _fixture():
    import pytest

    @pytest.fixture(scope="session")
    def tiny_models(tmp_path_factory) -> dict:
        """Folders of the tiny LTX and LTX-2 pipelines and LoRA files (LTX in diffusers and ComfyUI keys, LTX-2);
        built once per session under the session's base temp folder, so every test module that imports this
        shares them."""
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        root = tmp_path_factory.getbasetemp() / "tiny-ltx"
        paths = {"ltx": root / "ltx", "ltx2": root / "ltx2", "lora": root / "lora.safetensors",
                 "lora_comfy": root / "lora_comfy.safetensors", "lora_ltx2": root / "lora_ltx2.safetensors"}
        if not (root / "done").exists():
            build_ltx(paths["ltx"])
            build_ltx2(paths["ltx2"])
            build_lora(paths["ltx"], paths["lora"])
            build_lora(paths["ltx"], paths["lora_comfy"], comfy_keys=True, seed=2)
            build_lora(paths["ltx2"], paths["lora_ltx2"], seed=3)
            (root / "done").write_text("ok")
        return paths

    return tiny_models


tiny_models = _fixture()
