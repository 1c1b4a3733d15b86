"""The server process keeps its garbage collections cheap (app.py, .streamlit/config.toml)."""

from __future__ import annotations

import gc
import tomllib
from pathlib import Path


def test_long_lived_objects_are_frozen_after_a_whole_run(app):
    # Python collects the oldest generation now and then, holding every session still; objects
    # that live as long as the process (modules, classes, caches) must not be walked each time.
    assert not app.exception
    assert gc.get_freeze_count() > 0


def test_the_served_app_does_not_collect_every_generation_after_each_run():
    # A full collection after every run (fragment runs too) held the GIL from every other
    # session: about a third of the server's GIL time with ten sessions sending at once.
    config = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    assert tomllib.loads(config.read_text())["runner"]["postScriptGC"] is False
