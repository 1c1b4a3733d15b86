"""The ``chatcanvas`` command: a click group whose commands live one per module in
chatcanvas/commands/. Every failure a person can meet ends as the web app's sentence in their
language with a non-zero exit status, never a traceback."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence

import click

from chatcanvas import commands
from chatcanvas.session import Refusal, Session, chosen_language
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import LANGUAGES, Translator

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # the shell's own status for a run ended by Ctrl-C


class CommandLine(click.Group):
    """Turns a ChatCanvasError into its sentence and Ctrl-C into a quiet exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ChatCanvasError as err:
            _session(ctx).report(err)
            ctx.exit(EXIT_ERROR)
        except Refusal as refusal:
            click.echo(str(refusal), err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo(err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: usage errors and exits
        except Exception as exc:  # a bug, a full disk: the sentence for the unknown, scrubbed
            session = _session(ctx)
            session.report(ChatCanvasError(ErrorKind.UNKNOWN, session.scrubbed(str(exc))))
            ctx.exit(EXIT_ERROR)


def _session(ctx: click.Context) -> Session:
    return ctx.find_object(Session) or Session(Translator(chosen_language()))


def build(t: Translator) -> click.Group:
    """The command line, its help in ``t``'s language; every module of chatcanvas/commands/
    adds its ``command(t)``."""

    @click.group(cls=CommandLine, help=t("cli.description"))
    @click.option("--lang", type=click.Choice(LANGUAGES), help=t("cli.lang_help"))
    @click.pass_context
    def root(ctx: click.Context, lang: str | None) -> None:
        ctx.obj = Session(Translator(lang) if lang else t)

    for module in pkgutil.iter_modules(commands.__path__):
        root.add_command(importlib.import_module(f"{commands.__name__}.{module.name}").command(t))
    return root


def main(argv: Sequence[str] | None = None) -> None:
    """The console script's entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    build(Translator(chosen_language(args))).main(args, prog_name="chatcanvas")
