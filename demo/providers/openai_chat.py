"""``POST /v1/chat/completions`` for the fake OpenAI server: OpenAI's error bodies, its
validation (unknown model, parameters a reasoning model refuses, the context window), the JSON
answer and the SSE stream, with the stream faults (cut_stream, no_finish, trickle, oversized)."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from demo.providers.hostile import HOSTILE, OVERSIZED_BYTES, send_hostile, write_chunk
from demo.providers.openai_vision import (
    IMAGE_TOKENS,
    count_images,
    message_text,
    refused_image_part,
    too_large,
)

# Error bodies as the real API sends them (type, code, param, wording).
ERRORS: dict[str, tuple[int, dict, dict[str, str]]] = {
    "invalid_key": (
        401,
        {
            "message": "Incorrect API key provided: sk-fake***0000. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        },
        {},
    ),
    "permission": (
        403,
        {
            "message": "You are not allowed to sample from this model",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        {},
    ),
    "insufficient_quota": (
        429,
        {
            "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        },
        {},
    ),
    "rate_limit": (
        429,
        {
            "message": "Rate limit reached for gpt-5.4-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
        {"retry-after": "1", "x-ratelimit-reset-requests": "1s"},
    ),
    "context_length": (
        400,
        {
            "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        },
        {},
    ),
    "unsupported_parameter": (
        400,
        {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        },
        {},
    ),
    "model_not_found": (
        404,
        {
            "message": "The model `gpt-4` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        },
        {},
    ),
    "server_error": (
        500,
        {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        },
        {},
    ),
}


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces that concatenate back to exactly ``text``."""
    return re.findall(r"\s*\S+|\s+", text) or [""]


def count_tokens(text: str) -> int:
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def answer_chat(h: Any, body: dict) -> None:
    """Answer one chat request on handler ``h`` (the fake's ``_Handler``)."""
    fake = h.server_fake
    fault = fake.meet_fault(h, "chat")
    if fault == "timeout":
        return
    if fault in ERRORS:
        h._send_error(fault)
        return
    if fault in HOSTILE - {"trickle", "oversized"}:  # those two happen mid-stream
        send_hostile(h, fault)
        return
    if too_large(h):
        return
    model = _checked_model(h, body)
    if model is None:
        return
    messages = body["messages"]
    if refused_image_part(h, messages, model.vision):
        return
    prompt_tokens = sum(count_tokens(message_text(m)) + 4 for m in messages)
    prompt_tokens += IMAGE_TOKENS * count_images(messages)
    if prompt_tokens > model.context_window:
        h._invalid(
            f"This model's maximum context length is {model.context_window} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce the length of the messages.",
            "messages",
            "context_length_exceeded",
        )
        return
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    pieces = split_tokens(fake.reply(messages, model.id))
    finish_reason = "stop"
    if limit and len(pieces) > limit:
        pieces, finish_reason = pieces[:limit], "length"
    reply = Reply(
        f"chatcmpl-{uuid.uuid4().hex[:29]}", int(time.time()), model.id, pieces, finish_reason
    )
    usage = _usage(prompt_tokens, len(pieces))
    if not body.get("stream"):
        time.sleep(fake.first_token_delay)
        h._send_json(200, _completion(reply, usage))
        return
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    stream_chat(h, reply, usage if include_usage else None, fault)


def _checked_model(h: Any, body: dict) -> Any:
    """The requested model, or None after answering the error the real API would send."""
    model_id = body.get("model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        h._invalid("[] is too short - 'messages'", "messages", None)
        return None
    for m in messages:
        if m.get("role") not in ("system", "user", "assistant", "developer", "tool"):
            h._invalid(
                f"Invalid value: '{m.get('role')}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.",
                "messages[0].role",
                "invalid_value",
            )
            return None
    model = h.server_fake.model(model_id) if isinstance(model_id, str) else None
    if model is None or model.kind != "chat":
        h._invalid(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            None,
            "model_not_found",
            status=404,
        )
        return None
    if model.reasoning and "max_tokens" in body:
        h._invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
        return None
    if model.reasoning and body.get("temperature") not in (None, 1, 1.0):
        h._invalid(
            f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
        return None
    return model


@dataclass
class Reply:
    """One completion's identity and text, as the pieces (tokens) it is streamed in."""

    id: str
    created: int
    model: str
    pieces: list[str]
    finish_reason: str

    def chunk(self, choices: list[dict], usage: dict | None = None, *, with_usage: bool) -> dict:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if with_usage:
            data["usage"] = usage
        return data


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion(reply: Reply, usage: dict) -> dict:
    message = {
        "role": "assistant",
        "content": "".join(reply.pieces),
        "refusal": None,
        "annotations": [],
    }
    return {
        "id": reply.id,
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _choice(delta: dict, finish_reason: str | None = None) -> list[dict]:
    return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]


def stream_chat(h: Any, reply: Reply, usage: dict | None, fault: str | None) -> None:
    """Send ``reply`` as SSE chunks ending in ``data: [DONE]``, with usage last when asked."""
    fake = h.server_fake
    h.send_response(200)
    h.send_header("content-type", "text/event-stream; charset=utf-8")
    h.send_header("transfer-encoding", "chunked")
    h.send_header("cache-control", "no-cache")
    h.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
    h.end_headers()
    with_usage = usage is not None
    trickle = 0.0  # seconds between bytes once the "trickle" fault starts

    def send(event: dict | str) -> None:
        payload = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        write_chunk(h, f"data: {payload}\n\n".encode(), trickle)

    try:
        time.sleep(fake.first_token_delay)
        send(
            reply.chunk(
                _choice({"role": "assistant", "content": "", "refusal": None}),
                with_usage=with_usage,
            )
        )
        cut_at = max(1, len(reply.pieces) // 2) if fault == "cut_stream" else None
        for i, piece in enumerate(reply.pieces):
            if cut_at is not None and i == cut_at:
                # Drop the connection mid-body, as a proxy or a crashed worker would.
                h.connection.shutdown(socket.SHUT_RDWR)
                h.close_connection = True
                return
            if i and fake.token_delay:
                time.sleep(fake.token_delay)
            if fault == "trickle" and i >= fake.trickle_after:
                trickle = fake.trickle_delay
            if fault == "oversized" and i == 1:
                piece = "x" * OVERSIZED_BYTES  # one event line larger than any real one
            send(reply.chunk(_choice({"content": piece}), with_usage=with_usage))
        if fault != "no_finish":
            send(reply.chunk(_choice({}, reply.finish_reason), with_usage=with_usage))
            if usage is not None:
                send(reply.chunk([], usage, with_usage=True))
        send("[DONE]")
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        h.close_connection = True  # the client hung up (Stop pressed): that is fine
