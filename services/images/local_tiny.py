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


def build_tiny_unclip(folder: Path):
    """A random UnCLIPPipeline (Karlo's architecture: prior, decoder, two super-resolution
    UNets) small enough to run in a second on a CPU; 64x64 out."""
    import torch
    from diffusers import (
        PriorTransformer,
        UnCLIPPipeline,
        UnCLIPScheduler,
        UNet2DConditionModel,
        UNet2DModel,
    )
    from diffusers.pipelines.deprecated.unclip.text_proj import UnCLIPTextProjModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = _tokenizer_files(folder)
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=77)
    config = CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, projection_dim=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, max_position_embeddings=77,
        bos_token_id=0, eos_token_id=1, pad_token_id=1,
    )  # fmt: skip
    super_res = {
        "sample_size": TINY_SIZE, "layers_per_block": 1, "block_out_channels": (32, 64),
        "down_block_types": ("ResnetDownsampleBlock2D",) * 2,
        "up_block_types": ("ResnetUpsampleBlock2D",) * 2, "in_channels": 6, "out_channels": 3,
    }  # fmt: skip
    decoder = UNet2DConditionModel(
        sample_size=32, in_channels=3, out_channels=6, block_out_channels=(32, 64),
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn", layers_per_block=1,
        cross_attention_dim=100, attention_head_dim=4,
        resnet_time_scale_shift="scale_shift", class_embed_type="identity",
    )  # fmt: skip
    return UnCLIPPipeline(
        prior=PriorTransformer(
            num_attention_heads=2, attention_head_dim=12, embedding_dim=32, num_layers=1
        ),
        decoder=decoder,
        text_encoder=CLIPTextModelWithProjection(config),
        tokenizer=tokenizer,
        text_proj=UnCLIPTextProjModel(
            clip_embeddings_dim=32, time_embed_dim=128, cross_attention_dim=100
        ),
        super_res_first=UNet2DModel(**super_res),
        super_res_last=UNet2DModel(**super_res),
        prior_scheduler=UnCLIPScheduler(
            variance_type="fixed_small_log", prediction_type="sample", clip_sample_range=5.0
        ),
        decoder_scheduler=UnCLIPScheduler(variance_type="learned_range"),
        super_res_scheduler=UnCLIPScheduler(variance_type="fixed_small_log"),
    )


def save_tiny_unclip(folder: Path) -> Path:
    """Build the tiny UnCLIP pipeline and save it as a diffusers folder at ``folder``."""
    folder = Path(folder)
    if not (folder / "model_index.json").is_file():
        build_tiny_unclip(folder / "_tokenizer_source").save_pretrained(str(folder))
    return folder
