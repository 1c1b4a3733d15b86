"""Turns of a stored conversation: send, retry, regenerate, edit-and-resend, stop.

Plain Python over ConversationStore and ChatService, so the page only lays out widgets.
Persistence rule: the user's message is committed before the call; the reply gets a row as
soon as the stream opens (status ``incomplete``), its text is saved while it streams, and its
final status, usage and cost are written when it ends. A crash loses at most the last second
of the reply in flight, and what is kept is marked incomplete.

The web app streams a reply on a background writer (:meth:`PendingReply.in_background`), not on
the page's script thread: Streamlit interrupts a script run on every rerun (another page, another
conversation, a reload), and the reply must go on until it ends or the user presses Stop. A page
run draws it with :func:`live_reply` and :meth:`PendingReply.follow`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from services.chat import (
    ChatMessage,
    ChatOptions,
    ChatService,
    ReplyStream,
    check_images,
    check_user_text,
    context_warning,
)
from services.chat_images import ChatImage
from services.errors import ChatCanvasError, ErrorKind
from services.in_flight import InFlight
from services.storage import Conversation, ConversationStore, StoredMessage, reply_versions
from services.storage.conversations import MessageStatus, auto_title

SAVE_EVERY_SECONDS = 1.0

# process-wide state, not a cache: replies being streamed, by conversation id, so a new page
# run can wait for them or stop them (see services/in_flight.py)
_replies = InFlight()


def settle(conversation_id: str, *, cancel: bool = False, timeout: float = 10.0) -> bool:
    """Wait until no reply of this conversation is being written; with ``cancel``, stop it
    first (the user pressed Stop). Returns at once when none is in flight; False when another
    session is still writing one (it is left alone; the stored part is what to show)."""
    return _replies.settle(conversation_id, cancel=cancel, timeout=timeout)


def live_reply(conversation_id: str) -> PendingReply | None:
    """The reply of this conversation being written in this process now, if any."""
    item = _replies.get(conversation_id)
    return item if isinstance(item, PendingReply) else None


@dataclass
class PendingReply:
    """A reply being streamed into its stored row. Iterate for deltas, then call finish()."""

    store: ConversationStore
    row: StoredMessage
    stream: ReplyStream
    started: float
    question_id: int | None = None  # the user message it answers
    first_token_ms: int | None = None
    cancelled: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    _grew: threading.Event = field(default_factory=threading.Event)  # text arrived, or done
    _last_save: float = field(default=0.0)

    def __post_init__(self) -> None:
        # the first save a second after the stream opened, not at the first token: that
        # token reaches the page without waiting for a commit (with ten sessions answering at
        # once, ten commits queued on the database's one writer before ten first tokens)
        self._last_save = self.started
        _replies.add(self.row.conversation_id, self)

    def cancel(self) -> None:
        """Stop receiving (from any thread): the stream ends and finish() records 'stopped'."""
        self.cancelled = True
        self.stream.close()

    @property
    def text(self) -> str:
        """What has arrived so far."""
        return self.stream.text

    def in_background(self) -> PendingReply:
        """Stream the rest on a writer thread that stores it and finishes it, whoever watches:
        only :meth:`cancel` (Stop) ends it early. Deadlines and size caps are the stream's."""
        threading.Thread(target=self._write_all, name=f"reply-{self.row.id}", daemon=True).start()
        return self

    def _write_all(self) -> None:
        try:
            for _ in self:
                pass
        finally:
            self.finish()

    def follow(self, every: float = 0.05, idle: float = 0.5) -> Iterator[str]:
        """The text as it grows, in pieces, until the writer has stored the reply (for a
        reader on another thread while :meth:`in_background` writes). The writer wakes the
        reader when text arrives, so the first piece is handed over at once; later ones are
        gathered for ``every`` seconds (fewer wake-ups of the page's thread). While nothing
        arrives (a model thinking), an empty piece every ``idle`` seconds lets the reader
        draw, so a page run can be interrupted at once (Streamlit stops a run only when it
        draws)."""
        seen = 0
        while True:
            self._grew.clear()  # before reading: a piece that lands after this wakes us
            finished = self.done.is_set()
            text = self.stream.text
            if len(text) > seen:
                yield text[seen:]
                seen = len(text)
                self.done.wait(every)
            elif finished:
                return
            elif not self._grew.wait(idle):
                yield ""

    def __iter__(self) -> Iterator[str]:
        for delta in self.stream:
            now = time.perf_counter()
            if self.first_token_ms is None:
                self.first_token_ms = int((now - self.started) * 1000)
            self._grew.set()
            if now - self._last_save >= SAVE_EVERY_SECONDS:
                self.store.update_message(self.row.id, content=self.stream.text)
                self._last_save = now
            yield delta

    def finish(self, *, stopped: bool = False) -> StoredMessage:
        """Write the final state. ``stopped``: the consumer quit before the stream ended (the
        user pressed Stop, or the run was interrupted)."""
        self.stream.close()
        stream = self.stream
        stopped = stopped or self.cancelled
        if stream.complete:
            status = MessageStatus.COMPLETE
        elif stopped:
            status = MessageStatus.STOPPED
        else:
            status = MessageStatus.INCOMPLETE
        # without the provider's usage (stopped, cut): estimated from the text that arrived,
        # shown as an estimate (the status says it is not complete)
        usage, estimated = (
            (stream.usage, False)
            if status == MessageStatus.COMPLETE
            else stream.usage_or_estimate()
        )
        cost = stream.cost
        if estimated and usage is not None:
            cost = stream.spec.cost(usage.prompt_tokens, usage.completion_tokens)
        final = {
            "content": stream.text,
            "status": status,
            "finish_reason": stream.finish_reason,
            "error_kind": str(stream.error.kind) if stream.error and not stopped else None,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "cost_usd": cost,
            "latency_ms": self.first_token_ms,
        }
        try:
            self.store.update_message(self.row.id, **final)
        finally:
            # even when the write fails: a stuck entry would make every later run wait
            _replies.remove(self.row.conversation_id, self)
            self.done.set()
            self._grew.set()
        return replace(self.row, **final)  # as stored (not read again)


