"""Spending limits on the deployer's keys (shared mode): a daily budget in USD per user, a
monthly Karlo image cap per user, and per-run caps on lanes and images per lane.

Every paid call is checked here before it is sent, with an estimate of its cost, and recorded
here when it ends (services/storage/usage.py). Calls on a key the user typed in the sidebar
are recorded but never limited. In local mode nothing is limited; calls are still recorded.

Estimates: a chat call is its estimated prompt tokens at the input price plus its maximum
output (the user's max tokens, else :data:`DEFAULT_OUTPUT_TOKENS`) at the output price; an
image is its estimated output tokens (by quality and size) at the output price. A model whose
price the catalog does not know counts at the catalog's highest known price for its kind.
Karlo images are free within Kakao's quota: they cost $0 and count against the Karlo cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from services.catalog import Catalog, ModelSpec, Price
from services.chat import ChatMessage, estimate_prompt_tokens, estimate_tokens
from services.errors import ChatCanvasError, ErrorKind
from services.images.base import (
    ImageCapabilities,
    ImageProvider,
    ImageRequest,
    ImageResult,
)
from services.images.lane_watch import LaneWatch
from services.images.registry import PROVIDERS, is_free, quota_providers
from services.settings import Mode, Settings
from services.storage.db import utcnow
from services.storage.usage import UsageEvent, UsageStore

if TYPE_CHECKING:
    from services.chat import ReplyStream

# The answer length a chat call is budgeted for when the user set no max tokens.
DEFAULT_OUTPUT_TOKENS = 2_000
# GPT Image output tokens for one 1024x1024 image, by quality (OpenAI's published table);
# other sizes scale with their pixel count. ``auto`` may pick high: budget it as high.
IMAGE_TOKENS_1024 = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 8320, "max": 8320}
DEFAULT_IMAGE_PIXELS = 1536 * 1024  # "auto" may pick the largest standard size


class LimitKind(StrEnum):
    DAILY_BUDGET = "daily_budget"
    KARLO_MONTHLY = "karlo_monthly"
    LANES = "lanes"
    IMAGES_PER_LANE = "images_per_lane"


class LimitExceeded(ChatCanvasError):
    """A call refused before sending because it would pass a limit. Carries the figures the
    message shows: spent / allowed / this call, and when the allowance resets."""

    def __init__(
        self,
        limit: LimitKind,
        *,
        used: float,
        allowed: float,
        asked: float,
        resets_at: datetime | None = None,
        unpriced: bool = False,
    ) -> None:
        per_run = limit in (LimitKind.LANES, LimitKind.IMAGES_PER_LANE)
        kind = ErrorKind.RUN_LIMIT if per_run else ErrorKind.BUDGET_EXCEEDED
        reset = f"; resets {resets_at:%Y-%m-%d %H:%M} UTC" if resets_at else ""
        super().__init__(kind, f"{limit}: used {used:g} of {allowed:g}, asked {asked:g}{reset}")
        self.limit = limit
        self.used = used
        self.allowed = allowed
        self.asked = asked
        self.resets_at = resets_at
        self.unpriced = unpriced

    @property
    def remaining(self) -> float:
        return max(self.allowed - self.used, 0.0)


@dataclass(frozen=True)
class BudgetStatus:
    """Today's allowance for the sidebar. ``limited`` is False in local mode, with no budget
    configured, or when the user's own key pays."""

    limited: bool
    budget_usd: float
    spent_usd: float
    resets_at: datetime
    has_estimates: bool

    @property
    def remaining_usd(self) -> float:
        return max(self.budget_usd - self.spent_usd, 0.0)


def next_midnight(now: datetime) -> datetime:
    """The next UTC midnight after ``now`` (naive UTC)."""
    return datetime.combine(now.date() + timedelta(days=1), time.min)


def next_month(now: datetime) -> datetime:
    """The first day of the next month, 00:00 UTC."""
    first = now.date().replace(day=1)
    return datetime.combine((first + timedelta(days=32)).replace(day=1), time.min)


def _highest_price(catalog: Catalog, kind: str) -> Price:
    """The most expensive known input and output prices for ``kind`` in the catalog."""
    prices = [p for m in catalog.known_ids(kind) if (p := catalog.spec(m).price) is not None]
    return Price(
        max((p.input for p in prices), default=0.0), max((p.output for p in prices), default=0.0)
    )


@dataclass(frozen=True)
class Estimate:
    usd: float
    unpriced: bool  # counted at the catalog's highest price


