"""The server process keeps its full collection after every run cheap (app.py)."""

from __future__ import annotations

import gc


def test_long_lived_objects_are_frozen_after_a_whole_run(app):
    # Streamlit collects every generation after each run (runner.postScriptGC); objects that
    # live as long as the process (modules, classes, caches) must not be walked every time.
    assert not app.exception
    assert gc.get_freeze_count() > 0
