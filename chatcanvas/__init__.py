"""ChatCanvas in the terminal: the web app's services, rendered with rich.

``python -m chatcanvas`` or the ``chatcanvas`` console script; see chatcanvas/main.py.
"""
