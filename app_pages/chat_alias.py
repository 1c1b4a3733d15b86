"""/chat serves the Chat page too (the default page lives at /)."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).with_name("chat.py")), run_name="__page__")