class ChatTurns:
    """Runs the turns of conversations stored for one owner."""

    def __init__(self, store: ConversationStore, chat: ChatService) -> None:
        self.store = store
        self.chat = chat

    def api_messages(
        self, conversation: Conversation, *, through: int | None = None
    ) -> list[ChatMessage]:
        """What the model sees: the system prompt, then every user message and every
        assistant message that has text (stopped and incomplete replies included, as shown);
        with ``through``, only the messages up to that id."""
        messages = []
        if conversation.system_prompt.strip():
            messages.append(ChatMessage("system", conversation.system_prompt))
        stored = self.store.messages(conversation.id)
        attached = self.store.attachments.images(m.id for m in stored if m.role == "user")
        for m in stored:
            if through is not None and m.id > through:
                break
            if m.role == "user" or (m.role == "assistant" and m.content.strip()):
                messages.append(ChatMessage(m.role, m.content, tuple(attached.get(m.id, ()))))
        return messages

    def send(
        self,
        conversation: Conversation,
        text: str,
        model: str,
        options: ChatOptions,
        images: Sequence[ChatImage] = (),
    ) -> PendingReply:
        """Store the user's text and attached ``images`` (already checked), then start the
        reply. Empty or oversized text, too many images or images for a model that does not
        read them raise before anything is stored or sent."""
        check_user_text(text)
        check_images(self.chat.catalog.spec(model), len(images))
        message = self.store.add_message(conversation.id, "user", text)
        if images:
            self.store.attachments.add(message.id, images)
        if not conversation.title:
            self.store.update(conversation.id, title=auto_title(text))
        return self._answer(conversation, message, model, options, replacing=False)

    def reply(self, conversation: Conversation, model: str, options: ChatOptions) -> PendingReply:
        """Answer the last user message. On failure before the stream opens, that message is
        marked ``error`` (it stays in the transcript with a retry action) and the error is
        raised."""
        last = self.store.messages(conversation.id, last=1)
        if not last or last[0].role != "user":
            raise ChatCanvasError(ErrorKind.EMPTY_INPUT, "no user message to answer")
        return self._answer(conversation, last[0], model, options, replacing=False)

    def _answer(
        self,
        conversation: Conversation,
        user_msg: StoredMessage,
        model: str,
        options: ChatOptions,
        *,
        replacing: bool,
    ) -> PendingReply:
        """Open a reply to ``user_msg``. ``replacing``: the replies after it become earlier
        versions (kept, hidden) only once the new stream has opened, so a failed regenerate
        shows the old answer still."""
        messages = self.api_messages(conversation, through=user_msg.id)
        try:
            estimate = context_warning(self.chat.catalog.spec(model), messages)
            if estimate is not None:
                raise ChatCanvasError(ErrorKind.CONTEXT_TOO_LONG, f"≈{estimate} tokens")
            started = time.perf_counter()
            stream = self.chat.stream_reply(model, messages, options)
        except ChatCanvasError as err:
            if not replacing:  # unanswered: the message shows the error and a retry action
                self.store.update_message(
                    user_msg.id, status=MessageStatus.ERROR, error_kind=str(err.kind)
                )
            raise
        if replacing:
            after = self.store.messages(conversation.id, last=20)
            later = [m.id for m in after if m.id > user_msg.id]
            reply_versions.hide(self.store, user_msg.id, later)
        if user_msg.status != MessageStatus.COMPLETE:
            self.store.update_message(user_msg.id, status=MessageStatus.COMPLETE, error_kind=None)
        row = self.store.add_message(
            conversation.id, "assistant", "", status=MessageStatus.INCOMPLETE, model=model
        )
        return PendingReply(self.store, row, stream, started, question_id=user_msg.id)

    def regenerate(
        self, conversation: Conversation, model: str, options: ChatOptions
    ) -> PendingReply:
        """Answer the last user message again, replacing the replies after it (they stay if
        the new reply cannot start)."""
        return self._answer(
            conversation, self._last_user(conversation), model, options, replacing=True
        )

    def versions(
        self, conversation: Conversation, newest: list[StoredMessage] | None = None
    ) -> list[StoredMessage]:
        """The versions of the last reply, oldest first (more than one once regenerated;
        none before the first question). ``newest``: the conversation's newest messages when
        the caller has just read them (one query fewer)."""
        if newest is None or not any(m.role == "user" for m in newest):
            newest = self.store.messages(conversation.id, last=20)
        users = [m for m in newest if m.role == "user"]
        if not users:
            return []
        return reply_versions.versions(self.store, conversation.id, users[-1].id)

    def show_version(self, conversation: Conversation, message_id: int) -> bool:
        """Show that version of the last reply instead of the one shown (what the model is
        sent next follows what is shown)."""
        last = self._last_user(conversation)
        return reply_versions.show(self.store, conversation.id, last.id, message_id)

    def edit_last(
        self, conversation: Conversation, text: str, model: str, options: ChatOptions
    ) -> PendingReply:
        """Replace the last user message (and what followed it) with ``text`` and resend;
        its attached images go with the new text."""
        check_user_text(text)
        last_user = self._last_user(conversation)
        images = self.store.attachments.images([last_user.id]).get(last_user.id, [])
        check_images(self.chat.catalog.spec(model), len(images))
        self.store.delete_messages_from(conversation.id, last_user.id)
        return self.send(conversation, text, model, options, images)

    def _last_user(self, conversation: Conversation) -> StoredMessage:
        for m in reversed(self.store.messages(conversation.id, last=20)):
            if m.role == "user":
                return m
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT, "no user message")
