"""What the local engine can run and where its weights are, without importing torch.

Models are named ones (Karlo v1 alpha, SD-Turbo, SDXL-Turbo: weights in the Hugging Face cache)
or any local diffusers folder (a path holding ``model_index.json``). Weights are never fetched
while the app runs: a missing model is a clear error naming the command that downloads it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from services.errors import ChatCanvasError, ErrorKind

PROVIDER = "local"
INSTALL_COMMAND = ".venv/bin/python -m pip install -r requirements-local.txt"
UNCLIP = "UnCLIPPipeline"  # Karlo's pipeline class (deprecated in diffusers, still shipped)


@dataclass(frozen=True)
class LocalModel:
    """A model the engine knows by name: its Hugging Face repository and how to run it."""

    name: str
    repo: str
    side: int  # native width and height
    steps: int
    guidance: float
    licence: str  # shown beside the lane
    unclip: bool = False

    @property
    def download_command(self) -> str:
        return f"hf download {self.repo}"


KARLO = LocalModel(
    "karlo-v1-alpha",
    "kakaobrain/karlo-v1-alpha",
    side=256,
    steps=25,
    guidance=8.0,
    licence="CreativeML Open RAIL-M",
    unclip=True,
)
MODELS: dict[str, LocalModel] = {
    m.name: m
    for m in (
        KARLO,
        LocalModel(
            "sd-turbo",
            "stabilityai/sd-turbo",
            side=512,
            steps=1,
            guidance=0.0,
            licence="Stability AI Non-Commercial Research Community License",
        ),
        LocalModel(
            "sdxl-turbo",
            "stabilityai/sdxl-turbo",
            side=512,
            steps=1,
            guidance=0.0,
            licence="Stability AI Non-Commercial Research Community License",
        ),
    )
}
FOLDER_DEFAULTS = LocalModel("folder", "", side=512, steps=20, guidance=7.0, licence="")


@dataclass(frozen=True)
class ResolvedModel:
    """A model whose weights are on this machine: the folder the engine loads."""

    name: str
    path: Path
    spec: LocalModel
    unclip: bool


def torch_available() -> bool:
    """The local extras are installed (checked without importing torch: the app starts fast)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "diffusers"))


def nvidia_driver_present() -> bool:
    """A cheap guess at a CUDA GPU (the NVIDIA driver is loaded) for what the form says before
    anything runs; importing torch to ask would stall a page for seconds. The engine asks
    torch itself when it runs."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def not_installed() -> ChatCanvasError:
    """The lane's error without the extras; its detail is the command that installs them."""
    return ChatCanvasError(
        ErrorKind.MODEL_NOT_FOUND, INSTALL_COMMAND, code="not_installed", provider=PROVIDER
    )


def is_folder_name(model: str) -> bool:
    """``model`` names a folder (an absolute path or one starting with ``~`` or ``.``)."""
    return model.startswith(("/", "~", ".")) or os.sep in model


def spec_for(model: str, *, read_folder: bool = False) -> LocalModel:
    """The named model, or the defaults for a folder (Karlo's for an UnCLIP folder, when
    ``read_folder`` allows looking into it)."""
    if model in MODELS:
        return MODELS[model]
    if read_folder and _pipeline_class(Path(model).expanduser()) == UNCLIP:
        return KARLO
    return FOLDER_DEFAULTS


def _cached_snapshot(repo: str) -> Path | None:
    """The repository's snapshot in the Hugging Face cache, never asking the network."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def _pipeline_class(folder: Path) -> str | None:
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(index.get("_class_name", "")) if isinstance(index, dict) else None


def has_weights(model: str) -> bool:
    """The weights of ``model`` are on this machine (nothing is downloaded to find out)."""
    try:
        resolve(model, allow_folders=True)
    except ChatCanvasError:
        return False
    return True


def resolve(model: str, *, allow_folders: bool) -> ResolvedModel:
    """Where ``model``'s weights are; raises ChatCanvasError naming the download command when
    they are missing, or refusing a folder where folders are not allowed (a shared
    deployment: a visitor must not open paths on the server)."""
    spec = MODELS.get(model)
    if spec is not None:
        folder = _cached_snapshot(spec.repo)
        code, detail = "no_weights", spec.download_command
    elif not allow_folders:
        raise ChatCanvasError(
            ErrorKind.BAD_REQUEST,
            f"{model!r} is not a model of this deployment (known: {', '.join(MODELS)})",
            code="folder_refused",
            param="model",
            provider=PROVIDER,
        )
    else:
        folder = Path(model).expanduser()
        code, detail = "no_folder", str(folder)
    kind = _pipeline_class(folder) if folder is not None else None
    if folder is None or kind is None:
        # the detail is what the person needs: the download command, or the folder looked at
        raise ChatCanvasError(
            ErrorKind.MODEL_NOT_FOUND, detail, code=code, param="model", provider=PROVIDER
        )
    unclip = kind == UNCLIP
    return ResolvedModel(model, folder, spec or (KARLO if unclip else FOLDER_DEFAULTS), unclip)
