"""What every command gets: the user's language, the consoles, and this machine's services
(settings from the same sources as the web app, owner ``local``, the same database)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cached_property

from rich.console import Console

from chatcanvas.render import printable
from services.app_services import Services, build_services
from services.catalog import Catalog, load_catalog
from services.config_sources import read_environment, read_secrets_files
from services.errors import ChatCanvasError, ErrorKind, scrub
from services.i18n import LANGUAGES, Translator, language_from_locale
from services.settings import LOCAL_OWNER, Mode, Settings, resolve_settings
from services.wording import error_text

# Where `bash scripts/run.sh` serves the web app; links to what the terminal stored point there.
WEB_APP_URL = "http://127.0.0.1:8501"
LANGUAGE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def chosen_language(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """``--lang ko|en`` from the arguments, else the locale (LC_ALL, LC_MESSAGES, LANG), else
    English. Read before click parses anything, so help texts are in that language too."""
    argv = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        if value in LANGUAGES:
            return value
    environ = os.environ if environ is None else environ
    for name in LANGUAGE_VARIABLES:
        if environ.get(name):
            return language_from_locale(environ[name].split(".")[0])
    return language_from_locale(None)


def local_zone() -> tzinfo:
    """This machine's time zone: times in messages are shown as the terminal's clock reads."""
    return datetime.now().astimezone().tzinfo or UTC


def local_settings() -> Settings:
    """The settings of a local run: the secrets files over the environment and ``.env``, as
    app.py merges ``st.secrets`` over them (no sidebar in a terminal)."""
    return resolve_settings(
        secrets=read_secrets_files(), environ=read_environment(), mode=Mode.LOCAL
    )


@dataclass
class Session:
    """Built once per command line; the services only when a command needs them."""

    t: Translator
    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog()

    @cached_property
    def services(self) -> Services:
        """The web app's composition root, for the local owner."""
        settings = local_settings()
        try:
            return build_services(settings, LOCAL_OWNER, catalog=self.catalog)
        except Exception as exc:  # a wrong DATABASE_URL, a database server that is down
            detail = scrub(str(exc), settings.secrets())
            raise ChatCanvasError(ErrorKind.DATABASE, detail) from None

    def scrubbed(self, text: str) -> str:
        """``text`` without any key or database password of the settings."""
        return scrub(text, local_settings().secrets())

    def note(self, key: str, **values: object) -> None:
        """A line for the person (on standard error, so standard output stays the answer)."""
        self.err.print(
            printable(self.t(key, **values)),
            style="dim",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    def warn(self, text: str) -> None:
        self.err.print(
            printable(text), style="yellow", markup=False, highlight=False, soft_wrap=True
        )

    def report(self, err: ChatCanvasError) -> None:
        """The web app's sentence for ``err``, then the provider's own (scrubbed) words."""
        self.err.print(
            printable(error_text(err, self.t, zone=local_zone())),
            style="bold red",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        if err.detail:  # a provider's words: no escape sequence reaches the terminal
            self.err.print(
                printable(err.detail), style="dim", markup=False, highlight=False, soft_wrap=True
            )


class Refusal(Exception):
    """Something the terminal app itself refuses (an unknown conversation or chain): its text
    is already in the user's language."""
