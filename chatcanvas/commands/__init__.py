"""One module per command; each defines ``command(t) -> click.Command`` (its help texts in the
translator's language) and chatcanvas/main.py adds every module found here."""
