"""The composition root: the one place that builds a run's stores and services for one owner.

app.py calls :func:`build_services` once per rerun with the resolved settings and the owner
(``local``, or the signed-in user's id); pages and components receive what it built and never
construct a store or pick an owner themselves, so no code path can forget whose data it touches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.admin_report import AdminReport
from services.budget import Budget
from services.catalog import Catalog
from services.chat import ChatService
from services.chat_turns import ChatTurns
from services.comparison import ComparisonService
from services.grid import GridService
from services.image_edits import ImageEditService
from services.images import ImageProvider, make_provider
from services.images.edits import OpenAIImageEditor
from services.ledger import CostLedger
from services.moderation import ModerationService
from services.settings import Settings
from services.shares import ShareService
from services.speech import SpeechService
from services.storage import ConversationStore, Database, open_database
from services.storage.chains import ChainStore
from services.storage.grids import GridStore
from services.storage.images import ImageStore
from services.storage.message_audio import MessageAudioStore
from services.storage.usage import UsageStore
from services.storage.users import UserStore
from services.studio import ChainEngine


@dataclass(frozen=True)
class Services:
    """One owner's stores and the services over them, for one run."""

    settings: Settings  # with ``owner_id`` set to the owner these stores serve
    db: Database
    conversations: ConversationStore
    chains: ChainStore
    images: ImageStore
    ledger: CostLedger
    chat: ChatService
    turns: ChatTurns
    chain_engine: ChainEngine
    users: UserStore
    budget: Budget
    shares: ShareService
    comparisons: ComparisonService
    speech: SpeechService
    moderation: ModerationService
    grids: GridService

    @property
    def owner_id(self) -> str:
        return self.settings.owner_id

    def image_provider(self, name: str) -> ImageProvider:
        """The image provider registered as ``name``, with this run's keys and URLs."""
        return make_provider(name, self.settings)

    def image_edits(self) -> ImageEditService:
        """Edits of this owner's images (``images.edit``), on this run's keys and budget."""
        catalog = self.comparisons.catalog
        return ImageEditService(
            self.images,
            self.budget,
            lambda: OpenAIImageEditor(self.settings, catalog),
            catalog,
            self.moderation,
        )

    def admin_report(self) -> AdminReport:
        """Spending across every owner: only for the admin page, which only admins reach."""
        return AdminReport(self.db, self.settings.access)


def build_services(settings: Settings, owner: str, *, catalog: Catalog) -> Services:
    """Every store and service of this run, scoped to ``owner`` (which also becomes
    ``settings.owner_id``)."""
    settings = replace(settings, owner_id=owner)
    db = open_database(settings.database_url, settings.blobs)
    conversations = ConversationStore(db, owner)
    images = ImageStore(db, owner)
    usage = UsageStore(db, owner)  # every paid call: the budget writes it, the ledger reads it
    budget = Budget(settings, usage, catalog)
    chat = ChatService(settings, catalog, budget=budget)
    moderation = ModerationService(settings, catalog, budget=budget)
    comparisons = ComparisonService(
        images, budget, lambda name: make_provider(name, settings), catalog, chat, moderation
    )
    return Services(
        settings=settings,
        db=db,
        conversations=conversations,
        chains=ChainStore(db, owner),
        images=images,
        ledger=CostLedger(conversations, images, usage),
        chat=chat,
        turns=ChatTurns(conversations, chat),
        chain_engine=ChainEngine(chat, moderation=moderation),
        users=UserStore(db),
        budget=budget,
        shares=ShareService(db, owner),
        comparisons=comparisons,
        speech=SpeechService(settings, catalog, MessageAudioStore(db, owner), budget=budget),
        moderation=moderation,
        grids=GridService(
            GridStore(db, owner, images),
            comparisons,
            concurrency=settings.grid_concurrency,
            confirm_usd=settings.grid_confirm_usd,
        ),
    )
