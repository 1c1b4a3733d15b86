"""Where settings come from outside a browser session: the environment, ``.env`` and the
Streamlit secrets file.

app.py takes the secrets from ``st.secrets`` (Streamlit parses the same files, and Community
Cloud supplies them without one); the terminal app reads the files itself with tomllib. Both
hand the values to :func:`services.settings.resolve_settings`, so a key set once works in both.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = (
    "CHATCANVAS_DEMO",  # `scripts/run.sh --demo`: the built-in fake providers (demo/)
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "KAKAO_REST_API_KEY",
    "KARLO_BASE_URL",
    "DATABASE_URL",
    "ALLOW_CUSTOM_BASE_URL",
    "DAILY_BUDGET_USD",
    "MAX_LANES",
    "MAX_IMAGES_PER_LANE",
    "KARLO_MONTHLY_IMAGES",
    "ALLOWED_EMAILS",
    "ALLOWED_DOMAINS",
    "IMAGE_DOWNLOAD_HOSTS",
    "IMAGE_SERVERS",  # OpenAI-compatible image servers: TOML array of tables, or JSON
    "LOCAL_IMAGE_MODELS",
    "ADMIN_EMAILS",
    "MODERATION_CHECK",  # on/off: the safety check before paying (default on when shared)
    "GRID_CONCURRENCY",  # a grid's cells running at once (default 2)
    "GRID_CONFIRM_USD",  # a grid estimated above this asks before it runs (default 0.50)
    "BLOB_DIR",  # the folder for image files (default: the data directory)
    "S3_ENDPOINT_URL",  # S3-compatible storage for image files (or an [s3] secrets section)
    "S3_BUCKET",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PREFIX",
)
# secrets sections that settings read (``[auth]`` is Streamlit's own)
SETTING_SECTIONS = ("s3",)
# Tests and benchmarks set these so the host's own .env and secrets never leak into a run.
SKIP_DOTENV = "CHATCANVAS_SKIP_DOTENV"
SECRETS_FILE_OVERRIDE = "CHATCANVAS_SECRETS_FILE"


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over the values of ``.env`` (the environment wins)."""
    environ = os.environ if environ is None else environ
    dotenv = {} if environ.get(SKIP_DOTENV) else dotenv_values(ROOT / ".env")
    merged = {k: v for k, v in dotenv.items() if v is not None}
    merged.update({k: v for k, v in environ.items() if k in SETTING_NAMES})
    return merged


def secrets_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files Streamlit reads secrets from, the later winning: the user's global one and the
    project's; or only the file ``CHATCANVAS_SECRETS_FILE`` names."""
    environ = os.environ if environ is None else environ
    if environ.get(SECRETS_FILE_OVERRIDE):
        return [Path(environ[SECRETS_FILE_OVERRIDE])]
    return [Path.home() / ".streamlit" / "secrets.toml", ROOT / ".streamlit" / "secrets.toml"]


def read_secrets_files(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The known settings and sections (``[s3]``) of the secrets files (others such as
    ``[auth]`` left out). A file
    that is missing or not TOML gives nothing, as Streamlit's own reading would not start."""
    values: dict[str, object] = {}
    for path in secrets_files(environ):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        values.update({k: v for k, v in data.items() if k in SETTING_NAMES + SETTING_SECTIONS})
    return values


def configured_blobs():
    """Where image bytes go according to the environment, ``.env`` and the secrets files:
    what a command-line tool that opens the database passes on (see ``services.storage.blobs``)."""
    from services.settings import resolve_settings

    return resolve_settings(secrets=read_secrets_files(), environ=read_environment()).blobs
