"""Demo mode (``demo.mode``): the app against the built-in fake providers
(``demo.providers``), with the demo's own replies (``demo.replies``)."""
