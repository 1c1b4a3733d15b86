"""The local image engine: diffusers pipelines run on this machine, one at a time.

One engine per process (:func:`shared_engine`) serves every session: jobs wait in one queue
and a single worker thread runs them, so only one model is loaded (it stays loaded until a job
asks for another) and the GPU or CPU is never shared by two runs. Each job reports its place
in the queue and every denoising step into its :class:`LaneWatch`, and stops at the next step
once the watch is cancelled. torch and diffusers are imported by the worker, never at import
time: the app starts fast without the local extras.
"""

from __future__ import annotations

import functools
import gc
import io
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.errors import ChatCanvasError, ErrorKind
from services.images.lane_watch import LaneProgress, LaneWatch
from services.images.local_models import PROVIDER, ResolvedModel

WAIT_POLL = 0.1  # seconds between looks at the cancel flag while a job waits


class _Cancelled(Exception):
    """Raised from a step callback: diffusers unwinds its loop and the job ends at once."""


def cancelled_error() -> ChatCanvasError:
    return ChatCanvasError(
        ErrorKind.CANCELLED, "cancelled before it finished", code="cancelled", provider=PROVIDER
    )


@dataclass
class LocalJob:
    """One lane's images: the pipeline's arguments (without generators and callbacks), one
    seed per image, and the steps it will report."""

    model: ResolvedModel
    arguments: Mapping[str, Any]
    seeds: tuple[int, ...]
    steps: int
    watch: LaneWatch = field(default_factory=LaneWatch)
    done: threading.Event = field(default_factory=threading.Event)
    images: list[bytes] = field(default_factory=list)
    device: str = ""
    error: ChatCanvasError | None = None


@functools.cache
def device_name() -> str:
    """``cuda`` when a CUDA GPU is usable, else ``cpu`` (imports torch once)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(model: ResolvedModel, device: str) -> Any:
    """The model's pipeline on ``device``, read from its folder only (never downloaded)."""
    import diffusers
    import torch

    dtype = torch.float16 if device == "cuda" else torch.float32
    options: dict[str, Any] = {"torch_dtype": dtype, "local_files_only": True}
    if model.unclip:
        pipeline = _load_unclip(model.path, options)
    else:
        pipeline = diffusers.AutoPipelineForText2Image.from_pretrained(str(model.path), **options)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)


def _load_unclip(folder: Path, options: dict[str, Any]) -> Any:
    """Karlo's UnCLIPPipeline, one component per subfolder. diffusers 0.42 keeps the pipeline
    under pipelines/deprecated, where ``from_pretrained`` can no longer find the text
    projection that model_index.json names; building it from its parts works on the pin."""
    import diffusers
    from diffusers.pipelines.deprecated.unclip.text_proj import UnCLIPTextProjModel
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer

    def part(kind: Any, name: str, **extra: Any) -> Any:
        return kind.from_pretrained(str(folder / name), **extra)

    schedulers = {n: part(diffusers.UnCLIPScheduler, n) for n in _UNCLIP_SCHEDULERS}
    return diffusers.UnCLIPPipeline(
        prior=part(diffusers.PriorTransformer, "prior", **options),
        decoder=part(diffusers.UNet2DConditionModel, "decoder", **options),
        super_res_first=part(diffusers.UNet2DModel, "super_res_first", **options),
        super_res_last=part(diffusers.UNet2DModel, "super_res_last", **options),
        text_encoder=part(CLIPTextModelWithProjection, "text_encoder", **options),
        text_proj=part(UnCLIPTextProjModel, "text_proj", **options),
        tokenizer=part(CLIPTokenizer, "tokenizer", local_files_only=True),
        **schedulers,
    )


_UNCLIP_SCHEDULERS = ("prior_scheduler", "decoder_scheduler", "super_res_scheduler")


