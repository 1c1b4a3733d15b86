"""Conversations as files: export to JSON and Markdown, and import from a JSON export.

An import is untrusted input: every field is checked (services/import_rules.py) before anything
is stored, and a bad file raises ChatCanvasError(BAD_IMPORT) naming the field.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict

from services import import_rules as rules
from services.chat_images import MAX_IMAGES, ChatImage, prepare_image
from services.errors import ChatCanvasError
from services.storage.conversations import Conversation, ConversationStore, MessageStatus

EXPORT_FORMAT = "chatcanvas.conversation.v1"
ROLES = ("user", "assistant", "system")


def export_json(store: ConversationStore, conversation_id: str) -> dict:
    """The conversation and its messages as a ``chatcanvas.conversation.v1`` document; raises
    KeyError for an unknown conversation (another owner's included)."""
    conv = store.get(conversation_id)
    if conv is None:
        raise KeyError(conversation_id)
    messages = []
    stored = store.messages(conversation_id)
    attached = store.attachments.images(m.id for m in stored if m.role == "user")
    for m in stored:
        item = asdict(m)
        for k in ("id", "conversation_id"):
            item.pop(k)
        item["status"] = str(m.status)
        item["created_at"] = m.created_at.isoformat()
        if m.id in attached:
            item["images"] = [_exported_image(image) for image in attached[m.id]]
        messages.append(item)
    return {
        "format": EXPORT_FORMAT,
        "title": conv.title,
        "system_prompt": conv.system_prompt,
        "model": conv.model,
        "params": conv.params,
        "created_at": conv.created_at.isoformat(),
        "messages": messages,
    }


def export_markdown(store: ConversationStore, conversation_id: str) -> str:
    """The conversation as Markdown: a heading per message, its status when not complete."""
    data = export_json(store, conversation_id)
    lines = [f"# {data['title'] or 'Conversation'}", ""]
    if data["model"]:
        lines += [f"*Model: {data['model']}*", ""]
    if data["system_prompt"]:
        lines += ["## system", "", data["system_prompt"], ""]
    for m in data["messages"]:
        note = "" if m["status"] == MessageStatus.COMPLETE else f" ({m['status']})"
        lines += [f"## {m['role']}{note}", "", m["content"], ""]
        for i, image in enumerate(m.get("images", []), start=1):
            lines += [f"![image {i}](data:{image['mime']};base64,{image['data']})", ""]
    return "\n".join(lines)


def _exported_image(image: ChatImage) -> dict:
    return {
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "data": base64.b64encode(image.data).decode("ascii"),
    }


def import_json(store: ConversationStore, payload: str | bytes | dict) -> Conversation:
    """Create a new conversation of ``store``'s owner from an export. Every field is checked
    before anything is stored; a bad file raises ChatCanvasError(BAD_IMPORT) naming the field."""
    data = rules.mapping(rules.load_json(payload), "file")
    if data.get("format") != EXPORT_FORMAT:
        raise rules.refuse("format", f"not {EXPORT_FORMAT}")
    messages = rules.sequence(data.get("messages"), "messages", max_items=rules.MAX_MESSAGES)
    checked = [_imported_message(m, f"messages[{i}]") for i, m in enumerate(messages)]
    images = [_imported_images(m, f"messages[{i}]") for i, m in enumerate(messages)]
    rules.text(data, "created_at", "created_at", max_chars=40)  # not imported: a new row
    conversation = {
        "title": rules.text(data, "title", "title", max_chars=200) or "",
        "system_prompt": rules.text(data, "system_prompt", "system_prompt") or "",
        "model": rules.text(data, "model", "model", max_chars=rules.MAX_MODEL_CHARS),
        "params": _imported_params(data.get("params")),
    }
    imported = store.insert(conversation, checked)
    if any(images):
        stored = store.messages(imported.id)
        try:
            for message, attached in zip(stored, images, strict=True):
                if attached:
                    store.attachments.add(message.id, attached)
        except Exception:  # all or nothing, as for the messages
            store.delete(imported.id)
            raise
    return imported


def _imported_images(m: dict, field: str) -> list[ChatImage]:
    """A user message's attached images from an export entry, each checked and re-encoded
    as an attachment is (type, size, pixel limit, decodes)."""
    if m.get("images") is None:
        return []
    if m.get("role") != "user":
        raise rules.refuse(f"{field}.images", "only a user message carries images")
    entries = rules.sequence(m["images"], f"{field}.images", max_items=MAX_IMAGES)
    images = []
    for j, entry in enumerate(entries):
        where = f"{field}.images[{j}]"
        entry = rules.mapping(entry, where)
        b64 = rules.text(entry, "data", f"{where}.data", max_chars=rules.MAX_IMPORT_BYTES)
        try:
            data = base64.b64decode(b64 or "", validate=True)
            images.append(prepare_image(data, where))
        except (binascii.Error, ValueError):
            raise rules.refuse(f"{where}.data", "not base64") from None
        except ChatCanvasError as err:
            raise rules.refuse(where, f"not an accepted image ({err.code})") from None
    return images


def _imported_message(m: object, field: str) -> dict:
    """A message's values from an export entry; ChatCanvasError(BAD_IMPORT) naming the bad
    field."""
    m = rules.mapping(m, field)
    role = rules.choice(m, "role", f"{field}.role", ROLES)
    if role is None:
        raise rules.refuse(f"{field}.role", "missing")
    tokens = {"low": 0, "high": rules.MAX_TOKENS}
    status = rules.choice(m, "status", f"{field}.status", tuple(s.value for s in MessageStatus))
    values = {
        "role": role,
        "content": rules.text(m, "content", f"{field}.content") or "",
        "status": status or MessageStatus.COMPLETE.value,
        "model": rules.text(m, "model", f"{field}.model", max_chars=rules.MAX_MODEL_CHARS),
        "finish_reason": rules.text(m, "finish_reason", f"{field}.finish_reason", max_chars=32),
        "error_kind": rules.text(m, "error_kind", f"{field}.error_kind", max_chars=32),
        "prompt_tokens": rules.integer(m, "prompt_tokens", f"{field}.prompt_tokens", **tokens),
        "completion_tokens": rules.integer(
            m, "completion_tokens", f"{field}.completion_tokens", **tokens
        ),
        "latency_ms": rules.integer(m, "latency_ms", f"{field}.latency_ms", **tokens),
        "cost_usd": rules.number(
            m, "cost_usd", f"{field}.cost_usd", low=0.0, high=rules.MAX_COST_USD
        ),
    }
    rules.text(m, "created_at", f"{field}.created_at", max_chars=40)  # not imported: a new row
    return values


def _imported_params(value: object) -> dict:
    """The chat parameters this version uses (temperature, max_tokens), checked for range."""
    if value is None:
        return {}
    params = rules.mapping(value, "params")  # other keys (a newer version's) are left out
    checked = {
        "temperature": rules.number(params, "temperature", "params.temperature", low=0.0, high=2.0),
        "max_tokens": rules.integer(
            params, "max_tokens", "params.max_tokens", low=1, high=rules.MAX_TOKENS
        ),
    }
    return {k: v for k, v in checked.items() if v is not None}
