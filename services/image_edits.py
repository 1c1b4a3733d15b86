"""Image edits as a workflow: from one of the owner's stored images (a gallery image or a
Compare lane's result), an instruction (and optionally a mask and more reference images)
goes to OpenAI's ``images.edit``; the result is stored as derived from its source.

The order is Compare's: the spending limits are checked for the call (LimitExceeded: nothing
sent, nothing stored), then the files (nothing is paid for a file the API would refuse), the
call is made and recorded in the budget, and the images are stored with the
instruction as their prompt and ``parent_image_id`` naming the source. The safety check of
the instruction (:meth:`ImageEditService.check`) is the caller's to run first when it is on,
as for a comparison. The web app and the terminal app only draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.budget import Budget
from services.catalog import Catalog
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images.edits import EditRequest, OpenAIImageEditor
from services.images.openai_images import PROVIDER
from services.images.registry import PROVIDERS
from services.moderation import ModerationService, ModerationVerdict
from services.storage.image_edits import ImageEdits, SavedEdit
from services.storage.image_tables import ImageThumb, StoredImage
from services.storage.images import ImageStore
from services.wording import error_text


@dataclass(frozen=True)
class EditAsk:
    """What a person asks: the source image's id, the instruction, and optionally a mask
    (PNG bytes), reference images ((name, bytes)) and the model and size to use (None: the
    source's GPT Image model, else the default image model; the model's own size)."""

    source_id: str
    instruction: str
    mask: bytes | None = None
    references: tuple[tuple[str, bytes], ...] = ()
    model: str | None = None
    size: str | None = None
    quality: str | None = None
    count: int = 1


@dataclass(frozen=True)
class Lineage:
    """Where an image comes from and what was made from it. ``parent_id`` is set for an
    edit; ``parent`` is None when that image has been deleted ("the parent is gone")."""

    parent_id: str | None
    parent: ImageThumb | None
    edits: tuple[ImageThumb, ...]

    @property
    def parent_gone(self) -> bool:
        return self.parent_id is not None and self.parent is None


def no_such_image() -> ChatCanvasError:
    """The answer for a missing image, and for another owner's (the same words)."""
    return ChatCanvasError(ErrorKind.BAD_REQUEST, "no such image", param="image")


def edit_error_text(
    err: ChatCanvasError, t: Translator, *, quote: Callable[[str], str] = str
) -> str:
    """An edit's failure as a sentence: a refused file with the edit's own limits (the image,
    mask and reference rules), anything else as everywhere (:func:`error_text`)."""
    if err.kind is not ErrorKind.ATTACHMENT_REFUSED:
        return error_text(err, t, quote=quote)
    reason = t(f"edits.reasons.{err.code or 'unreadable'}")
    name = quote(err.param or "?")
    return t("edits.refused", name=name, reason=reason) + " " + t("edits.limits")


class ImageEditService:
    """Edits of one owner's images, on this run's keys and budget."""

    def __init__(
        self,
        store: ImageStore,
        budget: Budget,
        editor: Callable[[], OpenAIImageEditor],
        catalog: Catalog | None = None,
        moderation: ModerationService | None = None,
    ) -> None:
        self.store = store
        self.edits = ImageEdits(store)
        self.budget = budget
        self.editor = editor
        self.catalog = catalog
        self.moderation = moderation

    def check(self, instruction: str) -> ModerationVerdict:
        """The safety check of an instruction (free; nothing is stored or sent to the image
        engine). Raises ChatCanvasError when the check cannot be made."""
        if self.moderation is None:
            raise ChatCanvasError(ErrorKind.NO_KEY, "no moderation service")
        return self.moderation.check_texts((instruction,))

    def model_for(self, source: StoredImage) -> str:
        """The source's own model when it is an OpenAI image, else the default image model."""
        if source.provider == PROVIDER and source.model:
            return source.model
        return PROVIDERS[PROVIDER].default_model_for(self.catalog)

    def edit(self, ask: EditAsk) -> SavedEdit:
        """Run one edit and store its images as derived from ``ask.source_id``. Raises
        ChatCanvasError: BAD_REQUEST for an image that is not there (or not this owner's),
        ATTACHMENT_REFUSED for a file refused before sending, LimitExceeded, or the provider's
        error (nothing stored)."""
        source = self.store.get_image(ask.source_id)
        if source is None:
            raise no_such_image()
        request = EditRequest(
            instruction=ask.instruction.strip(),
            model=ask.model or self.model_for(source),
            image=source.data,
            mask=ask.mask,
            references=ask.references,
            count=ask.count,
            size=ask.size,
            quality=ask.quality,
        )
        editor = self.editor()
        image_request = request.as_image_request()
        self.budget.check_images([(editor.name, image_request)])
        result = editor.edit(request)
        self.budget.record_images(editor.name, image_request, result)
        return self.edits.save(source.id, image_request, result)

    def lineage(self, image_id: str) -> Lineage:
        """The image's parent (if it is an edit) and its own edits."""
        parent_id = self.edits.parent_of(image_id)
        parent = self.edits.thumb(parent_id) if parent_id is not None else None
        return Lineage(parent_id, parent, tuple(self.edits.edits_of(image_id)))
