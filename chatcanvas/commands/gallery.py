"""``chatcanvas gallery export --out FILE.zip``: every image of the gallery (or those whose
prompts or studio run match ``--text``) with their lineage, as the web app's gallery exports them."""

from __future__ import annotations

from pathlib import Path

import click

from chatcanvas.session import Refusal, Session
from services.gallery_export import write_zip


def command(t) -> click.Group:
    @click.group("gallery", help=t("cli.gallery.help"))
    def gallery() -> None:
        pass

    @gallery.command("export", help=t("cli.gallery.export_help"))
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--text", help=t("cli.gallery.text"))
    @click.pass_obj
    def export(session: Session, out: Path, text: str | None) -> None:
        images = session.services.images
        ids = images.image_ids(text=text)
        if not ids:
            raise Refusal(session.t("cli.gallery.empty"))
        partial = out.with_name(out.name + ".part")  # a failed export leaves no broken ZIP
        try:
            count = write_zip(images, partial, ids)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise Refusal(
                session.t("cli.gallery.not_written", path=out, reason=exc.strerror)
            ) from None
        session.note("cli.gallery.exported", count=count, path=out)

    return gallery
