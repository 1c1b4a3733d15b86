"""Earlier versions of a reply: a regenerated reply is kept, hidden, and the user can flip
back to it (as ChatGPT's "1/2").

A reply's versions are the assistant messages that answer the same user message (those after
it and before the next user message). The one shown is an ordinary message; the others are
listed in ``hidden_replies`` (hidden_replies.py), so every read of the transcript
(``ConversationStore.messages``), what the model is sent and the exports leave them out, while
the conversation's cost still counts them. Deleting from a user message on (edit and resend)
deletes its versions too, as they come after it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from services.storage.conversations import ConversationStore, MessageRow, StoredMessage, _message
from services.storage.hidden_replies import HiddenReplyRow


def _replies_to(store: ConversationStore, conversation_id: str, user_message_id: int):
    """Every assistant message answering ``user_message_id`` (shown or not), in order."""
    mine = (MessageRow.conversation_id == conversation_id, MessageRow.owner_id == store.owner_id)
    next_user = (
        select(func.coalesce(func.min(MessageRow.id), 2**62))
        .where(*mine, MessageRow.role == "user", MessageRow.id > user_message_id)
        .scalar_subquery()
    )
    return (
        select(MessageRow)
        .where(
            *mine,
            MessageRow.role == "assistant",
            MessageRow.id > user_message_id,
            MessageRow.id < next_user,
        )
        .order_by(MessageRow.id)
    )


def versions(
    store: ConversationStore, conversation_id: str, user_message_id: int
) -> list[StoredMessage]:
    """The versions of the reply to ``user_message_id``, oldest first (one when it was never
    regenerated, none when it is unanswered)."""
    with store.db.session() as s:
        rows = s.scalars(_replies_to(store, conversation_id, user_message_id))
        return [_message(r) for r in rows]


def hide(store: ConversationStore, user_message_id: int, message_ids: list[int]) -> None:
    """Keep these replies as earlier versions of the reply to ``user_message_id``."""
    if not message_ids:
        return
    with store.db.session() as s, s.begin():
        s.add_all(
            HiddenReplyRow(message_id=i, owner_id=store.owner_id, answers_id=user_message_id)
            for i in message_ids
        )


def show(
    store: ConversationStore, conversation_id: str, user_message_id: int, message_id: int
) -> bool:
    """Show version ``message_id`` of the reply to ``user_message_id`` and keep the others as
    earlier versions. False (nothing changes) when it is not one of them."""
    ids = [m.id for m in versions(store, conversation_id, user_message_id)]
    if message_id not in ids:
        return False
    with store.db.session() as s, s.begin():
        s.execute(
            delete(HiddenReplyRow).where(
                HiddenReplyRow.owner_id == store.owner_id,
                HiddenReplyRow.answers_id == user_message_id,
            )
        )
        s.add_all(
            HiddenReplyRow(message_id=i, owner_id=store.owner_id, answers_id=user_message_id)
            for i in ids
            if i != message_id
        )
    return True
