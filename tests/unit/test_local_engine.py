"""The local image engine with a tiny random Stable Diffusion pipeline built in code: it runs,
reports each denoising step, cancels, stores its lineage, and queues two sessions on one
engine. Nothing is downloaded; without torch these tests skip (see the ``tiny_model`` fixture)."""

from __future__ import annotations

import threading

import pytest

from services.app_services import build_services
from services.comparison import ComparisonSpec, LaneSpec, lane_spec
from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageRequest
from services.images.lane_watch import LaneProgress, LaneWatch
from services.images.local_engine import shared_engine
from services.images.local_models import has_weights, resolve
from services.images.local_provider import LocalImageProvider
from services.settings import Mode, Settings
from tests.conftest import OWNER, use_hf_cache


class RecordingWatch(LaneWatch):
    """Keeps every progress report; optionally cancels itself at a step."""

    def __init__(self, cancel_at: int | None = None) -> None:
        super().__init__()
        self.reports: list[LaneProgress] = []
        self.cancel_at = cancel_at

    def report(self, progress: LaneProgress) -> None:
        super().report(progress)
        self.reports.append(progress)
        if self.cancel_at is not None and progress.step >= self.cancel_at:
            self.cancel()


@pytest.fixture
def provider(tmp_path) -> LocalImageProvider:
    return LocalImageProvider(Settings(database_url=f"sqlite:///{tmp_path}/l.db"))


def request_for(model: str, steps: int = 3, **kw) -> ImageRequest:
    return ImageRequest("a red cat", model, size="64x64", extras={"steps": steps}, **kw)


def test_runs_and_reports_every_step(provider, tiny_model):
    watch = RecordingWatch()
    result = provider.generate_watched(request_for(tiny_model, steps=4, seeds=(7,)), watch)
    assert len(result.images) == 1 and result.images[0].mime_type == "image/png"
    steps = [p.step for p in watch.reports if p.steps == 4 and not p.loading]
    assert steps[-4:] == [1, 2, 3, 4]
    assert result.seeds == (7,) and result.cost_usd == 0.0


def test_same_seed_same_image(provider, tiny_model):
    first = provider.generate(request_for(tiny_model, seeds=(11,)))
    again = provider.generate(request_for(tiny_model, seeds=(11,)))
    other = provider.generate(request_for(tiny_model, seeds=(12,)))
    assert first.images[0].data == again.images[0].data != other.images[0].data


def test_cancel_stops_at_the_next_step(provider, tiny_model):
    watch = RecordingWatch(cancel_at=1)
    with pytest.raises(ChatCanvasError) as caught:
        provider.generate_watched(request_for(tiny_model, steps=30), watch)
    assert caught.value.kind is ErrorKind.CANCELLED
    assert max(p.step for p in watch.reports) < 30


def test_two_sessions_share_one_queue(tmp_path, tiny_model):
    """While one session's lane runs, another's waits with one job ahead of it."""
    first_running, second_queued = threading.Event(), threading.Event()

    class FirstWatch(LaneWatch):
        def report(self, progress: LaneProgress) -> None:
            super().report(progress)
            if progress.step == 1:  # hold the engine until the second job is queued
                first_running.set()
                assert second_queued.wait(60)

    class SecondWatch(RecordingWatch):
        def report(self, progress: LaneProgress) -> None:
            super().report(progress)
            if progress.waiting == 1:
                second_queued.set()

    sessions = [
        LocalImageProvider(Settings(database_url=f"sqlite:///{tmp_path}/{n}.db")) for n in "ab"
    ]
    results: dict[str, object] = {}
    first = threading.Thread(
        target=lambda: results.setdefault(
            "a", sessions[0].generate_watched(request_for(tiny_model), FirstWatch())
        )
    )
    first.start()
    assert first_running.wait(60)
    second = SecondWatch()
    results["b"] = sessions[1].generate_watched(request_for(tiny_model), second)
    first.join(30)
    assert 1 in [p.waiting for p in second.reports]
    assert [p.waiting for p in second.reports if p.step][-1] == 0
    assert all(len(r.images) == 1 for r in results.values())
    assert shared_engine().waiting() == 0


