"""A tiny Stable Diffusion pipeline with random weights, built entirely in code.

It draws noise, not pictures, but it runs the real diffusers code path (text encoder, UNet
denoising loop with per-step callbacks, VAE decode) on a CPU in seconds, and saved with
``save_pretrained`` it is "any local diffusers folder". The tests, the benchmark and the demo
use it, so nothing is downloaded. Needs the local extras (requirements-local.txt).
"""

from __future__ import annotations

import json
import string
from pathlib import Path

TINY_SIZE = 64  # pixels a side: the UNet sees 8x8 latents
TINY_MODEL_NAME = "tiny-random-sd"


def _tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """A byte-level BPE vocabulary of single characters (with and without the end-of-word
    mark) and no merges: enough for CLIPTokenizer to split any ASCII prompt."""
    chars = sorted(set(string.ascii_letters + string.digits + string.punctuation))
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    vocab = folder / "vocab.json"
    merges = folder / "merges.txt"
    vocab.write_text(json.dumps({tok: i for i, tok in enumerate(tokens)}), encoding="utf-8")
    merges.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab, merges


def build_tiny_pipeline(folder: Path):
    """A random StableDiffusionPipeline (the tokenizer's files are written into ``folder``)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = _tokenizer_files(folder)
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=32)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=32,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=TINY_SIZE // 8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 32, 32),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=TINY_SIZE,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_tiny_pipeline(folder: Path) -> Path:
    """Build the tiny pipeline and save it as a diffusers folder at ``folder`` (returned)."""
    folder = Path(folder)
    if (folder / "model_index.json").is_file():
        return folder
    pipeline = build_tiny_pipeline(folder / "_tokenizer_source")
    pipeline.save_pretrained(str(folder))
    return folder
