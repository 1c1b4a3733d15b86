"""A second image server on its own port, speaking OpenAI's image wire format like LocalAI or
stable-diffusion.cpp's server: other model ids, its own sizes, ``steps`` and ``seed`` in the
body, answers as ``b64_json`` or ``url``. It also still serves a DALL·E-style model
(``dall-e-3``, retired at OpenAI on 2026-05-12), as some compatible servers do: it takes
``style`` and ``response_format`` (``url`` by default) and answers each image with the
``revised_prompt`` it drew (:mod:`demo.providers.prompt_rewriter`).

It is the fake OpenAI server (:class:`FakeOpenAI`: key check, error faults, request record)
with the image handler of :mod:`demo.providers.openai_images` told about other models, so
every fault knob there (timeout, malformed_b64, empty_data, echo_key, expired_url,
endless_body, endless_download, redirect_url, foreign_url, trickles) works here too.
Start with ``start_compatible_server()``; its ``image_server_config()`` is the matching
``IMAGE_SERVERS`` entry.

Run standalone:  python -m demo.providers.compatible_images --port 8767   (prints IMAGE_SERVERS)
"""

from __future__ import annotations

import argparse
import base64
import json
from dataclasses import dataclass, field

from demo.providers.http_fake import serve_until_interrupted
from demo.providers.karlo_server import render_image
from demo.providers.openai_image_rules import api_error
from demo.providers.openai_images import FakeOpenAIImages
from demo.providers.openai_server import FakeModel, FakeOpenAI
from demo.providers.prompt_rewriter import revised_prompt, revises

COMPAT_KEY = "sd-local-fake-key-000000000000"
SERVER_NAME = "fake-sd"
OPENAI_FIELDS = {"model", "prompt", "n", "size", "response_format", "user"}


@dataclass(frozen=True)
class ServedModel:
    """What one model of the server takes, and how it answers (``url``: unless
    ``response_format`` says b64_json, images come as links to the file server;
    ``styles``: a DALL·E-style model's ``style`` choices)."""

    sizes: tuple[str, ...] = ("256x256", "512x512")
    max_n: int = 2
    steps: tuple[int, int] | None = (1, 8)
    seed: bool = True
    answers_url: bool = False
    styles: tuple[str, ...] = ()


SERVED = {
    "sd-turbo": ServedModel(),
    "sd-url": ServedModel(sizes=("256x256",), max_n=1, steps=None, seed=False, answers_url=True),
    "dall-e-3": ServedModel(
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        max_n=1,
        steps=None,
        seed=False,
        answers_url=True,
        styles=("vivid", "natural"),
    ),
}


def profile(model: ServedModel) -> dict:
    """The capability profile a deployer would write for ``model`` (IMAGE_SERVERS)."""
    return {
        "sizes": list(model.sizes),
        "max_count": model.max_n,
        **({"steps": list(model.steps)} if model.steps else {}),
        "seed": model.seed,
        # sd-url's deployer leaves the default (links); a DALL·E-style one asks for b64_json
        "response_format": not model.answers_url or bool(model.styles),
        **({"styles": list(model.styles)} if model.styles else {}),
    }


@dataclass
class FakeCompatibleImages(FakeOpenAIImages):
    """The OpenAI image handler serving :data:`SERVED`'s models by their own rules."""

    served: dict[str, ServedModel] = field(default_factory=lambda: dict(SERVED))

    def family(self, model: str) -> str | None:
        return model if model in self.served else None

    def problem(self, body: dict, model: str, kind: str) -> tuple[int, dict] | None:
        rules = self.served[model]
        takes = (
            OPENAI_FIELDS
            | ({"steps"} if rules.steps else set())
            | ({"seed"} if rules.seed else set())
            | ({"style"} if rules.styles else set())
        )
        for name in body:
            if name not in takes:
                return api_error(
                    400, f"Unknown parameter: '{name}'.", name, "unsupported_parameter"
                )
        if body.get("size", rules.sizes[0]) not in rules.sizes:
            return api_error(400, f"Invalid size '{body['size']}'.", "size", "invalid_value")
        if not 1 <= int(body.get("n", 1)) <= rules.max_n:
            return api_error(400, f"n must be at most {rules.max_n}.", "n", "invalid_value")
        if "style" in body and body["style"] not in rules.styles:
            return api_error(400, f"Invalid style '{body['style']}'.", "style", "invalid_value")
        steps = body.get("steps")
        if steps is not None and rules.steps and not rules.steps[0] <= steps <= rules.steps[1]:
            return api_error(400, f"steps out of range: {steps}.", "steps", "invalid_value")
        return None

    def result(self, body: dict, kind: str, fault: str | None) -> dict:
        rules = self.served[kind]
        width, height = (int(v) for v in body.get("size", rules.sizes[0]).split("x"))
        seed = int(body.get("seed", 0))
        data = []
        for i in range(0 if fault == "empty_data" else int(body.get("n", 1))):
            png = self.image_bytes or render_image(width, height, "png", seed=seed + i + 7)
            # a DALL·E-style model answers the prompt it drew
            item = {"revised_prompt": revised_prompt(body["prompt"])} if revises(kind) else {}
            data.append(item)
            if rules.answers_url and body.get("response_format") != "b64_json":
                item["url"] = self._file_url(png, fault)
                if fault == "expired_url":
                    self.files.clear()
            else:
                b64 = (
                    "not//base64!!" if fault == "malformed_b64" else base64.b64encode(png).decode()
                )
                item["b64_json"] = b64
        return {"created": 1_700_000_000, "data": data}


def start_compatible_server(images: FakeCompatibleImages | None = None) -> FakeOpenAI:
    """The second fake on its own ephemeral port (call ``stop()`` when done)."""
    return FakeOpenAI(
        api_key=COMPAT_KEY,
        models=[FakeModel(m, kind="image", owned_by="local") for m in SERVED],
        image_handler=images or FakeCompatibleImages(),
    ).start()


def image_server_config(server: FakeOpenAI, name: str = SERVER_NAME) -> dict:
    """The IMAGE_SERVERS entry for ``server``: a profile for the server, one per model."""
    return {
        "name": name,
        "base_url": server.base_url,
        "api_key": server.api_key,
        "models": list(SERVED),
        "profile": profile(SERVED["sd-turbo"]),
        "profiles": {m: profile(rules) for m, rules in SERVED.items() if m != "sd-turbo"},
    }


def main() -> None:
    """The second fake image server on a fixed port, and the IMAGE_SERVERS value that uses it."""
    parser = argparse.ArgumentParser(description="fake OpenAI-compatible image server")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--image-latency", type=float, default=1.0)
    args = parser.parse_args()
    with FakeCompatibleImages(latency=args.image_latency) as images:
        fake = FakeOpenAI(
            api_key=COMPAT_KEY,
            port=args.port,
            models=[FakeModel(m, kind="image", owned_by="local") for m in SERVED],
            image_handler=images,
        )
        serve_until_interrupted(
            fake,
            "fake OpenAI-compatible image server",
            then=lambda: print(f"IMAGE_SERVERS='{json.dumps([image_server_config(fake)])}'"),
        )


if __name__ == "__main__":
    main()