def test_comparison_stores_the_lineage(tmp_path, catalog, tiny_model):
    services = build_services(
        Settings(database_url=f"sqlite:///{tmp_path}/c.db"), OWNER, catalog=catalog
    )
    lane = LaneSpec(
        "local", tiny_model, size="64x64", seeds=(5,), extras={"steps": 2, "guidance": 3.5}
    )
    progress: list[tuple[int, LaneProgress]] = []
    result = services.comparisons.run(
        ComparisonSpec("a blue boat", (lane,)), on_progress=lambda i, p: progress.append((i, p))
    )
    stored = result.run.lanes[0]
    assert stored.ok and stored.provider == "local" and stored.seeds == (5,)
    for name, value in {
        "model_path": tiny_model,
        "num_inference_steps": 2,
        "guidance_scale": 3.5,
        "width": 64,
        "height": 64,
        "seeds": [5],
    }.items():
        assert stored.params[name] == value
    assert stored.params["device"] in {"cpu", "cuda"}
    assert all(i == 0 for i, _ in progress)
    assert not services.comparisons.cancel_lane(result.run.id, 0)  # finished: nothing to stop


def test_a_cancelled_lane_is_stored_as_cancelled(tmp_path, catalog, tiny_model):
    services = build_services(
        Settings(database_url=f"sqlite:///{tmp_path}/c.db"), OWNER, catalog=catalog
    )
    comparisons = services.comparisons
    started: list[str] = []

    def cancel_on_first_step(index: int, progress: LaneProgress) -> None:
        if progress.step >= 1:
            assert comparisons.lane_running(started[0], index)
            assert comparisons.cancel_lane(started[0], index)

    lane = LaneSpec("local", tiny_model, size="64x64", extras={"steps": 40})
    result = comparisons.run(
        ComparisonSpec("a boat", (lane,)),
        on_started=started.append,
        on_progress=cancel_on_first_step,
    )
    assert result.run.lanes[0].error_kind == str(ErrorKind.CANCELLED)


def test_folders_are_refused_on_a_shared_deployment(tmp_path, tiny_model):
    shared = LocalImageProvider(
        Settings(mode=Mode.SHARED, database_url=f"sqlite:///{tmp_path}/s.db")
    )
    with pytest.raises(ChatCanvasError) as caught:
        shared.generate(request_for(tiny_model))
    assert caught.value.code == "folder_refused"


def test_missing_weights_name_the_download_command(provider, tmp_path, monkeypatch):
    use_hf_cache(monkeypatch, str(tmp_path / "empty-cache"))
    with pytest.raises(ChatCanvasError) as caught:
        resolve("karlo-v1-alpha", allow_folders=True)
    assert caught.value.detail == "hf download kakaobrain/karlo-v1-alpha"
    assert not has_weights("sd-turbo")
    assert not has_weights(str(tmp_path))  # a folder without model_index.json


def test_lane_spec_names_a_folder(tiny_model):
    assert lane_spec(f"local:{tiny_model}") == LaneSpec("local", tiny_model)


def test_karlo_architecture_counts_prior_decoder_and_upscaler_steps(provider, tmp_path):
    """UnCLIPPipeline takes no step callback: its networks' steps are counted and cancel works."""
    from services.images.local_tiny import save_tiny_unclip

    folder = str(save_tiny_unclip(tmp_path / "tiny-karlo"))
    caps = provider.capabilities(folder)
    assert caps.family == "local-karlo" and not caps.negative_prompt
    request = ImageRequest(
        "a red cat", folder, extras={"prior_num_inference_steps": 2, "num_inference_steps": 3}
    )
    watch = RecordingWatch()
    result = provider.generate_watched(request, watch)
    assert result.params["pipeline"] == "UnCLIPPipeline"
    assert [p.step for p in watch.reports if p.step][-1] == 2 + 3 + 7 == watch.reports[-1].steps
    with pytest.raises(ChatCanvasError) as caught:
        provider.generate_watched(request, RecordingWatch(cancel_at=1))
    assert caught.value.kind is ErrorKind.CANCELLED
