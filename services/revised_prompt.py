"""Giving the other engines the prompt a provider actually drew.

DALL·E-style models rewrite a prompt before drawing it and answer with the ``revised_prompt``
(kept with each image). :func:`revised_prompt_spec` makes a new comparison of the *other*
lanes of that image's comparison (a Karlo lane too: its English prompt is the revised one,
translated only when Karlo cannot take it), each lane with its stored parameters and seeds,
so only the prompt changes. The run goes through :meth:`ComparisonService.run` like any
comparison (spending limits first; the safety check is the caller's, as for Generate), and its
lanes and images record where the prompt came from in their params under ``prompt_from``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from services.comparison import ComparisonResult, ComparisonService, ComparisonSpec, LaneSpec
from services.images.base import LaneOutcome
from services.images.lane_watch import LaneProgress
from services.storage.images import CompareRun, StoredImage, StoredLane

PROMPT_FROM = "prompt_from"  # the params key of the lineage
REVISED_PROMPT = "revised_prompt"  # its kind
# what a lane's stored params name that LaneSpec holds in its own fields (or that is sent
# anew: the prompt, the seeds); everything else is passed on as extras, which each provider
# filters to what its model takes
_OWN_FIELDS = {
    "model",
    "prompt",
    "negative_prompt",
    "n",
    "samples",
    "size",
    "width",
    "height",
    "quality",
    "output_format",
    "image_format",
    "seed",
    "seeds",
    "version",
    "return_type",
    PROMPT_FROM,
}


@dataclass(frozen=True)
class PromptSource:
    """Where a comparison's prompt came from: the revised prompt of image ``image_id``,
    lane ``lane_index`` of run ``run_id``."""

    image_id: str
    run_id: str
    lane_index: int

    def as_params(self) -> dict[str, object]:
        return {
            "kind": REVISED_PROMPT,
            "image_id": self.image_id,
            "run_id": self.run_id,
            "lane_index": self.lane_index,
        }

    @classmethod
    def from_params(cls, params: dict) -> PromptSource | None:
        """The source recorded in a stored lane's or image's params, if any."""
        found = params.get(PROMPT_FROM)
        if not isinstance(found, dict) or found.get("kind") != REVISED_PROMPT:
            return None
        try:
            return cls(str(found["image_id"]), str(found["run_id"]), int(found["lane_index"]))
        except (KeyError, TypeError, ValueError):
            return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def stored_lane_spec(lane: StoredLane) -> LaneSpec:
    """The lane a stored lane ran, read back from the parameters it sent (a failed lane
    kept none: its provider's defaults), with its seeds when it had them."""
    params = lane.params
    count = _number(params.get("n")) or _number(params.get("samples")) or len(lane.image_ids)
    spec = LaneSpec(
        provider=lane.provider,
        model=lane.model,
        size=_text(params.get("size")),
        width=_number(params.get("width")),
        height=_number(params.get("height")),
        count=max(count, 1),
        quality=_text(params.get("quality")),
        output_format=_text(params.get("output_format")) or _text(params.get("image_format")),
        extras=MappingProxyType({k: v for k, v in params.items() if k not in _OWN_FIELDS}),
    )
    return spec.with_seeds(lane.seeds) if len(lane.seeds) == spec.count else spec


def other_lanes(run: CompareRun, lane_index: int | None) -> tuple[StoredLane, ...]:
    """The lanes of ``run`` other than ``lane_index``, in order."""
    return tuple(lane for lane in run.lanes if lane.index != lane_index)


def revised_prompt_offered(run: CompareRun, image: StoredImage) -> bool:
    """Whether ``image`` (of ``run``) has a revised prompt the other lanes could be sent."""
    return bool((image.revised_prompt or "").strip()) and bool(other_lanes(run, image.lane_index))


def revised_prompt_spec(
    comparisons: ComparisonService, image_id: str, *, chat_model: str | None = None
) -> ComparisonSpec:
    """The comparison that sends image ``image_id``'s revised prompt to the other lanes of
    its run: same parameters and seeds, negative prompt, blind setting and studio run; the
    English prompt filled in for the English-only lanes (``chat_model`` translates when they
    cannot take it as it is: one paid call). Raises KeyError for an image of no run of this
    owner, ValueError when it has no revised prompt or its run no other lane, and
    ChatCanvasError when the translation fails."""
    store = comparisons.store
    image = store.get_image(image_id)
    run = store.get_run(image.run_id) if image is not None and image.run_id else None
    if image is None or run is None:
        raise KeyError(image_id)
    if not revised_prompt_offered(run, image):
        raise ValueError("no revised prompt, or no other lane to send it to")
    source = PromptSource(image.id, run.id, image.lane_index or 0)
    spec = ComparisonSpec(
        (image.revised_prompt or "").strip(),
        tuple(stored_lane_spec(lane) for lane in other_lanes(run, image.lane_index)),
        negative_prompt=run.negative_prompt,
        blind=run.blind,
        studio_run_id=run.studio_run_id,
        lineage=MappingProxyType({PROMPT_FROM: source.as_params()}),
    )
    return comparisons.with_english(spec, model=chat_model)


def send_revised_prompt(
    comparisons: ComparisonService,
    image_id: str,
    *,
    chat_model: str | None = None,
    on_started: Callable[[str], None] | None = None,
    on_lane: Callable[[int, LaneOutcome], None] | None = None,
    on_progress: Callable[[int, LaneProgress], None] | None = None,
) -> ComparisonResult:
    """Run :func:`revised_prompt_spec` as a new comparison (see :meth:`ComparisonService.run`
    for the callbacks and the spending limits). The safety check, when on, is the caller's:
    :meth:`ComparisonService.check` on the same spec."""
    spec = revised_prompt_spec(comparisons, image_id, chat_model=chat_model)
    return comparisons.run(spec, on_started=on_started, on_lane=on_lane, on_progress=on_progress)
