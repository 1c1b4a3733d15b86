"""``python -m chatcanvas``."""

from chatcanvas.main import main

main()
