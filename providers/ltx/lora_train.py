"""LoRA fine-tuning of an LTX-Video transformer with peft (`python main.py lora train`).

Data: a folder of clips (.mp4 .mov .webm .mkv) or images (.png .jpg .jpeg .webp), each with a caption file of the
same name (.txt). Clips and captions are encoded once by the frozen VAE and text encoder; then the transformer's
attention projections learn a rank-R adapter with the flow-matching loss (research note 3.3). Checkpoints hold the
adapter, the optimizer and the random state, so `--resume` continues exactly where training stopped. The result
is a diffusers-format LoRA that `--lora FILE` loads."""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict

from core.errors import InvalidRequestError

VIDEO_EXT = {".mp4", ".mov", ".webm", ".mkv", ".avi"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp"}
TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: Path
    output: Path
    model_source: str
    device: str = "cpu"
    dtype: str = "float32"
    steps: int = 500
    rank: int = 16
    lr: float = 1e-4
    width: int = 512
    height: int = 320
    frames: int = 25
    fps: int = 24
    checkpoint_every: int = 100
    resume: bool = False
    seed: int = 0
    max_sequence_length: int = 128


class TrainResult(BaseModel):
    output: Path
    steps: int
    resumed_from: int = 0
    eval_loss_before: float
    eval_loss_after: float
    losses: list[float]
    checkpoint: Path
    trainable_parameters: int


def find_samples(folder: Path) -> list[tuple[Path, str]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidRequestError(f"no data folder at {folder}", field="data")
    samples, missing = [], []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in VIDEO_EXT | IMAGE_EXT:
            cap = p.with_suffix(".txt")
            if cap.is_file() and cap.read_text(encoding="utf-8").strip():
                samples.append((p, cap.read_text(encoding="utf-8").strip()))
            else:
                missing.append(p.name)
    if missing:
        raise InvalidRequestError(f"caption files missing or empty for {', '.join(missing[:5])} (each clip or image "
                                  f"needs a .txt of the same name)", field="data")
    if not samples:
        raise InvalidRequestError(f"{folder} holds no clips or images", field="data",
                                  allowed=sorted(VIDEO_EXT | IMAGE_EXT))
    return samples


def checkpoint_path(output: Path) -> Path:
    return Path(output).with_suffix(".checkpoint.pt")


def train(cfg: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    import numpy as np
    import torch
    from diffusers import LTXPipeline
    from peft import LoraConfig, get_peft_model_state_dict, set_peft_model_state_dict

    from providers.ltx.local_pipelines import read_video_frames, snap_size

    samples = find_samples(cfg.data)
    dtype = getattr(torch, cfg.dtype)
    try:
        pipe = LTXPipeline.from_pretrained(cfg.model_source, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"cannot load an LTX-Video pipeline from {cfg.model_source}: {exc}",
                                  field="model_path") from exc
    pipe.to(cfg.device)
    spatial, temporal = pipe.vae_spatial_compression_ratio, pipe.vae_temporal_compression_ratio
    width, height, frames, notes = snap_size(cfg.width, cfg.height, cfg.frames, spatial, temporal)
    for n in notes:
        log("adjusted: " + n)

    # ---- encode the data once with the frozen VAE and text encoder -----------------------------------------
    from PIL import Image

    latents, embeds, masks = [], [], []
    with torch.no_grad():
        for path, caption in samples:
            if path.suffix.lower() in IMAGE_EXT:
                with Image.open(path) as im:
                    clip = [im.convert("RGB").resize((width, height))]
            else:
                clip = read_video_frames(path, width, height)[:frames]
                # clips shorter than the training length are cut to the longest k*ratio+1 they hold
                clip = clip[: (len(clip) - 1) // temporal * temporal + 1]
            arr = np.stack([np.asarray(f, dtype=np.float32) for f in clip]) / 127.5 - 1.0  # F,H,W,3 in [-1,1]
            video = torch.from_numpy(arr).permute(3, 0, 1, 2).unsqueeze(0).to(cfg.device, dtype)
            lat = pipe.vae.encode(video).latent_dist.sample(generator=torch.Generator().manual_seed(cfg.seed))
            lat = pipe._normalize_latents(lat, pipe.vae.latents_mean, pipe.vae.latents_std,
                                          pipe.vae.config.scaling_factor)
            emb, mask, _, _ = pipe.encode_prompt(caption, do_classifier_free_guidance=False,
                                                 max_sequence_length=cfg.max_sequence_length, device=cfg.device)
            latents.append(lat)
            embeds.append(emb)
            masks.append(mask)
    transformer = pipe.transformer
    pt, pt_t = pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size

    transformer.requires_grad_(False)
    torch.manual_seed(cfg.seed)  # the adapter's initial A matrices come from the global generator
    transformer.add_adapter(LoraConfig(r=cfg.rank, lora_alpha=cfg.rank, init_lora_weights=True,
                                       target_modules=TARGET_MODULES))
    params = [p for p in transformer.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()  # adapters train in float32 even on a bf16 model
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    n_trainable = sum(p.numel() for p in params)

    def loss_for(i: int, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        lat = latents[i]
        _, _, f, h, w = lat.shape
        x0 = pipe._pack_latents(lat, pt, pt_t).float()
        noisy = (1 - sigma) * x0 + sigma * noise
        pred = transformer(hidden_states=noisy.to(dtype), encoder_hidden_states=embeds[i],
                           timestep=(sigma.flatten() * 1000).long(), encoder_attention_mask=masks[i],
                           num_frames=f, height=h, width=w,
                           rope_interpolation_scale=(temporal / cfg.fps, spatial, spatial), return_dict=False)[0]
        return torch.nn.functional.mse_loss(pred.float(), noise - x0)

    # a fixed set of noise levels and noise, the same before and after, to measure learning without sampling luck
    eval_gen = torch.Generator().manual_seed(12345)
    eval_set = []
    for i in range(len(latents)):
        shape = pipe._pack_latents(latents[i], pt, pt_t).shape
        for s in (0.25, 0.5, 0.75):
            eval_set.append((i, torch.tensor([[[s]]]), torch.randn(shape, generator=eval_gen)))

    def eval_loss() -> float:
        with torch.no_grad():
            return float(sum(loss_for(i, s.to(cfg.device), n.to(cfg.device)).item() for i, s, n in eval_set)
                         / len(eval_set))

    ckpt = checkpoint_path(cfg.output)
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    start, losses, before = 0, [], None
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.resume:
        if not ckpt.is_file():
            raise InvalidRequestError(f"--resume: no checkpoint at {ckpt}", field="resume")
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        set_peft_model_state_dict(transformer, state["lora"])
        optimizer.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        start, losses, before = state["step"], state["losses"], state["eval_loss_before"]
        log(f"resumed from step {start} ({ckpt.name})")
    if before is None:
        before = eval_loss()

    def save_checkpoint(step: int) -> None:
        state = {"lora": get_peft_model_state_dict(transformer), "optimizer": optimizer.state_dict(),
                 "generator": gen.get_state(), "step": step, "losses": losses, "eval_loss_before": before,
                 "config": cfg.model_dump(mode="json")}
        tmp = ckpt.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, ckpt)

    transformer.train()
    for step in range(start, cfg.steps):
        i = step % len(latents)
        shape = pipe._pack_latents(latents[i], pt, pt_t).shape
        sigma = torch.sigmoid(torch.randn((1, 1, 1), generator=gen))  # logit-normal noise levels
        noise = torch.randn(shape, generator=gen)
        loss = loss_for(i, sigma.to(cfg.device), noise.to(cfg.device))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(round(float(loss.item()), 6))
        if not math.isfinite(losses[-1]):
            raise InvalidRequestError(f"the loss diverged at step {step + 1}; lower --lr", field="lr")
        log(f"step {step + 1}/{cfg.steps} loss {losses[-1]:.4f}")
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(step + 1)
    transformer.eval()
    after = eval_loss()
    _save_lora(LTXPipeline, get_peft_model_state_dict(transformer), cfg.output)
    log(f"eval loss {before:.4f} -> {after:.4f}; LoRA written to {cfg.output}")
    return TrainResult(output=cfg.output, steps=cfg.steps, resumed_from=start, eval_loss_before=before,
                       eval_loss_after=after, losses=losses, checkpoint=ckpt, trainable_parameters=n_trainable)


def _save_lora(pipeline_cls, state: dict, output: Path) -> None:
    """save_lora_weights writes into a folder; write there, then move the file into place atomically."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix=".lora-", dir=output.parent)
    try:
        pipeline_cls.save_lora_weights(tmpdir, transformer_lora_layers=state, weight_name="lora.safetensors")
        os.replace(Path(tmpdir) / "lora.safetensors", output)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def default_source(model_path: Optional[str], model_id: Optional[str]) -> str:
    from providers.ltx.local_models import local_model

    if model_path:
        if not Path(model_path).is_dir():
            raise InvalidRequestError(f"no model folder at {model_path}", field="model_path")
        return str(Path(model_path).resolve())
    info = local_model(model_id)
    if info.family != "ltx":
        raise InvalidRequestError("LoRA training runs on LTX-Video models", field="model",
                                  allowed=["ltx-video-2b", "ltx-video-13b"])
    return info.repo_id
