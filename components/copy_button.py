"""A one-click Copy button: the text goes to the clipboard at the first click (Streamlit has
no clipboard widget, and a popover with a code box took two clicks)."""

from __future__ import annotations

import html
import json

import streamlit as st

# Runs in the page itself (st.html with JavaScript), where a click may write the clipboard.
# navigator.clipboard needs a secure context (https, localhost); elsewhere the old
# execCommand("copy") on a hidden text area does it.
_SCRIPT = """<script>
(() => {
  const button = document.getElementById(__ID__);
  if (!button || button.dataset.ready) return;
  button.dataset.ready = "1";
  button.addEventListener("click", async () => {
    const text = button.dataset.text;
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = __COPIED__;
    setTimeout(() => { button.textContent = __LABEL__; }, 2000);
  });
})();
</script>"""
_STYLE = (
    "font: inherit; font-size: 0.875rem; line-height: 1.6; padding: 0.25rem 0.75rem;"
    " border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: transparent;"
    " color: inherit; cursor: pointer; min-height: 2.5rem;"
)


def copy_button(text: str, *, key: str, label: str, copied: str, help: str) -> None:
    """A button that copies ``text`` at one click and says ``copied`` for two seconds."""
    element_id = f"cc-copy-{key}"
    button = (
        f'<button id="{element_id}" type="button" style="{_STYLE}"'
        f' title="{html.escape(help)}" data-text="{html.escape(text, quote=True)}">'
        f"{html.escape(label)}</button>"
    )
    script = (
        _SCRIPT.replace("__ID__", json.dumps(element_id))
        .replace("__COPIED__", _js(copied))
        .replace("__LABEL__", _js(label))
    )
    st.html(button + script, unsafe_allow_javascript=True, width="content")


def _js(value: str) -> str:
    """A JavaScript string literal that cannot end the script element."""
    return json.dumps(value).replace("</", "<\\/")
