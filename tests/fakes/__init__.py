"""Fake provider servers: real HTTP on 127.0.0.1, speaking the providers' wire formats.

They ship with the app (demo mode serves every page against them) in ``demo/providers/``;
``tests.fakes.<name>`` is the same module object as ``demo.providers.<name>``, so tests and
benchmarks import them from here as before (and a monkeypatch on either name is one patch)."""

import importlib
import sys

for _name in (
    "http_fake",
    "hostile",
    "openai_server",
    "openai_images",
    "compatible_images",
    "openai_audio",
    "openai_moderation",
    "karlo_server",
    "tutorial_model",
    "prompt_rewriter",
):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"demo.providers.{_name}")