class Budget:
    """One user's limits on the deployer's keys; built for (settings, owner's usage store)."""

    def __init__(
        self,
        settings: Settings,
        usage: UsageStore,
        catalog: Catalog,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.usage = usage
        self.catalog = catalog
        self.clock = clock

    # -- who pays --------------------------------------------------------------------------
    def own_key(self, provider: str) -> bool:
        """True when the user typed this provider's key in the sidebar (their key pays)."""
        entry = PROVIDERS.get(provider)  # the chat provider is also OpenAI's image entry
        return entry is not None and self.settings.sources.get(entry.key_setting) == "sidebar"

    def limited(self, provider: str) -> bool:
        """Calls to ``provider`` are limited: shared mode, on the deployer's key."""
        return self.settings.mode is Mode.SHARED and not self.own_key(provider)

    def max_lanes(self) -> int | None:
        """The most lanes one comparison may have (None: no cap, local mode)."""
        return self.settings.limits.max_lanes if self.settings.mode is Mode.SHARED else None

    def max_images_per_lane(self) -> int | None:
        """The most images one lane may ask for (None: no cap, local mode)."""
        shared = self.settings.mode is Mode.SHARED
        return self.settings.limits.max_images_per_lane if shared else None

    def daily_budget_applies(self) -> bool:
        """A daily budget limits this user's calls (shared mode, the deployer's key, a budget
        set): what the sidebar's budget line is about."""
        return self.limited("openai") and self.settings.limits.daily_budget_usd > 0

    def status(self) -> BudgetStatus:
        """Spent today on the deployer's keys, the budget, and when it resets."""
        now = self.clock()
        start = datetime.combine(now.date(), time.min)
        end = next_midnight(now)
        budget = self.settings.limits.daily_budget_usd
        return BudgetStatus(
            limited=self.daily_budget_applies(),
            budget_usd=budget,
            spent_usd=self.usage.charged_usd(start, end),
            resets_at=end,
            has_estimates=self.usage.has_estimates(start, end),
        )

    # -- estimates -------------------------------------------------------------------------
    def _price(self, spec: ModelSpec, kind: str) -> tuple[Price, bool]:
        if spec.price is not None:
            return spec.price, False
        return _highest_price(self.catalog, kind), True

    def chat_estimate(
        self, model: str, messages: Sequence[ChatMessage], max_tokens: int | None = None
    ) -> Estimate:
        """The most a chat call may cost: its prompt plus its longest allowed answer."""
        spec = self.catalog.spec(model)
        price, unpriced = self._price(spec, "chat")
        prompt = estimate_prompt_tokens(messages)
        output = max_tokens or DEFAULT_OUTPUT_TOKENS
        if spec.max_output:
            output = min(output, spec.max_output)
        return Estimate((prompt * price.input + output * price.output) / 1_000_000, unpriced)

    def image_estimate(self, provider: str, request: ImageRequest) -> Estimate:
        """What ``request`` may cost: $0 on a free quota (Karlo), GPT Image by quality and size."""
        if is_free(provider):
            return Estimate(0.0, False)
        spec = self.catalog.spec(request.model)
        price, unpriced = self._price(spec, "image")
        dims = request.dimensions()
        pixels = dims[0] * dims[1] if dims else DEFAULT_IMAGE_PIXELS
        per_image = IMAGE_TOKENS_1024.get(request.quality or "high", IMAGE_TOKENS_1024["high"])
        tokens = per_image * pixels / (1024 * 1024)
        prompt = estimate_tokens(request.prompt)
        usd = (max(request.count, 1) * tokens * price.output + prompt * price.input) / 1e6
        return Estimate(usd, unpriced)

    # -- checks ----------------------------------------------------------------------------
    def _check_usd(self, estimate: Estimate) -> None:
        budget = self.settings.limits.daily_budget_usd
        if budget <= 0:
            return
        status = self.status()
        if status.spent_usd + estimate.usd > budget:
            raise LimitExceeded(
                LimitKind.DAILY_BUDGET,
                used=status.spent_usd,
                allowed=budget,
                asked=estimate.usd,
                resets_at=status.resets_at,
                unpriced=estimate.unpriced,
            )

    def check_chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        max_tokens: int | None = None,
        *,
        provider: str = "openai",
    ) -> None:
        """Raise LimitExceeded when this chat call could pass today's budget."""
        if self.limited(provider):
            self._check_usd(self.chat_estimate(model, messages, max_tokens))

    def check_cost(self, provider: str, usd: float, *, unpriced: bool = False) -> None:
        """Raise LimitExceeded when a call estimated at ``usd`` could pass today's budget."""
        if self.limited(provider):
            self._check_usd(Estimate(usd, unpriced))

    def check_images(self, lanes: Sequence[tuple[str, ImageRequest]]) -> None:
        """Check a whole run of image lanes (provider name, request) at once: the per-run
        caps, the Karlo monthly cap and today's budget. Raises LimitExceeded."""
        self.check_run_caps(lanes)
        self.check_totals(lanes)

    def check_run_caps(self, lanes: Sequence[tuple[str, ImageRequest]]) -> None:
        """The per-run caps of one run (lanes, images per lane). Raises LimitExceeded."""
        if self.settings.mode is not Mode.SHARED:
            return
        limits = self.settings.limits
        if len(lanes) > limits.max_lanes:
            raise LimitExceeded(LimitKind.LANES, used=0, allowed=limits.max_lanes, asked=len(lanes))
        for _, request in lanes:
            if request.count > limits.max_images_per_lane:
                raise LimitExceeded(
                    LimitKind.IMAGES_PER_LANE,
                    used=0,
                    allowed=limits.max_images_per_lane,
                    asked=request.count,
                )

    def check_totals(self, lanes: Sequence[tuple[str, ImageRequest]]) -> None:
        """The Karlo monthly cap and today's budget for all of ``lanes`` (a grid's every
        cell, whatever its rows). Raises LimitExceeded."""
        if self.settings.mode is not Mode.SHARED:
            return
        charged = [(p, r) for p, r in lanes if self.limited(p)]
        for entry in quota_providers():
            self._check_quota(entry.name, sum(r.count for p, r in charged if p == entry.name))
        estimates = [self.image_estimate(p, r) for p, r in charged]
        total = Estimate(sum(e.usd for e in estimates), any(e.unpriced for e in estimates))
        self._check_usd(total)

    def _check_quota(self, provider: str, images: int) -> None:
        cap = self.settings.limits.karlo_monthly_images
        if images == 0 or cap <= 0:
            return
        now = self.clock()
        start = datetime.combine(now.date().replace(day=1), time.min)
        used = self.usage.charged_images(provider, start, next_month(now))
        if used + images > cap:
            raise LimitExceeded(
                LimitKind.KARLO_MONTHLY,
                used=used,
                allowed=cap,
                asked=images,
                resets_at=next_month(now),
            )

    # -- records ---------------------------------------------------------------------------
    def record(
        self,
        kind: str,
        provider: str,
        model: str,
        cost_usd: float,
        *,
        estimated: bool = False,
        images: int = 0,
    ) -> None:
        """Record one paid call that has ended (charged unless the user's own key paid)."""
        event = UsageEvent(
            kind=kind,
            provider=provider,
            model=model,
            cost_usd=cost_usd,
            estimated=estimated,
            own_key=self.own_key(provider),
            images=images,
            created_at=self.clock(),
        )
        self.usage.add(event)

    def record_chat(self, kind: str, messages: Sequence[ChatMessage], stream: ReplyStream) -> None:
        """Record a chat call from what its stream reported; without usage (a stopped or
        broken stream), estimate from the prompt and the text that arrived."""
        spec = stream.spec
        price, unpriced = self._price(spec, "chat")
        usage = stream.usage
        if usage is not None and not unpriced:
            cost = stream.cost or 0.0
            self.record(kind, "openai", spec.id, cost)
            return
        if usage is not None:
            prompt, completion = usage.prompt_tokens, usage.completion_tokens
        else:
            prompt = estimate_prompt_tokens(messages)
            completion = estimate_tokens(stream.text)
        cost = (prompt * price.input + completion * price.output) / 1_000_000
        self.record(kind, "openai", spec.id, cost, estimated=True)

    def record_images(self, provider: str, request: ImageRequest, result: ImageResult) -> None:
        """Record an image call that returned images."""
        count = len(result.images)
        if is_free(provider):
            self.record("image", provider, result.model, 0.0, images=count)
        elif result.cost_usd is not None:
            self.record(
                "image",
                provider,
                result.model,
                result.cost_usd,
                estimated=result.cost_is_estimate,
                images=count,
            )
        else:  # no price or no usage: what it may have cost, at most
            made = ImageRequest(
                request.prompt,
                request.model,
                count=count,
                size=request.size,
                width=request.width,
                height=request.height,
                quality=request.quality,
            )
            estimate = self.image_estimate(provider, made)
            self.record("image", provider, result.model, estimate.usd, estimated=True, images=count)

    def guard_lanes(
        self, lanes: Sequence[tuple[ImageProvider, ImageRequest]]
    ) -> list[tuple[ImageProvider, ImageRequest]]:
        """Check a run of lanes (raises LimitExceeded, nothing sent), then return the same
        lanes with each provider recording its call when it ends."""
        self.check_images([(provider.name, request) for provider, request in lanes])
        return [(MeteredProvider(provider, self), request) for provider, request in lanes]


class MeteredProvider:
    """An image provider that records each call it makes in the budget."""

    def __init__(self, inner: ImageProvider, budget: Budget) -> None:
        self.inner = inner
        self.name = inner.name
        self.settings = getattr(inner, "settings", None)
        self._budget = budget

    def models(self) -> list[str]:
        return self.inner.models()

    def capabilities(self, model: str) -> ImageCapabilities:
        return self.inner.capabilities(model)

    def generate(self, request: ImageRequest) -> ImageResult:
        result = self.inner.generate(request)
        self._budget.record_images(self.name, request, result)
        return result

    def generate_watched(self, request: ImageRequest, watch: LaneWatch) -> ImageResult:
        """``generate`` with progress and cancel where the provider has them."""
        watched = getattr(self.inner, "generate_watched", None)
        result = watched(request, watch) if watched else self.inner.generate(request)
        self._budget.record_images(self.name, request, result)
        return result