class LocalEngine:
    """A queue of jobs shared by all sessions, and the one worker that runs them."""

    def __init__(self, loader: Callable[[ResolvedModel, str], Any] = _load) -> None:
        self._loader = loader
        self._changed = threading.Condition()
        self._queue: deque[LocalJob] = deque()
        self._current: LocalJob | None = None
        self._worker: threading.Thread | None = None
        self._loaded: tuple[ResolvedModel, Any] | None = None

    def run(self, job: LocalJob) -> LocalJob:
        """Queue ``job`` and wait until it is done, cancelled or failed (``job.error``)."""
        with self._changed:
            self._queue.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="local-images", daemon=True)
                self._worker.start()
            self._announce()
            self._changed.notify_all()
        while not job.done.wait(WAIT_POLL):
            if job.watch.cancelled.is_set():
                self._withdraw(job)
        return job

    def waiting(self) -> int:
        """Jobs queued or running now."""
        with self._changed:
            return len(self._queue) + (self._current is not None)

    def _withdraw(self, job: LocalJob) -> None:
        """A cancelled job still in the queue leaves it (a running one stops at its next step)."""
        with self._changed:
            if job in self._queue:
                self._queue.remove(job)
                job.error = cancelled_error()
                job.done.set()
                self._announce()

    def _announce(self) -> None:
        """Tell each queued job how many jobs are ahead of it (the running one included)."""
        ahead = self._current is not None
        for position, job in enumerate(self._queue):
            job.watch.report(LaneProgress(waiting=position + ahead, steps=job.steps))

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                job = self._current = self._queue.popleft()
                self._announce()
            try:
                self._execute(job)
            except _Cancelled:
                job.error = cancelled_error()
            except ChatCanvasError as exc:
                job.error = exc
            except Exception as exc:  # a model or torch failure ends this job, not the worker
                job.error = ChatCanvasError(
                    ErrorKind.SERVER_ERROR,
                    f"{type(exc).__name__}: {exc}"[:500],
                    code="local_failed",
                    provider=PROVIDER,
                )
            finally:
                with self._changed:
                    self._current = None
                    job.done.set()
                    self._announce()

    def _pipeline(self, model: ResolvedModel, device: str) -> Any:
        """The loaded pipeline for ``model``; another model is unloaded first (one at a time)."""
        if self._loaded is not None and self._loaded[0].path == model.path:
            return self._loaded[1]
        self._loaded = None
        gc.collect()
        if device == "cuda":
            import torch

            torch.cuda.empty_cache()
        try:
            pipeline = self._loader(model, device)
        except (OSError, ValueError, ImportError) as exc:
            raise ChatCanvasError(
                ErrorKind.MODEL_NOT_FOUND,
                str(model.path),
                code="load_failed",
                param="model",
                provider=PROVIDER,
            ) from exc
        self._loaded = (model, pipeline)
        return pipeline

    def _execute(self, job: LocalJob) -> None:
        import torch

        watch = job.watch
        if watch.cancelled.is_set():
            raise _Cancelled
        watch.report(LaneProgress(loading=True, steps=job.steps))
        job.device = device_name()
        pipeline = self._pipeline(job.model, job.device)
        done = 0

        def step() -> None:
            nonlocal done
            if watch.cancelled.is_set():
                raise _Cancelled
            done += 1
            watch.report(LaneProgress(step=min(done, job.steps), steps=job.steps))

        watch.report(LaneProgress(steps=job.steps))
        generators = [torch.Generator(job.device).manual_seed(s) for s in job.seeds]
        with _stepping(pipeline, job.model.unclip, step) as extra:
            output = pipeline(
                **job.arguments,
                **extra,
                generator=generators,
                num_images_per_prompt=len(job.seeds),
                output_type="pil",
            )
        for image in output.images:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            job.images.append(buffer.getvalue())


class _stepping:  # a context manager, named like one
    """How a pipeline tells us about each step: ``callback_on_step_end`` where it takes one
    (Stable Diffusion, SDXL, Turbo), else forward hooks on its denoisers (Karlo's
    UnCLIPPipeline: prior, decoder and super-resolution networks, once per step each)."""

    DENOISERS = ("prior", "decoder", "super_res_first", "super_res_last")

    def __init__(self, pipeline: Any, unclip: bool, step: Callable[[], None]) -> None:
        self.pipeline, self.unclip, self.step = pipeline, unclip, step
        self.handles: list[Any] = []

    def __enter__(self) -> dict[str, Any]:
        if not self.unclip:

            def on_step_end(_pipe: Any, _index: int, _timestep: Any, values: dict) -> dict:
                self.step()
                return values

            return {"callback_on_step_end": on_step_end}
        for name in self.DENOISERS:
            module = getattr(self.pipeline, name, None)
            if module is not None:
                self.handles.append(module.register_forward_pre_hook(lambda *_: self.step()))
        return {}

    def __exit__(self, *_: object) -> None:
        for handle in self.handles:
            handle.remove()


_engine_lock = threading.Lock()
_engine: LocalEngine | None = None


def shared_engine() -> LocalEngine:
    """The process's one engine (made on first use)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = LocalEngine()
        return _engine
